/*
 * drover/service.h: the API between drover and the service plugins it
 * loads.  This is the installed header; build a plugin with
 *
 *	cc $(pkg-config --cflags drover) -shared -o libmysvc.so mysvc.c \
 *	    $(pkg-config --libs drover)
 *
 * A plugin is a shared object that exports exactly one symbol, the
 * descriptor `drover_service_desc`, best defined with DROVER_SERVICE().
 * Every other symbol stays hidden (-fvisibility=hidden); the functions
 * declared here are resolved against the drover program that loads the
 * plugin, so a plugin never links a drover library.
 *
 * Life cycle (processes as in droverd(8)):
 *   init        parent, once, before any child is forked: register the
 *               methods; a non-zero return stops the service.
 *   child_init  each child, after its bus connection and the cache are
 *               up; a non-zero return makes the child exit "fatal" and the
 *               parent stops respawning.
 *   handlers    each child, one request at a time, never concurrently.
 *   child_exit  each child at a normal exit (request limit, retirement,
 *               graceful stop); not after a crash or SIGKILL.
 * Plugins never fork, exit, install signal handlers or close descriptors
 * they did not open; to end their child they call drover_req_panic().
 *
 * Ownership, the short form (each function says it again):
 *   - A `const char *` or `json_t *` handed to the plugin by drover is
 *     BORROWED: valid until the handler (or hook) returns, never freed or
 *     decref'd by the plugin.  Keep a copy (strdup, json_deep_copy or
 *     json_incref) to hold it longer.
 *   - A `json_t *` handed to drover follows jansson's naming: functions
 *     ending in `_new` STEAL the reference (even when they fail, as
 *     jansson's own `_new` calls do); the others only read the value and
 *     the caller keeps its reference.
 *   - A `json_t **out` filled by drover is a NEW reference the plugin
 *     must json_decref().
 *   - Objects made by a drover_*_new()/_open() function are freed by the
 *     matching _free(&p), which accepts NULL and resets the pointer.
 *
 * Errors: 0 (or a count >= 0) on success, a negative errno on failure;
 * each function lists the values that mean something to a caller.
 *
 * ABI: the descriptor starts with DROVER_ABI_MAGIC and the major/minor
 * version the plugin was compiled against.  The loader refuses a plugin
 * whose major differs from its own, or whose minor is newer, naming the
 * file and both versions.  Minor versions only add functions and append
 * descriptor fields.
 */
#ifndef DROVER_SERVICE_H
#define DROVER_SERVICE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "DRVS": identifies a drover plugin descriptor. */
#define DROVER_ABI_MAGIC	0x44525653u
#define DROVER_ABI_MAJOR	1
#define DROVER_ABI_MINOR	0

#define DROVER_API_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define DROVER_API_MUST_CHECK	__attribute__((warn_unused_result))
#define DROVER_API_EXPORT	__attribute__((visibility("default")))

struct drover_svc;		/* the loaded service, one per process */
struct drover_req;		/* one request being served */
struct drover_client;		/* a client session to another service */

/* ------------------------------------------------------- descriptor */

struct drover_service_desc {
	uint32_t	  magic;	/* DROVER_ABI_MAGIC */
	uint16_t	  abi_major;	/* DROVER_ABI_MAJOR at build time */
	uint16_t	  abi_minor;	/* DROVER_ABI_MINOR at build time */
	const char	 *name;		/* informative, e.g. "opensrf.math" */
	/* parent: register methods; non-zero refuses to start.  Required. */
	int		(*init)(struct drover_svc *);
	/* child: after bus and cache are up; non-zero: child exits.  NULL ok */
	int		(*child_init)(struct drover_svc *);
	/* child: at a normal exit.  NULL ok */
	void		(*child_exit)(struct drover_svc *);
};

/* The one exported symbol name the loader looks up. */
#define DROVER_SERVICE_SYMBOL	"drover_service_desc"

/*
 * Define the descriptor:
 *	DROVER_SERVICE("opensrf.math", math_init, NULL, NULL);
 */
#define DROVER_SERVICE(name, init, child_init, child_exit)		\
	DROVER_API_EXPORT const struct drover_service_desc		\
	drover_service_desc = {						\
		DROVER_ABI_MAGIC, DROVER_ABI_MAJOR, DROVER_ABI_MINOR,	\
		(name), (init), (child_init), (child_exit)		\
	}

/* ---------------------------------------------------------- methods */

/*
 * A method handler.  It reads its parameters, answers with any number of
 * drover_respond*() calls and returns:
 *   >= 0  success: drover finishes the request (STATUS 205) unless the
 *         handler already did (drover_respond_complete*, drover_req_error).
 *         (OpenSRF distinguishes 0 from > 0; drover completes in both
 *         cases, so a forgotten completion never hangs a client.)
 *   <  0  failure: unless the handler already sent drover_req_error(),
 *         the client gets STATUS 404 osrfMethodException "An unknown
 *         server error occurred", as OpenSRF peers expect.
 * `user` is the pointer given at registration.
 */
