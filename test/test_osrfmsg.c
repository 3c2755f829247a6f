/*
 * test_osrfmsg.c: proto/osrfmsg.c, the OpenSRF message codec.
 *
 * Byte-exact: every body a C process wrote in the captures decodes and
 * encodes back identical; every other body (Perl's, with numbers for
 * strings and keys in any order) decodes.  Then the spec 3.6 exchange
 * built with the reply builders, the writer's string and number forms,
 * liberal reading, malformed bodies, limits and the helpers.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/osrfmsg.h"
#include "proto/tmsg.h"
#include "th_capture.h"
#include "th_osrfmsg.h"

START_TEST(test_capture_bodies)
{
	const struct thc_vec	*v;
	struct tmsg		 m = TMSG_INIT;
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct proto_err	 e;
	struct pbuf		 b = { 0 };
	size_t			 n, i;
	int			 from_c, fast;

	v = thc_load(&n);
	ck_assert_uint_lt((size_t)_i, n);
	v += _i;
	if (!v->is_message)
		return;		/* stream excerpts: no OpenSRF body */
	ck_assert_int_eq(tmsg_xml_parse(v->text, v->len, &m, NULL), 0);
	if (m.body[0] != '[') {
		/* Registration: "registering" / "unregistering". */
		ck_assert_ptr_nonnull(strstr(m.body, "registering"));
		ck_assert_int_ne(osrfmsg_decode(m.body, strlen(m.body), &l,
		    &e), 0);
		tmsg_clear(&m);
		return;
	}
	ck_assert_msg(osrfmsg_decode(m.body, strlen(m.body), &l, &e) == 0,
	    "%s:%d: %s", v->file, v->line, e.reason);
	ck_assert_uint_ge(l.n, 1);
	from_c = v->c_written || (v->dir == THC_S2C &&
	    strstr(v->text, "router_to=") != NULL);
	/* the fast reader takes every C-written body, and agrees */
	fast = th_osrfmsg_fast_vs_full(m.body, strlen(m.body));
	ck_assert_msg(fast >= 0, "%s:%d: the fast reader disagrees", v->file,
	    v->line);
	ck_assert_msg(fast == 1 || !from_c, "%s:%d: a C-written body left to "
	    "the full reader", v->file, v->line);
	for (i = 0; i < l.n; i++) {
		ck_assert_ptr_nonnull(osrfmsg_type_name(l.msg[i].type));
		ck_assert_int_eq(l.msg[i].thread_trace, 1);
		ck_assert_str_eq(l.msg[i].locale, "en-US");
		if (l.msg[i].type == OSRFMSG_REQUEST) {
			ck_assert_ptr_nonnull(l.msg[i].method);
			ck_assert(json_is_array(l.msg[i].params));
			ck_assert_ptr_nonnull(l.msg[i].ingress);
		} else
			ck_assert_ptr_nonnull(l.msg[i].payload_class);
	}
	ck_assert_int_eq(osrfmsg_encode(l.msg, l.n, &b, &e), 0);
	if (from_c)
		ck_assert_str_eq(b.data, m.body);
	pbuf_free(&b);
	osrfmsg_list_clear(&l);
	ck_assert_ptr_null(l.root);
	tmsg_clear(&m);
}
END_TEST

START_TEST(test_perl_settings_reply)
{
	const struct thc_vec	*v;
	struct tmsg		 m = TMSG_INIT;
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	size_t			 n, i;
	int			 seen = 0;

	/* Perl: "statusCode":200 as a number, "tz":null, __p before __c. */
	v = thc_load(&n);
	for (i = 0; i < n; i++) {
		if (!v[i].is_message || v[i].dir != THC_C2S ||
		    strstr(v[i].text, "{\"__p\":{\"locale\"") == NULL)
			continue;
		ck_assert_int_eq(tmsg_xml_parse(v[i].text, v[i].len, &m, NULL), 0);
		ck_assert_int_eq(osrfmsg_decode(m.body, strlen(m.body), &l,
		    NULL), 0);
		ck_assert_uint_eq(l.n, 2);
		ck_assert_int_eq(l.msg[0].type, OSRFMSG_RESULT);
		ck_assert_str_eq(l.msg[0].payload_class, "osrfResult");
		ck_assert_int_eq(l.msg[0].status_code, 200);
		ck_assert_str_eq(l.msg[0].status, "OK");
		ck_assert_ptr_null(l.msg[0].tz);
		ck_assert_str_eq(l.msg[0].ingress, "opensrf");
		ck_assert(json_is_object(l.msg[0].content));
		ck_assert_ptr_nonnull(json_object_get(l.msg[0].content,
		    "apps"));
		ck_assert_int_eq(l.msg[1].type, OSRFMSG_STATUS);
		ck_assert_str_eq(l.msg[1].payload_class, "osrfConnectStatus");
		ck_assert_int_eq(l.msg[1].status_code, 205);
		osrfmsg_list_clear(&l);
		tmsg_clear(&m);
		seen++;
	}
	ck_assert_int_ge(seen, 1);
}
END_TEST

/* ------------------------------------------------ spec 3.6, built anew */

