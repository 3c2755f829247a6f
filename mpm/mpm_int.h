/*
 * mpm_int.h: the parent's state, shared by the mpm_*.c files only.
 *
 * One struct mpm per droverd process, created by mpm_run() and passed
 * explicitly (no globals).  The parent is the only writer of everything
 * here; a child reads its copy after fork and then uses only its own
 * slot's fields (mpm_child.c).
 */
#ifndef DROVER_MPM_INT_H
#define DROVER_MPM_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "mpm.h"
#include "mpm_clients.h"
#include "mpm_kid.h"
#include "mpm_pool.h"
#include "mpm_recycle.h"

struct sb;

/* Why the parent killed a child, for the rescue reply and the log. */
enum mpm_kill_why {
	KILL_NONE = 0,
	KILL_WATCHDOG,		/* request_timeout */
	KILL_STOP,		/* shutdown escalation */
	KILL_BROKEN,		/* its pipes failed: it cannot be used */
};

struct mpm_kid {
	pid_t		 pid;		/* 0 when FREE */
	struct mpm_kid_fsm fsm;		/* changed by kid_event() only */
	int		 data_w;	/* data pipe, parent's end (O_NONBLOCK) */
	/*
	 * The data pipe's output: the REQ frame of req (req_off bytes of
	 * it written), then a RETIRE frame if one is due.  A child slow to
	 * read leaves the rest here; EPOLLOUT on data_w resumes it.
	 */
	size_t		 req_off;
	int		 req_pending;	/* req's frame not all written */
	int		 retire_due;	/* RETIRE to write after it */
	size_t		 retire_off;
	uint32_t	 retire_why;	/* its payload: an sb exit reason */
	int		 out_polled;	/* data_w is in the epoll set */
	unsigned	 generation;	/* config generation at fork */
	enum mpm_kill_why killed;
	struct mpm_recycle_limits recycle; /* this child's, set at spawn */
	uint32_t	 served;	/* from the last done record */
	int		 ready_seen;	/* it said READY once */
	uint64_t	 spawn_ms;	/* mono */
	uint64_t	 busy_us;	/* mono: req dispatched */
	uint64_t	 sigkill_ms;	/* mono: SIGKILL sent; 0 none */
	struct bus_frame *req;		/* the request dispatched, kept for
					   rescue until done; owned */
};

enum mpm_run_state {
	RUN_SERVING = 0,
	RUN_STOPPING,		/* graceful: finish what we have */
	RUN_FAST,		/* fast stop: kill and go */
};

struct mpm {
	struct mpm_conf	*conf;
	struct mpm_limits lim;		/* in force; max_children moves with
					   SIGTTIN/SIGTTOU */
	int		 max_backlog;
	unsigned	 generation;
	struct sb	*sb;
	struct bus	*bus;		/* the parent's */
	int		 epfd;
	int		 sigfd;
	/*
	 * The done pipe all children write to (mpm_frame.h).  The parent
	 * reads it once a round, before dispatching, and has it in the
	 * epoll set only while a record must wake it: no idle child, a
	 * backlog, a stop, or an on_done observer.  Otherwise a child's
	 * record waits for the next round (a request, a signal, the 1 s
	 * tick) and costs no wake-up of its own.
	 */
	int		 done_r;	/* O_NONBLOCK */
	int		 done_w;	/* the children's end */
	int		 done_polled;
	int		 want_reg;	/* registered unless SIGUSR1 */
	int		 pidfd;		/* conf->pidfile until written */
	int		 priv_failed;	/* the switch to run_as failed */
	int		 ev_ready;	/* READY told for this generation */
	struct mpm_status ev_told;	/* figures last told */

	struct mpm_kid	 kids[MPM_MAX_SLOTS];
	struct mpm_idle	 idle;
	struct mpm_fifo	 backlog;	/* struct bus_frame *, owned */
	struct mpm_clients clients;	/* per client: queued, sessions */
	uint32_t	 max_sessions;	/* one client's share, resolved */
	uint32_t	 max_queued;
	int		 nkids;		/* processes not yet reaped */
	int		 nstarting;	/* of which STARTING */