typedef int	(*drover_method_fn)(struct drover_req *, void *user);

/* Method flags (the same bit values as OpenSRF's registration options) */
#define DROVER_METHOD_STREAMING	0x02	/* also register "<name>.atomic" */
#define DROVER_METHOD_CACHABLE	0x08	/* informational, reported by
					   opensrf.system.method */

/*
 * Register a method, in init() only (the table is frozen before the
 * first fork).  `name` and `notes` are copied.  `argc` is the minimum
 * number of parameters (0-255); a request with fewer gets STATUS 404
 * "Not enough params for method <name> / service <svc>" and the handler
 * is not called.  Registration order is the introspection order.
 * Returns 0, -EINVAL (bad name, flags or argc; NULL fn), -EEXIST (name
 * taken, including "<name>.atomic" and the opensrf.system.* names),
 * -EPERM (called outside init()), -ENOMEM.
 */
int	drover_register_method(struct drover_svc *, const char *name,
	    drover_method_fn fn, const char *notes, int argc, unsigned flags,
	    void *user) DROVER_API_MUST_CHECK;

/* ---------------------------------------------------------- service */

/* The service name, e.g. "opensrf.math".  Borrowed, lives as the svc. */
const char	*drover_svc_name(const struct drover_svc *);
/*
 * The service's <app_settings> from opensrf.xml as JSON (text to strings,
 * digit strings to integers, repeated elements to arrays; JSON null when
 * absent).  Borrowed; valid for the life of the process; do not modify.
 */
const json_t	*drover_svc_settings(const struct drover_svc *);
/* One pointer of plugin state, e.g. set in init() or child_init(). */
void		 drover_svc_set_data(struct drover_svc *, void *);
void		*drover_svc_data(const struct drover_svc *);

/* ---------------------------------------------------------- logging */

/* Levels as opensrf_core.xml <loglevel>. */
#define DROVER_LOG_ERROR	1
#define DROVER_LOG_WARNING	2
#define DROVER_LOG_INFO		3
#define DROVER_LOG_DEBUG	4

/*
 * Log one line to the process's log; while a request runs the line
 * carries its osrf_xid.  The text is formatted by drover; nothing is
 * kept.
 */
void	drover_log(int level, const char *fmt, ...) DROVER_API_PRINTF(2, 3);
void	drover_vlog(int level, const char *fmt, va_list);

/* ---------------------------------------------------------- request */

/* The service serving this request.  Borrowed. */
struct drover_svc *drover_req_svc(const struct drover_req *);
/* The method name as the client called it (with ".atomic").  Borrowed. */
const char	*drover_req_method(const struct drover_req *);
/* The request's osrf_xid ("" when none).  Borrowed. */
const char	*drover_req_xid(const struct drover_req *);
/* The params array (never NULL, maybe empty).  Borrowed, read-only. */
json_t		*drover_req_params(const struct drover_req *);
/* Number of params, and param i or NULL when i >= count.  Borrowed. */
size_t		 drover_req_argc(const struct drover_req *);
json_t		*drover_req_param(const struct drover_req *, size_t i);

/*
 * Send one result to the client (one RESULT message; several are bundled
 * into one stanza below 25600 bytes, and a result above 51200 bytes is
 * sent in osrfResultPartial chunks).  For an ".atomic" call the result is
 * collected instead and sent as one array when the request ends.
 * drover_respond() reads `value` (the caller keeps its reference);
 * drover_respond_new() steals it, even on failure, so
 * drover_respond_new(req, json_integer(4)) leaks nothing.  A NULL value
 * sends JSON null (and, for _new, reports -ENOMEM: a failed jansson
 * constructor).
 * Returns 0; -EALREADY after the request was completed or failed;
 * -ENOMEM; -EMSGSIZE (the result cannot be serialized or is too large);
 * -ENOTCONN/-EIO when the bus is gone (the request is then lost; return
 * the error from the handler).
 */
int	drover_respond(struct drover_req *, const json_t *value);
int	drover_respond_new(struct drover_req *, json_t *value);

/* drover_respond*() and then end the request with STATUS 205. */
int	drover_respond_complete(struct drover_req *, const json_t *value);
int	drover_respond_complete_new(struct drover_req *, json_t *value);

/*
 * End the request with an error STATUS instead of 205: status code
 * `code` (100-599; e.g. 400 bad input, 404 not found, 500 internal) and
 * text formatted from fmt (class osrfMethodException).  Results already
 * sent stay sent; collected ".atomic" results are discarded.  Returns as
 * drover_respond().
 */
int	drover_req_error(struct drover_req *, int code, const char *fmt, ...)
	    DROVER_API_PRINTF(3, 4);

