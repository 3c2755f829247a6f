/*
 * mpm.h: the pre-forking parent ("listener") and its children ("drones").
 *
 * mpm_run() is droverd's whole life after configuration: it creates the
 * scoreboard, starts the parent's bus, forks children, and runs the main
 * loop until a stop signal: take requests from the bus, hand each to the
 * most recently idle child over that child's data pipe (or queue it),
 * read the children's "done" records, reap and replace children, keep
 * the pool sized, enforce the request watchdog, rescue requests of
 * children that die, and act on signals.
 *
 * Files: mpm.c (context, start, stop), mpm_loop.c (main loop, dispatch,
 * signals, reload), mpm_proc.c (fork, reap, retire, kill, and the one
 * place a child's state changes), mpm_kid.c (that state machine, pure),
 * mpm_child.c (the child after fork), mpm_frame.c (pipe framing),
 * mpm_pool.c (pool decisions, pure), mpm_title.c (process titles).
 *
 * The MPM knows one protocol header: the bus interface (proto/bus.h).
 * It moves requests as opaque frames; every word it says to a client (a
 * 503 when the backlog is full, a 500 for a request whose child died,
 * was killed by the watchdog or could not send its reply) is
 * bus_answer()'s, from the frame the parent kept and from the request
 * record the child wrote into its scoreboard slot (sb.h).  Which bus
 * runs is the caller's choice through mpm_conf.bus: the parent asks it
 * for its LISTENER bus, each child after fork for its own DRONE bus.
 *
 * Nothing in the parent's loop blocks: the bus connects, logs in and
 * reconnects without blocking (bus.h), requests are written to the
 * children's pipes without blocking (what a slow child does not take
 * waits in its slot until the pipe drains), and timers run on the
 * monotonic clock.  While the bus is down or a child is slow, the parent
 * goes on reaping, respawning, running the watchdog and taking signals.
 *
 * Per child the parent holds two descriptors: the write end of the data
 * pipe and the read end of the done pipe (mpm_frame.h), both O_CLOEXEC;
 * a child closes every other slot's descriptors and the parent's own
 * (epoll, signalfd, bus) right after fork.
 *
 * Callers: droverd's main (parent) and tests/benchmarks, once per process.
 * Signals: mpm_run() blocks SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1,
 * SIGUSR2, SIGTTIN, SIGTTOU and SIGCHLD and takes them from a signalfd in
 * the main loop (no handler runs any code); SIGPIPE is ignored.
 * Ownership: mpm_run() borrows everything in struct mpm_conf; the
 * configuration objects stay the caller's, except that a SIGHUP reload
 * swaps in newly loaded ones: mpm_run() frees the replaced ones when it
 * returns (the worker may keep pointers into them until then), and
 * mpm_conf.core / .svc then point at the newest, which the caller frees.
 */
#ifndef DROVER_MPM_H
#define DROVER_MPM_H

#include <stdint.h>
#include <sys/types.h>

#include "util.h"

#include "proto/bus.h"

struct core_conf;
struct priv_ids;
struct svc_conf;
struct worker_ops;

/*
 * Child exit codes, an API between child and parent (Apache's
 * APEXIT_CHILDSICK / CHILDFATAL; values from sysexits.h so they read well
 * in a shell): OK is a normal exit (retired, stop); RECYCLE a child that
 * retired itself after its request (max_requests, max_rss_growth_kb,
 * max_rss_kb, max_child_lifetime: mpm_recycle.h; its slot's exit reason
 * says which, and the death ring keeps it); SICK a failure that may pass
 * (the parent slows forking); FATAL one that will not (plugin child_init
 * failed: the parent stops respawning).  Losing the bus is none of
 * these: a child reconnects by itself and is not dispatched to
 * meanwhile.
 */
#define MPM_EXIT_OK	0
#define MPM_EXIT_RECYCLE 80	/* retired itself: max_requests, memory,
				   lifetime (the slot says which) */
