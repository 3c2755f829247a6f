/*
 * test_tmsg.c: proto/tmsg.c, the OpenSRF transport message.
 *
 * Byte-exact: every C-written stanza of the captures is parsed and
 * written back identical; every stanza ejabberd delivered whose sender
 * was C (its <opensrf> has router_to) is written back identical to what
 * that sender put on the wire.  Then field tables for the forms servers
 * and Perl produce, error stanzas (spec 1.4), the writer's escaping and
 * error form, and malformed input.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/tmsg.h"
#include "th_capture.h"

START_TEST(test_capture_roundtrip)
{
	const struct thc_vec	*v;
	struct tmsg		 m = TMSG_INIT;
	struct proto_err	 e;
	size_t			 n, i, len;
	char			*out;
	int			 found;

	v = thc_load(&n);
	ck_assert_uint_lt((size_t)_i, n);
	if (!v[_i].is_message) {
		/* Not a lone <message>: a stream excerpt, stanza's suite. */
		ck_assert_int_ne(strncmp(v[_i].text, "<message", 8), 0);
		return;
	}
	ck_assert_msg(tmsg_xml_parse(v[_i].text, v[_i].len, &m, &e) == 0,
	    "%s:%d: %s", v[_i].file, v[_i].line, e.reason);
	ck_assert_str_ne(m.to, "");
	ck_assert_str_ne(m.from, "");
	ck_assert_int_eq(tmsg_xml_write(&m, &out, &len), 0);
	ck_assert_uint_eq(len, strlen(out));
	if (v[_i].c_written)
		ck_assert_str_eq(out, v[_i].text);
	else if (v[_i].dir == THC_S2C &&
	    strstr(v[_i].text, "router_to=") != NULL) {
		/* Sent by C: we write what that C process wrote. */
		for (i = 0, found = 0; i < n && !found; i++)
			found = v[i].c_written && strcmp(v[i].text, out) == 0;
		ck_assert_msg(found, "%s:%d: no C->S twin of\n%s", v[_i].file,
		    v[_i].line, out);
	}
	free(out);
	tmsg_clear(&m);
	ck_assert_ptr_null(m.mem);
	ck_assert_ptr_null(m.to);
}
END_TEST

/* ------------------------------------------------------- field tables */

