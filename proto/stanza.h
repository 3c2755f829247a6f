/*
 * stanza.h: incremental XMPP stream parser.
 *
 * Splits the byte stream a server sends into its top-level stanzas (the
 * children of <stream:stream>) and hands each one over with its raw bytes
 * exactly as they arrived, so a listener can forward a request to a child
 * without re-serializing it.  Built on libxml2's push SAX2 parser: it
 * copes with stanzas split across reads, many stanzas in one read, and any
 * serialization servers use (single or double quotes, xml:lang, entities,
 * children in any order).  Raw bytes are cut out of the input by byte
 * offset, never re-serialized.
 *
 * Usage:
 *	p = stanza_parser_new(max_size);
 *	on each read():  rc = stanza_feed(p, buf, n);
 *	                 while (stanza_next(p, &ev) == 1) { ...;
 *	                     stanza_event_clear(&ev); }
 *	                 if (rc < 0) reconnect (after draining the events);
 *	on a new stream (reconnect, after STARTTLS or SASL): stanza_reset(p);
 *	stanza_parser_free(&p);
 *
 * Events, in stream order:
 *	STANZA_EV_OPEN		the server's <stream:stream> start tag; its id,
 *				from and version via stanza_stream_*().
 *	STANZA_EV_FEATURES	a complete <stream:features> (raw in ev.stanza).
 *	STANZA_EV_STANZA	a complete top-level stanza: message, iq,
 *				presence, or a SASL/TLS element (ev.ns tells).
 *	STANZA_EV_STREAM_ERROR	a complete <stream:error>: the stream is dead;
 *				ev.condition holds the condition element name.
 *	STANZA_EV_CLOSE		</stream:stream>: the peer ended the stream.
 *	STANZA_EV_TOOBIG	a stanza larger than max_size was read and
 *				thrown away; ev.name/from/to/id/type and, for
 *				OpenSRF messages, router_from/thread/osrf_xid
 *				say whom to tell.
 *
 * Oversized stanzas: the parser RESYNCHRONISES.  It keeps parsing the big
 * stanza (so the stream stays well-formed and in step) but stops keeping
 * its bytes once max_size is passed; at its end tag it queues one
 * STANZA_EV_TOOBIG and carries on with the next stanza: the connection
 * survives.  Memory stays bounded by about max_size plus one read.
 * Exception: if a single markup token (one start tag with a huge attribute,
 * a comment, a PI) alone exceeds max_size, libxml2 would have to buffer
 * it whole; the parser then gives up with -EMSGSIZE and the stream must be
 * reset (reconnect).
 *
 * Errors: stanza_feed() returns 0 or a negative errno:
 *	-EPROTO		not well-formed XML (invalid UTF-8 included), a
 *			stream that is not <stream:stream> or not UTF-8,
 *			restricted XML at stream level (RFC 6120 11.1: a
 *			DOCTYPE, comment, PI, CDATA or non-blank text between
 *			stanzas), elements nested over 256 deep, or data
 *			after </stream:stream>;
 *	-EMSGSIZE	a single token over max_size (see above);
 *	-ENOMEM		out of memory.
 * A failure is sticky: every later stanza_feed() returns it again until
 * stanza_reset().  Events queued before the error stay available through
 * stanza_next() (drain them first: they are complete and valid).
 * stanza_error() gives the human reason.  Never crashes on any input.
 *
 * Security: no DTDs, no external entities, no network; only the five
 * predefined entities and character references are expanded (by libxml2,
 * inside attribute values; text is not looked at).  An error inside a
 * token whose end has not arrived may be reported only once more bytes
 * come (libxml2 waits for the token), never later than its end.
 *
 * Callers: parent (listener connection) and children (drone connections);
 * one parser per connection, not thread-safe, not for signal context.
 *
 * Ownership: the parser owns its buffers.  A queued event's ev.stanza and
 * TOOBIG strings pass to the caller with stanza_next(); the caller
 * releases them with stanza_event_clear() (or takes ev.stanza and sets
 * it to NULL first, then frees it with xstanza_free()).
 */
