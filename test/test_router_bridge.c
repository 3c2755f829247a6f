/*
 * test_router_bridge.c: one drover-router bridging an XMPP domain
 * (private ejabberd) and a Redis domain (private redis-server), tag
 * "integration".
 *
 * droverd serves drover.test on one bus; a client on the other calls
 * it: stateless requests, a connected session (whose later messages go
 * to the bridge's own address on the client's bus, which passes them to
 * the drone), and drover-call, in both directions.  The router's status
 * shows the class mirrored as the fallback node "drover-bridge" and the
 * bridge's counters.  When droverd leaves, the mirror goes too.
 *
 * The Redis domain carries the test's pid, so the shared server never
 * mixes two tests.  No sleeps: every wait polls with a deadline.
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
#include "log.h"
#include "proto/osrfmsg.h"
#include "proto/router_bridge.h"
#include "proto/stanza.h"
#include "proto/tmsg.h"
#include "th_droverd.h"
#include "th_servers.h"
#include "util.h"

#define WAIT_MS		20000
#define SVC		"drover.test"
#define XDOM		TH_DOMAIN_PRIVATE

static struct th_droverd D;
static char		 rdom[64], rcore[160], xcore[160], rlog[160];
static char		 rstat[160];
static pid_t		 router_pid = -1;
static struct bus_conf	 cc;

static void
write_text(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
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

/*
 * Two cores, one per bus, for droverd and drover-call; the routers'
 * part (both entries, bridged) is in each, drover-router reads xcore.
 */
static void
write_cores(void)
{
	char	*routers, *x;

	routers = xasprintf("<routers>"
	    "<router><trusted_domains><server>" XDOM "</server><client>"
	    XDOM "</client></trusted_domains><transport><server>" XDOM
	    "</server><host>127.0.0.1</host><port>%d</port><username>router"
	    "</username><password>%s</password><resource>router</resource>"
	    "<reconnect_max>1</reconnect_max></transport><logfile>%s"
	    "</logfile><loglevel>4</loglevel><bridge>%s</bridge></router>"
	    "<router><trusted_domains><server>%s</server><client>%s"
	    "</client></trusted_domains><transport><server>%s</server>"
	    "<host>127.0.0.1</host><port>%d</port><bus>redis</bus>"
	    "<username>router</username><password>%s</password>"
	    "<reconnect_max>1</reconnect_max></transport></router>"
	    "</routers>", th_server(TH_EJABBERD)->port, TH_ROUTER_PW, rlog,
	    rdom, rdom, rdom, rdom, th_server(TH_REDIS)->port, TH_ROUTER_PW);
	x = xasprintf("<?xml version=\"1.0\"?>\n<config><opensrf><routers>"
	    "<router>" XDOM "</router></routers><domain>" XDOM "</domain>"
	    "<host>127.0.0.1</host><port>%d</port><username>opensrf"
	    "</username><passwd>%s</passwd><router_name>router</router_name>"
	    "<tls>off</tls><reconnect_max>1</reconnect_max><logfile>%s"
	    "</logfile><loglevel>4</loglevel><client>true</client>"
	    "<allow_root>true</allow_root>"
	    "<settings_config>opensrf.xml</settings_config></opensrf>%s"
	    "</config>\n", th_server(TH_EJABBERD)->port, TH_OPENSRF_PW,
	    D.log, routers);
	write_text(xcore, x);
	free(x);
	x = xasprintf("<?xml version=\"1.0\"?>\n<config><opensrf><routers>"
	    "<router>%s</router></routers><domain>%s</domain>"
	    "<host>127.0.0.1</host><port>%d</port><bus>redis</bus>"
	    "<username>opensrf</username><passwd>%s</passwd><router_name>"
	    "router</router_name><reconnect_max>1</reconnect_max><logfile>%s"
	    "</logfile><loglevel>4</loglevel><client>true</client>"
	    "<allow_root>true</allow_root>"
	    "<settings_config>opensrf.xml</settings_config></opensrf>%s"
	    "</config>\n", rdom, rdom, th_server(TH_REDIS)->port,
	    TH_OPENSRF_PW, D.log, routers);
	write_text(rcore, x);
	free(x);
	free(routers);
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
		execl(bin, "drover-router", "-f", "-c", xcore, "-s", rstat,
		    (char *)NULL);
		_exit(127);
	}
	wait_file_has(rlog, "router: logged in as router@" XDOM "/bridge");
	wait_file_has(rlog, "router: logged in as opensrf:client:router:");
}

