/*
 * router.c: the routing table and the routing decisions (see router.h).
 *
 * Layout: JID and trust helpers; node and in-flight window; classes and
 * registration; forwarding and bounces; top-level dispatch.
 */
#include "router.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

/* ------------------------------------------------------------ JIDs */

/* opensrf:<kind>:<user>:<domain>[:...]: the fourth field. */
static int
redis_domain(const char *addr, char *buf, size_t bufsz)
{
	const char	*p = addr, *e;
	size_t		 len;
	int		 i;

	for (i = 0; i < 3; i++) {
		if ((p = strchr(p, ':')) == NULL)
			return -EINVAL;
		p++;
	}
	if ((e = strchr(p, ':')) == NULL)
		e = p + strlen(p);
	len = (size_t)(e - p);
	if (len == 0 || len >= bufsz)
		return -EINVAL;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return (int)len;
}

int
router_jid_domain(const char *jid, char *buf, size_t bufsz)
{
	const char	*slash, *at;
	size_t		 len;

	if (bufsz > 0)
		buf[0] = '\0';
	if (jid == NULL || bufsz == 0)
		return -EINVAL;
	if (strncmp(jid, "opensrf:", 8) == 0)
		return redis_domain(jid, buf, bufsz);
	/* RFC 7622: the resource starts at the first '/'; '@' before it. */
	if ((slash = strchr(jid, '/')) == NULL)
		return -EINVAL;
	at = memchr(jid, '@', (size_t)(slash - jid));
	if (at == NULL)
		return -EINVAL;
	len = (size_t)(slash - at - 1);
	if (len == 0 || len >= bufsz)
		return -EINVAL;
	memcpy(buf, at + 1, len);
	buf[len] = '\0';
	return (int)len;
}

int
router_jid_trusted(const char *jid, char *const *list, size_t n)
{
	char	dom[1024];
	size_t	i;

	if (router_jid_domain(jid, dom, sizeof(dom)) <= 0)
		return 0;
	for (i = 0; i < n; i++)
		if (strcasecmp(dom, list[i]) == 0)
			return 1;
	return 0;
}

