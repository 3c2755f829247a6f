/*
 * bus_redis.c: the Redis bus (bus.h) over redis_conn.h connections, as
 * OpenSRF's main branch runs it (opensrf-redis.md).
 *
 * Addresses are list keys.  Every process owns an inbox
 * opensrf:client:<user>:<domain>:<host>:<pid>:<8 hex> (its address,
 * `from` of what it sends); a listener pops the service queue
 * opensrf:service:<user>:<domain>:<service>, shared by every listener of
 * that service with the same user and domain; a router pops
 * opensrf:router:<username>:<domain> and its own inbox.  A message for
 * opensrf:service:_:_:<service> (bus_service_addr()) is pushed to the
 * router inbox opensrf:router:<router_name>:<domain> of our domain with
 * `to` left as written; any other is pushed to the key `to` names (or
 * `dest`).  A frame is one list element exactly as popped; messages are
 * tmsg's JSON form (C's writer, read in every form).
 *
 * Connections.  A command must never wait behind a blocking pop (an
 * unregister queued behind a 5 s BLPOP arrives late: spec 7), so every
 * process holds two: `pop`, which carries only LPOP and BLPOP of the
 * keys it reads, and `cmd` for everything else (RPUSH, DEL, the
 * listener's LLEN/LINDEX samples and 503 pops).  A key of another domain
 * goes over a connection to that domain's host (the domain's name, at
 * our port, as OpenSRF main does; spec 5, capture 05b), opened on first
 * use and cached (RB_REMOTE_MAX, least recently used out); what is sent
 * while it connects waits in it.  The owner sees one descriptor, a
 * private epoll set holding every connection (each registered for what
 * rds_events() asks) and an eventfd that is readable while received
 * frames wait, so bus_fd()/bus_events() stay truthful whoever ran the
 * connections last.
 *
 * Popping.  The pop connection always has one pipelined pair in flight
 * while up, "LPOP <key> n" (when n > 0) then "BLPOP <keys> t": the LPOP
 * takes a batch when the list is long, the BLPOP waits when it is empty,
 * and both on one connection keep the list's order (chunked results).
 * When the BLPOP answers, the next pair goes out.  n and t by role:
 *	client, drone	n 0, t 0 (forever): one message after another
 *	router		n RB_BATCH, t 0; keys: its router inbox, then its
 *			own inbox (replies to what a bridge forwarded)
 *	listener	n credit - 1, t RB_LISTEN_BLOCK_S: a listener pops
 *			no more than bus_take() allows (the owner's idle
 *			children, less frames not yet taken), so the queue
 *			in Redis is the backlog and nothing piles up in the
 *			parent; the 1 s BLPOP bounds how long a request can
 *			be popped after bus_take(0) (a stopping listener
 *			answers it with 503 rather than lose it).
 * A listener and a router check at login that they may pop their key
 * ("LPOP <key> 0", which moves nothing): an ACL user without the right
 * (the gateway user on a service queue) fails the login with -EACCES,
 * so it never registers for a queue it cannot read.
 *
 * Queue samples (listener).  Once every RB_SAMPLE_MS the command
 * connection sends LLEN, LINDEX 0 and LINDEX -1 of the service queue.
 * The depth is LLEN.  The oldest request's age is a lower bound: the
 * time since this listener first saw the element now at the head at
 * either end of the queue in a sample (a ring of RB_SEEN 64-bit hashes
 * of ends seen, with the time first seen).  It is exact to a sample
 * period while requests arrive less often than samples (each one is seen
 * as the tail) or while the head stays; when the queue moves faster, a
 * head never seen at an end counts from now.  With bus_set_queue_max(n)
 * (n > 0), a sample that finds more than n waiting takes the excess off
 * the head (the accounts grant LPOP, not RPOP; these requests have also
 * waited longest) and hands it up flagged BUS_F_OVERFLOW.  Without LLEN
 * rights (OpenSRF's own accounts) bus_queue_info() is -EACCES and there
 * is no bound, logged once; without LINDEX the age is 0.
 *
 * Loss: any connection of our own domain that goes down takes the bus
 * down (bus.c reconnects, with back-off, and registers again); frames
 * already popped are still handed out.  A remote connection that fails
 * drops what waited in it (logged) and is tried again after
 * RB_REMOTE_RETRY_MS.
 *
 * Clean exit (bus_free()): DEL of the own inbox (spec 3), waiting at most
 * RB_LOGOUT_MS.  bus_reaped() DELs a dead child's inbox.
 */
#include "bus_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "redis_conn.h"

#define RB_CLIENT	"opensrf:client:"
#define RB_SERVICE	"opensrf:service:"
#define RB_ROUTER	"opensrf:router:"
#define RB_ANY_SERVICE	"opensrf:service:_:_:"

/* A listener's BLPOP timeout, seconds (see "Popping"). */
#define RB_LISTEN_BLOCK_S	"1"
/* Most elements one LPOP takes: bounds the memory of one reply. */
#define RB_BATCH		256
/* Without a backlog, one pop in this many also tries an LPOP batch. */
#define RB_PROBE_EVERY		8
/* Queue samples of a listener, ms. */
#define RB_SAMPLE_MS		1000
/* Queue ends remembered for the age bound. */
#define RB_SEEN			64
/* Most excess requests taken off per sample: bounds one reply. */
#define RB_OVERFLOW_MAX		1000
/* Connections to other domains' hosts kept open. */
#define RB_REMOTE_MAX		8
/* Messages held for a remote connection while it connects. */
#define RB_REMOTE_HOLD		1024
/* After a remote connection failed, sends to it fail for this long. */
#define RB_REMOTE_RETRY_MS	1000
/* How long bus_free() waits for the DEL of its inbox. */
#define RB_LOGOUT_MS		200
/* epoll events handled per epoll_wait() round. */
#define RB_EVENTS		16
/*
 * Lazy replies (link_sync()) are read at least this often, ms, or once
 * this many wait: a few bytes each, far below a socket buffer.
 */
#define RB_LAZY_MS		50
#define RB_LAZY_MAX		256

/* epoll tags of the private set */
#define RB_T_CMD	0u
#define RB_T_POP	1u
#define RB_T_QFD	2u
#define RB_T_REMOTE	3u	/* + slot */

struct rb;

