/*
 * xmpp_int.h: what the xmpp_*.c files share; not for other modules
 * (tests included, for the setters at the end).
 *
 * Layout of the XMPP client:
 *	xmpp_conn.c	the connection object, TCP connect, socket I/O, the
 *			output queue, receive/send/flush, the blocking
 *			wrappers, the transport.h face
 *	xmpp_login.c	the login state machine: stream set-up, legacy
 *			iq:auth, STARTTLS, SASL, bind, session, presence
 *	xmpp_tls.c	STARTTLS with libssl, non-blocking
 *	xmpp_sasl.c	SCRAM and base64 (pure)
 *	xmpp_util.c	digest, resource names, back-off, escaping (pure)
 *
 * Nothing here blocks except xmpp_io_wait(), which the blocking
 * wrappers of xmpp.h use.  Every byte drover sends, login included,
 * goes through the output queue (c->out): a function that "queues"
 * appends there, and the socket is written only by xmpp_out_flush() and
 * by xmpp_send()'s first attempt when the queue is empty, so the order
 * of bytes on the wire is the order they were queued.
 */
#ifndef DROVER_XMPP_INT_H
#define DROVER_XMPP_INT_H

#include <sys/types.h>

#include "pbuf.h"
#include "stanza.h"
#include "xmpp.h"

/* Longest reason kept by xmpp_error(). */
#define XMPP_ERR_LEN	256

/*
 * Login phases, in the order a login passes them (xmpp.h tells which
 * road takes which).  Each phase has one function in xmpp_login.c that
 * either advances (to the next phase or sub-step) or returns
 * -EINPROGRESS to wait for the socket.
 */
enum xmpp_phase {
	XMPP_PH_CLOSED = 0,	/* no socket: new, failed, dead or closed */
	XMPP_PH_TCP,		/* non-blocking connect() under way */
	XMPP_PH_STREAM,		/* our stream header queued; waiting for
				   the server's (and, version 1.0, its
				   features) */
	XMPP_PH_LEGACY,		/* iq:auth set queued; waiting for the
				   answer */
	XMPP_PH_STARTTLS,	/* <starttls/> queued; waiting for
				   <proceed/> */
	XMPP_PH_TLS,		/* TLS handshake (c->tls_hs) */
	XMPP_PH_SASL,		/* SASL exchange (c->sasl_step) */
	XMPP_PH_BIND,		/* resource binding iq queued */
	XMPP_PH_SESSION,	/* session iq queued */
	XMPP_PH_READY,		/* logged in: c->ready */
};

/* Which stream of the login the connection is on. */
enum xmpp_stage {
	XMPP_ST_FIRST = 0,	/* the first one, plain TCP */
	XMPP_ST_TLS,		/* restarted over TLS */
	XMPP_ST_SASL,		/* restarted after SASL success */
};

/* Where a SASL exchange waits. */
enum xmpp_sasl_step {
	XMPP_SASL_SUCCESS = 0,	/* for <success> (PLAIN, SCRAM checked) */
	XMPP_SASL_FIRST,	/* SCRAM: for the server-first challenge */
	XMPP_SASL_FINAL,	/* SCRAM: for server-final, as <success>
				   or as a challenge */
};

struct ssl_st;
struct ssl_ctx_st;
struct addrinfo;

/* All fields are written by the xmpp_*.c files of the owning process. */
struct xmpp_conn {
	struct bus_conf	 conf;	/* deep copy */
	char			*resource; /* wanted; NULL: generate */
	char			*jid;	/* full JID once logged in */
	int			 fd;	/* -1 when closed */
	pid_t			 owner;	/* process that created fd */
	int			 ready;	/* logged in (phase READY) */
	int			 dead_rc; /* sticky read error, 0 if none */
	/*
	 * The last read(2) returned less than asked on a plain socket:
	 * the kernel had no more then (xmpp_more()).  Never with TLS,
	 * which buffers records of its own.
	 */
	int			 drained;
	enum xmpp_phase		 phase;
	enum xmpp_stage		 stage;
	int			 stream_v1; /* this stream is version 1.0 */
	int			 stream_opened; /* server header seen */
	int			 session_required; /* from the features */
	enum xmpp_sasl_step	 sasl_step;
	struct xmpp_scram	 scram;	/* SCRAM state during PH_SASL */
	char			*login_res; /* resource of this login */
	struct addrinfo		*ai_list; /* PH_TCP: the addresses */
	struct addrinfo		*ai_next; /* PH_TCP: the next to try */
	struct ssl_ctx_st	*ssl_ctx;
	struct ssl_st		*ssl;
	/*
	 * What the last TLS handshake step, read or write that could not
	 * go on is waiting for: POLLIN, POLLOUT, 0 for nothing.
	 */
	unsigned		 tls_hs, tls_rd, tls_wr;
	/*
	 * The output queue: bytes out.data[out_off .. out.len) are still
	 * to be written.  Bounded by out_max (0: xmpp_outq_max()).
	 * out_secret: clear written bytes, set while credentials may be
	 * in the queue (login).
	 */
	struct pbuf		 out;
	size_t			 out_off;
	size_t			 out_max;
	int			 out_secret;
	char			 presence[64]; /* sent after login; "" none */
	struct stanza_parser	*parser;
	struct xstanza		*features; /* last <stream:features> */
	char			*mechs;	/* pinned SASL mechanisms */
	char			 auth_used[24];
	char			 err[XMPP_ERR_LEN];
};

