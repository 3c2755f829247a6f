/*
 * xmpp_conn.c: the XMPP connection object of xmpp.h: TCP connect,
 * socket I/O (plain or through xmpp_tls.c), the output queue, the
 * receive loop over the stanza parser, sending, and the blocking
 * wrappers.
 *
 * States (c->phase, xmpp_int.h): closed (fd -1) -> xmpp_connect_start():
 * TCP connect, then the login phases of xmpp_login.c -> ready -> dead
 * (fd closed by a failure; the object keeps its config and can be
 * started again) or closed.
 *
 * Output: xmpp_send() writes what the socket takes at once when nothing
 * is queued and queues the rest in c->out; everything else (login bytes,
 * answers to iqs, refusals, the logout) is queued and written by
 * xmpp_out_flush().  Only xmpp_flush_wait(), xmpp_open() (in
 * xmpp_login.c) and xmpp_close() ever wait.
 */
#include "xmpp.h"
#include "xmpp_int.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "tmsg.h"

/* xmpp_events() promises the epoll bits too. */
_Static_assert(POLLIN == EPOLLIN && POLLOUT == EPOLLOUT,
    "poll and epoll bits differ");

/* Bytes per read(2): a typical OpenSRF request is ~1 KiB. */
#define XMPP_READ_CHUNK		16384
/*
 * Closing: how long to try to write what is queued and
 * </stream:stream>, and to wait for the server's (ejabberd answers in
 * a millisecond or two).  Logging out is a courtesy (the server notices
 * the closed socket anyway); a caller that must not lose queued
 * stanzas calls xmpp_flush_wait() with its own bound first.
 */
#define XMPP_CLOSE_TIMEOUT_MS	200
/*
 * Memory an emptied output queue keeps for the next burst: a few
 * hundred typical stanzas.  Beyond it the buffer is freed, so one huge
 * answer does not pin its size for the life of the process.
 */
#define XMPP_OUTQ_KEEP		(256u * 1024)

int
xmpp_fail(struct xmpp_conn *c, int rc, const char *fmt, ...)
{
	char	buf[XMPP_ERR_LEN];
	va_list	ap;

	/* Via buf: the arguments may include c->err itself. */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	str_copy(c->err, buf, sizeof(c->err));
	return rc;
}

struct xmpp_conn *
xmpp_new(const struct bus_conf *conf, const char *resource)
{
	struct xmpp_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = -1;
	if (bus_conf_copy(&c->conf, conf) != 0)
		goto fail;
	if (resource != NULL && (c->resource = strdup(resource)) == NULL)
		goto fail;
	if ((c->parser = stanza_parser_new(conf->max_stanza_size)) == NULL)
		goto fail;
	if (conf->presence)
		(void)snprintf(c->presence, sizeof(c->presence),
		    "<presence><priority>%d</priority></presence>",
		    conf->presence_priority);	/* fits: 4 digits at most */
	return c;
fail:
	bus_conf_clear(&c->conf);
	free(c->resource);
	free(c);
	return NULL;
}

int
xmpp_set_mechanisms(struct xmpp_conn *c, const char *mechs)
{
	static const char *const known[] = { "SCRAM-SHA-256", "SCRAM-SHA-1",
	    "PLAIN" };
	char	*copy, *tok, *save = NULL;
	size_t	 i;
	int	 ok;

	if (mechs == NULL) {
		free(c->mechs);
		c->mechs = NULL;
		return 0;
	}
	if ((copy = strdup(mechs)) == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		for (ok = 0, i = 0; i < ARRAY_LEN(known); i++)
			ok |= strcmp(tok, known[i]) == 0;
		if (!ok) {
			free(copy);
			return -EINVAL;
		}
	}
	free(copy);
	free(c->mechs);
	if ((c->mechs = strdup(mechs)) == NULL)
		return -ENOMEM;
	return 0;
}


void
xmpp_set_outq_max(struct xmpp_conn *c, size_t max)
{
	c->out_max = max;
}

void
xmpp_set_presence(struct xmpp_conn *c, int on)
{
	str_copy(c->presence, on ? XMPP_PRESENCE : "", sizeof(c->presence));
}

