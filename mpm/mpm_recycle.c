/*
 * mpm_recycle.c: when a child should retire itself (see mpm_recycle.h).
 *
 * Layout: the lifetime jitter, the limits from the configuration, the
 * decision.  Pure functions only.
 */
#include "mpm_recycle.h"

#include <string.h>

#include "cfg.h"
#include "scoreboard/sb.h"

#define US_PER_S	1000000u

uint32_t
mpm_lifetime_limit_s(int lifetime_s, int jitter_s, uint32_t rnd)
{
	uint64_t	n;

	if (lifetime_s <= 0)
		return 0;
	if (jitter_s <= 0)
		return (uint32_t)lifetime_s;
	/* Both are at most a year (cfg_svc.c): the sum fits. */
	n = (uint64_t)lifetime_s + rnd % ((uint32_t)jitter_s + 1);
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

void
mpm_recycle_limits_set(struct mpm_recycle_limits *l,
    const struct svc_conf *sc, int req_limit, uint32_t rnd)
{
	memset(l, 0, sizeof(*l));
	l->max_requests = req_limit > 0 ? (uint64_t)req_limit : 0;
	l->max_rss_growth_kb = sc->max_rss_growth_kb > 0 ?
	    (uint64_t)sc->max_rss_growth_kb : 0;
	l->max_rss_kb = sc->max_rss_kb > 0 ? (uint64_t)sc->max_rss_kb : 0;
	l->max_lifetime_us = (uint64_t)mpm_lifetime_limit_s(
	    sc->max_child_lifetime, sc->max_child_lifetime_jitter, rnd) *
	    US_PER_S;
}

uint32_t
mpm_recycle_why(const struct mpm_recycle_limits *l,
    const struct mpm_recycle_sample *x)
{
	if (l->max_rss_kb != 0 && x->rss_kb > l->max_rss_kb)
		return SB_EXIT_RSS_MAX;
	/* Written so that a huge baseline cannot overflow the sum. */
	if (l->max_rss_growth_kb != 0 && x->rss_base_kb != 0 &&
	    x->rss_kb > x->rss_base_kb &&
	    x->rss_kb - x->rss_base_kb > l->max_rss_growth_kb)
		return SB_EXIT_RSS_GROWTH;
	if (l->max_requests != 0 && x->requests >= l->max_requests)
		return SB_EXIT_MAX_REQUESTS;
	if (l->max_lifetime_us != 0 && x->age_us >= l->max_lifetime_us)
		return SB_EXIT_LIFETIME;
	return SB_EXIT_NONE;
}
