/*
 * mpm_loop.c: the parent's main loop.
 *
 * One epoll set holds the bus, the signalfd and every child's done pipe.
 * Each round: wait (until the next 1 s maintenance tick, or the end of a
 * fork back-off, or a stop deadline); take signals; take done records
 * (children back on the idle list, the backlog drained at once); take
 * stanzas from the bus (straight to the most recently idle child, else
 * the bounded backlog, else a 503); then, on the tick, pool maintenance
 * and the request watchdog.  No work happens in signal context.
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
#include "transport.h"

#define MPM_TICK_MS		1000	/* Apache's maintenance interval */
#define MPM_EVENTS		64	/* epoll events per round */
/*
 * After SIGTERM to children that outlived graceful_timeout, how long
 * before SIGKILL: long enough for a plugin's own SIGTERM cleanup (none by
 * default), short enough that a stop never hangs.
 */
#define MPM_KILL_GRACE_MS	3000
/* Longest wait before registering again after a bounced registration. */
#define MPM_REREG_MAX_MS	30000
/* How long a reconnect of the parent's bus may block the loop. */
#define MPM_REOPEN_MS		5000

static int	drain_bus(struct mpm *);

/* Take the bus out of the epoll set (it is gone or we stop reading). */
static void
unpoll_bus(struct mpm *m)
{
	if (m->bus_fd >= 0)
		(void)epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->bus_fd, NULL);
	m->bus_fd = -1;	/* ENOENT/EBADF above: it was gone already */
}

/* ---------------------------------------------------------- dispatch */

/*
 * Hand st to idle child idx.  On success the child owns the request and
 * the slot keeps st for a rescue; on failure (the child is dying) st is
 * untouched and the caller tries elsewhere.
 */
static int
give(struct mpm *m, int idx, struct xstanza *st)
{
	struct mpm_kid	*k = &m->kids[idx];
	int		 rc;

	rc = mpm_frame_send(k->data_w, MPM_FRAME_REQ, st->raw, st->len);
	if (rc < 0) {
		log_warnx("dispatch to slot %d (child %d) failed: %s; "
		    "killing it", idx, (int)k->pid, strerror(-rc));
		mpm_kill(m, idx, SIGKILL, KILL_NONE);
		k->state = KID_EXITING;
		k->retiring = 1;
		return rc;
	}
	k->state = KID_BUSY;
	k->req = st;
	k->busy_us = wall_us();
	return 0;
}

static void
reject(struct mpm *m, struct xstanza *st, const char *why)
{
	sb_count(m->sb, SB_C_REJECTED, 1);
	mpm_reply_status(m, st, NULL, 503, why);
	xstanza_free(&st);
}

/* Dispatch or queue one request; takes ownership of st. */
static void
take_request(struct mpm *m, struct xstanza *st)
{
	int	idx;

	if (m->backlog.len == 0) {
		while ((idx = mpm_idle_pop(&m->idle)) >= 0)
			if (give(m, idx, st) == 0)
				return;
	}
	if (m->backlog.len >= (size_t)m->max_backlog ||
	    mpm_fifo_push(&m->backlog, st) < 0) {
		/* logged once a tick with a count (maintain()), so an
		 * overload does not also flood the log */
		m->rejected++;
		reject(m, st, NULL);	/* OpenSRF's own 503 text */
		return;
	}
	if (m->nkids >= m->lim.max_children)
		sb_count(m->sb, SB_C_MAXCHILD, 1);	/* queued at the cap */
	sb_set_queued(m->sb, m->backlog.len);
}

void
mpm_dispatch_backlog(struct mpm *m)
{
	struct xstanza	*st;
	int		 idx;

	while (m->backlog.len > 0 && (idx = mpm_idle_pop(&m->idle)) >= 0) {
		st = mpm_fifo_peek(&m->backlog);
		if (give(m, idx, st) == 0)
			(void)mpm_fifo_pop(&m->backlog);	/* == st */
	}
	sb_set_queued(m->sb, m->backlog.len);
}

