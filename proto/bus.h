/*
 * bus.h: the message bus, as every drover process sees it.
 *
 * OpenSRF processes talk by sending messages to addresses.  drover speaks
 * three buses behind this one interface; which one a process uses is
 * configuration (bus_conf.kind in cfg.h, or a local directory given on
 * the command line), never an #ifdef or the files a program links:
 *
 *	XMPP	bus_xmpp.c: one client connection to ejabberd or prosody, as
 *		OpenSRF 3.2 and 3.3 run.  Addresses are JIDs; a message is
 *		a <message> stanza (tmsg.h, XML form).
 *	Redis	bus_redis.c: hiredis connections to redis-server, as
 *		OpenSRF's main branch runs.  Addresses are list keys; a
 *		message is a JSON envelope (tmsg.h, JSON form).
 *	local	bus_local.c: UNIX sockets in one directory, for tests and
 *		benchmarks without a server; XMPP's addresses and XML form.
 *
 * Roles (struct bus_params.role) decide a process's own address and what
 * it reads:
 *	LISTENER	droverd's parent.  Requests for its service reach it
 *			(XMPP: routed to its resource; Redis: popped from the
 *			service queue, no more than bus_take() allows); it
 *			registers with the routers (bus_register()).
 *	DRONE		a child: its own address, where the clients of
 *			connected sessions and the answers to its
 *			sub-requests arrive.
 *	CLIENT		drover-call and other programs that call services.
 *	ROUTER		drover-router, for one <router> entry.  On XMPP the
 *			router logs in once more per registered class (role
 *			ROUTER, resource = the class); on Redis one bus
 *			serves every class.
 *
 * Frames and messages.  bus_recv() hands out frames: the bytes of one
 * message exactly as the bus delivered them, so droverd's parent can pass
 * a request to a child without parsing it.  bus_decode() turns a frame
 * into a struct tmsg (to, from, thread, body, ...) with the codec of the
 * bus that received it; the child, which has a bus of the same kind,
 * decodes what its parent forwarded.  bus_send() encodes a struct tmsg
 * and sends it; `from` is filled with the bus's own address unless the
 * caller set one (a Redis router forwards messages unchanged).
 *
 * Life cycle.  bus_new() makes a closed bus.  bus_start() begins to
 * connect without blocking.  A bus made with params.reconnect keeps
 * itself connected from then on: after a loss, or a failed attempt, it
 * tries again after bus_backoff_ms() (doubling from BUS_BACKOFF_BASE_MS
 * up to bus_conf.reconnect_max_ms, with jitter), and once up it sends
 * the registrations bus_register() asked for.  The owner's loop:
 *
 *	bus_start(b);
 *	for (;;) {
 *		bus_watch(b, epfd, tag);	descriptor and events in sync
 *		epoll_wait(epfd, ..., bus_timeout_ms(b, mono_ms()) or less);
 *		ev = bus_run(b);		login steps, reconnect when due,
 *						queued writes; BUS_EV_* flags
 *		if (readable || (ev & BUS_EV_UP))
 *			while (bus_recv(b, &f) == 1) {
 *				use f; bus_frame_free(&f);
 *				if (!bus_more(b)) break;
 *			}
 *	}
 *
 * Messages may arrive with the last bytes of a login and wait in the
 * bus's buffer, where no descriptor signals them: hence the BUS_EV_UP.
 *
 * Blocking.  Nothing blocks but bus_open() (start, then wait until up or
 * a deadline: for clients and children), bus_flush() and bus_wait(),
 * whose names say so.  bus_send() writes what the socket takes at once
 * and queues the rest for bus_run(); bus_events() then asks for EPOLLOUT.
 *
 * Registration.  bus_register(b, 1) registers a LISTENER with every router
 * of bus_params.routers that wants the service, now if the bus is up and
 * again after every reconnect; a registration a router bounces (XMPP: it
 * was offline) is sent again to that router alone, with back-off; and
 * every bus_conf.register_refresh_ms (half to all of it) it is sent
 * again anyway, which routers take as a no-op, so that a router that
 * restarted or dropped the listener learns of it again without anyone's
 * help.  bus_register(b, 0)
 * unregisters now and stops all that.  A bus without
 * routers (local) returns -ENOTSUP: there is nothing to tell.
 *
 * Rescue.  bus_answer() ends a request on behalf of a process that cannot
 * (a child that died, a watchdog kill, a full backlog): one OpenSRF
 * STATUS with the given code per REQUEST or CONNECT of the request, each
 * with its own threadTrace, sent to the request's sender.  When the dead
 * child was in a connected session, struct bus_rescue (filled from its
 * scoreboard slot, sb.h) names the request it was serving, which the
 * frame the parent dispatched may not hold.
 *
 * Callers: any process; each opens its own bus (a child never uses its
 * parent's: it calls bus_forget() on it right after fork).  Not thread
 * safe, not for signal context.
 *
 * Ownership: bus_new() copies params (and the strings and routers in
 * them).  Frames from bus_recv() belong to the caller (bus_frame_free()).
 * struct tmsg from bus_decode() is released with tmsg_clear().  Nothing
 * passed to bus_send() is kept.  bus_free(&b) logs out (Redis: deletes
 * the process's own inbox), closes and frees.
 *
 * Errors: 0, a count, or a negative errno:
 *	-ENOTCONN	not connected (down, or still connecting)
 *	-ETIMEDOUT	bus_open()/bus_flush()/bus_wait() deadline passed
 *	-EACCES		the server refused the credentials or a command
 *			(Redis ACL)
 *	-ENOTSUP	the operation means nothing on this bus
 *	-EPROTO		the server or a peer spoke something unexpected
 *	-EMSGSIZE	a message above bus_conf.max_stanza_size
 *	-ENOMEM
 * Every failure is logged once, by the bus, where it is decided.
 */
