/*
 * stanza.c: the incremental XMPP stream parser of stanza.h.
 *
 * How the raw bytes are found.  Every fed chunk is appended to a window
 * (our copy of the stream bytes not yet handed out) and then pushed into
 * libxml2.  libxml2 calls back while it parses; in the callbacks
 * xmlByteConsumed() is the absolute stream offset of its read position:
 *   - at the start tag of a top-level element (depth 1 -> 2) the tag is
 *     complete, and the element starts at the first '<' after the end of
 *     the previous top-level item (only whitespace may sit in between: a
 *     comment, PI or text there is refused as restricted XML, RFC 6120
 *     11.1);
 *   - at its end tag (depth 2 -> 1) the read position is just past the
 *     closing '>' (or "/>").
 * The bytes in between are copied out of the window into the xstanza.
 * After each chunk the window is trimmed to what a later callback can
 * still need: the current stanza from its first byte, or the bytes after
 * the last complete item.
 *
 * Layout: state and queue helpers; window; SAX callbacks (stream open,
 * top-level element start, nested elements, end, text, restricted XML,
 * errors); the public functions.
 *
 * libxml2 keeps its own copy of an incomplete token (a start tag whose
 * '>' has not arrived) and cannot be told to drop it, hence the
 * single-token limit (-EMSGSIZE) described in stanza.h.
 */
#include "stanza.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "pbuf.h"
#include "proto_err.h"
#include "utf8.h"
#include "xml_fast.h"

#define NS_STREAMS	"http://etherx.jabber.org/streams"

/*
 * How far libxml2's unparsed input may run past max_size before we call
 * it a single oversized token: one read's worth, so a stanza of exactly
 * max_size that arrives in one read together with the next is never
 * mistaken for one.
 */
#define TOKEN_SLACK	(256u * 1024)
/* Longest <thread> text kept for a TOOBIG report (OpenSRF's are ~35). */
#define THREAD_KEEP	1024
/* Longest JID kept for a TOOBIG report (RFC 7622: 3 parts of 1023). */
#define JID_KEEP	3071
/* Events queued before the first growth. */
#define QUEUE_MIN	16
/*
 * Element nesting limit.  libxml2's push parser does not apply its own
 * (256, XML_PARSE_HUGE off) and would grow its stacks by ~40 bytes a
 * level; no XMPP stanza comes near this.
 */
#define MAX_DEPTH	256
/*
 * A stanza cut short between reads stays with the fast reader, read
 * again from its start with every read, until this much of it has come;
 * then libxml2 takes it (and keeps its state across reads).
 */
#define FAST_HOLD	(16u * 1024)
/* Trim the window by memmove only when the dead part is this large. */
#define WIN_COMPACT	(64u * 1024)

struct stanza_parser {
	xmlParserCtxtPtr	 ctxt;
	size_t			 max_size;	/* for stanzas starting next */

	/* Window: stream bytes [win_off, win_off + win_len). */
	char			*win;
	size_t			 win_len;
	size_t			 win_cap;
	unsigned long long	 win_off;
	unsigned long long	 fed;		/* == win_off + win_len */
	unsigned long long	 last_end;	/* just past the last item */

	/*
	 * Fast reading (xml_fast.h) between stanzas: while libxml2 holds
	 * nothing unparsed, new bytes go to the fast reader first; libxml2
	 * gets them only from the first stanza it is unsure of.  Bytes it
	 * never saw are counted in lx_skip, so that its byte offsets plus
	 * lx_skip are stream offsets.
	 */
	xmlSAXHandler		 sax;		/* for both readers */
	int			 fast;		/* fast reading is on */
	int			 in_fast;	/* callbacks come from it */
	unsigned long long	 fast_at;	/* first byte not yet read */
	unsigned long long	 lx_skip;
	unsigned long long	 lx_fed;	/* bytes given to libxml2 */
	char			*default_ns;	/* of the stream, NULL none */
	struct xml_fast		 xf;

	int			 depth;		/* 1 in stream, 2 in stanza */
	int			 opened;	/* saw <stream:stream> */
	int			 closed;	/* saw </stream:stream> */

	/* The top-level element being parsed (depth >= 2). */
	enum stanza_ev_type	 kind;
	unsigned long long	 st_start;	/* offset of its '<' */
	size_t			 st_max;	/* limit for it */
	int			 oversize;	/* bytes no longer kept */
	int			 is_error;
	int			 in_thread;	/* inside its <thread> */
	char			 name[16];
	char			 ns[64];
	char			 type_attr[16];
	char			 id[64];
	char			 condition[48];
	struct pbuf		 from, to, router_from, osrf_xid, thread;