/*
 * Fork children for queued requests, within limits and back-off.  Called
 * every round while requests wait, so it must not scan the slots: the
 * counts are the parent's running ones (all processes, retiring ones
 * included, so it never exceeds max_children processes).
 */
static void
spawn_on_demand(struct mpm *m)
{
	struct mpm_census	c;
	int			n;

	if (m->run != RUN_SERVING || m->fatal || m->backlog.len == 0 ||
	    m->nkids >= m->lim.max_children || mono_ms() < m->next_spawn_ms)
		return;
	c.total = m->nkids;
	c.idle = m->idle.count;
	c.starting = m->nstarting;
	c.queued = (int)m->backlog.len;
	n = mpm_on_demand(&m->lim, &c);
	while (n-- > 0 && mpm_spawn(m) >= 0)
		;
}

/* --------------------------------------------------------- children */

static void
kid_ready(struct mpm *m, int idx, const struct mpm_done *d)
{
	struct mpm_kid	*k = &m->kids[idx];

	k->served = d->requests;
	if (k->req != NULL) {
		if (m->conf->on_done != NULL)
			m->conf->on_done(m->conf->on_done_arg, k->req);
		xstanza_free(&k->req);
	}
	if (d->kind == MPM_DONE_READY && !k->ready_seen) {
		k->ready_seen = 1;
		m->nstarting--;
	}
	else if (d->kind == MPM_DONE_IDLE)
		m->early_deaths = 0;	/* it served: not a crash loop */
	if (d->kind == MPM_DONE_EXITING) {
		k->state = KID_EXITING;
		k->retiring = 1;
		return;
	}
	if (k->retiring) {
		k->state = KID_EXITING;
		return;
	}
	k->state = KID_IDLE;
	if (k->generation != m->generation || (m->run != RUN_SERVING &&
	    m->backlog.len == 0)) {
		mpm_retire(m, idx);
		return;
	}
	mpm_idle_push(&m->idle, idx);
}

void
mpm_kid_event(struct mpm *m, int idx)
{
	struct mpm_kid	*k = &m->kids[idx];
	struct mpm_done	 d;
	int		 rc = 0;

	while (k->done_r >= 0 && (rc = mpm_done_read(k->done_r, &d)) > 0)
		kid_ready(m, idx, &d);
	if (k->done_r >= 0 && rc < 0) {
		/* end of file: it is exiting; SIGCHLD will reap it */
		(void)epoll_ctl(m->epfd, EPOLL_CTL_DEL, k->done_r, NULL);
		(void)mpm_idle_remove(&m->idle, idx);
		if (k->state != KID_BUSY)
			k->state = KID_EXITING;
		k->retiring = 1;
	}
}

/* ------------------------------------------------------ maintenance */

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

static void
watchdog(struct mpm *m)
{
	struct sb_slot_info	si;
	uint64_t		now = wall_us(), start, lim_us;
	int			i;

	if (m->conf->svc->request_timeout <= 0)
		return;
	lim_us = (uint64_t)m->conf->svc->request_timeout * 1000000;
	for (i = 0; i < MPM_MAX_SLOTS; i++) {
		struct mpm_kid *k = &m->kids[i];

		if (k->pid == 0 || k->state != KID_BUSY ||
		    k->killed != KILL_NONE)
			continue;
		start = k->busy_us;
		si.method[0] = '\0';
		if (sb_read_slot(m->sb, i, &si) == 0) {
			if (si.state == SB_SESSION)
				continue;	/* between session requests */
			if (si.req_start_us > start)
				start = si.req_start_us;
		}
		if (now < start || now - start < lim_us)
			continue;
		log_warnx("request watchdog: slot %d (child %d) busy on "
		    "\"%s\" for %llu s > request_timeout %d s: killing it",
		    i, (int)k->pid, si.method,
		    (unsigned long long)((now - start) / 1000000),
		    m->conf->svc->request_timeout);
		mpm_kill(m, i, SIGKILL, KILL_WATCHDOG);
	}
}

