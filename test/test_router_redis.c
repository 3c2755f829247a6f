/*
 * test_router_redis.c: drover-router and droverd on Redis, every flow of
 * opensrf-redis.md section 5 (private redis-server; tag "integration").
 *
 * bin/drover-router and bin/droverd (service drover.test) run on a
 * private redis-server; the test is the client, and for some cases a
 * listener of its own made of plain Redis commands, so that what the
 * router pushes is read off the wire.  Every envelope is decoded:
 * stateless requests (the router forwards the client's message
 * unchanged to the service queue), a connected session whose later
 * messages go straight to the drone and which ends on its keepalive,
 * registration (several listeners of one queue are one node; the last
 * unregister takes the class away), the router API (capture 07), an
 * unknown service (404 osrfServiceException, capture 05), an unknown
 * method (the drone's 404, capture 04), chunked results (capture 06),
 * an untrusted domain (403 where OpenSRF says nothing, capture 10), a
 * drover-call client, OpenSRF's own accounts (metrics refused, service
 * served) and a Redis restart under load.
 *
 * Each test has its own domain (its pid in it): the shared server never
 * carries one test's requests into another.  No sleeps: waits poll with
 * deadlines and fail at once when a daemon died.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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
#define SVC		"drover.test"

static struct th_droverd	 D;
static enum th_server_kind	 srv = TH_REDIS;
static char			 dom[64], rlog[160], rstat[160];
static pid_t			 router_pid = -1;
static struct bus_conf		 cc;

/* ------------------------------------------------------------ harness */

