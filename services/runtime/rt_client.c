/*
 * rt_client.c: OpenSRF client sessions (stateless and connected).
 *
 * Layout: session object, sending (REQUEST, CONNECT, DISCONNECT), the
 * receive side (one stanza's messages applied to the session state),
 * then the drover_client_* and drover_call plugin entry points, which
 * run on the child's inbox.
 */
#include "services/runtime/rt_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proto/osrfmsg.h"
#include "proto/pbuf.h"
#include "proto/tmsg.h"
#include "services/runtime/rt_inbox.h"
#include "services/runtime/rt_req.h"
#include "services/runtime/rt_svc.h"

/* How long a connected session's CONNECT waits by default (OpenSRF: 5 s) */
#define RT_CONNECT_TIMEOUT_MS	5000
/* Results of one request kept before the caller reads them. */
#define RT_CLIENT_QMAX		4096

struct rt_client {
	struct rt_inbox	*ib;
	char		*service_addr;
	char		*remote;	/* service_addr or a drone's JID */
	char		*xid;
	char		*ingress;
	char		 thread[96];
	long long	 trace;		/* last threadTrace used */
	int		 connected;
	int		 busy;		/* a request is outstanding */
	int		 complete;	/* it got its 205 */
	int		 err;		/* it ended with this error */
	int		 status_code;
	char		 status_text[512];
	json_t		*results;	/* queued results of the request */
	struct pbuf	 partial;	/* chunk reassembly */
};

static unsigned long thread_counter;

int
rt_client_new(struct rt_inbox *ib, const char *service_addr, const char *xid,
    const char *ingress, struct rt_client **out)
{
	struct rt_client	*c;

	*out = NULL;
	if (service_addr == NULL || *service_addr == '\0')
		return -EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->ib = ib;
	if ((c->service_addr = strdup(service_addr)) == NULL ||
	    (c->remote = strdup(service_addr)) == NULL ||
	    (c->xid = strdup(xid != NULL ? xid : "")) == NULL ||
	    (ingress != NULL && (c->ingress = strdup(ingress)) == NULL) ||
	    (c->results = json_array()) == NULL) {
		rt_client_free(&c);
		return -ENOMEM;
	}
	/* unique per process and time, like OpenSRF's "<ts>.<epoch><pid>" */
	snprintf(c->thread, sizeof(c->thread), "%.6f.%lu%ld",
	    (double)wall_us() / 1e6, ++thread_counter, (long)getpid());
	*out = c;
	return 0;
}

void
rt_client_free(struct rt_client **cp)
{
	struct rt_client	*c = *cp;

	if (c == NULL)
		return;
	if (c->connected)
		(void)rt_client_disconnect(c);
	free(c->service_addr);
	free(c->remote);
	free(c->xid);
	free(c->ingress);
	json_decref(c->results);
	pbuf_free(&c->partial);
	free(c);
	*cp = NULL;
}

static int
set_remote(struct rt_client *c, const char *jid)
{
	char	*r;

	if (strcmp(c->remote, jid) == 0)
		return 0;
	if ((r = strdup(jid)) == NULL)
		return -ENOMEM;
	free(c->remote);
	c->remote = r;
	return 0;
}

static void
reset_remote(struct rt_client *c)
{
	c->connected = 0;
	(void)set_remote(c, c->service_addr);	/* -ENOMEM keeps old one */
}

