/*
 * test_xml_fast.c: proto/xml_fast.c, the fast reader beside libxml2.
 *
 * The contract is "the callbacks libxml2 would make": every input of the
 * table is read by both, each into a trace (element starts with their
 * namespace and attributes, text with runs joined, ends), and when the
 * fast reader says DONE the traces must be the same.  The table also
 * pins which constructs it leaves to libxml2 (UNSURE) and that a cut
 * input is MORE.  Then the captures: every OpenSRF message on the wire
 * is read fast, and tmsg_xml_parse() and stanza_feed() give the same
 * results with the fast reader on and off, for the captures and the
 * fuzz seeds, in one read and byte by byte.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "proto/pbuf.h"
#include "proto/proto_err.h"
#include "proto/stanza.h"
#include "proto/tmsg.h"
#include "proto/xml_fast.h"
#include "th_capture.h"

/* ------------------------------------------------------------ traces */

struct trace {
	struct pbuf	b;
	int		in_text;
};

static void
tr_add(struct trace *t, const void *s, size_t n)
{
	ck_assert_int_eq(pbuf_add(&t->b, s, n), 0);
}

static void
tr_str(struct trace *t, const char *s)
{
	tr_add(t, s, strlen(s));
}

static void
tr_start(void *ctx, const xmlChar *ln, const xmlChar *prefix,
    const xmlChar *uri, int nns, const xmlChar **nss, int nattrs,
    int ndef, const xmlChar **a)
{
	struct trace	*t = ctx;
	int		 i;

	t->in_text = 0;
	tr_str(t, "<");
	tr_str(t, (const char *)ln);
	tr_str(t, " {");
	tr_str(t, uri != NULL ? (const char *)uri : "-");
	tr_str(t, "}");
	ck_assert_ptr_null(prefix);
	ck_assert_int_eq(ndef, 0);
	for (i = 0; i < nattrs; i++) {
		tr_str(t, " ");
		if (a[i * 5 + 1] != NULL) {
			tr_str(t, (const char *)a[i * 5 + 1]);
			tr_str(t, "(");
			tr_str(t, a[i * 5 + 2] != NULL ?
			    (const char *)a[i * 5 + 2] : "-");
			tr_str(t, "):");
		}
		tr_str(t, (const char *)a[i * 5]);
		tr_str(t, "=[");
		tr_add(t, a[i * 5 + 3], (size_t)(a[i * 5 + 4] - a[i * 5 + 3]));
		tr_str(t, "]");
	}
	tr_str(t, ">");
}

static void
tr_end(void *ctx, const xmlChar *ln, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct trace	*t = ctx;

	t->in_text = 0;
	tr_str(t, "</");
	tr_str(t, (const char *)ln);
	tr_str(t, ">");
}

static void
tr_text(void *ctx, const xmlChar *s, int len)
{
	struct trace	*t = ctx;

	if (!t->in_text)
		tr_str(t, "T:");
	t->in_text = 1;
	tr_add(t, s, (size_t)len);
}

static void
tr_sax(xmlSAXHandler *sax)
{
	memset(sax, 0, sizeof(*sax));
	sax->initialized = XML_SAX2_MAGIC;
	sax->startElementNs = tr_start;
	sax->endElementNs = tr_end;
	sax->characters = tr_text;
	sax->ignorableWhitespace = tr_text;
}

