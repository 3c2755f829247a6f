/*
 * osrfmsg_fast.c: osrfmsg_decode()'s reader for the common body.
 *
 * jansson builds a tree of every object and key of a body, about forty
 * allocations for a RESULT and its STATUS, only for osrfmsg_decode() to
 * pick a dozen fields out of it.  This reader walks the body's skeleton
 * itself (the array, each {"__c":"osrfMessage","__p":{...}}, the payload
 * and its __p) and hands jansson only the values a caller keeps as JSON:
 * params and content.  Strings of the skeleton are used in place, in a
 * copy of the body whose closing quotes become NULs.
 *
 * It knows a strict subset: skeleton strings of printable ASCII without
 * escapes; keys of osrfmsg.h's messages and payloads only, each at most
 * once, "__c" before "__p"; integers written as JSON integers or as
 * strings; every element an osrfMessage, with a hinted payload.  On
 * anything else, or anything the full reader would refuse, it declines
 * (OSRFMSG_FAST_UNSURE) without a word, and osrfmsg_decode() reads the
 * same bytes with jansson, which decides and words any error.  What it
 * accepts it decodes exactly as the full reader would: test_osrfmsg
 * compares the two on every capture, and fuzz_osrfmsg on whatever the
 * fuzzer makes.
 */
#include "osrfmsg_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct fscan {
	char		*p;		/* in the copy */
	char		*end;
	json_t		*keep;		/* array owning params and contents */
};

static void
ws(struct fscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* Expect byte c (after whitespace). */
static int
eat(struct fscan *s, char c)
{
	ws(s);
	if (s->p == s->end || *s->p != c)
		return -1;
	s->p++;
	return 0;
}

/*
 * A skeleton string: printable ASCII, no escapes.  *out points into the
 * copy, NUL-terminated where its closing quote was.
 */
static int
str(struct fscan *s, const char **out)
{
	char	*at;

	if (eat(s, '"') != 0)
		return -1;
	at = s->p;
	while (s->p < s->end && *s->p != '"') {
		if (*s->p < 0x20 || *s->p > 0x7e || *s->p == '\\')
			return -1;
		s->p++;
	}
	if (s->p == s->end)
		return -1;
	*s->p++ = '\0';
	*out = at;
	return 0;
}

/* Is the next value null?  Eats it if so. */
static int
null(struct fscan *s)
{
	ws(s);
	if (s->end - s->p >= 4 && memcmp(s->p, "null", 4) == 0) {
		s->p += 4;
		return 1;
	}
	return 0;
}

/* Decimal text t as get_int() in osrfmsg.c reads a string. */
static int
int_text(const char *t, long long min, long long max, long long *out)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(t, &end, 10);
	if (end == t || *end != '\0' || errno != 0 || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/*
 * An integer as a JSON integer (-?(0|[1-9][0-9]*), nothing after it that
 * makes it a real) or a string; within [min, max].
 */
static int
integer(struct fscan *s, long long min, long long max, long long *out)
{
	const char	*t;
	char		 buf[24], *at;
	size_t		 n;

	ws(s);
	if (s->p < s->end && *s->p == '"')
		return str(s, &t) != 0 ? -1 : int_text(t, min, max, out);
	at = s->p;
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	n = (size_t)(s->p - at);
	if (n == 0 || n >= sizeof(buf) || (n == 1 && *at == '-') ||
	    (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E' ||
	    (*s->p >= '0' && *s->p <= '9'))))
		return -1;
	memcpy(buf, at, n);
	buf[n] = '\0';
	return int_text(buf, min, max, out);
}

/* An optional string: null (*out = NULL) or a skeleton string. */
static int
opt_str(struct fscan *s, const char **out)
{
	*out = NULL;
	return null(s) ? 0 : str(s, out);
}

/*
 * Any JSON value, read by jansson from its span: the span's end is found
 * by counting brackets outside strings; jansson validates it.  The value
 * is kept in s->keep.
 */
static int
value(struct fscan *s, json_t **out)
{
	json_error_t	 je;
	char		*at;
	size_t		 depth = 0;
	int		 in_str = 0;

	ws(s);
	at = s->p;
	for (; s->p < s->end; s->p++) {
		if (in_str) {
			if (*s->p == '\\' && s->p + 1 < s->end)
				s->p++;
			else if (*s->p == '"')
				in_str = 0;
			continue;
		}
		if (*s->p == '"')
			in_str = 1;
		else if (*s->p == '[' || *s->p == '{') {
			/* well inside jansson's own limit for the whole
			   body, which nests this value 5 deeper */
			if (++depth > OSRFMSG_FAST_MAX_DEPTH)
				return -1;
		}
		else if (*s->p == ']' || *s->p == '}') {
			if (depth == 0)
				break;		/* the enclosing object's */
			depth--;
		} else if (*s->p == ',' && depth == 0)
			break;
	}
	if (in_str || depth != 0 || s->p == at)
		return -1;
	*out = json_loadb(at, (size_t)(s->p - at), JSON_DECODE_ANY, &je);
	if (*out == NULL)
		return -1;
	if (json_array_append_new(s->keep, *out) != 0)
		return -1;
	return 0;
}

/* The keys a message's __p or a payload's __p may hold. */
enum fkey {
	K_TRACE, K_LOCALE, K_TZ, K_INGRESS, K_API, K_TYPE, K_PAYLOAD,
	K_METHOD, K_PARAMS, K_STATUS, K_CODE, K_CONTENT, K_NKEYS
};

static const char *const fkeys[K_NKEYS] = {
	[K_TRACE] = "threadTrace", [K_LOCALE] = "locale", [K_TZ] = "tz",
	[K_INGRESS] = "ingress", [K_API] = "api_level", [K_TYPE] = "type",
	[K_PAYLOAD] = "payload", [K_METHOD] = "method",
	[K_PARAMS] = "params", [K_STATUS] = "status",
	[K_CODE] = "statusCode", [K_CONTENT] = "content",
};

/* The key of the next member, among keys[first..last]. */
static int
key(struct fscan *s, enum fkey first, enum fkey last, enum fkey *k)
{
	const char	*name;
	int		 i;

	if (str(s, &name) != 0 || eat(s, ':') != 0)
		return -1;
	for (i = (int)first; i <= (int)last; i++)
		if (strcmp(name, fkeys[i]) == 0) {
			*k = (enum fkey)i;
			return 0;
		}
	return -1;
}

/* {"__c":<class>,"__p":  -- up to the inner object's value. */
static int
hint_open(struct fscan *s, const char **cls)
{
	const char	*k;

	if (eat(s, '{') != 0 || str(s, &k) != 0 || strcmp(k, "__c") != 0 ||
	    eat(s, ':') != 0 || str(s, cls) != 0 || eat(s, ',') != 0 ||
	    str(s, &k) != 0 || strcmp(k, "__p") != 0 || eat(s, ':') != 0)
		return -1;
	return 0;
}

/* The members of the object at s->p, one call of `member` each; the keys
 * seen go to *seen. */
typedef int member_fn(struct fscan *, struct osrfmsg *, unsigned *seen);

static int
members(struct fscan *s, struct osrfmsg *m, member_fn *member,
    unsigned *seen)
{
	*seen = 0;
	if (eat(s, '{') != 0)
		return -1;
	ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (member(s, m, seen) != 0)
			return -1;
		ws(s);
		if (s->p == s->end)
			return -1;
		if (*s->p == ',') {
			s->p++;
			continue;
		}
		if (*s->p != '}')
			return -1;
		s->p++;
		return 0;
	}
}

