/*
 * router_bridge.c: drover-router between an XMPP and a Redis domain
 * (see router_bridge.h).
 *
 * Layout: sessions (a hash by thread plus a list oldest-first for
 * expiry); what a body says (requests, final statuses); the mirrors of
 * classes; forwarding across; input at the bridge's addresses.
 */
#include "router_bridge.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "osrfmsg.h"
#include "pbuf.h"

/* Initial hash size; it doubles as sessions grow. */
#define RBR_BUCKETS_MIN		256

struct rbr_sess {
	char		*thread;	/* key */
	int		 a;		/* the client's side */
	char		*a_peer;	/* the client's address there */
	char		*b_peer;	/* the drone's on the other, or NULL */
	char		*cls;		/* the class, for logs and re-routes */
	int		 connected;	/* CONNECT went across */
	int		 pending;	/* requests without a final status */
	uint64_t	 used_ms;
	struct rbr_sess	*hnext;		/* hash chain */
	struct rbr_sess	*prev, *next;	/* by use, oldest first */
};

struct router_bridge {
	struct rbr_side	 side[2];
	struct rbr_sess	**hash;
	size_t		 nbuckets;
	size_t		 nsess;
	struct rbr_sess	*oldest, *newest;
	struct rbr_stats st;
	struct pbuf	 body;		/* error bodies */
	struct rbr_sess	*busy;		/* being forwarded across: no way
					   back for it */
	int		 bounced;	/* it came back: answered */
};

/* ------------------------------------------------------------ sessions */

static size_t
hash_str(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (size_t)h;
}

