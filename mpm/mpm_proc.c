/*
 * mpm_proc.c: the parent's side of child processes: fork into a slot,
 * reap (and rescue a dead child's request), retire through the pipe,
 * kill, and count.
 *
 * Called from the parent's main loop only.  The parent owns each slot's
 * two descriptors (data_w, done_r) from fork to reap.
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
#include "transport.h"

/*
 * A child that dies within this long of its fork, or before it was ever
 * ready, counts as an early death: several in a row are a crash loop and
 * slow forking down (mpm_backoff_ms()).
 */
#define MPM_EARLY_MS		2000
/* Consecutive early deaths before the log calls it a crash loop. */
#define MPM_CRASH_LOOP		3

static uint32_t
next_rnd(struct mpm *m)
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
	struct mpm_kid		*k;
	struct epoll_event	 ev;
	int			 data[2], done[2], idx, rc;
	pid_t			 pid;

	if ((idx = free_slot(m)) < 0)
		return -EAGAIN;
	if (pipe2(data, O_CLOEXEC) == -1) {
		rc = -errno;
		log_warn("pipe2 while spawning into slot %d", idx);
		return rc;
	}
	if (pipe2(done, O_CLOEXEC) == -1) {
		rc = -errno;
		log_warn("pipe2 while spawning into slot %d", idx);
		close(data[0]);
		close(data[1]);
		return rc;
	}
	k = &m->kids[idx];
	k->limit = mpm_req_limit(m->conf->svc->max_requests,
	    m->conf->svc->max_requests_jitter, next_rnd(m));
	(void)sb_slot_spawn(m->sb, idx, m->generation);	/* ours: idx valid */
	/* a child exits through exit(3): it must not flush our buffers */
	(void)fflush(NULL);	/* best effort: nothing to do if it fails */
	if ((pid = fork()) == -1) {
		rc = -errno;
		log_warn("fork while spawning into slot %d", idx);
		sb_slot_clear(m->sb, idx);
		close(data[0]);
		close(data[1]);
		close(done[0]);
		close(done[1]);
		return rc;
	}
	if (pid == 0) {
		close(data[1]);
		close(done[0]);
		mpm_child_main(m, idx, data[0], done[1]);
	}
	close(data[0]);
	close(done[1]);
	k->pid = pid;
	k->state = KID_STARTING;
	k->data_w = data[1];
	k->done_r = done[0];
	k->generation = m->generation;
	k->retiring = 0;
	k->killed = KILL_NONE;
	k->served = 0;
	k->ready_seen = 0;
	k->spawn_ms = mono_ms();
	k->term_ms = 0;
	k->req = NULL;
	m->nkids++;
	m->nstarting++;
	if (fd_set_nonblock(k->done_r) < 0)
		log_warn("fcntl(O_NONBLOCK) on slot %d's done pipe", idx);
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)idx;
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, k->done_r, &ev) == -1) {
		/* we could never hear from it: better without it */
		log_warn("epoll_ctl for slot %d", idx);
		mpm_kill(m, idx, SIGKILL, KILL_NONE);
	}
	log_debug("spawned child %d into slot %d (limit %d requests)",
	    (int)pid, idx, k->limit);
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
	if (kill(k->pid, sig) == -1 && errno != ESRCH)
		log_warn("kill(%d, %d) for slot %d", (int)k->pid, sig, idx);
}

void
mpm_retire(struct mpm *m, int idx)
{
	struct mpm_kid	*k = &m->kids[idx];
	int		 rc;

	if (k->pid <= 0 || k->retiring)
		return;
	k->retiring = 1;
	(void)mpm_idle_remove(&m->idle, idx);	/* may not be listed */
	if (k->state == KID_IDLE)
		k->state = KID_EXITING;
	rc = mpm_frame_send(k->data_w, MPM_FRAME_RETIRE, NULL, 0);
	if (rc < 0 && rc != -EPIPE)	/* EPIPE: dying already, reap says */
		log_warnx("retiring slot %d: write: %s", idx, strerror(-rc));
}

void
mpm_census(const struct mpm *m, struct mpm_census *c)
{
	int	i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < MPM_MAX_SLOTS; i++) {
		const struct mpm_kid *k = &m->kids[i];

		if (k->pid == 0 || k->retiring || k->state == KID_EXITING)
			continue;
		c->total++;
		if (k->state == KID_STARTING)
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
	int			 abnormal, busy, code;
	uint64_t		 now = mono_ms();

	/*
	 * Its last done records may still wait in the pipe (SIGCHLD and
	 * the pipe can be read in either order): a child that finished its
	 * request before exiting was not busy when it died.
	 */
	if (k->done_r >= 0)
		mpm_kid_event(m, idx);
	busy = k->state == KID_BUSY || k->req != NULL;
	if (sb_read_slot(m->sb, idx, &si) < 0) {
		/* unstable: log and answer without it */
		memset(&si, 0, sizeof(si));
	}
	if (si.req_start_us < k->busy_us)
		si.thread[0] = '\0';	/* an older request, not this one */
	if (k->done_r >= 0)
		(void)epoll_ctl(m->epfd, EPOLL_CTL_DEL, k->done_r, NULL);
	fd_close(&k->done_r);
	fd_close(&k->data_w);
	(void)mpm_idle_remove(&m->idle, idx);
	sb_slot_reaped(m->sb, idx, k->pid, st);
	m->nkids--;
	if (!k->ready_seen)
		m->nstarting--;

	abnormal = WIFSIGNALED(st) || WEXITSTATUS(st) != MPM_EXIT_OK;
	describe_status(st, how, sizeof(how));
	code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (abnormal || busy)
		log_warnx("child %d (slot %d) %s%s; last method \"%s\", "
		    "%u requests served", (int)k->pid, idx, how,
		    k->killed == KILL_WATCHDOG ? " by the request watchdog" :
		    busy ? " while busy" : "", si.method, k->served);
	else
		log_debug("child %d (slot %d) %s", (int)k->pid, idx, how);

	if (busy) {
		/* in-flight rescue: the client hears now, not at its timeout */
		if (k->killed == KILL_WATCHDOG)
			mpm_reply_status(m, k->req, &si, 500,
			    "Request timed out: the service child was killed "
			    "after request_timeout");
		else
			mpm_reply_status(m, k->req, &si, 500,
			    "Internal Server Error: the service child died "
			    "while processing the request");
	}
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
	if (m->conf->source->reaped != NULL)
		m->conf->source->reaped(m->conf->source->arg, k->pid);
	xstanza_free(&k->req);
	k->pid = 0;
	k->state = KID_FREE;
	k->retiring = 0;
	k->killed = KILL_NONE;
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
