/*
 * bus_local.c: the local bus (bus.h) for tests and benchmarks without a
 * server.
 *
 * Every endpoint is a listening UNIX stream socket in one directory,
 * named after its JID (localbus_path()).  Sending connects to the
 * destination's socket (a few connections are cached) and writes one
 * frame: a 4-byte big-endian length, then the message's XML bytes,
 * unchanged; receiving accepts connections and reads frames, so a
 * message comes out exactly as it was sent.  Nothing stamps `from`:
 * senders write it.  A message for an endpoint that does not exist comes
 * back to its sender as an XMPP bounce (spec 1.4: type="error", from and
 * to swapped, <error type="cancel" code="503"><service-unavailable/>,
 * then the original children), so clients react as on XMPP.
 *
 * Addresses: a listener is "opensrf@local/<service>" (with an instance
 * "opensrf@local/<service>@<instance>"), which is also the service's
 * address for clients: there are no routers, so bus_register() has
 * nothing to do (-ENOTSUP).  A drone is
 * "opensrf@local/<service>_drone_<pid>", a client
 * "opensrf@local/_client_<pid>_<n>" unless its params name a resource.
 * Opening an address a live process listens on fails with -EADDRINUSE; a
 * stale socket file is replaced.  bus_reaped() removes the socket file
 * a killed child left.
 *
 * Layout: names and paths; framing (one connection's read buffer cut into
 * frames); the receive side (listening socket and accepted connections,
 * all in one private epoll set whose descriptor is what bus_fd() hands
 * out, so a caller polls one fd); the send side (a small cache of
 * connected sockets, bounces); the bus_ops table.
 */
#include "bus_int.h"

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
	struct bus_frame *f;
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
	struct bus_frame *f;
	struct lb_q	*q;
	const char	*p, *end;
	char		*raw;
	unsigned	 flags = 0;

	if ((q = malloc(sizeof(*q))) == NULL)
		return -ENOMEM;
	if ((raw = malloc(len + 1)) == NULL) {
		free(q);
		return -ENOMEM;
	}
	memcpy(raw, data, len);
	raw[len] = '\0';
	if ((p = first_tag(raw, len, &end)) != NULL) {
		if (strncmp(p + 1, "message", 7) != 0 ||
		    (p[8] != ' ' && p[8] != '>' && p[8] != '/'))
			flags |= BUS_F_OTHER;
		if (memmem(p, end - p, "type=\"error\"", 12) != NULL ||
		    memmem(p, end - p, "type='error'", 12) != NULL)
			flags |= BUS_F_ERROR;
	}
	if ((f = bus_frame_wrap(raw, len, flags)) == NULL) {
		free(q);
		return -ENOMEM;
	}
	bus_frame_peek_xml(f);
	q->f = f;
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
lb_pop(struct lb *lb, struct bus_frame **out)
{
	struct lb_q	*q = lb->qhead;

	if (q == NULL)
		return 0;
	lb->qhead = q->next;
	if (lb->qhead == NULL)
		lb->qtail = NULL;
	*out = q->f;
	free(q);
	return 1;
}

