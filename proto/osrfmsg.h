/*
 * osrfmsg.h: the OpenSRF message layer, i.e. the JSON in a <body>
 * (spec 3).
 *
 * A body is a JSON array of class-hinted osrfMessage objects
 * ({"__c":"osrfMessage","__p":{...}}).  Types CONNECT, REQUEST, RESULT,
 * STATUS, DISCONNECT; payloads osrfMethod {method, params}, osrfResult /
 * osrfResultPartial / osrfResultPartialComplete {status, statusCode,
 * content}, and STATUS payloads whose class is the status name
 * (osrfConnectStatus, osrfMethodException, ...) {status, statusCode}.
 *
 * Reading (osrfmsg_decode) is liberal like the OpenSRF readers:
 * threadTrace, statusCode and api_level may be strings or numbers; keys
 * in any order; null tz/locale/ingress count as absent; params null
 * becomes [] and a non-array params is wrapped in an array; array
 * elements that are not osrfMessage-hinted objects are skipped.  It is
 * strict where guessing would be wrong: not JSON, not an array, an
 * osrfMessage that is not an object, a missing or unknown type (OpenSRF
 * C would treat it as CONNECT), wrong field types, a REQUEST without
 * method, a RESULT/STATUS without payload, or more than
 * OSRFMSG_MAX_PER_BODY messages fail the whole body with -EPROTO (or
 * -E2BIG) and a reason; err_trace then holds the threadTrace of the
 * first message that had a readable one (else 0), so the caller can
 * answer the sender with an error status.
 *
 * Content is left as it is: nested class hints inside params and content
 * are NOT collapsed (use osrfmsg_hint_get() to look into one).  Numbers
 * go through jansson: integers stay integers (an integer too large for
 * long long is re-read as a real), but the original text of a number is
 * not kept (0.50 is written back as 0.5).  jansson refuses "\u0000" in
 * strings, so a body holding one is refused as not JSON.
 *
 * Writing (osrfmsg_encode*) reproduces the C 3.2.x writer: no whitespace,
 * keys in the order threadTrace (a string), locale (always; "en-US" when
 * unset), tz (only if set), ingress (REQUEST only; "opensrf" when unset),
 * api_level (a number, omitted when 0), type, payload; statusCode as a
 * string; strings escape " \ \n \t \r \f \b, other control characters
 * and every non-ASCII character as \uXXXX with lowercase hex (surrogate
 * pairs above U+FFFF); / is not escaped.  Reals are written with the
 * shortest %g form that reads back to the same double (not the C
 * writer's %.30g: any JSON reader gets the same number, and ours never
 * prints "inf"); NaN and infinity are never written (jansson refuses to
 * hold them; the writer checks again: -EDOM).  The same writer is available for
 * any json_t (osrfmsg_json_write), e.g. for the slices of a chunked
 * result.
 *
 * Memory: struct osrfmsg is a VIEW and owns nothing.
 *  - Decoded messages point into their struct osrfmsg_list, which owns
 *    the parsed JSON (the whole tree, or for the common body only the
 *    params and content values and a copy of the text: osrfmsg_fast.c);
 *    they are valid until osrfmsg_list_clear().  Take a json_incref() on
 *    params/content to keep them longer.
 *  - To encode, fill a struct osrfmsg (the osrfmsg_make_*() helpers do)
 *    with pointers you own; the encoder only reads them.
 *
 * Callers: any process; no shared state.  Errors: 0 or negative errno
 * with a reason in the optional struct proto_err.
 */
#ifndef DROVER_OSRFMSG_H
#define DROVER_OSRFMSG_H

#include <stddef.h>

#include <jansson.h>

#include "pbuf.h"
#include "proto_err.h"
#include "util.h"

/* OpenSRF C servers process at most this many messages per body. */
#define OSRFMSG_MAX_PER_BODY	256

enum osrfmsg_type {
	OSRFMSG_CONNECT = 1,
	OSRFMSG_REQUEST,
	OSRFMSG_RESULT,
	OSRFMSG_STATUS,
	OSRFMSG_DISCONNECT,
};