	/* The stream's opening tag. */
	char			*s_id;
	char			*s_from;
	char			*s_version;

	int			 err;		/* sticky failure, 0 if none */
	char			 reason[PROTO_ERR_LEN];

	/* Ring of queued events. */
	struct stanza_event	*q;
	size_t			 q_head, q_len, q_cap;
};

static void	fail(struct stanza_parser *, int, const char *, ...)
		    PRINTF(3, 4);

/* ------------------------------------------------------------ helpers */

static void
fail(struct stanza_parser *p, int code, const char *fmt, ...)
{
	va_list	ap;

	if (p->err != 0)
		return;
	p->err = code;
	va_start(ap, fmt);
	if (vsnprintf(p->reason, sizeof(p->reason), fmt, ap) < 0)
		p->reason[0] = '\0';
	va_end(ap);
	if (p->ctxt != NULL)
		xmlStopParser(p->ctxt);
}

/* Stream offset of the read position (just past the tag reported). */
static unsigned long long
consumed(const struct stanza_parser *p)
{
	long	n;

	if (p->in_fast)
		return p->fast_at + p->xf.tok;
	n = xmlByteConsumed(p->ctxt);
	return (n < 0 ? 0 : (unsigned long long)n) + p->lx_skip;
}

/* Copy a libxml2 attribute value [v, end) into dst of size dstsz. */
static void
attr_copy(char *dst, size_t dstsz, const xmlChar *v, const xmlChar *end)
{
	size_t	n = (size_t)(end - v);

	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static char *
attr_dup(const xmlChar *v, const xmlChar *end)
{
	size_t	 n = (size_t)(end - v);
	char	*s;

	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, v, n);
	s[n] = '\0';
	return s;
}

static void
attr_keep(struct stanza_parser *p, struct pbuf *b, const xmlChar *v,
    const xmlChar *end)
{
	size_t	n = (size_t)(end - v);

	pbuf_reset(b);
	if (n > JID_KEEP)
		n = JID_KEEP;
	if (pbuf_add(b, v, n) != 0)
		fail(p, -ENOMEM, "out of memory");
}

static int
is_stream_ns(const xmlChar *prefix, const xmlChar *uri)
{
	if (uri != NULL)
		return strcmp((const char *)uri, NS_STREAMS) == 0;
	/* Undeclared prefix: go by the literal name, as OpenSRF does. */
	return prefix != NULL && strcmp((const char *)prefix, "stream") == 0;
}

static struct stanza_event *
queue_push(struct stanza_parser *p)
{
	struct stanza_event	*q, *ev;
	size_t			 cap, i;

	if (p->q_len == p->q_cap) {
		cap = p->q_cap == 0 ? QUEUE_MIN : p->q_cap * 2;
		if ((q = calloc(cap, sizeof(*q))) == NULL) {
			fail(p, -ENOMEM, "out of memory");
			return NULL;
		}
		for (i = 0; i < p->q_len; i++)
			q[i] = p->q[(p->q_head + i) % p->q_cap];
		free(p->q);
		p->q = q;
		p->q_cap = cap;
		p->q_head = 0;
	}
	ev = &p->q[(p->q_head + p->q_len) % p->q_cap];
	memset(ev, 0, sizeof(*ev));
	p->q_len++;
	return ev;
}

static char *
pbuf_dup(const struct pbuf *b)
{
	if (b->len == 0)
		return NULL;
	return strdup(b->data);
}

/* ------------------------------------------------------------- window */

static int
win_append(struct stanza_parser *p, const char *buf, size_t len)
{
	size_t	 cap;
	char	*w;

	if (len > p->win_cap - p->win_len) {
		cap = p->win_cap == 0 ? 4096 : p->win_cap;
		while (cap - p->win_len < len) {
			if (cap > SIZE_MAX / 2)
				return -ENOMEM;
			cap *= 2;
		}
		if ((w = realloc(p->win, cap)) == NULL)
			return -ENOMEM;
		p->win = w;
		p->win_cap = cap;
	}
	memcpy(p->win + p->win_len, buf, len);
	p->win_len += len;
	p->fed += len;
	return 0;
}

