/*
 * rt_cache.c: memcached for the children, through libmemcached.
 *
 * Layout: key and TTL rules (pure), the handle, get/put/delete, then the
 * drover_cache_* entry points for plugins.
 *
 * memcached being down must not hang or kill a child: connects and
 * replies have short timeouts (below), libmemcached keeps a failed server
 * out for RT_CACHE_RETRY_S before trying again, and every failure comes
 * back as -ENOTCONN or -EIO with the library's text kept for the caller.
 */
#include "services/runtime/rt_cache.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmemcached/memcached.h>
#include <openssl/evp.h>

#include "log.h"
#include "services/runtime/rt_svc.h"

/* A local memcached answers in well under a millisecond; a dead one
 * should cost a request at most about this much (ms). */
#define RT_CACHE_CONNECT_MS	500
#define RT_CACHE_POLL_MS	1000
/* Seconds a failed server stays out before libmemcached retries it. */
#define RT_CACHE_RETRY_S	2

static const char shortened[] = "shortened_";

struct rt_cache {
	memcached_st	*mc;
	int		 max_ttl;	/* s */
	char		*prefix;	/* never NULL */
	char		 err[512];	/* last failure, "" if none */
};

/* ---------------------------------------------------------- rules */

int
rt_cache_ttl(int ttl, int max)
{
	if (ttl <= 0 || ttl > max)
		return max;
	return ttl;
}

int
rt_cache_key(const char *prefix, const char *key, char *out, size_t outsz)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i;
	size_t		 plen, n = 0, klen;
	char		*clean;
	const char	*p;

	if (prefix == NULL)
		prefix = "";
	plen = strlen(prefix);
	klen = strlen(key);
	if ((clean = malloc(plen + klen + 1)) == NULL)
		return -ENOMEM;
	memcpy(clean, prefix, plen);
	n = plen;
	for (p = key; *p != '\0'; p++) {
		/* memcached's text protocol forbids spaces and controls */
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			continue;
		clean[n++] = *p;
	}
	clean[n] = '\0';
	if (n == plen) {
		free(clean);
		return -EINVAL;
	}
	if (n > RT_CACHE_KEY_MAX) {
		if (EVP_Digest(clean, n, md, &mdlen, EVP_md5(), NULL) != 1) {
			free(clean);
			return -EIO;
		}
		if (sizeof(shortened) - 1 + 2 * mdlen + 1 > outsz) {
			free(clean);
			return -ENAMETOOLONG;
		}
		n = sizeof(shortened) - 1;
		memcpy(out, shortened, n);
		for (i = 0; i < mdlen; i++)
			n += (size_t)snprintf(out + n, outsz - n, "%02x", md[i]);
		free(clean);
		return (int)n;
	}
	if (n + 1 > outsz) {
		free(clean);
		return -ENAMETOOLONG;
	}
	memcpy(out, clean, n + 1);
	free(clean);
	return (int)n;
}

/* --------------------------------------------------------- handle */

int
rt_cache_new(char *const *servers, size_t nservers, int max_ttl,
    const char *prefix, struct rt_cache **out)
{
	memcached_server_list_st	 list;
	memcached_return_t		 mrc;
	struct rt_cache			*c;
	size_t				 i;

	*out = NULL;
	if (nservers == 0)
		return -ENOENT;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->max_ttl = max_ttl > 0 ? max_ttl : 86400;
	if ((c->prefix = strdup(prefix != NULL ? prefix : "")) == NULL ||
	    (c->mc = memcached_create(NULL)) == NULL) {
		rt_cache_free(&c);
		return -ENOMEM;
	}
	(void)memcached_behavior_set(c->mc,
	    MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, RT_CACHE_CONNECT_MS);
	(void)memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT,
	    RT_CACHE_POLL_MS);
	(void)memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT,
	    RT_CACHE_RETRY_S);
	for (i = 0; i < nservers; i++) {
		/* each entry may itself be "h1:p1,h2:p2" (spec 8) */
		if ((list = memcached_servers_parse(servers[i])) == NULL) {
			log_warnx("cache: cannot parse server \"%s\"",
			    servers[i]);
			continue;
		}
		mrc = memcached_server_push(c->mc, list);
		memcached_server_list_free(list);
		if (mrc != MEMCACHED_SUCCESS) {
			log_warnx("cache: server \"%s\": %s", servers[i],
			    memcached_strerror(c->mc, mrc));
			rt_cache_free(&c);
			return -EINVAL;
		}
	}
	*out = c;
	return 0;
}

void
rt_cache_free(struct rt_cache **cp)
{
	struct rt_cache	*c = *cp;

	if (c == NULL)
		return;
	if (c->mc != NULL)
		memcached_free(c->mc);
	free(c->prefix);
	free(c);
	*cp = NULL;
}