static char **
strv_dup(char *const *v, size_t n)
{
	char	**out;
	size_t	  i;

	out = xcalloc(n + 1, sizeof(*out));
	for (i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static void
strv_free(char ***vp, size_t n)
{
	size_t	i;

	if (*vp == NULL)
		return;
	for (i = 0; i < n; i++)
		free((*vp)[i]);
	free(*vp);
	*vp = NULL;
}

/* ---------------------------------------------- nodes and windows */

/* Empty slot f of node n (frees the copies, keeps n's byte count). */
static void
inflight_clear(struct router_node *n, struct router_inflight *f)
{
	n->win_bytes -= f->body_len;
	free(f->router_from);
	free(f->osrf_xid);
	free(f->thread);
	free(f->body);
	memset(f, 0, sizeof(*f));
}

static char *
dup_or_empty(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* Remember fwd as sent to n; on allocation failure it is just not kept. */
static void
inflight_push(struct router_node *n, const struct router_fwd *fwd,
    unsigned tries)
{
	struct router_inflight	*f = &n->win[n->win_head];
	size_t			 len;

	inflight_clear(n, f);
	f->router_from = dup_or_empty(fwd->router_from);
	f->osrf_xid = dup_or_empty(fwd->osrf_xid);
	f->thread = dup_or_empty(fwd->thread);
	/* Past the caps the body is not kept: the bounce carries one. */
	len = fwd->body != NULL ? strlen(fwd->body) : 0;
	if (len > 0 && len <= ROUTER_INFLIGHT_BODY_MAX &&
	    n->win_bytes + len <= ROUTER_INFLIGHT_BYTES_MAX &&
	    (f->body = strdup(fwd->body)) != NULL) {
		f->body_len = len;
		n->win_bytes += len;
	}
	if (f->router_from == NULL || f->osrf_xid == NULL ||
	    f->thread == NULL) {
		inflight_clear(n, f);
		return;
	}
	f->tries = tries;
	n->win_head = (n->win_head + 1) % ROUTER_INFLIGHT_MAX;
	if (n->win_n < ROUTER_INFLIGHT_MAX)
		n->win_n++;
}

static int
streq0(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/*
 * Find the window entry a bounce refers to: same thread and osrf_xid,
 * and the same body when the bounce carries one.  Oldest first, since
 * bounces come back in the order the requests were sent.
 *
 * Some servers (prosody) bounce without the original payload: no thread,
 * no body.  Then the newest entry still in the window is taken, which is
 * what OpenSRF retries (the last message); k such bounces from a dead
 * listener take the last k requests sent to it, which are the k that
 * bounced.  -1 if none.
 */
static int
inflight_match(const struct router_node *n, const struct router_msg *m)
{
	unsigned	i, idx;
	int		has_body = m->body != NULL && m->body[0] != '\0';
	int		bare = !has_body && (m->thread == NULL ||
			    m->thread[0] == '\0');

	if (bare) {
		for (i = n->win_n; i > 0; i--) {
			idx = (n->win_head + ROUTER_INFLIGHT_MAX - n->win_n +
			    i - 1) % ROUTER_INFLIGHT_MAX;
			if (n->win[idx].thread != NULL)
				return (int)idx;
		}
		return -1;
	}

	for (i = 0; i < n->win_n; i++) {
		idx = (n->win_head + ROUTER_INFLIGHT_MAX - n->win_n + i) %
		    ROUTER_INFLIGHT_MAX;
		if (n->win[idx].thread == NULL)
			continue;
		if (!streq0(n->win[idx].thread, m->thread) ||
		    !streq0(n->win[idx].osrf_xid, m->osrf_xid))
			continue;
		if (has_body && n->win[idx].body != NULL &&
		    strcmp(n->win[idx].body, m->body) != 0)
			continue;
		return (int)idx;
	}
	return -1;
}

static struct router_node *
node_new(const char *jid)
{
	struct router_node	*n;

	n = xcalloc(1, sizeof(*n));
	n->jid = xstrdup(jid);
	return n;
}

static ssize_t
reg_index(const struct router_node *n, const char *registrant)
{
	size_t	i;

	for (i = 0; i < n->nregs; i++)
		if (strcmp(n->regs[i], registrant) == 0)
			return (ssize_t)i;
	return -1;
}

static void
reg_add(struct router_node *n, const char *registrant)
{
	n->regs = xrealloc(n->regs, (n->nregs + 1) * sizeof(*n->regs));
	n->regs[n->nregs++] = xstrdup(registrant);
}

static void
reg_del(struct router_node *n, size_t i)
{
	free(n->regs[i]);
	n->regs[i] = n->regs[--n->nregs];
}

static void
node_free(struct router_node **np)
{
	struct router_node	*n = *np;
	unsigned		 i;

	if (n == NULL)
		return;
	for (i = 0; i < ROUTER_INFLIGHT_MAX; i++)
		inflight_clear(n, &n->win[i]);
	while (n->nregs > 0)
		reg_del(n, n->nregs - 1);
	free(n->regs);
	free(n->jid);
	free(n);
	*np = NULL;
}

/* ----------------------------------------------------------- classes */

struct router_class *
router_class_find(const struct router *r, const char *name)
{
	size_t	i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < r->nclasses; i++)
		if (strcmp(r->classes[i]->name, name) == 0)
			return r->classes[i];
	return NULL;
}

uint64_t
router_class_node_total(const struct router_class *c)
{
	uint64_t	sum = 0;
	size_t		i;

	for (i = 0; i < c->nnodes; i++)
		sum += c->nodes[i]->forwarded;
	return sum;
}

static ssize_t
node_index(const struct router_class *c, const char *jid)
{
	size_t	i;

	for (i = 0; i < c->nnodes; i++)
		if (strcmp(c->nodes[i]->jid, jid) == 0)
			return (ssize_t)i;
	return -1;
}

static ssize_t
grave_index(const struct router_class *c, const char *jid)
{
	size_t	i;

	for (i = 0; i < ROUTER_GRAVE_MAX; i++)
		if (c->grave[i] != NULL && strcmp(c->grave[i]->jid, jid) == 0)
			return (ssize_t)i;
	return -1;
}

static void
class_free(struct router_class **cp)
{
	struct router_class	*c = *cp;
	size_t			 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nnodes; i++)
		node_free(&c->nodes[i]);
	for (i = 0; i < ROUTER_GRAVE_MAX; i++)
		node_free(&c->grave[i]);
	free(c->nodes);
	free(c->name);
	free(c);
	*cp = NULL;
}

/* Take node i out of the live list, keeping the cursor on its successor. */
static struct router_node *
class_take_node(struct router_class *c, size_t i)
{
	struct router_node	*n = c->nodes[i];

	memmove(&c->nodes[i], &c->nodes[i + 1],
	    (c->nnodes - i - 1) * sizeof(c->nodes[0]));
	c->nnodes--;
	if (i < c->next)
		c->next--;
	if (c->next >= c->nnodes)
		c->next = 0;
	return n;
}

/* Bury n: its window stays matchable for late bounces. */
static void
class_bury(struct router_class *c, struct router_node *n)
{
	/* the dead hold no registration: a comeback registers anew */
	while (n->nregs > 0)
		reg_del(n, n->nregs - 1);
	node_free(&c->grave[c->grave_head]);
	c->grave[c->grave_head] = n;
	c->grave_head = (c->grave_head + 1) % ROUTER_GRAVE_MAX;
}

static void
router_drop_class(struct router *r, struct router_class *c,
    const struct router_io *io)
{
	size_t	i;

	for (i = 0; i < r->nclasses; i++)
		if (r->classes[i] == c)
			break;
	if (i == r->nclasses)
		return;
	log_info("router %s@%s: class %s has no listener left, closing it",
	    r->name, r->domain, c->name);
	if (io != NULL && io->class_close != NULL)
		io->class_close(io->arg, c);
	memmove(&r->classes[i], &r->classes[i + 1],
	    (r->nclasses - i - 1) * sizeof(r->classes[0]));
	r->nclasses--;
	class_free(&c);
}

size_t
router_sender_classes(const struct router *r, const char *registrant)
{
	const struct router_class	*c;
	size_t				 i, j, n = 0;

	for (i = 0; i < r->nclasses; i++) {
		c = r->classes[i];
		for (j = 0; j < c->nnodes; j++)
			if (reg_index(c->nodes[j], registrant) >= 0) {
				n++;
				break;
			}
	}
	return n;
}

int
router_register_as(struct router *r, const char *cls, const char *node,
    const char *registrant, const struct router_io *io)
{
	struct router_class	*c;
	struct router_node	*n;
	ssize_t			 g, i;
	size_t			 j;
	int			 created = 0, held = 0;

	if (cls == NULL || cls[0] == '\0' || strlen(cls) > ROUTER_CLASS_MAX ||
	    strchr(cls, '/') != NULL || node == NULL || node[0] == '\0' ||
	    registrant == NULL || registrant[0] == '\0')
		return -EINVAL;
	c = router_class_find(r, cls);
	if (c != NULL && (i = node_index(c, node)) >= 0) {
		n = c->nodes[i];
		if (reg_index(n, registrant) >= 0) {
			/* it says it is back: believe it */
			if (n->suspended)
				log_info("class %s: %s registered again: "
				    "back in the rotation", cls, node);
			n->suspended = 0;
			n->ping_sent = 0;
			return -EEXIST;
		}
	}
	/* the limits: a new class, and a registrant's new class */
	if (c == NULL && r->max_classes > 0 &&
	    r->nclasses >= r->max_classes)
		return -EDQUOT;
	if (c != NULL)
		for (j = 0; j < c->nnodes && !held; j++)
			held = reg_index(c->nodes[j], registrant) >= 0;
	if (!held && r->max_per_sender > 0 &&
	    router_sender_classes(r, registrant) >= r->max_per_sender)
		return -EDQUOT;
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		c->name = xstrdup(cls);
		if (r->nclasses == r->classes_cap) {
			r->classes_cap = r->classes_cap > 0 ?
			    2 * r->classes_cap : 8;
			r->classes = xrealloc(r->classes,
			    r->classes_cap * sizeof(r->classes[0]));
		}
		r->classes[r->nclasses++] = c;
		created = 1;
	}
	if ((i = node_index(c, node)) >= 0) {
		/* another listener of a shared queue */
		reg_add(c->nodes[i], registrant);
		log_info("router %s@%s: %s registered for %s (%s, %zu "
		    "registrants)", r->name, r->domain, registrant, cls, node,
		    c->nodes[i]->nregs);
		return 0;
	}
	/* A listener that comes back keeps its counters and window. */
	if ((g = grave_index(c, node)) >= 0) {
		n = c->grave[g];
		c->grave[g] = NULL;
	} else
		n = node_new(node);
	reg_add(n, registrant);
	if (c->nnodes == c->nodes_cap) {
		c->nodes_cap = c->nodes_cap ? 2 * c->nodes_cap : 4;
		c->nodes = xrealloc(c->nodes,
		    c->nodes_cap * sizeof(c->nodes[0]));
	}
	c->nodes[c->nnodes++] = n;
	c->empty_since = 0;	/* a lingering class lives on */
	if (strcmp(node, registrant) == 0)
		log_info("router %s@%s: %s registered for %s (%zu listener%s)",
		    r->name, r->domain, node, cls, c->nnodes,
		    c->nnodes == 1 ? "" : "s");
	else
		log_info("router %s@%s: %s registered for %s (%s; %zu "
		    "listener%s)", r->name, r->domain, registrant, cls, node,
		    c->nnodes, c->nnodes == 1 ? "" : "s");
	if (created && io != NULL && io->class_open != NULL)
		io->class_open(io->arg, c);
	return 0;
}

uint64_t
router_pace(uint64_t *next_ms, uint64_t now_ms, unsigned per_second)
{
	uint64_t	at;

	if (per_second == 0)
		return now_ms;
	at = *next_ms > now_ms ? *next_ms : now_ms;
	*next_ms = at + 1000 / per_second + (1000 % per_second != 0);
	return at;
}

int
router_register(struct router *r, const char *cls, const char *jid,
    const struct router_io *io)
{
	return router_register_as(r, cls, jid, jid, io);
}

/* c has no listener left: drop it now, or let it linger (router.h). */
static void
class_emptied(struct router *r, struct router_class *c,
    const struct router_io *io)
{
	if (c->nnodes > 0)
		return;
	if (r->linger_ms == 0) {
		router_drop_class(r, c, io);
		return;
	}
	if (c->empty_since == 0) {
		c->empty_since = r->now_ms != 0 ? r->now_ms : 1;
		log_info("router %s@%s: class %s has no listener left; "
		    "closing it in %u ms unless one registers", r->name,
		    r->domain, c->name, r->linger_ms);
	}
}

int
router_tick(struct router *r, const struct router_io *io)
{
	struct router_class	*c;
	uint64_t		 due, next = 0;
	size_t			 i;

	for (i = 0; i < r->nclasses; ) {
		c = r->classes[i];
		if (c->nnodes > 0 || c->empty_since == 0) {
			i++;
			continue;
		}
		due = c->empty_since + r->linger_ms;
		if (r->now_ms >= due) {
			router_drop_class(r, c, io);	/* shifts the rest */
			continue;
		}
		if (next == 0 || due < next)
			next = due;
		i++;
	}
	return next == 0 ? -1 : (int)(next - r->now_ms);
}

/* Remove a live node; the class goes with its last (class_emptied()). */
static void
class_remove_node(struct router *r, struct router_class *c, size_t i,
    const struct router_io *io)
{
	class_bury(c, class_take_node(c, i));
	class_emptied(r, c, io);
}

int
router_unregister_as(struct router *r, const char *cls, const char *node,
    const char *registrant, const struct router_io *io)
{
	struct router_class	*c;
	struct router_node	*n;
	ssize_t			 i, k;

	if ((c = router_class_find(r, cls)) == NULL)
		return -ENOENT;
	if (node == NULL || (i = node_index(c, node)) < 0)
		return -ENOENT;
	n = c->nodes[i];
	if (registrant == NULL || (k = reg_index(n, registrant)) < 0)
		return -ENOENT;
	reg_del(n, (size_t)k);
	log_info("router %s@%s: %s unregistered from %s", r->name, r->domain,
	    registrant, cls);
	if (n->nregs == 0)
		class_remove_node(r, c, (size_t)i, io);
	return 0;
}

int
router_unregister(struct router *r, const char *cls, const char *jid,
    const struct router_io *io)
{
	return router_unregister_as(r, cls, jid, jid, io);
}

/* ------------------------------------------------------- the router */

int
router_new(const char *name, const char *domain, char *const *servers,
    size_t nservers, char *const *clients, size_t nclients,
    struct router **out)
{
	struct router	*r;

	*out = NULL;
	if (name == NULL || domain == NULL || nservers == 0 || nclients == 0)
		return -EINVAL;
	r = xcalloc(1, sizeof(*r));
	r->name = xstrdup(name);
	r->domain = xstrdup(domain);
	r->max_classes = ROUTER_MAX_CLASSES_DEF;
	r->max_per_sender = ROUTER_MAX_PER_SENDER_DEF;
	r->trusted_servers = strv_dup(servers, nservers);
	r->ntrusted_servers = nservers;
	r->trusted_clients = strv_dup(clients, nclients);
	r->ntrusted_clients = nclients;
	*out = r;
	return 0;
}

int
router_set_trusted(struct router *r, char *const *servers, size_t nservers,
    char *const *clients, size_t nclients)
{
	if (nservers == 0 || nclients == 0)
		return -EINVAL;
	strv_free(&r->trusted_servers, r->ntrusted_servers);
	strv_free(&r->trusted_clients, r->ntrusted_clients);
	r->trusted_servers = strv_dup(servers, nservers);
	r->ntrusted_servers = nservers;
	r->trusted_clients = strv_dup(clients, nclients);
	r->ntrusted_clients = nclients;
	return 0;
}

void
router_free(struct router **rp, const struct router_io *io)
{
	struct router	*r = *rp;
	size_t		 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nclasses; i++) {
		if (io != NULL && io->class_close != NULL)
			io->class_close(io->arg, r->classes[i]);
		class_free(&r->classes[i]);
	}
	free(r->classes);
	strv_free(&r->trusted_servers, r->ntrusted_servers);
	strv_free(&r->trusted_clients, r->ntrusted_clients);
	free(r->name);
	free(r->domain);
	free(r);
	*rp = NULL;
}

