/*
 * osrfmsg.c: the OpenSRF message codec of osrfmsg.h.
 *
 * jansson parses, after osrfmsg_fast.c's reader declined the body (it
 * takes the common ones without building a tree); the writer is our own because the C writer's forms
 * cannot be had from json_dumps(): jansson's JSON_ENSURE_ASCII escapes
 * with uppercase hex ("\u00E9") where OpenSRF writes lowercase, and it
 * prints reals with a fixed precision rather than reading back exactly.
 *
 * Layout: tables (types, statuses); the JSON writer; decoding helpers
 * and osrfmsg_decode(); the encoder; class hints; reply builders.
 */
#include "osrfmsg_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* -------------------------------------------------------------- tables */

const char *const osrfmsg_type_names[OSRFMSG_DISCONNECT + 1] = {
	[OSRFMSG_CONNECT] = "CONNECT",
	[OSRFMSG_REQUEST] = "REQUEST",
	[OSRFMSG_RESULT] = "RESULT",
	[OSRFMSG_STATUS] = "STATUS",
	[OSRFMSG_DISCONNECT] = "DISCONNECT",
};

static const struct {
	int		 code;
	const char	*name;
	const char	*text;
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
};

const char *
osrfmsg_type_name(enum osrfmsg_type t)
{
	if ((int)t <= 0 || (size_t)t >= ARRAY_LEN(osrfmsg_type_names))
		return NULL;
	return osrfmsg_type_names[t];
}

const char *
osrfmsg_status_name(int code)
{
	size_t	i;

	for (i = 0; i < ARRAY_LEN(statuses); i++)
		if (statuses[i].code == code)
			return statuses[i].name;
	return NULL;
}

const char *
osrfmsg_status_text(int code)
{
	size_t	i;

	for (i = 0; i < ARRAY_LEN(statuses); i++)
		if (statuses[i].code == code)
			return statuses[i].text;
	return NULL;
}

/* --------------------------------------------------------- JSON writer */

static const char hexdig[] = "0123456789abcdef";

static int
put_u16(struct pbuf *b, unsigned int u)
{
	char	e[6] = { '\\', 'u', hexdig[(u >> 12) & 0xf],
		    hexdig[(u >> 8) & 0xf], hexdig[(u >> 4) & 0xf],
		    hexdig[u & 0xf] };

	return pbuf_add(b, e, sizeof(e));
}

static int
put_string(struct pbuf *b, const char *str, size_t n)
{
	const unsigned char	*s = (const unsigned char *)str, *run;
	size_t			 i = 0, used;
	uint32_t		 cp;
	int			 rc;
	char			 e[2] = { '\\', 0 };

	if ((rc = pbuf_addc(b, '"')) != 0)
		return rc;
	while (i < n) {
		run = s + i;
		while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' &&
		    s[i] != '\\')
			i++;
		if ((rc = pbuf_add(b, run, (size_t)(s + i - run))) != 0)
			return rc;
		if (i == n)
			break;
		if (s[i] >= 0x80) {
			if ((used = utf8_seq(s + i, n - i, &cp)) == 0)
				return -EILSEQ;
			i += used;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				if ((rc = put_u16(b, 0xd800 + (cp >> 10))) != 0)
					return rc;
				cp = 0xdc00 + (cp & 0x3ff);
			}
			if ((rc = put_u16(b, (unsigned int)cp)) != 0)
				return rc;
			continue;
		}
		switch (s[i]) {
		case '"':	e[1] = '"'; break;
		case '\\':	e[1] = '\\'; break;
		case '\n':	e[1] = 'n'; break;
		case '\t':	e[1] = 't'; break;
		case '\r':	e[1] = 'r'; break;
		case '\f':	e[1] = 'f'; break;
		case '\b':	e[1] = 'b'; break;
		default:	e[1] = 0; break;
		}
		rc = e[1] != 0 ? pbuf_add(b, e, 2) : put_u16(b, s[i]);
		if (rc != 0)
			return rc;
		i++;
	}
	return pbuf_addc(b, '"');
}

static int
put_cstring(struct pbuf *b, const char *s)
{
	return put_string(b, s, strlen(s));
}

