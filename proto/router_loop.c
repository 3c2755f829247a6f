/*
 * router_loop.c: drover-router's event loop (see router_loop.h).
 *
 * Layout: connections (struct rconn) and their connector threads; the
 * io callbacks router.c calls (forward, reject, class open/close);
 * stanza dispatch; the status file; the loop itself.
 *
 * Threads: a connector thread owns its rconn's bus from pthread_create()
 * until it writes the rconn pointer to the done pipe (or sets `unheard`);
 * the loop then joins it and owns the bus again.  Nothing else is
 * shared: the thread only calls bus_open() (and logs).
 */
#include "router_loop.h"

#include <sys/epoll.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "log.h"
#include "pbuf.h"
#include "router.h"
#include "osrfmsg.h"
#include "router_api.h"
#include "bus.h"
#include "tmsg.h"

/* epoll_wait batch; events of one batch are handled before reaping. */
#define RL_EVENTS		64
/* Reconnect delay cap when the entry sets none (bus_backoff_ms()). */
#define RL_BACKOFF_MAX_MS	30000
/* Retry delay when a connector thread cannot even be created. */
#define RL_THREAD_RETRY_MS	1000
/* A login that takes longer is abandoned and retried (OpenSRF: 10 s). */
#define RL_OPEN_TIMEOUT_MS	10000
/* The status file is rewritten at most this often. */
#define RL_STATUS_PERIOD_MS	1000

enum rconn_state { RC_DOWN, RC_OPENING, RC_UP };

struct rinst;

struct rconn {
	struct rinst		*ri;
	struct router_class	*cls;		/* NULL: the top-level one */
	char			*jid;		/* name@domain/resource */
	char			*resource;
	struct bus		*t;
	enum rconn_state	 state;
	int			 fd;		/* registered in epoll, or -1 */
	uint64_t		 retry_at;	/* mono ms, when DOWN */
	unsigned		 attempt;	/* failures since last login */
	unsigned		 backoff_ms;	/* current delay, for logs */
	pthread_t		 thr;		/* connector, when OPENING */
	int			 open_rc;	/* connector's result */
	atomic_int		 unheard;	/* the connector finished but
						   could not tell the loop */
	int			 orphan;	/* class gone while OPENING */
	int			 dead;		/* free after this batch */
	int			 corked;	/* sends held for this batch */
	struct rconn		*next;		/* the loop's list */
};

/* One <router> entry. */
struct rinst {
	struct router_loop		*L;
	const struct router_conf	*conf;
	struct router			*rt;
	struct rconn			*top;
	struct router_io		 io;
};

struct router_loop {
	struct router_loop_conf	 c;
	int			 epfd;
	int			 done[2];	/* connector -> loop */
	struct rinst		*inst;
	size_t			 ninst;
	struct rconn		*conns;
	struct pbuf		 body;		/* error body being written */
	uint64_t		 gen;		/* bumped on every change */
	uint64_t		 status_gen;	/* gen last written */
	uint64_t		 status_at;	/* mono ms of next write */
	uint64_t		 started;	/* wall s */
	uint32_t		 rnd;		/* xorshift, for jitter */
	int			 told_up;	/* c.on_up called */
	char			 wake_tag, done_tag;	/* epoll markers */
};

/* ------------------------------------------------------ connections */

static void	rconn_input(struct rconn *);

static void *
connector(void *arg)
{
	struct rconn	*c = arg;
	int		 timeout = c->ri->conf->bus.connect_timeout_ms;

	c->open_rc = bus_open(c->t, timeout > 0 ? timeout :
	    RL_OPEN_TIMEOUT_MS);
	/*
	 * A pointer is far below PIPE_BUF: the write is atomic.  Should it
	 * fail, the loop finds `unheard` on its next timer round.
	 */
	if (write_full(c->ri->L->done[1], &c, sizeof(c)) < 0) {
		log_warn("router: connector pipe for %s", c->jid);
		atomic_store(&c->unheard, 1);
	}
	return NULL;
}

