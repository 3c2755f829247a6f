/*
 * mpm_loop.c: the parent's main loop.
 *
 * One epoll set holds the bus, the signalfd, the children's done pipe
 * while a record must wake the parent (see below) and, while a child is
 * slow to read, its data pipe.  Each round: wait (until the next 1 s
 * maintenance tick, the bus's own timers, the end of a fork back-off, or
 * a stop deadline); take signals; take the done records (children back
 * on the idle list, the backlog drained at once); resume writes to slow
 * children; run the bus and take its frames (straight to the most
 * recently idle child, else the bounded backlog, else a 503); then, on
 * the tick, pool maintenance and the request watchdog.  No work happens
 * in signal context and nothing here blocks.
 *
 * The done pipe is read every round whether it woke the parent or not,
 * so it needs to wake the parent only when a child's return matters now:
 * while no child is idle (requests would queue), the backlog holds any,
 * the service stops, or an on_done observer counts.  Otherwise the next
 * request finds the records read first, and a request's end costs the
 * parent no wake-up (issue 12: a wake-up is the dearest thing a request
 * pays for).  A child's failed reply (UNSENT) is then answered by the
 * next round at the latest: within the 1 s tick.
 *
 * Dispatch is O(1): the idle list's head, one write.  Nothing here scans
 * all children per request; scans happen once a tick or per death.
 */
#include "mpm_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "mpm_frame.h"
#include "scoreboard/sb.h"

#define MPM_TICK_MS		1000	/* Apache's maintenance interval */
#define MPM_EVENTS		64	/* epoll events per round */
/*
 * After SIGTERM to children that outlived graceful_timeout, how long
 * before SIGKILL: long enough for a plugin's own SIGTERM cleanup (none by
 * default), short enough that a stop never hangs.
 */
#define MPM_KILL_GRACE_MS	3000
/*
 * After SIGKILL, how long to wait for children before giving up on them
 * (a process in uninterruptible sleep, e.g. on a dead NFS mount, cannot
 * die): Apache logs and leaves such children too.
 */
#define MPM_GIVEUP_MS		10000

static const char txt_stopping[] =
    "Service unavailable: the service is shutting down";
static const char txt_sessions[] =
    "Service unavailable: this client holds its share of sessions";
static const char txt_queued[] =
    "Service unavailable: this client holds its share of the backlog";
static const char txt_connect_late[] =
    "Service unavailable: the CONNECT waited longer than a client waits";

void
mpm_client_limits(struct mpm *m)
{
	m->max_sessions = mpm_clients_share(
	    m->conf->svc->max_sessions_per_client, m->lim.max_children);
	m->max_queued = mpm_clients_share(
	    m->conf->svc->max_queued_per_client, m->max_backlog);
}

void
mpm_req_release(struct mpm *m, const struct bus_frame *f)
{
	if ((f->flags & BUS_F_CONNECT) && f->sender[0] != '\0')
		mpm_clients_sub(&m->clients, f->sender, MPM_CLIENT_SESSIONS);
}

/* Take a session for f's client, if f opens one; 0 or -EDQUOT. */
static int
session_take(struct mpm *m, const struct bus_frame *f)
{
	if (!(f->flags & BUS_F_CONNECT) || f->sender[0] == '\0')
		return 0;
	if (mpm_clients_get(&m->clients, f->sender, MPM_CLIENT_SESSIONS) >=
	    m->max_sessions)
		return -EDQUOT;
	return mpm_clients_add(&m->clients, f->sender, MPM_CLIENT_SESSIONS) <
	    0 ? -EDQUOT : 0;
}

/* A queued CONNECT whose client no longer waits for it. */
static int
connect_too_late(const struct mpm *m, const struct bus_frame *f,
    uint64_t now_us)
{
	int	wait = m->conf->svc->max_connect_wait;

	return (f->flags & BUS_F_CONNECT) && wait > 0 &&
	    now_us - f->rx_us > (uint64_t)wait * 1000000;
}

/* ---------------------------------------------------------- dispatch */

/* The backlog's length and the arrival of its oldest, for drover-status. */
static void
publish_backlog(struct mpm *m)
{
	const struct bus_frame	*f = mpm_fifo_peek(&m->backlog);

	sb_set_backlog(m->sb, m->backlog.len, f != NULL ? f->rx_us : 0);
}