static const struct {
	const char	*name;
	const char	*xml;
	const char	*to, *from, *thread, *body, *rfrom, *rclass, *rcmd;
	const char	*xid, *reply_to;
	int		 broadcast;
} fields[] = {
	{ "ejabberd: body before thread, &quot;, xml:lang",
	    "<message xml:lang='en' to='opensrf@private.localhost/l' "
	    "from='router@private.localhost/opensrf.math'><opensrf "
	    "router_from='opensrf@private.localhost/_vm_1' router_to='' "
	    "router_class='' router_command='' osrf_xid='1795549623225410'/>"
	    "<body>[{&quot;__c&quot;:&quot;osrfMessage&quot;}]</body>"
	    "<thread>1795549623.395107.179554962322541</thread></message>",
	    "opensrf@private.localhost/l", "router@private.localhost/"
	    "opensrf.math", "1795549623.395107.179554962322541",
	    "[{\"__c\":\"osrfMessage\"}]", "opensrf@private.localhost/_vm_1",
	    "", "", "1795549623225410", "opensrf@private.localhost/_vm_1", 0 },
	{ "Perl register: no router_from, empty <thread/>",
	    "<message xml:lang='en' to='router@private.localhost/router' "
	    "from='opensrf@private.localhost/opensrf.settings_listener_"
	    "localhost_22211'><opensrf router_command='register' "
	    "router_class='opensrf.settings' osrf_xid=''/><body>registering"
	    "</body><thread/></message>",
	    "router@private.localhost/router", "opensrf@private.localhost/"
	    "opensrf.settings_listener_localhost_22211", "", "registering", "",
	    "opensrf.settings", "register", "", "opensrf@private.localhost/"
	    "opensrf.settings_listener_localhost_22211", 0 },
	{ "pre-3.1 top-level attributes",
	    "<message to='a@b/c' from='d@e/f' router_from='x@y/z' "
	    "router_class='svc' router_command='register' osrf_xid='9' "
	    "broadcast='1'><body>b</body></message>",
	    "a@b/c", "d@e/f", "", "b", "x@y/z", "svc", "register", "9",
	    "x@y/z", 1 },
	{ "the <opensrf> child wins over top-level attributes",
	    "<message to='a@b/c' from='d@e/f' router_from='old@y/z' "
	    "osrf_xid='1'><opensrf router_from='new@y/z' osrf_xid='2' "
	    "broadcast='0'/></message>",
	    "a@b/c", "d@e/f", "", "", "new@y/z", "", "", "2", "new@y/z", 0 },
	{ "double quotes, entities and char refs everywhere",
	    "<message to=\"a&amp;b@c/&quot;r&quot;\" from=\"&#x64;@e/f\">"
	    "<thread>t&lt;1&gt;</thread><body>&lt;&amp;&gt;&#233;\xc3\xa9"
	    "</body></message>",
	    "a&b@c/\"r\"", "d@e/f", "t<1>", "<&>\xc3\xa9\xc3\xa9", "", "", "",
	    "", "d@e/f", 0 },
	{ "CDATA, nested markup in body, unknown children, subject",
	    "<message to='a@b/c' from='d@e/f'><x xmlns='urn:y'><body>no</body>"
	    "</x><subject>s</subject><body><![CDATA[<raw>&]]><i>n</i></body>"
	    "<body>second</body><delay xmlns='urn:xmpp:delay'/></message>",
	    "a@b/c", "d@e/f", "", "<raw>&n", "", "", "", "", "d@e/f", 0 },
	{ "empty router_from falls back to from",
	    "<message to='a@b/c' from='d@e/f'><opensrf router_from=''/>"
	    "</message>",
	    "a@b/c", "d@e/f", "", "", "", "", "", "", "d@e/f", 0 },
	{ "no attributes at all",
	    "<message/>", "", "", "", "", "", "", "", "", "", 0 },
};

START_TEST(test_fields)
{
	struct tmsg		m = TMSG_INIT;
	struct proto_err	e;

	ck_assert_msg(tmsg_xml_parse(fields[_i].xml, strlen(fields[_i].xml), &m,
	    &e) == 0, "%s: %s", fields[_i].name, e.reason);
	ck_assert_str_eq(m.to, fields[_i].to);
	ck_assert_str_eq(m.from, fields[_i].from);
	ck_assert_str_eq(m.thread, fields[_i].thread);
	ck_assert_str_eq(m.body, fields[_i].body);
	ck_assert_str_eq(m.router_from, fields[_i].rfrom);
	ck_assert_str_eq(m.router_class, fields[_i].rclass);
	ck_assert_str_eq(m.router_command, fields[_i].rcmd);
	ck_assert_str_eq(m.osrf_xid, fields[_i].xid);
	ck_assert_str_eq(tmsg_reply_to(&m), fields[_i].reply_to);
	ck_assert_int_eq(m.broadcast, fields[_i].broadcast);
	ck_assert_int_eq(m.is_error, 0);
	ck_assert_int_eq(m.error_code, 0);
	ck_assert_str_eq(m.router_to, "");
	tmsg_clear(&m);
}
END_TEST

START_TEST(test_subject)
{
	struct tmsg	m = TMSG_INIT;
	static const char x[] = "<message to='a' from='b'><subject>s&amp;"
	    "</subject><thread>t</thread></message>";

	ck_assert_int_eq(tmsg_xml_parse(x, sizeof(x) - 1, &m, NULL), 0);
	ck_assert_str_eq(m.subject, "s&");
	ck_assert_str_eq(m.thread, "t");
	tmsg_clear(&m);
}
END_TEST

