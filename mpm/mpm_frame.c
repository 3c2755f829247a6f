/*
 * mpm_frame.c: framing on the parent-child pipes (see mpm_frame.h).
 */
#include "mpm_frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

struct frame_hdr {
	uint32_t	kind;
	uint32_t	len;
};

int
mpm_frame_write(int fd, uint32_t kind, const void *buf, size_t len,
    size_t *off)
{
	struct frame_hdr	 h;
	struct iovec		 iov[2];
	struct iovec		*v = iov;
	size_t			 skip = *off;
	int			 n = 2;
	ssize_t			 w;

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	h.kind = kind;
	h.len = (uint32_t)len;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)buf;
	iov[1].iov_len = len;
	for (;;) {
		/* skip what earlier calls wrote */
		while (n > 0 && skip >= v->iov_len) {
			skip -= v->iov_len;
			v++;
			n--;
		}
		if (n == 0)
			return 1;
		if (skip > 0) {
			v->iov_base = (char *)v->iov_base + skip;
			v->iov_len -= skip;
			skip = 0;
		}
		w = writev(fd, v, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		*off += (size_t)w;
		skip = (size_t)w;
	}
}

int
mpm_frame_recv(int fd, uint32_t *kind, char **buf, size_t *cap, size_t *len,
    size_t max)
{
	struct frame_hdr	 h;
	char			*nb;
	int			 rc;

	if ((rc = read_full(fd, &h, sizeof(h))) < 0)
		return rc;
	if (h.len > max)
		return -EMSGSIZE;
	if (*cap < (size_t)h.len + 1) {
		if ((nb = realloc(*buf, (size_t)h.len + 1)) == NULL)
			return -ENOMEM;
		*buf = nb;
		*cap = (size_t)h.len + 1;
	}
	if (h.len > 0 && (rc = read_full(fd, *buf, h.len)) < 0)
		return rc;
	(*buf)[h.len] = '\0';
	*kind = h.kind;
	*len = h.len;
	return 0;
}

int
mpm_done_send(int fd, const struct mpm_done *d)
{
	return write_full(fd, d, sizeof(*d));
}

int
mpm_done_read(int fd, struct mpm_done *d, size_t max)
{
	ssize_t	r;

	do
		r = read(fd, d, max * sizeof(*d));
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return errno == EAGAIN ? 0 : -errno;
	if (r == 0)
		return -EPIPE;
	if ((size_t)r % sizeof(*d) != 0)
		return -EPROTO;	/* records are atomic: cannot happen */
	return (int)((size_t)r / sizeof(*d));
}
