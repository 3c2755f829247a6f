/*
 * tmsg.h: the OpenSRF transport message, bus-neutral, with its two wire
 * codecs.
 *
 * struct tmsg is one message between OpenSRF processes: addresses (to,
 * from), the session (thread), the log transaction id (osrf_xid), the
 * router items and the body, the JSON array of osrfMessage objects that
 * osrfmsg.h decodes.  Every bus carries the same fields; only the bytes
 * differ:
 *	XML	one XMPP <message> stanza (spec 1.3, 1.4): the XMPP bus and
 *		the local bus.  tmsg_xml_*(), proto/tmsg.c.
 *	JSON	one Redis list element, the envelope of OpenSRF main
 *		(opensrf-redis.md section 4): the Redis bus.
 *		tmsg_json_*(), proto/tmsg_json.c.
 * A process decodes with the codec of the bus the bytes came from
 * (bus_decode()).  Fields one bus does not have stay "": XML has no
 * router_reply, JSON no router_from, subject, type, broadcast or errors.
 *
 * XML reading accepts any serialization a server produces (quotes,
 * attribute order, xml:lang, entities, body before thread).  The six
 * OpenSRF items (router_from, router_to, router_class, router_command,
 * osrf_xid, broadcast) are read from the <opensrf> child; the pre-3.1
 * top-level attributes of <message> are a fallback, the child wins.  An
 * error is either signal: type="error" on <message> or an <error> child;
 * a missing code attribute is mapped from the XEP-0086 condition (never a
 * crash).
 *
 * XML writing produces exactly the bytes OpenSRF 3.2.x C writes:
 *	<message to="T" from="F"><opensrf router_from=".." router_to=".."
 *	router_class=".." router_command=".." osrf_xid=".."/>
 *	<thread>..</thread><body>..</body></message>
 * (one line), double quotes, all five <opensrf> attributes always,
 * broadcast="1" only when set, <thread>, <subject> and <body> only when
 * non-empty, text escaping & < >, attribute escaping also ".  An error
 * message additionally gets type="error" on <message> and, as its first
 * child, <error type="cancel" code="N"><condition xmlns=".."/></error>
 * (spec 1.4 recommendation: 3.2 C peers need the code, Perl the type).
 *
 * JSON reading accepts every form OpenSRF main puts on Redis (captures:
 * C and Perl writers, redis-cli): keys in any order; any key absent
 * (Perl omits empty ones); null for any string field; osrf_xid null, ""
 * or a string; body inline (any JSON value, normally the message array)
 * or a JSON string (register/unregister carry "[]"); unknown keys
 * skipped.  It is one pass: body stays the raw JSON text span of the
 * input, copied once and never re-serialized; when body is a JSON string
 * it is unescaped, so tmsg.body is the text the OpenSRF codec decodes
 * either way.  Only the short fields are unescaped (\uXXXX, surrogate
 * pairs, \/).  The whole input is validated as RFC 8259 JSON (UTF-8,
 * nesting up to TMSG_JSON_MAX_DEPTH): malformed input, a non-object, a
 * string field of another type, a known key given twice (two different
 * "from"s must not let a router check one while the next hop reads the
 * other), "\u0000" in a short field, or bytes after the object fail
 * with -EPROTO and a reason.
 *
 * JSON writing produces exactly what OpenSRF main's C writers push:
 *	{"to":"T","from":"F","thread":"S","osrf_xid":"X","body":[...]}
 * keys in that order, no whitespace, to/from/thread always ("" when
 * empty), osrf_xid null when empty; body inline, copied as it is (the
 * caller hands JSON text, normally osrfmsg_encode()'s: it is not parsed
 * again), "[]" when empty.  Router traffic (any router_* field set) gets
 * after osrf_xid: "router_to","router_class","router_command" always,
 * "router_reply" only when set; a message with a router_command carries
 * its body as a JSON string, as the C listener's register does:
 *	{"to":"R","from":"F","thread":"","osrf_xid":null,"router_to":"",
 *	"router_class":"opensrf.math","router_command":"register",
 *	"body":"[]"}
 * Strings are escaped as OpenSRF's C JSON writer does (" \ and control
 * characters; every non-ASCII character as \uXXXX, lowercase hex,
 * surrogate pairs above U+FFFF; / as it is).
 *
 * Memory: struct tmsg is a VIEW: its string fields are const pointers.
 *  - After tmsg_xml_parse() or tmsg_json_parse() they point into one
 *    block the tmsg owns (mem); every string field is then non-NULL (""
 *    when absent), except router_reply after tmsg_xml_parse() (NULL: XML
 *    has none).  Release it with tmsg_clear().
 *  - To write a message, point the fields at any strings you own (NULL
 *    means empty) and call tmsg_xml_write*() or tmsg_json_write*();
 *    tmsg_clear() on such a struct only zeroes it.
 * A zeroed struct tmsg (TMSG_INIT) is an empty message.
 *
 * Callers: any process, any number of messages; no shared state.
 * Errors: 0 or negative errno (-EPROTO bad XML / not a <message> / bad
 * JSON envelope, -EILSEQ a string that is not UTF-8 (JSON writer),
 * -EMSGSIZE a single field too large for the writer, -ENOMEM), with a
 * reason in the optional struct proto_err (parsers).
 */