/* --------------------------------------------------------------- errors */

static const struct {
	const char	*name;
	const char	*xml;
	const char	*type, *etype, *cond;
	int		 code;
} errs[] = {
	{ "prosody bounce: no code, condition only",
	    "<message to='opensrf@private.localhost/_vm' from='router@private."
	    "localhost/opensrf.math' type='error'><error type='cancel'>"
	    "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
	    "</error></message>", "error", "cancel", "service-unavailable",
	    503 },
	{ "legacy code wins over the condition",
	    "<message to='a' from='b' type='error'><error type='cancel' "
	    "code='404'><service-unavailable xmlns='urn:ietf:params:xml:ns:"
	    "xmpp-stanzas'/></error></message>", "error", "cancel",
	    "service-unavailable", 404 },
	{ "OpenSRF router 501, no type on <message>",
	    "<message to=\"a\" from=\"b\"><error type=\"cancel\" code=\"501\"/>"
	    "<opensrf router_from=\"\"/><thread>t</thread><body>[]</body>"
	    "</message>", "", "cancel", "", 501 },
	{ "type='error' only: code 0",
	    "<message to='a' from='b' type='error'><body>x</body></message>",
	    "error", "", "", 0 },
	{ "<text> is not the condition",
	    "<message to='a' from='b' type='error'><error type='wait'><text "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>busy</text>"
	    "<resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
	    "</error></message>", "error", "wait", "resource-constraint",
	    500 },
	{ "unknown condition: 500",
	    "<message to='a' from='b'><error type='cancel'><made-up/></error>"
	    "</message>", "", "cancel", "made-up", 500 },
	{ "bad code attribute: from the condition",
	    "<message to='a' from='b'><error code='x1'><gone/></error>"
	    "</message>", "", "", "gone", 302 },
	{ "error child without anything: code 0",
	    "<message to='a' from='b'><error/></message>", "", "", "", 0 },
	{ "<error> nested deeper still marks it",
	    "<message to='a' from='b'><x><error code='409'/></x></message>",
	    "", "", "", 0 },
};

START_TEST(test_errors)
{
	struct tmsg		m = TMSG_INIT;
	struct proto_err	e;

	ck_assert_msg(tmsg_xml_parse(errs[_i].xml, strlen(errs[_i].xml), &m,
	    &e) == 0, "%s: %s", errs[_i].name, e.reason);
	ck_assert_int_eq(m.is_error, 1);
	ck_assert_str_eq(m.type, errs[_i].type);
	ck_assert_str_eq(m.error_type, errs[_i].etype);
	ck_assert_str_eq(m.error_condition, errs[_i].cond);
	ck_assert_msg(m.error_code == errs[_i].code, "%s: code %d",
	    errs[_i].name, m.error_code);
	tmsg_clear(&m);
}
END_TEST

static const struct {
	const char	*cond;
	int		 code;
} xep86[] = {
	{ "not-authorized", 401 }, { "service-unavailable", 503 },
	{ "bad-request", 400 }, { "conflict", 409 },
	{ "feature-not-implemented", 501 }, { "forbidden", 403 },
	{ "gone", 302 }, { "internal-server-error", 500 },
	{ "item-not-found", 404 }, { "jid-malformed", 400 },
	{ "not-acceptable", 406 }, { "not-allowed", 405 },
	{ "payment-required", 402 }, { "recipient-unavailable", 404 },
	{ "redirect", 302 }, { "registration-required", 407 },
	{ "remote-server-not-found", 404 }, { "remote-server-timeout", 504 },
	{ "resource-constraint", 500 }, { "subscription-required", 407 },
	{ "undefined-condition", 500 }, { "unexpected-request", 400 },
	{ "policy-violation", 500 }, { "", 500 },
};

START_TEST(test_xep86)
{
	ck_assert_int_eq(tmsg_condition_code(xep86[_i].cond), xep86[_i].code);
	/* The condition written for a code maps back to that code. */
	ck_assert_int_eq(tmsg_condition_code(tmsg_code_condition(
	    xep86[_i].code)), xep86[_i].code);
}
END_TEST