/*
 * Record why something failed for xmpp_error(); returns rc.  Does not
 * log: the login driver and the receive/send paths log the outcome once.
 */
int	xmpp_fail(struct xmpp_conn *, int rc, const char *fmt, ...)
	    PRINTF(3, 4);

/* Close the socket without a word to the server; the object stays. */
void	xmpp_drop(struct xmpp_conn *);

/*
 * TCP connect (xmpp_conn.c).  xmpp_tcp_start() resolves (getaddrinfo
 * may block on DNS) and starts a non-blocking connect to the first
 * address; xmpp_tcp_step() checks it without blocking and moves on to
 * the next address when one fails.  Both: 0 connected, -EINPROGRESS,
 * or a negative errno with the reason recorded.
 */
int	xmpp_tcp_start(struct xmpp_conn *) MUST_CHECK;
int	xmpp_tcp_step(struct xmpp_conn *) MUST_CHECK;

/*
 * Append to the output queue without writing: 0, -ENOMEM, or -ENOBUFS
 * when the queue would pass its bound (nothing appended then).
 */
int	xmpp_queue(struct xmpp_conn *, const void *, size_t) MUST_CHECK;
int	xmpp_queues(struct xmpp_conn *, const char *) MUST_CHECK;
/* Bytes queued and not written yet. */
size_t	xmpp_out_pending(const struct xmpp_conn *);
/*
 * Write queued bytes until the socket takes no more: 0 when the queue
 * is empty, -EAGAIN when some remain, -ENOTCONN (reason recorded) when
 * the socket failed.  Never closes anything.
 */
int	xmpp_out_flush(struct xmpp_conn *) MUST_CHECK;
/*
 * Poll the socket for `events` until deadline (mono ms; 0 = none):
 * 0 when ready (or interrupted), -ETIMEDOUT, or -errno from poll().
 */
int	xmpp_io_wait(struct xmpp_conn *, short events, uint64_t deadline)
	    MUST_CHECK;
/*
 * Next parser event, reading what the socket has without blocking.  1
 * with *ev set, 0 when nothing is complete, or a negative errno:
 * -ENOTCONN (end of file or socket error), the parser's
 * -EPROTO/-EMSGSIZE (sticky in dead_rc).
 */
int	xmpp_next_event(struct xmpp_conn *, struct stanza_event *)
	    MUST_CHECK;

/* The legacy iq:auth set (digest NULL: <password>), spec 1.1 bytes. */
int	xmpp_legacy_iq(struct pbuf *, const char *user, const char *digest,
	    const char *password, const char *resource) MUST_CHECK;
/* The OpenSRF legacy stream header, exactly as OpenSRF writes it. */
int	xmpp_legacy_header(struct pbuf *, const char *domain) MUST_CHECK;
/* What the login waits for now, for a timeout's reason. */
const char *xmpp_login_waiting(const struct xmpp_conn *);

/*
 * The answer to an iq get/set addressed to us (RFC 6120 8.2.3: every
 * request gets a response): a result for an XEP-0199 ping, else
 * service-unavailable.  OpenSRF uses no iqs, but a server that pings
 * idle clients drops those that never answer.  0 or -ENOMEM/-EPROTO.
 */
int	xmpp_iq_reply(const struct xstanza *, struct pbuf *) MUST_CHECK;

/*
 * xmpp_tls.c.  xmpp_tls_begin() sets libssl up on the socket (partial
 * writes and a moving write buffer allowed: the output queue may be
 * reallocated between a write that wanted to wait and its retry, which
 * always starts with the same bytes and is never shorter).
 * xmpp_tls_handshake(): one non-blocking step, 0 when done,
 * -EINPROGRESS (c->tls_hs says which way), or -EACCES/-EPROTO.
 */
int	xmpp_tls_begin(struct xmpp_conn *) MUST_CHECK;
int	xmpp_tls_handshake(struct xmpp_conn *) MUST_CHECK;
/* -EAGAIN when it would block (c->tls_rd / c->tls_wr tell which way). */
ssize_t	xmpp_tls_read(struct xmpp_conn *, void *, size_t);
ssize_t	xmpp_tls_write(struct xmpp_conn *, const void *, size_t);
void	xmpp_tls_close(struct xmpp_conn *, int notify);

/* XML-escape s (& < > ' ") onto b. */
int	xmpp_escape(struct pbuf *b, const char *s) MUST_CHECK;

/*
 * The output queue's bound for a connection of this max_stanza_size
 * (see XMPP_OUTQ_MAX in xmpp.h).
 */
size_t	xmpp_outq_max(size_t max_stanza_size);

/* ------------------------------------------------- for tests only */

/* Bound the output queue at max bytes (0: the default). */
void	xmpp_set_outq_max(struct xmpp_conn *, size_t max);
/* Tests: 1 sends XMPP_PRESENCE after login, 0 none (the default). */
void	xmpp_set_presence(struct xmpp_conn *, int on);

#endif /* DROVER_XMPP_INT_H */