/* Status codes of spec 3.4 (statusCode values). */
enum osrfmsg_status {
	OSRFMSG_STATUS_CONTINUE = 100,
	OSRFMSG_STATUS_OK = 200,
	OSRFMSG_STATUS_ACCEPTED = 202,
	OSRFMSG_STATUS_NOCONTENT = 204,
	OSRFMSG_STATUS_COMPLETE = 205,
	OSRFMSG_STATUS_PARTIAL = 206,
	OSRFMSG_STATUS_REDIRECTED = 307,
	OSRFMSG_STATUS_BADREQUEST = 400,
	OSRFMSG_STATUS_UNAUTHORIZED = 401,
	OSRFMSG_STATUS_FORBIDDEN = 403,
	OSRFMSG_STATUS_NOTFOUND = 404,
	OSRFMSG_STATUS_NOTALLOWED = 405,
	OSRFMSG_STATUS_TIMEOUT = 408,
	OSRFMSG_STATUS_EXPFAILED = 417,
	OSRFMSG_STATUS_INTERNALSERVERERROR = 500,
	OSRFMSG_STATUS_NOTIMPLEMENTED = 501,
	OSRFMSG_STATUS_SERVICEUNAVAILABLE = 503,
	OSRFMSG_STATUS_VERSIONNOTSUPPORTED = 505,
};

/* Payload class names used on the wire. */
#define OSRFMSG_C_MESSAGE		"osrfMessage"
#define OSRFMSG_C_METHOD		"osrfMethod"
#define OSRFMSG_C_RESULT		"osrfResult"
#define OSRFMSG_C_PARTIAL		"osrfResultPartial"
#define OSRFMSG_C_PARTIAL_COMPLETE	"osrfResultPartialComplete"
#define OSRFMSG_C_CONNECT_STATUS	"osrfConnectStatus"
#define OSRFMSG_C_METHOD_EXCEPTION	"osrfMethodException"
#define OSRFMSG_C_SERVICE_EXCEPTION	"osrfServiceException"

/* Texts OpenSRF uses with them. */
#define OSRFMSG_T_UNAVAILABLE \
	"Service unavailable: no available children and backlog queue at limit"

struct osrfmsg {
	enum osrfmsg_type type;
	long long	 thread_trace;	/* request id within the session */
	int		 api_level;	/* 0 = absent */
	const char	*locale;	/* NULL = absent ("en-US" written) */
	const char	*tz;		/* NULL = absent (not written) */
	const char	*ingress;	/* REQUEST; NULL = absent */
	/* REQUEST: */
	const char	*method;
	json_t		*params;	/* array; NULL writes [] */
	/* RESULT, STATUS: */
	const char	*payload_class;	/* "osrfResult", "osrfConnectStatus" */
	const char	*status;	/* text; NULL writes null */
	int		 status_code;
	json_t		*content;	/* RESULT; NULL writes null */
};

struct osrfmsg_list {
	size_t		 n;		/* messages in msg[] */
	struct osrfmsg	*msg;
	long long	 err_trace;	/* on failure: see above */
	json_t		*root;		/* private: the parsed body, or the
					   values kept from it */
	char		*text;		/* private: strings the messages
					   point to, or NULL */
};

#define OSRFMSG_LIST_INIT	{ 0, NULL, 0, NULL, NULL }

/*
 * Decode a body (len bytes, need not be NUL-terminated).  *l must be
 * zeroed or cleared; on failure it holds no messages (but err_trace).
 * A body with no osrfMessage at all decodes to n == 0.
 */
int	osrfmsg_decode(const char *body, size_t len, struct osrfmsg_list *l,
	    struct proto_err *err) MUST_CHECK;
void	osrfmsg_list_clear(struct osrfmsg_list *l);

/*
 * Encode.  osrfmsg_encode_one() appends one hinted osrfMessage object (no
 * brackets: for bundling several messages, see spec 3.5);
 * osrfmsg_encode() appends a whole body "[m1,m2,...]".  On failure *b is
 * left as it was.  -EINVAL: bad type or missing method/payload class;
 * -EDOM: a non-finite real; -EILSEQ: a string that is not UTF-8; -ELOOP:
 * JSON nested deeper than OSRFMSG_MAX_DEPTH; -ENOMEM.
 */
int	osrfmsg_encode_one(const struct osrfmsg *m, struct pbuf *b,
	    struct proto_err *err) MUST_CHECK;
int	osrfmsg_encode(const struct osrfmsg *m, size_t n, struct pbuf *b,
	    struct proto_err *err) MUST_CHECK;

