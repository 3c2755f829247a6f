/*
 * tmsg.c: reading and writing the OpenSRF transport message (tmsg.h).
 *
 * Reading is a SAX2 parse of the single element, no tree built: first by
 * the fast reader of xml_fast.h, and by libxml2 when that one is unsure
 * (the same callbacks serve both).  Every string found goes into one arena (a struct pbuf),
 * NUL-terminated, and is remembered by offset; when the parse is over the
 * arena becomes m->mem and the fields point into it.  Text is captured
 * only for <thread>, <subject> and <body> directly under <message>
 * (including text nested deeper inside them, like xmlNodeGetContent), so
 * a text field is always appended in one contiguous run.
 *
 * Writing escapes with a table and copies unescaped runs whole.
 *
 * Layout: XEP-0086 table; reader (state, callbacks, tmsg_xml_parse); writer.
 */
#include "tmsg.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "utf8.h"
#include "xml_fast.h"

#define NS_STANZAS	"urn:ietf:params:xml:ns:xmpp-stanzas"

/* ------------------------------------------------------ XEP-0086 table */

static const struct {
	const char	*cond;
	int		 code;
} xep86[] = {
	/* The first entry for a code is the one written for it. */
	{ "bad-request",		400 },
	{ "not-authorized",		401 },
	{ "payment-required",		402 },
	{ "forbidden",			403 },
	{ "item-not-found",		404 },
	{ "not-allowed",		405 },
	{ "not-acceptable",		406 },
	{ "registration-required",	407 },
	{ "conflict",			409 },
	{ "internal-server-error",	500 },
	{ "feature-not-implemented",	501 },
	{ "service-unavailable",	503 },
	{ "remote-server-timeout",	504 },
	{ "redirect",			302 },
	{ "gone",			302 },
	{ "jid-malformed",		400 },
	{ "unexpected-request",		400 },
	{ "recipient-unavailable",	404 },
	{ "remote-server-not-found",	404 },
	{ "subscription-required",	407 },
	{ "resource-constraint",	500 },
	{ "undefined-condition",	500 },
};

int
tmsg_condition_code(const char *cond)
{
	size_t	i;

	for (i = 0; i < ARRAY_LEN(xep86); i++)
		if (strcmp(xep86[i].cond, cond) == 0)
			return xep86[i].code;
	return 500;	/* OpenSRF 3.3: anything else is 500 */
}

const char *
tmsg_code_condition(int code)
{
	size_t	i;

	for (i = 0; i < ARRAY_LEN(xep86); i++)
		if (xep86[i].code == code)
			return xep86[i].cond;
	return "undefined-condition";
}

/* -------------------------------------------------------------- reader */

enum field {
	F_TO, F_FROM, F_THREAD, F_SUBJECT, F_BODY, F_RFROM, F_RTO, F_RCLASS,
	F_RCMD, F_XID, F_TYPE, F_ETYPE, F_ECOND, F_NFIELDS
};

/* Offsets in the arena are stored +1 so that 0 means "absent". */
struct reader {
	struct pbuf	 arena;
	size_t		 off[F_NFIELDS];
	int		 child[F_NFIELDS]; /* set from <opensrf>: wins */
	int		 depth;		/* 1 inside <message> */
	int		 text;		/* F_* being captured, or -1 */
	int		 text_depth;	/* depth of that element */
	int		 in_error;	/* depth of <error>, 0 if outside */
	int		 code;		/* code attribute, -1 if none */
	int		 broadcast;
	int		 is_error;
	int		 err;
	struct proto_err *perr;
	xmlParserCtxtPtr ctxt;
};

/* Nesting limit; libxml2's push parser applies none of its own. */
#define MAX_DEPTH	256

static void
r_fail(struct reader *r, int code, const char *what)
{
	if (r->err != 0)
		return;
	r->err = proto_err_set(r->perr, code, "%s", what);
	xmlStopParser(r->ctxt);
}

/* Store [v, e) as field f unless set already (override: replace). */
static void
r_set(struct reader *r, enum field f, const xmlChar *v, const xmlChar *e,
    int override)
{
	size_t	at = r->arena.len;

	if (r->off[f] != 0 && !override)
		return;
	if (pbuf_add(&r->arena, v, (size_t)(e - v)) != 0 ||
	    pbuf_addc(&r->arena, '\0') != 0) {
		r_fail(r, -ENOMEM, "out of memory");
		return;
	}
	r->off[f] = at + 1;
}

