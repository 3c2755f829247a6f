/*
 * xmpp_int.h: what the xmpp_*.c files share; not for other modules.
 *
 * Layout of the XMPP client:
 *	xmpp_conn.c	the connection object, socket I/O, receive/send,
 *			the transport.h face
 *	xmpp_login.c	stream set-up: legacy iq:auth, SASL, bind, session
 *	xmpp_tls.c	STARTTLS with libssl
 *	xmpp_sasl.c	SCRAM and base64 (pure)
 *	xmpp_util.c	digest, resource names, back-off, escaping (pure)
 */
#ifndef DROVER_XMPP_INT_H
#define DROVER_XMPP_INT_H

#include <sys/types.h>

#include "pbuf.h"
#include "stanza.h"
#include "xmpp.h"

/* Longest reason kept by xmpp_error(). */
#define XMPP_ERR_LEN	256

struct ssl_st;
struct ssl_ctx_st;

struct xmpp_conn {
	struct bus_conf	 conf;	/* deep copy */
	char			*resource; /* wanted; NULL: generate */
	char			*jid;	/* full JID once logged in */
	int			 fd;	/* -1 when closed */
	pid_t			 owner;	/* process that opened fd */
	int			 ready;	/* logged in */
	int			 dead_rc; /* sticky read error, 0 if none */
	struct ssl_ctx_st	*ssl_ctx;
	struct ssl_st		*ssl;
	int			 tls_want_write; /* TLS wants POLLOUT */
	struct stanza_parser	*parser;
	struct xstanza		*features; /* last <stream:features> */
	char			*mechs;	/* pinned SASL mechanisms */
	char			 auth_used[24];
	char			 err[XMPP_ERR_LEN];
};

/*
 * Record why something failed for xmpp_error(); returns rc.  Does not
 * log: xmpp_open() and the receive/send paths log the outcome once.
 */
int	xmpp_fail(struct xmpp_conn *, int rc, const char *fmt, ...)
	    PRINTF(3, 4);

/*
 * Write all of buf before deadline (mono ms); 0, -ETIMEDOUT, -ENOTCONN.
 */
int	xmpp_io_write(struct xmpp_conn *, const void *buf, size_t len,
	    uint64_t deadline_ms) MUST_CHECK;
int	xmpp_io_writes(struct xmpp_conn *, const char *s,
	    uint64_t deadline_ms) MUST_CHECK;
/*
 * Next parser event, reading as needed until deadline (mono ms; 0 = do
 * not block).  1 with *ev set, 0 (only with deadline 0) when nothing is
 * complete, or a negative errno: -ETIMEDOUT, -ENOTCONN (end of file or
 * socket error), the parser's -EPROTO/-EMSGSIZE.
 */
int	xmpp_next_event(struct xmpp_conn *, struct stanza_event *,
	    uint64_t deadline_ms) MUST_CHECK;

/* xmpp_login.c: everything between TCP connect and "ready". */
int	xmpp_login(struct xmpp_conn *, uint64_t deadline_ms) MUST_CHECK;
/* The legacy iq:auth set (digest NULL: <password>), spec 1.1 bytes. */
int	xmpp_legacy_iq(struct pbuf *, const char *user, const char *digest,
	    const char *password, const char *resource) MUST_CHECK;
/* The OpenSRF legacy stream header, exactly as OpenSRF writes it. */
int	xmpp_legacy_header(struct pbuf *, const char *domain) MUST_CHECK;

/*
 * The answer to an iq get/set addressed to us (RFC 6120 8.2.3: every
 * request gets a response): a result for an XEP-0199 ping, else
 * service-unavailable.  OpenSRF uses no iqs, but a server that pings
 * idle clients drops those that never answer.  0 or -ENOMEM/-EPROTO.
 */
int	xmpp_iq_reply(const struct xstanza *, struct pbuf *) MUST_CHECK;

/* xmpp_tls.c */
int	xmpp_tls_start(struct xmpp_conn *, uint64_t deadline_ms) MUST_CHECK;
/* -EAGAIN when it would block (tls_want_write tells which way). */
ssize_t	xmpp_tls_read(struct xmpp_conn *, void *, size_t);
ssize_t	xmpp_tls_write(struct xmpp_conn *, const void *, size_t);
void	xmpp_tls_close(struct xmpp_conn *, int notify);

/* XML-escape s (& < > ' ") onto b. */
int	xmpp_escape(struct pbuf *b, const char *s) MUST_CHECK;

#endif /* DROVER_XMPP_INT_H */
