/*
 * test_droverd_redis.c: droverd and drover-call on Redis (private
 * redis-server, test/servers/redis; tag "integration").
 *
 * The client pushes straight to the service queue here (the router on
 * Redis has its own tests, test_router_redis.c): droverd serves a
 * stateless request, a connected session whose later messages go to the
 * drone's own inbox, answers 500 for a request whose child was killed,
 * bounds its service queue with max_backlog_queue (503s with the
 * requests' own threadTrace) and leaves it unbounded when the key is
 * unset; on SIGTERM it deletes its inbox, and a killed child's inbox is
 * deleted when it is reaped; drover-call's single call, --connect and
 * --bench work on Redis.
 *
 * Each test has a domain of its own (its pid in it), so the shared
 * server's queues never carry one test's requests into another.  Waits
 * poll with deadlines; nothing sleeps to synchronise.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg.h"
#include "proto/bus.h"
#include "proto/osrfmsg.h"
#include "proto/redis_conn.h"
#include "proto/tmsg.h"
#include "scoreboard/sb.h"
#include "th_droverd.h"
#include "th_servers.h"
#include "util.h"

#define WAIT_MS		20000

static struct th_droverd D;
static char		 dom[64];
static struct bus_conf	 cc;

static void
write_text(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* Remove `what` from the file at path (e.g. a key th_droverd wrote). */
static void
file_cut(const char *path, const char *what)
{
	char	*buf, *p;
	FILE	*f;
	long	 n;

	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xcalloc(1, (size_t)n + 1);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	fclose(f);
	ck_assert_ptr_nonnull(p = strstr(buf, what));
	memmove(p, p + strlen(what), strlen(p + strlen(what)) + 1);
	write_text(path, buf);
	free(buf);
}

static void
core_redis(struct th_droverd *d)
{
	char	*x;

	x = xasprintf("<?xml version=\"1.0\"?>\n<config><opensrf>"
	    "<routers><router>%s</router></routers>"
	    "<domain>%s</domain><host>127.0.0.1</host><port>%d</port>"
	    "<bus>redis</bus>"
	    "<username>opensrf</username><passwd>%s</passwd>"
	    "<router_name>router</router_name><reconnect_max>2"
	    "</reconnect_max><logfile>%s</logfile><loglevel>4</loglevel>"
	    "<client>true</client><allow_root>true</allow_root>"
	    "<settings_config>opensrf.xml</settings_config>"
	    "</opensrf></config>\n", dom, dom, th_server(TH_REDIS)->port,
	    TH_OPENSRF_PW, d->log);
	write_text(d->core, x);
	free(x);
}

static void
client_open(struct th_droverd *d)
{
	struct bus_params	p;

	memset(&cc, 0, sizeof(cc));
	cc.kind = BUS_REDIS;
	cc.host = (char *)"127.0.0.1";
	cc.domain = dom;
	cc.port = th_server(TH_REDIS)->port;
	cc.username = (char *)"opensrf";
	cc.password = (char *)TH_OPENSRF_PW;
	cc.max_stanza_size = 10 * 1024 * 1024;
	cc.connect_timeout_ms = WAIT_MS;
	memset(&p, 0, sizeof(p));
	p.kind = BUS_REDIS;
	p.conf = &cc;
	p.role = BUS_ROLE_CLIENT;
	ck_assert_int_eq(bus_new(&p, &d->client), 0);
	ck_assert_int_eq(bus_open(d->client, WAIT_MS), 0);
	/* straight to the service queue: no router in these tests */
	snprintf(d->listener, sizeof(d->listener),
	    "opensrf:service:opensrf:%s:drover.test", dom);
}