static void
write_text(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* One opensrf_core.xml for droverd, drover-call and the router. */
static void
write_core_to(const char *path, const char *log, const char *user,
    const char *pass)
{
	char	*x;

	x = xasprintf("<?xml version=\"1.0\"?>\n<config><opensrf>"
	    "<routers><router>%s</router></routers>"
	    "<domain>%s</domain><host>127.0.0.1</host><port>%d</port>"
	    "<bus>redis</bus><username>%s</username><passwd>%s</passwd>"
	    "<router_name>router</router_name><reconnect_max>1"
	    "</reconnect_max><logfile>%s</logfile><loglevel>4</loglevel>"
	    "<client>true</client><allow_root>true</allow_root>"
	    "<settings_config>opensrf.xml</settings_config></opensrf>"
	    "<routers><router><trusted_domains><server>%s</server>"
	    "<client>%s</client></trusted_domains><transport>"
	    "<server>%s</server><host>127.0.0.1</host><port>%d</port>"
	    "<bus>redis</bus><username>router</username><password>%s"
	    "</password><reconnect_max>1</reconnect_max></transport>"
	    "<logfile>%s</logfile><loglevel>4</loglevel></router></routers>"
	    "</config>\n", dom, dom, th_server(srv)->port, user, pass, log,
	    dom, dom, dom, th_server(srv)->port, TH_ROUTER_PW, rlog);
	write_text(path, x);
	free(x);
}

static void
write_core(const char *user, const char *pass)
{
	write_core_to(D.core, D.log, user, pass);
}

static void
router_alive(void)
{
	th_child_alive(&router_pid, rlog);
}

static void
wait_file_has(const char *path, const char *needle)
{
	th_wait_file(path, needle, WAIT_MS, &router_pid, rlog);
}

static void
start_router(void)
{
	char	bin[512];
	int	fd;

	snprintf(bin, sizeof(bin), "%s/drover-router",
	    getenv("DROVER_BIN") != NULL ? getenv("DROVER_BIN") : "bin");
	router_pid = fork();
	ck_assert_int_ne(router_pid, -1);
	if (router_pid == 0) {
		(void)setpgid(0, 0);
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		fd = open(rlog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, "drover-router", "-f", "-c", D.core, "-s", rstat,
		    (char *)NULL);
		_exit(127);
	}
	wait_file_has(rlog, "router: logged in as");
}

static void
client_open(void)
{
	struct bus_params	p;

	memset(&cc, 0, sizeof(cc));
	cc.kind = BUS_REDIS;
	cc.host = (char *)"127.0.0.1";
	cc.domain = dom;
	cc.port = th_server(srv)->port;
	cc.username = (char *)"opensrf";
	cc.password = (char *)TH_OPENSRF_PW;
	cc.max_stanza_size = 10 * 1024 * 1024;
	cc.connect_timeout_ms = WAIT_MS;
	memset(&p, 0, sizeof(p));
	p.kind = BUS_REDIS;
	p.conf = &cc;
	p.role = BUS_ROLE_CLIENT;
	p.router_name = "router";
	ck_assert_int_eq(bus_new(&p, &D.client), 0);
	ck_assert_int_eq(bus_open(D.client, WAIT_MS), 0);
	snprintf(D.listener, sizeof(D.listener), "opensrf:service:_:_:%s",
	    SVC);
}

static void
start_all(void)
{
	struct th_conf	 c = { .min_children = 2, .max_children = 3,
			    .keepalive = 2 };
	const char	*extra[] = { "-f", NULL };

	memset(&D, 0, sizeof(D));
	snprintf(dom, sizeof(dom), "r%ld.private", (long)getpid());
	th_droverd_conf(&D, &c);
	D.xmpp = 1;
	snprintf(rlog, sizeof(rlog), "%s/router.log", D.dir);
	snprintf(rstat, sizeof(rstat), "%s/router.status", D.dir);
	write_core("opensrf", TH_OPENSRF_PW);
	start_router();
	D.pid = th_droverd_exec(&D, extra);
	th_wait_idle(&D, 2, WAIT_MS);
	wait_file_has(rlog, "registered for " SVC);
	client_open();
}

static void
setup(void)
{
	srv = TH_REDIS;
	start_all();
}

static void
setup_osrf(void)
{
	srv = TH_REDIS_OSRF;
	start_all();
}

static void
teardown(void)
{
	int	st;

	th_droverd_cleanup(&D);
	if (router_pid > 0) {
		(void)kill(router_pid, SIGTERM);
		(void)waitpid(router_pid, &st, 0);
		router_pid = -1;
	}
}

static struct rds_conn *
raw(const char *user, const char *pass)
{
	struct rds_params	 p = { 0 };
	struct rds_conn		*c;

	p.host = "127.0.0.1";
	p.port = th_server(srv)->port;
	p.user = user;
	p.pass = pass;
	ck_assert_int_eq(rds_new(&p, &c), 0);
	ck_assert_int_eq(rds_open(c), 0);
	return c;
}

static void
rpush(struct rds_conn *c, const char *key, const char *val)
{
	struct rds_reply	*r;

	ck_assert_int_eq(rds_calll(c, WAIT_MS, &r, "RPUSH", key, val, NULL),
	    0);
	rds_reply_free(&r);
}

static char *
blpop(struct rds_conn *c, const char *key)
{
	struct rds_reply	*r;
	char			*v = NULL;

	ck_assert_int_eq(rds_calll(c, WAIT_MS, &r, "BLPOP", key, "10", NULL),
	    0);
	if (r->type == RDS_ARRAY && r->n == 2)
		v = rds_reply_take(r->elem[1], NULL);
	rds_reply_free(&r);
	ck_assert_msg(v != NULL, "nothing in %s", key);
	return v;
}

/* The next message for the client, decoded. */
static void
next_msg(struct tmsg *t, char **rawp)
{
	struct bus_frame	*f;
	uint64_t		 end = mono_ms() + WAIT_MS;
	int			 rc;

	for (;;) {
		router_alive();
		rc = bus_recv(D.client, &f);
		ck_assert_int_ge(rc, 0);
		if (rc == 1)
			break;
		ck_assert_msg(mono_ms() < end, "no message for the client");
		ck_assert_int_ge(bus_wait(D.client, 100), 0);
	}
	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(bus_decode(D.client, f->raw, f->len, t, NULL), 0);
	if (rawp != NULL)
		*rawp = xstrdup(f->raw);
	bus_frame_free(&f);
}

static void
send_to(const char *to, const char *thread, const char *xid,
    const char *body)
{
	struct tmsg	t = TMSG_INIT;

	t.to = to;
	t.thread = thread;
	t.osrf_xid = xid;
	t.body = body;
	ck_assert_int_eq(bus_send(D.client, &t), 0);
}

#define REQ(trace, method, params) \
	"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"" trace "\"," \
	"\"locale\":\"en-US\",\"api_level\":1,\"type\":\"REQUEST\"," \
	"\"payload\":{\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"" \
	method "\",\"params\":" params "}}}}]"

/* The first STATUS code in a body, and the message type list. */
static int
status_code(const char *body, long long *trace)
{
	struct osrfmsg_list	l = OSRFMSG_LIST_INIT;
	size_t			i;
	int			code = 0;

	ck_assert_int_eq(osrfmsg_decode(body, strlen(body), &l, NULL), 0);
	for (i = 0; i < l.n && code == 0; i++)
		if (l.msg[i].type == OSRFMSG_STATUS) {
			code = l.msg[i].status_code;
			if (trace != NULL)
				*trace = l.msg[i].thread_trace;
		}
	osrfmsg_list_clear(&l);
	return code;
}

/* ------------------------------------------------------------- flows */

/* Stateless: RESULT + 205 from the drone, to the client's own inbox. */
START_TEST(test_rr_stateless)
{
	struct tmsg	t;
	char		*raw;

	send_to(D.listener, "st1", "xid77", REQ("1", "opensrf.system.echo",
	    "[4]"));
	next_msg(&t, &raw);
	ck_assert_str_eq(t.to, bus_addr(D.client));
	ck_assert_msg(strncmp(t.from, "opensrf:client:opensrf:", 23) == 0,
	    "%s", t.from);
	ck_assert_str_eq(t.thread, "st1");
	ck_assert_str_eq(t.osrf_xid, "xid77");
	ck_assert_ptr_nonnull(strstr(t.body, "\"content\":4"));
	ck_assert_int_eq(status_code(t.body, NULL), 205);
	/* C's key order */
	ck_assert_msg(strncmp(raw, "{\"to\":\"", 7) == 0 &&
	    strstr(raw, "\",\"from\":\"") != NULL, "%s", raw);
	free(raw);
	tmsg_clear(&t);
}
END_TEST

/*
 * The router forwards the client's message unchanged (from stays the
 * client's) to a listener's service queue: here the test is that
 * listener, registered with a raw RPUSH as OpenSRF's C listener does.
 */
START_TEST(test_rr_forward_unchanged)
{
	struct rds_conn	*c = raw("opensrf", TH_OPENSRF_PW);
	struct tmsg	 t = TMSG_INIT;
	char		*reg, *q, *v, *want, fake[128], sent[4096];

	snprintf(fake, sizeof(fake), "opensrf:client:opensrf:%s:h:1:f00d",
	    dom);
	reg = xasprintf("{\"to\":\"opensrf:router:router:%s\",\"from\":\"%s\","
	    "\"thread\":\"\",\"body\":\"[]\",\"router_class\":\"fake.svc\","
	    "\"router_command\":\"register\"}", dom, fake);
	q = xasprintf("opensrf:router:router:%s", dom);
	rpush(c, q, reg);
	free(reg);
	wait_file_has(rlog, "registered for fake.svc");
	t.to = "opensrf:service:_:_:fake.svc";
	t.from = bus_addr(D.client);
	t.thread = "fw1";
	t.osrf_xid = "x1";
	t.body = REQ("1", "m", "[1,2]");
	{
		char	*j;

		ck_assert_int_eq(tmsg_json_write(&t, &j, NULL), 0);
		str_copy(sent, j, sizeof(sent));
		free(j);
	}
	send_to("opensrf:service:_:_:fake.svc", "fw1", "x1", REQ("1", "m",
	    "[1,2]"));
	free(q);
	q = xasprintf("opensrf:service:opensrf:%s:fake.svc", dom);
	v = blpop(c, q);
	ck_assert_str_eq(v, sent);
	free(v);
	free(q);
	/* and its status line shows the queue as the node */
	want = xasprintf("    listener opensrf:service:opensrf:%s:fake.svc "
	    "forwarded 1", dom);
	wait_file_has(rstat, want);
	free(want);
	rds_free(&c);
}
END_TEST

/* CONNECT, a request to the drone's inbox, then its keepalive ends it. */
START_TEST(test_rr_session)
{
	struct tmsg	t;
	char		drone[BUS_ADDR_MAX];
	long long	trace = -1;

	send_to(D.listener, "ss1", "", "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"0\",\"locale\":\"en-US\",\"api_level\":1,"
	    "\"type\":\"CONNECT\"}}]");
	next_msg(&t, NULL);
	ck_assert_int_eq(status_code(t.body, NULL), 200);
	ck_assert_ptr_nonnull(strstr(t.body, "Connection Successful"));
	str_copy(drone, t.from, sizeof(drone));
	tmsg_clear(&t);
	send_to(drone, "ss1", "", REQ("1", "opensrf.system.echo", "[9]"));
	next_msg(&t, NULL);
	ck_assert_str_eq(t.from, drone);
	ck_assert_ptr_nonnull(strstr(t.body, "\"content\":9"));
	ck_assert_int_eq(status_code(t.body, NULL), 205);
	tmsg_clear(&t);
	/* idle past keepalive (2 s): the drone says so and leaves */
	next_msg(&t, NULL);
	ck_assert_str_eq(t.from, drone);
	ck_assert_int_eq(status_code(t.body, &trace), 408);
	ck_assert_int_eq(trace, 0);
	tmsg_clear(&t);
	th_wait_idle(&D, 2, WAIT_MS);
}
END_TEST

static void
raw_reg(struct rds_conn *c, const char *from, const char *cls,
    const char *cmd)
{
	char	*reg, *q;

	reg = xasprintf("{\"to\":\"opensrf:router:router:%s\",\"from\":\"%s\","
	    "\"thread\":\"\",\"osrf_xid\":null,\"router_to\":\"\","
	    "\"router_class\":\"%s\",\"router_command\":\"%s\","
	    "\"body\":\"[]\"}", dom, from, cls, cmd);
	q = xasprintf("opensrf:router:router:%s", dom);
	rpush(c, q, reg);
	free(reg);
	free(q);
}

/* API call to the router; the RESULT's content as JSON text. */
static char *
api(const char *method, const char *params)
{
	struct tmsg	t;
	char		*body, *out = NULL, *raw;
	json_t		*v;

	body = xasprintf("[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":"
	    "\"1\",\"locale\":\"en-US\",\"api_level\":1,\"type\":\"REQUEST\","
	    "\"payload\":{\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"%s\","
	    "\"params\":%s}}}}]", method, params);
	send_to("opensrf:service:_:_:router", "api", "", body);
	free(body);
	for (;;) {
		next_msg(&t, &raw);
		/* capture 07: from the router's own inbox, osrf_xid null */
		ck_assert_msg(strncmp(t.from, "opensrf:client:router:", 22) ==
		    0, "%s", t.from);
		ck_assert_ptr_nonnull(strstr(raw, "\"osrf_xid\":null"));
		free(raw);
		if (status_code(t.body, NULL) != 0) {
			ck_assert_int_eq(status_code(t.body, NULL), 205);
			tmsg_clear(&t);
			return out;
		}
		ck_assert_ptr_nonnull(strstr(t.body, "\"status\":null,"
		    "\"statusCode\":\"0\""));
		v = json_loads(t.body, 0, NULL);
		ck_assert_ptr_nonnull(v);
		out = json_dumps(json_object_get(json_object_get(json_object_get(
		    json_object_get(json_array_get(v, 0), "__p"), "payload"),
		    "__p"), "content"), JSON_COMPACT | JSON_SORT_KEYS |
		    JSON_ENCODE_ANY);
		json_decref(v);
		tmsg_clear(&t);
	}
}

/*
 * Registration: two listeners of one user and domain are one node; the
 * class goes with the last unregister; the API says so each time.
 */
START_TEST(test_rr_register)
{
	struct rds_conn	*c = raw("opensrf", TH_OPENSRF_PW);
	char		 a[128], b[128], *s, *want;

	snprintf(a, sizeof(a), "opensrf:client:opensrf:%s:h1:11:aaaa", dom);
	snprintf(b, sizeof(b), "opensrf:client:opensrf:%s:h2:22:bbbb", dom);
	raw_reg(c, a, "shared.svc", "register");
	raw_reg(c, b, "shared.svc", "register");
	wait_file_has(rstat, b);
	s = api("opensrf.router.info.class.list", "[]");
	ck_assert_str_eq(s, "[\"drover.test\",\"shared.svc\"]");
	free(s);
	s = api("opensrf.router.info.stats.class", "[\"shared.svc\"]");
	want = xasprintf("{\"opensrf:service:opensrf:%s:shared.svc\":0}",
	    dom);
	ck_assert_str_eq(s, want);
	free(want);
	free(s);
	raw_reg(c, a, "shared.svc", "unregister");
	wait_file_has(rlog, "unregistered from shared.svc");
	s = api("opensrf.router.info.class.list", "[]");
	ck_assert_str_eq(s, "[\"drover.test\",\"shared.svc\"]");
	free(s);
	raw_reg(c, b, "shared.svc", "unregister");
	wait_file_has(rlog, "class shared.svc has no listener left");
	s = api("opensrf.router.info.class.list", "[]");
	ck_assert_str_eq(s, "[\"drover.test\"]");
	free(s);
	/* an unknown router method: a 404, where OpenSRF says nothing */
	s = NULL;
	{
		struct tmsg	t;

		send_to("opensrf:service:_:_:router", "api2", "", REQ("1",
		    "opensrf.router.no.such.method", "[]"));
		next_msg(&t, NULL);
		ck_assert_int_eq(status_code(t.body, NULL), 404);
		ck_assert_ptr_nonnull(strstr(t.body,
		    "Router method not found"));
		tmsg_clear(&t);
	}
	rds_free(&c);
}
END_TEST

/* Capture 05: 404 osrfServiceException with the request's trace. */
START_TEST(test_rr_unknown_service)
{
	struct tmsg	 t;
	char		*raw, *want;

	send_to("opensrf:service:_:_:opensrf.nosuch.service", "us1", "ux1",
	    REQ("1", "some.method", "[1]"));
	next_msg(&t, &raw);
	want = xasprintf("{\"to\":\"%s\",\"from\":\"%s\",\"thread\":\"us1\","
	    "\"osrf_xid\":null,\"body\":[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"1\",\"locale\":\"en-US\",\"api_level\":1,"
	    "\"type\":\"STATUS\",\"payload\":{\"__c\":\"osrfServiceException\","
	    "\"__p\":{\"status\":\"Service Not Found\",\"statusCode\":\"404\"}"
	    "}}}]}", bus_addr(D.client), t.from);
	ck_assert_str_eq(raw, want);
	ck_assert_msg(strncmp(t.from, "opensrf:client:router:", 22) == 0,
	    "%s", t.from);
	free(want);
	free(raw);
	tmsg_clear(&t);
	/* each request its own trace */
	send_to("opensrf:service:_:_:opensrf.nosuch.service", "us2", "",
	    REQ("7", "some.method", "[1]"));
	next_msg(&t, NULL);
	ck_assert_ptr_nonnull(strstr(t.body, "\"threadTrace\":\"7\""));
	tmsg_clear(&t);
}
END_TEST

/* Capture 04: the drone's 404 for a method it does not have. */
START_TEST(test_rr_unknown_method)
{
	struct tmsg	t;

	send_to(D.listener, "um1", "", REQ("1", "no.such.method", "[1]"));
	next_msg(&t, NULL);
	ck_assert_int_eq(status_code(t.body, NULL), 404);
	ck_assert_ptr_nonnull(strstr(t.body, "\"__c\":"
	    "\"osrfMethodException\""));
	ck_assert_ptr_nonnull(strstr(t.body, "Method [no.such.method] not "
	    "found for service " SVC));
	tmsg_clear(&t);
}
END_TEST

/* Capture 06: a 200 KB result comes in slices, in order. */
START_TEST(test_rr_chunked)
{
	struct th_reply	r;
	size_t		i;

	th_call(&D, "drover.test.bytes", "[204800]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	ck_assert_int_gt(r.nresults, 2);	/* slices + the final one */
	/* the slices joined are the result's JSON text: a string */
	ck_assert_uint_eq(strlen(r.content), 204802);
	ck_assert_int_eq(r.content[0], '"');
	for (i = 0; i < 204800; i++)
		ck_assert_int_eq(r.content[i + 1],
		    "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]);
	th_reply_free(&r);
}
END_TEST

/*
 * Capture 10: a sender of an untrusted domain.  OpenSRF drops it; drover
 * answers 403 (here the domain is "localhost", which resolves, so the
 * router's reply can reach its Redis and the test can read it), and its
 * registration is ignored.
 */
START_TEST(test_rr_untrusted)
{
	struct rds_conn	*c = raw("opensrf", TH_OPENSRF_PW);
	struct tmsg	 t = TMSG_INIT;
	const char	*evil = "opensrf:client:opensrf:localhost:probe:1:dead";
	char		*q, *v, *s;

	raw_reg(c, evil, "evil.service", "register");
	q = xasprintf("opensrf:router:router:%s", dom);
	v = xasprintf("{\"to\":\"opensrf:service:_:_:%s\",\"from\":\"%s\","
	    "\"thread\":\"evil-thread-1\",\"osrf_xid\":\"evilxid\",\"body\":"
	    REQ("1", "add", "[1,1]") "}", SVC, evil);
	rpush(c, q, v);
	free(v);
	free(q);
	v = blpop(c, evil);
	ck_assert_int_eq(tmsg_json_parse(v, strlen(v), &t, NULL), 0);
	ck_assert_str_eq(t.thread, "evil-thread-1");
	ck_assert_int_eq(status_code(t.body, NULL), 403);
	tmsg_clear(&t);
	free(v);
	wait_file_has(rlog, "register from untrusted " "opensrf:client:"
	    "opensrf:localhost");
	s = api("opensrf.router.info.class.list", "[]");
	ck_assert_str_eq(s, "[\"" SVC "\"]");
	free(s);
	rds_free(&c);
}
END_TEST

/* drover-call through the router: plain, --connect, --bench. */
START_TEST(test_rr_drover_call)
{
	char	*cmd, out[4096];
	FILE	*p;
	size_t	 n;
	int	 i;
	static const char *const args[] = {
		SVC " opensrf.system.echo '\"hi\"' 3",
		"--connect " SVC " opensrf.system.echo 5",
		"--bench 300 --concurrency 3 " SVC " opensrf.system.echo 1",
		"opensrf.nosuch m 1",
	};
	static const char *const want[] = {
		"\"hi\"\n3\n", "5\n", "errors 0", "status 404: Service Not "
		"Found",
	};

	for (i = 0; i < 4; i++) {
		cmd = xasprintf("%s/drover-call -c %s -t 10 %s 2>&1",
		    getenv("DROVER_BIN") != NULL ? getenv("DROVER_BIN") :
		    "bin", D.core, args[i]);
		ck_assert_ptr_nonnull(p = popen(cmd, "r"));
		n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = '\0';
		ck_assert_int_eq(WEXITSTATUS(pclose(p)), i == 3 ? 2 : 0);
		ck_assert_msg(strstr(out, want[i]) != NULL, "%s: %s", args[i],
		    out);
		free(cmd);
	}
}
END_TEST

/* OpenSRF's own accounts: served; the queue metrics are refused. */
START_TEST(test_rr_osrf_accounts)
{
	struct th_reply	r;

	th_call(&D, "opensrf.system.echo", "[3]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	ck_assert_str_eq(r.content, "3");
	th_reply_free(&r);
	th_wait_log(&D, "may not LLEN", WAIT_MS);
	ck_assert(th_log_has(&D, "requests are served as usual"));
}
END_TEST

/*
 * Redis restarts under load: every process reconnects; the requests in
 * flight end in errors (no client hangs); droverd registers again and
 * the router routes to it.
 */
START_TEST(test_rr_restart)
{
	struct th_reply	 r;
	char		*cmd, out[4096];
	FILE		*p;
	size_t		 n;
	int		 st;

	/* clients log in again after a drop: --duration ends the load */
	cmd = xasprintf("%s/drover-call -c %s -t 5 --bench 1000000 "
	    "--duration 6 --concurrency 4 " SVC " opensrf.system.echo 1 2>&1",
	    getenv("DROVER_BIN") != NULL ? getenv("DROVER_BIN") : "bin",
	    D.core);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	free(cmd);
	/* under load: the router has forwarded a good many */
	wait_file_has(rstat, "forwarded 1");
	ck_assert_int_eq(th_server_restart(TH_REDIS), 0);
	/* the clients end, with errors for what was in flight */
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	st = pclose(p);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0, "%s", out);
	ck_assert_msg(strstr(out, "errors 0") == NULL, "%s", out);
	/* everyone came back: the router, droverd (registered again) */
	wait_file_has(rlog, "connection opensrf:router:router");
	th_wait_log(&D, "registered drover.test with 1 router", WAIT_MS);
	bus_free(&D.client);
	client_open();
	{
		uint64_t	end = mono_ms() + WAIT_MS;
		struct tmsg	t;

		/* the router may take a moment: a 404 means not yet */
		for (;;) {
			send_to(D.listener, "rs", "", REQ("1",
			    "opensrf.system.echo", "[1]"));
			next_msg(&t, NULL);
			st = status_code(t.body, NULL);
			tmsg_clear(&t);
			if (st == 205)
				break;
			ck_assert_int_eq(st, 404);
			ck_assert(mono_ms() < end);
			(void)poll(NULL, 0, 50);	/* the router's turn */
		}
	}
	th_call(&D, "opensrf.system.echo", "[2]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	th_reply_free(&r);
}
END_TEST

/* Cut every TCP connection of the processes of group pgid (ss -K). */
static void
cut_connections(pid_t pgid)
{
	char	cmd[1024];

	snprintf(cmd, sizeof(cmd), "for p in $(pgrep -g %ld); do ls -l "
	    "/proc/$p/fd 2>/dev/null; done | sed -n 's/.*socket:\\["
	    "\\([0-9]*\\)\\].*/\\1/p' | sort -u | while read i; do ss "
	    "-tneH | awk -v i=\"ino:$i\" '{for (f = 1; f <= NF; f++) if "
	    "($f == i) print $4}'; done | while read a; do ss -K -tn src "
	    "\"$a\" >/dev/null; done", (long)pgid);
	ck_assert_int_eq(system(cmd), 0);
}

/*
 * Issue 14 on Redis: two droverd listeners of one service, user and
 * domain pop one queue, as if on two hosts.  One is frozen (SIGSTOP, its
 * group): it stops popping, and the other takes every request, but for
 * the one the frozen listener's BLPOP had already been promised by
 * Redis: that waits.  Its connections are cut (ss -K) and it thaws: it
 * reconnects, registers again and answers the request it held.
 */
START_TEST(test_rr_frozen)
{
	struct th_droverd	 D2;
	struct th_conf		 c = { .min_children = 2, .max_children = 3,
				    .keepalive = 2 };
	struct th_reply		 r;
	const char		*extra[] = { "-f", NULL };
	char			 inst[32];
	int			 i, served = 0;

	memset(&D2, 0, sizeof(D2));
	snprintf(inst, sizeof(inst), "b%ld", (long)getpid());
	c.instance = inst;
	th_droverd_conf(&D2, &c);
	D2.xmpp = 1;
	write_core_to(D2.core, D2.log, "opensrf", TH_OPENSRF_PW);
	D2.pid = th_droverd_exec(&D2, extra);
	th_wait_idle(&D2, 2, WAIT_MS);
	th_wait_log(&D2, "registered drover.test with 1 router", WAIT_MS);
	/* one queue, two registrants */
	wait_file_has(rstat, "      registrant ");
	for (i = 0; i < 4; i++) {
		th_call(&D, "opensrf.system.echo", "[1]", &r, WAIT_MS);
		th_reply_free(&r);
	}
	ck_assert_int_eq(kill(-D.pid, SIGSTOP), 0);
	for (i = 0; i < 10; i++)
		th_send(&D, NULL, 100 + i, "opensrf.system.echo", "[2]", NULL);
	/* all but what the frozen one holds: at most one, its BLPOP's */
	for (i = 0; i < 9; i++) {
		th_recv(&D, &r, WAIT_MS);
		ck_assert_int_eq(r.code, 205);
		th_reply_free(&r);
		served++;
	}
	/*
	 * The tenth was popped into the frozen process's socket; cutting
	 * the connection loses it with the socket's buffer, and its client
	 * ends on its own timeout (drover-call's -t): the documented worst
	 * case.  Nothing else is lost.
	 */
	cut_connections(D.pid);
	ck_assert_int_eq(kill(-D.pid, SIGCONT), 0);
	th_wait_log(&D, "bus: redis: connection of", WAIT_MS);
	th_wait_log(&D, "registered drover.test with 1 router", WAIT_MS);
	/* both serve again: six more, each answered (the tenth may come
	 * in between, late, if it survived) */
	for (i = 0; i < 6; i++)
		th_send(&D, NULL, 200 + i, "opensrf.system.echo", "[3]",
		    NULL);
	for (i = 0; i < 6; i++) {
		th_recv(&D, &r, WAIT_MS);
		ck_assert_int_eq(r.code, 205);
		if (r.trace < 200)
			i--;
		th_reply_free(&r);
	}
	ck_assert_int_eq(served, 9);
	th_droverd_cleanup(&D2);
}
END_TEST

Suite *
router_redis_suite(void)
{
	Suite	*s = suite_create("router_redis");
	TCase	*tc;

	tc = tcase_create("flows");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, th_redis_setup, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rr_stateless);
	tcase_add_test(tc, test_rr_forward_unchanged);
	tcase_add_test(tc, test_rr_session);
	tcase_add_test(tc, test_rr_register);
	tcase_add_test(tc, test_rr_unknown_service);
	tcase_add_test(tc, test_rr_unknown_method);
	tcase_add_test(tc, test_rr_chunked);
	tcase_add_test(tc, test_rr_untrusted);
	tcase_add_test(tc, test_rr_drover_call);
	suite_add_tcase(s, tc);

	tc = tcase_create("frozen");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, th_redis_setup, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rr_frozen);
	suite_add_tcase(s, tc);

	tc = tcase_create("opensrf_accounts");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, th_redis_osrf_setup, NULL);
	tcase_add_checked_fixture(tc, setup_osrf, teardown);
	tcase_add_test(tc, test_rr_osrf_accounts);
	suite_add_tcase(s, tc);

	/* its own TCase: it restarts the shared server */
	tc = tcase_create("restart");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, th_redis_setup, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rr_restart);
	suite_add_tcase(s, tc);
	return s;
}