/* Drop window bytes before keep (an absolute offset). */
static void
win_trim(struct stanza_parser *p, unsigned long long keep)
{
	size_t	dead;

	if (keep <= p->win_off)
		return;
	if (keep >= p->fed) {
		p->win_off = p->fed;
		p->win_len = 0;
		return;
	}
	dead = (size_t)(keep - p->win_off);
	/* memmove only when it pays: amortized O(1) per byte. */
	if (dead < WIN_COMPACT && dead < p->win_len - dead)
		return;
	memmove(p->win, p->win + dead, p->win_len - dead);
	p->win_len -= dead;
	p->win_off = keep;
}

/* ---------------------------------------------------------- callbacks */

static void
stream_open(struct stanza_parser *p, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nns, const xmlChar **nss,
    int nattrs, const xmlChar **attrs)
{
	xmlParserInputPtr	 in = p->ctxt->input;
	struct stanza_event	*ev;
	const xmlChar		*an;
	char			**dst;
	int			 i;

	if (strcmp((const char *)localname, "stream") != 0 ||
	    !is_stream_ns(prefix, uri)) {
		fail(p, -EPROTO, "stream starts with <%s%s%s>, not "
		    "<stream:stream>", prefix != NULL ? (const char *)prefix :
		    "", prefix != NULL ? ":" : "", (const char *)localname);
		return;
	}
	/* Offsets are byte offsets only without a converter: UTF-8 only. */
	if (in != NULL && in->buf != NULL && in->buf->encoder != NULL) {
		fail(p, -EPROTO, "stream is not UTF-8");
		return;
	}
	for (i = 0; i < nattrs; i++) {
		an = attrs[i * 5];
		if (attrs[i * 5 + 1] != NULL)
			continue;
		if (strcmp((const char *)an, "id") == 0)
			dst = &p->s_id;
		else if (strcmp((const char *)an, "from") == 0)
			dst = &p->s_from;
		else if (strcmp((const char *)an, "version") == 0)
			dst = &p->s_version;
		else
			continue;
		free(*dst);
		if ((*dst = attr_dup(attrs[i * 5 + 3], attrs[i * 5 + 4])) ==
		    NULL) {
			fail(p, -ENOMEM, "out of memory");
			return;
		}
	}
	/* The default namespace stanzas are in (jabber:client) */
	for (i = 0; i < nns; i++)
		if (nss[i * 2] == NULL && nss[i * 2 + 1] != NULL &&
		    nss[i * 2 + 1][0] != '\0' && (p->default_ns =
		    strdup((const char *)nss[i * 2 + 1])) == NULL) {
			fail(p, -ENOMEM, "out of memory");
			return;
		}
	p->opened = 1;
	p->depth = 1;
	/* The read position is on the tag's closing '>'. */
	p->last_end = consumed(p);
	if ((ev = queue_push(p)) != NULL)
		ev->type = STANZA_EV_OPEN;
}

static void
toplevel_start(struct stanza_parser *p, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nattrs,
    const xmlChar **attrs)
{
	unsigned long long	 from;
	const char		*lt, *an;
	size_t			 off;
	int			 i;

	/* Find the '<' of this start tag: first one after the last item. */
	from = p->last_end > p->win_off ? p->last_end : p->win_off;
	off = (size_t)(from - p->win_off);
	lt = memchr(p->win + off, '<', p->win_len - off);
	if (lt == NULL) {
		/* Cannot happen: libxml2 parsed a tag we do not hold. */
		fail(p, -EPROTO, "internal: start of <%s> not found",
		    (const char *)localname);
		return;
	}
	p->st_start = p->win_off + (unsigned long long)(lt - p->win);
	p->st_max = p->max_size;
	p->oversize = 0;
	p->is_error = 0;
	p->in_thread = 0;
	p->kind = STANZA_EV_STANZA;
	if (is_stream_ns(prefix, uri)) {
		if (strcmp((const char *)localname, "features") == 0)
			p->kind = STANZA_EV_FEATURES;
		else if (strcmp((const char *)localname, "error") == 0) {
			p->kind = STANZA_EV_STREAM_ERROR;
			p->is_error = 1;
		}
	}
	str_copy(p->name, (const char *)localname, sizeof(p->name));
	str_copy(p->ns, uri != NULL ? (const char *)uri : "", sizeof(p->ns));
	p->type_attr[0] = p->id[0] = p->condition[0] = '\0';
	pbuf_reset(&p->from);
	pbuf_reset(&p->to);
	pbuf_reset(&p->router_from);
	pbuf_reset(&p->osrf_xid);
	pbuf_reset(&p->thread);
	for (i = 0; i < nattrs; i++) {
		const xmlChar	*v = attrs[i * 5 + 3], *e = attrs[i * 5 + 4];

		an = (const char *)attrs[i * 5];
		if (attrs[i * 5 + 1] != NULL)
			continue;
		if (strcmp(an, "type") == 0) {
			attr_copy(p->type_attr, sizeof(p->type_attr), v, e);
			if (strcmp(p->type_attr, "error") == 0)
				p->is_error = 1;
		} else if (strcmp(an, "id") == 0)
			attr_copy(p->id, sizeof(p->id), v, e);
		else if (strcmp(an, "from") == 0)
			attr_keep(p, &p->from, v, e);
		else if (strcmp(an, "to") == 0)
			attr_keep(p, &p->to, v, e);
		else if (strcmp(an, "router_from") == 0)
			attr_keep(p, &p->router_from, v, e);
		else if (strcmp(an, "osrf_xid") == 0)
			attr_keep(p, &p->osrf_xid, v, e);
	}
	p->depth = 2;
}