#ifndef DROVER_BUS_H
#define DROVER_BUS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cfg.h"
#include "proto_err.h"
#include "tmsg.h"
#include "util.h"

/* First reconnect delay; it doubles per failure up to reconnect_max. */
#define BUS_BACKOFF_BASE_MS	500u
/* Longest address of any bus (XMPP JIDs, Redis keys), with its NUL. */
#define BUS_ADDR_MAX		512

enum bus_role {
	BUS_ROLE_LISTENER,
	BUS_ROLE_DRONE,
	BUS_ROLE_CLIENT,
	BUS_ROLE_ROUTER,
};

enum bus_state {
	BUS_DOWN = 0,		/* not connected; maybe a retry is due */
	BUS_CONNECTING,		/* TCP connect or login under way */
	BUS_UP,			/* logged in: send and receive */
};

struct bus_params {
	enum bus_kind		 kind;
	const struct bus_conf	*conf;		/* XMPP, Redis: the server */
	const char		*local_dir;	/* local: the socket directory */
	enum bus_role		 role;
	const char		*service;	/* LISTENER, DRONE */
	const char		*instance;	/* LISTENER: droverd -i, or NULL */
	const char		*resource;	/* ROUTER: the XMPP resource
						   ("router" or a class) */
	const char		*router_name;	/* account of the routers that
						   serve clients; NULL "router" */
	const struct reg_target	*routers;	/* LISTENER: where to register */
	size_t			 nrouters;
	int			 reconnect;	/* 1: keep connected (daemons) */
};

/* Room for a sender's address in a frame (longer ones are cut). */
#define BUS_SENDER_MAX		256

/*
 * One message as the bus delivered it, with what the parent needs to
 * know of it without decoding it: who it is from (the address a reply
 * goes to: XMPP router_from, else from) and whether it opens a session.
 */
struct bus_frame {
	char		*raw;		/* its bytes, NUL-terminated, owned */
	size_t		 len;		/* strlen(raw) */
	unsigned	 flags;		/* BUS_F_* */
	uint64_t	 rx_us;		/* mono_us() when received */
	char		 sender[BUS_SENDER_MAX]; /* "" when unknown */
};

#define BUS_F_ERROR	0x1u	/* a bounce or error message (XMPP, local) */
#define BUS_F_OTHER	0x2u	/* not a message (an XMPP presence): drop */
#define BUS_F_OVERFLOW	0x4u	/* LISTENER on Redis: taken off the service
				   queue because it was longer than
				   bus_set_queue_max(): answer 503 */
#define BUS_F_CONNECT	0x8u	/* it holds a CONNECT: a session starts */
#define BUS_F_PONG	0x10u	/* XMPP: the answer to a bus_ping() (with
				   BUS_F_ERROR when the server or the peer
				   refused it); sender is who answered */

/* What bus_run() saw happen, as flags. */
#define BUS_EV_UP	0x1u	/* came up (and re-registered if asked) */
#define BUS_EV_DOWN	0x2u	/* the connection was lost */
#define BUS_EV_FAILED	0x4u	/* a connect or login attempt failed */

/* The request a dead child was serving, from its scoreboard slot. */
struct bus_rescue {
	const char	*client;	/* its reply-to address; "" none */
	const char	*thread;
	const char	*xid;
	long long	 trace;		/* its threadTrace */
};

/* A service queue as a LISTENER on Redis sees it. */
struct bus_queue_info {
	uint64_t	 depth;		/* requests waiting */
	uint64_t	 oldest_ms;	/* age of the oldest, a lower bound */
	uint64_t	 sampled_us;	/* mono_us() of the sample */
};

