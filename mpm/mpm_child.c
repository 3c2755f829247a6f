/*
 * mpm_child.c: a child ("drone") from fork to exit.
 *
 * Right after fork: default signal dispositions and an empty mask (SIGPIPE
 * stays ignored: sockets use MSG_NOSIGNAL and a closed pipe is an error
 * return), every other slot's descriptors and the parent's own (epoll,
 * signalfd, bus) closed, then the child's own bus made and started and
 * the worker's child_init run.  READY goes to the parent once the bus is
 * up.
 *
 * Idle, the child waits on its data pipe AND its bus: a bus that drops is
 * reconnected by the bus itself (with the shared back-off), and the
 * parent hears BUS_DOWN / BUS_UP so it dispatches nothing to a child that
 * could not answer; messages that reach an idle child (a client of a
 * session that already timed out, a late answer) are dropped with a log
 * line.  A REQ frame is handed to the worker; RETIRE (or end of file: the
 * parent is gone) ends the child normally through the worker's
 * child_exit.  After each request it samples its own RSS and CPU
 * (sb_sample(): about a microsecond) into its slot, writes a done record,
 * flagged UNSENT when the reply could not be sent (the parent then
 * answers the client), and asks mpm_recycle_why() whether to retire
 * itself (max_requests with jitter, memory growth over its post-init
 * baseline, absolute memory, lifetime); after its last request (that, or
 * the worker asked to exit) it says EXITING and exits.  Why it exits is
 * written into its slot first, for the death ring.
 *
 * Exit codes (mpm.h): OK normally; RECYCLE after retiring itself; SICK
 * when a request fails hard; FATAL when child_init fails (the parent
 * stops respawning).  Losing the bus is not a reason to exit.  The
 * scoreboard slot is this child's to write until exit.
 */
#include "mpm_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "mpm_frame.h"
#include "scoreboard/sb.h"
#include "mpm/worker.h"

struct child {
	struct mpm		*m;
	int			 idx;
	struct mpm_frame_in	 in;		/* the data pipe */
	int			 done_w;	/* shared by all children */
	pid_t			 pid;
	struct bus		*bus;
	struct sb_slot		*slot;
	struct sb_sampler	 sampler;	/* fd -1: no sampling */
	struct sb_sample	 last;		/* after the last request */
	uint64_t		 rss_base_kb;	/* after init */
	uint64_t		 born_us;	/* mono */
	int			 ready;		/* READY sent */
	int			 bus_up;	/* as last told to the parent */
	enum bus_state		 bus_shown;	/* as last written to the slot */
	uint32_t		 served;
};

static void
child_signals(void)
{
	struct sigaction	sa;
	sigset_t		none;
	int			sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGPIPE)
			continue;
		(void)sigaction(sig, &sa, NULL);	/* EINVAL: not a real
							   signal number */
	}
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);	/* cannot fail */
}

static void
close_inherited(struct mpm *m, int idx)
{
	int	i;

	for (i = 0; i < MPM_MAX_SLOTS; i++) {
		if (i == idx)
			continue;
		fd_close(&m->kids[i].data_w);
	}
	fd_close(&m->done_r);
	fd_close(&m->epfd);
	fd_close(&m->sigfd);
	bus_forget(&m->bus);
}

/* Tell the parent; 0, or -EPIPE when it is gone. */
static int
tell(struct child *c, uint16_t kind, uint16_t flags)
{
	struct mpm_done	d;

	d.kind = kind;
	d.flags = flags;
	d.requests = c->served;
	d.pid = (uint32_t)c->pid;
	d.slot = (uint16_t)c->idx;
	d.pad = 0;
	return mpm_done_send(c->done_w, &d);
}

/* Its resident set right after init: the fair baseline for growth. */
static void
baseline(struct child *c)
{
	if (c->sampler.fd < 0 || sb_sample(&c->sampler, &c->last) < 0)
		return;
	c->rss_base_kb = c->last.rss_kb;
	sb_slot_set_baseline(c->slot, &c->last);
}

/*
 * After a request: publish RSS and CPU, and say whether to retire now
 * (an enum sb_exit_reason, 0 to keep serving).
 */