const char *
rt_cache_strerror(const struct rt_cache *c)
{
	return c != NULL ? c->err : "no cache configured";
}

static int
cache_fail(struct rt_cache *c, const char *op, const char *key,
    memcached_return_t mrc)
{
	snprintf(c->err, sizeof(c->err), "memcached %s %.200s: %s", op, key,
	    memcached_strerror(c->mc, mrc));
	switch (mrc) {
	case MEMCACHED_NOTFOUND:
		return -ENOENT;
	case MEMCACHED_CONNECTION_FAILURE:
	case MEMCACHED_CONNECTION_SOCKET_CREATE_FAILURE:
	case MEMCACHED_HOST_LOOKUP_FAILURE:
	case MEMCACHED_SERVER_MARKED_DEAD:
	case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
	case MEMCACHED_NO_SERVERS:
	case MEMCACHED_TIMEOUT:
	case MEMCACHED_ERRNO:
	case MEMCACHED_WRITE_FAILURE:
	case MEMCACHED_READ_FAILURE:
	case MEMCACHED_UNKNOWN_READ_FAILURE:
		log_warnx("cache: %s", c->err);
		return -ENOTCONN;
	default:
		log_warnx("cache: %s", c->err);
		return -EIO;
	}
}

int
rt_cache_get(struct rt_cache *c, const char *key, json_t **out)
{
	char			 k[RT_CACHE_KEY_MAX + 1];
	memcached_return_t	 mrc;
	json_error_t		 jerr;
	uint32_t		 flags;
	size_t			 len;
	char			*val;
	int			 klen;

	*out = NULL;
	if ((klen = rt_cache_key(c->prefix, key, k, sizeof(k))) < 0)
		return klen;
	val = memcached_get(c->mc, k, (size_t)klen, &len, &flags, &mrc);
	if (val == NULL) {
		if (mrc == MEMCACHED_SUCCESS)	/* empty value */
			return -EINVAL;
		return cache_fail(c, "get", k, mrc);
	}
	*out = json_loadb(val, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	free(val);
	if (*out == NULL) {
		snprintf(c->err, sizeof(c->err), "memcached get %.200s: value is "
		    "not JSON: %s", k, jerr.text);
		return -EINVAL;
	}
	c->err[0] = '\0';
	return 0;
}

int
rt_cache_put(struct rt_cache *c, const char *key, const json_t *v, int ttl)
{
	char			 k[RT_CACHE_KEY_MAX + 1];
	memcached_return_t	 mrc;
	char			*text;
	int			 klen;

	if ((klen = rt_cache_key(c->prefix, key, k, sizeof(k))) < 0)
		return klen;
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_ENSURE_ASCII);
	if (text == NULL)
		return -ENOMEM;
	mrc = memcached_set(c->mc, k, (size_t)klen, text, strlen(text),
	    (time_t)rt_cache_ttl(ttl, c->max_ttl), 0);
	free(text);
	if (mrc != MEMCACHED_SUCCESS)
		return cache_fail(c, "set", k, mrc);
	c->err[0] = '\0';
	return 0;
}

int
rt_cache_delete(struct rt_cache *c, const char *key)
{
	char			k[RT_CACHE_KEY_MAX + 1];
	memcached_return_t	mrc;
	int			klen;

	if ((klen = rt_cache_key(c->prefix, key, k, sizeof(k))) < 0)
		return klen;
	mrc = memcached_delete(c->mc, k, (size_t)klen, 0);
	if (mrc != MEMCACHED_SUCCESS)
		return cache_fail(c, "delete", k, mrc);
	c->err[0] = '\0';
	return 0;
}

/* ------------------------------------------------------ plugin API */

int
drover_cache_get(struct drover_svc *s, const char *key, json_t **out)
{
	*out = NULL;
	if (key == NULL)
		return -EINVAL;
	if (s->cache == NULL)
		return -ENOTCONN;
	return rt_cache_get(s->cache, key, out);
}

int
drover_cache_put(struct drover_svc *s, const char *key, const json_t *v,
    int ttl)
{
	if (key == NULL || v == NULL)
		return -EINVAL;
	if (s->cache == NULL)
		return -ENOTCONN;
	return rt_cache_put(s->cache, key, v, ttl);
}

int
drover_cache_delete(struct drover_svc *s, const char *key)
{
	if (key == NULL)
		return -EINVAL;
	if (s->cache == NULL)
		return -ENOTCONN;
	return rt_cache_delete(s->cache, key);
}

const char *
drover_cache_strerror(const struct drover_svc *s)
{
	return rt_cache_strerror(s->cache);
}
