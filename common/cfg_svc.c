/*
 * cfg_svc.c: the opensrf.xml view (cfg.h, layer 3): struct svc_conf for
 * one service on one host, and the host's active applications.
 *
 * Layout: the key tables (per service, then host-wide settings); the
 * cross-key checks; loading; activeapps.
 *
 * Everything is read from the tree cfg_merge_host() makes, which is what
 * OpenSRF's settings server would hand a C service (spec 5.5), so no
 * settings server is needed.
 */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Bounds.  max_requests and its jitter stop at 10^9 so that adding them
 * never overflows an int.  The backlog is a queue of whole stanzas in
 * the parent; a million of them is already gigabytes.  memcached reads
 * an expiry above 30 days as a Unix time, so max_cache_time stops there.
 */
#define REQ_MAX		1000000000LL
#define BACKLOG_MAX	1000000LL
#define DAY_S		86400LL
#define HOUR_S		3600LL
#define CACHE_TIME_MAX	(30 * DAY_S)
#define REQSIZE_MIN	4096LL
#define REQSIZE_MAX	(1024LL * 1024 * 1024)
#define REQSIZE_DEF	(10LL * 1024 * 1024)
/*
 * Recycling: RSS limits in KiB up to 1 TiB (still an int); below 1 MiB a
 * non-zero RSS limit would recycle every child after one request (a
 * drover child is several MiB before it serves anything).  A lifetime
 * of a year is "never" in practice.
 */
#define RSS_KB_MAX	(1024LL * 1024 * 1024)
#define RSS_KB_MIN	1024
#define LIFETIME_MAX	(365 * DAY_S)

#define SK(field)	offsetof(struct svc_conf, field)
#define U		"unix_config/"

/* Relative to apps/<service> of the merged tree. */
static const struct cfg_key svc_keys[] = {
	{ "language", CFG_T_STR, 0, 0, 0, 0, NULL, NULL, SK(language),
	  "c or perl; drover runs c" },
	{ "implementation", CFG_T_STR, CFG_K_REQUIRED, 0, 0, 0, NULL, NULL,
	  SK(implementation), "plugin file, or name in the plugin dir" },
	{ "keepalive", CFG_T_INT, 0, 1, HOUR_S, 5, NULL, NULL, SK(keepalive),
	  "connected-session idle timeout, s" },
	{ "stateless", CFG_T_BOOL, 0, 0, 1, 0, NULL, NULL, SK(stateless),
	  "informational (Perl: 0 requires CONNECT)" },
	{ U "min_children", CFG_T_INT, 0, 0, DROVER_MAX_CHILDREN, 3, NULL,
	  NULL, SK(min_children), "children kept alive" },
	{ U "max_children", CFG_T_INT, 0, 1, DROVER_MAX_CHILDREN, 10, NULL,
	  NULL, SK(max_children), "hard cap on children" },
	{ U "min_spare_children", CFG_T_INT, 0, 0, DROVER_MAX_CHILDREN, 1,
	  NULL, NULL, SK(min_spare_children), "idle children wanted" },
	{ U "max_spare_children", CFG_T_INT, 0, 1, DROVER_MAX_CHILDREN, 5,
	  NULL, NULL, SK(max_spare_children), "idle children tolerated" },
	{ U "max_requests", CFG_T_INT, 0, 1, REQ_MAX, 1000, NULL, NULL,
	  SK(max_requests), "requests per child before it exits" },
	{ U "max_requests_jitter", CFG_T_INT, CFG_K_DROVER, 0, REQ_MAX, 0,
	  NULL, NULL, SK(max_requests_jitter),
	  "random 0..jitter added per child" },
	{ U "max_backlog_queue", CFG_T_INT, 0, 0, BACKLOG_MAX, 1000, NULL,
	  NULL, SK(max_backlog_queue), "queued requests when saturated" },
	{ U "request_timeout", CFG_T_INT, CFG_K_DROVER, 0, DAY_S, 0, NULL,
	  NULL, SK(request_timeout), "s a request may run; 0 off" },
	{ U "slow_request_ms", CFG_T_INT, CFG_K_DROVER, 0, DAY_S * 1000, 0,
	  NULL, NULL, SK(slow_request_ms), "log requests slower; 0 off" },
	{ U "graceful_timeout", CFG_T_INT, CFG_K_DROVER, 0, HOUR_S, 30, NULL,
	  NULL, SK(graceful_timeout), "s busy children get at shutdown" },
	{ U "max_request_size", CFG_T_SIZE, CFG_K_DROVER, REQSIZE_MIN,
	  REQSIZE_MAX, REQSIZE_DEF, NULL, NULL, SK(max_request_size),
	  "largest request stanza, bytes" },
	{ U "max_rss_growth_kb", CFG_T_INT, CFG_K_DROVER, 0, RSS_KB_MAX, 0,
	  NULL, NULL, SK(max_rss_growth_kb),
	  "recycle a child grown this many KiB over its post-init RSS; 0 off" },
	{ U "max_rss_kb", CFG_T_INT, CFG_K_DROVER, 0, RSS_KB_MAX, 0, NULL,
	  NULL, SK(max_rss_kb), "recycle a child over this RSS, KiB; 0 off" },
	{ U "max_child_lifetime", CFG_T_INT, CFG_K_DROVER, 0, LIFETIME_MAX, 0,
	  NULL, NULL, SK(max_child_lifetime),
	  "recycle a child this many s old; 0 off" },
	{ U "max_child_lifetime_jitter", CFG_T_INT, CFG_K_DROVER, -1,
	  LIFETIME_MAX, -1, NULL, NULL, SK(max_child_lifetime_jitter),
	  "random 0..jitter s added per child; -1: a tenth of the lifetime" },
	{ U "max_sessions_per_client", CFG_T_INT, CFG_K_DROVER, 0,
	  DROVER_MAX_CHILDREN, 0, NULL, NULL, SK(max_sessions_per_client),
	  "connected sessions one client may hold; 0: max_children / 2" },
	{ U "max_queued_per_client", CFG_T_INT, CFG_K_DROVER, 0, BACKLOG_MAX,
	  0, NULL, NULL, SK(max_queued_per_client),
	  "requests of one client in the backlog; 0: max_backlog_queue / 2" },
	{ U "max_connect_wait", CFG_T_INT, CFG_K_DROVER, 0, HOUR_S, 5, NULL,
	  NULL, SK(max_connect_wait),
	  "s a queued CONNECT stays useful (clients wait 5 s); 0 off" },
};