/* Configure and start droverd on Redis; unbounded: no max_backlog_queue. */
static void
start(const struct th_conf *c, int unbounded)
{
	const char	*extra[] = { "-f", NULL };

	memset(&D, 0, sizeof(D));
	snprintf(dom, sizeof(dom), "d%ld.private", (long)getpid());
	th_droverd_conf(&D, c);
	D.xmpp = 1;		/* no --local: the core names the bus */
	core_redis(&D);
	if (unbounded) {
		char	key[96];

		snprintf(key, sizeof(key), "<max_backlog_queue>%d"
		    "</max_backlog_queue>", c->max_backlog_queue);
		file_cut(D.settings, key);
	}
	D.pid = th_droverd_exec(&D, extra);
	th_wait_idle(&D, c->min_children, WAIT_MS);
	client_open(&D);
}

static void
setup(void)
{
	struct th_conf	c = { .min_children = 2, .max_children = 3 };

	start(&c, 0);
}

static void
teardown(void)
{
	th_droverd_cleanup(&D);
}

static struct rds_conn *
raw(void)
{
	struct rds_params	 p = { 0 };
	struct rds_conn		*c;

	p.host = "127.0.0.1";
	p.port = th_server(TH_REDIS)->port;
	p.user = "opensrf";
	p.pass = TH_OPENSRF_PW;
	ck_assert_int_eq(rds_new(&p, &c), 0);
	ck_assert_int_eq(rds_open(c), 0);
	return c;
}

static long long
llen(struct rds_conn *c, const char *key)
{
	struct rds_reply	*r;
	long long		 n;

	ck_assert_int_eq(rds_calll(c, WAIT_MS, &r, "LLEN", key, NULL), 0);
	n = r->integer;
	rds_reply_free(&r);
	return n;
}

/* The address a log line "bus: redis: up as X" names, for pid. */
static void
addr_from_log(pid_t pid, char *buf, size_t n)
{
	char	 needle[64], *line = NULL, *p;
	size_t	 cap = 0;
	FILE	*f;

	snprintf(needle, sizeof(needle), "[%ld]: INFO bus: redis: up as ",
	    (long)pid);
	th_wait_log(&D, needle, WAIT_MS);
	buf[0] = '\0';
	ck_assert_ptr_nonnull(f = fopen(D.log, "r"));
	while (getline(&line, &cap, f) > 0)
		if ((p = strstr(line, needle)) != NULL) {
			str_copy(buf, p + strlen(needle), n);
			buf[strcspn(buf, "\n")] = '\0';
		}
	free(line);
	fclose(f);
	ck_assert(buf[0] != '\0');
}

/* --------------------------------------------------------------- tests */