/* ------------------------------------------------------------ liveness */

static void
live_ping(struct router *r, struct router_class *c, struct router_node *n,
    const struct router_io *io)
{
	int	rc;

	n->ping_id = ++r->ping_seq;
	n->ping_sent = r->now_ms != 0 ? r->now_ms : 1;
	if ((rc = io->ping(io->arg, c, n->jid, n->ping_id)) < 0)
		log_debug("class %s: cannot ping %s: %s", c->name, n->jid,
		    strerror(-rc));
}

/* A request went to n: ping it if it was not heard from lately. */
static void
live_forwarded(struct router *r, struct router_class *c,
    struct router_node *n, const struct router_io *io)
{
	if (r->ping_ms == 0 || io == NULL || io->ping == NULL ||
	    n->fallback || n->ping_sent != 0)
		return;
	if (n->heard != 0 && r->now_ms - n->heard < r->ping_ms)
		return;
	live_ping(r, c, n, io);
}

int
router_live_tick(struct router *r, const struct router_io *io)
{
	struct router_class	*c;
	struct router_node	*n;
	uint64_t		 now = r->now_ms, due, next = 0;
	size_t			 i, j;

	if (r->ping_ms == 0 || io == NULL || io->ping == NULL)
		return -1;
	for (i = 0; i < r->nclasses; i++) {
		c = r->classes[i];
		for (j = 0; j < c->nnodes; j++) {
			n = c->nodes[j];
			if (n->ping_sent == 0 || !n->answered)
				continue;
			if (!n->suspended) {
				due = n->ping_sent + r->ping_timeout_ms;
				if (now >= due) {
					n->suspended = 1;
					r->suspensions++;
					log_warnx("class %s: listener %s has not "
					    "answered a ping for %u ms: out "
					    "of the rotation", c->name,
					    n->jid, r->ping_timeout_ms);
					due = now + r->ping_ms;
				}
			} else {
				/* again now and then: the first may be lost */
				due = n->ping_sent + r->ping_ms +
				    r->ping_timeout_ms;
				if (now >= due) {
					live_ping(r, c, n, io);
					due = now + r->ping_ms +
					    r->ping_timeout_ms;
				}
			}
			if (next == 0 || due < next)
				next = due;
		}
	}
	return next == 0 ? -1 : next > now ? (int)(next - now) : 0;
}

