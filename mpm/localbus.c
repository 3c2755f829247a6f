/*
 * localbus.c: the local bus of localbus.h.
 *
 * Layout: names and paths; framing (one connection's read buffer cut into
 * stanzas); the receive side (listening socket and accepted connections,
 * all in one private epoll set whose descriptor is what transport_fd()
 * hands out, so a caller polls one fd); the send side (a small cache of
 * connected sockets, bounces); the transport_ops table.
 */
#include "localbus.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define LB_HDR		4	/* frame header: big-endian length */
#define LB_READ_CHUNK	(64 * 1024)	/* one read(2) at most */
/*
 * Connections kept open for sending.  A drone answers one client at a time
 * and the parent talks to few peers, so a handful avoids a connect(2) per
 * message without hoarding descriptors.
 */
#define LB_SEND_CACHE	8
#define LB_BACKLOG	128	/* listen(2) backlog */
#define LB_EVENTS	32	/* epoll events taken per recv() round */

struct lb_conn {
	int		 fd;
	char		*buf;
	size_t		 len;		/* bytes held in buf */
	size_t		 cap;
};

struct lb_out {
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int		 fd;
	uint64_t	 used;		/* LRU stamp */
};

struct lb_q {
	struct xstanza	*st;
	struct lb_q	*next;
};

struct lb {
	char		*dir;
	char		*jid;
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int		 lfd;		/* listening socket */
	int		 efd;		/* epoll set: lfd and conns */
	struct lb_conn	**conns;
	size_t		 nconns;
	struct lb_out	 out[LB_SEND_CACHE];
	uint64_t	 clock;
	struct lb_q	*qhead, *qtail;	/* complete stanzas not yet taken */
};

/* ------------------------------------------------------------- names */

static uint64_t
fnv1a64(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int
localbus_path(const char *dir, const char *jid, char *buf, size_t bufsz)
{
	size_t	n, i;
	int	len;

	if (bufsz > sizeof(((struct sockaddr_un *)0)->sun_path))
		bufsz = sizeof(((struct sockaddr_un *)0)->sun_path);
	n = strlen(dir);
	if (*jid != '\0' && n + 1 + strlen(jid) < bufsz) {
		len = snprintf(buf, bufsz, "%s/%s", dir, jid);
		for (i = n + 1; buf[i] != '\0'; i++)
			if (buf[i] == '/')
				buf[i] = '+';
		return len;
	}
	len = snprintf(buf, bufsz, "%s/h-%016llx", dir,
	    (unsigned long long)fnv1a64(jid));
	if (len < 0 || (size_t)len >= bufsz)
		return -ENAMETOOLONG;
	return len;
}

/* End of the first element's start tag, or NULL. */
static const char *
first_tag(const char *xml, size_t len, const char **endp)
{
	const char	*p = xml, *end = xml + len, *gt;

	for (;;) {
		while (p < end && *p != '<')
			p++;
		if (p + 1 >= end)
			return NULL;
		if (p[1] != '?' && p[1] != '!')
			break;
		p++;
	}
	gt = memchr(p, '>', end - p);
	if (gt == NULL)
		return NULL;
	*endp = gt;
	return p;
}

int
localbus_dest(const char *xml, size_t len, char *buf, size_t bufsz)
{
	const char	*p, *end, *v, *q;
	char		 quote;

	if ((p = first_tag(xml, len, &end)) == NULL)
		return -EINVAL;
	for (; p + 4 < end; p++) {
		if ((p[0] != ' ' && p[0] != '\t' && p[0] != '\n' &&
		    p[0] != '\r') || p[1] != 't' || p[2] != 'o')
			continue;
		v = p + 3;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v >= end || *v != '=')
			continue;
		v++;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v >= end || (*v != '"' && *v != '\''))
			continue;
		quote = *v++;
		q = memchr(v, quote, end - v);
		if (q == NULL || (size_t)(q - v) >= bufsz || q == v)
			return -EINVAL;
		memcpy(buf, v, q - v);
		buf[q - v] = '\0';
		return (int)(q - v);
	}
	return -EINVAL;
}

/* -------------------------------------------------------- stanzas */