START_TEST(test_redis_serve)
{
	struct th_reply	r;

	th_call(&D, "opensrf.system.echo", "[\"over redis\", 2]", &r,
	    WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	ck_assert_int_eq(r.nresults, 2);
	ck_assert_str_eq(r.content, "\"over redis\"2");
	th_reply_free(&r);
	ck_assert(th_log_has(&D, "on the redis bus"));
	ck_assert(th_log_has(&D, "registered drover.test with 1 router"));
}
END_TEST

/* The first STATUS of a message of thread from `b`; the frame's sender. */
static int
status_of(struct bus *b, const char *thread, char *from, size_t fromsz)
{
	struct bus_frame	*f;
	struct tmsg		 t = TMSG_INIT;
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	uint64_t		 end = mono_ms() + WAIT_MS;
	size_t			 i;
	int			 rc, code = 0;

	for (;;) {
		ck_assert_msg(mono_ms() < end, "no status for %s", thread);
		rc = bus_recv(b, &f);
		ck_assert_int_ge(rc, 0);
		if (rc == 0) {
			ck_assert_int_ge(bus_wait(b, 100), 0);
			continue;
		}
		ck_assert_int_eq(bus_decode(b, f->raw, f->len, &t, NULL), 0);
		bus_frame_free(&f);
		if (strcmp(t.thread, thread) != 0) {
			tmsg_clear(&t);
			continue;
		}
		ck_assert_int_eq(osrfmsg_decode(t.body, strlen(t.body), &l,
		    NULL), 0);
		for (i = 0; i < l.n && code == 0; i++)
			if (l.msg[i].type == OSRFMSG_STATUS)
				code = l.msg[i].status_code;
		if (from != NULL)
			str_copy(from, t.from, fromsz);
		osrfmsg_list_clear(&l);
		tmsg_clear(&t);
		if (code != 0)
			return code;
	}
}

static void
send_raw(struct bus *b, const char *to, const char *thread, const char *body)
{
	struct tmsg	t = TMSG_INIT;

	t.to = to;
	t.thread = thread;
	t.body = body;
	ck_assert_int_eq(bus_send(b, &t), 0);
}

/* CONNECT through the queue; the rest goes to the drone's inbox. */
START_TEST(test_redis_session)
{
	char	 drone[BUS_ADDR_MAX], from[BUS_ADDR_MAX];

	send_raw(D.client, D.listener, "sess1", "[{\"__c\":\"osrfMessage\","
	    "\"__p\":{\"threadTrace\":\"0\",\"type\":\"CONNECT\"}}]");
	ck_assert_int_eq(status_of(D.client, "sess1", drone, sizeof(drone)),
	    200);
	ck_assert_msg(strncmp(drone, "opensrf:client:opensrf:", 23) == 0,
	    "%s", drone);
	send_raw(D.client, drone, "sess1", "[{\"__c\":\"osrfMessage\",\"__p\":"
	    "{\"threadTrace\":\"1\",\"type\":\"REQUEST\",\"payload\":{\"__c\":"
	    "\"osrfMethod\",\"__p\":{\"method\":\"opensrf.system.echo\","
	    "\"params\":[7]}}}}]");
	ck_assert_int_eq(status_of(D.client, "sess1", from, sizeof(from)),
	    205);
	ck_assert_str_eq(from, drone);
	send_raw(D.client, drone, "sess1", "[{\"__c\":\"osrfMessage\",\"__p\":"
	    "{\"threadTrace\":\"2\",\"type\":\"DISCONNECT\"}}]");
	/* the drone is free again: both children idle */
	th_wait_idle(&D, 2, WAIT_MS);
}
END_TEST

static int
sleeping(const struct th_view *v, void *arg)
{
	int	i;

	for (i = 0; i < SB_SLOTS; i++)
		if (v->slot[i].state == SB_BUSY &&
		    strcmp(v->slot[i].method, "drover.test.sleep") == 0)
			return 1;
	return 0;
}

static pid_t
sleeper(void)
{
	struct th_view	*v = xmalloc(sizeof(*v));
	pid_t		 pid = 0;
	int		 i;

	th_view(&D, v);
	for (i = 0; i < SB_SLOTS; i++)
		if (v->slot[i].state == SB_BUSY &&
		    strcmp(v->slot[i].method, "drover.test.sleep") == 0)
			pid = v->slot[i].pid;
	free(v);
	ck_assert_int_gt(pid, 0);
	return pid;
}

START_TEST(test_redis_rescue)
{
	struct th_reply	r;

	th_send(&D, NULL, 11, "drover.test.sleep", "[60]", NULL);
	th_wait_sb(&D, sleeping, NULL, WAIT_MS, "a child running the sleep");
	ck_assert_int_eq(kill(sleeper(), SIGKILL), 0);
	th_recv(&D, &r, WAIT_MS);
	ck_assert_int_eq(r.trace, 11);
	ck_assert_int_eq(r.code, 500);
	th_reply_free(&r);
}
END_TEST

/*
 * One child, busy: requests wait in Redis.  With max_backlog_queue 2,
 * three of five get 503 (each its own threadTrace); the rest are served
 * once the child is free.
 */
static void
backlog_case(int unbounded)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1,
			    .max_backlog_queue = 2 };
	struct th_reply	r;
	int		i, served = 0, refused = 0, traces = 0;

	start(&c, unbounded);
	th_send(&D, NULL, 1, "drover.test.sleep", "[1.5]", NULL);
	th_wait_sb(&D, sleeping, NULL, WAIT_MS, "the child sleeping");
	for (i = 0; i < 5; i++)
		th_send(&D, NULL, 20 + i, "opensrf.system.echo", "[1]", NULL);
	for (i = 0; i < 6; i++) {
		th_recv(&D, &r, WAIT_MS);
		if (r.code == 205)
			served++;
		else {
			ck_assert_int_eq(r.code, 503);
			ck_assert_int_ge(r.trace, 20);
			traces |= 1 << (r.trace - 20);
			refused++;
		}
		th_reply_free(&r);
	}
	ck_assert_int_eq(refused, unbounded ? 0 : 3);
	ck_assert_int_eq(served, unbounded ? 6 : 3);
	if (!unbounded)
		ck_assert_int_eq(__builtin_popcount(traces), 3);
}