START_TEST(test_spec_exchange)
{
	struct osrfmsg		 req, out[2];
	struct pbuf		 b = { 0 };
	json_t			*params, *four;

	/* client -> router: CONNECT */
	memset(&req, 0, sizeof(req));
	req.type = OSRFMSG_CONNECT;
	req.api_level = 1;
	ck_assert_int_eq(osrfmsg_encode(&req, 1, &b, NULL), 0);
	ck_assert_str_eq(b.data, "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"0\",\"locale\":\"en-US\",\"api_level\":1,"
	    "\"type\":\"CONNECT\"}}]");
	/* drone -> client: 200 */
	pbuf_reset(&b);
	req.locale = "en-US";
	osrfmsg_make_connect_ok(&out[0], &req);
	ck_assert_int_eq(osrfmsg_encode(out, 1, &b, NULL), 0);
	ck_assert_str_eq(b.data, "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"0\",\"locale\":\"en-US\",\"api_level\":1,"
	    "\"type\":\"STATUS\",\"payload\":{\"__c\":\"osrfConnectStatus\","
	    "\"__p\":{\"status\":\"Connection Successful\",\"statusCode\":"
	    "\"200\"}}}}]");
	/* client -> drone: REQUEST */
	pbuf_reset(&b);
	params = json_pack("[ii]", 2, 2);
	memset(&req, 0, sizeof(req));
	req.type = OSRFMSG_REQUEST;
	req.thread_trace = 1;
	req.locale = "en-US";
	req.ingress = "srfsh";
	req.api_level = 1;
	req.method = "add";
	req.params = params;
	ck_assert_int_eq(osrfmsg_encode(&req, 1, &b, NULL), 0);
	ck_assert_str_eq(b.data, "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"1\",\"locale\":\"en-US\",\"ingress\":\"srfsh\","
	    "\"api_level\":1,\"type\":\"REQUEST\",\"payload\":{\"__c\":"
	    "\"osrfMethod\",\"__p\":{\"method\":\"add\",\"params\":[2,2]}}}}]");
	/* drone -> client: RESULT + 205, one stanza */
	pbuf_reset(&b);
	four = json_integer(4);
	osrfmsg_make_result(&out[0], &req, four);
	osrfmsg_make_complete(&out[1], &req);
	ck_assert_int_eq(osrfmsg_encode(out, 2, &b, NULL), 0);
	ck_assert_str_eq(b.data, "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"1\",\"locale\":\"en-US\",\"api_level\":1,"
	    "\"type\":\"RESULT\",\"payload\":{\"__c\":\"osrfResult\",\"__p\":{"
	    "\"status\":\"OK\",\"statusCode\":\"200\",\"content\":4}}}},"
	    "{\"__c\":"
	    "\"osrfMessage\",\"__p\":"
	    "{\"threadTrace\":\"1\",\"locale\":\"en-US\""
	    ",\"api_level\":1,\"type\":\"STATUS\",\"payload\":{\"__c\":"
	    "\"osrfConnectStatus\",\"__p\":{\"status\":\"Request Complete\","
	    "\"statusCode\":\"205\"}}}}]");
	/* client -> drone: DISCONNECT */
	pbuf_reset(&b);
	req.type = OSRFMSG_DISCONNECT;
	req.ingress = NULL;
	ck_assert_int_eq(osrfmsg_encode(&req, 1, &b, NULL), 0);
	ck_assert_str_eq(b.data, "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"1\",\"locale\":\"en-US\",\"api_level\":1,"
	    "\"type\":\"DISCONNECT\"}}]");
	json_decref(params);
	json_decref(four);
	pbuf_free(&b);
}
END_TEST

static const struct {
	const char	*name;
	int		 which;
	const char	*payload;	/* the part after "type": */
} builders[] = {
	{ "timeout", 0, "\"threadTrace\":\"0\",\"locale\":\"fr-CA\","
	    "\"api_level\":1,\"type\":\"STATUS\",\"payload\":{\"__c\":"
	    "\"osrfConnectStatus\",\"__p\":{\"status\":\"Disconnected on "
	    "timeout\",\"statusCode\":\"408\"}}" },
	{ "exception", 1, "\"threadTrace\":\"7\",\"locale\":\"fr-CA\","
	    "\"api_level\":1,\"type\":\"STATUS\",\"payload\":{\"__c\":"
	    "\"osrfMethodException\",\"__p\":{\"status\":\"Method [x] not "
	    "found\",\"statusCode\":\"404\"}}" },
	{ "unavailable", 2, "\"threadTrace\":\"7\",\"locale\":\"fr-CA\","
	    "\"api_level\":1,\"type\":\"STATUS\",\"payload\":{\"__c\":"
	    "\"osrfMethodException\",\"__p\":{\"status\":"
	    "\"Service unavailable: "
	    "no available children and backlog queue at limit\",\"statusCode\":"
	    "\"503\"}}" },
	{ "partial", 3, "\"threadTrace\":\"7\",\"locale\":\"fr-CA\","
	    "\"api_level\":1,\"type\":\"RESULT\",\"payload\":{\"__c\":"
	    "\"osrfResultPartial\",\"__p\":{\"status\":\"Partial Response\","
	    "\"statusCode\":\"206\",\"content\":\"[1,\\\"a\"}}" },
	{ "partial complete", 4, "\"threadTrace\":\"7\",\"locale\":\"fr-CA\","
	    "\"api_level\":1,\"type\":\"RESULT\",\"payload\":{\"__c\":"
	    "\"osrfResultPartialComplete\",\"__p\":{\"status\":\"Partial "
	    "Response Finalized\",\"statusCode\":\"204\",\"content\":null}}" },
	{ "status with table text", 5, "\"threadTrace\":\"7\",\"locale\":"
	    "\"fr-CA\",\"api_level\":1,\"type\":\"STATUS\",\"payload\":"
	    "{\"__c\":"
	    "\"osrfBrokenSession\",\"__p\":{\"status\":\"Expectation Failed\","
	    "\"statusCode\":\"417\"}}" },
	{ "router quirk: null status", 6, "\"threadTrace\":\"7\",\"locale\":"
	    "\"fr-CA\",\"api_level\":1,\"type\":\"RESULT\",\"payload\":"
	    "{\"__c\":"
	    "\"osrfResult\",\"__p\":{\"status\":null,\"statusCode\":\"0\","
	    "\"content\":[\"opensrf.math\"]}}" },
};

