/*
 * mpm_event.c: telling the caller how the service is doing
 * (mpm_conf.on_event), so that droverd can tell systemd.
 *
 * READY waits until the service can really serve: the parent's bus is
 * up (the bus registers with the routers as it comes up, so "up" means
 * registered too, and a bus without routers has nothing to wait for)
 * and min_children children of the current generation have said READY
 * and are not on their way out.  A reload starts a generation: READY
 * then waits for its children again.  STATUS is looked at once a tick
 * and told only when a figure changed, so a busy service does not flood
 * the manager.
 *
 * Called from the parent's main loop only (mpm_loop.c); the scans run
 * while not yet ready, and once a tick.
 */
#include "mpm_int.h"

#include <string.h>

#include "proto/bus.h"

static void
figures(const struct mpm *m, struct mpm_status *st)
{
	struct bus_queue_info	qi;
	int			i;

	memset(st, 0, sizeof(*st));
	st->children = m->nkids;
	for (i = 0; i < MPM_MAX_SLOTS; i++)
		if (m->kids[i].pid != 0 && m->kids[i].fsm.state == KID_BUSY)
			st->busy++;
	st->queued = (int)m->backlog.len;
	if (bus_queue_info(m->bus, &qi) == 0)
		st->queued += (int)qi.depth;
}

static void
tell(struct mpm *m, enum mpm_event ev)
{
	struct mpm_status	st;

	if (m->conf->on_event == NULL)
		return;
	figures(m, &st);
	if (ev == MPM_EVENT_STATUS &&
	    memcmp(&st, &m->ev_told, sizeof(st)) == 0)
		return;
	if (ev == MPM_EVENT_STATUS || ev == MPM_EVENT_READY)
		m->ev_told = st;
	m->conf->on_event(m->conf->on_event_arg, ev, &st);
}

/* Children of this generation, ready and staying, as many as needed? */
static int
ready(const struct mpm *m)
{
	const struct mpm_kid	*k;
	int			 i, n = 0;

	if (m->run != RUN_SERVING || bus_state(m->bus) != BUS_UP)
		return 0;
	for (i = 0; i < MPM_MAX_SLOTS && n < m->lim.min_children; i++) {
		k = &m->kids[i];
		if (k->pid != 0 && k->ready_seen && !k->fsm.retiring &&
		    k->generation == m->generation &&
		    (k->fsm.state == KID_IDLE || k->fsm.state == KID_BUSY))
			n++;
	}
	return n >= m->lim.min_children;
}

void
mpm_event_round(struct mpm *m)
{
	if (m->ev_ready || m->conf->on_event == NULL || !ready(m))
		return;
	m->ev_ready = 1;
	tell(m, MPM_EVENT_READY);
}

void
mpm_event_tick(struct mpm *m)
{
	if (m->ev_ready)
		tell(m, MPM_EVENT_STATUS);
}

void
mpm_event_reloading(struct mpm *m)
{
	m->ev_ready = 0;
	tell(m, MPM_EVENT_RELOADING);
}

void
mpm_event_stopping(struct mpm *m)
{
	m->ev_ready = 1;	/* no READY after this */
	tell(m, MPM_EVENT_STOPPING);
}
