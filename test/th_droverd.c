/*
 * th_droverd.c: see th_droverd.h.
 */
#include "th_droverd.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "proto/osrfmsg.h"
#include "proto/pbuf.h"
#include "proto/tmsg.h"
#include "proto/bus.h"
#include "util.h"

#define TH_SERVICE	"drover.test"
/*
 * What the generated opensrf_core.xml adds to <opensrf> unless the test
 * says otherwise (th_conf.core_extra): the tests run as root, where
 * droverd refuses to run plugins without <user> or this.
 */
#define TH_CORE_ROOT	"<allow_root>true</allow_root>"
/* Poll interval of scoreboard and log waits: a state check, not a delay
 * the test depends on. */
#define TH_POLL_NS	2000000L

/*
 * Helpers still to clean up.  A failed Check assertion ends the test
 * process with exit() without running the teardown, so cleanup also
 * runs from atexit(); test helpers may keep this one registry.
 */
#define TH_LIVE_MAX	4
static struct th_droverd *th_live[TH_LIVE_MAX];

static void
th_atexit(void)
{
	int	i;

	for (i = 0; i < TH_LIVE_MAX; i++)
		if (th_live[i] != NULL)
			th_droverd_cleanup(th_live[i]);
}

static void
th_register(struct th_droverd *d)
{
	static int	registered;
	int		i, free_i = -1;

	if (!registered && atexit(th_atexit) == 0)
		registered = 1;
	for (i = 0; i < TH_LIVE_MAX; i++) {
		if (th_live[i] == d)
			return;
		if (th_live[i] == NULL && free_i < 0)
			free_i = i;
	}
	if (free_i >= 0)
		th_live[free_i] = d;
}

struct th_pend {
	char		 thread[64];
	long long	 trace;
	int		 nresults;
	struct pbuf	 content;
	struct th_pend	*next;
};

static const char *
env_or(const char *name, const char *def)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? v : def;
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	ck_assert_msg(f != NULL, "fopen(%s): %s", path, strerror(errno));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static int
def(int v, int d)
{
	return v != 0 ? v : d;
}

/* <name>v</name> into b, only when v is not 0 (0: drover's default). */
static void
key(struct pbuf *b, const char *name, int v)
{
	char	tmp[160];

	if (v == 0)
		return;
	snprintf(tmp, sizeof(tmp), "<%s>%d</%s>", name, v, name);
	ck_assert_int_eq(pbuf_adds(b, tmp), 0);
}

/* The service's scoreboard and listener address, for d->instance. */
static void
th_names(struct th_droverd *d)
{
	ck_assert_int_eq(sb_shm_name(d->shm, sizeof(d->shm), d->service,
	    d->instance), 0);
	/* the local bus's listener address (proto/bus_local.c) */
	snprintf(d->listener, sizeof(d->listener), "opensrf@local/%s@%s",
	    d->service, d->instance);
}

void
th_droverd_prepare(struct th_droverd *d, const char *service,
    const char *instance)
{
	if (d->dir[0] == '\0') {
		str_copy(d->dir, "/tmp/drover-thXXXXXX", sizeof(d->dir));
		ck_assert_ptr_nonnull(mkdtemp(d->dir));
		snprintf(d->core, sizeof(d->core), "%s/opensrf_core.xml",
		    d->dir);
		snprintf(d->settings, sizeof(d->settings), "%s/opensrf.xml",
		    d->dir);
		snprintf(d->log, sizeof(d->log), "%s/droverd.log", d->dir);
		d->pid = -1;
		th_register(d);
	}
	str_copy(d->service, service, sizeof(d->service));
	if (instance != NULL)
		str_copy(d->instance, instance, sizeof(d->instance));
	else
		snprintf(d->instance, sizeof(d->instance), "th%d",
		    (int)getpid());
	th_names(d);
}

