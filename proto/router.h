/*
 * router.h: the routing table of drover-router and every decision it
 * takes, as pure functions over plain data (spec section 2).
 *
 * One struct router is one configured <router> entry: its top-level JID
 * <name>@<domain>/router, its trusted domain lists, and the classes
 * (services) registered with it.  A class has an ordered list of nodes
 * (listener JIDs, registration order) served round robin, and a
 * per-class "graveyard" of nodes that left recently, kept so that
 * bounces of requests still on their way to a dead listener can be
 * retried elsewhere.  Every node remembers the last ROUTER_INFLIGHT_MAX
 * requests sent to it (its in-flight window): the router never sees
 * replies (drones answer clients directly), so "in flight" means "sent
 * recently"; a bounce is matched against that window by thread, osrf_xid
 * and body, and retried on the next live node (OpenSRF retries only the
 * single last message, spec 9.6).
 *
 * This module does no I/O.  It reports what must happen through the
 * callbacks of struct router_io (send a forward, reject a request, open
 * or close a class address), which the event loop (router_loop.c)
 * implements with real XMPP connections and the tests with recorders.
 *
 * Callers: the router process's event loop, single threaded.  Never in
 * signal context.
 *
 * Ownership: router_new() copies what it keeps; strings in struct
 * router_msg are borrowed for the duration of one call; strings passed
 * to callbacks are valid only during the callback.  A struct
 * router_class is owned by the router; the io layer may hang its
 * connection on cls->conn and must release it in class_close(), which
 * is always called before the class is freed.
 *
 * Errors: 0 or negative errno.  Allocation failures on the request path
 * (in-flight copies) degrade to "not remembered"; registrations use
 * xmalloc() (router bookkeeping, dying is right).
 */
#ifndef DROVER_ROUTER_H
#define DROVER_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/*
 * In-flight window per node.  A listener that vanishes is noticed at the
 * first bounce, which ejabberd sends within a millisecond of the send;
 * everything routed to it in that interval must be retried.  64 covers a
 * burst of 64 requests to one listener in that window (at the measured
 * ceiling of ~10k req/s spread round robin, far more than a millisecond)
 * at a bounded memory cost.
 */
#define ROUTER_INFLIGHT_MAX	64
/*
 * Bodies above this size are not copied, nor any once a node's window
 * holds ROUTER_INFLIGHT_BYTES_MAX of them: the bounce's own copy is used
 * then (ejabberd and prosody return the original payload).  Worst case
 * per listener: 4 MiB plus 64 small copies.
 */
#define ROUTER_INFLIGHT_BODY_MAX	(256 * 1024)
#define ROUTER_INFLIGHT_BYTES_MAX	(4 * 1024 * 1024)
/* Dead nodes remembered per class (their in-flight windows with them). */
#define ROUTER_GRAVE_MAX	8
/* A request is retried on at most this many listeners, then rejected. */
#define ROUTER_RETRY_MAX	8
/*
 * Ping errors in a row (the server says the listener is gone) before a
 * suspended node is removed: one ping period each, so its requests'
 * bounces have long been taken.
 */
#define ROUTER_PING_ERRORS	3
/* Longest class (service) name accepted in a registration. */
#define ROUTER_CLASS_MAX	256
/*
 * Registration limits (issue 14), the defaults of max_classes and
 * max_classes_per_sender (drover-config(5)).  A registration beyond one
 * is refused and logged: on XMPP every class costs a login and a
 * descriptor, and a sender that registers classes in a loop must not
 * take the router's descriptors or its time.  An OpenSRF listener
 * registers one class; 8 leaves room for hand-made tools.  512 classes
 * is several times the services of a large Evergreen site.
 */
#define ROUTER_MAX_CLASSES_DEF		512
#define ROUTER_MAX_PER_SENDER_DEF	8

