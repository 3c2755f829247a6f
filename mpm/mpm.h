/*
 * mpm.h: the pre-forking parent ("listener") and its children ("drones").
 *
 * mpm_run() is droverd's whole life after configuration: it creates the
 * scoreboard, opens the parent's bus, forks children, and runs the main
 * loop until a stop signal: take stanzas from the bus, hand each to the
 * most recently idle child over that child's data pipe (or queue it),
 * read the children's "done" records, reap and replace children, keep
 * the pool sized, enforce the request watchdog, rescue requests of
 * children that die, and act on signals.
 *
 * Files: mpm.c (context, start, stop), mpm_loop.c (main loop, dispatch,
 * signals, reload), mpm_proc.c (fork, reap, retire, kill), mpm_child.c
 * (the child after fork), mpm_frame.c (pipe framing), mpm_reply.c (error
 * replies to clients), mpm_pool.c (pure decisions), mpm_title.c (process
 * titles), mpm_source.c (bus factories).
 *
 * Per child the parent holds two descriptors: the write end of the data
 * pipe and the read end of the done pipe (mpm_frame.h), both O_CLOEXEC;
 * a child closes every other slot's descriptors and the parent's own
 * (epoll, signalfd, bus) right after fork.
 *
 * The bus is a struct transport made by a struct mpm_source factory, so
 * the MPM knows nothing of XMPP: the local bus (localbus.h) serves tests
 * and benchmarks, XMPP the real network.  Each child opens its own
 * transport after fork.  Router (un)registration is a source hook.
 *
 * Callers: droverd's main (parent) and tests/benchmarks, once per process.
 * Signals: mpm_run() blocks SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1,
 * SIGUSR2, SIGTTIN, SIGTTOU and SIGCHLD and takes them from a signalfd in
 * the main loop (no handler runs any code); SIGPIPE is ignored.
 * Ownership: mpm_run() borrows everything in struct mpm_conf and the
 * source; the configuration objects stay the caller's, except that a
 * SIGHUP reload swaps in newly loaded ones: mpm_run() frees the replaced
 * ones when it returns (the worker may keep pointers into them until
 * then), and mpm_conf.core / .svc then point at the newest, which the
 * caller frees.
 */
#ifndef DROVER_MPM_H
#define DROVER_MPM_H

#include <stdint.h>
#include <sys/types.h>

#include "util.h"

struct core_conf;
struct svc_conf;
struct transport;
struct worker_ops;
struct xstanza;

/*
 * Child exit codes, an API between child and parent (Apache's
 * APEXIT_CHILDSICK / CHILDFATAL; values from sysexits.h so they read well
 * in a shell): OK is a normal exit (max_requests, retired, stop); SICK a
 * failure that may pass (the parent slows forking); FATAL one that will
 * not (plugin child_init failed: the parent stops respawning).
 */
#define MPM_EXIT_OK	0
#define MPM_EXIT_SICK	75	/* EX_TEMPFAIL */
#define MPM_EXIT_FATAL	78	/* EX_CONFIG */

/* droverd's own exit codes */
#define MPM_DEXIT_OK	0
#define MPM_DEXIT_FAIL	1	/* start-up failed, or no child can run */

/*
 * Where requests come from and how processes reach the bus.  Every
 * callback gets `arg`.  listener() and drone() return a closed transport
 * the MPM opens (and frees); forget() is called in a new child for the
 * parent's transport: close its descriptors without logging out, free
 * it.  reg/unreg (NULL: nothing to do) announce or withdraw the service
 * at the routers over the parent's open transport; 0 or -errno.
 * reaped (NULL: nothing to do) runs in the parent after a child is
 * reaped, to clear what a child killed outright could not (the local
 * bus unlinks its socket file).  reg_bounced (NULL: never) says whether
 * an error stanza the parent received is its own registration coming
 * back undelivered (a router not yet or no longer online): the parent
 * then registers again after a growing delay, so droverd may start
 * before the routers.
 */
struct mpm_source {
	struct transport *(*listener)(void *arg);
	struct transport *(*drone)(void *arg, int slot);
	void	(*forget)(void *arg, struct transport **);
	int	(*reg)(void *arg, struct transport *);
	int	(*unreg)(void *arg, struct transport *);
	void	*arg;
	void	(*reaped)(void *arg, pid_t pid);
	int	(*reg_bounced)(void *arg, const struct xstanza *);
};

/*
 * Re-read configuration on SIGHUP: fill *core and *svc with newly loaded,
 * validated objects (0), or leave them and return -errno with why[]
 * filled; mpm_run() then keeps the running configuration.
 */
typedef int (*mpm_reload_fn)(void *arg, struct core_conf **core,
    struct svc_conf **svc, char *why, size_t whysz);

/* Observer for benchmarks: a request's child reported done. */
typedef void (*mpm_done_fn)(void *arg, const struct xstanza *req);

struct mpm_conf {
	const char		*service;
	const char		*instance;	/* NULL or "" for none */
	struct core_conf	*core;		/* may be NULL (tests) */
	struct svc_conf		*svc;
	const struct worker_ops	*worker;
	const struct mpm_source	*source;
	mpm_reload_fn		 reload;	/* NULL: SIGHUP only recycles */
	void			*reload_arg;
	mpm_done_fn		 on_done;	/* NULL normally */
	void			*on_done_arg;
	unsigned		 sb_mode;	/* scoreboard mode, e.g. 0640 */
	const char		*pidfile;	/* written once serving; NULL */
	int			 argc;		/* for process titles; 0: */
	char			**argv;		/* leave them alone */
};

/*
 * Serve until stopped.  Returns MPM_DEXIT_OK after a stop signal or
 * mpm_stop(), MPM_DEXIT_FAIL when start-up failed (logged) or no child
 * can run (every child failed fatally).
 */
int	mpm_run(struct mpm_conf *) MUST_CHECK;

/*
 * Ask the running mpm_run() of this process to stop gracefully, as
 * SIGTERM would; for on_done observers (benchmarks).
 */
void	mpm_stop(void);

#endif /* DROVER_MPM_H */
