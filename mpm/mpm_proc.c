/*
 * mpm_proc.c: the parent's side of child processes: fork into a slot,
 * the one place a child's state changes (mpm_kid_event()), the pipes
 * (requests out, done records in), reap (and rescue a dead child's
 * request), retire, kill, and count.
 *
 * Called from the parent's main loop only.  The parent owns each slot's
 * data pipe (data_w) from fork to reap, non-blocking on its side, so a
 * child that does not read its pipe stalls only itself; the done pipe
 * is one for all children (mpm_int.h).
 */
#include "mpm_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "mpm_frame.h"
#include "scoreboard/sb.h"

/*
 * A child that dies within this long of its fork, or before it was ever
 * ready, counts as an early death: several in a row are a crash loop and
 * slow forking down (mpm_backoff_ms()).
 */
#define MPM_EARLY_MS		2000
/* Consecutive early deaths before the log calls it a crash loop. */
#define MPM_CRASH_LOOP		3

/* ----------------------------------------------------------- state */

int
mpm_kid_event(struct mpm *m, int idx, enum mpm_kid_event ev)
{
	struct mpm_kid		*k = &m->kids[idx];
	enum mpm_kid_state	 from = k->fsm.state, to;
	int			 rc;

	if ((rc = mpm_kid_step(&k->fsm, ev)) < 0) {
		log_warnx("slot %d (child %d): %s while %s: ignored", idx,
		    (int)k->pid, mpm_kid_event_name(ev),
		    mpm_kid_state_name(from));
		return rc;
	}
	to = k->fsm.state;
	if (from == to)
		return 0;
	if (from == KID_IDLE)
		(void)mpm_idle_remove(&m->idle, idx);	/* listed: 1 */
	if (to == KID_IDLE)
		mpm_idle_push(&m->idle, idx);
	if (from == KID_STARTING)
		m->nstarting--;
	if (to == KID_STARTING)
		m->nstarting++;
	return 0;
}

/* ------------------------------------------------------------ fork */

uint32_t
mpm_rand(struct mpm *m)
{
	/* xorshift32: jitter needs spread, not secrecy */
	m->rnd ^= m->rnd << 13;
	m->rnd ^= m->rnd >> 17;
	m->rnd ^= m->rnd << 5;
	return m->rnd;
}

/* A free slot, preferring EMPTY ones so DEAD slots stay inspectable. */
static int
free_slot(struct mpm *m)
{
	int	i, dead = -1;

	for (i = 0; i < MPM_MAX_SLOTS; i++) {
		if (m->kids[i].pid != 0)
			continue;
		if (atomic_load(&sb_slot(m->sb, i)->state) == SB_EMPTY)
			return i;
		if (dead < 0)
			dead = i;
	}
	return dead;
}

int
mpm_spawn(struct mpm *m)
{
	struct mpm_kid	*k;
	int		 data[2], idx, rc;
	pid_t		 pid;

	if ((idx = free_slot(m)) < 0)
		return -EAGAIN;
	if (pipe2(data, O_CLOEXEC) == -1) {
		rc = -errno;
		log_warn("pipe2 while spawning into slot %d", idx);
		return rc;
	}
	k = &m->kids[idx];
	mpm_recycle_limits_set(&k->recycle, m->conf->svc,
	    mpm_req_limit(m->conf->svc->max_requests,
	    m->conf->svc->max_requests_jitter, mpm_rand(m)), mpm_rand(m));
	(void)sb_slot_spawn(m->sb, idx, m->generation);	/* ours: idx valid */
	/* a child exits through exit(3): it must not flush our buffers */
	(void)fflush(NULL);	/* best effort: nothing to do if it fails */
	if ((pid = fork()) == -1) {
		rc = -errno;
		log_warn("fork while spawning into slot %d", idx);
		sb_slot_clear(m->sb, idx);
		close(data[0]);
		close(data[1]);
		return rc;
	}
	if (pid == 0) {
		close(data[1]);
		mpm_child_main(m, idx, data[0]);
	}
	close(data[0]);
	k->pid = pid;
	k->data_w = data[1];
	k->req_off = k->retire_off = 0;
	k->req_pending = k->retire_due = k->out_polled = 0;
	k->generation = m->generation;
	k->killed = KILL_NONE;
	k->served = 0;
	k->ready_seen = 0;
	k->spawn_ms = mono_ms();
	k->sigkill_ms = 0;
	k->req = NULL;
	m->nkids++;
	(void)mpm_kid_event(m, idx, KEV_SPAWN);	/* FREE: legal */
	if (fd_set_nonblock(k->data_w) < 0) {
		/* a blocking write could stall the parent: do without it */
		log_warn("fcntl(O_NONBLOCK) on slot %d's pipe", idx);
		mpm_kill(m, idx, SIGKILL, KILL_BROKEN);
	}
	log_debug("spawned child %d into slot %d (limit %llu requests)",
	    (int)pid, idx, (unsigned long long)k->recycle.max_requests);
	return idx;
}