/* ------------------------------------------------------------ stop */

static void
begin_stop(struct mpm *m, enum mpm_run_state how)
{
	struct xstanza	*st;
	uint64_t	 now = mono_ms();
	int		 i, rc;

	if (m->run == RUN_FAST || m->run == how)
		return;
	if (m->registered && m->conf->source->unreg != NULL) {
		if ((rc = m->conf->source->unreg(m->conf->source->arg,
		    m->bus)) < 0)
			log_warnx("unregistering from the routers: %s",
			    strerror(-rc));
		m->registered = 0;
	}
	if (m->run == RUN_SERVING) {
		/* what already reached us is served, nothing more */
		m->run = how;
		(void)drain_bus(m);	/* an error: nothing more to take */
		unpoll_bus(m);
	}
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
				mpm_retire(m, i);
		return;
	}
	log_info("fast stop");
	while ((st = mpm_fifo_pop(&m->backlog)) != NULL)
		reject(m, st, "Service unavailable: the service is "
		    "shutting down");
	sb_set_queued(m->sb, 0);
	for (i = 0; i < MPM_MAX_SLOTS; i++)
		mpm_kill(m, i, SIGTERM, KILL_STOP);
	m->stop_signalled = 1;
	m->kill_deadline_ms = now + MPM_KILL_GRACE_MS;
}

/* Escalate a stop on its deadlines: SIGTERM, then SIGKILL. */
static void
stop_escalate(struct mpm *m)
{
	struct xstanza	*st;
	uint64_t	 now = mono_ms();
	int		 i;

	if (m->run == RUN_SERVING)
		return;
	if (m->run == RUN_STOPPING && m->backlog.len > 0 &&
	    mpm_alive_current(m) == 0 && m->nkids == 0) {
		while ((st = mpm_fifo_pop(&m->backlog)) != NULL)
			reject(m, st, "Service unavailable: the service is "
			    "shutting down");
		sb_set_queued(m->sb, 0);
	}
	if (!m->stop_signalled && now >= m->stop_deadline_ms) {
		log_warnx("graceful_timeout reached: terminating %d "
		    "remaining children", m->nkids);
		while ((st = mpm_fifo_pop(&m->backlog)) != NULL)
			reject(m, st, "Service unavailable: the service is "
			    "shutting down");
		sb_set_queued(m->sb, 0);
		for (i = 0; i < MPM_MAX_SLOTS; i++)
			mpm_kill(m, i, SIGTERM, KILL_STOP);
		m->stop_signalled = 1;
		m->kill_deadline_ms = now + MPM_KILL_GRACE_MS;
	} else if (m->stop_signalled && m->kill_deadline_ms != 0 &&
	    now >= m->kill_deadline_ms) {
		log_warnx("children still alive %d ms after SIGTERM: "
		    "SIGKILL", MPM_KILL_GRACE_MS);
		for (i = 0; i < MPM_MAX_SLOTS; i++)
			mpm_kill(m, i, SIGKILL, KILL_STOP);
		m->kill_deadline_ms = 0;
	}
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
	}
	m->generation++;
	mpm_publish_conf(m);
	log_info("reload: generation %u; replacing children (min %d, max "
	    "%d, spare %d-%d)", m->generation, m->lim.min_children,
	    m->lim.max_children, m->lim.min_spare, m->lim.max_spare);
	/* new children first, so requests keep finding idle ones */
	for (i = 0; i < MPM_MAX_SLOTS; i++)
		if (m->kids[i].pid != 0 && !m->kids[i].retiring &&
		    m->kids[i].state != KID_BUSY)
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
	sb_set_max_children_now(m->sb, (uint32_t)n);
	log_info("max_children now %d", n);
}