START_TEST(test_builders)
{
	struct osrfmsg	 req, out;
	struct pbuf	 b = { 0 };
	json_t		*slice = json_string("[1,\"a"), *list;
	char		*want;

	memset(&req, 0, sizeof(req));
	req.type = OSRFMSG_REQUEST;
	req.thread_trace = 7;
	req.locale = "fr-CA";
	req.tz = "America/Toronto";	/* replies do not carry it */
	req.ingress = "srfsh";		/* nor this */
	req.api_level = 1;
	req.method = "x";
	list = json_pack("[s]", "opensrf.math");
	switch (builders[_i].which) {
	case 0:
		osrfmsg_make_timeout(&out, &req);
		break;
	case 1:
		osrfmsg_make_exception(&out, &req, 404,
		    "Method [x] not found");
		break;
	case 2:
		osrfmsg_make_exception(&out, &req, 503,
		    OSRFMSG_T_UNAVAILABLE);
		break;
	case 3:
		osrfmsg_make_partial(&out, &req, slice);
		break;
	case 4:
		osrfmsg_make_partial_complete(&out, &req);
		break;
	case 5:
		osrfmsg_make_status(&out, &req, "osrfBrokenSession", 417, NULL);
		break;
	case 6:
		osrfmsg_make_result(&out, &req, list);
		out.status = NULL;
		out.status_code = 0;
		break;
	}
	ck_assert_int_eq(osrfmsg_encode_one(&out, &b, NULL), 0);
	ck_assert_int_ge(asprintf(&want, "{\"__c\":\"osrfMessage\",\"__p\":{"
	    "%s}}",
	    builders[_i].payload), 0);
	ck_assert_str_eq(b.data, want);
	free(want);
	json_decref(slice);
	json_decref(list);
	pbuf_free(&b);
}
END_TEST

START_TEST(test_tz_and_no_locale)
{
	struct osrfmsg	m;
	struct pbuf	b = { 0 };

	memset(&m, 0, sizeof(m));
	m.type = OSRFMSG_REQUEST;
	m.thread_trace = -3;
	m.tz = "Europe/Paris";
	m.method = "m";
	ck_assert_int_eq(osrfmsg_encode_one(&m, &b, NULL), 0);
	ck_assert_str_eq(b.data, "{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"-3\",\"locale\":\"en-US\",\"tz\":"
	    "\"Europe/Paris\","
	    "\"ingress\":\"opensrf\",\"type\":\"REQUEST\",\"payload\":{\"__c\":"
	    "\"osrfMethod\",\"__p\":{\"method\":\"m\",\"params\":[]}}}}");
	pbuf_free(&b);
}
END_TEST

/* ------------------------------------------------------------- writer */

static const struct {
	const char	*name;
	const char	*json;		/* read with jansson */
	const char	*out;
} writes[] = {
	{ "escapes", "[\"\\\"\\\\\\n\\t\\r\\f\\b/\"]",
	    "[\"\\\"\\\\\\n\\t\\r\\f\\b/\"]" },
	{ "other control characters", "\"\\u0001\\u001f\\u007f\"",
	    "\"\\u0001\\u001f\x7f\"" },
	{ "non-ASCII lowercase", "\"caf\xc3\xa9 \xe2\x82\xac \xef\xbf\xbf\"",
	    "\"caf\\u00e9 \\u20ac \\uffff\"" },
	{ "surrogate pairs", "\"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"",
	    "\"\\ud83d\\ude00\\udbff\\udfff\"" },
	{ "escaped input comes out the C way", "\"\\u00E9\\/\"",
	    "\"\\u00e9/\"" },
	{ "NUL inside a string", "\"a\\u0000b\"", "\"a\\u0000b\"" },
	{ "key order kept, keys escaped", "{\"z\":1,\"\xc3\xa9\":2,\"a\":3}",
	    "{\"z\":1,\"\\u00e9\":2,\"a\":3}" },
	{ "integers", "[0,-1,9223372036854775807,-9223372036854775808]",
	    "[0,-1,9223372036854775807,-9223372036854775808]" },
	{ "reals read back exactly", "[0.5,0.1,1e300,-2.5e-7,3.0,0.50]",
	    "[0.5,0.1,1e+300,-2.5e-07,3,0.5]" },
	{ "integer beyond long long becomes a real",
	    "[99999999999999999999]", "[1e+20]" },
	{ "literals and nesting", "[null,true,false,[],{},[[{}]]]",
	    "[null,true,false,[],{},[[{}]]]" },
};

