/*
 * redis_conn.c: the Redis client connection (redis_conn.h).
 *
 * State lives in struct rds_conn: the socket, hiredis's reply parser,
 * the output buffer (RESP written by us into a struct pbuf, sent from
 * out_off on) and a ring of completions, one per command in flight, the
 * first of which is our own AUTH while logging in.
 *
 * Re-entrancy: callbacks may close, reconnect or free the connection.
 * Every close bumps `gen`, so a loop that ran a callback stops when the
 * connection it was serving is gone; `depth` counts the entry points on
 * the stack, and rds_free() inside a callback only marks the struct
 * `doomed`, to be freed when the outermost entry point returns.
 *
 * Layout: replies (hiredis object functions); life cycle and failure;
 * connect; output; input and dispatch; event loop entry points; commands;
 * blocking helpers.
 */
#include "redis_conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <hiredis/read.h>

#include "pbuf.h"

/* recv() size: a 64 KiB read empties a loopback socket in one call. */
#define READ_CHUNK	65536
/* Output buffer kept between bursts; a bigger one is freed once empty. */
#define OUT_KEEP	(256u * 1024)
/* Length of rds_error()'s line. */
#define ERR_LEN		256

struct completion {
	rds_reply_fn	*fn;		/* NULL: drop the reply */
	void		*arg;
};

struct rds_conn {
	/* Copied from rds_params. */
	char		*host;
	int		 port;
	char		*user;
	char		*pass;		/* explicit_bzero() on free */
	int		 timeout_ms;
	rds_event_fn	*on_event;
	void		*event_arg;

	enum rds_state	 state;
	int		 fd;
	struct addrinfo	*ai;		/* resolved addresses, connecting */
	struct addrinfo	*ai_next;	/* the next to try */
	uint64_t	 deadline_ms;	/* of connect + AUTH (mono_ms) */
	redisReader	*reader;
	struct pbuf	 out;		/* RESP to send */
	size_t		 out_off;	/* bytes of out already sent */
	int		 write_err;	/* errno of a failed send() in
					   rds_command(), reported later */
	int		 corked;	/* rds_cork(): hold output */

	struct completion *q;		/* ring of completions */
	size_t		 qhead, qlen, qcap;

	unsigned	 gen;		/* bumped on every close */
	int		 depth;		/* entry points on the stack */
	int		 doomed;	/* rds_free() called inside */
	int		 last_err;	/* of the last on_event */
	char		 err[ERR_LEN];
};

/* ------------------------------------------------------------ replies */

static void *
reply_new(const redisReadTask *t, enum rds_type type)
{
	struct rds_reply	*r, *parent;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->type = type;
	if (t->parent != NULL) {
		parent = t->parent->obj;
		if (t->idx < 0 || (size_t)t->idx >= parent->n) {
			/* cannot happen with hiredis's reader */
			free(r);
			return NULL;
		}
		parent->elem[t->idx] = r;
	}
	return r;
}

