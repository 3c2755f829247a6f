/*
 * xml_fast.c: the strict fast XML reader of xml_fast.h.
 *
 * One pass over the bytes with a class table; an element stack of at
 * most XML_FAST_MAX_DEPTH.  Decoded strings (names with their NUL,
 * values and text that held a reference, xmlns URIs) go into the scratch
 * buffer, which is sized before the pass to hold everything the input can
 * decode to (a reference is never shorter than what it stands for, every
 * name and value is followed by at least one delimiter byte), so it never
 * moves during a pass and pointers into it stay good.  Values and text
 * without a reference or whitespace to normalize are handed over in place.
 *
 * Layout: classes; UTF-8 and references; names, values, text; the
 * element loop.
 */
#include "xml_fast.h"

#include <stdint.h>
#include <string.h>

#include <libxml/parserInternals.h>

#include "utf8.h"

int	xml_fast_off;

#define NS_XML	"http://www.w3.org/XML/1998/namespace"

/* Private results of the helpers; >= 0 is a length or success. */
#define R_MORE		(-1)
#define R_UNSURE	(-2)

/* ------------------------------------------------------------ classes */

enum {
	K_NAME0	= 1 << 0,	/* may start a name */
	K_NAME	= 1 << 1,	/* may continue a name */
	K_SPACE	= 1 << 2,	/* S, without CR (CR is normalized: unsure) */
	K_TEXT	= 1 << 3,	/* copied as is in text */
	K_VAL	= 1 << 4,	/* copied as is in an attribute value */
};

#define TV	(K_TEXT | K_VAL)
#define NM	(K_TEXT | K_VAL | K_NAME)
#define N0	(K_TEXT | K_VAL | K_NAME0 | K_NAME)

/* Bytes not listed (controls, '&', '<', non-ASCII) need a closer look. */
static const unsigned char	kind[256] = {
	['\t'] = K_SPACE | K_TEXT, ['\n'] = K_SPACE | K_TEXT,
	[' '] = K_SPACE | TV, ['!'] = TV, ['"'] = K_TEXT,
	['#' ... '%'] = TV, ['\''] = K_TEXT, ['(' ... ','] = TV,
	['-' ... '.'] = NM, ['/'] = TV, ['0' ... '9'] = NM,
	[':' ... ';'] = TV, ['=' ... '@'] = TV, ['A' ... 'Z'] = N0,
	['['] = TV, ['\\'] = TV, [']'] = K_VAL, ['^'] = TV, ['_'] = N0,
	['`'] = TV, ['a' ... 'z'] = N0, ['{' ... 0x7f] = TV,
};

/* ------------------------------------------------ UTF-8 and references */

/*
 * Length of the UTF-8 character at p if it is a well-formed XML Char;
 * R_UNSURE if not, R_MORE if the bytes end inside it.
 */
static int
utf8_char(const unsigned char *p, const unsigned char *e)
{
	size_t		need = utf8_need(p[0]), n;
	uint32_t	c;

	if (need == 0)
		return R_UNSURE;
	if ((size_t)(e - p) < need)
		return R_MORE;
	/* U+FFFE and U+FFFF are not XML characters */
	if ((n = utf8_seq(p, need, &c)) == 0 || c == 0xfffe || c == 0xffff)
		return R_UNSURE;
	return (int)n;
}

