/*
 * test_runtime.c: the request runtime (services/runtime/rt_*.c) driven in-process
 * over the fake bus: dispatch, error statuses, argc checks, atomic
 * collection, system methods, bundling and chunking boundaries, the
 * connected-session state machine, sub-requests, the plugin loader and
 * the example plugins of $DROVER_LIB.
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "log.h"
#include "mpm/worker.h"
#include "proto/osrfmsg.h"
#include "proto/tmsg.h"
#include "services/runtime/rt_cache.h"
#include "services/runtime/rt_client.h"
#include "services/runtime/rt_inbox.h"
#include "services/runtime/rt_reply.h"
#include "services/runtime/rt_svc.h"
#include "services/runtime/runtime.h"
#include "th_fakebus.h"
#include "th_sb.h"

#define CLIENT	"opensrf@private.localhost/_vm_1795549623.393137_22541"
#define DRONE	"opensrf@private.localhost/opensrf.math_drone_vm_1795549618.937243_22487"
#define THREAD	"1795549623.395107.179554962322541"
#define XID	"1795549623225410"

/* ------------------------------------------------------- helpers */

/* A stanza carrying one message of `type` (REQUEST needs method). */
static char *
mk_stanza(const char *from, const char *thread, enum osrfmsg_type type,
    long long trace, const char *method, const char *params)
{
	struct osrfmsg	 m;
	struct pbuf	 body = { 0 };
	struct tmsg	 t = TMSG_INIT;
	json_t		*p = NULL;
	char		*xml;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.thread_trace = trace;
	m.locale = "en-US";
	m.api_level = 1;
	if (type == OSRFMSG_REQUEST) {
		m.ingress = "srfsh";
		m.method = method;
		p = json_loads(params, JSON_DECODE_ANY, NULL);
		ck_assert_ptr_nonnull(p);
		m.params = p;
	}
	ck_assert_int_eq(osrfmsg_encode(&m, 1, &body, NULL), 0);
	json_decref(p);
	t.to = DRONE;
	t.from = from;
	t.thread = thread;
	t.osrf_xid = XID;
	t.body = body.data;
	ck_assert_int_eq(tmsg_xml_write(&t, &xml, NULL), 0);
	pbuf_free(&body);
	return xml;
}

static char *
mk_req(const char *method, const char *params)
{
	return mk_stanza(CLIENT, THREAD, OSRFMSG_REQUEST, 1, method, params);
}

/* Decoded stanza i of the bus. */
struct got {
	struct tmsg		t;
	struct osrfmsg_list	l;
};

static void
got_load(struct got *g, struct bus *bus, size_t i)
{
	const char	*xml = th_fakebus_sent(bus, i);

	ck_assert_ptr_nonnull(xml);
	memset(g, 0, sizeof(*g));
	ck_assert_int_eq(tmsg_xml_parse(xml, strlen(xml), &g->t, NULL), 0);
	ck_assert_int_eq(osrfmsg_decode(g->t.body, strlen(g->t.body), &g->l,
	    NULL), 0);
}

static void
got_clear(struct got *g)
{
	osrfmsg_list_clear(&g->l);
	tmsg_clear(&g->t);
}

static char *
dump(const json_t *v)
{
	struct pbuf	b = { 0 };

	ck_assert_int_eq(osrfmsg_json_write(v, &b, NULL), 0);
	return b.data;
}

static void
assert_status(const struct osrfmsg *m, const char *cls, int code,
    const char *text)
{
	ck_assert_int_eq(m->type, OSRFMSG_STATUS);
	ck_assert_str_eq(m->payload_class, cls);
	ck_assert_int_eq(m->status_code, code);
	if (text != NULL)
		ck_assert_str_eq(m->status, text);
}

static void
assert_result(const struct osrfmsg *m, const char *json)
{
	char	*s;

	ck_assert_int_eq(m->type, OSRFMSG_RESULT);
	ck_assert_str_eq(m->payload_class, OSRFMSG_C_RESULT);
	s = dump(m->content);
	ck_assert_str_eq(s, json);
	free(s);
}

/* ----------------------------------------------- the test service */

static int
h_add(struct drover_req *r, void *user)
{
	return drover_respond_new(r, json_integer(
	    json_integer_value(drover_req_param(r, 0)) +
	    json_integer_value(drover_req_param(r, 1))));
}

static int
h_fail(struct drover_req *r, void *user)
{
	return -EIO;
}

static int
h_err(struct drover_req *r, void *user)
{
	(void)drover_respond_new(r, json_string("partial"));
	return drover_req_error(r, 400, "bad %s", "input");
}

/* params [n, size]: n strings of size bytes */
static int
h_blob(struct drover_req *r, void *user)
{
	json_int_t	 n = json_integer_value(drover_req_param(r, 0));
	json_int_t	 size = json_integer_value(drover_req_param(r, 1));
	json_int_t	 i;
	char		*s;
	int		 rc = 0;

	s = malloc((size_t)size + 1);
	memset(s, 'x', (size_t)size);
	s[size] = '\0';
	for (i = 0; i < n && rc == 0; i++)
		rc = drover_respond_new(r, json_string(s));
	free(s);
	return rc;
}

static int
h_none(struct drover_req *r, void *user)
{
	return 0;
}

static int
h_twice(struct drover_req *r, void *user)
{
	ck_assert_int_eq(drover_respond_complete_new(r, json_integer(1)), 0);
	ck_assert_int_eq(drover_respond_new(r, json_integer(2)), -EALREADY);
	ck_assert_int_eq(drover_req_error(r, 500, "late"), -EALREADY);
	return 1;
}

static int
h_panic(struct drover_req *r, void *user)
{
	drover_req_panic(r);
	return drover_respond_new(r, json_true());
}

static struct drover_svc	*svc;
static struct bus			*bus;

static void
setup(void)
{
	log_init("test");
	log_set_level(LOGL_ERROR);
	svc = rt_svc_new("t.svc");
	svc->registering = 1;
	ck_assert_int_eq(drover_register_method(svc, "t.add", h_add, "Adds",
	    2, 0, NULL), 0);
	ck_assert_int_eq(drover_register_method(svc, "t.fail", h_fail, "",
	    0, 0, NULL), 0);
	ck_assert_int_eq(drover_register_method(svc, "t.err", h_err, "",
	    0, 0, NULL), 0);
	ck_assert_int_eq(drover_register_method(svc, "t.blob", h_blob, "",
	    2, DROVER_METHOD_STREAMING, NULL), 0);
	ck_assert_int_eq(drover_register_method(svc, "t.none", h_none, "",
	    0, DROVER_METHOD_STREAMING | DROVER_METHOD_CACHABLE, NULL), 0);
	ck_assert_int_eq(drover_register_method(svc, "t.twice", h_twice, "",
	    0, 0, NULL), 0);
	ck_assert_int_eq(drover_register_method(svc, "t.panic", h_panic, "",
	    0, 0, NULL), 0);
	svc->registering = 0;
	ck_assert_int_eq(rt_svc_freeze(svc), 0);
	bus = th_fakebus_new(DRONE);
}

static void
teardown(void)
{
	rt_inbox_free(&svc->inbox);
	rt_svc_free(&svc);
	bus_free(&bus);
}

static int
serve(const char *xml)
{
	return rt_serve(svc, bus, NULL, 1, xml, strlen(xml));
}

static void
serve_req(const char *method, const char *params)
{
	char	*xml = mk_req(method, params);

	ck_assert_int_eq(serve(xml), WORKER_OK);
	free(xml);
}

/* --------------------------------------------------- registration */