/* Relative to the root of the merged tree: host-wide settings. */
static const struct cfg_key settings_keys[] = {
	{ "cache/global/max_cache_time", CFG_T_INT, 0, 1, CACHE_TIME_MAX,
	  DAY_S, NULL, NULL, SK(max_cache_time), "cache TTL cap, s" },
	{ "dirs/pid", CFG_T_STR, 0, 0, 0, 0, NULL, NULL, SK(pid_dir),
	  "directory for pid files" },
};

const struct cfg_key *
cfg_keys_svc(size_t *n)
{
	*n = ARRAY_LEN(svc_keys);
	return svc_keys;
}

const struct cfg_key *
cfg_keys_settings(size_t *n)
{
	*n = ARRAY_LEN(settings_keys);
	return settings_keys;
}

/* ----------------------------------------------------------- checks */

static int PRINTF(3, 4)
bad(const struct svc_conf *sc, struct cfg_err *err, const char *fmt, ...)
{
	struct cfg_node	at = { 0 };
	char		msg[CFG_ERR_MAX / 2];
	char		path[256];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);	/* a cut message will do */
	va_end(ap);
	snprintf(path, sizeof(path), "apps/%.200s", sc->name != NULL ?
	    sc->name : "?");
	/* The checks concern the service's element as a whole. */
	at.name = path;
	at.file = sc->file;
	at.line = sc->line;
	cfg_errf(err, &at, path, "%s", msg);
	return -EINVAL;
}

