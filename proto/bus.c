/*
 * bus.c: what every bus of bus.h does alike (see bus_int.h for the
 * division of labour with the backends).
 *
 * Layout: parameters and life; connecting and reconnecting; the loop
 * calls (watch, timeout, run, recv); blocking helpers; messages;
 * registration; the rescue answer; pure helpers.
 */
#include "bus_int.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"
#include "osrfmsg.h"

/*
 * Re-registration after a bounce: a router takes seconds to come up, so
 * the first retry waits 1 s, doubling to 30 s per router.
 */
#define BUS_REREG_MIN_MS	1000u
#define BUS_REREG_MAX_MS	30000u
/* Connect deadline when the configuration gives none (OpenSRF: 10 s). */
#define BUS_CONNECT_MS		10000
/* Reconnect cap when the configuration gives none. */
#define BUS_RECONNECT_MAX_MS	30000u
/* How long bus_free() may spend writing what is still queued. */
#define BUS_FREE_FLUSH_MS	200

static const struct bus_ops *
ops_for(enum bus_kind k)
{
	switch (k) {
	case BUS_XMPP:
		return &bus_xmpp_ops;
	case BUS_REDIS:
		return &bus_redis_ops;
	case BUS_LOCAL:
		return &bus_local_ops;
	default:
		return NULL;
	}
}

const char *
bus_kind_name(enum bus_kind k)
{
	switch (k) {
	case BUS_XMPP:
		return "xmpp";
	case BUS_REDIS:
		return "redis";
	case BUS_LOCAL:
		return "local";
	default:
		return "?";
	}
}

int
bus_fail(struct bus *b, int rc, const char *fmt, ...)
{
	char	buf[BUS_ERR_LEN];
	va_list	ap;

	/* through buf: the arguments may include b->err itself */
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);	/* truncation ok */
	va_end(ap);
	str_copy(b->err, buf, sizeof(b->err));
	return rc;
}

uint32_t
bus_rand(struct bus *b)
{
	/* xorshift32: jitter and inbox tokens need spread, not secrecy */
	b->rnd ^= b->rnd << 13;
	b->rnd ^= b->rnd >> 17;
	b->rnd ^= b->rnd << 5;
	return b->rnd;
}

/* ------------------------------------------------------------ life */

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
copy_routers(struct bus *b, const struct reg_target *t, size_t n)
{
	size_t	i, j;

	if (n == 0)
		return;
	b->routers = xcalloc(n, sizeof(*b->routers));
	b->reg = xcalloc(n, sizeof(*b->reg));
	for (i = 0; i < n; i++) {
		b->routers[i].name = dup_or_null(t[i].name);
		b->routers[i].domain = dup_or_null(t[i].domain);
		b->routers[i].nservices = t[i].nservices;
		if (t[i].nservices == 0)
			continue;
		b->routers[i].services = xcalloc(t[i].nservices + 1,
		    sizeof(char *));
		for (j = 0; j < t[i].nservices; j++)
			b->routers[i].services[j] = xstrdup(t[i].services[j]);
	}
	b->p.routers = b->routers;
	b->p.nrouters = n;
}

static void
free_params(struct bus *b)
{
	size_t	i;

	for (i = 0; i < b->p.nrouters; i++) {
		free(b->routers[i].name);
		free(b->routers[i].domain);
		cfg_strv_free(&b->routers[i].services);
	}
	free(b->routers);
	free(b->reg);
	free((char *)b->p.local_dir);
	free((char *)b->p.service);
	free((char *)b->p.instance);
	free((char *)b->p.resource);
	free((char *)b->p.router_name);
	bus_conf_clear(&b->conf);
}

int
bus_new(const struct bus_params *p, struct bus **out)
{
	*out = NULL;
	if (ops_for(p->kind) == NULL ||
	    (p->kind == BUS_LOCAL && p->local_dir == NULL) ||
	    (p->kind != BUS_LOCAL && p->conf == NULL)) {
		log_warnx("bus: incomplete parameters for a %s bus",
		    bus_kind_name(p->kind));
		return -EINVAL;
	}
	return bus_new_ops(ops_for(p->kind), p, out);
}

