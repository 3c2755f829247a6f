/*
 * mpm_pool.h: the pool's decisions, as pure functions over plain data.
 *
 * Nothing here forks, reads a clock or touches a descriptor: the parent's
 * main loop (mpm.c) counts its children into a struct mpm_census, asks
 * these functions what to do, and does it.  So every sizing rule is unit
 * tested without processes (test/test_mpm_pool.c).
 *
 *   mpm_idle_*     the idle children, most recently idle first: an
 *                  intrusive doubly linked list over slot indices, O(1)
 *                  push, pop and removal of any slot (a retired or dead
 *                  idle child leaves from the middle).
 *   mpm_fifo_*     the bounded backlog of requests waiting for a child.
 *   mpm_maintain   Apache-style spare-children maintenance, once a tick.
 *   mpm_on_demand  children to fork at once for queued requests.
 *   mpm_req_limit  a child's max_requests with jitter.
 *   mpm_backoff_ms the delay before the next fork after early deaths.
 *
 * Callers: the parent only.  Ownership: the FIFO stores pointers it does
 * not own; mpm_fifo_free() frees only the ring.  Errors: negative errno.
 */
#ifndef DROVER_MPM_POOL_H
#define DROVER_MPM_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The scoreboard's slot count and OpenSRF's cap on max_children. */
#define MPM_MAX_SLOTS		256
/*
 * Apache's MAX_SPAWN_RATE: the spawn rate doubles each tick while idle
 * children are short, up to this many forks in one tick, so a burst is
 * met within a few seconds without a fork storm.
 */
#define MPM_MAX_SPAWN_RATE	32
/* First and last delay between forks after children die early. */
#define MPM_BACKOFF_MIN_MS	100
#define MPM_BACKOFF_MAX_MS	10000

/* ------------------------------------------------------- idle list */

struct mpm_idle {
	int16_t		head;			/* -1: empty */
	int16_t		prev[MPM_MAX_SLOTS];
	int16_t		next[MPM_MAX_SLOTS];
	uint8_t		in[MPM_MAX_SLOTS];	/* 1 while listed */
	int		count;
};

void	mpm_idle_init(struct mpm_idle *);
/* Put slot i first (it must not be listed). */
void	mpm_idle_push(struct mpm_idle *, int i);
/* Take the most recently idle slot, or -1. */
int	mpm_idle_pop(struct mpm_idle *);
/* Take slot i out if listed; 1 if it was. */
int	mpm_idle_remove(struct mpm_idle *, int i);

/* ------------------------------------------------------- backlog */

struct mpm_fifo {
	void		**ring;
	size_t		  cap;		/* max_backlog_queue */
	size_t		  head;		/* oldest */
	size_t		  len;
};

/* cap may be 0 (no backlog).  -ENOMEM. */
int	mpm_fifo_init(struct mpm_fifo *, size_t cap) MUST_CHECK;
/* New capacity; never below the current length (-EBUSY then). */
int	mpm_fifo_resize(struct mpm_fifo *, size_t cap) MUST_CHECK;
void	mpm_fifo_free(struct mpm_fifo *);
/* -ENOSPC when full: the caller answers 503. */
int	mpm_fifo_push(struct mpm_fifo *, void *) MUST_CHECK;
/* Oldest entry or NULL; peek leaves it queued. */
void	*mpm_fifo_pop(struct mpm_fifo *);
void	*mpm_fifo_peek(const struct mpm_fifo *);

/* ------------------------------------------------------- sizing */

struct mpm_limits {
	int	min_children;
	int	max_children;
	int	min_spare;
	int	max_spare;
};

/* The parent's count of its live children (current generation). */
struct mpm_census {
	int	total;		/* forked, not retiring, not reaped */
	int	idle;		/* ready for a request */
	int	starting;	/* forked, not yet ready (counts as idle
				   for spare maintenance, as in Apache) */
	int	queued;		/* requests in the backlog */
};

struct mpm_plan {
	int	spawn;		/* children to fork now */
	int	retire;		/* idle children to retire now (0 or 1) */
};

/*
 * One maintenance tick.  *rate is the spawn rate carried between ticks
 * (start at 1): it doubles after a tick that was short of spares, up to
 * MPM_MAX_SPAWN_RATE, and falls back to 1 once spares suffice.  Below
 * min_children the shortfall is forked at once.
 */
void	mpm_maintain(const struct mpm_limits *, const struct mpm_census *,
	    int *rate, struct mpm_plan *);

/* Children to fork at once: one per queued request not already covered
 * by a starting child, within max_children. */
int	mpm_on_demand(const struct mpm_limits *, const struct mpm_census *);

/*
 * Requests a new child serves before it exits: max_requests plus a share
 * of jitter picked from `rnd` (any 32-bit random number), so children
 * forked together do not all recycle together.
 */
int	mpm_req_limit(int max_requests, int jitter, uint32_t rnd);

/* Delay before the next fork after `n` consecutive early deaths. */
unsigned mpm_backoff_ms(unsigned n);

/*
 * Check limits for the pool (cfg validates each key's range; this checks
 * what the MPM relies on).  Returns 0 or -EINVAL with why[] filled.
 */
int	mpm_limits_check(const struct mpm_limits *, char *why, size_t whysz)
	    MUST_CHECK;

#endif /* DROVER_MPM_POOL_H */
