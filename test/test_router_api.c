/*
 * test_router_api.c: proto/router_api.c, the router's own methods (spec
 * 2.8) and its error bodies, byte for byte.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto/pbuf.h"
#include "proto/router.h"
#include "proto/osrfmsg.h"
#include "proto/router_api.h"

#define MAXREP	8

struct reps {
	char	*body[MAXREP];
	int	 n;
};

static int
emit(void *arg, const char *body, size_t len)
{
	struct reps	*r = arg;

	ck_assert_int_lt(r->n, MAXREP);
	ck_assert_uint_eq(strlen(body), len);
	r->body[r->n++] = strdup(body);
	return 0;
}

static struct router	*RT;
static struct reps	 REP;

#define LA	"opensrf@private.localhost/opensrf.math_listener_a_1"
#define LB	"opensrf@private.localhost/opensrf.math_listener_b_2"
#define LD	"opensrf@private.localhost/opensrf.dbmath_listener_d_3"
#define CLI	"opensrf@private.localhost/_vm_1_2"

static int
fwd_ok(void *arg, struct router_class *c, const char *to,
    const struct router_fwd *f)
{
	return 0;
}

static int
rej_ok(void *arg, struct router_class *c, const char *to,
    const struct router_fwd *f, enum router_reject why)
{
	return 0;
}

static struct router_io	IO = { NULL, fwd_ok, rej_ok, NULL, NULL, NULL, NULL };

static void
setup(void)
{
	char			*dom[] = { "private.localhost" };
	struct router_msg	 m = { .from = CLI, .thread = "t",
	    .body = "[]" };
	int			 i;

	log_set_level(LOGL_NONE);
	memset(&REP, 0, sizeof(REP));
	ck_assert_int_eq(router_new("router", "private.localhost", dom, 1,
	    dom, 1, &RT), 0);
	ck_assert_int_eq(router_register(RT, "opensrf.math", LA, &IO), 0);
	ck_assert_int_eq(router_register(RT, "opensrf.math", LB, &IO), 0);
	ck_assert_int_eq(router_register(RT, "opensrf.dbmath", LD, &IO), 0);
	/* 3 requests to math (A, B, A), 1 to dbmath */
	for (i = 0; i < 3; i++)
		router_class_msg(RT, router_class_find(RT, "opensrf.math"), &m,
		    &IO);
	router_class_msg(RT, router_class_find(RT, "opensrf.dbmath"), &m,
	    &IO);
}

static void
teardown(void)
{
	int	i;

	for (i = 0; i < REP.n; i++)
		free(REP.body[i]);
	router_free(&RT, &IO);
}

#define REQ(m, params) \
	"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"3\"," \
	"\"locale\":\"en-US\",\"ingress\":\"srfsh\",\"api_level\":1," \
	"\"type\":\"REQUEST\",\"payload\":{\"__c\":\"osrfMethod\"," \
	"\"__p\":{\"method\":\"" m "\",\"params\":" params "}}}}]"
#define RES(content) \
	"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"3\"," \
	"\"locale\":\"en-US\",\"api_level\":1,\"type\":\"RESULT\"," \
	"\"payload\":{\"__c\":\"osrfResult\",\"__p\":{\"status\":null," \
	"\"statusCode\":\"0\",\"content\":" content "}}}}]"
#define STAT(trace, cls, text, code) \
	"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"" trace "\"," \
	"\"locale\":\"en-US\",\"api_level\":1,\"type\":\"STATUS\"," \
	"\"payload\":{\"__c\":\"" cls "\",\"__p\":{\"status\":\"" text \
	"\",\"statusCode\":\"" code "\"}}}}]"
#define DONE	STAT("3", "osrfConnectStatus", "Request Complete", "205")
#define NOTF(text) STAT("3", "osrfMethodException", text, "404")

static const struct {
	const char	*req;
	const char	*rep0;
	const char	*rep1;		/* NULL: a single reply */
} api_cases[] = {
	{ REQ("opensrf.router.info.class.list", "[]"),
	    RES("[\"opensrf.math\",\"opensrf.dbmath\"]"), DONE },
	{ REQ("opensrf.router.info.stats.class.summary",
	    "[\"opensrf.math\"]"), RES("3"), DONE },
	{ REQ("opensrf.router.info.stats.class", "[\"opensrf.math\"]"),
	    RES("{\"" LA "\":2,\"" LB "\":1}"), DONE },
	{ REQ("opensrf.router.info.stats.class.all", "[]"),
	    RES("{\"opensrf.math\":{\"" LA "\":2,\"" LB "\":1},"
	    "\"opensrf.dbmath\":{\"" LD "\":1}}"), DONE },
	{ REQ("opensrf.router.info.stats.class.node.all", "null"),
	    RES("{\"opensrf.math\":3,\"opensrf.dbmath\":1}"), DONE },
	{ REQ("opensrf.router.info.nope", "[]"),
	    NOTF("Router method not found"), NULL },
	{ REQ("opensrf.system.echo", "[\"x\"]"),
	    NOTF("Router method not found"), NULL },
	/* OpenSRF: silence (9.4) */
	{ REQ("opensrf.router.info.stats.class", "[]"),
	    NOTF("Router method needs a class name parameter"), NULL },
	{ REQ("opensrf.router.info.stats.class.summary", "[42]"),
	    NOTF("Router method needs a class name parameter"), NULL },
	/* OpenSRF: NULL dereference, router crash (9.4) */
	{ REQ("opensrf.router.info.stats.class", "[\"opensrf.nope\"]"),
	    NOTF("Router class not found: opensrf.nope"), NULL },
	{ REQ("opensrf.router.info.stats.class.summary", "[\"\"]"),
	    NOTF("Router class not found: "), NULL },
	/* CONNECT: 200, no state */
	{ "[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"3\","
	    "\"locale\":\"en-US\",\"api_level\":1,\"type\":\"CONNECT\"}}]",
	    STAT("3", "osrfConnectStatus", "Connection Successful", "200"),
	    NULL },
};