START_TEST(test_json_write)
{
	json_t		*v;
	json_error_t	 je;
	struct pbuf	 b = { 0 };

	v = json_loads(writes[_i].json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (v == NULL)	/* the overflow case: as osrfmsg_decode re-reads */
		v = json_loads(writes[_i].json, JSON_DECODE_ANY |
		    JSON_DECODE_INT_AS_REAL, &je);
	ck_assert_msg(v != NULL, "%s: %s", writes[_i].name, je.text);
	ck_assert_int_eq(osrfmsg_json_write(v, &b, NULL), 0);
	ck_assert_str_eq(b.data, writes[_i].out);
	json_decref(v);
	pbuf_free(&b);
}
END_TEST

START_TEST(test_json_write_refused)
{
	struct pbuf		 b = { 0 };
	struct proto_err	 e;
	json_t			*v, *a;
	int			 i;

	ck_assert_int_eq(pbuf_adds(&b, "keep"), 0);
	/*
	 * jansson refuses non-finite reals itself, so the writer's -EDOM
	 * check is a second line that no json_t can reach.
	 */
	ck_assert_ptr_null(json_real(INFINITY));
	ck_assert_ptr_null(json_real(NAN));
	v = json_real(1.5);
	ck_assert_int_eq(json_real_set(v, -INFINITY), -1);
	ck_assert_int_eq(osrfmsg_json_write(v, &b, &e), 0);
	ck_assert_str_eq(b.data, "keep1.5");
	b.len = 4;
	b.data[4] = '\0';
	json_decref(v);
	v = json_stringn_nocheck("\xff\xfe", 2);
	ck_assert_int_eq(osrfmsg_json_write(v, &b, &e), -EILSEQ);
	json_decref(v);
	v = json_stringn_nocheck("\xc3", 1);
	ck_assert_int_eq(osrfmsg_json_write(v, &b, NULL), -EILSEQ);
	json_decref(v);
	v = json_stringn_nocheck("\xed\xa0\x80", 3);
	ck_assert_int_eq(osrfmsg_json_write(v, &b, NULL), -EILSEQ);
	json_decref(v);
	v = json_array();
	for (i = 0, a = v; i < OSRFMSG_MAX_DEPTH + 5; i++) {
		json_t	*in = json_array();

		ck_assert_int_eq(json_array_append_new(a, in), 0);
		a = in;
	}
	ck_assert_int_eq(osrfmsg_json_write(v, &b, &e), -ELOOP);
	json_decref(v);
	/* Nothing was left behind by the failures. */
	ck_assert_str_eq(b.data, "keep");
	ck_assert_uint_eq(b.len, 4);
	ck_assert_int_eq(osrfmsg_json_write(NULL, &b, NULL), 0);
	ck_assert_str_eq(b.data, "keepnull");
	pbuf_free(&b);
}
END_TEST

START_TEST(test_encode_refused)
{
	struct osrfmsg		 m;
	struct pbuf		 b = { 0 };
	struct proto_err	 e;
	json_t			*bad = json_stringn_nocheck("\xff", 1);

	ck_assert_int_eq(pbuf_adds(&b, "keep"), 0);
	memset(&m, 0, sizeof(m));
	ck_assert_int_eq(osrfmsg_encode_one(&m, &b, &e), -EINVAL);
	ck_assert_str_ne(e.reason, "");
	m.type = 99;
	ck_assert_int_eq(osrfmsg_encode(&m, 1, &b, NULL), -EINVAL);
	m.type = OSRFMSG_REQUEST;	/* no method */
	ck_assert_int_eq(osrfmsg_encode(&m, 1, &b, NULL), -EINVAL);
	m.type = OSRFMSG_STATUS;	/* no payload class */
	ck_assert_int_eq(osrfmsg_encode(&m, 1, &b, NULL), -EINVAL);
	osrfmsg_make_result(&m, NULL, bad);
	ck_assert_int_eq(osrfmsg_encode(&m, 1, &b, &e), -EILSEQ);
	ck_assert_str_eq(e.reason, "string is not UTF-8");
	ck_assert_str_eq(b.data, "keep");
	ck_assert_uint_eq(b.len, 4);
	/* An empty body is an empty array. */
	ck_assert_int_eq(osrfmsg_encode(NULL, 0, &b, NULL), 0);
	ck_assert_str_eq(b.data, "keep[]");
	json_decref(bad);
	pbuf_free(&b);
}
END_TEST

/* ------------------------------------------------------------- reader */

#define M(p)	"{\"__c\":\"osrfMessage\",\"__p\":{" p "}}"

static const struct {
	const char	*name;
	const char	*body;
	size_t		 n;		/* messages */
	long long	 trace;		/* of the first */
	int		 api_level, type, status_code;
	const char	*cls, *method;
	size_t		 nparams;
} reads[] = {
	{ "numbers where C writes strings", "[" M("\"threadTrace\":5,"
	    "\"api_level\":\"2\",\"type\":\"STATUS\",\"payload\":{\"__c\":"
	    "\"osrfConnectStatus\",\"__p\":{\"status\":\"x\",\"statusCode\":"
	    "205}}") "]", 1, 5, 2, OSRFMSG_STATUS, 205, "osrfConnectStatus",
	    NULL, 0 },
	{ "keys in any order, __p before __c", "[{\"__p\":{\"type\":"
	    "\"RESULT\",\"payload\":{\"__p\":{\"content\":1,\"statusCode\":"
	    "\"200\"},\"__c\":\"osrfResult\"},\"threadTrace\":\"9\"},\"__c\":"
	    "\"osrfMessage\"}]", 1, 9, 0, OSRFMSG_RESULT, 200, "osrfResult",
	    NULL, 0 },
	{ "missing threadTrace is 0, real 3.0 is 3", "[" M("\"type\":"
	    "\"CONNECT\"") "," M("\"threadTrace\":3.0,\"type\":\"DISCONNECT\"")
	    "]", 2, 0, 0, OSRFMSG_CONNECT, 0, NULL, NULL, 0 },
	{ "non-osrfMessage elements skipped", "[1,\"x\",null,{},{\"__c\":"
	    "\"other\",\"__p\":{}}," M("\"threadTrace\":\"4\",\"type\":"
	    "\"REQUEST\",\"payload\":{\"__c\":\"osrfMethod\",\"__p\":{"
	    "\"method\":\"m\",\"params\":[1,2,3]}}") "]", 1, 4, 0,
	    OSRFMSG_REQUEST, 0, "osrfMethod", "m", 3 },
	{ "params null becomes []", "[" M("\"type\":\"REQUEST\",\"payload\":"
	    "{\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"m\",\"params\":null}"
	    "}") "]", 1, 0, 0, OSRFMSG_REQUEST, 0, "osrfMethod", "m", 0 },
	{ "params missing becomes []", "[" M("\"type\":\"REQUEST\","
	    "\"payload\":{\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"m\"}}")
	    "]", 1, 0, 0, OSRFMSG_REQUEST, 0, "osrfMethod", "m", 0 },
	{ "params scalar is wrapped", "[" M("\"type\":\"REQUEST\","
	    "\"payload\":{\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"m\","
	    "\"params\":{\"a\":1}}}") "]", 1, 0, 0, OSRFMSG_REQUEST, 0,
	    "osrfMethod", "m", 1 },
	{ "unhinted payload", "[" M("\"type\":\"REQUEST\",\"payload\":{"
	    "\"method\":\"m\",\"params\":[1]}") "]", 1, 0, 0, OSRFMSG_REQUEST,
	    0, "", "m", 1 },
	{ "nulls count as absent", "[" M("\"threadTrace\":null,\"locale\":"
	    "null,\"tz\":null,\"ingress\":null,\"api_level\":null,\"type\":"
	    "\"RESULT\",\"payload\":{\"__c\":\"osrfResult\",\"__p\":"
	    "{\"status\":"
	    "null,\"statusCode\":null}}") "]", 1, 0, 0, OSRFMSG_RESULT, 0,
	    "osrfResult", NULL, 0 },
	{ "empty array", "[]", 0, 0, 0, 0, 0, NULL, NULL, 0 },
	{ "whitespace around", " \n[ " M("\"type\":\"CONNECT\"") " ]\n ", 1,
	    0, 0, OSRFMSG_CONNECT, 0, NULL, NULL, 0 },
	{ "huge integer in content", "[" M("\"threadTrace\":\"2\",\"type\":"
	    "\"RESULT\",\"payload\":{\"__c\":\"osrfResult\",\"__p\":{"
	    "\"statusCode\":\"200\",\"content\":123456789012345678901234}}")
	    "]", 1, 2, 0, OSRFMSG_RESULT, 200, "osrfResult", NULL, 0 },
};

START_TEST(test_read)
{
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct proto_err	 e;
	const struct osrfmsg	*m;

	ck_assert_msg(osrfmsg_decode(reads[_i].body, strlen(reads[_i].body),
	    &l, &e) == 0, "%s: %s", reads[_i].name, e.reason);
	ck_assert_uint_eq(l.n, reads[_i].n);
	if (l.n > 0) {
		m = &l.msg[0];
		ck_assert_int_eq(m->thread_trace, reads[_i].trace);
		ck_assert_int_eq(m->api_level, reads[_i].api_level);
		ck_assert_int_eq(m->type, reads[_i].type);
		ck_assert_int_eq(m->status_code, reads[_i].status_code);
		if (reads[_i].cls == NULL)
			ck_assert_ptr_null(m->payload_class);
		else
			ck_assert_str_eq(m->payload_class, reads[_i].cls);
		if (reads[_i].method != NULL) {
			ck_assert_str_eq(m->method, reads[_i].method);
			ck_assert(json_is_array(m->params));
			ck_assert_uint_eq(json_array_size(m->params),
			    reads[_i].nparams);
		}
		ck_assert_ptr_null(m->tz);
	}
	osrfmsg_list_clear(&l);
	ck_assert_int_ge(th_osrfmsg_fast_vs_full(reads[_i].body,
	    strlen(reads[_i].body)), 0);
}
END_TEST

static const struct {
	const char	*name;
	const char	*body;
	int		 rc;
	long long	 err_trace;
} bad[] = {
	{ "empty", "", -EPROTO, 0 },
	{ "not JSON", "registering", -EPROTO, 0 },
	{ "truncated", "[{\"__c\":\"osrfMessage\",\"__p\":{", -EPROTO, 0 },
	{ "trailing garbage", "[] x", -EPROTO, 0 },
	{ "not an array", "{\"__c\":\"osrfMessage\",\"__p\":{}}", -EPROTO, 0 },
	{ "a string", "\"[]\"", -EPROTO, 0 },
	{ "invalid UTF-8", "[\"\xff\"]", -EPROTO, 0 },
	{ "NUL escape", "[\"\\u0000\"]", -EPROTO, 0 },
	{ "__p not an object", "[{\"__c\":\"osrfMessage\",\"__p\":5}]",
	    -EPROTO, 0 },
	{ "__p missing", "[{\"__c\":\"osrfMessage\"}]", -EPROTO, 0 },
	{ "missing type", "[" M("\"threadTrace\":\"3\"") "]", -EPROTO, 3 },
	{ "unknown type", "[" M("\"threadTrace\":\"4\",\"type\":\"PING\"") "]",
	    -EPROTO, 4 },
	{ "type not a string", "[" M("\"type\":1") "]", -EPROTO, 0 },
	{ "threadTrace not a number", "[" M("\"threadTrace\":\"one\","
	    "\"type\":\"CONNECT\"") "]", -EPROTO, 0 },
	{ "threadTrace an object", "[" M("\"threadTrace\":{},\"type\":"
	    "\"CONNECT\"") "]", -EPROTO, 0 },
	{ "threadTrace fractional", "[" M("\"threadTrace\":1.5,\"type\":"
	    "\"CONNECT\"") "]", -EPROTO, 0 },
	{ "locale a number", "[" M("\"threadTrace\":\"6\",\"locale\":1,"
	    "\"type\":\"CONNECT\"") "]", -EPROTO, 6 },
	{ "api_level negative", "[" M("\"api_level\":-1,\"type\":\"CONNECT\"")
	    "]", -EPROTO, 0 },
	{ "REQUEST without payload", "[" M("\"threadTrace\":\"8\",\"type\":"
	    "\"REQUEST\"") "]", -EPROTO, 8 },
	{ "REQUEST without method", "[" M("\"type\":\"REQUEST\",\"payload\":"
	    "{\"__c\":\"osrfMethod\",\"__p\":{\"params\":[]}}") "]", -EPROTO,
	    0 },
	{ "method not a string", "[" M("\"type\":\"REQUEST\",\"payload\":"
	    "{\"__c\":\"osrfMethod\",\"__p\":{\"method\":[]}}") "]", -EPROTO,
	    0 },
	{ "payload an array", "[" M("\"type\":\"RESULT\",\"payload\":[]") "]",
	    -EPROTO, 0 },
	{ "payload hint not a string", "[" M("\"type\":\"RESULT\",\"payload\":"
	    "{\"__c\":1,\"__p\":{}}") "]", -EPROTO, 0 },
	{ "STATUS without statusCode", "[" M("\"type\":\"STATUS\",\"payload\":"
	    "{\"__c\":\"osrfConnectStatus\",\"__p\":{\"status\":\"x\"}}") "]",
	    -EPROTO, 0 },
	{ "statusCode not a number", "[" M("\"type\":\"STATUS\",\"payload\":"
	    "{\"__c\":\"osrfConnectStatus\",\"__p\":{\"statusCode\":\"OK\"}}")
	    "]", -EPROTO, 0 },
	{ "status not a string", "[" M("\"type\":\"STATUS\",\"payload\":"
	    "{\"__c\":\"x\",\"__p\":{\"status\":1,\"statusCode\":1}}") "]",
	    -EPROTO, 0 },
	{ "second message bad: trace of the first", "[" M("\"threadTrace\":"
	    "\"11\",\"type\":\"CONNECT\"") "," M("\"threadTrace\":\"12\"") "]",
	    -EPROTO, 11 },
};

START_TEST(test_malformed)
{
	struct osrfmsg_list	l = OSRFMSG_LIST_INIT;
	struct proto_err	e;

	ck_assert_msg(osrfmsg_decode(bad[_i].body, strlen(bad[_i].body), &l,
	    &e) == bad[_i].rc, "%s: accepted", bad[_i].name);
	ck_assert_int_eq(e.code, bad[_i].rc);
	ck_assert_str_ne(e.reason, "");
	ck_assert_uint_eq(l.n, 0);
	ck_assert_ptr_null(l.msg);
	ck_assert_ptr_null(l.root);
	ck_assert_int_eq(l.err_trace, bad[_i].err_trace);
	ck_assert_int_eq(osrfmsg_decode(bad[_i].body, strlen(bad[_i].body), &l,
	    NULL), bad[_i].rc);
	/* left to the full reader, which words the error */
	ck_assert_int_eq(th_osrfmsg_fast_vs_full(bad[_i].body,
	    strlen(bad[_i].body)), 0);
}
END_TEST

#define RES(tt, content) M("\"threadTrace\":" tt ",\"locale\":\"en-US\"," \
	"\"type\":\"RESULT\",\"payload\":{\"__c\":\"osrfResult\",\"__p\":{" \
	"\"status\":\"OK\",\"statusCode\":\"200\",\"content\":" content "}}")