/* One connection and its registration in the private epoll set. */
struct rb_link {
	struct rb		*rb;
	struct rds_conn		*c;
	uint64_t		 tag;
	int			 reg_fd;	/* registered fd, or -1 */
	uint32_t		 reg_ev;
	int			 lazy;		/* replies read when convenient
						   (see link_sync()) */
};

/* A message waiting for a remote connection to come up. */
struct rb_held {
	char			*key;
	char			*val;
	size_t			 len;
	struct rb_held		*next;
};

struct rb_remote {
	struct rb_link		 l;
	char			*domain;
	struct rb_held		*head, *tail;
	size_t			 nheld;
	uint64_t		 used;		/* LRU clock */
	uint64_t		 retry_ms;	/* mono: no connect before */
};

struct rb_fq {
	struct bus_frame	*f;
	struct rb_fq		*next;
};

struct rb {
	struct bus		*b;
	int			 efd;		/* private epoll set */
	int			 qfd;		/* eventfd: frames wait */
	int			 qfd_on;
	struct rb_link		 cmd, pop;
	int			 lost;		/* a loss to report, -errno */
	int			 up;		/* both connections logged in */
	int			 probing;	/* login probe in flight */
	int			 probe_rc;
	char			 addr[BUS_ADDR_MAX];	/* own inbox */
	char			 key[BUS_ADDR_MAX];	/* what it pops */
	char			 rinbox[BUS_ADDR_MAX];	/* requests go here */
	int			 nkeys;		/* 1, or 2 (router: + own) */
	unsigned		 batch;		/* LPOP count (router) */
	const char		*block_s;	/* BLPOP timeout */
	/* the pair in flight on pop */
	int			 pop_out;
	unsigned		 lpop_n;
	int			 backlog;	/* the last LPOP found some */
	unsigned		 cycles;	/* pops sent, for probes */
	unsigned		 credit;	/* listener: bus_take() */
	/* frames popped, not yet taken */
	struct rb_fq		*fhead, *ftail;
	unsigned		 nready;
	/* listener queue samples */
	unsigned		 qmax;
	uint64_t		 sample_ms;	/* mono: next sample */
	int			 sample_out;
	long long		 s_depth;
	uint64_t		 s_head, s_tail;
	int			 s_have_ends;
	int			 qi_err;	/* LLEN refused: -EACCES */
	int			 age_err;	/* LINDEX refused */
	int			 qi_have;
	struct bus_queue_info	 qi;
	struct {
		uint64_t	 h;
		uint64_t	 ms;
	}			 seen[RB_SEEN];	/* oldest first */
	unsigned		 nseen;
	int			 overflow_out;
	/* other domains */
	struct rb_remote	*rem[RB_REMOTE_MAX];
	uint64_t		 clock;
	int			 corked;
	uint64_t		 lazy_ms;	/* mono: read lazy replies */
};

/* ------------------------------------------------------------ helpers */

static struct rb *
impl(const struct bus *b)
{
	return b->impl;
}

/* The domain of an address ("_" for any), into buf; 0 or -EINVAL. */
static int
key_domain(const char *key, char *buf, size_t bufsz)
{
	const char	*p = key, *e;
	int		 i;

	/* opensrf:<kind>:<user>:<domain>:... */
	for (i = 0; i < 3; i++)
		if ((p = strchr(p, ':')) == NULL)
			return -EINVAL;
		else
			p++;
	e = strchr(p, ':');
	if (e == NULL)
		e = p + strlen(p);
	if (e == p || (size_t)(e - p) >= bufsz)
		return -EINVAL;
	memcpy(buf, p, (size_t)(e - p));
	buf[e - p] = '\0';
	return 0;
}

static uint64_t
hash64(const char *s, size_t n)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	size_t		i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * The eventfd is raised only when frames wait after a call that is not
 * bus_recv(): bus_run() pumps the connections too, and its owner may
 * not read before it sleeps.  Frames bus_recv() itself received need no
 * signal: its owner calls it until it returns 0 (bus.h).  So in the
 * steady state of one message per wake-up it costs no system call.
 */
static void
qfd_signal(struct rb *rb, int on)
{
	uint64_t	v = 1;
	ssize_t		n;

	if (on == rb->qfd_on)
		return;
	rb->qfd_on = on;
	/* an eventfd write or read of 8 bytes cannot be short */
	if (on)
		n = write(rb->qfd, &v, sizeof(v));
	else
		n = read(rb->qfd, &v, sizeof(v));
	if (n != (ssize_t)sizeof(v) && errno != EAGAIN)
		log_warn("bus: redis: eventfd");
}

static void
frame_push(struct rb *rb, char *raw, size_t len, unsigned flags)
{
	struct bus_frame	*f;
	struct rb_fq		*q;

	if ((f = bus_frame_wrap(raw, len, flags)) == NULL ||
	    (q = malloc(sizeof(*q))) == NULL) {
		bus_frame_free(&f);
		log_warnx("bus: redis: out of memory: a message from %s was "
		    "dropped", rb->key);
		return;
	}
	bus_frame_peek_json(f);
	q->f = f;
	q->next = NULL;
	if (rb->ftail != NULL)
		rb->ftail->next = q;
	else
		rb->fhead = q;
	rb->ftail = q;
	rb->nready++;
}

static struct bus_frame *
frame_pop(struct rb *rb)
{
	struct rb_fq		*q = rb->fhead;
	struct bus_frame	*f;

	if (q == NULL)
		return NULL;
	if ((rb->fhead = q->next) == NULL) {
		rb->ftail = NULL;
		qfd_signal(rb, 0);	/* a no-op unless it was raised */
	}
	rb->nready--;
	f = q->f;
	free(q);
	return f;
}

/* One popped element: a frame, unless it is too large to be a message. */
static void
take_elem(struct rb *rb, struct rds_reply *e, unsigned flags)
{
	char	*raw;
	size_t	 len;

	if (e == NULL || e->type != RDS_STRING)
		return;
	/* a listener's owner answers a large request (max_request_size) */
	if (rb->b->p.role != BUS_ROLE_LISTENER &&
	    e->len > rb->b->conf.max_stanza_size) {
		log_warnx("bus: redis: a message of %zu bytes in %s exceeds "
		    "max_stanza_size %zu: dropped", e->len, rb->key,
		    rb->b->conf.max_stanza_size);
		return;
	}
	raw = rds_reply_take(e, &len);
	frame_push(rb, raw, len, flags);
}