void
router_live_pong(struct router *r, const char *from, uint32_t id,
    int is_error, const struct router_io *io)
{
	struct router_class	*c;
	struct router_node	*n;
	size_t			 i, j;

	for (i = 0; i < r->nclasses; i++) {
		c = r->classes[i];
		for (j = 0; j < c->nnodes; j++) {
			n = c->nodes[j];
			if (strcmp(n->jid, from) != 0 || n->ping_sent == 0)
				continue;
			if (n->ping_id != id)
				continue;	/* a late one: the next counts */
			n->ping_sent = 0;
			if (is_error) {
				if (!n->answered)
					continue;	/* never could */
				if (++n->ping_errors < ROUTER_PING_ERRORS) {
					if (!n->suspended) {
						n->suspended = 1;
						r->suspensions++;
						log_warnx("class %s: listener %s "
						    "is gone (ping refused): out "
						    "of the rotation", c->name,
						    n->jid);
					}
					continue;
				}
				log_warnx("class %s: listener %s is gone (%u "
				    "pings refused): removing it", c->name,
				    n->jid, n->ping_errors);
				class_remove_node(r, c, j, io);
				return;		/* c may be freed */
			}
			n->ping_errors = 0;
			n->heard = r->now_ms;
			n->answered = 1;
			if (n->suspended) {
				n->suspended = 0;
				log_info("class %s: listener %s answers "
				    "again: back in the rotation", c->name,
				    n->jid);
			}
		}
	}
}

