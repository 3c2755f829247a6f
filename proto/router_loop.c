/*
 * router_loop.c: drover-router's event loop (see router_loop.h).
 *
 * Layout: connections (struct rconn): opening, pacing, losing; the io
 * callbacks router.c calls (forward, reject, class open/close); stanza
 * dispatch; the status file; the loop itself.
 *
 * One thread.  Every connection's bus is non-blocking from bus_start()
 * on; the loop watches each with bus_watch() under its rconn's address,
 * runs it with bus_run() when its descriptor is ready or its timer due
 * (a login step, a connect deadline), and reads it when it was readable
 * or has just come up (bus.h: a login may bring messages).
 */
#include "router_loop.h"

#include <sys/epoll.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "log.h"
#include "pbuf.h"
#include "router.h"
#include "osrfmsg.h"
#include "router_api.h"
#include "router_bridge.h"
#include "bus.h"
#include "tmsg.h"

/* epoll_wait batch; events of one batch are handled before reaping. */
#define RL_EVENTS		64
/* Reconnect delay cap when the entry sets none (bus_backoff_ms()). */
#define RL_BACKOFF_MAX_MS	30000
/* The status file is rewritten at most this often. */
#define RL_STATUS_PERIOD_MS	1000
/* Listener pings' timers run at most this often (a bound's slack). */
#define RL_LIVE_PERIOD_MS	100

enum rconn_state { RC_DOWN, RC_OPENING, RC_UP };

struct rinst;

struct rconn {
	struct rinst		*ri;
	struct router_class	*cls;		/* NULL: the top-level one */
	char			*jid;		/* name@domain/resource */
	char			*resource;
	struct bus		*t;
	enum rconn_state	 state;
	uint64_t		 retry_at;	/* mono ms, when DOWN */
	unsigned		 attempt;	/* failures since last login */
	unsigned		 backoff_ms;	/* current delay, for logs */
	int			 ready;		/* its descriptor fired */
	int			 due;		/* its bus has timed work */
	int			 dead;		/* free after this batch */
	int			 paced;		/* DOWN until its login slot */
	int			 corked;	/* sends held for this batch */
	int			 bridge;	/* XMPP: the bridge's login */
	struct rconn		*next;		/* the loop's list */
};

/* One <router> entry. */
struct rinst {
	struct router_loop		*L;
	const struct router_conf	*conf;
	struct router			*rt;
	struct rconn			*top;
	struct router_io		 io;
	int				 redis;	/* one bus for every class */
	struct router_bridge		*br;	/* NULL: not bridged */
	int				 bside;	/* its side in br */
	struct rconn			*bconn;	/* XMPP: the bridge's login */
};

struct router_loop {
	struct router_loop_conf	 c;
	int			 epfd;
	struct rinst		*inst;
	size_t			 ninst;
	struct rconn		*conns;		/* in creation order */
	struct rconn		**conns_tail;
	struct pbuf		 body;		/* error body being written */
	uint64_t		 gen;		/* bumped on every change */
	uint64_t		 status_gen;	/* gen last written */
	uint64_t		 status_at;	/* mono ms of next write */
	uint64_t		 started;	/* wall s */
	uint32_t		 rnd;		/* xorshift, for jitter */
	uint64_t		 login_next;	/* router_pace() state */
	uint64_t		 live_at;	/* mono ms: liveness timers */
	int			 told_up;	/* c.on_up called */
	char			 wake_tag;	/* epoll marker */
};

/* ------------------------------------------------------ connections */

static void	rconn_input(struct rconn *);

static struct rconn *
rconn_new(struct rinst *ri, struct router_class *cls, const char *resource)
{
	struct router_loop	*L = ri->L;
	struct rconn		*c;
	int			 rc;

	c = xcalloc(1, sizeof(*c));
	c->ri = ri;
	c->cls = cls;
	c->resource = xstrdup(resource);
	/* the name the router is known by, for logs and the status file */
	if (ri->conf->bus.kind == BUS_REDIS)
		c->jid = xasprintf("opensrf:router:%s:%s",
		    ri->conf->bus.username, ri->conf->bus.domain);
	else
		c->jid = xasprintf("%s@%s/%s", ri->conf->bus.username,
		    ri->conf->bus.domain, resource);
	c->state = RC_DOWN;
	c->retry_at = 0;
	if ((rc = L->c.mk(&ri->conf->bus, resource, &c->t)) < 0)
		fatalx("router: cannot make a bus for %s: %s", c->jid,
		    strerror(-rc));
	/*
	 * In creation order: the top-level connections come first in every
	 * round, so a batch's registrations are taken before the requests
	 * that arrived with them on class addresses.
	 */
	c->next = NULL;
	*L->conns_tail = c;
	L->conns_tail = &c->next;
	return c;
}

static unsigned
backoff_cap(const struct rconn *c)
{
	int	max = c->ri->conf->bus.reconnect_max_ms;

	return max > 0 ? (unsigned)max : RL_BACKOFF_MAX_MS;
}

static uint32_t
loop_rand(struct router_loop *L)
{
	/* xorshift32: jitter needs spread, not secrecy */
	L->rnd ^= L->rnd << 13;
	L->rnd ^= L->rnd >> 17;
	L->rnd ^= L->rnd << 5;
	return L->rnd;
}

/* The bus's doubling delay with jitter. */
static void
rconn_schedule(struct rconn *c)
{
	c->backoff_ms = bus_backoff_ms(c->attempt++, backoff_cap(c),
	    loop_rand(c->ri->L));
	c->state = RC_DOWN;
	c->retry_at = mono_ms() + c->backoff_ms;
}