#define REQ(params) M("\"threadTrace\":\"1\",\"type\":\"REQUEST\"," \
	"\"payload\":{\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"m\"," \
	"\"params\":" params "}}")

/*
 * The fast reader's subset (osrfmsg_fast.c): what it takes (1) it must
 * decode as the full reader does; the rest (0) it leaves alone.
 */
static const struct {
	const char	*name;
	const char	*body;
	int		 fast;
} fast_vec[] = {
	{ "C writer, RESULT and STATUS", "[" RES("\"1\"", "3") ","
	    M("\"threadTrace\":\"1\",\"locale\":\"en-US\",\"type\":"
	    "\"STATUS\",\"payload\":{\"__c\":\"osrfConnectStatus\","
	    "\"__p\":{\"status\":\"Request Complete\",\"statusCode\":"
	    "\"205\"}}") "]", 1 },
	{ "whitespace everywhere", " [ {\"__c\" : \"osrfMessage\" , \"__p\" :"
	    " { \"type\" : \"CONNECT\" , \"threadTrace\" : 7 } } ] ", 1 },
	{ "numbers as JSON numbers", "[" M("\"threadTrace\":-0,\"api_level\":"
	    "2,\"type\":\"STATUS\",\"payload\":{\"__c\":\"x\",\"__p\":"
	    "{\"statusCode\":404}}") "]", 1 },
	{ "trace text as strtoll reads it", "[" RES("\" +5\"", "null") "]", 1 },
	{ "content of every kind", "[" RES("\"2\"", "{\"a\":[1,2.5,\"x,]}\\\"\","
	    "true,null,{\"__c\":\"aou\",\"__p\":[]}]}") "]", 1 },
	{ "content non-ASCII and escaped", "[" RES("\"2\"",
	    "\"\\u00e9\xc3\xa9\"") "]", 1 },
	{ "params null, scalar, array", "[" REQ("null") "," REQ("5") ","
	    REQ("[1,[2]]") "]", 1 },
	{ "nulls for the optional strings", "[" M("\"threadTrace\":null,"
	    "\"locale\":null,\"tz\":null,\"ingress\":null,\"type\":"
	    "\"DISCONNECT\"") "]", 1 },
	{ "empty", "[]", 1 },
	{ "an escape in a skeleton string", "[" M("\"type\":\"REQUEST\","
	    "\"payload\":{\"__c\":\"osrfMethod\",\"__p\":{\"method\":"
	    "\"a\\\"b\"}}") "]", 0 },
	{ "non-ASCII status text", "[" M("\"type\":\"STATUS\",\"payload\":"
	    "{\"__c\":\"x\",\"__p\":{\"status\":\"\xc3\xa9\","
	    "\"statusCode\":1}}") "]", 0 },
	{ "a key of nobody's", "[" M("\"type\":\"CONNECT\",\"x\":1") "]",
	    0 },
	{ "a duplicate key", "[" M("\"type\":\"CONNECT\",\"threadTrace\":1,"
	    "\"threadTrace\":2") "]", 0 },
	{ "__p before __c", "[{\"__p\":{\"type\":\"CONNECT\"},\"__c\":"
	    "\"osrfMessage\"}]", 0 },
	{ "an element that is not a message", "[1," M("\"type\":\"CONNECT\"")
	    "]", 0 },
	{ "payload on a CONNECT", "[" M("\"type\":\"CONNECT\",\"payload\":"
	    "null") "]", 0 },
	{ "payload before type", "[" M("\"payload\":{\"__c\":\"osrfResult\","
	    "\"__p\":{\"statusCode\":1}},\"type\":\"RESULT\"") "]", 0 },
	{ "a real threadTrace", "[" RES("1.0", "1") "]", 0 },
	{ "a leading zero", "[" RES("01", "1") "]", 0 },
	{ "an integer beyond long long", "[" RES("\"1\"",
	    "123456789012345678901234") "]", 0 },
	{ "content nested deeper than the fast limit", NULL, 0 },
	{ "RESULT without statusCode", "[" M("\"type\":\"RESULT\","
	    "\"payload\":{\"__c\":\"osrfResult\",\"__p\":{\"content\":1}}")
	    "]", 0 },
	{ "trailing bytes", "[] []", 0 },
	{ "content not JSON", "[" RES("\"1\"", "tru") "]", 0 },
};