void
th_droverd_conf(struct th_droverd *d, const struct th_conf *c)
{
	struct pbuf	 u;
	char		*x;

	th_droverd_prepare(d, TH_SERVICE, c->instance);
	x = xasprintf("<?xml version=\"1.0\"?>\n<config><opensrf>"
	    "<domain>local</domain><username>opensrf</username>"
	    "<passwd>x</passwd><port>5222</port>"
	    "<router_name>router</router_name>"
	    "<logfile>%s</logfile><loglevel>4</loglevel>"
	    "<settings_config>opensrf.xml</settings_config>%s"
	    "</opensrf>%s</config>\n", d->log, c->core_extra != NULL ?
	    c->core_extra : TH_CORE_ROOT, c->core_after != NULL ?
	    c->core_after : "");
	write_file(d->core, x);
	free(x);
	memset(&u, 0, sizeof(u));
	key(&u, "min_children", def(c->min_children, 2));
	key(&u, "max_children", def(c->max_children, 4));
	key(&u, "min_spare_children", c->min_spare);
	key(&u, "max_spare_children", c->max_spare);
	key(&u, "max_requests", def(c->max_requests, 1000));
	key(&u, "max_requests_jitter", c->max_requests_jitter);
	key(&u, "max_backlog_queue", c->max_backlog_queue < 0 ? 0 :
	    def(c->max_backlog_queue, 100));
	if (c->max_backlog_queue < 0)
		ck_assert_int_eq(pbuf_adds(&u,
		    "<max_backlog_queue>0</max_backlog_queue>"), 0);
	key(&u, "request_timeout", c->request_timeout);
	key(&u, "slow_request_ms", c->slow_request_ms);
	key(&u, "graceful_timeout", def(c->graceful_timeout, 10));
	if (c->unix_extra != NULL)
		ck_assert_int_eq(pbuf_adds(&u, c->unix_extra), 0);
	x = xasprintf("<?xml version=\"1.0\"?>\n<opensrf version=\"0.0.3\">"
	    "<default><dirs><pid>%s</pid></dirs>"
	    "<apps><" TH_SERVICE "><language>c</language>"
	    "<implementation>drover.test.so</implementation>"
	    "<keepalive>%d</keepalive><unix_config>%s</unix_config>"
	    "<app_settings>%s</app_settings>"
	    "</" TH_SERVICE "></apps></default></opensrf>\n",
	    d->dir, def(c->keepalive, 5), u.data != NULL ? u.data : "",
	    c->app_settings != NULL ? c->app_settings : "");
	pbuf_free(&u);
	write_file(d->settings, x);
	free(x);
}