/* The connection broke: close it and try again later. */
static void
rconn_lost(struct rconn *c, int why)
{
	if (c->state != RC_UP)
		return;
	log_warnx("router: connection %s lost (%s), reconnecting", c->jid,
	    strerror(-why));
	/* held forwards are lost with the connection, as sent ones are */
	c->corked = 0;
	c->ri->L->gen++;
	rconn_schedule(c);
}

/*
 * Forwards are held while a batch of events is handled and written at
 * its end: under load one read brings many requests, and their forwards
 * then cost one system call.
 */
static void
rconn_cork(struct rconn *c)
{
	if (c->state == RC_UP && !c->corked) {
		bus_cork(c->t);
		c->corked = 1;
	}
}

/* Write what is held for c.  0 or -errno (c is then lost). */
static int
rconn_flush(struct rconn *c)
{
	int	rc;

	if (!c->corked || c->state != RC_UP)
		return 0;
	c->corked = 0;
	if ((rc = bus_uncork(c->t)) < 0)
		rconn_lost(c, rc);
	return rc;
}

static void
flush_all(struct router_loop *L)
{
	struct rconn	*c;

	for (c = L->conns; c != NULL; c = c->next)
		(void)rconn_flush(c);	/* a failure is handled (logged) */
}

/* Every entry's top-level connection is up: say so, the first time. */
static void
tops_up(struct router_loop *L)
{
	size_t	i;

	if (L->told_up || L->c.on_up == NULL)
		return;
	for (i = 0; i < L->ninst; i++)
		if (L->inst[i].top->state != RC_UP)
			return;
	L->told_up = 1;
	L->c.on_up(L->c.on_up_arg);
}

/*
 * Run c's bus once and act on what changed: a login that ended (up, or
 * failed: retry later), a connection lost, input to read (`readable`,
 * or a login that just ended: its last bytes may have brought
 * messages, where no descriptor shows them).
 */
static void
rconn_turn(struct rconn *c, int readable)
{
	int	ev;

	if (c->dead || c->state == RC_DOWN)
		return;
	ev = bus_run(c->t);
	c->ready = c->due = 0;
	if (c->state == RC_OPENING) {
		switch (bus_state(c->t)) {
		case BUS_UP:
			c->state = RC_UP;
			c->attempt = 0;
			c->ri->L->gen++;
			log_info("router: logged in as %s", bus_addr(c->t));
			if (c == c->ri->top)
				tops_up(c->ri->L);
			readable = 1;
			break;
		case BUS_DOWN:
			rconn_schedule(c);
			log_warnx("router: login as %s failed: %s; retry in "
			    "%u ms", c->jid, *bus_error(c->t) != '\0' ?
			    bus_error(c->t) : "no reason given",
			    c->backoff_ms);
			c->ri->L->gen++;
			return;
		default:
			return;
		}
	} else if (bus_state(c->t) != BUS_UP || (ev & BUS_EV_DOWN)) {
		rconn_lost(c, -ENOTCONN);
		return;
	}
	if (readable || (ev & BUS_EV_UP))
		rconn_input(c);
}

/*
 * Begin a login; it goes on in rconn_turn().  Class logins are paced
 * (class_logins_per_second): one that is not due yet waits, DOWN, for
 * its turn, and its requests go from the top-level connection meanwhile.
 */
static void
rconn_start(struct rconn *c)
{
	uint64_t	now = mono_ms(), at;

	if (c->cls != NULL && !c->paced && (at = router_pace(
	    &c->ri->L->login_next, now,
	    (unsigned)c->ri->conf->class_logins_per_second)) > now) {
		c->state = RC_DOWN;
		c->retry_at = at;
		c->paced = 1;		/* its slot is reserved */
		return;
	}
	c->paced = 0;
	c->state = RC_OPENING;
	(void)bus_start(c->t);	/* a failure shows in the bus's state */
	/*
	 * Its first turn comes in the loop's round, after the connections
	 * made before it: never in the middle of another one's input.
	 */
	c->due = 1;
}

/* Stop using c; it is freed at the end of the batch. */
static void
rconn_kill(struct rconn *c)
{
	c->cls = NULL;
	c->dead = 1;
}

static int	send_tmsg(struct rconn *, struct tmsg *);

/* Is c a connection of one class on XMPP (where orphans can happen)? */
static int
class_conn(const struct rconn *c)
{
	return !c->ri->redis && c != c->ri->top && !c->bridge &&
	    c->resource != NULL;
}

/*
 * x came to class connection c as the class closed: if it is a request,
 * answer it from connection via with the 503 of a class without a
 * listener.  Frees x.
 */
static void
orphan_answer(struct rconn *via, const struct rconn *c, struct bus_frame *x)
{
	struct router_loop	*L = c->ri->L;
	struct tmsg		 m, r;
	char			 text[ROUTER_CLASS_MAX + 64];

	memset(&m, 0, sizeof(m));
	if (!(x->flags & (BUS_F_ERROR | BUS_F_OTHER | BUS_F_PONG)) &&
	    bus_decode(c->t, x->raw, x->len, &m, NULL) == 0 &&
	    m.router_command[0] == '\0' && !m.is_error) {
		snprintf(text, sizeof(text), "Service %.*s has no listener",
		    ROUTER_CLASS_MAX, c->resource);
		pbuf_reset(&L->body);
		if (via == NULL)
			log_warnx("router: %s: a request of %s came as the "
			    "class closed, and no connection is left to "
			    "answer it", c->jid, tmsg_reply_to(&m));
		else if (osrfmsg_error_body(m.body, strlen(m.body), 503,
		    text, &L->body) == 0) {
			log_info("router: %s: a request of %s came as the "
			    "class closed: 503", c->jid, tmsg_reply_to(&m));
			memset(&r, 0, sizeof(r));
			r.to = tmsg_reply_to(&m);
			r.osrf_xid = m.osrf_xid;
			r.thread = m.thread;
			r.body = L->body.data;
			r.is_error = 1;
			r.error_type = "cancel";
			r.error_code = 503;
			(void)send_tmsg(via, &r);
		}
	}
	tmsg_clear(&m);
	bus_frame_free(&x);
}

