/*
 * th_openmetrics.c: an OpenMetrics exposition through prometheus_client
 * (th_openmetrics.h).
 */
#include "th_openmetrics.h"

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_sb.h"
#include "util.h"

#define PY		"/usr/bin/python3"
#define PY_PARSE							\
	"import sys\n"							\
	"from prometheus_client.openmetrics.parser import "		\
	"text_string_to_metric_families as om\n"			\
	"from prometheus_client.parser import "				\
	"text_string_to_metric_families as pt\n"			\
	"s = open(sys.argv[1]).read()\n"				\
	"n = len(list(pt(s)))\n"					\
	"for f in om(s):\n"						\
	"    print('F %s %s %s' % (f.name, f.type, f.unit))\n"		\
	"    for x in f.samples:\n"					\
	"        l = ','.join('%s=%s' % kv for kv in "			\
	"sorted(x.labels.items()))\n"					\
	"        print('S %s %s %.6f' % (x.name, l, float(x.value)))\n"	\
	"print('TEXT %d' % n)\n"

char *
th_om_parse(const char *exposition)
{
	char	 path[] = "/tmp/drover-om-XXXXXX";	/* mkstemp's */
	char	*argv[5], *out, *err;
	int	 fd, st;

	ck_assert_msg(access(PY, X_OK) == 0, "%s: %s (install "
	    "python3-prometheus-client: test/deps)", PY, strerror(errno));
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_full(fd, exposition, strlen(exposition)), 0);
	fd_close(&fd);
	argv[0] = (char *)PY;
	argv[1] = (char *)"-c";
	argv[2] = (char *)PY_PARSE;
	argv[3] = path;
	argv[4] = NULL;
	st = th_run(argv, &out, &err);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the parser "
	    "refused the exposition: %.2000s", err);
	free(err);
	ck_assert_ptr_nonnull(strstr(out, "\nTEXT "));
	return out;
}

void
th_om_want(const char *parsed, const char *fmt, ...)
{
	char	line[512];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (strstr(parsed, line) == NULL)
		fprintf(stderr, "parser output:\n%s", parsed);
	ck_assert_msg(strstr(parsed, line) != NULL, "parser output lacks "
	    "\"%s\"", line);
}
