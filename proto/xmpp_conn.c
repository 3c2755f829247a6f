/*
 * xmpp_conn.c: the XMPP connection object of xmpp.h: TCP connect,
 * socket I/O (plain or through xmpp_tls.c), the receive loop over the
 * stanza parser, sending.
 *
 * States: closed (fd -1) -> xmpp_open(): connected and logging in
 * (blocking, deadline) -> ready -> dead (fd closed by a failure, the
 * object keeps its config and can be opened again) or closed.
 */
#include "xmpp.h"
#include "xmpp_int.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "tmsg.h"

/*
 * How long xmpp_send() may block on a full socket buffer before it
 * calls the connection dead: a server that takes no bytes for this long
 * is as good as gone, and a listener must not hang forever.
 */
#define XMPP_SEND_TIMEOUT_MS	30000
/* Bytes per read(2): a typical OpenSRF request is ~1 KiB. */
#define XMPP_READ_CHUNK		16384
/* Closing: how long to try to write </stream:stream>. */
#define XMPP_CLOSE_TIMEOUT_MS	200

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

/* Drop the socket without a word to the server. */
static void
drop(struct xmpp_conn *c)
{
	xmpp_tls_close(c, 0);
	fd_close(&c->fd);
	c->ready = 0;
	c->dead_rc = 0;
	xstanza_free(&c->features);
}

static int
connect_one(struct xmpp_conn *c, const struct addrinfo *ai,
    uint64_t deadline)
{
	struct pollfd	pfd;
	socklen_t	slen;
	int		fd, one = 1, err = 0, rc;
	uint64_t	now;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd == -1)
		return -errno;
	/* Nagle + delayed ACK stalls a receive-mostly peer: performance.md. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		log_warn("setsockopt(TCP_NODELAY)");
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto done;
	if (errno != EINPROGRESS) {
		rc = -errno;
		close(fd);
		return rc;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	for (;;) {
		now = mono_ms();
		if (now >= deadline) {
			close(fd);
			return -ETIMEDOUT;
		}
		rc = poll(&pfd, 1, (int)(deadline - now));
		if (rc > 0)
			break;
		if (rc == -1 && errno != EINTR) {
			rc = -errno;
			close(fd);
			return rc;
		}
	}
	slen = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &slen) != 0)
		err = errno;
	if (err != 0) {
		close(fd);
		return -err;
	}
done:
	c->fd = fd;
	return 0;
}

static int
tcp_connect(struct xmpp_conn *c, uint64_t deadline)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*host = c->conf.host ? c->conf.host : c->conf.domain;
	char		 port[16];
	int		 rc, gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", c->conf.port);
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0)
		return xmpp_fail(c, -EHOSTUNREACH, "getaddrinfo(%s): %s",
		    host, gai_strerror(gai));
	rc = -EHOSTUNREACH;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if ((rc = connect_one(c, ai, deadline)) == 0 ||
		    rc == -ETIMEDOUT)
			break;
	freeaddrinfo(res);
	if (rc != 0)
		return xmpp_fail(c, rc, "connect(%s:%s): %s", host, port,
		    strerror(-rc));
	return 0;
}

int
xmpp_open(struct xmpp_conn *c, int timeout_ms)
{
	uint64_t	deadline;
	int		rc;

	if (c->fd != -1)
		xmpp_close(c);
	c->err[0] = '\0';
	c->auth_used[0] = '\0';
	free(c->jid);
	c->jid = NULL;
	if (c->conf.domain == NULL || c->conf.username == NULL ||
	    c->conf.password == NULL)
		return xmpp_fail(c, -EINVAL, "domain, username and password "
		    "are required");
	if (timeout_ms <= 0)
		timeout_ms = c->conf.connect_timeout_ms > 0 ?
		    c->conf.connect_timeout_ms : 10000;
	deadline = mono_ms() + (uint64_t)timeout_ms;
	if ((rc = stanza_reset(c->parser)) != 0)
		return xmpp_fail(c, rc, "stanza parser: out of memory");
	if ((rc = tcp_connect(c, deadline)) == 0 &&
	    (rc = xmpp_login(c, deadline)) != 0)
		drop(c);
	if (rc != 0) {
		log_warnx("xmpp: login as %s@%s on %s:%d failed: %s",
		    c->conf.username, c->conf.domain, c->conf.host ?
		    c->conf.host : c->conf.domain, c->conf.port, c->err);
		return rc;
	}
	c->ready = 1;
	c->owner = getpid();
	log_info("xmpp: logged in as %s (%s%s)", c->jid, c->auth_used,
	    c->ssl ? ", TLS" : "");
	return 0;
}

int
xmpp_fd(const struct xmpp_conn *c)
{
	return c->fd;
}

const char *
xmpp_jid(const struct xmpp_conn *c)
{
	return c->jid && c->ready ? c->jid : "";
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
	c->tls_want_write = 0;
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
	c->tls_want_write = 1;
	n = send(c->fd, buf, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

/* Wait for the socket the way the last operation asked; 0 or -errno. */
static int
io_wait(struct xmpp_conn *c, int for_write, uint64_t deadline)
{
	struct pollfd	pfd;
	uint64_t	now;
	int		rc;

	pfd.fd = c->fd;
	pfd.events = (for_write || c->tls_want_write) ? POLLOUT : POLLIN;
	now = mono_ms();
	if (now >= deadline)
		return -ETIMEDOUT;
	rc = poll(&pfd, 1, (int)(deadline - now));
	if (rc == -1)
		return errno == EINTR ? 0 : -errno;
	return rc == 0 ? -ETIMEDOUT : 0;
}