/*
 * A message the server delivered to a class connection while it logged
 * out (it routes to it until it has read the logout): answered from the
 * top connection, the only one sure to be up then.
 */
static void
orphan_late(void *arg, struct bus_frame *x)
{
	struct rconn	*c = arg, *top = c->ri->top;

	orphan_answer(top != NULL && top != c && !top->dead &&
	    top->state == RC_UP ? top : NULL, c, x);
}

/*
 * A class connection about to close (its last listener went, or the
 * router stops) may hold requests the server delivered to it already:
 * each gets the 503 of a class without a listener, sent from this very
 * connection before it logs out, so no client waits for its timeout;
 * what the server still sends while it logs out, orphan_late() answers.
 */
static void
rconn_orphans(struct rconn *c)
{
	struct bus_frame	*x;

	if (c->state != RC_UP || !class_conn(c))
		return;
	while (c->state == RC_UP && bus_recv(c->t, &x) == 1)
		orphan_answer(c, c, x);
}

static void
rconn_free(struct router_loop *L, struct rconn *c)
{
	rconn_orphans(c);
	(void)rconn_flush(c);		/* e.g. a last error reply */
	/* logs out if connected, unwatches */
	if (c->state == RC_UP && class_conn(c))
		bus_free_late(&c->t, orphan_late, c);
	else
		bus_free(&c->t);
	free(c->jid);
	free(c->resource);
	free(c);
	L->gen++;
}

static void
reap_dead(struct router_loop *L)
{
	struct rconn	**pp = &L->conns, *c;

	while ((c = *pp) != NULL) {
		if (c->dead) {
			*pp = c->next;
			rconn_free(L, c);
		} else
			pp = &c->next;
	}
	L->conns_tail = pp;
}

/* ------------------------------------------------------ io callbacks */

/* The connection to send from for class cls: its own, else the top. */
static struct rconn *
send_conn(struct rinst *ri, struct router_class *cls)
{
	struct rconn	*c = cls != NULL ? cls->conn : NULL;

	if (c != NULL && c->state == RC_UP)
		return c;
	if (ri->top->state == RC_UP)
		return ri->top;
	return NULL;
}

/*
 * Send m from c to dest (NULL: m->to), held until the end of the batch
 * (see rconn_cork()); m->from as set (NULL or "": ours).
 */
static int
send_as(struct rconn *c, const char *dest, const struct tmsg *m)
{
	int	rc;

	rconn_cork(c);
	if ((rc = bus_send_to(c->t, dest, m)) == -ENOTCONN)
		rconn_lost(c, rc);
	else if (rc < 0)
		log_warnx("router: cannot send a message to %s: %s",
		    dest != NULL ? dest : m->to, strerror(-rc));
	return rc;
}

/* Send m from c as ourselves. */
static int
send_tmsg(struct rconn *c, struct tmsg *m)
{
	m->from = NULL;		/* the bus writes ours */
	return send_as(c, NULL, m);
}

/* Where clients address class cls on Redis. */
static void
service_addr(const struct rinst *ri, const char *cls, char *buf,
    size_t bufsz)
{
	if (bus_service_addr(ri->top->t, cls, buf, bufsz) < 0)
		buf[0] = '\0';		/* class names are bounded */
}

static int
io_forward(void *arg, struct router_class *cls, const char *to,
    const struct router_fwd *f)
{
	struct rinst	*ri = arg;
	struct rconn	*c;
	struct tmsg	 m = TMSG_INIT;
	char		 svc[BUS_ADDR_MAX];

	ri->L->gen++;
	if (ri->br != NULL && strcmp(to, ROUTER_BRIDGE_NODE) == 0)
		return router_bridge_forward(ri->br, ri->bside, cls, f);
	if ((c = send_conn(ri, cls)) == NULL)
		return -ENOTCONN;
	m.osrf_xid = f->osrf_xid;
	m.thread = f->thread;
	m.body = f->body;
	if (ri->redis) {
		/* spec 5: the message as the client wrote it, pushed to the
		 * node's service queue; replies go to its `from` */
		service_addr(ri, cls->name, svc, sizeof(svc));
		m.to = svc;
		m.from = f->router_from;
		return send_as(c, to, &m);
	}
	m.to = to;
	m.router_from = f->router_from;
	return send_tmsg(c, &m);
}

/* XMPP: a liveness ping to listener `to` (router.h). */
static int
io_ping(void *arg, struct router_class *cls, const char *to, uint32_t id)
{
	struct rinst	*ri = arg;
	struct rconn	*c;
	int		 rc;

	if ((c = send_conn(ri, cls)) == NULL)
		return -ENOTCONN;
	if ((rc = bus_ping(c->t, to, id)) == -ENOTCONN)
		rconn_lost(c, rc);
	return rc;
}

/* Redis: a registrant's node is its service queue (spec 5). */
static int
io_node_addr(void *arg, const char *cls, const char *registrant, char *buf,
    size_t bufsz)
{
	const char	*p = registrant + sizeof("opensrf:client:") - 1;
	const char	*user_end, *dom_end;
	int		 n;

	if (strncmp(registrant, "opensrf:client:", p - registrant) != 0 ||
	    (user_end = strchr(p, ':')) == NULL || user_end == p ||
	    (dom_end = strchr(user_end + 1, ':')) == NULL ||
	    dom_end == user_end + 1)
		return -EINVAL;
	n = snprintf(buf, bufsz, "opensrf:service:%.*s:%.*s:%s",
	    (int)(user_end - p), p, (int)(dom_end - user_end - 1),
	    user_end + 1, cls);
	return n < 0 || (size_t)n >= bufsz ? -ENAMETOOLONG : n;
}