/* The parent's bus and, on Redis, its service queue, for drover-status. */
static void
publish_bus(struct mpm *m)
{
	struct bus_queue_info	qi;
	struct sb_svc_queue	q;

	sb_set_bus(m->sb, SB_BUSKIND_FROM(bus_kind(m->bus)),
	    SB_BUS_FROM(bus_state(m->bus)));
	if (bus_queue_info(m->bus, &qi) == 0) {
		q.depth = qi.depth;
		q.oldest_ms = qi.oldest_ms;
		q.sampled_mono_us = qi.sampled_us;
		sb_set_svc_queue(m->sb, &q);
	}
}

/*
 * Hand f to idle child idx.  On success the child owns the request and
 * the slot keeps f for a rescue; when not a byte reached the child (its
 * pipe is broken) f is handed back untouched and the caller tries
 * elsewhere.
 */
static int
give(struct mpm *m, int idx, struct bus_frame *f)
{
	struct mpm_kid	*k = &m->kids[idx];

	if (mpm_kid_event(m, idx, KEV_DISPATCH) < 0)
		return -EINVAL;
	k->req = f;	/* its session, if any, was taken by the caller */
	k->req_off = 0;
	k->req_pending = 1;
	k->busy_us = mono_us();
	mpm_kid_output(m, idx);
	if (k->killed == KILL_BROKEN && k->req_off == 0) {
		k->req = NULL;		/* never reached it: try another */
		return -EPIPE;
	}
	return 0;
}

/* Hand f to the most recently idle child: 0, or -EAGAIN when none. */
static int
give_idle(struct mpm *m, struct bus_frame *f)
{
	int	idx;

	/* a child that fails leaves the idle list: the loop ends */
	while ((idx = m->idle.head) >= 0)
		if (give(m, idx, f) == 0)
			return 0;
	return -EAGAIN;
}

static void
reject(struct mpm *m, struct bus_frame *f, const char *why)
{
	sb_count(m->sb, SB_C_REJECTED, 1);
	(void)bus_answer(m->bus, f, NULL, 503, why);	/* logged */
	bus_frame_free(&f);
}

/* Dispatch or queue one request; takes ownership of f. */
static void
take_request(struct mpm *m, struct bus_frame *f)
{
	if (m->backlog.len == 0 && m->idle.head >= 0) {
		if (session_take(m, f) < 0) {
			m->rejected++;
			reject(m, f, txt_sessions);
			return;
		}
		if (give_idle(m, f) == 0)
			return;
		mpm_req_release(m, f);	/* it queues: taken again then */
	}
	if (f->sender[0] != '\0' && mpm_clients_get(&m->clients, f->sender,
	    MPM_CLIENT_QUEUED) >= m->max_queued) {
		m->rejected++;
		reject(m, f, txt_queued);
		return;
	}
	if (m->backlog.len >= (size_t)m->max_backlog ||
	    (f->sender[0] != '\0' && mpm_clients_add(&m->clients, f->sender,
	    MPM_CLIENT_QUEUED) < 0)) {
		/* logged once a tick with a count (maintain()), so an
		 * overload does not also flood the log */
		m->rejected++;
		reject(m, f, NULL);	/* OpenSRF's own 503 text */
		return;
	}
	if (mpm_fifo_push(&m->backlog, f) < 0) {	/* cannot: len < cap */
		mpm_clients_sub(&m->clients, f->sender, MPM_CLIENT_QUEUED);
		m->rejected++;
		reject(m, f, NULL);
		return;
	}
	if (m->nkids >= m->lim.max_children)
		sb_count(m->sb, SB_C_MAXCHILD, 1);	/* queued at the cap */
	publish_backlog(m);
}

/* Take the head of the backlog out; its client's queue count too. */
static struct bus_frame *
unqueue(struct mpm *m)
{
	struct bus_frame	*f = mpm_fifo_pop(&m->backlog);

	if (f != NULL && f->sender[0] != '\0')
		mpm_clients_sub(&m->clients, f->sender, MPM_CLIENT_QUEUED);
	return f;
}

