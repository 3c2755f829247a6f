/*
 * xmpp.h: drover's XMPP client connection, under the XMPP bus
 * (bus_xmpp.c).
 *
 * One struct xmpp_conn is one client connection to ejabberd or prosody,
 * as every OpenSRF process has (spec 1.1): a listener, each drone, each
 * client.  Nothing here blocks but the functions that say so
 * (xmpp_open(), xmpp_flush_wait(), xmpp_close() for at most 200 ms,
 * and name resolution in xmpp_connect_start()),
 * so droverd's parent and drover-router drive their connections from
 * their event loops:
 *
 *	c = xmpp_new(&conf, resource);
 *	rc = xmpp_connect_start(c);		resolve, connect, log in...
 *	while (rc == -EINPROGRESS) {		...one step per readiness
 *		wait for xmpp_events(c) on xmpp_fd(c), under the
 *		    caller's own connect deadline;
 *		rc = xmpp_connect_step(c);
 *	}
 *	if (rc < 0) ... xmpp_error(c); retry after bus_backoff_ms(...)
 *	then, logged in, on each readiness of xmpp_fd(c):
 *		if (xmpp_flush(c) == -ENOTCONN) reconnect;
 *		while ((rc = xmpp_recv(c, &st)) == 1)
 *			{ handle st; xstanza_free(&st); }
 *		if (rc == -ENOTCONN) { reconnect after bus_backoff_ms(...) }
 *	xmpp_send(c, xml, len);		(writes or queues, never waits)
 *	xmpp_free(&c);			(logs out)
 * The poll set always follows xmpp_events(c) (re-read it after every
 * call above): POLLOUT while the TCP connect is under way and while
 * bytes are queued, what TLS asks for during its handshake, POLLIN
 * otherwise.  During the login xmpp_connect_step() writes the queue
 * itself.  Once it returns 0, call xmpp_recv() before the next wait:
 * stanzas that came with the login's last answer are already read.
 * Clients and children that may block call xmpp_open(c, timeout_ms)
 * instead of the start/step loop.
 *
 * Login states (xmpp_int.h, enum xmpp_phase): closed -> TCP connect ->
 * stream -> legacy iq:auth, or STARTTLS -> TLS handshake -> stream ->
 * SASL -> stream -> bind -> session -> ready.  A failure in any state
 * closes the socket (xmpp_fd() -1) with xmpp_error() set; a caller
 * whose deadline passes abandons the login with xmpp_close().
 *
 * Login methods (bus_conf.auth):
 *  - XMPP_AUTH_LEGACY, exactly as OpenSRF: a stream without version,
 *    single quotes, then a jabber:iq:auth set with id 123456789 carrying
 *    <digest> (lowercase hex SHA-1 of stream id + password) or, with
 *    legacy_digest = 0, <password>.  Values are XML-escaped (OpenSRF does
 *    not).  Success is an iq result without a <query> child: prosody
 *    answers a <digest> it does not support with the field list as a
 *    "result" (capture prosody_digest_auth_failure.txt), which is
 *    reported as a failure, not taken for a login.
 *  - XMPP_AUTH_SASL, RFC 6120: version='1.0', stream features, STARTTLS
 *    when offered and bus_conf.tls asks for it (required: refuse a
 *    server without it), SASL SCRAM-SHA-256, SCRAM-SHA-1 or PLAIN (the
 *    first the server offers, in that order, unless pinned with
 *    xmpp_set_mechanisms()), resource binding, session if required.
 *  - XMPP_AUTH_AUTO: a version='1.0' stream; SASL when the server offers
 *    a mechanism we have, else legacy iq:auth on that stream.
 *
 * Presence: OpenSRF sends none, and by default neither does drover.
 * All drover processes share one account (spec 1.2), and a request
 * routed to a listener that vanished without unregistering must bounce
 * to its sender, never reach another process of the account (issue 14,
 * "Stray deliveries"): a message for a full JID whose resource is gone
 * is handled as if sent to the bare JID (RFC 6121 8.5.3.2.1), and goes
 * only to resources that are available with a non-negative priority.
 * A connection that never sends presence is not available: on ejabberd
 * 23.01 and prosody 0.12 such messages bounce, tested.  With
 * bus_conf.presence (the presence_priority key) the connection sends,
 * after either login, an initial presence with that priority, for a
 * server that treats logged-in resources as delivery targets: a
 * negative one (-1) keeps them unreachable through the bare JID (RFC
 * 6121 4.7.2.3, 8.5.2.1.1).  The price of being available: the
 * connection receives the presences of the account's other available
 * resources (its own echo, one from each at login, an unavailable one
 * as each leaves), O(N^2) stanzas when N processes start together.
 * xmpp_recv() returns every <presence> like any non-message stanza
 * (st->name "presence"); the XMPP bus marks them BUS_F_OTHER.
 *
 * Output queue: xmpp_send() writes what the socket takes at once and
 * queues the rest inside the connection; so do the login requests and
 * the answers the connection sends by itself (iq results, 406
 * refusals).  xmpp_flush() writes more when xmpp_events() reported
 * POLLOUT ready; xmpp_recv() also tries.  The queue is bounded (see
 * XMPP_OUTQ_MIN): a send that would pass the bound fails with -ENOBUFS
 * and the connection is dead.  Bytes go out in the order they were
 * queued.
 *
 * Received stanzas come from the stanza parser (proto/stanza.h) with
 * their raw bytes.  A stanza over bus_conf.max_stanza_size is dropped
 * by the parser; xmpp_recv() then sends its sender a <message
 * type="error"> with <error type="modify" code="406"><not-acceptable/>
 * (OpenSRF's reply-to rule: router_from, else from) and goes on: the
 * connection survives.  iq requests (get/set) are answered here, never
 * returned: a result for an XEP-0199 ping (servers that ping idle
 * clients drop those that stay silent), service-unavailable otherwise.
 * <stream:error>, </stream:stream>, end of file and socket errors make
 * the connection dead: -ENOTCONN.
 *
 * Every socket is close-on-exec, non-blocking, TCP_NODELAY (with Nagle a
 * connection that only receives stalls on delayed ACKs: performance.md)
 * and written with MSG_NOSIGNAL.
 *
 * Callers: any process; one connection per process role (a child opens
 * its own, never its parent's).  Not thread-safe, not for signal
 * context.  After fork() the child must not use the parent's
 * connection; it calls xmpp_forget_after_fork() (or just xmpp_free()):
 * closing in a process other than the one that created the socket only
 * closes that process's copy, never logs the parent out and never
 * writes the parent's queued bytes.
 *
 * Ownership: xmpp_new() copies the config and resource.  Received
 * stanzas belong to the caller (xstanza_free()).  xmpp_send() copies
 * what it queues and does not keep the buffer.  xmpp_free(&c) logs out,
 * closes and resets c.
 *
 * Errors: 0 / 1 or a negative errno:
 *	-EINPROGRESS	the login goes on: wait for xmpp_events()
 *	-EAGAIN		xmpp_flush(): bytes remain queued
 *	-ENOTCONN	not connected (or not logged in yet), or the
 *			connection died
 *	-ETIMEDOUT	a blocking wrapper's time ran out
 *	-ENOBUFS	the output queue is full: the connection is dead
 *	-EACCES		the server refused the credentials
 *			(xmpp_error(): "not-authorized", ...)
 *	-EPROTONOSUPPORT no usable login method (no common mechanism,
 *			TLS required but not offered)
 *	-EPROTO		the server spoke something unexpected
 *	-ECONNREFUSED, -EHOSTUNREACH, ... from connect()
 *	-ENOMEM
 * xmpp_error() holds a one-line reason for the last failure.  A lost
 * connection and a failed or finished login are logged at debug level
 * only: the bus (bus.c) logs each of them once, with that reason, for
 * every backend alike.  Other failures are logged once, where they are
 * decided.
 */
