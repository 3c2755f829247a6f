/*
 * cfg.h: reading OpenSRF's configuration files, unchanged.
 *
 * Three layers.
 *
 * 1. A generic read-only tree of the XML (struct cfg_node), as OpenSRF
 *    reads it (spec 5.1): element names are keys, text-only elements are
 *    values, attributes, comments and processing instructions are
 *    ignored, repeated siblings form lists.  Every node remembers its
 *    file and line so errors can say "opensrf.xml:57:
 *    apps/opensrf.math/unix_config/max_children: expected an integer
 *    from 1 to 256, got \"300\"".  cfg_merge_host() builds the effective
 *    opensrf.xml tree for one host: /opensrf/default deep-merged with
 *    /opensrf/hosts/<host> (objects key by key, repeated elements index
 *    by index, scalars replaced), spec 5.4.  Parsing never touches the
 *    network and never expands entities (XML_PARSE_NONET, no
 *    XML_PARSE_NOENT, no DTD loading), so any input is safe to read.
 *
 * 2. Key tables (struct cfg_key): one table per view lists each key's
 *    path, type, default and range, and cfg_table_load() applies it to a
 *    struct.  drover-config(5) documents the same tables; the tests
 *    check that every key in them appears in the page.
 *
 * 3. Typed, validated views for each program: struct core_conf (context
 *    "opensrf" of opensrf_core.xml: transport, routers to register with,
 *    logging), struct router_conf (each <router> of context "routers"),
 *    struct svc_conf (one service of the merged opensrf.xml).  drover's
 *    own keys sit beside OpenSRF's and are ignored by OpenSRF.
 *    Validation is pure (no I/O beyond reading the file), so tests run
 *    it without forking.  The *_from_tree() variants take an already
 *    parsed tree (tests, fuzzing, one parse for several views).
 *
 * Empty elements and repeated keys.  OpenSRF reads <x/> as JSON null
 * and falls back to its default, and of a key given twice it uses the
 * first; either way a value someone meant is silently lost.  drover
 * refuses both, with file and line, like any other bad value:
 *  - a key read as one value and given more than once is an error
 *    naming the first line, except keys marked CFG_K_FIRST: context
 *    opensrf's <domain>, which OpenSRF documents as a list whose first
 *    entry counts (spec 5.2);
 *  - an empty element of a typed key (integer, size, seconds, boolean,
 *    enumeration, mode, facility) is an error;
 *  - an empty string element of an OpenSRF key still means "not set"
 *    (a required one is missing): OpenSRF's stock opensrf.xml has
 *    <dirs><log/><sock/><pid/><conf/></dirs>, and those files must load
 *    unchanged.  drover's own string keys (CFG_K_DROVER), which no
 *    stock file holds, may not be empty;
 *  - lists (cfg_strv()) skip empty entries: <activeapps/> is an empty
 *    list, and repeating an entry is what a list is.
 *
 * Callers: parent processes at start-up and on SIGHUP; tools.  Never in
 * signal context.  No state is kept between calls; objects are not
 * shared between threads.
 * Ownership: every *_load() hands back an object the caller frees with
 * the matching *_free(), which accepts NULL and takes a pointer to the
 * pointer, resetting it.  Strings inside belong to the object.  Nodes
 * belong to their tree and die with it.
 * Errors: 0 or negative errno (-ENOENT missing file or service, -EINVAL
 * bad content, -EFBIG file too large, -ENOMEM); on failure struct cfg_err
 * holds one human-readable line naming file, line (when known), key and
 * what was expected, and the outputs are untouched.
 */
#ifndef DROVER_CFG_H
#define DROVER_CFG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util.h"

struct log_conf;

#define CFG_ERR_MAX	512

/*
 * Largest configuration file read.  The stock opensrf.xml of a large
 * Evergreen site is well under 1 MiB; 16 MiB leaves room without letting
 * a wrong path (a log file, a device) eat the parent's memory.
 */
#define CFG_FILE_MAX	(16 * 1024 * 1024)

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
/* The document element (for a merged tree: the merged settings). */
const struct cfg_node *cfg_root(const struct cfg_tree *);
/* The file name the tree was loaded from, as given. */
const char *cfg_tree_file(const struct cfg_tree *);