static void *
reply_string(const redisReadTask *t, char *s, size_t len)
{
	struct rds_reply	*r;
	char			*copy;

	if ((copy = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(copy, s, len);
	copy[len] = '\0';
	r = reply_new(t, t->type == REDIS_REPLY_ERROR ? RDS_ERROR :
	    t->type == REDIS_REPLY_STATUS ? RDS_STATUS : RDS_STRING);
	if (r == NULL) {
		free(copy);
		return NULL;
	}
	r->str = copy;
	r->len = len;
	return r;
}

static void *
reply_array(const redisReadTask *t, int n)
{
	struct rds_reply	*r;
	struct rds_reply	**elem;

	/* Bound the announced count before trusting it with calloc(). */
	if (n < 0 || (size_t)n > RDS_MAX_ELEMENTS)
		return NULL;
	if ((elem = calloc(n > 0 ? (size_t)n : 1, sizeof(*elem))) == NULL)
		return NULL;
	if ((r = reply_new(t, RDS_ARRAY)) == NULL) {
		free(elem);
		return NULL;
	}
	r->elem = elem;
	r->n = (size_t)n;
	return r;
}

static void *
reply_integer(const redisReadTask *t, long long v)
{
	struct rds_reply	*r;

	if ((r = reply_new(t, RDS_INTEGER)) != NULL)
		r->integer = v;
	return r;
}

static void *
reply_nil(const redisReadTask *t)
{
	return reply_new(t, RDS_NIL);
}

static void
reply_destroy(struct rds_reply *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		reply_destroy(r->elem[i]);
	free(r->elem);
	free(r->str);
	free(r);
}

static void
reply_free_obj(void *obj)
{
	reply_destroy(obj);
}

/* Not const in hiredis's prototype; never written. */
static redisReplyObjectFunctions reply_fns = {
	reply_string, reply_array, reply_integer, reply_nil, reply_free_obj,
};

void
rds_reply_free(struct rds_reply **rp)
{
	if (rp == NULL)
		return;
	reply_destroy(*rp);
	*rp = NULL;
}

char *
rds_reply_take(struct rds_reply *r, size_t *lenp)
{
	char	*s = r->str;

	if (lenp != NULL)
		*lenp = r->len;
	r->str = NULL;
	r->len = 0;
	return s;
}

int
rds_error_errno(const char *text)
{
	static const struct {
		const char	*word;
		int		 err;
	} map[] = {
		{ "NOPERM", -EACCES }, { "WRONGPASS", -EACCES },
		{ "NOAUTH", -EACCES }, { "LOADING", -EAGAIN },
		{ "BUSY", -EAGAIN }, { "TRYAGAIN", -EAGAIN },
		{ "MASTERDOWN", -EAGAIN },
	};
	size_t	n, i;

	if (text == NULL)
		return -EPROTO;
	n = strcspn(text, " ");
	for (i = 0; i < ARRAY_LEN(map); i++)
		if (strlen(map[i].word) == n &&
		    strncmp(map[i].word, text, n) == 0)
			return map[i].err;
	return -EPROTO;
}

/* --------------------------------------------------- life and failure */

static void PRINTF(2, 3)
set_error(struct rds_conn *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->err, sizeof(c->err), fmt, ap); /* truncation ok */
	va_end(ap);
}

static void
clear_out(struct rds_conn *c)
{
	/* It may still hold the AUTH command with the password. */
	if (c->out.data != NULL)
		explicit_bzero(c->out.data, c->out.cap);
	if (c->out.cap > OUT_KEEP)
		pbuf_free(&c->out);
	else
		pbuf_reset(&c->out);
	c->out_off = 0;
}

/* Close the socket and forget everything in flight; no callbacks. */
static void
teardown(struct rds_conn *c)
{
	fd_close(&c->fd);
	if (c->ai != NULL)
		freeaddrinfo(c->ai);
	c->ai = c->ai_next = NULL;
	if (c->reader != NULL)
		redisReaderFree(c->reader);
	c->reader = NULL;
	clear_out(c);
	c->write_err = 0;
	c->corked = 0;
	c->state = RDS_DOWN;
	c->gen++;
}

static void auth_done(void *arg, int err, struct rds_reply *r);

/*
 * Close and run the completions that were in flight with cmd_err; they
 * were detached first, so a callback that issues commands or reconnects
 * meets a clean DOWN connection.  The first entry may be our AUTH.
 */
static void
fail_pending(struct rds_conn *c, int cmd_err)
{
	struct completion	*q = c->q;
	size_t			 head = c->qhead, n = c->qlen, cap = c->qcap;
	size_t			 i;
	struct completion	*e;

	c->q = NULL;
	c->qhead = c->qlen = c->qcap = 0;
	teardown(c);
	for (i = 0; i < n; i++) {
		e = &q[(head + i) % cap];
		if (e->fn != NULL && e->fn != auth_done)
			e->fn(e->arg, cmd_err, NULL);
	}
	free(q);
}

/*
 * The connection ended without the owner asking: pending completions
 * get -ENOTCONN, then on_event() gets err once.
 */
static void
lose(struct rds_conn *c, int err)
{
	if (c->state == RDS_DOWN)
		return;
	fail_pending(c, -ENOTCONN);
	c->last_err = err;
	if (c->on_event != NULL)
		c->on_event(c->event_arg, c, err);
}

/* After UP: the event is -ENOTCONN, whatever the cause. */
static void
lose_up(struct rds_conn *c, int cause)
{
	lose(c, c->state == RDS_UP ? -ENOTCONN : cause);
}

static void
really_free(struct rds_conn *c)
{
	teardown(c);
	free(c->q);
	pbuf_free(&c->out);
	free(c->host);
	free(c->user);
	if (c->pass != NULL) {
		explicit_bzero(c->pass, strlen(c->pass));
		free(c->pass);
	}
	free(c);
}

static void
enter(struct rds_conn *c)
{
	c->depth++;
}

/* Returns 1 when c was freed (the caller must not touch it). */
static int
leave(struct rds_conn *c)
{
	if (--c->depth == 0 && c->doomed) {
		really_free(c);
		return 1;
	}
	return 0;
}

int
rds_new(const struct rds_params *p, struct rds_conn **out)
{
	struct rds_conn	*c;

	*out = NULL;
	if (p->host == NULL || p->host[0] == '\0' || p->port < 1 ||
	    p->port > 65535 || (p->user != NULL && p->pass == NULL))
		return -EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->fd = -1;
	c->port = p->port;
	c->timeout_ms = p->connect_timeout_ms > 0 ? p->connect_timeout_ms :
	    RDS_CONNECT_TIMEOUT_MS;
	c->on_event = p->on_event;
	c->event_arg = p->arg;
	if ((c->host = strdup(p->host)) == NULL ||
	    (p->user != NULL && (c->user = strdup(p->user)) == NULL) ||
	    (p->pass != NULL && (c->pass = strdup(p->pass)) == NULL)) {
		really_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void
rds_close(struct rds_conn *c)
{
	if (c == NULL || c->state == RDS_DOWN)
		return;
	enter(c);
	fail_pending(c, -ECANCELED);
	(void)leave(c);		/* closing is not freeing: c lives on */
}

void
rds_free(struct rds_conn **cp)
{
	struct rds_conn	*c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	rds_close(c);
	if (c->depth > 0)
		c->doomed = 1;	/* inside a callback: the outermost frees */
	else
		really_free(c);
}

void
rds_forget(struct rds_conn **cp)
{
	struct rds_conn	*c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	teardown(c);
	really_free(c);
}

enum rds_state
rds_state(const struct rds_conn *c)
{
	return c->state;
}

const char *
rds_error(const struct rds_conn *c)
{
	return c->err;
}

size_t
rds_pending(const struct rds_conn *c)
{
	size_t	n = c->qlen;

	/* Our AUTH is not the owner's command. */
	if (n > 0 && c->q[c->qhead].fn == auth_done)
		n--;
	return n;
}

/* ------------------------------------------------------------ connect */

/* Start a non-blocking connect to the next address; 0 or -errno. */
static int
connect_next(struct rds_conn *c)
{
	struct addrinfo	*ai;
	int		 one = 1, rc = -EHOSTUNREACH;

	while ((ai = c->ai_next) != NULL) {
		c->ai_next = ai->ai_next;
		fd_close(&c->fd);
		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (c->fd == -1) {
			rc = -errno;
			continue;
		}
		/* Nagle would hold a small command back behind a delayed
		 * ACK: every request here is a small write. */
		if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one)) != 0) {
			rc = -errno;
			continue;
		}
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS)
			return 0;	/* writable when done either way */
		rc = -errno;
	}
	fd_close(&c->fd);
	return rc;
}