static struct rconn *
rconn_new(struct rinst *ri, struct router_class *cls, const char *resource)
{
	struct router_loop	*L = ri->L;
	struct rconn		*c;
	int			 rc;

	c = xcalloc(1, sizeof(*c));
	c->ri = ri;
	c->cls = cls;
	c->fd = -1;
	c->resource = xstrdup(resource);
	c->jid = xasprintf("%s@%s/%s", ri->conf->bus.username,
	    ri->conf->bus.domain, resource);
	c->state = RC_DOWN;
	c->retry_at = 0;
	if ((rc = L->c.mk(&ri->conf->bus, resource, &c->t)) < 0)
		fatalx("router: cannot make a bus for %s: %s", c->jid,
		    strerror(-rc));
	c->next = L->conns;
	L->conns = c;
	return c;
}

static void
rconn_start_open(struct rconn *c)
{
	sigset_t	all, old;
	int		rc;

	c->state = RC_OPENING;
	atomic_store(&c->unheard, 0);
	/* Signals are for the loop's thread: the connector inherits none. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&c->thr, NULL, connector, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_warnx("router: pthread_create for %s: %s", c->jid,
		    strerror(rc));
		c->state = RC_DOWN;
		c->retry_at = mono_ms() + RL_THREAD_RETRY_MS;
	}
}

static unsigned
backoff_cap(const struct rconn *c)
{
	int	max = c->ri->conf->bus.reconnect_max_ms;

	return max > 0 ? (unsigned)max : RL_BACKOFF_MAX_MS;
}

static uint32_t
loop_rand(struct router_loop *L)
{
	/* xorshift32: jitter needs spread, not secrecy */
	L->rnd ^= L->rnd << 13;
	L->rnd ^= L->rnd >> 17;
	L->rnd ^= L->rnd << 5;
	return L->rnd;
}

/* The bus's doubling delay with jitter. */
static void
rconn_schedule(struct rconn *c)
{
	c->backoff_ms = bus_backoff_ms(c->attempt++, backoff_cap(c),
	    loop_rand(c->ri->L));
	c->state = RC_DOWN;
	c->retry_at = mono_ms() + c->backoff_ms;
}

static void
rconn_unwatch(struct rconn *c)
{
	if (c->fd >= 0 && epoll_ctl(c->ri->L->epfd, EPOLL_CTL_DEL, c->fd,
	    NULL) < 0 && errno != EBADF && errno != ENOENT)
		log_warn("router: epoll_ctl(DEL, %s)", c->jid);
	c->fd = -1;
}

/* The connection broke: close it and try again later. */
static void
rconn_lost(struct rconn *c, int why)
{
	if (c->state != RC_UP)
		return;
	log_warnx("router: connection %s lost (%s), reconnecting", c->jid,
	    strerror(-why));
	rconn_unwatch(c);
	/* held forwards are lost with the connection, as sent ones are */
	c->corked = 0;
	c->ri->L->gen++;
	rconn_schedule(c);
}

/*
 * Forwards are held while a batch of events is handled and written at
 * its end: under load one read brings many requests, and their forwards
 * then cost one system call.
 */
static void
rconn_cork(struct rconn *c)
{
	if (c->state == RC_UP && !c->corked) {
		bus_cork(c->t);
		c->corked = 1;
	}
}

/* Write what is held for c.  0 or -errno (c is then lost). */
static int
rconn_flush(struct rconn *c)
{
	int	rc;

	if (!c->corked || c->state != RC_UP)
		return 0;
	c->corked = 0;
	if ((rc = bus_uncork(c->t)) < 0)
		rconn_lost(c, rc);
	return rc;
}

static void
flush_all(struct router_loop *L)
{
	struct rconn	*c;

	for (c = L->conns; c != NULL; c = c->next)
		(void)rconn_flush(c);	/* a failure is handled (logged) */
}

/* Every entry's top-level connection is up: say so, the first time. */
static void
tops_up(struct router_loop *L)
{
	size_t	i;

	if (L->told_up || L->c.on_up == NULL)
		return;
	for (i = 0; i < L->ninst; i++)
		if (L->inst[i].top->state != RC_UP)
			return;
	L->told_up = 1;
	L->c.on_up(L->c.on_up_arg);
}

