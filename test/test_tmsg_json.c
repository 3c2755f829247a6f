/*
 * test_tmsg_json.c: proto/tmsg_json.c, the Redis envelope of struct tmsg.
 *
 * First every RPUSH of every Redis capture (test/data/captures-redis,
 * MONITOR's quoting undone, truncated runs expanded back): each decodes,
 * its body decodes with the OpenSRF codec, and what a C process pushed is
 * written back byte for byte (the one allowed difference: C writes an
 * empty osrf_xid as "" or null, we always write null).  What Perl and
 * redis-cli pushed round-trips field by field.  Then tables: reader forms
 * and escapes, malformed input, the writer's exact form, round trips and
 * a 205 KB body.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/osrfmsg.h"
#include "proto/tmsg.h"

/* ------------------------------------------------- capture vectors */

enum writer { W_C = 1, W_PERL, W_CLI };

struct rvec {
	char		 file[64];
	int		 line;
	enum writer	 writer;
	char		*key;		/* the list pushed to */
	char		*json;		/* the element, unquoted, expanded */
	size_t		 len;
};

static struct rvec	*rvecs;
static size_t		 nrvecs;

/* The number of RPUSHes in the capture files: a loader check. */
#define CAPTURE_PUSHES	90

static char *
read_file(const char *name, size_t *lenp)
{
	char		 path[4096], *buf;
	const char	*top = getenv("DROVER_TOP");
	FILE		*f;
	long		 n;

	snprintf(path, sizeof(path), "%s/test/data/captures-redis/%s",
	    top != NULL ? top : ".", name);
	if ((f = fopen(path, "re")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (lenp != NULL)
		*lenp = (size_t)n;
	return buf;
}

/*
 * One MONITOR argument at *pp ("..." with backslash escapes and \xHH),
 * unquoted into a malloc'd string, with every "<<TRUNCATED: N more 'A'>>"
 * replaced by the N A's it stands for.
 */
static char *
monitor_arg(const char **pp, size_t *lenp)
{
	const char	*p = *pp, *mark = "<<TRUNCATED: ";
	char		*out, *o, *t, *exp;
	size_t		 cap = strlen(p) + 1, n;
	unsigned	 x;

	if (*p++ != '"')
		return NULL;
	if ((out = malloc(cap)) == NULL)
		abort();
	for (o = out; *p != '\0' && *p != '"'; p++) {
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		switch (*++p) {
		case 'n':	*o++ = '\n'; break;
		case 'r':	*o++ = '\r'; break;
		case 't':	*o++ = '\t'; break;
		case 'a':	*o++ = '\a'; break;
		case 'b':	*o++ = '\b'; break;
		case 'x':
			if (sscanf(p + 1, "%2x", &x) != 1)
				abort();
			*o++ = (char)x;
			p += 2;
			break;
		default:	*o++ = *p; break;	/* \" and \\ */
		}
	}
	*o = '\0';
	*pp = *p == '"' ? p + 1 : p;
	while ((t = strstr(out, mark)) != NULL) {
		n = strtoul(t + strlen(mark), NULL, 10);
		if ((exp = malloc(strlen(out) + n + 1)) == NULL)
			abort();
		memcpy(exp, out, (size_t)(t - out));
		memset(exp + (t - out), 'A', n);
		strcpy(exp + (t - out) + n, strstr(t, ">>") + 2);
		free(out);
		out = exp;
	}
	*lenp = strlen(out);
	return out;
}

/*
 * Who wrote what a client address pushed, from 00-clients.txt: no
 * process at all is the raw redis-cli of 10-untrusted-domain; anything
 * of opensrf.settings (Perl listener and drones) or opensrf-perl is
 * Perl; the rest (router, C listeners and drones, opensrf-c, srfsh) C.
 * 0 for an unknown address.  The loader runs during suite construction,
 * where Check's asserts cannot be used: a loading problem shows as a
 * wrong count in test_capture_count.
 */
static enum writer
writer_of(const char *clients, const char *addr)
{
	const char	*p = clients, *eol;
	size_t		 alen = strlen(addr);
	char		 line[1024];

	while ((p = strstr(p, addr)) != NULL) {
		if ((p == clients || p[-1] == '\n') && p[alen] == '\n')
			break;
		p += alen;
	}
	if (p == NULL || (p = strchr(p, '\n')) == NULL ||
	    (eol = strchr(++p, '\n')) == NULL)
		return 0;
	snprintf(line, sizeof(line), "%.*s", (int)(eol - p), p);
	if (strstr(line, "pids=[]") != NULL)
		return W_CLI;
	if (strstr(line, "opensrf.settings") != NULL ||
	    strstr(line, "perl") != NULL)
		return W_PERL;
	return W_C;
}

static void
load_file(const char *name, const char *clients)
{
	char		*text, *l, *next, addr[64];
	const char	*p;
	struct rvec	*v;
	int		 lineno = 0;
	size_t		 n;

	if ((text = read_file(name, NULL)) == NULL)
		return;
	for (l = text; l != NULL && *l != '\0'; l = next) {
		lineno++;
		if ((next = strchr(l, '\n')) != NULL)
			*next++ = '\0';
		if ((p = strstr(l, "] \"RPUSH\" ")) == NULL ||
		    sscanf(l, "%*s [0 %63[^]]]", addr) != 1)
			continue;
		if ((rvecs = realloc(rvecs, (nrvecs + 1) *
		    sizeof(*rvecs))) == NULL)
			abort();
		v = &rvecs[nrvecs];
		memset(v, 0, sizeof(*v));
		snprintf(v->file, sizeof(v->file), "%s", name);
		v->line = lineno;
		p += strlen("] \"RPUSH\" ");
		if ((v->writer = writer_of(clients, addr)) == 0 ||
		    (v->key = monitor_arg(&p, &n)) == NULL || *p++ != ' ' ||
		    (v->json = monitor_arg(&p, &v->len)) == NULL) {
			free(v->key);
			continue;	/* not counted: the count test fails */
		}
		nrvecs++;
	}
	free(text);
}

static const char *const capture_files[] = {
	"01-startup-register.txt", "02-stateless-add.txt",
	"02b-stateless-dbmath-div.txt", "02c-stateless-echo.txt",
	"02d-introspect.txt", "03-connect-session.txt",
	"04-unknown-method.txt", "05-unknown-service.txt",
	"05b-public-gateway.txt", "06-chunked.txt", "07-router-api.txt",
	"08-shutdown.txt", "09-queued-no-consumer.txt",
	"10-untrusted-domain.txt",
};

/* Safe outside a test: suite construction uses it for the loop bound. */
static size_t
load_captures(void)
{
	char	*clients;
	size_t	 i;

	if (rvecs != NULL)
		return nrvecs;
	if ((clients = read_file("00-clients.txt", NULL)) == NULL)
		return 0;
	for (i = 0; i < ARRAY_LEN(capture_files); i++)
		load_file(capture_files[i], clients);
	free(clients);
	return nrvecs;
}

/* The C writer's two spellings of "no xid", in ours: null. */
static char *
c_form(const char *json)
{
	const char	*from = "\"osrf_xid\":\"\"", *to = "\"osrf_xid\":null";
	const char	*t;
	char		*out;

	out = malloc(strlen(json) + 8);
	ck_assert_ptr_nonnull(out);
	if ((t = strstr(json, from)) == NULL) {
		strcpy(out, json);
		return out;
	}
	sprintf(out, "%.*s%s%s", (int)(t - json), json, to, t + strlen(from));
	return out;
}

static void
same_fields(const struct tmsg *a, const struct tmsg *b)
{
	ck_assert_str_eq(a->to, b->to);
	ck_assert_str_eq(a->from, b->from);
	ck_assert_str_eq(a->thread, b->thread);
	ck_assert_str_eq(a->osrf_xid, b->osrf_xid);
	ck_assert_str_eq(a->body, b->body);
	ck_assert_str_eq(a->router_command, b->router_command);
	ck_assert_str_eq(a->router_class, b->router_class);
	ck_assert_str_eq(a->router_to, b->router_to);
	ck_assert_str_eq(a->router_reply, b->router_reply);
}

START_TEST(test_capture_count)
{
	size_t	i, perl = 0, cli = 0, c = 0, reg = 0;

	ck_assert_uint_eq(load_captures(), CAPTURE_PUSHES);
	for (i = 0; i < nrvecs; i++) {
		perl += rvecs[i].writer == W_PERL;
		cli += rvecs[i].writer == W_CLI;
		c += rvecs[i].writer == W_C;
		reg += strstr(rvecs[i].json, "\"router_command\"") != NULL;
	}
	/* Every kind of writer and the register form are represented. */
	ck_assert_uint_eq(perl, 4);
	ck_assert_uint_eq(cli, 3);
	ck_assert_uint_eq(c, CAPTURE_PUSHES - 7);
	ck_assert_uint_eq(reg, 9);
}
END_TEST

START_TEST(test_capture_decode)
{
	const struct rvec	*v;
	struct tmsg		 m = TMSG_INIT, back = TMSG_INIT;
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct proto_err	 e;
	char			*out, *want;
	size_t			 len;

	ck_assert_uint_lt((size_t)_i, load_captures());
	v = &rvecs[_i];
	ck_assert_msg(tmsg_json_parse(v->json, v->len, &m, &e) == 0,
	    "%s:%d: %s", v->file, v->line, e.reason);
	ck_assert_str_ne(m.to, "");
	ck_assert_msg(strncmp(m.from, "opensrf:client:", 15) == 0,
	    "%s:%d: from %s", v->file, v->line, m.from);
	if (m.router_command[0] != '\0') {
		/* register/unregister: the body is the string "[]" */
		ck_assert_str_eq(m.body, "[]");
		ck_assert_str_ne(m.router_class, "");
	} else {
		ck_assert_int_eq(m.body[0], '[');
		ck_assert_msg(osrfmsg_decode(m.body, strlen(m.body), &l,
		    &e) == 0, "%s:%d: body: %s", v->file, v->line, e.reason);
		ck_assert_uint_ge(l.n, 1);
		osrfmsg_list_clear(&l);
	}
	ck_assert_int_eq(tmsg_json_write(&m, &out, &len), 0);
	ck_assert_uint_eq(len, strlen(out));
	if (v->writer == W_C) {
		want = c_form(v->json);
		ck_assert_str_eq(out, want);
		free(want);
	}
	ck_assert_int_eq(tmsg_json_parse(out, len, &back, &e), 0);
	same_fields(&m, &back);
	free(out);
	tmsg_clear(&back);
	tmsg_clear(&m);
	ck_assert_ptr_null(m.mem);
	ck_assert_ptr_null(m.to);
}
END_TEST

/* ------------------------------------------------------- field tables */

static const struct {
	const char	*name;
	const char	*json;
	const char	*to, *from, *thread, *xid, *body, *rcmd, *rclass, *rto;
	const char	*rreply;
} forms[] = {
	{ "Perl register: hash order, no osrf_xid",
	    "{\"thread\":\"\",\"from\":\"opensrf:client:opensrf:p:vm:1:2\","
	    "\"to\":\"opensrf:router:router:p\",\"body\":\"[]\","
	    "\"router_command\":\"register\",\"router_class\":\"opensrf."
	    "settings\"}",
	    "opensrf:router:router:p", "opensrf:client:opensrf:p:vm:1:2", "",
	    "", "[]", "register", "opensrf.settings", "", "" },
	{ "Perl reply: body first, no osrf_xid",
	    "{\"body\":[{\"__c\":\"osrfMessage\"}],\"thread\":\"t1\","
	    "\"from\":\"f\",\"to\":\"t\"}",
	    "t", "f", "t1", "", "[{\"__c\":\"osrfMessage\"}]", "", "", "", "" },
	{ "C register: osrf_xid null, router_to empty",
	    "{\"to\":\"r\",\"from\":\"f\",\"thread\":\"\",\"osrf_xid\":null,"
	    "\"router_to\":\"\",\"router_class\":\"opensrf.math\","
	    "\"router_command\":\"unregister\",\"body\":\"[]\"}",
	    "r", "f", "", "", "[]", "unregister", "opensrf.math", "", "" },
	{ "whitespace everywhere, body span kept as written",
	    " \r\n\t{ \"to\" : \"a\" ,\n\"body\" :\t[ 1 , {\"x\" : [ ] } ]"
	    "  , \"from\":\"b\" } \n",
	    "a", "b", "", "", "[ 1 , {\"x\" : [ ] } ]", "", "", "", "" },
	{ "every field null",
	    "{\"to\":null,\"from\":null,\"thread\":null,\"osrf_xid\":null,"
	    "\"body\":null,\"router_command\":null,\"router_class\":null,"
	    "\"router_to\":null,\"router_reply\":null}",
	    "", "", "", "", "", "", "", "", "" },
	{ "empty object", "{}", "", "", "", "", "", "", "", "", "" },
	{ "escapes in fields: \\\" \\\\ \\/ \\b \\f \\n \\r \\t",
	    "{\"to\":\"a\\\"b\\\\c\\/d\",\"thread\":\"\\b\\f\\n\\r\\t\"}",
	    "a\"b\\c/d", "", "\b\f\n\r\t", "", "", "", "", "", "" },
	{ "\\u escapes: BMP, upper-case hex, surrogate pair",
	    "{\"to\":\"\\u00e9\\u00C9\\u20ac\",\"from\":\"\\ud83d\\ude00x\"}",
	    "\xc3\xa9\xc3\x89\xe2\x82\xac", "\xf0\x9f\x98\x80x", "", "", "",
	    "", "", "", "" },
	{ "raw UTF-8 passes through",
	    "{\"thread\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
	    "", "", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "", "", "", "", "",
	    "" },
	{ "escaped key names are the same keys",
	    "{\"\\u0074o\":\"a\",\"fro\\u006d\":\"b\","
	    "\"osrf\\u005fxid\":\"x\"}",
	    "a", "b", "", "x", "", "", "", "", "" },
	{ "unknown keys of every kind are skipped",
	    "{\"x\":{\"to\":\"no\",\"a\":[1,-2.5e+3,true,false,null,\"s\"]},"
	    "\"to\":\"yes\",\"y\":[[],{}],\"z\":0,\"\\u0000k\":1,"
	    "\"router_from\":\"ignored\"}",
	    "yes", "", "", "", "", "", "", "", "" },
	{ "router_reply and router_to",
	    "{\"to\":\"a\",\"router_to\":\"rt\",\"router_reply\":\"ok\"}",
	    "a", "", "", "", "", "", "", "rt", "ok" },
	{ "body as an object, a number, a string with escapes",
	    "{\"body\":{\"a\":\"\\u00e9\"}}",
	    "", "", "", "", "{\"a\":\"\\u00e9\"}", "", "", "", "" },
	{ "body a number", "{\"body\":-0.5E-7}",
	    "", "", "", "", "-0.5E-7", "", "", "", "" },
	{ "body a string holding JSON is unescaped",
	    "{\"body\":\"[{\\\"a\\\":1}]\"}",
	    "", "", "", "", "[{\"a\":1}]", "", "", "", "" },
	{ "body string keeps \\u escapes decoded",
	    "{\"body\":\"\\u00e9\\/\"}",
	    "", "", "", "", "\xc3\xa9/", "", "", "", "" },
};

START_TEST(test_forms)
{
	struct tmsg		m = TMSG_INIT;
	struct proto_err	e;

	ck_assert_msg(tmsg_json_parse(forms[_i].json, strlen(forms[_i].json),
	    &m, &e) == 0, "%s: %s", forms[_i].name, e.reason);
	ck_assert_str_eq(m.to, forms[_i].to);
	ck_assert_str_eq(m.from, forms[_i].from);
	ck_assert_str_eq(m.thread, forms[_i].thread);
	ck_assert_str_eq(m.osrf_xid, forms[_i].xid);
	ck_assert_str_eq(m.body, forms[_i].body);
	ck_assert_str_eq(m.router_command, forms[_i].rcmd);
	ck_assert_str_eq(m.router_class, forms[_i].rclass);
	ck_assert_str_eq(m.router_to, forms[_i].rto);
	ck_assert_str_eq(m.router_reply, forms[_i].rreply);
	/* XML-only fields are there, empty. */
	ck_assert_str_eq(m.router_from, "");
	ck_assert_str_eq(m.subject, "");
	ck_assert_str_eq(m.type, "");
	ck_assert_str_eq(m.error_type, "");
	ck_assert_str_eq(m.error_condition, "");
	ck_assert_int_eq(m.is_error, 0);
	ck_assert_int_eq(m.broadcast, 0);
	ck_assert_str_eq(tmsg_reply_to(&m), forms[_i].from);
	tmsg_clear(&m);
}
END_TEST

/* Input need not be NUL-terminated: only len bytes are read. */
START_TEST(test_not_terminated)
{
	const char		 text[] = "{\"to\":\"a\"}XXXX";
	char			*buf;
	struct tmsg		 m = TMSG_INIT;

	buf = malloc(10);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, text, 10);		/* no NUL: ASan would see a read */
	ck_assert_int_eq(tmsg_json_parse(buf, 10, &m, NULL), 0);
	ck_assert_str_eq(m.to, "a");
	tmsg_clear(&m);
	ck_assert_int_eq(tmsg_json_parse(text, 7, &m, NULL), -EPROTO);
	free(buf);
}
END_TEST

/* ------------------------------------------------------ malformed input */

static const struct {
	const char	*name;
	const char	*json;
	size_t		 len;		/* 0: strlen */
	const char	*reason;	/* a substring of the reason */
} bad[] = {
	{ "empty", "", 0, "not a JSON object" },
	{ "blank", " \n", 0, "not a JSON object" },
	{ "an array", "[{\"to\":\"a\"}]", 0, "not a JSON object" },
	{ "a string", "\"to\"", 0, "not a JSON object" },
	{ "null", "null", 0, "not a JSON object" },
	{ "XML", "<message/>", 0, "not a JSON object" },
	{ "open brace only", "{", 0, "expected a key" },
	{ "unterminated key", "{\"to", 0, "unterminated string" },
	{ "no colon", "{\"to\" \"a\"}", 0, "expected ':'" },
	{ "no value", "{\"to\":}", 0, "not a string" },
	{ "number for to", "{\"to\":1}", 0, "\"to\" is not a string" },
	{ "object for from", "{\"from\":{}}", 0, "\"from\" is not a string" },
	{ "array for osrf_xid", "{\"osrf_xid\":[]}", 0, "not a string" },
	{ "true for thread", "{\"thread\":true}", 0, "not a string" },
	{ "nul spelled wrong", "{\"to\":nul}", 0, "unexpected character" },
	{ "trailing comma", "{\"to\":\"a\",}", 0, "expected a key" },
	{ "comma first", "{,}", 0, "expected a key" },
	{ "missing comma", "{\"to\":\"a\" \"from\":\"b\"}", 0,
	    "expected ',' or '}'" },
	{ "unterminated object", "{\"to\":\"a\"", 0, "expected ',' or '}'" },
	{ "data after", "{\"to\":\"a\"} x", 0, "data after the object" },
	{ "two objects", "{}{}", 0, "data after the object" },
	{ "duplicate to", "{\"to\":\"a\",\"to\":\"b\"}", 0,
	    "duplicate key \"to\"" },
	{ "duplicate from, one escaped",
	    "{\"from\":\"a\",\"\\u0066rom\":\"b\"}", 0,
	    "duplicate key \"from\"" },
	{ "duplicate body", "{\"body\":[],\"body\":\"[]\"}", 0,
	    "duplicate key \"body\"" },
	{ "duplicate null osrf_xid", "{\"osrf_xid\":null,\"osrf_xid\":\"x\"}",
	    0, "duplicate key" },
	{ "\\u0000 in a field", "{\"to\":\"a\\u0000b\"}", 0, "\\u0000" },
	{ "\\u0000 in a string body", "{\"body\":\"\\u0000\"}", 0, "\\u0000" },
	{ "lone high surrogate", "{\"to\":\"\\ud800\"}", 0, "high surrogate" },
	{ "high surrogate + BMP", "{\"to\":\"\\ud800\\u0041\"}", 0,
	    "high surrogate" },
	{ "lone low surrogate", "{\"to\":\"\\udc00\"}", 0, "low surrogate" },
	{ "short \\u", "{\"to\":\"\\u12\"}", 0, "bad \\u escape" },
	{ "\\u not hex", "{\"to\":\"\\u12g4\"}", 0, "bad \\u escape" },
	{ "bad escape", "{\"to\":\"\\x41\"}", 0, "bad escape" },
	{ "raw newline in a string", "{\"to\":\"a\nb\"}", 0,
	    "control character" },
	{ "raw tab in the body", "{\"body\":[\"\t\"]}", 0,
	    "control character" },
	{ "NUL byte", "{\"to\":\"a\0b\"}", 11, "control character" },
	{ "invalid UTF-8: lone continuation", "{\"to\":\"\x80\"}", 0,
	    "invalid UTF-8" },
	{ "invalid UTF-8: overlong /", "{\"to\":\"\xc0\xaf\"}", 0,
	    "invalid UTF-8" },
	{ "invalid UTF-8: surrogate", "{\"to\":\"\xed\xa0\x80\"}", 0,
	    "invalid UTF-8" },
	{ "invalid UTF-8: above U+10FFFF", "{\"to\":\"\xf4\x90\x80\x80\"}",
	    0, "invalid UTF-8" },
	{ "invalid UTF-8: truncated", "{\"to\":\"\xe2\x82\"}", 0,
	    "invalid UTF-8" },
	{ "invalid UTF-8 in the body", "{\"body\":[\"\xff\"]}", 0,
	    "invalid UTF-8" },
	{ "body unterminated", "{\"body\":[1,2", 0, "unterminated container" },
	{ "body ends early", "{\"body\":[1,", 0, "value expected" },
	{ "body trailing comma", "{\"body\":[1,]}", 0, "unexpected" },
	{ "body leading zero", "{\"body\":[01]}", 0, "expected ',' or ']'" },
	{ "body bare minus", "{\"body\":[-]}", 0, "bad number" },
	{ "body 1.", "{\"body\":[1.]}", 0, "bad number" },
	{ "body 1e", "{\"body\":[1e]}", 0, "bad number" },
	{ "body .5", "{\"body\":[.5]}", 0, "unexpected character" },
	{ "body +1", "{\"body\":[+1]}", 0, "unexpected character" },
	{ "body tru", "{\"body\":[tru]}", 0, "unexpected character" },
	{ "body NaN", "{\"body\":[NaN]}", 0, "unexpected character" },
	{ "body object without colon", "{\"body\":[{\"a\" 1}]}", 0,
	    "expected ':'" },
	{ "body object number key", "{\"body\":{1:2}}", 0, "expected a key" },
	{ "body object trailing comma", "{\"body\":{\"a\":1,}}", 0,
	    "expected a key" },
	{ "body mismatched close", "{\"body\":[1}]}", 0,
	    "expected ',' or ']'" },
	{ "unknown key, bad value", "{\"x\":[1 2]}", 0, "expected ',' or ']'" },
	{ "unknown key, unterminated", "{\"x\":\"abc", 0, "unterminated" },
	{ "escaped unknown key, bad escape", "{\"\\q\":1}", 0, "bad escape" },
	{ "long escaped key, bad UTF-8",
	    "{\"\\u0061aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\xff\":1}", 0,
	    "invalid UTF-8" },
};

START_TEST(test_malformed)
{
	struct tmsg		m = TMSG_INIT;
	struct proto_err	e;
	size_t			len = bad[_i].len ? bad[_i].len :
				    strlen(bad[_i].json);

	ck_assert_int_eq(tmsg_json_parse(bad[_i].json, len, &m, &e), -EPROTO);
	ck_assert_int_eq(e.code, -EPROTO);
	ck_assert_msg(strstr(e.reason, bad[_i].reason) != NULL,
	    "%s: reason \"%s\" lacks \"%s\"", bad[_i].name, e.reason,
	    bad[_i].reason);
	ck_assert_ptr_null(m.mem);
	ck_assert_ptr_null(m.to);
	ck_assert_ptr_null(m.body);
	/* NULL error report is accepted too. */
	ck_assert_int_eq(tmsg_json_parse(bad[_i].json, len, &m, NULL),
	    -EPROTO);
}
END_TEST

/*
 * Nesting: jansson's limit is accepted, one level more is not; arrays
 * (_i 0, 1) and objects (_i 2, 3).
 */
START_TEST(test_depth)
{
	struct tmsg		 m = TMSG_INIT;
	struct proto_err	 e;
	size_t			 d = TMSG_JSON_MAX_DEPTH + (size_t)(_i % 2), i;
	int			 objects = _i >= 2;
	char			*j, *p;

	j = malloc(6 * d + 32);
	ck_assert_ptr_nonnull(j);
	p = j + sprintf(j, "{\"body\":");
	for (i = 0; i < d; i++)
		p += sprintf(p, "%s", objects ? (i + 1 < d ? "{\"k\":" : "{") :
		    "[");
	for (i = 0; i < d; i++)
		*p++ = objects ? '}' : ']';
	strcpy(p, "}");
	if (_i % 2 == 0) {
		ck_assert_msg(tmsg_json_parse(j, strlen(j), &m, &e) == 0,
		    "%s", e.reason);
		ck_assert_uint_eq(strlen(m.body), strlen(j) - 9);
		tmsg_clear(&m);
	} else {
		ck_assert_int_eq(tmsg_json_parse(j, strlen(j), &m, &e),
		    -EPROTO);
		ck_assert_ptr_nonnull(strstr(e.reason, "nested too deep"));
	}
	free(j);
}
END_TEST

/* ---------------------------------------------------------- the writer */

static const struct {
	const char	*name;
	struct tmsg	 m;
	const char	*json;
} writes[] = {
	{ "C message, xid set",
	    { .to = "opensrf:client:a", .from = "opensrf:client:b",
	    .thread = "t", .osrf_xid = "123", .body = "[{\"a\":1}]" },
	    "{\"to\":\"opensrf:client:a\",\"from\":\"opensrf:client:b\","
	    "\"thread\":\"t\",\"osrf_xid\":\"123\",\"body\":[{\"a\":1}]}" },
	{ "no xid is null; NULL fields are empty strings",
	    { .body = "[]" },
	    "{\"to\":\"\",\"from\":\"\",\"thread\":\"\",\"osrf_xid\":null,"
	    "\"body\":[]}" },
	{ "\"\" xid is null too, empty body is []",
	    { .to = "a", .osrf_xid = "", .body = "" },
	    "{\"to\":\"a\",\"from\":\"\",\"thread\":\"\",\"osrf_xid\":null,"
	    "\"body\":[]}" },
	{ "C register",
	    { .to = "opensrf:router:router:private.localhost",
	    .from = "opensrf:client:opensrf:private.localhost:vm:17312:c1d7",
	    .router_class = "opensrf.dbmath", .router_command = "register" },
	    "{\"to\":\"opensrf:router:router:private.localhost\",\"from\":"
	    "\"opensrf:client:opensrf:private.localhost:vm:17312:c1d7\","
	    "\"thread\":\"\",\"osrf_xid\":null,\"router_to\":\"\","
	    "\"router_class\":\"opensrf.dbmath\",\"router_command\":"
	    "\"register\",\"body\":\"[]\"}" },
	{ "command body is a string, escaped",
	    { .to = "r", .router_command = "x", .body = "[\"a\"]" },
	    "{\"to\":\"r\",\"from\":\"\",\"thread\":\"\",\"osrf_xid\":null,"
	    "\"router_to\":\"\",\"router_class\":\"\",\"router_command\":"
	    "\"x\",\"body\":\"[\\\"a\\\"]\"}" },
	{ "router_reply after router_command; no command: body inline",
	    { .to = "c", .router_class = "svc", .router_reply = "ok",
	    .body = "[1]" },
	    "{\"to\":\"c\",\"from\":\"\",\"thread\":\"\",\"osrf_xid\":null,"
	    "\"router_to\":\"\",\"router_class\":\"svc\",\"router_command\":"
	    "\"\",\"router_reply\":\"ok\",\"body\":[1]}" },
	{ "escapes: quote, backslash, controls, / as is",
	    { .to = "\"\\/\b\f\n\r\t\x01\x1f", .body = "[]" },
	    "{\"to\":\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\",\"from\":\"\","
	    "\"thread\":\"\",\"osrf_xid\":null,\"body\":[]}" },
	{ "non-ASCII as \\u, lowercase, surrogate pairs",
	    { .thread = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", .body = "[]" },
	    "{\"to\":\"\",\"from\":\"\",\"thread\":\"\\u00e9\\u20ac"
	    "\\ud83d\\ude00\",\"osrf_xid\":null,\"body\":[]}" },
	{ "a body that would add keys to the envelope goes as a string",
	    { .to = "a", .body = "[],\"router_command\":\"register\"" },
	    "{\"to\":\"a\",\"from\":\"\",\"thread\":\"\",\"osrf_xid\":null,"
	    "\"body\":\"[],\\\"router_command\\\":\\\"register\\\"\"}" },
	{ "a body that is a JSON string goes as a string (reads back as is)",
	    { .to = "a", .body = "\"x\"" },
	    "{\"to\":\"a\",\"from\":\"\",\"thread\":\"\",\"osrf_xid\":null,"
	    "\"body\":\"\\\"x\\\"\"}" },
	{ "white space before the value: a string",
	    { .to = "a", .body = " [1]" },
	    "{\"to\":\"a\",\"from\":\"\",\"thread\":\"\",\"osrf_xid\":null,"
	    "\"body\":\" [1]\"}" },
	{ "the text null: a string",
	    { .to = "a", .body = "null" },
	    "{\"to\":\"a\",\"from\":\"\",\"thread\":\"\",\"osrf_xid\":null,"
	    "\"body\":\"null\"}" },
	{ "text that is not JSON: a string",
	    { .to = "a", .body = "[1" },
	    "{\"to\":\"a\",\"from\":\"\",\"thread\":\"\",\"osrf_xid\":null,"
	    "\"body\":\"[1\"}" },
	{ "one number goes inline",
	    { .to = "a", .body = "-1.5e3" },
	    "{\"to\":\"a\",\"from\":\"\",\"thread\":\"\",\"osrf_xid\":null,"
	    "\"body\":-1.5e3}" },
	{ "XML-only fields are not written",
	    { .to = "a", .router_from = "x", .subject = "s", .type = "error",
	    .is_error = 1, .error_code = 503, .broadcast = 1, .body = "[]" },
	    "{\"to\":\"a\",\"from\":\"\",\"thread\":\"\",\"osrf_xid\":null,"
	    "\"body\":[]}" },
};

START_TEST(test_write)
{
	struct tmsg	 back = TMSG_INIT;
	char		*out;
	size_t		 len;

	ck_assert_int_eq(tmsg_json_write(&writes[_i].m, &out, &len), 0);
	ck_assert_msg(strcmp(out, writes[_i].json) == 0, "%s:\n%s\n%s",
	    writes[_i].name, out, writes[_i].json);
	ck_assert_uint_eq(len, strlen(out));
	/* and it reads back */
	ck_assert_int_eq(tmsg_json_parse(out, len, &back, NULL), 0);
	ck_assert_str_eq(back.to, writes[_i].m.to ? writes[_i].m.to : "");
	ck_assert_str_eq(back.thread, writes[_i].m.thread ?
	    writes[_i].m.thread : "");
	ck_assert_str_eq(back.body, writes[_i].m.body != NULL &&
	    writes[_i].m.body[0] != '\0' ? writes[_i].m.body : "[]");
	tmsg_clear(&back);
	free(out);
}
END_TEST

/* Appending: the buffer is extended, and restored on failure. */
START_TEST(test_write_buf)
{
	struct pbuf	b = { 0 };
	struct tmsg	m = TMSG_INIT;

	m.to = "a";
	m.body = "[]";
	ck_assert_int_eq(pbuf_adds(&b, "prefix|"), 0);
	ck_assert_int_eq(tmsg_json_write_buf(&m, &b), 0);
	ck_assert_str_eq(b.data, "prefix|{\"to\":\"a\",\"from\":\"\","
	    "\"thread\":\"\",\"osrf_xid\":null,\"body\":[]}");
	pbuf_reset(&b);
	ck_assert_int_eq(pbuf_adds(&b, "keep"), 0);
	m.thread = "bad \xff UTF-8";
	ck_assert_int_eq(tmsg_json_write_buf(&m, &b), -EILSEQ);
	ck_assert_str_eq(b.data, "keep");
	ck_assert_uint_eq(b.len, 4);
	m.thread = NULL;
	m.router_class = "\xc0\xaf";	/* overlong */
	ck_assert_int_eq(tmsg_json_write_buf(&m, &b), -EILSEQ);
	ck_assert_str_eq(b.data, "keep");
	pbuf_free(&b);
}
END_TEST

/* Write, read, the same fields; for strings that need every escape. */
START_TEST(test_roundtrip)
{
	static const char *const strs[] = {
		"", "plain", "q\"b\\s/", "\x01\x02\x1f\x7f", "\xc3\xa9",
		"\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xf0\x90\x80\x80",
		"opensrf:client:opensrf:private.localhost:vm:17432:d6e05e6e",
	};
	struct tmsg	 m = TMSG_INIT, back = TMSG_INIT;
	const char	*s = strs[_i % ARRAY_LEN(strs)];
	char		*out;
	size_t		 len;

	m.to = s;
	m.from = s;
	m.thread = s;
	m.osrf_xid = s;
	m.router_to = s;
	m.router_class = s;
	m.router_reply = s;
	m.router_command = _i >= (int)ARRAY_LEN(strs) ? "register" : NULL;
	m.body = m.router_command != NULL ? s : "[\"x\",{\"k\":null}]";
	ck_assert_int_eq(tmsg_json_write(&m, &out, &len), 0);
	ck_assert_int_eq(tmsg_json_parse(out, len, &back, NULL), 0);
	ck_assert_str_eq(back.to, s);
	ck_assert_str_eq(back.from, s);
	ck_assert_str_eq(back.thread, s);
	ck_assert_str_eq(back.osrf_xid, s);
	ck_assert_str_eq(back.router_class, s);
	ck_assert_str_eq(back.router_command, m.router_command ?
	    m.router_command : "");
	ck_assert_str_eq(back.router_to, s);
	ck_assert_str_eq(back.router_reply, s);
	ck_assert_str_eq(back.body, m.router_command != NULL && s[0] == '\0' ?
	    "[]" : m.body);
	tmsg_clear(&back);
	free(out);
}
END_TEST

/* 06-chunked: a 205 KB request went through in one push. */
START_TEST(test_huge_body)
{
	const size_t		 n = 205 * 1024;
	struct pbuf		 body = { 0 };
	struct tmsg		 m = TMSG_INIT, back = TMSG_INIT;
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	char			*out, *big;
	size_t			 len;

	big = malloc(n + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'A', n);
	big[n] = '\0';
	ck_assert_int_eq(pbuf_adds(&body, "[{\"__c\":\"osrfMessage\",\"__p\":"
	    "{\"threadTrace\":\"1\",\"type\":\"REQUEST\",\"payload\":{\"__c\":"
	    "\"osrfMethod\",\"__p\":{\"method\":\"opensrf.system.echo\","
	    "\"params\":[\""), 0);
	ck_assert_int_eq(pbuf_adds(&body, big), 0);
	ck_assert_int_eq(pbuf_adds(&body, "\"]}}}}]"), 0);
	m.to = "opensrf:service:_:_:opensrf.math";
	m.from = "opensrf:client:opensrf:private.localhost:vm:1:2";
	m.thread = "t";
	m.body = body.data;
	ck_assert_int_eq(tmsg_json_write(&m, &out, &len), 0);
	ck_assert_uint_gt(len, n);
	ck_assert_int_eq(tmsg_json_parse(out, len, &back, NULL), 0);
	ck_assert_uint_eq(strlen(back.body), body.len);
	ck_assert_str_eq(back.body, body.data);
	ck_assert_int_eq(osrfmsg_decode(back.body, body.len, &l, NULL), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.msg[0].method, "opensrf.system.echo");
	osrfmsg_list_clear(&l);
	tmsg_clear(&back);
	free(out);
	free(big);
	pbuf_free(&body);
}
END_TEST

Suite *
tmsg_json_suite(void)
{
	Suite	*s = suite_create("tmsg_json");
	TCase	*tc;

	tc = tcase_create("captures");
	tcase_add_test(tc, test_capture_count);
	/* a missing capture directory fails test_capture_count */
	tcase_add_loop_test(tc, test_capture_decode, 0,
	    (int)load_captures());
	suite_add_tcase(s, tc);

	tc = tcase_create("read");
	tcase_add_loop_test(tc, test_forms, 0, (int)ARRAY_LEN(forms));
	tcase_add_test(tc, test_not_terminated);
	tcase_add_loop_test(tc, test_malformed, 0, (int)ARRAY_LEN(bad));
	tcase_add_loop_test(tc, test_depth, 0, 4);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_loop_test(tc, test_write, 0, (int)ARRAY_LEN(writes));
	tcase_add_test(tc, test_write_buf);
	tcase_add_loop_test(tc, test_roundtrip, 0, 18);
	tcase_add_test(tc, test_huge_body);
	suite_add_tcase(s, tc);
	return s;
}