#ifndef DROVER_TMSG_H
#define DROVER_TMSG_H

#include <stddef.h>

#include "pbuf.h"
#include "proto_err.h"
#include "util.h"

struct tmsg {
	const char	*to;
	const char	*from;
	const char	*thread;	/* OpenSRF session id */
	const char	*subject;	/* never used by OpenSRF */
	const char	*body;		/* the osrfMessage array, unescaped */
	const char	*router_from;	/* original sender when routed */
	const char	*router_to;
	const char	*router_class;	/* register/unregister: the service */
	const char	*router_command; /* "register", "unregister", "" */
	const char	*router_reply;	/* JSON only: a router's answer item */
	const char	*osrf_xid;	/* log transaction id */
	const char	*type;		/* type attribute of <message>, "" */
	int		 broadcast;	/* broadcast="1" */
	/* Errors (bounces, the router's "no listener left"): */
	int		 is_error;	/* type="error" or an <error> child */
	const char	*error_type;	/* <error type=..>: "cancel", ... */
	const char	*error_condition; /* e.g. "service-unavailable" */
	int		 error_code;	/* code=, else by condition, else 0 */

	char		*mem;		/* private: storage of parsed strings */
};

#define TMSG_INIT	{ 0 }

/*
 * Parse one <message> stanza (the raw bytes of a struct xstanza).  *m must
 * be zeroed or cleared; on failure it stays zeroed.
 */
int	tmsg_xml_parse(const char *xml, size_t len, struct tmsg *m,
	    struct proto_err *err) MUST_CHECK;
void	tmsg_clear(struct tmsg *m);

/* Where replies go: router_from if non-empty, else from ("" if neither). */
const char	*tmsg_reply_to(const struct tmsg *m);

/*
 * Serialize in the C 3.2.x form (above).  tmsg_xml_write_buf() appends to *b;
 * tmsg_xml_write() returns a malloc'd NUL-terminated string in *xml (length in
 * *lenp if non-NULL).  When is_error is set with error_code 0, code 500
 * is written; error_type NULL/"" writes "cancel"; error_condition NULL/""
 * is derived from the code (tmsg_code_condition()).
 */
int	tmsg_xml_write_buf(const struct tmsg *m, struct pbuf *b) MUST_CHECK;
int	tmsg_xml_write(const struct tmsg *m, char **xml, size_t *lenp) MUST_CHECK;

/* Nesting limit of the JSON reader: jansson's, which decodes the body. */
#define TMSG_JSON_MAX_DEPTH	2048

/*
 * Parse one Redis list element (the JSON envelope above).  *m must be
 * zeroed or cleared; on failure it stays zeroed.  len bytes, need not be
 * NUL-terminated.
 */
int	tmsg_json_parse(const char *json, size_t len, struct tmsg *m,
	    struct proto_err *err) MUST_CHECK;

/*
 * Serialize in OpenSRF main's C form (above).  tmsg_json_write_buf()
 * appends to *b (left as it was on failure); tmsg_json_write() returns a
 * malloc'd NUL-terminated string in *json (length in *lenp if non-NULL).
 * Fields only XML has (router_from, subject, type, broadcast, errors) are
 * not written.  -EILSEQ when a string field is not UTF-8, -ENOMEM.
 */
int	tmsg_json_write_buf(const struct tmsg *m, struct pbuf *b) MUST_CHECK;
int	tmsg_json_write(const struct tmsg *m, char **json, size_t *lenp)
	    MUST_CHECK;

/*
 * XEP-0086: legacy code of a stanza error condition (500 for unknown
 * ones, as OpenSRF 3.3 does), and a condition for a code (for writing;
 * "undefined-condition" for codes without one).
 */
int		 tmsg_condition_code(const char *condition);
const char	*tmsg_code_condition(int code);

#endif /* DROVER_TMSG_H */
