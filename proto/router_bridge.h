/*
 * router_bridge.h: drover-router between an XMPP domain and a Redis
 * domain, so that a site moves its services from ejabberd to Redis one
 * at a time while clients on either bus keep working.
 *
 * Two <router> entries of one drover-router, one on each bus, are a
 * bridge when one of them names the other's domain in <bridge>
 * (drover-config(5)).  Each side keeps its own routing table; what the
 * bridge adds:
 *
 * Classes.  A class with a registered listener (a "real" node) on one
 * side is mirrored on the other as a fallback node named
 * ROUTER_BRIDGE_NODE (router_register_fallback()): XMPP then logs in as
 * <name>@<domain>/<class> for it and Redis answers for it, so clients
 * of either bus find every class.  Round robin takes the fallback only
 * while its side has no real node, so a class registered on both buses
 * is served by each bus's own listeners, and a class that moves is
 * served across until it has arrived.  router_bridge_sync() puts the
 * mirrors right after anything that adds or removes nodes.
 *
 * Requests.  A forward to ROUTER_BRIDGE_NODE on side A
 * (router_bridge_forward()) is sent on side B as a new request whose
 * sender is the bridge's own address on B, and remembered as a session
 * by its thread: the client's address on A, later the drone's on B.
 * The bridge's addresses are ones it owns: on XMPP the extra login
 * <name>@<domain>/bridge, on Redis the router's own inbox.  A message
 * that comes to the bridge's address on one side (router_bridge_input())
 * is matched by thread and sent to the other: a drone's reply to the
 * client (from the bridge's address there, which a connected session's
 * client then talks to), a client's next message of a connected session
 * to the drone.  Stateless sessions end with their last request's final
 * status; connected ones with DISCONNECT, the drone's 408, or
 * RBR_IDLE_CONNECTED_MS of silence; no session outlives
 * RBR_IDLE_MS idle, and at most RBR_SESSIONS_MAX are kept (oldest
 * dropped, logged).  Thread ids are unique per client (time and pid, as
 * OpenSRF makes them); the bridge relies on that.
 *
 * Trust: side A's router checks the client as always (trusted clients
 * of A); what comes to the bridge's address on either side is accepted
 * from that side's trusted client domains only.
 *
 * Pure: no I/O.  The event loop (router_loop.c) supplies per side the
 * routing table, its io callbacks and a send function, and routes to the
 * bridge the forwards to ROUTER_BRIDGE_NODE and the messages that reach
 * its addresses.
 *
 * Callers: drover-router's loop, one thread.  Ownership: the bridge
 * borrows the sides' tables and io for its life; messages passed in are
 * borrowed for the call.  Errors: 0 or negative errno.
 */
#ifndef DROVER_ROUTER_BRIDGE_H
#define DROVER_ROUTER_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "router.h"
#include "tmsg.h"
#include "util.h"

/* The fallback node that stands for the other bus in a routing table. */
#define ROUTER_BRIDGE_NODE	"drover-bridge"
/* The XMPP resource the bridge logs in with. */
#define ROUTER_BRIDGE_RESOURCE	"bridge"
/* Sessions kept at most; beyond, the oldest is forgotten (logged). */
#define RBR_SESSIONS_MAX	100000
/* A session idle this long is forgotten (a lost reply, a dead client). */
#define RBR_IDLE_MS		(120 * 1000)
/* A connected session, idle this long (past any keepalive). */
#define RBR_IDLE_CONNECTED_MS	(3600 * 1000)

/* One bus's side of the bridge, as the loop provides it. */
struct rbr_side {
	const char		*name;		/* for logs: the router */
	struct router		*rt;
	const struct router_io	*io;
	/*
	 * Send m from the bridge's address on this side (m->from is
	 * ignored), to dest or, NULL, m->to.  0 or -errno.
	 */
	int			(*send)(void *arg, const char *dest,
				    const struct tmsg *m);
	/* The bridge's address on this side ("" while it is not up). */
	const char		*(*addr)(void *arg);
	void			*arg;
};

struct router_bridge;

/* A bridge between sides a and b (copied; their tables borrowed). */
int	router_bridge_new(const struct rbr_side *a, const struct rbr_side *b,
	    struct router_bridge **out) MUST_CHECK;
void	router_bridge_free(struct router_bridge **);

/* The side (0, 1) whose table is rt, or -1. */
int	router_bridge_side(const struct router_bridge *,
	    const struct router *rt);
/* Mirror class cls as it now stands on both sides. */
void	router_bridge_sync(struct router_bridge *, const char *cls);
/* Mirror every class (after start or a reload). */
void	router_bridge_sync_all(struct router_bridge *);
/*
 * Side `side`'s router forwards fwd for cls to ROUTER_BRIDGE_NODE:
 * send it across.  0, or -errno (the router then counts a failed send;
 * the client was answered here when the other side has no listener).
 */
int	router_bridge_forward(struct router_bridge *, int side,
	    const struct router_class *cls, const struct router_fwd *fwd);
/* A message that came to the bridge's address on side `side`. */
void	router_bridge_input(struct router_bridge *, int side,
	    const struct tmsg *m);
/* Forget idle sessions; the ms until this wants to run again. */
int	router_bridge_tick(struct router_bridge *, uint64_t now_ms);

/* Counters for the status file. */
struct rbr_stats {
	size_t		 sessions;	/* live */
	uint64_t	 across[2];	/* requests sent from side i across */
	uint64_t	 replies[2];	/* messages sent to side i's peers */
	uint64_t	 dropped;	/* unmatched or untrusted input */
};
void	router_bridge_stats(const struct router_bridge *, struct rbr_stats *);

#endif /* DROVER_ROUTER_BRIDGE_H */
