/*
 * th_fakebus.h: an in-memory struct transport for tests.
 *
 * Every stanza sent is captured (in order) for the test to inspect;
 * stanzas injected with th_fakebus_inject() come out of recv() in order,
 * and the bus's fd (one end of a pipe) is readable while any are queued,
 * so code that polls behaves as on a real bus.  An on_send hook lets a
 * test answer a stanza at once (e.g. play another service in-process).
 *
 * Ownership: th_fakebus_new() returns a transport freed with
 * transport_free(&t); captured strings belong to the bus.
 */
#ifndef DROVER_TH_FAKEBUS_H
#define DROVER_TH_FAKEBUS_H

#include <stddef.h>

#include "transport.h"

typedef void	(*th_fakebus_hook)(void *arg, const char *xml, size_t len);

struct transport *th_fakebus_new(const char *jid);
size_t		 th_fakebus_nsent(struct transport *);
const char	*th_fakebus_sent(struct transport *, size_t i);
void		 th_fakebus_clear(struct transport *);
int		 th_fakebus_inject(struct transport *, const char *xml);
size_t		 th_fakebus_pending(struct transport *);
void		 th_fakebus_on_send(struct transport *, th_fakebus_hook,
		    void *arg);
/* Make send() fail with err (0: succeed again). */
void		 th_fakebus_fail_send(struct transport *, int err);

#endif /* DROVER_TH_FAKEBUS_H */