static int
lb_recv(struct bus *b, struct bus_frame **out)
{
	struct lb		*lb = b->impl;
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

/* Write one encoded message to its destination's socket. */
static int
lb_send_raw(struct lb *lb, const char *xml, size_t len)
{
	struct lb_out	*o = NULL, *lru = &lb->out[0];
	char		 to[BUS_ADDR_MAX], path[sizeof(lb->path)];
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

int
localbus_send_raw(struct bus *b, const char *xml, size_t len)
{
	return lb_send_raw(b->impl, xml, len);
}

static int
lb_send(struct bus *b, const char *dest, const struct tmsg *m)
{
	struct lb	*lb = b->impl;
	struct tmsg	 t = *m;
	int		 rc;

	if (dest != NULL)
		t.to = dest;
	if (t.from == NULL || *t.from == '\0')
		t.from = lb->jid;
	pbuf_reset(&b->scratch);
	if ((rc = tmsg_xml_write_buf(&t, &b->scratch)) < 0)
		return rc;
	return lb_send_raw(lb, b->scratch.data, b->scratch.len);
}

/* ------------------------------------------------------- lifecycle */

static int
lb_connect_bus(struct bus *b)
{
	struct lb		*lb = b->impl;
	struct sockaddr_un	 sun;
	struct epoll_event	 ev;
	int			 fd, rc;

	if (lb->lfd >= 0)
		return 0;
	if (localbus_path(lb->dir, lb->jid, lb->path, sizeof(lb->path)) < 0)
		return bus_fail(b, -ENAMETOOLONG, "%s: no socket name fits",
		    lb->jid);
	/* A live listener keeps its name; a stale file is replaced. */
	if ((fd = lb_connect(lb->path)) >= 0) {
		close(fd);
		return bus_fail(b, -EADDRINUSE, "%s: a live process listens "
		    "there", lb->path);
	}
	if (fd == -ECONNREFUSED)
		(void)unlink(lb->path);	/* stale: bind() reports real trouble */
	lb->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (lb->lfd == -1)
		return bus_fail(b, -errno, "socket: %s", strerror(errno));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	str_copy(sun.sun_path, lb->path, sizeof(sun.sun_path));
	if (bind(lb->lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(lb->lfd, LB_BACKLOG) == -1) {
		rc = -errno;
		fd_close(&lb->lfd);
		return bus_fail(b, rc, "%s: %s", lb->path, strerror(-rc));
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
	return bus_fail(b, rc, "epoll: %s", strerror(-rc));
}

static int
lb_step(struct bus *b)
{
	return ((struct lb *)b->impl)->lfd >= 0 ? 0 : -ENOTCONN;
}

static int
lb_fd(const struct bus *b)
{
	return ((const struct lb *)b->impl)->efd;
}

static uint32_t
lb_events(const struct bus *b)
{
	return EPOLLIN;
}

static const char *
lb_addr(const struct bus *b)
{
	return ((const struct lb *)b->impl)->jid;
}

/* Close every descriptor; unlink the socket only if `owner`. */
static void
lb_shut(struct lb *lb, int owner)
{
	struct bus_frame *f;
	int		  i;

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
	while (lb_pop(lb, &f))
		bus_frame_free(&f);
}

static void
lb_drop(struct bus *b)
{
	lb_shut(b->impl, 1);
}

static void
lb_destroy(struct bus *b, int logout)
{
	struct lb	*lb = b->impl;

	if (lb == NULL)
		return;
	lb_shut(lb, logout);
	free(lb->conns);
	free(lb->dir);
	free(lb->jid);
	free(lb);
	b->impl = NULL;
}

static int
lb_init(struct bus *b)
{
	static unsigned	 nclient;
	struct lb	*lb;
	char		*jid;
	int		 i;

	switch (b->p.role) {
	case BUS_ROLE_LISTENER:
		jid = b->p.instance != NULL ?
		    xasprintf("opensrf@local/%s@%s", b->p.service,
		    b->p.instance) : xasprintf("opensrf@local/%s",
		    b->p.service);
		break;
	case BUS_ROLE_DRONE:
		jid = xasprintf("opensrf@local/%s_drone_%d", b->p.service,
		    (int)getpid());
		break;
	case BUS_ROLE_CLIENT:
		jid = b->p.resource != NULL ? xasprintf("opensrf@local/%s",
		    b->p.resource) : xasprintf("opensrf@local/_client_%d_%u",
		    (int)getpid(), nclient++);
		break;
	case BUS_ROLE_ROUTER:
	default:
		log_warnx("bus: the local bus has no routers");
		return -EINVAL;
	}
	lb = xcalloc(1, sizeof(*lb));
	lb->dir = xstrdup(b->p.local_dir);
	lb->jid = jid;
	lb->lfd = lb->efd = -1;
	for (i = 0; i < LB_SEND_CACHE; i++)
		lb->out[i].fd = -1;
	b->impl = lb;
	return 0;
}

static int
lb_decode(const struct bus *b, const char *raw, size_t len, struct tmsg *out,
    struct proto_err *err)
{
	return tmsg_xml_parse(raw, len, out, err);
}

static int
lb_service_addr(const struct bus *b, const char *service, char *buf,
    size_t bufsz)
{
	int	n = snprintf(buf, bufsz, "opensrf@local/%s", service);

	return n < 0 || (size_t)n >= bufsz ? -ENAMETOOLONG : n;
}

/* A child killed outright leaves its socket file: remove it. */
static void
lb_reaped(struct bus *b, pid_t pid, const char *addr)
{
	struct lb	*lb = b->impl;
	char		 jid[BUS_ADDR_MAX], path[sizeof(lb->path)];

	if (addr == NULL || *addr == '\0') {
		(void)snprintf(jid, sizeof(jid), "opensrf@local/%s_drone_%d",
		    b->p.service, (int)pid);
		addr = jid;
	}
	if (localbus_path(lb->dir, addr, path, sizeof(path)) > 0)
		(void)unlink(path);	/* gone already after a clean exit */
}

const struct bus_ops bus_local_ops = {
	.name = "local",
	.init = lb_init,
	.destroy = lb_destroy,
	.connect = lb_connect_bus,
	.step = lb_step,
	.drop = lb_drop,
	.fd = lb_fd,
	.events = lb_events,
	.recv = lb_recv,
	.decode = lb_decode,
	.send = lb_send,
	.addr = lb_addr,
	.service_addr = lb_service_addr,
	.reaped = lb_reaped,
};