static struct rbr_sess **
slot(struct router_bridge *br, const char *thread)
{
	struct rbr_sess	**pp = &br->hash[hash_str(thread) &
			    (br->nbuckets - 1)];

	while (*pp != NULL && strcmp((*pp)->thread, thread) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

static void
lru_unlink(struct router_bridge *br, struct rbr_sess *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		br->oldest = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		br->newest = s->prev;
	s->prev = s->next = NULL;
}

static void
lru_append(struct router_bridge *br, struct rbr_sess *s)
{
	s->prev = br->newest;
	s->next = NULL;
	if (br->newest != NULL)
		br->newest->next = s;
	else
		br->oldest = s;
	br->newest = s;
}

static void
touch(struct router_bridge *br, struct rbr_sess *s, uint64_t now)
{
	s->used_ms = now;
	lru_unlink(br, s);
	lru_append(br, s);
}

static void
sess_drop(struct router_bridge *br, struct rbr_sess *s)
{
	struct rbr_sess	**pp = slot(br, s->thread);

	if (*pp == s)
		*pp = s->hnext;
	lru_unlink(br, s);
	br->nsess--;
	free(s->thread);
	free(s->a_peer);
	free(s->b_peer);
	free(s->cls);
	free(s);
}

static void
grow(struct router_bridge *br)
{
	struct rbr_sess	**old = br->hash, *s, *n;
	size_t		  oldn = br->nbuckets, i, h;

	br->nbuckets *= 2;
	br->hash = xcalloc(br->nbuckets, sizeof(*br->hash));
	for (i = 0; i < oldn; i++)
		for (s = old[i]; s != NULL; s = n) {
			n = s->hnext;
			h = hash_str(s->thread) & (br->nbuckets - 1);
			s->hnext = br->hash[h];
			br->hash[h] = s;
		}
	free(old);
}

static struct rbr_sess *
sess_find(struct router_bridge *br, const char *thread)
{
	return thread != NULL ? *slot(br, thread) : NULL;
}

/* A new session for thread (an older one of that thread is replaced). */
static struct rbr_sess *
sess_new(struct router_bridge *br, const char *thread, int a,
    const char *client, const char *cls, uint64_t now)
{
	struct rbr_sess	*s, **pp;

	if ((s = sess_find(br, thread)) != NULL)
		sess_drop(br, s);
	if (br->nsess >= RBR_SESSIONS_MAX) {
		log_warnx("bridge: %d sessions: forgetting the oldest (thread "
		    "%s)", RBR_SESSIONS_MAX, br->oldest->thread);
		sess_drop(br, br->oldest);
	}
	if (br->nsess >= br->nbuckets)
		grow(br);
	s = xcalloc(1, sizeof(*s));
	s->thread = xstrdup(thread);
	s->a = a;
	s->a_peer = xstrdup(client);
	s->cls = xstrdup(cls);
	s->used_ms = now;
	pp = slot(br, thread);
	*pp = s;
	lru_append(br, s);
	br->nsess++;
	return s;
}

/* --------------------------------------------------------------- bodies */

/* What a client's body holds: requests, CONNECT, DISCONNECT. */
static void
client_body(const char *body, int *requests, int *connect, int *disconnect)
{
	struct osrfmsg_list	l = OSRFMSG_LIST_INIT;
	size_t			i;

	*requests = *connect = *disconnect = 0;
	if (body == NULL || osrfmsg_decode(body, strlen(body), &l, NULL) < 0)
		return;
	for (i = 0; i < l.n; i++)
		switch (l.msg[i].type) {
		case OSRFMSG_REQUEST:
			++*requests;
			break;
		case OSRFMSG_CONNECT:
			*connect = 1;
			break;
		case OSRFMSG_DISCONNECT:
			*disconnect = 1;
			break;
		default:
			break;
		}
	osrfmsg_list_clear(&l);
}

/*
 * What a drone's body ends: final statuses (anything but 100 Continue
 * and 200, which a CONNECT gets) and whether it is a 408 (the session
 * timed out).
 */
static void
drone_body(const char *body, int *finals, int *timeout)
{
	struct osrfmsg_list	l = OSRFMSG_LIST_INIT;
	size_t			i;
	int			code;

	*finals = *timeout = 0;
	if (body == NULL || osrfmsg_decode(body, strlen(body), &l, NULL) < 0)
		return;
	for (i = 0; i < l.n; i++) {
		if (l.msg[i].type != OSRFMSG_STATUS)
			continue;
		code = l.msg[i].status_code;
		if (code == OSRFMSG_STATUS_TIMEOUT)
			*timeout = 1;
		else if (code != 100 && code != 200)
			++*finals;
	}
	osrfmsg_list_clear(&l);
}

/* ------------------------------------------------------------- mirrors */

int
router_bridge_new(const struct rbr_side *a, const struct rbr_side *b,
    struct router_bridge **out)
{
	struct router_bridge	*br;

	*out = NULL;
	if (a->rt == NULL || b->rt == NULL || a->send == NULL ||
	    b->send == NULL || a->addr == NULL || b->addr == NULL)
		return -EINVAL;
	br = xcalloc(1, sizeof(*br));
	br->side[0] = *a;
	br->side[1] = *b;
	br->nbuckets = RBR_BUCKETS_MIN;
	br->hash = xcalloc(br->nbuckets, sizeof(*br->hash));
	*out = br;
	return 0;
}

void
router_bridge_free(struct router_bridge **bp)
{
	struct router_bridge	*br = *bp;

	if (br == NULL)
		return;
	while (br->oldest != NULL)
		sess_drop(br, br->oldest);
	free(br->hash);
	pbuf_free(&br->body);
	free(br);
	*bp = NULL;
}

int
router_bridge_side(const struct router_bridge *br, const struct router *rt)
{
	return br->side[0].rt == rt ? 0 : br->side[1].rt == rt ? 1 : -1;
}

static int
has_bridge_node(const struct router_class *c)
{
	size_t	i;

	for (i = 0; c != NULL && i < c->nnodes; i++)
		if (strcmp(c->nodes[i]->jid, ROUTER_BRIDGE_NODE) == 0)
			return 1;
	return 0;
}

void
router_bridge_sync(struct router_bridge *br, const char *cls)
{
	struct router_class	*c, *o;
	int			 s, rc;

	if (cls == NULL || *cls == '\0')
		return;
	for (s = 0; s < 2; s++) {
		c = router_class_find(br->side[s].rt, cls);
		o = router_class_find(br->side[!s].rt, cls);
		if (c != NULL && router_class_real_nodes(c) > 0) {
			if (has_bridge_node(o))
				continue;
			rc = router_register_fallback(br->side[!s].rt, cls,
			    ROUTER_BRIDGE_NODE, br->side[!s].io);
			if (rc == 0)
				log_info("bridge: %s is served on %s too, "
				    "across from %s", cls, br->side[!s].name,
				    br->side[s].name);
			else if (rc != -EEXIST)
				log_warnx("bridge: cannot mirror %s on %s: "
				    "%s", cls, br->side[!s].name,
				    strerror(-rc));
		} else if (has_bridge_node(o)) {
			log_info("bridge: %s has left %s: no more across on "
			    "%s", cls, br->side[s].name, br->side[!s].name);
			(void)router_unregister(br->side[!s].rt, cls,
			    ROUTER_BRIDGE_NODE, br->side[!s].io);
		}
	}
}

void
router_bridge_sync_all(struct router_bridge *br)
{
	struct router	*rt;
	char		**names;
	size_t		  n, i, s;

	for (s = 0; s < 2; s++) {
		rt = br->side[s].rt;
		/* sync may add and drop classes: work on a copy of names */
		n = rt->nclasses;
		names = xcalloc(n + 1, sizeof(*names));
		for (i = 0; i < n; i++)
			names[i] = xstrdup(rt->classes[i]->name);
		for (i = 0; i < n; i++) {
			router_bridge_sync(br, names[i]);
			free(names[i]);
		}
		free(names);
	}
}

/* ------------------------------------------------------------- across */

/* Answer a client on side `a` with an error status, as a router does. */
static void
answer(struct router_bridge *br, int a, const char *to, const char *thread,
    const char *xid, const char *req_body, int code, const char *text)
{
	struct tmsg	m = TMSG_INIT;
	int		rc;

	pbuf_reset(&br->body);
	if (osrfmsg_error_body(req_body, req_body != NULL ?
	    strlen(req_body) : 0, code, text, &br->body) < 0)
		return;
	m.to = to;
	m.thread = thread;
	m.osrf_xid = xid;
	m.body = br->body.data;
	if ((rc = br->side[a].send(br->side[a].arg, NULL, &m)) < 0)
		log_warnx("bridge: cannot answer %s on %s: %s", to,
		    br->side[a].name, strerror(-rc));
}

int
router_bridge_forward(struct router_bridge *br, int a,
    const struct router_class *cls, const struct router_fwd *fwd)
{
	struct rbr_side		*B = &br->side[!a];
	struct router_class	*oc;
	struct router_fwd	 f = *fwd;
	struct rbr_sess		*s;
	const char		*me = B->addr(B->arg);
	int			 req, conn, disc, rc;

	if (fwd->thread == NULL || fwd->thread[0] == '\0' ||
	    fwd->router_from == NULL || fwd->router_from[0] == '\0')
		return -EINVAL;
	/*
	 * Across once: if the other side could only send it back (its own
	 * listeners all suspended), the client hears 503 now.
	 */
	if (br->busy != NULL) {
		answer(br, br->busy->a, br->busy->a_peer, fwd->thread,
		    fwd->osrf_xid, fwd->body, 503, "Service unavailable "
		    "across the bridge");
		br->bounced = 1;
		return -ELOOP;
	}
	if (me == NULL || me[0] == '\0' ||
	    (oc = router_class_find(B->rt, cls->name)) == NULL ||
	    router_class_real_nodes(oc) == 0) {
		answer(br, a, fwd->router_from, fwd->thread, fwd->osrf_xid,
		    fwd->body, 503, "Service unavailable across the bridge");
		return -ENOENT;
	}
	client_body(fwd->body, &req, &conn, &disc);
	s = sess_new(br, fwd->thread, a, fwd->router_from, cls->name,
	    mono_ms());
	s->connected = conn;
	s->pending = req;
	/* replies come to the bridge, which knows the client */
	f.router_from = me;
	br->busy = s;
	br->bounced = 0;
	rc = router_forward(B->rt, oc, &f, B->io);
	br->busy = NULL;
	if (br->bounced) {
		sess_drop(br, s);
		return -ELOOP;
	}
	if (rc < 0) {
		answer(br, a, fwd->router_from, fwd->thread, fwd->osrf_xid,
		    fwd->body, 503, "Service unavailable across the bridge");
		sess_drop(br, s);
		return rc;
	}
	br->st.across[a]++;
	return 0;
}

/* ------------------------------------------------------------- input */

void
router_bridge_input(struct router_bridge *br, int side,
    const struct tmsg *m)
{
	struct rbr_side	*in = &br->side[side], *out = &br->side[!side];
	struct rbr_sess	*s;
	struct tmsg	 t = TMSG_INIT;
	uint64_t	 now = mono_ms();
	int		 req, conn, disc, finals, timeout, rc;

	if (!router_jid_trusted(m->from, in->rt->trusted_clients,
	    in->rt->ntrusted_clients)) {
		br->st.dropped++;
		log_warnx("bridge: message from untrusted %s on %s dropped",
		    m->from, in->name);
		return;
	}
	if ((s = sess_find(br, m->thread)) == NULL) {
		br->st.dropped++;
		log_debug("bridge: no session for thread %s from %s",
		    m->thread, m->from);
		return;
	}
	touch(br, s, now);
	t.thread = m->thread;
	t.osrf_xid = m->osrf_xid;
	t.body = m->body;
	if (side == s->a) {
		/* the client's next message: to its drone */
		if (s->b_peer == NULL) {
			answer(br, side, m->from, m->thread, m->osrf_xid,
			    m->body, 503, "No session across the bridge");
			return;
		}
		client_body(m->body, &req, &conn, &disc);
		s->pending += req;
		t.to = s->b_peer;
		rc = out->send(out->arg, NULL, &t);
		if (rc == 0)
			br->st.across[side]++;
		if (disc || rc < 0)
			sess_drop(br, s);
		if (rc < 0)
			answer(br, side, m->from, m->thread, m->osrf_xid,
			    m->body, 503, "Service unavailable across the "
			    "bridge");
		return;
	}
	/* a drone's answer: to the client */
	if (s->b_peer == NULL || strcmp(s->b_peer, m->from) != 0) {
		free(s->b_peer);
		s->b_peer = xstrdup(m->from);
	}
	drone_body(m->body, &finals, &timeout);
	t.to = s->a_peer;
	if ((rc = out->send(out->arg, NULL, &t)) == 0)
		br->st.replies[!side]++;
	else
		log_warnx("bridge: cannot pass an answer to %s on %s: %s",
		    s->a_peer, out->name, strerror(-rc));
	s->pending -= finals;
	if (timeout || (!s->connected && s->pending <= 0))
		sess_drop(br, s);
}

int
router_bridge_tick(struct router_bridge *br, uint64_t now)
{
	struct rbr_sess	*s, *next;

	/*
	 * Oldest first.  Nothing idle less than RBR_IDLE_MS expires, so the
	 * scan ends at the first such; connected sessions younger than
	 * their own limit are stepped over.
	 */
	for (s = br->oldest; s != NULL; s = next) {
		next = s->next;
		if (now - s->used_ms < RBR_IDLE_MS)
			break;
		if (s->connected && now - s->used_ms < RBR_IDLE_CONNECTED_MS)
			continue;
		log_debug("bridge: session %s (%s) forgotten after %llu ms",
		    s->thread, s->cls, (unsigned long long)(now - s->used_ms));
		sess_drop(br, s);
	}
	return br->oldest == NULL ? -1 : 1000;
}

void
router_bridge_stats(const struct router_bridge *br, struct rbr_stats *st)
{
	*st = br->st;
	st->sessions = br->nsess;
}
