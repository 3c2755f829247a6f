/*
 * rt_req.h: one request being served, and its dispatch.
 *
 * struct drover_req (opaque to plugins) carries the decoded REQUEST
 * (method, params, threadTrace, xid) and the reply it is building.
 * rt_dispatch() checks the method and its argc, runs the built-in or
 * plugin handler and ends the request exactly once: STATUS 205 after
 * success, one error STATUS otherwise.  An ".atomic" call collects its
 * results and sends them as one RESULT array before the 205 (also when
 * there were none: drover sends RESULT [] where OpenSRF 3.2 sends
 * nothing at all, spec 9.14).
 *
 * Callers: children only (rt_session.c), one request at a time.
 * Ownership: the request borrows svc, reply, method and params; all stay
 * valid for the duration of rt_dispatch().
 */
#ifndef DROVER_RT_REQ_H
#define DROVER_RT_REQ_H

#include <jansson.h>

#include "drover/service.h"
#include "util.h"

struct rt_reply;
struct rt_method;

struct drover_req {
	struct drover_svc	*svc;
	const struct rt_method	*m;		/* resolved method */
	const char		*method;	/* as called */
	json_t			*params;	/* array, borrowed */
	const char		*xid;		/* "" when none */
	const char		*ingress;	/* for sub-requests, or NULL */
	int			 trace;		/* threadTrace */
	struct rt_reply		*reply;
	json_t			*atomic;	/* collected results, or NULL */
	unsigned		 nresults;	/* RESULTs sent or collected */
	int			 done;		/* 205 or an error was sent */
	int			 failed;	/* ended with an error status */
	int			 send_rc;	/* first failed send, or 0 */
	int			 status;	/* final status code sent */
	int			 panic;		/* exit the child afterwards */
};

/* Text of the framework's error statuses (spec 4.2). */
#define RT_TXT_UNKNOWN	"An unknown server error occurred"

/*
 * Serve one REQUEST.  Returns 0 when the client got its final status (205
 * or an error), a negative errno when any part of the reply could not be
 * sent (the bus is gone), even if the handler went on or reported the
 * failure itself: a request whose answer was lost is never "done".
 * req->failed and req->panic tell the caller how it ended.
 */
int	rt_dispatch(struct drover_req *) MUST_CHECK;

#endif /* DROVER_RT_REQ_H */