static int
seen_once(unsigned *seen, enum fkey k)
{
	if (*seen & (1u << k))
		return -1;	/* jansson keeps the last: leave it to it */
	*seen |= 1u << k;
	return 0;
}

static int
payload_member(struct fscan *s, struct osrfmsg *m, unsigned *seen)
{
	enum fkey	 k;
	long long	 n;
	json_t		*v;

	if (key(s, K_METHOD, K_CONTENT, &k) != 0 || seen_once(seen, k) != 0)
		return -1;
	switch (k) {
	case K_METHOD:
		return opt_str(s, &m->method);
	case K_PARAMS:
		return value(s, &m->params);
	case K_STATUS:
		return opt_str(s, &m->status);
	case K_CODE:
		if (null(s))
			return -1;	/* the full reader says why */
		if (integer(s, INT_MIN, INT_MAX, &n) != 0)
			return -1;
		m->status_code = (int)n;
		return 0;
	default:	/* K_CONTENT */
		if (value(s, &v) != 0)
			return -1;
		if (m->type == OSRFMSG_RESULT)
			m->content = v;
		return 0;
	}
}

/* The payload, after the message's type: hinted, as its type needs. */
static int
payload(struct fscan *s, struct osrfmsg *m)
{
	json_t		*arr;
	unsigned	 seen;

	if (m->type == 0 || m->type == OSRFMSG_CONNECT ||
	    m->type == OSRFMSG_DISCONNECT)
		return -1;	/* type after payload, or no payload wanted */
	if (hint_open(s, &m->payload_class) != 0 ||
	    members(s, m, payload_member, &seen) != 0 || eat(s, '}') != 0)
		return -1;
	if (m->type == OSRFMSG_REQUEST) {
		if (m->method == NULL ||
		    (seen & (1u << K_STATUS | 1u << K_CODE | 1u << K_CONTENT)))
			return -1;
		if (!json_is_array(m->params)) {
			/* null -> [], anything else wrapped, as the full
			   reader does */
			if ((arr = json_array()) == NULL ||
			    (m->params != NULL && !json_is_null(m->params) &&
			    json_array_append(arr, m->params) != 0) ||
			    json_array_append_new(s->keep, arr) != 0) {
				json_decref(arr);
				return -1;
			}
			m->params = arr;
		}
		return 0;
	}
	/* RESULT and STATUS: a statusCode; no method or params */
	if (!(seen & (1u << K_CODE)) ||
	    (seen & (1u << K_METHOD | 1u << K_PARAMS)))
		return -1;
	return 0;
}