#ifndef DROVER_STANZA_H
#define DROVER_STANZA_H

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

/*
 * 10 MiB by default: far above what OpenSRF sends (results over 50 KiB
 * are chunked, spec 3.5), low enough that a broken peer cannot make a
 * listener buffer without limit.
 */
#define STANZA_MAX_SIZE_DEFAULT	(10u * 1024 * 1024)
/* Below this a limit makes no sense (an OpenSRF request is ~700 bytes). */
#define STANZA_MAX_SIZE_MIN	1024u

enum stanza_ev_type {
	STANZA_EV_NONE = 0,
	STANZA_EV_OPEN,
	STANZA_EV_FEATURES,
	STANZA_EV_STANZA,
	STANZA_EV_STREAM_ERROR,
	STANZA_EV_CLOSE,
	STANZA_EV_TOOBIG,
};

struct stanza_event {
	enum stanza_ev_type	 type;
	/* FEATURES, STANZA, STREAM_ERROR: the raw element; caller-owned. */
	struct xstanza		*stanza;
	/* The element's name (for TOOBIG too); same as stanza->name. */
	char			 name[16];
	/* Its namespace URI, e.g. "jabber:client", SASL's or TLS's. */
	char			 ns[64];
	/* Its type and id attributes, "" if absent; id truncated. */
	char			 type_attr[16];
	char			 id[64];
	/* STREAM_ERROR: condition element, e.g. "conflict"; "" if none. */
	char			 condition[48];
	/* TOOBIG: bytes the stanza had (at least max_size + 1). */
	size_t			 size;
	/*
	 * TOOBIG: malloc'd copies, NULL when absent: the stanza's from and
	 * to attributes; router_from and osrf_xid of its <opensrf> child
	 * (or the top-level attributes of pre-3.1 senders); the text of
	 * its <thread> if short.
	 */
	char			*from;
	char			*to;
	char			*router_from;
	char			*osrf_xid;
	char			*thread;
};

struct stanza_parser;

/* A parser ready for a new stream; max_size 0 = the default.  NULL: ENOMEM. */
struct stanza_parser	*stanza_parser_new(size_t max_size);
void	stanza_parser_free(struct stanza_parser **);

/* Change the limit; takes effect from the next stanza. */
void	stanza_set_max_size(struct stanza_parser *, size_t max_size);

/* Parse len bytes (any split is fine); queue the events found. */
int	stanza_feed(struct stanza_parser *, const void *buf, size_t len)
	    MUST_CHECK;

/* Take the next queued event: 1 and *ev filled, 0 when none. */
int	stanza_next(struct stanza_parser *, struct stanza_event *ev);

/* Events queued for stanza_next(). */
size_t	stanza_queued(const struct stanza_parser *);

/* Free what an event still holds and zero it. */
void	stanza_event_clear(struct stanza_event *ev);

/*
 * Forget the stream and any error: the next bytes must start a new
 * stream (an XML declaration and/or <stream:stream>).  Queued events are
 * dropped.  Returns 0 or -ENOMEM.
 */
int	stanza_reset(struct stanza_parser *) MUST_CHECK;

/*
 * Attributes of the current stream's opening tag, valid from the
 * STANZA_EV_OPEN event until stanza_reset(); "" before or if absent.
 */
const char	*stanza_stream_id(const struct stanza_parser *);
const char	*stanza_stream_from(const struct stanza_parser *);
const char	*stanza_stream_version(const struct stanza_parser *);

/* Reason for the last failure, "" if none. */
const char	*stanza_error(const struct stanza_parser *);

/* Total bytes fed since the last reset (for statistics and tests). */
unsigned long long	stanza_bytes_fed(const struct stanza_parser *);

#endif /* DROVER_STANZA_H */