static int
resolve(struct rds_conn *c)
{
	struct addrinfo	hints;
	char		port[8];
	int		gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* No AI_ADDRCONFIG: it ignores loopback, so on a host whose only
	   addresses are loopback "localhost" would not resolve. */
	(void)snprintf(port, sizeof(port), "%d", c->port); /* fits */
	if ((gai = getaddrinfo(c->host, port, &hints, &c->ai)) != 0) {
		c->ai = NULL;
		set_error(c, "getaddrinfo(%s): %s", c->host,
		    gai_strerror(gai));
		return gai == EAI_MEMORY ? -ENOMEM : -EHOSTUNREACH;
	}
	c->ai_next = c->ai;
	return 0;
}

int
rds_connect(struct rds_conn *c)
{
	int	rc;

	if (c->state != RDS_DOWN)
		return -EISCONN;
	c->err[0] = '\0';
	c->last_err = 0;
	if ((rc = resolve(c)) != 0)
		return rc;
	if ((c->reader = redisReaderCreateWithFunctions(&reply_fns)) == NULL) {
		teardown(c);
		set_error(c, "out of memory");
		return -ENOMEM;
	}
	if ((rc = connect_next(c)) != 0) {
		set_error(c, "connect(%s:%d): %s", c->host, c->port,
		    strerror(-rc));
		teardown(c);
		return rc;
	}
	c->state = RDS_CONNECTING;
	c->deadline_ms = mono_ms() + (uint64_t)c->timeout_ms;
	return 0;
}

