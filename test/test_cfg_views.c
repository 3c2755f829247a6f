/*
 * test_cfg_views.c: the typed views of common/cfg_core.c and
 * common/cfg_svc.c: the example files in conf/ load and validate, both
 * router forms and their services filter, required keys, ranges (the
 * message carries the range), the default+host merge as a service sees
 * it, and drover-config(5) naming every key of every table.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cfg.h"
#include "log.h"
#include "th_cfg.h"

/* ------------------------------------------------------------- core */

START_TEST(test_core_example)
{
	struct core_conf	*cc = NULL;
	struct cfg_err		 err = { "" };
	struct log_conf		 lc;
	char			*want;

	ck_assert_msg(core_conf_load(th_path("conf/opensrf_core.xml"),
	    "opensrf", &cc, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(cc->bus.domain, "private.localhost");
	ck_assert_str_eq(cc->bus.host, "127.0.0.1");
	ck_assert_str_eq(cc->bus.username, "opensrf");
	ck_assert_str_eq(cc->bus.password, "password");
	ck_assert_ptr_null(cc->bus.resource);
	ck_assert_int_eq(cc->bus.port, 5222);
	ck_assert_int_eq(cc->bus.auth, XMPP_AUTH_LEGACY);
	ck_assert_int_eq(cc->bus.legacy_digest, 1);
	ck_assert_int_eq(cc->bus.tls, XMPP_TLS_OPTIONAL);
	ck_assert_str_eq(cc->bus.tls_ca_file,
	    "/etc/ssl/certs/ca-certificates.crt");
	ck_assert_int_eq(cc->bus.tls_verify, 1);
	ck_assert_uint_eq(cc->bus.max_stanza_size, 10485760);
	ck_assert_int_eq(cc->bus.connect_timeout_ms, 10000);
	ck_assert_int_eq(cc->bus.reconnect_max_ms, 30000);
	ck_assert_str_eq(cc->router_name, "router");
	ck_assert_uint_eq(cc->nrouters, 2);
	ck_assert_str_eq(cc->routers[0].domain, "public.localhost");
	ck_assert_uint_eq(cc->routers[0].nservices, 2);
	ck_assert_str_eq(cc->routers[1].name, "router");
	ck_assert_str_eq(cc->routers[1].domain, "private.localhost");
	ck_assert_str_eq(cc->logfile, "/var/log/drover/osrfsys.log");
	ck_assert_int_eq(cc->loglevel, 3);
	ck_assert_int_eq(cc->syslog_facility, LOG_LOCAL0);
	ck_assert_str_eq(cc->logtag, "drover");
	ck_assert_int_eq(cc->client, 1);
	want = xasprintf("%s", th_path("conf/opensrf.xml"));
	ck_assert_str_eq(cc->settings_config, want);
	free(want);
	ck_assert_uint_eq(cc->nlog_protect, 2);
	ck_assert_str_eq(cc->log_protect[0], "open-ils.auth");
	ck_assert_str_eq(cc->user, "opensrf");
	ck_assert_str_eq(cc->group, "opensrf");
	ck_assert_int_eq(cc->allow_root, 0);
	ck_assert_uint_eq(cc->scoreboard_mode, 0640);
	ck_assert_int_eq(core_conf_log(cc, &lc), 0);
	ck_assert_str_eq(lc.file, cc->logfile);
	ck_assert_int_eq(lc.level, 3);
	ck_assert_int_eq(lc.facility, LOG_LOCAL0);
	ck_assert_str_eq(lc.tag, "drover");
	core_conf_free(&cc);
	ck_assert_ptr_null(cc);
	core_conf_free(&cc);
}
END_TEST

/* Both router forms, the services filter, context selection. */
START_TEST(test_core_forms)
{
	struct core_conf	*cc = NULL;
	struct cfg_err		 err = { "" };
	char			*p, *want;
	size_t			 i;
	static const struct {
		const char	*name, *domain, *svc;
		int		 wants;
	} exp[] = {
		{ "pubrouter", "public.localhost", "opensrf.math", 1 },
		{ "myrouter", "private.localhost", "anything", 1 },
		{ "other", "other.localhost", "opensrf.math", 0 },
		{ "all", "all.localhost", "drover.test", 1 },
	};

	p = xstrdup(th_path("test/data/core_forms.xml"));
	ck_assert_msg(core_conf_load(p, "opensrf", &cc, &err) == 0, "%s",
	    err.msg);
	ck_assert_uint_eq(cc->nrouters, ARRAY_LEN(exp));
	for (i = 0; i < ARRAY_LEN(exp); i++) {
		ck_assert_str_eq(cc->routers[i].name, exp[i].name);
		ck_assert_str_eq(cc->routers[i].domain, exp[i].domain);
		ck_assert_int_eq(reg_target_wants(&cc->routers[i], exp[i].svc),
		    exp[i].wants);
	}
	ck_assert_int_eq(reg_target_wants(&cc->routers[0], "opensrf.dbmath"),
	    0);
	ck_assert_int_eq(reg_target_wants(&cc->routers[2], "drover.cache"),
	    1);
	ck_assert_ptr_null(cc->routers[1].services);
	/* First match for scalars; defaults for what is absent. */
	ck_assert_str_eq(cc->bus.domain, "private.localhost");
	ck_assert_str_eq(cc->bus.host, "private.localhost");
	ck_assert_int_eq(cc->bus.port, 5223);
	ck_assert_int_eq(cc->loglevel, LOGL_ERROR);
	ck_assert_int_eq(cc->syslog_facility, LOG_LOCAL3);
	ck_assert_ptr_null(cc->logtag);
	ck_assert_int_eq(cc->client, 0);
	ck_assert_int_eq(cc->bus.auth, XMPP_AUTH_LEGACY);
	ck_assert_int_eq(cc->bus.tls, XMPP_TLS_OPTIONAL);
	ck_assert_uint_eq(cc->bus.max_stanza_size, 10 * 1024 * 1024);
	ck_assert_uint_eq(cc->scoreboard_mode, 0640);
	ck_assert_str_eq(cc->path, p);
	want = xasprintf("%s", th_path("test/data/sub/opensrf.xml"));
	ck_assert_str_eq(cc->settings_config, want);
	free(want);
	core_conf_free(&cc);

	/* Another context of the same file. */
	ck_assert_int_eq(core_conf_load(p, "srfsh", &cc, &err), 0);
	ck_assert_str_eq(cc->bus.domain, "srfsh.localhost");
	ck_assert_str_eq(cc->settings_config, "/etc/abs/opensrf.xml");
	ck_assert_int_eq(cc->client, 1);
	/* No <routers>: register with <router_name>@<domain>. */
	ck_assert_uint_eq(cc->nrouters, 1);
	ck_assert_str_eq(cc->routers[0].name, "router");
	ck_assert_str_eq(cc->routers[0].domain, "srfsh.localhost");
	ck_assert_uint_eq(cc->nlog_protect, 1);
	core_conf_free(&cc);

	ck_assert_int_eq(core_conf_load(p, "nosuch", &cc, &err), -EINVAL);
	ck_assert_ptr_null(cc);
	ck_assert_msg(th_contains(err.msg, "core_forms.xml:3: config: "
	    "no <nosuch> section", NULL), "%s", err.msg);
	ck_assert_int_eq(core_conf_load("/nonexistent.xml", "opensrf", &cc,
	    &err), -ENOENT);
	free(p);
}
END_TEST

#define CORE_HEAD "<config><opensrf><domain>d</domain><username>u</username>" \
	"<passwd>p</passwd>"
#define CORE_TAIL "</opensrf></config>"

static const struct {
	const char	*body;		/* between CORE_HEAD and CORE_TAIL */
	const char	*msg;		/* error substring; NULL: loads */
} core_bad[] = {
	{ "", NULL },
	{ "<port>70000</port>",
	  "opensrf/port: expected an integer from 1 to 65535, got \"70000\"" },
	{ "<port>http</port>", "got \"http\"" },
	{ "<loglevel>9</loglevel>", "expected an integer from 0 to 5" },
	{ "<syslog>kern7</syslog>", "opensrf/syslog: expected a syslog "
	  "facility (local0 to local7, daemon, user), got \"kern7\"" },
	{ "<client>sometimes</client>", "opensrf/client: expected a boolean" },
	{ "<auth>kerberos</auth>", "opensrf/auth: expected one of legacy, "
	  "sasl, auto, got \"kerberos\"" },
	{ "<auth>SASL</auth>", NULL },
	{ "<tls>maybe</tls>", "expected one of off, optional, required" },
	{ "<legacy_digest>2</legacy_digest>", "expected a boolean" },
	{ "<max_stanza_size>100</max_stanza_size>", "opensrf/max_stanza_size: "
	  "expected an integer from 4096 to 1073741824, got \"100\"" },
	{ "<connect_timeout>0</connect_timeout>",
	  "expected an integer from 1 to 3600" },
	{ "<reconnect_max>99999</reconnect_max>",
	  "expected an integer from 1 to 3600" },
	{ "<scoreboard_mode>0999</scoreboard_mode>", "opensrf/scoreboard_mode: "
	  "expected an octal mode from 0000 to 0777, got \"0999\"" },
	{ "<scoreboard_mode>1777</scoreboard_mode>", "octal mode" },
	{ "<scoreboard_mode>rw-r</scoreboard_mode>", "octal mode" },
	{ "<scoreboard_mode>0600</scoreboard_mode>", NULL },
	{ "<routers><router/></routers>",
	  "opensrf/routers/router: expected a domain" },
	{ "<routers><router><name>r</name></router></routers>",
	  "opensrf/routers/router/domain: required key is missing" },
	{ "<routers><router><domain>x</domain></router></routers>",
	  "opensrf/routers/router/name: required key is missing" },
	{ "<routers><router><name>r</name><domain>x</domain><services>"
	  "<service><a/></service></services></router></routers>",
	  "services/service: expected a string" },
	{ "<router_name><x/></router_name>",
	  "opensrf/router_name: expected a string" },
	/* empty typed keys are errors, not defaults */
	{ "<port/>", "opensrf/port: expected an integer from 1 to 65535, "
	  "got an empty element" },
	{ "<loglevel></loglevel>", "opensrf/loglevel: expected an integer "
	  "from 0 to 5, got an empty element" },
	{ "<client/>", "opensrf/client: expected a boolean" },
	{ "<syslog/>", "opensrf/syslog: expected a syslog facility" },
	{ "<tls/>", "opensrf/tls: expected one of off, optional, required, "
	  "got an empty element" },
	{ "<scoreboard_mode/>", "opensrf/scoreboard_mode: expected an octal "
	  "mode from 0000 to 0777, got an empty element" },
	{ "<connect_timeout/>", "opensrf/connect_timeout: expected an "
	  "integer from 1 to 3600, got an empty element" },
	/* drover's own strings too; OpenSRF's may be empty (<pid/>) */
	{ "<host/>", "opensrf/host: expected a string, got an empty element" },
	{ "<tls_ca_file/>", "opensrf/tls_ca_file: expected a string, got an "
	  "empty element" },
	{ "<logtag/>", NULL },
	{ "<router_name/>", NULL },
	/* a key given twice */
	{ "<username>v</username>", "opensrf/username: given more than once "
	  "(first at line 1)" },
	{ "<port>5222</port><port>5223</port>", "opensrf/port: given more "
	  "than once" },
	{ "<tls>off</tls><tls>off</tls>", "opensrf/tls: given more than "
	  "once" },
	{ "<routers><router><name>r</name><name>q</name><domain>x</domain>"
	  "</router></routers>", "opensrf/routers/router/name: given more "
	  "than once" },
	/* OpenSRF's <domain> is a list whose first entry counts (spec 5.2) */
	{ "<domain>second</domain>", NULL },
};

START_TEST(test_core_bad)
{
	struct core_conf	*cc = NULL;
	struct cfg_err		 err = { "" };
	struct cfg_tree		*t;
	char			*xml;
	int			 rc;

	xml = xasprintf("%s%s%s", CORE_HEAD, core_bad[_i].body, CORE_TAIL);
	t = th_tree(xml);
	rc = core_conf_from_tree(t, "opensrf", &cc, &err);
	if (core_bad[_i].msg == NULL) {
		ck_assert_msg(rc == 0, "%s", err.msg);
		core_conf_free(&cc);
	} else {
		ck_assert_int_eq(rc, -EINVAL);
		ck_assert_ptr_null(cc);
		ck_assert_msg(strstr(err.msg, core_bad[_i].msg) != NULL &&
		    strncmp(err.msg, "t.xml:1: ", 9) == 0,
		    "\"%s\" lacks \"%s\"", err.msg, core_bad[_i].msg);
	}
	cfg_tree_free(&t);
	free(xml);
}
END_TEST

static const struct {
	const char	*xml;
	const char	*msg;
} core_missing[] = {
	{ "<config><opensrf><username>u</username><passwd>p</passwd>"
	  "</opensrf></config>", "opensrf/domain: required key is missing" },
	{ "<config><opensrf><domain>d</domain><passwd>p</passwd>"
	  "</opensrf></config>", "opensrf/username: required key is missing" },
	{ "<config><opensrf><domain>d</domain><username>u</username>"
	  "<passwd/></opensrf></config>",
	  "opensrf/passwd: required key is missing" },
	{ "<config><opensrf>text</opensrf></config>",
	  "opensrf/domain: required key is missing" },
};

START_TEST(test_core_missing)
{
	struct core_conf	*cc = NULL;
	struct cfg_err		 err = { "" };
	struct cfg_tree		*t = th_tree(core_missing[_i].xml);

	ck_assert_int_eq(core_conf_from_tree(t, "opensrf", &cc, &err),
	    -EINVAL);
	ck_assert_ptr_null(cc);
	ck_assert_msg(strstr(err.msg, core_missing[_i].msg) != NULL, "%s",
	    err.msg);
	cfg_tree_free(&t);
}
END_TEST

/* ----------------------------------------------------------- router */

START_TEST(test_router_example)
{
	struct router_conf	*rv = NULL;
	struct cfg_err		 err = { "" };
	struct log_conf		 lc;
	size_t			 n = 0;

	ck_assert_msg(router_conf_load(th_path("conf/opensrf_core.xml"), &rv,
	    &n, &err) == 0, "%s", err.msg);
	/* The registration targets under <opensrf> are skipped. */
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(rv[0].bus.domain, "public.localhost");
	ck_assert_str_eq(rv[0].bus.host, "127.0.0.1");
	ck_assert_str_eq(rv[0].bus.username, "router");
	ck_assert_str_eq(rv[0].bus.password, "password");
	ck_assert_str_eq(rv[0].bus.resource, "router");
	ck_assert_int_eq(rv[0].bus.connect_timeout_ms, 10000);
	ck_assert_uint_eq(rv[0].ntrusted_servers, 1);
	ck_assert_uint_eq(rv[0].ntrusted_clients, 2);
	ck_assert_str_eq(rv[0].trusted_clients[1], "public.localhost");
	ck_assert_int_eq(rv[0].loglevel, 2);
	ck_assert_int_eq(rv[0].syslog_facility, LOG_LOCAL1);
	ck_assert_str_eq(rv[1].bus.domain, "private.localhost");
	ck_assert_str_eq(rv[1].bus.host, "private.localhost");
	ck_assert_uint_eq(rv[1].ntrusted_clients, 1);
	ck_assert_ptr_null(rv[1].logtag);
	ck_assert_str_eq(rv[0].user, "opensrf");
	ck_assert_ptr_null(rv[1].user);
	ck_assert_int_gt(rv[1].line, rv[0].line);
	ck_assert_int_eq(router_conf_log(&rv[0], &lc), 0);
	ck_assert_str_eq(lc.file, "/var/log/drover/router.log");
	ck_assert_str_eq(lc.tag, "drover-router");
	router_conf_free(&rv, n);
	ck_assert_ptr_null(rv);
	router_conf_free(&rv, 0);
}
END_TEST

/* conf/opensrf_core-bridge.xml: an XMPP entry bridged to a Redis one. */
START_TEST(test_router_bridge_example)
{
	struct router_conf	*rv = NULL;
	struct cfg_err		 err = { "" };
	size_t			 n = 0;

	ck_assert_msg(router_conf_load(th_path("conf/opensrf_core-bridge.xml"),
	    &rv, &n, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(rv[0].bus.kind, BUS_XMPP);
	ck_assert_str_eq(rv[0].bridge, "private.localhost");
	ck_assert_int_eq(rv[1].bus.kind, BUS_REDIS);
	ck_assert_ptr_null(rv[1].bridge);
	ck_assert_str_eq(rv[1].bus.domain, "private.localhost");
	ck_assert_int_eq(rv[1].max_classes, 512);
	ck_assert_int_eq(rv[1].max_classes_per_sender, 8);
	ck_assert_int_eq(rv[1].class_logins_per_second, 20);
	router_conf_free(&rv, n);
}
END_TEST

#define R_TRUST "<trusted_domains><server>s</server><client>c</client>" \
	"</trusted_domains>"
#define R_TRANS "<transport><server>x</server><username>r</username>" \
	"<password>p</password>"

static const struct {
	const char	*xml;
	const char	*msg;
} router_bad[] = {
	{ "<c><routers><router>" R_TRUST R_TRANS "</transport></router>"
	  "</routers></c>", NULL },
	{ "<c><opensrf><routers><router>d</router></routers></opensrf></c>",
	  "c: no <routers><router> entry with a <transport>" },
	{ "<c><routers><router><trusted_domains><client>c</client>"
	  "</trusted_domains>" R_TRANS "</transport></router></routers></c>",
	  "routers/router: trusted_domains/server: at least one domain is "
	  "required" },
	{ "<c><routers><router><trusted_domains><server>s</server>"
	  "<client/></trusted_domains>" R_TRANS "</transport></router>"
	  "</routers></c>", "trusted_domains/client: at least one domain" },
	{ "<c><routers><router>" R_TRUST "<transport><username>r</username>"
	  "<password>p</password></transport></router></routers></c>",
	  "routers/router/transport/server: required key is missing" },
	{ "<c><routers><router>" R_TRUST R_TRANS "<resource>other</resource>"
	  "</transport></router></routers></c>",
	  "routers/router/transport/resource: expected \"router\"" },
	{ "<c><routers><router>" R_TRUST R_TRANS "<port>0</port>"
	  "</transport></router></routers></c>",
	  "transport/port: expected an integer from 1 to 65535, got \"0\"" },
	{ "<c><routers><router>" R_TRUST R_TRANS "<tls>always</tls>"
	  "</transport></router></routers></c>",
	  "transport/tls: expected one of off, optional, required" },
	{ "<c><routers><router>" R_TRUST R_TRANS "</transport>"
	  "<loglevel>6</loglevel></router></routers></c>",
	  "routers/router/loglevel: expected an integer from 0 to 5" },
	{ "<c><routers><router>" R_TRUST R_TRANS "<port/>"
	  "</transport></router></routers></c>",
	  "transport/port: expected an integer from 1 to 65535, got an empty "
	  "element" },
	{ "<c><routers><router>" R_TRUST R_TRANS "<server>y</server>"
	  "</transport></router></routers></c>",
	  "routers/router/transport/server: given more than once" },
	{ "<c><routers><router>" R_TRUST R_TRANS "</transport>" R_TRANS
	  "</transport></router></routers></c>",
	  "routers/router/transport/server: given more than once" },
};

START_TEST(test_router_bad)
{
	struct router_conf	*rv = NULL;
	struct cfg_err		 err = { "" };
	struct cfg_tree		*t = th_tree(router_bad[_i].xml);
	size_t			 n = 0;
	int			 rc;

	rc = router_conf_from_tree(t, &rv, &n, &err);
	if (router_bad[_i].msg == NULL) {
		ck_assert_msg(rc == 0, "%s", err.msg);
		ck_assert_uint_eq(n, 1);
		ck_assert_int_eq(rv[0].loglevel, LOGL_ERROR);
		ck_assert_str_eq(rv[0].logfile, "stderr");
		ck_assert_int_eq(rv[0].bus.port, 5222);
		router_conf_free(&rv, n);
	} else {
		ck_assert_int_eq(rc, -EINVAL);
		ck_assert_ptr_null(rv);
		ck_assert_uint_eq(n, 0);
		ck_assert_msg(strstr(err.msg, router_bad[_i].msg) != NULL,
		    "\"%s\" lacks \"%s\"", err.msg, router_bad[_i].msg);
	}
	cfg_tree_free(&t);
}
END_TEST

/* -------------------------------------------------------------- svc */

START_TEST(test_svc_example)
{
	struct svc_conf	*sc = NULL;
	struct cfg_err	 err = { "" };
	char		*p = xstrdup(th_path("conf/opensrf.xml"));
	char		**apps = NULL;
	json_t		*want;
	size_t		 i;

	ck_assert_msg(cfg_active_apps(p, "localhost", &apps, &err) == 0, "%s",
	    err.msg);
	ck_assert_str_eq(apps[0], "opensrf.math");
	ck_assert_str_eq(apps[3], "drover.test");
	ck_assert_ptr_null(apps[4]);
	/* Every active service of the example loads and validates. */
	for (i = 0; apps[i] != NULL; i++) {
		ck_assert_msg(svc_conf_load(p, "localhost", apps[i], &sc,
		    &err) == 0, "%s: %s", apps[i], err.msg);
		ck_assert_str_eq(sc->name, apps[i]);
		ck_assert_str_eq(sc->language, "c");
		ck_assert_uint_eq(sc->ncache_servers, 1);
		ck_assert_str_eq(sc->cache_servers[0], "127.0.0.1:11211");
		ck_assert_int_eq(sc->max_cache_time, 86400);
		ck_assert_str_eq(sc->pid_dir, "/run/drover");
		svc_conf_free(&sc);
	}
	cfg_strv_free(&apps);

	ck_assert_int_eq(svc_conf_load(p, "localhost", "opensrf.math", &sc,
	    &err), 0);
	ck_assert_str_eq(sc->implementation, "opensrf.math.so");
	ck_assert_int_eq(sc->keepalive, 5);
	ck_assert_int_eq(sc->stateless, 1);
	ck_assert_int_eq(sc->min_children, 3);
	ck_assert_int_eq(sc->max_children, 20);		/* host override */
	ck_assert_int_eq(sc->min_spare_children, 1);
	ck_assert_int_eq(sc->max_spare_children, 5);
	ck_assert_int_eq(sc->max_requests, 1000);
	ck_assert_int_eq(sc->max_requests_jitter, 100);
	ck_assert_int_eq(sc->max_backlog_queue, 1000);
	ck_assert_int_eq(sc->request_timeout, 60);
	ck_assert_int_eq(sc->slow_request_ms, 2000);
	ck_assert_int_eq(sc->graceful_timeout, 30);
	ck_assert_uint_eq(sc->max_request_size, 10485760);
	ck_assert(json_is_null(sc->app_settings));
	svc_conf_free(&sc);
	ck_assert_ptr_null(sc);
	svc_conf_free(&sc);

	/* Another host: the defaults alone, and no active apps. */
	ck_assert_int_eq(svc_conf_load(p, "elsewhere", "opensrf.math", &sc,
	    &err), 0);
	ck_assert_int_eq(sc->max_children, 15);
	svc_conf_free(&sc);
	ck_assert_int_eq(cfg_active_apps(p, "elsewhere", &apps, &err), 0);
	ck_assert_ptr_null(apps[0]);
	cfg_strv_free(&apps);

	/* Defaults for a service that sets almost nothing. */
	ck_assert_int_eq(svc_conf_load(p, "localhost", "drover.cache", &sc,
	    &err), 0);
	ck_assert_int_eq(sc->keepalive, 5);
	ck_assert_int_eq(sc->stateless, 0);
	ck_assert_int_eq(sc->max_requests, 1000);
	ck_assert_int_eq(sc->max_backlog_queue, 1000);
	ck_assert_int_eq(sc->graceful_timeout, 30);
	ck_assert_int_eq(sc->request_timeout, 0);
	want = json_loads("{\"default_ttl\":300,\"prefix\":\"drover.cache.\"}",
	    0, NULL);
	ck_assert(json_equal(sc->app_settings, want));
	json_decref(want);
	svc_conf_free(&sc);

	ck_assert_int_eq(svc_conf_load(p, "localhost", "opensrf.nosuch", &sc,
	    &err), -ENOENT);
	ck_assert_ptr_null(sc);
	ck_assert_msg(th_contains(err.msg, "apps/opensrf.nosuch: no such "
	    "service", NULL), "%s", err.msg);
	free(p);
}
END_TEST

/* Merged settings as a service sees them; file:line of bad values. */
START_TEST(test_svc_merged)
{
	struct svc_conf	*sc = NULL;
	struct cfg_err	 err = { "" };
	char		*p, *want, **apps = NULL;
	json_t		*js;

	p = xstrdup(th_path("test/data/settings_merge.xml"));
	ck_assert_msg(svc_conf_load(p, "h1.example.org", "svc.a", &sc,
	    &err) == 0, "%s", err.msg);
	ck_assert_int_eq(sc->min_children, 2);
	ck_assert_int_eq(sc->max_children, 12);
	ck_assert_ptr_null(sc->language);
	ck_assert_ptr_null(sc->pid_dir);
	/* Each server element may hold a comma-separated list. */
	ck_assert_uint_eq(sc->ncache_servers, 3);
	ck_assert_str_eq(sc->cache_servers[0], "127.0.0.1:11211");
	ck_assert_str_eq(sc->cache_servers[1], "127.0.0.2:11211");
	ck_assert_str_eq(sc->cache_servers[2], "10.0.0.1:11211");
	ck_assert_ptr_null(sc->cache_servers[3]);
	js = json_loads("{\"x\":1,\"y\":\"three\",\"z\":null}", 0, NULL);
	ck_assert(json_equal(sc->app_settings, js));
	json_decref(js);
	svc_conf_free(&sc);
	/* A service only the host defines. */
	ck_assert_int_eq(svc_conf_load(p, "h1.example.org", "svc.h", &sc,
	    &err), 0);
	svc_conf_free(&sc);
	ck_assert_int_eq(svc_conf_load(p, "h2.example.org", "svc.h", &sc,
	    &err), -ENOENT);

	ck_assert_int_eq(svc_conf_load(p, "h1.example.org", "svc.bad", &sc,
	    &err), -EINVAL);
	ck_assert_ptr_null(sc);
	want = xasprintf("%s:34: apps/svc.bad/unix_config/max_children: "
	    "expected an integer from 1 to 256, got \"300\"", p);
	ck_assert_str_eq(err.msg, want);
	free(want);

	ck_assert_int_eq(cfg_active_apps(p, "h1.example.org", &apps, &err), 0);
	ck_assert_str_eq(apps[0], "b1");
	ck_assert_str_eq(apps[2], "a3");
	ck_assert_ptr_null(apps[3]);
	cfg_strv_free(&apps);
	ck_assert_int_eq(cfg_active_apps("/nonexistent", "h", &apps, &err),
	    -ENOENT);
	ck_assert_ptr_null(apps);
	free(p);
}
END_TEST

#define SVC_HEAD "<opensrf><default><apps><s><implementation>s.so" \
	"</implementation>"
#define SVC_TAIL "</s></apps></default></opensrf>"

static const struct {
	const char	*body;
	const char	*msg;
} svc_bad[] = {
	{ "", NULL },
	{ "<unix_config><max_children>0</max_children></unix_config>",
	  "apps/s/unix_config/max_children: expected an integer from 1 to "
	  "256, got \"0\"" },
	{ "<unix_config><min_children>257</min_children></unix_config>",
	  "expected an integer from 0 to 256" },
	{ "<unix_config><min_children>11</min_children></unix_config>",
	  "apps/s: unix_config: min_children (11) must be from 0 to "
	  "max_children (10)" },
	{ "<unix_config><min_spare_children>5</min_spare_children>"
	  "<max_spare_children>5</max_spare_children></unix_config>",
	  "max_spare_children (5) must be greater than "
	  "min_spare_children (5)" },
	/* Unset max_spare is raised above min_spare, as OpenSRF does. */
	{ "<unix_config><min_spare_children>7</min_spare_children>"
	  "</unix_config>", NULL },
	{ "<unix_config><max_children>2</max_children><min_children>1"
	  "</min_children><min_spare_children>3</min_spare_children>"
	  "<max_spare_children>4</max_spare_children></unix_config>",
	  "min_spare_children (3) must be from 0 to max_children (2)" },
	{ "<unix_config><max_requests_jitter>1000</max_requests_jitter>"
	  "</unix_config>", "max_requests_jitter (1000) must be from 0 to "
	  "less than max_requests (1000)" },
	{ "<unix_config><max_requests>0</max_requests></unix_config>",
	  "expected an integer from 1 to 1000000000" },
	{ "<unix_config><max_backlog_queue>-1</max_backlog_queue>"
	  "</unix_config>", "expected an integer from 0 to 1000000" },
	{ "<unix_config><max_request_size>1</max_request_size></unix_config>",
	  "expected an integer from 4096 to 1073741824" },
	{ "<unix_config><request_timeout>86401</request_timeout>"
	  "</unix_config>", "expected an integer from 0 to 86400" },
	{ "<unix_config><graceful_timeout>x</graceful_timeout></unix_config>",
	  "expected an integer from 0 to 3600, got \"x\"" },
	{ "<keepalive>0</keepalive>", "apps/s/keepalive: expected an integer "
	  "from 1 to 3600" },
	{ "<stateless>2</stateless>", "apps/s/stateless: expected a boolean" },
	{ "<implementation>t.so</implementation>", "apps/s/implementation: "
	  "given more than once (first at line 1)" },
	{ "<implementation/>", "apps/s/implementation: given more than once" },
	{ "<unix_config><max_children/></unix_config>",
	  "apps/s/unix_config/max_children: expected an integer from 1 to "
	  "256, got an empty element" },
	{ "<unix_config><max_children>5</max_children><max_children>6"
	  "</max_children></unix_config>",
	  "apps/s/unix_config/max_children: given more than once" },
	{ "<unix_config><min_children>1</min_children></unix_config>"
	  "<unix_config><min_children>2</min_children></unix_config>",
	  "apps/s/unix_config/min_children: given more than once" },
	{ "<keepalive></keepalive>", "apps/s/keepalive: expected an integer "
	  "from 1 to 3600, got an empty element" },
	{ "<stateless/>", "apps/s/stateless: expected a boolean" },
	{ "<unix_config><max_requests_jitter/></unix_config>",
	  "apps/s/unix_config/max_requests_jitter: expected an integer" },
	/* OpenSRF's stock files: empty legacy and string keys still load */
	{ "<language/><unix_config><unix_sock/><unix_pid/><unix_log/>"
	  "</unix_config>", NULL },
	{ "<language>Perl</language>", NULL },	/* droverd decides */
};

/*
 * The shape of OpenSRF's stock opensrf.xml (spec 5.4): empty <dirs>
 * entries, an empty <activeapps/> and the legacy unix_* keys load
 * unchanged, though empty typed keys are errors.
 */
START_TEST(test_svc_stock_empties)
{
	struct svc_conf	*sc = NULL;
	struct cfg_err	 err = { "" };
	struct cfg_tree	*t, *m = NULL;
	char		**apps = NULL;

	t = th_tree("<opensrf version=\"0.0.3\"><default>"
	    "<dirs><log/><sock/><pid/><conf/></dirs><activeapps/>"
	    "<cache><global><servers><server>127.0.0.1:11211</server>"
	    "</servers><max_cache_time>86400</max_cache_time></global></cache>"
	    "<apps><opensrf.math><keepalive>3</keepalive><stateless>1"
	    "</stateless><language>c</language><implementation>"
	    "libosrf_math.so</implementation><unix_config><max_requests>1000"
	    "</max_requests><min_children>5</min_children><max_children>15"
	    "</max_children><min_spare_children>2</min_spare_children>"
	    "<max_spare_children>5</max_spare_children><unix_sock/><unix_pid/>"
	    "<unix_log/></unix_config><app_settings><x/></app_settings>"
	    "</opensrf.math></apps></default></opensrf>");
	ck_assert_int_eq(cfg_merge_host(t, "h", &m, &err), 0);
	ck_assert_msg(svc_conf_from_tree(m, "opensrf.math", &sc, &err) == 0,
	    "%s", err.msg);
	ck_assert_ptr_null(sc->pid_dir);
	ck_assert_int_eq(sc->max_children, 15);
	svc_conf_free(&sc);
	ck_assert_int_eq(cfg_active_apps_tree(m, &apps, &err), 0);
	ck_assert_ptr_null(apps[0]);
	cfg_strv_free(&apps);
	cfg_tree_free(&m);
	cfg_tree_free(&t);
}
END_TEST

START_TEST(test_svc_bad)
{
	struct svc_conf	*sc = NULL;
	struct cfg_err	 err = { "" };
	struct cfg_tree	*t, *m = NULL;
	char		*xml;
	int		 rc;

	xml = xasprintf("%s%s%s", SVC_HEAD, svc_bad[_i].body, SVC_TAIL);
	t = th_tree(xml);
	ck_assert_int_eq(cfg_merge_host(t, "h", &m, &err), 0);
	rc = svc_conf_from_tree(m, "s", &sc, &err);
	if (svc_bad[_i].msg == NULL) {
		ck_assert_msg(rc == 0, "%s", err.msg);
		ck_assert_int_eq(svc_conf_validate(sc, &err), 0);
		svc_conf_free(&sc);
	} else {
		ck_assert_int_eq(rc, -EINVAL);
		ck_assert_ptr_null(sc);
		ck_assert_msg(strstr(err.msg, svc_bad[_i].msg) != NULL &&
		    strncmp(err.msg, "t.xml:1: ", 9) == 0,
		    "\"%s\" lacks \"%s\"", err.msg, svc_bad[_i].msg);
	}
	cfg_tree_free(&m);
	cfg_tree_free(&t);
	free(xml);
}
END_TEST

START_TEST(test_svc_missing)
{
	struct svc_conf	*sc = NULL;
	struct cfg_err	 err = { "" };
	struct cfg_tree	*t, *m = NULL;

	t = th_tree("<opensrf><default><apps><s><keepalive>3</keepalive>"
	    "</s><e/></apps></default></opensrf>");
	ck_assert_int_eq(cfg_merge_host(t, "h", &m, &err), 0);
	ck_assert_int_eq(svc_conf_from_tree(m, "s", &sc, &err), -EINVAL);
	ck_assert_str_eq(err.msg,
	    "t.xml:1: apps/s/implementation: required key is missing");
	ck_assert_int_eq(svc_conf_from_tree(m, "e", &sc, &err), -EINVAL);
	ck_assert_msg(th_contains(err.msg, "apps/e: expected the service's "
	    "settings, got an empty element", NULL), "%s", err.msg);
	ck_assert_ptr_null(sc);
	cfg_tree_free(&m);
	cfg_tree_free(&t);
}
END_TEST

/* An unset max_spare_children follows min_spare_children up. */
START_TEST(test_svc_spare_default)
{
	struct svc_conf	*sc = NULL;
	struct cfg_err	 err = { "" };
	struct cfg_tree	*t, *m = NULL;

	t = th_tree(SVC_HEAD "<unix_config><min_spare_children>7"
	    "</min_spare_children></unix_config>" SVC_TAIL);
	ck_assert_int_eq(cfg_merge_host(t, "h", &m, &err), 0);
	ck_assert_int_eq(svc_conf_from_tree(m, "s", &sc, &err), 0);
	ck_assert_int_eq(sc->min_spare_children, 7);
	ck_assert_int_eq(sc->max_spare_children, 8);
	svc_conf_free(&sc);
	cfg_tree_free(&m);
	cfg_tree_free(&t);
}
END_TEST

/* svc_conf_validate is pure: it judges a hand-made struct too. */
START_TEST(test_svc_validate)
{
	struct svc_conf	sc = {
		.name = "x", .implementation = "x.so", .keepalive = 5,
		.min_children = 3, .max_children = 10,
		.min_spare_children = 1, .max_spare_children = 5,
		.max_requests = 1000,
	};
	struct cfg_err	err = { "" };

	ck_assert_int_eq(svc_conf_validate(&sc, &err), 0);
	sc.max_children = 300;
	ck_assert_int_eq(svc_conf_validate(&sc, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "apps/x: unix_config/max_children: "
	    "expected an integer from 1 to 256, got 300");
	sc.max_children = 10;
	sc.implementation = NULL;
	ck_assert_int_eq(svc_conf_validate(&sc, &err), -EINVAL);
	ck_assert_str_eq(err.msg,
	    "apps/x: implementation: required key is missing");
}
END_TEST

/* ------------------------------------------------------------- docs */

static char *
slurp(const char *rel)
{
	FILE	*f;
	char	*buf;
	size_t	 len;

	f = fopen(th_path(rel), "re");
	ck_assert_msg(f != NULL, "%s", th_path(rel));
	buf = calloc(1, 256 * 1024);
	ck_assert_ptr_nonnull(buf);
	len = fread(buf, 1, 256 * 1024 - 1, f);
	ck_assert_uint_gt(len, 0);
	fclose(f);
	return buf;
}

/*
 * drover-config(5) names every key of every table, as ".It Ic key";
 * the example files in conf/ set every key; every key has a one-line
 * description in its table.
 */
START_TEST(test_docs_keys)
{
	const struct cfg_key	*(*tables[])(size_t *) = {
		cfg_keys_bus, cfg_keys_core, cfg_keys_router, cfg_keys_svc,
		cfg_keys_settings,
	};
	const struct cfg_key	*k;
	char			*man, *core, *settings, needle[128];
	const char		*last;
	size_t			 i, j, n;

	man = slurp("man/drover-config.5");
	core = slurp("conf/opensrf_core.xml");
	settings = slurp("conf/opensrf.xml");
	for (i = 0; i < ARRAY_LEN(tables); i++) {
		k = tables[i](&n);
		for (j = 0; j < n; j++) {
			ck_assert_ptr_nonnull(k[j].doc);
			last = strrchr(k[j].path, '/');
			last = last != NULL ? last + 1 : k[j].path;
			snprintf(needle, sizeof(needle), "<%s>", last);
			ck_assert_msg(strstr(i < 3 ? core : settings, needle) !=
			    NULL, "conf example lacks %s", needle);
			/* The full path, or its last part in a subsection. */
			snprintf(needle, sizeof(needle), ".It Ic %s ",
			    k[j].path);
			if (strstr(man, needle) != NULL)
				continue;
			snprintf(needle, sizeof(needle), ".It Ic %s ", last);
			ck_assert_msg(strstr(man, needle) != NULL,
			    "drover-config.5 lacks \"%s\"", needle);
		}
	}
	free(man);
	free(core);
	free(settings);
}
END_TEST

Suite *
cfg_views_suite(void)
{
	Suite	*s = suite_create("cfg_views");
	TCase	*tc;

	tc = tcase_create("core");
	tcase_add_test(tc, test_core_example);
	tcase_add_test(tc, test_core_forms);
	tcase_add_loop_test(tc, test_core_bad, 0, ARRAY_LEN(core_bad));
	tcase_add_loop_test(tc, test_core_missing, 0,
	    ARRAY_LEN(core_missing));
	suite_add_tcase(s, tc);

	tc = tcase_create("router");
	tcase_add_test(tc, test_router_example);
	tcase_add_test(tc, test_router_bridge_example);
	tcase_add_loop_test(tc, test_router_bad, 0, ARRAY_LEN(router_bad));
	suite_add_tcase(s, tc);

	tc = tcase_create("svc");
	tcase_add_test(tc, test_svc_example);
	tcase_add_test(tc, test_svc_merged);
	tcase_add_test(tc, test_svc_stock_empties);
	tcase_add_loop_test(tc, test_svc_bad, 0, ARRAY_LEN(svc_bad));
	tcase_add_test(tc, test_svc_missing);
	tcase_add_test(tc, test_svc_validate);
	tcase_add_test(tc, test_svc_spare_default);
	suite_add_tcase(s, tc);

	tc = tcase_create("docs");
	tcase_add_test(tc, test_docs_keys);
	suite_add_tcase(s, tc);
	return s;
}