static int
message_member(struct fscan *s, struct osrfmsg *m, unsigned *seen)
{
	enum fkey	 k;
	long long	 n;
	const char	*t;
	size_t		 i;

	if (key(s, K_TRACE, K_PAYLOAD, &k) != 0 || seen_once(seen, k) != 0)
		return -1;
	switch (k) {
	case K_TRACE:
		if (null(s))
			return 0;
		if (integer(s, LLONG_MIN, LLONG_MAX, &n) != 0)
			return -1;
		m->thread_trace = n;
		return 0;
	case K_API:
		if (null(s))
			return 0;
		if (integer(s, 0, INT_MAX, &n) != 0)
			return -1;
		m->api_level = (int)n;
		return 0;
	case K_LOCALE:
		return opt_str(s, &m->locale);
	case K_TZ:
		return opt_str(s, &m->tz);
	case K_INGRESS:
		return opt_str(s, &m->ingress);
	case K_TYPE:
		if (str(s, &t) != 0)
			return -1;
		for (i = 1; i < ARRAY_LEN(osrfmsg_type_names); i++)
			if (strcmp(t, osrfmsg_type_names[i]) == 0) {
				m->type = (enum osrfmsg_type)i;
				return 0;
			}
		return -1;
	default:	/* K_PAYLOAD */
		return payload(s, m);
	}
}

int
osrfmsg_decode_fast(const char *body, size_t len, struct osrfmsg_list *l)
{
	struct fscan	 s;
	struct osrfmsg	*m;
	const char	*cls;
	size_t		 cap = 4;
	unsigned	 seen;

	memset(l, 0, sizeof(*l));
	if ((l->text = malloc(len + 1)) == NULL)
		return -ENOMEM;
	memcpy(l->text, body, len);
	l->text[len] = '\0';
	s.p = l->text;
	s.end = l->text + len;
	if ((s.keep = json_array()) == NULL ||
	    (l->msg = calloc(cap, sizeof(*l->msg))) == NULL) {
		json_decref(s.keep);
		osrfmsg_list_clear(l);
		return -ENOMEM;
	}
	l->root = s.keep;
	if (eat(&s, '[') != 0)
		goto unsure;
	ws(&s);
	if (s.p < s.end && *s.p == ']') {
		s.p++;
		goto end;
	}
	do {
		if (l->n == OSRFMSG_MAX_PER_BODY)
			goto unsure;
		if (l->n == cap) {
			cap *= 2;
			if ((m = realloc(l->msg, cap * sizeof(*m))) == NULL)
				goto unsure;
			l->msg = m;
		}
		m = &l->msg[l->n];
		memset(m, 0, sizeof(*m));
		if (hint_open(&s, &cls) != 0 ||
		    strcmp(cls, OSRFMSG_C_MESSAGE) != 0 ||
		    members(&s, m, message_member, &seen) != 0 ||
		    eat(&s, '}') != 0)
			goto unsure;
		/* a type; a payload unless CONNECT/DISCONNECT */
		if (m->type == 0 || ((m->type == OSRFMSG_REQUEST ||
		    m->type == OSRFMSG_RESULT || m->type == OSRFMSG_STATUS) &&
		    m->payload_class == NULL))
			goto unsure;
		l->n++;
	} while (eat(&s, ',') == 0);
	if (eat(&s, ']') != 0)
		goto unsure;
end:
	ws(&s);
	if (s.p != s.end)
		goto unsure;
	if (l->n == 0) {
		free(l->msg);
		l->msg = NULL;
	}
	return 0;
unsure:
	osrfmsg_list_clear(l);
	return OSRFMSG_FAST_UNSURE;
}