/* The connector finished. */
static void
rconn_opened(struct router_loop *L, struct rconn *c)
{
	struct epoll_event	ev;
	int			rc;

	if ((rc = pthread_join(c->thr, NULL)) != 0)
		fatalx("router: pthread_join(%s): %s", c->jid, strerror(rc));
	L->gen++;
	if (c->orphan) {
		/* Its class left while it was logging in. */
		c->dead = 1;
		c->state = RC_DOWN;
		return;
	}
	if (c->open_rc < 0) {
		rconn_schedule(c);
		log_warnx("router: login as %s failed: %s; retry in %u ms",
		    c->jid, strerror(-c->open_rc), c->backoff_ms);
		return;
	}
	c->fd = bus_fd(c->t);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (c->fd < 0 || epoll_ctl(L->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		log_warn("router: epoll_ctl(ADD, %s)", c->jid);
		c->fd = -1;
		bus_free(&c->t);	/* a fresh one logs in again */
		if (L->c.mk(&c->ri->conf->bus, c->resource, &c->t) < 0)
			fatalx("router: cannot make a bus for %s", c->jid);
		rconn_schedule(c);
		return;
	}
	c->state = RC_UP;
	c->attempt = 0;
	log_info("router: logged in as %s", bus_addr(c->t));
	if (c->cls == NULL)
		tops_up(L);
	/* what came with the login's last bytes waits in the bus's buffer,
	 * where epoll does not see it */
	rconn_input(c);
}

/* Stop using c; it is freed at the end of the batch (or when opened). */
static void
rconn_kill(struct rconn *c)
{
	c->cls = NULL;
	if (c->state == RC_OPENING)
		c->orphan = 1;
	else
		c->dead = 1;
}

static void
rconn_free(struct router_loop *L, struct rconn *c)
{
	int	rc;

	if (c->state == RC_OPENING &&
	    (rc = pthread_join(c->thr, NULL)) != 0)
		fatalx("router: pthread_join(%s): %s", c->jid, strerror(rc));
	(void)rconn_flush(c);		/* e.g. a last error reply */
	rconn_unwatch(c);
	bus_free(&c->t);		/* logs out if connected */
	free(c->jid);
	free(c->resource);
	free(c);
	L->gen++;
}

static void
reap_dead(struct router_loop *L)
{
	struct rconn	**pp = &L->conns, *c;

	while ((c = *pp) != NULL) {
		if (c->dead) {
			*pp = c->next;
			rconn_free(L, c);
		} else
			pp = &c->next;
	}
}

/* ------------------------------------------------------ io callbacks */

/* The connection to send from for class cls: its own, else the top. */
static struct rconn *
send_conn(struct rinst *ri, struct router_class *cls)
{
	struct rconn	*c = cls != NULL ? cls->conn : NULL;

	if (c != NULL && c->state == RC_UP)
		return c;
	if (ri->top->state == RC_UP)
		return ri->top;
	return NULL;
}

/* Send m from c (held until the end of the batch, see rconn_cork()). */
static int
send_tmsg(struct rconn *c, struct tmsg *m)
{
	int	rc;

	m->from = NULL;		/* the bus writes ours */
	rconn_cork(c);
	if ((rc = bus_send(c->t, m)) == -ENOTCONN)
		rconn_lost(c, rc);
	else if (rc < 0)
		log_warnx("router: cannot send a message to %s: %s",
		    m->to, strerror(-rc));
	return rc;
}

static int
io_forward(void *arg, struct router_class *cls, const char *to,
    const struct router_fwd *f)
{
	struct rinst	*ri = arg;
	struct rconn	*c;
	struct tmsg	 m = TMSG_INIT;

	ri->L->gen++;
	if ((c = send_conn(ri, cls)) == NULL)
		return -ENOTCONN;
	m.to = to;
	m.router_from = f->router_from;
	m.osrf_xid = f->osrf_xid;
	m.thread = f->thread;
	m.body = f->body;
	return send_tmsg(c, &m);
}

static int
io_reject(void *arg, struct router_class *cls, const char *to,
    const struct router_fwd *f, enum router_reject why)
{
	struct rinst		*ri = arg;
	struct router_loop	*L = ri->L;
	struct rconn		*c;
	struct tmsg		 m = TMSG_INIT;
	char			 text[ROUTER_CLASS_MAX + 96];
	int			 code, rc;

	ri->L->gen++;
	switch (why) {
	case ROUTER_REJECT_UNTRUSTED:
		code = 403;
		snprintf(text, sizeof(text), "Service %s refuses requests "
		    "from this domain", cls->name);
		break;
	case ROUTER_REJECT_RETRIES:
		code = 503;
		snprintf(text, sizeof(text), "Service %s: request bounced by "
		    "every listener tried", cls->name);
		break;
	case ROUTER_REJECT_NO_LISTENER:
	default:
		code = 503;
		snprintf(text, sizeof(text), "Service %s has no listener",
		    cls->name);
		break;
	}
	if ((c = send_conn(ri, cls)) == NULL)
		return -ENOTCONN;
	pbuf_reset(&L->body);
	if ((rc = osrfmsg_error_body(f->body, f->body != NULL ?
	    strlen(f->body) : 0, code, text, &L->body)) < 0)
		return rc;
	/* Both signals of spec 1.4: type="error" and <error code>. */
	m.to = to;
	m.osrf_xid = f->osrf_xid;
	m.thread = f->thread;
	m.body = L->body.data;
	m.is_error = 1;
	m.error_type = "cancel";
	m.error_code = code;
	return send_tmsg(c, &m);
}

static void
io_class_open(void *arg, struct router_class *cls)
{
	struct rinst	*ri = arg;
	struct rconn	*c;

	c = rconn_new(ri, cls, cls->name);
	cls->conn = c;
	rconn_start_open(c);
}

static void
io_class_close(void *arg, struct router_class *cls)
{
	struct rconn	*c = cls->conn;

	cls->conn = NULL;
	if (c != NULL)
		rconn_kill(c);
}

/* ---------------------------------------------------------- stanzas */

struct api_reply {
	struct rconn		*c;
	const struct tmsg	*req;
};

static int
api_emit(void *arg, const char *body, size_t len)
{
	struct api_reply	*a = arg;
	struct tmsg		 m = TMSG_INIT;

	(void)len;		/* body is NUL-terminated */
	m.to = a->req->from;
	m.thread = a->req->thread;
	m.body = body;
	return send_tmsg(a->c, &m);
}

static void
handle_frame(struct rconn *c, const struct bus_frame *x)
{
	struct rinst		*ri = c->ri;
	struct tmsg		 m = TMSG_INIT;
	struct router_msg	 rm;
	struct proto_err	 err;
	struct api_reply	 a;

	if (x->flags & BUS_F_OTHER) {
		log_debug("router: %s: non-message ignored", c->jid);
		return;
	}
	if (bus_decode(c->t, x->raw, x->len, &m, &err) < 0) {
		log_warnx("router: %s: unreadable message dropped: %s",
		    c->jid, err.reason);
		return;
	}
	ri->L->gen++;
	rm.to = m.to;
	rm.from = m.from;
	rm.router_from = m.router_from;
	rm.router_class = m.router_class;
	rm.router_command = m.router_command;
	rm.osrf_xid = m.osrf_xid;
	rm.thread = m.thread;
	rm.body = m.body;
	rm.is_error = m.is_error || (x->flags & BUS_F_ERROR) != 0;
	if (c != ri->top) {
		if (c->cls != NULL)
			router_class_msg(ri->rt, c->cls, &rm, &ri->io);
	} else if (router_top_msg(ri->rt, &rm, &ri->io) == ROUTER_TOP_API) {
		a.c = c;
		a.req = &m;
		if (router_api_answer(ri->rt, m.body, strlen(m.body),
		    api_emit, &a) < 0)
			log_warnx("router: API call from %s not answered "
			    "in full", m.from);
	}
	tmsg_clear(&m);
}

static void
rconn_input(struct rconn *c)
{
	struct bus_frame	*x;
	int			 rc;

	/* Drain: several messages may sit in the bus's buffer. */
	while (!c->dead && c->state == RC_UP) {
		if ((rc = bus_recv(c->t, &x)) == 0)
			break;
		if (rc < 0) {
			rconn_lost(c, rc);
			break;
		}
		handle_frame(c, x);
		bus_frame_free(&x);
	}
}

/* ------------------------------------------------------ status file */

static const char *
state_name(const struct rconn *c)
{
	if (c == NULL)
		return "none";
	switch (c->state) {
	case RC_UP:
		return "up";
	case RC_OPENING:
		return "connecting";
	case RC_DOWN:
	default:
		return "down";
	}
}

static void
status_write_to(struct router_loop *L, FILE *f)
{
	const struct router		*r;
	const struct router_class	*cls;
	size_t				 i, j, k;

	fprintf(f, "drover-router pid %ld started %lld updated %lld\n",
	    (long)getpid(), (long long)L->started, (long long)wall_sec());
	for (i = 0; i < L->ninst; i++) {
		r = L->inst[i].rt;
		fprintf(f, "router %s state %s classes %zu api_calls %llu "
		    "ignored %llu\n", L->inst[i].top->jid,
		    state_name(L->inst[i].top), r->nclasses,
		    (unsigned long long)r->api_calls,
		    (unsigned long long)r->ignored);
		for (j = 0; j < r->nclasses; j++) {
			cls = r->classes[j];
			fprintf(f, "  class %s state %s listeners %zu "
			    "forwarded %llu retried %llu errors %llu "
			    "bounces %llu\n", cls->name, state_name(cls->conn),
			    cls->nnodes, (unsigned long long)cls->forwarded,
			    (unsigned long long)cls->retried,
			    (unsigned long long)cls->errors,
			    (unsigned long long)cls->bounces);
			for (k = 0; k < cls->nnodes; k++)
				fprintf(f, "    listener %s forwarded %llu\n",
				    cls->nodes[k]->jid, (unsigned long long)
				    cls->nodes[k]->forwarded);
		}
	}
}

/* Write to path.tmp, then rename: readers never see half a file. */
static void
status_write(struct router_loop *L)
{
	char	*tmp;
	FILE	*f;
	int	 fd, bad;

	if (L->c.status_path == NULL)
		return;
	tmp = xasprintf("%s.tmp", L->c.status_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		log_warn("router: status file %s", tmp);
		if (fd >= 0)
			fd_close(&fd);
		free(tmp);
		return;
	}
	status_write_to(L, f);
	bad = ferror(f);
	if (fclose(f) != 0 || bad)
		log_warn("router: writing %s", tmp);
	else if (rename(tmp, L->c.status_path) < 0)
		log_warn("router: rename(%s, %s)", tmp, L->c.status_path);
	free(tmp);
	L->status_gen = L->gen;
}

char *
router_status_default_path(void)
{
	const char	*rt = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		return xstrdup("/run/drover-router.status");
	if (rt != NULL && rt[0] == '/')
		return xasprintf("%s/drover-router.status", rt);
	return xasprintf("/tmp/drover-router.%ld.status", (long)geteuid());
}

int
router_status_print(const char *path)
{
	char	 line[4096];
	FILE	*f;
	long	 pid = 0;
	int	 err;

	if ((f = fopen(path, "re")) == NULL) {
		err = errno;
		fprintf(stderr, "drover-router: %s: %s (is the router "
		    "running?)\n", path, strerror(err));
		return -err;
	}
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "drover-router pid %ld", &pid) != 1 || pid <= 0) {
		fprintf(stderr, "drover-router: %s: not a status file\n",
		    path);
		fclose(f);
		return -EINVAL;
	}
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
		fprintf(stderr, "drover-router: %s: written by pid %ld, "
		    "which is not running\n", path, pid);
		fclose(f);
		return -ESRCH;
	}
	fputs(line, stdout);
	while (fgets(line, sizeof(line), f) != NULL)
		fputs(line, stdout);
	fclose(f);
	return fflush(stdout) == 0 ? 0 : -EIO;
}

