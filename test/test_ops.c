/*
 * test_ops.c: what ops staff read from a real droverd, end to end on
 * the local bus with the test plugin (test/th_droverd.h).
 *
 * memory: a child's resident set appears in the scoreboard and grows by
 * what drover.test.hold keeps; a child over max_rss_growth_kb answers
 * its request, then retires (the death ring and drover-status --json
 * say rss_growth, it counts as recycled, not abnormal) and a new child
 * serves.  figures: a known mix of calls (successes, errors of both
 * status classes, an unknown method, a slow call) read back per method
 * through drover-status --json, and through --openmetrics parsed by
 * prometheus_client (Debian's python3-prometheus-client, strict
 * OpenMetrics), the values matching the mix and the scoreboard.  logs:
 * droverd and drover-router reopen their log file on SIGHUP: after a
 * rename a new file appears and gets the next lines, children's too.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "scoreboard/sb.h"
#include "th_droverd.h"
#include "th_openmetrics.h"
#include "th_sb.h"
#include "util.h"

#define WAIT_MS		15000

static struct th_droverd D;

static void
teardown(void)
{
	th_droverd_cleanup(&D);
}

/* The one child's slot (min_children = max_children = 1). */
static int
only_slot(const struct th_view *v)
{
	int	i;

	for (i = 0; i < SB_SLOTS; i++)
		if (v->slot[i].pid > 0 && (v->slot[i].state == SB_IDLE ||
		    v->slot[i].state == SB_BUSY))
			return i;
	return -1;
}

/* ------------------------------------------------------------ memory */

struct rss_want {
	pid_t		pid;
	uint64_t	requests;
	uint64_t	at_least_kb;
};

static int
rss_reached(const struct th_view *v, void *arg)
{
	const struct rss_want	*w = arg;
	int			 i = only_slot(v);

	return i >= 0 && v->slot[i].pid == w->pid &&
	    v->slot[i].requests >= w->requests &&
	    v->slot[i].rss_kb >= w->at_least_kb;
}

/*
 * RSS a hold of kb must add at least: the pages written, less a little
 * the allocator may give back meanwhile (a few pages of earlier
 * requests' garbage).
 */
static uint64_t
grown(uint64_t kb)
{
	return kb - kb / 32;
}