int
svc_conf_validate(const struct svc_conf *sc, struct cfg_err *err)
{
	if (sc->implementation == NULL || sc->implementation[0] == '\0')
		return bad(sc, err, "implementation: required key is missing");
	if (sc->max_children < 1 || sc->max_children > DROVER_MAX_CHILDREN)
		return bad(sc, err, "unix_config/max_children: expected an "
		    "integer from 1 to %d, got %d", DROVER_MAX_CHILDREN,
		    sc->max_children);
	if (sc->min_children < 0 || sc->min_children > sc->max_children)
		return bad(sc, err, "unix_config: min_children (%d) must be "
		    "from 0 to max_children (%d)", sc->min_children,
		    sc->max_children);
	if (sc->min_spare_children < 0 ||
	    sc->min_spare_children > sc->max_children)
		return bad(sc, err, "unix_config: min_spare_children (%d) "
		    "must be from 0 to max_children (%d)",
		    sc->min_spare_children, sc->max_children);
	/* Equal bounds would make the pool spawn and retire in turn. */
	if (sc->max_spare_children <= sc->min_spare_children)
		return bad(sc, err, "unix_config: max_spare_children (%d) "
		    "must be greater than min_spare_children (%d)",
		    sc->max_spare_children, sc->min_spare_children);
	if (sc->max_requests < 1)
		return bad(sc, err, "unix_config/max_requests: expected an "
		    "integer from 1 to %lld, got %d", REQ_MAX,
		    sc->max_requests);
	if (sc->max_requests_jitter < 0 ||
	    sc->max_requests_jitter >= sc->max_requests)
		return bad(sc, err, "unix_config: max_requests_jitter (%d) "
		    "must be from 0 to less than max_requests (%d)",
		    sc->max_requests_jitter, sc->max_requests);
	if (sc->keepalive < 1)
		return bad(sc, err, "keepalive: expected an integer from 1 to "
		    "%lld, got %d", HOUR_S, sc->keepalive);
	if (sc->max_rss_kb != 0 && sc->max_rss_kb < RSS_KB_MIN)
		return bad(sc, err, "unix_config/max_rss_kb: expected 0 (off) "
		    "or at least %d, got %d", RSS_KB_MIN, sc->max_rss_kb);
	if (sc->max_rss_growth_kb != 0 && sc->max_rss_growth_kb < RSS_KB_MIN)
		return bad(sc, err, "unix_config/max_rss_growth_kb: expected "
		    "0 (off) or at least %d, got %d", RSS_KB_MIN,
		    sc->max_rss_growth_kb);
	if (sc->max_child_lifetime_jitter > 0 &&
	    sc->max_child_lifetime_jitter >= sc->max_child_lifetime)
		return bad(sc, err, "unix_config: max_child_lifetime_jitter "
		    "(%d) must be less than max_child_lifetime (%d)",
		    sc->max_child_lifetime_jitter, sc->max_child_lifetime);
	return 0;
}

/* ------------------------------------------------------------ load */

void
svc_conf_free(struct svc_conf **scp)
{
	struct svc_conf	*sc;

	if (scp == NULL || (sc = *scp) == NULL)
		return;
	cfg_table_free(svc_keys, ARRAY_LEN(svc_keys), sc);
	cfg_table_free(settings_keys, ARRAY_LEN(settings_keys), sc);
	json_decref(sc->app_settings);
	cfg_strv_free(&sc->cache_servers);
	free(sc->name);
	free(sc->file);
	free(sc);
	*scp = NULL;
}

/*
 * cache/global/servers/server, one element or many, each maybe a
 * comma-separated list (spec 8).
 */
static int
cache_servers(const struct cfg_node *root, struct svc_conf *sc,
    struct cfg_err *err)
{
	char	**raw, **v, *p, *tok, *save, *e;
	size_t	  nraw, n = 0, cap = 0, i;
	int	  rc;

	if ((rc = cfg_strv(root, "cache/global/servers/server", &raw, &nraw,
	    err)) != 0)
		return rc;
	for (i = 0; i < nraw; i++)
		for (p = raw[i]; *p != '\0'; p++)
			cap += *p == ',';
	cap += nraw + 1;
	if ((v = calloc(cap, sizeof(*v))) == NULL)
		goto nomem;
	for (i = 0; i < nraw; i++)
		for (tok = strtok_r(raw[i], ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			while (isspace((unsigned char)*tok))
				tok++;
			for (e = tok + strlen(tok); e > tok &&
			    isspace((unsigned char)e[-1]); e--)
				;
			*e = '\0';
			if (*tok == '\0')
				continue;
			if ((v[n] = strdup(tok)) == NULL)
				goto nomem;
			n++;
		}
	cfg_strv_free(&raw);
	sc->cache_servers = v;
	sc->ncache_servers = n;
	return 0;
nomem:
	cfg_strv_free(&raw);
	cfg_strv_free(&v);
	cfg_errf(err, root, "cache/global/servers", "out of memory");
	return -ENOMEM;
}

int
svc_conf_from_tree(const struct cfg_tree *merged, const char *service,
    struct svc_conf **out, struct cfg_err *err)
{
	const struct cfg_node	*root = cfg_root(merged), *sn;
	struct svc_conf		*sc;
	char			*p;
	int			 rc;

