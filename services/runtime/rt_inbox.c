/*
 * rt_inbox.c: a queue of decoded messages in front of a bus.
 *
 * The queue is a small ring of struct tmsg: the common case is zero or
 * one queued message, so a linear scan for a thread is the fast path.
 */
#include "services/runtime/rt_inbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto/bus.h"

struct rt_inbox {
	struct bus		*bus;
	struct tmsg		 q[RT_INBOX_MAX];
	size_t			 head;		/* oldest */
	size_t			 n;
};

struct rt_inbox *
rt_inbox_new(struct bus *bus)
{
	struct rt_inbox	*ib;

	if ((ib = calloc(1, sizeof(*ib))) == NULL)
		return NULL;
	ib->bus = bus;
	return ib;
}

static void
drop_all(struct rt_inbox *ib)
{
	while (ib->n > 0) {
		tmsg_clear(&ib->q[ib->head]);
		ib->head = (ib->head + 1) % RT_INBOX_MAX;
		ib->n--;
	}
}

void
rt_inbox_free(struct rt_inbox **ibp)
{
	struct rt_inbox	*ib = *ibp;

	if (ib == NULL)
		return;
	drop_all(ib);
	free(ib);
	*ibp = NULL;
}

struct bus *
rt_inbox_bus(const struct rt_inbox *ib)
{
	return ib->bus;
}

static int
matches(const struct tmsg *m, const char *thread)
{
	return thread == NULL || strcmp(m->thread, thread) == 0;
}

/* Take the first queued message of `thread`, keeping the order of the
 * others. */
static int
take_queued(struct rt_inbox *ib, const char *thread, struct tmsg *out)
{
	size_t	i, j, at, next;

	for (i = 0; i < ib->n; i++) {
		at = (ib->head + i) % RT_INBOX_MAX;
		if (!matches(&ib->q[at], thread))
			continue;
		*out = ib->q[at];
		for (j = i; j + 1 < ib->n; j++) {
			at = (ib->head + j) % RT_INBOX_MAX;
			next = (ib->head + j + 1) % RT_INBOX_MAX;
			ib->q[at] = ib->q[next];
		}
		ib->n--;
		return 1;
	}
	return 0;
}

static void
enqueue(struct rt_inbox *ib, struct tmsg *m)
{
	if (ib->n == RT_INBOX_MAX) {
		log_warnx("bus: %d unclaimed messages queued, dropping the "
		    "oldest (thread %s from %s)", RT_INBOX_MAX,
		    ib->q[ib->head].thread, ib->q[ib->head].from);
		tmsg_clear(&ib->q[ib->head]);
		ib->head = (ib->head + 1) % RT_INBOX_MAX;
		ib->n--;
	}
	ib->q[(ib->head + ib->n) % RT_INBOX_MAX] = *m;
	ib->n++;
	memset(m, 0, sizeof(*m));
}

/*
 * Read what the bus has without blocking; 1 if a message of `thread`
 * went to *out, 0 if none, negative errno.
 */
static int
pump(struct rt_inbox *ib, const char *thread, struct tmsg *out)
{
	struct proto_err	 err;
	struct bus_frame	*f;
	struct tmsg		 m;
	int			 rc, more;

	do {
		if ((rc = bus_recv(ib->bus, &f)) <= 0)
			return rc;
		/* no more: spare the read that would find nothing */
		more = bus_more(ib->bus);
		if (f->flags & BUS_F_OTHER) {
			log_debug("bus: dropping a non-message: %.100s",
			    f->raw);
			bus_frame_free(&f);
			continue;
		}
		memset(&m, 0, sizeof(m));
		rc = bus_decode(ib->bus, f->raw, f->len, &m, &err);
		bus_frame_free(&f);
		if (rc < 0) {
			log_warnx("bus: dropping an unreadable message: %s",
			    err.reason);
			continue;
		}
		if (matches(&m, thread)) {
			*out = m;
			return 1;
		}
		enqueue(ib, &m);
	} while (more);
	return 0;
}

int
rt_inbox_wait(struct rt_inbox *ib, const char *thread, int timeout_ms,
    struct tmsg *out)
{
	uint64_t	deadline = 0, now;
	int		rc, wait;

	memset(out, 0, sizeof(*out));
	if (take_queued(ib, thread, out))
		return 1;
	if (timeout_ms >= 0)
		deadline = mono_ms() + (uint64_t)timeout_ms;
	for (;;) {
		if ((rc = pump(ib, thread, out)) != 0)
			return rc;
		if (timeout_ms < 0)
			wait = -1;
		else if ((now = mono_ms()) >= deadline)
			return 0;
		else
			wait = (int)(deadline - now);
		if (bus_state(ib->bus) == BUS_DOWN)
			return -ENOTCONN;
		if ((rc = bus_wait(ib->bus, wait)) < 0)
			return rc;
	}
}

int
rt_inbox_flush(struct rt_inbox *ib, int read_bus)
{
	struct tmsg	m;
	int		n = (int)ib->n;

	drop_all(ib);
	while (read_bus && pump(ib, NULL, &m) == 1) {
		tmsg_clear(&m);
		n++;
	}
	if (n > 0)
		log_debug("bus: dropped %d stale messages", n);
	return n;
}

int
rt_inbox_send(struct rt_inbox *ib, struct tmsg *m)
{
	m->from = NULL;		/* the bus writes our own */
	return bus_send(ib->bus, m);
}
