/*
 * test_reg.c: router registration on XMPP (proto/reg.c, bus_xmpp.c).
 *
 * The bytes against captures/listener_register.xml and, tagged
 * "integration", a real router account on the private ejabberd receiving
 * a listener bus's register and unregister.  Which routers hear and the
 * per-router back-off are bus.c's, tested in test_bus.c.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "proto/bus.h"
#include "proto/reg.h"
#include "proto/tmsg.h"
#include "proto/xmpp.h"
#include "th_capture.h"
#include "th_servers.h"
#include "util.h"

/* ------------------------------------------------------------ bytes */

/* Every C->S line of listener_register.xml, rebuilt from its parts. */
START_TEST(test_reg_capture_bytes)
{
	const struct thc_vec	*v;
	struct reg_target	 t;
	struct tmsg		 m = TMSG_INIT;
	char			*xml, name[64], domain[64];
	size_t			 n, i, len;
	int			 found = 0;

	v = thc_load(&n);
	ck_assert_uint_gt(n, 0);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].file, "listener_register.xml") != 0 ||
		    v[i].dir != THC_C2S)
			continue;
		ck_assert_int_eq(tmsg_xml_parse(v[i].text, v[i].len, &m, NULL), 0);
		/* to = name@domain/router */
		ck_assert_int_eq(sscanf(m.to, "%63[^@]@%63[^/]/router", name,
		    domain), 2);
		memset(&t, 0, sizeof(t));
		t.name = name;
		t.domain = domain;
		ck_assert_int_eq(reg_stanza(&t, m.from, "opensrf.math",
		    strcmp(m.router_command, "register") == 0 ? REG_REGISTER :
		    REG_UNREGISTER, &xml, &len), 0);
		ck_assert_str_eq(xml, v[i].text);
		ck_assert_uint_eq(len, v[i].len);
		free(xml);
		tmsg_clear(&m);
		found++;
	}
	ck_assert_int_eq(found, 4);
}
END_TEST

START_TEST(test_reg_stanza_bad)
{
	struct reg_target	 t = { 0 };
	char			*xml = (char *)"x";
	size_t			 len = 9;

	ck_assert_int_eq(reg_stanza(&t, "a@b/c", "svc", REG_REGISTER, &xml,
	    &len), -EINVAL);
	ck_assert_ptr_null(xml);
	ck_assert_uint_eq(len, 0);
	t.domain = (char *)"private.localhost";
	ck_assert_int_eq(reg_stanza(&t, "a@b/c", "", REG_REGISTER, &xml,
	    &len), -EINVAL);
	/* no name: the conventional "router" */
	ck_assert_int_eq(reg_stanza(&t, "a@b/c", "svc", REG_UNREGISTER, &xml,
	    &len), 0);
	ck_assert_ptr_nonnull(strstr(xml,
	    "to=\"router@private.localhost/router\""));
	ck_assert_ptr_nonnull(strstr(xml, "<body>unregistering</body>"));
	ck_assert_ptr_null(strstr(xml, "<thread>"));
	free(xml);
}
END_TEST

/* ------------------------------------------------------ integration */

#define LIVE_TIMEOUT_MS	10000

static struct xmpp_conn *
login(const char *user, const char *pw, const char *res)
{
	struct bus_conf	 conf;
	struct xmpp_conn	*c;

	memset(&conf, 0, sizeof(conf));
	conf.host = (char *)"127.0.0.1";
	conf.domain = (char *)TH_DOMAIN_PRIVATE;
	conf.port = th_server(TH_EJABBERD)->port;
	conf.username = (char *)user;
	conf.password = (char *)pw;
	conf.auth = XMPP_AUTH_LEGACY;
	conf.legacy_digest = 1;
	conf.max_stanza_size = 1024 * 1024;
	c = xmpp_new(&conf, res);
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(xmpp_open(c, LIVE_TIMEOUT_MS) == 0, "%s", xmpp_error(c));
	return c;
}

static void
expect_command(struct xmpp_conn *router, const char *from, const char *cmd)
{
	struct xstanza	*st = NULL;
	struct tmsg	 m = TMSG_INIT;
	struct pollfd	 pfd;
	uint64_t	 deadline = mono_ms() + LIVE_TIMEOUT_MS;
	int		 rc;

	/* presences: the account's resources come and go (xmpp.h) */
	while (((rc = xmpp_recv(router, &st)) == 0 ||
	    (rc == 1 && strcmp(st->name, "presence") == 0)) &&
	    mono_ms() < deadline) {
		xstanza_free(&st);
		pfd.fd = xmpp_fd(router);
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, (int)(deadline - mono_ms()));
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_int_eq(tmsg_xml_parse(st->raw, st->len, &m, NULL), 0);
	ck_assert_str_eq(m.from, from);
	ck_assert_str_eq(m.router_command, cmd);
	ck_assert_str_eq(m.router_class, "opensrf.math");
	ck_assert_str_eq(m.thread, "");
	tmsg_clear(&m);
	xstanza_free(&st);
}

START_TEST(test_reg_live)
{
	static const struct reg_target	 priv[] = {
		{ (char *)"router", (char *)"private.localhost", NULL, 0 },
	};
	struct bus_params		 bp;
	struct bus			*t;
	struct bus_conf			 conf;
	struct xmpp_conn		*router;

	router = login("router", TH_ROUTER_PW, "router");
	memset(&conf, 0, sizeof(conf));
	conf.host = (char *)"127.0.0.1";
	conf.domain = (char *)TH_DOMAIN_PRIVATE;
	conf.port = th_server(TH_EJABBERD)->port;
	conf.username = (char *)"opensrf";
	conf.password = (char *)TH_OPENSRF_PW;
	conf.auth = XMPP_AUTH_LEGACY;
	conf.legacy_digest = 1;
	memset(&bp, 0, sizeof(bp));
	bp.kind = BUS_XMPP;
	bp.conf = &conf;
	bp.role = BUS_ROLE_LISTENER;
	bp.service = "opensrf.math";
	bp.resource = "opensrf.math_listener_test_1.0_1";
	bp.routers = priv;
	bp.nrouters = 1;
	ck_assert_int_eq(bus_new(&bp, &t), 0);
	ck_assert_int_eq(bus_open(t, LIVE_TIMEOUT_MS), 0);
	ck_assert_int_ge(bus_fd(t), 0);
	ck_assert_int_eq(bus_register(t, 1), 1);
	expect_command(router, bus_addr(t), "register");
	ck_assert_int_eq(bus_register(t, 0), 1);
	expect_command(router, bus_addr(t), "unregister");
	bus_free(&t);
	ck_assert_ptr_null(t);
	xmpp_free(&router);
}
END_TEST

Suite *
reg_suite(void)
{
	Suite	*s = suite_create("reg");
	TCase	*tc;

	tc = tcase_create("stanza");
	tcase_add_test(tc, test_reg_capture_bytes);
	tcase_add_test(tc, test_reg_stanza_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("live");
	tcase_set_tags(tc, "integration");
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_reg_live);
	suite_add_tcase(s, tc);
	return s;
}