void
mpm_kill(struct mpm *m, int idx, int sig, enum mpm_kill_why why)
{
	struct mpm_kid	*k = &m->kids[idx];

	if (k->pid <= 0)
		return;
	if (why != KILL_NONE && k->killed == KILL_NONE)
		k->killed = why;
	if (sig == SIGKILL && k->sigkill_ms == 0)
		k->sigkill_ms = mono_ms();
	if (kill(k->pid, sig) == -1 && errno != ESRCH)
		log_warn("kill(%d, %d) for slot %d", (int)k->pid, sig, idx);
}

/* ----------------------------------------------------------- pipes */

/* The child cannot be used any more: stop writing, let it be reaped. */
static void
kid_broken(struct mpm *m, int idx, const char *what, int rc)
{
	struct mpm_kid	*k = &m->kids[idx];

	if (rc != -EPIPE)	/* EPIPE: dying already, the reap says why */
		log_warnx("slot %d (child %d): %s: %s; killing it", idx,
		    (int)k->pid, what, strerror(-rc));
	k->req_pending = k->retire_due = 0;
	if (k->out_polled) {
		(void)epoll_ctl(m->epfd, EPOLL_CTL_DEL, k->data_w, NULL);
		k->out_polled = 0;
	}
	(void)mpm_kid_event(m, idx, KEV_GONE);	/* live: legal */
	mpm_kill(m, idx, SIGKILL, KILL_BROKEN);
}

void
mpm_kid_output(struct mpm *m, int idx)
{
	struct mpm_kid		*k = &m->kids[idx];
	struct epoll_event	 ev;
	int			 rc = 1;

	if (k->req_pending) {
		rc = mpm_frame_write(k->data_w, MPM_FRAME_REQ, k->req->raw,
		    k->req->len, &k->req_off);
		if (rc == 1)
			k->req_pending = 0;
	}
	if (rc == 1 && k->retire_due) {
		rc = mpm_frame_write(k->data_w, MPM_FRAME_RETIRE,
		    &k->retire_why, sizeof(k->retire_why), &k->retire_off);
		if (rc == 1)
			k->retire_due = 0;
	}
	if (rc < 0) {
		kid_broken(m, idx, "writing to its pipe", rc);
		return;
	}
	if (rc == 0 && !k->out_polled) {
		/* the child is slow to read: resume when it drains */
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLOUT;
		ev.data.u64 = MPM_EV_OUT + (uint64_t)idx;
		if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, k->data_w, &ev) == -1)
			kid_broken(m, idx, "epoll_ctl on its pipe", -errno);
		else
			k->out_polled = 1;
	} else if (rc == 1 && k->out_polled) {
		(void)epoll_ctl(m->epfd, EPOLL_CTL_DEL, k->data_w, NULL);
		k->out_polled = 0;
	}
}

void
mpm_rescue(struct mpm *m, int idx, int code, const char *text,
    int counted)
{
	struct mpm_kid		*k = &m->kids[idx];
	struct sb_slot_info	 si;
	struct bus_rescue	 rs, *rp = NULL;

	if (sb_read_slot(m->sb, idx, &si) == 0 && si.thread[0] != '\0' &&
	    si.req_start_mono_us >= k->busy_us) {
		/* the slot describes this request, or a later one of its
		 * session: bus_answer() picks */
		rs.client = si.client;
		rs.thread = si.thread;
		rs.xid = si.xid;
		rs.trace = (long long)si.thread_trace;
		rp = &rs;
	}
	if (k->req == NULL && rp == NULL) {
		log_warnx("slot %d (child %d): its request is lost: nothing "
		    "recorded to answer it with", idx, (int)k->pid);
		return;
	}
	if (bus_answer(m->bus, k->req, rp, code, text) == 0) {
		sb_count(m->sb, SB_C_RESCUED, 1);
		if (!counted)	/* see the bookkeeping note of sb.h */
			sb_count(m->sb, SB_C_FAILED, 1);
	}
}

