/*
 * rt_session.c: what a child does with a stanza, and the worker_ops the
 * MPM calls.
 *
 * Layout: the per-stanza state machine (CONNECT, REQUEST, DISCONNECT),
 * the connected-session loop, rt_serve(), then the worker (plugin load
 * in the parent, cache and hooks in the child).
 *
 * Session states (spec 3.6):
 *   stateless  a stanza of REQUESTs: each is answered, the child is free
 *              again when the stanza is done.
 *   connected  after CONNECT (answered STATUS 200 from our own JID): the
 *              client's further stanzas come straight to this child's bus
 *              with the same thread; each wait lasts at most `keepalive`
 *              seconds, after which the client gets STATUS 408
 *              "Disconnected on timeout" with threadTrace 0.  DISCONNECT
 *              ends the session without a reply.  Stanzas of other
 *              threads meanwhile are dropped (C drones do the same), and
 *              so are stanzas addressed to anyone but this drone
 *              (bus_addr_mine()): a server may deliver a message for a
 *              vanished drone to another process of the account.
 *
 * The stanza the parent hands over was addressed to the listener and
 * taken off the listener's connection: whether it was meant for the
 * listener is for the listener's bus to tell (the parent does not decode
 * frames), so only what a drone reads off its own connection is checked
 * here.  Whatever the drone is sent that is no request is answered 400
 * where a thread is known (serve_stanza()).
 */
#include "services/runtime/runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cfg.h"
#include "log.h"
#include "proto/osrfmsg.h"
#include "proto/pbuf.h"
#include "proto/tmsg.h"
#include "scoreboard/sb.h"
#include "services/runtime/rt_api.h"
#include "services/runtime/rt_cache.h"
#include "services/runtime/rt_inbox.h"
#include "services/runtime/rt_reply.h"
#include "services/runtime/rt_req.h"
#include "proto/bus.h"

struct sess {
	struct drover_svc	*svc;
	struct bus		*bus;
	struct sb_slot		*slot;
	int			 keepalive;	/* s */
	int			 connected;
	int			 panic;
	int			 served;	/* requests in this stanza */
	int			 refused;	/* 400s sent for what was no
						   request */
	char			*peer;		/* reply-to JID */
	char			*thread;
	char			*xid;
};