size_t
xmpp_outq_max(size_t max_stanza_size)
{
	size_t	m = max_stanza_size;

	if (m == 0)
		m = STANZA_MAX_SIZE_DEFAULT;
	if (m > SIZE_MAX / XMPP_OUTQ_STANZAS)
		return SIZE_MAX;
	m *= XMPP_OUTQ_STANZAS;
	return m > XMPP_OUTQ_MIN ? m : XMPP_OUTQ_MIN;
}

/* Forget the output queue, clearing it if it may hold credentials. */
static void
outq_clear(struct xmpp_conn *c)
{
	if (c->out_secret && c->out.data != NULL)
		explicit_bzero(c->out.data, c->out.cap);
	pbuf_free(&c->out);
	c->out_off = 0;
	c->out_secret = 0;
}

void
xmpp_drop(struct xmpp_conn *c)
{
	xmpp_tls_close(c, 0);
	fd_close(&c->fd);
	c->ready = 0;
	c->dead_rc = 0;
	c->drained = 0;
	c->phase = XMPP_PH_CLOSED;
	xstanza_free(&c->features);
	outq_clear(c);
	if (c->ai_list != NULL)
		freeaddrinfo(c->ai_list);
	c->ai_list = c->ai_next = NULL;
	xmpp_scram_clear(&c->scram);
	free(c->login_res);
	c->login_res = NULL;
}

/* ------------------------------------------------------------- TCP */

static const char *
tcp_host(const struct xmpp_conn *c)
{
	return c->conf.host ? c->conf.host : c->conf.domain;
}

/*
 * Start a connect to c->ai_next, then to the addresses after it while
 * they fail at once: 0 connected, -EINPROGRESS, or the last -errno.
 */
static int
tcp_try(struct xmpp_conn *c)
{
	const struct addrinfo	*ai;
	int			 fd, one = 1, rc = -EHOSTUNREACH;

	while ((ai = c->ai_next) != NULL) {
		c->ai_next = ai->ai_next;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd == -1) {
			rc = -errno;
			continue;
		}
		/* Nagle + delayed ACK stalls a receive-mostly peer:
		   performance.md. */
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one)) != 0)
			log_warn("setsockopt(TCP_NODELAY)");
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			rc = errno == EINPROGRESS ? -EINPROGRESS : 0;
			c->fd = fd;
			c->owner = getpid();
			return rc;
		}
		rc = -errno;
		close(fd);
	}
	return rc;
}

static int
tcp_failed(struct xmpp_conn *c, int rc)
{
	return xmpp_fail(c, rc, "connect(%s:%d): %s", tcp_host(c),
	    c->conf.port, strerror(-rc));
}

int
xmpp_tcp_start(struct xmpp_conn *c)
{
	struct addrinfo	 hints;
	char		 port[16];
	int		 rc, gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", c->conf.port);
	if ((gai = getaddrinfo(tcp_host(c), port, &hints, &c->ai_list)) != 0) {
		c->ai_list = NULL;
		return xmpp_fail(c, -EHOSTUNREACH, "getaddrinfo(%s): %s",
		    tcp_host(c), gai_strerror(gai));
	}
	c->ai_next = c->ai_list;
	if ((rc = tcp_try(c)) != 0 && rc != -EINPROGRESS)
		return tcp_failed(c, rc);
	return rc;
}

int
xmpp_tcp_step(struct xmpp_conn *c)
{
	struct pollfd	pfd;
	socklen_t	slen;
	int		n, err = 0;

	pfd.fd = c->fd;
	pfd.events = POLLOUT;
	if ((n = poll(&pfd, 1, 0)) == 0 || (n == -1 && errno == EINTR))
		return -EINPROGRESS;
	if (n == -1)
		return xmpp_fail(c, -errno, "poll: %s", strerror(errno));
	slen = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &slen) != 0)
		err = errno;
	if (err == 0) {
		freeaddrinfo(c->ai_list);
		c->ai_list = c->ai_next = NULL;
		return 0;
	}
	fd_close(&c->fd);
	if (c->ai_next == NULL)
		return tcp_failed(c, -err);
	if ((n = tcp_try(c)) != 0 && n != -EINPROGRESS)
		return tcp_failed(c, n);
	return n;
}