/* A request's end, told by its child. */
static void
kid_done(struct mpm *m, int idx, const struct mpm_done *d)
{
	struct mpm_kid	*k = &m->kids[idx];

	k->served = d->requests;
	if (k->req != NULL && (d->flags & MPM_DONE_F_UNSENT)) {
		/* the child counted it failed; the client hears from us */
		mpm_rescue(m, idx, 500, "Internal Server Error: the service "
		    "child could not send its reply", 1);
	}
	if (k->req != NULL) {
		if (m->conf->on_done != NULL)
			m->conf->on_done(m->conf->on_done_arg, k->req);
		k->req_pending = 0;
		mpm_req_release(m, k->req);
		bus_frame_free(&k->req);
	}
	m->early_deaths = 0;	/* it served: not a crash loop */
	(void)mpm_kid_event(m, idx, d->kind == MPM_DONE_EXITING ?
	    KEV_DONE_LAST : KEV_DONE);
}

/* One record, from the child in its slot. */
static void
kid_record(struct mpm *m, const struct mpm_done *d)
{
	struct mpm_kid	*k;
	int		 idx = d->slot;

	if (idx >= MPM_MAX_SLOTS || m->kids[idx].pid != (pid_t)d->pid ||
	    d->pid == 0) {
		/* a child's records are all read before it is reaped */
		log_warnx("done record of pid %u for slot %u, which it does "
		    "not hold: ignored", (unsigned)d->pid, (unsigned)d->slot);
		return;
	}
	k = &m->kids[idx];
	switch (d->kind) {
	case MPM_DONE_READY:
		k->ready_seen = 1;
		(void)mpm_kid_event(m, idx, KEV_READY);
		break;
	case MPM_DONE_IDLE:
	case MPM_DONE_EXITING:
		kid_done(m, idx, d);
		break;
	case MPM_DONE_BUS_DOWN:
		(void)mpm_kid_event(m, idx, KEV_BUS_DOWN);
		break;
	case MPM_DONE_BUS_UP:
		(void)mpm_kid_event(m, idx, KEV_BUS_UP);
		break;
	default:
		log_warnx("slot %d (child %d): unknown done record %u", idx,
		    (int)k->pid, (unsigned)d->kind);
		break;
	}
	/* a child of an old generation, or while stopping, goes */
	if (k->fsm.state == KID_IDLE && (k->generation != m->generation ||
	    (m->run != RUN_SERVING && m->backlog.len == 0)))
		mpm_retire(m, idx);
}

/* Records read per read(2): 1 KiB, a handful of rounds' worth. */
#define DONE_BATCH	64

void
mpm_done_drain(struct mpm *m)
{
	struct mpm_done	d[DONE_BATCH];
	int		n, i;

	do {
		if ((n = mpm_done_read(m->done_r, d, DONE_BATCH)) < 0) {
			/* we hold a writing end: not EOF; cannot happen */
			log_warnx("done pipe: %s", strerror(-n));
			return;
		}
		for (i = 0; i < n; i++)
			kid_record(m, &d[i]);
	} while (n == DONE_BATCH);
}

void
mpm_retire_why(struct mpm *m, int idx, uint32_t why)
{
	struct mpm_kid	*k = &m->kids[idx];

	if (k->pid <= 0 || k->fsm.retiring)
		return;
	if (mpm_kid_event(m, idx, KEV_RETIRE) < 0)
		return;
	if (k->data_w < 0)
		return;
	k->retire_why = why;
	k->retire_due = 1;
	k->retire_off = 0;
	mpm_kid_output(m, idx);
}

void
mpm_retire(struct mpm *m, int idx)
{
	mpm_retire_why(m, idx, SB_EXIT_RETIRED);
}

/* ---------------------------------------------------------- counts */

void
mpm_census(const struct mpm *m, struct mpm_census *c)
{
	int	i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < MPM_MAX_SLOTS; i++) {
		const struct mpm_kid *k = &m->kids[i];

		if (k->pid == 0 || k->fsm.retiring ||
		    k->fsm.state == KID_EXITING)
			continue;
		c->total++;
		if (k->fsm.state == KID_STARTING)
			c->starting++;
	}
	c->idle = m->idle.count;
	c->queued = (int)m->backlog.len;
}

int
mpm_alive_current(const struct mpm *m)
{
	struct mpm_census	c;

	mpm_census(m, &c);
	return c.total;
}

/* ------------------------------------------------------------ reap */

