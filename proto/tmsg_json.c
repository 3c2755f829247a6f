/*
 * tmsg_json.c: the Redis envelope codec of struct tmsg (tmsg.h).
 *
 * Reading is one pass over the input with a hand-written RFC 8259
 * scanner: no tree, no library.  The result goes into one block of
 * len + F_NFIELDS bytes, allocated once: an unescaped string is never
 * longer than its JSON form and the body's text span is copied as it is,
 * so everything fits with room for the NULs.  Short fields are unescaped
 * straight into the block; the body is validated by an iterative
 * skipper (a bit stack of object/array, TMSG_JSON_MAX_DEPTH deep, no
 * recursion) and then copied with one memcpy().
 *
 * Writing appends to a struct pbuf: the short fields escaped as
 * OpenSRF's C writer does, the body copied whole.
 *
 * Layout: byte classes and UTF-8; string scanner; value skipper; the
 * envelope reader; the writer.
 */
#include "tmsg.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* ------------------------------------------------- byte classes, UTF-8 */

/*
 * Bytes a string scan must stop at: the quote, the backslash, control
 * characters (never allowed raw) and the lead bytes of UTF-8 sequences.
 */
static const unsigned char stop_in_string[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ------------------------------------------------------- the scanner */

struct scan {
	const unsigned char	*p;	/* next byte */
	const unsigned char	*start;	/* the input, for offsets */
	const unsigned char	*end;
	struct proto_err	*err;
};

static int
fail(struct scan *s, const char *what)
{
	return proto_err_set(s->err, -EPROTO, "JSON envelope: %s at byte %zu",
	    what, (size_t)(s->p - s->start));
}

static void
skip_ws(struct scan *s)
{
	while (s->p < s->end && is_ws(*s->p))
		s->p++;
}

static int
hex4(const unsigned char *p, uint32_t *out)
{
	uint32_t	v = 0;
	int		i, d;

	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')
			d = (p[i] | 0x20) - 'a' + 10;
		else
			return -1;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return 0;
}

/*
 * One \u escape, s->p just after its "\u": the code point in *cp,
 * surrogate pairs joined.  0 or -EPROTO.
 */
static int
unicode_escape(struct scan *s, uint32_t *cp)
{
	uint32_t	hi, lo;

	if (s->end - s->p < 4 || hex4(s->p, &hi) != 0)
		return fail(s, "bad \\u escape");
	s->p += 4;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail(s, "lone low surrogate");
	if (hi < 0xd800 || hi > 0xdbff) {
		*cp = hi;
		return 0;
	}
	if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
	    hex4(s->p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
		return fail(s, "high surrogate without its low half");
	s->p += 6;
	*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/*
 * The string whose opening quote is at s->p.  With out, its unescaped
 * bytes are written there (never more than the JSON form's length) and
 * *outlen set.  Without out, it is only validated.  With nul_bad, a
 * "\u0000" is refused (a field is a C string).  Leaves s->p after the
 * closing quote.  0 or -EPROTO.
 */
static int
scan_string(struct scan *s, char *out, size_t *outlen, int nul_bad)
{
	const unsigned char	*run;
	size_t			 o = 0, n;
	uint32_t		 cp;
	char			 c;

	s->p++;
	for (;;) {
		run = s->p;
		while (s->p < s->end && !stop_in_string[*s->p])
			s->p++;
		if (out != NULL && s->p > run) {
			memcpy(out + o, run, (size_t)(s->p - run));
			o += (size_t)(s->p - run);
		}
		if (s->p == s->end)
			return fail(s, "unterminated string");
		if (*s->p == '"')
			break;
		if (*s->p >= 0x80) {
			if ((n = utf8_seq(s->p, (size_t)(s->end - s->p),
			    &cp)) == 0)
				return fail(s, "invalid UTF-8");
			if (out != NULL) {
				memcpy(out + o, s->p, n);
				o += n;
			}
			s->p += n;
			continue;
		}
		if (*s->p != '\\')
			return fail(s, "control character in a string");
		if (++s->p == s->end)
			return fail(s, "unterminated string");
		switch (*s->p++) {
		case '"':	c = '"'; break;
		case '\\':	c = '\\'; break;
		case '/':	c = '/'; break;
		case 'b':	c = '\b'; break;
		case 'f':	c = '\f'; break;
		case 'n':	c = '\n'; break;
		case 'r':	c = '\r'; break;
		case 't':	c = '\t'; break;
		case 'u':
			if (unicode_escape(s, &cp) != 0)
				return -EPROTO;
			if (cp == 0 && nul_bad)
				return fail(s, "\\u0000 in a field");
			if (out != NULL)
				o += utf8_put(out + o, cp);
			continue;
		default:
			s->p--;
			return fail(s, "bad escape");
		}
		if (out != NULL)
			out[o++] = c;
	}
	s->p++;
	if (outlen != NULL)
		*outlen = o;
	return 0;
}

static int
scan_digits(struct scan *s)
{
	const unsigned char	*at = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > at ? 0 : fail(s, "bad number");
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
scan_number(struct scan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (scan_digits(s) != 0)
		return -EPROTO;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (scan_digits(s) != 0)
			return -EPROTO;
	}
	if (s->p < s->end && (*s->p | 0x20) == 'e') {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (scan_digits(s) != 0)
			return -EPROTO;
	}
	return 0;
}

static int
scan_literal(struct scan *s, const char *word, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return fail(s, "unexpected character");
	s->p += n;
	return 0;
}

/* A key string and its colon, with the whitespace around them. */
static int
scan_key_colon(struct scan *s)
{
	skip_ws(s);
	if (s->p == s->end || *s->p != '"')
		return fail(s, "expected a key");
	if (scan_string(s, NULL, NULL, 0) != 0)
		return -EPROTO;
	skip_ws(s);
	if (s->p == s->end || *s->p != ':')
		return fail(s, "expected ':'");
	s->p++;
	return 0;
}

/* Bit i of a bit stack. */
static void
bit_put(unsigned char *bits, size_t i, int v)
{
	if (v)
		bits[i / 8] |= (unsigned char)(1u << (i % 8));
	else
		bits[i / 8] &= (unsigned char)~(1u << (i % 8));
}

static int
bit_get(const unsigned char *bits, size_t i)
{
	return (bits[i / 8] >> (i % 8)) & 1;
}

/*
 * Skip (and validate) one JSON value of any kind at s->p, whitespace
 * before it included.  Iterative: bit d of `obj` says whether the
 * container at depth d is an object.
 */
static int
skip_value(struct scan *s)
{
	unsigned char	obj[TMSG_JSON_MAX_DEPTH / 8];
	size_t		depth = 0;
	int		rc, in_obj;
	unsigned char	open;

	for (;;) {
		/* A value. */
		skip_ws(s);
		if (s->p == s->end)
			return fail(s, "value expected");
		rc = 0;
		switch ((open = *s->p)) {
		case '{':
		case '[':
			if (depth == TMSG_JSON_MAX_DEPTH)
				return fail(s, "nested too deep");
			s->p++;
			skip_ws(s);
			if (s->p < s->end &&
			    *s->p == (open == '{' ? '}' : ']')) {
				s->p++;		/* empty: a complete value */
				break;
			}
			bit_put(obj, depth++, open == '{');
			if (open == '{' && (rc = scan_key_colon(s)) != 0)
				return rc;
			continue;	/* its first value */
		case '"':
			rc = scan_string(s, NULL, NULL, 0);
			break;
		case 't':
			rc = scan_literal(s, "true", 4);
			break;
		case 'f':
			rc = scan_literal(s, "false", 5);
			break;
		case 'n':
			rc = scan_literal(s, "null", 4);
			break;
		default:
			if (open == '-' || (open >= '0' && open <= '9'))
				rc = scan_number(s);
			else
				rc = fail(s, "unexpected character");
			break;
		}
		if (rc != 0)
			return rc;
		/* After a value: close containers, or on to the next value. */
		for (;;) {
			if (depth == 0)
				return 0;
			in_obj = bit_get(obj, depth - 1);
			skip_ws(s);
			if (s->p == s->end)
				return fail(s, "unterminated container");
			if (*s->p == ',') {
				s->p++;
				if (in_obj && (rc = scan_key_colon(s)) != 0)
					return rc;
				break;
			}
			if (*s->p != (in_obj ? '}' : ']'))
				return fail(s, in_obj ? "expected ',' or '}'" :
				    "expected ',' or ']'");
			s->p++;
			depth--;
		}
	}
}

/* --------------------------------------------------- envelope reader */

enum field {
	F_TO, F_FROM, F_THREAD, F_XID, F_BODY, F_RCMD, F_RCLASS, F_RTO,
	F_RREPLY, F_NFIELDS
};

static const struct {
	const char	*key;
	size_t		 len;
} keys[F_NFIELDS] = {
	[F_TO] = { "to", 2 }, [F_FROM] = { "from", 4 },
	[F_THREAD] = { "thread", 6 }, [F_XID] = { "osrf_xid", 8 },
	[F_BODY] = { "body", 4 }, [F_RCMD] = { "router_command", 14 },
	[F_RCLASS] = { "router_class", 12 }, [F_RTO] = { "router_to", 9 },
	[F_RREPLY] = { "router_reply", 12 },
};

/* Room for our longest key (router_command, 14); longer keys are not ours. */
#define KEY_MAX	16

/*
 * The key at s->p: its field, or F_NFIELDS for any other key.  A plain
 * key is compared in place; one with escapes is decoded first
 * ("\u0074o" is "to" to every other reader, so it is to us).
 */
static int
read_key(struct scan *s, enum field *f)
{
	const unsigned char	*at = s->p, *k = s->p + 1;
	const char		*name;
	char			 buf[KEY_MAX * 6];
	size_t			 n, i;
	int			 rc;

	*f = F_NFIELDS;
	while (k < s->end && !stop_in_string[*k])
		k++;
	if (k < s->end && *k == '"') {
		name = (const char *)at + 1;
		n = (size_t)(k - at - 1);
		s->p = k + 1;
	} else {
		if ((rc = scan_string(s, NULL, NULL, 0)) != 0)
			return rc;
		/* An escape takes 6 bytes at most per character. */
		if ((size_t)(s->p - at) - 2 > sizeof(buf))
			return 0;
		s->p = at;
		if ((rc = scan_string(s, buf, &n, 0)) != 0)
			return rc;
		name = buf;
	}
	for (i = 0; i < F_NFIELDS; i++)
		if (keys[i].len == n && memcmp(keys[i].key, name, n) == 0) {
			*f = (enum field)i;
			break;
		}
	return 0;
}

struct reader {
	struct scan	 s;
	char		*mem;		/* len + F_NFIELDS bytes */
	size_t		 used;
	size_t		 off[F_NFIELDS]; /* +1; 0 = absent or null */
	unsigned	 seen;		/* bit per field: key was present */
};

/* A string field's value: string (unescaped) or null. */
static int
read_string_field(struct reader *r, enum field f)
{
	size_t	n;
	int	rc;

	if (r->s.p < r->s.end && *r->s.p == 'n')
		return scan_literal(&r->s, "null", 4);
	if (r->s.p == r->s.end || *r->s.p != '"')
		return proto_err_set(r->s.err, -EPROTO, "JSON envelope: "
		    "\"%s\" is not a string at byte %zu", keys[f].key,
		    (size_t)(r->s.p - r->s.start));
	if ((rc = scan_string(&r->s, r->mem + r->used, &n, 1)) != 0)
		return rc;
	r->off[f] = r->used + 1;
	r->used += n;
	r->mem[r->used++] = '\0';
	return 0;
}

/* body: a string (unescaped, the register form), null, or any value
 * (its text span, copied as it is). */
static int
read_body(struct reader *r)
{
	const unsigned char	*at = r->s.p;
	size_t			 n;
	int			 rc;

	if (r->s.p < r->s.end && (*r->s.p == '"' || *r->s.p == 'n'))
		return read_string_field(r, F_BODY);
	if ((rc = skip_value(&r->s)) != 0)
		return rc;
	n = (size_t)(r->s.p - at);
	memcpy(r->mem + r->used, at, n);
	r->off[F_BODY] = r->used + 1;
	r->used += n;
	r->mem[r->used++] = '\0';
	return 0;
}

static int
read_member(struct reader *r)
{
	enum field	f;
	int		rc;

	if (r->s.p == r->s.end || *r->s.p != '"')
		return fail(&r->s, "expected a key");
	if ((rc = read_key(&r->s, &f)) != 0)
		return rc;
	skip_ws(&r->s);
	if (r->s.p == r->s.end || *r->s.p != ':')
		return fail(&r->s, "expected ':'");
	r->s.p++;
	skip_ws(&r->s);
	if (f == F_NFIELDS)
		return skip_value(&r->s);
	if (r->seen & (1u << f))
		return proto_err_set(r->s.err, -EPROTO, "JSON envelope: "
		    "duplicate key \"%s\" at byte %zu", keys[f].key,
		    (size_t)(r->s.p - r->s.start));
	r->seen |= 1u << f;
	return f == F_BODY ? read_body(r) : read_string_field(r, f);
}

static const char *
field(const struct reader *r, const char *mem, enum field f)
{
	return r->off[f] != 0 ? mem + r->off[f] - 1 : "";
}

int
tmsg_json_parse(const char *json, size_t len, struct tmsg *m,
    struct proto_err *err)
{
	struct reader	r;
	int		rc;

	memset(m, 0, sizeof(*m));
	proto_err_clear(err);
	memset(&r, 0, sizeof(r));
	r.s.start = r.s.p = (const unsigned char *)json;
	r.s.end = r.s.p + len;
	r.s.err = err;
	skip_ws(&r.s);
	if (r.s.p == r.s.end || *r.s.p != '{')
		return fail(&r.s, "not a JSON object");
	if (len > SIZE_MAX - F_NFIELDS - 1)
		return proto_err_set(err, -ENOMEM, "out of memory");
	/* Unescaping never grows a string: see the top of the file. */
	if ((r.mem = malloc(len + F_NFIELDS + 1)) == NULL)
		return proto_err_set(err, -ENOMEM, "out of memory");
	r.s.p++;
	skip_ws(&r.s);
	if (r.s.p < r.s.end && *r.s.p == '}')
		r.s.p++;
	else {
		for (;;) {
			if ((rc = read_member(&r)) != 0)
				goto fail;
			skip_ws(&r.s);
			if (r.s.p < r.s.end && *r.s.p == ',') {
				r.s.p++;
				skip_ws(&r.s);
				continue;
			}
			if (r.s.p < r.s.end && *r.s.p == '}') {
				r.s.p++;
				break;
			}
			rc = fail(&r.s, "expected ',' or '}'");
			goto fail;
		}
	}
	skip_ws(&r.s);
	if (r.s.p != r.s.end) {
		rc = fail(&r.s, "data after the object");
		goto fail;
	}
	m->mem = r.mem;
	m->to = field(&r, r.mem, F_TO);
	m->from = field(&r, r.mem, F_FROM);
	m->thread = field(&r, r.mem, F_THREAD);
	m->osrf_xid = field(&r, r.mem, F_XID);
	m->body = field(&r, r.mem, F_BODY);
	m->router_command = field(&r, r.mem, F_RCMD);
	m->router_class = field(&r, r.mem, F_RCLASS);
	m->router_to = field(&r, r.mem, F_RTO);
	m->router_reply = field(&r, r.mem, F_RREPLY);
	m->subject = m->router_from = m->type = "";
	m->error_type = m->error_condition = "";
	return 0;
fail:
	free(r.mem);
	return rc;
}

/* ------------------------------------------------------------ writer */

static const char hexdig[] = "0123456789abcdef";

static int
put_u16(struct pbuf *b, uint32_t u)
{
	char	e[6] = { '\\', 'u', hexdig[(u >> 12) & 0xf],
		    hexdig[(u >> 8) & 0xf], hexdig[(u >> 4) & 0xf],
		    hexdig[u & 0xf] };

	return pbuf_add(b, e, sizeof(e));
}

/* A JSON string: runs of plain ASCII copied whole, the rest escaped. */
static int
put_str(struct pbuf *b, const char *str)
{
	static const char	 short_esc[0x20] = {
		['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f',
		['\r'] = 'r',
	};
	const unsigned char	*p = (const unsigned char *)(str ? str : "");
	const unsigned char	*run, *end = p + strlen((const char *)p);
	char			 e[2] = { '\\', 0 };
	uint32_t		 cp;
	size_t			 n;
	int			 rc;

	if ((rc = pbuf_addc(b, '"')) != 0)
		return rc;
	for (;;) {
		run = p;
		while (p < end && !stop_in_string[*p])
			p++;
		if ((rc = pbuf_add(b, run, (size_t)(p - run))) != 0)
			return rc;
		if (p == end)
			break;
		if (*p >= 0x80) {
			if ((n = utf8_seq(p, (size_t)(end - p), &cp)) == 0)
				return -EILSEQ;
			p += n;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				if ((rc = put_u16(b, 0xd800 + (cp >> 10))) != 0)
					return rc;
				cp = 0xdc00 + (cp & 0x3ff);
			}
			if ((rc = put_u16(b, cp)) != 0)
				return rc;
			continue;
		}
		e[1] = *p == '"' || *p == '\\' ? (char)*p : short_esc[*p];
		rc = e[1] != 0 ? pbuf_add(b, e, 2) : put_u16(b, *p);
		if (rc != 0)
			return rc;
		p++;
	}
	return pbuf_addc(b, '"');
}

static int
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* The key text (with its comma and colon), then the string s. */
static int
put_member(struct pbuf *b, const char *key, const char *s)
{
	int	rc;

	if ((rc = pbuf_adds(b, key)) != 0)
		return rc;
	return put_str(b, s);
}

static size_t
len0(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

/*
 * May the body go inline?  Only when it is exactly one JSON value that
 * reads back as the same text: not a string or null (the reader unwraps
 * those), no white space around it, and nothing after it -- a body such
 * as [],"router_command":"register" must not add keys to the envelope
 * (the bridge copies bodies from XMPP peers).  Anything else goes as a
 * JSON string.  The check is one pass of the value skipper.
 */
static int
body_inline(const char *body, size_t len)
{
	struct scan	s = { .p = (const unsigned char *)body,
			      .start = (const unsigned char *)body,
			      .end = (const unsigned char *)body + len };

	if (len == 0 || is_ws(s.p[0]) || s.p[0] == '"' || s.p[0] == 'n')
		return 0;
	return skip_value(&s) == 0 && s.p == s.end;
}

int
tmsg_json_write_buf(const struct tmsg *m, struct pbuf *b)
{
	size_t	saved = b->len, blen = len0(m->body);
	int	rc, router;

	router = nonempty(m->router_command) || nonempty(m->router_class) ||
	    nonempty(m->router_to) || nonempty(m->router_reply);
	/*
	 * One reservation for the usual case: the keys take about 150
	 * bytes, escapes in the short fields may need more (pbuf grows).
	 */
	if ((rc = pbuf_reserve(b, 160 + blen + len0(m->to) + len0(m->from) +
	    len0(m->thread) + len0(m->osrf_xid))) != 0 ||
	    (rc = put_member(b, "{\"to\":", m->to)) != 0 ||
	    (rc = put_member(b, ",\"from\":", m->from)) != 0 ||
	    (rc = put_member(b, ",\"thread\":", m->thread)) != 0)
		goto fail;
	if (nonempty(m->osrf_xid))
		rc = put_member(b, ",\"osrf_xid\":", m->osrf_xid);
	else
		rc = pbuf_adds(b, ",\"osrf_xid\":null");
	if (rc != 0)
		goto fail;
	if (router &&
	    ((rc = put_member(b, ",\"router_to\":", m->router_to)) != 0 ||
	    (rc = put_member(b, ",\"router_class\":", m->router_class)) != 0 ||
	    (rc = put_member(b, ",\"router_command\":",
	    m->router_command)) != 0 ||
	    (nonempty(m->router_reply) && (rc = put_member(b,
	    ",\"router_reply\":", m->router_reply)) != 0)))
		goto fail;
	/* Commands carry their body as a string, messages inline. */
	if (nonempty(m->router_command) || (blen > 0 && !body_inline(m->body, blen)))
		rc = put_member(b, ",\"body\":", blen > 0 ? m->body : "[]");
	else if ((rc = pbuf_adds(b, ",\"body\":")) == 0)
		rc = blen > 0 ? pbuf_add(b, m->body, blen) :
		    pbuf_add(b, "[]", 2);
	if (rc != 0 || (rc = pbuf_addc(b, '}')) != 0)
		goto fail;
	return 0;
fail:
	b->len = saved;
	if (b->data != NULL)
		b->data[saved] = '\0';
	return rc;
}

int
tmsg_json_write(const struct tmsg *m, char **json, size_t *lenp)
{
	struct pbuf	b = { 0 };
	int		rc;

	*json = NULL;
	if ((rc = tmsg_json_write_buf(m, &b)) != 0) {
		pbuf_free(&b);
		return rc;
	}
	if ((*json = pbuf_steal(&b, lenp)) == NULL)
		return -ENOMEM;
	return 0;
}