/* libxml2's trace of a whole document; 0 if it refuses it. */
static int
trace_libxml2(const char *doc, struct trace *t)
{
	xmlSAXHandler		sax;
	xmlParserCtxtPtr	c;
	int			ok;

	tr_sax(&sax);
	c = xmlCreatePushParserCtxt(&sax, t, NULL, 0, NULL);
	ck_assert_ptr_nonnull(c);
	xmlCtxtUseOptions(c, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC |
	    XML_PARSE_NOENT | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	ok = xmlParseChunk(c, doc, (int)strlen(doc), 1) == 0 && c->wellFormed;
	xmlFreeParserCtxt(c);
	return ok;
}

static enum xml_fast_rc
trace_fast(const char *doc, size_t len, const char *ns, struct trace *t,
    size_t *endp)
{
	struct xml_fast		x = { 0 };
	xmlSAXHandler		sax;
	enum xml_fast_rc	rc;

	tr_sax(&sax);
	x.sax = &sax;
	x.ctx = t;
	x.default_ns = ns;
	rc = xml_fast_element(&x, doc, len, endp);
	xml_fast_free(&x);
	return rc;
}

/* ------------------------------------------------------------- table */

#define D	XML_FAST_DONE
#define U	XML_FAST_UNSURE

static const struct {
	const char		*in;
	enum xml_fast_rc	 want;
} cases[] = {
	/* what OpenSRF and the servers write */
	{ "<message to='a@b/c' from=\"x@y/z\"><opensrf router_from='' "
	  "router_to='' router_class='' router_command='' osrf_xid=''/>"
	  "<thread>abc</thread><body>[{&quot;__c&quot;:&quot;osrfMessage"
	  "&quot;}]</body></message>", D },
	{ "<message xml:lang='en' to='a' type='error'><error type='cancel' "
	  "code='503'><service-unavailable xmlns='urn:ietf:params:xml:ns:"
	  "xmpp-stanzas'/></error></message>", D },
	{ "<iq type='result' id='auth2'/>", D },
	{ "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>ZD1h</success>",
	  D },
	{ "<a xmlns='u'><b xmlns=''><c/></b><d/></a>", D },
	/* decoding and normalization */
	{ "<a x='1&#9;2&#10;3&#13;4' y='t\tn\nq\"' z=\"&apos;&lt;&gt;&amp;"
	  "&quot;\">&#x41;&#0065;&#x1F600;&#xd7ff;&#xE000;\xc3\xa9"
	  "\xf0\x9f\x98\x80 ]&gt; ] ]] >&apos;</a>", D },
	{ "<a   b = 'v'  c\n=\n\"w\"  ></a  >", D },
	{ "<a>  \n\t </a>", D },
	{ "<a>\x7f\xc2\x80\xef\xbf\xbd</a>", D },
	/* left to libxml2 */
	{ "<?xml version='1.0'?><a/>", U },
	{ "<a><!-- c --></a>", U },
	{ "<a><![CDATA[x]]></a>", U },
	{ "<a><?pi x?></a>", U },
	{ "<!DOCTYPE a><a/>", U },
	{ "<x:a xmlns:x='u'/>", U },
	{ "<a xmlns:x='u'/>", U },
	{ "<a x:b='1'/>", U },
	{ "<a xml:space='preserve'/>", U },
	{ "<a>\r\n</a>", U },
	{ "<a b='\r'/>", U },
	{ "<a>\x01</a>", U },
	{ "<a>]]></a>", U },
	{ "<a>\xef\xbf\xbe</a>", U },
	{ "<a>\xc0\xbc</a>", U },
	{ "<a>\xed\xa0\x80</a>", U },
	{ "<a>&foo;</a>", U },
	{ "<a>&#0;</a>", U },
	{ "<a>&#xFFFE;</a>", U },
	{ "<a>&#x110000;</a>", U },
	{ "<a>&#x100000041;</a>", U },
	{ "<a>&#X41;</a>", U },
	{ "<a b='1' b='2'/>", U },
	{ "<a xmlns='u' xmlns='v'/>", U },
	{ "<a b='1'c='2'/>", U },
	{ "<a b='<'/>", U },
	{ "<a></b>", U },
	{ "<a/ >", U },
	{ "<\xc3\xa9/>", U },
	{ "<a\xc3\xa9/>", U },
	{ " <a/>", U },
	{ "<a><b><c><d><e><f><g><h><i><j><k><l><m><n><o><p><q/></p></o></n>"
	  "</m></l></k></j></i></h></g></f></e></d></c></b></a>", U },
};

START_TEST(test_table)
{
	struct trace	 fast = { 0 }, slow = { 0 };
	const char	*in = cases[_i].in;
	size_t		 end = 0, len = strlen(in);

	ck_assert_msg(trace_fast(in, len, NULL, &fast, &end) ==
	    cases[_i].want, "case %d: %s", _i, in);
	if (cases[_i].want != D)
		goto out;
	ck_assert_uint_eq(end, len);
	ck_assert_msg(trace_libxml2(in, &slow), "case %d: libxml2 refuses %s",
	    _i, in);
	ck_assert_str_eq(fast.b.data, slow.b.data);
	/* every cut of it is MORE */
	for (end = 1; end < len; end++) {
		pbuf_reset(&fast.b);
		ck_assert_msg(trace_fast(in, end, NULL, &fast, &len) ==
		    XML_FAST_MORE, "case %d cut at %zu", _i, end);
		len = strlen(in);
	}
out:
	pbuf_free(&fast.b);
	pbuf_free(&slow.b);
}
END_TEST

/* The namespace in scope comes from the caller, an xmlns overrides it. */
START_TEST(test_default_ns)
{
	struct trace	t = { 0 };
	size_t		end;

	ck_assert_int_eq(trace_fast("<m><b xmlns='u'/><c/></m>xx", 27,
	    "jabber:client", &t, &end), D);
	ck_assert_uint_eq(end, 25);
	ck_assert_str_eq(t.b.data, "<m {jabber:client}><b {u}></b>"
	    "<c {jabber:client}></c></m>");
	pbuf_free(&t.b);
}
END_TEST

/* --------------------------------------------- captures and corpora */

static void
same_tmsg(const char *in, size_t len, const char *what)
{
	struct tmsg		a = TMSG_INIT, b = TMSG_INIT;
	struct proto_err	ea, eb;
	int			ra, rb;

	ra = tmsg_xml_parse(in, len, &a, &ea);
	xml_fast_off = 1;
	rb = tmsg_xml_parse(in, len, &b, &eb);
	xml_fast_off = 0;
	ck_assert_msg(ra == rb, "%s: fast %d, libxml2 %d", what, ra, rb);
	ck_assert_str_eq(ea.reason, eb.reason);
	if (ra == 0) {
		ck_assert_str_eq(a.to, b.to);
		ck_assert_str_eq(a.from, b.from);
		ck_assert_str_eq(a.thread, b.thread);
		ck_assert_str_eq(a.subject, b.subject);
		ck_assert_str_eq(a.body, b.body);
		ck_assert_str_eq(a.router_from, b.router_from);
		ck_assert_str_eq(a.router_to, b.router_to);
		ck_assert_str_eq(a.router_class, b.router_class);
		ck_assert_str_eq(a.router_command, b.router_command);
		ck_assert_str_eq(a.osrf_xid, b.osrf_xid);
		ck_assert_str_eq(a.type, b.type);
		ck_assert_str_eq(a.error_type, b.error_type);
		ck_assert_str_eq(a.error_condition, b.error_condition);
		ck_assert_int_eq(a.error_code, b.error_code);
		ck_assert_int_eq(a.is_error, b.is_error);
		ck_assert_int_eq(a.broadcast, b.broadcast);
	}
	tmsg_clear(&a);
	tmsg_clear(&b);
}

/* Every message of the captures is read by the fast reader, and alike. */
START_TEST(test_captures)
{
	const struct thc_vec	*v;
	struct trace		 t = { 0 };
	size_t			 n, i, end, fast = 0;

	v = thc_load(&n);
	ck_assert_uint_gt(n, 0);
	for (i = 0; i < n; i++) {
		if (!v[i].is_message)
			continue;
		pbuf_reset(&t.b);
		ck_assert_msg(trace_fast(v[i].text, v[i].len, NULL, &t,
		    &end) == D, "%s:%d: not read fast", v[i].file,
		    v[i].line);
		fast++;
		same_tmsg(v[i].text, v[i].len, v[i].file);
	}
	ck_assert_uint_gt(fast, 5);
	pbuf_free(&t.b);
}
END_TEST

static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*s;
	long	 n;

	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ck_assert_int_ge(n = ftell(f), 0);
	rewind(f);
	ck_assert_ptr_nonnull(s = malloc((size_t)n + 1));
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	*lenp = (size_t)n;
	return s;
}