/* ------------------------------------------------------------- links */

/*
 * Keep l's registration as its connection wants it, but for a lazy
 * link: its replies (RPUSH's ":1", a DEL's count) matter only when they
 * are errors, so they do not wake the process; pump() reads them when it
 * runs anyway.  A client or a drone thus wakes once per answer, not also
 * for the acknowledgement of its request.  The command link reads at
 * once while a reply it waits for (a queue sample, an excess pop) is out.
 */
static void
link_sync(struct rb_link *l)
{
	struct epoll_event	ev;
	struct rb		*rb = l->rb;
	int			fd = l->c != NULL ? rds_fd(l->c) : -1;
	uint32_t		want = fd >= 0 ? rds_events(l->c) : 0;

	if (l->lazy && fd >= 0 && rds_state(l->c) == RDS_UP &&
	    !(l == &rb->cmd && (rb->sample_out || rb->overflow_out)))
		want &= ~(uint32_t)EPOLLIN;

	if (fd != l->reg_fd && l->reg_fd >= 0) {
		/* closed already (it left the set then) or still open */
		(void)epoll_ctl(l->rb->efd, EPOLL_CTL_DEL, l->reg_fd, NULL);
		l->reg_fd = -1;
		l->reg_ev = 0;
	}
	if (fd < 0 || (fd == l->reg_fd && want == l->reg_ev))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.u64 = l->tag;
	if (epoll_ctl(l->rb->efd, fd == l->reg_fd ? EPOLL_CTL_MOD :
	    EPOLL_CTL_ADD, fd, &ev) == -1) {
		log_warn("bus: redis: epoll_ctl(%d)", fd);
		return;
	}
	l->reg_fd = fd;
	l->reg_ev = want;
}

/* Take a link out of the set before its socket closes. */
static void
link_unwatch(struct rb_link *l)
{
	if (l->reg_fd >= 0)
		(void)epoll_ctl(l->rb->efd, EPOLL_CTL_DEL, l->reg_fd, NULL);
	l->reg_fd = -1;
	l->reg_ev = 0;
}

static void	on_link_event(void *arg, struct rds_conn *c, int err);
static void	on_remote_event(void *arg, struct rds_conn *c, int err);

static int
link_init(struct rb *rb, struct rb_link *l, uint64_t tag, const char *host,
    rds_event_fn *fn)
{
	struct rds_params	p;
	int			rc;

	memset(&p, 0, sizeof(p));
	p.host = host;
	p.port = rb->b->conf.port;
	p.user = rb->b->conf.username;
	p.pass = rb->b->conf.password;
	p.connect_timeout_ms = rb->b->conf.connect_timeout_ms;
	p.on_event = fn;
	p.arg = l;
	l->rb = rb;
	l->tag = tag;
	l->reg_fd = -1;
	l->lazy = tag != RB_T_POP;
	if ((rc = rds_new(&p, &l->c)) < 0)
		log_warnx("bus: redis: cannot set up a connection to %s:%d: "
		    "%s", host, p.port, strerror(-rc));
	return rc;
}

static int
link_up(const struct rb_link *l)
{
	return l->c != NULL && rds_state(l->c) == RDS_UP;
}

/* ------------------------------------------------------------ remote */

static void
held_free(struct rb_held **hp)
{
	struct rb_held	*h = *hp;

	if (h == NULL)
		return;
	free(h->key);
	free(h->val);
	free(h);
	*hp = NULL;
}

static void
remote_drop_held(struct rb_remote *r, const char *why)
{
	struct rb_held	*h;

	if (r->nheld > 0)
		log_warnx("bus: redis: %zu message%s for domain %s dropped: "
		    "%s", r->nheld, r->nheld == 1 ? "" : "s", r->domain, why);
	while ((h = r->head) != NULL) {
		r->head = h->next;
		held_free(&h);
	}
	r->tail = NULL;
	r->nheld = 0;
}

static void
remote_free(struct rb_remote **rp)
{
	struct rb_remote	*r = *rp;

	if (r == NULL)
		return;
	link_unwatch(&r->l);
	rds_free(&r->l.c);
	remote_drop_held(r, "the connection was closed");
	free(r->domain);
	free(r);
	*rp = NULL;
}

static void	push_done(void *arg, int err, struct rds_reply *r);

static int
rpush(struct rds_conn *c, const char *key, const char *val, size_t len)
{
	const char	*argv[3] = { "RPUSH", key, val };
	size_t		 lens[3] = { 5, strlen(key), len };
	char		*copy;
	int		 rc;

	/* the key, for the log line of a refused push */
	if ((copy = strdup(key)) == NULL)
		return -ENOMEM;
	if ((rc = rds_command(c, push_done, copy, 3, argv, lens)) < 0)
		free(copy);
	return rc;
}

static void
on_remote_event(void *arg, struct rds_conn *c, int err)
{
	struct rb_link		*l = arg;
	struct rb_remote	*r = (struct rb_remote *)l;	/* first */
	struct rb_held		*h;
	int			 rc;

	if (err < 0) {
		log_warnx("bus: redis: connection to domain %s: %s",
		    r->domain, *rds_error(c) != '\0' ? rds_error(c) :
		    strerror(-err));
		remote_drop_held(r, "its connection failed");
		r->retry_ms = mono_ms() + RB_REMOTE_RETRY_MS;
		return;
	}
	log_info("bus: redis: connected to domain %s", r->domain);
	while ((h = r->head) != NULL) {
		r->head = h->next;
		r->nheld--;
		if ((rc = rpush(c, h->key, h->val, h->len)) < 0)
			log_warnx("bus: redis: RPUSH %s: %s", h->key,
			    strerror(-rc));
		held_free(&h);
	}
	r->tail = NULL;
}