/* ------------------------------------------------ forwarding, bounces */

static void
reject(struct router_class *c, const char *to, const struct router_fwd *fwd,
    enum router_reject why, const struct router_io *io)
{
	c->errors++;
	if (to == NULL || to[0] == '\0')
		return;
	if (io->reject(io->arg, c, to, fwd, why) < 0)
		log_warnx("class %s: could not send the error reply to %s",
		    c->name, to);
}

/*
 * Send fwd to the next live node, round robin.  `tries` counts the
 * listeners it has already been sent to.  Returns 0 or -ENOENT when the
 * class has no node (the caller rejects).
 */
/*
 * The node the next request goes to, round robin from the cursor: the
 * first in the rotation that is no fallback, else the first fallback;
 * suspended nodes never.  -1 when none.
 */
static ssize_t
node_pick(const struct router_class *c)
{
	ssize_t	fb = -1;
	size_t	i, k;

	for (k = 0; k < c->nnodes; k++) {
		i = (c->next + k) % c->nnodes;
		if (c->nodes[i]->suspended)
			continue;
		if (!c->nodes[i]->fallback)
			return (ssize_t)i;
		if (fb < 0)
			fb = (ssize_t)i;
	}
	return fb;
}

/*
 * Send fwd to the next live node, round robin.  `tries` counts the
 * listeners it has already been sent to.  Returns 0 or -ENOENT when the
 * class has no node (the caller rejects).
 */