START_TEST(test_fast_reader)
{
	struct pbuf	 b = { 0 };
	const char	*body = fast_vec[_i].body;
	int		 i;

	if (body == NULL) {
		ck_assert_int_eq(pbuf_adds(&b, "[{\"__c\":\"osrfMessage\","
		    "\"__p\":{\"type\":\"RESULT\",\"payload\":{\"__c\":"
		    "\"osrfResult\",\"__p\":{\"statusCode\":\"200\","
		    "\"content\":"), 0);
		for (i = 0; i <= OSRFMSG_FAST_MAX_DEPTH; i++)
			ck_assert_int_eq(pbuf_addc(&b, '['), 0);
		for (i = 0; i <= OSRFMSG_FAST_MAX_DEPTH; i++)
			ck_assert_int_eq(pbuf_addc(&b, ']'), 0);
		ck_assert_int_eq(pbuf_adds(&b, "}}}}]"), 0);
		body = b.data;
	}
	ck_assert_msg(th_osrfmsg_fast_vs_full(body, strlen(body)) ==
	    fast_vec[_i].fast, "%s: %s", fast_vec[_i].name,
	    fast_vec[_i].fast ? "not taken, or not as the full reader" :
	    "taken");
	pbuf_free(&b);
}
END_TEST

START_TEST(test_limit)
{
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct pbuf		 b = { 0 };
	int			 i;

	ck_assert_int_eq(pbuf_addc(&b, '['), 0);
	for (i = 0; i < OSRFMSG_MAX_PER_BODY; i++)
		ck_assert_int_eq(pbuf_adds(&b, i == 0 ? M("\"type\":"
		    "\"CONNECT\"") : "," M("\"type\":\"CONNECT\"")), 0);
	ck_assert_int_eq(pbuf_adds(&b, ",1]"), 0);
	ck_assert_int_eq(osrfmsg_decode(b.data, b.len, &l, NULL), 0);
	ck_assert_uint_eq(l.n, OSRFMSG_MAX_PER_BODY);
	osrfmsg_list_clear(&l);
	b.len -= 3;
	ck_assert_int_eq(pbuf_adds(&b, "," M("\"type\":\"CONNECT\"") "]"), 0);
	ck_assert_int_eq(osrfmsg_decode(b.data, b.len, &l, NULL), -E2BIG);
	pbuf_free(&b);
}
END_TEST