static void
hold(int kb, long long want_total)
{
	struct th_reply	r;
	char		params[32], want[32];

	snprintf(params, sizeof(params), "[%d]", kb);
	snprintf(want, sizeof(want), "%lld", want_total);
	th_call(&D, "drover.test.hold", params, &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	ck_assert_str_eq(r.content, want);
	th_reply_free(&r);
}

START_TEST(test_rss_grows)
{
	struct th_conf	 c = { .min_children = 1, .max_children = 1 };
	struct th_view	*v = xmalloc(sizeof(*v));
	struct rss_want	 w;
	uint64_t	 base;
	int		 i;

	th_droverd_start(&D, &c);
	th_view(&D, v);
	i = only_slot(v);
	ck_assert_int_ge(i, 0);
	/* sampled right after init: the baseline is the first figure */
	ck_assert_uint_gt(v->slot[i].rss_kb, 0);
	ck_assert_uint_eq(v->slot[i].rss_kb, v->slot[i].rss_base_kb);
	base = v->slot[i].rss_kb;
	w.pid = v->slot[i].pid;

	hold(8192, 8192);
	w.requests = 1;
	w.at_least_kb = base + grown(8192);
	th_wait_sb(&D, rss_reached, &w, WAIT_MS, "RSS 8 MiB over base");
	hold(16384, 24576);
	w.requests = 2;
	w.at_least_kb = base + grown(24576);
	th_wait_sb(&D, rss_reached, &w, WAIT_MS, "RSS 24 MiB over base");
	th_view(&D, v);
	ck_assert_uint_eq(v->slot[i].rss_base_kb, base);
	ck_assert_uint_gt(v->slot[i].cpu_us, 0);
	free(v);
}
END_TEST

/* run drover-status with arguments; its stdout, and exit code 0 */
static char *
status_out(const char *a1, const char *a2)
{
	char	*argv[4], *out, *err;
	int	 st;

	argv[0] = (char *)th_status_bin();
	argv[1] = (char *)a1;
	argv[2] = (char *)a2;
	argv[3] = NULL;
	st = th_run(argv, &out, &err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "drover-status %s %s: status 0x%x: %s", a1, a2, st, err);
	free(err);
	return out;
}

static const char *
svc_arg(void)
{
	static char	buf[128];

	snprintf(buf, sizeof(buf), "drover.test@%s", D.instance);
	return buf;
}

static json_t *
jparse(const char *s)
{
	json_error_t	 e;
	json_t		*j = json_loads(s, 0, &e);

	ck_assert_msg(j != NULL, "JSON: %s: %s", e.text, s);
	return j;
}

/* o.a.b as an integer; the test fails when missing or not one. */
static json_int_t
jint(json_t *o, const char *path)
{
	char	 buf[128], *tok, *save;
	json_t	*v = o;

	str_copy(buf, path, sizeof(buf));
	for (tok = strtok_r(buf, ".", &save); tok != NULL;
	    tok = strtok_r(NULL, ".", &save)) {
		v = json_object_get(v, tok);
		ck_assert_msg(v != NULL, "JSON: no %s in %s", tok, path);
	}
	ck_assert_msg(json_is_integer(v), "JSON: %s not an integer", path);
	return json_integer_value(v);
}

static int
died_n(const struct th_view *v, void *arg)
{
	return v->info.deaths_total >= (uint64_t)*(int *)arg;
}

START_TEST(test_rss_growth_recycles)
{
	struct th_conf		 c = { .min_children = 1, .max_children = 1,
	    .unix_extra = "<max_rss_growth_kb>4096</max_rss_growth_kb>" };
	struct th_view		*v = xmalloc(sizeof(*v));
	struct sb_death_info	 d[SB_DEATHS];
	struct th_reply		 r;
	json_t			*j, *deaths;
	char			*out;
	pid_t			 first;
	int			 i, one = 1;

	th_droverd_start(&D, &c);
	th_view(&D, v);
	i = only_slot(v);
	ck_assert_int_ge(i, 0);
	first = v->slot[i].pid;
	/* under the limit: it stays */
	hold(2048, 2048);
	/* over it: the client still gets its answer */
	hold(4096, 6144);
	th_wait_sb(&D, died_n, &one, WAIT_MS, "the child recycled");
	ck_assert_int_eq(sb_read_deaths(D.sb, d, SB_DEATHS), 1);
	ck_assert_int_eq(d[0].pid, first);
	ck_assert_uint_eq(d[0].exit_reason, SB_EXIT_RSS_GROWTH);
	ck_assert_uint_eq(d[0].requests, 2);
	ck_assert_int_eq(d[0].exit_code, 80);	/* MPM_EXIT_RECYCLE */
	ck_assert_uint_ge(d[0].rss_kb, 6144);
	/* a replacement serves */
	th_wait_idle(&D, 1, WAIT_MS);
	th_call(&D, "opensrf.system.echo", "[\"again\"]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	ck_assert_str_eq(r.content, "\"again\"");
	th_reply_free(&r);
	th_view(&D, v);
	i = only_slot(v);
	ck_assert_int_ge(i, 0);
	ck_assert_int_ne(v->slot[i].pid, first);
	ck_assert_uint_eq(v->info.counters[SB_C_RECYCLED], 1);
	ck_assert_uint_eq(v->info.counters[SB_C_ABNORMAL], 0);
	/* and ops read the same through drover-status */
	out = status_out("--json", svc_arg());
	j = jparse(out);
	deaths = json_object_get(j, "deaths");
	ck_assert_uint_eq(json_array_size(deaths), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    deaths, 0), "exit_reason")), "rss_growth");
	ck_assert_int_eq(jint(json_array_get(deaths, 0), "pid"), first);
	ck_assert_int_eq(jint(j, "counters.recycled"), 1);
	json_decref(j);
	free(out);
	free(v);
}
END_TEST

