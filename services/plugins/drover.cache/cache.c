/*
 * cache.c: drover.cache, JSON values in memcached over OpenSRF.
 *
 *   drover.cache.put    key value [ttl]  -> true
 *   drover.cache.get    key              -> the value, or null if absent
 *   drover.cache.delete key              -> true, or false if absent
 *
 * Keys and TTLs follow drover_cache_put() (spec 8 rules; ttl capped by
 * max_cache_time).  <app_settings> may set <prefix> (prepended to every
 * key this service stores, so its keys do not meet other services') and
 * <default_ttl> (seconds, when put has no ttl; else max_cache_time).
 * With memcached unreachable every method answers STATUS 503
 * osrfMethodException with libmemcached's reason and the child keeps
 * serving.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <drover/service.h>

/* Longest key accepted from a client: far above memcached's 250, which
 * the runtime enforces by hashing; this only bounds the copy. */
#define KEY_MAX	4096

/* The key with this service's <prefix>, into buf; NULL if too long. */
static const char *
full_key(struct drover_req *req, const char *k, char *buf, size_t sz)
{
	const json_t	*set = drover_svc_settings(drover_req_svc(req));
	const char	*p = json_string_value(json_object_get(set, "prefix"));

	if ((size_t)snprintf(buf, sz, "%s%s", p != NULL ? p : "", k) >= sz)
		return NULL;
	return buf;
}

static int
default_ttl(struct drover_req *req)
{
	const json_t	*set = drover_svc_settings(drover_req_svc(req));
	const json_t	*v = json_object_get(set, "default_ttl");

	if (json_is_integer(v))
		return (int)json_integer_value(v);
	if (json_is_string(v))
		return atoi(json_string_value(v));
	return 0;	/* the runtime's cap, max_cache_time */
}

static int
cache_error(struct drover_req *req, int rc)
{
	struct drover_svc	*svc = drover_req_svc(req);

	if (rc == -EINVAL)
		return drover_req_error(req, 400, "%s: bad key or stored "
		    "value: %s", drover_req_method(req),
		    drover_cache_strerror(svc));
	return drover_req_error(req, 503, "%s: cache unavailable: %s",
	    drover_req_method(req), drover_cache_strerror(svc));
}

/* The request's key with the prefix into buf; NULL after answering 400. */
static const char *
key_param(struct drover_req *req, char *buf, size_t sz)
{
	const char	*k = json_string_value(drover_req_param(req, 0));

	if (k == NULL || *k == '\0' || full_key(req, k, buf, sz) == NULL) {
		/* the error status is the answer; nothing else to report */
		(void)drover_req_error(req, 400, "%s: the key must be a "
		    "non-empty string of at most %d bytes",
		    drover_req_method(req), KEY_MAX - 1);
		return NULL;
	}
	return buf;
}

static int
c_put(struct drover_req *req, void *user)
{
	char		 buf[KEY_MAX];
	const char	*k;
	json_t		*ttl = drover_req_param(req, 2);
	int		 rc;

	if ((k = key_param(req, buf, sizeof(buf))) == NULL)
		return 0;
	if (ttl != NULL && !json_is_integer(ttl) && !json_is_null(ttl))
		return drover_req_error(req, 400, "drover.cache.put: ttl "
		    "must be an integer (seconds)");
	rc = drover_cache_put(drover_req_svc(req), k, drover_req_param(req, 1),
	    json_is_integer(ttl) ? (int)json_integer_value(ttl) :
	    default_ttl(req));
	if (rc < 0)
		return cache_error(req, rc);
	return drover_respond_new(req, json_true());
}

static int
c_get(struct drover_req *req, void *user)
{
	char		 buf[KEY_MAX];
	const char	*k;
	json_t		*v = NULL;
	int		 rc;

	if ((k = key_param(req, buf, sizeof(buf))) == NULL)
		return 0;
	rc = drover_cache_get(drover_req_svc(req), k, &v);
	if (rc == -ENOENT)
		return drover_respond_new(req, json_null());
	if (rc < 0)
		return cache_error(req, rc);
	return drover_respond_new(req, v);
}

static int
c_delete(struct drover_req *req, void *user)
{
	char		 buf[KEY_MAX];
	const char	*k;
	int		 rc;

	if ((k = key_param(req, buf, sizeof(buf))) == NULL)
		return 0;
	rc = drover_cache_delete(drover_req_svc(req), k);
	if (rc == -ENOENT)
		return drover_respond_new(req, json_false());
	if (rc < 0)
		return cache_error(req, rc);
	return drover_respond_new(req, json_true());
}

static int
cache_init(struct drover_svc *svc)
{
	int	rc;

	if ((rc = drover_register_method(svc, "drover.cache.put", c_put,
	    "Stores a JSON value under a key: key, value [, ttl seconds]",
	    2, 0, NULL)) < 0 ||
	    (rc = drover_register_method(svc, "drover.cache.get", c_get,
	    "Returns the value stored under a key, or null", 1,
	    DROVER_METHOD_CACHABLE, NULL)) < 0 ||
	    (rc = drover_register_method(svc, "drover.cache.delete", c_delete,
	    "Removes a key; true if it existed", 1, 0, NULL)) < 0)
		return rc;
	return 0;
}

DROVER_SERVICE("drover.cache", cache_init, NULL, NULL);