pid_t
th_droverd_exec(struct th_droverd *d, const char *const *extra)
{
	const char	*argv[32];
	char		 prog[512], errlog[160];
	pid_t		 pid;
	int		 n = 0, fd;

	snprintf(prog, sizeof(prog), "%s/droverd",
	    env_or("DROVER_BIN", "bin"));
	snprintf(errlog, sizeof(errlog), "%s/stderr.log", d->dir);
	argv[n++] = prog;
	argv[n++] = "-c";
	argv[n++] = d->core;
	argv[n++] = "-s";
	argv[n++] = d->service[0] != '\0' ? d->service : TH_SERVICE;
	argv[n++] = "-h";
	argv[n++] = "localhost";
	if (!d->xmpp) {
		argv[n++] = "--local";
		argv[n++] = d->dir;
	}
	argv[n++] = "-i";
	argv[n++] = d->instance;
	while (extra != NULL && *extra != NULL && n < 30)
		argv[n++] = *extra++;
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		/*
		 * A failed test must not leave droverd behind: SIGINT is its
		 * fast stop, which also removes its scoreboard.  Its own
		 * process group keeps it out of the SIGKILL Check sends to
		 * the failed test's group, which would leave the segment.
		 * (A failed test keeps its directory: the log is there.)
		 */
		(void)setpgid(0, 0);
		(void)prctl(PR_SET_PDEATHSIG, SIGINT, 0, 0, 0);
		setenv("DROVER_PLUGINDIR", env_or("DROVER_LIB", "lib"), 1);
		fd = open(errlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* droverd gets only stdio from us, like from a shell */
		(void)close_range(3, ~0U, 0);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static void
check_alive(struct th_droverd *d)
{
	pid_t	r;

	if (d->pid <= 0)
		return;
	r = waitpid(d->pid, &d->status, WNOHANG);
	ck_assert_msg(r == 0, "droverd died (status 0x%x); see %s",
	    d->status, d->log);
}

static void
tick(void)
{
	struct timespec	ts = { 0, TH_POLL_NS };

	nanosleep(&ts, NULL);
}

void
th_view(struct th_droverd *d, struct th_view *v)
{
	unsigned	i;

	memset(v, 0, sizeof(*v));
	if (sb_read_info(d->sb, &v->info) < 0)
		memset(&v->info, 0, sizeof(v->info));	/* unstable */
	for (i = 0; i < SB_SLOTS; i++)
		if (sb_read_slot(d->sb, i, &v->slot[i]) < 0)
			v->slot[i].unstable = 1;
	sb_summarize(v->slot, SB_SLOTS, &v->sum);
}

void
th_wait_sb(struct th_droverd *d, th_pred pred, void *arg, int ms,
    const char *what)
{
	struct th_view	*v = xmalloc(sizeof(*v));
	uint64_t	 end = mono_ms() + (uint64_t)ms;
	char		 line[SB_SLOTS + 1];

	for (;;) {
		check_alive(d);
		if (d->sb == NULL && sb_open(&d->sb, d->shm) < 0)
			d->sb = NULL;
		if (d->sb != NULL) {
			th_view(d, v);
			if (pred(v, arg)) {
				free(v);
				return;
			}
		}
		if (mono_ms() > end) {
			if (d->sb != NULL)
				sb_state_line(v->slot, SB_SLOTS, line);
			else
				line[0] = '\0';
			ck_abort_msg("timed out waiting for %s; slots %.40s",
			    what, line);
		}
		tick();
	}
}

static int
idle_at_least(const struct th_view *v, void *arg)
{
	return v->sum.by_state[SB_IDLE] >= (uint32_t)*(int *)arg;
}

void
th_wait_idle(struct th_droverd *d, int n, int ms)
{
	char	what[64];

	snprintf(what, sizeof(what), "%d idle children", n);
	th_wait_sb(d, idle_at_least, &n, ms, what);
}

int
th_log_has(struct th_droverd *d, const char *needle)
{
	return th_file_has(d->log, needle);
}

int
th_file_has(const char *path, const char *needle)
{
	FILE	*f;
	char	*line = NULL;
	size_t	 cap = 0;
	int	 found = 0;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (!found && getline(&line, &cap, f) > 0)
		found = strstr(line, needle) != NULL;
	free(line);
	fclose(f);
	return found;
}

void
th_child_alive(pid_t *pid, const char *log)
{
	int	st;

	if (*pid > 0 && waitpid(*pid, &st, WNOHANG) == *pid) {
		*pid = -1;
		ck_abort_msg("a daemon of the test exited (status %d); see %s",
		    st, log);
	}
}

void
th_wait_file(const char *path, const char *needle, int ms, pid_t *pid,
    const char *log)
{
	uint64_t	end = mono_ms() + (uint64_t)ms;

	while (!th_file_has(path, needle)) {
		if (pid != NULL)
			th_child_alive(pid, log);
		ck_assert_msg(mono_ms() < end, "no \"%s\" in %s", needle,
		    path);
		tick();
	}
}

void
th_wait_log(struct th_droverd *d, const char *needle, int ms)
{
	uint64_t	end = mono_ms() + (uint64_t)ms;

	while (!th_log_has(d, needle)) {
		ck_assert_msg(mono_ms() <= end, "timed out waiting for log "
		    "line \"%s\" in %s", needle, d->log);
		tick();
	}
}

void
th_droverd_start(struct th_droverd *d, const struct th_conf *c)
{
	memset(d, 0, sizeof(*d));
	th_droverd_conf(d, c);
	th_droverd_run(d, def(c->min_children, 2));
}

void
th_droverd_run(struct th_droverd *d, int idle)
{
	const char		*extra[] = { "-f", NULL };
	char			 res[64];
	struct bus_params	 p;

	d->pid = th_droverd_exec(d, extra);
	snprintf(res, sizeof(res), "th_%d", (int)getpid());
	memset(&p, 0, sizeof(p));
	p.kind = BUS_LOCAL;
	p.local_dir = d->dir;
	p.role = BUS_ROLE_CLIENT;
	p.resource = res;
	ck_assert_int_eq(bus_new(&p, &d->client), 0);
	ck_assert_int_eq(bus_open(d->client, 1000), 0);
	th_wait_idle(d, idle, 10000);
}

int
th_droverd_wait_exit(struct th_droverd *d, int ms)
{
	uint64_t	end = mono_ms() + (uint64_t)ms;
	pid_t		r;

	ck_assert_int_gt(d->pid, 0);
	for (;;) {
		r = waitpid(d->pid, &d->status, WNOHANG);
		ck_assert_int_ne(r, -1);
		if (r == d->pid)
			break;
		ck_assert_msg(mono_ms() <= end, "droverd did not exit in "
		    "%d ms", ms);
		tick();
	}
	d->pid = -1;
	return d->status;
}

int
th_droverd_stop(struct th_droverd *d, int sig, int ms)
{
	ck_assert_int_eq(kill(d->pid, sig), 0);
	return th_droverd_wait_exit(d, ms);
}

static int
exited_within(struct th_droverd *d, int ms)
{
	uint64_t	end = mono_ms() + (uint64_t)ms;

	while (mono_ms() <= end) {
		if (waitpid(d->pid, &d->status, WNOHANG) == d->pid)
			return 1;
		tick();
	}
	return 0;
}

static void
pend_free_all(struct th_droverd *d)
{
	struct th_pend	*p, *n;

	for (p = d->pend; p != NULL; p = n) {
		n = p->next;
		pbuf_free(&p->content);
		free(p);
	}
	d->pend = NULL;
}

void
th_droverd_cleanup(struct th_droverd *d)
{
	char	*cmd;
	int	 i;

	for (i = 0; i < TH_LIVE_MAX; i++)
		if (th_live[i] == d)
			th_live[i] = NULL;

	if (d->pid > 0) {
		/* a failed test: fast stop, so droverd still cleans up */
		if (kill(d->pid, SIGINT) == 0 && !exited_within(d, 5000)) {
			(void)kill(d->pid, SIGKILL);
			(void)waitpid(d->pid, &d->status, 0);
		}
		d->pid = -1;
	}
	if (d->shm[0] != '\0')
		(void)shm_unlink(d->shm);	/* ours alone: unique name */
	bus_free(&d->client);
	sb_close(&d->sb);
	pend_free_all(d);
	if (d->dir[0] != '\0' && getenv("TH_KEEP") == NULL) {
		cmd = xasprintf("rm -rf '%s'", d->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "th_droverd: cannot remove %s\n",
			    d->dir);
		free(cmd);
	}
	d->dir[0] = '\0';
	d->shm[0] = '\0';
}

/* ---------------------------------------------------------- client */

void
th_send(struct th_droverd *d, const char *thread, int trace,
    const char *method, const char *params, char *thread_out)
{
	struct tmsg	 t = TMSG_INIT;
	char		 th[64], xid[32];
	char		*x;

	if (thread == NULL) {
		snprintf(th, sizeof(th), "th.%d.%u", (int)getpid(),
		    ++d->nthread);
		thread = th;
	}
	if (thread_out != NULL)
		str_copy(thread_out, thread, 64);
	x = xasprintf("[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":"
	    "\"%d\",\"locale\":\"en-US\",\"type\":\"REQUEST\",\"payload\":"
	    "{\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"%s\",\"params\":"
	    "%s}}}}]", trace, method, params);
	snprintf(xid, sizeof(xid), "xid%u", d->nthread);
	t.to = d->listener;
	t.thread = thread;
	t.osrf_xid = xid;
	t.body = x;
	ck_assert_int_eq(bus_send(d->client, &t), 0);
	free(x);
}

static struct th_pend *
pend_get(struct th_droverd *d, const char *thread, long long trace)
{
	struct th_pend	*p;

	for (p = d->pend; p != NULL; p = p->next)
		if (p->trace == trace && strcmp(p->thread, thread) == 0)
			return p;
	p = xcalloc(1, sizeof(*p));
	str_copy(p->thread, thread, sizeof(p->thread));
	p->trace = trace;
	p->next = d->pend;
	d->pend = p;
	return p;
}

static void
pend_drop(struct th_droverd *d, struct th_pend *x)
{
	struct th_pend	**pp;

	for (pp = (struct th_pend **)&d->pend; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	pbuf_free(&x->content);
	free(x);
}

/* Fold one message's bodies in; 1 and *r filled when one ended. */
static int
fold(struct th_droverd *d, const struct bus_frame *st, struct th_reply *r)
{
	struct tmsg		 t = TMSG_INIT;
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct th_pend		*p;
	char			*s;
	size_t			 i;
	int			 done = 0;

	ck_assert_msg(bus_decode(d->client, st->raw, st->len, &t, NULL) == 0,
	    "reply does not parse: %.300s", st->raw);
	ck_assert_msg(!t.is_error, "error stanza: %.300s", st->raw);
	ck_assert_msg(osrfmsg_decode(t.body, strlen(t.body), &l, NULL) == 0,
	    "reply body does not decode: %.300s", t.body);
	for (i = 0; i < l.n && !done; i++) {
		const struct osrfmsg *m = &l.msg[i];

		p = pend_get(d, t.thread, m->thread_trace);
		if (m->type == OSRFMSG_RESULT) {
			if (strcmp(m->payload_class, OSRFMSG_C_PARTIAL) == 0) {
				ck_assert(json_is_string(m->content));
				ck_assert_int_eq(pbuf_adds(&p->content,
				    json_string_value(m->content)), 0);
			} else if (strcmp(m->payload_class,
			    OSRFMSG_C_PARTIAL_COMPLETE) != 0) {
				s = json_dumps(m->content, JSON_ENCODE_ANY |
				    JSON_COMPACT);
				ck_assert_ptr_nonnull(s);
				ck_assert_int_eq(pbuf_adds(&p->content, s), 0);
				free(s);
			}
			p->nresults++;
			continue;
		}
		if (m->type != OSRFMSG_STATUS)
			continue;
		if (m->status_code == 200 || m->status_code == 100)
			continue;	/* connect ok, continue: not an end */
		memset(r, 0, sizeof(*r));
		str_copy(r->thread, t.thread, sizeof(r->thread));
		r->trace = m->thread_trace;
		r->code = m->status_code;
		r->status = xstrdup(m->status != NULL ? m->status : "");
		r->nresults = p->nresults;
		r->content = p->content.data != NULL ?
		    pbuf_steal(&p->content, NULL) : xstrdup("");
		pend_drop(d, p);
		done = 1;	/* one request ends per stanza */
	}
	osrfmsg_list_clear(&l);
	tmsg_clear(&t);
	return done;
}

void
th_recv(struct th_droverd *d, struct th_reply *r, int ms)
{
	struct bus_frame *st;
	struct pollfd	  p;
	uint64_t	  end = mono_ms() + (uint64_t)ms;
	int		  rc, left, gone = 0;

	for (;;) {
		rc = bus_recv(d->client, &st);
		ck_assert_int_ge(rc, 0);
		if (rc == 1) {
			rc = fold(d, st, r);
			bus_frame_free(&st);
			if (rc)
				return;
			continue;
		}
		/* droverd may have exited after answering: drain first
		 * (WNOWAIT: the caller may still want to reap it) */
		if (!gone && d->pid > 0) {
			siginfo_t	si;

			si.si_pid = 0;
			if (waitid(P_PID, (id_t)d->pid, &si, WEXITED |
			    WNOHANG | WNOWAIT) == 0 && si.si_pid == d->pid)
				gone = 1;
		}
		left = (int)(end - mono_ms());
		ck_assert_msg(mono_ms() < end, "timed out waiting for a "
		    "reply");
		p.fd = bus_fd(d->client);
		p.events = POLLIN;
		rc = poll(&p, 1, left < 100 ? left : 100);
		ck_assert_msg(!(gone && rc == 0), "droverd exited and no "
		    "reply is left; see %s", d->log);
	}
}

void
th_reply_free(struct th_reply *r)
{
	free(r->status);
	free(r->content);
	r->status = r->content = NULL;
}

void
th_call(struct th_droverd *d, const char *method, const char *params,
    struct th_reply *r, int ms)
{
	char	thread[64];

	th_send(d, NULL, 1, method, params, thread);
	th_recv(d, r, ms);
	ck_assert_str_eq(r->thread, thread);
}
