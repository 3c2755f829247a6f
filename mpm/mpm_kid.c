/*
 * mpm_kid.c: the child state machine of mpm_kid.h.
 */
#include "mpm_kid.h"

#include <errno.h>

/*
 * Where an event leads from a state; -1 is illegal.  Columns in the order
 * of enum mpm_kid_event: spawn, ready, dispatch, done, done-last,
 * bus-down, bus-up, retire, gone, reaped.
 */
static const signed char next_state[KID_NSTATES][KEV_NEVENTS] = {
	[KID_FREE] =	{ KID_STARTING, -1, -1, -1, -1, -1, -1, -1, -1, -1 },
	[KID_STARTING] = { -1, KID_IDLE, -1, -1, -1, KID_STARTING,
			  KID_STARTING, KID_EXITING, KID_EXITING, KID_FREE },
	[KID_IDLE] =	{ -1, -1, KID_BUSY, -1, -1, KID_NOBUS, KID_IDLE,
			  KID_EXITING, KID_EXITING, KID_FREE },
	[KID_NOBUS] =	{ -1, -1, -1, -1, -1, KID_NOBUS, KID_IDLE,
			  KID_EXITING, KID_EXITING, KID_FREE },
	[KID_BUSY] =	{ -1, -1, -1, KID_IDLE, KID_EXITING, KID_BUSY,
			  KID_BUSY, KID_BUSY, KID_EXITING, KID_FREE },
	[KID_EXITING] =	{ -1, -1, -1, KID_EXITING, KID_EXITING, KID_EXITING,
			  KID_EXITING, KID_EXITING, KID_EXITING, KID_FREE },
};

int
mpm_kid_step(struct mpm_kid_fsm *k, enum mpm_kid_event ev)
{
	int	to;

	if ((unsigned)k->state >= KID_NSTATES || (unsigned)ev >= KEV_NEVENTS)
		return -EINVAL;
	if ((to = next_state[k->state][ev]) < 0)
		return -EINVAL;
	switch (ev) {
	case KEV_SPAWN:
		k->retiring = 0;
		break;
	case KEV_RETIRE:
		k->retiring = 1;
		break;
	default:
		break;
	}
	/* a retiring child is never ready for work again */
	if (k->retiring && (to == KID_IDLE || to == KID_NOBUS))
		to = KID_EXITING;
	if (to == KID_FREE)
		k->retiring = 0;
	k->state = (enum mpm_kid_state)to;
	return 0;
}

const char *
mpm_kid_state_name(enum mpm_kid_state s)
{
	static const char *const names[KID_NSTATES] = {
		"free", "starting", "idle", "nobus", "busy", "exiting",
	};

	return (unsigned)s < KID_NSTATES ? names[s] : "?";
}

const char *
mpm_kid_event_name(enum mpm_kid_event e)
{
	static const char *const names[KEV_NEVENTS] = {
		"spawn", "ready", "dispatch", "done", "done-last", "bus-down",
		"bus-up", "retire", "gone", "reaped",
	};

	return (unsigned)e < KEV_NEVENTS ? names[e] : "?";
}