/* Shortest %g form that reads back to the same double. */
static int
put_real(struct pbuf *b, double v)
{
	char	buf[40];
	int	prec, n = 0;

	if (!isfinite(v))
		return -EDOM;
	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return pbuf_add(b, buf, (size_t)n);
}

static int
put_int(struct pbuf *b, long long v)
{
	char	buf[24];
	int	n;

	n = snprintf(buf, sizeof(buf), "%lld", v);
	return pbuf_add(b, buf, (size_t)n);
}

/* The number as a JSON string: "200". */
static int
put_int_string(struct pbuf *b, long long v)
{
	int	rc;

	if ((rc = pbuf_addc(b, '"')) != 0 || (rc = put_int(b, v)) != 0)
		return rc;
	return pbuf_addc(b, '"');
}

static int
put_json(struct pbuf *b, const json_t *v, int depth)
{
	const char	*key;
	json_t		*x;
	size_t		 i;
	int		 rc, first = 1;

	if (depth > OSRFMSG_MAX_DEPTH)
		return -ELOOP;
	switch (json_typeof(v)) {
	case JSON_NULL:
		return pbuf_add(b, "null", 4);
	case JSON_TRUE:
		return pbuf_add(b, "true", 4);
	case JSON_FALSE:
		return pbuf_add(b, "false", 5);
	case JSON_INTEGER:
		return put_int(b, json_integer_value(v));
	case JSON_REAL:
		return put_real(b, json_real_value(v));
	case JSON_STRING:
		return put_string(b, json_string_value(v),
		    json_string_length(v));
	case JSON_ARRAY:
		if ((rc = pbuf_addc(b, '[')) != 0)
			return rc;
		for (i = 0; i < json_array_size(v); i++) {
			if ((i > 0 && (rc = pbuf_addc(b, ',')) != 0) ||
			    (rc = put_json(b, json_array_get(v, i),
			    depth + 1)) != 0)
				return rc;
		}
		return pbuf_addc(b, ']');
	case JSON_OBJECT:
		if ((rc = pbuf_addc(b, '{')) != 0)
			return rc;
		/* jansson keeps insertion order (2.8 and later). */
		json_object_foreach((json_t *)v, key, x) {
			if ((!first && (rc = pbuf_addc(b, ',')) != 0) ||
			    (rc = put_cstring(b, key)) != 0 ||
			    (rc = pbuf_addc(b, ':')) != 0 ||
			    (rc = put_json(b, x, depth + 1)) != 0)
				return rc;
			first = 0;
		}
		return pbuf_addc(b, '}');
	}
	return -EINVAL;
}

static int
write_fail(struct pbuf *b, size_t saved, int rc, struct proto_err *err)
{
	b->len = saved;
	if (b->data != NULL)
		b->data[saved] = '\0';
	switch (rc) {
	case -EDOM:
		return proto_err_set(err, rc, "not a finite number");
	case -EILSEQ:
		return proto_err_set(err, rc, "string is not UTF-8");
	case -ELOOP:
		return proto_err_set(err, rc, "JSON nested too deep");
	case -ENOMEM:
		return proto_err_set(err, rc, "out of memory");
	default:
		return proto_err_set(err, rc, "cannot encode");
	}
}

int
osrfmsg_json_write(const json_t *v, struct pbuf *b, struct proto_err *err)
{
	size_t	saved = b->len;
	int	rc;

	proto_err_clear(err);
	if (v == NULL)
		rc = pbuf_add(b, "null", 4);
	else
		rc = put_json(b, v, 0);
	return rc != 0 ? write_fail(b, saved, rc, err) : 0;
}

/* ------------------------------------------------------------ decoding */