static int
lb_enqueue(struct lb *lb, const char *data, size_t len)
{
	struct xstanza	*st;
	struct lb_q	*q;
	const char	*p, *end, *n;
	size_t		 i;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -ENOMEM;
	if ((q = malloc(sizeof(*q))) == NULL ||
	    (st->raw = malloc(len + 1)) == NULL) {
		free(q);
		free(st);
		return -ENOMEM;
	}
	memcpy(st->raw, data, len);
	st->raw[len] = '\0';
	st->len = len;
	if ((p = first_tag(st->raw, len, &end)) != NULL) {
		n = p + 1;
		for (i = 0; i + 1 < sizeof(st->name) && n + i < end &&
		    n[i] != ' ' && n[i] != '/' && n[i] != '\t' &&
		    n[i] != '\n' && n[i] != '\r'; i++)
			st->name[i] = n[i];
		st->name[i] = '\0';
		st->is_error = memmem(p, end - p, "type=\"error\"", 12) != NULL
		    || memmem(p, end - p, "type='error'", 12) != NULL;
	}
	q->st = st;
	q->next = NULL;
	if (lb->qtail != NULL)
		lb->qtail->next = q;
	else
		lb->qhead = q;
	lb->qtail = q;
	return 0;
}

/*
 * An XMPP-style bounce of `xml` (for `to`) into our own queue.  Best
 * effort: on allocation failure the message is just dropped.
 */
static void
lb_bounce(struct lb *lb, const char *xml, size_t len, const char *to)
{
	static const char err[] = "<error type=\"cancel\" code=\"503\">"
	    "<service-unavailable xmlns=\"urn:ietf:params:xml:ns:"
	    "xmpp-stanzas\"/></error>";
	const char	*p, *end, *inner, *close;
	char		*b;
	size_t		 innerlen;
	int		 n;

	log_debug("localbus: no endpoint %s, bouncing", to);
	if ((p = first_tag(xml, len, &end)) == NULL || end[-1] == '/')
		return;
	inner = end + 1;
	close = xml + len;
	while (close > inner && close[-1] != '<')
		close--;
	innerlen = close > inner ? (size_t)(close - 1 - inner) : 0;
	n = asprintf(&b, "<message to=\"%s\" from=\"%s\" type=\"error\">%s"
	    "%.*s</message>", lb->jid, to, err, (int)innerlen, inner);
	if (n < 0)
		return;
	if (lb_enqueue(lb, b, (size_t)n) < 0)
		log_warnx("localbus: bounce for %s dropped: out of memory",
		    to);
	free(b);
}

/* ---------------------------------------------------------- receive */

/*
 * Close and free connection i.  `leave`: take it out of the epoll set
 * first; never in a forked child giving up its parent's endpoint, whose
 * epoll set is the parent's too.
 */
static void
lb_conn_free(struct lb *lb, size_t i, int leave)
{
	struct lb_conn	*c = lb->conns[i];

	/*
	 * close(2) takes a descriptor out of an epoll set only when it is
	 * the last one open on its file: a child forked while this
	 * connection was open may still hold a copy, and the set would go on
	 * reporting events with c, freed, as their data.  Leave explicitly.
	 */
	if (leave && lb->efd != -1)
		(void)epoll_ctl(lb->efd, EPOLL_CTL_DEL, c->fd, NULL);
	fd_close(&c->fd);
	free(c->buf);
	free(c);
	lb->conns[i] = lb->conns[--lb->nconns];
}

static int
lb_accept(struct lb *lb)
{
	struct epoll_event	 ev;
	struct lb_conn		*c, **nc;
	int			 fd;

	for (;;) {
		fd = accept4(lb->lfd, NULL, NULL,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		nc = realloc(lb->conns, (lb->nconns + 1) * sizeof(*nc));
		c = calloc(1, sizeof(*c));
		if (nc != NULL)
			lb->conns = nc;
		if (nc == NULL || c == NULL) {
			free(c);
			close(fd);
			return -ENOMEM;
		}
		c->fd = fd;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(lb->efd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			close(fd);
			free(c);
			return -errno;
		}
		lb->conns[lb->nconns++] = c;
	}
}

/* Cut complete frames off the front of c->buf into the queue. */
static int
lb_frames(struct lb *lb, struct lb_conn *c)
{
	const unsigned char	*b;
	size_t			 off = 0;
	uint32_t		 n;
	int			 rc;

	while (c->len - off >= LB_HDR) {
		b = (const unsigned char *)c->buf + off;
		n = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3];
		if (n > LOCALBUS_MAX_FRAME)
			return -EPROTO;
		if (c->len - off - LB_HDR < n)
			break;
		if ((rc = lb_enqueue(lb, c->buf + off + LB_HDR, n)) < 0)
			return rc;
		off += LB_HDR + n;
	}
	if (off > 0) {
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
	}
	return 0;
}