START_TEST(test_register_rules)
{
	struct drover_svc	*s = rt_svc_new("x");

	ck_assert_int_eq(drover_register_method(s, "a", h_none, "", 0, 0,
	    NULL), -EPERM);
	s->registering = 1;
	ck_assert_int_eq(drover_register_method(s, "a", h_none, "", 0, 0,
	    NULL), 0);
	ck_assert_int_eq(drover_register_method(s, "a", h_none, "", 0, 0,
	    NULL), -EEXIST);
	ck_assert_int_eq(drover_register_method(s, "b", h_none, "", 0,
	    DROVER_METHOD_STREAMING, NULL), 0);
	ck_assert_int_eq(drover_register_method(s, "b.atomic", h_none, "", 0,
	    0, NULL), -EEXIST);
	ck_assert_int_eq(drover_register_method(s, "opensrf.system.echo",
	    h_none, "", 0, 0, NULL), -EEXIST);
	ck_assert_int_eq(drover_register_method(s, "", h_none, "", 0, 0,
	    NULL), -EINVAL);
	ck_assert_int_eq(drover_register_method(s, "with space", h_none, "",
	    0, 0, NULL), -EINVAL);
	ck_assert_int_eq(drover_register_method(s, "c", NULL, "", 0, 0,
	    NULL), -EINVAL);
	ck_assert_int_eq(drover_register_method(s, "c", h_none, "", -1, 0,
	    NULL), -EINVAL);
	ck_assert_int_eq(drover_register_method(s, "c", h_none, "", 0, 0x40,
	    NULL), -EINVAL);
	s->registering = 0;
	ck_assert_int_eq(rt_svc_freeze(s), 0);
	ck_assert_ptr_nonnull(rt_svc_method(s, "b.atomic"));
	ck_assert_ptr_nonnull(rt_svc_method(s, "opensrf.system.time"));
	ck_assert_ptr_null(rt_svc_method(s, "opensrf.system.time.atomic"));
	ck_assert_ptr_null(rt_svc_method(s, "zz"));
	rt_svc_free(&s);
	ck_assert_ptr_null(s);
}
END_TEST

/* ------------------------------------------------------- dispatch */

START_TEST(test_single_result_one_stanza)
{
	struct got	g;

	serve_req("t.add", "[2,2]");
	ck_assert_uint_eq(th_fakebus_nsent(bus), 1);
	got_load(&g, bus, 0);
	ck_assert_str_eq(g.t.to, CLIENT);
	ck_assert_str_eq(g.t.from, DRONE);
	ck_assert_str_eq(g.t.thread, THREAD);
	ck_assert_str_eq(g.t.osrf_xid, XID);
	ck_assert_uint_eq(g.l.n, 2);
	assert_result(&g.l.msg[0], "4");
	ck_assert_int_eq(g.l.msg[0].thread_trace, 1);
	assert_status(&g.l.msg[1], OSRFMSG_C_CONNECT_STATUS, 205,
	    "Request Complete");
	got_clear(&g);
}
END_TEST

/* The drone's answer to add 2,2 is byte for byte OpenSRF's (capture
 * drone_response.xml, C->S). */
START_TEST(test_matches_capture)
{
	static const char want_body[] =
	    "[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"1\","
	    "\"locale\":\"en-US\",\"api_level\":1,\"type\":\"RESULT\","
	    "\"payload\":{\"__c\":\"osrfResult\",\"__p\":{\"status\":\"OK\","
	    "\"statusCode\":\"200\",\"content\":4}}}},{\"__c\":\"osrfMessage\","
	    "\"__p\":{\"threadTrace\":\"1\",\"locale\":\"en-US\",\"api_level\":"
	    "1,\"type\":\"STATUS\",\"payload\":{\"__c\":\"osrfConnectStatus\","
	    "\"__p\":{\"status\":\"Request Complete\",\"statusCode\":\"205\"}}}}]";
	const char	*xml;
	const char	*b, *e;

	serve_req("t.add", "[2,2]");
	xml = th_fakebus_sent(bus, 0);
	b = strstr(xml, "<body>");
	e = strstr(xml, "</body>");
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(e);
	b += 6;
	/* the JSON has quotes but no & < >: the body text is unescaped */
	ck_assert_int_eq((int)(e - b), (int)strlen(want_body));
	ck_assert_int_eq(strncmp(b, want_body, strlen(want_body)), 0);
}
END_TEST

static const struct {
	const char	*method;
	const char	*params;
	int		 code;
	const char	*text;
	int		 results;	/* RESULTs before the status */
} err_cases[] = {
	{ "nope", "[]", 404, "Method [nope] not found for service t.svc", 0 },
	{ "t.add", "[1]", 404,
	    "Not enough params for method t.add / service t.svc", 0 },
	{ "t.add.atomic", "[1,2]", 404,
	    "Method [t.add.atomic] not found for service t.svc", 0 },
	{ "t.blob.atomic", "[]", 404,
	    "Not enough params for method t.blob.atomic / service t.svc", 0 },
	{ "t.fail", "[]", 404, "An unknown server error occurred", 0 },
	{ "t.err", "[]", 400, "bad input", 1 },
	{ "opensrf.system.method", "[]", 404,
	    "Not enough params for method opensrf.system.method / service "
	    "t.svc", 0 },
	{ "opensrf.system.method", "[5]", 400, NULL, 0 },
};

START_TEST(test_error_statuses)
{
	struct got	g;
	size_t		last;

	serve_req(err_cases[_i].method, err_cases[_i].params);
	ck_assert_uint_eq(th_fakebus_nsent(bus), 1);
	got_load(&g, bus, 0);
	ck_assert_uint_eq(g.l.n, (size_t)err_cases[_i].results + 1);
	last = g.l.n - 1;
	assert_status(&g.l.msg[last], OSRFMSG_C_METHOD_EXCEPTION,
	    err_cases[_i].code, err_cases[_i].text);
	ck_assert_int_eq(g.l.msg[last].thread_trace, 1);
	got_clear(&g);
}
END_TEST

START_TEST(test_complete_once)
{
	struct got	g;

	serve_req("t.twice", "[]");
	ck_assert_uint_eq(th_fakebus_nsent(bus), 1);
	got_load(&g, bus, 0);
	ck_assert_uint_eq(g.l.n, 2);
	assert_result(&g.l.msg[0], "1");
	assert_status(&g.l.msg[1], OSRFMSG_C_CONNECT_STATUS, 205, NULL);
	got_clear(&g);
}
END_TEST

START_TEST(test_panic_exits)
{
	char	*xml = mk_req("t.panic", "[]");
	struct got g;

	ck_assert_int_eq(serve(xml), WORKER_EXIT);
	free(xml);
	got_load(&g, bus, 0);
	ck_assert_uint_eq(g.l.n, 2);
	assert_result(&g.l.msg[0], "true");
	got_clear(&g);
}
END_TEST

START_TEST(test_unreadable_body)
{
	char	*xml;
	struct got g;

	xml = strdup("<message to='" DRONE "' from='" CLIENT "'><thread>"
	    THREAD "</thread><body>[{\"__c\":\"osrfMessage\",\"__p\":"
	    "{\"threadTrace\":\"7\",\"type\":\"BOGUS\"}}]</body></message>");
	ck_assert_int_eq(serve(xml), WORKER_OK);
	free(xml);
	ck_assert_uint_eq(th_fakebus_nsent(bus), 1);
	got_load(&g, bus, 0);
	ck_assert_uint_eq(g.l.n, 1);
	assert_status(&g.l.msg[0], OSRFMSG_C_METHOD_EXCEPTION, 400, NULL);
	got_clear(&g);
}
END_TEST

START_TEST(test_error_stanza_dropped)
{
	char	*xml;

	xml = strdup("<message type='error' to='" DRONE "' from='" CLIENT
	    "'><error type='cancel' code='503'><service-unavailable "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
	    "<thread>x</thread><body>[]</body></message>");
	ck_assert_int_eq(serve(xml), WORKER_OK);
	free(xml);
	ck_assert_uint_eq(th_fakebus_nsent(bus), 0);
}
END_TEST

/* A stanza from CLIENT on THREAD to `to` carrying `body` as it is. */
static char *
mk_raw(const char *to, const char *body)
{
	struct tmsg	 t = TMSG_INIT;
	char		*xml;

	t.to = to;
	t.from = CLIENT;
	t.thread = THREAD;
	t.osrf_xid = XID;
	t.body = body;
	ck_assert_int_eq(tmsg_xml_write(&t, &xml, NULL), 0);
	return xml;
}

/* One hinted osrfMessage of `type` with threadTrace `trace`. */
#define OM(trace, type, rest) "{\"__c\":\"osrfMessage\",\"__p\":{" \
	"\"threadTrace\":\"" trace "\",\"type\":\"" type "\"" rest "}}"
#define OM_RESULT(trace) OM(trace, "RESULT", ",\"payload\":{\"__c\":" \
	"\"osrfResult\",\"__p\":{\"status\":\"OK\",\"statusCode\":\"200\"," \
	"\"content\":1}}")
