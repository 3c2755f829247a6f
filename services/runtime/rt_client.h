/*
 * rt_client.h: the client side of an OpenSRF session (spec 3.6), over
 * any transport (through an rt_inbox).
 *
 * Used by drover_client_* (sub-requests inside children) and by
 * drover-call.  One session = one thread id; requests are numbered by
 * threadTrace; one request is outstanding at a time.  Stateless requests
 * go to the service address; CONNECT adopts the answering drone's JID
 * until DISCONNECT, a 408 or a bounce resets it to the service address.
 * Chunked results are reassembled.  The received results of the current
 * request are queued and handed out one by one.
 *
 * Callers: children and client programs.  Ownership: the client borrows
 * the inbox; it copies the strings given to rt_client_new().  Results
 * handed out are new references.  Errors as drover_client_recv().
 */
#ifndef DROVER_RT_CLIENT_H
#define DROVER_RT_CLIENT_H

#include <jansson.h>

#include "util.h"

struct rt_inbox;
struct rt_client;

int	rt_client_new(struct rt_inbox *, const char *service_addr,
	    const char *xid, const char *ingress, struct rt_client **out)
	    MUST_CHECK;
void	rt_client_free(struct rt_client **);

int	rt_client_connect(struct rt_client *, int timeout_ms) MUST_CHECK;
int	rt_client_disconnect(struct rt_client *);
int	rt_client_connected(const struct rt_client *);
int	rt_client_request(struct rt_client *, const char *method,
	    const json_t *params) MUST_CHECK;
int	rt_client_recv(struct rt_client *, int timeout_ms, json_t **out)
	    MUST_CHECK;
/*
 * rt_client_recv() without waiting, for callers with an event loop of
 * their own (drover-call --bench drives many sessions from one): reads
 * what the bus already has, then 1 with a result, 0 when the request is
 * complete, -EAGAIN when nothing more has come yet (the request stays
 * outstanding: wait until the bus's descriptor is readable, run the bus
 * and poll again), or the errors of rt_client_recv().  A request given
 * up on (its deadline passed) is ended with rt_client_recv(c, 0, ..).
 */
int	rt_client_poll(struct rt_client *, json_t **out) MUST_CHECK;
int	rt_client_status(const struct rt_client *, const char **text);
/* The JID requests currently go to (service address or a drone). */
const char *rt_client_remote(const struct rt_client *);

#endif /* DROVER_RT_CLIENT_H */
