/*
 * cfg.h: reading OpenSRF's configuration files, unchanged.
 *
 * Two layers.
 *
 * 1. A generic read-only tree of the XML (struct cfg_node), as OpenSRF
 *    reads it (spec 5.1): element names are keys, text-only elements are
 *    values, attributes and comments are ignored, repeated siblings form
 *    lists.  Every node remembers its file and line so errors can say
 *    "opensrf.xml:57: apps/opensrf.math/unix_config/max_children: expected
 *    an integer from 1 to 256, got \"300\"".  cfg_merge_host() builds the
 *    effective opensrf.xml tree for one host: /opensrf/default deep-merged
 *    with /opensrf/hosts/<host> (objects key by key, repeated elements
 *    index by index, scalars replaced), spec 5.4.
 *
 * 2. Typed, validated views for each program: struct core_conf (context
 *    "opensrf" of opensrf_core.xml: transport, routers to register with,
 *    logging), struct router_conf (each <router> of context "routers"),
 *    struct svc_conf (one service of the merged opensrf.xml).  Defaults
 *    and ranges live in one table per view in cfg_*.c and are documented
 *    in drover-config(5); drover's own keys sit beside OpenSRF's and are
 *    ignored by OpenSRF.  Validation is pure (no I/O beyond reading the
 *    file), so tests run it without forking.
 *
 * Callers: parent processes at start-up and on SIGHUP; tools.  Never in
 * signal context.
 * Ownership: every *_load() hands back an object the caller frees with
 * the matching *_free(), which accepts NULL and takes a pointer to the
 * pointer, resetting it.  Strings inside belong to the object.
 * Errors: 0 or negative errno (-ENOENT missing file, -EINVAL bad content,
 * -ENOMEM); on failure struct cfg_err holds one human-readable line
 * naming file, line (when known), key and what was expected.
 */
#ifndef DROVER_CFG_H
#define DROVER_CFG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util.h"

#define CFG_ERR_MAX	512

struct cfg_err {
	char	msg[CFG_ERR_MAX];
};

/* ------------------------------------------------------ generic tree */

struct cfg_node {
	const char		*name;		/* element name */
	const char		*text;		/* trimmed text if no element
						   children, else NULL; "" if empty */
	const char		*file;		/* file it came from */
	int			 line;		/* 0 if unknown */
	struct cfg_node		*parent;
	struct cfg_node		*child;		/* first child element */
	struct cfg_node		*next;		/* next sibling */
};

struct cfg_tree;

int	cfg_load(const char *path, struct cfg_tree **out,
	    struct cfg_err *) MUST_CHECK;
/* Parse from memory; `name` stands in for the file name in errors. */
int	cfg_load_mem(const char *buf, size_t len, const char *name,
	    struct cfg_tree **out, struct cfg_err *) MUST_CHECK;
void	cfg_tree_free(struct cfg_tree **);
const struct cfg_node *cfg_root(const struct cfg_tree *);

/* First element named `ctx` anywhere in the document (document order). */
const struct cfg_node *cfg_context(const struct cfg_tree *, const char *ctx);
/* First descendant along "a/b/c" below `base` (children, not deeper). */
const struct cfg_node *cfg_get(const struct cfg_node *base, const char *path);
/*
 * All nodes matching "a/b/c" below base, in document order, into out[]
 * (at most max); returns the total number found, which may exceed max.
 */
size_t	cfg_get_all(const struct cfg_node *base, const char *path,
	    const struct cfg_node **out, size_t max);

/*
 * Effective settings for `host` from an opensrf.xml tree (spec 5.4).  A
 * host with no <hosts> entry gets the defaults alone.
 */
int	cfg_merge_host(const struct cfg_tree *settings, const char *host,
	    struct cfg_tree **out, struct cfg_err *) MUST_CHECK;

/*
 * The subtree as JSON, as OpenSRF's settings server gives it: text to
 * strings, strings of 1-10 digits to integers, empty elements to null,
 * repeated names to arrays.  New reference, or NULL on allocation
 * failure.
 */
json_t	*cfg_to_json(const struct cfg_node *);

/*
 * Typed scalar lookups at base/path.  A missing key gives the default
 * and returns 0; a present key of the wrong type or out of range returns
 * -EINVAL with err filled ("file:line: path: expected ..., got ...").
 */
int	cfg_int(const struct cfg_node *base, const char *path,
	    long long min, long long max, long long def, long long *out,
	    struct cfg_err *) MUST_CHECK;
int	cfg_bool(const struct cfg_node *base, const char *path, int def,
	    int *out, struct cfg_err *) MUST_CHECK;
/* *out points into the tree, or is def (which may be NULL). */
int	cfg_str(const struct cfg_node *base, const char *path,
	    const char *def, const char **out, struct cfg_err *) MUST_CHECK;

/* Format err as "file:line: path: message". */
void	cfg_errf(struct cfg_err *, const struct cfg_node *at,
	    const char *path, const char *fmt, ...) PRINTF(4, 5);

/* --------------------------------------------------- transport keys */

enum xmpp_auth { XMPP_AUTH_LEGACY, XMPP_AUTH_SASL, XMPP_AUTH_AUTO };
enum xmpp_tls { XMPP_TLS_OFF, XMPP_TLS_OPTIONAL, XMPP_TLS_REQUIRED };