/* The test's client, on the bus droverd does not use. */
static void
client_open(int redis)
{
	struct bus_params	p;

	memset(&cc, 0, sizeof(cc));
	cc.host = (char *)"127.0.0.1";
	cc.username = (char *)"opensrf";
	cc.password = (char *)TH_OPENSRF_PW;
	cc.max_stanza_size = STANZA_MAX_SIZE_DEFAULT;
	cc.connect_timeout_ms = WAIT_MS;
	if (redis) {
		cc.kind = BUS_REDIS;
		cc.domain = rdom;
		cc.port = th_server(TH_REDIS)->port;
	} else {
		cc.kind = BUS_XMPP;
		cc.domain = (char *)XDOM;
		cc.port = th_server(TH_EJABBERD)->port;
		cc.auth = XMPP_AUTH_LEGACY;
		cc.legacy_digest = 1;
		cc.tls = XMPP_TLS_OFF;
	}
	memset(&p, 0, sizeof(p));
	p.kind = cc.kind;
	p.conf = &cc;
	p.role = BUS_ROLE_CLIENT;
	p.router_name = "router";
	ck_assert_int_eq(bus_new(&p, &D.client), 0);
	ck_assert_int_eq(bus_open(D.client, WAIT_MS), 0);
	ck_assert_int_gt(bus_service_addr(D.client, SVC, D.listener,
	    sizeof(D.listener)), 0);
}

/* droverd on Redis (redis_service) or XMPP, the client on the other. */
static void
start(int redis_service)
{
	struct th_conf	 c = { .min_children = 2, .max_children = 3 };
	const char	*extra[] = { "-f", NULL };
	char		 want[160];

	memset(&D, 0, sizeof(D));
	snprintf(rdom, sizeof(rdom), "b%ld.private", (long)getpid());
	th_droverd_conf(&D, &c);
	D.xmpp = 1;
	snprintf(rcore, sizeof(rcore), "%s/redis_core.xml", D.dir);
	snprintf(xcore, sizeof(xcore), "%s/xmpp_core.xml", D.dir);
	snprintf(rlog, sizeof(rlog), "%s/router.log", D.dir);
	snprintf(rstat, sizeof(rstat), "%s/router.status", D.dir);
	write_cores();
	/* droverd reads D.core: the core of its bus */
	str_copy(D.core, redis_service ? rcore : xcore, sizeof(D.core));
	start_router();
	D.pid = th_droverd_exec(&D, extra);
	th_wait_idle(&D, 2, WAIT_MS);
	/* mirrored on the client's bus, its class address up there */
	wait_file_has(rstat, "    listener " "drover-bridge forwarded");
	snprintf(want, sizeof(want), "  class " SVC " state up");
	wait_file_has(rstat, want);
	client_open(!redis_service);
}

static void
setup_redis_service(void)
{
	start(1);
}