static int
attr_is(const xmlChar **a, const char *name)
{
	return a[1] == NULL && strcmp((const char *)a[0], name) == 0;
}

static int
attr_int(const xmlChar *v, const xmlChar *e, int *out)
{
	long	n = 0;
	int	neg = 0;

	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	if (v < e && (*v == '-' || *v == '+'))
		neg = *v++ == '-';
	if (v == e)
		return -1;
	for (; v < e && *v >= '0' && *v <= '9'; v++)
		if ((n = n * 10 + (*v - '0')) > INT_MAX)
			return -1;
	if (v != e && *v != ' ')
		return -1;
	*out = (int)(neg ? -n : n);
	return 0;
}

/* The six OpenSRF items, from <opensrf> (child) or <message> (fallback). */
static void
r_osrf_attrs(struct reader *r, int nattrs, const xmlChar **attrs,
    int child)
{
	static const struct {
		const char	*name;
		enum field	 f;
	} map[] = {
		{ "router_from", F_RFROM }, { "router_to", F_RTO },
		{ "router_class", F_RCLASS }, { "router_command", F_RCMD },
		{ "osrf_xid", F_XID },
	};
	const xmlChar	**a;
	size_t		  j;
	int		  i, b;

	for (i = 0; i < nattrs; i++) {
		a = attrs + i * 5;
		for (j = 0; j < ARRAY_LEN(map); j++) {
			if (!attr_is(a, map[j].name))
				continue;
			if (child || !r->child[map[j].f])
				r_set(r, map[j].f, a[3], a[4], 1);
			if (child)
				r->child[map[j].f] = 1;
		}
		if (attr_is(a, "broadcast") && attr_int(a[3], a[4], &b) == 0 &&
		    (child || r->broadcast == 0))
			r->broadcast = b != 0;
	}
}

static void
r_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nns, const xmlChar **nss, int nattrs,
    int ndefaulted, const xmlChar **attrs)
{
	struct reader	*r = ctx;
	const char	*ln = (const char *)localname;
	const xmlChar	**a;
	int		  i;

	if (r->err != 0)
		return;
	if (++r->depth > MAX_DEPTH) {
		r_fail(r, -EPROTO, "elements nested too deep");
		return;
	}
	if (r->depth == 1) {
		if (strcmp(ln, "message") != 0) {
			r->err = proto_err_set(r->perr, -EPROTO,
			    "<%.40s> is not a <message>", ln);
			xmlStopParser(r->ctxt);
			return;
		}
		for (i = 0; i < nattrs; i++) {
			a = attrs + i * 5;
			if (attr_is(a, "to"))
				r_set(r, F_TO, a[3], a[4], 1);
			else if (attr_is(a, "from"))
				r_set(r, F_FROM, a[3], a[4], 1);
			else if (attr_is(a, "type"))
				r_set(r, F_TYPE, a[3], a[4], 1);
		}
		r_osrf_attrs(r, nattrs, attrs, 0);
		if (r->off[F_TYPE] != 0 && strcmp(r->arena.data +
		    r->off[F_TYPE] - 1, "error") == 0)
			r->is_error = 1;
		return;
	}
	if (strcmp(ln, "error") == 0)
		r->is_error = 1;	/* anywhere inside, as C does */
	if (r->depth == 2) {
		if (strcmp(ln, "opensrf") == 0)
			r_osrf_attrs(r, nattrs, attrs, 1);
		else if (strcmp(ln, "body") == 0 && r->off[F_BODY] == 0)
			r->text = F_BODY;
		else if (strcmp(ln, "thread") == 0 && r->off[F_THREAD] == 0)
			r->text = F_THREAD;
		else if (strcmp(ln, "subject") == 0 && r->off[F_SUBJECT] == 0)
			r->text = F_SUBJECT;
		else if (strcmp(ln, "error") == 0 && r->in_error == 0) {
			r->in_error = r->depth;
			for (i = 0; i < nattrs; i++) {
				a = attrs + i * 5;
				if (attr_is(a, "type"))
					r_set(r, F_ETYPE, a[3], a[4], 1);
				else if (attr_is(a, "code") &&
				    attr_int(a[3], a[4], &r->code) != 0)
					r->code = -1;
			}
		}
		if (r->text >= 0) {
			r->text_depth = r->depth;
			r->off[r->text] = r->arena.len + 1;
		}
		return;
	}
	/* The condition: first child of <error> other than <text>. */
	if (r->in_error != 0 && r->depth == r->in_error + 1 &&
	    r->off[F_ECOND] == 0 && strcmp(ln, "text") != 0)
		r_set(r, F_ECOND, localname, localname + strlen(ln), 0);
}