static int
io_reject(void *arg, struct router_class *cls, const char *to,
    const struct router_fwd *f, enum router_reject why)
{
	struct rinst		*ri = arg;
	struct router_loop	*L = ri->L;
	struct rconn		*c;
	struct tmsg		 m = TMSG_INIT;
	char			 text[ROUTER_CLASS_MAX + 96];
	int			 code, rc;

	ri->L->gen++;
	switch (why) {
	case ROUTER_REJECT_UNTRUSTED:
		code = 403;
		snprintf(text, sizeof(text), "Service %s refuses requests "
		    "from this domain", cls->name);
		break;
	case ROUTER_REJECT_RETRIES:
		code = 503;
		snprintf(text, sizeof(text), "Service %s: request bounced by "
		    "every listener tried", cls->name);
		break;
	case ROUTER_REJECT_NO_LISTENER:
	default:
		code = 503;
		snprintf(text, sizeof(text), "Service %s has no listener",
		    cls->name);
		break;
	}
	if ((c = send_conn(ri, cls)) == NULL)
		return -ENOTCONN;
	pbuf_reset(&L->body);
	if ((rc = osrfmsg_error_body(f->body, f->body != NULL ?
	    strlen(f->body) : 0, code, text, &L->body)) < 0)
		return rc;
	/* Both signals of spec 1.4: type="error" and <error code>. */
	m.to = to;
	m.osrf_xid = f->osrf_xid;
	m.thread = f->thread;
	m.body = L->body.data;
	m.is_error = 1;
	m.error_type = "cancel";
	m.error_code = code;
	return send_tmsg(c, &m);
}

/*
 * Redis: a request for a class nobody registered.  OpenSRF main answers
 * STATUS osrfServiceException 404 "Service Not Found" (capture 05); an
 * untrusted sender hears 403 instead, as everywhere, and learns nothing
 * of which classes exist.  Each REQUEST or CONNECT gets its own
 * threadTrace ("1" in the capture, srfsh's).
 */
static void
answer_unknown(struct rinst *ri, const struct tmsg *req, const char *cls)
{
	struct router_loop	*L = ri->L;
	struct tmsg		 m = TMSG_INIT;
	char			 text[ROUTER_CLASS_MAX + 64];
	int			 trusted, rc;

	trusted = router_jid_trusted(req->from, ri->rt->trusted_clients,
	    ri->rt->ntrusted_clients);
	ri->rt->ignored += !trusted;
	pbuf_reset(&L->body);
	if (trusted) {
		log_info("router: %s asked for unknown service %.*s",
		    req->from, ROUTER_CLASS_MAX, cls);
		rc = osrfmsg_status_body(req->body, strlen(req->body),
		    OSRFMSG_C_SERVICE_EXCEPTION, 404, "Service Not Found",
		    &L->body);
	} else {
		log_warnx("router: request from untrusted %s refused",
		    req->from);
		snprintf(text, sizeof(text), "Service %.*s refuses requests "
		    "from this domain", ROUTER_CLASS_MAX, cls);
		rc = osrfmsg_error_body(req->body, strlen(req->body), 403,
		    text, &L->body);
	}
	if (rc < 0 || ri->top->state != RC_UP)
		return;
	m.to = req->from;
	m.thread = req->thread;
	m.body = L->body.data;
	(void)send_tmsg(ri->top, &m);	/* failures logged there */
}

static void
io_class_open(void *arg, struct router_class *cls)
{
	struct rinst	*ri = arg;
	struct rconn	*c;

	if (ri->redis)
		return;		/* its requests come to the router inbox */
	c = rconn_new(ri, cls, cls->name);
	cls->conn = c;
	rconn_start(c);
}

static void
io_class_close(void *arg, struct router_class *cls)
{
	struct rconn	*c = cls->conn;

	cls->conn = NULL;
	if (c != NULL)
		rconn_kill(c);
}

/* ------------------------------------------------------------ bridge */

/* Where the bridge speaks on entry ri's bus: XMPP its own login. */
static struct rconn *
bridge_conn(struct rinst *ri)
{
	struct rconn	*c = ri->redis ? ri->top : ri->bconn;

	return c != NULL && c->state == RC_UP ? c : NULL;
}

static int
bridge_send(void *arg, const char *dest, const struct tmsg *m)
{
	struct rinst	*ri = arg;
	struct rconn	*c = bridge_conn(ri);
	struct tmsg	 t = *m;

	if (c == NULL)
		return -ENOTCONN;
	t.from = NULL;
	t.router_from = NULL;
	ri->L->gen++;
	return send_as(c, dest, &t);
}

static const char *
bridge_addr(void *arg)
{
	struct rconn	*c = bridge_conn(arg);

	return c != NULL ? bus_addr(c->t) : "";
}

/*
 * Pair entries for bridges: each <bridge> names the domain of an entry
 * on the other bus.  0, or -EINVAL (logged) when there is none or it is
 * bridged already to another.
 */
