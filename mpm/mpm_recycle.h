/*
 * mpm_recycle.h: when a child should retire itself, as pure functions.
 *
 * A long-lived child drifts: plugins leak, heaps fragment, caches grow.
 * drover recycles a child (it finishes its request, says why in its
 * scoreboard slot and exits; the parent forks a fresh one) when it has
 * served max_requests, when its resident set grew more than
 * max_rss_growth_kb above the baseline taken right after its init (the
 * fair measure: what init loaded is not a leak), when its resident set
 * passed max_rss_kb, or when it is older than max_child_lifetime.  The
 * request and lifetime limits carry a per-child jitter picked at spawn,
 * so children forked together do not all retire together.
 *
 * Nothing here forks, reads a clock or touches memory outside its
 * arguments: the caller gathers the figures (sb_sample(), its own
 * counters, mono_us()) and acts on the answer, so every rule is tested
 * from tables (test/test_mpm_recycle.c).
 *
 * When to call:
 *	parent, at spawn	mpm_recycle_limits_set() with the child's
 *				mpm_req_limit() and a random number (the
 *				child inherits the struct through fork);
 *	child, after init	remember rss_base_kb from its first sample
 *				(sb_slot_set_baseline());
 *	child, after each	sb_sample(), then mpm_recycle_why(); a
 *	request			non-zero answer goes to
 *				sb_slot_set_exit_reason() and the child
 *				leaves its loop as after max_requests.
 * The parent may call mpm_recycle_why() on its tick with a slot's
 * figures (sb_read_slot()) to retire idle children past their lifetime.
 *
 * Callers: parent and child, never in signal context.  No ownership:
 * every pointer is borrowed for the call.  Errors: none; 0 means "keep
 * serving".
 */
#ifndef DROVER_MPM_RECYCLE_H
#define DROVER_MPM_RECYCLE_H

#include <stdint.h>

struct svc_conf;

/* One child's limits, fixed at spawn; 0 = off for each. */
struct mpm_recycle_limits {
	uint64_t	max_requests;		/* this child's, jitter in */
	uint64_t	max_rss_growth_kb;	/* over rss_base_kb */
	uint64_t	max_rss_kb;		/* absolute */
	uint64_t	max_lifetime_us;	/* this child's, jitter in */
};

/* What the child knows about itself now. */
struct mpm_recycle_sample {
	uint64_t	requests;		/* served so far */
	uint64_t	rss_kb;			/* resident set now */
	uint64_t	rss_base_kb;		/* after init; 0 = unknown */
	uint64_t	age_us;			/* since fork, monotonic */
};

/*
 * Seconds a new child may live: lifetime_s plus a share of jitter_s
 * picked from rnd (any 32-bit random number), as mpm_req_limit() does
 * for requests.  0 when lifetime_s is 0 (off); negative inputs count as
 * 0.
 */
uint32_t mpm_lifetime_limit_s(int lifetime_s, int jitter_s, uint32_t rnd);

/*
 * A child's limits from its service configuration: req_limit is its
 * mpm_req_limit() (0 = none), rnd picks its lifetime jitter.
 */
void	mpm_recycle_limits_set(struct mpm_recycle_limits *,
	    const struct svc_conf *, int req_limit, uint32_t rnd);

/*
 * Should the child retire now?  0 to keep serving, else its
 * enum sb_exit_reason, checked in this order (the first that applies
 * is the one ops see): SB_EXIT_RSS_MAX (rss_kb > max_rss_kb),
 * SB_EXIT_RSS_GROWTH (rss_kb > rss_base_kb + max_rss_growth_kb, only
 * once rss_base_kb is known), SB_EXIT_MAX_REQUESTS (requests >=
 * max_requests), SB_EXIT_LIFETIME (age_us >= max_lifetime_us).
 */
uint32_t mpm_recycle_why(const struct mpm_recycle_limits *,
	    const struct mpm_recycle_sample *);

#endif /* DROVER_MPM_RECYCLE_H */