#define OM_STATUS(trace) OM(trace, "STATUS", ",\"payload\":{\"__c\":" \
	"\"osrfConnectStatus\",\"__p\":{\"status\":\"Request Complete\"," \
	"\"statusCode\":\"205\"}}")
#define BARE_METHOD "{\"__c\":\"osrfMethod\",\"__p\":{\"method\":" \
	"\"t.add\",\"params\":[1,2]}}"

/*
 * Valid JSON that asks a service for nothing it can do: the client
 * still gets one 400 on its thread (with the threadTrace of the message
 * when there is one), never silence.
 */
static const struct {
	const char	*body;
	long long	 trace;
} not_osrf_cases[] = {
	{ "[]", 0 },
	{ "[1,\"two\"]", 0 },
	{ "[" BARE_METHOD "]", 0 },	/* an osrfMethod without its message */
	{ BARE_METHOD, 0 },		/* not even in an array */
	{ "{}", 0 },
	{ "[" OM_RESULT("3") "]", 3 },	/* a RESULT is an answer, not a
					   question */
	{ "[" OM("4", "DISCONNECT", "") "]", 4 }, /* no session to end */
};

START_TEST(test_not_osrf_body)
{
	struct got	 g;
	char		*xml = mk_raw(DRONE, not_osrf_cases[_i].body);

	ck_assert_int_eq(serve(xml), WORKER_OK);
	free(xml);
	ck_assert_uint_eq(th_fakebus_nsent(bus), 1);
	got_load(&g, bus, 0);
	ck_assert_str_eq(g.t.to, CLIENT);
	ck_assert_str_eq(g.t.thread, THREAD);
	ck_assert_uint_eq(g.l.n, 1);
	assert_status(&g.l.msg[0], OSRFMSG_C_METHOD_EXCEPTION, 400, NULL);
	ck_assert_int_eq(g.l.msg[0].thread_trace, not_osrf_cases[_i].trace);
	got_clear(&g);
}
END_TEST

/*
 * The parent counted the frame accepted: a refused one is a failed
 * request on the scoreboard, so accepted = completed + failed + queued +
 * rejected still holds; one served request counts once, as before.
 */
START_TEST(test_refusal_counted)
{
	struct sb	*sb;
	struct sb_info	 in;
	char		 name[64], *xml;

	sb = th_sb_create("rtrefuse", NULL, 0600, name, sizeof(name));
	xml = mk_raw(DRONE, not_osrf_cases[_i].body);
	ck_assert_int_eq(rt_serve(svc, bus, sb_slot(sb, 0), 1, xml,
	    strlen(xml)), WORKER_OK);
	free(xml);
	xml = mk_req("t.add", "[1,2]");
	ck_assert_int_eq(rt_serve(svc, bus, sb_slot(sb, 0), 1, xml,
	    strlen(xml)), WORKER_OK);
	free(xml);
	ck_assert_int_eq(sb_read_info(sb, &in), 0);
	ck_assert_uint_eq(in.counters[SB_C_FAILED], 1);
	ck_assert_uint_eq(in.counters[SB_C_COMPLETED], 1);
	sb_destroy(&sb);
}
END_TEST

/*
 * A STATUS is never answered: two services that answered each other's
 * stray statuses with statuses would do so forever.
 */
START_TEST(test_status_to_service_dropped)
{
	char	*xml = mk_raw(DRONE, "[" OM_STATUS("5") "]");

	ck_assert_int_eq(serve(xml), WORKER_OK);
	free(xml);
	ck_assert_uint_eq(th_fakebus_nsent(bus), 0);
}
END_TEST

/* A REQUEST is served and the RESULT beside it refused, in order. */
START_TEST(test_mixed_body)
{
	struct got	 g;
	char		*xml;

	xml = mk_raw(DRONE, "[" OM("1", "REQUEST", ",\"payload\":{\"__c\":"
	    "\"osrfMethod\",\"__p\":{\"method\":\"t.add\",\"params\":[2,3]}}")
	    "," OM_RESULT("2") "]");
	ck_assert_int_eq(serve(xml), WORKER_OK);
	free(xml);
	ck_assert_uint_eq(th_fakebus_nsent(bus), 2);
	got_load(&g, bus, 0);
	ck_assert_uint_eq(g.l.n, 2);
	assert_result(&g.l.msg[0], "5");
	ck_assert_int_eq(g.l.msg[1].thread_trace, 1);
	got_clear(&g);
	got_load(&g, bus, 1);
	ck_assert_uint_eq(g.l.n, 1);
	assert_status(&g.l.msg[0], OSRFMSG_C_METHOD_EXCEPTION, 400, NULL);
	ck_assert_int_eq(g.l.msg[0].thread_trace, 2);
	got_clear(&g);
}
END_TEST

START_TEST(test_send_failure_reported)
{
	char	*xml = mk_req("t.add", "[1,1]");

	/* the client heard nothing: the listener must answer for us */
	th_fakebus_fail_send(bus, ENOTCONN);
	ck_assert_int_eq(serve(xml), WORKER_UNSENT);
	free(xml);
}
END_TEST

/* --------------------------------------------------------- atomic */

static const struct {
	const char	*method;
	const char	*params;
	const char	*content;
} atomic_cases[] = {
	{ "opensrf.system.echo.atomic", "[1,\"a\",null]", "[1,\"a\",null]" },
	/* drover sends RESULT [] + 205 where OpenSRF sends nothing */
	{ "opensrf.system.echo.atomic", "[]", "[]" },
	{ "t.none.atomic", "[]", "[]" },
	{ "t.blob.atomic", "[2,1]", "[\"x\",\"x\"]" },
	{ "opensrf.system.method.atomic", "[\"zz\"]", "[]" },
};

START_TEST(test_atomic)
{
	struct got	g;

	serve_req(atomic_cases[_i].method, atomic_cases[_i].params);
	ck_assert_uint_eq(th_fakebus_nsent(bus), 1);
	got_load(&g, bus, 0);
	ck_assert_uint_eq(g.l.n, 2);
	assert_result(&g.l.msg[0], atomic_cases[_i].content);
	assert_status(&g.l.msg[1], OSRFMSG_C_CONNECT_STATUS, 205, NULL);
	got_clear(&g);
}
END_TEST

START_TEST(test_echo_streams)
{
	struct got	g;

	serve_req("opensrf.system.echo", "[\"hello\",2]");
	got_load(&g, bus, 0);
	ck_assert_uint_eq(g.l.n, 3);
	assert_result(&g.l.msg[0], "\"hello\"");
	assert_result(&g.l.msg[1], "2");
	assert_status(&g.l.msg[2], OSRFMSG_C_CONNECT_STATUS, 205, NULL);
	got_clear(&g);
}
END_TEST

/* ------------------------------------------------- system methods */

START_TEST(test_system_method_shape)
{
	struct got	g;

	serve_req("opensrf.system.method", "[\"t.ad\"]");
	got_load(&g, bus, 0);
	ck_assert_uint_eq(g.l.n, 2);
	/* spec 4.3: unhinted, OpenSRF's keys in its order */
	assert_result(&g.l.msg[0], "{\"api_name\":\"t.add\",\"method\":null,"
	    "\"service\":\"t.svc\",\"notes\":\"Adds\",\"argc\":2,"
	    "\"sysmethod\":0,\"atomic\":0,\"cachable\":0}");
	got_clear(&g);
}
END_TEST

START_TEST(test_system_method_all_order)
{
	static const char *const want[] = {
		"t.add", "t.fail", "t.err", "t.blob", "t.blob.atomic",
		"t.none", "t.none.atomic", "t.twice", "t.panic",
		"opensrf.system.method", "opensrf.system.method.atomic",
		"opensrf.system.method.all", "opensrf.system.method.all.atomic",
		"opensrf.system.echo", "opensrf.system.echo.atomic",
		"opensrf.system.time",
	};
	struct got	 g;
	size_t		 i;
	json_t		*c;

	serve_req("opensrf.system.method.all", "[]");
	got_load(&g, bus, 0);
	ck_assert_uint_eq(g.l.n, ARRAY_LEN(want) + 1);
	for (i = 0; i < ARRAY_LEN(want); i++) {
		c = g.l.msg[i].content;
		ck_assert_str_eq(json_string_value(json_object_get(c,
		    "api_name")), want[i]);
	}
	c = g.l.msg[6].content;		/* t.none.atomic */
	ck_assert_int_eq(json_integer_value(json_object_get(c, "atomic")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "cachable")),
	    1);
	c = g.l.msg[13].content;	/* opensrf.system.echo */
	ck_assert_int_eq(json_integer_value(json_object_get(c, "sysmethod")),
	    1);
	ck_assert(json_is_null(json_object_get(c, "method")));
	got_clear(&g);
}
END_TEST