static int
xml_char(uint32_t c)
{
	return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
	    (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* The longest reference read: "&#x10FFFF;" with a few leading zeros. */
#define REF_MAX	12

/*
 * The reference at *pp ('&'): its characters into out (at most 4 bytes),
 * their count returned, *pp moved past the ';'.
 */
static int
read_ref(const unsigned char **pp, const unsigned char *e, char *out)
{
	const unsigned char	*p = *pp + 1, *semi;
	uint32_t		 c = 0;
	size_t			 n, i;
	int			 d;

	n = (size_t)(e - p) < REF_MAX ? (size_t)(e - p) : REF_MAX;
	if ((semi = memchr(p, ';', n)) == NULL)
		return n < REF_MAX ? R_MORE : R_UNSURE;
	n = (size_t)(semi - p);
	*pp = semi + 1;
	if (n == 2 && p[0] == 'l' && p[1] == 't')
		c = '<';
	else if (n == 2 && p[0] == 'g' && p[1] == 't')
		c = '>';
	else if (n == 3 && memcmp(p, "amp", 3) == 0)
		c = '&';
	else if (n == 4 && memcmp(p, "quot", 4) == 0)
		c = '"';
	else if (n == 4 && memcmp(p, "apos", 4) == 0)
		c = '\'';
	else if (n >= 3 && p[0] == '#' && p[1] == 'x') {
		for (i = 2; i < n; i++) {
			if (p[i] >= '0' && p[i] <= '9')
				d = p[i] - '0';
			else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')
				d = (p[i] | 0x20) - 'a' + 10;
			else
				return R_UNSURE;
			if ((c = c * 16 + (uint32_t)d) > 0x10FFFF)
				return R_UNSURE;
		}
		if (!xml_char(c))
			return R_UNSURE;
	} else if (n >= 2 && p[0] == '#') {
		for (i = 1; i < n; i++) {
			if (p[i] < '0' || p[i] > '9')
				return R_UNSURE;
			if ((c = c * 10 + (uint32_t)(p[i] - '0')) > 0x10FFFF)
				return R_UNSURE;
		}
		if (!xml_char(c))
			return R_UNSURE;
	} else
		return R_UNSURE;
	return (int)utf8_put(out, c);
}

/* ---------------------------------------------- names, values, text */

/*
 * Append to the scratch buffer, which was sized for the whole pass; a
 * write that would not fit is a logic error taken as unsure, never a
 * move of strings already handed out.
 */
static int
sc_add(struct xml_fast *x, const void *s, size_t n)
{
	if (n >= x->scratch.cap - x->scratch.len)
		return R_UNSURE;
	memcpy(x->scratch.data + x->scratch.len, s, n);
	x->scratch.len += n;
	x->scratch.data[x->scratch.len] = '\0';
	return 0;
}

/* Length of the name at p (ASCII, no ':'); R_MORE, R_UNSURE. */
static int
name_len(const unsigned char *p, const unsigned char *e)
{
	const unsigned char	*q = p;

	if (q == e)
		return R_MORE;
	if (!(kind[*q] & K_NAME0))
		return R_UNSURE;
	while (++q < e && (kind[*q] & K_NAME))
		if (q - p >= XML_FAST_MAX_NAME)
			return R_UNSURE;
	if (q == e)
		return R_MORE;
	if (*q == ':' || *q >= 0x80)
		return R_UNSURE;	/* prefixed or non-ASCII: libxml2's */
	return (int)(q - p);
}

/* Skip S; returns how many bytes were skipped. */
static size_t
skip_space(const unsigned char **pp, const unsigned char *e)
{
	const unsigned char	*p = *pp;
	size_t			 n;

	while (p < e && (kind[*p] & K_SPACE))
		p++;
	n = (size_t)(p - *pp);
	*pp = p;
	return n;
}

/*
 * The quoted value at *pp; [*vp, *ve) is its decoded text, in place when
 * nothing needed decoding.  nul: the decoded copy must be NUL-terminated
 * (always copied then).
 */
static int
read_value(struct xml_fast *x, const unsigned char **pp,
    const unsigned char *e, const char **vp, const char **ve, int nul)
{
	const unsigned char	*p = *pp, *run;
	unsigned char		 q = *p;
	size_t			 start = x->scratch.len;
	char			 ref[4];
	int			 copying = nul, n;

	run = ++p;
	for (;;) {
		while (p < e && (kind[*p] & K_VAL))
			p++;
		if (p == e)
			return R_MORE;
		if (*p == q)
			break;
		if (*p == '"' || *p == '\'') {
			p++;
			continue;
		}
		if (*p >= 0x80) {
			if ((n = utf8_char(p, e)) < 0)
				return n;
			p += n;
			continue;
		}
		if (*p == '<' || *p == '\r' || (*p < 0x20 && *p != '\t' &&
		    *p != '\n'))
			return R_UNSURE;
		/* a reference, or whitespace normalized to a space */
		if (sc_add(x, run, (size_t)(p - run)) != 0)
			return R_UNSURE;
		copying = 1;
		if (*p == '&') {
			if ((n = read_ref(&p, e, ref)) < 0)
				return n;
		} else {
			ref[0] = ' ';
			n = 1;
			p++;
		}
		if (sc_add(x, ref, (size_t)n) != 0)
			return R_UNSURE;
		run = p;
	}
	if (copying) {
		if (sc_add(x, run, (size_t)(p - run)) != 0)
			return R_UNSURE;
		if (nul && sc_add(x, "", 1) != 0)	/* keeps the NUL */
			return R_UNSURE;
		*vp = x->scratch.data + start;
		*ve = x->scratch.data + x->scratch.len - (nul ? 1 : 0);
	} else {
		*vp = (const char *)run;
		*ve = (const char *)p;
	}
	*pp = p + 1;
	return 0;
}

/* Text at *pp up to the next '<', reported to characters(). */
static int
read_text(struct xml_fast *x, const unsigned char **pp, const unsigned char *e)
{
	const unsigned char	*p = *pp, *run = p;
	size_t			 start = x->scratch.len;
	char			 ref[4];
	int			 copying = 0, n;

	for (;;) {
		while (p < e && (kind[*p] & K_TEXT))
			p++;
		if (p == e)
			return R_MORE;
		if (*p == '<')
			break;
		if (*p >= 0x80) {
			if ((n = utf8_char(p, e)) < 0)
				return n;
			p += n;
			continue;
		}
		if (*p == ']') {
			/* "]]>" may not appear in text */
			if (e - p < 3)
				return R_MORE;
			if (p[1] == ']' && p[2] == '>')
				return R_UNSURE;
			p++;
			continue;
		}
		if (*p != '&')
			return R_UNSURE;	/* CR or another control */
		if (sc_add(x, run, (size_t)(p - run)) != 0)
			return R_UNSURE;
		if ((n = read_ref(&p, e, ref)) < 0)
			return n;
		if (sc_add(x, ref, (size_t)n) != 0)
			return R_UNSURE;
		copying = 1;
		run = p;
	}
	if (copying) {
		if (sc_add(x, run, (size_t)(p - run)) != 0)
			return R_UNSURE;
		run = (const unsigned char *)x->scratch.data + start;
		n = (int)(x->scratch.len - start);
	} else
		n = (int)(p - run);
	if (n > 0 && x->sax->characters != NULL)
		x->sax->characters(x->ctx, run, n);
	*pp = p;
	return 0;
}

/* ------------------------------------------------------ element loop */

struct open_elem {
	const unsigned char	*name;	/* in the input */
	size_t			 len;
	const char		*lname;	/* NUL-terminated copy */
	const char		*uri;
};

struct tag_attr {
	const unsigned char	*name;	/* in the input, as written */
	size_t			 len;
};

/* The start tag at *pp ('<' + name start); pushes it on st. */
static int
read_start(struct xml_fast *x, const unsigned char **pp,
    const unsigned char *e, const unsigned char *buf, struct open_elem *st,
    int depth, int *emptyp)
{
	const xmlChar		*attrs[5 * XML_FAST_MAX_ATTRS];
	struct tag_attr		 seen[XML_FAST_MAX_ATTRS + 1];
	const unsigned char	*p = *pp + 1, *an;
	const char		*uri = NULL, *vp, *ve;
	int			 n, i, nattrs = 0, nseen = 0, has_ns = 0;
	int			 xml_prefix;
	size_t			 sp;

	if ((n = name_len(p, e)) < 0)
		return n;
	st[depth].name = p;
	st[depth].len = (size_t)n;
	p += n;
	for (;;) {
		sp = skip_space(&p, e);
		if (p == e)
			return R_MORE;
		if (*p == '>') {
			p++;
			*emptyp = 0;
			break;
		}
		if (*p == '/') {
			if (e - p < 2)
				return R_MORE;
			if (p[1] != '>')
				return R_UNSURE;
			p += 2;
			*emptyp = 1;
			break;
		}
		if (sp == 0 || nseen == XML_FAST_MAX_ATTRS)
			return R_UNSURE;
		/* xml:lang is the one prefixed attribute read here */
		xml_prefix = 0;
		an = p;
		if (e - p >= 4 && memcmp(p, "xml:", 4) == 0) {
			xml_prefix = 1;
			p += 4;
		}
		if ((n = name_len(p, e)) < 0)
			return n;
		if (xml_prefix && (n != 4 || memcmp(p, "lang", 4) != 0))
			return R_UNSURE;
		p += n;
		for (i = 0; i < nseen; i++)
			if (seen[i].len == (size_t)(p - an) &&
			    memcmp(seen[i].name, an, seen[i].len) == 0)
				return R_UNSURE;	/* duplicate */
		seen[nseen].name = an;
		seen[nseen++].len = (size_t)(p - an);
		(void)skip_space(&p, e);
		if (p == e)
			return R_MORE;
		if (*p != '=')
			return R_UNSURE;
		p++;
		(void)skip_space(&p, e);
		if (p == e)
			return R_MORE;
		if (*p != '"' && *p != '\'')
			return R_UNSURE;
		if (!xml_prefix && n == 5 && memcmp(an, "xmlns", 5) == 0) {
			if ((n = read_value(x, &p, e, &vp, &ve, 1)) < 0)
				return n;
			uri = vp < ve ? vp : NULL;	/* "" undeclares */
			has_ns = 1;
			continue;
		}
		if ((n = read_value(x, &p, e, &vp, &ve, 0)) < 0)
			return n;
		/* the local name, NUL-terminated, into the scratch */
		attrs[nattrs * 5] = (const xmlChar *)x->scratch.data +
		    x->scratch.len;
		if (sc_add(x, xml_prefix ? an + 4 : an, seen[nseen - 1].len -
		    (xml_prefix ? 4 : 0)) != 0 || sc_add(x, "", 1) != 0)
			return R_UNSURE;
		attrs[nattrs * 5 + 1] = xml_prefix ? (const xmlChar *)"xml" :
		    NULL;
		attrs[nattrs * 5 + 2] = xml_prefix ? (const xmlChar *)NS_XML :
		    NULL;
		attrs[nattrs * 5 + 3] = (const xmlChar *)vp;
		attrs[nattrs * 5 + 4] = (const xmlChar *)ve;
		nattrs++;
	}
	st[depth].uri = has_ns ? uri : depth > 0 ? st[depth - 1].uri :
	    x->default_ns;
	st[depth].lname = x->scratch.data + x->scratch.len;
	if (sc_add(x, st[depth].name, st[depth].len) != 0 ||
	    sc_add(x, "", 1) != 0)
		return R_UNSURE;
	x->tok = (size_t)(p - buf);
	*pp = p;
	if (x->sax->startElementNs != NULL)
		x->sax->startElementNs(x->ctx, (const xmlChar *)st[depth].lname,
		    NULL, (const xmlChar *)st[depth].uri, 0, NULL, nattrs, 0,
		    attrs);
	return 0;
}

/* The end tag at *pp ("</"), which must close st[depth]. */
static int
read_end(struct xml_fast *x, const unsigned char **pp, const unsigned char *e,
    const unsigned char *buf, const struct open_elem *top)
{
	const unsigned char	*p = *pp + 2;
	int			 n;

	if ((n = name_len(p, e)) < 0)
		return n;
	if ((size_t)n != top->len || memcmp(p, top->name, top->len) != 0)
		return R_UNSURE;
	p += n;
	(void)skip_space(&p, e);
	if (p == e)
		return R_MORE;
	if (*p != '>')
		return R_UNSURE;
	*pp = p + 1;
	x->tok = (size_t)(*pp - buf);
	if (x->sax->endElementNs != NULL)
		x->sax->endElementNs(x->ctx, (const xmlChar *)top->lname, NULL,
		    (const xmlChar *)top->uri);
	return 0;
}

enum xml_fast_rc
xml_fast_element(struct xml_fast *x, const char *buf, size_t len,
    size_t *endp)
{
	struct open_elem	 st[XML_FAST_MAX_DEPTH];
	const unsigned char	*b = (const unsigned char *)buf, *p = b;
	const unsigned char	*e = b + len;
	int			 depth = 0, empty, rc;

	if (len < 2)
		return XML_FAST_MORE;
	/* libxml2's own limit on one text or value (XML_PARSE_HUGE off) */
	if (len >= XML_MAX_TEXT_LENGTH || buf[0] != '<')
		return XML_FAST_UNSURE;
	pbuf_reset(&x->scratch);
	if (pbuf_reserve(&x->scratch, len + 2) != 0)
		return XML_FAST_UNSURE;		/* libxml2 will say ENOMEM */
	do {
		if (p == e)
			rc = R_MORE;
		else if (*p != '<')
			rc = read_text(x, &p, e);
		else if (e - p < 2)
			rc = R_MORE;
		else if (p[1] == '/') {
			if ((rc = depth == 0 ? R_UNSURE : read_end(x, &p, e, b,
			    &st[depth - 1])) == 0)
				depth--;
		} else if (depth == XML_FAST_MAX_DEPTH)
			rc = R_UNSURE;
		else if ((rc = read_start(x, &p, e, b, st, depth,
		    &empty)) == 0) {
			if (!empty)
				depth++;
			else if (x->sax->endElementNs != NULL)
				x->sax->endElementNs(x->ctx,
				    (const xmlChar *)st[depth].lname, NULL,
				    (const xmlChar *)st[depth].uri);
		}
		if (rc < 0)
			return rc == R_MORE ? XML_FAST_MORE : XML_FAST_UNSURE;
	} while (depth > 0);
	*endp = (size_t)(p - b);
	return XML_FAST_DONE;
}

void
xml_fast_free(struct xml_fast *x)
{
	pbuf_free(&x->scratch);
}