/* First element named `ctx` anywhere in the document (document order). */
const struct cfg_node *cfg_context(const struct cfg_tree *, const char *ctx);
/*
 * First match of "a/b/c" below `base`, in document order: a child `a`
 * that has a child `b` that has a child `c` (slashes at either end and
 * doubled ones are ignored; "" is base itself).  NULL if none.
 */
const struct cfg_node *cfg_get(const struct cfg_node *base, const char *path);
/* First child element of base named exactly `name` (may contain '/'). */
const struct cfg_node *cfg_child(const struct cfg_node *base,
	    const char *name);
/*
 * All nodes matching "a/b/c" below base, in document order, into out[]
 * (at most max; out may be NULL when max is 0); returns the total number
 * found, which may exceed max.
 */
size_t	cfg_get_all(const struct cfg_node *base, const char *path,
	    const struct cfg_node **out, size_t max);
/*
 * The node's path from the document element, "opensrf/routers/router",
 * into buf (always terminated).  Returns the length it needed.
 */
size_t	cfg_node_path(const struct cfg_node *, char *buf, size_t size);

/*
 * Effective settings for `host` from an opensrf.xml tree (spec 5.4): a
 * new tree whose root holds the merged children.  A host with no <hosts>
 * entry gets the defaults alone; -EINVAL when there is neither
 * <default> nor an entry for the host.  Merged nodes keep the file and
 * line they came from.
 */
int	cfg_merge_host(const struct cfg_tree *settings, const char *host,
	    struct cfg_tree **out, struct cfg_err *) MUST_CHECK;

/*
 * The subtree as JSON, as OpenSRF's settings server gives it: text to
 * strings, strings of 1-10 digits to integers, empty elements to null,
 * element children to an object, repeated names to arrays.  New
 * reference, or NULL on allocation failure.
 */
json_t	*cfg_to_json(const struct cfg_node *);

/*
 * Typed scalar lookups at base/path.  A missing key gives the default
 * and returns 0; a key given twice, an empty element (cfg_str(): an
 * empty one gives the default, see "Empty elements" above) or a present
 * key of the wrong type or out of range returns -EINVAL with err filled
 * ("file:line: path: expected ..., got ...") and *out untouched.
 * Booleans: true/false, yes/no, on/off, 1/0, any case.
 */
int	cfg_int(const struct cfg_node *base, const char *path,
	    long long min, long long max, long long def, long long *out,
	    struct cfg_err *) MUST_CHECK;
int	cfg_bool(const struct cfg_node *base, const char *path, int def,
	    int *out, struct cfg_err *) MUST_CHECK;
/* *out points into the tree, or is def (which may be NULL). */
int	cfg_str(const struct cfg_node *base, const char *path,
	    const char *def, const char **out, struct cfg_err *) MUST_CHECK;
/*
 * Every match of base/path as a string (one element or many, empty ones
 * skipped): a NULL-terminated copy for cfg_strv_free(), *n its length
 * (n may be NULL).  An element with children is -EINVAL.
 */
int	cfg_strv(const struct cfg_node *base, const char *path, char ***out,
	    size_t *n, struct cfg_err *) MUST_CHECK;
void	cfg_strv_free(char ***);

/* Format err as "file:line: path: message"; path NULL = at's own path. */
void	cfg_errf(struct cfg_err *, const struct cfg_node *at,
	    const char *path, const char *fmt, ...) PRINTF(4, 5);
/* "file:line: <base path>/<key>: required key is missing". */
void	cfg_err_missing(struct cfg_err *, const struct cfg_node *base,
	    const char *key);

/* ------------------------------------------------------- key tables */

enum cfg_type {
	CFG_T_STR,	/* char *, copied; sdef is the default */
	CFG_T_INT,	/* int in [min, max] */
	CFG_T_SIZE,	/* size_t in [min, max], bytes */
	CFG_T_BOOL,	/* int 0/1 */
	CFG_T_MS,	/* seconds in [min, max] in the file, int ms in C */
	CFG_T_ENUM,	/* int index into names[] (case-insensitive) */
	CFG_T_MODE,	/* unsigned, octal string like "0640", max 07777 */
	CFG_T_FACILITY,	/* int, from a syslog facility name */
};

