/*
 * test_runtime_xmpp.c: the runtime and drover-call over a real XMPP
 * server (tag "integration"), on the private ejabberd of test/servers.
 *
 * Until droverd serves over XMPP, the drones are played by small
 * processes forked here: each logs into ejabberd as opensrf with a drone
 * resource, loads an example plugin from $DROVER_LIB and hands every
 * stanza it receives to the runtime (rt_serve), exactly what a droverd
 * child does with a stanza from its listener.  opensrf.math's
 * sub-requests go to the opensrf.dbmath drone's JID, as the router
 * would forward them.  drover-call (the real binary) logs in as the
 * router account and addresses the drones with --to.
 *
 * The second TCase runs the whole OpenSRF topology instead: the real
 * drover-router, stand-ins that register their class with it as
 * listeners do, drover-call addressing router@private.localhost/<svc>,
 * and opensrf.math's sub-requests going through the router too.
 *
 * Readiness: a drone is ready when it answers opensrf.system.time; a
 * drone that died fails the fixture at once.  Teardown kills and reaps
 * the drones; the servers of th_servers stop at exit.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "proto/reg.h"
#include "proto/bus.h"
#include "proto/stanza.h"
#include "proto/xmpp.h"
#include "services/runtime/rt_svc.h"
#include "services/runtime/runtime.h"
#include "th_sb.h"
#include "th_servers.h"

#define READY_MS	15000
#define NDRONE		3

static const char *const drone_svc[NDRONE] = {
	"opensrf.dbmath", "opensrf.math", "drover.test",
};
static char	 drone_jid[NDRONE][128];
static pid_t	 drone_pid[NDRONE];
static char	 dir[64];
static char	 core_ok[128], core_badpw[128];
static int	 via_router;		/* second TCase: through the router */
static pid_t	 router_pid;

static void
xconf(struct bus_conf *c, const char *user, const char *pw)
{
	memset(c, 0, sizeof(*c));
	c->host = (char *)"127.0.0.1";
	c->domain = (char *)TH_DOMAIN_PRIVATE;
	c->port = th_server(TH_EJABBERD)->port;
	c->username = (char *)user;
	c->password = (char *)pw;
	c->auth = XMPP_AUTH_LEGACY;
	c->legacy_digest = 1;
	c->tls = XMPP_TLS_OFF;
	c->max_stanza_size = STANZA_MAX_SIZE_DEFAULT;
	c->connect_timeout_ms = READY_MS;
	c->reconnect_max_ms = 30000;
}

/* sub-requests of the math drone go straight to the dbmath drone */
static int
to_dbmath(void *arg, const char *service, char *buf, size_t sz)
{
	return snprintf(buf, sz, "%s", drone_jid[0]) >= (int)sz ?
	    -ENAMETOOLONG : 0;
}

static void NORETURN
drone_main(int i)
{
	struct reg_target	 target = { (char *)"router",
				    (char *)TH_DOMAIN_PRIVATE, NULL, 0 };
	struct bus_conf		 c;
	struct bus_params	 bp;
	struct drover_svc	*svc;
	struct bus		*bus;
	struct bus_frame	*st;
	char			 err[RT_ERR_MAX], res[96];
	const char		*lib = getenv("DROVER_LIB");
	int			 rc;

	signal(SIGPIPE, SIG_IGN);
	log_init("rtx-drone");
	log_set_level(LOGL_WARNING);
	if (rt_svc_load(drone_svc[i], drone_svc[i], lib != NULL ? lib : "lib",
	    &svc, err, sizeof(err)) < 0 || rt_svc_init(svc) < 0) {
		fprintf(stderr, "drone: %s\n", err);
		_exit(2);
	}
	/* via the router: the bus's own service address, the default */
	if (!via_router && i == 1)
		svc->addr_fn = to_dbmath;
	snprintf(res, sizeof(res), "%s", strchr(drone_jid[i], '/') + 1);
	xconf(&c, "opensrf", TH_OPENSRF_PW);
	memset(&bp, 0, sizeof(bp));
	bp.kind = BUS_XMPP;
	bp.conf = &c;
	bp.role = BUS_ROLE_LISTENER;	/* registers; serves directly too */
	bp.service = drone_svc[i];
	bp.resource = res;
	bp.routers = &target;
	bp.nrouters = 1;
	if (bus_new(&bp, &bus) < 0 || bus_open(bus, READY_MS) < 0)
		_exit(3);
	if (via_router && bus_register(bus, 1) != 1)
		_exit(7);
	for (;;) {
		while ((rc = bus_recv(bus, &st)) == 1) {
			if (!(st->flags & BUS_F_OTHER) &&
			    (rc = rt_serve(svc, bus, NULL, 2, st->raw,
			    st->len)) != WORKER_OK && rc != WORKER_EXIT)
				_exit(4);
			bus_frame_free(&st);
		}
		if (rc < 0)
			_exit(5);
		if ((rc = bus_wait(bus, -1)) < 0)
			_exit(6);
	}
}