/* ------------------------------------------------------------- loop */

static void
reload(struct router_loop *L)
{
	struct router_conf	*fresh = NULL;
	size_t			 n = 0, i, j;
	int			 rc;

	if (log_reopen() < 0)
		log_warnx("router: cannot reopen the log file");
	if (L->c.reload_fn == NULL ||
	    L->c.reload_fn(L->c.reload_arg, &fresh, &n) < 0) {
		log_warnx("router: SIGHUP: configuration not reloaded, "
		    "keeping the trusted domains");
		return;
	}
	for (i = 0; i < L->ninst; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(fresh[j].bus.username,
			    L->inst[i].conf->bus.username) == 0 &&
			    strcmp(fresh[j].bus.domain,
			    L->inst[i].conf->bus.domain) == 0)
				break;
		if (j == n) {
			log_warnx("router: SIGHUP: %s no longer configured; "
			    "restart to drop it", L->inst[i].top->jid);
			continue;
		}
		rc = router_set_trusted(L->inst[i].rt,
		    fresh[j].trusted_servers, fresh[j].ntrusted_servers,
		    fresh[j].trusted_clients, fresh[j].ntrusted_clients);
		if (rc < 0)
			log_warnx("router: SIGHUP: %s: empty trusted list, "
			    "kept the old ones", L->inst[i].top->jid);
		else
			log_info("router: SIGHUP: %s: trusted domains "
			    "reloaded (%zu server, %zu client)",
			    L->inst[i].top->jid, fresh[j].ntrusted_servers,
			    fresh[j].ntrusted_clients);
	}
	router_conf_free(&fresh, n);
	L->gen++;
}

