/*
 * rt_reply.h: writing the answers of one request (spec 3.5).
 *
 * Messages for the client are bundled into one stanza body until adding
 * the next would make the body reach bundle_size (25600 bytes) and then
 * flushed; the final status is always appended to the pending bundle
 * (even past bundle_size) and flushed with it, so a single-result request
 * is one stanza [RESULT, STATUS 205].
 * A result whose JSON text, plus the growth XML escaping could add (+3
 * per < or >, +4 per &, +11 per "), exceeds chunk_size (51200 bytes) is
 * sent in pieces: pending bundle first, then one stanza per
 * osrfResultPartial slice of chunk_size bytes of the text, then an
 * osrfResultPartialComplete stanza.
 *
 * Callers: children (the request runtime), one reply at a time.
 * Ownership: the reply borrows bus, to, thread, xid and tmpl, which must
 * outlive it; it owns its buffers (rt_reply_free()).  Values passed to
 * rt_reply_result() are only read.
 * Errors: 0 or negative errno: -ENOMEM, -EMSGSIZE (the value cannot be
 * written: not UTF-8, NaN/infinity, too deep), or the bus's error
 * (-ENOTCONN, -EIO) when a stanza could not be sent.
 */
#ifndef DROVER_RT_REPLY_H
#define DROVER_RT_REPLY_H

#include <stddef.h>

#include <jansson.h>

#include "proto/osrfmsg.h"
#include "proto/pbuf.h"
#include "util.h"

struct bus;

/* OpenSRF's defaults (spec 4.2), in bytes. */
#define RT_BUNDLE_SIZE	25600
#define RT_CHUNK_SIZE	51200

struct rt_reply {
	struct bus		*bus;
	const char		*to;		/* the client's JID */
	const char		*thread;
	const char		*xid;
	struct osrfmsg		 tmpl;		/* locale, api_level of the
						   request; trace set per call */
	size_t			 bundle_size;
	size_t			 chunk_size;
	struct pbuf		 body;		/* pending "[m1,m2" */
	size_t			 nmsg;		/* messages in body */
	struct pbuf		 one;		/* scratch: one message */
	struct pbuf		 text;		/* scratch: result JSON */
	unsigned		 stanzas;	/* sent so far (tests, stats) */
};

/* Set up (buffers empty); `req` may be NULL (no locale, api_level 0). */
void	rt_reply_init(struct rt_reply *, struct bus *bus,
	    const char *to, const char *thread, const char *xid,
	    const struct osrfmsg *req);
void	rt_reply_free(struct rt_reply *);

/* Queue one RESULT (bundled or chunked as above). */
int	rt_reply_result(struct rt_reply *, long long trace,
	    const json_t *content) MUST_CHECK;
/* Append a STATUS (class, code, text) and flush everything. */
int	rt_reply_status(struct rt_reply *, long long trace, const char *cls,
	    int code, const char *text) MUST_CHECK;
/* Queue any message (CONNECT replies, 408) and flush. */
int	rt_reply_send(struct rt_reply *, const struct osrfmsg *) MUST_CHECK;
/*
 * Send the pending bundle, then `body`, a whole body built elsewhere
 * (osrfmsg_error_body()), as a stanza of its own.
 */
int	rt_reply_body(struct rt_reply *, const char *body) MUST_CHECK;
/* Send the pending bundle, if any. */
int	rt_reply_flush(struct rt_reply *) MUST_CHECK;

/* Escaped size estimate of spec 3.5 for text of len bytes. */
size_t	rt_reply_escaped_size(const char *text, size_t len);

#endif /* DROVER_RT_REPLY_H */