static int
bridges_make(struct router_loop *L)
{
	struct rinst	*a, *b;
	struct rbr_side	 sa, sb;
	size_t		 i, j;

	for (i = 0; i < L->ninst; i++) {
		a = &L->inst[i];
		if (a->conf->bridge == NULL || a->br != NULL)
			continue;
		for (j = 0, b = NULL; j < L->ninst && b == NULL; j++)
			if (L->inst[j].redis != a->redis &&
			    strcasecmp(L->inst[j].conf->bus.domain,
			    a->conf->bridge) == 0)
				b = &L->inst[j];
		if (b == NULL || b->br != NULL ||
		    (b->conf->bridge != NULL && strcasecmp(b->conf->bridge,
		    a->conf->bus.domain) != 0)) {
			log_errx("router: %s: <bridge>%s</bridge> names no "
			    "free entry on the %s bus", a->top->jid,
			    a->conf->bridge, a->redis ? "XMPP" : "Redis");
			return -EINVAL;
		}
		memset(&sa, 0, sizeof(sa));
		sa.name = a->top->jid;
		sa.rt = a->rt;
		sa.io = &a->io;
		sa.send = bridge_send;
		sa.addr = bridge_addr;
		sa.arg = a;
		sb = sa;
		sb.name = b->top->jid;
		sb.rt = b->rt;
		sb.io = &b->io;
		sb.arg = b;
		if (router_bridge_new(&sa, &sb, &a->br) < 0)
			return -EINVAL;
		b->br = a->br;
		a->bside = 0;
		b->bside = 1;
		/* XMPP: the bridge's own address, a login of its own */
		if (!a->redis)
			a->bconn = rconn_new(a, NULL, ROUTER_BRIDGE_RESOURCE);
		else
			b->bconn = rconn_new(b, NULL, ROUTER_BRIDGE_RESOURCE);
		(a->bconn != NULL ? a->bconn : b->bconn)->bridge = 1;
		log_info("router: bridge between %s and %s", a->top->jid,
		    b->top->jid);
	}
	return 0;
}

/* ---------------------------------------------------------- stanzas */

struct api_reply {
	struct rconn		*c;
	const struct tmsg	*req;
};

static int
api_emit(void *arg, const char *body, size_t len)
{
	struct api_reply	*a = arg;
	struct tmsg		 m = TMSG_INIT;

	(void)len;		/* body is NUL-terminated */
	m.to = a->req->from;
	m.thread = a->req->thread;
	m.body = body;
	return send_tmsg(a->c, &m);
}

/*
 * Redis: one inbox carries everything; `to` tells a request for a class
 * (opensrf:service:_:_:<class>) from registrations (router_command set)
 * and the router's own API (class "router", capture 07), which go to
 * router_top_msg() as on XMPP.  1 when m was a class request, handled.
 */
static int
redis_request(struct rinst *ri, const struct tmsg *m,
    const struct router_msg *rm)
{
	static const char	 any[] = "opensrf:service:_:_:";
	struct router_class	*cls;
	const char		*name;

	if (m->router_command[0] != '\0' ||
	    strncmp(m->to, any, sizeof(any) - 1) != 0)
		return 0;
	name = m->to + sizeof(any) - 1;
	if (strcmp(name, "router") == 0)
		return 0;
	if ((cls = router_class_find(ri->rt, name)) != NULL)
		router_class_msg(ri->rt, cls, rm, &ri->io);
	else
		answer_unknown(ri, m, name);
	return 1;
}

static void
handle_frame(struct rconn *c, const struct bus_frame *x)
{
	struct rinst		*ri = c->ri;
	struct tmsg		 m = TMSG_INIT;
	struct router_msg	 rm;
	struct proto_err	 err;
	struct api_reply	 a;
	char			 cls[ROUTER_CLASS_MAX + 1];

	if ((x->flags & BUS_F_PONG) && !c->bridge) {
		uint32_t	id;

		if (bus_pong_id(x, &id) == 0)
			router_live_pong(ri->rt, x->sender, id,
			    (x->flags & BUS_F_ERROR) != 0, &ri->io);
		ri->L->gen++;
		return;
	}
	if (x->flags & BUS_F_OTHER) {
		log_debug("router: %s: non-message ignored", c->jid);
		return;
	}
	if (bus_decode(c->t, x->raw, x->len, &m, &err) < 0) {
		log_warnx("router: %s: unreadable message dropped: %s",
		    c->jid, err.reason);
		return;
	}
	ri->L->gen++;
	rm.to = m.to;
	rm.from = m.from;
	rm.router_from = m.router_from;
	rm.router_class = m.router_class;
	rm.router_command = m.router_command;
	rm.osrf_xid = m.osrf_xid;
	rm.thread = m.thread;
	rm.body = m.body;
	rm.is_error = m.is_error || (x->flags & BUS_F_ERROR) != 0;
	if (c->bridge || (ri->redis && ri->br != NULL &&
	    strcmp(m.to, bus_addr(c->t)) == 0)) {
		/* at the bridge's address: across to the other bus */
		if (!rm.is_error)
			router_bridge_input(ri->br, ri->bside, &m);
		else
			log_info("router: bridge: error message from %s "
			    "dropped", m.from);
	} else if (ri->redis && strcmp(m.to, bus_addr(c->t)) == 0)
		log_debug("router: a message to our inbox from %s dropped",
		    m.from);	/* e.g. a late answer to a bridged request */
	else if (ri->redis && redis_request(ri, &m, &rm))
		;	/* a request for a class, handled */
	else if (c != ri->top) {
		if (c->cls != NULL) {
			str_copy(cls, c->cls->name, sizeof(cls));
			router_class_msg(ri->rt, c->cls, &rm, &ri->io);
			/* a bounce may have taken the class's last node */
			if (rm.is_error && ri->br != NULL)
				router_bridge_sync(ri->br, cls);
		}
	} else switch (router_top_msg(ri->rt, &rm, &ri->io)) {
	case ROUTER_TOP_API:
		a.c = c;
		a.req = &m;
		if (router_api_answer(ri->rt, m.body, strlen(m.body),
		    api_emit, &a) < 0)
			log_warnx("router: API call from %s not answered "
			    "in full", m.from);
		break;
	case ROUTER_TOP_REGISTERED:
	case ROUTER_TOP_UNREGISTERED:
		if (ri->br != NULL)
			router_bridge_sync(ri->br, m.router_class);
		break;
	default:
		break;
	}
	tmsg_clear(&m);
}