/* Milliseconds until the next timer, for epoll_wait. */
static int
next_timeout(struct router_loop *L, uint64_t now)
{
	struct rconn	*c;
	uint64_t	 due = L->status_at;

	for (c = L->conns; c != NULL; c = c->next)
		if (c->state == RC_DOWN && !c->dead && c->retry_at < due)
			due = c->retry_at;
	return due <= now ? 0 : (int)(due - now);
}

static void
run_timers(struct router_loop *L, uint64_t now)
{
	struct rconn	*c;

	for (c = L->conns; c != NULL; c = c->next) {
		if (c->state == RC_DOWN && !c->dead && c->retry_at <= now)
			rconn_start_open(c);
		else if (c->state == RC_OPENING && atomic_load(&c->unheard))
			rconn_opened(L, c);	/* its pipe write failed */
	}
	if (now >= L->status_at) {
		if (L->gen != L->status_gen)
			status_write(L);
		L->status_at = now + RL_STATUS_PERIOD_MS;
	}
}

static void
drain_done(struct router_loop *L)
{
	struct rconn	*c;
	ssize_t		 n;

	while ((n = read(L->done[0], &c, sizeof(c))) == sizeof(c))
		rconn_opened(L, c);
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		fatal("router: read(connector pipe)");
}

static void
drain_wake(int fd)
{
	char	buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		continue;
}