/* ----------------------------------------------------------- figures */

/* The mix; the test plugin's methods (services/plugins/drover.test). */
static const struct {
	const char	*method;
	const char	*params;
	int		 code;		/* final status */
} mix[] = {
	{ "drover.test.sleep", "[0]", 205 },
	{ "drover.test.sleep", "[0]", 205 },
	{ "drover.test.sleep", "[0]", 205 },
	{ "drover.test.sleep", "[\"x\"]", 400 },	/* 4xx */
	{ "drover.test.sleep", "[1.1]", 205 },		/* slow */
	{ "drover.test.fail", "[503]", 503 },		/* 5xx */
	{ "drover.test.fail", "[418]", 418 },		/* 4xx */
	{ "drover.test.nope", "[]", 404 },		/* (other), 4xx */
};
#define MIX_OK		4
#define MIX_FAILED	4
/* The slow call's sleep, us; the fast ones are far below 1 s. */
#define MIX_SLOW_US	1100000
/* The bucket bound between them: 2^20 us. */
#define MIX_LE_US	1048576

static int
done_n(const struct th_view *v, void *arg)
{
	(void)arg;
	return v->info.counters[SB_C_COMPLETED] >= MIX_OK &&
	    v->info.counters[SB_C_FAILED] >= MIX_FAILED;
}

static void
run_mix(void)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1 };
	struct th_reply	r;
	size_t		i;

	th_droverd_start(&D, &c);
	for (i = 0; i < ARRAY_LEN(mix); i++) {
		th_call(&D, mix[i].method, mix[i].params, &r, WAIT_MS);
		ck_assert_msg(r.code == mix[i].code, "%s %s: %d", mix[i].method,
		    mix[i].params, r.code);
		th_reply_free(&r);
	}
	/* the child counts after it answered */
	th_wait_sb(&D, done_n, NULL, WAIT_MS, "the mix counted");
}

static json_t *
jmethod(json_t *methods, const char *name)
{
	json_t	*m;
	size_t	 i;

	json_array_foreach(methods, i, m)
		if (strcmp(json_string_value(json_object_get(m, "method")),
		    name) == 0)
			return m;
	ck_abort_msg("JSON: no method %s", name);
	return NULL;
}

/* Cumulative count of a method's bucket with bound le_us (0: +Inf). */
static json_int_t
jbucket(json_t *m, json_int_t le_us)
{
	json_t	*b, *x;
	size_t	 i;

	b = json_object_get(m, "buckets");
	ck_assert_uint_eq(json_array_size(b), SB_METHOD_BUCKETS);
	json_array_foreach(b, i, x) {
		if (le_us == 0 ? json_is_null(json_object_get(x, "le_us")) :
		    json_integer_value(json_object_get(x, "le_us")) == le_us)
			return jint(x, "count");
	}
	ck_abort_msg("no bucket le_us %lld", (long long)le_us);
	return -1;
}