	int		 spawn_rate;
	unsigned	 early_deaths;	/* consecutive, reset by a served
					   request */
	uint64_t	 next_spawn_ms;	/* mono; back-off after deaths */
	int		 fatal;		/* a child failed fatally: no
					   respawning */
	uint64_t	 next_tick_ms;
	int		 reaped;	/* a child went: maintain now */

	enum mpm_run_state run;
	uint64_t	 stop_deadline_ms;	/* graceful_timeout */
	uint64_t	 kill_deadline_ms;	/* after SIGTERM: SIGKILL */
	uint64_t	 giveup_ms;		/* after SIGKILL: stop waiting */
	int		 stop_signalled;	/* SIGTERM sent to children */
	unsigned	 rejected;	/* 503s since the last tick's log */

	uint32_t	 rnd;		/* xorshift state for jitter */

	/*
	 * Configurations replaced by SIGHUP, kept until mpm_run() returns:
	 * the worker loaded its plugin against the first ones and may keep
	 * pointers into them (the runtime borrows svc_conf).
	 */
	struct core_conf **old_core;
	struct svc_conf	**old_svc;
	size_t		 nold;
};

/*
 * Tags in the epoll data word: a slot's data pipe (polled for EPOLLOUT
 * only while output waits) is MPM_EV_OUT + index.
 */
#define MPM_EV_OUT	1024
#define MPM_EV_BUS	4096
#define MPM_EV_SIG	4097
#define MPM_EV_DONE	4098

/* mpm_proc.c */
int	mpm_spawn(struct mpm *) MUST_CHECK;
void	mpm_reap(struct mpm *);
/* Ask slot idx's child to exit after its request (RETIRE frame); why
 * is the exit reason it records (SB_EXIT_RETIRED, SB_EXIT_LIFETIME). */
void	mpm_retire(struct mpm *, int idx);
void	mpm_retire_why(struct mpm *, int idx, uint32_t why);
void	mpm_kill(struct mpm *, int idx, int sig, enum mpm_kill_why);
void	mpm_census(const struct mpm *, struct mpm_census *);
int	mpm_alive_current(const struct mpm *);
/*
 * The one place a child's state changes: apply ev through mpm_kid_step()
 * and keep the idle list and the counts in step.  An illegal event is
 * logged (a broken invariant between parent and child) and ignored.
 * Returns the mpm_kid_step() result.
 */
int	mpm_kid_event(struct mpm *, int idx, enum mpm_kid_event);
/* Write what waits for slot idx's data pipe; EPOLLOUT while some is
 * left.  A child whose pipe fails is killed (KILL_BROKEN). */
void	mpm_kid_output(struct mpm *, int idx);
/* Take every done record waiting in the done pipe. */
void	mpm_done_drain(struct mpm *);
/*
 * Answer slot idx's request with `code` through bus_answer(), from the
 * frame the parent kept and the request record in the child's slot;
 * counted: the child counted the request failed already.
 */
void	mpm_rescue(struct mpm *, int idx, int code, const char *text,
	    int counted);

/* mpm_child.c */
void	mpm_child_main(struct mpm *, int idx, int data_r) NORETURN;

/* mpm.c */
int	mpm_poll_add(struct mpm *, int fd, uint32_t events, uint64_t tag)
	    MUST_CHECK;
/* Write the effective limits and generation into the scoreboard. */
void	mpm_publish_conf(struct mpm *);
uint32_t mpm_rand(struct mpm *);

/* mpm_loop.c */
void	mpm_dispatch_backlog(struct mpm *);
int	mpm_loop(struct mpm *);
/* A child is done with request f (answered, or rescued): its client's
 * session, if f opened one, is over. */
void	mpm_req_release(struct mpm *, const struct bus_frame *f);
/* The per-client shares from the configuration in force. */
void	mpm_client_limits(struct mpm *);

/*
 * mpm_event.c: conf->on_event.  mpm_event_round() once a loop round
 * tells READY when the service is ready (after start or a reload);
 * mpm_event_tick() once a tick tells STATUS when the figures changed.
 */
void	mpm_event_round(struct mpm *);
void	mpm_event_tick(struct mpm *);
void	mpm_event_reloading(struct mpm *);
void	mpm_event_stopping(struct mpm *);

/* mpm_title.c */
void	mpm_title_init(int argc, char **argv);
void	mpm_title_set(const char *fmt, ...) PRINTF(1, 2);

#endif /* DROVER_MPM_INT_H */
