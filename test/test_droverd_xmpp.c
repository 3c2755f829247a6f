/*
 * test_droverd_xmpp.c: droverd on a real XMPP server (private ejabberd,
 * test/servers) behind drover-router: it registers, serves requests
 * routed to it, answers a request whose child was killed, unregisters
 * on SIGUSR1 and comes back on SIGUSR2, and stops cleanly.  Tagged
 * "integration".
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
#include "proto/stanza.h"
#include "proto/tmsg.h"
#include "proto/xmpp.h"
#include "scoreboard/sb.h"
#include "th_droverd.h"
#include "th_servers.h"
#include "util.h"

#define WAIT_MS		20000

static struct th_droverd D;
static pid_t		 router_pid = -1;

static void
write_text(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static void
start_router(void)
{
	char	path[160], log[160], bin[512], *x;
	int	fd;

	snprintf(path, sizeof(path), "%s/router.xml", D.dir);
	snprintf(log, sizeof(log), "%s/router.log", D.dir);
	x = xasprintf("<config><routers><router><trusted_domains><server>%s"
	    "</server><client>%s</client></trusted_domains><transport>"
	    "<server>%s</server><host>127.0.0.1</host><port>%d</port>"
	    "<username>router</username><password>%s</password><resource>"
	    "router</resource><reconnect_max>2</reconnect_max></transport>"
	    "<logfile>%s</logfile><loglevel>3"
	    "</loglevel></router></routers></config>\n", TH_DOMAIN_PRIVATE,
	    TH_DOMAIN_PRIVATE, TH_DOMAIN_PRIVATE,
	    th_server(TH_EJABBERD)->port, TH_ROUTER_PW, log);
	write_text(path, x);
	free(x);
	snprintf(bin, sizeof(bin), "%s/drover-router",
	    getenv("DROVER_BIN") != NULL ? getenv("DROVER_BIN") : "bin");
	router_pid = fork();
	ck_assert_int_ne(router_pid, -1);
	if (router_pid == 0) {
		(void)setpgid(0, 0);
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, "drover-router", "-f", "-c", path, (char *)NULL);
		_exit(127);
	}
}

static void
wait_file_has(const char *path, const char *needle)
{
	th_wait_file(path, needle, WAIT_MS, NULL, NULL);
}

static void
router_ready(void)
{
	char	log[160];

	snprintf(log, sizeof(log), "%s/router.log", D.dir);
	wait_file_has(log, "router: logged in as");
}

static void
start(int router_first)
{
	struct th_conf	 c = { .min_children = 2, .max_children = 3 };
	struct bus_conf xc;
	const char	*extra[] = { "-f", NULL };
	char			*x;
	struct bus_params	 bp;

	memset(&D, 0, sizeof(D));
	th_droverd_conf(&D, &c);
	D.xmpp = 1;
	x = xasprintf("<?xml version=\"1.0\"?>\n<config><opensrf>"
	    "<domain>%s</domain><host>127.0.0.1</host><port>%d</port>"
	    "<username>opensrf</username><passwd>%s</passwd>"
	    "<router_name>router</router_name><tls>off</tls>"
	    "<reconnect_max>2</reconnect_max>"
	    "<logfile>%s</logfile><loglevel>4</loglevel>"
	    "<settings_config>opensrf.xml</settings_config>"
	    "<allow_root>true</allow_root>"
	    "</opensrf></config>\n", TH_DOMAIN_PRIVATE,
	    th_server(TH_EJABBERD)->port, TH_OPENSRF_PW, D.log);
	write_text(D.core, x);
	free(x);
	if (router_first) {
		start_router();
		router_ready();
	}
	D.pid = th_droverd_exec(&D, extra);
	th_wait_idle(&D, 2, WAIT_MS);
	/* a client of its own, addressing the service through the router */
	memset(&xc, 0, sizeof(xc));
	xc.host = (char *)"127.0.0.1";
	xc.domain = (char *)TH_DOMAIN_PRIVATE;
	xc.port = th_server(TH_EJABBERD)->port;
	xc.username = (char *)"opensrf";
	xc.password = (char *)TH_OPENSRF_PW;
	xc.auth = XMPP_AUTH_LEGACY;
	xc.legacy_digest = 1;
	xc.tls = XMPP_TLS_OFF;
	xc.max_stanza_size = STANZA_MAX_SIZE_DEFAULT;
	xc.connect_timeout_ms = WAIT_MS;
	xc.reconnect_max_ms = 30000;
	memset(&bp, 0, sizeof(bp));
	bp.kind = BUS_XMPP;
	bp.conf = &xc;
	bp.role = BUS_ROLE_CLIENT;
	ck_assert_int_eq(bus_new(&bp, &D.client), 0);
	ck_assert_int_eq(bus_open(D.client, WAIT_MS), 0);
	snprintf(D.listener, sizeof(D.listener), "router@%s/drover.test",
	    TH_DOMAIN_PRIVATE);
}