#ifndef DROVER_XMPP_H
#define DROVER_XMPP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cfg.h"
#include "stanza.h"
#include "util.h"

/* The fixed iq id of OpenSRF's legacy login (spec 1.1). */
#define XMPP_LEGACY_IQ_ID	"123456789"
/* Lowercase hex SHA-1 plus the NUL. */
#define XMPP_DIGEST_LEN		41
/* The presence tests send (see "Presence" above). */
#define XMPP_PRESENCE	"<presence><priority>-1</priority></presence>"
/*
 * Bound of the output queue: the larger of XMPP_OUTQ_MIN and
 * XMPP_OUTQ_STANZAS times bus_conf.max_stanza_size.  The queue only
 * grows while the server reads less than we write.  64 MiB is some
 * 90,000 typical OpenSRF messages (~700 bytes), or a few seconds of a
 * busy router's traffic: far more than a server's pause (a GC, a
 * burst) leaves behind, so a connection whose queue passes it has a
 * server that reads nothing, and is given up rather than let it grow
 * without limit.  The multiple keeps a few of the largest stanzas the
 * configuration allows (up to 1 GiB) sendable behind a partly written
 * one.
 */
#define XMPP_OUTQ_MIN		(64u * 1024 * 1024)
#define XMPP_OUTQ_STANZAS	4u