static void
r_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct reader	*r = ctx;

	if (r->err != 0)
		return;
	if (r->text >= 0 && r->depth == r->text_depth) {
		if (pbuf_addc(&r->arena, '\0') != 0)
			r_fail(r, -ENOMEM, "out of memory");
		r->text = -1;
	}
	if (r->depth == r->in_error)
		r->in_error = -1;	/* only the first <error> counts */
	r->depth--;
}

static void
r_text(void *ctx, const xmlChar *s, int len)
{
	struct reader	*r = ctx;

	if (r->text < 0 || r->err != 0)
		return;
	if (pbuf_add(&r->arena, s, (size_t)len) != 0)
		r_fail(r, -ENOMEM, "out of memory");
}

/*
 * libxml2's push parser does not refuse overlong UTF-8 inside CDATA (it
 * checks only that each sequence decodes to an XML character); the
 * writer would then hand those bytes on as text.
 */
static void
r_cdata(void *ctx, const xmlChar *s, int len)
{
	struct reader	*r = ctx;

	if (!utf8_valid((const char *)s, (size_t)len))
		r_fail(r, -EPROTO, "invalid UTF-8 in CDATA");
	else
		r_text(ctx, s, len);
}

static void
r_dtd(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
	struct reader	*r = ctx;

	r_fail(r, -EPROTO, "DOCTYPE in a stanza");
}

static void
r_error(void *ctx, xmlErrorPtr e)
{
	struct reader	*r = ctx;
	size_t		 n;

	if (e == NULL || e->level != XML_ERR_FATAL || r->err != 0)
		return;
	r->err = proto_err_set(r->perr, -EPROTO, "XML error %d: %s", e->code,
	    e->message != NULL ? e->message : "?");
	if (r->perr != NULL && (n = strlen(r->perr->reason)) > 0 &&
	    r->perr->reason[n - 1] == '\n')
		r->perr->reason[n - 1] = '\0';
}

static const char *
field(const struct tmsg *m, const struct reader *r, enum field f)
{
	return r->off[f] != 0 ? m->mem + r->off[f] - 1 : "";
}

static void
reader_init(struct reader *r, struct proto_err *perr)
{
	struct pbuf	arena = r->arena;

	memset(r, 0, sizeof(*r));
	pbuf_reset(&arena);
	r->arena = arena;
	r->text = -1;
	r->code = -1;
	r->perr = perr;
	proto_err_clear(perr);
}

static void
sax_init(xmlSAXHandler *sax)
{
	memset(sax, 0, sizeof(*sax));
	sax->initialized = XML_SAX2_MAGIC;
	sax->startElementNs = r_start;
	sax->endElementNs = r_end;
	sax->characters = r_text;
	sax->cdataBlock = r_cdata;
	sax->internalSubset = r_dtd;
	sax->externalSubset = r_dtd;
	sax->serror = r_error;
}

/*
 * The common case without libxml2 (xml_fast.h): 1 when it read the
 * whole stanza without trouble, 0 when libxml2 must (it also words
 * every error, so a failure here is never reported).
 */
static int
parse_fast(struct reader *r, const char *xml, size_t len)
{
	struct xml_fast	x = { 0 };
	xmlSAXHandler	sax;
	size_t		end;
	int		ok;

	sax_init(&sax);
	x.sax = &sax;
	x.ctx = r;
	ok = xml_fast_element(&x, xml, len, &end) == XML_FAST_DONE &&
	    end == len && r->err == 0 && r->depth == 0;
	xml_fast_free(&x);
	return ok;
}