/* The remote slot for domain, connecting it if needed; NULL on error. */
static struct rb_remote *
remote_get(struct rb *rb, const char *domain)
{
	struct rb_remote	*r = NULL;
	size_t			 i, free_i = RB_REMOTE_MAX, lru = 0;

	for (i = 0; i < RB_REMOTE_MAX; i++) {
		if (rb->rem[i] == NULL) {
			if (free_i == RB_REMOTE_MAX)
				free_i = i;
			continue;
		}
		if (strcasecmp(rb->rem[i]->domain, domain) == 0) {
			r = rb->rem[i];
			break;
		}
		if (rb->rem[lru] == NULL || rb->rem[i]->used <
		    rb->rem[lru]->used)
			lru = i;
	}
	if (r == NULL) {
		if (free_i == RB_REMOTE_MAX) {
			log_info("bus: redis: closing the connection to "
			    "domain %s for %s", rb->rem[lru]->domain, domain);
			remote_free(&rb->rem[lru]);
			free_i = lru;
		}
		r = xcalloc(1, sizeof(*r));
		r->domain = xstrdup(domain);
		/* the domain's host is its name (spec 5) */
		if (link_init(rb, &r->l, RB_T_REMOTE + free_i, domain,
		    on_remote_event) < 0) {
			free(r->domain);
			free(r);
			return NULL;
		}
		rb->rem[free_i] = r;
	}
	r->used = ++rb->clock;
	return r;
}

static int
remote_push(struct rb *rb, const char *domain, const char *key,
    const char *val, size_t len)
{
	struct rb_remote	*r;
	struct rb_held		*h;
	int			 rc;

	if ((r = remote_get(rb, domain)) == NULL)
		return -ENOMEM;
	switch (rds_state(r->l.c)) {
	case RDS_UP:
		rc = rpush(r->l.c, key, val, len);
		link_sync(&r->l);
		return rc;
	case RDS_DOWN:
		if (mono_ms() < r->retry_ms)
			return -EHOSTUNREACH;
		if ((rc = rds_connect(r->l.c)) < 0) {
			log_warnx("bus: redis: cannot connect to domain %s: "
			    "%s", domain, *rds_error(r->l.c) != '\0' ?
			    rds_error(r->l.c) : strerror(-rc));
			r->retry_ms = mono_ms() + RB_REMOTE_RETRY_MS;
			return -EHOSTUNREACH;
		}
		link_sync(&r->l);
		break;
	default:
		break;
	}
	if (r->nheld >= RB_REMOTE_HOLD)
		return -ENOBUFS;
	h = xcalloc(1, sizeof(*h));
	h->key = xstrdup(key);
	h->val = xmalloc(len + 1);
	memcpy(h->val, val, len);
	h->val[len] = '\0';
	h->len = len;
	if (r->tail != NULL)
		r->tail->next = h;
	else
		r->head = h;
	r->tail = h;
	r->nheld++;
	return 0;
}

/* ------------------------------------------------------------ pushing */

static void
push_done(void *arg, int err, struct rds_reply *r)
{
	char	*key = arg;

	if (err < 0 && err != -ECANCELED && err != -ENOTCONN)
		log_warnx("bus: redis: RPUSH %s refused: %s", key,
		    r != NULL && r->str != NULL ? r->str : strerror(-err));
	free(key);
}

/* Push val to key over the connection of key's domain. */
static int
push(struct rb *rb, const char *key, const char *val, size_t len)
{
	char	dom[256];
	int	rc;

	if (key_domain(key, dom, sizeof(dom)) == 0 &&
	    strcmp(dom, "_") != 0 &&
	    strcasecmp(dom, rb->b->conf.domain) != 0 &&
	    strcasecmp(dom, rb->b->conf.host) != 0)
		return remote_push(rb, dom, key, val, len);
	if (!link_up(&rb->cmd))
		return -ENOTCONN;
	rc = rpush(rb->cmd.c, key, val, len);
	link_sync(&rb->cmd);
	return rc;
}

/* ------------------------------------------------------------ popping */

static void	pull(struct rb *rb);

static void
lpop_done(void *arg, int err, struct rds_reply *r)
{
	struct rb	*rb = arg;
	size_t		 i;

	rb->lpop_n = 0;
	if (err == -ECANCELED || err == -ENOTCONN)
		return;
	if (err < 0) {
		log_warnx("bus: redis: LPOP %s: %s", rb->key, r != NULL &&
		    r->str != NULL ? r->str : strerror(-err));
		if (rb->lost == 0)
			rb->lost = err;
		return;
	}
	rb->backlog = r->type == RDS_ARRAY && r->n > 0;
	if (r->type == RDS_ARRAY)
		for (i = 0; i < r->n; i++)
			take_elem(rb, r->elem[i], 0);
}

static void
blpop_done(void *arg, int err, struct rds_reply *r)
{
	struct rb	*rb = arg;

	rb->pop_out = 0;
	if (err == -ECANCELED || err == -ENOTCONN)
		return;
	if (err < 0) {
		log_warnx("bus: redis: BLPOP %s: %s", rb->key, r != NULL &&
		    r->str != NULL ? r->str : strerror(-err));
		if (rb->lost == 0)
			rb->lost = err;
		return;
	}
	if (r->type == RDS_ARRAY && r->n == 2)
		take_elem(rb, r->elem[1], 0);
	pull(rb);
}

/* Send the next LPOP/BLPOP pair, as far as the credit goes. */
static void
pull(struct rb *rb)
{
	const char	*argv[5];
	char		 n[16];
	unsigned	 want, batch;
	int		 argc = 0, rc;

	if (!rb->up || rb->pop_out || rb->nkeys == 0 || rb->lost)
		return;
	batch = rb->batch;
	if (rb->b->p.role == BUS_ROLE_LISTENER) {
		if (rb->credit <= rb->nready)
			return;
		want = rb->credit - rb->nready;
		batch = want - 1 < RB_BATCH ? want - 1 : RB_BATCH;
	}
	/*
	 * An LPOP that finds the list empty costs the server a reply for
	 * nothing: it goes with the BLPOP only while the last one found
	 * something, and every RB_PROBE_EVERY-th time to notice a backlog
	 * that builds up (a BLPOP alone takes one element a round trip).
	 */
	if (batch > 0 && (rb->backlog ||
	    ++rb->cycles % RB_PROBE_EVERY == 0)) {
		(void)snprintf(n, sizeof(n), "%u", batch);	/* fits */
		if ((rc = rds_commandl(rb->pop.c, lpop_done, rb, "LPOP",
		    rb->key, n, NULL)) < 0)
			goto fail;
		rb->lpop_n = batch;
	}
	argv[argc++] = "BLPOP";
	argv[argc++] = rb->key;
	if (rb->nkeys > 1)
		argv[argc++] = rb->addr;
	argv[argc++] = rb->block_s;
	if ((rc = rds_command(rb->pop.c, blpop_done, rb, argc, argv,
	    NULL)) < 0)
		goto fail;
	rb->pop_out = 1;
	link_sync(&rb->pop);
	return;
fail:
	log_warnx("bus: redis: cannot pop %s: %s", rb->key, strerror(-rc));
	if (rb->lost == 0)
		rb->lost = rc;
}

