/*
 * mpm_reply.c: the parent's own answers to clients: 503 when the backlog
 * is full, and an error status for a request whose child died or was
 * killed by the watchdog (in-flight rescue), so no request is lost
 * silently.  The normal path never comes here: the parent forwards raw
 * bytes and parses a stanza only to answer it.
 */
#include "mpm_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto/osrfmsg.h"
#include "proto/pbuf.h"
#include "scoreboard/sb.h"
#include "proto/tmsg.h"
#include "transport.h"

/* Does the slot show a request of req's session that req does not hold? */
static int
slot_is_later(const struct tmsg *t, const struct osrfmsg_list *l,
    const struct sb_slot_info *si)
{
	size_t	i;

	if (si == NULL || si->thread[0] == '\0' ||
	    strcmp(si->thread, t->thread) != 0)
		return 0;
	for (i = 0; i < l->n; i++)
		if (l->msg[i].thread_trace == (long long)si->thread_trace)
			return 0;
	return 1;
}

static int
build_body(const struct tmsg *t, const struct sb_slot_info *si, int code,
    const char *text, struct pbuf *b)
{
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct osrfmsg		*out = NULL, one;
	size_t			 i, n = 0;
	int			 rc;

	if (text == NULL && si == NULL)
		return osrfmsg_unavailable_body(t->body, strlen(t->body), b);
	if (osrfmsg_decode(t->body, strlen(t->body), &l, NULL) < 0 ||
	    slot_is_later(t, &l, si) || l.n == 0) {
		osrfmsg_make_exception(&one, NULL, code, text);
		one.thread_trace = si != NULL && si->thread[0] != '\0' ?
		    (long long)si->thread_trace : l.err_trace;
		osrfmsg_list_clear(&l);
		return osrfmsg_encode(&one, 1, b, NULL);
	}
	if ((out = calloc(l.n, sizeof(*out))) == NULL) {
		osrfmsg_list_clear(&l);
		return -ENOMEM;
	}
	for (i = 0; i < l.n; i++)
		if (l.msg[i].type == OSRFMSG_REQUEST ||
		    l.msg[i].type == OSRFMSG_CONNECT)
			osrfmsg_make_exception(&out[n++], &l.msg[i], code,
			    text);
	rc = n > 0 ? osrfmsg_encode(out, n, b, NULL) : 0;
	free(out);
	osrfmsg_list_clear(&l);
	return rc;
}

void
mpm_reply_status(struct mpm *m, const struct xstanza *req,
    const struct sb_slot_info *si, int code, const char *text)
{
	struct tmsg	 t = TMSG_INIT, r = TMSG_INIT;
	struct pbuf	 body = { 0 };
	char		*xml = NULL;
	size_t		 len;
	int		 rc;

	if (req != NULL) {
		if ((rc = tmsg_xml_parse(req->raw, req->len, &t, NULL)) < 0) {
			log_warnx("cannot answer a request (%s): %.200s",
			    strerror(-rc), req->raw);
			return;
		}
		r.to = tmsg_reply_to(&t);
		r.thread = t.thread;
		r.osrf_xid = t.osrf_xid;
	} else if (si != NULL && si->client[0] != '\0') {
		t.body = "";
		t.thread = si->thread;
		r.to = si->client;
		r.thread = si->thread;
		r.osrf_xid = si->xid;
	} else {
		log_warnx("a request was lost with its child: nothing "
		    "recorded to answer it with");
		return;
	}
	if (r.to == NULL || *r.to == '\0') {
		log_warnx("cannot answer a request: no sender");
		goto out;
	}
	if ((rc = build_body(&t, si, code, text, &body)) < 0 ||
	    body.len == 0) {
		log_warnx("cannot build the status %d for %s: %s", code, r.to,
		    rc < 0 ? strerror(-rc) : "no request in the body");
		goto out;
	}
	r.from = transport_jid(m->bus);
	r.body = body.data;
	if ((rc = tmsg_xml_write(&r, &xml, &len)) < 0 ||
	    (rc = transport_send(m->bus, xml, len)) < 0)
		log_warnx("sending status %d to %s: %s", code, r.to,
		    strerror(-rc));
	else
		log_info("answered %s (thread %s) with status %d: %s", r.to,
		    r.thread != NULL ? r.thread : "", code,
		    text != NULL ? text : OSRFMSG_T_UNAVAILABLE);
out:
	free(xml);
	pbuf_free(&body);
	if (req != NULL)
		tmsg_clear(&t);
}