static void
setup(void)
{
	start(1);
}

static void
setup_router_late(void)
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

/*
 * One idempotent request through the router, sent again while the
 * router bounces it (droverd's registration may not have reached it
 * yet) or nothing comes back in RESEND_MS (a class the router is just
 * closing or reopening may swallow it).
 */
#define RESEND_MS	2000

/*
 * Send one request through the router and wait for its answer: 1 when
 * it was served (205), 0 when it came back as an error (a bounce, or the
 * router's own error status), -1 when nothing came within RESEND_MS.
 */
static int
try_routed(const char *method, const char *params)
{
	uint64_t		 again = mono_ms() + RESEND_MS;
	struct bus_frame	*st;
	struct tmsg		 t = TMSG_INIT;
	struct pollfd		 p;
	char			 thread[64];
	int			 rc, served;

	th_send(&D, NULL, 1, method, params, thread);
	while (mono_ms() < again) {
		rc = bus_recv(D.client, &st);
		ck_assert_int_ge(rc, 0);
		if (rc == 1 && strstr(st->raw, thread) != NULL) {
			ck_assert_int_eq(bus_decode(D.client, st->raw,
			    st->len, &t, NULL), 0);
			served = !(st->flags & BUS_F_ERROR) && !t.is_error &&
			    strstr(t.body, "\"statusCode\":\"205\"") != NULL;
			tmsg_clear(&t);
			bus_frame_free(&st);
			return served;
		}
		if (rc == 1) {
			bus_frame_free(&st);	/* a late answer to a resend */
			continue;
		}
		p.fd = bus_fd(D.client);
		p.events = POLLIN;
		(void)poll(&p, 1, 100);
	}
	return -1;
}

/*
 * One idempotent request through the router, sent again while the router
 * bounces it (droverd's registration may not have reached it yet) or
 * nothing comes back.
 */
static void
call_routed(const char *method, const char *params, struct th_reply *r)
{
	uint64_t	end = mono_ms() + WAIT_MS;

	while (try_routed(method, params) != 1) {
		ck_assert_msg(mono_ms() < end, "the router never served "
		    "drover.test");
		(void)poll(NULL, 0, 50);	/* the router's turn */
	}
	memset(r, 0, sizeof(*r));
	r->code = 205;
}