static int
replace(char **dst, const char *src)
{
	char	*p;

	if (*dst != NULL && strcmp(*dst, src) == 0)
		return 0;
	if ((p = strdup(src)) == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = p;
	return 0;
}

/* What a slow-request line says instead of a protected method's params. */
static const char params_redacted[] = "**PARAMS REDACTED**";
/*
 * Most bytes of params a slow-request line carries: enough to tell one
 * call from another, short of the log's 8 KiB line limit.
 */
#define RT_SLOW_PARAMS_MAX	2048

/*
 * Are method's params kept out of the log?  OpenSRF's rule: the name
 * starts with one of the <log_protect> strings.
 */
static int
params_protected(const struct drover_svc *svc, const char *method)
{
	size_t	i, n;

	for (i = 0; i < svc->nlog_protect; i++) {
		n = strlen(svc->log_protect[i]);
		if (n > 0 && strncmp(method, svc->log_protect[i], n) == 0)
			return 1;
	}
	return 0;
}

/*
 * A request at or over slow_request_ms (the scoreboard counts the same
 * ones, sb_slot_end_request()): one warning with method, xid, client,
 * time and the params, redacted as OpenSRF does for protected methods.
 */
static void
log_slow(const struct sess *s, const struct osrfmsg *m, uint64_t dur_us)
{
	int		 limit = s->svc->conf != NULL ?
			    s->svc->conf->slow_request_ms : 0;
	struct pbuf	 text = { NULL, 0, 0 };
	const char	*params;

	if (limit <= 0 || dur_us < (uint64_t)limit * 1000)
		return;
	/* written as they came: OpenSRF's JSON form */
	if (params_protected(s->svc, m->method))
		params = params_redacted;
	else if (m->params == NULL)
		params = "[]";
	else if (osrfmsg_json_write(m->params, &text, NULL) < 0 ||
	    text.data == NULL)
		params = "(unprintable)";
	else
		params = text.data;
	log_warnx("slow request: method \"%s\" xid \"%s\" client \"%s\" "
	    "took %llu ms (slow_request_ms %d) params %.*s%s", m->method,
	    s->xid != NULL ? s->xid : "", s->peer,
	    (unsigned long long)(dur_us / 1000), limit, RT_SLOW_PARAMS_MAX,
	    params, strlen(params) > RT_SLOW_PARAMS_MAX ? "..." : "");
	pbuf_free(&text);
}

static int
run_request(struct sess *s, const struct osrfmsg *m)
{
	struct sb_request	 sr;
	struct drover_req	 r;
	struct rt_reply		 reply;
	uint64_t		 t0, dur;
	int			 rc;

	memset(&r, 0, sizeof(r));
	r.svc = s->svc;
	r.method = m->method;
	r.params = m->params;
	r.xid = s->xid;
	r.ingress = m->ingress;
	r.trace = (int)m->thread_trace;
	rt_reply_init(&reply, s->bus, s->peer, s->thread, s->xid, m);
	r.reply = &reply;
	t0 = mono_us();
	if (s->slot != NULL) {
		memset(&sr, 0, sizeof(sr));
		sr.method = m->method;
		sr.client = s->peer;
		sr.thread = s->thread;
		sr.xid = s->xid;
		sr.thread_trace = (uint32_t)m->thread_trace;
		sb_slot_begin_request(s->slot, &sr);
	}
	log_debug("%s: request %s from %s", s->svc->name, m->method, s->peer);
	rc = rt_dispatch(&r);
	rt_reply_free(&reply);
	json_decref(r.atomic);
	if (r.panic)
		s->panic = 1;
	s->served++;
	dur = mono_us() - t0;
	log_slow(s, m, dur);
	if (s->slot != NULL) {
		sb_method_record(s->slot, r.m != NULL ?
		    (unsigned)(r.m - s->svc->methods) : SB_METHOD_OTHER, dur,
		    rc == 0 ? r.status : 500);
		sb_slot_end_request(s->slot, dur, rc == 0 && !r.failed,
		    s->panic ? SB_EXITING : s->connected ? SB_SESSION :
		    SB_IDLE);
	}
	return rc;
}

/*
 * Answer a body that asks for nothing we can serve (not OpenSRF, or no
 * osrfMessage in it), so the client does not wait in vain: 400 through
 * osrfmsg_error_body(), with the best threadTrace it finds.
 */
static int
refuse_body(struct sess *s, const char *body, const char *why)
{
	struct rt_reply	reply;
	struct pbuf	b = { 0 };
	char		text[300];
	int		rc;

	log_warnx("%s: unreadable request from %s: %s", s->svc->name,
	    s->peer, why);
	s->refused++;
	snprintf(text, sizeof(text), "Bad request: %s", why);
	if ((rc = osrfmsg_error_body(body, strlen(body),
	    OSRFMSG_STATUS_BADREQUEST, text, &b)) < 0)
		return rc;
	rt_reply_init(&reply, s->bus, s->peer, s->thread, s->xid, NULL);
	rc = rt_reply_body(&reply, b.data);
	rt_reply_free(&reply);
	pbuf_free(&b);
	return rc;
}

static int
send_one(struct sess *s, const struct osrfmsg *m)
{
	struct rt_reply	reply;
	int		rc;

	rt_reply_init(&reply, s->bus, s->peer, s->thread, s->xid, NULL);
	rc = rt_reply_send(&reply, m);
	rt_reply_free(&reply);
	return rc;
}

/* One message of a body that is no request: 400 with its threadTrace. */
static int
refuse_msg(struct sess *s, const struct osrfmsg *m, const char *why)
{
	struct osrfmsg	out;
	char		text[160];

	log_warnx("%s: %s from %s (threadTrace %lld)", s->svc->name, why,
	    s->peer, m->thread_trace);
	s->refused++;
	snprintf(text, sizeof(text), "Bad request: %s", why);
	osrfmsg_make_exception(&out, m, OSRFMSG_STATUS_BADREQUEST, text);
	return send_one(s, &out);
}

/*
 * One <message> of the session: all its osrfMessages, in order.
 * CONNECT and REQUEST are served, DISCONNECT ends a session.  The rest
 * is no request, yet its sender may be waiting: a RESULT, a DISCONNECT
 * outside a session and a body without any osrfMessage are answered 400.
 * A STATUS alone is dropped with a log line: answering a status with a
 * status could bounce between two processes for ever.
 */
static int
serve_stanza(struct sess *s, const struct tmsg *t)
{
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct proto_err	 err;
	struct osrfmsg		 out;
	size_t			 i;
	int			 rc;

	if ((rc = replace(&s->peer, tmsg_reply_to(t))) < 0 ||
	    (rc = replace(&s->thread, t->thread)) < 0 ||
	    (rc = replace(&s->xid, t->osrf_xid)) < 0)
		return rc;
	log_set_xid(s->xid);
	rc = osrfmsg_decode(t->body, strlen(t->body), &l, &err);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return refuse_body(s, t->body, err.reason);
	if (l.n == 0) {
		osrfmsg_list_clear(&l);		/* it holds the parsed JSON */
		return refuse_body(s, t->body, "no osrfMessage in the body");
	}
	for (i = 0; i < l.n && rc >= 0; i++) {
		switch (l.msg[i].type) {
		case OSRFMSG_CONNECT:
			/* what reached us before the session is not its own */
			(void)rt_inbox_flush(s->svc->inbox, 1);
			osrfmsg_make_connect_ok(&out, &l.msg[i]);
			s->connected = 1;
			rc = send_one(s, &out);
			if (s->slot != NULL)
				sb_slot_set_state(s->slot, SB_SESSION);
			break;
		case OSRFMSG_REQUEST:
			rc = run_request(s, &l.msg[i]);
			break;
		case OSRFMSG_DISCONNECT:
			if (!s->connected) {
				rc = refuse_msg(s, &l.msg[i],
				    "DISCONNECT without a session");
				break;
			}
			s->connected = 0;
			i = l.n;	/* nothing after DISCONNECT counts */
			break;
		case OSRFMSG_RESULT:
			rc = refuse_msg(s, &l.msg[i], "a RESULT sent to a "
			    "service");
			break;
		default:
			log_info("%s: dropping a %s from %s (threadTrace %lld)",
			    s->svc->name, osrfmsg_type_name(l.msg[i].type),
			    s->peer, l.msg[i].thread_trace);
			break;
		}
		if (s->panic)
			s->connected = 0;
	}
	osrfmsg_list_clear(&l);
	return rc;
}

static int
session_loop(struct sess *s)
{
	struct osrfmsg	out;
	struct tmsg	t;
	int		rc;

	while (s->connected && !s->panic) {
		rc = rt_inbox_wait(s->svc->inbox, s->thread,
		    s->keepalive * 1000, &t);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			log_info("%s: session %s idle for %d s, closing",
			    s->svc->name, s->thread, s->keepalive);
			osrfmsg_make_timeout(&out, NULL);
			s->connected = 0;
			return send_one(s, &out);
		}
		if (!bus_addr_mine(s->bus, t.to)) {
			/* delivered here by mistake: never run it */
			log_warnx("%s: session %s: dropping a message for %s "
			    "from %s; this is %s", s->svc->name, s->thread,
			    t.to, t.from, bus_addr(s->bus));
			tmsg_clear(&t);
			continue;
		}
		if (t.is_error) {
			/* our answer bounced: the client is gone */
			log_info("%s: session %s: client %s unreachable",
			    s->svc->name, s->thread, t.from);
			tmsg_clear(&t);
			s->connected = 0;
			return 0;
		}
		rc = serve_stanza(s, &t);
		tmsg_clear(&t);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
rt_serve(struct drover_svc *svc, struct bus *bus, struct sb_slot *slot,
    int keepalive, const char *raw, size_t len)
{
	struct proto_err	err;
	struct tmsg		t = TMSG_INIT;
	struct sess		s;
	int			rc;

	if (svc->inbox == NULL || rt_inbox_bus(svc->inbox) != bus) {
		rt_inbox_free(&svc->inbox);
		if ((svc->inbox = rt_inbox_new(bus)) == NULL)
			return -ENOMEM;
	}
	/* whatever is queued now is stale (late sub-request answers,
	 * messages of a finished session); a CONNECT also clears the bus */
	(void)rt_inbox_flush(svc->inbox, 0);
	if ((rc = bus_decode(bus, raw, len, &t, &err)) < 0) {
		log_warnx("%s: dropping an unreadable message: %s", svc->name,
		    err.reason);
		return WORKER_OK;
	}
	if (t.is_error) {
		log_info("%s: dropping an error stanza from %s (%d)",
		    svc->name, t.from, t.error_code);
		tmsg_clear(&t);
		return WORKER_OK;
	}
	memset(&s, 0, sizeof(s));
	s.svc = svc;
	s.bus = bus;
	s.slot = slot;
	s.keepalive = keepalive > 0 ? keepalive : 5;
	rc = serve_stanza(&s, &t);
	tmsg_clear(&t);
	/* the parent counted the frame accepted: a refused one failed
	 * (scoreboard bookkeeping, sb.h); a served REQUEST counts itself */
	if (slot != NULL && s.served == 0 && s.refused > 0)
		sb_slot_count(slot, SB_C_FAILED, 1);
	if (rc >= 0 && s.connected)
		rc = session_loop(&s);
	if (slot != NULL && s.connected == 0 && !s.panic && s.served == 0)
		sb_slot_set_state(slot, SB_IDLE);
	log_set_xid(NULL);
	free(s.peer);
	free(s.thread);
	free(s.xid);
	if (rc < 0 && rc != -ENOMEM) {
		/* the client did not get its whole answer: the parent, whose
		 * bus may still reach it, sends an error status */
		log_warnx("%s: the reply could not be sent (%s); leaving the "
		    "answer to the listener", svc->name, strerror(-rc));
		return WORKER_UNSENT;
	}
	if (rc < 0)
		return rc;
	return s.panic ? WORKER_EXIT : WORKER_OK;
}

/* ----------------------------------------------------------- worker */

struct rt_worker {
	struct drover_svc	*svc;
	char			*plugindir;
};

struct rt_worker *
rt_worker_new(const char *plugindir)
{
	struct rt_worker	*w;

	if (plugindir == NULL)
		plugindir = getenv("DROVER_PLUGINDIR");
	w = xcalloc(1, sizeof(*w));
	log_debug("runtime: %zu API functions for plugins", rt_api_keep());
	if (plugindir != NULL)
		w->plugindir = xstrdup(plugindir);
	return w;
}

void
rt_worker_free(struct rt_worker **wp)
{
	struct rt_worker	*w = *wp;

	if (w == NULL)
		return;
	if (w->svc != NULL) {
		rt_inbox_free(&w->svc->inbox);
		rt_cache_free(&w->svc->cache);
	}
	rt_svc_free(&w->svc);
	free(w->plugindir);
	free(w);
	*wp = NULL;
}

struct drover_svc *
rt_worker_svc(struct rt_worker *w)
{
	return w->svc;
}

/*
 * The scoreboard's per-method cells, in registration order: a method's
 * cell is its index in svc->methods (run_request()).
 */
static void
publish_methods(const struct drover_svc *svc, struct sb *sb)
{
	const char	**names;
	size_t		  i;
	int		  rc;

	names = xcalloc(svc->nmethods + 1, sizeof(*names));
	for (i = 0; i < svc->nmethods; i++)
		names[i] = svc->methods[i].name;
	if ((rc = sb_methods_set(sb, names, svc->nmethods)) < 0)
		log_warnx("service %s: per-method figures unavailable: %s",
		    svc->name, strerror(-rc));
	else if ((size_t)rc < svc->nmethods)
		log_info("service %s: %zu methods past the first %d are "
		    "counted as \"" SB_METHOD_OTHER_NAME "\"", svc->name,
		    svc->nmethods - (size_t)rc, rc);
	free(names);
}

static int
w_parent_init(void *arg, const struct worker_env *env)
{
	struct rt_worker	*w = arg;
	const struct svc_conf	*sc = env->svc;
	const char		*impl;
	char			 err[RT_ERR_MAX];
	int			 rc;

	impl = sc->implementation != NULL && *sc->implementation != '\0' ?
	    sc->implementation : sc->name;
	rt_svc_free(&w->svc);
	rc = rt_svc_load(sc->name, impl, w->plugindir, &w->svc, err,
	    sizeof(err));
	if (rc < 0) {
		log_warnx("%s", err);
		return rc;
	}
	w->svc->conf = sc;
	w->svc->settings = sc->app_settings;
	if ((rc = rt_svc_init(w->svc)) < 0) {
		log_warnx("service %s: not started (%s)", sc->name,
		    rc == -ECANCELED ? "its init hook failed" : strerror(-rc));
		return rc;
	}
	if (env->sb != NULL)
		publish_methods(w->svc, env->sb);
	log_info("service %s: plugin %s loaded, %zu methods", sc->name,
	    w->svc->path, w->svc->nmethods);
	return 0;
}

static void
open_cache(struct drover_svc *svc, const struct svc_conf *sc)
{
	const char	*prefix;
	int		 rc;

	if (sc->ncache_servers == 0) {
		log_debug("service %s: no cache servers configured",
		    svc->name);
		return;
	}
	prefix = json_string_value(json_object_get(sc->app_settings,
	    "cache_prefix"));
	rc = rt_cache_new(sc->cache_servers, sc->ncache_servers,
	    sc->max_cache_time, prefix, &svc->cache);
	if (rc < 0)
		log_warnx("service %s: cache unusable: %s", svc->name,
		    strerror(-rc));
}

static int
w_child_init(void *arg, struct worker_env *env)
{
	struct rt_worker	*w = arg;
	struct drover_svc	*svc = w->svc;

	svc->in_child = 1;
	/* a SIGHUP in the parent may have replaced (and freed) the
	 * configuration parent_init saw: use the child's own */
	svc->conf = env->svc;
	svc->settings = env->svc->app_settings;
	if (env->core != NULL) {
		svc->log_protect = env->core->log_protect;
		svc->nlog_protect = env->core->nlog_protect;
	}
	open_cache(svc, env->svc);
	if ((svc->inbox = rt_inbox_new(env->bus)) == NULL)
		return -ENOMEM;
	if (svc->desc != NULL && svc->desc->child_init != NULL &&
	    svc->desc->child_init(svc) != 0) {
		log_warnx("service %s: child_init hook of %s failed",
		    svc->name, svc->path);
		return -ECANCELED;
	}
	return 0;
}

static int
w_handle(void *arg, struct worker_env *env, const char *raw, size_t len)
{
	struct rt_worker	*w = arg;

	return rt_serve(w->svc, env->bus, env->slot, env->svc->keepalive,
	    raw, len);
}

static void
w_child_exit(void *arg, struct worker_env *env)
{
	struct rt_worker	*w = arg;

	if (w->svc->desc != NULL && w->svc->desc->child_exit != NULL)
		w->svc->desc->child_exit(w->svc);
	rt_inbox_free(&w->svc->inbox);
	rt_cache_free(&w->svc->cache);
}

void
rt_worker_ops(struct rt_worker *w, struct worker_ops *out)
{
	out->parent_init = w_parent_init;
	out->child_init = w_child_init;
	out->handle = w_handle;
	out->child_exit = w_child_exit;
	out->arg = w;
}
