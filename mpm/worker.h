/*
 * worker.h: what a child ("drone") runs, as the MPM sees it.
 *
 * The MPM (mpm/) owns processes, pipes, the scoreboard slot and the pool;
 * it moves requests as opaque bus frames.  The request runtime
 * (services/runtime/) implements struct worker_ops: it decodes the frame
 * the parent handed over (bus_decode() on the child's own bus, which is
 * of the same kind), runs the service's method and answers the client
 * directly over that bus.  Tests and benchmarks may plug in their own
 * worker_ops.
 *
 * Call order, all in the child unless noted:
 *   parent_init  once in the parent before any fork (plugin init hook,
 *                and the method names for the scoreboard's per-method
 *                figures); non-zero: the service does not start.
 *   child_init   after fork, once env->bus exists (it may still be
 *                connecting); < 0: the child exits with the "fatal" code
 *                and the parent stops respawning.
 *   handle       once per request; may keep the child for a connected
 *                session (CONNECT ... DISCONNECT or keepalive timeout),
 *                reading further messages from env->bus itself and
 *                marking the slot "session" meanwhile.
 *   child_exit   at normal child exit (max_requests reached, retired,
 *                graceful stop), not after a crash or SIGKILL.
 *
 * The slot: the MPM writes STARTING before child_init, IDLE after it and
 * after each handle(), EXITING at the end.  handle() records each request
 * it runs with sb_slot_begin_request() / sb_slot_end_request() (method,
 * client, thread, threadTrace, xid): the parent reads that record to
 * answer the client if the child dies mid-request or could not send the
 * reply (bus_answer() with a struct bus_rescue made from it), and to
 * time the request watchdog (a slot in SESSION is between requests and
 * is not timed).
 *
 * Ownership: `raw` belongs to the MPM and is valid during handle() only.
 * env and everything it points to belong to the MPM.
 */
#ifndef DROVER_WORKER_H
#define DROVER_WORKER_H

#include <stddef.h>

struct svc_conf;
struct core_conf;
struct bus;
struct sb;
struct sb_slot;

struct worker_env {
	const struct core_conf	*core;		/* opensrf_core.xml view */
	const struct svc_conf	*svc;		/* this service's settings */
	struct bus		*bus;		/* the child's own connection */
	struct sb		*sb;		/* parent_init: publish the
						   method names (sb_methods_set) */
	struct sb_slot		*slot;		/* this child's scoreboard slot;
						   the child is its writer */
	int			 slot_index;
	unsigned		 generation;	/* config generation */
};

/* handle() results */
enum {
	WORKER_OK = 0,		/* ready for the next request */
	WORKER_EXIT = 1,	/* exit after this request (panic) */
	WORKER_UNSENT = 2,	/* the reply could not be sent (the bus is
				   gone): the parent answers the client */
};

struct worker_ops {
	int	(*parent_init)(void *arg, const struct worker_env *);
	int	(*child_init)(void *arg, struct worker_env *);
	/* WORKER_*, or negative errno (the child exits "sick") */
	int	(*handle)(void *arg, struct worker_env *, const char *raw,
		    size_t len);
	void	(*child_exit)(void *arg, struct worker_env *);
	void	*arg;
};

#endif /* DROVER_WORKER_H */
