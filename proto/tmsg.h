/*
 * tmsg.h: the OpenSRF transport message, i.e. one XMPP <message> stanza
 * (spec 1.3, 1.4).
 *
 * Reading accepts any serialization a server produces (quotes, attribute
 * order, xml:lang, entities, body before thread).  The six OpenSRF items
 * (router_from, router_to, router_class, router_command, osrf_xid,
 * broadcast) are read from the <opensrf> child; the pre-3.1 top-level
 * attributes of <message> are a fallback, the child wins.  An error is
 * either signal: type="error" on <message> or an <error> child; a missing
 * code attribute is mapped from the XEP-0086 condition (never a crash).
 *
 * Writing produces exactly the bytes OpenSRF 3.2.x C writes:
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
 * Memory: struct tmsg is a VIEW: its string fields are const pointers.
 *  - After tmsg_xml_parse() they point into one block the tmsg owns (mem);
 *    every string field is then non-NULL ("" when absent).  Release it
 *    with tmsg_clear().
 *  - To write a message, point the fields at any strings you own (NULL
 *    means empty) and call tmsg_xml_write*(); tmsg_clear() on such a struct
 *    only zeroes it.
 * A zeroed struct tmsg (TMSG_INIT) is an empty message.
 *
 * Callers: any process, any number of messages; no shared state.
 * Errors: 0 or negative errno (-EPROTO bad XML / not a <message>,
 * -EMSGSIZE a single field too large for the writer, -ENOMEM), with a
 * reason in the optional struct proto_err.
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

/*
 * XEP-0086: legacy code of a stanza error condition (500 for unknown
 * ones, as OpenSRF 3.3 does), and a condition for a code (for writing;
 * "undefined-condition" for codes without one).
 */
int		 tmsg_condition_code(const char *condition);
const char	*tmsg_code_condition(int code);

#endif /* DROVER_TMSG_H */