START_TEST(test_system_time)
{
	struct got	g;

	serve_req("opensrf.system.time", "[]");
	got_load(&g, bus, 0);
	ck_assert_uint_eq(g.l.n, 2);
	ck_assert(json_is_integer(g.l.msg[0].content));
	ck_assert_int_gt(json_integer_value(g.l.msg[0].content), 1700000000);
	got_clear(&g);
}
END_TEST

/* ------------------------------------------- bundling and chunking */

/*
 * Bodies stay below RT_BUNDLE_SIZE unless they hold a single message,
 * and every result arrives in order.
 */
START_TEST(test_bundling)
{
	struct got	 g;
	size_t		 i, j, results = 0;
	const char	*b, *e;
	char		*xml;

	/* 40 results of ~1.2 KiB each: about 50 KiB in all */
	serve_req("t.blob", "[40,1100]");
	ck_assert_uint_gt(th_fakebus_nsent(bus), 1);
	for (i = 0; i < th_fakebus_nsent(bus); i++) {
		xml = (char *)th_fakebus_sent(bus, i);
		b = strstr(xml, "<body>") + 6;
		e = strstr(xml, "</body>");
		got_load(&g, bus, i);
		if (g.l.n > 1)
			ck_assert_int_lt((int)(e - b), RT_BUNDLE_SIZE);
		for (j = 0; j < g.l.n; j++)
			if (g.l.msg[j].type == OSRFMSG_RESULT)
				results++;
		if (i + 1 == th_fakebus_nsent(bus))
			assert_status(&g.l.msg[g.l.n - 1],
			    OSRFMSG_C_CONNECT_STATUS, 205, NULL);
		got_clear(&g);
	}
	ck_assert_uint_eq(results, 40);
}
END_TEST

/*
 * A string of n bytes is n + 2 bytes of JSON with two quotes, which the
 * escaping estimate counts 11 each: n + 24.  Up to RT_CHUNK_SIZE it is
 * one RESULT, one byte more and it is chunked.
 */
static const struct {
	int	 size;
	int	 chunked;
} chunk_cases[] = {
	{ RT_CHUNK_SIZE - 24, 0 },
	{ RT_CHUNK_SIZE - 23, 1 },
	{ 3 * RT_CHUNK_SIZE, 1 },
};