START_TEST(test_code_condition)
{
	ck_assert_str_eq(tmsg_code_condition(503), "service-unavailable");
	ck_assert_str_eq(tmsg_code_condition(501), "feature-not-implemented");
	ck_assert_str_eq(tmsg_code_condition(404), "item-not-found");
	ck_assert_str_eq(tmsg_code_condition(400), "bad-request");
	ck_assert_str_eq(tmsg_code_condition(302), "redirect");
	ck_assert_str_eq(tmsg_code_condition(999), "undefined-condition");
}
END_TEST

/* --------------------------------------------------------------- writer */

static const struct {
	const char	*name;
	struct tmsg	 m;
	const char	*out;
} writes[] = {
	{ "all NULL", { 0 },
	    "<message to=\"\" from=\"\"><opensrf router_from=\"\" "
	    "router_to=\"\" "
	    "router_class=\"\" router_command=\"\" osrf_xid=\"\"/></message>" },
	{ "registration, exact C bytes (spec 1.3)",
	    { .to = "router@private.localhost/router",
	      .from = "opensrf@private.localhost/opensrf.math_listener_h1_"
	      "1727712000.123456_4242", .router_class = "opensrf.math",
	      .router_command = "register", .body = "registering",
	      .thread = "" },
	    "<message to=\"router@private.localhost/router\" from=\"opensrf@"
	    "private.localhost/opensrf.math_listener_h1_1727712000.123456_4242"
	    "\"><opensrf router_from=\"\" router_to=\"\" router_class=\""
	    "opensrf.math\" router_command=\"register\" osrf_xid=\"\"/><body>"
	    "registering</body></message>" },
	{ "broadcast, subject, escaping",
	    { .to = "a\"&<>'b", .from = "f\t\n\r", .thread = "t\"&<>'\t\n",
	      .subject = "s", .body = "[\"<&>\"]\r\n", .broadcast = 1,
	      .osrf_xid = "x" },
	    "<message to=\"a&quot;&amp;&lt;&gt;'b\" from=\"f&#9;&#10;&#13;\">"
	    "<opensrf router_from=\"\" router_to=\"\" router_class=\"\" "
	    "router_command=\"\" osrf_xid=\"x\" broadcast=\"1\"/><thread>t\""
	    "&amp;&lt;&gt;'\t\n</thread><subject>s</subject><body>[\"&lt;"
	    "&amp;&gt;\"]&#13;\n</body></message>" },
	{ "error: type on message and <error> with code and condition",
	    { .to = "c@d/e", .from = "r@d/svc", .is_error = 1,
	      .error_code = 501, .thread = "t", .body = "[]" },
	    "<message to=\"c@d/e\" from=\"r@d/svc\" type=\"error\"><error "
	    "type=\"cancel\" code=\"501\"><feature-not-implemented xmlns=\""
	    "urn:ietf:params:xml:ns:xmpp-stanzas\"/></error><opensrf "
	    "router_from=\"\" router_to=\"\" router_class=\"\" router_command="
	    "\"\" osrf_xid=\"\"/><thread>t</thread><body>[]</body></message>" },
	{ "error: code 0 written as 500, given type and condition",
	    { .to = "c", .from = "r", .is_error = 1, .error_type = "wait",
	      .error_condition = "resource-constraint" },
	    "<message to=\"c\" from=\"r\" type=\"error\"><error type=\"wait\" "
	    "code=\"500\"><resource-constraint xmlns=\"urn:ietf:params:xml:ns:"
	    "xmpp-stanzas\"/></error><opensrf router_from=\"\" router_to=\"\" "
	    "router_class=\"\" router_command=\"\" osrf_xid=\"\"/></message>" },
};