/* Read what is there; 1 when the connection is finished (EOF, error). */
static int
lb_read(struct lb *lb, struct lb_conn *c)
{
	size_t		 want;
	ssize_t		 r;
	char		*nb;

	for (;;) {
		want = LB_READ_CHUNK;
		if (c->len >= LB_HDR) {
			const unsigned char *b = (unsigned char *)c->buf;
			size_t frame = LB_HDR + ((size_t)b[0] << 24 |
			    (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3]);

			if (frame > c->len && frame - c->len > want)
				want = frame - c->len;
		}
		if (c->cap - c->len < want) {
			if ((nb = realloc(c->buf, c->len + want)) == NULL)
				return -ENOMEM;
			c->buf = nb;
			c->cap = c->len + want;
		}
		r = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			return 0;
		if (r <= 0)
			return 1;
		c->len += (size_t)r;
		if (lb_frames(lb, c) < 0) {
			log_warnx("localbus %s: bad frame, dropping the "
			    "connection", lb->jid);
			return 1;
		}
		if ((size_t)r < want)
			return 0;
	}
}

static int
lb_pop(struct lb *lb, struct xstanza **out)
{
	struct lb_q	*q = lb->qhead;

	if (q == NULL)
		return 0;
	lb->qhead = q->next;
	if (lb->qhead == NULL)
		lb->qtail = NULL;
	*out = q->st;
	free(q);
	return 1;
}

static int
lb_recv(struct transport *t, struct xstanza **out)
{
	struct lb		*lb = t->impl;
	struct epoll_event	 ev[LB_EVENTS];
	size_t			 j;
	int			 i, n, rc;

	if (lb_pop(lb, out))
		return 1;
	if (lb->efd == -1)
		return -ENOTCONN;
	n = epoll_wait(lb->efd, ev, LB_EVENTS, 0);
	if (n == -1)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		if (ev[i].data.ptr == NULL) {
			if ((rc = lb_accept(lb)) < 0)
				log_warnx("localbus %s: accept: %s", lb->jid,
				    strerror(-rc));
			continue;
		}
		if (lb_read(lb, ev[i].data.ptr) == 0)
			continue;
		for (j = 0; j < lb->nconns; j++)
			if (lb->conns[j] == ev[i].data.ptr) {
				lb_conn_free(lb, j, 1);
				break;
			}
		/* a freed conn may still appear later in ev[]: forget it */
		for (rc = i + 1; rc < n; rc++)
			if (ev[rc].data.ptr == ev[i].data.ptr)
				ev[rc].data.ptr = NULL, ev[rc].events = 0;
	}
	return lb_pop(lb, out);
}

/* ------------------------------------------------------------ send */

static int
lb_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	str_copy(sun.sun_path, path, sizeof(sun.sun_path));
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EINTR)
			continue;
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int
lb_write(int fd, const char *xml, size_t len)
{
	unsigned char	 hdr[LB_HDR];
	struct iovec	 iov[2];
	struct msghdr	 mh;
	ssize_t		 w;

	hdr[0] = len >> 24;
	hdr[1] = len >> 16;
	hdr[2] = len >> 8;
	hdr[3] = len;
	iov[0].iov_base = hdr;
	iov[0].iov_len = LB_HDR;
	iov[1].iov_base = (void *)xml;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	while (mh.msg_iovlen > 0) {
		w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (mh.msg_iovlen > 0 && (size_t)w >= mh.msg_iov->iov_len) {
			w -= mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen > 0) {
			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + w;
			mh.msg_iov->iov_len -= w;
		}
	}
	return 0;
}

static int
lb_send(struct transport *t, const char *xml, size_t len)
{
	struct lb	*lb = t->impl;
	struct lb_out	*o = NULL, *lru = &lb->out[0];
	char		 to[512], path[sizeof(lb->path)];
	int		 i, rc, fresh;

	if (lb->lfd == -1)
		return -ENOTCONN;
	if (len > LOCALBUS_MAX_FRAME)
		return -EMSGSIZE;
	if (localbus_dest(xml, len, to, sizeof(to)) < 0)
		return -EINVAL;
	if (localbus_path(lb->dir, to, path, sizeof(path)) < 0)
		return -EINVAL;
	for (i = 0; i < LB_SEND_CACHE; i++) {
		if (lb->out[i].fd >= 0 && strcmp(lb->out[i].path, path) == 0) {
			o = &lb->out[i];
			break;
		}
		if (lb->out[i].fd < 0 || (lru->fd >= 0 &&
		    lb->out[i].used < lru->used))
			lru = &lb->out[i];
	}
	for (fresh = o == NULL;; fresh = 1) {
		if (o == NULL) {
			o = lru;
			fd_close(&o->fd);
			rc = lb_connect(path);
			if (rc == -ENOENT || rc == -ECONNREFUSED) {
				lb_bounce(lb, xml, len, to);
				return 0;
			}
			if (rc < 0)
				return rc;
			o->fd = rc;
			str_copy(o->path, path, sizeof(o->path));
		}
		o->used = ++lb->clock;
		rc = lb_write(o->fd, xml, len);
		if (rc == 0)
			return 0;
		fd_close(&o->fd);
		/* a cached connection to a restarted peer: one retry */
		if (fresh || (rc != -EPIPE && rc != -ECONNRESET))
			return rc == -EPIPE || rc == -ECONNRESET ? 0 : rc;
		o = NULL;
		lru = &lb->out[0];
	}
}