struct xmpp_conn;

/* A connection in the closed state.  NULL only on allocation failure. */
struct xmpp_conn *xmpp_new(const struct bus_conf *, const char *resource);
void	xmpp_free(struct xmpp_conn **);

/*
 * Pin the SASL mechanisms, space-separated in order of preference
 * ("SCRAM-SHA-1", "PLAIN"); NULL restores the default.  For tests and
 * for servers whose SCRAM is broken.  0 or -EINVAL (unknown mechanism).
 */
int	xmpp_set_mechanisms(struct xmpp_conn *, const char *mechs)
	    MUST_CHECK;

/*
 * Begin to log in: forget any previous connection (xmpp_close()),
 * resolve the host (getaddrinfo(3), which may wait for DNS) and start a
 * non-blocking TCP connect.  -EINPROGRESS once under way (wait for
 * xmpp_events(), then xmpp_connect_step(); the login never completes
 * inside this call, so it does not return 0), or a negative errno with
 * xmpp_error() set and the socket closed.
 */
int	xmpp_connect_start(struct xmpp_conn *) MUST_CHECK;
/*
 * Advance the login as far as it goes without blocking; call it when
 * xmpp_fd() is ready for xmpp_events(), or any time.  0 once logged in
 * (again 0 on later calls; a quick server may let one call go all the
 * way), -EINPROGRESS to wait for the socket, or a negative errno with
 * xmpp_error() set and the socket closed (-ENOTCONN when no login is
 * under way).  Keeps no deadline: the caller's own bounds the login
 * (xmpp_close() abandons it).
 */
int	xmpp_connect_step(struct xmpp_conn *) MUST_CHECK;
/*
 * What the connection waits for now: POLLIN and/or POLLOUT, which equal
 * EPOLLIN and EPOLLOUT; 0 when there is no socket.
 */
uint32_t xmpp_events(const struct xmpp_conn *);
/*
 * xmpp_connect_start() and steps, polling until logged in or
 * timeout_ms (<= 0: connect_timeout_ms, else 10 s) has passed: 0,
 * -ETIMEDOUT or the login's error; the socket is closed on failure.
 * Blocks.
 */
int	xmpp_open(struct xmpp_conn *, int timeout_ms) MUST_CHECK;
/* The socket to poll (see xmpp_events()), -1 while not connected. */
int	xmpp_fd(const struct xmpp_conn *);
/*
 * Take one complete stanza if one is available, reading from the
 * socket without blocking: 1 and *out set, 0 when none is complete yet,
 * -ENOTCONN when the connection died.  Call again until it returns 0
 * before polling: several stanzas may have arrived in one read.  Writes
 * queued bytes first if it can.
 */
int	xmpp_recv(struct xmpp_conn *, struct xstanza **out) MUST_CHECK;
/*
 * Whether xmpp_recv() may return more before the socket is readable
 * again: stanzas already read, a read that filled its buffer, TLS (its
 * records are buffered where poll cannot see them), or a death to
 * report.  0 only after a short read on a plain socket whose stanzas
 * are all taken: the read that would follow could only say EAGAIN.
 */
int	xmpp_more(const struct xmpp_conn *);
/*
 * Send one complete stanza: write what the socket takes now, queue the
 * rest.  0 once written or queued; -ENOTCONN (not logged in, or the
 * connection died writing), -ENOBUFS (the queue would pass its bound:
 * the connection is now dead), -ENOMEM (nothing sent: the connection
 * lives on, unless part of the stanza was written, then it is dead).
 * Never blocks.
 */
int	xmpp_send(struct xmpp_conn *, const char *xml, size_t len)
	    MUST_CHECK;
/*
 * Write queued bytes without blocking: 0 when the queue is empty,
 * -EAGAIN when some remain (wait for POLLOUT), -ENOTCONN if the
 * connection died (or was not there).
 */
int	xmpp_flush(struct xmpp_conn *) MUST_CHECK;
/*
 * Write everything queued, waiting up to timeout_ms (-1: no bound; 0:
 * just xmpp_flush()): 0, -ETIMEDOUT (the connection stays; bytes
 * remain queued), -ENOTCONN.  Blocks.
 */