START_TEST(test_write)
{
	struct tmsg	 back = TMSG_INIT;
	struct pbuf	 b = { 0 };
	char		*out;
	size_t		 len;

	ck_assert_int_eq(tmsg_xml_write(&writes[_i].m, &out, &len), 0);
	ck_assert_str_eq(out, writes[_i].out);
	ck_assert_uint_eq(len, strlen(out));
	/* Appending to a buffer gives the same bytes after what was there. */
	ck_assert_int_eq(pbuf_adds(&b, "prefix"), 0);
	ck_assert_int_eq(tmsg_xml_write_buf(&writes[_i].m, &b), 0);
	ck_assert_str_eq(b.data + 6, writes[_i].out);
	/* And it reads back to the same fields. */
	ck_assert_int_eq(tmsg_xml_parse(out, len, &back, NULL), 0);
	ck_assert_str_eq(back.to, writes[_i].m.to != NULL ?
	    writes[_i].m.to : "");
	ck_assert_str_eq(back.from, writes[_i].m.from != NULL ?
	    writes[_i].m.from : "");
	ck_assert_str_eq(back.body, writes[_i].m.body != NULL ?
	    writes[_i].m.body : "");
	ck_assert_str_eq(back.thread, writes[_i].m.thread != NULL ?
	    writes[_i].m.thread : "");
	ck_assert_int_eq(back.is_error, writes[_i].m.is_error);
	ck_assert_int_eq(back.broadcast, writes[_i].m.broadcast);
	if (back.is_error)
		ck_assert_int_eq(back.error_code, writes[_i].m.error_code != 0 ?
		    writes[_i].m.error_code : 500);
	tmsg_clear(&back);
	free(out);
	pbuf_free(&b);
}
END_TEST

START_TEST(test_write_unrepresentable)
{
	struct tmsg	 m = TMSG_INIT;
	struct pbuf	 b = { 0 };
	char		*out = (char *)"untouched";

	/* XML 1.0 cannot carry most control characters: refuse, intact. */
	m.to = "a";
	m.body = "x\001y";
	ck_assert_int_eq(pbuf_adds(&b, "keep"), 0);
	ck_assert_int_eq(tmsg_xml_write_buf(&m, &b), -EILSEQ);
	ck_assert_str_eq(b.data, "keep");
	ck_assert_uint_eq(b.len, 4);
	ck_assert_int_eq(tmsg_xml_write(&m, &out, NULL), -EILSEQ);
	ck_assert_ptr_null(out);
	m.body = NULL;
	m.thread = "\033";
	ck_assert_int_eq(tmsg_xml_write_buf(&m, &b), -EILSEQ);
	ck_assert_str_eq(b.data, "keep");
	pbuf_free(&b);
}
END_TEST

/* ------------------------------------------------------------ malformed */

static const struct {
	const char	*name;
	const char	*xml;
	size_t		 len;
	int		 rc;
} bad[] = {
	{ "empty", "", 0, -EPROTO },
	{ "not XML", "hello", 0, -EPROTO },
	{ "not a message", "<iq type='get'/>", 0, -EPROTO },
	{ "truncated", "<message to='a'><body>x", 0, -EPROTO },
	{ "truncated in a tag", "<message to='a", 0, -EPROTO },
	{ "wrong nesting", "<message><body></message></body>", 0, -EPROTO },
	{ "trailing garbage", "<message/><message/>", 0, -EPROTO },
	{ "invalid UTF-8", "<message><body>\xff</body></message>", 0, -EPROTO },
	{ "invalid UTF-8 in attribute", "<message to='\xe2\x82'/>", 0,
	    -EPROTO },
	{ "NUL inside", "<message>\0</message>", 20, -EPROTO },
	{ "DOCTYPE", "<!DOCTYPE message [<!ENTITY a 'b'>]><message><body>&a;"
	    "</body></message>", 0, -EPROTO },
	{ "external entity", "<!DOCTYPE m [<!ENTITY x SYSTEM 'file:///etc/"
	    "passwd'>]><message><body>&x;</body></message>", 0, -EPROTO },
	{ "undefined entity", "<message><body>&nbsp;</body></message>", 0,
	    -EPROTO },
	{ "duplicate attribute", "<message to='a' to='b'/>", 0, -EPROTO },
};