START_TEST(test_redis_backlog_bound)
{
	backlog_case(0);
	ck_assert(th_log_has(&D, "answered 503"));
}
END_TEST

/* The service queue as drover-status shows it: depth and oldest age. */
static int
queue_seen(const struct th_view *v, void *arg)
{
	return v->info.svc_queue.sampled_mono_us != 0 &&
	    v->info.svc_queue.depth == 3 && v->info.svc_queue.oldest_ms >= 1000;
}

START_TEST(test_redis_queue_published)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1,
			    .max_backlog_queue = 100 };
	struct th_reply	r;
	int		i;

	start(&c, 1);	/* unbounded: nothing taken off */
	th_send(&D, NULL, 1, "drover.test.sleep", "[3]", NULL);
	th_wait_sb(&D, sleeping, NULL, WAIT_MS, "the child sleeping");
	for (i = 0; i < 3; i++)
		th_send(&D, NULL, 10 + i, "opensrf.system.echo", "[1]", NULL);
	th_wait_sb(&D, queue_seen, NULL, WAIT_MS, "3 waiting for a second");
	for (i = 0; i < 4; i++) {
		th_recv(&D, &r, WAIT_MS);
		ck_assert_int_eq(r.code, 205);
		th_reply_free(&r);
	}
}
END_TEST

START_TEST(test_redis_backlog_unbounded)
{
	backlog_case(1);
	ck_assert(!th_log_has(&D, "answered 503"));
}
END_TEST

/* SIGTERM deletes the parent's inbox; a killed child's goes when reaped. */
START_TEST(test_redis_inboxes)
{
	struct rds_conn		*c = raw();
	struct rds_reply	*r;
	struct th_view		*v = xmalloc(sizeof(*v));
	char			 parent[BUS_ADDR_MAX], child[SB_ADDR_LEN];
	uint64_t		 end;
	pid_t			 victim = 0;
	int			 i;

	addr_from_log(D.pid, parent, sizeof(parent));
	th_view(&D, v);
	for (i = 0; i < SB_SLOTS && victim == 0; i++)
		if (v->slot[i].state == SB_IDLE && v->slot[i].addr[0] != '\0') {
			victim = v->slot[i].pid;
			str_copy(child, v->slot[i].addr, sizeof(child));
		}
	free(v);
	ck_assert_int_gt(victim, 0);
	/* a stopped child pops nothing more than the BLPOP it left with
	 * Redis: the second push stays */
	ck_assert_int_eq(kill(victim, SIGSTOP), 0);
	ck_assert_int_eq(rds_calll(c, WAIT_MS, &r, "RPUSH", child, "{}",
	    NULL), 0);
	rds_reply_free(&r);
	ck_assert_int_eq(rds_calll(c, WAIT_MS, &r, "RPUSH", child, "{}",
	    NULL), 0);
	rds_reply_free(&r);
	ck_assert_int_eq(llen(c, child), 1);
	ck_assert_int_eq(kill(victim, SIGKILL), 0);
	end = mono_ms() + WAIT_MS;
	while (llen(c, child) != 0) {
		ck_assert_msg(mono_ms() < end, "%s never deleted", child);
		(void)poll(NULL, 0, 20);	/* the parent's reaping */
	}
	ck_assert_int_eq(rds_calll(c, WAIT_MS, &r, "RPUSH", parent, "{}",
	    NULL), 0);
	rds_reply_free(&r);
	ck_assert_int_eq(llen(c, parent), 1);
	ck_assert_int_eq(th_droverd_stop(&D, SIGTERM, WAIT_MS) & 0xffff, 0);
	ck_assert_int_eq(llen(c, parent), 0);
	rds_free(&c);
}
END_TEST