static int
watch(struct router_loop *L, int fd, void *tag)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = tag;
	return epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int
router_loop_new(const struct router_loop_conf *conf, struct router_loop **out)
{
	struct router_loop		*L;
	struct rinst			*ri;
	const struct router_conf	*e;
	size_t				 i, j;
	int				 rc;

	*out = NULL;
	xmlInitParser();	/* before any connector thread uses libxml2 */
	L = xcalloc(1, sizeof(*L));
	L->c = *conf;
	L->done[0] = L->done[1] = -1;
	L->started = (uint64_t)wall_sec();
	L->rnd = (uint32_t)getpid() * 2654435761u ^ (uint32_t)mono_us();
	if (L->rnd == 0)
		L->rnd = 1;
	if ((L->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		rc = -errno;
		log_err("router: epoll_create1");
		goto fail;
	}
	if (pipe2(L->done, O_CLOEXEC) < 0) {
		rc = -errno;
		log_err("router: pipe2");
		goto fail;
	}
	if ((rc = fd_set_nonblock(L->done[0])) < 0 ||
	    (rc = watch(L, L->done[0], &L->done_tag)) < 0 ||
	    (conf->wake_fd >= 0 &&
	    (rc = watch(L, conf->wake_fd, &L->wake_tag)) < 0)) {
		log_errx("router: cannot watch the loop's pipes: %s",
		    strerror(-rc));
		goto fail;
	}
	L->inst = xcalloc(conf->nentries, sizeof(*L->inst));
	for (i = 0; i < conf->nentries; i++) {
		e = &conf->entries[i];
		for (j = 0; j < L->ninst; j++)
			if (strcmp(L->inst[j].conf->bus.username,
			    e->bus.username) == 0 &&
			    strcmp(L->inst[j].conf->bus.domain,
			    e->bus.domain) == 0)
				break;
		if (j < L->ninst) {
			log_warnx("router: entry %zu repeats %s@%s; skipped",
			    i + 1, e->bus.username, e->bus.domain);
			continue;
		}
		ri = &L->inst[L->ninst];
		ri->L = L;
		ri->conf = e;
		if ((rc = router_new(e->bus.username, e->bus.domain,
		    e->trusted_servers, e->ntrusted_servers,
		    e->trusted_clients, e->ntrusted_clients, &ri->rt)) < 0) {
			log_errx("router: %s@%s: both trusted_domains/server "
			    "and trusted_domains/client are required",
			    e->bus.username, e->bus.domain);
			goto fail;
		}
		ri->io.arg = ri;
		ri->io.forward = io_forward;
		ri->io.reject = io_reject;
		ri->io.class_open = io_class_open;
		ri->io.class_close = io_class_close;
		if (e->bus.resource != NULL &&
		    strcmp(e->bus.resource, "router") != 0)
			log_warnx("router: %s@%s: transport/resource is "
			    "\"%s\"; listeners only know \"router\"",
			    e->bus.username,
			    e->bus.domain, e->bus.resource);
		L->ninst++;
		ri->top = rconn_new(ri, NULL, e->bus.resource != NULL ?
		    e->bus.resource : "router");
	}
	if (L->ninst == 0) {
		log_errx("router: no <router> entry with a <transport>");
		rc = -EINVAL;
		goto fail;
	}
	*out = L;
	return 0;
fail:
	router_loop_free(&L);
	return rc;
}

int
router_loop_run(struct router_loop *L)
{
	struct epoll_event	 ev[RL_EVENTS];
	uint64_t		 now;
	size_t			 i;
	int			 n, k;

	for (i = 0; i < L->ninst; i++)
		rconn_start_open(L->inst[i].top);
	L->status_at = mono_ms();
	while (!*L->c.stop) {
		n = epoll_wait(L->epfd, ev, RL_EVENTS,
		    next_timeout(L, mono_ms()));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("router: epoll_wait");
			return -errno;
		}
		/*
		 * Signals first: a SIGHUP that arrived with a message applies
		 * to it, and SIGTERM stops before more routing.  The flags are
		 * read whether or not the wake byte is in this batch.
		 */
		for (k = 0; k < n; k++)
			if (ev[k].data.ptr == &L->wake_tag)
				drain_wake(L->c.wake_fd);
		if (L->c.reload != NULL && *L->c.reload) {
			*L->c.reload = 0;
			reload(L);
		}
		if (*L->c.stop)
			break;
		for (k = 0; k < n; k++) {
			if (ev[k].data.ptr == &L->wake_tag)
				continue;
			else if (ev[k].data.ptr == &L->done_tag)
				drain_done(L);
			else
				rconn_input(ev[k].data.ptr);
		}
		flush_all(L);
		reap_dead(L);
		now = mono_ms();
		run_timers(L, now);
	}
	log_info("router: stopping, logging out");
	return 0;
}

void
router_loop_free(struct router_loop **lp)
{
	struct router_loop	*L = *lp;
	struct rconn		*c;
	size_t			 i;

	if (L == NULL)
		return;
	/* Classes first: their connections are killed, then reaped. */
	for (i = 0; i < L->ninst; i++)
		router_free(&L->inst[i].rt, &L->inst[i].io);
	while ((c = L->conns) != NULL) {
		L->conns = c->next;
		rconn_free(L, c);
	}
	if (L->c.status_path != NULL && L->ninst > 0)
		/* ENOENT is fine: it may never have been written */
		(void)unlink(L->c.status_path);
	free(L->inst);
	pbuf_free(&L->body);
	fd_close(&L->done[0]);
	fd_close(&L->done[1]);
	fd_close(&L->epfd);
	free(L);
	*lp = NULL;
}