/* The fields of one <message> the router reads (spec 1.3); borrowed. */
struct router_msg {
	const char	*to;
	const char	*from;
	const char	*router_from;
	const char	*router_class;
	const char	*router_command;
	const char	*osrf_xid;
	const char	*thread;
	const char	*body;
	int		 is_error;	/* type="error" or an <error> child */
};

/* What a forward (or a rejected request) carries; spec 2.3. */
struct router_fwd {
	const char	*router_from;	/* the original sender */
	const char	*osrf_xid;
	const char	*thread;
	const char	*body;
};

struct router_inflight {
	char		*router_from;	/* owned */
	char		*osrf_xid;	/* owned */
	char		*thread;	/* owned */
	char		*body;		/* owned; NULL if too big to keep */
	size_t		 body_len;	/* strlen(body), 0 if NULL */
	unsigned	 tries;		/* listeners it was sent to so far */
};

struct router_node {
	char			*jid;		/* where requests go, owned: the
						   listener's full JID (XMPP),
						   its service queue (Redis) */
	char			**regs;		/* registrants, owned: XMPP the
						   JID itself; Redis every
						   listener of the queue */
	size_t			 nregs;
	int			 fallback;	/* taken only when no other
						   node is (a bridge) */
	int			 suspended;	/* out of the rotation (a
						   listener that stopped
						   answering pings) */
	/* liveness, mono ms (see router_live_tick()) */
	int			 answered;	/* it answered a ping once */
	uint32_t		 ping_id;	/* of the ping in flight */
	uint64_t		 ping_sent;	/* its time; 0: none */
	uint64_t		 heard;		/* its last answer */
	unsigned		 ping_errors;	/* in a row */
	uint64_t		 forwarded;	/* requests sent to it */
	struct router_inflight	 win[ROUTER_INFLIGHT_MAX]; /* ring */
	unsigned		 win_head;	/* next slot to write */
	unsigned		 win_n;		/* slots in use */
	size_t			 win_bytes;	/* body bytes in win[] */
};

struct router_class {
	char			*name;		/* owned */
	struct router_node	**nodes;	/* live, registration order */
	size_t			 nnodes;
	size_t			 nodes_cap;
	size_t			 next;		/* round-robin cursor */
	struct router_node	*grave[ROUTER_GRAVE_MAX]; /* ring, oldest out */
	unsigned		 grave_head;
	/* counters, written by the router, read by API and status */
	uint64_t		 forwarded;	/* requests sent to listeners */
	uint64_t		 retried;	/* resent after a bounce */
	uint64_t		 errors;	/* answered with an error */
	uint64_t		 bounces;	/* bounces from listeners */
	uint64_t		 empty_since;	/* mono ms its last listener
						   went (lingering); 0: has
						   listeners */
	void			*conn;		/* the io layer's */
};

struct router {
	char			*name;		/* account, e.g. "router" */
	char			*domain;
	char			**trusted_servers;
	size_t			 ntrusted_servers;
	char			**trusted_clients;
	size_t			 ntrusted_clients;
	struct router_class	**classes;	/* registration order */
	size_t			 nclasses;
	size_t			 classes_cap;
	uint64_t		 api_calls;
	uint64_t		 ignored;	/* untrusted, malformed */
	uint64_t		 refused;	/* registrations over a limit */
	unsigned		 max_classes;	/* 0: no limit */
	unsigned		 max_per_sender; /* classes one registrant may
						   hold; 0: no limit */
	/* liveness of listeners (XMPP), see router_live_tick() */
	unsigned		 ping_ms;	/* 0: off */
	unsigned		 ping_timeout_ms;
	uint64_t		 now_ms;	/* the loop's clock, mono ms */
	unsigned		 linger_ms;	/* keep a class without
						   listeners this long (see
						   router_tick()); 0: drop it
						   at once */
	uint32_t		 ping_seq;
	uint64_t		 suspensions;	/* nodes taken out, in all */
};