static void	live_forwarded(struct router *, struct router_class *,
		    struct router_node *, const struct router_io *);

static int
forward_next(struct router *r, struct router_class *c,
    const struct router_fwd *fwd, unsigned tries,
    const struct router_io *io)
{
	struct router_node	*n;
	ssize_t			 i;
	int			 rc;

	if (c->nnodes == 0)
		return -ENOENT;
	if (c->next >= c->nnodes)
		c->next = 0;
	if ((i = node_pick(c)) < 0)
		return -ENOENT;
	n = c->nodes[i];
	c->next = ((size_t)i + 1) % c->nnodes;
	rc = io->forward(io->arg, c, n->jid, fwd);
	/* Remembered even if the send failed: the retry path is the same. */
	inflight_push(n, fwd, tries + 1);
	if (rc == 0) {
		n->forwarded++;
		c->forwarded++;
		if (tries > 0)
			c->retried++;
		live_forwarded(r, c, n, io);
	} else
		log_warnx("class %s: send to %s failed: %s", c->name, n->jid,
		    strerror(-rc));
	return 0;
}

int
router_forward(struct router *r, struct router_class *c,
    const struct router_fwd *fwd, const struct router_io *io)
{
	return forward_next(r, c, fwd, 0, io);
}

size_t
router_class_real_nodes(const struct router_class *c)
{
	size_t	i, n = 0;

	for (i = 0; i < c->nnodes; i++)
		n += !c->nodes[i]->fallback;
	return n;
}

