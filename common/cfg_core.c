/*
 * cfg_core.c: the opensrf_core.xml views (cfg.h, layer 3): struct
 * core_conf for a context such as "opensrf", and struct router_conf for
 * each router daemon entry of context "routers".
 *
 * Layout: the key tables (transport keys drover adds, then the core
 * context, then a router entry); bus_conf helpers; registration
 * targets; core_conf; router_conf.
 *
 * Two shapes of <router> share one file (spec 2.1, 5.2): under
 * <opensrf><routers> they are registration targets, a bare domain or
 * {name, domain, services}; under the top-level <routers> they are
 * router daemons and carry a <transport>.  OpenSRF tells them apart only
 * by that <transport> child, and so do we.
 */
#include "cfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

/*
 * Transport bounds.  A stanza below 4 KiB could not carry a modest
 * request; above 1 GiB one client could pin that much memory in every
 * process that reads it.  Timeouts past an hour are a typo, not a plan.
 */
#define STANZA_MIN	4096LL
#define STANZA_MAX	(1024LL * 1024 * 1024)
#define STANZA_DEF	(10LL * 1024 * 1024)
#define TIMEOUT_MAX	3600
#define XMPP_PORT	5222

static const char *const auth_names[] = { "legacy", "sasl", "auto", NULL };
static const char *const bus_names[] = { "auto", "xmpp", "redis", NULL };
static const char *const tls_names[] = {
	"off", "optional", "required", NULL
};

_Static_assert(sizeof(enum xmpp_auth) == sizeof(int), "enum as int");
_Static_assert(sizeof(enum xmpp_tls) == sizeof(int), "enum as int");
_Static_assert(sizeof(enum bus_kind_conf) == sizeof(int), "enum as int");

#define XK(field)	offsetof(struct bus_conf, field)

/* drover's transport keys, relative to <opensrf> or <transport>. */
static const struct cfg_key bus_keys[] = {
	{ "bus", CFG_T_ENUM, CFG_K_DROVER, 0, 0, BUS_CONF_AUTO, NULL,
	  bus_names, XK(kind_conf), "message bus: auto (Redis on port 6379, "
	  "else XMPP), xmpp, redis" },
	{ "host", CFG_T_STR, CFG_K_DROVER, 0, 0, 0, NULL, NULL, XK(host),
	  "TCP host of the XMPP server; default the domain" },
	{ "auth", CFG_T_ENUM, CFG_K_DROVER, 0, 0, XMPP_AUTH_LEGACY, NULL,
	  auth_names, XK(auth), "login method: legacy (iq:auth), sasl, auto" },
	{ "legacy_digest", CFG_T_BOOL, CFG_K_DROVER, 0, 1, 1, NULL, NULL,
	  XK(legacy_digest), "legacy login sends a digest, not the password" },
	{ "tls", CFG_T_ENUM, CFG_K_DROVER, 0, 0, XMPP_TLS_OPTIONAL, NULL,
	  tls_names, XK(tls), "STARTTLS: off, optional, required" },
	{ "tls_ca_file", CFG_T_STR, CFG_K_DROVER, 0, 0, 0, NULL, NULL,
	  XK(tls_ca_file), "CA bundle; default the system store" },
	{ "tls_verify", CFG_T_BOOL, CFG_K_DROVER, 0, 1, 1, NULL, NULL,
	  XK(tls_verify), "verify the server certificate" },
	{ "max_stanza_size", CFG_T_SIZE, CFG_K_DROVER, STANZA_MIN, STANZA_MAX,
	  STANZA_DEF, NULL, NULL, XK(max_stanza_size),
	  "largest stanza accepted, bytes" },
	{ "connect_timeout", CFG_T_MS, CFG_K_DROVER, 1, TIMEOUT_MAX, 10, NULL,
	  NULL, XK(connect_timeout_ms), "seconds to connect and log in" },
	{ "reconnect_max", CFG_T_MS, CFG_K_DROVER, 1, TIMEOUT_MAX, 30, NULL,
	  NULL, XK(reconnect_max_ms), "cap of the reconnect backoff, s" },
	{ "register_refresh", CFG_T_MS, CFG_K_DROVER, 0, TIMEOUT_MAX, 5, NULL,
	  NULL, XK(register_refresh_ms),
	  "a service registers again every s/2 to s; 0 off" },
	{ "presence_priority", CFG_T_INT, CFG_K_DROVER, -128, 127, 0, NULL,
	  NULL, XK(presence_priority),
	  "XMPP: announce with this priority; absent: no presence (OpenSRF)" },
};