START_TEST(test_malformed)
{
	struct tmsg		m = TMSG_INIT;
	struct proto_err	e;
	size_t			len;

	len = bad[_i].len != 0 ? bad[_i].len : strlen(bad[_i].xml);
	ck_assert_msg(tmsg_xml_parse(bad[_i].xml, len, &m, &e) == bad[_i].rc,
	    "%s: accepted", bad[_i].name);
	ck_assert_int_eq(e.code, bad[_i].rc);
	ck_assert_str_ne(e.reason, "");
	/* Zeroed on failure. */
	ck_assert_ptr_null(m.mem);
	ck_assert_ptr_null(m.to);
	ck_assert_ptr_null(m.body);
	/* NULL error report is fine too. */
	ck_assert_int_eq(tmsg_xml_parse(bad[_i].xml, len, &m, NULL), bad[_i].rc);
}
END_TEST

START_TEST(test_huge)
{
	struct tmsg	 m = TMSG_INIT;
	char		*x;
	size_t		 n = 4 * 1024 * 1024, i;

	/* A 4 MiB attribute and a 4 MiB body, with entities in both. */
	x = malloc(2 * n + 100);
	ck_assert_ptr_nonnull(x);
	strcpy(x, "<message to='");
	i = strlen(x);
	memset(x + i, 'a', n);
	memcpy(x + i, "&amp;", 5);
	i += n;
	strcpy(x + i, "'><body>");
	i += 8;
	memset(x + i, 'b', n);
	memcpy(x + i + n - 6, "&quot;", 6);
	i += n;
	strcpy(x + i, "</body></message>");
	ck_assert_int_eq(tmsg_xml_parse(x, strlen(x), &m, NULL), 0);
	ck_assert_uint_eq(strlen(m.to), n - 4);
	ck_assert_int_eq(m.to[0], '&');
	ck_assert_uint_eq(strlen(m.body), n - 5);
	ck_assert_int_eq(m.body[n - 6], '"');
	tmsg_clear(&m);
	free(x);
}
END_TEST

START_TEST(test_deep)
{
	struct tmsg	 m = TMSG_INIT;
	struct pbuf	 b = { 0 };
	int		 i;

	ck_assert_int_eq(pbuf_adds(&b, "<message>"), 0);
	for (i = 0; i < 5000; i++)
		ck_assert_int_eq(pbuf_adds(&b, "<a>"), 0);
	ck_assert_int_eq(tmsg_xml_parse(b.data, b.len, &m, NULL), -EPROTO);
	pbuf_free(&b);
}
END_TEST

Suite *
tmsg_suite(void)
{
	Suite	*s = suite_create("tmsg");
	TCase	*tc;
	size_t	 n;

	(void)thc_load(&n);	/* the count; test_stanza asserts on it */
	tc = tcase_create("captures");
	tcase_add_loop_test(tc, test_capture_roundtrip, 0, (int)n);
	suite_add_tcase(s, tc);

	tc = tcase_create("read");
	tcase_add_loop_test(tc, test_fields, 0, (int)ARRAY_LEN(fields));
	tcase_add_test(tc, test_subject);
	tcase_add_loop_test(tc, test_errors, 0, (int)ARRAY_LEN(errs));
	tcase_add_loop_test(tc, test_xep86, 0, (int)ARRAY_LEN(xep86));
	tcase_add_test(tc, test_code_condition);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_loop_test(tc, test_write, 0, (int)ARRAY_LEN(writes));
	tcase_add_test(tc, test_write_unrepresentable);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_loop_test(tc, test_malformed, 0, (int)ARRAY_LEN(bad));
	tcase_add_test(tc, test_huge);
	tcase_add_test(tc, test_deep);
	suite_add_tcase(s, tc);
	return s;
}