/* A direct child of the top-level element (depth 2 -> 3). */
static void
child_start(struct stanza_parser *p, const char *localname, int nattrs,
    const xmlChar **attrs)
{
	const char	*an;
	int		 i;

	if (strcmp(localname, "thread") == 0) {
		p->in_thread = 1;
		pbuf_reset(&p->thread);
	} else if (strcmp(localname, "opensrf") == 0) {
		/* The child wins over pre-3.1 top-level attributes. */
		for (i = 0; i < nattrs; i++) {
			an = (const char *)attrs[i * 5];
			if (attrs[i * 5 + 1] != NULL)
				continue;
			if (strcmp(an, "router_from") == 0)
				attr_keep(p, &p->router_from, attrs[i * 5 + 3],
				    attrs[i * 5 + 4]);
			else if (strcmp(an, "osrf_xid") == 0)
				attr_keep(p, &p->osrf_xid, attrs[i * 5 + 3],
				    attrs[i * 5 + 4]);
		}
	} else if (p->kind == STANZA_EV_STREAM_ERROR &&
	    p->condition[0] == '\0' && strcmp(localname, "text") != 0)
		str_copy(p->condition, localname, sizeof(p->condition));
}

static void
sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nns, const xmlChar **nss, int nattrs,
    int ndefaulted, const xmlChar **attrs)
{
	struct stanza_parser	*p = ctx;

	if (p->err != 0)
		return;
	switch (p->depth) {
	case 0:
		stream_open(p, localname, prefix, uri, nns, nss, nattrs,
		    attrs);
		break;
	case 1:
		toplevel_start(p, localname, prefix, uri, nattrs, attrs);
		break;
	default:
		if (p->depth >= MAX_DEPTH) {
			fail(p, -EPROTO, "elements nested deeper than %d",
			    MAX_DEPTH);
			return;
		}
		/* C OpenSRF: an <error> anywhere marks an error message. */
		if (localname[0] == 'e' &&
		    strcmp((const char *)localname, "error") == 0)
			p->is_error = 1;
		if (p->depth == 2)
			child_start(p, (const char *)localname, nattrs, attrs);
		p->depth++;
		break;
	}
}

