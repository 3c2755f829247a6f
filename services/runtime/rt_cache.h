/*
 * rt_cache.h: the children's memcached connection (spec 8).
 *
 * Each child makes its own libmemcached handle in child init (a handle
 * is never shared across fork).  Servers are the cache/global/servers/
 * server strings ("host:port", each possibly a comma-separated list);
 * max_cache_time caps every TTL.  Values are JSON text; keys are cleaned
 * (whitespace and control characters dropped), prefixed, and replaced by
 * "shortened_<md5 hex>" when still longer than memcached's 250 bytes.
 *
 * Callers: children.  Ownership: rt_cache_new() copies what it needs;
 * free with rt_cache_free(&c).  Errors as drover_cache_get() documents;
 * the last failure's text is kept for drover_cache_strerror().
 */
#ifndef DROVER_RT_CACHE_H
#define DROVER_RT_CACHE_H

#include <stddef.h>

#include <jansson.h>

#include "util.h"

/* memcached's key limit (its protocol's KEY_MAX_LENGTH). */
#define RT_CACHE_KEY_MAX	250

struct rt_cache;

int	rt_cache_new(char *const *servers, size_t nservers, int max_ttl,
	    const char *prefix, struct rt_cache **out) MUST_CHECK;
void	rt_cache_free(struct rt_cache **);

/*
 * The memcached key for `key`: cleaned, prefixed, shortened; pure, for
 * tests.  Returns its length, -EINVAL when nothing is left after
 * cleaning, -ENAMETOOLONG when out (>= RT_CACHE_KEY_MAX + 1 bytes
 * advised) is too small.
 */
int	rt_cache_key(const char *prefix, const char *key, char *out,
	    size_t outsz) MUST_CHECK;
/* TTL actually used for `ttl` under cap `max`. */
int	rt_cache_ttl(int ttl, int max);

int	rt_cache_get(struct rt_cache *, const char *key, json_t **out)
	    MUST_CHECK;
int	rt_cache_put(struct rt_cache *, const char *key, const json_t *,
	    int ttl) MUST_CHECK;
int	rt_cache_delete(struct rt_cache *, const char *key) MUST_CHECK;
const char *rt_cache_strerror(const struct rt_cache *);

#endif /* DROVER_RT_CACHE_H */
