/*
 * rt_inbox.h: reading a child's (or a client's) bus by session thread.
 *
 * A drone's one bus connection carries several conversations: the
 * client of a connected session, and the answers to the drone's own
 * sub-requests.  The inbox reads frames from the bus, decodes each
 * message once (bus_decode()), hands back those of the thread asked for
 * and keeps the others queued (at most RT_INBOX_MAX; beyond that the
 * oldest is dropped with a warning), so a sub-request never eats the
 * next request of a connected client.  Frames that are not messages are
 * dropped.
 *
 * Callers: children and client programs; not for signal context.
 * Ownership: the inbox borrows the bus (which must outlive it).
 * Messages handed out belong to the caller (tmsg_clear()).
 * Errors: negative errno from the bus (-ENOTCONN: connection gone).
 */
#ifndef DROVER_RT_INBOX_H
#define DROVER_RT_INBOX_H

#include "proto/tmsg.h"
#include "util.h"

struct bus;

/* Enough for a pipelining client plus a few late answers. */
#define RT_INBOX_MAX	64

struct rt_inbox;

struct rt_inbox	*rt_inbox_new(struct bus *);
void	rt_inbox_free(struct rt_inbox **);
struct bus	*rt_inbox_bus(const struct rt_inbox *);

/*
 * Wait up to timeout_ms (< 0: forever, 0: no waiting) for the next
 * message whose thread is `thread` (NULL: any).  Returns 1 with *out
 * filled, 0 on timeout, or a negative errno.
 */
int	rt_inbox_wait(struct rt_inbox *, const char *thread, int timeout_ms,
	    struct tmsg *out) MUST_CHECK;

/*
 * Drop everything queued and, with read_bus, everything already readable
 * on the bus (a read(2) or more); returns the number dropped.  A new
 * session reads the bus, so nothing that predates it is taken for its
 * own; other requests need not (they read the bus only by thread).
 */
int	rt_inbox_flush(struct rt_inbox *, int read_bus);

/* Serialize and send one message (from = our address). */
int	rt_inbox_send(struct rt_inbox *, struct tmsg *) MUST_CHECK;

#endif /* DROVER_RT_INBOX_H */