static void
toplevel_end(struct stanza_parser *p)
{
	struct stanza_event	*ev;
	struct xstanza		*xs;
	unsigned long long	 end = consumed(p);
	size_t			 size, off;

	size = (size_t)(end - p->st_start);
	p->last_end = end;
	if (p->oversize || size > p->st_max) {
		if ((ev = queue_push(p)) == NULL)
			return;
		ev->type = STANZA_EV_TOOBIG;
		ev->size = size;
		ev->from = pbuf_dup(&p->from);
		ev->to = pbuf_dup(&p->to);
		ev->router_from = pbuf_dup(&p->router_from);
		ev->osrf_xid = pbuf_dup(&p->osrf_xid);
		ev->thread = pbuf_dup(&p->thread);
	} else {
		if (p->st_start < p->win_off || end > p->fed) {
			fail(p, -EPROTO, "internal: <%s> outside the window",
			    p->name);
			return;
		}
		if ((xs = malloc(sizeof(*xs))) == NULL ||
		    (xs->raw = malloc(size + 1)) == NULL) {
			free(xs);
			fail(p, -ENOMEM, "out of memory");
			return;
		}
		off = (size_t)(p->st_start - p->win_off);
		memcpy(xs->raw, p->win + off, size);
		xs->raw[size] = '\0';
		xs->len = size;
		memcpy(xs->name, p->name, sizeof(xs->name));
		xs->is_error = p->is_error;
		if ((ev = queue_push(p)) == NULL) {
			xstanza_free(&xs);
			return;
		}
		ev->type = p->kind;
		ev->stanza = xs;
		ev->size = size;
	}
	memcpy(ev->name, p->name, sizeof(ev->name));
	memcpy(ev->ns, p->ns, sizeof(ev->ns));
	memcpy(ev->type_attr, p->type_attr, sizeof(ev->type_attr));
	memcpy(ev->id, p->id, sizeof(ev->id));
	memcpy(ev->condition, p->condition, sizeof(ev->condition));
}

static void
sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct stanza_parser	*p = ctx;
	struct stanza_event	*ev;

	if (p->err != 0)
		return;
	switch (--p->depth) {
	case 0:
		p->closed = 1;
		p->last_end = consumed(p);
		if ((ev = queue_push(p)) != NULL)
			ev->type = STANZA_EV_CLOSE;
		break;
	case 1:
		toplevel_end(p);
		break;
	case 2:
		p->in_thread = 0;
		break;
	default:
		break;
	}
}

static int
all_blank(const void *buf, size_t len)
{
	const unsigned char	*s = buf;
	size_t			 i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
		    s[i] != '\n')
			return 0;
	return 1;
}

static void
sax_text(void *ctx, const xmlChar *s, int len)
{
	struct stanza_parser	*p = ctx;
	size_t			 n;

	if (p->depth == 1) {
		/* Whitespace keepalives only, between stanzas. */
		if (!all_blank(s, (size_t)len))
			fail(p, -EPROTO, "text outside any stanza");
		return;
	}
	if (p->in_thread && p->depth == 3 && p->thread.len < THREAD_KEEP) {
		n = (size_t)len;
		if (n > THREAD_KEEP - p->thread.len)
			n = THREAD_KEEP - p->thread.len;
		if (pbuf_add(&p->thread, s, n) != 0)
			fail(p, -ENOMEM, "out of memory");
	}
}

static void
sax_cdata(void *ctx, const xmlChar *s, int len)
{
	struct stanza_parser	*p = ctx;

	if (p->depth <= 1)
		fail(p, -EPROTO, "CDATA outside any stanza");
	/* libxml2's push parser lets overlong UTF-8 through in CDATA */
	else if (!utf8_valid((const char *)s, (size_t)len))
		fail(p, -EPROTO, "invalid UTF-8 in CDATA");
	else
		sax_text(ctx, s, len);
}

/* RFC 6120 11.1: no comments, PIs or DTDs at stream level. */
static void
sax_comment(void *ctx, const xmlChar *s)
{
	struct stanza_parser	*p = ctx;

	if (p->depth <= 1)
		fail(p, -EPROTO, "restricted XML: comment at stream level");
}

static void
sax_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	struct stanza_parser	*p = ctx;

	if (p->depth <= 1)
		fail(p, -EPROTO, "restricted XML: processing instruction "
		    "<?%s?> at stream level", (const char *)target);
}

static void
sax_dtd(void *ctx, const xmlChar *name, const xmlChar *eid,
    const xmlChar *sid)
{
	fail(ctx, -EPROTO, "restricted XML: DOCTYPE");
}

static void
sax_error(void *ctx, xmlErrorPtr e)
{
	struct stanza_parser	*p = ctx;
	size_t			 n;

	/* Namespace trouble and warnings are not fatal: OpenSRF ignores it. */
	if (e == NULL || e->level != XML_ERR_FATAL)
		return;
	if (p->err != 0)
		return;
	p->err = -EPROTO;
	/* bytes, not lines: the fast reader hides lines from libxml2 */
	snprintf(p->reason, sizeof(p->reason), "XML error %d at byte %llu: "
	    "%s", e->code, consumed(p), e->message != NULL ? e->message : "?");
	n = strlen(p->reason);
	if (n > 0 && p->reason[n - 1] == '\n')
		p->reason[n - 1] = '\0';
}

