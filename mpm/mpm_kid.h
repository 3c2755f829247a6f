/*
 * mpm_kid.h: a child's life as the parent sees it, one state machine.
 *
 * Every change of a child's state in the parent goes through
 * mpm_kid_step(), which applies one event and refuses an illegal one
 * (leaving the state as it was), so the parent's bookkeeping cannot drift
 * from the table below.  Pure: no process, pipe or clock is touched; the
 * caller (mpm_proc.c, kid_event()) keeps the idle list and counters in
 * step with what this function decides.  Tested from tables in
 * test/test_mpm_kid.c.
 *
 *   state     event       -> state      notes
 *   FREE      SPAWN          STARTING   a process was forked into the slot
 *   STARTING  READY          IDLE       (EXITING if retiring)
 *   STARTING  BUS_DOWN       STARTING   not ready yet anyway
 *   IDLE      DISPATCH       BUSY
 *   IDLE      BUS_DOWN       NOBUS      its bus is down: never dispatched
 *   NOBUS     BUS_UP         IDLE       (EXITING if retiring)
 *   BUSY      DONE           IDLE       (EXITING if retiring)
 *   BUSY      DONE_LAST      EXITING    it said it exits (max_requests...)
 *   BUSY      RETIRE         BUSY       retiring: exits after the request
 *   BUSY      BUS_DOWN/UP    BUSY       reported after its request
 *   any live  RETIRE         EXITING    (BUSY above)
 *   any live  GONE           EXITING    a write to its data pipe failed:
 *					 it is dying
 *   any live  REAPED         FREE       waitpid() returned it
 *   EXITING   DONE, DONE_LAST, BUS_*, RETIRE, GONE: EXITING
 *   anything else: -EINVAL, state unchanged.
 *
 * "Retiring" (the parent asked it to exit: surplus, reload, stop) is set
 * here and only here, by RETIRE; a retiring child never becomes IDLE or
 * NOBUS again.
 */
#ifndef DROVER_MPM_KID_H
#define DROVER_MPM_KID_H

#include "util.h"

enum mpm_kid_state {
	KID_FREE = 0,		/* no process */
	KID_STARTING,		/* forked, not ready (bus, child_init) */
	KID_IDLE,		/* ready, on the idle list */
	KID_NOBUS,		/* ready, but its bus is down */
	KID_BUSY,		/* has a request (or a session) */
	KID_EXITING,		/* will exit: never dispatched again */
	KID_NSTATES
};

enum mpm_kid_event {
	KEV_SPAWN = 0,
	KEV_READY,		/* done record READY */
	KEV_DISPATCH,		/* a request went to its pipe */
	KEV_DONE,		/* done record IDLE */
	KEV_DONE_LAST,		/* done record EXITING */
	KEV_BUS_DOWN,		/* done record BUS_DOWN */
	KEV_BUS_UP,		/* done record BUS_UP */
	KEV_RETIRE,		/* the parent retires it */
	KEV_GONE,		/* a write to its data pipe failed */
	KEV_REAPED,		/* waitpid() returned it */
	KEV_NEVENTS
};

struct mpm_kid_fsm {
	enum mpm_kid_state	state;
	int			retiring;	/* RETIRE seen */
};

/* Apply ev: 0, or -EINVAL (illegal here; *k unchanged). */
int	mpm_kid_step(struct mpm_kid_fsm *k, enum mpm_kid_event ev)
	    MUST_CHECK;
/* "free", "starting", "idle", "nobus", "busy", "exiting". */
const char *mpm_kid_state_name(enum mpm_kid_state);
/* "spawn", "ready", "dispatch", ... */
const char *mpm_kid_event_name(enum mpm_kid_event);

#endif /* DROVER_MPM_KID_H */