#define CK(field)	offsetof(struct core_conf, field)

/* Context "opensrf" (or "srfsh", "gateway", ...), spec 5.2. */
static const struct cfg_key core_keys[] = {
	{ "domain", CFG_T_STR, CFG_K_REQUIRED | CFG_K_FIRST, 0, 0, 0, NULL,
	  NULL, CK(bus.domain), "bus domain (and host unless <host>); the "
	  "first if repeated" },
	{ "username", CFG_T_STR, CFG_K_REQUIRED, 0, 0, 0, NULL, NULL,
	  CK(bus.username), "bus user name (XMPP account or Redis ACL user)" },
	{ "passwd", CFG_T_STR, CFG_K_REQUIRED | CFG_K_SECRET, 0, 0, 0, NULL,
	  NULL, CK(bus.password), "bus password" },
	{ "port", CFG_T_INT, 0, 1, 65535, XMPP_PORT, NULL, NULL,
	  CK(bus.port), "bus TCP port (6379: Redis)" },
	{ "router_name", CFG_T_STR, 0, 0, 0, 0, "router", NULL,
	  CK(router_name), "router account for bare-domain routers" },
	{ "logfile", CFG_T_STR, 0, 0, 0, 0, "stderr", NULL, CK(logfile),
	  "log file path, stderr or syslog" },
	{ "loglevel", CFG_T_INT, 0, LOGL_NONE, LOGL_INTERNAL, LOGL_ERROR, NULL,
	  NULL, CK(loglevel), "0 none .. 5 internal" },
	{ "syslog", CFG_T_FACILITY, 0, 0, 0, LOG_LOCAL0, NULL, NULL,
	  CK(syslog_facility), "syslog facility" },
	{ "logtag", CFG_T_STR, 0, 0, 0, 0, NULL, NULL, CK(logtag),
	  "syslog ident; default the program name" },
	{ "client", CFG_T_BOOL, 0, 0, 1, 0, NULL, NULL, CK(client),
	  "originating client: generate osrf_xid" },
	{ "settings_config", CFG_T_STR, 0, 0, 0, 0, "opensrf.xml", NULL,
	  CK(settings_config), "opensrf.xml; relative to this file" },
	{ "scoreboard_mode", CFG_T_MODE, CFG_K_DROVER, 0, 0777, 0640, NULL,
	  NULL, CK(scoreboard_mode), "scoreboard segment permissions" },
	{ "user", CFG_T_STR, CFG_K_DROVER, 0, 0, 0, NULL, NULL, CK(user),
	  "user droverd switches to when started as root" },
	{ "group", CFG_T_STR, CFG_K_DROVER, 0, 0, 0, NULL, NULL, CK(group),
	  "group for <user>; default the user's own" },
	{ "allow_root", CFG_T_BOOL, CFG_K_DROVER, 0, 1, 0, NULL, NULL,
	  CK(allow_root), "let plugins run as root when no <user> is set" },
};

#define RK(field)	offsetof(struct router_conf, field)