int
bus_new_ops(const struct bus_ops *ops, const struct bus_params *p,
    struct bus **out)
{
	struct bus	*b;
	int		 rc;

	*out = NULL;
	if ((p->role == BUS_ROLE_LISTENER || p->role == BUS_ROLE_DRONE) &&
	    (p->service == NULL || *p->service == '\0')) {
		log_warnx("bus: a %s bus for no service", ops->name);
		return -EINVAL;
	}
	b = xcalloc(1, sizeof(*b));
	b->ops = ops;
	b->p = *p;
	b->p.local_dir = dup_or_null(p->local_dir);
	b->p.service = dup_or_null(p->service);
	b->p.instance = p->instance != NULL && *p->instance != '\0' ?
	    xstrdup(p->instance) : NULL;
	b->p.resource = dup_or_null(p->resource);
	b->p.router_name = xstrdup(p->router_name != NULL ?
	    p->router_name : "router");
	b->p.routers = NULL;
	b->p.nrouters = 0;
	if (p->conf != NULL && bus_conf_copy(&b->conf, p->conf) != 0)
		fatalx("out of memory for the bus configuration");
	b->p.conf = p->conf != NULL ? &b->conf : NULL;
	if (p->role == BUS_ROLE_LISTENER)
		copy_routers(b, p->routers, p->nrouters);
	b->watch_epfd = b->watch_fd = -1;
	b->rnd = (uint32_t)getpid() * 2654435761u ^ (uint32_t)mono_us() ^
	    (uint32_t)(uintptr_t)b;
	if (b->rnd == 0)
		b->rnd = 1;
	if ((rc = b->ops->init(b)) < 0) {
		free_params(b);
		free(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* Leave the caller's epoll set before the descriptor goes away. */
static void
unwatch(struct bus *b)
{
	if (b->watch_epfd >= 0 && b->watch_fd >= 0)
		(void)epoll_ctl(b->watch_epfd, EPOLL_CTL_DEL, b->watch_fd,
		    NULL);	/* ENOENT/EBADF: gone already */
	b->watch_fd = -1;
	b->watch_events = 0;
}

void
bus_free(struct bus **bp)
{
	bus_free_late(bp, NULL, NULL);
}

void
bus_free_late(struct bus **bp, bus_late_fn *late, void *arg)
{
	struct bus	*b = *bp;

	if (b == NULL)
		return;
	if (b->state == BUS_UP && b->ops->flush != NULL &&
	    bus_flush(b, BUS_FREE_FLUSH_MS) < 0)
		log_debug("bus: %s: closing with output unsent",
		    b->ops->name);
	unwatch(b);
	if (late != NULL && b->state == BUS_UP && b->ops->logout != NULL)
		b->ops->logout(b, late, arg);
	b->ops->destroy(b, 1);
	pbuf_free(&b->scratch);
	free_params(b);
	free(b);
	*bp = NULL;
}

void
bus_forget(struct bus **bp)
{
	struct bus	*b = *bp;

	if (b == NULL)
		return;
	/* the epoll set is the parent's too: never touch it from here */
	b->ops->destroy(b, 0);
	pbuf_free(&b->scratch);
	free_params(b);
	free(b);
	*bp = NULL;
}

enum bus_state
bus_state(const struct bus *b)
{
	return b->state;
}

enum bus_kind
bus_kind(const struct bus *b)
{
	return b->p.kind;
}

const char *
bus_addr(const struct bus *b)
{
	return b->ops->addr(b);
}

/*
 * Two JIDs are one address when their bare parts (localpart@domainpart)
 * match without regard to ASCII case, as XMPP's profiles map them (RFC
 * 7622, 3.2 and 3.3), and their resources match exactly (3.4 keeps the
 * case).  Other characters are compared as bytes.
 */
static int
jid_same(const char *a, const char *b)
{
	size_t	na = strcspn(a, "/"), nb = strcspn(b, "/");

	return na == nb && strncasecmp(a, b, na) == 0 &&
	    strcmp(a + na, b + nb) == 0;
}

int
bus_addr_same(enum bus_kind k, const char *a, const char *b)
{
	if (k == BUS_REDIS)
		return strcmp(a, b) == 0;	/* list keys: bytes */
	return jid_same(a, b);
}

int
bus_addr_mine(const struct bus *b, const char *addr)
{
	const char	*own = bus_addr(b);

	if (own == NULL || *own == '\0')
		return 1;	/* not known yet: nothing to tell apart */
	return addr != NULL && bus_addr_same(b->p.kind, own, addr);
}

const char *
bus_error(const struct bus *b)
{
	return b->err;
}

/* ------------------------------------------------- (re)connecting */

static unsigned
reconnect_cap(const struct bus *b)
{
	return b->conf.reconnect_max_ms > 0 ?
	    (unsigned)b->conf.reconnect_max_ms : BUS_RECONNECT_MAX_MS;
}

static void
schedule_retry(struct bus *b)
{
	unsigned	ms;

	if (!b->p.reconnect)
		return;
	ms = bus_backoff_ms(b->attempt++, reconnect_cap(b), bus_rand(b));
	b->retry_ms = mono_ms() + ms;
	log_info("bus: %s: next attempt in %u ms", b->ops->name, ms);
}

static int reg_round(struct bus *, int on);

/*
 * The next refresh of the registrations: a registered listener tells its
 * routers again every half to all of bus_conf.register_refresh_ms (the
 * jitter keeps a site's listeners apart; 0: never).  Routers keep
 * registrations in memory only (spec 2.2) and take a repeated one as a
 * no-op, so a router that restarted, or dropped the listener after a
 * bounce while the listener's own connection stayed up, knows it again
 * within that time, where it would otherwise wait for a SIGUSR2.  One
 * small stanza per service and router every few seconds costs a router
 * nothing.
 */
static void
refresh_later(struct bus *b)
{
	unsigned	p = b->conf.register_refresh_ms > 0 ?
			    (unsigned)b->conf.register_refresh_ms : 0;

	b->refresh_ms = p == 0 ? 0 : mono_ms() + p / 2 +
	    bus_rand(b) % (p - p / 2 + 1);
}

/* The connection is there. */
static void
came_up(struct bus *b)
{
	size_t	i;

	b->state = BUS_UP;
	b->attempt = 0;
	b->retry_ms = 0;
	b->deadline_ms = 0;
	b->err[0] = '\0';
	b->ev |= BUS_EV_UP;
	str_copy(b->up_addr, bus_addr(b), sizeof(b->up_addr));
	log_info("bus: %s: up as %s", b->ops->name, b->up_addr);
	for (i = 0; i < b->p.nrouters; i++)
		b->reg[i].bounces = 0;
	if (b->want_reg) {
		(void)reg_round(b, 1);	/* each failure logged */
		refresh_later(b);
	}
}

/* An attempt failed, or the connection was lost: close and retry. */
static void
went_down(struct bus *b, int rc, int was_up)
{
	unwatch(b);
	b->ops->drop(b);
	b->state = BUS_DOWN;
	b->deadline_ms = 0;
	b->last_rc = rc;
	if (was_up) {
		b->ev |= BUS_EV_DOWN;
		log_warnx("bus: %s: connection of %s lost: %s", b->ops->name,
		    b->up_addr, b->err[0] != '\0' ? b->err : strerror(-rc));
	} else {
		b->ev |= BUS_EV_FAILED;
		log_warnx("bus: %s: cannot connect: %s", b->ops->name,
		    b->err[0] != '\0' ? b->err : strerror(-rc));
	}
	schedule_retry(b);
}

/* Act on what connect() or step() returned. */
static int
connecting(struct bus *b, int rc)
{
	if (rc == 0)
		came_up(b);
	else if (rc != -EINPROGRESS)
		went_down(b, rc, 0);
	return rc == -EINPROGRESS ? 0 : rc;
}

int
bus_start(struct bus *b)
{
	int	ms;

	if (b->state != BUS_DOWN)
		return 0;
	b->err[0] = '\0';
	b->retry_ms = 0;
	ms = b->conf.connect_timeout_ms > 0 ? b->conf.connect_timeout_ms :
	    BUS_CONNECT_MS;
	b->deadline_ms = mono_ms() + (uint64_t)ms;
	b->state = BUS_CONNECTING;
	return connecting(b, b->ops->connect(b));
}

/* ------------------------------------------------------------ loop */

int
bus_fd(const struct bus *b)
{
	return b->state == BUS_DOWN ? -1 : b->ops->fd(b);
}

uint32_t
bus_events(const struct bus *b)
{
	return b->state == BUS_DOWN ? 0 : b->ops->events(b);
}

int
bus_watch(struct bus *b, int epfd, uint64_t tag)
{
	struct epoll_event	ev;
	int			fd = bus_fd(b), op;
	uint32_t		want = fd >= 0 ? bus_events(b) : 0;

	if (b->watch_epfd != epfd || b->watch_tag != tag ||
	    b->watch_fd != fd) {
		unwatch(b);
		b->watch_epfd = epfd;
		b->watch_tag = tag;
		if (fd < 0)
			return 0;
		op = EPOLL_CTL_ADD;
	} else if (fd < 0 || want == b->watch_events)
		return 0;
	else
		op = EPOLL_CTL_MOD;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.u64 = tag;
	if (epoll_ctl(epfd, op, fd, &ev) == -1) {
		log_warn("bus: epoll_ctl(%d) on the %s bus", fd,
		    b->ops->name);
		return -errno;
	}
	b->watch_fd = fd;
	b->watch_events = want;
	return 0;
}

static int
min_due(int cur, uint64_t due, uint64_t now)
{
	int	ms;

	if (due == 0)
		return cur;
	ms = due <= now ? 0 : (int)(due - now);
	return cur < 0 || ms < cur ? ms : cur;
}

int
bus_timeout_ms(const struct bus *b, uint64_t now)
{
	int	t = -1, bt;
	size_t	i;

	if (b->state == BUS_DOWN)
		t = min_due(t, b->retry_ms, now);
	else if (b->state == BUS_CONNECTING)
		t = min_due(t, b->deadline_ms, now);
	else {
		for (i = 0; i < b->p.nrouters; i++)
			t = min_due(t, b->reg[i].due_ms, now);
		if (b->want_reg)
			t = min_due(t, b->refresh_ms, now);
	}
	if (b->state != BUS_DOWN && b->ops->timeout_ms != NULL &&
	    (bt = b->ops->timeout_ms(b, now)) >= 0 && (t < 0 || bt < t))
		t = bt;
	return t;
}

/* Re-send registrations whose back-off ran out. */
static void
reg_due(struct bus *b, uint64_t now)
{
	size_t	i;
	int	rc;

	for (i = 0; i < b->p.nrouters; i++) {
		if (b->reg[i].due_ms == 0 || now < b->reg[i].due_ms)
			continue;
		b->reg[i].due_ms = 0;
		if (!b->want_reg)
			continue;
		if ((rc = b->ops->reg_send(b, &b->routers[i], 1)) < 0)
			log_warnx("bus: registering %s with %s@%s: %s",
			    b->p.service, b->routers[i].name,
			    b->routers[i].domain, strerror(-rc));
	}
}

/*
 * Tell every router that wants the service again (refresh_later()),
 * quietly: only failures are logged.  A router whose bounce retry is
 * pending gets that retry instead.
 */
static void
reg_refresh(struct bus *b, uint64_t now)
{
	size_t	i;
	int	rc;

	if (!b->want_reg || b->refresh_ms == 0 || now < b->refresh_ms)
		return;
	refresh_later(b);
	for (i = 0; i < b->p.nrouters && b->state == BUS_UP; i++) {
		if (b->reg[i].due_ms != 0 ||
		    !reg_target_wants(&b->routers[i], b->p.service))
			continue;
		if ((rc = b->ops->reg_send(b, &b->routers[i], 1)) < 0) {
			log_warnx("bus: registering %s with %s@%s again: %s",
			    b->p.service, b->routers[i].name,
			    b->routers[i].domain, strerror(-rc));
			if (rc == -ENOTCONN)
				went_down(b, rc, 1);
		}
	}
}

/* bus_run()'s work; the events stay for the owner's bus_run(). */
static void
run_due(struct bus *b)
{
	uint64_t	now = mono_ms();
	int		rc;

	switch (b->state) {
	case BUS_DOWN:
		if (b->retry_ms != 0 && now >= b->retry_ms)
			(void)bus_start(b);	/* failures logged there */
		break;
	case BUS_CONNECTING:
		if (now >= b->deadline_ms) {
			(void)bus_fail(b, -ETIMEDOUT, "no login within %d ms",
			    b->conf.connect_timeout_ms > 0 ?
			    b->conf.connect_timeout_ms : BUS_CONNECT_MS);
			went_down(b, -ETIMEDOUT, 0);
		} else
			(void)connecting(b, b->ops->step(b));
		break;
	case BUS_UP:
		if (b->ops->flush != NULL &&
		    (rc = b->ops->flush(b)) < 0 && rc != -EAGAIN) {
			went_down(b, rc, 1);
			break;
		}
		if (b->p.nrouters > 0) {
			reg_due(b, now);
			reg_refresh(b, now);
		}
		if (b->ops->tick != NULL)
			b->ops->tick(b);
		break;
	}
}

int
bus_run(struct bus *b)
{
	unsigned	ev;

	run_due(b);
	ev = b->ev;
	b->ev = 0;
	return (int)ev;
}

int
bus_recv(struct bus *b, struct bus_frame **out)
{
	int	rc;

	*out = NULL;
	if (b->state != BUS_UP)
		return b->state == BUS_CONNECTING ? 0 : -ENOTCONN;
	if ((rc = b->ops->recv(b, out)) >= 0)
		return rc;
	went_down(b, rc, 1);
	return -ENOTCONN;
}

int
bus_more(const struct bus *b)
{
	return b->state != BUS_UP || b->ops->more == NULL || b->ops->more(b);
}

void
bus_frame_free(struct bus_frame **fp)
{
	if (*fp == NULL)
		return;
	free((*fp)->raw);
	free(*fp);
	*fp = NULL;
}

struct bus_frame *
bus_frame_wrap(char *raw, size_t len, unsigned flags)
{
	struct bus_frame	*f;

	if ((f = malloc(sizeof(*f))) == NULL) {
		free(raw);
		return NULL;
	}
	f->raw = raw;
	f->len = len;
	f->flags = flags;
	f->rx_us = mono_us();
	f->sender[0] = '\0';
	return f;
}

/*
 * The value of attribute `name` in the tag [p, end): copied into out
 * (cut to outsz), 1 when found.  Attribute names are matched after a
 * blank so that "router_from" is not taken for "from".
 */
static int
attr(const char *p, const char *end, const char *name, char *out,
    size_t outsz)
{
	size_t		 n = strlen(name);
	const char	*v, *q;
	char		 quote;

	for (; p + n + 2 < end; p++) {
		if ((*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') ||
		    strncmp(p + 1, name, n) != 0 || p[n + 1] != '=')
			continue;
		v = p + n + 2;
		if (v >= end || (*v != '"' && *v != '\''))
			continue;
		quote = *v++;
		if ((q = memchr(v, quote, (size_t)(end - v))) == NULL)
			return 0;
		n = (size_t)(q - v) < outsz ? (size_t)(q - v) : outsz - 1;
		memcpy(out, v, n);
		out[n] = '\0';
		return 1;
	}
	return 0;
}

void
bus_frame_peek_xml(struct bus_frame *f)
{
	const char	*end = f->raw + f->len, *tag, *gt;
	char		 rf[BUS_SENDER_MAX];

	if ((tag = memchr(f->raw, '<', f->len)) == NULL ||
	    (gt = memchr(tag, '>', (size_t)(end - tag))) == NULL)
		return;
	(void)attr(tag, gt, "from", f->sender, sizeof(f->sender));
	if ((tag = memmem(gt, (size_t)(end - gt), "<opensrf", 8)) != NULL &&
	    (gt = memchr(tag, '>', (size_t)(end - tag))) != NULL &&
	    attr(tag, gt, "router_from", rf, sizeof(rf)) && rf[0] != '\0')
		str_copy(f->sender, rf, sizeof(f->sender));
	if (!(f->flags & BUS_F_ERROR) &&
	    (memmem(f->raw, f->len, "\"type\":\"CONNECT\"", 16) != NULL ||
	    memmem(f->raw, f->len, "&quot;type&quot;:&quot;CONNECT&quot;",
	    36) != NULL))
		f->flags |= BUS_F_CONNECT;
}

void
bus_frame_peek_json(struct bus_frame *f)
{
	const char	*v, *q, *end = f->raw + f->len;
	size_t		 n;

	/* addresses carry no escapes: the value ends at the next quote */
	if ((v = memmem(f->raw, f->len, "\"from\":\"", 8)) != NULL &&
	    (q = memchr(v + 8, '"', (size_t)(end - v - 8))) != NULL) {
		n = (size_t)(q - v - 8) < sizeof(f->sender) ?
		    (size_t)(q - v - 8) : sizeof(f->sender) - 1;
		memcpy(f->sender, v + 8, n);
		f->sender[n] = '\0';
	}
	if (memmem(f->raw, f->len, "\"type\":\"CONNECT\"", 16) != NULL)
		f->flags |= BUS_F_CONNECT;
}

/* ------------------------------------------------------- blocking */

/* poll() the bus for what it waits for, at most ms (-1: no limit). */
static int
poll_bus(struct bus *b, int ms)
{
	struct pollfd	pfd;
	int		t, rc;

	t = bus_timeout_ms(b, mono_ms());
	if (t >= 0 && (ms < 0 || t < ms))
		ms = t;
	pfd.fd = bus_fd(b);
	pfd.events = (short)bus_events(b);	/* EPOLLIN/OUT == POLLIN/OUT */
	pfd.revents = 0;
	if (pfd.fd < 0) {
		if (ms < 0)
			return -ENOTCONN;	/* nothing will ever happen */
		rc = poll(NULL, 0, ms);
	} else
		rc = poll(&pfd, 1, ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	return rc;
}

int
bus_open(struct bus *b, int timeout_ms)
{
	uint64_t	deadline = mono_ms() + (uint64_t)timeout_ms, now;
	int		rc;

	if ((rc = bus_start(b)) < 0 && !b->p.reconnect)
		return rc;
	for (;;) {
		if (b->state == BUS_UP)
			return 0;
		if (b->state == BUS_DOWN && b->retry_ms == 0)
			return b->last_rc < 0 ? b->last_rc : -ENOTCONN;
		if ((now = mono_ms()) >= deadline)
			return -ETIMEDOUT;
		if ((rc = poll_bus(b, (int)(deadline - now))) < 0)
			return rc;
		run_due(b);
	}
}

int
bus_wait(struct bus *b, int timeout_ms)
{
	int	rc;

	if ((rc = poll_bus(b, timeout_ms)) < 0)
		return rc;
	run_due(b);
	return rc > 0;
}

int
bus_flush(struct bus *b, int timeout_ms)
{
	struct pollfd	pfd;
	uint64_t	deadline = mono_ms() + (uint64_t)timeout_ms, now;
	int		rc;

	if (b->ops->flush == NULL)
		return 0;
	for (;;) {
		if (b->state != BUS_UP)
			return -ENOTCONN;
		if ((rc = b->ops->flush(b)) == 0)
			return 0;
		if (rc != -EAGAIN) {
			went_down(b, rc, 1);
			return -ENOTCONN;
		}
		if ((now = mono_ms()) >= deadline)
			return -ETIMEDOUT;
		pfd.fd = b->ops->fd(b);
		pfd.events = (short)b->ops->events(b);
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 &&
		    errno != EINTR)
			return -errno;
	}
}

/* ------------------------------------------------------- messages */

int
bus_decode(const struct bus *b, const char *raw, size_t len,
    struct tmsg *out, struct proto_err *err)
{
	return b->ops->decode(b, raw, len, out, err);
}

int
bus_send_to(struct bus *b, const char *dest, const struct tmsg *m)
{
	int	rc;

	if (b->state != BUS_UP)
		return -ENOTCONN;
	if ((rc = b->ops->send(b, dest, m)) == -ENOTCONN)
		went_down(b, rc, 1);
	return rc;
}

int
bus_send(struct bus *b, const struct tmsg *m)
{
	return bus_send_to(b, NULL, m);
}

void
bus_cork(struct bus *b)
{
	if (b->ops->cork != NULL && b->state == BUS_UP)
		(void)b->ops->cork(b, 1);	/* holding cannot fail */
}

int
bus_uncork(struct bus *b)
{
	int	rc;

	if (b->ops->cork == NULL || b->state != BUS_UP)
		return b->state == BUS_UP ? 0 : -ENOTCONN;
	if ((rc = b->ops->cork(b, 0)) < 0 && rc != -ENOMEM)
		went_down(b, rc, 1);
	return rc;
}

int
bus_service_addr(const struct bus *b, const char *service, char *buf,
    size_t bufsz)
{
	return b->ops->service_addr(b, service, buf, bufsz);
}

/* --------------------------------------------------- registration */

/*
 * Tell every router that wants the service; the number told.  A send
 * that finds the connection dead ends the round: everything is sent
 * again once the bus is back.
 */
static int
reg_round(struct bus *b, int on)
{
	size_t	i;
	int	rc, n = 0;

	for (i = 0; i < b->p.nrouters && b->state == BUS_UP; i++) {
		b->reg[i].due_ms = 0;
		if (!reg_target_wants(&b->routers[i], b->p.service))
			continue;
		if ((rc = b->ops->reg_send(b, &b->routers[i], on)) == 0) {
			n++;
			continue;
		}
		log_warnx("bus: %sregistering %s with %s@%s: %s",
		    on ? "" : "un", b->p.service, b->routers[i].name,
		    b->routers[i].domain, strerror(-rc));
		if (rc == -ENOTCONN)
			went_down(b, rc, 1);
	}
	log_info("bus: %s %s with %d router%s", on ? "registered" :
	    "unregistered", b->p.service, n, n == 1 ? "" : "s");
	return n;
}

int
bus_register(struct bus *b, int on)
{
	size_t	i;

	if (b->ops->reg_send == NULL)
		return -ENOTSUP;
	b->want_reg = on;
	b->refresh_ms = 0;
	for (i = 0; i < b->p.nrouters; i++)
		b->reg[i].bounces = 0;
	if (b->state != BUS_UP)
		return 0;	/* sent when it comes up, if still wanted */
	if (on)
		refresh_later(b);
	return reg_round(b, on);
}

void
bus_reg_bounced(struct bus *b, size_t i)
{
	unsigned	ms;

	if (i >= b->p.nrouters || !b->want_reg)
		return;
	if (b->reg[i].due_ms != 0)
		return;		/* one bounce per attempt: one retry */
	ms = BUS_REREG_MIN_MS << (b->reg[i].bounces < 5 ?
	    b->reg[i].bounces : 5);
	if (ms > BUS_REREG_MAX_MS)
		ms = BUS_REREG_MAX_MS;
	b->reg[i].bounces++;
	b->reg[i].due_ms = mono_ms() + ms;
	log_warnx("bus: registration with %s@%s bounced (router not "
	    "online?); registering there again in %u ms", b->routers[i].name,
	    b->routers[i].domain, ms);
}

/* --------------------------------------------------------- queues */

void
bus_take(struct bus *b, unsigned n)
{
	if (b->ops->take != NULL)
		b->ops->take(b, n);
}

void
bus_set_queue_max(struct bus *b, unsigned n)
{
	if (b->ops->set_queue_max != NULL)
		b->ops->set_queue_max(b, n);
}

int
bus_queue_info(const struct bus *b, struct bus_queue_info *qi)
{
	if (b->ops->queue_info == NULL)
		return -ENOTSUP;
	return b->ops->queue_info(b, qi);
}

int
bus_ping(struct bus *b, const char *to, uint32_t id)
{
	int	rc;

	if (b->ops->ping == NULL)
		return -ENOTSUP;
	if (b->state != BUS_UP)
		return -ENOTCONN;
	if ((rc = b->ops->ping(b, to, id)) == -ENOTCONN)
		went_down(b, rc, 1);
	return rc;
}

int
bus_pong_id(const struct bus_frame *f, uint32_t *id)
{
	const char	*p;
	char		*end;
	unsigned long	 v;

	if (!(f->flags & BUS_F_PONG) ||
	    (p = strstr(f->raw, BUS_PING_ID)) == NULL)
		return -EINVAL;
	p += sizeof(BUS_PING_ID) - 1;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (errno != 0 || v > UINT32_MAX || (*end != '"' && *end != '\''))
		return -EINVAL;
	*id = (uint32_t)v;
	return 0;
}

void
bus_reaped(struct bus *b, pid_t pid, const char *addr)
{
	if (b->ops->reaped != NULL)
		b->ops->reaped(b, pid, addr);
}

/* --------------------------------------------------------- rescue */

/*
 * Does rs show a request of req's session that req does not hold (the
 * child was serving a later request of a connected session)?
 */
static int
rescue_is_later(const struct tmsg *t, const struct bus_rescue *rs)
{
	struct osrfmsg_list	l = OSRFMSG_LIST_INIT;
	size_t			i;
	int			later = 1;

	if (rs == NULL || rs->thread == NULL || rs->thread[0] == '\0' ||
	    strcmp(rs->thread, t->thread) != 0)
		return 0;
	if (osrfmsg_decode(t->body, strlen(t->body), &l, NULL) == 0)
		for (i = 0; i < l.n; i++)
			if (l.msg[i].thread_trace == rs->trace)
				later = 0;
	osrfmsg_list_clear(&l);
	return later;
}

int
bus_answer(struct bus *b, const struct bus_frame *req,
    const struct bus_rescue *rs, int code, const char *text)
{
	struct tmsg		 t = TMSG_INIT, r = TMSG_INIT;
	struct proto_err	 err;
	struct osrfmsg		 one, rq;
	struct pbuf		 body = { 0 };
	int			 rc;

	if (req != NULL) {
		if ((rc = bus_decode(b, req->raw, req->len, &t, &err)) < 0) {
			log_warnx("bus: cannot answer a request (%s): %.200s",
			    err.reason, req->raw);
			return rc;
		}
		r.to = tmsg_reply_to(&t);
		r.thread = t.thread;
		r.osrf_xid = t.osrf_xid;
	} else if (rs != NULL && rs->client != NULL && rs->client[0] != '\0') {
		r.to = rs->client;
		r.thread = rs->thread;
		r.osrf_xid = rs->xid;
	} else {
		log_warnx("bus: a request was lost with its child: nothing "
		    "recorded to answer it with");
		return -ENOENT;
	}
	if (r.to == NULL || *r.to == '\0') {
		log_warnx("bus: cannot answer a request: it has no sender");
		rc = -EINVAL;
		goto out;
	}
	if (req == NULL || rescue_is_later(&t, rs)) {
		memset(&rq, 0, sizeof(rq));
		rq.thread_trace = rs->trace;
		osrfmsg_make_exception(&one, &rq, code, text != NULL ? text :
		    OSRFMSG_T_UNAVAILABLE);
		rc = osrfmsg_encode(&one, 1, &body, NULL);
	} else
		rc = osrfmsg_error_body(t.body, strlen(t.body), code, text,
		    &body);
	if (rc < 0) {
		log_warnx("bus: cannot build the status %d for %s: %s", code,
		    r.to, strerror(-rc));
		goto out;
	}
	r.body = body.data;
	if ((rc = bus_send(b, &r)) < 0)
		log_warnx("bus: sending status %d to %s: %s", code, r.to,
		    strerror(-rc));
	else
		log_info("answered %s (thread %s) with status %d: %s", r.to,
		    r.thread != NULL ? r.thread : "", code,
		    text != NULL ? text : OSRFMSG_T_UNAVAILABLE);
out:
	pbuf_free(&body);
	tmsg_clear(&t);
	return rc;
}

/* ------------------------------------------------------ pure helpers */

unsigned
bus_backoff_ms(unsigned attempt, unsigned cap_ms, uint32_t rnd)
{
	unsigned	d = BUS_BACKOFF_BASE_MS;

	/* double without overflowing: 2^30 is past any cap */
	while (attempt-- > 0 && d < cap_ms && d < (1u << 30))
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	if (d < 2)
		return d;
	return d / 2 + rnd % (d - d / 2 + 1);
}

void
bus_params_core(struct bus_params *p, const struct core_conf *core,
    enum bus_role role, const char *service)
{
	memset(p, 0, sizeof(*p));
	p->kind = core->bus.kind;
	p->conf = &core->bus;
	p->role = role;
	p->service = service;
	p->router_name = core->router_name;
	p->routers = core->routers;
	p->nrouters = core->nrouters;
	p->reconnect = role != BUS_ROLE_CLIENT;
}