int
router_register_fallback(struct router *r, const char *cls,
    const char *node, const struct router_io *io)
{
	struct router_class	*c;
	unsigned		 per = r->max_per_sender;
	ssize_t			 i;
	int			 rc;

	/* the node is its own registrant: no per-sender limit for it */
	r->max_per_sender = 0;
	rc = router_register_as(r, cls, node, node, io);
	r->max_per_sender = per;
	if (rc == 0 && (c = router_class_find(r, cls)) != NULL &&
	    (i = node_index(c, node)) >= 0)
		c->nodes[i]->fallback = 1;
	return rc;
}

/*
 * A bounce from a node (live or buried).  The request is taken from the
 * node's window or, failing that, from the bounce itself, and sent to
 * the next live node; with none left the client gets an error at once.
 */
static void
class_bounce(struct router *r, struct router_class *c,
    const struct router_msg *m, const struct router_io *io)
{
	struct router_node	*n;
	struct router_fwd	 fwd;
	char			*keep[4] = { NULL, NULL, NULL, NULL };
	unsigned		 tries = 1;
	ssize_t			 i;
	int			 idx, live;

	c->bounces++;
	if ((i = node_index(c, m->from)) >= 0) {
		n = c->nodes[i];
		live = 1;
	} else if ((i = grave_index(c, m->from)) >= 0) {
		n = c->grave[i];
		live = 0;
	} else {
		/* e.g. an error reply of ours bounced by a vanished client */
		log_debug("class %s: bounce from unknown %s ignored", c->name,
		    m->from);
		return;
	}
	if ((idx = inflight_match(n, m)) >= 0) {
		/* Take the copy out of the window: it is ours now. */
		keep[0] = n->win[idx].router_from;
		keep[1] = n->win[idx].osrf_xid;
		keep[2] = n->win[idx].thread;
		keep[3] = n->win[idx].body;
		tries = n->win[idx].tries;
		n->win_bytes -= n->win[idx].body_len;
		memset(&n->win[idx], 0, sizeof(n->win[idx]));
		fwd.router_from = keep[0];
		fwd.osrf_xid = keep[1];
		fwd.thread = keep[2];
		fwd.body = keep[3] != NULL ? keep[3] : m->body;
	} else {
		/* The bounce carries the original children (spec 1.4). */
		fwd.router_from = m->router_from;
		fwd.osrf_xid = m->osrf_xid;
		fwd.thread = m->thread;
		fwd.body = m->body;
	}
	log_info("class %s: listener %s is gone (bounce), %s", c->name,
	    m->from, live ? "removing it" : "already removed");
	if (live) {
		class_bury(c, class_take_node(c, (size_t)i));
		n = NULL;
	}
	if (fwd.router_from == NULL || fwd.router_from[0] == '\0' ||
	    fwd.body == NULL || fwd.body[0] == '\0') {
		log_warnx("class %s: bounce from %s matches no request sent "
		    "and carries none; dropped", c->name, m->from);
		c->errors++;
	} else if (tries >= ROUTER_RETRY_MAX) {
		log_warnx("class %s: request of %s bounced by %u listeners, "
		    "giving up", c->name, fwd.router_from, tries);
		reject(c, fwd.router_from, &fwd, ROUTER_REJECT_RETRIES, io);
	} else if (forward_next(r, c, &fwd, tries, io) < 0) {
		log_warnx("class %s: no listener left for the request of %s",
		    c->name, fwd.router_from);
		reject(c, fwd.router_from, &fwd, ROUTER_REJECT_NO_LISTENER,
		    io);
	}
	for (idx = 0; idx < 4; idx++)
		free(keep[idx]);
	class_emptied(r, c, io);
}

void
router_class_msg(struct router *r, struct router_class *c,
    const struct router_msg *m, const struct router_io *io)
{
	struct router_fwd	fwd;

	if (m->from == NULL || m->from[0] == '\0') {
		r->ignored++;
		return;
	}
	/* Bounces from listeners need the client list too (spec 2.4). */
	if (!router_jid_trusted(m->from, r->trusted_clients,
	    r->ntrusted_clients)) {
		r->ignored++;
		if (m->is_error) {
			log_warnx("class %s: error stanza from untrusted %s "
			    "dropped", c->name, m->from);
			return;
		}
		log_warnx("class %s: request from untrusted %s refused",
		    c->name, m->from);
		fwd.router_from = m->from;
		fwd.osrf_xid = m->osrf_xid;
		fwd.thread = m->thread;
		fwd.body = m->body;
		reject(c, m->from, &fwd, ROUTER_REJECT_UNTRUSTED, io);
		return;
	}
	if (m->is_error) {
		class_bounce(r, c, m, io);
		return;
	}
	/* The sender as the server stamped it; its router_from is ignored. */
	fwd.router_from = m->from;
	fwd.osrf_xid = m->osrf_xid;
	fwd.thread = m->thread;
	fwd.body = m->body;
	if (forward_next(r, c, &fwd, 0, io) < 0)
		reject(c, m->from, &fwd, ROUTER_REJECT_NO_LISTENER, io);
}