struct bus;

/* ---------------------------------------------------------- life */

/* A closed bus.  -EINVAL (bad params, with a log line), -ENOMEM. */
int	bus_new(const struct bus_params *, struct bus **out) MUST_CHECK;
/* Log out (Redis: DEL the own inbox), close and free; NULL is a no-op. */
void	bus_free(struct bus **);
/*
 * bus_free(), handing each message the server still delivers while we
 * log out to late(arg, f), which owns f.  On XMPP the server routes to
 * a connection until it has read its logout, so what it sent in that
 * window would otherwise be dropped unread; the caller answers it from
 * another connection (drover-router does, for a class it closes).  On
 * Redis and the local bus nothing arrives that way: late() is not
 * called.
 */
typedef void	bus_late_fn(void *arg, struct bus_frame *f);
void	bus_free_late(struct bus **, bus_late_fn *late, void *arg);
/*
 * In a child after fork(): close this process's copies of the parent's
 * descriptors without a word to the server, and free.
 */
void	bus_forget(struct bus **);

/*
 * Begin to connect (non-blocking).  0, or -errno when this attempt failed
 * at once; either way the failure is logged and a reconnecting bus tries
 * again by itself, so daemons may ignore the result.
 */
int	bus_start(struct bus *);
/* bus_start(), then run the bus until it is up: 0, -ETIMEDOUT, -errno. */
int	bus_open(struct bus *, int timeout_ms) MUST_CHECK;
enum bus_state bus_state(const struct bus *);
enum bus_kind bus_kind(const struct bus *);
/* The process's own address ("" until first up on XMPP). */
const char *bus_addr(const struct bus *);
/*
 * Is addr (a message's `to`) this process's own address?  For messages
 * a process reads off its own connection: a server may deliver one that
 * was meant for someone else (XMPP gives a message for a resource that
 * is gone to another resource of the account), and a process runs only
 * what was sent to it.  1 also while bus_addr() is still "".
 */
int	bus_addr_mine(const struct bus *, const char *addr);
/*
 * The comparison it makes, for two addresses of a bus of kind k: 1 when
 * they name the same endpoint.  XMPP and local addresses are JIDs: the
 * bare part (localpart@domain) without regard to ASCII case, as XMPP
 * maps it (RFC 7622), the resource exactly; Redis keys byte for byte.
 */
int	bus_addr_same(enum bus_kind k, const char *a, const char *b);
/* One line on the last failure, "" if none. */
const char *bus_error(const struct bus *);

/* ---------------------------------------------------------- loop */

/* The descriptor to poll, -1 when there is none (down). */
int	bus_fd(const struct bus *);
/* EPOLLIN, plus EPOLLOUT while a connect or queued write waits. */
uint32_t bus_events(const struct bus *);
/*
 * Add, modify or remove the bus's descriptor in epoll set epfd under
 * `tag`, as bus_fd()/bus_events() now say; cheap when nothing changed.
 * Call before every wait.  0 or -errno (epoll_ctl).
 */
int	bus_watch(struct bus *, int epfd, uint64_t tag) MUST_CHECK;
/* Milliseconds until bus_run() has timed work (a retry, a deadline, a
 * queue sample), -1 if none. */
int	bus_timeout_ms(const struct bus *, uint64_t now_ms);
/*
 * Do what is due: advance a connect or login, reconnect after back-off,
 * write queued bytes, register again.  Returns the BUS_EV_* flags of
 * what happened since the last bus_run() (>= 0), also inside the
 * blocking helpers, which run the bus too.
 */
int	bus_run(struct bus *);
/*
 * Take one received frame: 1 and *out set, 0 when none is waiting (poll
 * again), -ENOTCONN when the connection was lost just now (bus_run()
 * then reconnects a reconnecting bus).  Call until it returns 0: several
 * frames may arrive in one read.
 */
int	bus_recv(struct bus *, struct bus_frame **out) MUST_CHECK;
/*
 * After bus_recv() returned 1: whether another bus_recv() may return a
 * frame before the descriptor is readable again (frames already read, a
 * read that filled its buffer).  0 lets a loop stop without the read
 * that would only say "nothing"; the next readable event brings what
 * comes later.  Ignoring it is always correct.
 */
int	bus_more(const struct bus *);
/* Wait up to timeout_ms (-1: forever) for input and run the bus once:
 * 1 when input may be there, 0 on timeout, -errno. */
int	bus_wait(struct bus *, int timeout_ms) MUST_CHECK;
void	bus_frame_free(struct bus_frame **);

/* ------------------------------------------------------ messages */