static int
parse_libxml2(struct reader *r, const char *xml, size_t len)
{
	xmlSAXHandler		 sax;
	xmlParserCtxtPtr	 ctxt;
	int			 rc;

	xmlInitParser();	/* once per process; a flag test after that */
	sax_init(&sax);
	/* A push context parses from memory without copying it first. */
	ctxt = xmlCreatePushParserCtxt(&sax, r, NULL, 0, NULL);
	if (ctxt == NULL)
		return proto_err_set(r->perr, -ENOMEM, "out of memory");
	r->ctxt = ctxt;
	/* As in stanza.c: NOENT is safe because DOCTYPEs are refused. */
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC |
	    XML_PARSE_NOENT);
	rc = xmlParseChunk(ctxt, xml, (int)len, 1);
	if (r->err == 0 && (rc != 0 || !ctxt->wellFormed))
		r_fail(r, -EPROTO, "not well-formed XML");
	if (r->err == 0 && r->depth != 0)
		r_fail(r, -EPROTO, "truncated stanza");
	xmlFreeParserCtxt(ctxt);
	r->ctxt = NULL;
	return r->err;
}

int
tmsg_xml_parse(const char *xml, size_t len, struct tmsg *m,
    struct proto_err *err)
{
	struct reader	r;

	memset(m, 0, sizeof(*m));
	proto_err_clear(err);
	if (len > INT_MAX)
		return proto_err_set(err, -EMSGSIZE, "stanza too large");
	memset(&r, 0, sizeof(r));
	/*
	 * Decoded text is never longer than its markup; with room for the
	 * NULs the arena then never grows during the parse.
	 */
	if (pbuf_reserve(&r.arena, len + 2 * F_NFIELDS) != 0)
		return proto_err_set(err, -ENOMEM, "out of memory");
	reader_init(&r, err);
	if ((xml_fast_off || !parse_fast(&r, xml, len)) &&
	    (reader_init(&r, err), parse_libxml2(&r, xml, len)) != 0) {
		pbuf_free(&r.arena);
		return r.err;
	}
	if ((m->mem = pbuf_steal(&r.arena, NULL)) == NULL)
		return proto_err_set(err, -ENOMEM, "out of memory");
	m->to = field(m, &r, F_TO);
	m->from = field(m, &r, F_FROM);
	m->thread = field(m, &r, F_THREAD);
	m->subject = field(m, &r, F_SUBJECT);
	m->body = field(m, &r, F_BODY);
	m->router_from = field(m, &r, F_RFROM);
	m->router_to = field(m, &r, F_RTO);
	m->router_class = field(m, &r, F_RCLASS);
	m->router_command = field(m, &r, F_RCMD);
	m->osrf_xid = field(m, &r, F_XID);
	m->type = field(m, &r, F_TYPE);
	m->error_type = field(m, &r, F_ETYPE);
	m->error_condition = field(m, &r, F_ECOND);
	m->broadcast = r.broadcast;
	m->is_error = r.is_error;
	if (r.code >= 0)
		m->error_code = r.code;
	else if (r.off[F_ECOND] != 0)
		m->error_code = tmsg_condition_code(m->error_condition);
	return 0;
}

void
tmsg_clear(struct tmsg *m)
{
	free(m->mem);
	memset(m, 0, sizeof(*m));
}

const char *
tmsg_reply_to(const struct tmsg *m)
{
	if (m->router_from != NULL && m->router_from[0] != '\0')
		return m->router_from;
	return m->from != NULL ? m->from : "";
}

/* -------------------------------------------------------------- writer */

/*
 * Escape classes: 0 copy; 1 escape in text and attributes; 2 escape in
 * attributes only (libxml2 writes them as character references so that
 * attribute normalization keeps them); 3 not representable in XML 1.0.
 * A CR is escaped in text too: a parser would turn a raw one into LF.
 */
static const unsigned char esc_class[256] = {
	[0 ... 8] = 3, ['\t'] = 2, ['\n'] = 2, [11 ... 12] = 3,
	['\r'] = 1, [14 ... 0x1f] = 3,
	['"'] = 2, ['<'] = 1, ['>'] = 1, ['&'] = 1,
};
static const char *const esc_text[256] = {
	['\t'] = "&#9;", ['\n'] = "&#10;", ['\r'] = "&#13;",
	['"'] = "&quot;", ['<'] = "&lt;", ['>'] = "&gt;", ['&'] = "&amp;",
};

static int
put_escaped(struct pbuf *b, const char *s, int attr)
{
	const unsigned char	*p = (const unsigned char *)s, *run = p;
	unsigned char		 k;
	int			 rc;

	if (s == NULL)
		return 0;
	for (;; p++) {
		k = esc_class[*p];
		if (k == 0 || (k == 2 && !attr))
			continue;
		if (*p == '\0')
			break;
		if (k == 3)
			return -EILSEQ;
		if ((rc = pbuf_add(b, run, (size_t)(p - run))) != 0 ||
		    (rc = pbuf_adds(b, esc_text[*p])) != 0)
			return rc;
		run = p + 1;
	}
	return pbuf_add(b, run, (size_t)(p - run));
}