/*
 * Ask for this child to exit after the request has been answered (e.g.
 * the plugin's state is corrupt).  The MPM forks a fresh child.
 */
void	drover_req_panic(struct drover_req *);

/* ------------------------------------------------------------ cache */

/*
 * memcached, through the servers of /cache/global/servers/server,
 * connected in each child before child_init().  Values are JSON (stored
 * as JSON text, as OpenSRF's "put object"), so Perl and C OpenSRF code
 * read them too.  Keys: whitespace and control characters are removed
 * and the service's prefix (none by default; set with <app_settings>
 * <cache_prefix>) is prepended; a key still longer than 250 bytes is
 * replaced by "shortened_" + the hex MD5 of it, as OpenSRF does.
 *
 * ttl is in seconds; ttl <= 0 or above /cache/global/max_cache_time
 * means max_cache_time.
 *
 * Errors: -ENOENT no such key (get, delete); -EINVAL empty key, or a
 * stored value that is not JSON (get); -ENOTCONN no cache configured or
 * memcached unreachable; -EIO other memcached failures; -ENOMEM.  A cache
 * failure never ends the child: report it to the caller and go on.
 */
int	drover_cache_get(struct drover_svc *, const char *key, json_t **out)
	    DROVER_API_MUST_CHECK;
int	drover_cache_put(struct drover_svc *, const char *key,
	    const json_t *value, int ttl) DROVER_API_MUST_CHECK;
int	drover_cache_delete(struct drover_svc *, const char *key)
	    DROVER_API_MUST_CHECK;
/* Text of the last cache failure of this process (borrowed, "" if none) */
const char *drover_cache_strerror(const struct drover_svc *);

/* ------------------------------------------------------ sub-requests */

/*
 * A client session from inside a child to another service, over the
 * child's own bus connection (as OpenSRF's opensrf.math calls
 * opensrf.dbmath).  Requests go to the service's router address
 * (<router_name>@<domain>/<service> from opensrf_core.xml); the osrf_xid
 * and ingress of the current request are passed on.  One session serves
 * one request at a time: send, then receive until the end.  Use it from
 * handlers and child_init only.
 *
 * drover_client_open() makes a session (no traffic yet); free it with
 * drover_client_free(&c), which disconnects a connected session.
 * -EINVAL empty service name, -ENOMEM, -EPERM outside a child.
 */
int	drover_client_open(struct drover_svc *, const char *service,
	    struct drover_client **out) DROVER_API_MUST_CHECK;
void	drover_client_free(struct drover_client **);

/*
 * Connected session: CONNECT and wait up to timeout_ms for STATUS 200;
 * further requests then go straight to the drone that answered until
 * drover_client_disconnect() (or its keepalive timeout, after which
 * requests fall back to the router address).  Returns 0, -ETIMEDOUT,
 * -ECONNREFUSED (the peer answered with an error status), -EHOSTUNREACH
 * (the bus bounced the message), -ENOTCONN/-EIO bus failures.
 */
int	drover_client_connect(struct drover_client *, int timeout_ms)
	    DROVER_API_MUST_CHECK;
int	drover_client_disconnect(struct drover_client *);

/*
 * Send a REQUEST.  `params` is a JSON array (or NULL for []); it is only
 * read.  Returns 0 or a negative errno as above; -EBUSY when the
 * previous request has not been received to its end.
 */
int	drover_client_request(struct drover_client *, const char *method,
	    const json_t *params) DROVER_API_MUST_CHECK;

/*
 * Receive the next result of the outstanding request, waiting at most
 * timeout_ms (< 0: forever).  Returns
 *   1  *out is a new reference to the next result (a chunked result is
 *      reassembled first);
 *   0  the request completed (STATUS 205); *out is NULL;
 *   -EREMOTEIO  the service answered with an error status: see
 *      drover_client_status();
 *   -ETIMEDOUT, -EHOSTUNREACH, -ENOTCONN, -EIO, -ENOMEM.
 * After 0 or an error the session accepts the next request.
 */
int	drover_client_recv(struct drover_client *, int timeout_ms,
	    json_t **out) DROVER_API_MUST_CHECK;

/* The last error status: code (e.g. 404) and text; borrowed. */
int	drover_client_status(const struct drover_client *, const char **text);

/*
 * One-shot stateless call: request, collect every result and wait for
 * completion within timeout_ms in total.  *out is a new reference to the
 * only result, to an array of all results when there were several, or
 * JSON null when there were none.  Returns as drover_client_recv(); on
 * -EREMOTEIO *code and *text (optional; text is a malloc'd string the
 * caller frees) describe the error status.
 */
int	drover_call(struct drover_svc *, const char *service,
	    const char *method, const json_t *params, int timeout_ms,
	    json_t **out, int *code, char **text) DROVER_API_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif /* DROVER_SERVICE_H */