static int
send_msg(struct rt_client *c, const struct osrfmsg *m)
{
	struct proto_err	err;
	struct pbuf		body = { 0 };
	struct tmsg		t = TMSG_INIT;
	int			rc;

	if ((rc = osrfmsg_encode(m, 1, &body, &err)) < 0) {
		pbuf_free(&body);
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	t.to = c->remote;
	t.thread = c->thread;
	t.osrf_xid = c->xid;
	t.body = body.data;
	rc = rt_inbox_send(c->ib, &t);
	pbuf_free(&body);
	return rc;
}

static void
start_request(struct rt_client *c)
{
	c->busy = 1;
	c->complete = 0;
	c->err = 0;
	c->status_code = 0;
	c->status_text[0] = '\0';
	json_array_clear(c->results);
	pbuf_reset(&c->partial);
}

int
rt_client_request(struct rt_client *c, const char *method,
    const json_t *params)
{
	struct osrfmsg	m;
	json_t		*empty = NULL;
	int		 rc;

	if (c->busy)
		return -EBUSY;
	if (method == NULL || *method == '\0' ||
	    (params != NULL && !json_is_array(params)))
		return -EINVAL;
	if (!c->connected)
		reset_remote(c);
	if (params == NULL && (params = empty = json_array()) == NULL)
		return -ENOMEM;
	memset(&m, 0, sizeof(m));
	m.type = OSRFMSG_REQUEST;
	m.thread_trace = ++c->trace;
	m.api_level = 1;
	m.locale = "en-US";
	m.ingress = c->ingress;
	m.method = method;
	m.params = (json_t *)params;
	start_request(c);
	rc = send_msg(c, &m);
	json_decref(empty);
	if (rc < 0)
		c->busy = 0;
	return rc;
}

/* Apply one received message of our request to the session. */
static int
apply(struct rt_client *c, const struct osrfmsg *m, const char *from)
{
	json_error_t	 jerr;
	json_t		*v;
	const char	*s;

	if (m->type == OSRFMSG_RESULT) {
		if (m->thread_trace != c->trace)
			return 0;
		if (strcmp(m->payload_class, OSRFMSG_C_PARTIAL) == 0) {
			if ((s = json_string_value(m->content)) == NULL)
				return 0;
			return pbuf_adds(&c->partial, s);
		}
		if (strcmp(m->payload_class, OSRFMSG_C_PARTIAL_COMPLETE) == 0) {
			v = json_loadb(c->partial.data != NULL ?
			    c->partial.data : "", c->partial.len,
			    JSON_DECODE_ANY, &jerr);
			pbuf_reset(&c->partial);
			if (v == NULL) {
				log_warnx("session %s: chunked result is not "
				    "JSON: %s", c->thread, jerr.text);
				return -EPROTO;
			}
		} else
			v = json_incref(m->content != NULL ? m->content :
			    json_null());
		if (json_array_size(c->results) >= RT_CLIENT_QMAX) {
			json_decref(v);
			return -ENOBUFS;
		}
		return json_array_append_new(c->results, v) == 0 ? 0 :
		    -ENOMEM;
	}
	if (m->type != OSRFMSG_STATUS)
		return 0;
	switch (m->status_code) {
	case OSRFMSG_STATUS_OK:
		c->connected = 1;
		return set_remote(c, from);
	case OSRFMSG_STATUS_COMPLETE:
		if (m->thread_trace == c->trace)
			c->complete = 1;
		return 0;
	case OSRFMSG_STATUS_CONTINUE:
		return 0;
	case OSRFMSG_STATUS_TIMEOUT:
		reset_remote(c);
		if (m->thread_trace == 0 && !c->busy)
			return 0;
		break;
	default:
		if (m->thread_trace != c->trace && m->thread_trace != 0)
			return 0;
		if (m->status_code == OSRFMSG_STATUS_EXPFAILED ||
		    m->status_code == OSRFMSG_STATUS_REDIRECTED)
			reset_remote(c);
		break;
	}
	c->status_code = m->status_code;
	snprintf(c->status_text, sizeof(c->status_text), "%s",
	    m->status != NULL ? m->status : "");
	c->err = -EREMOTEIO;
	return 0;
}

/* Wait for one stanza of our thread and apply it. 1, 0 timeout, <0. */
static int
pump(struct rt_client *c, int timeout_ms)
{
	struct proto_err	err;
	struct osrfmsg_list	l = OSRFMSG_LIST_INIT;
	struct tmsg		t;
	size_t			i;
	int			rc;

	if ((rc = rt_inbox_wait(c->ib, c->thread, timeout_ms, &t)) <= 0)
		return rc;
	if (t.is_error) {
		log_info("session %s: bounced by %s (%d %s)", c->thread,
		    t.from, t.error_code, t.error_condition);
		snprintf(c->status_text, sizeof(c->status_text),
		    "message to %s bounced: %s", t.from, t.error_condition);
		c->status_code = t.error_code;
		reset_remote(c);
		tmsg_clear(&t);
		c->err = -EHOSTUNREACH;
		return 1;
	}
	rc = osrfmsg_decode(t.body, strlen(t.body), &l, &err);
	if (rc < 0) {
		log_warnx("session %s: unreadable answer from %s: %s",
		    c->thread, t.from, err.reason);
		tmsg_clear(&t);
		return 1;	/* wait on: maybe the next one is fine */
	}
	for (i = 0; i < l.n && rc >= 0; i++)
		rc = apply(c, &l.msg[i], t.from);
	osrfmsg_list_clear(&l);
	tmsg_clear(&t);
	if (rc < 0)
		c->err = rc;
	return 1;
}

static int
remaining(uint64_t deadline, int timeout_ms)
{
	uint64_t	now;

	if (timeout_ms < 0)
		return -1;
	now = mono_ms();
	return now >= deadline ? 0 : (int)(deadline - now);
}

/*
 * What the current request has for the caller without reading the bus:
 * 1 a result (*out), 0 complete, an error, or -EAGAIN when it needs more
 * input.
 */
static int
take(struct rt_client *c, json_t **out)
{
	if (json_array_size(c->results) > 0) {
		*out = json_incref(json_array_get(c->results, 0));
		(void)json_array_remove(c->results, 0);
		return 1;
	}
	if (c->err != 0) {
		c->busy = 0;
		return c->err;
	}
	if (c->complete) {
		c->busy = 0;
		return 0;
	}
	return c->busy ? -EAGAIN : -EINVAL;
}

int
rt_client_poll(struct rt_client *c, json_t **out)
{
	int	rc;

	*out = NULL;
	for (;;) {
		if ((rc = take(c, out)) != -EAGAIN)
			return rc;
		if ((rc = pump(c, 0)) < 0) {
			c->busy = 0;
			return rc;
		}
		if (rc == 0)
			return -EAGAIN;
	}
}

int
rt_client_recv(struct rt_client *c, int timeout_ms, json_t **out)
{
	uint64_t	deadline = mono_ms() + (uint64_t)(timeout_ms > 0 ?
			    timeout_ms : 0);
	int		rc, left;

	*out = NULL;
	for (;;) {
		if ((rc = take(c, out)) != -EAGAIN)
			return rc;
		left = remaining(deadline, timeout_ms);
		if ((rc = pump(c, left)) < 0) {
			c->busy = 0;
			return rc;
		}
		if (rc == 0) {
			c->busy = 0;
			snprintf(c->status_text, sizeof(c->status_text),
			    "no answer from %s within %d ms", c->remote,
			    timeout_ms);
			return -ETIMEDOUT;
		}
	}
}

int
rt_client_connect(struct rt_client *c, int timeout_ms)
{
	struct osrfmsg	m;
	uint64_t	deadline;
	int		rc;

	if (c->busy)
		return -EBUSY;
	if (timeout_ms < 0)
		timeout_ms = RT_CONNECT_TIMEOUT_MS;
	reset_remote(c);
	memset(&m, 0, sizeof(m));
	m.type = OSRFMSG_CONNECT;
	m.thread_trace = c->trace;
	m.api_level = 1;
	m.locale = "en-US";
	start_request(c);
	c->busy = 0;
	if ((rc = send_msg(c, &m)) < 0)
		return rc;
	deadline = mono_ms() + (uint64_t)timeout_ms;
	while (!c->connected) {
		if (c->err != 0)
			return c->err == -EREMOTEIO ? -ECONNREFUSED : c->err;
		rc = pump(c, remaining(deadline, timeout_ms));
		if (rc < 0)
			return rc;
		if (rc == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

int
rt_client_disconnect(struct rt_client *c)
{
	struct osrfmsg	m;
	int		rc;

	if (!c->connected)
		return 0;
	memset(&m, 0, sizeof(m));
	m.type = OSRFMSG_DISCONNECT;
	m.thread_trace = c->trace;
	m.api_level = 1;
	m.locale = "en-US";
	rc = send_msg(c, &m);
	reset_remote(c);
	return rc;
}

int
rt_client_connected(const struct rt_client *c)
{
	return c->connected;
}

int
rt_client_status(const struct rt_client *c, const char **text)
{
	if (text != NULL)
		*text = c->status_text;
	return c->status_code;
}

const char *
rt_client_remote(const struct rt_client *c)
{
	return c->remote;
}

/* ------------------------------------------------------ plugin API */

struct drover_client {
	struct rt_client	*c;
};

int
drover_client_open(struct drover_svc *s, const char *service,
    struct drover_client **out)
{
	struct drover_client	*dc;
	char			 addr[512];
	const char		*xid = "", *ingress = NULL;
	int			 rc;

	*out = NULL;
	if (service == NULL || *service == '\0')
		return -EINVAL;
	if (s == NULL || s->inbox == NULL)
		return -EPERM;
	if ((rc = rt_svc_addr(s, service, addr, sizeof(addr))) < 0)
		return rc;
	if (s->cur != NULL) {
		xid = s->cur->xid;
		ingress = s->cur->ingress;
	}
	if ((dc = calloc(1, sizeof(*dc))) == NULL)
		return -ENOMEM;
	if ((rc = rt_client_new(s->inbox, addr, xid, ingress, &dc->c)) < 0) {
		free(dc);
		return rc;
	}
	*out = dc;
	return 0;
}

void
drover_client_free(struct drover_client **dcp)
{
	if (*dcp == NULL)
		return;
	rt_client_free(&(*dcp)->c);
	free(*dcp);
	*dcp = NULL;
}

int
drover_client_connect(struct drover_client *dc, int timeout_ms)
{
	return rt_client_connect(dc->c, timeout_ms);
}

int
drover_client_disconnect(struct drover_client *dc)
{
	return rt_client_disconnect(dc->c);
}

int
drover_client_request(struct drover_client *dc, const char *method,
    const json_t *params)
{
	return rt_client_request(dc->c, method, params);
}

int
drover_client_recv(struct drover_client *dc, int timeout_ms, json_t **out)
{
	return rt_client_recv(dc->c, timeout_ms, out);
}

int
drover_client_status(const struct drover_client *dc, const char **text)
{
	return rt_client_status(dc->c, text);
}

int
drover_call(struct drover_svc *s, const char *service, const char *method,
    const json_t *params, int timeout_ms, json_t **out, int *code,
    char **text)
{
	struct drover_client	*dc;
	json_t			*all = NULL, *v;
	const char		*t;
	uint64_t		 deadline;
	int			 rc, n = 0;

	*out = NULL;
	if (code != NULL)
		*code = 0;
	if (text != NULL)
		*text = NULL;
	if ((rc = drover_client_open(s, service, &dc)) < 0)
		return rc;
	if ((rc = drover_client_request(dc, method, params)) < 0)
		goto out;
	if ((all = json_array()) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	deadline = mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	while ((rc = drover_client_recv(dc, remaining(deadline, timeout_ms),
	    &v)) == 1) {
		if (json_array_append_new(all, v) < 0) {
			rc = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (rc == 0) {
		if (n == 0)
			*out = json_null();
		else if (n == 1)
			*out = json_incref(json_array_get(all, 0));
		else
			*out = json_incref(all);
	} else if (rc == -EREMOTEIO) {
		if (code != NULL)
			*code = drover_client_status(dc, &t);
		else
			(void)drover_client_status(dc, &t);
		if (text != NULL)
			*text = strdup(t);
	}
out:
	json_decref(all);
	drover_client_free(&dc);
	return rc;
}
