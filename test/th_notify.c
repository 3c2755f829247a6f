/*
 * th_notify.c: see th_notify.h.
 */
#include "th_notify.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

void
th_notify_open(struct th_notify *n, const char *dir, int abstract)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	char			name[108];
	int			one = 1;

	memset(n, 0, sizeof(*n));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (abstract) {
		snprintf(name, sizeof(name), "@drover-th-notify-%d-%lu",
		    (int)getpid(), (unsigned long)mono_us());
		memcpy(sun.sun_path, name, strlen(name));
		sun.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    strlen(name));
	} else {
		snprintf(name, sizeof(name), "%s/notify.sock", dir);
		str_copy(sun.sun_path, name, sizeof(sun.sun_path));
		str_copy(n->path, name, sizeof(n->path));
		len = sizeof(sun);
	}
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(n->fd, 0);
	ck_assert_int_eq(setsockopt(n->fd, SOL_SOCKET, SO_TIMESTAMP, &one,
	    sizeof(one)), 0);
	ck_assert_msg(bind(n->fd, (struct sockaddr *)&sun, len) == 0,
	    "bind(%s): %s", name, strerror(errno));
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
}

void
th_notify_next(struct th_notify *n, char *buf, size_t sz, uint64_t *rx_us,
    int ms)
{
	union {
		struct cmsghdr	c;
		char		b[CMSG_SPACE(sizeof(struct timeval))];
	} ctl;
	struct pollfd	 p = { n->fd, POLLIN, 0 };
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*c;
	struct timeval	 tv;
	ssize_t		 r;

	ck_assert_msg(poll(&p, 1, ms) == 1, "no notification in %d ms", ms);
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = sz - 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	r = recvmsg(n->fd, &mh, 0);
	ck_assert_int_ge(r, 0);
	buf[r] = '\0';
	*rx_us = 0;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMP) {
			memcpy(&tv, CMSG_DATA(c), sizeof(tv));
			*rx_us = (uint64_t)tv.tv_sec * 1000000 +
			    (uint64_t)tv.tv_usec;
		}
	ck_assert_msg(*rx_us != 0, "no receive time on \"%s\"", buf);
}

void
th_notify_wait(struct th_notify *n, const char *needle, char *buf,
    size_t sz, uint64_t *rx_us, int ms)
{
	uint64_t	end = mono_ms() + (uint64_t)ms;

	for (;;) {
		ck_assert_msg(mono_ms() < end, "no notification with \"%s\"",
		    needle);
		th_notify_next(n, buf, sz, rx_us, (int)(end - mono_ms()));
		if (strstr(buf, needle) != NULL)
			return;
	}
}

int
th_notify_pending(struct th_notify *n)
{
	struct pollfd	p = { n->fd, POLLIN, 0 };

	return poll(&p, 1, 0) == 1;
}

void
th_notify_close(struct th_notify *n)
{
	fd_close(&n->fd);
	if (n->path[0] != '\0')
		(void)unlink(n->path);	/* gone with its directory: fine */
	(void)unsetenv("NOTIFY_SOCKET");	/* a valid name */
}
