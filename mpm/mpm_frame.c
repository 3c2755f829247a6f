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

/* The first read buffer: a typical request and a RETIRE behind it. */
#define FRAME_IN_MIN	8192

/* Read more, blocking, into the room left: 0, -EPIPE, -errno. */
static int
fill(struct mpm_frame_in *in)
{
	ssize_t	n;

	for (;;) {
		n = read(in->fd, in->buf + in->have, in->cap - in->have);
		if (n > 0) {
			in->have += (size_t)n;
			return 0;
		}
		if (n == 0)
			return -EPIPE;
		if (errno != EINTR)
			return -errno;
	}
}

/* Room for at least `need` bytes from the start of the buffer. */
static int
room(struct mpm_frame_in *in, size_t need)
{
	size_t	 cap = in->cap > 0 ? in->cap : FRAME_IN_MIN;
	char	*nb;

	while (cap < need)
		cap *= 2;
	if (cap == in->cap)
		return 0;
	if ((nb = realloc(in->buf, cap)) == NULL)
		return -ENOMEM;
	in->buf = nb;
	in->cap = cap;
	return 0;
}

int
mpm_frame_next(struct mpm_frame_in *in, uint32_t *kind, const char **payload,
    size_t *len, size_t max)
{
	struct frame_hdr	h;
	size_t			end;
	int			rc;

	if (in->nul_at != 0) {
		in->buf[in->nul_at] = in->nul_was;
		in->nul_at = 0;
	}
	if (in->used > 0) {
		memmove(in->buf, in->buf + in->used, in->have - in->used);
		in->have -= in->used;
		in->used = 0;
	}
	if ((rc = room(in, sizeof(h) + 1)) < 0)
		return rc;
	while (in->have < sizeof(h))
		if ((rc = fill(in)) < 0)
			return rc;
	memcpy(&h, in->buf, sizeof(h));
	if (h.len > max)
		return -EMSGSIZE;
	end = sizeof(h) + h.len;
	/* and one byte for the payload's NUL */
	if ((rc = room(in, end + 1)) < 0)
		return rc;
	while (in->have < end)
		if ((rc = fill(in)) < 0)
			return rc;
	if (in->have > end) {
		/* the next frame begins here: keep its first byte */
		in->nul_was = in->buf[end];
		in->nul_at = end;
	}
	in->buf[end] = '\0';
	in->used = end;
	*kind = h.kind;
	*payload = in->buf + sizeof(h);
	*len = h.len;
	return 0;
}

size_t
mpm_frame_in_buffered(const struct mpm_frame_in *in)
{
	return in->have - in->used;
}

void
mpm_frame_in_free(struct mpm_frame_in *in)
{
	free(in->buf);
	in->buf = NULL;
	in->cap = in->have = in->used = in->nul_at = 0;
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