static uint32_t
after_request(struct child *c)
{
	struct mpm_recycle_sample	rs;

	if (c->sampler.fd >= 0 && sb_sample(&c->sampler, &c->last) == 0)
		sb_slot_set_sample(c->slot, &c->last);
	rs.requests = c->served;
	rs.rss_kb = c->sampler.fd >= 0 ? c->last.rss_kb : 0;
	rs.rss_base_kb = c->rss_base_kb;
	rs.age_us = mono_us() - c->born_us;
	return mpm_recycle_why(&c->m->kids[c->idx].recycle, &rs);
}

/*
 * Run the bus and tell the parent what changed: READY the first time it
 * is up, then BUS_DOWN / BUS_UP.  Input that came while idle (`readable`)
 * is dropped.  0 or -EPIPE.
 */
static int
bus_turn(struct child *c, int readable)
{
	struct bus_frame	*f;
	int			 up, rc = 0;

	/* changes are logged by the bus; a login may bring messages */
	if (bus_run(c->bus) & BUS_EV_UP)
		readable = 1;
	while (readable && bus_recv(c->bus, &f) == 1) {
		readable = bus_more(c->bus);
		log_info("child slot %d: dropping a message that came while "
		    "idle: %.200s", c->idx, f->raw);
		bus_frame_free(&f);
	}
	if (bus_state(c->bus) != c->bus_shown) {
		c->bus_shown = bus_state(c->bus);
		sb_slot_set_bus(c->slot, SB_BUS_FROM(c->bus_shown));
		if (c->bus_shown == BUS_UP)
			sb_slot_set_addr(c->slot, bus_addr(c->bus));
	}
	up = c->bus_shown == BUS_UP;
	if (!c->ready) {
		if (up) {
			c->ready = c->bus_up = 1;
			baseline(c);
			sb_slot_set_state(c->slot, SB_IDLE);
			mpm_title_set("drover drone [%s] idle",
			    c->m->conf->service);
			rc = tell(c, MPM_DONE_READY, 0);
		}
	} else if (up != c->bus_up) {
		c->bus_up = up;
		rc = tell(c, up ? MPM_DONE_BUS_UP : MPM_DONE_BUS_DOWN, 0);
	}
	return rc;
}

/*
 * Wait for the data pipe while keeping the bus running.  1 when the pipe
 * is readable, -EPIPE when the parent is gone.
 */
static int
idle_wait(struct child *c)
{
	struct pollfd	pfd[2];
	int		n, t, readable = 0;

	for (;;) {
		if (bus_turn(c, readable) < 0)
			return -EPIPE;
		if (mpm_frame_in_buffered(&c->in) > 0)
			return 1;	/* read ahead with the last one */
		pfd[0].fd = c->in.fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = bus_fd(c->bus);
		pfd[1].events = (short)bus_events(c->bus);
		pfd[0].revents = pfd[1].revents = 0;
		t = bus_timeout_ms(c->bus, mono_ms());
		n = poll(pfd, pfd[1].fd >= 0 ? 2 : 1, t);
		if (n == -1 && errno != EINTR)
			return -errno;
		if (n > 0 && pfd[0].revents != 0)
			return 1;
		readable = n > 0 && pfd[1].revents != 0;
	}
}