START_TEST(test_xmpp_serve)
{
	struct th_reply	r;

	call_routed("opensrf.system.echo", "[\"over xmpp\"]", &r);
	ck_assert_int_eq(r.code, 205);
	/* steady state: straight through */
	th_call(&D, "opensrf.system.echo", "[2]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	ck_assert_str_eq(r.content, "2");
	th_reply_free(&r);
	ck_assert(th_log_has(&D, "serving with 2 children"));
}
END_TEST

/* The drover.test.sleep request is running in some child. */
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

START_TEST(test_xmpp_rescue)
{
	struct th_reply	 r;
	struct th_view	*v = xmalloc(sizeof(*v));
	uint64_t	 end;
	int		 i;

	call_routed("opensrf.system.echo", "[1]", &r);
	th_send(&D, NULL, 11, "drover.test.sleep", "[60]", NULL);
	th_wait_sb(&D, sleeping, NULL, WAIT_MS, "a child running the sleep");
	th_view(&D, v);
	for (i = 0; i < SB_SLOTS; i++)
		if (v->slot[i].state == SB_BUSY &&
		    strcmp(v->slot[i].method, "drover.test.sleep") == 0)
			ck_assert_int_eq(kill(v->slot[i].pid, SIGKILL), 0);
	free(v);
	/*
	 * call_routed() may have resent its echo while the router was
	 * still opening the class; a late answer to such a resend (trace 1)
	 * is not the rescue this test waits for.
	 */
	end = mono_ms() + WAIT_MS;
	for (;;) {
		ck_assert_msg(mono_ms() < end, "no answer for the killed request");
		th_recv(&D, &r, WAIT_MS);
		if (r.trace == 11)
			break;
		th_reply_free(&r);
	}
	ck_assert_int_eq(r.code, 500);
	th_reply_free(&r);
}
END_TEST

START_TEST(test_xmpp_unregister)
{
	struct th_reply	r;

	struct th_view	*v = xmalloc(sizeof(*v));
	uint64_t	 end, accepted;
	int		 rc;

	call_routed("opensrf.system.echo", "[1]", &r);
	ck_assert_int_eq(kill(D.pid, SIGUSR1), 0);
	/* the unregister is on its way; then the router refuses the class
	 * (a request sent before it arrived may still be served) */
	th_wait_log(&D, "SIGUSR1: unregistered from 1 router", WAIT_MS);
	end = mono_ms() + WAIT_MS;
	while ((rc = try_routed("opensrf.system.echo", "[2]")) != 0)
		ck_assert_msg(mono_ms() < end, "still routed to droverd "
		    "after SIGUSR1");
	/* and droverd really gets no traffic: another refused request
	 * leaves its accepted count as it was */
	th_view(&D, v);
	accepted = v->info.counters[SB_C_ACCEPTED];
	ck_assert_int_eq(try_routed("opensrf.system.echo", "[3]"), 0);
	th_view(&D, v);
	ck_assert_uint_eq(v->info.counters[SB_C_ACCEPTED], accepted);
	free(v);
	ck_assert_int_eq(kill(D.pid, SIGUSR2), 0);
	th_wait_log(&D, "SIGUSR2: registered with 1 router", WAIT_MS);
	call_routed("opensrf.system.echo", "[4]", &r);
	ck_assert_int_eq(th_droverd_stop(&D, SIGTERM, WAIT_MS) & 0xffff, 0);
}
END_TEST

START_TEST(test_xmpp_router_late)
{
	struct th_reply	r;

	/* droverd first: its registration bounces; it tries again */
	th_wait_log(&D, "registration with router@private.localhost "
	    "bounced", WAIT_MS);
	start_router();
	router_ready();
	call_routed("opensrf.system.echo", "[3]", &r);
	ck_assert_int_eq(r.code, 205);
}
END_TEST

/* Some live slot's pid is not in old[0..n). */
struct pids {
	pid_t	old[SB_SLOTS];
	int	n;
};

static int
new_child(const struct th_view *v, void *arg)
{
	const struct pids	*p = arg;
	int			 i, j;

	for (i = 0; i < SB_SLOTS; i++) {
		if (v->slot[i].pid <= 0 || v->slot[i].state == SB_DEAD ||
		    v->slot[i].state == SB_EMPTY)
			continue;
		for (j = 0; j < p->n && p->old[j] != v->slot[i].pid; j++)
			;
		if (j == p->n)
			return 1;
	}
	return 0;
}

/*
 * The XMPP server goes away: the parent goes on reaping and respawning
 * (a child killed meanwhile is replaced at once, not after the bus is
 * back), and once the server is back the service answers again: the
 * parent, the router and every child reconnect by themselves.
 */
START_TEST(test_xmpp_server_down)
{
	struct th_view	*v = xmalloc(sizeof(*v));
	struct pids	 p;
	struct th_reply	 r;
	pid_t		 victim = 0;
	int		 i;

	call_routed("opensrf.system.echo", "[1]", &r);
	ck_assert_int_eq(th_server_stop(TH_EJABBERD), 0);
	th_wait_log(&D, "bus: xmpp: connection of opensrf@", WAIT_MS);
	th_view(&D, v);
	p.n = 0;
	for (i = 0; i < SB_SLOTS; i++)
		if (v->slot[i].pid > 0 && v->slot[i].state != SB_DEAD &&
		    v->slot[i].state != SB_EMPTY) {
			p.old[p.n++] = v->slot[i].pid;
			victim = v->slot[i].pid;
		}
	ck_assert_int_gt(victim, 0);
	ck_assert_int_eq(kill(victim, SIGKILL), 0);
	/* reaped and replaced while the bus is still down (it stays down
	   until start_again below, so no deadline is the point here) */
	th_wait_sb(&D, new_child, &p, WAIT_MS, "a replacement child");
	free(v);
	ck_assert_int_eq(th_server_start_again(TH_EJABBERD), 0);
	/* the test's own client lost its connection too: log in again */
	while (bus_state(D.client) == BUS_UP) {
		struct bus_frame *f;

		if (bus_recv(D.client, &f) == 1)
			bus_frame_free(&f);
		else
			ck_assert_int_ge(bus_wait(D.client, 100), 0);
	}
	ck_assert_int_eq(bus_open(D.client, WAIT_MS), 0);
	call_routed("opensrf.system.echo", "[2]", &r);
	ck_assert_int_eq(r.code, 205);
	ck_assert_int_eq(th_droverd_stop(&D, SIGTERM, WAIT_MS) & 0xffff, 0);
}
END_TEST

Suite *
droverd_xmpp_suite(void)
{
	Suite	*s = suite_create("droverd_xmpp");
	TCase	*tc;

	tc = tcase_create("ejabberd");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_xmpp_serve);
	tcase_add_test(tc, test_xmpp_rescue);
	tcase_add_test(tc, test_xmpp_unregister);
	suite_add_tcase(s, tc);

	/* its own TCase: it stops and restarts the shared server */
	tc = tcase_create("server_down");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_xmpp_server_down);
	suite_add_tcase(s, tc);

	tc = tcase_create("router_late");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_checked_fixture(tc, setup_router_late, teardown);
	tcase_add_test(tc, test_xmpp_router_late);
	suite_add_tcase(s, tc);
	return s;
}