/* How to reach and log in to the XMPP server; shared by every role. */
struct xmpp_conf {
	char		*host;		/* TCP host; OpenSRF uses the domain */
	char		*domain;	/* JID domain and stream `to` */
	int		 port;		/* 1-65535 */
	char		*username;
	char		*password;	/* cleared with explicit_bzero on free */
	char		*resource;	/* fixed resource (router), or NULL */
	enum xmpp_auth	 auth;		/* <auth>, default legacy */
	int		 legacy_digest;	/* <legacy_digest>: 1 digest, 0 plain */
	enum xmpp_tls	 tls;		/* <tls>, default optional (SASL only) */
	char		*tls_ca_file;	/* NULL = system store */
	int		 tls_verify;	/* verify the server certificate */
	size_t		 max_stanza_size; /* bytes, default 10 MiB */
	int		 connect_timeout_ms;
	int		 reconnect_max_ms; /* backoff cap, default 30 s */
};

/* ------------------------------------------------- opensrf_core.xml */

/* A router a service registers with (spec 5.2). */
struct reg_target {
	char	 *name;			/* router account, e.g. "router" */
	char	 *domain;
	char	**services;		/* NULL: every service */
	size_t	  nservices;
};

struct core_conf {
	char		 *path;		/* opensrf_core.xml as given */
	struct xmpp_conf  xmpp;
	char		 *router_name;	/* <router_name>, for clients */
	struct reg_target *routers;
	size_t		  nrouters;
	char		 *logfile;	/* path, "stderr" or "syslog" */
	int		  loglevel;	/* 0-5 */
	int		  syslog_facility;
	char		 *logtag;
	int		  client;	/* <client>true: originate xids */
	char		 *settings_config; /* opensrf.xml, absolute */
	char		**log_protect;	/* shared/log_protect/match_string */
	size_t		  nlog_protect;
	unsigned	  scoreboard_mode; /* octal, default 0640 */
};

/* Context `ctx` ("opensrf" for services, "srfsh", ...) of the file. */
int	core_conf_load(const char *path, const char *ctx,
	    struct core_conf **out, struct cfg_err *) MUST_CHECK;
void	core_conf_free(struct core_conf **);
/* Should `service` register with router t?  (services list semantics) */
int	reg_target_wants(const struct reg_target *t, const char *service);

/* One <router> entry of context "routers" (spec 5.3). */
struct router_conf {
	struct xmpp_conf  xmpp;		/* transport/... keys */
	char		**trusted_servers;
	size_t		  ntrusted_servers;
	char		**trusted_clients;
	size_t		  ntrusted_clients;
	char		 *logfile;
	int		  loglevel;	/* default 1 */
	int		  syslog_facility;
	char		 *logtag;
};

/* Every router entry that has a <transport>; *n set to their count. */
int	router_conf_load(const char *path, struct router_conf **out,
	    size_t *n, struct cfg_err *) MUST_CHECK;
void	router_conf_free(struct router_conf **, size_t n);

/* ---------------------------------------------------- opensrf.xml */

/* The absolute cap on children, the scoreboard's slot count. */
#define DROVER_MAX_CHILDREN	256

struct svc_conf {
	char	*name;
	char	*language;		/* "c" or NULL */
	char	*implementation;	/* plugin path or bare name */
	int	 keepalive;		/* s, session idle timeout, 1-3600, 5 */
	int	 stateless;
	/* unix_config/..., OpenSRF's and drover's keys */
	int	 min_children;		/* 0-256, default 3 */
	int	 max_children;		/* 1-256, default 10, >= min */
	int	 min_spare_children;	/* 0-256, default 1 */
	int	 max_spare_children;	/* 0-256, default 5, > min_spare */
	int	 max_requests;		/* 1-10^9, default 1000 */
	int	 max_requests_jitter;	/* 0-10^9, default 0 */
	int	 max_backlog_queue;	/* 0-10^6, default 1000 */
	int	 request_timeout;	/* s, 0 = off, default 0 */
	int	 slow_request_ms;	/* 0 = off, default 0 */
	int	 graceful_timeout;	/* s, default 30 */
	size_t	 max_request_size;	/* bytes, default 10 MiB */
	json_t	*app_settings;		/* owned; JSON null if absent */
	char   **cache_servers;		/* cache/global/servers/server */
	size_t	 ncache_servers;
	int	 max_cache_time;	/* s, default 86400 */
	char	*pid_dir;		/* dirs/pid, or NULL */
};

/*
 * Service `service` for `host` from opensrf.xml at `path`.  -ENOENT
 * with err filled when the service has no <apps> entry.
 */
int	svc_conf_load(const char *path, const char *host,
	    const char *service, struct svc_conf **out,
	    struct cfg_err *) MUST_CHECK;
void	svc_conf_free(struct svc_conf **);
/* Cross-key checks (min <= max, ...), pure; fills err. */
int	svc_conf_validate(const struct svc_conf *, struct cfg_err *) MUST_CHECK;
/* activeapps/appname for host: a NULL-terminated array the caller frees
 * with cfg_strv_free(). */
int	cfg_active_apps(const char *path, const char *host, char ***out,
	    struct cfg_err *) MUST_CHECK;
void	cfg_strv_free(char ***);

#endif /* DROVER_CFG_H */