/* An integer given as a JSON integer, integral real or decimal string. */
static int
get_int(const json_t *v, long long min, long long max, long long *out)
{
	const char	*s;
	char		*end;
	double		 d;
	long long	 n;

	switch (json_typeof(v)) {
	case JSON_INTEGER:
		n = json_integer_value(v);
		break;
	case JSON_REAL:
		d = json_real_value(v);
		if (!(d >= (double)min && d <= (double)max) || d != floor(d))
			return -1;
		n = (long long)d;
		break;
	case JSON_STRING:
		s = json_string_value(v);
		errno = 0;
		n = strtoll(s, &end, 10);
		if (end == s || *end != '\0' || errno != 0)
			return -1;
		break;
	default:
		return -1;
	}
	if (n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* Optional string: absent or null -> NULL; 0, or -1 on a wrong type. */
static int
get_opt_string(const json_t *obj, const char *key, const char **out)
{
	const json_t	*v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	return 0;
}

/* The class and content of a hinted object; an unhinted object: "". */
static json_t *
unhint(json_t *v, const char **cls)
{
	json_t	*c;

	*cls = NULL;
	if (!json_is_object(v))
		return NULL;
	c = json_object_get(v, "__c");
	if (c == NULL) {
		*cls = "";
		return v;
	}
	if (!json_is_string(c))
		return NULL;
	*cls = json_string_value(c);
	return json_object_get(v, "__p");
}

static int
dec_request(json_t *pl, struct osrfmsg *m, size_t idx,
    struct proto_err *err)
{
	json_t	*params, *arr;

	if (get_opt_string(pl, "method", &m->method) != 0 || m->method == NULL)
		return proto_err_set(err, -EPROTO, "message %zu: REQUEST "
		    "without a method string", idx);
	params = json_object_get(pl, "params");
	if (!json_is_array(params)) {
		/* null -> [], anything else wrapped, like the C server. */
		if ((arr = json_array()) == NULL ||
		    (params != NULL && !json_is_null(params) &&
		    json_array_append(arr, params) != 0) ||
		    json_object_set_new(pl, "params", arr) != 0)
			return proto_err_set(err, -ENOMEM, "out of memory");
		params = arr;
	}
	m->params = params;
	return 0;
}

static int
dec_status(json_t *pl, struct osrfmsg *m, size_t idx,
    struct proto_err *err)
{
	json_t		*code;
	long long	 n;

	if (get_opt_string(pl, "status", &m->status) != 0)
		return proto_err_set(err, -EPROTO, "message %zu: status is "
		    "not a string", idx);
	code = json_object_get(pl, "statusCode");
	if (code == NULL || json_is_null(code)) {
		if (m->type == OSRFMSG_STATUS)
			return proto_err_set(err, -EPROTO, "message %zu: "
			    "STATUS without statusCode", idx);
		n = 0;
	} else if (get_int(code, INT_MIN, INT_MAX, &n) != 0)
		return proto_err_set(err, -EPROTO, "message %zu: statusCode "
		    "is not an integer", idx);
	m->status_code = (int)n;
	if (m->type == OSRFMSG_RESULT)
		m->content = json_object_get(pl, "content");
	return 0;
}

static int
dec_payload(json_t *p, struct osrfmsg *m, size_t idx, struct proto_err *err)
{
	json_t		*pl, *raw = json_object_get(p, "payload");
	const char	*cls;

	if (m->type == OSRFMSG_CONNECT || m->type == OSRFMSG_DISCONNECT)
		return 0;
	if (raw == NULL || json_is_null(raw))
		return proto_err_set(err, -EPROTO, "message %zu: %s without "
		    "payload", idx, osrfmsg_type_name(m->type));
	pl = unhint(raw, &cls);
	if (!json_is_object(pl))
		return proto_err_set(err, -EPROTO, "message %zu: payload is "
		    "not an object", idx);
	/* A STATUS is named by its class; the writer needs one too. */
	if (m->type == OSRFMSG_STATUS && cls[0] == '\0')
		return proto_err_set(err, -EPROTO, "message %zu: STATUS "
		    "payload without a class hint", idx);
	m->payload_class = cls;
	if (m->type == OSRFMSG_REQUEST)
		return dec_request(pl, m, idx, err);
	return dec_status(pl, m, idx, err);
}

static int
dec_type(json_t *p, struct osrfmsg *m, size_t idx, struct proto_err *err)
{
	const char	*t;
	size_t		 i;

	if (get_opt_string(p, "type", &t) != 0 || t == NULL)
		return proto_err_set(err, -EPROTO, "message %zu: missing "
		    "type", idx);
	for (i = 1; i < ARRAY_LEN(osrfmsg_type_names); i++)
		if (strcmp(t, osrfmsg_type_names[i]) == 0) {
			m->type = (enum osrfmsg_type)i;
			return 0;
		}
	return proto_err_set(err, -EPROTO, "message %zu: unknown type "
	    "\"%.32s\"", idx, t);
}

static int
dec_message(json_t *p, struct osrfmsg *m, size_t idx, int *have_trace,
    long long *err_trace, struct proto_err *err)
{
	json_t		*v;
	long long	 n;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(p))
		return proto_err_set(err, -EPROTO, "message %zu: osrfMessage "
		    "is not an object", idx);
	if ((v = json_object_get(p, "threadTrace")) != NULL &&
	    !json_is_null(v)) {
		if (get_int(v, LLONG_MIN, LLONG_MAX, &n) != 0)
			return proto_err_set(err, -EPROTO, "message %zu: "
			    "threadTrace is not an integer", idx);
		m->thread_trace = n;
	}
	if (!*have_trace) {
		*have_trace = 1;
		*err_trace = m->thread_trace;
	}
	if ((v = json_object_get(p, "api_level")) != NULL &&
	    !json_is_null(v)) {
		if (get_int(v, 0, INT_MAX, &n) != 0)
			return proto_err_set(err, -EPROTO, "message %zu: "
			    "api_level is not an integer", idx);
		m->api_level = (int)n;
	}
	if (get_opt_string(p, "locale", &m->locale) != 0 ||
	    get_opt_string(p, "tz", &m->tz) != 0 ||
	    get_opt_string(p, "ingress", &m->ingress) != 0)
		return proto_err_set(err, -EPROTO, "message %zu: locale, tz "
		    "or ingress is not a string", idx);
	if (dec_type(p, m, idx, err) != 0)
		return err != NULL ? err->code : -EPROTO;
	return dec_payload(p, m, idx, err);
}

static json_t *
load(const char *body, size_t len, struct proto_err *err)
{
	json_error_t	 je;
	json_t		*root;

	root = json_loadb(body, len, 0, &je);
	/* An integer beyond long long: read numbers as reals instead. */
	if (root == NULL && json_error_code(&je) == json_error_numeric_overflow)
		root = json_loadb(body, len, JSON_DECODE_INT_AS_REAL, &je);
	if (root == NULL) {
		if (json_error_code(&je) == json_error_out_of_memory)
			proto_err_set(err, -ENOMEM, "out of memory");
		else
			proto_err_set(err, -EPROTO, "body is not JSON: %s "
			    "(at byte %d)", je.text, je.position);
	}
	return root;
}

int
osrfmsg_decode(const char *body, size_t len, struct osrfmsg_list *l,
    struct proto_err *err)
{
	int	rc;

	proto_err_clear(err);
	/* the common body without a tree (osrfmsg_fast.c) */
	if ((rc = osrfmsg_decode_fast(body, len, l)) != OSRFMSG_FAST_UNSURE)
		return rc == 0 ? 0 : proto_err_set(err, rc, "out of memory");
	return osrfmsg_decode_full(body, len, l, err);
}

int
osrfmsg_decode_full(const char *body, size_t len, struct osrfmsg_list *l,
    struct proto_err *err)
{
	json_t		*root, *el, *p;
	const char	*cls;
	size_t		 i, n = 0;
	int		 rc = 0, have_trace = 0;

	memset(l, 0, sizeof(*l));
	proto_err_clear(err);
	if ((root = load(body, len, err)) == NULL)
		return err != NULL ? err->code : -EPROTO;
	if (!json_is_array(root)) {
		json_decref(root);
		return proto_err_set(err, -EPROTO, "body is not a JSON array");
	}
	for (i = 0; i < json_array_size(root); i++) {
		p = unhint(json_array_get(root, i), &cls);
		if (cls != NULL && strcmp(cls, OSRFMSG_C_MESSAGE) == 0)
			n++;
	}
	if (n > OSRFMSG_MAX_PER_BODY) {
		json_decref(root);
		return proto_err_set(err, -E2BIG, "%zu messages in one body, "
		    "limit %d", n, OSRFMSG_MAX_PER_BODY);
	}
	if (n > 0 && (l->msg = calloc(n, sizeof(*l->msg))) == NULL) {
		json_decref(root);
		return proto_err_set(err, -ENOMEM, "out of memory");
	}
	l->root = root;
	for (i = 0; i < json_array_size(root) && rc == 0; i++) {
		el = json_array_get(root, i);
		p = unhint(el, &cls);
		/* Not an osrfMessage: skipped, as OpenSRF does. */
		if (cls == NULL || strcmp(cls, OSRFMSG_C_MESSAGE) != 0)
			continue;
		rc = dec_message(p, &l->msg[l->n], i, &have_trace,
		    &l->err_trace, err);
		if (rc == 0)
			l->n++;
	}
	if (rc != 0) {
		n = (size_t)l->err_trace;	/* keep it across the clear */
		osrfmsg_list_clear(l);
		l->err_trace = (long long)n;
		return rc;
	}
	return 0;
}

void
osrfmsg_list_clear(struct osrfmsg_list *l)
{
	free(l->msg);
	json_decref(l->root);
	free(l->text);
	memset(l, 0, sizeof(*l));
}

/* ------------------------------------------------------------ encoding */

/* Append ,"key": */
static int
put_key(struct pbuf *b, const char *key)
{
	int	rc;

	if ((rc = pbuf_add(b, ",\"", 2)) != 0 || (rc = pbuf_adds(b, key)) != 0)
		return rc;
	return pbuf_add(b, "\":", 2);
}

static int
put_opt_string(struct pbuf *b, const char *s)
{
	return s == NULL ? pbuf_add(b, "null", 4) : put_cstring(b, s);
}

static int
enc_payload(const struct osrfmsg *m, struct pbuf *b)
{
	const char	*cls = m->payload_class;
	int		 rc;

	if (m->type == OSRFMSG_REQUEST) {
		if (m->method == NULL)
			return -EINVAL;
		cls = OSRFMSG_C_METHOD;
	} else if (cls == NULL || cls[0] == '\0') {
		if (m->type != OSRFMSG_RESULT)
			return -EINVAL;
		cls = OSRFMSG_C_RESULT;
	}
	if ((rc = put_key(b, "payload")) != 0 ||
	    (rc = pbuf_adds(b, "{\"__c\":")) != 0 ||
	    (rc = put_cstring(b, cls)) != 0 ||
	    (rc = pbuf_adds(b, ",\"__p\":{")) != 0)
		return rc;
	if (m->type == OSRFMSG_REQUEST) {
		if ((rc = pbuf_adds(b, "\"method\":")) != 0 ||
		    (rc = put_cstring(b, m->method)) != 0 ||
		    (rc = put_key(b, "params")) != 0 ||
		    (rc = (m->params != NULL ? put_json(b, m->params, 2) :
		    pbuf_add(b, "[]", 2))) != 0)
			return rc;
	} else {
		if ((rc = pbuf_adds(b, "\"status\":")) != 0 ||
		    (rc = put_opt_string(b, m->status)) != 0 ||
		    (rc = put_key(b, "statusCode")) != 0 ||
		    (rc = put_int_string(b, m->status_code)) != 0)
			return rc;
		if (m->type == OSRFMSG_RESULT &&
		    ((rc = put_key(b, "content")) != 0 ||
		    (rc = (m->content != NULL ? put_json(b, m->content, 2) :
		    pbuf_add(b, "null", 4))) != 0))
			return rc;
	}
	return pbuf_add(b, "}}", 2);
}

static int
enc_one(const struct osrfmsg *m, struct pbuf *b)
{
	const char	*type = osrfmsg_type_name(m->type);
	int		 rc;

	if (type == NULL)
		return -EINVAL;
	if ((rc = pbuf_adds(b, "{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":")) != 0 ||
	    (rc = put_int_string(b, m->thread_trace)) != 0 ||
	    (rc = put_key(b, "locale")) != 0 ||
	    (rc = put_cstring(b, m->locale != NULL ? m->locale :
	    "en-US")) != 0)
		return rc;
	if (m->tz != NULL && ((rc = put_key(b, "tz")) != 0 ||
	    (rc = put_cstring(b, m->tz)) != 0))
		return rc;
	if (m->type == OSRFMSG_REQUEST && ((rc = put_key(b, "ingress")) != 0 ||
	    (rc = put_cstring(b, m->ingress != NULL ? m->ingress :
	    "opensrf")) != 0))
		return rc;
	if (m->api_level != 0 && ((rc = put_key(b, "api_level")) != 0 ||
	    (rc = put_int(b, m->api_level)) != 0))
		return rc;
	if ((rc = put_key(b, "type")) != 0 ||
	    (rc = put_cstring(b, type)) != 0)
		return rc;
	if (m->type != OSRFMSG_CONNECT && m->type != OSRFMSG_DISCONNECT &&
	    (rc = enc_payload(m, b)) != 0)
		return rc;
	return pbuf_add(b, "}}", 2);
}

int
osrfmsg_encode_one(const struct osrfmsg *m, struct pbuf *b,
    struct proto_err *err)
{
	size_t	saved = b->len;
	int	rc;

	proto_err_clear(err);
	if ((rc = enc_one(m, b)) != 0) {
		if (rc == -EINVAL) {
			write_fail(b, saved, rc, NULL);
			return proto_err_set(err, rc, "invalid %s message: "
			    "bad type, or no method or payload class",
			    osrfmsg_type_name(m->type) != NULL ?
			    osrfmsg_type_name(m->type) : "unknown");
		}
		return write_fail(b, saved, rc, err);
	}
	return 0;
}

int
osrfmsg_encode(const struct osrfmsg *m, size_t n, struct pbuf *b,
    struct proto_err *err)
{
	size_t	saved = b->len, i;
	int	rc;

	proto_err_clear(err);
	if ((rc = pbuf_addc(b, '[')) != 0)
		return write_fail(b, saved, rc, err);
	for (i = 0; i < n; i++) {
		if ((i > 0 && (rc = pbuf_addc(b, ',')) != 0) ||
		    (rc = osrfmsg_encode_one(&m[i], b, err)) != 0) {
			b->len = saved;
			b->data[saved] = '\0';
			return rc;
		}
	}
	if ((rc = pbuf_addc(b, ']')) != 0)
		return write_fail(b, saved, rc, err);
	return 0;
}

/* --------------------------------------------------------- class hints */

json_t *
osrfmsg_hint_new(const char *cls, json_t *v)
{
	json_t	*o;

	if (v == NULL)
		v = json_null();
	if ((o = json_object()) == NULL ||
	    json_object_set_new(o, "__c", json_string(cls)) != 0) {
		json_decref(o);
		json_decref(v);
		return NULL;
	}
	/* set_new() consumes v even when it fails. */
	if (json_object_set_new(o, "__p", v) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

const char *
osrfmsg_hint_get(const json_t *obj, json_t **payload)
{
	json_t	*c;

	if (payload != NULL)
		*payload = NULL;
	if (!json_is_object(obj) ||
	    !json_is_string(c = json_object_get(obj, "__c")))
		return NULL;
	if (payload != NULL)
		*payload = json_object_get(obj, "__p");
	return json_string_value(c);
}

/* ------------------------------------------------------------ builders */

static void
reply_init(struct osrfmsg *out, const struct osrfmsg *req,
    enum osrfmsg_type type)
{
	memset(out, 0, sizeof(*out));
	out->type = type;
	if (req != NULL) {
		out->thread_trace = req->thread_trace;
		out->locale = req->locale;
		out->api_level = req->api_level;
	}
}

void
osrfmsg_make_result(struct osrfmsg *out, const struct osrfmsg *req,
    json_t *content)
{
	reply_init(out, req, OSRFMSG_RESULT);
	out->payload_class = OSRFMSG_C_RESULT;
	out->status = "OK";
	out->status_code = OSRFMSG_STATUS_OK;
	out->content = content;
}

void
osrfmsg_make_status(struct osrfmsg *out, const struct osrfmsg *req,
    const char *cls, int code, const char *text)
{
	reply_init(out, req, OSRFMSG_STATUS);
	out->payload_class = cls;
	out->status_code = code;
	out->status = text != NULL ? text : osrfmsg_status_text(code);
}

void
osrfmsg_make_complete(struct osrfmsg *out, const struct osrfmsg *req)
{
	osrfmsg_make_status(out, req, OSRFMSG_C_CONNECT_STATUS,
	    OSRFMSG_STATUS_COMPLETE, "Request Complete");
}

void
osrfmsg_make_connect_ok(struct osrfmsg *out, const struct osrfmsg *req)
{
	osrfmsg_make_status(out, req, OSRFMSG_C_CONNECT_STATUS,
	    OSRFMSG_STATUS_OK, "Connection Successful");
}

void
osrfmsg_make_timeout(struct osrfmsg *out, const struct osrfmsg *req)
{
	osrfmsg_make_status(out, req, OSRFMSG_C_CONNECT_STATUS,
	    OSRFMSG_STATUS_TIMEOUT, "Disconnected on timeout");
	out->thread_trace = 0;
}

void
osrfmsg_make_exception(struct osrfmsg *out, const struct osrfmsg *req,
    int code, const char *text)
{
	osrfmsg_make_status(out, req, OSRFMSG_C_METHOD_EXCEPTION, code, text);
}

void
osrfmsg_make_partial(struct osrfmsg *out, const struct osrfmsg *req,
    json_t *slice)
{
	reply_init(out, req, OSRFMSG_RESULT);
	out->payload_class = OSRFMSG_C_PARTIAL;
	out->status = "Partial Response";
	out->status_code = OSRFMSG_STATUS_PARTIAL;
	out->content = slice;
}

void
osrfmsg_make_partial_complete(struct osrfmsg *out,
    const struct osrfmsg *req)
{
	reply_init(out, req, OSRFMSG_RESULT);
	out->payload_class = OSRFMSG_C_PARTIAL_COMPLETE;
	out->status = "Partial Response Finalized";
	out->status_code = OSRFMSG_STATUS_NOCONTENT;
	out->content = NULL;
}

int
osrfmsg_error_body(const char *req_body, size_t len, int code,
    const char *text, struct pbuf *b)
{
	return osrfmsg_status_body(req_body, len, OSRFMSG_C_METHOD_EXCEPTION,
	    code, text, b);
}

int
osrfmsg_status_body(const char *req_body, size_t len, const char *cls,
    int code, const char *text, struct pbuf *b)
{
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct osrfmsg		*out = NULL, one, req;
	size_t			 i, n = 0, saved = b->len;
	int			 rc;

	if (text == NULL)
		text = code == OSRFMSG_STATUS_SERVICEUNAVAILABLE ?
		    OSRFMSG_T_UNAVAILABLE : osrfmsg_status_text(code);
	if (text == NULL)
		text = "Error";
	if (req_body != NULL &&
	    osrfmsg_decode(req_body, len, &l, NULL) == 0 && l.n > 0 &&
	    (out = calloc(l.n, sizeof(*out))) == NULL) {
		osrfmsg_list_clear(&l);
		return -ENOMEM;
	}
	for (i = 0; i < l.n; i++)
		if (l.msg[i].type == OSRFMSG_REQUEST ||
		    l.msg[i].type == OSRFMSG_CONNECT)
			osrfmsg_make_status(&out[n++], &l.msg[i], cls, code,
			    text);
	if (n == 0) {
		/* nothing to answer one by one: one status still ends the
		 * client's wait, with the best threadTrace known */
		memset(&req, 0, sizeof(req));
		req.thread_trace = l.err_trace;
		osrfmsg_make_status(&one, l.n > 0 ? &l.msg[0] : &req, cls,
		    code, text);
		rc = osrfmsg_encode(&one, 1, b, NULL);
	} else
		rc = osrfmsg_encode(out, n, b, NULL);
	if (rc != 0) {
		b->len = saved;
		if (b->data != NULL)
			b->data[saved] = '\0';
	}
	free(out);
	osrfmsg_list_clear(&l);
	return rc;
}