/* ------------------------------------------------- listener samples */

static void
seen_forget(struct rb *rb)
{
	rb->nseen = 0;
}

/* When h was first seen at an end; remembered from now if new. */
static uint64_t
seen_at(struct rb *rb, uint64_t h, uint64_t now, int head)
{
	unsigned	i;

	for (i = 0; i < rb->nseen; i++)
		if (rb->seen[i].h == h) {
			if (head && i > 0) {
				/* FIFO: what came before the head is gone */
				memmove(&rb->seen[0], &rb->seen[i],
				    (rb->nseen - i) * sizeof(rb->seen[0]));
				rb->nseen -= i;
				i = 0;
			}
			return rb->seen[i].ms;
		}
	if (rb->nseen == RB_SEEN) {
		memmove(&rb->seen[0], &rb->seen[1],
		    (RB_SEEN - 1) * sizeof(rb->seen[0]));
		rb->nseen--;
	}
	rb->seen[rb->nseen].h = h;
	rb->seen[rb->nseen].ms = now;
	rb->nseen++;
	return now;
}

static void
overflow_done(void *arg, int err, struct rds_reply *r)
{
	struct rb	*rb = arg;
	size_t		 i;

	rb->overflow_out = 0;
	if (err < 0 || r->type != RDS_ARRAY)
		return;
	log_warnx("bus: redis: %s holds more than max_backlog_queue %u: "
	    "%zu request%s answered 503", rb->key, rb->qmax, r->n,
	    r->n == 1 ? "" : "s");
	for (i = 0; i < r->n; i++)
		take_elem(rb, r->elem[i], BUS_F_OVERFLOW);
}

static void
sample_llen(void *arg, int err, struct rds_reply *r)
{
	struct rb	*rb = arg;

	rb->s_depth = -1;
	if (err == -EACCES && rb->qi_err == 0) {
		rb->qi_err = -EACCES;
		log_warnx("bus: redis: user %s may not LLEN %s (%s): queue "
		    "depth and age unknown, max_backlog_queue not applied; "
		    "requests are served as usual (drover's "
		    "redis-accounts.txt grants it)", rb->b->conf.username,
		    rb->key, r != NULL && r->str != NULL ? r->str : "NOPERM");
	}
	if (err == 0 && r->type == RDS_INTEGER)
		rb->s_depth = r->integer;
}

static void
sample_end(struct rb *rb, int err, struct rds_reply *r, uint64_t *h)
{
	if (err == -EACCES && !rb->age_err) {
		rb->age_err = 1;
		log_warnx("bus: redis: user %s may not LINDEX %s: the age of "
		    "its oldest request shows as 0", rb->b->conf.username,
		    rb->key);
	}
	if (err == 0 && r->type == RDS_STRING)
		*h = hash64(r->str, r->len);
	else
		rb->s_have_ends = 0;
}

static void
sample_head(void *arg, int err, struct rds_reply *r)
{
	struct rb	*rb = arg;

	rb->s_have_ends = 1;
	sample_end(rb, err, r, &rb->s_head);
}

static void
sample_tail(void *arg, int err, struct rds_reply *r)
{
	struct rb	*rb = arg;
	uint64_t	 now = mono_ms(), first;
	char		 n[24];

	rb->sample_out = 0;
	if (err == -ECANCELED || err == -ENOTCONN)
		return;
	sample_end(rb, err, r, &rb->s_tail);
	if (rb->s_depth < 0)
		return;
	rb->qi.depth = (uint64_t)rb->s_depth;
	rb->qi.oldest_ms = 0;
	rb->qi.sampled_us = mono_us();
	rb->qi_have = 1;
	if (rb->s_depth == 0)
		seen_forget(rb);
	else if (rb->s_have_ends) {
		(void)seen_at(rb, rb->s_tail, now, 0);
		first = seen_at(rb, rb->s_head, now, 1);
		rb->qi.oldest_ms = now - first;
	}
	if (rb->qmax == 0 || (uint64_t)rb->s_depth <= rb->qmax ||
	    rb->overflow_out || !link_up(&rb->cmd))
		return;
	(void)snprintf(n, sizeof(n), "%llu", (unsigned long long)
	    (rb->s_depth - rb->qmax < RB_OVERFLOW_MAX ?
	    rb->s_depth - rb->qmax : RB_OVERFLOW_MAX));
	if (rds_commandl(rb->cmd.c, overflow_done, rb, "LPOP", rb->key, n,
	    NULL) == 0) {
		rb->overflow_out = 1;
		link_sync(&rb->cmd);
	}
}

static void
sample(struct rb *rb, uint64_t now)
{
	if (rb->b->p.role != BUS_ROLE_LISTENER || !rb->up ||
	    rb->qi_err != 0 || rb->sample_out || now < rb->sample_ms)
		return;
	rb->sample_ms = now + RB_SAMPLE_MS;
	if (rds_commandl(rb->cmd.c, sample_llen, rb, "LLEN", rb->key,
	    NULL) < 0 ||
	    rds_commandl(rb->cmd.c, sample_head, rb, "LINDEX", rb->key, "0",
	    NULL) < 0 ||
	    rds_commandl(rb->cmd.c, sample_tail, rb, "LINDEX", rb->key, "-1",
	    NULL) < 0)
		return;		/* a dead connection shows up in pump() */
	rb->sample_out = 1;
	link_sync(&rb->cmd);
}

/* ------------------------------------------------------------ events */

static void
on_link_event(void *arg, struct rds_conn *c, int err)
{
	struct rb_link	*l = arg;
	struct rb	*rb = l->rb;

	if (err == 0 || rb->lost != 0)
		return;
	rb->lost = err;
	(void)bus_fail(rb->b, err, "%s", *rds_error(c) != '\0' ?
	    rds_error(c) : strerror(-err));
}