#define CFG_K_REQUIRED	0x1	/* missing or empty is an error */
#define CFG_K_SECRET	0x2	/* explicit_bzero before freeing */
#define CFG_K_DROVER	0x4	/* drover's key; OpenSRF ignores it (and
				   a string of it may not be empty) */
#define CFG_K_FIRST	0x8	/* OpenSRF reads a list, uses its first
				   entry: repeating it is no error */

/* One key of a view; `off` is offsetof() the field in the view. */
struct cfg_key {
	const char		*path;	/* below the view's base node */
	enum cfg_type		 type;
	int			 flags;	/* CFG_K_* */
	long long		 min, max, def;	/* numeric types */
	const char		*sdef;	/* CFG_T_STR default, or NULL */
	const char *const	*names;	/* CFG_T_ENUM, NULL-ended */
	size_t			 off;
	const char		*doc;	/* one line, for docs */
};

/*
 * Apply every key of the table at base into the struct at obj.  On
 * failure the string fields already set are freed again and reset.
 */
int	cfg_table_load(const struct cfg_node *base, const struct cfg_key *,
	    size_t nkeys, void *obj, struct cfg_err *) MUST_CHECK;
/* Free (and clear when CFG_K_SECRET) the table's CFG_T_STR fields. */
void	cfg_table_free(const struct cfg_key *, size_t nkeys, void *obj);

/* The views' tables, for tests and documentation checks. */
const struct cfg_key *cfg_keys_bus(size_t *n);	  /* drover transport */
const struct cfg_key *cfg_keys_core(size_t *n);	  /* context opensrf */
const struct cfg_key *cfg_keys_router(size_t *n); /* each <router> */
const struct cfg_key *cfg_keys_svc(size_t *n);	  /* apps/<svc> */
const struct cfg_key *cfg_keys_settings(size_t *n); /* merged root */

/* --------------------------------------------------- transport keys */

enum xmpp_auth { XMPP_AUTH_LEGACY, XMPP_AUTH_SASL, XMPP_AUTH_AUTO };
enum xmpp_tls { XMPP_TLS_OFF, XMPP_TLS_OPTIONAL, XMPP_TLS_REQUIRED };

/*
 * Which message bus a process speaks (proto/bus.h).  OpenSRF's files do
 * not say: <bus> (drover's key) names it, and when it is absent or
 * "auto" the port decides: 6379, Redis's own port and the one OpenSRF
 * main's example files use, means Redis, any other port XMPP.
 */
enum bus_kind { BUS_XMPP, BUS_REDIS, BUS_LOCAL };
enum bus_kind_conf { BUS_CONF_AUTO, BUS_CONF_XMPP, BUS_CONF_REDIS };
/* The port that selects Redis when <bus> is absent or "auto". */
#define BUS_REDIS_PORT	6379

/*
 * How to reach and log in to the message bus server; shared by every
 * role.  The same keys serve XMPP and Redis: Redis uses host (default
 * the domain), port, username, password (an ACL user), the timeouts and
 * max_stanza_size as its largest message; the XMPP-only keys (auth,
 * legacy_digest, tls*, resource) are ignored there.
 */
struct bus_conf {
	enum bus_kind	 kind;		/* <bus>, resolved (never BUS_LOCAL
					   from a file) */
	enum bus_kind_conf kind_conf;	/* <bus> as written */
	char		*host;		/* TCP host; default the domain */
	char		*domain;	/* JID / address domain */
	int		 port;		/* 1-65535, default 5222 */
	char		*username;
	char		*password;	/* cleared with explicit_bzero on free */
	char		*resource;	/* fixed resource (router), or NULL */
	enum xmpp_auth	 auth;		/* <auth>, default legacy */
	int		 legacy_digest;	/* <legacy_digest>: 1 digest, 0 plain */
	enum xmpp_tls	 tls;		/* <tls>, default optional (SASL only) */
	char		*tls_ca_file;	/* NULL = system store */
	int		 tls_verify;	/* verify the server certificate, 1 */
	size_t		 max_stanza_size; /* bytes, default 10 MiB */
	int		 connect_timeout_ms; /* default 10 s */
	int		 reconnect_max_ms; /* backoff cap, default 30 s */
	int		 register_refresh_ms; /* a listener registers again
					   every half to all of it; 0 off,
					   default 5 s (proto/bus.c) */
	int		 presence;	/* XMPP: send an initial presence */
	int		 presence_priority; /* with this priority, -128..127 */
};