int	xmpp_flush_wait(struct xmpp_conn *, int timeout_ms) MUST_CHECK;
/* Our full JID once logged in ("" before). */
const char *xmpp_jid(const struct xmpp_conn *);
/*
 * Log out and close; a new login may follow.  When logged in, writes
 * what is queued and </stream:stream>, then reads (and drops) what
 * comes until the server ends its stream (xmpp_close_late() keeps the
 * messages): closing with unread input
 * would reset the connection and lose our last stanzas at the server.
 * All of it within 200 ms (call xmpp_flush_wait() first for a longer
 * bound on the writing).  Abandons a login under way.
 */
void	xmpp_close(struct xmpp_conn *);
/*
 * xmpp_close(), handing each <message> the server delivers between our
 * </stream:stream> and its own to late(arg, st), which owns st.  The
 * server routes to us until it has read our logout: a router's class
 * connection must not drop the requests that arrive in that window.
 */
typedef void	xmpp_late_fn(void *arg, struct xstanza *st);
void	xmpp_close_late(struct xmpp_conn *, xmpp_late_fn *late, void *arg);
/*
 * In a forked child: close our copy of the socket without logging out,
 * and drop the queue without writing it.
 */
void	xmpp_forget_after_fork(struct xmpp_conn *);
/* Reason for the last failure, "" if none. */
const char *xmpp_error(const struct xmpp_conn *);
/* Name of the login method used ("legacy-digest", "SCRAM-SHA-1", ...). */
const char *xmpp_auth_used(const struct xmpp_conn *);
/* 1 when the stream is encrypted. */
int	xmpp_is_tls(const struct xmpp_conn *);

/* ------------------------------------------------ pure helpers, tested */

/* Lowercase hex SHA-1 of stream_id followed by password.  0 or -EIO. */
int	xmpp_legacy_digest(const char *stream_id, const char *password,
	    char out[XMPP_DIGEST_LEN]) MUST_CHECK;

enum xmpp_role {
	XMPP_ROLE_LISTENER,	/* <svc>_listener_<host>_<ts>_<pid> */
	XMPP_ROLE_DRONE,	/* <svc>_drone_<host>_<ts>_<pid> */
	XMPP_ROLE_CLIENT,	/* _<host>_<ts>_<pid> (svc ignored) */
};

/*
 * Resource name per spec 1.2; ts = wall_us as %f epoch seconds (six
 * decimals).  Returns the length, or -ENAMETOOLONG if it did not fit
 * (buf then holds a truncated, terminated string).
 */
int	xmpp_resource_fmt(char *buf, size_t len, enum xmpp_role,
	    const char *svc, const char *host, uint64_t wall_us, pid_t pid);
/* The same with gethostname(), the current time and getpid(). */
int	xmpp_resource_make(char *buf, size_t len, enum xmpp_role,
	    const char *svc);

/* -------------------------------------------------------- SCRAM (RFC 5802) */

/* SCRAM state of one authentication exchange (client side). */
struct xmpp_scram {
	const char	*mech;	/* "SCRAM-SHA-1" or "SCRAM-SHA-256" */
	size_t		 hlen;	/* digest length: 20 or 32 */
	char		*client_first_bare;
	unsigned char	 server_sig[64]; /* expected ServerSignature */
	int		 step;	/* 0 new, 1 first sent, 2 final sent */
};

/*
 * client-first-message "n,,n=<user>,r=<cnonce>" (user escaped =2C =3D)
 * into *out (malloc'd).  cnonce NULL: 24 random bytes, base64.  mech is
 * "SCRAM-SHA-1" or "SCRAM-SHA-256" (-EINVAL otherwise).
 */
int	xmpp_scram_first(struct xmpp_scram *, const char *mech,
	    const char *user, const char *cnonce, char **out) MUST_CHECK;
/*
 * client-final-message for server-first-message sf: -EPROTO if sf is
 * malformed or its nonce does not extend ours; *out malloc'd.
 */
int	xmpp_scram_final(struct xmpp_scram *, const char *password,
	    const char *sf, char **out) MUST_CHECK;
/* Check server-final-message "v=...": 0, -EACCES (e=... or mismatch). */
int	xmpp_scram_verify(struct xmpp_scram *, const char *server_final)
	    MUST_CHECK;
void	xmpp_scram_clear(struct xmpp_scram *);

/* Base64 (no newlines) of len bytes; malloc'd, NULL on ENOMEM. */
char	*xmpp_b64_encode(const void *, size_t len);
/* Decode; *out malloc'd and NUL-terminated, *outlen bytes; -EINVAL. */
int	xmpp_b64_decode(const char *, unsigned char **out, size_t *outlen)
	    MUST_CHECK;

#endif /* DROVER_XMPP_H */
