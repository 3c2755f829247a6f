/*
 * test_runtime_e2e.c: the example services end to end (tag
 * "integration"): real droverd processes on the local bus, a real
 * memcached, and the runtime's client session in the test process.
 *
 * The servers start once per TCase (unchecked fixture) in a private
 * directory: the shared private memcached of test/servers (th_servers.h),
 * then one droverd per service with -f --local.  Readiness is an event with a deadline: a
 * listener is ready when it answers opensrf.system.time; a server that
 * died fails the setup at once.  Teardown stops them (SIGTERM, then
 * SIGKILL after a bounded wait) and removes the directory.  A missing
 * memcached or droverd fails loudly.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proto/osrfmsg.h"
#include "proto/tmsg.h"
#include "services/runtime/rt_cache.h"
#include "services/runtime/rt_client.h"
#include "services/runtime/rt_inbox.h"
#include "proto/bus.h"
#include "th_servers.h"

#define NSVC		5
#define READY_MS	15000	/* servers start within this, or fail */
#define STOP_MS		10000
#define CALL_MS		10000

static const char *const services[NSVC] = {
	"opensrf.math", "opensrf.dbmath", "drover.test", "drover.cache",
	"example.hello",	/* docs/example-plugin, built here */
};

static char	 dir[64];
static char	 busdir[128];
static pid_t	 droverd[NSVC];
static int	 mc_port;

/* ------------------------------------------------------- servers */

/* Instance of the services that allow one (all but opensrf.dbmath, which
 * opensrf.math addresses by its plain name), so a test run does not meet
 * another droverd serving the same name. */
static char	instance[32];

static const char *
inst(const char *service)
{
	return strcmp(service, "opensrf.dbmath") == 0 ? NULL : instance;
}