void
mpm_child_main(struct mpm *m, int idx, int data_r)
{
	const struct worker_ops	*w = m->conf->worker;
	const char		*svc = m->conf->service;
	struct worker_env	 env;
	struct child		 c;
	const char		*buf;
	size_t			 len;
	uint32_t		 kind, why = SB_EXIT_NORMAL;
	int			 rc, code = MPM_EXIT_OK, last;
	uint16_t		 flags;

	child_signals();
	log_after_fork(NULL);
	close_inherited(m, idx);
	memset(&c, 0, sizeof(c));
	c.m = m;
	c.idx = idx;
	c.in.fd = data_r;
	c.done_w = m->done_w;
	c.pid = getpid();
	c.slot = sb_slot(m->sb, idx);
	c.born_us = mono_us();
	c.bus_shown = BUS_DOWN;
	sb_slot_child_start(c.slot, c.pid);
	mpm_title_set("drover drone [%s] starting", svc);
	if ((rc = sb_sampler_open(&c.sampler)) < 0)
		log_warnx("child slot %d: no RSS or CPU figures: "
		    "/proc/self/statm: %s", idx, strerror(-rc));

	if ((c.bus = m->conf->bus(m->conf->bus_arg, BUS_ROLE_DRONE)) ==
	    NULL) {
		log_errx("child slot %d: cannot make its bus", idx);
		sb_slot_set_exit_reason(c.slot, SB_EXIT_INIT_FAILED);
		exit(MPM_EXIT_SICK);
	}
	if ((rc = bus_start(c.bus)) < 0)
		log_warnx("child slot %d: bus: %s; retrying", idx,
		    strerror(-rc));
	memset(&env, 0, sizeof(env));
	env.core = m->conf->core;
	env.svc = m->conf->svc;
	env.bus = c.bus;
	env.slot = c.slot;
	env.slot_index = idx;
	env.generation = m->generation;
	if (w->child_init != NULL && (rc = w->child_init(w->arg, &env)) < 0) {
		log_errx("child slot %d: child_init failed: %s", idx,
		    strerror(-rc));
		sb_slot_set_exit_reason(c.slot, SB_EXIT_INIT_FAILED);
		bus_free(&c.bus);
		exit(MPM_EXIT_FATAL);
	}

	for (;;) {
		why = SB_EXIT_NORMAL;
		if ((rc = idle_wait(&c)) < 0)
			break;		/* the parent is gone */
		rc = mpm_frame_next(&c.in, &kind, &buf, &len,
		    m->conf->svc->max_request_size);
		if (rc == -EPIPE)
			break;		/* parent gone: exit quietly */
		if (rc < 0) {
			log_errx("child slot %d: data pipe: %s", idx,
			    strerror(-rc));
			why = SB_EXIT_REQUEST_FAILED;
			code = MPM_EXIT_SICK;
			break;
		}
		if (kind == MPM_FRAME_RETIRE) {
			why = SB_EXIT_RETIRED;
			if (len == sizeof(why))
				memcpy(&why, buf, sizeof(why));
			if (sb_exit_reason_recycles(why))
				code = MPM_EXIT_RECYCLE;
			break;
		}
		mpm_title_set("drover drone [%s] busy", svc);
		rc = w->handle(w->arg, &env, buf, len);
		c.served++;
		log_set_xid(NULL);
		flags = 0;
		if (rc == WORKER_UNSENT) {
			flags = MPM_DONE_F_UNSENT;
			sb_slot_count(c.slot, SB_C_UNSENT, 1);
		}
		last = 1;
		if (rc < 0) {
			log_errx("child slot %d: request failed hard: %s; "
			    "exiting", idx, strerror(-rc));
			why = SB_EXIT_REQUEST_FAILED;
			code = MPM_EXIT_SICK;
		} else if (rc == WORKER_EXIT)
			why = SB_EXIT_PANIC;
		else if ((why = after_request(&c)) != 0) {
			log_info("child slot %d: retiring after %u requests: "
			    "%s", idx, c.served, sb_exit_reason_name(why));
			code = MPM_EXIT_RECYCLE;
		} else
			last = 0;
		if (last)
			sb_slot_set_exit_reason(c.slot, why);
		sb_slot_set_state(c.slot, last ? SB_EXITING : SB_IDLE);
		if (tell(&c, last ? MPM_DONE_EXITING : MPM_DONE_IDLE,
		    flags) < 0 || last)
			break;
		/* a bus lost during the request is reported at once */
		if (bus_turn(&c, 0) < 0)
			break;
		mpm_title_set("drover drone [%s] idle", svc);
	}
	/* what a request's end decided is written already */
	if (why == SB_EXIT_NORMAL || why == SB_EXIT_RETIRED ||
	    why == SB_EXIT_LIFETIME || why == SB_EXIT_REQUEST_FAILED)
		sb_slot_set_exit_reason(c.slot, why);
	sb_slot_set_state(c.slot, SB_EXITING);
	mpm_title_set("drover drone [%s] exiting", svc);
	if (w->child_exit != NULL)
		w->child_exit(w->arg, &env);
	mpm_frame_in_free(&c.in);
	sb_sampler_close(&c.sampler);
	bus_free(&c.bus);
	close(data_r);
	close(c.done_w);
	exit(code);
}