	sn = cfg_child(cfg_child(root, "apps"), service);
	if (sn == NULL) {
		cfg_errf(err, root, NULL, "apps/%s: no such service in "
		    "<default> or this host's entry", service);
		return -ENOENT;
	}
	if (sn->child == NULL) {
		cfg_errf(err, sn, NULL, "expected the service's settings, "
		    "got %s", sn->text[0] == '\0' ? "an empty element" :
		    "text");
		return -EINVAL;
	}
	if ((sc = calloc(1, sizeof(*sc))) == NULL ||
	    (sc->name = strdup(service)) == NULL ||
	    (sc->file = strdup(sn->file)) == NULL) {
		svc_conf_free(&sc);
		cfg_errf(err, sn, NULL, "out of memory");
		return -ENOMEM;
	}
	sc->line = sn->line;
	if ((rc = cfg_table_load(sn, svc_keys, ARRAY_LEN(svc_keys), sc,
	    err)) != 0 ||
	    (rc = cfg_table_load(root, settings_keys, ARRAY_LEN(settings_keys),
	    sc, err)) != 0 ||
	    (rc = cache_servers(root, sc, err)) != 0)
		goto fail;
	/*
	 * OpenSRF's Perl server forces max_spare above min_spare instead
	 * of refusing; do the same when max_spare was left to its default,
	 * so a file OpenSRF accepts loads here too.
	 */
	/* Redis: an unset bound means none, as OpenSRF main (mpm.c) */
	sc->max_backlog_queue_set = cfg_get(sn, U "max_backlog_queue") !=
	    NULL && cfg_get(sn, U "max_backlog_queue")->text != NULL &&
	    *cfg_get(sn, U "max_backlog_queue")->text != '\0';
	if (cfg_get(sn, U "max_spare_children") == NULL &&
	    sc->max_spare_children <= sc->min_spare_children)
		sc->max_spare_children = sc->min_spare_children + 1;
	if (sc->language != NULL)
		for (p = sc->language; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	sc->app_settings = cfg_child(sn, "app_settings") != NULL ?
	    cfg_to_json(cfg_child(sn, "app_settings")) : json_null();
	if (sc->app_settings == NULL) {
		cfg_errf(err, sn, "app_settings", "cannot convert to JSON "
		    "(out of memory or invalid UTF-8)");
		rc = -ENOMEM;
		goto fail;
	}
	/*
	 * Unset (-1): a tenth of the lifetime, so that children started
	 * together (all of them, at start and after a reload) do not all
	 * retire in the same second and leave the pool to respawn at once.
	 */
	if (sc->max_child_lifetime_jitter < 0)
		sc->max_child_lifetime_jitter = sc->max_child_lifetime / 10;
	if ((rc = svc_conf_validate(sc, err)) != 0)
		goto fail;
	*out = sc;
	return 0;
fail:
	svc_conf_free(&sc);
	return rc;
}

/* opensrf.xml at path, merged for host (spec 5.4), into *merged. */
static int
load_merged(const char *path, const char *host, struct cfg_tree **merged,
    struct cfg_err *err)
{
	struct cfg_tree	*t;
	int		 rc;

	if ((rc = cfg_load(path, &t, err)) != 0)
		return rc;
	rc = cfg_merge_host(t, host, merged, err);
	cfg_tree_free(&t);
	return rc;
}

int
svc_conf_load(const char *path, const char *host, const char *service,
    struct svc_conf **out, struct cfg_err *err)
{
	struct cfg_tree	*m;
	int		 rc;

	if ((rc = load_merged(path, host, &m, err)) != 0)
		return rc;
	rc = svc_conf_from_tree(m, service, out, err);
	cfg_tree_free(&m);
	return rc;
}

/* ------------------------------------------------------- activeapps */

int
cfg_active_apps_tree(const struct cfg_tree *merged, char ***out,
    struct cfg_err *err)
{
	return cfg_strv(cfg_root(merged), "activeapps/appname", out, NULL,
	    err);
}

int
cfg_active_apps(const char *path, const char *host, char ***out,
    struct cfg_err *err)
{
	struct cfg_tree	*m;
	int		 rc;

	if ((rc = load_merged(path, host, &m, err)) != 0)
		return rc;
	rc = cfg_active_apps_tree(m, out, err);
	cfg_tree_free(&m);
	return rc;
}
