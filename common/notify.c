/*
 * notify.c: see notify.h.
 */
#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * A notification is a handful of short lines; systemd itself reads at
 * most a page of them.  A STATUS longer than that is cut.
 */
#define NOTIFY_MSG_MAX	4096

int
notify_init(struct notify *n)
{
	const char	*e = getenv("NOTIFY_SOCKET");
	size_t		 len;

	memset(n, 0, sizeof(*n));
	if (e == NULL || *e == '\0')
		return 0;
	len = strlen(e);
	if (len >= sizeof(n->addr.sun_path)) {
		(void)unsetenv("NOTIFY_SOCKET");	/* valid name */
		return -ENAMETOOLONG;
	}
	if (e[0] != '/' && e[0] != '@') {
		(void)unsetenv("NOTIFY_SOCKET");
		return -EAFNOSUPPORT;
	}
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, e, len);
	/* abstract: the name starts with a NUL and is not terminated */
	if (e[0] == '@')
		n->addr.sun_path[0] = '\0';
	n->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (e[0] == '/'));
	(void)unsetenv("NOTIFY_SOCKET");	/* a valid name: cannot fail */
	return 0;
}

int
notify_on(const struct notify *n)
{
	return n->len > 0;
}

int
notify_send(const struct notify *n, const char *fmt, ...)
{
	char	msg[NOTIFY_MSG_MAX];
	va_list	ap;
	int	fd, len, rc = 0;

	if (n->len == 0)
		return 0;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len < 0)
		return -EINVAL;
	if ((size_t)len >= sizeof(msg))
		len = sizeof(msg) - 1;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	if (sendto(fd, msg, (size_t)len, MSG_NOSIGNAL,
	    (const struct sockaddr *)&n->addr, n->len) == -1)
		rc = -errno;
	close(fd);
	return rc;
}