/* Rejections: the XMPP error form and the OpenSRF status (spec 1.4). */
enum router_reject {
	ROUTER_REJECT_NO_LISTENER,	/* 503 service-unavailable */
	ROUTER_REJECT_UNTRUSTED,	/* 403 forbidden */
	ROUTER_REJECT_RETRIES,		/* 503: bounced by every listener */
};

struct router_io {
	void	*arg;
	/* Send fwd to node `to` from the class address.  0 or -errno. */
	int	(*forward)(void *arg, struct router_class *, const char *to,
		    const struct router_fwd *);
	/* Answer the request fwd of client `to` with an error. */
	int	(*reject)(void *arg, struct router_class *, const char *to,
		    const struct router_fwd *, enum router_reject);
	/* A class got its first node: open <name>@<domain>/<class>. */
	void	(*class_open)(void *arg, struct router_class *);
	/* The class is about to be freed: log out, release cls->conn. */
	void	(*class_close)(void *arg, struct router_class *);
	/*
	 * Optional: the node a registrant's requests go to, into buf (its
	 * length or -errno): on Redis the service queue derived from the
	 * registrant's address (opensrf-redis.md section 5).  NULL: the
	 * registrant itself (XMPP).
	 */
	int	(*node_addr)(void *arg, const char *cls, const char *registrant,
		    char *buf, size_t bufsz);
	/* Optional: send node `to` a liveness ping with id; 0 or -errno. */
	int	(*ping)(void *arg, struct router_class *, const char *to,
		    uint32_t id);
};

/* What router_top_msg() found a top-level message to be. */
enum router_top {
	ROUTER_TOP_IGNORED,		/* dropped (logged) */
	ROUTER_TOP_REGISTERED,
	ROUTER_TOP_UNREGISTERED,
	ROUTER_TOP_API,			/* caller runs router_api on it */
};

/*
 * A new router for one config entry.  Trusted lists are copied; both
 * must be non-empty (-EINVAL otherwise, as OpenSRF refuses to start).
 */
int	router_new(const char *name, const char *domain,
	    char *const *servers, size_t nservers,
	    char *const *clients, size_t nclients,
	    struct router **out) MUST_CHECK;
/* Free everything, calling io->class_close for each class first. */
void	router_free(struct router **, const struct router_io *);
/* Replace the trusted lists (SIGHUP); same rules as router_new(). */
int	router_set_trusted(struct router *, char *const *servers,
	    size_t nservers, char *const *clients,
	    size_t nclients) MUST_CHECK;

/*
 * The domain part of a full JID: the text between the first '@' and the
 * first '/' of "node@domain/resource", copied into buf.  Like OpenSRF, a
 * JID lacking either gives "" (never trusted).  A Redis address
 * "opensrf:<kind>:<user>:<domain>:..." gives its fourth field.  Returns
 * the domain's length, or -EINVAL (buf set to "") if malformed or too
 * long.
 */
int	router_jid_domain(const char *jid, char *buf, size_t bufsz);
/* Is the domain of jid in the list?  Case-insensitive (RFC 7622). */
int	router_jid_trusted(const char *jid, char *const *list, size_t n);

/* A stanza that arrived on the top-level connection (spec 2.2, 2.8). */
enum router_top router_top_msg(struct router *, const struct router_msg *,
	    const struct router_io *);
/* A stanza that arrived on class cls's connection (spec 2.3-2.5). */
void	router_class_msg(struct router *, struct router_class *,
	    const struct router_msg *, const struct router_io *);

/* Lookups for the API and the status writer; NULL when absent. */
struct router_class *router_class_find(const struct router *,
	    const char *name);
/* Sum of the per-node counts of the live nodes (OpenSRF's summary). */
uint64_t router_class_node_total(const struct router_class *);

/* Register / unregister directly (used by router_top_msg and tests). */
int	router_register(struct router *, const char *cls, const char *jid,
	    const struct router_io *);
int	router_unregister(struct router *, const char *cls, const char *jid,
	    const struct router_io *);
