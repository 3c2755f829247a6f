/*
 * router_api.h: the router's own methods (spec 2.8) and the OpenSRF
 * bodies of the router's error replies.
 *
 * A client calls the router by sending to its top-level JID (service
 * name "router") a body of osrfMessages.  CONNECT is answered with
 * STATUS 200; each REQUEST for one of the opensrf.router.info.* methods
 * with a RESULT and then a STATUS 205, as two separate stanzas, the
 * RESULT carrying OpenSRF's quirky payload {"status":null,
 * "statusCode":"0","content":...}.  Unlike OpenSRF, a missing class
 * parameter and an unknown class get a 404 osrfMethodException instead
 * of silence or a crash (spec 9.4); an unknown method gets 404 "Router
 * method not found" as in OpenSRF.  Other message types are ignored.
 *
 * Pure: reads the table, writes bodies through a callback; no I/O.
 * Error replies to refused requests are osrfmsg_error_body()'s.
 *
 * Callers: the router's event loop.  Not for signal context.
 * Ownership: the body passed to emit() is valid only during the call.
 * Errors: 0 or negative errno (-EPROTO for an undecodable body, after
 * the sender was answered with an exception; -ENOMEM).
 */
#ifndef DROVER_ROUTER_API_H
#define DROVER_ROUTER_API_H

#include <stddef.h>

#include "pbuf.h"
#include "router.h"
#include "util.h"

#define ROUTER_API_PREFIX	"opensrf.router.info."

/* Called once per reply stanza with that stanza's body. */
typedef int (*router_api_emit)(void *arg, const char *body, size_t len);

int	router_api_answer(const struct router *, const char *body,
	    size_t len, router_api_emit, void *arg) MUST_CHECK;

#endif /* DROVER_ROUTER_API_H */