void
mpm_dispatch_backlog(struct mpm *m)
{
	struct bus_frame	*f;
	uint64_t		 now = 0;

	while (m->backlog.len > 0 && m->idle.head >= 0) {
		f = mpm_fifo_peek(&m->backlog);
		if (now == 0)
			now = mono_us();
		if (connect_too_late(m, f, now)) {
			f = unqueue(m);
			m->rejected++;
			reject(m, f, txt_connect_late);
			continue;
		}
		if (session_take(m, f) < 0) {
			f = unqueue(m);
			m->rejected++;
			reject(m, f, txt_sessions);
			continue;
		}
		if (give_idle(m, f) == 0)
			(void)unqueue(m);	/* == f */
		else
			mpm_req_release(m, f);	/* no child after all */
	}
	publish_backlog(m);
}

/*
 * Once a tick: answer the CONNECTs no client waits for any more, so that
 * they neither hold a child later nor keep the backlog full meanwhile.
 * The backlog keeps its order otherwise.
 */
static void
expire_connects(struct mpm *m)
{
	struct bus_frame	*f;
	uint64_t		 now = mono_us();
	size_t			 i, n = m->backlog.len;

	if (m->conf->svc->max_connect_wait <= 0)
		return;
	for (i = 0; i < n; i++) {
		f = unqueue(m);
		if (connect_too_late(m, f, now)) {
			m->rejected++;
			reject(m, f, txt_connect_late);
			continue;
		}
		/* back at the tail: after n turns the order is as it was */
		if (f->sender[0] != '\0' && mpm_clients_add(&m->clients,
		    f->sender, MPM_CLIENT_QUEUED) < 0) {
			reject(m, f, NULL);
			continue;
		}
		if (mpm_fifo_push(&m->backlog, f) < 0)
			reject(m, f, NULL);	/* cannot: one was taken */
	}
	publish_backlog(m);
}

/* Requests waiting: the parent's backlog, or a Redis service queue. */
static int
waiting(const struct mpm *m)
{
	struct bus_queue_info	qi;
	size_t			n = m->backlog.len;

	if (bus_queue_info(m->bus, &qi) == 0)
		n += qi.depth;
	return n > (size_t)MPM_MAX_SLOTS ? MPM_MAX_SLOTS : (int)n;
}

/*
 * Fork children for waiting requests, within limits and back-off.  Called
 * every round while requests wait, so it must not scan the slots: the
 * counts are the parent's running ones (all processes, retiring ones
 * included, so it never exceeds max_children processes).
 */
static void
spawn_on_demand(struct mpm *m)
{
	struct mpm_census	c;
	int			n;

	if (m->run != RUN_SERVING || m->fatal ||
	    m->nkids >= m->lim.max_children || mono_ms() < m->next_spawn_ms)
		return;
	if ((c.queued = waiting(m)) == 0)
		return;
	c.total = m->nkids;
	c.idle = m->idle.count;
	c.starting = m->nstarting;
	n = mpm_on_demand(&m->lim, &c);
	while (n-- > 0 && mpm_spawn(m) >= 0)
		;
}

/* ------------------------------------------------------ maintenance */

/*
 * A child checks its own lifetime after each request; one that stays
 * idle is retired here, on the tick, with the same reason.
 */
static void
retire_aged(struct mpm *m)
{
	uint64_t	now = mono_ms();
	int		i;

	for (i = 0; i < MPM_MAX_SLOTS; i++) {
		struct mpm_kid *k = &m->kids[i];

		if (k->pid == 0 || k->fsm.state != KID_IDLE ||
		    k->recycle.max_lifetime_us == 0 ||
		    (now - k->spawn_ms) * 1000 < k->recycle.max_lifetime_us)
			continue;
		log_info("slot %d (child %d): idle past its lifetime of %llu "
		    "s: retiring it", i, (int)k->pid, (unsigned long long)
		    (k->recycle.max_lifetime_us / 1000000));
		mpm_retire_why(m, i, SB_EXIT_LIFETIME);
	}
}

static void
maintain(struct mpm *m)
{
	struct mpm_census	c;
	struct mpm_plan		p;
	int			idx;

	if (m->rejected > 0) {
		log_warnx("no idle child and the backlog full (%d): %u "
		    "requests answered 503 in the last tick; consider "
		    "raising max_children or max_backlog_queue",
		    m->max_backlog, m->rejected);
		m->rejected = 0;
	}
	if (m->run != RUN_SERVING)
		return;
	retire_aged(m);
	mpm_census(m, &c);
	mpm_maintain(&m->lim, &c, &m->spawn_rate, &p);
	if (m->fatal || mono_ms() < m->next_spawn_ms) {
		p.spawn = 0;
	} else if (m->early_deaths > 0 && p.spawn > 1) {
		p.spawn = 1;	/* backing off: one at a time */
	}
	while (p.spawn-- > 0)
		if (mpm_spawn(m) < 0)
			break;
	if (p.retire > 0) {
		/* the least recently idle child: the tail of the list */
		for (idx = m->idle.head; idx >= 0 && m->idle.next[idx] >= 0;
		    idx = m->idle.next[idx])
			;
		if (idx >= 0) {
			log_debug("retiring surplus idle child in slot %d",
			    idx);
			mpm_retire(m, idx);
		}
	}
}