static struct rb_link *
link_of(struct rb *rb, uint64_t tag)
{
	if (tag == RB_T_CMD)
		return &rb->cmd;
	if (tag == RB_T_POP)
		return &rb->pop;
	if (tag >= RB_T_REMOTE && tag < RB_T_REMOTE + RB_REMOTE_MAX &&
	    rb->rem[tag - RB_T_REMOTE] != NULL)
		return &rb->rem[tag - RB_T_REMOTE]->l;
	return NULL;
}

static void
sync_all(struct rb *rb)
{
	size_t	i;

	link_sync(&rb->cmd);
	link_sync(&rb->pop);
	for (i = 0; i < RB_REMOTE_MAX; i++)
		if (rb->rem[i] != NULL)
			link_sync(&rb->rem[i]->l);
}

/* Run every connection: what is readable, writable or due. */
static void
pump(struct rb *rb)
{
	struct epoll_event	 ev[RB_EVENTS];
	struct rb_link		*l;
	uint64_t		 now;
	size_t			 i;
	int			 n, k;

	do {
		n = epoll_wait(rb->efd, ev, RB_EVENTS, 0);
		if (n == -1 && errno == EINTR)
			continue;
		for (k = 0; k < n; k++) {
			if ((l = link_of(rb, ev[k].data.u64)) == NULL ||
			    l->c == NULL)
				continue;
			if (ev[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				rds_handle_read(l->c);
			if ((ev[k].events & EPOLLOUT) && l->c != NULL)
				rds_handle_write(l->c);
		}
	} while (n == RB_EVENTS);
	now = mono_ms();
	/*
	 * The replies lazy links did not wake us for: read when many wait
	 * or none was read for a while (an error reply is logged late, but
	 * logged); a read that finds nothing yet is a system call wasted.
	 */
	if (now >= rb->lazy_ms || rds_pending(rb->cmd.c) >= RB_LAZY_MAX) {
		rb->lazy_ms = now + RB_LAZY_MS;
		if (rds_state(rb->cmd.c) == RDS_UP &&
		    rds_pending(rb->cmd.c) > 0)
			rds_handle_read(rb->cmd.c);
		for (i = 0; i < RB_REMOTE_MAX; i++)
			if (rb->rem[i] != NULL &&
			    rds_state(rb->rem[i]->l.c) == RDS_UP &&
			    rds_pending(rb->rem[i]->l.c) > 0)
				rds_handle_read(rb->rem[i]->l.c);
	}
	rds_tick(rb->cmd.c, now);
	rds_tick(rb->pop.c, now);
	for (i = 0; i < RB_REMOTE_MAX; i++)
		if (rb->rem[i] != NULL)
			rds_tick(rb->rem[i]->l.c, now);
	sync_all(rb);
}

/* ------------------------------------------------------------ bus_ops */

static int
rb_init(struct bus *b)
{
	struct rb		*rb;
	struct epoll_event	 ev;
	char			 host[64];
	const char		*user = b->conf.username, *dom = b->conf.domain;
	size_t			 i;

	if (user == NULL || dom == NULL || b->conf.host == NULL ||
	    b->conf.password == NULL) {
		log_warnx("bus: redis: no user, password, domain or host");
		return -EINVAL;
	}
	rb = xcalloc(1, sizeof(*rb));
	rb->b = b;
	rb->efd = rb->qfd = -1;
	if (gethostname(host, sizeof(host)) != 0)
		str_copy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	/* the short name, as OpenSRF's; a ':' would split the address */
	for (i = 0; host[i] != '\0'; i++)
		if (host[i] == '.' || host[i] == ':')
			break;
	host[i] = '\0';
	(void)snprintf(rb->addr, sizeof(rb->addr), RB_CLIENT "%s:%s:%s:%ld:"
	    "%08x", user, dom, host, (long)getpid(), bus_rand(b));
	(void)snprintf(rb->rinbox, sizeof(rb->rinbox), RB_ROUTER "%s:%s",
	    b->p.router_name, dom);
	rb->credit = ~0u;
	rb->block_s = "0";
	rb->nkeys = 1;
	switch (b->p.role) {
	case BUS_ROLE_LISTENER:
		(void)snprintf(rb->key, sizeof(rb->key), RB_SERVICE
		    "%s:%s:%s", user, dom, b->p.service);
		rb->credit = 0;
		rb->block_s = RB_LISTEN_BLOCK_S;
		break;
	case BUS_ROLE_ROUTER:
		(void)snprintf(rb->key, sizeof(rb->key), RB_ROUTER "%s:%s",
		    user, dom);
		rb->nkeys = 2;
		rb->batch = RB_BATCH;
		break;
	case BUS_ROLE_DRONE:
	case BUS_ROLE_CLIENT:
	default:
		str_copy(rb->key, rb->addr, sizeof(rb->key));
		break;
	}
	if ((rb->efd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (rb->qfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = RB_T_QFD;
	if (epoll_ctl(rb->efd, EPOLL_CTL_ADD, rb->qfd, &ev) == -1)
		goto fail;
	if (link_init(rb, &rb->cmd, RB_T_CMD, b->conf.host,
	    on_link_event) < 0 ||
	    link_init(rb, &rb->pop, RB_T_POP, b->conf.host,
	    on_link_event) < 0) {
		rds_free(&rb->cmd.c);
		fd_close(&rb->qfd);
		fd_close(&rb->efd);
		free(rb);
		return -EINVAL;
	}
	b->impl = rb;
	return 0;
fail:
	log_warn("bus: redis: epoll or eventfd");
	fd_close(&rb->qfd);
	fd_close(&rb->efd);
	free(rb);
	return -ENOMEM;
}

static void
forget_frames(struct rb *rb)
{
	struct bus_frame	*f;

	while ((f = frame_pop(rb)) != NULL)
		bus_frame_free(&f);
}

static void
rb_destroy(struct bus *b, int logout)
{
	struct rb		*rb = b->impl;
	struct rds_reply	*r = NULL;
	size_t			 i;

	if (rb == NULL)
		return;
	if (!logout) {
		/* after fork: the parent's sockets are not ours to use */
		rds_forget(&rb->cmd.c);
		rds_forget(&rb->pop.c);
		for (i = 0; i < RB_REMOTE_MAX; i++)
			if (rb->rem[i] != NULL) {
				rds_forget(&rb->rem[i]->l.c);
				remote_drop_held(rb->rem[i], "");
				free(rb->rem[i]->domain);
				free(rb->rem[i]);
			}
	} else {
		/* spec 3: every process deletes its inbox on a clean exit */
		if (link_up(&rb->cmd) && rds_calll(rb->cmd.c, RB_LOGOUT_MS,
		    &r, "DEL", rb->addr, NULL) < 0)
			log_debug("bus: redis: DEL %s: no answer", rb->addr);
		rds_reply_free(&r);
		link_unwatch(&rb->cmd);
		link_unwatch(&rb->pop);
		rds_free(&rb->cmd.c);
		rds_free(&rb->pop.c);
		for (i = 0; i < RB_REMOTE_MAX; i++)
			remote_free(&rb->rem[i]);
	}
	forget_frames(rb);
	fd_close(&rb->qfd);
	fd_close(&rb->efd);
	free(rb);
	b->impl = NULL;
}

static int
rb_connect(struct bus *b)
{
	struct rb	*rb = b->impl;
	int		 rc;

	rb->lost = 0;
	rb->up = 0;
	rb->probing = 0;
	if ((rc = rds_connect(rb->cmd.c)) < 0 ||
	    (rc = rds_connect(rb->pop.c)) < 0) {
		(void)bus_fail(b, rc, "%s", *rds_error(rb->cmd.c) != '\0' ?
		    rds_error(rb->cmd.c) : rds_error(rb->pop.c));
		rds_close(rb->cmd.c);
		rds_close(rb->pop.c);
		sync_all(rb);
		return rc;
	}
	sync_all(rb);
	return -EINPROGRESS;
}

static void
probe_done(void *arg, int err, struct rds_reply *r)
{
	struct rb	*rb = arg;

	rb->probing = 0;
	rb->probe_rc = err == 0 ? 1 : err;
	if (err < 0 && err != -ECANCELED && err != -ENOTCONN)
		(void)bus_fail(rb->b, err, "user %s may not pop %s: %s",
		    rb->b->conf.username, rb->key, r != NULL &&
		    r->str != NULL ? r->str : strerror(-err));
}

static int
rb_step(struct bus *b)
{
	struct rb	*rb = b->impl;
	int		 rc;

	pump(rb);
	if (rb->lost != 0)
		return rb->lost;
	if (!link_up(&rb->cmd) || !link_up(&rb->pop))
		return -EINPROGRESS;
	if (b->p.role == BUS_ROLE_LISTENER || b->p.role == BUS_ROLE_ROUTER) {
		/* may we pop what we serve?  LPOP of 0 moves nothing */
		if (rb->probe_rc == 0 && !rb->probing) {
			if ((rc = rds_commandl(rb->pop.c, probe_done, rb,
			    "LPOP", rb->key, "0", NULL)) < 0)
				return rc;
			rb->probing = 1;
			link_sync(&rb->pop);
		}
		if (rb->probing)
			return -EINPROGRESS;
		rc = rb->probe_rc;
		rb->probe_rc = 0;
		if (rc < 0)
			return rc;
	}
	rb->up = 1;
	rb->sample_ms = mono_ms();
	pull(rb);
	qfd_signal(rb, rb->fhead != NULL);
	return 0;
}

static void
rb_drop(struct bus *b)
{
	struct rb	*rb = b->impl;

	rb->up = 0;
	link_unwatch(&rb->cmd);
	link_unwatch(&rb->pop);
	/* pending callbacks run with -ECANCELED: they leave no state */
	rds_close(rb->cmd.c);
	rds_close(rb->pop.c);
	rb->pop_out = 0;
	rb->lpop_n = 0;
	rb->sample_out = 0;
	rb->overflow_out = 0;
	rb->probing = 0;
	rb->probe_rc = 0;
	rb->corked = 0;
	seen_forget(rb);
	rb->qi_have = 0;
}

static int
rb_fd(const struct bus *b)
{
	return impl(b)->efd;
}

static uint32_t
rb_events(const struct bus *b)
{
	return EPOLLIN;
}

/* Output still waiting on any connection? */
static int
output_waits(const struct rb *rb)
{
	size_t	i;

	if (rds_events(rb->cmd.c) & EPOLLOUT ||
	    rds_events(rb->pop.c) & EPOLLOUT)
		return 1;
	for (i = 0; i < RB_REMOTE_MAX; i++)
		if (rb->rem[i] != NULL &&
		    ((rds_events(rb->rem[i]->l.c) & EPOLLOUT) ||
		    rb->rem[i]->nheld > 0))
			return 1;
	return 0;
}

/* A remote connection still logging in (it needs pump()). */
static int
remote_connecting(const struct rb *rb)
{
	size_t	i;

	for (i = 0; i < RB_REMOTE_MAX; i++)
		if (rb->rem[i] != NULL &&
		    (rds_state(rb->rem[i]->l.c) == RDS_CONNECTING ||
		    rds_state(rb->rem[i]->l.c) == RDS_AUTH))
			return 1;
	return 0;
}

/*
 * bus_run() calls this every turn.  With no output waiting and nothing
 * logging in it does nothing at all: reading is bus_recv()'s, so the
 * owner that runs the bus and then reads pays one pass, not two, and no
 * eventfd signal.
 */
static int
rb_flush(struct bus *b)
{
	struct rb	*rb = b->impl;

	/* a sample's or an excess pop's replies are for this call to read:
	 * the owner need not call bus_recv() for them */
	if (rb->lost == 0 && !output_waits(rb) && !remote_connecting(rb) &&
	    !rb->sample_out && !rb->overflow_out)
		return 0;
	pump(rb);
	qfd_signal(rb, rb->fhead != NULL);
	if (rb->lost != 0 && rb->fhead == NULL)
		return rb->lost;
	return output_waits(rb) ? -EAGAIN : 0;
}

static int
rb_recv(struct bus *b, struct bus_frame **out)
{
	struct rb	*rb = b->impl;

	if ((*out = frame_pop(rb)) != NULL)
		goto got;
	pump(rb);
	if ((*out = frame_pop(rb)) != NULL)
		goto got;
	return rb->lost != 0 ? rb->lost : 0;
got:
	/* the owner holds it now: one fewer until it says otherwise */
	if (!((*out)->flags & BUS_F_OVERFLOW) && rb->credit > 0 &&
	    rb->credit != ~0u)
		rb->credit--;
	pull(rb);
	return 1;
}

static int
rb_decode(const struct bus *b, const char *raw, size_t len, struct tmsg *out,
    struct proto_err *err)
{
	return tmsg_json_parse(raw, len, out, err);
}

static int
rb_send(struct bus *b, const char *dest, const struct tmsg *m)
{
	struct rb	*rb = b->impl;
	struct tmsg	 t = *m;
	const char	*key;
	int		 rc;

	if (rb->lost != 0)
		return -ENOTCONN;
	if (t.from == NULL || *t.from == '\0')
		t.from = rb->addr;
	if (dest != NULL)
		key = dest;
	else if (t.to != NULL && strncmp(t.to, RB_ANY_SERVICE,
	    sizeof(RB_ANY_SERVICE) - 1) == 0)
		key = rb->rinbox;	/* requests go through our router */
	else
		key = t.to;
	if (key == NULL || *key == '\0')
		return -EINVAL;
	pbuf_reset(&b->scratch);
	if ((rc = tmsg_json_write_buf(&t, &b->scratch)) < 0)
		return rc;
	if (b->scratch.len > b->conf.max_stanza_size)
		return -EMSGSIZE;
	return push(rb, key, b->scratch.data, b->scratch.len);
}

static int
rb_cork(struct bus *b, int on)
{
	struct rb	*rb = b->impl;
	size_t		 i;

	rb->corked = on;
	rds_cork(rb->cmd.c, on);
	for (i = 0; i < RB_REMOTE_MAX; i++)
		if (rb->rem[i] != NULL)
			rds_cork(rb->rem[i]->l.c, on);
	sync_all(rb);
	return 0;
}

static const char *
rb_addr(const struct bus *b)
{
	return impl(b)->addr;
}

static int
rb_service_addr(const struct bus *b, const char *service, char *buf,
    size_t bufsz)
{
	int	n = snprintf(buf, bufsz, RB_ANY_SERVICE "%s", service);

	return n < 0 || (size_t)n >= bufsz ? -ENAMETOOLONG : n;
}

static int
rb_reg_send(struct bus *b, const struct reg_target *t, int on)
{
	struct rb	*rb = b->impl;
	struct tmsg	 m = TMSG_INIT;
	char		 to[BUS_ADDR_MAX];
	int		 n, rc;

	n = snprintf(to, sizeof(to), RB_ROUTER "%s:%s", t->name != NULL ?
	    t->name : b->p.router_name, t->domain);
	if (n < 0 || (size_t)n >= sizeof(to))
		return -ENAMETOOLONG;
	m.to = to;
	m.from = rb->addr;
	m.thread = "";
	m.router_class = b->p.service;
	m.router_command = on ? "register" : "unregister";
	m.body = "[]";
	pbuf_reset(&b->scratch);
	if ((rc = tmsg_json_write_buf(&m, &b->scratch)) < 0)
		return rc;
	return push(rb, to, b->scratch.data, b->scratch.len);
}

static int
rb_timeout_ms(const struct bus *b, uint64_t now)
{
	const struct rb	*rb = b->impl;
	int		 t = -1, x;
	size_t		 i;

	if ((x = rds_timeout_ms(rb->cmd.c, now)) >= 0)
		t = x;
	if ((x = rds_timeout_ms(rb->pop.c, now)) >= 0 && (t < 0 || x < t))
		t = x;
	for (i = 0; i < RB_REMOTE_MAX; i++)
		if (rb->rem[i] != NULL &&
		    (x = rds_timeout_ms(rb->rem[i]->l.c, now)) >= 0 &&
		    (t < 0 || x < t))
			t = x;
	if (b->p.role == BUS_ROLE_LISTENER && rb->up && rb->qi_err == 0 &&
	    !rb->sample_out) {
		x = rb->sample_ms > now ? (int)(rb->sample_ms - now) : 0;
		if (t < 0 || x < t)
			t = x;
	}
	return t;
}

static void
rb_tick(struct bus *b)
{
	struct rb	*rb = b->impl;

	sample(rb, mono_ms());
	pull(rb);
	qfd_signal(rb, rb->fhead != NULL);
}

static void
rb_take(struct bus *b, unsigned n)
{
	struct rb	*rb = b->impl;

	rb->credit = n;
	pull(rb);
}

static void
rb_set_queue_max(struct bus *b, unsigned n)
{
	struct rb	*rb = b->impl;

	rb->qmax = n;
}

static int
rb_queue_info(const struct bus *b, struct bus_queue_info *qi)
{
	const struct rb	*rb = b->impl;

	if (b->p.role != BUS_ROLE_LISTENER)
		return -ENOTSUP;
	if (rb->qi_err != 0)
		return rb->qi_err;
	if (!rb->qi_have)
		return -EAGAIN;
	*qi = rb->qi;
	return 0;
}

static void
rb_reaped(struct bus *b, pid_t pid, const char *addr)
{
	struct rb	*rb = b->impl;

	if (addr == NULL || strncmp(addr, RB_CLIENT, sizeof(RB_CLIENT) - 1) !=
	    0 || !link_up(&rb->cmd))
		return;
	if (rds_commandl(rb->cmd.c, NULL, NULL, "DEL", addr, NULL) < 0)
		log_debug("bus: redis: DEL %s (pid %ld): not sent", addr,
		    (long)pid);
	link_sync(&rb->cmd);
}

const struct bus_ops bus_redis_ops = {
	.name = "redis",
	.init = rb_init,
	.destroy = rb_destroy,
	.connect = rb_connect,
	.step = rb_step,
	.drop = rb_drop,
	.fd = rb_fd,
	.events = rb_events,
	.flush = rb_flush,
	.recv = rb_recv,
	.decode = rb_decode,
	.send = rb_send,
	.addr = rb_addr,
	.service_addr = rb_service_addr,
	.reg_send = rb_reg_send,
	.cork = rb_cork,
	.timeout_ms = rb_timeout_ms,
	.tick = rb_tick,
	.take = rb_take,
	.set_queue_max = rb_set_queue_max,
	.queue_info = rb_queue_info,
	.reaped = rb_reaped,
};