/* Nesting limit of the writer (jansson's reader stops at 2048). */
#define OSRFMSG_MAX_DEPTH	4096

/* The C-compatible JSON writer for any value; same errors. */
int	osrfmsg_json_write(const json_t *v, struct pbuf *b,
	    struct proto_err *err) MUST_CHECK;

/* "REQUEST" etc.; NULL for an invalid type. */
const char	*osrfmsg_type_name(enum osrfmsg_type);

/*
 * Status table (spec 3.4): the OpenSRF name ("COMPLETE") and the text
 * OpenSRF sends with the code ("Request Complete"); NULL for codes not
 * in the table.
 */
const char	*osrfmsg_status_name(int code);
const char	*osrfmsg_status_text(int code);

/*
 * Class hints.  osrfmsg_hint_new() returns {"__c":cls,"__p":v} and steals
 * the reference to v (NULL v means null), like jansson's *_new calls; NULL
 * on ENOMEM.  osrfmsg_hint_get() returns the class of a hinted object and
 * sets *payload (borrowed; NULL when __p is missing) or returns NULL if
 * obj is not a hinted object.
 */
json_t		*osrfmsg_hint_new(const char *cls, json_t *v);
const char	*osrfmsg_hint_get(const json_t *obj, json_t **payload);

/*
 * Reply builders: zero *out, then copy threadTrace, locale and api_level
 * from req (NULL req: trace 0, no locale, api_level 0), then set the
 * type and payload.  Pointers in *out borrow from req and the arguments.
 *	result		RESULT osrfResult "OK" 200, content (NULL = null)
 *	status		STATUS of class cls, code, text (NULL = table text)
 *	complete	STATUS osrfConnectStatus 205 "Request Complete"
 *	connect_ok	STATUS osrfConnectStatus 200 "Connection Successful"
 *	timeout		STATUS osrfConnectStatus 408 "Disconnected on
 *			timeout", threadTrace 0 (spec 3.6)
 *	exception	STATUS osrfMethodException code, text
 *	partial		RESULT osrfResultPartial "Partial Response" 206,
 *			content = slice (a JSON string)
 *	partial_complete RESULT osrfResultPartialComplete "Partial Response
 *			Finalized" 204, content null
 */
void	osrfmsg_make_result(struct osrfmsg *out, const struct osrfmsg *req,
	    json_t *content);
void	osrfmsg_make_status(struct osrfmsg *out, const struct osrfmsg *req,
	    const char *cls, int code, const char *text);
void	osrfmsg_make_complete(struct osrfmsg *out, const struct osrfmsg *req);
void	osrfmsg_make_connect_ok(struct osrfmsg *out,
	    const struct osrfmsg *req);
void	osrfmsg_make_timeout(struct osrfmsg *out, const struct osrfmsg *req);
void	osrfmsg_make_exception(struct osrfmsg *out, const struct osrfmsg *req,
	    int code, const char *text);
void	osrfmsg_make_partial(struct osrfmsg *out, const struct osrfmsg *req,
	    json_t *slice);
void	osrfmsg_make_partial_complete(struct osrfmsg *out,
	    const struct osrfmsg *req);

/*
 * The one way drover refuses or abandons a request it did not serve
 * (droverd's 503 and rescue, the router's 403/404/503, a child's 400):
 * decode req_body and append to *b a body holding one STATUS
 * osrfMethodException `code` per REQUEST or CONNECT message in it, each
 * with that message's threadTrace, locale and api_level, so each of the
 * client's requests ends at once.  When req_body is NULL, cannot be
 * decoded or holds no REQUEST/CONNECT, one status with the trace of its
 * first message, else err_trace (see above), else 0.  text NULL:
 * OSRFMSG_T_UNAVAILABLE for 503, the table text of the code otherwise.
 * Returns 0, or -ENOMEM/-EDOM with *b as it was.
 */
int	osrfmsg_error_body(const char *req_body, size_t len, int code,
	    const char *text, struct pbuf *b) MUST_CHECK;
/*
 * The same with another status class: the router's 404 for an unknown
 * service is an osrfServiceException "Service Not Found" (OpenSRF main,
 * captures-redis/05).
 */
int	osrfmsg_status_body(const char *req_body, size_t len,
	    const char *cls, int code, const char *text, struct pbuf *b)
	    MUST_CHECK;

#endif /* DROVER_OSRFMSG_H */
