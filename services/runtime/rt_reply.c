/*
 * rt_reply.c: bundling, chunking and sending a request's answers.
 *
 * Layout: the size rule, the stanza writer (flush), then the entry
 * points that queue RESULT and STATUS messages.  Every message is
 * encoded by proto/osrfmsg (the one codec); this file only decides how
 * encoded messages are grouped into stanzas.
 */
#include "services/runtime/rt_reply.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "proto/bus.h"
#include "proto/tmsg.h"

size_t
rt_reply_escaped_size(const char *text, size_t len)
{
	size_t	i, extra = 0;

	for (i = 0; i < len; i++) {
		switch (text[i]) {
		case '<':
		case '>':
			extra += 3;
			break;
		case '&':
			extra += 4;
			break;
		case '"':
			extra += 11;	/* OpenSRF's allowance, kept as is */
			break;
		default:
			break;
		}
	}
	return len + extra;
}

void
rt_reply_init(struct rt_reply *r, struct bus *bus, const char *to,
    const char *thread, const char *xid, const struct osrfmsg *req)
{
	memset(r, 0, sizeof(*r));
	r->bus = bus;
	r->to = to;
	r->thread = thread;
	r->xid = xid;
	if (req != NULL) {
		r->tmpl.locale = req->locale;
		r->tmpl.api_level = req->api_level;
		r->tmpl.thread_trace = req->thread_trace;
	}
	r->bundle_size = RT_BUNDLE_SIZE;
	r->chunk_size = RT_CHUNK_SIZE;
}

void
rt_reply_free(struct rt_reply *r)
{
	pbuf_free(&r->body);
	pbuf_free(&r->one);
	pbuf_free(&r->text);
}

static int
map_codec_err(int rc)
{
	return rc == -ENOMEM ? -ENOMEM : -EMSGSIZE;
}

/* One stanza to the client with this body. */
static int
send_stanza(struct rt_reply *r, const char *body)
{
	struct tmsg	 m = TMSG_INIT;
	int		 rc;

	m.to = r->to;
	m.thread = r->thread;
	m.osrf_xid = r->xid;
	m.body = body;
	rc = bus_send(r->bus, &m);
	if (rc == -ENOMEM || rc == -EMSGSIZE || rc == -EINVAL)
		return rc == -ENOMEM ? rc : -EMSGSIZE;
	if (rc < 0) {
		log_warnx("reply to %s: send failed: %s", r->to,
		    strerror(-rc));
		return rc;
	}
	r->stanzas++;
	return 0;
}

int
rt_reply_flush(struct rt_reply *r)
{
	int	rc;

	if (r->nmsg == 0)
		return 0;
	if ((rc = pbuf_addc(&r->body, ']')) < 0)
		return rc;
	rc = send_stanza(r, r->body.data);
	pbuf_reset(&r->body);
	r->nmsg = 0;
	return rc;
}

/*
 * Add the message encoded in r->one to the bundle, flushing first if the
 * body would reach bundle_size.  A final status (last) always joins the
 * pending bundle: it is flushed right after anyway (spec 3.5).
 */
static int
bundle_one(struct rt_reply *r, int last)
{
	int	rc;

	if (!last && r->nmsg > 0 && r->body.len + 1 + r->one.len + 1 >=
	    r->bundle_size) {
		if ((rc = rt_reply_flush(r)) < 0)
			return rc;
	}
	if ((rc = pbuf_addc(&r->body, r->nmsg == 0 ? '[' : ',')) < 0 ||
	    (rc = pbuf_add(&r->body, r->one.data, r->one.len)) < 0)
		return rc;
	r->nmsg++;
	return 0;
}

static int
queue_msg(struct rt_reply *r, const struct osrfmsg *m, int last)
{
	struct proto_err	err;
	int			rc;

	pbuf_reset(&r->one);
	if ((rc = osrfmsg_encode_one(m, &r->one, &err)) < 0) {
		log_warnx("reply to %s: cannot encode: %s", r->to,
		    err.reason);
		return map_codec_err(rc);
	}
	return bundle_one(r, last);
}

/* Send the JSON text in r->text as partial slices, each its own stanza. */
static int
send_chunked(struct rt_reply *r)
{
	struct osrfmsg	 m;
	json_t		*slice;
	size_t		 off, n;
	int		 rc;

	if ((rc = rt_reply_flush(r)) < 0)
		return rc;
	for (off = 0; off < r->text.len; off += n) {
		n = r->text.len - off;
		if (n > r->chunk_size)
			n = r->chunk_size;
		/* never cut a UTF-8 sequence: back up to a lead byte */
		while (off + n < r->text.len && n > 1 &&
		    ((unsigned char)r->text.data[off + n] & 0xc0) == 0x80)
			n--;
		slice = json_stringn(r->text.data + off, n);
		if (slice == NULL)
			return -ENOMEM;
		osrfmsg_make_partial(&m, &r->tmpl, slice);
		rc = queue_msg(r, &m, 0);
		json_decref(slice);
		if (rc < 0 || (rc = rt_reply_flush(r)) < 0)
			return rc;
	}
	osrfmsg_make_partial_complete(&m, &r->tmpl);
	if ((rc = queue_msg(r, &m, 0)) < 0)
		return rc;
	return rt_reply_flush(r);
}

int
rt_reply_result(struct rt_reply *r, long long trace, const json_t *content)
{
	struct proto_err	err;
	struct osrfmsg		m;
	int			rc;

	r->tmpl.thread_trace = trace;
	osrfmsg_make_result(&m, &r->tmpl, (json_t *)content);
	pbuf_reset(&r->one);
	if ((rc = osrfmsg_encode_one(&m, &r->one, &err)) < 0) {
		log_warnx("reply to %s: result not writable: %s", r->to,
		    err.reason);
		return map_codec_err(rc);
	}
	/*
	 * The whole message bounds its content: when even the message is
	 * small enough, the content is, and it was encoded only once.
	 */
	if (rt_reply_escaped_size(r->one.data, r->one.len) <= r->chunk_size)
		return bundle_one(r, 0);
	pbuf_reset(&r->text);
	if ((rc = osrfmsg_json_write(content, &r->text, &err)) < 0)
		return map_codec_err(rc);
	if (rt_reply_escaped_size(r->text.data, r->text.len) > r->chunk_size)
		return send_chunked(r);
	return bundle_one(r, 0);	/* r->one still holds the message */
}

int
rt_reply_status(struct rt_reply *r, long long trace, const char *cls,
    int code, const char *text)
{
	struct osrfmsg	m;
	int		rc;

	r->tmpl.thread_trace = trace;
	osrfmsg_make_status(&m, &r->tmpl, cls, code, text);
	if ((rc = queue_msg(r, &m, 1)) < 0)
		return rc;
	return rt_reply_flush(r);
}

int
rt_reply_send(struct rt_reply *r, const struct osrfmsg *m)
{
	int	rc;

	if ((rc = queue_msg(r, m, 1)) < 0)
		return rc;
	return rt_reply_flush(r);
}

int
rt_reply_body(struct rt_reply *r, const char *body)
{
	int	rc;

	if ((rc = rt_reply_flush(r)) < 0)
		return rc;
	return send_stanza(r, body);
}