static void
setup_xmpp_service(void)
{
	start(0);
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

/* The next message for the client, decoded; its body's first status. */
static int
next_status(struct tmsg *t)
{
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct bus_frame	*f;
	uint64_t		 end = mono_ms() + WAIT_MS;
	size_t			 i;
	int			 rc, code = 0;

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
	bus_frame_free(&f);
	ck_assert_int_eq(osrfmsg_decode(t->body, strlen(t->body), &l, NULL),
	    0);
	for (i = 0; i < l.n && code == 0; i++)
		if (l.msg[i].type == OSRFMSG_STATUS)
			code = l.msg[i].status_code;
	osrfmsg_list_clear(&l);
	return code;
}

static void
send_to(const char *to, const char *thread, const char *body)
{
	struct tmsg	t = TMSG_INIT;

	t.to = to;
	t.thread = thread;
	t.body = body;
	ck_assert_int_eq(bus_send(D.client, &t), 0);
}

#define MSG(trace, type) "[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\"" \
	":\"" trace "\",\"locale\":\"en-US\",\"type\":\"" type "\"}}]"
#define ECHO(trace, v) "[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\"" \
	":\"" trace "\",\"locale\":\"en-US\",\"type\":\"REQUEST\",\"payload\"" \
	":{\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"opensrf.system.echo\"" \
	",\"params\":[" v "]}}}}]"

/* Stateless calls and a connected session across the bridge. */
static void
across(void)
{
	struct th_reply	r;
	struct tmsg	t;
	char		bridge[BUS_ADDR_MAX];
	int		i;

	for (i = 0; i < 5; i++) {
		th_call(&D, "opensrf.system.echo", "[\"across\", 7]", &r,
		    WAIT_MS);
		ck_assert_int_eq(r.code, 205);
		ck_assert_str_eq(r.content, "\"across\"7");
		th_reply_free(&r);
	}
	/* a connected session: the rest goes to the bridge's address */
	send_to(D.listener, "bs1", MSG("0", "CONNECT"));
	ck_assert_int_eq(next_status(&t), 200);
	str_copy(bridge, t.from, sizeof(bridge));
	tmsg_clear(&t);
	ck_assert_msg(strstr(bridge, "/bridge") != NULL ||
	    strncmp(bridge, "opensrf:client:router:", 22) == 0, "%s", bridge);
	for (i = 0; i < 3; i++) {
		send_to(bridge, "bs1", ECHO("1", "42"));
		ck_assert_int_eq(next_status(&t), 205);
		ck_assert_str_eq(t.from, bridge);
		ck_assert_ptr_nonnull(strstr(t.body, "\"content\":42"));
		tmsg_clear(&t);
	}
	send_to(bridge, "bs1", MSG("2", "DISCONNECT"));
	/* the drone is free again */
	th_wait_idle(&D, 2, WAIT_MS);
	wait_file_has(rstat, "  bridge state up sessions 0 across");
}

/* drover-call with the client's core; 0 and its output. */
static void
drover_call(const char *core, const char *args, const char *want)
{
	char	*cmd, out[4096];
	FILE	*p;
	size_t	 n;

	cmd = xasprintf("%s/drover-call -c %s -t 10 %s 2>&1",
	    getenv("DROVER_BIN") != NULL ? getenv("DROVER_BIN") : "bin",
	    core, args);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	ck_assert_msg(pclose(p) == 0, "%s: %s", cmd, out);
	ck_assert_msg(strstr(out, want) != NULL, "%s: %s", cmd, out);
	free(cmd);
}

/* An XMPP client calls a service on Redis. */
START_TEST(test_xmpp_to_redis)
{
	across();
	drover_call(xcore, SVC " opensrf.system.echo 5", "5\n");
	drover_call(xcore, "--connect " SVC " opensrf.system.echo 6", "6\n");
	/* the router's API on XMPP lists the class served on Redis */
	drover_call(xcore, "router opensrf.router.info.class.list",
	    "\"" SVC "\"");
	/* droverd leaves: the mirror goes with it */
	ck_assert_int_eq(th_droverd_stop(&D, SIGTERM, WAIT_MS) & 0xffff, 0);
	wait_file_has(rlog, "bridge: " SVC " has left");
}
END_TEST

/* A Redis client calls a service on XMPP. */
START_TEST(test_redis_to_xmpp)
{
	across();
	drover_call(rcore, SVC " opensrf.system.echo 5", "5\n");
	drover_call(rcore, "--connect " SVC " opensrf.system.echo 6", "6\n");
	drover_call(rcore, "--bench 200 --concurrency 2 " SVC
	    " opensrf.system.echo 1", "errors 0");
}
END_TEST

/* ------------------------------------------------- the pure module */

/*
 * Two routing tables with recording io, and sides whose send records
 * (side, to, thread, body).
 */
struct usent {
	int	side;
	char	to[128];
	char	thread[64];
	char	body[512];
};

static struct router	*UT[2];
static struct router_io	 UIO[2];
static struct usent	 US[32];
static int		 nus;
static struct router_bridge *UB;
static char		 ufwd[2][128];	/* last forward's node per side */
static char		 ufrom[2][128];	/* and its router_from */

static int
u_forward(void *arg, struct router_class *c, const char *to,
    const struct router_fwd *f)
{
	int	side = (int)(intptr_t)arg;

	if (strcmp(to, ROUTER_BRIDGE_NODE) == 0)
		return router_bridge_forward(UB, side, c, f);
	str_copy(ufwd[side], to, sizeof(ufwd[side]));
	str_copy(ufrom[side], f->router_from, sizeof(ufrom[side]));
	return 0;
}

static int
u_reject(void *arg, struct router_class *c, const char *to,
    const struct router_fwd *f, enum router_reject why)
{
	return 0;
}

static int
u_send(void *arg, const char *dest, const struct tmsg *m)
{
	struct usent	*e;

	ck_assert_int_lt(nus, 32);
	e = &US[nus++];
	e->side = (int)(intptr_t)arg;
	str_copy(e->to, dest != NULL ? dest : m->to, sizeof(e->to));
	str_copy(e->thread, m->thread, sizeof(e->thread));
	str_copy(e->body, m->body, sizeof(e->body));
	return 0;
}

static const char *
u_addr(void *arg)
{
	return (intptr_t)arg == 0 ? "router@x/bridge" :
	    "opensrf:client:router:r:h:1:b";
}

static void
unit_setup(void)
{
	char		*dom[] = { "x", "r" };
	struct rbr_side	 sd[2];
	int		 i;

	log_set_level(LOGL_NONE);
	nus = 0;
	for (i = 0; i < 2; i++) {
		char	*list[] = { dom[i] };

		ck_assert_int_eq(router_new("router", dom[i], list, 1, list, 1,
		    &UT[i]), 0);
		memset(&UIO[i], 0, sizeof(UIO[i]));
		UIO[i].arg = (void *)(intptr_t)i;
		UIO[i].forward = u_forward;
		UIO[i].reject = u_reject;
		memset(&sd[i], 0, sizeof(sd[i]));
		sd[i].name = dom[i];
		sd[i].rt = UT[i];
		sd[i].io = &UIO[i];
		sd[i].send = u_send;
		sd[i].addr = u_addr;
		sd[i].arg = (void *)(intptr_t)i;
	}
	ck_assert_int_eq(router_bridge_new(&sd[0], &sd[1], &UB), 0);
}

static void
unit_teardown(void)
{
	router_bridge_free(&UB);
	router_free(&UT[0], &UIO[0]);
	router_free(&UT[1], &UIO[1]);
}

#define XL	"opensrf@x/svc_listener_1"
#define XC	"opensrf@x/_client_1"
#define RD	"opensrf:client:opensrf:r:h:7:d"
#define REQB	"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"1\"," \
	"\"type\":\"REQUEST\",\"payload\":{\"__c\":\"osrfMethod\",\"__p\":" \
	"{\"method\":\"m\",\"params\":[]}}}}]"
#define DONEB	"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"1\"," \
	"\"type\":\"STATUS\",\"payload\":{\"__c\":\"osrfConnectStatus\"," \
	"\"__p\":{\"status\":\"Request Complete\",\"statusCode\":\"205\"}}}}]"

/* A class on one side is mirrored on the other, and goes with it. */
START_TEST(test_unit_mirror)
{
	struct router_class	*c;

	ck_assert_int_eq(router_register(UT[0], "svc", XL, &UIO[0]), 0);
	router_bridge_sync(UB, "svc");
	ck_assert_ptr_nonnull(c = router_class_find(UT[1], "svc"));
	ck_assert_uint_eq(c->nnodes, 1);
	ck_assert_str_eq(c->nodes[0]->jid, ROUTER_BRIDGE_NODE);
	ck_assert_int_eq(c->nodes[0]->fallback, 1);
	ck_assert_uint_eq(router_class_real_nodes(c), 0);
	/* no mirror of a mirror */
	ck_assert_uint_eq(router_class_find(UT[0], "svc")->nnodes, 1);
	/* on both buses: each keeps to its own */
	ck_assert_int_eq(router_register(UT[1], "svc", RD, &UIO[1]), 0);
	router_bridge_sync(UB, "svc");
	ck_assert_uint_eq(router_class_find(UT[0], "svc")->nnodes, 2);
	router_forward(UT[1], router_class_find(UT[1], "svc"),
	    &(struct router_fwd){ "c", "", "t", REQB }, &UIO[1]);
	router_forward(UT[1], router_class_find(UT[1], "svc"),
	    &(struct router_fwd){ "c", "", "t", REQB }, &UIO[1]);
	ck_assert_str_eq(ufwd[1], RD);
	/* it leaves X: the mirror on R goes, R's own stays */
	ck_assert_int_eq(router_unregister(UT[0], "svc", XL, &UIO[0]), 0);
	router_bridge_sync(UB, "svc");
	ck_assert_uint_eq(router_class_find(UT[1], "svc")->nnodes, 1);
	ck_assert_str_eq(router_class_find(UT[1], "svc")->nodes[0]->jid, RD);
	/* and X keeps the class only as a mirror of R */
	ck_assert_uint_eq(router_class_find(UT[0], "svc")->nnodes, 1);
	ck_assert_int_eq(router_class_find(UT[0], "svc")->nodes[0]->fallback,
	    1);
	ck_assert_int_eq(router_unregister(UT[1], "svc", RD, &UIO[1]), 0);
	router_bridge_sync(UB, "svc");
	ck_assert_ptr_null(router_class_find(UT[0], "svc"));
	ck_assert_ptr_null(router_class_find(UT[1], "svc"));
}
END_TEST

/* A stateless request across and its answer back; then forgotten. */
START_TEST(test_unit_stateless)
{
	struct rbr_stats	st;
	struct tmsg		m = TMSG_INIT;

	ck_assert_int_eq(router_register(UT[1], "svc", RD, &UIO[1]), 0);
	router_bridge_sync(UB, "svc");
	/* X's router forwards a client's request to the bridge node */
	router_class_msg(UT[0], router_class_find(UT[0], "svc"),
	    &(struct router_msg){ .from = XC, .thread = "t1",
	    .osrf_xid = "", .body = REQB }, &UIO[0]);
	ck_assert_str_eq(ufwd[1], RD);
	ck_assert_str_eq(ufrom[1], u_addr((void *)1));
	router_bridge_stats(UB, &st);
	ck_assert_uint_eq(st.sessions, 1);
	/* the drone answers the bridge: the client gets it from X's side */
	m.to = u_addr((void *)1);
	m.from = RD;
	m.thread = "t1";
	m.osrf_xid = "";
	m.body = DONEB;
	router_bridge_input(UB, 1, &m);
	ck_assert_int_eq(nus, 1);
	ck_assert_int_eq(US[0].side, 0);
	ck_assert_str_eq(US[0].to, XC);
	ck_assert_str_eq(US[0].body, DONEB);
	router_bridge_stats(UB, &st);
	ck_assert_uint_eq(st.sessions, 0);	/* 205: it is over */
	/* a late copy is dropped */
	router_bridge_input(UB, 1, &m);
	ck_assert_int_eq(nus, 1);
	router_bridge_stats(UB, &st);
	ck_assert_uint_eq(st.dropped, 1);
}
END_TEST

#define CONNB	"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"0\"," \
	"\"type\":\"CONNECT\"}}]"
#define OKB	"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"0\"," \
	"\"type\":\"STATUS\",\"payload\":{\"__c\":\"osrfConnectStatus\"," \
	"\"__p\":{\"status\":\"Connection Successful\",\"statusCode\":" \
	"\"200\"}}}}]"
#define DISCB	"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"2\"," \
	"\"type\":\"DISCONNECT\"}}]"

/* A connected session: the client's next messages go to the drone. */
START_TEST(test_unit_connected)
{
	struct rbr_stats	st;
	struct tmsg		m = TMSG_INIT;

	ck_assert_int_eq(router_register(UT[1], "svc", RD, &UIO[1]), 0);
	router_bridge_sync(UB, "svc");
	router_class_msg(UT[0], router_class_find(UT[0], "svc"),
	    &(struct router_msg){ .from = XC, .thread = "s1",
	    .osrf_xid = "", .body = CONNB }, &UIO[0]);
	m.to = u_addr((void *)1);
	m.from = RD;
	m.thread = "s1";
	m.body = OKB;
	router_bridge_input(UB, 1, &m);		/* 200 to the client */
	ck_assert_str_eq(US[0].to, XC);
	m.to = u_addr((void *)0);
	m.from = XC;
	m.body = REQB;
	router_bridge_input(UB, 0, &m);		/* a request: to the drone */
	ck_assert_int_eq(US[1].side, 1);
	ck_assert_str_eq(US[1].to, RD);
	m.to = u_addr((void *)1);
	m.from = RD;
	m.body = DONEB;
	router_bridge_input(UB, 1, &m);		/* 205: connected lives on */
	router_bridge_stats(UB, &st);
	ck_assert_uint_eq(st.sessions, 1);
	m.to = u_addr((void *)0);
	m.from = XC;
	m.body = DISCB;
	router_bridge_input(UB, 0, &m);
	ck_assert_str_eq(US[3].to, RD);
	router_bridge_stats(UB, &st);
	ck_assert_uint_eq(st.sessions, 0);
	/* untrusted senders are dropped, session or not */
	m.from = "opensrf@evil/x";
	router_bridge_input(UB, 0, &m);
	ck_assert_int_eq(nus, 4);
}
END_TEST

/* Both sides' listeners suspended: across once, then 503, no loop. */
START_TEST(test_unit_no_loop)
{
	ck_assert_int_eq(router_register(UT[0], "svc", XL, &UIO[0]), 0);
	ck_assert_int_eq(router_register(UT[1], "svc", RD, &UIO[1]), 0);
	router_bridge_sync(UB, "svc");
	router_class_find(UT[0], "svc")->nodes[0]->suspended = 1;
	router_class_find(UT[1], "svc")->nodes[0]->suspended = 1;
	router_class_msg(UT[0], router_class_find(UT[0], "svc"),
	    &(struct router_msg){ .from = XC, .thread = "l1",
	    .osrf_xid = "", .body = REQB }, &UIO[0]);
	ck_assert_int_eq(nus, 1);
	ck_assert_str_eq(US[0].to, XC);
	ck_assert_ptr_nonnull(strstr(US[0].body, "\"503\""));
}
END_TEST

Suite *
router_bridge_suite(void)
{
	Suite	*s = suite_create("router_bridge");
	TCase	*tc;

	tc = tcase_create("unit");
	tcase_add_checked_fixture(tc, unit_setup, unit_teardown);
	tcase_add_test(tc, test_unit_mirror);
	tcase_add_test(tc, test_unit_stateless);
	tcase_add_test(tc, test_unit_connected);
	tcase_add_test(tc, test_unit_no_loop);
	suite_add_tcase(s, tc);

	tc = tcase_create("xmpp_to_redis");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_unchecked_fixture(tc, th_redis_setup, NULL);
	tcase_add_checked_fixture(tc, setup_redis_service, teardown);
	tcase_add_test(tc, test_xmpp_to_redis);
	suite_add_tcase(s, tc);

	tc = tcase_create("redis_to_xmpp");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_unchecked_fixture(tc, th_redis_setup, NULL);
	tcase_add_checked_fixture(tc, setup_xmpp_service, teardown);
	tcase_add_test(tc, test_redis_to_xmpp);
	suite_add_tcase(s, tc);
	return s;
}