/* ---------------------------------------------------------- lifecycle */

static int
ctxt_new(struct stanza_parser *p)
{
	xmlSAXHandler	*sax = &p->sax;

	memset(sax, 0, sizeof(*sax));
	sax->initialized = XML_SAX2_MAGIC;
	sax->startElementNs = sax_start;
	sax->endElementNs = sax_end;
	sax->characters = sax_text;
	sax->ignorableWhitespace = sax_text;
	sax->cdataBlock = sax_cdata;
	sax->comment = sax_comment;
	sax->processingInstruction = sax_pi;
	sax->internalSubset = sax_dtd;
	sax->externalSubset = sax_dtd;
	sax->serror = sax_error;
	p->xf.sax = sax;
	p->xf.ctx = p;
	p->ctxt = xmlCreatePushParserCtxt(sax, p, NULL, 0, NULL);
	if (p->ctxt == NULL)
		return -ENOMEM;
	/*
	 * No network, no DTD loading, UTF-8 whatever the declaration says.
	 * NOENT only makes libxml2 hand over attribute values with the
	 * predefined entities replaced ("&amp;" as "&", not "&#38;"): a
	 * DOCTYPE, the only way to declare other entities, is refused.
	 */
	xmlCtxtUseOptions(p->ctxt, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC |
	    XML_PARSE_NOENT);
	return 0;
}

static void
state_clear(struct stanza_parser *p)
{
	struct stanza_event	ev;

	while (stanza_next(p, &ev) == 1)
		stanza_event_clear(&ev);
	if (p->ctxt != NULL) {
		xmlFreeParserCtxt(p->ctxt);
		p->ctxt = NULL;
	}
	free(p->s_id);
	free(p->s_from);
	free(p->s_version);
	free(p->default_ns);
	p->s_id = p->s_from = p->s_version = p->default_ns = NULL;
	p->fast = p->in_fast = 0;
	p->fast_at = p->lx_skip = p->lx_fed = 0;
	p->win_len = 0;
	p->win_off = p->fed = p->last_end = 0;
	p->depth = p->opened = p->closed = 0;
	p->oversize = p->is_error = p->in_thread = 0;
	p->err = 0;
	p->reason[0] = '\0';
}

