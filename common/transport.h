/*
 * transport.h: the message bus as drover's processes see it.
 *
 * OpenSRF processes talk by sending stanzas to JIDs.  drover has two
 * implementations of that bus behind one interface:
 *   - XMPP (proto/), the real one: a client connection to ejabberd or
 *     prosody;
 *   - the local bus (mpm/), for tests and benchmarks without an XMPP
 *     server: every endpoint is a UNIX socket named after its JID in one
 *     directory.
 * The MPM, the request runtime and the tools use only this interface, so
 * the MPM can be tested and benchmarked without XMPP.
 *
 * Callers: parent and children; every process opens its own transport
 * (a child never uses its parent's connection).  Not for signal context.
 *
 * Ownership: transport_new_*() return an object the caller frees with
 * transport_free(&t), which closes the connection (logging out cleanly
 * when it can).  A received struct xstanza belongs to the caller, who
 * frees it with xstanza_free().  send() copies what it needs.
 *
 * Errors: 0 / count or negative errno.  -ENOTCONN: the connection is
 * gone; the owner calls open() again (with its own back-off).
 */
#ifndef DROVER_TRANSPORT_H
#define DROVER_TRANSPORT_H

#include <stddef.h>

#include "util.h"

/* One complete top-level stanza as it arrived on the wire. */
struct xstanza {
	char	*raw;		/* its bytes, NUL-terminated, owned */
	size_t	 len;		/* strlen(raw) */
	char	 name[16];	/* "message", "iq", "presence", ... */
	int	 is_error;	/* type='error' or an <error> child */
};

void	xstanza_free(struct xstanza **);

struct transport;

struct transport_ops {
	/* Connect and log in; blocks at most timeout_ms. */
	int	(*open)(struct transport *, int timeout_ms);
	/* Descriptor to poll for input, or -1 when not connected. */
	int	(*fd)(struct transport *);
	/*
	 * Take one complete stanza if one is available, reading from the
	 * socket without blocking.  1 and *out set; 0 when none is complete
	 * yet; negative errno on failure (-ENOTCONN when the peer closed).
	 * Call again until it returns 0 before polling: several stanzas may
	 * have arrived in one read.
	 */
	int	(*recv)(struct transport *, struct xstanza **out);
	/* Send one complete serialized stanza; blocks until written. */
	int	(*send)(struct transport *, const char *xml, size_t len);
	/* Our own full JID, valid after open(). */
	const char *(*jid)(const struct transport *);
	/* Log out (if connected) and close; the object stays reusable. */
	void	(*close)(struct transport *);
	/* Free everything; called by transport_free() after close(). */
	void	(*destroy)(struct transport *);
};

struct transport {
	const struct transport_ops	*ops;
	void				*impl;
};

static inline int
transport_open(struct transport *t, int timeout_ms)
{
	return t->ops->open(t, timeout_ms);
}

static inline int
transport_fd(struct transport *t)
{
	return t->ops->fd(t);
}

static inline int
transport_recv(struct transport *t, struct xstanza **out)
{
	return t->ops->recv(t, out);
}

static inline int
transport_send(struct transport *t, const char *xml, size_t len)
{
	return t->ops->send(t, xml, len);
}

static inline const char *
transport_jid(const struct transport *t)
{
	return t->ops->jid(t);
}

void	transport_free(struct transport **);

#endif /* DROVER_TRANSPORT_H */