/* Events of a stream, fed in reads of step bytes, hashed in order. */
static void
stream_events(const char *s, size_t len, size_t step, struct pbuf *out,
    int *rcp)
{
	struct stanza_parser	*p;
	struct stanza_event	 ev;
	size_t			 off = 0, k;
	int			 rc = 0;
	char			 line[256];

	ck_assert_ptr_nonnull(p = stanza_parser_new(2048));
	while (off < len && rc == 0) {
		k = len - off < step ? len - off : step;
		rc = stanza_feed(p, s + off, k);
		off += k;
		while (stanza_next(p, &ev) == 1) {
			snprintf(line, sizeof(line), "%d %s %s %s %zu|",
			    (int)ev.type, ev.name, ev.ns, ev.id, ev.size);
			ck_assert_int_eq(pbuf_adds(out, line), 0);
			if (ev.stanza != NULL)
				ck_assert_int_eq(pbuf_add(out, ev.stanza->raw,
				    ev.stanza->len), 0);
			if (ev.from != NULL)
				ck_assert_int_eq(pbuf_adds(out, ev.from), 0);
			if (ev.thread != NULL)
				ck_assert_int_eq(pbuf_adds(out, ev.thread), 0);
			stanza_event_clear(&ev);
		}
	}
	*rcp = rc;
	stanza_parser_free(&p);
}

