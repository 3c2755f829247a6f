/*
 * proto_err.h: the error report every proto/ parser fills in.
 *
 * The parsers of proto/ (stanza_, tmsg_, osrfmsg_) return 0 or a negative
 * errno and, when the caller passes a struct proto_err, also write a
 * human-readable reason into it, fit for a log line or for the text of an
 * OpenSRF error status sent back to the peer.
 *
 * Callers: any process.  The struct is caller-owned, plain data; a NULL
 * struct pointer is accepted everywhere and means "no report wanted".
 */
#ifndef DROVER_PROTO_ERR_H
#define DROVER_PROTO_ERR_H

#include "util.h"

/*
 * 200 bytes: enough for a reason plus a short excerpt of the offending
 * input (element or key name), short enough to sit on the stack.
 */
#define PROTO_ERR_LEN	200

struct proto_err {
	int	code;			/* the negative errno also returned */
	char	reason[PROTO_ERR_LEN];	/* NUL-terminated, "" when none */
};

/* Clear *e (no-op for NULL). */
void	proto_err_clear(struct proto_err *e);
/* Fill *e (no-op for NULL) and return code, so parsers can tail-return. */
int	proto_err_set(struct proto_err *e, int code, const char *fmt, ...)
	    PRINTF(3, 4);

#endif /* DROVER_PROTO_ERR_H */