START_TEST(test_method_figures_json)
{
	json_t	*j, *ms, *m;
	char	*out;

	run_mix();
	out = status_out("--json", svc_arg());
	j = jparse(out);
	ms = json_object_get(j, "methods");
	/* only what was called: two methods and the other cell */
	ck_assert_uint_eq(json_array_size(ms), 3);

	m = jmethod(ms, "drover.test.sleep");
	ck_assert_int_eq(jint(m, "calls"), 5);
	ck_assert_int_eq(jint(m, "errors.4xx"), 1);
	ck_assert_int_eq(jint(m, "errors.5xx"), 0);
	ck_assert_int_eq(jint(m, "errors.other"), 0);
	ck_assert_int_ge(jint(m, "sum_us"), MIX_SLOW_US);
	ck_assert_int_eq(jbucket(m, MIX_LE_US), 4);
	ck_assert_int_eq(jbucket(m, 0), 5);

	m = jmethod(ms, "drover.test.fail");
	ck_assert_int_eq(jint(m, "calls"), 2);
	ck_assert_int_eq(jint(m, "errors.4xx"), 1);
	ck_assert_int_eq(jint(m, "errors.5xx"), 1);
	ck_assert_int_eq(jbucket(m, 0), 2);

	m = jmethod(ms, SB_METHOD_OTHER_NAME);
	ck_assert_int_eq(jint(m, "calls"), 1);
	ck_assert_int_eq(jint(m, "errors.4xx"), 1);

	ck_assert_int_eq(jint(j, "counters.completed"), MIX_OK);
	ck_assert_int_eq(jint(j, "counters.failed"), MIX_FAILED);
	json_decref(j);
	free(out);
}
END_TEST

/* The exposition through a real parser (th_openmetrics.h). */
START_TEST(test_method_figures_openmetrics)
{
	struct th_view	*v = xmalloc(sizeof(*v));
	char		 lab[128];
	char		*out, *parsed;
	int		 i;

	run_mix();
	th_view(&D, v);
	out = status_out("--openmetrics", svc_arg());
	parsed = th_om_parse(out);

	snprintf(lab, sizeof(lab), "instance=%s,method=drover.test.sleep,"
	    "service=drover.test", D.instance);
	th_om_want(parsed, "S drover_method_calls_total %s 5.000000\n", lab);
	th_om_want(parsed, "S drover_method_duration_seconds_count %s 5.000000\n",
	    lab);
	/* labels in name order: le comes between instance and method */
	th_om_want(parsed, "S drover_method_duration_seconds_bucket instance=%s,"
	    "le=1.048576,method=drover.test.sleep,service=drover.test "
	    "4.000000\n", D.instance);
	th_om_want(parsed, "S drover_method_duration_seconds_bucket instance=%s,"
	    "le=+Inf,method=drover.test.sleep,service=drover.test 5.000000\n",
	    D.instance);
	th_om_want(parsed, "S drover_method_errors_total class=4xx,%s 1.000000\n",
	    lab);
	th_om_want(parsed, "S drover_method_errors_total class=5xx,%s 0.000000\n",
	    lab);
	snprintf(lab, sizeof(lab), "instance=%s,method=drover.test.fail,"
	    "service=drover.test", D.instance);
	th_om_want(parsed, "S drover_method_calls_total %s 2.000000\n", lab);
	th_om_want(parsed, "S drover_method_errors_total class=5xx,%s 1.000000\n",
	    lab);
	snprintf(lab, sizeof(lab), "instance=%s,method=" SB_METHOD_OTHER_NAME
	    ",service=drover.test", D.instance);
	th_om_want(parsed, "S drover_method_errors_total class=4xx,%s 1.000000\n",
	    lab);
	/* the service as a whole, and the child's memory as sampled */
	snprintf(lab, sizeof(lab), "instance=%s,service=drover.test",
	    D.instance);
	th_om_want(parsed, "S drover_up %s 1.000000\n", lab);
	th_om_want(parsed, "S drover_requests_completed_total %s %d.000000\n",
	    lab, MIX_OK);
	th_om_want(parsed, "S drover_requests_failed_total %s %d.000000\n", lab,
	    MIX_FAILED);
	i = only_slot(v);
	ck_assert_int_ge(i, 0);
	th_om_want(parsed, "S drover_child_rss_bytes %s,slot=%d %llu.000000\n",
	    lab, i, (unsigned long long)v->slot[i].rss_kb * 1024);
	free(parsed);
	free(out);
	free(v);
}
END_TEST

/* -------------------------------------------------------------- logs */