START_TEST(test_api)
{
	const char	*req = api_cases[_i].req;

	ck_assert_int_eq(router_api_answer(RT, req, strlen(req), emit, &REP),
	    0);
	ck_assert_int_eq(REP.n, api_cases[_i].rep1 != NULL ? 2 : 1);
	ck_assert_str_eq(REP.body[0], api_cases[_i].rep0);
	if (api_cases[_i].rep1 != NULL)
		ck_assert_str_eq(REP.body[1], api_cases[_i].rep1);
}
END_TEST

/* api_level 0 in the request: omitted in the replies (spec 2.8). */
START_TEST(test_api_level_omitted)
{
	const char	*req = "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":7,\"type\":\"REQUEST\",\"payload\":{\"__c\":"
	    "\"osrfMethod\",\"__p\":{\"method\":"
	    "\"opensrf.router.info.class.list\",\"params\":[]}}}}]";

	ck_assert_int_eq(router_api_answer(RT, req, strlen(req), emit, &REP),
	    0);
	ck_assert_int_eq(REP.n, 2);
	ck_assert_ptr_null(strstr(REP.body[0], "api_level"));
	ck_assert_ptr_nonnull(strstr(REP.body[0], "\"threadTrace\":\"7\""));
	ck_assert_ptr_nonnull(strstr(REP.body[1], "\"statusCode\":\"205\""));
}
END_TEST

/* DISCONNECT, RESULT and STATUS are ignored; a bad body is answered. */
START_TEST(test_api_other)
{
	const char	*disc = "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"1\",\"type\":\"DISCONNECT\"}}]";
	const char	*bad = "not json";

	ck_assert_int_eq(router_api_answer(RT, disc, strlen(disc), emit,
	    &REP), 0);
	ck_assert_int_eq(REP.n, 0);
	ck_assert_int_eq(router_api_answer(RT, bad, strlen(bad), emit,
	    &REP), -EPROTO);
	ck_assert_int_eq(REP.n, 1);
	ck_assert_ptr_nonnull(strstr(REP.body[0], "\"statusCode\":\"400\""));
}
END_TEST

/* Two requests in one body: each gets its own RESULT and 205. */
START_TEST(test_api_bundle)
{
	const char	*req = "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"1\",\"type\":\"CONNECT\"}},"
	    "{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"2\","
	    "\"type\":\"REQUEST\",\"payload\":{\"__c\":\"osrfMethod\","
	    "\"__p\":{\"method\":\"opensrf.router.info.stats.class.summary\","
	    "\"params\":[\"opensrf.dbmath\"]}}}}]";

	ck_assert_int_eq(router_api_answer(RT, req, strlen(req), emit, &REP),
	    0);
	ck_assert_int_eq(REP.n, 3);
	ck_assert_ptr_nonnull(strstr(REP.body[0], "Connection Successful"));
	ck_assert_ptr_nonnull(strstr(REP.body[1], "\"content\":1}"));
	ck_assert_ptr_nonnull(strstr(REP.body[2], "Request Complete"));
}
END_TEST

START_TEST(test_error_body)
{
	struct pbuf	 b = { 0 };
	const char	*req = REQ("add", "[2,2]");

	ck_assert_int_eq(osrfmsg_error_body(req, strlen(req), 503,
	    "Service opensrf.math has no listener", &b), 0);
	ck_assert_str_eq(b.data, STAT("3", "osrfMethodException",
	    "Service opensrf.math has no listener", "503"));
	pbuf_free(&b);
}
END_TEST

/* Undecodable: still one status, so the client's wait ends at once. */
START_TEST(test_error_body_garbage)
{
	struct pbuf	 b = { 0 };

	ck_assert_int_eq(osrfmsg_error_body("{{", 2, 403, "no", &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "\"type\":\"STATUS\""));
	ck_assert_ptr_nonnull(strstr(b.data, "\"statusCode\":\"403\""));
	pbuf_free(&b);
	ck_assert_int_eq(osrfmsg_error_body(NULL, 0, 403, "no", &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "\"threadTrace\":\"0\""));
	pbuf_free(&b);
}
END_TEST

Suite *
router_api_suite(void)
{
	Suite	*s = suite_create("router_api");
	TCase	*tc;

	tc = tcase_create("methods");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_api, 0, ARRAY_LEN(api_cases));
	tcase_add_test(tc, test_api_level_omitted);
	tcase_add_test(tc, test_api_other);
	tcase_add_test(tc, test_api_bundle);
	suite_add_tcase(s, tc);

	tc = tcase_create("error_body");
	tcase_add_test(tc, test_error_body);
	tcase_add_test(tc, test_error_body_garbage);
	suite_add_tcase(s, tc);
	return s;
}