#define MPM_EXIT_SICK	75	/* EX_TEMPFAIL */
#define MPM_EXIT_FATAL	78	/* EX_CONFIG */

/* droverd's own exit codes */
#define MPM_DEXIT_OK	0
#define MPM_DEXIT_FAIL	1	/* start-up failed, or no child can run */
#define MPM_DEXIT_PRIV	77	/* EX_NOPERM: could not become run_as */

/*
 * Make this process's bus, closed: role LISTENER in the parent (once, at
 * start), DRONE in each child right after fork.  It reads the current
 * configuration (a SIGHUP may have replaced it).  NULL on failure
 * (logged).
 */
typedef struct bus *(*mpm_bus_fn)(void *arg, enum bus_role);

/*
 * Re-read configuration on SIGHUP: fill *core and *svc with newly loaded,
 * validated objects (0), or leave them and return -errno with why[]
 * filled; mpm_run() then keeps the running configuration.
 */
typedef int (*mpm_reload_fn)(void *arg, struct core_conf **core,
    struct svc_conf **svc, char *why, size_t whysz);

/* Observer for benchmarks: a request's child reported done. */
typedef void (*mpm_done_fn)(void *arg, const struct bus_frame *req);

/*
 * What the parent tells its caller as it goes (mpm_conf.on_event), for a
 * service manager: droverd turns these into systemd notifications.
 */
enum mpm_event {
	MPM_EVENT_READY,	/* serving: the bus is up (and registered
				   when it has routers) and min_children
				   of the current generation are ready;
				   once after start, once after each
				   reload */
	MPM_EVENT_RELOADING,	/* a SIGHUP reload begins; READY follows */
	MPM_EVENT_STOPPING,	/* a stop begins */
	MPM_EVENT_STATUS,	/* the figures changed (looked at once a
				   tick, and only then) */
};

/* The figures every event carries. */
struct mpm_status {
	int	children;	/* processes alive */
	int	busy;		/* of which busy with a request */
	int	queued;		/* requests waiting: backlog, Redis queue */
};

typedef void (*mpm_event_fn)(void *arg, enum mpm_event,
    const struct mpm_status *);

struct mpm_conf {
	const char		*service;
	const char		*instance;	/* NULL or "" for none */
	struct core_conf	*core;		/* may be NULL (tests) */
	struct svc_conf		*svc;
	const struct worker_ops	*worker;
	mpm_bus_fn		 bus;
	void			*bus_arg;
	mpm_reload_fn		 reload;	/* NULL: SIGHUP only recycles */
	void			*reload_arg;
	mpm_done_fn		 on_done;	/* NULL normally */
	void			*on_done_arg;
	mpm_event_fn		 on_event;	/* NULL: nobody to tell */
	void			*on_event_arg;
	unsigned		 sb_mode;	/* scoreboard mode, e.g. 0640 */
	const char		*pidfile;	/* written once serving; NULL */
	/*
	 * NULL: keep the process's identity.  Else the scoreboard and the
	 * pid file are made and given to run_as, and the parent switches
	 * to it for good (priv_drop(), common/priv.h) before it makes its
	 * bus and runs the worker's parent_init: no plugin code and no bus
	 * input ever runs with the start-up identity.
	 */
	const struct priv_ids	*run_as;
	int			 argc;		/* for process titles; 0: */
	char			**argv;		/* leave them alone */
};

/*
 * Serve until stopped.  Returns MPM_DEXIT_OK after a stop signal or
 * mpm_stop(), MPM_DEXIT_FAIL when start-up failed (logged) or no child
 * can run (every child failed fatally), MPM_DEXIT_PRIV when the switch
 * to run_as failed (logged).
 */
int	mpm_run(struct mpm_conf *) MUST_CHECK;

/*
 * Ask the running mpm_run() of this process to stop gracefully, as
 * SIGTERM would; for on_done observers (benchmarks).
 */
void	mpm_stop(void);

#endif /* DROVER_MPM_H */