/*
 * request_timeout, on the monotonic clock: from the dispatch, or from
 * the start of the session request the child records in its slot (a
 * slot in SESSION is between requests and is not timed).
 */
static void
watchdog(struct mpm *m)
{
	struct sb_slot_info	si;
	uint64_t		now = mono_ms(), start, lim_ms;
	int			i;

	if (m->conf->svc->request_timeout <= 0)
		return;
	lim_ms = (uint64_t)m->conf->svc->request_timeout * 1000;
	for (i = 0; i < MPM_MAX_SLOTS; i++) {
		struct mpm_kid *k = &m->kids[i];

		if (k->pid == 0 || k->fsm.state != KID_BUSY ||
		    k->killed != KILL_NONE)
			continue;
		start = k->busy_us / 1000;
		si.method[0] = '\0';
		if (sb_read_slot(m->sb, i, &si) == 0) {
			if (si.state == SB_SESSION)
				continue;	/* between session requests */
			if (si.req_start_mono_us / 1000 > start)
				start = si.req_start_mono_us / 1000;
		}
		if (now < start || now - start < lim_ms)
			continue;
		log_warnx("request watchdog: slot %d (child %d) busy on "
		    "\"%s\" for %llu s > request_timeout %d s: killing it",
		    i, (int)k->pid, si.method,
		    (unsigned long long)((now - start) / 1000),
		    m->conf->svc->request_timeout);
		mpm_kill(m, i, SIGKILL, KILL_WATCHDOG);
	}
}

/* ------------------------------------------------------------ stop */

static void
reject_backlog(struct mpm *m)
{
	struct bus_frame	*f;

	while ((f = unqueue(m)) != NULL)
		reject(m, f, txt_stopping);
	publish_backlog(m);
}

static void
signal_all(struct mpm *m, int sig)
{
	int	i;

	for (i = 0; i < MPM_MAX_SLOTS; i++)
		mpm_kill(m, i, sig, KILL_STOP);
}

static void
begin_stop(struct mpm *m, enum mpm_run_state how)
{
	uint64_t	now = mono_ms();
	int		i;

	if (m->run == RUN_FAST || m->run == how)
		return;
	mpm_event_stopping(m);
	if (m->run == RUN_SERVING && m->want_reg &&
	    bus_register(m->bus, 0) < 0)
		log_info("stop: the %s bus has no routers to leave",
		    bus_kind_name(bus_kind(m->bus)));
	m->want_reg = 0;
	bus_take(m->bus, 0);	/* a Redis listener pops no more */
	m->run = how;
	if (how == RUN_STOPPING) {
		log_info("graceful stop: finishing %d queued and the busy "
		    "requests (at most %d s)", (int)m->backlog.len,
		    m->conf->svc->graceful_timeout);
		m->stop_deadline_ms = now +
		    (uint64_t)m->conf->svc->graceful_timeout * 1000;
		mpm_title_set("drover listener [%s] stopping",
		    m->conf->service);
		mpm_dispatch_backlog(m);
		if (m->backlog.len == 0)
			for (i = 0; i < MPM_MAX_SLOTS; i++)
				if (m->kids[i].fsm.state != KID_BUSY)
					mpm_retire(m, i);
		return;
	}
	log_info("fast stop");
	reject_backlog(m);
	signal_all(m, SIGTERM);
	m->stop_signalled = 1;
	m->kill_deadline_ms = now + MPM_KILL_GRACE_MS;
}

/*
 * Escalate a stop on its deadlines: SIGTERM, then SIGKILL, then give up.
 * 1 when the loop should end although children remain.
 */
