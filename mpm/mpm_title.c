/*
 * mpm_title.c: process titles as ps(1) shows them ("drover listener
 * [SERVICE]", "drover drone [SERVICE] idle|busy").
 *
 * Linux has no setproctitle(3): the title is written over the argv
 * strings, extended over the environment strings that follow them (the
 * environment is first copied to the heap so getenv() keeps working),
 * and the short name (comm, 15 bytes) is set with PR_SET_NAME, only when
 * it changes: a drone's title changes twice a request, its comm ("drover
 * drone [s") never.  The area's address and the comm set last are
 * process state, like the log's: the one global here.
 *
 * Callers: mpm_title_init() once, in the parent before forking;
 * mpm_title_set() in any process (a child's copy of the area is its own).
 */
#include "mpm_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

extern char **environ;

static struct {
	char	*base;		/* argv[0]; NULL: argv untouched */
	size_t	 len;		/* bytes usable from base */
	char	**env;		/* the heap copy environ points to */
	char	 comm[16];	/* as last given to PR_SET_NAME */
} title;

void
mpm_title_init(int argc, char **argv)
{
	char	*end, **env;
	int	 i, n;

	if (argc <= 0 || argv == NULL || argv[0] == NULL || title.base != NULL)
		return;
	end = argv[0] + strlen(argv[0]) + 1;
	for (i = 1; i < argc; i++)
		if (argv[i] == end)
			end = argv[i] + strlen(argv[i]) + 1;
	for (n = 0; environ[n] != NULL; n++)
		;
	env = xcalloc((size_t)n + 1, sizeof(*env));
	for (i = 0; i < n; i++) {
		if (environ[i] == end)
			end = environ[i] + strlen(environ[i]) + 1;
		env[i] = xstrdup(environ[i]);
	}
	/*
	 * Keep our own pointer too: environ is not ours alone (glibc's
	 * exit-time cleanup, which valgrind runs, resets it), and the copy
	 * must stay reachable for the life of the process.
	 */
	title.env = env;
	environ = env;
	title.base = argv[0];
	title.len = (size_t)(end - argv[0]);
	for (i = 1; i < argc; i++)
		argv[i] = NULL;		/* ps reads the area, not argv[] */
}

void
mpm_title_set(const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);	/* truncation ok */
	va_end(ap);
	/* the kernel keeps 15 bytes of it */
	if (strncmp(title.comm, buf, sizeof(title.comm) - 1) != 0) {
		str_copy(title.comm, buf, sizeof(title.comm));
		(void)prctl(PR_SET_NAME, buf, 0, 0, 0); /* comm is cosmetic */
	}
	if (title.base == NULL || title.len < 2)
		return;
	memset(title.base, '\0', title.len);
	str_copy(title.base, buf, title.len - 1);
}
