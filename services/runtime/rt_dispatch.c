/*
 * rt_dispatch.c: running one REQUEST and the request API for handlers.
 *
 * Layout: rt_dispatch() (lookup, argc check, handler, completion), then
 * the drover_req_* getters, then the respond/error calls that feed the
 * reply writer (rt_reply.c).
 *
 * Error statuses (spec 4.2), all class osrfMethodException:
 *   404 "Method [<m>] not found for service <svc>"  unknown method
 *   404 "Not enough params for method <m> / service <svc>"
 *   404 "An unknown server error occurred"          handler returned < 0
 *   <code> <text>                                   drover_req_error()
 *   500 "Internal Server Error: <reason>"           drover's own failure
 *        while building the reply (out of memory, unserializable result);
 *        OpenSRF would say 404 here too (spec 9.15), but a peer only
 *        needs "an exception status ended the request", and 500 tells an
 *        operator the fault is not the client's.
 */
#include "services/runtime/rt_req.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "services/runtime/rt_reply.h"
#include "services/runtime/rt_svc.h"

static const char exc_class[] = "osrfMethodException";

/* Remember the first send that failed; returns rc. */
static int
sent(struct drover_req *r, int rc)
{
	if (rc < 0 && rc != -ENOMEM && rc != -EMSGSIZE && r->send_rc == 0)
		r->send_rc = rc;
	return rc;
}

/* Send an error status that ends the request (at most one per request). */
static int
req_fail(struct drover_req *r, int code, const char *text)
{
	r->done = 1;
	r->failed = 1;
	r->status = code;
	json_decref(r->atomic);
	r->atomic = NULL;
	log_info("%s %s: status %d: %s", r->svc->name, r->method, code,
	    text);
	return sent(r, rt_reply_status(r->reply, r->trace, exc_class, code,
	    text));
}

static int
req_failf(struct drover_req *r, int code, const char *fmt, ...)
    PRINTF(3, 4);

static int
req_failf(struct drover_req *r, int code, const char *fmt, ...)
{
	char	text[512];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);	/* truncation ok */
	va_end(ap);
	return req_fail(r, code, text);
}

/* The request ends well: flush collected atomic results, then 205. */
static int
req_complete(struct drover_req *r)
{
	json_t	*all;
	int	 rc;

	if (r->done)
		return 0;
	if ((all = r->atomic) != NULL) {
		r->atomic = NULL;
		rc = sent(r, rt_reply_result(r->reply, r->trace, all));
		json_decref(all);
		if (rc == -ENOMEM || rc == -EMSGSIZE)
			return req_failf(r, 500, "Internal Server Error: "
			    "cannot send the result: %s", strerror(-rc));
		if (rc < 0)
			return rc;
	}
	r->done = 1;
	r->status = OSRFMSG_STATUS_COMPLETE;
	return sent(r, rt_reply_status(r->reply, r->trace,
	    "osrfConnectStatus", 205, "Request Complete"));
}

int
rt_dispatch(struct drover_req *r)
{
	const struct rt_method	*m;
	int			 rc;

	if (r->params == NULL || !json_is_array(r->params))
		return req_failf(r, 500, "Internal Server Error: params "
		    "are not an array");
	m = rt_svc_method(r->svc, r->method);
	if (m == NULL)
		return req_failf(r, 404, "Method [%s] not found for service "
		    "%s", r->method, r->svc->name);
	r->m = m;
	if (json_array_size(r->params) < (size_t)m->argc)
		return req_failf(r, 404, "Not enough params for method %s / "
		    "service %s", r->method, r->svc->name);
	if (m->flags & RT_METHOD_ATOMIC) {
		if ((r->atomic = json_array()) == NULL)
			return req_failf(r, 500, "Internal Server Error: "
			    "out of memory");
	}
	r->svc->cur = r;
	if (m->sys != NULL)
		rc = m->sys(r, r->svc);
	else
		rc = m->fn(r, m->user);
	r->svc->cur = NULL;
	if (r->send_rc < 0)
		return r->send_rc;	/* the client heard nothing whole */
	if (rc < 0) {
		if (r->done)
			return 0;	/* the handler already reported it */
		log_warnx("%s %s: handler failed: %s", r->svc->name,
		    r->method, rc >= -4095 ? strerror(-rc) : "error");
		return req_fail(r, 404, RT_TXT_UNKNOWN);
	}
	return req_complete(r);
}

/* ---------------------------------------------------------- getters */

struct drover_svc *
drover_req_svc(const struct drover_req *r)
{
	return r->svc;
}

const char *
drover_req_method(const struct drover_req *r)
{
	return r->method;
}

const char *
drover_req_xid(const struct drover_req *r)
{
	return r->xid != NULL ? r->xid : "";
}

json_t *
drover_req_params(const struct drover_req *r)
{
	return r->params;
}

size_t
drover_req_argc(const struct drover_req *r)
{
	return json_array_size(r->params);
}

json_t *
drover_req_param(const struct drover_req *r, size_t i)
{
	return json_array_get(r->params, i);
}

void
drover_req_panic(struct drover_req *r)
{
	log_warnx("%s %s: the handler asked the child to exit", r->svc->name,
	    r->method);
	r->panic = 1;
}

/* ---------------------------------------------------------- answers */

int
drover_respond(struct drover_req *r, const json_t *value)
{
	int	rc;

	if (r->done)
		return -EALREADY;
	if (value == NULL)
		value = json_null();
	r->nresults++;
	if (r->atomic != NULL) {
		/* json_array_append() takes its own reference */
		rc = json_array_append(r->atomic, (json_t *)value);
		return rc == 0 ? 0 : -ENOMEM;
	}
	rc = sent(r, rt_reply_result(r->reply, r->trace, value));
	if (rc == -EMSGSIZE)
		log_warnx("%s %s: result cannot be serialized",
		    r->svc->name, r->method);
	return rc;
}

int
drover_respond_new(struct drover_req *r, json_t *value)
{
	int	rc;

	if (value == NULL)
		return -ENOMEM;
	rc = drover_respond(r, value);
	json_decref(value);
	return rc;
}

int
drover_respond_complete(struct drover_req *r, const json_t *value)
{
	int	rc;

	if ((rc = drover_respond(r, value)) < 0)
		return rc;
	return req_complete(r);
}

int
drover_respond_complete_new(struct drover_req *r, json_t *value)
{
	int	rc;

	if (value == NULL)
		return -ENOMEM;
	rc = drover_respond_complete(r, value);
	json_decref(value);
	return rc;
}

int
drover_req_error(struct drover_req *r, int code, const char *fmt, ...)
{
	char	text[1024];
	va_list	ap;

	if (r->done)
		return -EALREADY;
	if (code < 100 || code > 599)
		code = 500;
	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);	/* truncation ok */
	va_end(ap);
	return req_fail(r, code, text);
}