/* Deep copy into dst (all strings duplicated); 0 or -ENOMEM. */
int	bus_conf_copy(struct bus_conf *dst, const struct bus_conf *src)
	    MUST_CHECK;
/* Free the strings (password cleared) and zero the struct. */
void	bus_conf_clear(struct bus_conf *);

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
	struct bus_conf  bus;
	char		 *router_name;	/* <router_name>, default "router" */
	struct reg_target *routers;
	size_t		  nrouters;
	char		 *logfile;	/* path, "stderr" or "syslog" */
	int		  loglevel;	/* 0-5, default 1 */
	int		  syslog_facility; /* default LOG_LOCAL0 */
	char		 *logtag;	/* NULL: the program name */
	int		  client;	/* <client>true: originate xids */
	char		 *settings_config; /* opensrf.xml, resolved */
	char		**log_protect;	/* shared/log_protect/match_string */
	size_t		  nlog_protect;
	unsigned	  scoreboard_mode; /* octal, default 0640 */
	char		 *user;		/* <user>: switch to it from root */
	char		 *group;	/* <group>; NULL: the user's */
	int		  allow_root;	/* <allow_root>: plugins may run as
					   root when no user is set */
};

/* Context `ctx` ("opensrf" for services, "srfsh", ...) of the file. */
int	core_conf_load(const char *path, const char *ctx,
	    struct core_conf **out, struct cfg_err *) MUST_CHECK;
int	core_conf_from_tree(const struct cfg_tree *, const char *ctx,
	    struct core_conf **out, struct cfg_err *) MUST_CHECK;
void	core_conf_free(struct core_conf **);
/* Should `service` register with router t?  (services list semantics) */
int	reg_target_wants(const struct reg_target *t, const char *service);
/*
 * Fill a log_conf from the core config; lc's strings point into cc and
 * live as long as it does.  Returns 0.
 */
int	core_conf_log(const struct core_conf *cc, struct log_conf *lc);

/* One <router> entry of context "routers" (spec 5.3). */
struct router_conf {
	struct bus_conf  bus;		/* transport/... keys */
	char		**trusted_servers;
	size_t		  ntrusted_servers;
	char		**trusted_clients;
	size_t		  ntrusted_clients;
	char		 *logfile;	/* default "stderr" */
	int		  loglevel;	/* default 1 */
	int		  syslog_facility;
	char		 *logtag;
	/* registration flood (issue 14), drover keys */
	int		  max_classes;	/* classes in all; 0 no limit; 512 */
	int		  max_classes_per_sender; /* 0 no limit; default 8 */
	int		  class_logins_per_second; /* XMPP, 1-10000; 20 */
	char		 *bridge;	/* domain of the entry on the other
					   bus to bridge with, or NULL */
	int		  ping_ms;	/* XMPP: ping a listener sent requests
					   not heard from in this; 0 off */
	int		  ping_timeout_ms; /* out of rotation after this
					   without an answer */
	char		 *user;		/* <user>: switch to it from root */
	char		 *group;	/* <group>; NULL: the user's */
	char		 *file;		/* where the entry is */
	int		  line;
};

/*
 * Every <router> entry under any <routers> element that has a
 * <transport> child (those without one are registration targets of
 * context opensrf, spec 2.1); *n set to their count.  No such entry is
 * -EINVAL.
 */
int	router_conf_load(const char *path, struct router_conf **out,
	    size_t *n, struct cfg_err *) MUST_CHECK;
int	router_conf_from_tree(const struct cfg_tree *,
	    struct router_conf **out, size_t *n, struct cfg_err *) MUST_CHECK;
