/*
 * router_api.c: the opensrf.router.info.* methods and error bodies (see
 * router_api.h).
 *
 * Layout: building the content of each method from the table; answering
 * one decoded message; the body-level entry points.
 */
#include "router_api.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "osrfmsg.h"

/* The methods; `need_class` methods take the class as first param. */
enum api_method {
	API_CLASS_LIST,
	API_CLASS_SUMMARY,
	API_CLASS,
	API_CLASS_ALL,
	API_NODE_ALL,
};

static const struct {
	const char	*name;		/* after ROUTER_API_PREFIX */
	enum api_method	 m;
	int		 need_class;
} api_methods[] = {
	{ "class.list", API_CLASS_LIST, 0 },
	{ "stats.class.summary", API_CLASS_SUMMARY, 1 },
	{ "stats.class", API_CLASS, 1 },
	{ "stats.class.all", API_CLASS_ALL, 0 },
	{ "stats.class.node.all", API_NODE_ALL, 0 },
};

/* {"<node JID>": count, ...} of one class; NULL on ENOMEM. */
static json_t *
class_nodes(const struct router_class *c)
{
	json_t	*o;
	size_t	 i;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < c->nnodes; i++)
		if (json_object_set_new(o, c->nodes[i]->jid,
		    json_integer((json_int_t)c->nodes[i]->forwarded)) < 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

/*
 * The content of method m; class-taking methods get c (non-NULL).
 * New reference or NULL on ENOMEM.
 */
static json_t *
api_content(const struct router *r, enum api_method m,
    const struct router_class *c)
{
	json_t	*v, *x;
	size_t	 i;

	switch (m) {
	case API_CLASS_SUMMARY:
		return json_integer((json_int_t)router_class_node_total(c));
	case API_CLASS:
		return class_nodes(c);
	case API_CLASS_LIST:
		v = json_array();
		break;
	case API_CLASS_ALL:
	case API_NODE_ALL:
	default:
		v = json_object();
		break;
	}
	if (v == NULL)
		return NULL;
	for (i = 0; i < r->nclasses; i++) {
		c = r->classes[i];
		if (c->nnodes == 0)
			continue;	/* lingering (router.h): gone */
		if (m == API_CLASS_LIST)
			x = json_string(c->name);
		else if (m == API_CLASS_ALL)
			x = class_nodes(c);
		else
			x = json_integer(
			    (json_int_t)router_class_node_total(c));
		if (x == NULL || (m == API_CLASS_LIST ?
		    json_array_append_new(v, x) :
		    json_object_set_new(v, c->name, x)) < 0) {
			json_decref(v);
			return NULL;
		}
	}
	return v;
}

/* Encode one message as a whole body and hand it to emit. */
static int
emit_one(const struct osrfmsg *m, router_api_emit emit, void *arg)
{
	struct pbuf	b = { 0 };
	int		rc;

	if ((rc = osrfmsg_encode(m, 1, &b, NULL)) == 0)
		rc = emit(arg, b.data, b.len);
	pbuf_free(&b);
	return rc;
}

static int
emit_exception(const struct osrfmsg *req, int code, const char *text,
    router_api_emit emit, void *arg)
{
	struct osrfmsg	out;

	osrfmsg_make_exception(&out, req, code, text);
	return emit_one(&out, emit, arg);
}

static int
api_request(const struct router *r, const struct osrfmsg *req,
    router_api_emit emit, void *arg)
{
	const struct router_class	*c = NULL;
	struct osrfmsg			 out;
	const char			*name, *cls;
	json_t				*content, *p0;
	char				 text[ROUTER_CLASS_MAX + 64];
	size_t				 i, plen = strlen(ROUTER_API_PREFIX);
	int				 rc;

	name = req->method;
	for (i = 0; i < ARRAY_LEN(api_methods); i++)
		if (strncmp(name, ROUTER_API_PREFIX, plen) == 0 &&
		    strcmp(name + plen, api_methods[i].name) == 0)
			break;
	if (i == ARRAY_LEN(api_methods))
		return emit_exception(req, OSRFMSG_STATUS_NOTFOUND,
		    "Router method not found", emit, arg);
	if (api_methods[i].need_class) {
		p0 = json_array_get(req->params, 0);
		if ((cls = json_string_value(p0)) == NULL)
			return emit_exception(req, OSRFMSG_STATUS_NOTFOUND,
			    "Router method needs a class name parameter",
			    emit, arg);
		if ((c = router_class_find(r, cls)) == NULL ||
		    c->nnodes == 0) {
			snprintf(text, sizeof(text),
			    "Router class not found: %.*s", ROUTER_CLASS_MAX,
			    cls);
			return emit_exception(req, OSRFMSG_STATUS_NOTFOUND,
			    text, emit, arg);
		}
	}
	if ((content = api_content(r, api_methods[i].m, c)) == NULL)
		return -ENOMEM;
	/* OpenSRF's router sends status null and statusCode "0" (9.4). */
	osrfmsg_make_result(&out, req, content);
	out.status = NULL;
	out.status_code = 0;
	rc = emit_one(&out, emit, arg);
	json_decref(content);
	if (rc < 0)
		return rc;
	osrfmsg_make_complete(&out, req);
	return emit_one(&out, emit, arg);
}

int
router_api_answer(const struct router *r, const char *body, size_t len,
    router_api_emit emit, void *arg)
{
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct osrfmsg		 out, req0;
	struct proto_err	 err;
	size_t			 i;
	int			 rc = 0;

	if (osrfmsg_decode(body, len, &l, &err) < 0) {
		log_warnx("router API: undecodable body: %s", err.reason);
		memset(&req0, 0, sizeof(req0));
		req0.thread_trace = l.err_trace;
		osrfmsg_make_exception(&out, &req0, OSRFMSG_STATUS_BADREQUEST,
		    err.reason);
		rc = emit_one(&out, emit, arg);
		osrfmsg_list_clear(&l);
		return rc < 0 ? rc : -EPROTO;
	}
	for (i = 0; i < l.n && rc == 0; i++) {
		switch (l.msg[i].type) {
		case OSRFMSG_CONNECT:
			osrfmsg_make_connect_ok(&out, &l.msg[i]);
			rc = emit_one(&out, emit, arg);
			break;
		case OSRFMSG_REQUEST:
			rc = api_request(r, &l.msg[i], emit, arg);
			break;
		default:
			/* DISCONNECT, RESULT, STATUS: nothing to say */
			break;
		}
	}
	osrfmsg_list_clear(&l);
	return rc;
}