static void
same_stream(const char *s, size_t len, const char *what)
{
	static const size_t	steps[] = { 1, 7, 300, 1 << 20 };
	struct pbuf		a = { 0 }, b = { 0 };
	size_t			i;
	int			ra, rb;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		pbuf_reset(&a);
		pbuf_reset(&b);
		stream_events(s, len, steps[i], &a, &ra);
		xml_fast_off = 1;
		stream_events(s, len, steps[i], &b, &rb);
		xml_fast_off = 0;
		ck_assert_msg(a.len == b.len && (a.len == 0 ||
		    memcmp(a.data, b.data, a.len) == 0),
		    "%s, reads of %zu: events differ", what, steps[i]);
		if (ra == 0 || rb == 0)
			ck_assert_msg(ra == rb, "%s, reads of %zu: %d vs %d",
			    what, steps[i], ra, rb);
	}
	pbuf_free(&a);
	pbuf_free(&b);
}

static void
each_seed(const char *dir, int stream)
{
	char		 path[512], what[800];
	struct dirent	*d;
	DIR		*dp;
	size_t		 len, n = 0;
	char		*s;
	const char	*top = getenv("DROVER_TOP");

	snprintf(path, sizeof(path), "%s/test/corpus/%s", top != NULL ? top :
	    ".", dir);
	ck_assert_msg((dp = opendir(path)) != NULL, "%s", path);
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(what, sizeof(what), "%s/%s", path, d->d_name);
		s = slurp(what, &len);
		if (stream)
			same_stream(s + 1, len - 1, what);	/* byte 0: knob */
		else
			same_tmsg(s, len, what);
		free(s);
		n++;
	}
	closedir(dp);
	ck_assert_uint_gt(n, 10);
}

START_TEST(test_tmsg_seeds)
{
	each_seed("fuzz_tmsg", 0);
}
END_TEST

START_TEST(test_stream_seeds)
{
	each_seed("fuzz_stanza", 1);
}
END_TEST

/*
 * A stanza cut across reads stays with the fast reader up to its hold,
 * then libxml2 takes it; either way it comes out whole, and the stanzas
 * after it are read fast again.
 */
START_TEST(test_long_stanza)
{
	static const char	head[] = "<stream:stream xmlns='jabber:client' "
	    "xmlns:stream='http://etherx.jabber.org/streams'>";
	struct pbuf		s = { 0 };
	size_t			i;

	ck_assert_int_eq(pbuf_adds(&s, head), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(pbuf_adds(&s, "<message to='a'><body>"), 0);
		while (s.len < (i + 1) * 100000)
			ck_assert_int_eq(pbuf_adds(&s, "&quot;x&amp;y\xc3\xa9"),
			    0);
		ck_assert_int_eq(pbuf_adds(&s, "</body></message>"), 0);
		ck_assert_int_eq(pbuf_adds(&s, "<iq id='p' type='get'/>"), 0);
	}
	same_stream(s.data, s.len, "long stanzas");
	pbuf_free(&s);
}
END_TEST

/* An error's reason counts stream bytes, also across fast stanzas. */
START_TEST(test_error_offset)
{
	static const char	s[] = "<stream:stream xmlns='jabber:client' "
	    "xmlns:stream='http://etherx.jabber.org/streams'><iq id='1'/>"
	    "<iq id='2'/><a></b>";
	struct stanza_parser	*p;
	char			 why[2][PROTO_ERR_LEN];
	int			 off;

	for (off = 0; off < 2; off++) {
		xml_fast_off = off;
		ck_assert_ptr_nonnull(p = stanza_parser_new(0));
		ck_assert_int_eq(stanza_feed(p, s, 86), 0);
		ck_assert_int_eq(stanza_feed(p, s + 86, sizeof(s) - 87),
		    -EPROTO);
		str_copy(why[off], stanza_error(p), sizeof(why[off]));
		stanza_parser_free(&p);
	}
	xml_fast_off = 0;
	/* libxml2 reports the mismatch past the end tag: the stream's end */
	ck_assert_str_eq(why[0], why[1]);
	ck_assert_ptr_nonnull(strstr(why[0], "at byte 116:"));
	ck_assert_uint_eq(strlen(s), 116);
}
END_TEST

Suite *
xml_fast_suite(void)
{
	Suite	*s = suite_create("xml_fast");
	TCase	*tc;

	tc = tcase_create("table");
	tcase_add_loop_test(tc, test_table, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_default_ns);
	suite_add_tcase(s, tc);
	tc = tcase_create("differential");
	tcase_add_test(tc, test_captures);
	tcase_add_test(tc, test_tmsg_seeds);
	tcase_add_test(tc, test_stream_seeds);
	tcase_add_test(tc, test_long_stanza);
	tcase_add_test(tc, test_error_offset);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