static void
write_file(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void
write_conf(void)
{
	char	path[256], buf[8192];

	snprintf(path, sizeof(path), "%s/core.xml", dir);
	snprintf(buf, sizeof(buf), "<?xml version=\"1.0\"?>\n<config><opensrf>"
	    "<domain>local</domain><username>opensrf</username>"
	    "<passwd>x</passwd><port>5222</port><router_name>router"
	    "</router_name><logfile>%s/log</logfile><loglevel>3</loglevel>"
	    "<settings_config>%s/opensrf.xml</settings_config>"
	    "<allow_root>true</allow_root></opensrf>"
	    "</config>\n", dir, dir);
	write_file(path, buf);
	snprintf(path, sizeof(path), "%s/opensrf.xml", dir);
#define APP(n, ka, extra) "<" n "><language>c</language><implementation>" \
	n ".so</implementation><keepalive>" ka "</keepalive><unix_config>" \
	"<min_children>1</min_children><max_children>3</max_children>" \
	"</unix_config>" extra "</" n ">"
	snprintf(buf, sizeof(buf), "<?xml version=\"1.0\"?>\n<opensrf "
	    "version=\"0.0.3\"><default><cache><global><servers><server>"
	    "127.0.0.1:%d</server></servers><max_cache_time>60"
	    "</max_cache_time></global></cache><apps>"
	    APP("opensrf.math", "2", "") APP("opensrf.dbmath", "2", "")
	    APP("drover.test", "1", "") APP("drover.cache", "2",
	    "<app_settings><cache_prefix>e2e.</cache_prefix><prefix>c.</prefix>"
	    "<default_ttl>30</default_ttl></app_settings>")
	    "<example.hello><language>c</language><implementation>%s/"
	    "example.hello.so</implementation><app_settings><greeting>Hi"
	    "</greeting></app_settings></example.hello>"
	    "</apps></default></opensrf>\n", mc_port, dir);
#undef APP
	write_file(path, buf);
}

/* Start argv (argv[0] a path), output to <dir>/out; -1 if impossible. */
static pid_t
spawn(char *const argv[])
{
	char	out[128];
	pid_t	pid;
	int	fd, fo;

	if (access(argv[0], X_OK) != 0)
		return -1;
	snprintf(out, sizeof(out), "%s/out", dir);
	if ((pid = fork()) == 0) {
		fd = open("/dev/null", O_RDONLY);
		fo = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 0);
		dup2(fo, 1);
		dup2(fo, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int
alive(pid_t pid)
{
	int	st;

	return pid > 0 && waitpid(pid, &st, WNOHANG) == 0;
}

static void
nap_ms(long ms)
{
	struct timespec	ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);	/* between readiness polls, not a sync */
}

static void
stop(pid_t *pid)
{
	uint64_t	end;
	int		st;

	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (end = mono_ms() + STOP_MS; mono_ms() < end; nap_ms(10))
		if (waitpid(*pid, &st, WNOHANG) == *pid) {
			*pid = 0;
			return;
		}
	kill(*pid, SIGKILL);
	waitpid(*pid, &st, 0);
	*pid = 0;
}

/* A client session of its own on the bus. */
struct cli {
	struct bus		*bus;
	struct rt_inbox		*ib;
	struct rt_client	*c;
};

static void
cli_open(struct cli *cl, const char *service)
{
	struct bus_params	p;
	char			res[128], addr[256];

	snprintf(res, sizeof(res), "_e2e_%ld_%llu", (long)getpid(),
	    (unsigned long long)mono_us());
	memset(&p, 0, sizeof(p));
	p.kind = BUS_LOCAL;
	p.local_dir = busdir;
	p.role = BUS_ROLE_CLIENT;
	p.resource = res;
	ck_assert_int_eq(bus_new(&p, &cl->bus), 0);
	ck_assert_int_eq(bus_open(cl->bus, 1000), 0);
	cl->ib = rt_inbox_new(cl->bus);
	/* the local bus's listener address of service[@instance] */
	if (inst(service) != NULL)
		ck_assert_int_lt(snprintf(addr, sizeof(addr),
		    "opensrf@local/%s@%s", service, inst(service)),
		    (int)sizeof(addr));
	else
		ck_assert_int_lt(snprintf(addr, sizeof(addr),
		    "opensrf@local/%s", service), (int)sizeof(addr));
	ck_assert_int_eq(rt_client_new(cl->ib, addr, "e2e1", "e2e", &cl->c),
	    0);
}

static void
cli_close(struct cli *cl)
{
	rt_client_free(&cl->c);
	rt_inbox_free(&cl->ib);
	bus_free(&cl->bus);
}

/* Call and collect: 0 with *out an array of results, or the error. */
static int
call(struct cli *cl, const char *method, const char *params, json_t **out)
{
	json_t	*p, *v, *all = json_array();
	int	 rc;

	p = json_loads(params, 0, NULL);
	ck_assert_ptr_nonnull(p);
	rc = rt_client_request(cl->c, method, p);
	json_decref(p);
	ck_assert_int_eq(rc, 0);
	while ((rc = rt_client_recv(cl->c, CALL_MS, &v)) == 1)
		json_array_append_new(all, v);
	if (rc < 0) {
		json_decref(all);
		*out = NULL;
		return rc;
	}
	*out = all;
	return 0;
}

static int
ping(const char *service)
{
	struct cli	cl;
	json_t		*r;
	int		 rc;

	memset(&cl, 0, sizeof(cl));
	cli_open(&cl, service);
	rc = call(&cl, "opensrf.system.time", "[]", &r);
	json_decref(r);
	cli_close(&cl);
	return rc;
}

static void servers_down(void);

static const char *
start_services(void)
{
	static char	 why[1024];
	char		 core[256], droverd_bin[512], *argv[14];
	const char	*bin = getenv("DROVER_BIN");
	uint64_t	 end;
	size_t		 i;
	int		 n;

	if (getenv("DROVER_PLUGINDIR") == NULL)
		setenv("DROVER_PLUGINDIR", getenv("DROVER_LIB") != NULL ?
		    getenv("DROVER_LIB") : "lib", 1);
	snprintf(droverd_bin, sizeof(droverd_bin), "%s/droverd",
	    bin != NULL ? bin : "bin");
	snprintf(core, sizeof(core), "%s/core.xml", dir);
	for (i = 0; i < NSVC; i++) {
		n = 0;
		argv[n++] = droverd_bin;
		argv[n++] = "-c";
		argv[n++] = core;
		argv[n++] = "-s";
		argv[n++] = (char *)services[i];
		argv[n++] = "-h";
		argv[n++] = "e2e";
		argv[n++] = "-f";
		argv[n++] = "--local";
		argv[n++] = busdir;
		if (inst(services[i]) != NULL) {
			argv[n++] = "-i";
			argv[n++] = instance;
		}
		argv[n] = NULL;
		if ((droverd[i] = spawn(argv)) < 0) {
			snprintf(why, sizeof(why), "cannot run %s",
			    droverd_bin);
			return why;
		}
	}
	for (i = 0; i < NSVC; i++) {
		for (end = mono_ms() + READY_MS; ping(services[i]) != 0;
		    nap_ms(20)) {
			if (!alive(droverd[i]) || mono_ms() >= end) {
				snprintf(why, sizeof(why), "droverd for %s %s "
				    "(see %s/log and %s/out)", services[i],
				    alive(droverd[i]) ? "not ready in time" :
				    "died", dir, dir);
				return why;
			}
		}
	}
	return NULL;
}

/*
 * Build the out-of-tree example as its README says, against the headers
 * of this checkout standing in for the installed ones.
 */
static const char *
build_example(void)
{
	const char	*top = getenv("DROVER_TOP");
	char		 cmd[1024];

	snprintf(cmd, sizeof(cmd), "cc -O2 -Wall -Wextra -Werror "
	    "$(pkg-config --cflags jansson) -I'%s/include' -fPIC "
	    "-fvisibility=hidden -shared -o '%s/example.hello.so' "
	    "'%s/docs/example-plugin/hello.c' >>'%s/out' 2>&1",
	    top != NULL ? top : ".", dir, top != NULL ? top : ".", dir);
	return system(cmd) == 0 ? NULL : "cannot build docs/example-plugin";
}

static void
servers_up(void)
{
	const char	*why;

	log_init("e2e");
	log_set_level(LOGL_NONE);
	snprintf(instance, sizeof(instance), "e2e%ld", (long)getpid());
	snprintf(dir, sizeof(dir), "/tmp/drover-e2e-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(busdir, sizeof(busdir), "%s/bus", dir);
	ck_assert_int_eq(mkdir(busdir, 0700), 0);
	mc_port = th_server_get(TH_MEMCACHED)->port;
	write_conf();
	if ((why = build_example()) == NULL)
		why = start_services();
	if (why != NULL) {
		/* an unchecked setup that fails gets no teardown */
		servers_down();
		ck_abort_msg("%s", why);
	}
}

static void
servers_down(void)
{
	char	cmd[128];
	size_t	i;

	for (i = 0; i < NSVC; i++)
		stop(&droverd[i]);
	if (getenv("DROVER_KEEP_TMP") != NULL)
		return;		/* logs kept for a post-mortem */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (dir[0] != '\0' && system(cmd) != 0)
		fprintf(stderr, "e2e: cannot remove %s\n", dir);
}

/* ----------------------------------------------------------- tests */

static const struct {
	const char	*service;
	const char	*method;
	const char	*params;
	const char	*results;	/* JSON array, or NULL: error */
	int		 code;
} cases[] = {
	{ "opensrf.math", "add", "[2,2]", "[4]", 0 },
	{ "opensrf.math", "sub", "[1,2]", "[-1]", 0 },
	{ "opensrf.math", "mult", "[\"1\",\"2\"]", "[2]", 0 },
	{ "opensrf.math", "div", "[1,2]", "[0.5]", 0 },
	{ "opensrf.math", "div", "[1,0]", NULL, 400 },
	{ "opensrf.math", "add", "[1]", NULL, 404 },
	{ "opensrf.math", "nope", "[]", NULL, 404 },
	{ "opensrf.dbmath", "div", "[3,4]", "[0.75]", 0 },
	{ "opensrf.dbmath", "add", "[\"x\",1]", NULL, 400 },
	{ "opensrf.dbmath", "opensrf.system.echo", "[1,\"a\"]", "[1,\"a\"]",
	    0 },
	{ "opensrf.dbmath", "opensrf.system.echo.atomic", "[]", "[[]]", 0 },
	{ "drover.test", "drover.test.stream", "[4]", "[1,2,3,4]", 0 },
	{ "drover.test", "drover.test.stream.atomic", "[2]", "[[1,2]]", 0 },
	{ "drover.test", "drover.test.sleep", "[0.05]", "[0.05]", 0 },
	{ "drover.test", "drover.test.bytes", "[3]", "[\"abc\"]", 0 },
	{ "drover.test", "drover.test.panic", "[]", "[\"panic\"]", 0 },
	{ "drover.test", "drover.test.crash", "[]", NULL, 500 },
	{ "drover.test", "drover.test.exit", "[3]", NULL, 500 },
	{ "drover.test", "drover.test.stream", "[]", NULL, 404 },
	{ "drover.cache", "drover.cache.put", "[\"k\",{\"a\":[1]}]",
	    "[true]", 0 },
	{ "drover.cache", "drover.cache.get", "[\"missing\"]", "[null]", 0 },
	{ "drover.cache", "drover.cache.put", "[\"\",1]", NULL, 400 },
	{ "example.hello", "example.hello", "[\"world\"]",
	    "[\"Hi, world!\"]", 0 },
	{ "example.hello", "example.count.atomic", "[3]", "[[1,2,3]]", 0 },
};

START_TEST(test_methods)
{
	struct cli	 cl;
	json_t		*got, *want;
	const char	*text;
	int		 rc;

	memset(&cl, 0, sizeof(cl));
	cli_open(&cl, cases[_i].service);
	rc = call(&cl, cases[_i].method, cases[_i].params, &got);
	if (cases[_i].results != NULL) {
		ck_assert_msg(rc == 0, "%s %s: %d", cases[_i].service,
		    cases[_i].method, rc);
		want = json_loads(cases[_i].results, 0, NULL);
		ck_assert_msg(json_equal(got, want), "%s %s: got %s",
		    cases[_i].service, cases[_i].method,
		    json_dumps(got, JSON_COMPACT));
		json_decref(want);
		json_decref(got);
	} else {
		ck_assert_int_eq(rc, -EREMOTEIO);
		ck_assert_int_eq(rt_client_status(cl.c, &text),
		    cases[_i].code);
	}
	cli_close(&cl);
}
END_TEST

START_TEST(test_cache_roundtrip)
{
	struct cli	 cl;
	struct rt_cache	*mc;
	char		 server[64], *servers[] = { server };
	json_t		*got, *want;

	memset(&cl, 0, sizeof(cl));
	cli_open(&cl, "drover.cache");
	ck_assert_int_eq(call(&cl, "drover.cache.put",
	    "[\"rt key\",[1,{\"b\":null}],30]", &got), 0);
	json_decref(got);
	ck_assert_int_eq(call(&cl, "drover.cache.get", "[\"rt key\"]", &got),
	    0);
	want = json_loads("[1,{\"b\":null}]", 0, NULL);
	ck_assert(json_equal(json_array_get(got, 0), want));
	json_decref(got);
	/* in memcached: cache_prefix + the service's prefix + the cleaned
	 * key, as JSON text */
	snprintf(server, sizeof(server), "127.0.0.1:%d", mc_port);
	ck_assert_int_eq(rt_cache_new(servers, 1, 60, NULL, &mc), 0);
	ck_assert_int_eq(rt_cache_get(mc, "e2e.c.rtkey", &got), 0);
	ck_assert(json_equal(got, want));
	json_decref(got);
	rt_cache_free(&mc);
	json_decref(want);
	ck_assert_int_eq(call(&cl, "drover.cache.delete", "[\"rt key\"]",
	    &got), 0);
	ck_assert(json_is_true(json_array_get(got, 0)));
	json_decref(got);
	ck_assert_int_eq(call(&cl, "drover.cache.get", "[\"rt key\"]", &got),
	    0);
	ck_assert(json_is_null(json_array_get(got, 0)));
	json_decref(got);
	cli_close(&cl);
}
END_TEST

/* A 5 MiB result crosses the bus in chunks and comes back whole. */
START_TEST(test_big_result)
{
	static const char	 pat[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	struct cli		 cl;
	json_t			*got;
	const char		*s;
	size_t			 i, n = 5 * 1024 * 1024;

	memset(&cl, 0, sizeof(cl));
	cli_open(&cl, "drover.test");
	ck_assert_int_eq(call(&cl, "drover.test.bytes", "[5242880]", &got), 0);
	ck_assert_uint_eq(json_array_size(got), 1);
	s = json_string_value(json_array_get(got, 0));
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s), n);
	for (i = 0; i < n; i++)
		if (s[i] != pat[i % (sizeof(pat) - 1)])
			ck_abort_msg("byte %zu differs", i);
	json_decref(got);
	cli_close(&cl);
}
END_TEST

/* CONNECT, requests straight to the drone, DISCONNECT. */
START_TEST(test_connected)
{
	struct cli	 cl;
	json_t		*got;

	memset(&cl, 0, sizeof(cl));
	cli_open(&cl, "opensrf.math");
	ck_assert_int_eq(rt_client_connect(cl.c, CALL_MS), 0);
	ck_assert_ptr_nonnull(strstr(rt_client_remote(cl.c), "_drone_"));
	ck_assert_int_eq(call(&cl, "add", "[40,2]", &got), 0);
	ck_assert_int_eq(json_integer_value(json_array_get(got, 0)), 42);
	json_decref(got);
	ck_assert_int_eq(call(&cl, "mult", "[6,7]", &got), 0);
	ck_assert_int_eq(json_integer_value(json_array_get(got, 0)), 42);
	json_decref(got);
	ck_assert_int_eq(rt_client_disconnect(cl.c), 0);
	ck_assert_ptr_null(strstr(rt_client_remote(cl.c), "_drone_"));
	cli_close(&cl);
}
END_TEST

/* An idle connected session ends with STATUS 408, threadTrace 0. */
START_TEST(test_connected_timeout)
{
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct cli		 cl;
	struct tmsg		 t;

	memset(&cl, 0, sizeof(cl));
	cli_open(&cl, "drover.test");	/* keepalive 1 s */
	ck_assert_int_eq(rt_client_connect(cl.c, CALL_MS), 0);
	ck_assert_int_eq(rt_inbox_wait(cl.ib, NULL, CALL_MS, &t), 1);
	ck_assert_ptr_nonnull(strstr(t.from, "_drone_"));
	ck_assert_int_eq(osrfmsg_decode(t.body, strlen(t.body), &l, NULL),
	    0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(l.msg[0].type, OSRFMSG_STATUS);
	ck_assert_int_eq(l.msg[0].status_code, 408);
	ck_assert_str_eq(l.msg[0].status, "Disconnected on timeout");
	ck_assert_int_eq(l.msg[0].thread_trace, 0);
	osrfmsg_list_clear(&l);
	tmsg_clear(&t);
	cli_close(&cl);
}
END_TEST

/*
 * memcached gone: a clear 503, and the service keeps serving.  The
 * shared memcached is started again at the end (if the test fails
 * first, the next fixture that needs it does that).
 */
START_TEST(test_cache_down)
{
	struct cli	 cl;
	json_t		*got;
	const char	*text;

	/* stop returns once its process group is gone */
	ck_assert_int_eq(th_server_stop(TH_MEMCACHED), 0);
	memset(&cl, 0, sizeof(cl));
	cli_open(&cl, "drover.cache");
	ck_assert_int_eq(call(&cl, "drover.cache.put", "[\"k\",1]", &got),
	    -EREMOTEIO);
	ck_assert_int_eq(rt_client_status(cl.c, &text), 503);
	ck_assert_ptr_nonnull(strstr(text, "cache unavailable"));
	ck_assert_int_eq(call(&cl, "drover.cache.get", "[\"k\"]", &got),
	    -EREMOTEIO);
	ck_assert_int_eq(call(&cl, "opensrf.system.echo", "[7]", &got), 0);
	ck_assert_int_eq(json_integer_value(json_array_get(got, 0)), 7);
	json_decref(got);
	cli_close(&cl);
	ck_assert_int_eq(th_server_start_again(TH_MEMCACHED), 0);
}
END_TEST

Suite *
runtime_e2e_suite(void)
{
	Suite	*s = suite_create("runtime_e2e");
	TCase	*tc;

	tc = tcase_create("services");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, servers_up, servers_down);
	tcase_add_loop_test(tc, test_methods, 0, ARRAY_LEN(cases));
	tcase_add_test(tc, test_cache_roundtrip);
	tcase_add_test(tc, test_big_result);
	tcase_add_test(tc, test_connected);
	tcase_add_test(tc, test_connected_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache_down");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, servers_up, servers_down);
	tcase_add_test(tc, test_cache_down);
	suite_add_tcase(s, tc);
	return s;
}