/*
 * The same for a node that several registrants share (Redis: listeners
 * of one user and domain share a service queue): the node joins with its
 * first registrant and leaves with its last.  -EEXIST when registrant
 * already holds it, -EDQUOT when a limit refuses it (max_classes for a
 * new class, max_per_sender for a registrant's new class), -EINVAL.
 */
int	router_register_as(struct router *, const char *cls, const char *node,
	    const char *registrant, const struct router_io *);
int	router_unregister_as(struct router *, const char *cls,
	    const char *node, const char *registrant,
	    const struct router_io *);
/*
 * A fallback node for cls, made or kept (a bridge to the other bus,
 * router_bridge.h): round robin takes it only while the class has no
 * other node in the rotation.  No per-sender limit; max_classes applies
 * to a new class (-EDQUOT).  -EEXIST when it is there already.
 */
int	router_register_fallback(struct router *, const char *cls,
	    const char *node, const struct router_io *);
/* Nodes of c that are not fallbacks (suspended ones too). */
size_t	router_class_real_nodes(const struct router_class *);
/*
 * Send fwd to the next node of c as a new request, without the trust
 * check of router_class_msg() (the caller did its own): 0, or -ENOENT
 * when c has no node in the rotation (the caller answers).
 */
int	router_forward(struct router *, struct router_class *,
	    const struct router_fwd *, const struct router_io *);

/*
 * Liveness of listeners (issue 14).  The router never sees replies, so
 * a listener that stopped reading (frozen, hung) would go on getting its
 * share until the server dropped it.  With ping_ms > 0 and io->ping set
 * (XMPP), a node that is forwarded a request and was not heard from in
 * ping_ms gets a ping (bus_ping()); a node that once answered one and
 * then leaves a ping unanswered for ping_timeout_ms is suspended: round
 * robin skips it.  It is resumed when it answers (late) or registers
 * again (after its reconnect); a ping error from a node that answered
 * before means the server no longer knows it: it is suspended, and
 * removed after ROUTER_PING_ERRORS errors in a row (by then the bounces
 * of what it was sent have come back and been retried).  Nodes that never answer pings (OpenSRF's listeners) are never
 * suspended.  A suspended node is pinged again every ping_ms.  So a
 * listener frozen while it is sent requests is out of the rotation at
 * most ping_ms + ping_timeout_ms (and a tick) after its last answer.
 *
 * router_live_tick() runs the timers (the loop sets r->now_ms first; it
 * returns the ms until it wants to run again, -1 none);
 * router_live_pong() takes an answer, error or not.
 */
int	router_live_tick(struct router *, const struct router_io *);

/*
 * A class whose last listener went lingers r->linger_ms before it is
 * dropped (XMPP: before its connection logs out).  Requests sent to
 * the listener just before it went come back as bounces over that
 * connection, one server round trip later, and a client may have sent
 * to the class address before it learned anything: while the class
 * lingers both get the 503 of a class without a listener, where a
 * connection already logged out would have dropped the bounces unread
 * (the server never bounces an error).  A listener that registers
 * meanwhile (after a server restart every listener comes back a moment
 * after the router) takes the class and its connection as they are.
 * router_tick() drops the classes whose time is up (the loop sets
 * r->now_ms first); it returns the ms until it wants to run again, -1
 * when nothing lingers.
 */
#define ROUTER_LINGER_MS	3000
int	router_tick(struct router *, const struct router_io *);
void	router_live_pong(struct router *, const char *from, uint32_t id,
	    int is_error, const struct router_io *);

/* Classes `registrant` holds a registration in. */
size_t	router_sender_classes(const struct router *, const char *registrant);

/*
 * Pacing of class logins (XMPP: one login per class; issue 14): when a
 * login asked for at now_ms may start, at most per_second a second (0:
 * at once).  *next_ms is the pacer's state, 0 at first.
 */
uint64_t router_pace(uint64_t *next_ms, uint64_t now_ms, unsigned per_second);

#endif /* DROVER_ROUTER_H */
