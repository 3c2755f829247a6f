/*
 * xmpp.h: drover's XMPP client connection, under the XMPP bus
 * (bus_xmpp.c).
 *
 * One struct xmpp_conn is one client connection to ejabberd or prosody,
 * as every OpenSRF process has (spec 1.1): a listener, each drone, each
 * client.  Logging in may block (up to the timeout given to
 * xmpp_open(), once at process start or on reconnect); after that the
 * connection is driven from the caller's poll loop:
 *
 *	c = xmpp_new(&conf, resource);
 *	if (xmpp_open(c, conf.connect_timeout_ms) < 0) ... xmpp_error(c)
 *	poll on xmpp_fd(c) for POLLIN; then
 *	while ((rc = xmpp_recv(c, &st)) == 1)
 *		{ handle st; xstanza_free(&st); }
 *	if (rc == -ENOTCONN) { reconnect after bus_backoff_ms(...) }
 *	xmpp_send(c, xml, len);		(blocks until written)
 *	xmpp_free(&c);			(logs out)
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
 * Received stanzas come from the stanza parser (proto/stanza.h) with
 * their raw bytes.  A stanza over bus_conf.max_stanza_size is dropped
 * by the parser; xmpp_recv() then sends its sender a <message
 * type="error"> with <error type="modify" code="406"><not-acceptable/>
 * (OpenSRF's reply-to rule: router_from, else from) and goes on: the
 * connection survives. iq requests (get/set) are answered here, never
 * returned: a result for an XEP-0199 ping (servers that ping idle
 * clients drop those that stay silent), service-unavailable otherwise.  <stream:error>, </stream:stream>, end of file
 * and socket errors make the connection dead: -ENOTCONN.
 *
 * Every socket is close-on-exec, non-blocking, TCP_NODELAY (with Nagle a
 * connection that only receives stalls on delayed ACKs: performance.md)
 * and written with MSG_NOSIGNAL.
 *
 * Callers: any process; one connection per process role (a child opens
 * its own, never its parent's).  Not thread-safe, not for signal
 * context.  After fork() the child must not use the parent's
 * connection; it calls xmpp_forget_after_fork() (or just xmpp_free()):
 * closing in a process other than the one that logged in only closes
 * that process's copy of the socket and never logs the parent out.
 *
 * Ownership: xmpp_new() copies the config and resource.  Received
 * stanzas belong to the caller (xstanza_free()).  xmpp_send() does not
 * keep the buffer.  xmpp_free(&c) logs out, closes and resets c.
 *
 * Errors: 0 / 1 or a negative errno:
 *	-ENOTCONN	not connected or the connection died
 *	-ETIMEDOUT	login or write did not finish in time
 *	-EACCES		the server refused the credentials
 *			(xmpp_error(): "not-authorized", ...)
 *	-EPROTONOSUPPORT no usable login method (no common mechanism,
 *			TLS required but not offered)
 *	-EPROTO		the server spoke something unexpected
 *	-ECONNREFUSED, -EHOSTUNREACH, ... from connect()
 *	-ENOMEM
 * xmpp_error() holds a one-line reason for the last failure; every
 * failure is logged once, where it is decided.
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

/* Connect and log in, blocking at most timeout_ms; 0 or -errno. */
int	xmpp_open(struct xmpp_conn *, int timeout_ms) MUST_CHECK;
/*
 * The same without blocking, for event loops: start, then step whenever
 * the socket is ready for xmpp_events(); 0 when logged in, -EINPROGRESS
 * while waiting, -errno on failure (xmpp_error()).  The caller keeps the
 * deadline.
 */
int	xmpp_connect_start(struct xmpp_conn *) MUST_CHECK;
int	xmpp_connect_step(struct xmpp_conn *) MUST_CHECK;
/* POLLIN / POLLOUT the connection waits for now. */
uint32_t xmpp_events(const struct xmpp_conn *);
/* Write queued output: 0 none left, -EAGAIN some left, -ENOTCONN. */
int	xmpp_flush(struct xmpp_conn *) MUST_CHECK;
/* The socket to poll for POLLIN, -1 while not connected. */
int	xmpp_fd(const struct xmpp_conn *);
/*
 * Take one complete stanza if one is available, reading from the
 * socket without blocking: 1 and *out set, 0 when none is complete yet,
 * -ENOTCONN when the connection died.  Call again until it returns 0
 * before polling: several stanzas may have arrived in one read.
 */
int	xmpp_recv(struct xmpp_conn *, struct xstanza **out) MUST_CHECK;
/* Write one complete stanza; blocks until written (bounded).  0/-errno. */
int	xmpp_send(struct xmpp_conn *, const char *xml, size_t len)
	    MUST_CHECK;
/* Our full JID once logged in ("" before). */
const char *xmpp_jid(const struct xmpp_conn *);
/* Log out (</stream:stream>) and close; xmpp_open() may follow. */
void	xmpp_close(struct xmpp_conn *);
/* In a forked child: close our copy of the socket without logging out. */
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