static void
rconn_input(struct rconn *c)
{
	struct bus_frame	*x;
	int			 rc;

	/* Drain: several messages may sit in the bus's buffer. */
	while (!c->dead && c->state == RC_UP) {
		if ((rc = bus_recv(c->t, &x)) == 0)
			break;
		if (rc < 0) {
			rconn_lost(c, rc);
			break;
		}
		handle_frame(c, x);
		bus_frame_free(&x);
		/* spare the read that would find nothing */
		if (!c->dead && !bus_more(c->t))
			break;
	}
}

/* ------------------------------------------------------ status file */

static const char *
state_name(const struct rconn *c)
{
	if (c == NULL)
		return "none";
	switch (c->state) {
	case RC_UP:
		return "up";
	case RC_OPENING:
		return "connecting";
	case RC_DOWN:
	default:
		return "down";
	}
}

static void
status_node(FILE *f, const struct rinst *ri, const struct router_node *n)
{
	size_t	i;

	fprintf(f, "    listener %s forwarded %llu\n", n->jid,
	    (unsigned long long)n->forwarded);
	if (n->suspended)
		fprintf(f, "      suspended: no answer to a ping\n");
	/* a Redis queue is shared: say who pops it */
	if (ri->redis)
		for (i = 0; i < n->nregs; i++)
			fprintf(f, "      registrant %s\n", n->regs[i]);
}

static void
status_write_to(struct router_loop *L, FILE *f)
{
	const struct router		*r;
	const struct router_class	*cls;
	size_t				 i, j, k;

	fprintf(f, "drover-router pid %ld started %lld updated %lld\n",
	    (long)getpid(), (long long)L->started, (long long)wall_sec());
	for (i = 0; i < L->ninst; i++) {
		r = L->inst[i].rt;
		fprintf(f, "router %s state %s classes %zu api_calls %llu "
		    "ignored %llu refused %llu suspensions %llu\n",
		    L->inst[i].top->jid, state_name(L->inst[i].top),
		    r->nclasses, (unsigned long long)r->api_calls,
		    (unsigned long long)r->ignored,
		    (unsigned long long)r->refused,
		    (unsigned long long)r->suspensions);
		for (j = 0; j < r->nclasses; j++) {
			cls = r->classes[j];
			/* on Redis the class lives on the router inbox */
			fprintf(f, "  class %s state %s listeners %zu "
			    "forwarded %llu retried %llu errors %llu "
			    "bounces %llu\n", cls->name, state_name(
			    L->inst[i].redis ? L->inst[i].top : cls->conn),
			    cls->nnodes, (unsigned long long)cls->forwarded,
			    (unsigned long long)cls->retried,
			    (unsigned long long)cls->errors,
			    (unsigned long long)cls->bounces);
			for (k = 0; k < cls->nnodes; k++)
				status_node(f, &L->inst[i], cls->nodes[k]);
		}
		if (L->inst[i].br != NULL) {
			struct rbr_stats	st;
			int			me = L->inst[i].bside;

			router_bridge_stats(L->inst[i].br, &st);
			fprintf(f, "  bridge state %s sessions %zu across %llu "
			    "replies %llu dropped %llu\n", state_name(
			    L->inst[i].redis ? L->inst[i].top :
			    L->inst[i].bconn), st.sessions,
			    (unsigned long long)st.across[me],
			    (unsigned long long)st.replies[me],
			    (unsigned long long)st.dropped);
		}
	}
}

/* Write to path.tmp, then rename: readers never see half a file. */
static void
status_write(struct router_loop *L)
{
	char	*tmp;
	FILE	*f;
	int	 fd, bad;

	if (L->c.status_path == NULL)
		return;
	tmp = xasprintf("%s.tmp", L->c.status_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		log_warn("router: status file %s", tmp);
		if (fd >= 0)
			fd_close(&fd);
		free(tmp);
		return;
	}
	status_write_to(L, f);
	bad = ferror(f);
	if (fclose(f) != 0 || bad)
		log_warn("router: writing %s", tmp);
	else if (rename(tmp, L->c.status_path) < 0)
		log_warn("router: rename(%s, %s)", tmp, L->c.status_path);
	free(tmp);
	L->status_gen = L->gen;
}

char *
router_status_default_path(void)
{
	const char	*rt = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		return xstrdup("/run/drover-router.status");
	if (rt != NULL && rt[0] == '/')
		return xasprintf("%s/drover-router.status", rt);
	return xasprintf("/tmp/drover-router.%ld.status", (long)geteuid());
}

int
router_status_print(const char *path)
{
	char	 line[4096];
	FILE	*f;
	long	 pid = 0;
	int	 err;

	if ((f = fopen(path, "re")) == NULL) {
		err = errno;
		fprintf(stderr, "drover-router: %s: %s (is the router "
		    "running?)\n", path, strerror(err));
		return -err;
	}
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "drover-router pid %ld", &pid) != 1 || pid <= 0) {
		fprintf(stderr, "drover-router: %s: not a status file\n",
		    path);
		fclose(f);
		return -EINVAL;
	}
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
		fprintf(stderr, "drover-router: %s: written by pid %ld, "
		    "which is not running\n", path, pid);
		fclose(f);
		return -ESRCH;
	}
	fputs(line, stdout);
	while (fgets(line, sizeof(line), f) != NULL)
		fputs(line, stdout);
	fclose(f);
	return fflush(stdout) == 0 ? 0 : -EIO;
}

/* ------------------------------------------------------------- loop */

