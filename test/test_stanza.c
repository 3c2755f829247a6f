/*
 * test_stanza.c: proto/stanza.c, the incremental XMPP stream parser.
 *
 * Every capture vector is parsed whole, split at every byte and fed one
 * byte at a time; the three runs must give the same events, and the raw
 * bytes handed out must be exactly the captured ones.  Then: many
 * stanzas in one read, stream events, oversized stanzas (resync), the
 * single-token limit, and a table of malformed streams.
 *
 * Events are compared as transcripts: one text line per event, built by
 * run().
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pbuf.h"
#include "proto/stanza.h"
#include "th_capture.h"

#define HEAD	THC_STREAM_HEAD

static void
tr_add(struct pbuf *t, const char *fmt, ...) PRINTF(2, 3);

static void
tr_add(struct pbuf *t, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(n, 0);
	ck_assert_int_eq(pbuf_add(t, s, (size_t)n), 0);
	free(s);
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "-";
}

/* Drain p's events into transcript t. */
static void
drain(struct stanza_parser *p, struct pbuf *t)
{
	struct stanza_event	ev;

	while (stanza_next(p, &ev) == 1) {
		switch (ev.type) {
		case STANZA_EV_OPEN:
			tr_add(t, "OPEN id=%s from=%s version=%s\n",
			    stanza_stream_id(p), stanza_stream_from(p),
			    stanza_stream_version(p));
			break;
		case STANZA_EV_STANZA:
		case STANZA_EV_FEATURES:
		case STANZA_EV_STREAM_ERROR:
			ck_assert_ptr_nonnull(ev.stanza);
			ck_assert_uint_eq(ev.stanza->len,
			    strlen(ev.stanza->raw));
			ck_assert_uint_eq(ev.size, ev.stanza->len);
			ck_assert_str_eq(ev.stanza->name, ev.name);
			tr_add(t, "%s %s ns=%s type=%s id=%s cond=%s err=%d "
			    "len=%zu\n%s\n", ev.type == STANZA_EV_STANZA ?
			    "STANZA" : ev.type == STANZA_EV_FEATURES ?
			    "FEATURES" : "STREAMERROR", ev.name, ev.ns,
			    ev.type_attr, ev.id, ev.condition,
			    ev.stanza->is_error, ev.stanza->len,
			    ev.stanza->raw);
			break;
		case STANZA_EV_CLOSE:
			tr_add(t, "CLOSE\n");
			break;
		case STANZA_EV_TOOBIG:
			ck_assert_ptr_null(ev.stanza);
			tr_add(t, "TOOBIG %s size=%zu from=%s to=%s id=%s "
			    "type=%s rf=%s xid=%s thread=%s\n", ev.name,
			    ev.size, nz(ev.from), nz(ev.to), ev.id,
			    ev.type_attr, nz(ev.router_from), nz(ev.osrf_xid),
			    nz(ev.thread));
			break;
		default:
			ck_abort_msg("unknown event %d", ev.type);
		}
		stanza_event_clear(&ev);
	}
}

/*
 * Parse s (len bytes) with limit max: in pieces of step bytes (0: whole),
 * or in two pieces cut at cut (if non-zero).  Returns the transcript
 * (malloc'd), ending in "RC n\n" with the first failure (or 0).
 */
static char *
run(size_t max, const char *s, size_t len, size_t step, size_t cut)
{
	struct stanza_parser	*p;
	struct pbuf		 t = { 0 };
	size_t			 off = 0, k;
	int			 rc = 0;

	p = stanza_parser_new(max);
	ck_assert_ptr_nonnull(p);
	while (off < len && rc == 0) {
		if (cut != 0)
			k = off < cut ? cut : len - off;
		else
			k = step == 0 || step > len - off ? len - off : step;
		rc = stanza_feed(p, s + off, k);
		off += k;
		drain(p, &t);
	}
	if (rc != 0) {
		ck_assert_str_ne(stanza_error(p), "");
		/* Sticky until reset. */
		ck_assert_int_eq(stanza_feed(p, "<a/>", 4), rc);
	}
	tr_add(&t, "RC %d\n", rc);
	stanza_parser_free(&p);
	ck_assert_ptr_null(p);
	return pbuf_steal(&t, NULL);
}