START_TEST(test_deep_json)
{
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct pbuf		 b = { 0 };
	int			 i;

	for (i = 0; i < 100000; i++)
		ck_assert_int_eq(pbuf_addc(&b, '['), 0);
	ck_assert_int_eq(osrfmsg_decode(b.data, b.len, &l, NULL), -EPROTO);
	pbuf_free(&b);
}
END_TEST

/* ------------------------------------------------------------ helpers */

START_TEST(test_unavailable_body)
{
	struct pbuf	b = { 0 };
	static const char notype[] = "[" M("\"threadTrace\":\"5\"") "]";
	static const char disc[] = "[" M("\"threadTrace\":\"3\",\"type\":"
	    "\"DISCONNECT\"") "]";
	static const char req[] = "[" M("\"threadTrace\":\"7\",\"locale\":"
	    "\"de-DE\",\"api_level\":1,\"type\":\"REQUEST\",\"payload\":{"
	    "\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"m\",\"params\":[]}}")
	    "," M("\"threadTrace\":\"8\",\"type\":\"REQUEST\",\"payload\":{"
	    "\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"m\",\"params\":[]}}")
	    "]";

	ck_assert_int_eq(osrfmsg_error_body(req, sizeof(req) - 1, 503, NULL,
	    &b), 0);
	ck_assert_str_eq(b.data, "[" M("\"threadTrace\":\"7\",\"locale\":"
	    "\"de-DE\",\"api_level\":1,\"type\":\"STATUS\",\"payload\":"
	    "{\"__c\":"
	    "\"osrfMethodException\",\"__p\":"
	    "{\"status\":\"" OSRFMSG_T_UNAVAILABLE
	    "\",\"statusCode\":\"503\"}}") "," M("\"threadTrace\":\"8\","
	    "\"locale\":\"en-US\",\"type\":\"STATUS\",\"payload\":{\"__c\":"
	    "\"osrfMethodException\",\"__p\":"
	    "{\"status\":\"" OSRFMSG_T_UNAVAILABLE
	    "\",\"statusCode\":\"503\"}}") "]");
	/* Undecodable: one 503 with the trace found, else 0. */
	pbuf_reset(&b);
	ck_assert_int_eq(osrfmsg_error_body(notype, strlen(notype), 503, NULL,
	    &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "\"threadTrace\":\"5\""));
	pbuf_reset(&b);
	ck_assert_int_eq(osrfmsg_error_body("junk", 4, 503, NULL, &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "\"threadTrace\":\"0\""));
	ck_assert_ptr_nonnull(strstr(b.data, "\"statusCode\":\"503\""));
	/* No REQUEST or CONNECT: answered with the first one's trace. */
	pbuf_reset(&b);
	ck_assert_int_eq(osrfmsg_error_body(disc, strlen(disc), 503, NULL, &b),
	    0);
	ck_assert_ptr_nonnull(strstr(b.data, "\"threadTrace\":\"3\""));
	pbuf_free(&b);
}
END_TEST