static int
stop_escalate(struct mpm *m)
{
	uint64_t	now = mono_ms();
	int		i;

	if (m->run == RUN_SERVING)
		return 0;
	if (m->run == RUN_STOPPING && m->backlog.len > 0 &&
	    mpm_alive_current(m) == 0 && m->nkids == 0)
		reject_backlog(m);
	if (!m->stop_signalled && now >= m->stop_deadline_ms) {
		log_warnx("graceful_timeout reached: terminating %d "
		    "remaining children", m->nkids);
		reject_backlog(m);
		signal_all(m, SIGTERM);
		m->stop_signalled = 1;
		m->kill_deadline_ms = now + MPM_KILL_GRACE_MS;
	} else if (m->stop_signalled && m->kill_deadline_ms != 0 &&
	    now >= m->kill_deadline_ms) {
		log_warnx("children still alive %d ms after SIGTERM: "
		    "SIGKILL", MPM_KILL_GRACE_MS);
		signal_all(m, SIGKILL);
		m->kill_deadline_ms = 0;
		m->giveup_ms = now + MPM_GIVEUP_MS;
	} else if (m->giveup_ms != 0 && now >= m->giveup_ms) {
		for (i = 0; i < MPM_MAX_SLOTS; i++)
			if (m->kids[i].pid != 0)
				log_errx("child %d (slot %d) survived SIGKILL "
				    "for %d ms (uninterruptible sleep?): "
				    "giving up on it", (int)m->kids[i].pid, i,
				    MPM_GIVEUP_MS);
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------- reload */

static void
reload(struct mpm *m)
{
	struct core_conf	*core = NULL;
	struct svc_conf		*svc = NULL;
	struct mpm_limits	 lim;
	char			 why[CFG_ERR_MAX];
	int			 i, rc;

	if (m->run != RUN_SERVING)
		return;
	mpm_event_reloading(m);
	if (log_reopen() < 0)
		log_warnx("reload: cannot reopen the log file");
	if (m->conf->reload != NULL) {
		rc = m->conf->reload(m->conf->reload_arg, &core, &svc, why,
		    sizeof(why));
		if (rc < 0) {
			log_errx("reload: keeping the running configuration: "
			    "%s", why);
			return;
		}
		lim.min_children = svc->min_children;
		lim.max_children = svc->max_children;
		lim.min_spare = svc->min_spare_children;
		lim.max_spare = svc->max_spare_children;
		if (mpm_limits_check(&lim, why, sizeof(why)) < 0 ||
		    mpm_fifo_resize(&m->backlog,
		    (size_t)svc->max_backlog_queue > m->backlog.len ?
		    (size_t)svc->max_backlog_queue : m->backlog.len) < 0) {
			log_errx("reload: keeping the running configuration: "
			    "%s", why);
			core_conf_free(&core);
			svc_conf_free(&svc);
			return;
		}
		/* the old ones stay alive: see mpm_int.h */
		m->old_core = xrealloc(m->old_core,
		    (m->nold + 1) * sizeof(*m->old_core));
		m->old_svc = xrealloc(m->old_svc,
		    (m->nold + 1) * sizeof(*m->old_svc));
		m->old_core[m->nold] = NULL;
		if (core != NULL) {
			m->old_core[m->nold] = m->conf->core;
			m->conf->core = core;
			log_set_level(core->loglevel);
		}
		m->old_svc[m->nold++] = m->conf->svc;
		m->conf->svc = svc;
		m->lim = lim;
		m->max_backlog = svc->max_backlog_queue;
		bus_set_queue_max(m->bus, svc->max_backlog_queue_set ?
		    (unsigned)m->max_backlog : 0);
		mpm_client_limits(m);
	}
	m->generation++;
	mpm_publish_conf(m);
	log_info("reload: generation %u; replacing children (min %d, max "
	    "%d, spare %d-%d)", m->generation, m->lim.min_children,
	    m->lim.max_children, m->lim.min_spare, m->lim.max_spare);
	/* new children first, so requests keep finding idle ones */
	for (i = 0; i < MPM_MAX_SLOTS; i++)
		if (m->kids[i].pid != 0 && m->kids[i].fsm.state != KID_BUSY)
			mpm_retire(m, i);
	maintain(m);
}

/* --------------------------------------------------------- signals */

static void
adjust_max(struct mpm *m, int delta)
{
	int	floor = m->lim.min_children > 1 ? m->lim.min_children : 1;
	int	n = m->lim.max_children + delta;

	if (n < floor || n > MPM_MAX_SLOTS) {
		log_warnx("max_children stays %d (bounds %d-%d)",
		    m->lim.max_children, floor, MPM_MAX_SLOTS);
		return;
	}
	m->lim.max_children = n;
	if (m->lim.max_spare > 0 && m->lim.min_spare > n)
		m->lim.min_spare = n;
	mpm_client_limits(m);
	sb_set_max_children_now(m->sb, (uint32_t)n);
	log_info("max_children now %d", n);
}

/* SIGUSR1 (on 0) and SIGUSR2 (on 1): leave or join the routers. */
static void
registration(struct mpm *m, int on)
{
	const char	*sig = on ? "SIGUSR2" : "SIGUSR1";
	int		 rc;

	m->want_reg = on;
	rc = bus_register(m->bus, on);
	if (rc == -ENOTSUP)
		log_info("%s: the %s bus has no routers: nothing to %s", sig,
		    bus_kind_name(bus_kind(m->bus)), on ? "join" : "leave");
	else if (bus_state(m->bus) != BUS_UP)
		log_info("%s: the bus is down; %s when it is back", sig, on ?
		    "registering" : "not registering again");
	else
		log_info("%s: %s %d router%s", sig, on ? "registered with" :
		    "unregistered from", rc, rc == 1 ? "" : "s");
}

static void
take_signals(struct mpm *m)
{
	struct signalfd_siginfo	si;
	ssize_t			r;

	for (;;) {
		r = read(m->sigfd, &si, sizeof(si));
		if (r == -1 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(si))
			return;
		switch (si.ssi_signo) {
		case SIGCHLD:
			mpm_reap(m);
			break;
		case SIGTERM:
			begin_stop(m, RUN_STOPPING);
			break;
		case SIGINT:
		case SIGQUIT:
			begin_stop(m, RUN_FAST);
			break;
		case SIGHUP:
			log_info("SIGHUP: reloading");
			reload(m);
			break;
		case SIGUSR1:
		case SIGUSR2:
			if (m->run == RUN_SERVING)
				registration(m, si.ssi_signo == SIGUSR2);
			break;
		case SIGTTIN:
			adjust_max(m, 1);
			break;
		case SIGTTOU:
			adjust_max(m, -1);
			break;
		default:
			break;
		}
	}
}

/* ------------------------------------------------------------- bus */

/*
 * Run the bus and take every frame it holds now.  Error messages are
 * dropped (spec 1.4: a bounce of something the parent sent; the bus
 * keeps its own registration bounces), as is anything that is not a
 * message.  While stopping, requests get a 503: nothing that reached us
 * goes unanswered.
 */
static void
serve_bus(struct mpm *m, int readable)
{
	struct bus_frame	*f;
	int			 ev;

	/* changes are logged by the bus; a login may bring messages */
	ev = bus_run(m->bus);
	if (ev & BUS_EV_UP)
		readable = 1;
	if (ev != 0)
		publish_bus(m);
	while (readable && bus_recv(m->bus, &f) == 1) {
		readable = bus_more(m->bus);
		if (f->flags & (BUS_F_ERROR | BUS_F_OTHER)) {
			log_info("dropping %s from the bus: %.200s",
			    f->flags & BUS_F_ERROR ? "an error" :
			    "a non-message", f->raw);
			bus_frame_free(&f);
			continue;
		}
		if (f->flags & BUS_F_OVERFLOW) {
			m->rejected++;
			reject(m, f, NULL);
			continue;
		}
		if (f->len > m->conf->svc->max_request_size) {
			log_warnx("request of %zu bytes exceeds "
			    "max_request_size %zu: rejected", f->len,
			    m->conf->svc->max_request_size);
			reject(m, f, "Request too large");
			continue;
		}
		sb_count(m->sb, SB_C_ACCEPTED, 1);
		if (m->run != RUN_SERVING) {
			reject(m, f, txt_stopping);
			continue;
		}
		take_request(m, f);
	}
	if (bus_watch(m->bus, m->epfd, MPM_EV_BUS) < 0)
		log_warnx("bus: cannot watch its descriptor");
}

/* ------------------------------------------------------------ loop */

static int
wait_ms(struct mpm *m)
{
	uint64_t	now = mono_ms(), until = m->next_tick_ms;
	int		b;

	if (m->next_spawn_ms > now && m->next_spawn_ms < until &&
	    (waiting(m) > 0 || mpm_alive_current(m) < m->lim.min_children))
		until = m->next_spawn_ms;
	if ((b = bus_timeout_ms(m->bus, now)) >= 0 && now + b < until)
		until = now + (uint64_t)b;
	if (m->run != RUN_SERVING) {
		if (!m->stop_signalled && m->stop_deadline_ms < until)
			until = m->stop_deadline_ms;
		if (m->kill_deadline_ms != 0 && m->kill_deadline_ms < until)
			until = m->kill_deadline_ms;
		if (m->giveup_ms != 0 && m->giveup_ms < until)
			until = m->giveup_ms;
	}
	return until > now ? (int)(until - now) : 0;
}

/* Whether a done record must wake the parent now (the comment above). */
static int
done_urgent(const struct mpm *m)
{
	return m->idle.count == 0 || m->backlog.len > 0 ||
	    m->run != RUN_SERVING || m->conf->on_done != NULL;
}

/*
 * Into the epoll set as soon as it is urgent; out only on the tick, so a
 * pool near saturation does not pay an epoll_ctl() per request.
 */
static void
watch_done(struct mpm *m, int tick)
{
	int	want = done_urgent(m);

	if (want && !m->done_polled) {
		if (mpm_poll_add(m, m->done_r, EPOLLIN, MPM_EV_DONE) < 0)
			log_warn("epoll_ctl for the done pipe");
		else
			m->done_polled = 1;
	} else if (!want && m->done_polled && tick) {
		(void)epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->done_r, NULL);
		m->done_polled = 0;
	}
}

int
mpm_loop(struct mpm *m)
{
	struct epoll_event	ev[MPM_EVENTS];
	uint64_t		now, tag;
	int			i, n, bus_ev;

	m->next_tick_ms = mono_ms() + MPM_TICK_MS;
	for (;;) {
		if (m->run != RUN_SERVING && m->nkids == 0 &&
		    m->backlog.len == 0)
			return MPM_DEXIT_OK;
		if (m->run == RUN_SERVING && m->fatal && m->nkids == 0) {
			log_errx("no child can run: stopping");
			begin_stop(m, RUN_FAST);
			return MPM_DEXIT_FAIL;
		}
		watch_done(m, 0);
		bus_take(m->bus, m->run == RUN_SERVING ?
		    (unsigned)m->idle.count : 0);
		if (bus_watch(m->bus, m->epfd, MPM_EV_BUS) < 0)
			log_warnx("bus: cannot watch its descriptor");
		n = epoll_wait(m->epfd, ev, MPM_EVENTS, wait_ms(m));
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait");
		bus_ev = 0;
		for (i = 0; i < n; i++) {
			tag = ev[i].data.u64;
			if (tag == MPM_EV_SIG)
				take_signals(m);
			else if (tag == MPM_EV_BUS)
				bus_ev = 1;
			else if (tag >= MPM_EV_OUT &&
			    tag < MPM_EV_OUT + MPM_MAX_SLOTS) {
				if (m->kids[tag - MPM_EV_OUT].pid != 0)
					mpm_kid_output(m,
					    (int)(tag - MPM_EV_OUT));
			}
		}
		mpm_done_drain(m);	/* woken by it or not */
		mpm_dispatch_backlog(m);
		/* the bus has timers of its own: it runs every round */
		serve_bus(m, bus_ev);
		if (m->run == RUN_STOPPING && m->backlog.len == 0)
			for (i = 0; i < MPM_MAX_SLOTS; i++)
				if (m->kids[i].pid != 0 &&
				    m->kids[i].fsm.state == KID_IDLE)
					mpm_retire(m, i);
		now = mono_ms();
		if (now >= m->next_tick_ms) {
			m->next_tick_ms = now + MPM_TICK_MS;
			m->reaped = 0;
			maintain(m);
			watchdog(m);
			expire_connects(m);
			publish_bus(m);
			mpm_event_tick(m);
			watch_done(m, 1);
		} else if ((m->next_spawn_ms != 0 && now >= m->next_spawn_ms) ||
		    (m->reaped && now >= m->next_spawn_ms)) {
			/* a dead child is replaced now, not at the next tick,
			 * unless a crash loop's back-off says wait */
			m->next_spawn_ms = 0;
			m->reaped = 0;
			maintain(m);
		}
		spawn_on_demand(m);
		mpm_event_round(m);
		if (stop_escalate(m))
			return MPM_DEXIT_OK;
	}
}