/* One router daemon, relative to its <router> element, spec 5.3. */
static const struct cfg_key router_keys[] = {
	{ "transport/server", CFG_T_STR, CFG_K_REQUIRED, 0, 0, 0, NULL, NULL,
	  RK(bus.domain), "bus domain (and host unless transport/host)" },
	{ "transport/port", CFG_T_INT, 0, 1, 65535, XMPP_PORT, NULL, NULL,
	  RK(bus.port), "bus TCP port (6379: Redis)" },
	{ "transport/username", CFG_T_STR, CFG_K_REQUIRED, 0, 0, 0, NULL, NULL,
	  RK(bus.username), "router's bus user name" },
	{ "transport/password", CFG_T_STR, CFG_K_REQUIRED | CFG_K_SECRET, 0, 0,
	  0, NULL, NULL, RK(bus.password), "router's bus password" },
	{ "transport/resource", CFG_T_STR, 0, 0, 0, 0, "router", NULL,
	  RK(bus.resource), "must be \"router\"" },
	{ "logfile", CFG_T_STR, 0, 0, 0, 0, "stderr", NULL, RK(logfile),
	  "log file path, stderr or syslog" },
	{ "loglevel", CFG_T_INT, 0, LOGL_NONE, LOGL_INTERNAL, LOGL_ERROR, NULL,
	  NULL, RK(loglevel), "0 none .. 5 internal" },
	{ "syslog", CFG_T_FACILITY, 0, 0, 0, LOG_LOCAL0, NULL, NULL,
	  RK(syslog_facility), "syslog facility" },
	{ "logtag", CFG_T_STR, 0, 0, 0, 0, NULL, NULL, RK(logtag),
	  "syslog ident; default the program name" },
	{ "max_classes", CFG_T_INT, CFG_K_DROVER, 0, 100000, 512, NULL, NULL,
	  RK(max_classes), "classes registered in all; 0 no limit" },
	{ "max_classes_per_sender", CFG_T_INT, CFG_K_DROVER, 0, 100000, 8,
	  NULL, NULL, RK(max_classes_per_sender),
	  "classes one registrant may hold; 0 no limit" },
	{ "class_logins_per_second", CFG_T_INT, CFG_K_DROVER, 1, 10000, 20,
	  NULL, NULL, RK(class_logins_per_second),
	  "XMPP: class address logins started per second" },
	{ "listener_ping", CFG_T_MS, CFG_K_DROVER, 0, TIMEOUT_MAX, 2, NULL,
	  NULL, RK(ping_ms), "XMPP: ping a listener sent requests and not "
	  "heard from in this many s; 0 off" },
	{ "listener_ping_timeout", CFG_T_MS, CFG_K_DROVER, 1, TIMEOUT_MAX, 3,
	  NULL, NULL, RK(ping_timeout_ms),
	  "XMPP: out of the rotation when a ping is unanswered this long, s" },
	{ "bridge", CFG_T_STR, CFG_K_DROVER, 0, 0, 0, NULL, NULL, RK(bridge),
	  "domain of the <router> on the other bus to forward to and from" },
	{ "user", CFG_T_STR, CFG_K_DROVER, 0, 0, 0, NULL, NULL, RK(user),
	  "user drover-router switches to when started as root" },
	{ "group", CFG_T_STR, CFG_K_DROVER, 0, 0, 0, NULL, NULL, RK(group),
	  "group for <user>; default the user's own" },
};

const struct cfg_key *
cfg_keys_bus(size_t *n)
{
	*n = ARRAY_LEN(bus_keys);
	return bus_keys;
}

const struct cfg_key *
cfg_keys_core(size_t *n)
{
	*n = ARRAY_LEN(core_keys);
	return core_keys;
}

const struct cfg_key *
cfg_keys_router(size_t *n)
{
	*n = ARRAY_LEN(router_keys);
	return router_keys;
}

/* ------------------------------------------------------------- xmpp */

void
bus_conf_clear(struct bus_conf *x)
{
	if (x == NULL)
		return;
	if (x->password != NULL)
		explicit_bzero(x->password, strlen(x->password));
	free(x->host);
	free(x->domain);
	free(x->username);
	free(x->password);
	free(x->resource);
	free(x->tls_ca_file);
	memset(x, 0, sizeof(*x));
}

static int
dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src != NULL && (*dst = strdup(src)) == NULL)
		return -ENOMEM;
	return 0;
}