static void
take_signals(struct mpm *m)
{
	struct signalfd_siginfo	si;
	ssize_t			r;
	int			rc;

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
			if (m->run != RUN_SERVING)
				break;
			if (si.ssi_signo == SIGUSR1 &&
			    m->conf->source->unreg != NULL) {
				rc = m->conf->source->unreg(
				    m->conf->source->arg, m->bus);
				m->registered = 0;
				m->want_reg = 0;
			} else if (si.ssi_signo == SIGUSR2 &&
			    m->conf->source->reg != NULL) {
				rc = m->conf->source->reg(
				    m->conf->source->arg, m->bus);
				m->registered = rc == 0;
				m->want_reg = 1;
			} else
				rc = 0;
			log_info("%s: %s the routers%s%s",
			    si.ssi_signo == SIGUSR1 ? "SIGUSR1" : "SIGUSR2",
			    si.ssi_signo == SIGUSR1 ? "unregistered from" :
			    "registered with", rc < 0 ? ": " : "",
			    rc < 0 ? strerror(-rc) : "");
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
 * Error stanzas are dropped (spec 1.4), except our own registration come
 * back: then register again later, with back-off.
 */
static void
error_stanza(struct mpm *m, const struct xstanza *st)
{
	const struct mpm_source	*src = m->conf->source;
	unsigned		 ms;

	if (src->reg_bounced == NULL || !m->want_reg ||
	    !src->reg_bounced(src->arg, st)) {
		log_info("dropping an error stanza (%s): %.200s", st->name,
		    st->raw);
		return;
	}
	if (m->reg_retry_ms != 0)
		return;		/* one bounce per router: one retry */
	/* 1 s, doubling to 30 s: a router takes seconds to come up */
	ms = mpm_backoff_ms(++m->reg_bounces) * 10;
	if (ms > MPM_REREG_MAX_MS)
		ms = MPM_REREG_MAX_MS;
	m->reg_retry_ms = mono_ms() + ms;
	log_warnx("registration bounced (router not online?); registering "
	    "again in %u ms", ms);
}

/* Register again when a bounced registration's delay has run out. */
static void
reregister(struct mpm *m)
{
	int	rc;

	if (m->reg_retry_ms == 0 || mono_ms() < m->reg_retry_ms)
		return;
	m->reg_retry_ms = 0;
	if (m->run != RUN_SERVING || !m->want_reg || m->bus_fd < 0 ||
	    m->conf->source->reg == NULL)
		return;
	if ((rc = m->conf->source->reg(m->conf->source->arg, m->bus)) < 0)
		log_warnx("registering with the routers: %s", strerror(-rc));
	else
		m->registered = 1;
}

/*
 * Take every stanza the bus holds now.  0, or the bus's error (the
 * caller decides what it means).
 */
static int
drain_bus(struct mpm *m)
{
	struct xstanza	*st;
	int		 rc;

	for (;;) {
		if ((rc = transport_recv(m->bus, &st)) <= 0)
			return rc;
		if (st->is_error) {
			error_stanza(m, st);
			xstanza_free(&st);
			continue;
		}
		m->reg_bounces = 0;	/* requests reach us: routed */
		if (st->len > m->conf->svc->max_request_size) {
			log_warnx("request of %zu bytes exceeds "
			    "max_request_size %zu: rejected", st->len,
			    m->conf->svc->max_request_size);
			reject(m, st, "Request too large");
			continue;
		}
		sb_count(m->sb, SB_C_ACCEPTED, 1);
		take_request(m, st);
	}
}

static void
serve_bus(struct mpm *m)
{
	unsigned	ms;
	int		rc;

	if ((rc = drain_bus(m)) < 0) {
		/*
		 * The connection is gone (transport.h: the owner opens it
		 * again, with its own back-off).  Children and the backlog
		 * keep working meanwhile; replies the parent itself owes
		 * fail and are logged.
		 */
		unpoll_bus(m);
		m->registered = 0;
		ms = mpm_backoff_ms(++m->bus_failures);
		m->bus_retry_ms = mono_ms() + ms;
		log_errx("bus: %s; reconnecting in %u ms", strerror(-rc),
		    ms);
		return;
	}
	spawn_on_demand(m);
}

/* Reconnect the parent's bus when its back-off has run out. */
static void
reconnect_bus(struct mpm *m)
{
	unsigned	ms;
	int		rc;

	if (m->bus_retry_ms == 0 || mono_ms() < m->bus_retry_ms ||
	    m->run != RUN_SERVING)
		return;
	m->bus_retry_ms = 0;
	m->bus->ops->close(m->bus);
	if ((rc = transport_open(m->bus, MPM_REOPEN_MS)) < 0 ||
	    (rc = mpm_poll_add(m, transport_fd(m->bus), MPM_EV_BUS)) < 0) {
		ms = mpm_backoff_ms(++m->bus_failures);
		m->bus_retry_ms = mono_ms() + ms;
		log_errx("bus: reconnect failed: %s; next try in %u ms",
		    strerror(-rc), ms);
		return;
	}
	m->bus_fd = transport_fd(m->bus);
	m->bus_failures = 0;
	log_info("bus: reconnected");
	if (m->want_reg && m->conf->source->reg != NULL) {
		if ((rc = m->conf->source->reg(m->conf->source->arg,
		    m->bus)) < 0)
			log_warnx("registering with the routers: %s",
			    strerror(-rc));
		else
			m->registered = 1;
	}
}

/* ------------------------------------------------------------ loop */

static int
wait_ms(struct mpm *m)
{
	uint64_t	now = mono_ms(), until = m->next_tick_ms;

	if (m->next_spawn_ms > now && m->next_spawn_ms < until &&
	    (m->backlog.len > 0 || mpm_alive_current(m) <
	    m->lim.min_children))
		until = m->next_spawn_ms;
	if (m->bus_retry_ms != 0 && m->bus_retry_ms < until)
		until = m->bus_retry_ms > now ? m->bus_retry_ms : now;
	if (m->reg_retry_ms != 0 && m->reg_retry_ms < until)
		until = m->reg_retry_ms > now ? m->reg_retry_ms : now;
	if (m->run != RUN_SERVING) {
		if (!m->stop_signalled && m->stop_deadline_ms < until)
			until = m->stop_deadline_ms;
		if (m->kill_deadline_ms != 0 && m->kill_deadline_ms < until)
			until = m->kill_deadline_ms;
	}
	return until > now ? (int)(until - now) : 0;
}

int
mpm_loop(struct mpm *m)
{
	struct epoll_event	ev[MPM_EVENTS];
	int			i, n;
	uint64_t		now;

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
		n = epoll_wait(m->epfd, ev, MPM_EVENTS, wait_ms(m));
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait");
		for (i = 0; i < n; i++) {
			if (ev[i].data.u64 == MPM_EV_SIG)
				take_signals(m);
			else if (ev[i].data.u64 < MPM_MAX_SLOTS)
				mpm_kid_event(m, (int)ev[i].data.u64);
		}
		mpm_dispatch_backlog(m);
		for (i = 0; i < n; i++)
			if (ev[i].data.u64 == MPM_EV_BUS &&
			    m->run == RUN_SERVING)
				serve_bus(m);
		if (m->run == RUN_STOPPING && m->backlog.len == 0)
			for (i = 0; i < MPM_MAX_SLOTS; i++)
				if (m->kids[i].pid != 0 &&
				    m->kids[i].state == KID_IDLE)
					mpm_retire(m, i);
		now = mono_ms();
		if (now >= m->next_tick_ms) {
			m->next_tick_ms = now + MPM_TICK_MS;
			maintain(m);
			watchdog(m);
		} else if (m->next_spawn_ms != 0 && now >= m->next_spawn_ms) {
			m->next_spawn_ms = 0;
			maintain(m);
		}
		spawn_on_demand(m);
		reconnect_bus(m);
		reregister(m);
		stop_escalate(m);
	}
}
