/*
 * localbus.h: a message bus without an XMPP server, for tests and
 * benchmarks.
 *
 * Every endpoint is a listening UNIX stream socket in one directory, named
 * after its JID: "/" becomes "+" (so "opensrf@local/x" is the file
 * "opensrf@local+x"), and a JID whose path would not fit in sun_path is
 * named "h-" and a 64-bit FNV-1a hash of the JID in hex.  Sending connects
 * to the destination's socket (a few connections are cached) and writes
 * one frame: a 4-byte big-endian length, then the stanza bytes, unchanged.
 * The destination is the `to` attribute of the stanza's first element.
 * Receiving accepts connections and reads frames; the stanza's bytes come
 * out exactly as they were sent.  Nothing stamps `from`: senders write it.
 *
 * A stanza for an endpoint that does not exist comes back to the sender as
 * an XMPP bounce (spec 1.4): type="error", from/to swapped, an <error
 * type="cancel" code="503"><service-unavailable/></error> child, then the
 * original children, so a client reacts as it would to an XMPP server.
 *
 * Callers: any process (each opens its own endpoint).  Not for signal
 * context.  Ownership: as transport.h.  localbus_forget() is for a forked
 * child holding its parent's endpoint: it closes the descriptors without
 * unlinking the socket (which stays the parent's) and frees the object.
 * Errors: as transport.h; open() gives -EADDRINUSE when a live process
 * already listens on the JID, and replaces a stale socket file.
 */
#ifndef DROVER_LOCALBUS_H
#define DROVER_LOCALBUS_H

#include <stddef.h>

#include "transport.h"

/*
 * Biggest frame accepted, so a corrupt length cannot make a reader
 * allocate gigabytes; above the 10 MiB default max_stanza_size.
 */
#define LOCALBUS_MAX_FRAME	(64u * 1024 * 1024)

/* A closed endpoint for `jid` in directory `dir` (both copied). */
struct transport *localbus_new(const char *dir, const char *jid);
void	localbus_forget(struct transport **);

/*
 * The socket file for jid in dir, into buf of size bufsz.  Returns the
 * length, or -ENAMETOOLONG when even the hashed name does not fit.
 */
int	localbus_path(const char *dir, const char *jid, char *buf,
	    size_t bufsz) MUST_CHECK;

/*
 * The `to` attribute of the first element of a stanza, copied into buf
 * (entities are not decoded: JIDs drover uses have none).  Returns its
 * length, or -EINVAL when there is none or it does not fit.
 */
int	localbus_dest(const char *xml, size_t len, char *buf, size_t bufsz)
	    MUST_CHECK;

#endif /* DROVER_LOCALBUS_H */