int
xmpp_io_write(struct xmpp_conn *c, const void *buf, size_t len,
    uint64_t deadline)
{
	const char	*p = buf;
	ssize_t		 n;
	int		 rc;

	if (c->fd == -1)
		return -ENOTCONN;
	while (len > 0) {
		n = io_write(c, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -EINTR)
			continue;
		if (n != -EAGAIN)
			return xmpp_fail(c, -ENOTCONN, "write: %s",
			    n == 0 ? "connection closed" :
			    c->ssl && n == -EPROTO ? c->err :
			    strerror((int)-n));
		if ((rc = io_wait(c, !c->ssl, deadline)) != 0)
			return xmpp_fail(c, rc, "write: %s", strerror(-rc));
	}
	return 0;
}

int
xmpp_io_writes(struct xmpp_conn *c, const char *s, uint64_t deadline)
{
	return xmpp_io_write(c, s, strlen(s), deadline);
}

/*
 * Read once into the parser.  1 when bytes were fed, 0 when nothing is
 * there (deadline 0) ; negative errno (sticky in dead_rc).
 */
static int
io_fill(struct xmpp_conn *c, uint64_t deadline)
{
	char	buf[XMPP_READ_CHUNK];
	ssize_t	n;
	int	rc;

	for (;;) {
		n = io_read(c, buf, sizeof(buf));
		if (n > 0) {
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
		if (n != -EAGAIN) {
			/* xmpp_tls_read() already said why for -EPROTO */
			c->dead_rc = xmpp_fail(c, -ENOTCONN, "read: %s",
			    c->ssl && n == -EPROTO ? c->err :
			    strerror((int)-n));
			return 1;
		}
		if (deadline == 0)
			return 0;
		if ((rc = io_wait(c, 0, deadline)) != 0)
			return rc;
	}
}

int
xmpp_next_event(struct xmpp_conn *c, struct stanza_event *ev,
    uint64_t deadline)
{
	int	rc;

	for (;;) {
		if (stanza_next(c->parser, ev) == 1)
			return 1;
		if (c->dead_rc != 0)
			return c->dead_rc;
		if (c->fd == -1)
			return -ENOTCONN;
		if ((rc = io_fill(c, deadline)) <= 0)
			return rc;
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

/* The connection is gone: close the socket, keep the reason. */
static int
dead(struct xmpp_conn *c)
{
	if (c->fd != -1)
		log_warnx("xmpp: connection of %s lost: %s",
		    c->jid ? c->jid : "?", c->err[0] ? c->err : "?");
	drop(c);
	return -ENOTCONN;
}

int
xmpp_recv(struct xmpp_conn *c, struct xstanza **out)
{
	struct stanza_event	ev;
	int			rc;

	*out = NULL;
	if (c->fd == -1 || !c->ready)
		return -ENOTCONN;
	for (;;) {
		memset(&ev, 0, sizeof(ev));
		rc = xmpp_next_event(c, &ev, 0);
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
			return dead(c);	/* the refusal's write failed */
	}
}

int
xmpp_send(struct xmpp_conn *c, const char *xml, size_t len)
{
	int	rc;

	if (c->fd == -1 || !c->ready)
		return -ENOTCONN;
	rc = xmpp_io_write(c, xml, len, mono_ms() + XMPP_SEND_TIMEOUT_MS);
	if (rc != 0) {
		dead(c);
		return rc == -ETIMEDOUT ? rc : -ENOTCONN;
	}
	return 0;
}

void
xmpp_close(struct xmpp_conn *c)
{
	if (c->fd != -1 && c->owner != getpid()) {
		/* A forked child closing its copy: never log the parent out. */
		xmpp_forget_after_fork(c);
		return;
	}
	if (c->fd != -1 && c->ready) {
		/* Best effort: the socket goes away whatever happens. */
		if (xmpp_io_writes(c, "</stream:stream>",
		    mono_ms() + XMPP_CLOSE_TIMEOUT_MS) != 0)
			log_debug("xmpp: logout not sent: %s", c->err);
		xmpp_tls_close(c, 1);
	}
	drop(c);
}

void
xmpp_forget_after_fork(struct xmpp_conn *c)
{
	/* The TLS state is shared with the parent: never shut it down. */
	xmpp_tls_close(c, 0);
	fd_close(&c->fd);
	c->ready = 0;
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

/* --------------------------------- non-blocking face (interim) */

/*
 * XXX issue 10: the resumable login and the output queue of the
 * xmpp-async branch replace these: until then a login blocks for up to
 * connect_timeout and a send until written, as before.
 */
int
xmpp_connect_start(struct xmpp_conn *c)
{
	return xmpp_open(c, c->conf.connect_timeout_ms);
}

int
xmpp_connect_step(struct xmpp_conn *c)
{
	return c->fd != -1 && c->ready ? 0 : -ENOTCONN;
}

uint32_t
xmpp_events(const struct xmpp_conn *c)
{
	return POLLIN;
}

int
xmpp_flush(struct xmpp_conn *c)
{
	return c->fd != -1 ? 0 : -ENOTCONN;
}