struct stanza_parser *
stanza_parser_new(size_t max_size)
{
	struct stanza_parser	*p;

	xmlInitParser();
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	stanza_set_max_size(p, max_size);
	if (ctxt_new(p) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

void
xstanza_free(struct xstanza **sp)
{
	if (*sp == NULL)
		return;
	free((*sp)->raw);
	free(*sp);
	*sp = NULL;
}

void
stanza_parser_free(struct stanza_parser **pp)
{
	struct stanza_parser	*p = *pp;

	if (p == NULL)
		return;
	state_clear(p);
	free(p->q);
	free(p->win);
	pbuf_free(&p->from);
	pbuf_free(&p->to);
	pbuf_free(&p->router_from);
	pbuf_free(&p->osrf_xid);
	pbuf_free(&p->thread);
	xml_fast_free(&p->xf);
	free(p);
	*pp = NULL;
}

void
stanza_set_max_size(struct stanza_parser *p, size_t max_size)
{
	if (max_size == 0)
		max_size = STANZA_MAX_SIZE_DEFAULT;
	if (max_size < STANZA_MAX_SIZE_MIN)
		max_size = STANZA_MAX_SIZE_MIN;
	p->max_size = max_size;
}

int
stanza_reset(struct stanza_parser *p)
{
	state_clear(p);
	return ctxt_new(p);
}

/*
 * libxml2 parses the window's bytes from stream offset from to the end;
 * then the window is trimmed, and when libxml2 holds nothing unparsed
 * between stanzas the fast reader takes the next bytes.
 */
static void
lx_parse(struct stanza_parser *p, unsigned long long from)
{
	unsigned long long	pending;
	size_t			n;
	int			rc, chunk;

	while (from < p->fed && p->err == 0) {
		/* xmlParseChunk() takes an int */
		n = (size_t)(p->fed - from);
		chunk = n > (1u << 30) ? 1 << 30 : (int)n;
		rc = xmlParseChunk(p->ctxt, p->win + (from - p->win_off),
		    chunk, 0);
		p->lx_fed += (unsigned)chunk;
		from += (unsigned)chunk;
		if (rc != 0 && p->err == 0)
			fail(p, -EPROTO, "XML error %d", rc);
	}
	if (p->err != 0)
		return;
	if (p->depth >= 2) {
		if (!p->oversize && p->fed - p->st_start > p->st_max)
			p->oversize = 1;
		win_trim(p, p->oversize ? p->fed : p->st_start);
	} else
		win_trim(p, p->last_end);
	pending = p->fed - consumed(p);
	if (pending > (unsigned long long)p->max_size + TOKEN_SLACK)
		fail(p, -EMSGSIZE, "a single XML token of over %zu bytes",
		    p->max_size);
	else if (pending == 0 && p->depth == 1 && !p->closed &&
	    !xml_fast_off) {
		p->fast = 1;
		p->fast_at = p->fed;
		p->xf.default_ns = p->default_ns;
	}
}

/*
 * The fast reader takes whole stanzas from fast_at on; libxml2 gets the
 * rest from the first one the reader is unsure of, or from one cut
 * short that has grown past FAST_HOLD.
 */
static void
fast_read(struct stanza_parser *p)
{
	const char		*w;
	size_t			 avail, end;
	enum xml_fast_rc	 rc;

	for (;;) {
		w = p->win + (p->fast_at - p->win_off);
		avail = (size_t)(p->fed - p->fast_at);
		/* whitespace keepalives between stanzas */
		while (avail > 0 && (*w == ' ' || *w == '\t' || *w == '\r' ||
		    *w == '\n')) {
			w++;
			avail--;
			p->fast_at++;
		}
		if (avail == 0)
			break;
		rc = XML_FAST_UNSURE;
		if (*w == '<') {
			p->in_fast = 1;
			rc = xml_fast_element(&p->xf, w, avail, &end);
			p->in_fast = 0;
		}
		if (p->err != 0)
			return;
		if (rc == XML_FAST_DONE) {
			p->fast_at += end;
			continue;
		}
		p->depth = 1;	/* forget the stanza begun: it is read again */
		if (rc == XML_FAST_MORE && avail <= FAST_HOLD)
			break;
		p->fast = 0;
		p->lx_skip = p->fast_at - p->lx_fed;
		lx_parse(p, p->fast_at);
		return;
	}
	win_trim(p, p->last_end);
}

int
stanza_feed(struct stanza_parser *p, const void *buf, size_t len)
{
	if (p->err != 0)
		return p->err;
	if (p->ctxt == NULL)
		return -ENOMEM;		/* a failed stanza_reset() */
	if (p->closed) {
		/* libxml2 would wait for more; only whitespace may follow. */
		if (!all_blank(buf, len))
			fail(p, -EPROTO, "data after </stream:stream>");
		return p->err;
	}
	if (len == 0)
		return 0;
	if (win_append(p, buf, len) != 0) {
		fail(p, -ENOMEM, "out of memory");
		return p->err;
	}
	if (p->fast)
		fast_read(p);
	else
		lx_parse(p, p->fed - len);
	return p->err;
}

int
stanza_next(struct stanza_parser *p, struct stanza_event *ev)
{
	if (p->q_len == 0) {
		memset(ev, 0, sizeof(*ev));
		return 0;
	}
	*ev = p->q[p->q_head];
	memset(&p->q[p->q_head], 0, sizeof(p->q[p->q_head]));
	p->q_head = (p->q_head + 1) % p->q_cap;
	p->q_len--;
	return 1;
}

size_t
stanza_queued(const struct stanza_parser *p)
{
	return p->q_len;
}

void
stanza_event_clear(struct stanza_event *ev)
{
	xstanza_free(&ev->stanza);
	free(ev->from);
	free(ev->to);
	free(ev->router_from);
	free(ev->osrf_xid);
	free(ev->thread);
	memset(ev, 0, sizeof(*ev));
}

const char *
stanza_stream_id(const struct stanza_parser *p)
{
	return p->s_id != NULL ? p->s_id : "";
}

const char *
stanza_stream_from(const struct stanza_parser *p)
{
	return p->s_from != NULL ? p->s_from : "";
}

const char *
stanza_stream_version(const struct stanza_parser *p)
{
	return p->s_version != NULL ? p->s_version : "";
}

const char *
stanza_error(const struct stanza_parser *p)
{
	return p->reason;
}

unsigned long long
stanza_bytes_fed(const struct stanza_parser *p)
{
	return p->fed;
}