void	router_conf_free(struct router_conf **, size_t n);
/* Fill a log_conf from one router entry, as core_conf_log(). */
int	router_conf_log(const struct router_conf *, struct log_conf *);

/* ---------------------------------------------------- opensrf.xml */

/* The absolute cap on children, the scoreboard's slot count. */
#define DROVER_MAX_CHILDREN	256

struct svc_conf {
	char	*name;
	char	*language;		/* lower case, "c", or NULL */
	char	*implementation;	/* plugin path or bare name */
	int	 keepalive;		/* s, session idle timeout, 1-3600, 5 */
	int	 stateless;		/* 0/1, default 0, informational */
	/* unix_config/..., OpenSRF's and drover's keys */
	int	 min_children;		/* 0-256, default 3 */
	int	 max_children;		/* 1-256, default 10, >= min */
	int	 min_spare_children;	/* 0-256, default 1 */
	int	 max_spare_children;	/* 1-256, default 5, > min_spare */
	int	 max_requests;		/* 1-10^9, default 1000 */
	int	 max_requests_jitter;	/* 0-10^9, default 0, < max_requests */
	int	 max_backlog_queue;	/* 0-10^6, default 1000 */
	int	 max_backlog_queue_set;	/* 1: the file sets it (Redis: unset
					   is no bound on the service queue) */
	int	 request_timeout;	/* s, 0 = off, default 0 */
	int	 slow_request_ms;	/* 0 = off, default 0 */
	int	 graceful_timeout;	/* s, 0-3600, default 30 */
	size_t	 max_request_size;	/* bytes, default 10 MiB */
	/* recycling (mpm/mpm_recycle.h); 0 = off for each */
	int	 max_rss_growth_kb;	/* KiB over the post-init RSS */
	int	 max_rss_kb;		/* KiB, absolute */
	int	 max_child_lifetime;	/* s */
	int	 max_child_lifetime_jitter; /* s, < max_child_lifetime */
	int	 max_sessions_per_client; /* 0-256; 0: max_children / 2 */
	int	 max_queued_per_client;	/* 0-10^6; 0: max_backlog_queue / 2 */
	int	 max_connect_wait;	/* s a CONNECT may wait; 0 off, 5 */
	json_t	*app_settings;		/* owned; JSON null if absent */
	char   **cache_servers;		/* cache/global/servers/server, split
					   at commas; NULL-terminated */
	size_t	 ncache_servers;
	int	 max_cache_time;	/* s, default 86400 */
	char	*pid_dir;		/* dirs/pid, or NULL */
	char	*file;			/* where apps/<svc> is, for messages */
	int	 line;
};

/*
 * Service `service` for `host` from opensrf.xml at `path`, ranges and
 * svc_conf_validate() checked.  -ENOENT with err filled when the service
 * has no <apps> entry.  Other languages than C load too (OpenSRF lists
 * Perl services beside C ones): the caller checks `language`.  An unset
 * max_spare_children is raised to min_spare_children + 1 when needed,
 * as OpenSRF's Perl server does.
 */
int	svc_conf_load(const char *path, const char *host,
	    const char *service, struct svc_conf **out,
	    struct cfg_err *) MUST_CHECK;
/* The same from a tree made by cfg_merge_host(). */
int	svc_conf_from_tree(const struct cfg_tree *merged,
	    const char *service, struct svc_conf **out,
	    struct cfg_err *) MUST_CHECK;
void	svc_conf_free(struct svc_conf **);
/* Cross-key checks (min <= max, ...), pure; fills err. */
int	svc_conf_validate(const struct svc_conf *, struct cfg_err *)
	    MUST_CHECK;
/*
 * activeapps/appname for host: a NULL-terminated array the caller frees
 * with cfg_strv_free(); an empty list is an array holding only NULL.
 */
int	cfg_active_apps(const char *path, const char *host, char ***out,
	    struct cfg_err *) MUST_CHECK;
int	cfg_active_apps_tree(const struct cfg_tree *merged, char ***out,
	    struct cfg_err *) MUST_CHECK;

#endif /* DROVER_CFG_H */
