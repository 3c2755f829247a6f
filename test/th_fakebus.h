/*
 * th_fakebus.h: an in-memory bus (proto/bus.h) for tests.
 *
 * A backend of its own (bus_new_ops()): every message sent is encoded in
 * the XML form and captured (in order) for the test to inspect; XML
 * messages injected with th_fakebus_inject() come out of bus_recv() in
 * order, and the bus's fd (one end of a pipe) is readable while any are
 * queued, so code that polls behaves as on a real bus.  An on_send hook
 * lets a test answer a message at once (e.g. play another service
 * in-process).  It is up as soon as it is made.
 *
 * Ownership: th_fakebus_new() returns a bus freed with bus_free(&b);
 * captured strings belong to the bus.
 */
#ifndef DROVER_TH_FAKEBUS_H
#define DROVER_TH_FAKEBUS_H

#include <stddef.h>

#include "proto/bus.h"

typedef void	(*th_fakebus_hook)(void *arg, const char *xml, size_t len);

struct bus	*th_fakebus_new(const char *jid);
size_t		 th_fakebus_nsent(struct bus *);
const char	*th_fakebus_sent(struct bus *, size_t i);
void		 th_fakebus_clear(struct bus *);
int		 th_fakebus_inject(struct bus *, const char *xml);
size_t		 th_fakebus_pending(struct bus *);
void		 th_fakebus_on_send(struct bus *, th_fakebus_hook,
		    void *arg);
/* Make send() fail with err (0: succeed again). */
void		 th_fakebus_fail_send(struct bus *, int err);

#endif /* DROVER_TH_FAKEBUS_H */