/* The node of a registration: the io layer's, or the sender itself. */
static int
node_of(const struct router_msg *m, const struct router_io *io, char *buf,
    size_t bufsz)
{
	const char	*cls = m->router_class != NULL ? m->router_class : "";

	if (io == NULL || io->node_addr == NULL) {
		if (strlen(m->from) >= bufsz)
			return -ENAMETOOLONG;
		str_copy(buf, m->from, bufsz);
		return 0;
	}
	return io->node_addr(io->arg, cls, m->from, buf, bufsz) < 0 ?
	    -EINVAL : 0;
}

enum router_top
router_top_msg(struct router *r, const struct router_msg *m,
    const struct router_io *io)
{
	const char	*cmd = m->router_command;
	char		 node[1024];
	int		 rc;

	if (m->is_error) {
		/* e.g. an API reply bounced by a client that left */
		log_debug("router %s@%s: error stanza from %s ignored",
		    r->name, r->domain, m->from != NULL ? m->from : "?");
		return ROUTER_TOP_IGNORED;
	}
	if (m->from == NULL || !router_jid_trusted(m->from,
	    r->trusted_servers, r->ntrusted_servers)) {
		r->ignored++;
		log_warnx("router %s@%s: %s from untrusted %s ignored",
		    r->name, r->domain,
		    cmd != NULL && cmd[0] != '\0' ? cmd : "request",
		    m->from != NULL ? m->from : "(no sender)");
		return ROUTER_TOP_IGNORED;
	}
	if (cmd == NULL || cmd[0] == '\0') {
		r->api_calls++;
		return ROUTER_TOP_API;
	}
	if (node_of(m, io, node, sizeof(node)) < 0) {
		r->ignored++;
		log_warnx("router %s@%s: %s from %s: no node address for it",
		    r->name, r->domain, cmd, m->from);
		return ROUTER_TOP_IGNORED;
	}
	if (strcmp(cmd, "register") == 0) {
		rc = router_register_as(r, m->router_class, node, m->from, io);
		if (rc == -EEXIST)
			log_debug("%s: already registered for %s", m->from,
			    m->router_class);
		else if (rc == -EDQUOT) {
			r->refused++;
			log_warnx("router %s@%s: registration of %s for \"%.*s\" "
			    "refused: %s (%zu classes, %zu of them %s's)",
			    r->name, r->domain, m->from, ROUTER_CLASS_MAX,
			    m->router_class, router_class_find(r,
			    m->router_class) == NULL && r->max_classes > 0 &&
			    r->nclasses >= r->max_classes ? "max_classes "
			    "reached" : "max_classes_per_sender reached",
			    r->nclasses, router_sender_classes(r, m->from),
			    m->from);
			return ROUTER_TOP_IGNORED;
		} else if (rc < 0) {
			r->ignored++;
			log_warnx("router %s@%s: bad registration from %s "
			    "(class \"%s\")", r->name, r->domain, m->from,
			    m->router_class != NULL ? m->router_class : "");
			return ROUTER_TOP_IGNORED;
		}
		return ROUTER_TOP_REGISTERED;
	}
	if (strcmp(cmd, "unregister") == 0) {
		if (router_unregister_as(r, m->router_class, node, m->from,
		    io) < 0)
			log_debug("%s: unregister from %s: not registered",
			    m->from, m->router_class != NULL ?
			    m->router_class : "");
		return ROUTER_TOP_UNREGISTERED;
	}
	/* srfsh's "query" and anything else: ignored, as OpenSRF does. */
	log_info("router %s@%s: command \"%s\" from %s ignored", r->name,
	    r->domain, cmd, m->from);
	return ROUTER_TOP_IGNORED;
}
