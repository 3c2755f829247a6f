/*
 * runtime.h: the request runtime as the MPM uses it (struct worker_ops).
 *
 *	struct rt_worker *w = rt_worker_new(NULL);
 *	struct worker_ops ops;
 *	rt_worker_ops(w, &ops);		then hand ops to the MPM
 *
 * parent_init  loads the plugin named by svc_conf.implementation (a path,
 *              or a name looked up in the plugin directory; the service
 *              name when unset) and runs its init hook.
 * child_init   connects the cache (failure is logged, the child serves
 *              without it), binds the sub-request client to env->bus
 *              (sub-requests go to bus_service_addr()), runs the plugin's
 *              child_init hook.
 * handle       one stanza from the listener: CONNECT, REQUESTs,
 *              DISCONNECT; for a connected session it keeps serving the
 *              client's direct messages from env->bus until DISCONNECT or
 *              `keepalive` seconds of silence (STATUS 408, threadTrace 0).
 *              Returns WORKER_EXIT after a panic, WORKER_UNSENT when the
 *              bus lost (part of) an answer.
 * child_exit   the plugin's child_exit hook, then closes the cache.
 *
 * Callers: the MPM (parent_init in the parent; the rest in children).
 * Ownership: the worker owns the loaded plugin; free it in the parent
 * after the last child is gone (rt_worker_free()).  plugindir is copied.
 */
#ifndef DROVER_RUNTIME_H
#define DROVER_RUNTIME_H

#include <stddef.h>

#include "mpm/worker.h"
#include "services/runtime/rt_svc.h"

struct rt_worker;

/* plugindir NULL: $DROVER_PLUGINDIR, else the installed plugin dir. */
struct rt_worker *rt_worker_new(const char *plugindir);
void	rt_worker_free(struct rt_worker **);
void	rt_worker_ops(struct rt_worker *, struct worker_ops *out);

/* The loaded service (after parent_init), for tests. */
struct drover_svc *rt_worker_svc(struct rt_worker *);

/*
 * Serve one stanza on `bus` for service s as a child would, without the
 * MPM (tests and benchmarks): slot may be NULL, keepalive in seconds.
 * Same return as worker_ops.handle.
 */
int	rt_serve(struct drover_svc *, struct bus *bus,
	    struct sb_slot *slot, int keepalive, const char *raw, size_t len)
	    MUST_CHECK;

#endif /* DROVER_RUNTIME_H */