static int queue_command(struct rds_conn *, rds_reply_fn *, void *, int,
    const char *const *, const size_t *);
static int flush_out(struct rds_conn *);

static void
became_up(struct rds_conn *c)
{
	c->state = RDS_UP;
	clear_out(c);		/* the AUTH bytes, password included */
	c->last_err = 0;
	if (c->on_event != NULL)
		c->on_event(c->event_arg, c, 0);
}

/* The socket is writable while CONNECTING: did the connect work? */
static void
connect_done(struct rds_conn *c)
{
	struct pollfd	 pfd = { .fd = c->fd, .events = POLLOUT };
	const char	*argv[3];
	socklen_t	 slen = sizeof(int);
	int		 soerr = 0, rc, argc = 0;

	/* A stale readiness for an earlier socket must not count. */
	if (poll(&pfd, 1, 0) != 1)
		return;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) != 0)
		soerr = errno;
	if (soerr != 0) {
		if ((rc = connect_next(c)) == 0)
			return;		/* the next address is under way */
		if (rc == -EHOSTUNREACH)
			rc = -soerr;	/* there was no next address */
		set_error(c, "connect(%s:%d): %s", c->host, c->port,
		    strerror(-rc));
		lose(c, rc);
		return;
	}
	freeaddrinfo(c->ai);
	c->ai = c->ai_next = NULL;
	if (c->pass == NULL) {
		became_up(c);
		return;
	}
	argv[argc++] = "AUTH";
	if (c->user != NULL)
		argv[argc++] = c->user;
	argv[argc++] = c->pass;
	c->state = RDS_AUTH;
	if ((rc = queue_command(c, auth_done, c, argc, argv, NULL)) != 0) {
		set_error(c, "AUTH: %s", strerror(-rc));
		lose(c, rc);
		return;
	}
	if ((rc = flush_out(c)) != 0) {
		set_error(c, "send to %s:%d: %s", c->host, c->port,
		    strerror(-rc));
		lose(c, rc);
	}
}

static void
auth_done(void *arg, int err, struct rds_reply *r)
{
	struct rds_conn	*c = arg;

	if (err == 0) {
		became_up(c);
		return;
	}
	set_error(c, "AUTH as %s on %s:%d: %s", c->user ? c->user :
	    "(no user)", c->host, c->port, r != NULL ? r->str : "refused");
	lose(c, err);
}

/* ------------------------------------------------------------- output */

static int
put_resp_arg(struct pbuf *b, const char *s, size_t len)
{
	char	hdr[32];
	int	n, rc;

	n = snprintf(hdr, sizeof(hdr), "$%zu\r\n", len);
	if ((rc = pbuf_add(b, hdr, (size_t)n)) != 0 ||
	    (rc = pbuf_add(b, s, len)) != 0)
		return rc;
	return pbuf_add(b, "\r\n", 2);
}

/* Append the RESP array of the command; *b unchanged on failure. */
static int
put_resp(struct pbuf *b, int argc, const char *const *argv,
    const size_t *argvlen)
{
	size_t	saved = b->len, need = 16, i, len;
	char	hdr[32];
	int	n, rc;

	for (i = 0; i < (size_t)argc; i++)
		need += 32 + (argvlen != NULL ? argvlen[i] : strlen(argv[i]));
	n = snprintf(hdr, sizeof(hdr), "*%d\r\n", argc);
	if ((rc = pbuf_reserve(b, need)) != 0 ||
	    (rc = pbuf_add(b, hdr, (size_t)n)) != 0)
		goto fail;
	for (i = 0; i < (size_t)argc; i++) {
		len = argvlen != NULL ? argvlen[i] : strlen(argv[i]);
		if ((rc = put_resp_arg(b, argv[i], len)) != 0)
			goto fail;
	}
	return 0;
fail:
	b->len = saved;
	if (b->data != NULL)
		b->data[saved] = '\0';
	return rc;
}

