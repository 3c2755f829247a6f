/*
 * mpm_int.h: the parent's state, shared by the mpm_*.c files only.
 *
 * One struct mpm per droverd process, created by mpm_run() on its stack
 * and passed explicitly (no globals).  The parent is the only writer of
 * everything here; a child reads its copy after fork and then uses only
 * its own slot's fields (mpm_child.c).
 */
#ifndef DROVER_MPM_INT_H
#define DROVER_MPM_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "mpm.h"
#include "mpm_pool.h"

struct sb;

enum mpm_kid_state {
	KID_FREE = 0,		/* no process */
	KID_STARTING,		/* forked, no READY yet */
	KID_IDLE,		/* on the idle list */
	KID_BUSY,		/* has a request (or a session) */
	KID_EXITING,		/* told us it exits, or was retired */
};

/* Why the parent killed a child, for the rescue reply and the log. */
enum mpm_kill_why {
	KILL_NONE = 0,
	KILL_WATCHDOG,		/* request_timeout */
	KILL_STOP,		/* shutdown escalation */
};

struct mpm_kid {
	pid_t		 pid;		/* 0 when FREE */
	enum mpm_kid_state state;
	int		 data_w;	/* data pipe, parent's end */
	int		 done_r;	/* done pipe, parent's end */
	unsigned	 generation;	/* config generation at fork */
	int		 retiring;	/* RETIRE sent: never dispatch */
	enum mpm_kill_why killed;
	int		 limit;		/* max_requests with jitter */
	uint32_t	 served;	/* from the last done record */
	int		 ready_seen;	/* sent READY once */
	uint64_t	 spawn_ms;	/* mono */
	uint64_t	 busy_us;	/* wall, dispatch of req */
	uint64_t	 term_ms;	/* mono, SIGTERM sent (stop) */
	struct xstanza	*req;		/* the stanza dispatched, kept for
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
	struct transport *bus;		/* the parent's */
	int		 epfd;
	int		 sigfd;
	int		 bus_fd;	/* in the epoll set, or -1 */
	unsigned	 bus_failures;	/* reconnects failed in a row */
	uint64_t	 bus_retry_ms;	/* mono: next reconnect; 0 none */
	int		 want_reg;	/* registered unless SIGUSR1 */
	unsigned	 reg_bounces;	/* registrations bounced in a row */
	uint64_t	 reg_retry_ms;	/* mono: register again; 0 none */

	struct mpm_kid	 kids[MPM_MAX_SLOTS];
	struct mpm_idle	 idle;
	struct mpm_fifo	 backlog;	/* struct xstanza *, owned */
	int		 nkids;		/* processes not yet reaped */
	int		 nstarting;	/* of which not yet READY */

	int		 spawn_rate;
	unsigned	 early_deaths;	/* consecutive, reset by a served
					   request */
	uint64_t	 next_spawn_ms;	/* mono; back-off after deaths */
	int		 fatal;		/* a child failed fatally: no
					   respawning */
	uint64_t	 next_tick_ms;

	enum mpm_run_state run;
	uint64_t	 stop_deadline_ms;	/* graceful_timeout */
	uint64_t	 kill_deadline_ms;	/* after SIGTERM: SIGKILL */
	int		 stop_signalled;	/* SIGTERM sent to children */
	int		 registered;
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

/* Sentinels in the epoll data word; slots use their index. */
#define MPM_EV_BUS	1000
#define MPM_EV_SIG	1001

/* mpm_proc.c */
int	mpm_spawn(struct mpm *) MUST_CHECK;
void	mpm_reap(struct mpm *);
void	mpm_retire(struct mpm *, int idx);
void	mpm_kill(struct mpm *, int idx, int sig, enum mpm_kill_why);
void	mpm_census(const struct mpm *, struct mpm_census *);
int	mpm_alive_current(const struct mpm *);

/* mpm_child.c */
void	mpm_child_main(struct mpm *, int idx, int data_r, int done_w) NORETURN;

/* mpm.c */
int	mpm_poll_add(struct mpm *, int fd, uint64_t tag) MUST_CHECK;
/* Write the effective limits and generation into the scoreboard. */
void	mpm_publish_conf(struct mpm *);

/* mpm_loop.c */
void	mpm_dispatch_backlog(struct mpm *);
/* Take the done records waiting on slot idx's pipe. */
void	mpm_kid_event(struct mpm *, int idx);
int	mpm_loop(struct mpm *);

/* mpm_reply.c */
/*
 * Answer a request with an OpenSRF STATUS osrfMethodException `code` to
 * its client, over the parent's bus.  req is the stanza as dispatched (or
 * NULL); si, when not NULL, is the dead child's slot as last written: if
 * it shows a later request of the same session than those in req, that
 * one is answered (the ones in req were served).  Otherwise one STATUS
 * per REQUEST/CONNECT message in req, each with its own threadTrace.
 * text NULL: OpenSRF's 503 backlog text.  Best effort: failures are
 * logged, nothing is returned.
 */
struct sb_slot_info;
void	mpm_reply_status(struct mpm *, const struct xstanza *req,
	    const struct sb_slot_info *si, int code, const char *text);

/* mpm_title.c */
void	mpm_title_init(int argc, char **argv);
void	mpm_title_set(const char *fmt, ...) PRINTF(1, 2);

#endif /* DROVER_MPM_INT_H */