static void
reload(struct router_loop *L)
{
	struct router_conf	*fresh = NULL;
	size_t			 n = 0, i, j;
	int			 rc;

	if (log_reopen() < 0)
		log_warnx("router: cannot reopen the log file");
	if (L->c.reload_fn == NULL ||
	    L->c.reload_fn(L->c.reload_arg, &fresh, &n) < 0) {
		log_warnx("router: SIGHUP: configuration not reloaded, "
		    "keeping the trusted domains");
		return;
	}
	for (i = 0; i < L->ninst; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(fresh[j].bus.username,
			    L->inst[i].conf->bus.username) == 0 &&
			    strcmp(fresh[j].bus.domain,
			    L->inst[i].conf->bus.domain) == 0 &&
			    fresh[j].bus.kind == L->inst[i].conf->bus.kind)
				break;
		if (j == n) {
			log_warnx("router: SIGHUP: %s no longer configured; "
			    "restart to drop it", L->inst[i].top->jid);
			continue;
		}
		rc = router_set_trusted(L->inst[i].rt,
		    fresh[j].trusted_servers, fresh[j].ntrusted_servers,
		    fresh[j].trusted_clients, fresh[j].ntrusted_clients);
		L->inst[i].rt->max_classes = (unsigned)fresh[j].max_classes;
		if (!L->inst[i].redis) {
			L->inst[i].rt->ping_ms = (unsigned)fresh[j].ping_ms;
			L->inst[i].rt->ping_timeout_ms =
			    (unsigned)fresh[j].ping_timeout_ms;
		}
		L->inst[i].rt->max_per_sender =
		    (unsigned)fresh[j].max_classes_per_sender;
		if (rc < 0)
			log_warnx("router: SIGHUP: %s: empty trusted list, "
			    "kept the old ones", L->inst[i].top->jid);
		else
			log_info("router: SIGHUP: %s: trusted domains "
			    "reloaded (%zu server, %zu client)",
			    L->inst[i].top->jid, fresh[j].ntrusted_servers,
			    fresh[j].ntrusted_clients);
	}
	router_conf_free(&fresh, n);
	L->gen++;
}

/*
 * Before a wait: every connection's descriptor and events in the epoll
 * set, and the milliseconds until the next timer (a reconnect, a bus's
 * own work, the status file).
 */
static int
prepare(struct router_loop *L, uint64_t now)
{
	struct rconn	*c;
	uint64_t	 due = L->status_at < L->live_at ? L->status_at :
			    L->live_at;
	int		 t;

	for (c = L->conns; c != NULL; c = c->next) {
		if (c->dead)
			continue;
		if (c->state == RC_DOWN) {
			if (c->retry_at < due)
				due = c->retry_at;
			continue;
		}
		if (bus_watch(c->t, L->epfd, (uint64_t)(uintptr_t)c) < 0)
			log_warnx("router: cannot watch %s", c->jid);
		if (c->due)
			due = now;
		if ((t = bus_timeout_ms(c->t, now)) >= 0 &&
		    now + (uint64_t)t < due)
			due = now + (uint64_t)t;
	}
	return due <= now ? 0 : (int)(due - now);
}

/* Run what fired or is due; start the logins whose back-off ran out. */
static void
run_conns(struct router_loop *L, uint64_t now)
{
	struct rconn	*c;
	size_t		 i;
	int		 t;

	for (i = 0; i < L->ninst; i++)
		L->inst[i].rt->now_ms = now;
	for (c = L->conns; c != NULL; c = c->next) {
		if (c->dead)
			continue;
		if (c->state == RC_DOWN) {
			if (c->retry_at > now)
				continue;
			rconn_start(c);
		}
		if (!c->ready && (t = bus_timeout_ms(c->t, now)) >= 0 &&
		    t == 0)
			c->due = 1;
		if (c->ready || c->due)
			rconn_turn(c, c->ready);
	}
	if (now >= L->live_at) {
		for (i = 0; i < L->ninst; i++) {
			if (router_live_tick(L->inst[i].rt, &L->inst[i].io) >= 0)
				L->gen++;	/* pings pending: show them */
			/* drops lingering classes whose time is up */
			(void)router_tick(L->inst[i].rt, &L->inst[i].io);
		}
		L->live_at = now + RL_LIVE_PERIOD_MS;
	}
	if (now >= L->status_at) {
		for (i = 0; i < L->ninst; i++)
			if (L->inst[i].br != NULL && L->inst[i].bside == 0)
				(void)router_bridge_tick(L->inst[i].br, now);
		if (L->gen != L->status_gen)
			status_write(L);
		L->status_at = now + RL_STATUS_PERIOD_MS;
	}
}

static void
drain_wake(int fd)
{
	char	buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		continue;
}

static int
watch(struct router_loop *L, int fd, void *tag)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = tag;
	return epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int