static const char *
call_bin(void)
{
	static char	 path[512];
	const char	*bin = getenv("DROVER_BIN");

	snprintf(path, sizeof(path), "%s/drover-call",
	    bin != NULL ? bin : "bin");
	return path;
}

/* Run drover-call with args (NULL-terminated); returns its exit code. */
static int
run_call(const char *core, char **out, char **err, ...)
{
	char		*argv[32];
	const char	*a;
	va_list		 ap;
	int		 n = 0, st;

	argv[n++] = (char *)call_bin();
	argv[n++] = "-c";
	argv[n++] = (char *)core;
	argv[n++] = "-t";
	argv[n++] = "10";
	va_start(ap, err);
	while ((a = va_arg(ap, const char *)) != NULL && n < 31)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	st = th_run(argv, out, err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
write_core(const char *path, const char *user, const char *pw)
{
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "<?xml version=\"1.0\"?>\n<config><opensrf><domain>%s"
	    "</domain><host>127.0.0.1</host><port>%d</port><username>%s"
	    "</username><passwd>%s</passwd><router_name>router</router_name>"
	    "<tls>off</tls><logfile>%s/log</logfile><loglevel>2</loglevel>"
	    "</opensrf></config>\n", TH_DOMAIN_PRIVATE,
	    th_server(TH_EJABBERD)->port, user, pw, dir);
	ck_assert_int_eq(fclose(f), 0);
}


static int
alive(pid_t pid)
{
	int	st;

	return pid > 0 && waitpid(pid, &st, WNOHANG) == 0;
}

static int
file_has(const char *path, const char *needle)
{
	char	 buf[65536];
	FILE	*f;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* drover-router for private.localhost, logging into <dir>/router.log */
static const char *
router_up(void)
{
	struct timespec	 nap = { 0, 20 * 1000000L };
	char		 bin[512], core[128], log[128];
	uint64_t	 end;
	FILE		*f;
	int		 fd;

	snprintf(core, sizeof(core), "%s/router.xml", dir);
	snprintf(log, sizeof(log), "%s/router.log", dir);
	if ((f = fopen(core, "w")) == NULL)
		return "cannot write router.xml";
	fprintf(f, "<config><routers><router><trusted_domains><server>%s"
	    "</server><client>%s</client></trusted_domains><transport>"
	    "<server>%s</server><host>127.0.0.1</host><port>%d</port>"
	    "<username>router</username><password>%s</password><resource>"
	    "router</resource></transport><logfile>%s</logfile><loglevel>3"
	    "</loglevel></router></routers></config>\n", TH_DOMAIN_PRIVATE,
	    TH_DOMAIN_PRIVATE, TH_DOMAIN_PRIVATE,
	    th_server(TH_EJABBERD)->port, TH_ROUTER_PW, log);
	if (fclose(f) != 0)
		return "cannot write router.xml";
	snprintf(bin, sizeof(bin), "%s/drover-router",
	    getenv("DROVER_BIN") != NULL ? getenv("DROVER_BIN") : "bin");
	if (access(bin, X_OK) != 0)
		return "bin/drover-router is missing";
	if ((router_pid = fork()) == 0) {
		fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, "drover-router", "-f", "-c", core, (char *)NULL);
		_exit(127);
	}
	if (router_pid < 0)
		return "cannot fork drover-router";
	/* registrations sent before it is logged in would be lost */
	for (end = mono_ms() + READY_MS; !file_has(log, "router: logged in");
	    nanosleep(&nap, NULL)) {
		if (!alive(router_pid))
			return "drover-router died at start (router.log)";
		if (mono_ms() >= end)
			return "drover-router did not log in (router.log)";
	}
	return NULL;
}

static void
drones_down(void)
{
	char	cmd[128];
	int	i, st;

	if (router_pid > 0) {
		kill(router_pid, SIGTERM);
		waitpid(router_pid, &st, 0);
		router_pid = 0;
	}
	for (i = 0; i < NDRONE; i++) {
		if (drone_pid[i] > 0) {
			kill(drone_pid[i], SIGKILL);
			waitpid(drone_pid[i], &st, 0);
			drone_pid[i] = 0;
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (dir[0] != '\0' && getenv("DROVER_KEEP_TMP") == NULL &&
	    system(cmd) != 0)
		fprintf(stderr, "rtx: cannot remove %s\n", dir);
}

static void
drones_up(void)
{
	struct timespec	 nap = { 0, 50 * 1000000L };
	char		*out, *err, why[256] = "";
	const char	*rwhy;
	uint64_t	 end;
	int		 i, rc;

	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/drover-rtx-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(core_ok, sizeof(core_ok), "%s/core.xml", dir);
	snprintf(core_badpw, sizeof(core_badpw), "%s/badpw.xml", dir);
	write_core(core_ok, "router", TH_ROUTER_PW);
	write_core(core_badpw, "router", "wrong");
	if (via_router && (rwhy = router_up()) != NULL) {
		drones_down();
		ck_abort_msg("%s", rwhy);
	}
	for (i = 0; i < NDRONE; i++) {
		snprintf(drone_jid[i], sizeof(drone_jid[i]),
		    "opensrf@%s/%s_drone_rtx_%ld", TH_DOMAIN_PRIVATE,
		    drone_svc[i], (long)getpid());
		if ((drone_pid[i] = fork()) == 0)
			drone_main(i);
	}
	for (i = 0; i < NDRONE && why[0] == '\0'; i++) {
		for (end = mono_ms() + READY_MS;; nanosleep(&nap, NULL)) {
			rc = via_router ? run_call(core_ok, &out, &err,
			    drone_svc[i], "opensrf.system.time", NULL) :
			    run_call(core_ok, &out, &err, "--to",
			    drone_jid[i], drone_svc[i], "opensrf.system.time",
			    NULL);
			free(out);
			free(err);
			if (rc == 0)
				break;
			if (!alive(drone_pid[i]) || mono_ms() >= end) {
				snprintf(why, sizeof(why), "drone %s %s",
				    drone_svc[i], alive(drone_pid[i]) ?
				    "not ready in time" : "died");
				break;
			}
		}
	}
	if (why[0] != '\0') {
		drones_down();
		ck_abort_msg("%s", why);
	}
}

/* ----------------------------------------------------------- tests */

static const struct {
	int		 drone;
	const char	*args[6];
	int		 code;
	const char	*out;		/* stdout, exactly */
	const char	*err;		/* in stderr */
} calls[] = {
	{ 0, { "opensrf.dbmath", "add", "2", "2" }, 0, "4\n", NULL },
	{ 0, { "opensrf.dbmath", "div", "1", "2" }, 0, "0.5\n", NULL },
	{ 0, { "opensrf.dbmath", "div", "1", "0" }, 2, "",
	    "status 400: div: division by zero" },
	{ 0, { "opensrf.dbmath", "nope" }, 2, "",
	    "status 404: Method [nope] not found for service opensrf.dbmath" },
	/* sub-request math -> dbmath over XMPP */
	{ 1, { "opensrf.math", "add", "20", "22" }, 0, "42\n", NULL },
	{ 1, { "opensrf.math", "mult", "\"6\"", "7" }, 0, "42\n", NULL },
	{ 1, { "opensrf.math", "add", "1" }, 2, "",
	    "status 404: Not enough params for method add / service "
	    "opensrf.math" },
	{ 2, { "--connect", "drover.test", "opensrf.system.echo", "\"a\"",
	    "[1]" }, 0, "\"a\"\n[1]\n", NULL },
	{ 2, { "drover.test", "drover.test.stream", "3" }, 0, "1\n2\n3\n",
	    NULL },
	{ 2, { "drover.test", "drover.test.stream.atomic", "0" }, 0, "[]\n",
	    NULL },
	{ 2, { "drover.test", "drover.test.bytes", "\"x\"" }, 2, "",
	    "status 400" },
	{ 2, { "drover.test", "drover.test", "notjson{" }, 1, "",
	    "is not JSON" },
};

START_TEST(test_call)
{
	char		*out, *err;
	const char	*a[8];
	int		 n = 0, j, rc;

	for (j = 0; calls[_i].args[j] != NULL; j++)
		a[n++] = calls[_i].args[j];
	while (n < 8)
		a[n++] = NULL;
	rc = run_call(core_ok, &out, &err, "--to", drone_jid[calls[_i].drone],
	    a[0], a[1], a[2], a[3], a[4], a[5], NULL);
	ck_assert_msg(rc == calls[_i].code, "exit %d, stderr: %s", rc, err);
	ck_assert_str_eq(out, calls[_i].out);
	if (calls[_i].err != NULL)
		ck_assert_msg(strstr(err, calls[_i].err) != NULL,
		    "stderr: %s", err);
	free(out);
	free(err);
}
END_TEST

/* 5 MiB crosses ejabberd in ~100 chunks and prints as one line. */
START_TEST(test_big_result)
{
	char	*out, *err;
	size_t	 len;

	ck_assert_int_eq(run_call(core_ok, &out, &err, "--to", drone_jid[2],
	    "drover.test", "drover.test.bytes", "5242880", NULL), 0);
	len = strlen(out);
	ck_assert_uint_eq(len, 5242880 + 3);	/* quotes and newline */
	ck_assert_int_eq(strncmp(out, "\"abcdefghij", 11), 0);
	ck_assert_int_eq(out[len - 2], '"');
	ck_assert_int_eq(out[len - 1], '\n');
	free(out);
	free(err);
}
END_TEST

START_TEST(test_bad_password)
{
	char	*out, *err;

	ck_assert_int_eq(run_call(core_badpw, &out, &err, "opensrf.math",
	    "add", "1", "2", NULL), 4);
	ck_assert_ptr_nonnull(strstr(err, "router@" TH_DOMAIN_PRIVATE));
	free(out);
	free(err);
}
END_TEST

/* No such account: ejabberd bounces, drover-call reports it as status. */
START_TEST(test_bounce)
{
	char	*out, *err;

	ck_assert_int_eq(run_call(core_ok, &out, &err, "--to",
	    "nobody@" TH_DOMAIN_PRIVATE "/x", "opensrf.math", "add", "1", "2",
	    NULL), 2);
	ck_assert_ptr_nonnull(strstr(err, "bounced"));
	free(out);
	free(err);
}
END_TEST

/*
 * One client process: the stand-in drone reads requests from its own bus,
 * where the runtime drops whatever is pending when a request starts (in
 * droverd requests come over the parent's pipe and only stale traffic
 * can be pending there), so concurrent clients would lose requests here.
 */
START_TEST(test_bench)
{
	char	*out, *err;

	ck_assert_int_eq(run_call(core_ok, &out, &err, "--to", drone_jid[0],
	    "--bench", "200", "opensrf.dbmath", "add", "1", "2", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "requests 200 concurrency 1"));
	ck_assert_ptr_nonnull(strstr(out, "errors 0"));
	ck_assert_ptr_nonnull(strstr(out, "p99"));
	free(out);
	free(err);
}
END_TEST

static void
router_drones_up(void)
{
	via_router = 1;
	drones_up();
}

/* Through the router, as OpenSRF clients call services. */
static const struct {
	const char	*args[6];
	int		 code;
	const char	*out;
	const char	*err;
} routed[] = {
	{ { "opensrf.dbmath", "add", "2", "2" }, 0, "4\n", NULL },
	/* client -> router -> math drone -> router -> dbmath drone */
	{ { "opensrf.math", "add", "20", "22" }, 0, "42\n", NULL },
	{ { "opensrf.math", "div", "1", "0" }, 2, "",
	    "status 400: div: division by zero" },
	{ { "--connect", "opensrf.math", "sub", "50", "8" }, 0, "42\n",
	    NULL },
	{ { "drover.test", "drover.test.stream", "2" }, 0, "1\n2\n", NULL },
};

START_TEST(test_routed)
{
	char		*out, *err;
	const char	*a[6] = { NULL };
	int		 j, rc;

	for (j = 0; j < 6 && routed[_i].args[j] != NULL; j++)
		a[j] = routed[_i].args[j];
	rc = run_call(core_ok, &out, &err, a[0], a[1], a[2], a[3], a[4],
	    a[5], NULL);
	ck_assert_msg(rc == routed[_i].code, "exit %d, stderr: %s", rc, err);
	ck_assert_str_eq(out, routed[_i].out);
	if (routed[_i].err != NULL)
		ck_assert_msg(strstr(err, routed[_i].err) != NULL,
		    "stderr: %s", err);
	free(out);
	free(err);
}
END_TEST

Suite *
runtime_xmpp_suite(void)
{
	Suite	*s = suite_create("runtime_xmpp");
	TCase	*tc;

	tc = tcase_create("drover_call");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_unchecked_fixture(tc, drones_up, drones_down);
	tcase_add_loop_test(tc, test_call, 0, ARRAY_LEN(calls));
	tcase_add_test(tc, test_big_result);
	tcase_add_test(tc, test_bad_password);
	tcase_add_test(tc, test_bounce);
	tcase_add_test(tc, test_bench);
	suite_add_tcase(s, tc);

	tc = tcase_create("via_router");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_unchecked_fixture(tc, router_drones_up, drones_down);
	tcase_add_loop_test(tc, test_routed, 0, ARRAY_LEN(routed));
	suite_add_tcase(s, tc);
	return s;
}