/* Decode a frame of this bus's kind (e.g. one the parent forwarded). */
int	bus_decode(const struct bus *, const char *raw, size_t len,
	    struct tmsg *out, struct proto_err *) MUST_CHECK;
/*
 * Encode and send m to m->to (to `dest` with bus_send_to(), e.g. the
 * Redis service queue a router forwards to while `to` stays as the
 * client wrote it).  m->from NULL or "": our address.  0 once written or
 * queued; -ENOTCONN, -EMSGSIZE, -ENOMEM.
 */
int	bus_send(struct bus *, const struct tmsg *m) MUST_CHECK;
int	bus_send_to(struct bus *, const char *dest, const struct tmsg *m)
	    MUST_CHECK;
/* Write everything queued, waiting up to timeout_ms; 0 or -errno. */
int	bus_flush(struct bus *, int timeout_ms) MUST_CHECK;
/*
 * Batching: after bus_cork() messages are only queued; bus_uncork()
 * writes them all at once (one system call where the bus allows), e.g.
 * the forwards of one batch of router input.  0 or -errno (the
 * connection is then lost, as for bus_send()).
 */
void	bus_cork(struct bus *);
int	bus_uncork(struct bus *) MUST_CHECK;
/*
 * Where a client sends requests for `service` (XMPP
 * "<router_name>@<domain>/<service>", Redis "opensrf:service:_:_:<svc>",
 * local the listener's own address).  Its length, or -ENAMETOOLONG.
 */
int	bus_service_addr(const struct bus *, const char *service, char *buf,
	    size_t bufsz) MUST_CHECK;

/* ------------------------------------------------------ listener */

/*
 * Liveness probe (XMPP, XEP-0199): ask the full address `to` for a
 * ping answer; it comes back as a frame flagged BUS_F_PONG whose id
 * bus_pong_id() reads.  drover's XMPP connections answer pings by
 * themselves (xmpp_recv()); OpenSRF's listeners never do.  0 once sent
 * or queued, -ENOTSUP on buses without it, -EINVAL for an address that
 * cannot be one.
 */
int	bus_ping(struct bus *, const char *to, uint32_t id) MUST_CHECK;
/* The id of a BUS_F_PONG frame: 0 and *id set, or -EINVAL. */
int	bus_pong_id(const struct bus_frame *, uint32_t *id) MUST_CHECK;

/* Register (1) or unregister (0) with the routers; see above.  The
 * number of routers told now (0 while the bus is not up: it tells them
 * when it is), -ENOTSUP on a bus without routers. */
int	bus_register(struct bus *, int on) MUST_CHECK;
/*
 * The owner can hand n requests to children at once now.  A Redis
 * listener pops no more than that from the service queue (the queue is
 * the backlog); XMPP and local deliver whatever arrives.
 */
void	bus_take(struct bus *, unsigned n);
/* Redis listener: answer 503 for requests beyond n waiting (0: no
 * bound), through BUS_F_OVERFLOW frames. */
void	bus_set_queue_max(struct bus *, unsigned n);
/* The service queue's depth and oldest age; -ENOTSUP off Redis. */
int	bus_queue_info(const struct bus *, struct bus_queue_info *)
	    MUST_CHECK;
/*
 * Answer the request in frame req (as received; may be NULL when rs says
 * everything) with STATUS osrfMethodException `code` and `text` (NULL:
 * OpenSRF's 503 backlog text), as described above.  0 once sent, or
 * -errno; every failure is logged here, so callers that only count
 * successes may ignore the result.
 */
int	bus_answer(struct bus *, const struct bus_frame *req,
	    const struct bus_rescue *rs, int code, const char *text);
/*
 * A process of this service died without cleaning up (the parent calls
 * it after reaping; addr is the child's own address from its slot):
 * local removes its socket file, Redis deletes its inbox.
 */
void	bus_reaped(struct bus *, pid_t pid, const char *addr);

/* ------------------------------------------------- pure helpers */

/*
 * Delay before reconnect attempt `attempt` (0 = the first after a loss):
 * BUS_BACKOFF_BASE_MS doubled per attempt, capped at cap_ms, then "equal
 * jitter", a value in [d/2, d] picked by rnd, so the hundreds of drones
 * that lost the server together do not come back together.
 */
unsigned bus_backoff_ms(unsigned attempt, unsigned cap_ms, uint32_t rnd);
/* "xmpp", "redis", "local". */
const char *bus_kind_name(enum bus_kind);
/* Fill p from a core configuration for role and service (kind and
 * server from core->bus, routers, router_name, reconnect for daemons). */
void	bus_params_core(struct bus_params *p, const struct core_conf *core,
	    enum bus_role role, const char *service);

#endif /* DROVER_BUS_H */