router_loop_new(const struct router_loop_conf *conf, struct router_loop **out)
{
	struct router_loop		*L;
	struct rinst			*ri;
	const struct router_conf	*e;
	size_t				 i, j;
	int				 rc;

	*out = NULL;
	xmlInitParser();	/* once, before the first stanza */
	L = xcalloc(1, sizeof(*L));
	L->c = *conf;
	L->conns_tail = &L->conns;
	L->started = (uint64_t)wall_sec();
	L->rnd = (uint32_t)getpid() * 2654435761u ^ (uint32_t)mono_us();
	if (L->rnd == 0)
		L->rnd = 1;
	if ((L->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		rc = -errno;
		log_err("router: epoll_create1");
		goto fail;
	}
	if (conf->wake_fd >= 0 &&
	    (rc = watch(L, conf->wake_fd, &L->wake_tag)) < 0) {
		log_errx("router: cannot watch the wake pipe: %s",
		    strerror(-rc));
		goto fail;
	}
	L->inst = xcalloc(conf->nentries, sizeof(*L->inst));
	for (i = 0; i < conf->nentries; i++) {
		e = &conf->entries[i];
		for (j = 0; j < L->ninst; j++)
			if (strcmp(L->inst[j].conf->bus.username,
			    e->bus.username) == 0 &&
			    strcmp(L->inst[j].conf->bus.domain,
			    e->bus.domain) == 0 &&
			    L->inst[j].conf->bus.kind == e->bus.kind)
				break;
		if (j < L->ninst) {
			log_warnx("router: entry %zu repeats %s@%s; skipped",
			    i + 1, e->bus.username, e->bus.domain);
			continue;
		}
		ri = &L->inst[L->ninst];
		ri->L = L;
		ri->conf = e;
		if ((rc = router_new(e->bus.username, e->bus.domain,
		    e->trusted_servers, e->ntrusted_servers,
		    e->trusted_clients, e->ntrusted_clients, &ri->rt)) < 0) {
			log_errx("router: %s@%s: both trusted_domains/server "
			    "and trusted_domains/client are required",
			    e->bus.username, e->bus.domain);
			goto fail;
		}
		ri->rt->max_classes = (unsigned)e->max_classes;
		ri->rt->max_per_sender = (unsigned)e->max_classes_per_sender;
		ri->io.arg = ri;
		ri->io.forward = io_forward;
		ri->io.reject = io_reject;
		ri->io.class_open = io_class_open;
		ri->io.class_close = io_class_close;
		if ((ri->redis = e->bus.kind == BUS_REDIS))
			ri->io.node_addr = io_node_addr;
		else {
			/* a frozen listener is found by pings (router.h) */
			ri->io.ping = io_ping;
			ri->rt->ping_ms = (unsigned)e->ping_ms;
			ri->rt->ping_timeout_ms = (unsigned)e->ping_timeout_ms;
			/* bounces come back over the class's own login */
			ri->rt->linger_ms = ROUTER_LINGER_MS;
		}
		if (e->bus.resource != NULL &&
		    strcmp(e->bus.resource, "router") != 0)
			log_warnx("router: %s@%s: transport/resource is "
			    "\"%s\"; listeners only know \"router\"",
			    e->bus.username,
			    e->bus.domain, e->bus.resource);
		L->ninst++;
		ri->top = rconn_new(ri, NULL, e->bus.resource != NULL ?
		    e->bus.resource : "router");
	}
	if (L->ninst == 0) {
		log_errx("router: no <router> entry with a <transport>");
		rc = -EINVAL;
		goto fail;
	}
	if ((rc = bridges_make(L)) < 0)
		goto fail;
	*out = L;
	return 0;
fail:
	router_loop_free(&L);
	return rc;
}

int
router_loop_run(struct router_loop *L)
{
	struct epoll_event	 ev[RL_EVENTS];
	struct rconn		*c;
	size_t			 i;
	int			 n, k;

	for (i = 0; i < L->ninst; i++) {
		rconn_start(L->inst[i].top);
		if (L->inst[i].bconn != NULL)
			rconn_start(L->inst[i].bconn);
	}
	L->status_at = mono_ms();
	while (!*L->c.stop) {
		n = epoll_wait(L->epfd, ev, RL_EVENTS, prepare(L, mono_ms()));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("router: epoll_wait");
			return -errno;
		}
		/*
		 * Signals first: a SIGHUP that arrived with a message applies
		 * to it, and SIGTERM stops before more routing.  The flags are
		 * read whether or not the wake byte is in this batch.
		 */
		for (k = 0; k < n; k++)
			if (ev[k].data.ptr == &L->wake_tag)
				drain_wake(L->c.wake_fd);
		if (L->c.reload != NULL && *L->c.reload) {
			*L->c.reload = 0;
			reload(L);
		}
		if (*L->c.stop)
			break;
		for (k = 0; k < n; k++)
			if (ev[k].data.ptr != &L->wake_tag) {
				c = ev[k].data.ptr;
				c->ready = 1;
			}
		run_conns(L, mono_ms());
		flush_all(L);
		reap_dead(L);
	}
	log_info("router: stopping, logging out");
	return 0;
}

void
router_loop_free(struct router_loop **lp)
{
	struct router_loop	*L = *lp;
	struct rconn		*c;
	size_t			 i;

	if (L == NULL)
		return;
	/*
	 * What the server delivered before the stop is still routed: the
	 * listeners are there to serve it.  (What comes later finds the
	 * class logged out, and the server bounces it to its sender.)
	 */
	for (c = L->conns; c != NULL; c = c->next)
		if (c->cls != NULL && !c->dead && c->state == RC_UP)
			rconn_input(c);
	flush_all(L);
	/* Bridges first (they borrow the tables), then classes: their
	 * connections are killed, then reaped. */
	for (i = 0; i < L->ninst; i++)
		if (L->inst[i].br != NULL && L->inst[i].bside == 0)
			router_bridge_free(&L->inst[i].br);
	for (i = 0; i < L->ninst; i++) {
		L->inst[i].br = NULL;
		router_free(&L->inst[i].rt, &L->inst[i].io);
	}
	/* the classes' first: their late requests are answered from the
	 * top connections */
	for (c = L->conns; c != NULL; c = c->next)
		if (class_conn(c))
			c->dead = 1;
	reap_dead(L);
	L->conns_tail = &L->conns;
	while ((c = L->conns) != NULL) {
		L->conns = c->next;
		rconn_free(L, c);
	}
	if (L->c.status_path != NULL && L->ninst > 0)
		/* ENOENT is fine: it may never have been written */
		(void)unlink(L->c.status_path);
	free(L->inst);
	pbuf_free(&L->body);
	fd_close(&L->epfd);
	free(L);
	*lp = NULL;
}