const char *
xmpp_jid(const struct xmpp_conn *c)
{
	return c->jid && c->ready ? c->jid : "";
}

int
xmpp_fd(const struct xmpp_conn *c)
{
	return c->fd;
}

const char *
xmpp_error(const struct xmpp_conn *c)
{
	return c->err;
}

const char *
xmpp_auth_used(const struct xmpp_conn *c)
{
	return c->auth_used;
}

int
xmpp_is_tls(const struct xmpp_conn *c)
{
	return c->ssl != NULL;
}

/* ------------------------------------------------------------- I/O */

static ssize_t
io_read(struct xmpp_conn *c, void *buf, size_t len)
{
	ssize_t	n;

	if (c->ssl != NULL)
		return xmpp_tls_read(c, buf, len);
	n = recv(c->fd, buf, len, 0);
	if (n >= 0)
		return n;
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

static ssize_t
io_write(struct xmpp_conn *c, const void *buf, size_t len)
{
	ssize_t	n;

	if (c->ssl != NULL)
		return xmpp_tls_write(c, buf, len);
	n = send(c->fd, buf, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

/* Why a write failed, for xmpp_error(). */
static int
write_failed(struct xmpp_conn *c, ssize_t n)
{
	/* xmpp_tls_write() already said why for -EPROTO */
	return xmpp_fail(c, -ENOTCONN, "write: %s", n == 0 ?
	    "connection closed" : c->ssl && n == -EPROTO ? c->err :
	    strerror((int)-n));
}

int
xmpp_io_wait(struct xmpp_conn *c, short events, uint64_t deadline)
{
	struct pollfd	pfd;
	uint64_t	now;
	int		rc, ms = -1;

	if (deadline != 0) {
		if ((now = mono_ms()) >= deadline)
			return -ETIMEDOUT;
		ms = deadline - now > INT32_MAX ? INT32_MAX :
		    (int)(deadline - now);
	}
	pfd.fd = c->fd;
	pfd.events = events;
	rc = poll(&pfd, 1, ms);
	if (rc == -1)
		return errno == EINTR ? 0 : -errno;
	return rc == 0 ? -ETIMEDOUT : 0;
}

uint32_t
xmpp_events(const struct xmpp_conn *c)
{
	uint32_t	ev;

	if (c->fd == -1)
		return 0;
	if (c->phase == XMPP_PH_TCP)
		return POLLOUT;
	if (c->phase == XMPP_PH_TLS)
		return c->tls_hs;
	ev = POLLIN | c->tls_rd;
	if (xmpp_out_pending(c) > 0)
		ev |= c->tls_wr ? c->tls_wr : POLLOUT;
	return ev;
}

/* ---------------------------------------------------- output queue */

size_t
xmpp_out_pending(const struct xmpp_conn *c)
{
	return c->out.len - c->out_off;
}

int
xmpp_queue(struct xmpp_conn *c, const void *buf, size_t len)
{
	size_t	pending = xmpp_out_pending(c);
	size_t	max = c->out_max ? c->out_max :
		    xmpp_outq_max(c->conf.max_stanza_size);

	if (pending > max || len > max - pending)
		return -ENOBUFS;
	/*
	 * Move the unwritten bytes to the front once the written ones are
	 * at least as many: each byte moves O(1) times on average.  A TLS
	 * write waiting for a retry allows that (xmpp_tls_begin()).
	 */
	if (c->out_off > 0 && c->out_off >= pending) {
		memmove(c->out.data, c->out.data + c->out_off, pending);
		if (c->out_secret)
			explicit_bzero(c->out.data + pending, c->out_off);
		c->out.len = pending;
		c->out.data[pending] = '\0';
		c->out_off = 0;
	}
	return pbuf_add(&c->out, buf, len);
}

int
xmpp_queues(struct xmpp_conn *c, const char *s)
{
	return xmpp_queue(c, s, strlen(s));
}

/* n more bytes of the queue were written. */
static void
outq_written(struct xmpp_conn *c, size_t n)
{
	c->out_off += n;
	if (c->out_off < c->out.len)
		return;
	if (c->out_secret)
		explicit_bzero(c->out.data, c->out.len);
	/* Credentials are queued only before "ready". */
	c->out_secret = !c->ready;
	pbuf_reset(&c->out);
	c->out_off = 0;
	if (c->out.cap > XMPP_OUTQ_KEEP)
		pbuf_free(&c->out);
}

int
xmpp_out_flush(struct xmpp_conn *c)
{
	ssize_t	n;

	if (c->fd == -1)
		return -ENOTCONN;
	while (xmpp_out_pending(c) > 0) {
		n = io_write(c, c->out.data + c->out_off, xmpp_out_pending(c));
		if (n > 0)
			outq_written(c, (size_t)n);
		else if (n == -EAGAIN)
			return -EAGAIN;
		else if (n != -EINTR)
			return write_failed(c, n);
	}
	return 0;
}

/*
 * Read once into the parser.  1 when bytes were fed (or the connection
 * failed: dead_rc is then set), 0 when nothing is there.
 */
static int
io_fill(struct xmpp_conn *c)
{
	char	buf[XMPP_READ_CHUNK];
	ssize_t	n;
	int	rc;

	for (;;) {
		n = io_read(c, buf, sizeof(buf));
		if (n > 0) {
			c->drained = !c->ssl && (size_t)n < sizeof(buf);
			if ((rc = stanza_feed(c->parser, buf, (size_t)n)) != 0)
				c->dead_rc = xmpp_fail(c, rc, "stream: %s",
				    stanza_error(c->parser));
			return 1;
		}
		if (n == 0) {
			c->dead_rc = xmpp_fail(c, -ENOTCONN,
			    "the server closed the connection");
			return 1;
		}
		if (n == -EINTR)
			continue;
		if (n == -EAGAIN)
			return 0;
		/* xmpp_tls_read() already said why for -EPROTO */
		c->dead_rc = xmpp_fail(c, -ENOTCONN, "read: %s",
		    c->ssl && n == -EPROTO ? c->err : strerror((int)-n));
		return 1;
	}
}

int
xmpp_next_event(struct xmpp_conn *c, struct stanza_event *ev)
{
	for (;;) {
		if (stanza_next(c->parser, ev) == 1)
			return 1;
		if (c->dead_rc != 0)
			return c->dead_rc;
		if (c->fd == -1)
			return -ENOTCONN;
		if (io_fill(c) == 0)
			return 0;
	}
}

/* ------------------------------------------------- receive and send */

/*
 * A stanza over max_stanza_size was dropped: tell its sender, the way
 * OpenSRF peers understand (spec 1.4: type="error" and a code).
 */
static void
refuse_toobig(struct xmpp_conn *c, const struct stanza_event *ev)
{
	struct tmsg	 m = TMSG_INIT;
	const char	*to;
	char		*xml = NULL;
	size_t		 len;
	int		 rc;

	to = ev->router_from && *ev->router_from ? ev->router_from : ev->from;
	log_warnx("xmpp: dropped a <%s> of %zu bytes from %s (max_stanza_size "
	    "%zu)", ev->name, ev->size, to ? to : "?",
	    c->conf.max_stanza_size);
	if (to == NULL || *to == '\0' || strcmp(ev->name, "message") != 0 ||
	    strcmp(ev->type_attr, "error") == 0)
		return;		/* never answer an error with an error */
	m.to = to;
	m.from = c->jid;
	m.thread = ev->thread;
	m.osrf_xid = ev->osrf_xid;
	m.is_error = 1;
	m.error_type = "modify";
	m.error_condition = "not-acceptable";
	m.error_code = 406;
	if ((rc = tmsg_xml_write(&m, &xml, &len)) != 0) {
		log_warnx("xmpp: cannot write the refusal: %s", strerror(-rc));
		return;
	}
	if (xmpp_send(c, xml, len) != 0)
		log_warnx("xmpp: cannot send the refusal to %s", to);
	free(xml);
}

/* Answer an iq request ourselves; the caller never sees it. */
static void
answer_iq(struct xmpp_conn *c, const struct xstanza *st)
{
	struct pbuf	b = { 0 };
	int		rc;

	if ((rc = xmpp_iq_reply(st, &b)) == 0)
		rc = xmpp_send(c, b.data, b.len);
	if (rc != 0)
		log_warnx("xmpp: cannot answer an iq: %s", strerror(-rc));
	pbuf_free(&b);
}

/*
 * The connection is gone: close the socket, keep the reason.  The bus
 * (bus.c) logs the loss for everyone, with this reason: debug here.
 */
static int
dead(struct xmpp_conn *c)
{
	if (c->fd != -1)
		log_debug("xmpp: connection of %s lost: %s",
		    c->jid ? c->jid : "?", c->err[0] ? c->err : "?");
	xmpp_drop(c);
	return -ENOTCONN;
}

int
xmpp_more(const struct xmpp_conn *c)
{
	return c->fd == -1 || c->dead_rc != 0 || c->ssl != NULL ||
	    !c->drained || stanza_queued(c->parser) > 0;
}

int
xmpp_recv(struct xmpp_conn *c, struct xstanza **out)
{
	struct stanza_event	ev;
	int			rc;

	*out = NULL;
	if (c->fd == -1 || !c->ready)
		return -ENOTCONN;
	/* Opportunistic: a caller that only polls for input still gets
	   its queue written. */
	if (xmpp_out_pending(c) > 0 && xmpp_out_flush(c) == -ENOTCONN)
		return dead(c);
	for (;;) {
		memset(&ev, 0, sizeof(ev));
		rc = xmpp_next_event(c, &ev);
		if (rc == 0)
			return 0;
		if (rc < 0)
			return dead(c);
		switch (ev.type) {
		case STANZA_EV_STANZA:
			if (strcmp(ev.name, "iq") == 0 &&
			    (strcmp(ev.type_attr, "get") == 0 ||
			    strcmp(ev.type_attr, "set") == 0)) {
				answer_iq(c, ev.stanza);
				break;
			}
			/* messages, presences, iq results and errors */
			*out = ev.stanza;
			ev.stanza = NULL;
			stanza_event_clear(&ev);
			return 1;
		case STANZA_EV_STREAM_ERROR:
			xmpp_fail(c, -ENOTCONN, "stream error from the server: "
			    "%s", ev.condition[0] ? ev.condition : "?");
			stanza_event_clear(&ev);
			return dead(c);
		case STANZA_EV_CLOSE:
			xmpp_fail(c, -ENOTCONN, "the server ended the stream");
			stanza_event_clear(&ev);
			return dead(c);
		case STANZA_EV_TOOBIG:
			refuse_toobig(c, &ev);
			break;
		default:
			break;		/* features after login, ... */
		}
		stanza_event_clear(&ev);
		if (c->fd == -1)
			return -ENOTCONN; /* an answer's send failed: dead */
	}
}

int
xmpp_send(struct xmpp_conn *c, const char *xml, size_t len)
{
	size_t	done = 0;
	ssize_t	n;
	int	rc;

	if (c->fd == -1 || !c->ready)
		return -ENOTCONN;
	if (xmpp_out_pending(c) > 0 && (rc = xmpp_out_flush(c)) != 0 &&
	    rc != -EAGAIN)
		return dead(c);
	/* Nothing queued: straight from the caller's buffer, no copy. */
	while (xmpp_out_pending(c) == 0 && done < len) {
		n = io_write(c, xml + done, len - done);
		if (n > 0)
			done += (size_t)n;
		else if (n == -EAGAIN)
			break;
		else if (n != -EINTR) {
			write_failed(c, n);
			return dead(c);
		}
	}
	if (done == len)
		return 0;
	if ((rc = xmpp_queue(c, xml + done, len - done)) == 0)
		return 0;
	if (rc == -ENOMEM && done == 0)
		return rc;	/* nothing of it went out: still in step */
	if (rc == -ENOBUFS)
		xmpp_fail(c, rc, "write: over %zu bytes queued: the server "
		    "reads nothing", c->out_max ? c->out_max :
		    xmpp_outq_max(c->conf.max_stanza_size));
	else
		xmpp_fail(c, rc, "write: out of memory");
	dead(c);
	return rc;
}

int
xmpp_flush(struct xmpp_conn *c)
{
	int	rc;

	if (c->fd == -1)
		return -ENOTCONN;
	if ((rc = xmpp_out_flush(c)) == -ENOTCONN)
		return dead(c);
	return rc;
}

/* Flush until empty or deadline (0: none); never closes. */
static int
flush_until(struct xmpp_conn *c, uint64_t deadline)
{
	int	rc;

	for (;;) {
		if ((rc = xmpp_out_flush(c)) != -EAGAIN)
			return rc;
		/* Only what the write needs: input waiting must not wake
		   us up in a loop. */
		if ((rc = xmpp_io_wait(c, c->tls_wr ? c->tls_wr : POLLOUT,
		    deadline)) != 0)
			return xmpp_fail(c, rc, "write: %s (%zu bytes queued)",
			    rc == -ETIMEDOUT ? "timed out" : strerror(-rc),
			    xmpp_out_pending(c));
	}
}

int
xmpp_flush_wait(struct xmpp_conn *c, int timeout_ms)
{
	int	rc;

	if (c->fd == -1)
		return -ENOTCONN;
	if (timeout_ms == 0)
		return xmpp_flush(c);
	rc = flush_until(c, timeout_ms < 0 ? 0 :
	    mono_ms() + (uint64_t)timeout_ms);
	if (rc == -ENOTCONN)
		return dead(c);
	return rc;
}

/*
 * After our </stream:stream>: read and discard until the server ends
 * its stream too (RFC 6120 4.4), or the connection ends, or deadline.
 * Closing a socket with unread input sends a reset instead of a FIN,
 * and a reset makes the server's kernel drop what the server has not
 * read yet: our last stanzas (a listener's unregistration, a drone's
 * last reply) and the logout.  Presences of the account's resources
 * arrive at any time, so there is often unread input.
 */
static void
await_stream_end(struct xmpp_conn *c, uint64_t deadline, xmpp_late_fn *late,
    void *arg)
{
	struct stanza_event	ev;
	int			rc;

	for (;;) {
		memset(&ev, 0, sizeof(ev));
		if ((rc = xmpp_next_event(c, &ev)) == 1) {
			if (late != NULL && ev.type == STANZA_EV_STANZA &&
			    strcmp(ev.name, "message") == 0) {
				late(arg, ev.stanza);
				ev.stanza = NULL;
			}
			rc = ev.type == STANZA_EV_CLOSE ||
			    ev.type == STANZA_EV_STREAM_ERROR;
			stanza_event_clear(&ev);
			if (rc)
				return;
			continue;
		}
		if (rc < 0 || xmpp_io_wait(c, POLLIN, deadline) != 0)
			return;
	}
}

void
xmpp_close(struct xmpp_conn *c)
{
	xmpp_close_late(c, NULL, NULL);
}

void
xmpp_close_late(struct xmpp_conn *c, xmpp_late_fn *late, void *arg)
{
	uint64_t	deadline;

	if (c->fd != -1 && c->owner != getpid()) {
		/* A forked child closing its copy: never log the parent out. */
		xmpp_forget_after_fork(c);
		return;
	}
	if (c->fd != -1 && c->ready) {
		/* Best effort: the socket goes away whatever happens. */
		deadline = mono_ms() + XMPP_CLOSE_TIMEOUT_MS;
		if (xmpp_queues(c, "</stream:stream>") != 0 ||
		    flush_until(c, deadline) != 0)
			log_debug("xmpp: logout not sent: %s", c->err);
		else
			await_stream_end(c, deadline, late, arg);
		xmpp_tls_close(c, 1);
	}
	xmpp_drop(c);
}

void
xmpp_forget_after_fork(struct xmpp_conn *c)
{
	/*
	 * The TLS state is shared with the parent: never shut it down.
	 * The queue is the parent's output: never write it from here.
	 */
	xmpp_drop(c);
}

void
xmpp_free(struct xmpp_conn **cp)
{
	struct xmpp_conn	*c = *cp;

	if (c == NULL)
		return;
	xmpp_close(c);
	stanza_parser_free(&c->parser);
	bus_conf_clear(&c->conf);
	free(c->resource);
	free(c->jid);
	free(c->mechs);
	free(c);
	*cp = NULL;
}