static void
describe_status(int st, char *buf, size_t n)
{
	if (WIFSIGNALED(st))
		snprintf(buf, n, "killed by signal %d (%s)%s", WTERMSIG(st),
		    strsignal(WTERMSIG(st)),
		    WCOREDUMP(st) ? ", core dumped" : "");
	else
		snprintf(buf, n, "exited with code %d", WEXITSTATUS(st));
}

static void
reaped(struct mpm *m, int idx, int st)
{
	struct mpm_kid		*k = &m->kids[idx];
	struct sb_slot_info	 si;
	char			 how[96];
	int			 abnormal, busy, code, planned;
	uint64_t		 now = mono_ms();

	/*
	 * Its last done records may still wait in the pipe (written before
	 * it exited, so they are there now): a child that finished its
	 * request before exiting was not busy when it died.
	 */
	mpm_done_drain(m);
	busy = k->fsm.state == KID_BUSY || k->req != NULL;
	if (sb_read_slot(m->sb, idx, &si) < 0)
		memset(&si, 0, sizeof(si));	/* unstable: log without */
	if (k->out_polled)
		(void)epoll_ctl(m->epfd, EPOLL_CTL_DEL, k->data_w, NULL);
	k->out_polled = 0;
	fd_close(&k->data_w);
	m->nkids--;

	abnormal = WIFSIGNALED(st) || (WEXITSTATUS(st) != MPM_EXIT_OK &&
	    WEXITSTATUS(st) != MPM_EXIT_RECYCLE);
	/* children we stopped ourselves die as asked: not a warning */
	planned = k->killed == KILL_STOP && !busy;
	describe_status(st, how, sizeof(how));
	code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if ((abnormal && !planned) || busy)
		log_warnx("child %d (slot %d) %s%s; last method \"%s\", "
		    "%u requests served", (int)k->pid, idx, how,
		    k->killed == KILL_WATCHDOG ? " by the request watchdog" :
		    busy ? " while busy" : "", si.method, k->served);
	else if (planned)
		log_info("child %d (slot %d) stopped: %s", (int)k->pid, idx,
		    how);
	else
		log_debug("child %d (slot %d) %s", (int)k->pid, idx, how);

	if (busy) {
		/* in-flight rescue: the client hears now, not at its timeout */
		if (k->killed == KILL_WATCHDOG)
			mpm_rescue(m, idx, 500, "Request timed out: the "
			    "service child was killed after request_timeout",
			    0);
		else
			mpm_rescue(m, idx, 500, "Internal Server Error: the "
			    "service child died while processing the "
			    "request", 0);
	}
	sb_slot_reaped_by(m->sb, idx, k->pid, st, k->killed ==
	    KILL_WATCHDOG ? SB_EXIT_WATCHDOG : k->killed != KILL_NONE ?
	    SB_EXIT_KILLED : SB_EXIT_NONE);
	if (code == MPM_EXIT_FATAL) {
		if (!m->fatal)
			log_errx("child %d (slot %d) failed to initialise "
			    "(exit code %d, fatal): not respawning children",
			    (int)k->pid, idx, code);
		m->fatal = 1;
	} else if (abnormal && k->killed == KILL_NONE &&
	    m->run == RUN_SERVING &&
	    (!k->ready_seen || now - k->spawn_ms < MPM_EARLY_MS ||
	    code == MPM_EXIT_SICK)) {
		m->early_deaths++;
		m->next_spawn_ms = now + mpm_backoff_ms(m->early_deaths);
		if (m->early_deaths >= MPM_CRASH_LOOP)
			log_warnx("crash loop: %u children died early in a "
			    "row; next fork in %u ms", m->early_deaths,
			    mpm_backoff_ms(m->early_deaths));
	}
	bus_reaped(m->bus, k->pid, si.addr);	/* what it left behind */
	m->reaped = 1;	/* a replacement, if one is due, at once */
	if (k->req != NULL)
		mpm_req_release(m, k->req);
	bus_frame_free(&k->req);
	(void)mpm_kid_event(m, idx, KEV_REAPED);	/* live: legal */
	k->pid = 0;
	k->killed = KILL_NONE;
	k->req_pending = k->retire_due = 0;
	k->sigkill_ms = 0;
}

void
mpm_reap(struct mpm *m)
{
	pid_t	pid;
	int	st, i;

	for (;;) {
		pid = waitpid(-1, &st, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		for (i = 0; i < MPM_MAX_SLOTS; i++)
			if (m->kids[i].pid == pid)
				break;
		if (i < MPM_MAX_SLOTS)
			reaped(m, i, st);
	}
}