static int
count(const char *hay, const char *needle)
{
	int	n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* ------------------------------------------------------ capture vectors */

START_TEST(test_captures_present)
{
	const struct thc_vec	*v;
	size_t			 n, i, c = 0, s = 0, cw = 0;

	v = thc_load(&n);
	/* 7 capture files: 98 stanza lines and the raw stream excerpts. */
	ck_assert_uint_ge(n, 110);
	for (i = 0; i < n; i++) {
		c += v[i].dir == THC_C2S;
		s += v[i].dir == THC_S2C;
		cw += v[i].c_written;
	}
	ck_assert_uint_ge(c, 55);
	ck_assert_uint_ge(s, 55);
	ck_assert_uint_ge(cw, 40);
}
END_TEST

/* The stream bytes for vector v: single stanzas get a stream header. */
static char *
vec_stream(const struct thc_vec *v, size_t *lenp, size_t *bodyoff)
{
	char	*s;

	if (v->text[0] == '<' && (strncmp(v->text, "<?xml", 5) == 0 ||
	    strncmp(v->text, "<stream:stream", 14) == 0)) {
		s = strdup(v->text);
		/* Stanzas start after the stream start tag. */
		*bodyoff = (size_t)(strchr(strstr(s, "<stream:stream"), '>') -
		    s) + 1;
	} else {
		ck_assert_int_ge(asprintf(&s, "%s%s", HEAD, v->text), 0);
		*bodyoff = strlen(HEAD);
	}
	ck_assert_ptr_nonnull(s);
	*lenp = strlen(s);
	return s;
}

START_TEST(test_capture_vector)
{
	const struct thc_vec	*v;
	struct stanza_parser	*p;
	struct stanza_event	 ev;
	struct pbuf		 cat = { 0 };
	size_t			 n, len, off, k;
	char			*s, *whole, *other;

	v = thc_load(&n);
	ck_assert_uint_lt((size_t)_i, n);
	v += _i;
	s = vec_stream(v, &len, &off);

	/* Whole: the raw stanzas are exactly the captured bytes. */
	p = stanza_parser_new(0);
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(stanza_feed(p, s, len) == 0, "%s:%d: %s", v->file,
	    v->line, stanza_error(p));
	ck_assert_int_eq(stanza_next(p, &ev), 1);
	ck_assert_int_eq(ev.type, STANZA_EV_OPEN);
	if (v->dir == THC_S2C)
		ck_assert_str_ne(stanza_stream_id(p), "");
	while (stanza_next(p, &ev) == 1) {
		ck_assert_ptr_nonnull(ev.stanza);
		ck_assert_int_eq(pbuf_add(&cat, ev.stanza->raw,
		    ev.stanza->len), 0);
		if (v->is_message) {
			ck_assert_str_eq(ev.stanza->name, "message");
			ck_assert_int_eq(ev.stanza->is_error,
			    strstr(v->text, "type='error'") != NULL ||
			    strstr(v->text, "<error") != NULL);
		}
		stanza_event_clear(&ev);
	}
	ck_assert_msg(cat.data != NULL && strcmp(cat.data, s + off) == 0,
	    "%s:%d: raw stanzas differ from the capture", v->file, v->line);
	stanza_parser_free(&p);
	pbuf_free(&cat);

	/* Split anywhere, and byte by byte: the same events. */
	whole = run(0, s, len, 0, 0);
	ck_assert_int_eq(count(whole, "RC 0\n"), 1);
	for (k = 1; k < len; k++) {
		other = run(0, s, len, 0, k);
		ck_assert_msg(strcmp(whole, other) == 0, "%s:%d: split at %zu "
		    "differs:\n%s\nvs\n%s", v->file, v->line, k, whole, other);
		free(other);
	}
	other = run(0, s, len, 1, 0);
	ck_assert_str_eq(whole, other);
	free(other);
	free(whole);
	free(s);
}
END_TEST

START_TEST(test_many_in_one_read)
{
	const struct thc_vec	*v;
	struct pbuf		 all = { 0 };
	size_t			 n, i, nmsg = 0, step;
	char			*whole, *other;
	unsigned int		 seed = 12345;

	v = thc_load(&n);
	ck_assert_int_eq(pbuf_adds(&all, HEAD), 0);
	for (i = 0; i < n; i++) {
		if (!v[i].is_message)
			continue;
		ck_assert_int_eq(pbuf_add(&all, v[i].text, v[i].len), 0);
		/* Whitespace keepalives between some of them. */
		if (i % 3 == 0)
			ck_assert_int_eq(pbuf_adds(&all, " \n"), 0);
		nmsg++;
	}
	ck_assert_int_eq(pbuf_adds(&all, "</stream:stream>"), 0);
	whole = run(0, all.data, all.len, 0, 0);
	ck_assert_int_eq(count(whole, "STANZA message "), (int)nmsg);
	ck_assert_int_eq(count(whole, "CLOSE\n"), 1);
	ck_assert_int_eq(count(whole, "RC 0\n"), 1);
	for (i = 0; i < n; i++)
		if (v[i].is_message)
			ck_assert_ptr_nonnull(strstr(whole, v[i].text));
	/* Pseudo-random read sizes, as a socket would give them. */
	for (i = 0; i < 50; i++) {
		seed = seed * 1103515245u + 12345u;
		step = 1 + (seed >> 8) % 9000;
		other = run(0, all.data, all.len, step, 0);
		ck_assert_str_eq(whole, other);
		free(other);
	}
	free(whole);
	pbuf_free(&all);
}
END_TEST

/* ------------------------------------------------------- stream events */

START_TEST(test_stream_prosody)
{
	char	*s, *t, *line;
	size_t	 len;

	s = thc_read("prosody_digest_auth_failure.txt", &len);
	ck_assert_ptr_nonnull(s);
	line = strstr(s, "<?xml version='1.0'?><stream:stream xmlns:stream");
	ck_assert_ptr_nonnull(line);
	line[strcspn(line, "\n")] = '\0';
	t = run(0, line, strlen(line), 0, 0);
	ck_assert_str_eq(t,
	    "OPEN id=d495acbc-33e3-4670-855c-39027e8300ee "
	    "from=private.localhost version=\n"
	    "FEATURES features ns=http://etherx.jabber.org/streams type= id= "
	    "cond= err=0 len=249\n"
	    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:"
	    "xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN"
	    "</mechanism><mechanism>SCRAM-SHA-256</mechanism></mechanisms>"
	    "<auth xmlns='http://jabber.org/features/iq-auth'/>"
	    "</stream:features>\n"
	    "STANZA iq ns=jabber:client type=result id=123456789 cond= err=0 "
	    "len=109\n"
	    "<iq id='123456789' type='result'><query xmlns='jabber:iq:auth'>"
	    "<username/><password/><resource/></query></iq>\n"
	    "STANZA message ns=jabber:client type=error id= cond= err=1 "
	    "len=231\n"
	    "<message to='opensrf@private.localhost/_vm_1795550015.002470_"
	    "26289' from='router@private.localhost/opensrf.math' type='error'>"
	    "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:"
	    "xml:ns:xmpp-stanzas'/></error></message>\n"
	    "RC 0\n");
	free(t);
	free(s);
}
END_TEST

START_TEST(test_stream_rfc6120)
{
	static const char s[] =
	    "<?xml version='1.0' encoding='UTF-8'?>\n"
	    "<stream:stream from='im.example.com' id='t7AMCin9zjMNwQKDnplntZPI'"
	    " to='juliet@im.example.com' version='1.0' xml:lang='en' "
	    "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/"
	    "streams'>\n"
	    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-"
	    "tls'><required/></starttls></stream:features>\n"
	    "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	    "<success xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">dj1wTk5E"
	    "</success>"
	    "<stream:error><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>"
	    "bye</text><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
	    "</stream:error></stream:stream>";
	char	*t;

	t = run(0, s, sizeof(s) - 1, 0, 0);
	ck_assert_ptr_nonnull(strstr(t, "OPEN id=t7AMCin9zjMNwQKDnplntZPI "
	    "from=im.example.com version=1.0\n"));
	ck_assert_ptr_nonnull(strstr(t, "FEATURES features "));
	ck_assert_ptr_nonnull(strstr(t, "STANZA proceed "
	    "ns=urn:ietf:params:xml:ns:xmpp-tls "));
	ck_assert_ptr_nonnull(strstr(t, "STANZA success "
	    "ns=urn:ietf:params:xml:ns:xmpp-sasl type= id= cond= err=0 len=68\n"
	    "<success xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">dj1wTk5E"
	    "</success>\n"));
	ck_assert_ptr_nonnull(strstr(t, "STREAMERROR error "
	    "ns=http://etherx.jabber.org/streams type= id= cond=conflict "
	    "err=1 "));
	ck_assert_ptr_nonnull(strstr(t, "CLOSE\nRC 0\n"));
	free(t);
}
END_TEST

START_TEST(test_after_close)
{
	struct stanza_parser	*p;
	struct stanza_event	 ev;
	static const char	 s[] = HEAD "<iq/></stream:stream>";

	p = stanza_parser_new(0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(stanza_feed(p, s, sizeof(s) - 1), 0);
	ck_assert_int_eq(stanza_feed(p, " \r\n", 3), 0);
	ck_assert_int_eq(stanza_feed(p, "<iq/>", 5), -EPROTO);
	/* The events before the failure are all there. */
	ck_assert_int_eq(stanza_next(p, &ev), 1);
	ck_assert_int_eq(ev.type, STANZA_EV_OPEN);
	ck_assert_int_eq(stanza_next(p, &ev), 1);
	ck_assert_int_eq(ev.type, STANZA_EV_STANZA);
	ck_assert_str_eq(ev.stanza->raw, "<iq/>");
	stanza_event_clear(&ev);
	ck_assert_ptr_null(ev.stanza);
	ck_assert_int_eq(stanza_next(p, &ev), 1);
	ck_assert_int_eq(ev.type, STANZA_EV_CLOSE);
	ck_assert_int_eq(stanza_next(p, &ev), 0);
	ck_assert_int_eq(ev.type, STANZA_EV_NONE);
	/* A reset starts a new stream (after SASL, or on reconnect). */
	ck_assert_int_eq(stanza_reset(p), 0);
	ck_assert_str_eq(stanza_error(p), "");
	ck_assert_str_eq(stanza_stream_id(p), "");
	ck_assert_uint_eq(stanza_bytes_fed(p), 0);
	ck_assert_int_eq(stanza_feed(p, s, sizeof(s) - 1), 0);
	ck_assert_uint_eq(stanza_bytes_fed(p), sizeof(s) - 1);
	ck_assert_str_eq(stanza_stream_id(p), "3449836441881677972");
	stanza_parser_free(&p);
	stanza_parser_free(&p);		/* NULL: no-op */
}
END_TEST

START_TEST(test_truncated)
{
	static const char	 s[] = HEAD "<message><body>abc";
	char			*t;

	/* Incomplete is not an error: the rest may come in the next read. */
	t = run(0, s, sizeof(s) - 1, 0, 0);
	ck_assert_int_eq(count(t, "STANZA"), 0);
	ck_assert_int_eq(count(t, "RC 0\n"), 1);
	free(t);
	/* But closing the stream in the middle of it is. */
	t = run(0, HEAD "<message><body>abc</stream:stream>",
	    sizeof(HEAD "<message><body>abc</stream:stream>") - 1, 0, 0);
	ck_assert_int_eq(count(t, "RC -71\n"), 1);
	free(t);
}
END_TEST

START_TEST(test_error_in_incomplete_token)
{
	/*
	 * Found by fuzz_stanza: bad UTF-8 inside a stream tag whose end has
	 * not arrived.  With all bytes at once libxml2 looks into the tag
	 * and fails at once; fed byte by byte it waits for the tag to end.
	 * Either way no event comes out of it and nothing crashes.
	 */
	static const char	s[] = "<stream:stream to='private.localhorf&"
	    "\xd3\xdd\x8b\x97\x8d\x9a\x9e\x9bTra' xmlns:stream='http://"
	    "etherx.jabber.org/streams' xmlns='jabber:client'><m";
	char			*t;

	t = run(0, s, sizeof(s) - 1, 0, 0);
	ck_assert_str_eq(t, "RC -71\n");
	free(t);
	t = run(0, s, sizeof(s) - 1, 1, 0);
	ck_assert(strcmp(t, "RC 0\n") == 0 || strcmp(t, "RC -71\n") == 0);
	free(t);
}
END_TEST

/* ------------------------------------------------------------ oversize */

static char *
big_message(size_t bodylen, const char *from)
{
	char	*body, *s;

	body = malloc(bodylen + 1);
	ck_assert_ptr_nonnull(body);
	memset(body, 'x', bodylen);
	body[bodylen] = '\0';
	ck_assert_int_ge(asprintf(&s, "<message xml:lang='en' to='me@h/r' "
	    "from='%s' id='m1'><opensrf router_from='client@h/c' router_to='' "
	    "osrf_xid='42'/><body>%s</body><thread>T-1</thread></message>",
	    from, body), 0);
	free(body);
	return s;
}

START_TEST(test_toobig_resync)
{
	struct pbuf	 all = { 0 };
	char		*big, *t, *other = NULL, *expect;
	size_t		 steps[] = { 0, 1, 7, 100, 1000, 4096 }, i;

	big = big_message(5000, "router@h/svc&amp;x");
	ck_assert_int_eq(pbuf_adds(&all, HEAD "<iq id='a'/>"), 0);
	ck_assert_int_eq(pbuf_adds(&all, big), 0);
	ck_assert_int_eq(pbuf_adds(&all, "<iq id='b'/>"), 0);
	ck_assert_int_ge(asprintf(&expect, "TOOBIG message size=%zu "
	    "from=router@h/svc&x to=me@h/r id=m1 type= rf=client@h/c xid=42 "
	    "thread=T-1\n", strlen(big)), 0);
	for (i = 0; i < ARRAY_LEN(steps); i++) {
		t = run(1024, all.data, all.len, steps[i], 0);
		ck_assert_msg(strstr(t, expect) != NULL, "step %zu:\n%s",
		    steps[i], t);
		/* The stanzas around it are intact: the stream resynced. */
		ck_assert_ptr_nonnull(strstr(t, "\n<iq id='a'/>\n"));
		ck_assert_ptr_nonnull(strstr(t, "\n<iq id='b'/>\nRC 0\n"));
		if (i == 0)
			other = t;
		else {
			ck_assert_str_eq(t, other);
			free(t);
		}
	}
	free(other);
	free(expect);
	free(big);
	pbuf_free(&all);
}
END_TEST

START_TEST(test_toobig_boundary)
{
	char	*msg, *s, *t;
	size_t	 len, base;

	/* Find the body length that makes the stanza exactly 2048 bytes. */
	msg = big_message(0, "a@b/c");
	base = strlen(msg);
	free(msg);
	msg = big_message(2048 - base, "a@b/c");
	ck_assert_uint_eq(strlen(msg), 2048);
	ck_assert_int_ge(asprintf(&s, HEAD "%s", msg), 0);
	len = strlen(s);
	t = run(2048, s, len, 0, 0);
	ck_assert_int_eq(count(t, "STANZA message"), 1);
	free(t);
	t = run(2047, s, len, 0, 0);
	ck_assert_int_eq(count(t, "TOOBIG message size=2048 "), 1);
	free(t);
	t = run(2047, s, len, 1, 0);
	ck_assert_int_eq(count(t, "TOOBIG message size=2048 "), 1);
	free(t);
	free(s);
	free(msg);
}
END_TEST

START_TEST(test_max_size_clamp)
{
	struct stanza_parser	*p;
	struct stanza_event	 ev;
	char			*msg, *s;

	p = stanza_parser_new(0);
	ck_assert_ptr_nonnull(p);
	stanza_set_max_size(p, 10);	/* clamped to STANZA_MAX_SIZE_MIN */
	msg = big_message(STANZA_MAX_SIZE_MIN - 200, "a@b/c");
	ck_assert_int_ge(asprintf(&s, HEAD "%s", msg), 0);
	ck_assert_int_eq(stanza_feed(p, s, strlen(s)), 0);
	ck_assert_int_eq(stanza_next(p, &ev), 1);
	ck_assert_int_eq(stanza_next(p, &ev), 1);
	ck_assert_int_eq(ev.type, STANZA_EV_STANZA);
	stanza_event_clear(&ev);
	stanza_parser_free(&p);
	free(s);
	free(msg);
}
END_TEST

START_TEST(test_single_token_limit)
{
	struct stanza_parser	*p;
	char			 chunk[4096];
	int			 rc = 0, i;

	p = stanza_parser_new(1024);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(stanza_feed(p, HEAD "<message to='",
	    strlen(HEAD "<message to='")), 0);
	memset(chunk, 'a', sizeof(chunk));
	/* A start tag that never ends: bounded, then refused. */
	for (i = 0; i < 200 && rc == 0; i++)
		rc = stanza_feed(p, chunk, sizeof(chunk));
	ck_assert_int_eq(rc, -EMSGSIZE);
	ck_assert_ptr_nonnull(strstr(stanza_error(p), "single XML token"));
	ck_assert_int_eq(stanza_feed(p, "'/>", 3), -EMSGSIZE);
	ck_assert_int_eq(stanza_reset(p), 0);
	ck_assert_int_eq(stanza_feed(p, HEAD, strlen(HEAD)), 0);
	stanza_parser_free(&p);
}
END_TEST

/* ------------------------------------------------------------ malformed */

#define UTF16 "\xff\xfe<\0s\0t\0r\0e\0a\0m\0:\0s\0t\0r\0e\0a\0m\0" \
	" \0x\0m\0l\0n\0s\0:\0s\0t\0r\0e\0a\0m\0=\0'\0h\0t\0t\0p\0:\0/\0/\0" \
	"e\0t\0h\0e\0r\0x\0.\0j\0a\0b\0b\0e\0r\0.\0o\0r\0g\0/\0s\0t\0r\0e\0" \
	"a\0m\0s\0'\0>\0"

static const struct {
	const char	*name;
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	int		 rc;
	int		 events;	/* queued before the failure */
} bad[] = {
	{ "not a stream", "<message/>", 0, -EPROTO, 0 },
	{ "wrong stream namespace", "<stream:stream xmlns:stream='urn:x' "
	    "xmlns='jabber:client'>", 0, -EPROTO, 0 },
	{ "wrong nesting", HEAD "<message><body></message></body>", 0,
	    -EPROTO, 1 },
	{ "mismatched end", HEAD "<message></iq>", 0, -EPROTO, 1 },
	{ "bad stanza after good ones", HEAD "<iq/><iq/><message><x>"
	    "</message>", 0, -EPROTO, 3 },
	{ "invalid UTF-8 text", HEAD "<message><body>\xff\xfe</body>"
	    "</message>", 0, -EPROTO, 1 },
	{ "invalid UTF-8 attribute", HEAD "<message to='\xc3\x28'/>", 0,
	    -EPROTO, 1 },
	{ "overlong UTF-8", HEAD "<message><body>\xc0\xaf</body></message>",
	    0, -EPROTO, 1 },
	{ "surrogate in UTF-8", HEAD "<message><body>\xed\xa0\x80</body>"
	    "</message>", 0, -EPROTO, 1 },
	{ "NUL byte", HEAD "<message>\0</message>",
	    sizeof(HEAD "<message>\0</message>") - 1, -EPROTO, 1 },
	{ "DOCTYPE", "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol "
	    "'lol'><!ENTITY lol2 '&lol;&lol;&lol;'>]><stream:stream "
	    "xmlns:stream='http://etherx.jabber.org/streams'>", 0, -EPROTO, 0 },
	{ "undefined entity", HEAD "<message><body>&foo;</body></message>", 0,
	    -EPROTO, 1 },
	{ "bad character reference", HEAD "<message><body>&#0;</body>"
	    "</message>", 0, -EPROTO, 1 },
	{ "text at stream level", HEAD "hello<iq/>", 0, -EPROTO, 1 },
	{ "comment at stream level", HEAD "<!-- x --><iq/>", 0, -EPROTO, 1 },
	{ "PI at stream level", HEAD "<?foo bar?><iq/>", 0, -EPROTO, 1 },
	{ "CDATA at stream level", HEAD "<![CDATA[x]]>", 0, -EPROTO, 1 },
	{ "unquoted attribute", HEAD "<message to=a/>", 0, -EPROTO, 1 },
	{ "duplicate attribute", HEAD "<message to='a' to='b'/>", 0, -EPROTO,
	    1 },
	{ "< in attribute", HEAD "<message to='<'/><iq/>", 0, -EPROTO, 1 },
	{ "data after close", HEAD "</stream:stream><iq/>", 0, -EPROTO, 2 },
	{ "UTF-16 stream", UTF16, sizeof(UTF16) - 1, -EPROTO, 0 },
	/* Comments and PIs inside a stanza are only carried along. */
	{ "comment in stanza", HEAD "<iq><!-- x --><?p q?></iq>", 0, 0, 2 },
	{ "declared Latin-1 is read as UTF-8", "<?xml version='1.0' "
	    "encoding='ISO-8859-1'?><stream:stream xmlns:stream='http://"
	    "etherx.jabber.org/streams'><iq>\xc3\xa9</iq>", 0, 0, 2 },
	{ "undeclared stream prefix", "<stream:stream><stream:features/>", 0,
	    0, 2 },
};

START_TEST(test_malformed)
{
	struct stanza_parser	*p;
	struct stanza_event	 ev;
	size_t			 len;
	int			 n = 0;

	len = bad[_i].len != 0 ? bad[_i].len : strlen(bad[_i].in);
	p = stanza_parser_new(0);
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(stanza_feed(p, bad[_i].in, len) == bad[_i].rc,
	    "%s: got '%s'", bad[_i].name, stanza_error(p));
	while (stanza_next(p, &ev) == 1) {
		n++;
		stanza_event_clear(&ev);
	}
	ck_assert_msg(n == bad[_i].events, "%s: %d events", bad[_i].name, n);
	if (bad[_i].rc != 0)
		ck_assert_str_ne(stanza_error(p), "");
	stanza_parser_free(&p);
}
END_TEST

START_TEST(test_malformed_split)
{
	char	*whole, *other;
	size_t	 len, k;

	/* A failure is found wherever the input is cut. */
	len = bad[_i].len != 0 ? bad[_i].len : strlen(bad[_i].in);
	whole = run(0, bad[_i].in, len, 0, 0);
	for (k = 1; k < len; k++) {
		other = run(0, bad[_i].in, len, 0, k);
		ck_assert_msg(count(other, "RC ") == 1 &&
		    strcmp(strstr(other, "RC "), strstr(whole, "RC ")) == 0,
		    "%s: cut at %zu: %s vs %s", bad[_i].name, k, other, whole);
		free(other);
	}
	free(whole);
}
END_TEST

START_TEST(test_deep_nesting)
{
	struct pbuf	 s = { 0 };
	char		*t;
	int		 i;

	ck_assert_int_eq(pbuf_adds(&s, HEAD), 0);
	for (i = 0; i < 100000; i++)
		ck_assert_int_eq(pbuf_adds(&s, "<a>"), 0);
	t = run(0, s.data, s.len, 0, 0);
	ck_assert_int_eq(count(t, "RC -71\n"), 1);
	free(t);
	pbuf_free(&s);
}
END_TEST

START_TEST(test_huge_attribute_ok)
{
	struct pbuf	 s = { 0 };
	char		*t;
	size_t		 i;

	/* 200 KB attribute under the default limit: just a stanza. */
	ck_assert_int_eq(pbuf_adds(&s, HEAD "<message to='"), 0);
	for (i = 0; i < 200 * 1024; i++)
		ck_assert_int_eq(pbuf_addc(&s, 'j'), 0);
	ck_assert_int_eq(pbuf_adds(&s, "'/>"), 0);
	t = run(0, s.data, s.len, 1000, 0);
	ck_assert_int_eq(count(t, "STANZA message"), 1);
	ck_assert_int_eq(count(t, "RC 0\n"), 1);
	free(t);
	pbuf_free(&s);
}
END_TEST

Suite *
stanza_suite(void)
{
	Suite	*s = suite_create("stanza");
	TCase	*tc;
	size_t	 n;

	(void)thc_load(&n);	/* test_captures_present checks the count */
	tc = tcase_create("captures");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_captures_present);
	tcase_add_loop_test(tc, test_capture_vector, 0, (int)n);
	tcase_add_test(tc, test_many_in_one_read);
	suite_add_tcase(s, tc);

	tc = tcase_create("stream");
	tcase_add_test(tc, test_stream_prosody);
	tcase_add_test(tc, test_stream_rfc6120);
	tcase_add_test(tc, test_after_close);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_error_in_incomplete_token);
	suite_add_tcase(s, tc);

	tc = tcase_create("oversize");
	tcase_add_test(tc, test_toobig_resync);
	tcase_add_test(tc, test_toobig_boundary);
	tcase_add_test(tc, test_max_size_clamp);
	tcase_add_test(tc, test_single_token_limit);
	tcase_add_test(tc, test_huge_attribute_ok);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_malformed, 0, (int)ARRAY_LEN(bad));
	tcase_add_loop_test(tc, test_malformed_split, 0, (int)ARRAY_LEN(bad));
	tcase_add_test(tc, test_deep_nesting);
	suite_add_tcase(s, tc);
	return s;
}
