/*
 * cache.c: drover.cache, JSON values in memcached over OpenSRF.
 *
 *   drover.cache.put    key value [ttl]  -> true
 *   drover.cache.get    key              -> the value, or null if absent
 *   drover.cache.delete key              -> true, or false if absent
 *
 * Keys and TTLs follow drover_cache_put() (spec 8 rules; ttl capped by
 * max_cache_time).  With memcached unreachable every method answers
 * STATUS 503 osrfMethodException with libmemcached's reason and the
 * child keeps serving.
 */
#include <errno.h>
#include <string.h>

#include <drover/service.h>

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

static const char *
key_param(struct drover_req *req)
{
	const char	*k = json_string_value(drover_req_param(req, 0));

	if (k == NULL || *k == '\0')
		(void)drover_req_error(req, 400, "%s: the key must be a "
		    "non-empty string", drover_req_method(req));
	return k != NULL && *k != '\0' ? k : NULL;
}

static int
c_put(struct drover_req *req, void *user)
{
	const char	*k;
	json_t		*ttl = drover_req_param(req, 2);
	int		 rc;

	if ((k = key_param(req)) == NULL)
		return 0;
	if (ttl != NULL && !json_is_integer(ttl) && !json_is_null(ttl))
		return drover_req_error(req, 400, "drover.cache.put: ttl "
		    "must be an integer (seconds)");
	rc = drover_cache_put(drover_req_svc(req), k, drover_req_param(req, 1),
	    json_is_integer(ttl) ? (int)json_integer_value(ttl) : 0);
	if (rc < 0)
		return cache_error(req, rc);
	return drover_respond_new(req, json_true());
}

static int
c_get(struct drover_req *req, void *user)
{
	const char	*k;
	json_t		*v = NULL;
	int		 rc;

	if ((k = key_param(req)) == NULL)
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
	const char	*k;
	int		 rc;

	if ((k = key_param(req)) == NULL)
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