START_TEST(test_chunking_boundary)
{
	struct got	 g;
	struct pbuf	 all = { 0 };
	char		 params[64];
	size_t		 i, n;
	json_t		*v;
	int		 size = chunk_cases[_i].size;

	snprintf(params, sizeof(params), "[1,%d]", size);
	serve_req("t.blob", params);
	n = th_fakebus_nsent(bus);
	if (!chunk_cases[_i].chunked) {
		ck_assert_uint_eq(n, 1);
		got_load(&g, bus, 0);
		ck_assert_uint_eq(g.l.n, 2);
		ck_assert_str_eq(g.l.msg[0].payload_class, OSRFMSG_C_RESULT);
		ck_assert_uint_eq(strlen(json_string_value(
		    g.l.msg[0].content)), (size_t)size);
		got_clear(&g);
		return;
	}
	/* slices, one per stanza, then the terminator, then the 205 */
	ck_assert_uint_ge(n, 3);
	for (i = 0; i + 2 < n; i++) {
		got_load(&g, bus, i);
		ck_assert_uint_eq(g.l.n, 1);
		ck_assert_str_eq(g.l.msg[0].payload_class, OSRFMSG_C_PARTIAL);
		ck_assert_int_eq(g.l.msg[0].status_code, 206);
		ck_assert_uint_le(strlen(json_string_value(
		    g.l.msg[0].content)), RT_CHUNK_SIZE);
		ck_assert_int_eq(pbuf_adds(&all,
		    json_string_value(g.l.msg[0].content)), 0);
		got_clear(&g);
	}
	got_load(&g, bus, n - 2);
	ck_assert_uint_eq(g.l.n, 1);
	ck_assert_str_eq(g.l.msg[0].payload_class,
	    OSRFMSG_C_PARTIAL_COMPLETE);
	ck_assert_int_eq(g.l.msg[0].status_code, 204);
	got_clear(&g);
	got_load(&g, bus, n - 1);
	assert_status(&g.l.msg[0], OSRFMSG_C_CONNECT_STATUS, 205, NULL);
	got_clear(&g);
	v = json_loadb(all.data, all.len, JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(strlen(json_string_value(v)), (size_t)size);
	json_decref(v);
	pbuf_free(&all);
}
END_TEST

/* The estimate of spec 3.5. */
START_TEST(test_escaped_size)
{
	ck_assert_uint_eq(rt_reply_escaped_size("abc", 3), 3);
	ck_assert_uint_eq(rt_reply_escaped_size("<&>\"", 4), 4 + 3 + 4 + 3 +
	    11);
}
END_TEST

/* ------------------------------------------------------- sessions */

START_TEST(test_connected_session)
{
	struct got	 g;
	char		*con, *req, *disc;

	con = mk_stanza(CLIENT, THREAD, OSRFMSG_CONNECT, 0, NULL, NULL);
	req = mk_stanza(CLIENT, THREAD, OSRFMSG_REQUEST, 1, "t.add", "[3,4]");
	disc = mk_stanza(CLIENT, THREAD, OSRFMSG_DISCONNECT, 1, NULL, NULL);
	/* a stray message of another thread is not served */
	ck_assert_int_eq(th_fakebus_inject(bus, req), 0);
	free(req);
	req = mk_stanza(CLIENT, "other", OSRFMSG_REQUEST, 1, "t.add", "[1,1]");
	ck_assert_int_eq(th_fakebus_inject(bus, req), 0);
	free(req);
	req = mk_stanza(CLIENT, THREAD, OSRFMSG_REQUEST, 2, "t.add", "[5,5]");
	ck_assert_int_eq(th_fakebus_inject(bus, req), 0);
	ck_assert_int_eq(th_fakebus_inject(bus, disc), 0);
	/* everything queued before the session is stale and dropped, so
	 * hand the requests over after CONNECT: inject after flush by
	 * serving CONNECT through the session helper */
	ck_assert_int_eq(rt_serve(svc, bus, NULL, 1, con, strlen(con)),
	    WORKER_OK);
	free(con);
	free(req);
	free(disc);
	/* the queued stanzas predate CONNECT: dropped; timeout follows */
	ck_assert_uint_eq(th_fakebus_nsent(bus), 2);
	got_load(&g, bus, 0);
	assert_status(&g.l.msg[0], OSRFMSG_C_CONNECT_STATUS, 200,
	    "Connection Successful");
	got_clear(&g);
	got_load(&g, bus, 1);
	assert_status(&g.l.msg[0], OSRFMSG_C_CONNECT_STATUS, 408,
	    "Disconnected on timeout");
	ck_assert_int_eq(g.l.msg[0].thread_trace, 0);
	got_clear(&g);
}
END_TEST

/* Requests that arrive during the session (on_send hook injects them
 * when the drone answers). */
struct script {
	struct bus		*bus;
	const char		*after[4][3];	/* per stanza sent */
	size_t			 at;
};

static void
play(void *arg, const char *xml, size_t len)
{
	struct script	*sc = arg;
	size_t		 i;

	if (sc->at >= ARRAY_LEN(sc->after))
		return;
	for (i = 0; sc->after[sc->at][i] != NULL; i++)
		ck_assert_int_eq(th_fakebus_inject(sc->bus,
		    sc->after[sc->at][i]), 0);
	sc->at++;
}

START_TEST(test_session_requests_then_disconnect)
{
	struct script	 sc;
	struct got	 g;
	char		*con, *r1, *other, *disc;

	con = mk_stanza(CLIENT, THREAD, OSRFMSG_CONNECT, 0, NULL, NULL);
	r1 = mk_stanza(CLIENT, THREAD, OSRFMSG_REQUEST, 1, "t.add", "[3,4]");
	other = mk_stanza(CLIENT, "other", OSRFMSG_REQUEST, 1, "t.add",
	    "[1,1]");
	disc = mk_stanza(CLIENT, THREAD, OSRFMSG_DISCONNECT, 1, NULL, NULL);
	memset(&sc, 0, sizeof(sc));
	sc.bus = bus;
	sc.after[0][0] = other;	/* after the 200: a stranger, then r1 */
	sc.after[0][1] = r1;
	sc.after[1][0] = disc;	/* after r1's answer */
	th_fakebus_on_send(bus, play, &sc);
	ck_assert_int_eq(rt_serve(svc, bus, NULL, 1, con, strlen(con)),
	    WORKER_OK);
	th_fakebus_on_send(bus, NULL, NULL);
	/* 200, [RESULT 7, 205] and nothing for "other" or DISCONNECT */
	ck_assert_uint_eq(th_fakebus_nsent(bus), 2);
	got_load(&g, bus, 1);
	ck_assert_uint_eq(g.l.n, 2);
	assert_result(&g.l.msg[0], "7");
	got_clear(&g);
	free(con);
	free(r1);
	free(other);
	free(disc);
}
END_TEST

/* In a session too: a RESULT from the client gets its 400, the session
 * goes on. */
START_TEST(test_session_result_refused)
{
	struct script	 sc;
	struct got	 g;
	char		*con, *res, *r1, *disc;

	con = mk_stanza(CLIENT, THREAD, OSRFMSG_CONNECT, 0, NULL, NULL);
	res = mk_raw(DRONE, "[" OM_RESULT("5") "]");
	r1 = mk_stanza(CLIENT, THREAD, OSRFMSG_REQUEST, 6, "t.add", "[3,4]");
	disc = mk_stanza(CLIENT, THREAD, OSRFMSG_DISCONNECT, 6, NULL, NULL);
	memset(&sc, 0, sizeof(sc));
	sc.bus = bus;
	sc.after[0][0] = res;	/* after the 200 */
	sc.after[0][1] = r1;
	sc.after[2][0] = disc;	/* after r1's answer */
	th_fakebus_on_send(bus, play, &sc);
	ck_assert_int_eq(rt_serve(svc, bus, NULL, 1, con, strlen(con)),
	    WORKER_OK);
	th_fakebus_on_send(bus, NULL, NULL);
	/* 200, the 400 for trace 5, [RESULT 7, 205]; no 408 */
	ck_assert_uint_eq(th_fakebus_nsent(bus), 3);
	got_load(&g, bus, 1);
	assert_status(&g.l.msg[0], OSRFMSG_C_METHOD_EXCEPTION, 400, NULL);
	ck_assert_int_eq(g.l.msg[0].thread_trace, 5);
	got_clear(&g);
	got_load(&g, bus, 2);
	assert_result(&g.l.msg[0], "7");
	got_clear(&g);
	free(con);
	free(res);
	free(r1);
	free(disc);
}
END_TEST

/*
 * A stanza that reaches this drone's connection but names another
 * address (XMPP hands a message for a vanished resource to another one
 * of the same account) is dropped, never run, even on the session's
 * thread; the domain of our own JID matches in any case, as in XMPP.
 */
#define OTHER_DRONE	"opensrf@private.localhost/t.svc_drone_vm_1_99"
#define DRONE_UPPER	"opensrf@PRIVATE.LocalHost/opensrf.math_drone_vm_" \
	"1795549618.937243_22487"

START_TEST(test_session_stray_dropped)
{
	struct script	 sc;
	struct got	 g;
	struct pbuf	 body = { 0 };
	struct osrfmsg	 m;
	json_t		*p;
	char		*con, *stray, *r1, *disc;

	con = mk_stanza(CLIENT, THREAD, OSRFMSG_CONNECT, 0, NULL, NULL);
	disc = mk_stanza(CLIENT, THREAD, OSRFMSG_DISCONNECT, 2, NULL, NULL);
	/* the same request twice: to someone else, then to us */
	memset(&m, 0, sizeof(m));
	m.type = OSRFMSG_REQUEST;
	m.thread_trace = 2;
	m.method = "t.add";
	m.params = p = json_pack("[ii]", 3, 4);
	ck_assert_int_eq(osrfmsg_encode(&m, 1, &body, NULL), 0);
	json_decref(p);
	stray = mk_raw(OTHER_DRONE, body.data);
	r1 = mk_raw(DRONE_UPPER, body.data);
	pbuf_free(&body);
	memset(&sc, 0, sizeof(sc));
	sc.bus = bus;
	sc.after[0][0] = stray;	/* after the 200 */
	sc.after[0][1] = r1;
	sc.after[1][0] = disc;	/* after the one answer */
	th_fakebus_on_send(bus, play, &sc);
	ck_assert_int_eq(rt_serve(svc, bus, NULL, 1, con, strlen(con)),
	    WORKER_OK);
	th_fakebus_on_send(bus, NULL, NULL);
	/* 200 and one [RESULT 7, 205]: the stray one was not run */
	ck_assert_uint_eq(th_fakebus_nsent(bus), 2);
	got_load(&g, bus, 1);
	assert_result(&g.l.msg[0], "7");
	got_clear(&g);
	free(con);
	free(stray);
	free(r1);
	free(disc);
}
END_TEST

/* --------------------------------------------------- sub-requests */

/* In-process "opensrf.dbmath": a second service on its own fake bus. */
struct peer {
	struct drover_svc	*svc;
	struct bus		*bus;	/* the peer's */
	struct bus		*back;	/* the caller's, answers go there */
	int			 bounce;
};

static void
peer_hook(void *arg, const char *xml, size_t len)
{
	struct peer	*p = arg;
	size_t		 i;

	if (strstr(xml, "to=\"router@private.localhost/peer\"") == NULL)
		return;		/* the answer to the client */
	th_fakebus_clear(p->bus);
	if (p->bounce) {
		char	*b = malloc(len + 200);
		const char *rest = strchr(xml, '>') + 1;

		snprintf(b, len + 200, "<message type=\"error\" to=\"%s\" "
		    "from=\"router@x/opensrf.dbmath\"><error type=\"cancel\" "
		    "code=\"503\"><service-unavailable xmlns=\"urn:ietf:"
		    "params:xml:ns:xmpp-stanzas\"/></error>%s", DRONE, rest);
		ck_assert_int_eq(th_fakebus_inject(p->back, b), 0);
		free(b);
		return;
	}
	ck_assert_int_eq(rt_serve(p->svc, p->bus, NULL, 1, xml, len),
	    WORKER_OK);
	for (i = 0; i < th_fakebus_nsent(p->bus); i++)
		ck_assert_int_eq(th_fakebus_inject(p->back,
		    th_fakebus_sent(p->bus, i)), 0);
}

static int
addr_test(void *arg, const char *service, char *buf, size_t sz)
{
	snprintf(buf, sz, "router@private.localhost/%s", service);
	return 0;
}

static int
h_sub(struct drover_req *r, void *user)
{
	json_t	*res = NULL;
	char	*text = NULL;
	int	 code = 0, rc;

	rc = drover_call(drover_req_svc(r), "peer", "t.add",
	    drover_req_params(r), 1000, &res, &code, &text);
	if (rc == -EREMOTEIO) {
		rc = drover_req_error(r, code, "peer: %s", text);
		free(text);
		return rc;
	}
	if (rc < 0)
		return drover_req_error(r, 502, "peer: %s", strerror(-rc));
	return drover_respond_complete_new(r, res);
}

START_TEST(test_sub_request)
{
	struct drover_svc	*caller;
	struct peer		 p;
	struct got		 g;
	char			*xml;

	caller = rt_svc_new("caller");
	caller->registering = 1;
	ck_assert_int_eq(drover_register_method(caller, "sub", h_sub, "", 0,
	    0, NULL), 0);
	caller->registering = 0;
	ck_assert_int_eq(rt_svc_freeze(caller), 0);
	caller->addr_fn = addr_test;
	memset(&p, 0, sizeof(p));
	p.svc = svc;
	p.bus = th_fakebus_new("peer-drone");
	p.back = bus;
	p.bounce = _i;
	th_fakebus_on_send(bus, peer_hook, &p);
	xml = mk_req("sub", "[20,22]");
	ck_assert_int_eq(rt_serve(caller, bus, NULL, 1, xml, strlen(xml)),
	    WORKER_OK);
	free(xml);
	th_fakebus_on_send(bus, NULL, NULL);
	/* sent: the sub-request, then the answer to the client */
	ck_assert_uint_eq(th_fakebus_nsent(bus), 2);
	got_load(&g, bus, 0);
	ck_assert_str_eq(g.t.to, "router@private.localhost/peer");
	ck_assert_str_eq(g.t.osrf_xid, XID);	/* passed on */
	ck_assert_str_eq(g.l.msg[0].ingress, "srfsh");
	got_clear(&g);
	got_load(&g, bus, 1);
	ck_assert_str_eq(g.t.to, CLIENT);
	if (_i == 0) {
		assert_result(&g.l.msg[0], "42");
	} else {
		assert_status(&g.l.msg[0], OSRFMSG_C_METHOD_EXCEPTION, 502,
		    NULL);
	}
	got_clear(&g);
	rt_inbox_free(&caller->inbox);
	rt_svc_free(&caller);
	rt_inbox_free(&svc->inbox);
	bus_free(&p.bus);
}
END_TEST

/*
 * A connected client pipelines its next request while the drone waits
 * for a sub-request: the inbox keeps it, and it is served in order after
 * the first one.
 */
struct pipe_play {
	struct peer	 p;
	const char	*r1;		/* injected after the 200 */
	const char	*r2;		/* injected during the first sub-request */
	const char	*disc;		/* injected after the second answer */
	int		 subs, answers;
};

static void
pipe_hook(void *arg, const char *xml, size_t len)
{
	struct pipe_play	*pp = arg;

	if (strstr(xml, "to=\"router@private.localhost/peer\"") != NULL) {
		if (pp->subs++ == 0)
			ck_assert_int_eq(th_fakebus_inject(pp->p.back, pp->r2),
			    0);
		peer_hook(&pp->p, xml, len);
	} else if (strstr(xml, "Connection Successful") != NULL)
		ck_assert_int_eq(th_fakebus_inject(pp->p.back, pp->r1), 0);
	else if (strstr(xml, "\"RESULT\"") != NULL && ++pp->answers == 2)
		ck_assert_int_eq(th_fakebus_inject(pp->p.back, pp->disc), 0);
}

START_TEST(test_session_pipelined_during_subrequest)
{
	struct drover_svc	*caller;
	struct pipe_play	 pp;
	struct got		 g;
	char			*con, *r1, *r2, *disc;

	caller = rt_svc_new("caller");
	caller->registering = 1;
	ck_assert_int_eq(drover_register_method(caller, "sub", h_sub, "", 0,
	    0, NULL), 0);
	caller->registering = 0;
	ck_assert_int_eq(rt_svc_freeze(caller), 0);
	caller->addr_fn = addr_test;
	con = mk_stanza(CLIENT, THREAD, OSRFMSG_CONNECT, 0, NULL, NULL);
	r1 = mk_stanza(CLIENT, THREAD, OSRFMSG_REQUEST, 1, "sub", "[1,2]");
	r2 = mk_stanza(CLIENT, THREAD, OSRFMSG_REQUEST, 2, "sub", "[3,4]");
	disc = mk_stanza(CLIENT, THREAD, OSRFMSG_DISCONNECT, 2, NULL, NULL);
	memset(&pp, 0, sizeof(pp));
	pp.p.svc = svc;
	pp.p.bus = th_fakebus_new("peer-drone");
	pp.p.back = bus;
	pp.r1 = r1;
	pp.r2 = r2;
	pp.disc = disc;
	th_fakebus_on_send(bus, pipe_hook, &pp);
	ck_assert_int_eq(rt_serve(caller, bus, NULL, 1, con, strlen(con)),
	    WORKER_OK);
	th_fakebus_on_send(bus, NULL, NULL);
	ck_assert_int_eq(pp.subs, 2);
	ck_assert_int_eq(pp.answers, 2);
	/* 200, sub-request, answer 3, sub-request, answer 7: no 408 */
	ck_assert_uint_eq(th_fakebus_nsent(bus), 5);
	got_load(&g, bus, 2);
	ck_assert_str_eq(g.t.to, CLIENT);
	assert_result(&g.l.msg[0], "3");
	ck_assert_int_eq(g.l.msg[0].thread_trace, 1);
	got_clear(&g);
	got_load(&g, bus, 4);
	assert_result(&g.l.msg[0], "7");
	ck_assert_int_eq(g.l.msg[0].thread_trace, 2);
	got_clear(&g);
	free(con);
	free(r1);
	free(r2);
	free(disc);
	rt_inbox_free(&caller->inbox);
	rt_svc_free(&caller);
	rt_inbox_free(&svc->inbox);
	bus_free(&pp.p.bus);
}
END_TEST

/* ---------------------------------------------------------- cache */

START_TEST(test_cache_keys)
{
	char	k[RT_CACHE_KEY_MAX + 1], big[400];
	int	n;

	ck_assert_int_eq(rt_cache_key("", "a b\tc\n", k, sizeof(k)), 3);
	ck_assert_str_eq(k, "abc");
	ck_assert_int_eq(rt_cache_key("p.", "key", k, sizeof(k)), 5);
	ck_assert_str_eq(k, "p.key");
	ck_assert_int_eq(rt_cache_key("p.", " \t", k, sizeof(k)), -EINVAL);
	memset(big, 'a', 300);
	big[300] = '\0';
	n = rt_cache_key("", big, k, sizeof(k));
	ck_assert_int_eq(n, 10 + 32);
	/* lowercase hex MD5 of the 300 cleaned bytes (spec 8) */
	ck_assert_str_eq(k, "shortened_4e5475d125a33c6190718e75adc1b704");
	big[250] = '\0';	/* exactly 250: kept */
	ck_assert_int_eq(rt_cache_key("", big, k, sizeof(k)), 250);
	ck_assert_int_eq(rt_cache_ttl(0, 100), 100);
	ck_assert_int_eq(rt_cache_ttl(-5, 100), 100);
	ck_assert_int_eq(rt_cache_ttl(500, 100), 100);
	ck_assert_int_eq(rt_cache_ttl(50, 100), 50);
}
END_TEST

/* memcached unreachable: a clear error, quickly, and no crash. */
START_TEST(test_cache_down)
{
	char		*servers[] = { "127.0.0.1:1" };
	struct rt_cache	*c;
	json_t		*v = NULL;

	ck_assert_int_eq(rt_cache_new(servers, 1, 60, NULL, &c), 0);
	ck_assert_int_eq(rt_cache_put(c, "k", json_true(), 0), -ENOTCONN);
	ck_assert_ptr_nonnull(strstr(rt_cache_strerror(c), "memcached"));
	ck_assert_int_eq(rt_cache_get(c, "k", &v), -ENOTCONN);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(rt_cache_delete(c, "k"), -ENOTCONN);
	rt_cache_free(&c);
	ck_assert_ptr_null(c);
	/* a service without cache */
	ck_assert_int_eq(drover_cache_get(svc, "k", &v), -ENOTCONN);
}
END_TEST

/* --------------------------------------------------------- loader */

static const char *
libdir(void)
{
	const char	*d = getenv("DROVER_LIB");

	return d != NULL ? d : "lib";
}

START_TEST(test_load_plugins)
{
	static const char *const names[] = { "opensrf.math",
	    "opensrf.dbmath", "drover.test", "drover.cache" };
	struct drover_svc	*s;
	char			 err[RT_ERR_MAX];

	ck_assert_int_eq(rt_svc_load(names[_i], names[_i], libdir(), &s, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(rt_svc_init(s), 0);
	ck_assert_ptr_nonnull(rt_svc_method(s, "opensrf.system.echo"));
	ck_assert_uint_gt(s->nmethods, 7);
	rt_svc_free(&s);
}
END_TEST

START_TEST(test_load_missing)
{
	struct drover_svc	*s = (void *)1;
	char			 err[RT_ERR_MAX], want[RT_ERR_MAX];

	ck_assert_int_eq(rt_svc_load("x", "no.such.plugin", libdir(), &s,
	    err, sizeof(err)), -ENOENT);
	ck_assert_ptr_null(s);
	/* every name tried, in order */
	snprintf(want, sizeof(want), "tried %s/no.such.plugin, "
	    "%s/no.such.plugin.so, %s/libno.such.plugin.so", libdir(),
	    libdir(), libdir());
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	/* a name ending in .so gets nothing added; an OpenSRF name its
	 * drover counterpart */
	ck_assert_int_eq(rt_svc_load("x", "libosrf_nope.so", libdir(), &s,
	    err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "tried %s/libosrf_nope.so", libdir());
	ck_assert_msg(strstr(err, want) != NULL && strchr(err, ',') == NULL,
	    "%s", err);
}
END_TEST

/*
 * OpenSRF's own <implementation> names load drover's plugins, bare or
 * as a path where OpenSRF installs its library (absent here).
 */
static const struct {
	const char	*impl;
	const char	*file;		/* what must be loaded */
} alias_cases[] = {
	{ "libosrf_math.so", "/opensrf.math.so" },
	{ "libosrf_dbmath.so", "/opensrf.dbmath.so" },
	{ "libosrf_math", "/opensrf.math.so" },
	{ "/openils/lib/libosrf_dbmath.so", "/opensrf.dbmath.so" },
};

START_TEST(test_load_opensrf_names)
{
	struct drover_svc	*s = NULL;
	char			 err[RT_ERR_MAX], *want;

	ck_assert_msg(rt_svc_load("opensrf.x", alias_cases[_i].impl,
	    libdir(), &s, err, sizeof(err)) == 0, "%s", err);
	want = xasprintf("%s%s", libdir(), alias_cases[_i].file);
	ck_assert_str_eq(s->path, want);
	ck_assert_int_eq(rt_svc_init(s), 0);
	ck_assert_ptr_nonnull(rt_svc_method(s, "add"));
	free(want);
	rt_svc_free(&s);
}
END_TEST

/* A file that is not a shared object: dlerror()'s text is reported. */
START_TEST(test_load_not_elf)
{
	struct drover_svc	*s;
	char			 path[] = "/tmp/drover-test-XXXXXX";
	char			 err[RT_ERR_MAX];
	int			 fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "not a plugin\n", 13), 13);
	close(fd);
	ck_assert_int_eq(rt_svc_load("x", path, NULL, &s, err, sizeof(err)),
	    -ELIBBAD);
	unlink(path);
	ck_assert_ptr_nonnull(strstr(err, "dlopen: "));
	ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

/* A real shared object without the descriptor: named as such. */
START_TEST(test_load_no_descriptor)
{
	struct drover_svc	*s;
	Dl_info			 info;
	char			 err[RT_ERR_MAX];

	ck_assert_int_ne(dladdr((void *)json_object, &info), 0);
	ck_assert_int_eq(rt_svc_load("x", info.dli_fname, NULL, &s, err,
	    sizeof(err)), -ELIBBAD);
	ck_assert_ptr_nonnull(strstr(err, "is not a drover plugin"));
	ck_assert_ptr_nonnull(strstr(err, DROVER_SERVICE_SYMBOL));
}
END_TEST

static int
init_ok(struct drover_svc *s)
{
	return 0;
}

static const struct {
	struct drover_service_desc	 d;
	int				 rc;
	const char			*msg;
} desc_cases[] = {
	{ { DROVER_ABI_MAGIC, DROVER_ABI_MAJOR, DROVER_ABI_MINOR, "x",
	    init_ok, NULL, NULL }, 0, NULL },
	{ { DROVER_ABI_MAGIC, DROVER_ABI_MAJOR, 0, "x", init_ok, NULL,
	    NULL }, 0, NULL },
	{ { 0x12345678, DROVER_ABI_MAJOR, 0, "x", init_ok, NULL, NULL },
	    -EPROTO, "bad descriptor magic 0x12345678" },
	{ { DROVER_ABI_MAGIC, DROVER_ABI_MAJOR + 1, 0, "x", init_ok, NULL,
	    NULL }, -EPROTO, "plugin ABI 2.0, drover ABI 1.0: rebuild" },
	{ { DROVER_ABI_MAGIC, DROVER_ABI_MAJOR, DROVER_ABI_MINOR + 1, "x",
	    init_ok, NULL, NULL }, -EPROTO, "plugin ABI 1.1, drover ABI 1.0" },
	{ { DROVER_ABI_MAGIC, DROVER_ABI_MAJOR, 0, "x", NULL, NULL, NULL },
	    -EPROTO, "no init hook" },
};

/* An ABI mismatch is refused, naming the service, file and versions. */
START_TEST(test_desc_check)
{
	char	err[RT_ERR_MAX] = "";
	int	rc;

	rc = rt_desc_check(&desc_cases[_i].d, "svc.x", "/p/x.so", err,
	    sizeof(err));
	ck_assert_int_eq(rc, desc_cases[_i].rc);
	if (rc < 0) {
		ck_assert_msg(strstr(err, desc_cases[_i].msg) != NULL, "%s",
		    err);
		ck_assert_ptr_nonnull(strstr(err, "service svc.x: /p/x.so"));
	}
}
END_TEST

/* --------------------------------------------------- drover-call */

static const struct {
	const char	*args[6];
	int		 code;
	const char	*out;
	const char	*err;
} cli_cases[] = {
	{ { "--help" }, 0, "usage: drover-call", NULL },
	{ { "--version" }, 0, "drover-call 0.", NULL },
	{ { "onlyservice" }, 1, NULL, "usage: drover-call" },
	{ { "--bench", "0", "s", "m" }, 1, NULL, "usage:" },
	{ { "--local", "/nonexistent", "s", "m" }, 4, NULL,
	    "cannot open the bus" },
	{ { "--local", "/tmp", "s", "m", "{bad" }, 1, NULL, "is not JSON" },
	{ { "-t", "0", "s", "m" }, 1, NULL, "usage:" },
};

START_TEST(test_cli)
{
	char		 bin[512], *argv[10], *out, *err;
	const char	*b = getenv("DROVER_BIN");
	int		 n = 0, i, st;

	snprintf(bin, sizeof(bin), "%s/drover-call", b != NULL ? b : "bin");
	argv[n++] = bin;
	for (i = 0; i < 6 && cli_cases[_i].args[i] != NULL; i++)
		argv[n++] = (char *)cli_cases[_i].args[i];
	argv[n] = NULL;
	st = th_run(argv, &out, &err);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), cli_cases[_i].code);
	if (cli_cases[_i].out != NULL)
		ck_assert_ptr_nonnull(strstr(out, cli_cases[_i].out));
	if (cli_cases[_i].err != NULL)
		ck_assert_msg(strstr(err, cli_cases[_i].err) != NULL, "%s",
		    err);
	free(out);
	free(err);
}
END_TEST

/* ------------------------------------------------ example plugins */

static struct drover_svc *
load(const char *name)
{
	struct drover_svc	*s;
	char			 err[RT_ERR_MAX];

	ck_assert_msg(rt_svc_load(name, name, libdir(), &s, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(rt_svc_init(s), 0);
	return s;
}

static const struct {
	const char	*method;
	const char	*params;
	const char	*result;	/* NULL: error status */
	int		 code;
} dbmath_cases[] = {
	/* spec 4.4 */
	{ "add", "[2,2]", "4", 0 },
	{ "sub", "[1,2]", "-1", 0 },
	{ "mult", "[1,2]", "2", 0 },
	{ "div", "[1,2]", "0.5", 0 },
	{ "add", "[\"2\",\"2.5\"]", "4.5", 0 },
	{ "div", "[1,0]", NULL, 400 },
	{ "mult", "[1e308,10]", NULL, 400 },
	{ "add", "[\"x\",1]", NULL, 400 },
	{ "add", "[1]", NULL, 404 },
};

START_TEST(test_dbmath)
{
	struct drover_svc	*s = load("opensrf.dbmath");
	struct got		 g;
	char			*xml = mk_req(dbmath_cases[_i].method,
				    dbmath_cases[_i].params);

	ck_assert_int_eq(rt_serve(s, bus, NULL, 1, xml, strlen(xml)),
	    WORKER_OK);
	free(xml);
	got_load(&g, bus, 0);
	if (dbmath_cases[_i].result != NULL) {
		ck_assert_uint_eq(g.l.n, 2);
		assert_result(&g.l.msg[0], dbmath_cases[_i].result);
	} else {
		ck_assert_uint_eq(g.l.n, 1);
		assert_status(&g.l.msg[0], OSRFMSG_C_METHOD_EXCEPTION,
		    dbmath_cases[_i].code, NULL);
	}
	got_clear(&g);
	rt_inbox_free(&s->inbox);
	rt_svc_free(&s);
}
END_TEST

/* div 1,3 is the double nearest 1/3, whatever digits print it. */
START_TEST(test_dbmath_third)
{
	struct drover_svc	*s = load("opensrf.dbmath");
	struct got		 g;
	char			*xml = mk_req("div", "[1,3]");

	ck_assert_int_eq(rt_serve(s, bus, NULL, 1, xml, strlen(xml)),
	    WORKER_OK);
	free(xml);
	got_load(&g, bus, 0);
	ck_assert(json_is_real(g.l.msg[0].content));
	ck_assert(json_real_value(g.l.msg[0].content) == 1.0 / 3.0);
	got_clear(&g);
	rt_inbox_free(&s->inbox);
	rt_svc_free(&s);
}
END_TEST

static const struct {
	const char	*method;
	const char	*params;
	size_t		 results;
	int		 code;		/* final status */
} test_cases[] = {
	{ "drover.test.stream", "[3]", 3, 205 },
	{ "drover.test.stream.atomic", "[3]", 1, 205 },
	{ "drover.test.stream", "[0]", 0, 205 },
	{ "drover.test.bytes", "[10]", 1, 205 },
	{ "drover.test.sleep", "[0.01]", 1, 205 },
	{ "drover.test.sleep", "[-1]", 0, 400 },
	{ "drover.test.exit", "[\"x\"]", 0, 400 },
};

START_TEST(test_test_plugin)
{
	struct drover_svc	*s = load("drover.test");
	struct got		 g;
	char			*xml = mk_req(test_cases[_i].method,
				    test_cases[_i].params);

	ck_assert_int_eq(rt_serve(s, bus, NULL, 1, xml, strlen(xml)),
	    WORKER_OK);
	free(xml);
	got_load(&g, bus, 0);
	ck_assert_uint_eq(g.l.n, test_cases[_i].results + 1);
	ck_assert_int_eq(g.l.msg[g.l.n - 1].status_code, test_cases[_i].code);
	got_clear(&g);
	rt_inbox_free(&s->inbox);
	rt_svc_free(&s);
}
END_TEST

START_TEST(test_test_plugin_crash)
{
	struct drover_svc	*s = load("drover.test");
	char			*xml = mk_req("drover.test.crash", "[]");

	/* the handler raises SIGSEGV: Check expects the signal (a
	 * sanitizer's own handler would turn it into an exit) */
	signal(SIGSEGV, SIG_DFL);
	ck_assert_int_eq(rt_serve(s, bus, NULL, 1, xml, strlen(xml)), 0);
	free(xml);
}
END_TEST

START_TEST(test_test_plugin_fail_child_init)
{
	struct drover_svc	*s = load("drover.test");
	json_t			*set;

	set = json_pack("{s:s}", "fail_child_init", "1");
	s->settings = set;
	ck_assert_int_ne(s->desc->child_init(s), 0);
	json_object_set_new(set, "fail_child_init", json_integer(0));
	ck_assert_int_eq(s->desc->child_init(s), 0);
	json_decref(set);
	rt_svc_free(&s);
}
END_TEST

/* ------------------------------------------------- client session */

START_TEST(test_client_states)
{
	struct rt_inbox		*ib = rt_inbox_new(bus);
	struct rt_client	*c;
	json_t			*v;

	ck_assert_int_eq(rt_client_new(ib, "router@d/svc", "x1", NULL, &c),
	    0);
	ck_assert_str_eq(rt_client_remote(c), "router@d/svc");
	ck_assert_int_eq(rt_client_recv(c, 0, &v), -EINVAL);
	ck_assert_int_eq(rt_client_request(c, "m", NULL), 0);
	ck_assert_int_eq(rt_client_request(c, "m", NULL), -EBUSY);
	ck_assert_int_eq(rt_client_recv(c, 0, &v), -ETIMEDOUT);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(rt_client_connect(c, 0), -ETIMEDOUT);
	ck_assert_int_eq(rt_client_connected(c), 0);
	rt_client_free(&c);
	rt_inbox_free(&ib);
}
END_TEST

Suite *
runtime_suite(void)
{
	Suite	*s = suite_create("runtime");
	TCase	*tc;

	tc = tcase_create("dispatch");
	tcase_set_tags(tc, "unit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_register_rules);
	tcase_add_test(tc, test_single_result_one_stanza);
	tcase_add_test(tc, test_matches_capture);
	tcase_add_loop_test(tc, test_error_statuses, 0, ARRAY_LEN(err_cases));
	tcase_add_test(tc, test_complete_once);
	tcase_add_test(tc, test_panic_exits);
	tcase_add_test(tc, test_unreadable_body);
	tcase_add_test(tc, test_error_stanza_dropped);
	tcase_add_test(tc, test_send_failure_reported);
	tcase_add_loop_test(tc, test_not_osrf_body, 0,
	    ARRAY_LEN(not_osrf_cases));
	tcase_add_test(tc, test_status_to_service_dropped);
	tcase_add_loop_test(tc, test_refusal_counted, 0,
	    ARRAY_LEN(not_osrf_cases));
	tcase_add_test(tc, test_mixed_body);
	suite_add_tcase(s, tc);

	tc = tcase_create("atomic_and_system");
	tcase_set_tags(tc, "unit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_atomic, 0, ARRAY_LEN(atomic_cases));
	tcase_add_test(tc, test_echo_streams);
	tcase_add_test(tc, test_system_method_shape);
	tcase_add_test(tc, test_system_method_all_order);
	tcase_add_test(tc, test_system_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("bundle_chunk");
	tcase_set_tags(tc, "unit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bundling);
	tcase_add_loop_test(tc, test_chunking_boundary, 0,
	    ARRAY_LEN(chunk_cases));
	tcase_add_test(tc, test_escaped_size);
	suite_add_tcase(s, tc);

	tc = tcase_create("session");
	tcase_set_tags(tc, "unit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_connected_session);
	tcase_add_test(tc, test_session_requests_then_disconnect);
	tcase_add_test(tc, test_session_result_refused);
	tcase_add_test(tc, test_session_stray_dropped);
	tcase_add_loop_test(tc, test_sub_request, 0, 2);
	tcase_add_test(tc, test_session_pipelined_during_subrequest);
	tcase_add_test(tc, test_client_states);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache");
	tcase_set_tags(tc, "unit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cache_keys);
	tcase_add_test(tc, test_cache_down);
	suite_add_tcase(s, tc);

	tc = tcase_create("loader");
	tcase_set_tags(tc, "unit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_load_plugins, 0, 4);
	tcase_add_test(tc, test_load_missing);
	tcase_add_loop_test(tc, test_load_opensrf_names, 0,
	    ARRAY_LEN(alias_cases));
	tcase_add_test(tc, test_load_not_elf);
	tcase_add_test(tc, test_load_no_descriptor);
	tcase_add_loop_test(tc, test_desc_check, 0, ARRAY_LEN(desc_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("drover_call");
	tcase_set_tags(tc, "unit");
	tcase_add_loop_test(tc, test_cli, 0, ARRAY_LEN(cli_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("plugins");
	tcase_set_tags(tc, "unit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_dbmath, 0, ARRAY_LEN(dbmath_cases));
	tcase_add_test(tc, test_dbmath_third);
	tcase_add_loop_test(tc, test_test_plugin, 0, ARRAY_LEN(test_cases));
	tcase_add_test_raise_signal(tc, test_test_plugin_crash, SIGSEGV);
	tcase_add_test(tc, test_test_plugin_fail_child_init);
	suite_add_tcase(s, tc);
	return s;
}
