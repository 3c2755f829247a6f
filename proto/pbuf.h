/*
 * pbuf.h: a growable byte buffer for the proto/ writers.
 *
 * The stanza and message writers append to a struct pbuf so that a caller
 * can reuse one buffer for many messages (the hot path allocates nothing
 * once the buffer has grown) or bundle several messages into one body.
 *
 * Callers: any process.  The struct is caller-owned; data is malloc'd and
 * freed by pbuf_free().  data is always NUL-terminated once anything was
 * appended (len does not count the NUL).  A zeroed struct is an empty
 * buffer.  Appends return 0 or -ENOMEM; on -ENOMEM the contents are
 * unchanged.
 */
#ifndef DROVER_PBUF_H
#define DROVER_PBUF_H

#include <stddef.h>

#include "util.h"

struct pbuf {
	char	*data;	/* malloc'd, NUL-terminated; NULL while empty */
	size_t	 len;	/* bytes used, without the NUL */
	size_t	 cap;	/* bytes allocated */
};

int	pbuf_reserve(struct pbuf *, size_t more) MUST_CHECK;
int	pbuf_add(struct pbuf *, const void *, size_t) MUST_CHECK;
int	pbuf_adds(struct pbuf *, const char *) MUST_CHECK;
int	pbuf_addc(struct pbuf *, char) MUST_CHECK;
/* Forget the contents, keep the memory. */
void	pbuf_reset(struct pbuf *);
/* Hand the data over to the caller (who free()s it); the buffer empties. */
char	*pbuf_steal(struct pbuf *, size_t *lenp);
void	pbuf_free(struct pbuf *);

#endif /* DROVER_PBUF_H */