/* drover-call's stdout for args, and its exit status. */
static int
call(const char *args, char *out, size_t outsz)
{
	char	*cmd;
	FILE	*p;
	size_t	 n;
	int	 st;

	cmd = xasprintf("%s/drover-call -c %s -t 10 %s 2>&1",
	    getenv("DROVER_BIN") != NULL ? getenv("DROVER_BIN") : "bin",
	    D.core, args);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	n = fread(out, 1, outsz - 1, p);
	out[n] = '\0';
	st = pclose(p);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_redis_drover_call)
{
	char	out[4096], *args;

	args = xasprintf("--to %s drover.test opensrf.system.echo '\"hi\"' 3",
	    D.listener);
	ck_assert_int_eq(call(args, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "\"hi\"\n3\n");
	free(args);
	args = xasprintf("--connect --to %s drover.test opensrf.system.echo "
	    "5", D.listener);
	ck_assert_int_eq(call(args, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "5\n");
	free(args);
}
END_TEST

/*
 * --bench drives its sessions from one event loop per process: every
 * request of every session accounted for, with one process or several,
 * stateless or connected, and a method that fails counted as errors.
 */
static const struct {
	const char	*opts;		/* before --to */
	const char	*method;
	int		 exit;
	const char	*want[2];	/* in the output */
} bench_vec[] = {
	{ "--bench 200 --concurrency 4", "opensrf.system.echo", 0,
	    { "requests 200 concurrency 4 elapsed",
	      "sent=200 ok=200 lost=0 unsent=0 err_status=0" } },
	{ "--bench 200 --concurrency 5 --processes 2 --warmup 10",
	    "opensrf.system.echo", 0,
	    { "requests 200 concurrency 5 elapsed", "ok=200 lost=0" } },
	{ "--bench 90 --concurrency 3 --processes 3 --connect",
	    "opensrf.system.echo", 0,
	    { "requests 90 concurrency 3 connected", "ok=90 lost=0" } },
	{ "--bench 40 --concurrency 4 --interval 5", "opensrf.system.echo", 0,
	    { "requests 40 concurrency 4", "ok=40 lost=0 unsent=0" } },
	{ "--bench 30 --concurrency 4", "no.such.method", 2,
	    { "errors 30 (status 30,", "ok=0 lost=0 unsent=0 err_status=30" } },
};

START_TEST(test_redis_bench)
{
	char	out[4096], *args;
	int	i;

	args = xasprintf("%s --to %s drover.test %s 1", bench_vec[_i].opts,
	    D.listener, bench_vec[_i].method);
	ck_assert_msg(call(args, out, sizeof(out)) == bench_vec[_i].exit,
	    "%s: %s", args, out);
	for (i = 0; i < 2; i++)
		ck_assert_msg(strstr(out, bench_vec[_i].want[i]) != NULL,
		    "%s: no \"%s\" in: %s", args, bench_vec[_i].want[i], out);
	free(args);
}
END_TEST

Suite *
droverd_redis_suite(void)
{
	Suite	*s = suite_create("droverd_redis");
	TCase	*tc;

	tc = tcase_create("redis");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, th_redis_setup, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_redis_serve);
	tcase_add_test(tc, test_redis_session);
	tcase_add_test(tc, test_redis_rescue);
	tcase_add_test(tc, test_redis_inboxes);
	tcase_add_test(tc, test_redis_drover_call);
	tcase_add_loop_test(tc, test_redis_bench, 0, ARRAY_LEN(bench_vec));
	suite_add_tcase(s, tc);

	tc = tcase_create("backlog");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, th_redis_setup, NULL);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_redis_backlog_bound);
	tcase_add_test(tc, test_redis_backlog_unbounded);
	tcase_add_test(tc, test_redis_queue_published);
	suite_add_tcase(s, tc);
	return s;
}