/* ------------------------------------------------------- lifecycle */

static int
lb_open(struct transport *t, int timeout_ms)
{
	struct lb		*lb = t->impl;
	struct sockaddr_un	 sun;
	struct epoll_event	 ev;
	int			 fd, rc;

	(void)timeout_ms;	/* nothing here can take long */
	if (lb->lfd >= 0)
		return 0;
	if (localbus_path(lb->dir, lb->jid, lb->path, sizeof(lb->path)) < 0)
		return -ENAMETOOLONG;
	/* A live listener keeps its name; a stale file is replaced. */
	if ((fd = lb_connect(lb->path)) >= 0) {
		close(fd);
		return -EADDRINUSE;
	}
	if (fd == -ECONNREFUSED)
		(void)unlink(lb->path);	/* stale: bind() reports real trouble */
	lb->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (lb->lfd == -1)
		return -errno;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	str_copy(sun.sun_path, lb->path, sizeof(sun.sun_path));
	if (bind(lb->lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(lb->lfd, LB_BACKLOG) == -1) {
		rc = -errno;
		fd_close(&lb->lfd);
		return rc;
	}
	if ((lb->efd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		goto fail;
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(lb->efd, EPOLL_CTL_ADD, lb->lfd, &ev) == -1)
		goto fail;
	return 0;
fail:
	rc = -errno;
	fd_close(&lb->efd);
	fd_close(&lb->lfd);
	(void)unlink(lb->path);	/* ours: we just bound it */
	return rc;
}

static int
lb_fd(struct transport *t)
{
	return ((struct lb *)t->impl)->efd;
}

static const char *
lb_jid(const struct transport *t)
{
	return ((const struct lb *)t->impl)->jid;
}

/* Close every descriptor; unlink the socket only if `owner`. */
static void
lb_shut(struct lb *lb, int owner)
{
	struct xstanza	*st;
	int		 i;

	while (lb->nconns > 0)
		lb_conn_free(lb, lb->nconns - 1, owner);
	for (i = 0; i < LB_SEND_CACHE; i++)
		fd_close(&lb->out[i].fd);
	fd_close(&lb->efd);
	if (lb->lfd >= 0) {
		fd_close(&lb->lfd);
		if (owner)
			(void)unlink(lb->path);	/* gone already is fine */
	}
	while (lb_pop(lb, &st))
		xstanza_free(&st);
}

static void
lb_close(struct transport *t)
{
	lb_shut(t->impl, 1);
}

static void
lb_destroy(struct transport *t)
{
	struct lb	*lb = t->impl;

	free(lb->conns);
	free(lb->dir);
	free(lb->jid);
	free(lb);
}

static const struct transport_ops lb_ops = {
	.open = lb_open,
	.fd = lb_fd,
	.recv = lb_recv,
	.send = lb_send,
	.jid = lb_jid,
	.close = lb_close,
	.destroy = lb_destroy,
};

struct transport *
localbus_new(const char *dir, const char *jid)
{
	struct transport	*t;
	struct lb		*lb;
	int			 i;

	t = xcalloc(1, sizeof(*t));
	lb = xcalloc(1, sizeof(*lb));
	lb->dir = xstrdup(dir);
	lb->jid = xstrdup(jid);
	lb->lfd = lb->efd = -1;
	for (i = 0; i < LB_SEND_CACHE; i++)
		lb->out[i].fd = -1;
	t->ops = &lb_ops;
	t->impl = lb;
	return t;
}

void
localbus_forget(struct transport **tp)
{
	struct transport	*t = *tp;

	if (t == NULL)
		return;
	lb_shut(t->impl, 0);
	lb_destroy(t);
	free(t);
	*tp = NULL;
}