static int
put_attr(struct pbuf *b, const char *name, const char *v)
{
	int	rc;

	if ((rc = pbuf_addc(b, ' ')) != 0 || (rc = pbuf_adds(b, name)) != 0 ||
	    (rc = pbuf_add(b, "=\"", 2)) != 0 ||
	    (rc = put_escaped(b, v, 1)) != 0)
		return rc;
	return pbuf_addc(b, '"');
}

static int
put_elem(struct pbuf *b, const char *name, const char *text)
{
	int	rc;

	if (text == NULL || text[0] == '\0')
		return 0;
	if ((rc = pbuf_addc(b, '<')) != 0 || (rc = pbuf_adds(b, name)) != 0 ||
	    (rc = pbuf_addc(b, '>')) != 0 ||
	    (rc = put_escaped(b, text, 0)) != 0 ||
	    (rc = pbuf_add(b, "</", 2)) != 0 || (rc = pbuf_adds(b, name)) != 0)
		return rc;
	return pbuf_addc(b, '>');
}

static int
put_error(struct pbuf *b, const struct tmsg *m)
{
	const char	*type, *cond;
	char		 code[16];
	int		 n, rc;

	type = m->error_type != NULL && m->error_type[0] != '\0' ?
	    m->error_type : "cancel";
	n = m->error_code != 0 ? m->error_code : 500;
	cond = m->error_condition != NULL && m->error_condition[0] != '\0' ?
	    m->error_condition : tmsg_code_condition(n);
	(void)snprintf(code, sizeof(code), "%d", n);	/* cannot truncate */
	if ((rc = pbuf_adds(b, "<error")) != 0 ||
	    (rc = put_attr(b, "type", type)) != 0 ||
	    (rc = put_attr(b, "code", code)) != 0 ||
	    (rc = pbuf_add(b, "><", 2)) != 0 ||
	    (rc = put_escaped(b, cond, 1)) != 0 ||
	    (rc = pbuf_adds(b, " xmlns=\"" NS_STANZAS "\"/></error>")) != 0)
		return rc;
	return 0;
}

int
tmsg_xml_write_buf(const struct tmsg *m, struct pbuf *b)
{
	size_t	saved = b->len;
	int	rc;

	if ((rc = pbuf_adds(b, "<message")) != 0 ||
	    (rc = put_attr(b, "to", m->to)) != 0 ||
	    (rc = put_attr(b, "from", m->from)) != 0 ||
	    (m->is_error && (rc = put_attr(b, "type", "error")) != 0) ||
	    (rc = pbuf_addc(b, '>')) != 0 ||
	    (m->is_error && (rc = put_error(b, m)) != 0) ||
	    (rc = pbuf_adds(b, "<opensrf")) != 0 ||
	    (rc = put_attr(b, "router_from", m->router_from)) != 0 ||
	    (rc = put_attr(b, "router_to", m->router_to)) != 0 ||
	    (rc = put_attr(b, "router_class", m->router_class)) != 0 ||
	    (rc = put_attr(b, "router_command", m->router_command)) != 0 ||
	    (rc = put_attr(b, "osrf_xid", m->osrf_xid)) != 0 ||
	    (m->broadcast && (rc = put_attr(b, "broadcast", "1")) != 0) ||
	    (rc = pbuf_add(b, "/>", 2)) != 0 ||
	    (rc = put_elem(b, "thread", m->thread)) != 0 ||
	    (rc = put_elem(b, "subject", m->subject)) != 0 ||
	    (rc = put_elem(b, "body", m->body)) != 0 ||
	    (rc = pbuf_adds(b, "</message>")) != 0) {
		b->len = saved;
		if (b->data != NULL)
			b->data[saved] = '\0';
		return rc;
	}
	return 0;
}

int
tmsg_xml_write(const struct tmsg *m, char **xml, size_t *lenp)
{
	struct pbuf	b = { 0 };
	int		rc;

	*xml = NULL;
	if ((rc = tmsg_xml_write_buf(m, &b)) != 0) {
		pbuf_free(&b);
		return rc;
	}
	if ((*xml = pbuf_steal(&b, lenp)) == NULL)
		return -ENOMEM;
	return 0;
}