int
bus_conf_copy(struct bus_conf *dst, const struct bus_conf *src)
{
	*dst = *src;
	dst->host = dst->domain = dst->username = dst->password = NULL;
	dst->resource = dst->tls_ca_file = NULL;
	if (dup_opt(&dst->host, src->host) != 0 ||
	    dup_opt(&dst->domain, src->domain) != 0 ||
	    dup_opt(&dst->username, src->username) != 0 ||
	    dup_opt(&dst->password, src->password) != 0 ||
	    dup_opt(&dst->resource, src->resource) != 0 ||
	    dup_opt(&dst->tls_ca_file, src->tls_ca_file) != 0) {
		bus_conf_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

/*
 * The drover keys at base (the port is loaded already), then the bus
 * kind is resolved (cfg.h: enum bus_kind) and host defaults to the
 * domain.
 */
static int
bus_load(const struct cfg_node *base, struct bus_conf *x,
    struct cfg_err *err)
{
	int	rc;

	if ((rc = cfg_table_load(base, bus_keys, ARRAY_LEN(bus_keys), x,
	    err)) != 0)
		return rc;
	/* absent is "no presence", as OpenSRF: not priority 0 */
	x->presence = cfg_get(base, "presence_priority") != NULL &&
	    cfg_get(base, "presence_priority")->text != NULL &&
	    *cfg_get(base, "presence_priority")->text != '\0';
	switch (x->kind_conf) {
	case BUS_CONF_XMPP:
		x->kind = BUS_XMPP;
		break;
	case BUS_CONF_REDIS:
		x->kind = BUS_REDIS;
		break;
	case BUS_CONF_AUTO:
	default:
		x->kind = x->port == BUS_REDIS_PORT ? BUS_REDIS : BUS_XMPP;
		break;
	}
	if (x->host == NULL && dup_opt(&x->host, x->domain) != 0) {
		cfg_errf(err, base, NULL, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------- registration */

int
reg_target_wants(const struct reg_target *t, const char *service)
{
	size_t	i;

	if (t->nservices == 0)
		return 1;
	for (i = 0; i < t->nservices; i++)
		if (strcmp(t->services[i], service) == 0)
			return 1;
	return 0;
}

static void
reg_target_clear(struct reg_target *t)
{
	free(t->name);
	free(t->domain);
	cfg_strv_free(&t->services);
	t->name = t->domain = NULL;
	t->nservices = 0;
}

static int
reg_target_load(const struct cfg_node *n, const char *router_name,
    struct reg_target *t, struct cfg_err *err)
{
	const char	*name, *domain;
	int		 rc;

	if (n->child == NULL) {
		/* Bare domain: <router>private.localhost</router>. */
		name = router_name;
		domain = n->text;
	} else {
		if ((rc = cfg_str(n, "name", NULL, &name, err)) != 0 ||
		    (rc = cfg_str(n, "domain", NULL, &domain, err)) != 0)
			return rc;
		if (name == NULL || domain == NULL) {
			cfg_err_missing(err, n, name == NULL ? "name" :
			    "domain");
			return -EINVAL;
		}
		if ((rc = cfg_strv(n, "services/service", &t->services,
		    &t->nservices, err)) != 0)
			return rc;
		if (t->nservices == 0)
			cfg_strv_free(&t->services);
	}
	if (domain == NULL || *domain == '\0') {
		cfg_errf(err, n, NULL, "expected a domain or "
		    "<name>, <domain> and optional <services>, got nothing");
		return -EINVAL;
	}
	if ((t->name = strdup(name)) == NULL ||
	    (t->domain = strdup(domain)) == NULL) {
		cfg_errf(err, n, NULL, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/*
 * routers/router in either form.  With no <routers> at all, register
 * with <router_name>@<domain>: a service must register somewhere, and
 * that is the router a client of this file would call.
 */
static int
core_routers(const struct cfg_node *ctx, struct core_conf *cc,
    struct cfg_err *err)
{
	const struct cfg_node	**nodes;
	size_t			  total, i;
	int			  rc = 0;

	total = cfg_get_all(ctx, "routers/router", NULL, 0);
	if (total == 0) {
		if ((cc->routers = calloc(1, sizeof(*cc->routers))) == NULL ||
		    (cc->routers[0].name = strdup(cc->router_name)) == NULL ||
		    (cc->routers[0].domain = strdup(cc->bus.domain)) ==
		    NULL) {
			cc->nrouters = cc->routers != NULL;
			cfg_errf(err, ctx, NULL, "out of memory");
			return -ENOMEM;
		}
		cc->nrouters = 1;
		return 0;
	}
	if ((nodes = calloc(total, sizeof(*nodes))) == NULL ||
	    (cc->routers = calloc(total, sizeof(*cc->routers))) == NULL) {
		free(nodes);
		cfg_errf(err, ctx, NULL, "out of memory");
		return -ENOMEM;
	}
	cfg_get_all(ctx, "routers/router", nodes, total);
	cc->nrouters = total;
	for (i = 0; i < total; i++)
		if ((rc = reg_target_load(nodes[i], cc->router_name,
		    &cc->routers[i], err)) != 0)
			break;
	free(nodes);
	return rc;
}

/* ------------------------------------------------------------- core */

void
core_conf_free(struct core_conf **ccp)
{
	struct core_conf	*cc;
	size_t			 i;

	if (ccp == NULL || (cc = *ccp) == NULL)
		return;
	bus_conf_clear(&cc->bus);
	cfg_table_free(core_keys, ARRAY_LEN(core_keys), cc);
	for (i = 0; i < cc->nrouters; i++)
		reg_target_clear(&cc->routers[i]);
	free(cc->routers);
	cfg_strv_free(&cc->log_protect);
	free(cc->path);
	free(cc);
	*ccp = NULL;
}

/* A relative settings_config is relative to the core file's directory. */
static int
resolve_settings(struct core_conf *cc, const char *corefile)
{
	const char	*slash = strrchr(corefile, '/');
	char		*p;

	if (cc->settings_config[0] == '/' || slash == NULL)
		return 0;
	if (asprintf(&p, "%.*s/%s", (int)(slash - corefile), corefile,
	    cc->settings_config) == -1)
		return -ENOMEM;
	free(cc->settings_config);
	cc->settings_config = p;
	return 0;
}

int
core_conf_from_tree(const struct cfg_tree *t, const char *ctxname,
    struct core_conf **out, struct cfg_err *err)
{
	const struct cfg_node	*ctx;
	struct core_conf	*cc;
	int			 rc;

	if ((ctx = cfg_context(t, ctxname)) == NULL) {
		cfg_errf(err, cfg_root(t), NULL, "no <%s> section", ctxname);
		return -EINVAL;
	}
	if ((cc = calloc(1, sizeof(*cc))) == NULL ||
	    (cc->path = strdup(cfg_tree_file(t))) == NULL) {
		free(cc);
		cfg_errf(err, ctx, NULL, "out of memory");
		return -ENOMEM;
	}
	if ((rc = cfg_table_load(ctx, core_keys, ARRAY_LEN(core_keys), cc,
	    err)) != 0 ||
	    (rc = bus_load(ctx, &cc->bus, err)) != 0 ||
	    (rc = core_routers(ctx, cc, err)) != 0 ||
	    (rc = cfg_strv(cfg_context(t, "shared"),
	    "log_protect/match_string", &cc->log_protect, &cc->nlog_protect,
	    err)) != 0)
		goto fail;
	if (resolve_settings(cc, cfg_tree_file(t)) != 0) {
		cfg_errf(err, ctx, NULL, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	*out = cc;
	return 0;
fail:
	core_conf_free(&cc);
	return rc;
}

int
core_conf_load(const char *path, const char *ctx, struct core_conf **out,
    struct cfg_err *err)
{
	struct cfg_tree	*t;
	int		 rc;

	if ((rc = cfg_load(path, &t, err)) != 0)
		return rc;
	rc = core_conf_from_tree(t, ctx, out, err);
	cfg_tree_free(&t);
	return rc;
}

int
core_conf_log(const struct core_conf *cc, struct log_conf *lc)
{
	lc->file = cc->logfile;
	lc->level = cc->loglevel;
	lc->facility = cc->syslog_facility;
	lc->tag = cc->logtag;
	return 0;
}

/* ----------------------------------------------------------- router */

static void
router_clear(struct router_conf *r)
{
	bus_conf_clear(&r->bus);
	cfg_table_free(router_keys, ARRAY_LEN(router_keys), r);
	cfg_strv_free(&r->trusted_servers);
	cfg_strv_free(&r->trusted_clients);
	free(r->file);
	r->file = NULL;
}

void
router_conf_free(struct router_conf **rp, size_t n)
{
	size_t	i;

	if (rp == NULL || *rp == NULL)
		return;
	for (i = 0; i < n; i++)
		router_clear(&(*rp)[i]);
	free(*rp);
	*rp = NULL;
}

static int
trusted_list(const struct cfg_node *rn, const char *path, char ***v,
    size_t *n, struct cfg_err *err)
{
	int	rc;

	if ((rc = cfg_strv(rn, path, v, n, err)) != 0)
		return rc;
	if (*n == 0) {
		/* The router would drop every stanza (spec 2.4). */
		cfg_errf(err, rn, NULL, "%s: at least one domain is "
		    "required", path);
		return -EINVAL;
	}
	return 0;
}

static int
router_entry(const struct cfg_node *rn, struct router_conf *r,
    struct cfg_err *err)
{
	const struct cfg_node	*tn = cfg_child(rn, "transport");
	int			 rc;

	r->line = rn->line;
	if ((r->file = strdup(rn->file)) == NULL) {
		cfg_errf(err, rn, NULL, "out of memory");
		return -ENOMEM;
	}
	if ((rc = cfg_table_load(rn, router_keys, ARRAY_LEN(router_keys), r,
	    err)) != 0 || (rc = bus_load(tn, &r->bus, err)) != 0)
		return rc;
	/* Listeners address routers as name@domain/router (spec 2.1). */
	if (strcmp(r->bus.resource, "router") != 0) {
		cfg_errf(err, cfg_get(rn, "transport/resource"), NULL,
		    "expected \"router\" (services send to "
		    "<name>@<domain>/router), got \"%.60s\"", r->bus.resource);
		return -EINVAL;
	}
	if ((rc = trusted_list(rn, "trusted_domains/server",
	    &r->trusted_servers, &r->ntrusted_servers, err)) != 0 ||
	    (rc = trusted_list(rn, "trusted_domains/client",
	    &r->trusted_clients, &r->ntrusted_clients, err)) != 0)
		return rc;
	return 0;
}

/* Every <router> with a <transport> under any <routers>, in order. */
static size_t
find_routers(const struct cfg_node *n, const struct cfg_node **out,
    size_t max, size_t found)
{
	const struct cfg_node	*c;

	if (strcmp(n->name, "routers") == 0)
		for (c = n->child; c != NULL; c = c->next)
			if (strcmp(c->name, "router") == 0 &&
			    cfg_child(c, "transport") != NULL) {
				if (found < max)
					out[found] = c;
				found++;
			}
	for (c = n->child; c != NULL; c = c->next)
		found = find_routers(c, out, max, found);
	return found;
}

int
router_conf_from_tree(const struct cfg_tree *t, struct router_conf **out,
    size_t *np, struct cfg_err *err)
{
	const struct cfg_node	**nodes;
	struct router_conf	 *rv;
	size_t			  total, i;
	int			  rc = 0;

	if (cfg_root(t) == NULL)
		return -EINVAL;
	total = find_routers(cfg_root(t), NULL, 0, 0);
	if (total == 0) {
		cfg_errf(err, cfg_root(t), NULL, "no <routers><router> entry "
		    "with a <transport>");
		return -EINVAL;
	}
	nodes = calloc(total, sizeof(*nodes));
	rv = calloc(total, sizeof(*rv));
	if (nodes == NULL || rv == NULL) {
		free(nodes);
		free(rv);
		cfg_errf(err, cfg_root(t), NULL, "out of memory");
		return -ENOMEM;
	}
	find_routers(cfg_root(t), nodes, total, 0);
	for (i = 0; i < total; i++)
		if ((rc = router_entry(nodes[i], &rv[i], err)) != 0)
			break;
	free(nodes);
	if (rc != 0) {
		router_conf_free(&rv, total);
		return rc;
	}
	*out = rv;
	*np = total;
	return 0;
}

int
router_conf_load(const char *path, struct router_conf **out, size_t *n,
    struct cfg_err *err)
{
	struct cfg_tree	*t;
	int		 rc;

	if ((rc = cfg_load(path, &t, err)) != 0)
		return rc;
	rc = router_conf_from_tree(t, out, n, err);
	cfg_tree_free(&t);
	return rc;
}

int
router_conf_log(const struct router_conf *r, struct log_conf *lc)
{
	lc->file = r->logfile;
	lc->level = r->loglevel;
	lc->facility = r->syslog_facility;
	lc->tag = r->logtag;
	return 0;
}