static int
gen2_idle(const struct th_view *v, void *arg)
{
	int	i;

	(void)arg;
	for (i = 0; i < SB_SLOTS; i++)
		if (v->slot[i].state == SB_IDLE && v->slot[i].generation == 2)
			return 1;
	return 0;
}

START_TEST(test_droverd_log_reopen)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1,
	    .slow_request_ms = 1 };
	struct th_reply	r;
	char		old[160];

	th_droverd_start(&D, &c);
	th_wait_log(&D, "serving with 1 children", WAIT_MS);
	snprintf(old, sizeof(old), "%s.1", D.log);
	ck_assert_int_eq(rename(D.log, old), 0);
	ck_assert_int_eq(kill(D.pid, SIGHUP), 0);
	/* the parent's next lines go to a new file of the old name */
	th_wait_log(&D, "reload: generation 2", WAIT_MS);
	ck_assert(!th_file_has(old, "reload: generation 2"));
	ck_assert(th_file_has(old, "serving with 1 children"));
	/* and a child forked since writes there too */
	th_wait_sb(&D, gen2_idle, NULL, WAIT_MS, "a generation 2 child");
	th_call(&D, "drover.test.sleep", "[0.01]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	th_reply_free(&r);
	th_wait_log(&D, "slow request: method \"drover.test.sleep\"",
	    WAIT_MS);
	ck_assert(!th_file_has(old, "slow request"));
}
END_TEST

START_TEST(test_router_log_reopen)
{
	char	*core, old[160], bin[512], status[160];
	pid_t	 pid;
	int	 st;
	FILE	*f;

	memset(&D, 0, sizeof(D));
	th_droverd_prepare(&D, "router", NULL);
	/* no server: the router logs its retries, and reloads all the same */
	core = xasprintf("<?xml version=\"1.0\"?>\n<config><routers>"
	    "<router><trusted_domains><server>local</server>"
	    "<client>local</client></trusted_domains><transport>"
	    "<server>127.0.0.1</server><port>1</port>"
	    "<username>router</username><password>x</password>"
	    "<resource>router</resource></transport>"
	    "<logfile>%s</logfile><loglevel>3</loglevel>"
	    "</router></routers></config>\n", D.log);
	f = fopen(D.core, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(core, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	free(core);
	snprintf(status, sizeof(status), "%s/router.status", D.dir);
	snprintf(bin, sizeof(bin), "%s/drover-router",
	    getenv("DROVER_BIN") != NULL ? getenv("DROVER_BIN") : "bin");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl(bin, "drover-router", "-f", "-c", D.core, "-s",
		    status, (char *)NULL);
		_exit(127);
	}
	D.pid = pid;	/* th_droverd_cleanup() stops it on failure */
	th_wait_log(&D, "drover-router " DROVER_VERSION " starting", WAIT_MS);
	snprintf(old, sizeof(old), "%s.1", D.log);
	ck_assert_int_eq(rename(D.log, old), 0);
	ck_assert_int_eq(kill(pid, SIGHUP), 0);
	th_wait_log(&D, "trusted domains reloaded", WAIT_MS);
	ck_assert(!th_file_has(old, "trusted domains reloaded"));
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	D.pid = -1;
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert(th_file_has(D.log, "drover-router stopped"));
}
END_TEST

Suite *
ops_suite(void)
{
	Suite	*s = suite_create("ops");
	TCase	*tc;

	tc = tcase_create("memory");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rss_grows);
	tcase_add_test(tc, test_rss_growth_recycles);
	suite_add_tcase(s, tc);

	tc = tcase_create("figures");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_method_figures_json);
	tcase_add_test(tc, test_method_figures_openmetrics);
	suite_add_tcase(s, tc);

	tc = tcase_create("logs");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_droverd_log_reopen);
	tcase_add_test(tc, test_router_log_reopen);
	suite_add_tcase(s, tc);
	return s;
}