/* Write what the socket takes now: 0 (all or EAGAIN) or -errno. */
static int
flush_out(struct rds_conn *c)
{
	ssize_t	n;

	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.data + c->out_off,
		    c->out.len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return n == -1 ? -errno : -EIO;
	}
	if (c->out_off > 0) {
		if (c->out.cap > OUT_KEEP)
			pbuf_free(&c->out);
		else
			pbuf_reset(&c->out);
		c->out_off = 0;
	}
	return 0;
}

static int
push_completion(struct rds_conn *c, rds_reply_fn *fn, void *arg)
{
	struct completion	*q;
	size_t			 cap, i;

	if (c->qlen == c->qcap) {
		cap = c->qcap ? 2 * c->qcap : 16;
		if ((q = malloc(cap * sizeof(*q))) == NULL)
			return -ENOMEM;
		for (i = 0; i < c->qlen; i++)
			q[i] = c->q[(c->qhead + i) % c->qcap];
		free(c->q);
		c->q = q;
		c->qcap = cap;
		c->qhead = 0;
	}
	c->q[(c->qhead + c->qlen) % c->qcap] = (struct completion){ fn, arg };
	c->qlen++;
	return 0;
}

static int
queue_command(struct rds_conn *c, rds_reply_fn *fn, void *arg, int argc,
    const char *const *argv, const size_t *argvlen)
{
	size_t	saved = c->out.len;
	int	rc;

	/* Sent bytes at the front are dropped before the buffer grows. */
	if (c->out_off > 0 && c->out_off >= c->out.len / 2) {
		memmove(c->out.data, c->out.data + c->out_off,
		    c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out.data[c->out.len] = '\0';
		c->out_off = 0;
		saved = c->out.len;
	}
	if ((rc = put_resp(&c->out, argc, argv, argvlen)) != 0)
		return rc;
	if ((rc = push_completion(c, fn, arg)) != 0) {
		c->out.len = saved;
		c->out.data[saved] = '\0';
		return rc;
	}
	return 0;
}

/* ------------------------------------------------- input and dispatch */

/* Hand every complete reply to its completion, in order. */
static void
dispatch(struct rds_conn *c)
{
	struct completion	 e;
	struct rds_reply	*r;
	void			*obj;
	unsigned		 gen = c->gen;
	int			 err;

	while (c->gen == gen) {
		if (redisReaderGetReply(c->reader, &obj) != REDIS_OK) {
			/* "Out of memory" also for arrays above
			   RDS_MAX_ELEMENTS: our object functions refuse
			   them the only way hiredis lets them. */
			set_error(c, "%s:%d: unreadable reply: %s", c->host,
			    c->port, c->reader->errstr);
			lose_up(c, -EPROTO);
			return;
		}
		if ((r = obj) == NULL)
			return;
		if (c->qlen == 0) {
			reply_destroy(r);
			set_error(c, "%s:%d: a reply to no command", c->host,
			    c->port);
			lose_up(c, -EPROTO);
			return;
		}
		e = c->q[c->qhead];
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
		err = r->type == RDS_ERROR ? rds_error_errno(r->str) : 0;
		if (e.fn != NULL)
			e.fn(e.arg, err, r);
		reply_destroy(r);
	}
}

static void
read_input(struct rds_conn *c)
{
	char		buf[READ_CHUNK];
	ssize_t		n;
	unsigned	gen = c->gen;

	while (c->gen == gen) {
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			if (redisReaderFeed(c->reader, buf, (size_t)n) !=
			    REDIS_OK) {
				set_error(c, "%s:%d: out of memory", c->host,
				    c->port);
				lose_up(c, -ENOMEM);
				return;
			}
			dispatch(c);
			if ((size_t)n < sizeof(buf))
				return;	/* drained, most likely */
			continue;
		}
		if (n == 0) {
			set_error(c, "%s:%d: the server closed the connection",
			    c->host, c->port);
			lose_up(c, -ECONNRESET);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		set_error(c, "recv from %s:%d: %s", c->host, c->port,
		    strerror(errno));
		lose_up(c, -errno);
		return;
	}
}

/* ------------------------------------------------ event loop entries */

int
rds_fd(const struct rds_conn *c)
{
	return c->fd;
}

uint32_t
rds_events(const struct rds_conn *c)
{
	switch (c->state) {
	case RDS_DOWN:
		return 0;
	case RDS_CONNECTING:
		return EPOLLOUT;
	default:
		return EPOLLIN | ((c->out_off < c->out.len && !c->corked) ||
		    c->write_err ? EPOLLOUT : 0);
	}
}

int
rds_timeout_ms(const struct rds_conn *c, uint64_t now_ms)
{
	if (c->state != RDS_CONNECTING && c->state != RDS_AUTH)
		return -1;
	return c->deadline_ms > now_ms ? (int)(c->deadline_ms - now_ms) : 0;
}

void
rds_handle_read(struct rds_conn *c)
{
	enter(c);
	if (c->state == RDS_CONNECTING)
		connect_done(c);	/* an error shows as readable too */
	else if (c->state != RDS_DOWN)
		read_input(c);
	(void)leave(c);	/* may free c: not touched after this */
}

void
rds_handle_write(struct rds_conn *c)
{
	int	rc;

	enter(c);
	if (c->state == RDS_CONNECTING)
		connect_done(c);
	else if (c->state != RDS_DOWN) {
		if ((rc = c->write_err != 0 ? -c->write_err :
		    flush_out(c)) != 0) {
			set_error(c, "send to %s:%d: %s", c->host, c->port,
			    strerror(-rc));
			lose_up(c, rc);
		}
	}
	(void)leave(c);
}

void
rds_tick(struct rds_conn *c, uint64_t now_ms)
{
	enter(c);
	if ((c->state == RDS_CONNECTING || c->state == RDS_AUTH) &&
	    now_ms >= c->deadline_ms) {
		set_error(c, "%s to %s:%d: no answer within %d ms",
		    c->state == RDS_AUTH ? "AUTH" : "connect", c->host,
		    c->port, c->timeout_ms);
		lose(c, -ETIMEDOUT);
	}
	(void)leave(c);
}

/* ----------------------------------------------------------- commands */

int
rds_command(struct rds_conn *c, rds_reply_fn *fn, void *arg, int argc,
    const char *const argv[], const size_t argvlen[])
{
	int	rc, was_idle;

	if (argc < 1 || argv == NULL)
		return -EINVAL;
	if (c->state != RDS_UP)
		return -ENOTCONN;
	was_idle = c->out_off == c->out.len;
	if ((rc = queue_command(c, fn, arg, argc, argv, argvlen)) != 0)
		return rc;
	/*
	 * Write at once unless earlier output waits for EPOLLOUT.  A send
	 * error is kept for rds_handle_write() (rds_events() asks for it):
	 * callbacks never run from here.
	 */
	if (was_idle && !c->corked && c->write_err == 0 &&
	    (rc = flush_out(c)) != 0)
		c->write_err = -rc;
	return 0;
}

void
rds_cork(struct rds_conn *c, int on)
{
	int	rc;

	c->corked = on;
	if (on || c->state != RDS_UP || c->write_err != 0)
		return;
	if ((rc = flush_out(c)) != 0)
		c->write_err = -rc;
}

/* Collect a NULL-terminated argument list. */
static int
collect(va_list ap, const char **argv)
{
	const char	*s;
	int		 n = 0;

	while ((s = va_arg(ap, const char *)) != NULL) {
		if (n == RDS_MAX_ARGS)
			return -E2BIG;
		argv[n++] = s;
	}
	return n;
}

int
rds_commandl(struct rds_conn *c, rds_reply_fn *fn, void *arg, ...)
{
	const char	*argv[RDS_MAX_ARGS];
	va_list		 ap;
	int		 n;

	va_start(ap, arg);
	n = collect(ap, argv);
	va_end(ap);
	if (n < 0)
		return n;
	return rds_command(c, fn, arg, n, argv, NULL);
}

/* ----------------------------------------------------------- blocking */

int
rds_wait(struct rds_conn *c, int timeout_ms)
{
	struct pollfd	pfd;
	uint32_t	ev;
	int		t, rc;

	if (c->state == RDS_DOWN)
		return -ENOTCONN;
	ev = rds_events(c);
	pfd.fd = c->fd;
	pfd.events = (short)((ev & EPOLLIN ? POLLIN : 0) |
	    (ev & EPOLLOUT ? POLLOUT : 0));
	pfd.revents = 0;
	t = rds_timeout_ms(c, mono_ms());
	if (t < 0 || (timeout_ms >= 0 && timeout_ms < t))
		t = timeout_ms;
	rc = poll(&pfd, 1, t);
	if (rc == -1 && errno != EINTR)
		return -errno;
	enter(c);
	if (rc > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
		rds_handle_read(c);
	if (rc > 0 && (pfd.revents & POLLOUT))
		rds_handle_write(c);
	rds_tick(c, mono_ms());
	if (leave(c))
		return -ENOTCONN;	/* freed by a callback */
	return rc > 0 ? 1 : 0;
}

int
rds_open(struct rds_conn *c)
{
	int	rc;

	if ((rc = rds_connect(c)) != 0)
		return rc;
	enter(c);	/* an on_event() that frees c must not pull it away */
	while (c->state == RDS_CONNECTING || c->state == RDS_AUTH)
		if ((rc = rds_wait(c, -1)) < 0)
			break;
	if (rc >= 0 || rc == -ENOTCONN)
		rc = c->state == RDS_UP ? 0 : c->last_err;
	if (leave(c))
		return -ECANCELED;
	return rc;
}

/* What rds_call() waits for. */
struct call {
	int			 done;
	int			 err;
	struct rds_reply	*reply;
};

static void
call_done(void *arg, int err, struct rds_reply *r)
{
	struct call		*k = arg;
	struct rds_reply	*copy;

	k->done = 1;
	k->err = err;
	if (r == NULL)
		return;
	/* The reply is the connection's: move its contents out. */
	if ((copy = malloc(sizeof(*copy))) == NULL) {
		k->err = -ENOMEM;
		return;
	}
	*copy = *r;
	memset(r, 0, sizeof(*r));
	r->type = RDS_NIL;
	k->reply = copy;
}

/* Forget the completion with this arg: its caller is gone. */
static void
cancel_completion(struct rds_conn *c, void *arg)
{
	size_t	i;

	for (i = 0; i < c->qlen; i++)
		if (c->q[(c->qhead + i) % c->qcap].arg == arg)
			c->q[(c->qhead + i) % c->qcap].fn = NULL;
}

int
rds_call(struct rds_conn *c, int timeout_ms, struct rds_reply **out,
    int argc, const char *const argv[], const size_t argvlen[])
{
	struct call	k = { 0, 0, NULL };
	uint64_t	deadline = mono_ms() + (uint64_t)timeout_ms;
	uint64_t	now;
	int		rc;

	*out = NULL;
	if ((rc = rds_command(c, call_done, &k, argc, argv, argvlen)) != 0)
		return rc;
	enter(c);	/* callbacks may free c: see rds_open() */
	rc = 0;
	while (!k.done) {
		now = mono_ms();
		if (timeout_ms >= 0 && now >= deadline)
			rc = -ETIMEDOUT;
		else
			rc = rds_wait(c, timeout_ms < 0 ? -1 :
			    (int)(deadline - now));
		if (rc < 0 && !k.done) {
			cancel_completion(c, &k);
			break;
		}
	}
	if (k.done)
		rc = k.err;
	if (leave(c) && !k.done)
		rc = -ECANCELED;
	*out = k.reply;
	return rc;
}

int
rds_calll(struct rds_conn *c, int timeout_ms, struct rds_reply **out, ...)
{
	const char	*argv[RDS_MAX_ARGS];
	va_list		 ap;
	int		 n;

	*out = NULL;
	va_start(ap, out);
	n = collect(ap, argv);
	va_end(ap);
	if (n < 0)
		return n;
	return rds_call(c, timeout_ms, out, n, argv, NULL);
}