START_TEST(test_hints)
{
	json_t		*h, *p, *v;
	const char	*cls;
	struct pbuf	 b = { 0 };

	h = osrfmsg_hint_new("aou", json_pack("[i,s]", 1, "x"));
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(osrfmsg_json_write(h, &b, NULL), 0);
	ck_assert_str_eq(b.data, "{\"__c\":\"aou\",\"__p\":[1,\"x\"]}");
	cls = osrfmsg_hint_get(h, &p);
	ck_assert_str_eq(cls, "aou");
	ck_assert(json_is_array(p));
	json_decref(h);
	h = osrfmsg_hint_new("n", NULL);
	pbuf_reset(&b);
	ck_assert_int_eq(osrfmsg_json_write(h, &b, NULL), 0);
	ck_assert_str_eq(b.data, "{\"__c\":\"n\",\"__p\":null}");
	json_decref(h);
	v = json_pack("{s:i}", "__c", 1);
	ck_assert_ptr_null(osrfmsg_hint_get(v, &p));
	ck_assert_ptr_null(p);
	json_decref(v);
	v = json_pack("{s:s}", "__c", "k");	/* no __p */
	ck_assert_str_eq(osrfmsg_hint_get(v, &p), "k");
	ck_assert_ptr_null(p);
	ck_assert_str_eq(osrfmsg_hint_get(v, NULL), "k");
	json_decref(v);
	ck_assert_ptr_null(osrfmsg_hint_get(NULL, NULL));
	pbuf_free(&b);
}
END_TEST

static const struct {
	int		 code;
	const char	*name, *text;
} statuses[] = {
	{ 100, "CONTINUE", "Please hold.  Creating response..." },
	{ 200, "OK", "OK" },
	{ 202, "ACCEPTED", "Accepted" },
	{ 204, "NOCONTENT", "Partial Response Finalized" },
	{ 205, "COMPLETE", "Request Complete" },
	{ 206, "PARTIAL", "Partial Response" },
	{ 307, "REDIRECTED", "Redirected" },
	{ 400, "BADREQUEST", "Bad Request" },
	{ 401, "UNAUTHORIZED", "Unauthorized" },
	{ 403, "FORBIDDEN", "Forbidden" },
	{ 404, "NOTFOUND", "Not Found" },
	{ 405, "NOTALLOWED", "Not Allowed" },
	{ 408, "TIMEOUT", "Disconnected on timeout" },
	{ 417, "EXPFAILED", "Expectation Failed" },
	{ 500, "INTERNALSERVERERROR", "Internal Server Error" },
	{ 501, "NOTIMPLEMENTED", "Not Implemented" },
	{ 503, "SERVICEUNAVAILABLE", "Service Unavailable" },
	{ 505, "VERSIONNOTSUPPORTED", "Version Not Supported" },
	{ 999, NULL, NULL },
	{ 0, NULL, NULL },
};

START_TEST(test_status_table)
{
	if (statuses[_i].name == NULL) {
		ck_assert_ptr_null(osrfmsg_status_name(statuses[_i].code));
		ck_assert_ptr_null(osrfmsg_status_text(statuses[_i].code));
		return;
	}
	ck_assert_str_eq(osrfmsg_status_name(statuses[_i].code),
	    statuses[_i].name);
	ck_assert_str_eq(osrfmsg_status_text(statuses[_i].code),
	    statuses[_i].text);
}
END_TEST

START_TEST(test_type_names)
{
	ck_assert_str_eq(osrfmsg_type_name(OSRFMSG_CONNECT), "CONNECT");
	ck_assert_str_eq(osrfmsg_type_name(OSRFMSG_REQUEST), "REQUEST");
	ck_assert_str_eq(osrfmsg_type_name(OSRFMSG_RESULT), "RESULT");
	ck_assert_str_eq(osrfmsg_type_name(OSRFMSG_STATUS), "STATUS");
	ck_assert_str_eq(osrfmsg_type_name(OSRFMSG_DISCONNECT), "DISCONNECT");
	ck_assert_ptr_null(osrfmsg_type_name(0));
	ck_assert_ptr_null(osrfmsg_type_name(6));
	ck_assert_ptr_null(osrfmsg_type_name(-1));
}
END_TEST

Suite *
osrfmsg_suite(void)
{
	Suite	*s = suite_create("osrfmsg");
	TCase	*tc;
	size_t	 n;

	(void)thc_load(&n);	/* the count; test_stanza asserts on it */
	tc = tcase_create("captures");
	tcase_add_loop_test(tc, test_capture_bodies, 0, (int)n);
	tcase_add_test(tc, test_perl_settings_reply);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_test(tc, test_spec_exchange);
	tcase_add_loop_test(tc, test_builders, 0, (int)ARRAY_LEN(builders));
	tcase_add_test(tc, test_tz_and_no_locale);
	tcase_add_loop_test(tc, test_json_write, 0, (int)ARRAY_LEN(writes));
	tcase_add_test(tc, test_json_write_refused);
	tcase_add_test(tc, test_encode_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("read");
	tcase_add_loop_test(tc, test_read, 0, (int)ARRAY_LEN(reads));
	tcase_add_loop_test(tc, test_malformed, 0, (int)ARRAY_LEN(bad));
	tcase_add_loop_test(tc, test_fast_reader, 0, (int)ARRAY_LEN(fast_vec));
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_deep_json);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_test(tc, test_unavailable_body);
	tcase_add_test(tc, test_hints);
	tcase_add_loop_test(tc, test_status_table, 0, (int)ARRAY_LEN(statuses));
	tcase_add_test(tc, test_type_names);
	suite_add_tcase(s, tc);
	return s;
}
