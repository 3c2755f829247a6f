/*
 * test_status.c: drover-status(8), run as a subprocess.
 *
 * Each test fills a scoreboard with th_sb_fill() (a known mix of slots,
 * counters, deaths, bus and queue figures and method calls), runs
 * $DROVER_BIN/drover-status on it and checks the output: text by its
 * lines, the --methods table, JSON parsed back with jansson, OpenMetrics
 * line by line against the exposition grammar and then through a real
 * parser (Debian's python3-prometheus-client, strict OpenMetrics and
 * the Prometheus text format), values compared.  Exit codes are checked
 * for every error class, a layout 1 segment included.  --watch is
 * stopped with SIGINT once its first frame has arrived (an event, not a
 * sleep).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "scoreboard/sb.h"
#include "th_openmetrics.h"
#include "th_sb.h"
#include "util.h"

struct run {
	int	 status;
	char	*out;
	char	*err;
};

static void
run_status(struct run *r, const char *a1, const char *a2, const char *a3)
{
	char	*argv[5];
	int	 n = 0;

	argv[n++] = (char *)th_status_bin();
	if (a1 != NULL)
		argv[n++] = (char *)a1;
	if (a2 != NULL)
		argv[n++] = (char *)a2;
	if (a3 != NULL)
		argv[n++] = (char *)a3;
	argv[n] = NULL;
	r->status = th_run(argv, &r->out, &r->err);
	ck_assert_msg(WIFEXITED(r->status), "drover-status died: status %d",
	    r->status);
}

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static int
exit_code(const struct run *r)
{
	return WEXITSTATUS(r->status);
}

/* The filled scoreboard, shared by most tests through a fixture. */
static struct sb	*fx_sb;
static char		 fx_svc[SB_NAME_LEN];

static void
fx_setup(void)
{
	fx_sb = th_sb_create("st", NULL, 0600, fx_svc, sizeof(fx_svc));
	th_sb_fill(fx_sb);
}

static void
fx_teardown(void)
{
	sb_destroy(&fx_sb);
}

/* ------------------------------------------------------------------ text */

START_TEST(test_text_service)
{
	struct run	 r;
	char		 want[64];

	run_status(&r, fx_svc, NULL, NULL);
	ck_assert_msg(exit_code(&r) == 0, "stderr: %s", r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_ptr_nonnull(strstr(r.out, fx_svc));
	(void)snprintf(want, sizeof(want), "pid %d, running", (int)getpid());
	ck_assert_ptr_nonnull(strstr(r.out, want));
	ck_assert_ptr_nonnull(strstr(r.out, "children:   8 (starting 1, "
	    "idle 3, busy 2, session 1, exiting 1), dead slots 1"));
	ck_assert_ptr_nonnull(strstr(r.out, "queue:      now 4, max 17, "
	    "limit 100"));
	ck_assert_ptr_nonnull(strstr(r.out, "accepted 1234, completed 3, "
	    "failed 1, rejected (503) 5, slow 1"));
	/* The first row of the compact line, then three rows of dots. */
	ck_assert_ptr_nonnull(strstr(r.out, "\n  ___WWKSG.X......"));
	ck_assert_ptr_nonnull(strstr(r.out, TH_METHOD));
	ck_assert_ptr_nonnull(strstr(r.out, "signal 11 core"));
	ck_assert_ptr_nonnull(strstr(r.out, "recent deaths (2 in all"));
	run_free(&r);
}
END_TEST

START_TEST(test_text_list)
{
	struct run	 r;
	char		*line, *end;

	run_status(&r, NULL, NULL, NULL);
	ck_assert_msg(exit_code(&r) == 0, "stderr: %s", r.err);
	/* Other services may exist on the host; find ours. */
	line = strstr(r.out, fx_svc);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(line == r.out || line[-1] == '\n', "not a line start");
	end = strchr(line, '\n');
	ck_assert_ptr_nonnull(end);
	*end = '\0';
	ck_assert_ptr_nonnull(strstr(line, "running"));
	ck_assert_ptr_nonnull(strstr(line, "children 8 (idle 3 busy 2 "
	    "session 1)"));
	ck_assert_ptr_nonnull(strstr(line, "queue 4"));
	run_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ JSON */

static json_t *
jparse(const char *s)
{
	json_error_t	 e;
	json_t		*j = json_loads(s, 0, &e);

	ck_assert_msg(j != NULL, "JSON: %s at line %d: %s", e.text, e.line, s);
	return j;
}

static json_int_t
jget_int(json_t *o, const char *path)
{
	char	 buf[128], *tok, *save;
	json_t	*v = o;

	(void)str_copy(buf, path, sizeof(buf));
	for (tok = strtok_r(buf, ".", &save); tok != NULL;
	    tok = strtok_r(NULL, ".", &save)) {
		v = json_object_get(v, tok);
		ck_assert_msg(v != NULL, "JSON: no key %s (in %s)", tok, path);
	}
	ck_assert_msg(json_is_integer(v), "JSON: %s not an integer", path);
	return json_integer_value(v);
}

static const char *
jget_str(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	ck_assert_msg(json_is_string(v), "JSON: %s not a string", key);
	return json_string_value(v);
}

/* Keys every full document has; documented in drover-status(8). */
static const char *const json_keys[] = {
	"segment", "service", "instance", "layout_version", "now_us",
	"parent", "generation", "children", "queue", "counters", "limits",
	"state_line", "slots", "deaths",
};

START_TEST(test_json_service)
{
	struct run	 r;
	json_t		*j, *slots, *s, *d;
	size_t		 i;
	int		 busy = 0;

	run_status(&r, "--json", fx_svc, NULL);
	ck_assert_msg(exit_code(&r) == 0, "stderr: %s", r.err);
	j = jparse(r.out);
	for (i = 0; i < ARRAY_LEN(json_keys); i++)
		ck_assert_msg(json_object_get(j, json_keys[i]) != NULL,
		    "missing key %s", json_keys[i]);
	ck_assert_str_eq(jget_str(j, "service"), fx_svc);
	ck_assert_str_eq(jget_str(j, "instance"), "");
	ck_assert_int_eq(jget_int(j, "layout_version"), SB_LAYOUT_VERSION);
	ck_assert_int_eq(jget_int(j, "parent.pid"), getpid());
	ck_assert(json_is_true(json_object_get(json_object_get(j, "parent"),
	    "running")));
	ck_assert_int_eq(jget_int(j, "generation"), TH_GENERATION);
	ck_assert_int_eq(jget_int(j, "children.total"), TH_CHILDREN);
	ck_assert_int_eq(jget_int(j, "children.idle"), TH_IDLE);
	ck_assert_int_eq(jget_int(j, "children.busy"), TH_BUSY);
	ck_assert_int_eq(jget_int(j, "children.session"), TH_SESSION);
	ck_assert_int_eq(jget_int(j, "children.starting"), TH_STARTING);
	ck_assert_int_eq(jget_int(j, "children.exiting"), TH_EXITING);
	ck_assert_int_eq(jget_int(j, "children.dead"), TH_DEAD);
	ck_assert_int_eq(jget_int(j, "children.empty"), SB_SLOTS - 9);
	ck_assert_int_eq(jget_int(j, "queue.now"), TH_QUEUED);
	ck_assert_int_eq(jget_int(j, "queue.max"), TH_MAX_QUEUED);
	ck_assert_int_eq(jget_int(j, "queue.limit"), 100);
	ck_assert_int_eq(jget_int(j, "counters.accepted"), TH_ACCEPTED);
	ck_assert_int_eq(jget_int(j, "counters.completed"), 3);
	ck_assert_int_eq(jget_int(j, "counters.failed"), 1);
	ck_assert_int_eq(jget_int(j, "counters.rejected"), TH_REJECTED);
	ck_assert_int_eq(jget_int(j, "counters.slow"), 1);
	ck_assert_int_eq(jget_int(j, "counters.spawned"), 10);
	ck_assert_int_eq(jget_int(j, "counters.abnormal_deaths"), 1);
	ck_assert_int_eq(jget_int(j, "counters.max_children_reached"), 2);
	ck_assert_int_eq(jget_int(j, "counters.deaths"), TH_DEATHS);
	ck_assert_int_eq(jget_int(j, "limits.min_children"), 3);
	ck_assert_int_eq(jget_int(j, "limits.max_children"), 10);
	ck_assert_int_eq(jget_int(j, "limits.max_children_now"), 12);
	ck_assert_int_eq(jget_int(j, "limits.slow_request_ms"), 1000);
	ck_assert_int_eq(jget_int(j, "limits.request_timeout_s"), 60);
	ck_assert_uint_eq(strlen(jget_str(j, "state_line")), SB_SLOTS);
	ck_assert_int_eq(strncmp(jget_str(j, "state_line"), "___WWKSG.X.",
	    11), 0);

	slots = json_object_get(j, "slots");
	ck_assert(json_is_array(slots));
	ck_assert_uint_eq(json_array_size(slots), 9);	/* non-empty only */
	json_array_foreach(slots, i, s) {
		ck_assert_int_ne(jget_int(s, "slot"), 8);	/* empty */
		ck_assert_int_eq(jget_int(s, "pid"),
		    TH_PID_BASE + jget_int(s, "slot"));
		if (strcmp(jget_str(s, "state"), "busy") != 0)
			continue;
		busy++;
		ck_assert_str_eq(jget_str(s, "letter"), "W");
		ck_assert_str_eq(jget_str(s, "method"), TH_METHOD);
		ck_assert_str_eq(jget_str(s, "client"), TH_CLIENT);
		ck_assert_str_eq(jget_str(s, "thread"), TH_THREAD);
		ck_assert_str_eq(jget_str(s, "xid"), TH_XID);
		ck_assert_int_eq(jget_int(s, "thread_trace"), 3);
		/* Busy for two seconds when filled, so at least that. */
		ck_assert_int_ge(jget_int(s, "elapsed_us"), 2000000);
	}
	ck_assert_int_eq(busy, TH_BUSY);

	d = json_object_get(j, "deaths");
	ck_assert_uint_eq(json_array_size(d), TH_DEATHS);
	s = json_array_get(d, 0);		/* newest: the crash */
	ck_assert_int_eq(jget_int(s, "slot"), 9);
	ck_assert_int_eq(jget_int(s, "signal"), 11);
	ck_assert_int_eq(jget_int(s, "exit_code"), -1);
	ck_assert(json_is_true(json_object_get(s, "core_dumped")));
	ck_assert_str_eq(jget_str(s, "last_method"), TH_METHOD);
	s = json_array_get(d, 1);
	ck_assert_int_eq(jget_int(s, "slot"), 8);
	ck_assert_int_eq(jget_int(s, "exit_code"), 0);
	json_decref(j);
	run_free(&r);
}
END_TEST

START_TEST(test_json_list)
{
	struct run	 r;
	json_t		*j, *a, *s;
	size_t		 i;
	int		 found = 0;

	run_status(&r, "--json", NULL, NULL);
	ck_assert_msg(exit_code(&r) == 0, "stderr: %s", r.err);
	j = jparse(r.out);
	a = json_object_get(j, "services");
	ck_assert(json_is_array(a));
	json_array_foreach(a, i, s) {
		if (json_object_get(s, "error") != NULL ||
		    strcmp(jget_str(s, "service"), fx_svc) != 0)
			continue;
		found++;
		ck_assert_int_eq(jget_int(s, "children.total"), TH_CHILDREN);
		ck_assert_ptr_null(json_object_get(s, "slots"));
	}
	ck_assert_int_eq(found, 1);
	json_decref(j);
	run_free(&r);
}
END_TEST

/* ----------------------------------------------------------- OpenMetrics */

START_TEST(test_openmetrics)
{
	struct run	 r;
	regex_t		 re_meta, re_sample;
	regmatch_t	 m[3];
	char		*line, *save, labels[160], sample[200];
	const char	*last = NULL;
	int		 samples = 0, found = 0, i;
	static const struct {
		const char	*name;
		const char	*extra;		/* extra label or "" */
		long		 value;
	} want[] = {
		{ "drover_up", "", 1 },
		{ "drover_generation", "", TH_GENERATION },
		{ "drover_queue_length", "", TH_QUEUED },
		{ "drover_queue_max_length", "", TH_MAX_QUEUED },
		{ "drover_requests_accepted_total", "", TH_ACCEPTED },
		{ "drover_requests_completed_total", "", 3 },
		{ "drover_requests_failed_total", "", 1 },
		{ "drover_requests_rejected_total", "", TH_REJECTED },
		{ "drover_requests_slow_total", "", 1 },
		{ "drover_children_spawned_total", "", 10 },
		{ "drover_children_abnormal_deaths_total", "", 1 },
		{ "drover_children_deaths_total", "", TH_DEATHS },
		{ "drover_slots", ",state=\"idle\"", TH_IDLE },
		{ "drover_slots", ",state=\"busy\"", TH_BUSY },
		{ "drover_slots", ",state=\"session\"", TH_SESSION },
		{ "drover_slots", ",state=\"dead\"", TH_DEAD },
		{ "drover_slots", ",state=\"empty\"", SB_SLOTS - 9 },
		{ "drover_limit", ",limit=\"max_children\"", 10 },
		{ "drover_limit", ",limit=\"max_children_now\"", 12 },
		{ "drover_limit", ",limit=\"max_backlog_queue\"", 100 },
	};

	run_status(&r, "--openmetrics", fx_svc, NULL);
	ck_assert_msg(exit_code(&r) == 0, "stderr: %s", r.err);
	ck_assert_int_eq(regcomp(&re_meta, "^# (TYPE [a-z_]+ (gauge|counter|"
	    "histogram|info)|HELP [a-z_]+ .+|UNIT [a-z_]+ [a-z]+|EOF)$",
	    REG_EXTENDED), 0);
	/* label values: anything but a bare quote or backslash, or escapes */
	ck_assert_int_eq(regcomp(&re_sample, "^([a-z_]+)\\{service=\"[^\"]+\""
	    "(,[a-z]+=\"([^\"\\\\]|\\\\.)*\")*\\} [0-9]+(\\.[0-9]+)?$",
	    REG_EXTENDED), 0);
	/* Every line is metadata or a sample; the last is "# EOF". */
	ck_assert_uint_gt(strlen(r.out), 0);
	ck_assert_int_eq(r.out[strlen(r.out) - 1], '\n');
	for (line = strtok_r(r.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(last == NULL || strcmp(last, "# EOF") != 0,
		    "line after # EOF: %s", line);
		last = line;
		if (line[0] == '#') {
			ck_assert_msg(regexec(&re_meta, line, 0, NULL, 0) == 0,
			    "bad metadata line: %s", line);
			continue;
		}
		ck_assert_msg(regexec(&re_sample, line, 3, m, 0) == 0,
		    "bad sample line: %s", line);
		samples++;
		for (i = 0; i < (int)ARRAY_LEN(want); i++) {
			(void)snprintf(labels, sizeof(labels),
			    "{service=\"%s\"%s}", fx_svc, want[i].extra);
			(void)snprintf(sample, sizeof(sample), "%s%s %ld",
			    want[i].name, labels, want[i].value);
			if (strcmp(line, sample) == 0)
				found |= 1 << i;
		}
	}
	ck_assert_str_eq(last, "# EOF");
	ck_assert_int_gt(samples, 20);
	for (i = 0; i < (int)ARRAY_LEN(want); i++)
		ck_assert_msg(found & (1 << i), "missing sample %s%s = %ld",
		    want[i].name, want[i].extra, want[i].value);
	regfree(&re_meta);
	regfree(&re_sample);
	run_free(&r);
}
END_TEST

START_TEST(test_openmetrics_instance)
{
	char		 svc[SB_NAME_LEN], arg[2 * SB_NAME_LEN], want[160];
	struct sb	*sb;
	struct run	 r;

	sb = th_sb_create("om", "green", 0600, svc, sizeof(svc));
	(void)snprintf(arg, sizeof(arg), "%s@green", svc);
	run_status(&r, "--openmetrics", arg, NULL);
	ck_assert_msg(exit_code(&r) == 0, "stderr: %s", r.err);
	(void)snprintf(want, sizeof(want),
	    "\ndrover_up{service=\"%s\",instance=\"green\"} 1\n", svc);
	ck_assert_ptr_nonnull(strstr(r.out, want));
	run_free(&r);
	sb_destroy(&sb);
}
END_TEST

START_TEST(test_unstable_slot)
{
	struct run	 r;
	json_t		*j, *s;
	size_t		 i;
	int		 seen = 0;

	/* Slot 20's writer "died" between its odd and even store. */
	atomic_fetch_add(&sb_slot(fx_sb, 20)->seq, 1);
	run_status(&r, "--json", fx_svc, NULL);
	ck_assert_msg(exit_code(&r) == 0, "stderr: %s", r.err);
	j = jparse(r.out);
	ck_assert_int_eq(jget_int(j, "children.unstable"), 1);
	ck_assert_int_eq(jget_str(j, "state_line")[20], '?');
	json_array_foreach(json_object_get(j, "slots"), i, s) {
		if (jget_int(s, "slot") != 20)
			continue;
		seen++;
		ck_assert_str_eq(jget_str(s, "state"), "unstable");
		ck_assert_ptr_null(json_object_get(s, "pid"));
	}
	ck_assert_int_eq(seen, 1);
	json_decref(j);
	run_free(&r);
}
END_TEST

/* --------------------------------------------------------- layout 2 */

/* Does out hold a line containing each of the words, in that order? */
static int
has_line(const char *out, const char *const *words, size_t n)
{
	const char	*line = out, *end, *p;
	size_t		 i;

	for (; *line != '\0'; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		for (p = line, i = 0; i < n; i++) {
			p = strstr(p, words[i]);
			if (p == NULL || p >= end)
				break;
			p += strlen(words[i]);
		}
		if (i == n)
			return 1;
	}
	return 0;
}

#define HAS_LINE(out, ...) do {						\
	const char *const w_[] = { __VA_ARGS__ };			\
	ck_assert_msg(has_line((out), w_, ARRAY_LEN(w_)),		\
	    "no line with: %s ...", w_[0]);				\
} while (0)

START_TEST(test_text_v2)
{
	struct run	 r;
	char		 pid[32];

	sb_count(fx_sb, SB_C_RESCUED, 2);
	sb_count(fx_sb, SB_C_FAILED, 2);	/* as the parent does */
	run_status(&r, fx_svc, NULL, NULL);
	ck_assert_msg(exit_code(&r) == 0, "stderr: %s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "\nbus:        redis, up\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "unstable 0, bus not up 2\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "memory:     RSS 30.0M in all, "
	    "largest 10.0M (slot 2), CPU "));
	/* the parent's backlog: 1.5 s old at the fill, older now */
	HAS_LINE(r.out, "queue:", "now 4, max 17, limit 100, oldest 1.");
	ck_assert_ptr_nonnull(strstr(r.out, "svc queue:  depth 12, oldest "
	    ">= 0.80s, sampled 0."));
	/* rescued requests are failed too: 1 + 2 */
	ck_assert_ptr_nonnull(strstr(r.out, "accepted 1234, completed 3, "
	    "failed 3, rejected (503) 5, slow 1, rescued 2, unsent 1\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "times, recycled 1\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "max_requests 1000 (+100)"));
	ck_assert_ptr_nonnull(strstr(r.out, "recycling:  max_rss_growth "
	    "65536kB, max_rss 524288kB, max_child_lifetime 3600s (+60s)\n"));
	/* slots: bus letter, RSS and CPU columns */
	HAS_LINE(r.out, "   0 ", " idle ", " U ", " 10.0M ", TH_METHOD);
	HAS_LINE(r.out, "   6 ", " starting", " C ");
	HAS_LINE(r.out, "   7 ", " exiting ", " D ");
	/* busy for two seconds at the fill, on the monotonic clock */
	(void)snprintf(pid, sizeof(pid), " %d ", TH_PID_BASE + 3);
	HAS_LINE(r.out, "   3", pid, " busy ", TH_METHOD, " 2.");
	/* deaths: reason and RSS at death */
	HAS_LINE(r.out, "signal 11 core", "crashed", TH_METHOD);
	HAS_LINE(r.out, "exit 0", "max_requests", "19.5M");
	run_free(&r);
}
END_TEST

START_TEST(test_methods_text)
{
	struct run	 r;
	char		 head[128];

	run_status(&r, "--methods", fx_svc, NULL);
	ck_assert_msg(exit_code(&r) == 0, "stderr: %s", r.err);
	(void)snprintf(head, sizeof(head), "methods of %s (3 in the table;",
	    fx_svc);
	ck_assert_ptr_nonnull(strstr(r.out, head));
	HAS_LINE(r.out, "METHOD", "CALLS", "4XX", "5XX", "OTHER", "MEAN",
	    "P50", "P90", "P99");
	/*
	 * add: 4 calls (50 us 404, 100 us, 2 ms 500, 1 s); mean 250.5 ms;
	 * p50 at rank 2, the top of (64, 128] us; p90 at rank 3.6, in
	 * (524288, 1048576] us; p99 near its top.
	 */
	HAS_LINE(r.out, "opensrf.math.add ", " 4 ", " 1 ", " 1 ", " 0 ",
	    " 250.5ms ", " 128us ", " 838.9ms ", " 1.03s");
	HAS_LINE(r.out, "opensrf.math.sub ", " 1 ", " 0 ", " 300us ");
	HAS_LINE(r.out, "opensrf.math.div ", " 1 ", " 10.0ms ");
	HAS_LINE(r.out, SB_METHOD_OTHER_NAME, " 1 ", " 1 ", " 0 ", " 70us ");
	/* the normal view is not printed */
	ck_assert_ptr_null(strstr(r.out, "recent deaths"));
	run_free(&r);

	/* every service, tables one after another */
	run_status(&r, "--methods", NULL, NULL);
	ck_assert_msg(exit_code(&r) == 0, "stderr: %s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, head));
	run_free(&r);
}
END_TEST

static json_t *
jfind_method(json_t *a, const char *name)
{
	json_t	*m;
	size_t	 i;

	json_array_foreach(a, i, m)
		if (strcmp(jget_str(m, "method"), name) == 0)
			return m;
	ck_abort_msg("JSON: no method %s", name);
	return NULL;
}

START_TEST(test_json_v2)
{
	struct run	 r;
	json_t		*j, *s, *m, *b;
	size_t		 i;
	int		 seen = 0;
	char		 addr[SB_ADDR_LEN];

	run_status(&r, "--json", fx_svc, NULL);
	ck_assert_msg(exit_code(&r) == 0, "stderr: %s", r.err);
	j = jparse(r.out);
	ck_assert_int_eq(jget_int(j, "layout_version"), 2);
	ck_assert_str_eq(jget_str(json_object_get(j, "parent"), "bus_kind"),
	    "redis");
	ck_assert_str_eq(jget_str(json_object_get(j, "parent"), "bus_state"),
	    "up");
	ck_assert_int_eq(jget_int(j, "children.bus_not_up"), TH_BUS_NOT_UP);
	ck_assert_int_eq(jget_int(j, "children.rss_kb"), TH_RSS_TOTAL_KB);
	ck_assert_int_ge(jget_int(j, "queue.oldest_age_us"),
	    TH_BACKLOG_AGE_US);
	ck_assert_int_eq(jget_int(j, "service_queue.depth"), TH_SQ_DEPTH);
	ck_assert_int_eq(jget_int(j, "service_queue.oldest_ms"),
	    TH_SQ_OLDEST_MS);
	ck_assert_int_ge(jget_int(j, "service_queue.sample_age_us"), 300000);
	ck_assert_int_eq(jget_int(j, "counters.rescued"), 0);
	ck_assert_int_eq(jget_int(j, "counters.unsent"), TH_UNSENT);
	ck_assert_int_eq(jget_int(j, "counters.recycled"), TH_RECYCLED);
	ck_assert_int_eq(jget_int(j, "limits.max_rss_growth_kb"),
	    TH_MAX_RSS_GROWTH_KB);
	ck_assert_int_eq(jget_int(j, "limits.max_rss_kb"), TH_MAX_RSS_KB);
	ck_assert_int_eq(jget_int(j, "limits.max_child_lifetime_s"),
	    TH_LIFETIME_S);
	ck_assert_int_eq(jget_int(j, "limits.max_child_lifetime_jitter_s"),
	    60);
	ck_assert_int_eq(jget_int(j, "limits.max_requests_jitter"), 100);

	json_array_foreach(json_object_get(j, "slots"), i, s) {
		if (jget_int(s, "slot") != 1)
			continue;
		seen++;
		ck_assert_str_eq(jget_str(s, "bus_state"), "up");
		ck_assert_int_eq(jget_int(s, "rss_kb"), TH_RSS_KB(1));
		ck_assert_int_eq(jget_int(s, "rss_base_kb"), TH_RSS_BASE_KB);
		ck_assert_int_eq(jget_int(s, "cpu_us"), TH_CPU_US(1));
		ck_assert_str_eq(jget_str(s, "exit_reason"), "unknown");
		(void)snprintf(addr, sizeof(addr), TH_ADDR, TH_PID_BASE + 1);
		ck_assert_str_eq(jget_str(s, "addr"), addr);
		ck_assert_int_ne(jget_int(s, "request_start_mono_us"), 0);
		ck_assert_int_ge(jget_int(s, "age_us"), 0);
	}
	ck_assert_int_eq(seen, 1);
	s = json_array_get(json_object_get(j, "deaths"), 1);	/* slot 8 */
	ck_assert_str_eq(jget_str(s, "exit_reason"), "max_requests");
	ck_assert_int_eq(jget_int(s, "rss_kb"), TH_DEATH_RSS_KB);
	s = json_array_get(json_object_get(j, "deaths"), 0);	/* slot 9 */
	ck_assert_str_eq(jget_str(s, "exit_reason"), "crashed");

	/* methods: the four called, cumulative buckets, estimates */
	ck_assert_uint_eq(json_array_size(json_object_get(j, "methods")), 4);
	m = jfind_method(json_object_get(j, "methods"), "opensrf.math.add");
	ck_assert_int_eq(jget_int(m, "calls"), TH_ADD_CALLS);
	ck_assert_int_eq(jget_int(m, "errors.4xx"), 1);
	ck_assert_int_eq(jget_int(m, "errors.5xx"), 1);
	ck_assert_int_eq(jget_int(m, "errors.other"), 0);
	ck_assert_int_eq(jget_int(m, "sum_us"), TH_ADD_SUM_US);
	ck_assert_int_eq(jget_int(m, "mean_us"), TH_ADD_SUM_US / 4);
	ck_assert_int_eq(jget_int(m, "p50_us"), 128);
	b = json_object_get(m, "buckets");
	ck_assert_uint_eq(json_array_size(b), SB_METHOD_BUCKETS);
	ck_assert_int_eq(jget_int(json_array_get(b, 0), "le_us"), 64);
	ck_assert_int_eq(jget_int(json_array_get(b, 0), "count"), 1);
	ck_assert_int_eq(jget_int(json_array_get(b, 13), "count"), 3);
	ck_assert_int_eq(jget_int(json_array_get(b, 14), "le_us"), 1048576);
	ck_assert_int_eq(jget_int(json_array_get(b, 14), "count"), 4);
	ck_assert(json_is_null(json_object_get(json_array_get(b,
	    SB_METHOD_BUCKETS - 1), "le_us")));
	ck_assert_int_eq(jget_int(json_array_get(b, SB_METHOD_BUCKETS - 1),
	    "count"), 4);
	m = jfind_method(json_object_get(j, "methods"), SB_METHOD_OTHER_NAME);
	ck_assert_int_eq(jget_int(m, "errors.4xx"), 1);
	json_decref(j);
	run_free(&r);

	/* the listing has methods only with --methods */
	run_status(&r, "--json", "--methods", NULL);
	ck_assert_msg(exit_code(&r) == 0, "stderr: %s", r.err);
	j = jparse(r.out);
	seen = 0;
	json_array_foreach(json_object_get(j, "services"), i, s) {
		if (json_object_get(s, "error") != NULL ||
		    strcmp(jget_str(s, "service"), fx_svc) != 0)
			continue;
		seen++;
		ck_assert_uint_eq(json_array_size(json_object_get(s,
		    "methods")), 4);
	}
	ck_assert_int_eq(seen, 1);
	json_decref(j);
	run_free(&r);
}
END_TEST

/*
 * The exposition through a real parser (th_openmetrics.h): every family
 * with its type and unit, every sample with its labels and value.
 */
START_TEST(test_openmetrics_parser)
{
	struct run	 r;
	const char	*v = fx_svc;
	char		*parsed;

	run_status(&r, "--openmetrics", fx_svc, NULL);
	ck_assert_msg(exit_code(&r) == 0, "stderr: %s", r.err);
	parsed = th_om_parse(r.out);
	/* families and their types */
	th_om_want(parsed, "F drover_method_duration_seconds histogram seconds\n");
	th_om_want(parsed, "F drover_method_calls counter \n");
	th_om_want(parsed, "F drover_method_errors counter \n");
	th_om_want(parsed, "F drover_bus info \n");
	th_om_want(parsed, "F drover_child_rss_bytes gauge bytes\n");
	th_om_want(parsed, "F drover_requests_rescued counter \n");
	/* add's histogram: cumulative, +Inf = _count, _sum in seconds */
#define ADD	"method=opensrf.math.add,service=%s"
	th_om_want(parsed, "S drover_method_duration_seconds_bucket le=0.000064,"
	    ADD " 1.000000\n", v);
	th_om_want(parsed, "S drover_method_duration_seconds_bucket le=0.000128,"
	    ADD " 2.000000\n", v);
	th_om_want(parsed, "S drover_method_duration_seconds_bucket le=0.002048,"
	    ADD " 3.000000\n", v);
	th_om_want(parsed, "S drover_method_duration_seconds_bucket le=0.524288,"
	    ADD " 3.000000\n", v);
	th_om_want(parsed, "S drover_method_duration_seconds_bucket le=1.048576,"
	    ADD " 4.000000\n", v);
	th_om_want(parsed, "S drover_method_duration_seconds_bucket le=+Inf,"
	    ADD " 4.000000\n", v);
	th_om_want(parsed, "S drover_method_duration_seconds_sum " ADD
	    " 1.002150\n", v);
	th_om_want(parsed, "S drover_method_duration_seconds_count " ADD
	    " 4.000000\n", v);
	th_om_want(parsed, "S drover_method_calls_total " ADD " 4.000000\n", v);
	th_om_want(parsed, "S drover_method_errors_total class=4xx," ADD
	    " 1.000000\n", v);
	th_om_want(parsed, "S drover_method_errors_total class=5xx," ADD
	    " 1.000000\n", v);
	th_om_want(parsed, "S drover_method_errors_total class=other," ADD
	    " 0.000000\n", v);
#undef ADD
	th_om_want(parsed, "S drover_method_calls_total method=(other),"
	    "service=%s 1.000000\n", v);
	th_om_want(parsed, "S drover_method_duration_seconds_sum "
	    "method=opensrf.math.div,service=%s 0.010000\n", v);
	/* children, bus, queues, counters, limits */
	th_om_want(parsed, "S drover_child_rss_bytes service=%s,slot=2 "
	    "%d.000000\n", v, TH_RSS_KB(2) * 1024);
	th_om_want(parsed, "S drover_child_cpu_seconds service=%s,slot=0 "
	    "0.005000\n", v);
	th_om_want(parsed, "S drover_children_rss_bytes service=%s %d.000000\n",
	    v, TH_RSS_TOTAL_KB * 1024);
	th_om_want(parsed, "S drover_children_bus_not_up service=%s 2.000000\n",
	    v);
	th_om_want(parsed, "S drover_bus_info kind=redis,service=%s,state=up "
	    "1.000000\n", v);
	th_om_want(parsed, "S drover_bus_up service=%s 1.000000\n", v);
	th_om_want(parsed, "S drover_service_queue_depth service=%s 12.000000\n",
	    v);
	th_om_want(parsed, "S drover_service_queue_oldest_age_seconds service=%s "
	    "0.800000\n", v);
	th_om_want(parsed, "S drover_children_recycled_total service=%s "
	    "1.000000\n", v);
	th_om_want(parsed, "S drover_replies_unsent_total service=%s 1.000000\n",
	    v);
	th_om_want(parsed, "S drover_requests_rescued_total service=%s "
	    "0.000000\n", v);
	th_om_want(parsed, "S drover_limit limit=max_rss_kilobytes,service=%s "
	    "%d.000000\n", v, TH_MAX_RSS_KB);
	th_om_want(parsed, "S drover_limit limit=max_child_lifetime_seconds,"
	    "service=%s %d.000000\n", v, TH_LIFETIME_S);
	/* slot 3 is busy and never sampled: no figure rather than 0 */
	ck_assert_msg(strstr(parsed, "slot=3 ") == NULL, "unsampled slot 3 "
	    "exported");
	free(parsed);
	run_free(&r);
}
END_TEST

/* An older droverd's segment: refused, both versions named, exit 3. */
START_TEST(test_version1_exit)
{
	struct sb_header	*h;
	char			 svc[SB_NAME_LEN];
	struct run		 r;
	json_t			*j, *s;
	size_t			 i;
	int			 seen = 0;
	const size_t		 v1_len = 6016 + 256 * 576;

	h = xcalloc(1, v1_len);
	h->magic = SB_MAGIC;
	h->version = 1;
	h->header_size = 6016;
	h->slot_size = 576;
	h->slot_count = SB_SLOTS;
	h->death_count = SB_DEATHS;
	atomic_store(&h->parent_pid, getpid());
	ck_assert_int_lt(snprintf(svc, sizeof(svc), "th-v1st-%d",
	    (int)getpid()), (int)sizeof(svc));
	th_shm_write(svc, h, v1_len);
	free(h);

	run_status(&r, svc, NULL, NULL);
	ck_assert_int_eq(exit_code(&r), 3);
	ck_assert_msg(strstr(r.err, "incompatible segment: scoreboard "
	    "layout version 1, this drover-status reads version 2") != NULL,
	    "stderr: %s", r.err);
	run_free(&r);
	run_status(&r, "--openmetrics", svc, NULL);
	ck_assert_int_eq(exit_code(&r), 3);
	ck_assert_ptr_nonnull(strstr(r.err, "layout version 1"));
	run_free(&r);
	/* the listing names it with the reason and goes on */
	run_status(&r, "--json", NULL, NULL);
	ck_assert_int_eq(exit_code(&r), 0);
	j = jparse(r.out);
	json_array_foreach(json_object_get(j, "services"), i, s) {
		if (strstr(jget_str(s, "segment"), svc) == NULL)
			continue;
		seen++;
		ck_assert_ptr_nonnull(strstr(jget_str(s, "error"),
		    "layout version 1"));
		ck_assert_int_eq(jget_int(s, "layout_version"), 1);
	}
	ck_assert_int_eq(seen, 1);
	json_decref(j);
	run_free(&r);
	th_shm_unlink(svc);
}
END_TEST

/* ---------------------------------------------------------- dead parent */

START_TEST(test_dead_parent)
{
	char		 svc[SB_NAME_LEN];
	struct sb	*sb;
	struct run	 r;
	json_t		*j;
	pid_t		 pid;
	int		 st;

	ck_assert_int_lt(snprintf(svc, sizeof(svc), "th-deadp-%d",
	    (int)getpid()), (int)sizeof(svc));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (sb_create(&sb, svc, NULL, 0600, NULL) != 0)
			_exit(1);
		th_sb_fill(sb);
		_exit(0);		/* dies without unlinking */
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	run_status(&r, svc, NULL, NULL);
	ck_assert_int_eq(exit_code(&r), 0);
	ck_assert_ptr_nonnull(strstr(r.out, "NOT RUNNING"));
	run_free(&r);
	run_status(&r, "--json", svc, NULL);
	ck_assert_int_eq(exit_code(&r), 0);
	j = jparse(r.out);
	ck_assert(json_is_false(json_object_get(json_object_get(j, "parent"),
	    "running")));
	ck_assert_int_eq(jget_int(j, "parent.pid"), pid);
	json_decref(j);
	run_free(&r);
	run_status(&r, "--openmetrics", svc, NULL);
	ck_assert_int_eq(exit_code(&r), 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\ndrover_up{service=\""));
	ck_assert_ptr_nonnull(strstr(r.out, "\"} 0\n"));
	run_free(&r);
	th_shm_unlink(svc);
}
END_TEST

/* ------------------------------------------------------------ exit codes */

static const struct {
	const char	*a1, *a2, *a3;
	int		 code;
	const char	*stdout_has;
	const char	*stderr_has;
} usage_cases[] = {
	{ "--help", NULL, NULL, 0, "usage: drover-status", NULL },
	{ "--version", NULL, NULL, 0, "drover-status ", NULL },
	{ "--bogus", NULL, NULL, 2, NULL, "usage:" },
	{ "a", "b", NULL, 2, NULL, "usage:" },
	{ "--json", "--openmetrics", NULL, 2, NULL, "usage:" },
	{ "--watch", "0", "x", 2, NULL, "--watch" },
	{ "--watch", "abc", "x", 2, NULL, "--watch" },
	{ "--watch", NULL, NULL, 2, NULL, "usage:" },
	{ "bad/name", NULL, NULL, 2, NULL, "not a valid" },
	{ "svc@", NULL, NULL, 2, NULL, "not a valid" },
	{ "th-no-such-service-here", NULL, NULL, 1, NULL, "no such service" },
	{ "--json", "th-no-such-service-here", NULL, 1, NULL,
	    "no such service" },
	{ "--methods", "th-no-such-service-here", NULL, 1, NULL,
	    "no such service" },
	{ "--help", NULL, NULL, 0, "[--methods]", NULL },
};

START_TEST(test_usage_exit)
{
	struct run	r;

	run_status(&r, usage_cases[_i].a1, usage_cases[_i].a2,
	    usage_cases[_i].a3);
	ck_assert_msg(exit_code(&r) == usage_cases[_i].code,
	    "exit %d, want %d; stderr: %s", exit_code(&r),
	    usage_cases[_i].code, r.err);
	if (usage_cases[_i].stdout_has != NULL)
		ck_assert_ptr_nonnull(strstr(r.out,
		    usage_cases[_i].stdout_has));
	if (usage_cases[_i].stderr_has != NULL)
		ck_assert_msg(strstr(r.err, usage_cases[_i].stderr_has) != NULL,
		    "stderr lacks \"%s\": %s", usage_cases[_i].stderr_has,
		    r.err);
	run_free(&r);
}
END_TEST

/* Segments drover-status must refuse with exit 3. */
static const struct {
	uint32_t	 magic, version;
	size_t		 len;
	const char	*why;
} bad_cases[] = {
	{ 0x7f454c46, SB_LAYOUT_VERSION, sizeof(struct sb_segment),
	    "incompatible" },
	{ SB_MAGIC, SB_LAYOUT_VERSION + 1, sizeof(struct sb_segment),
	    "incompatible" },
	{ SB_MAGIC, SB_LAYOUT_VERSION, sizeof(struct sb_header) - 8,
	    "corrupt" },
	{ SB_MAGIC, SB_LAYOUT_VERSION, 8, "corrupt" },
};

START_TEST(test_bad_segment_exit)
{
	struct sb_header	*h;
	char			 svc[SB_NAME_LEN];
	struct run		 r;

	h = xcalloc(1, sizeof(struct sb_segment));
	th_sb_fake_header(h, bad_cases[_i].version);
	h->magic = bad_cases[_i].magic;
	ck_assert_int_lt(snprintf(svc, sizeof(svc), "th-bad%d-%d", _i,
	    (int)getpid()), (int)sizeof(svc));
	th_shm_write(svc, h, bad_cases[_i].len);
	free(h);

	run_status(&r, svc, NULL, NULL);
	ck_assert_int_eq(exit_code(&r), 3);
	ck_assert_msg(strstr(r.err, bad_cases[_i].why) != NULL, "stderr: %s",
	    r.err);
	run_free(&r);
	run_status(&r, "--json", svc, NULL);
	ck_assert_int_eq(exit_code(&r), 3);
	run_free(&r);
	/* The listing reports it and goes on: exit 0. */
	run_status(&r, NULL, NULL, NULL);
	ck_assert_int_eq(exit_code(&r), 0);
	ck_assert_ptr_nonnull(strstr(r.out, svc));
	run_free(&r);
	th_shm_unlink(svc);
}
END_TEST

/* ----------------------------------------------------------------- watch */

START_TEST(test_watch_sigint)
{
	char	 buf[65536];
	size_t	 len = 0;
	ssize_t	 n;
	pid_t	 pid;
	int	 p[2], st;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (dup2(p[1], STDOUT_FILENO) == -1)
			_exit(127);
		execl(th_status_bin(), "drover-status", "--watch", "0.2",
		    "--json", fx_svc, (char *)NULL);
		_exit(127);
	}
	fd_close(&p[1]);
	/* In watch mode JSON is one document per line: wait for one. */
	while (memchr(buf, '\n', len) == NULL) {
		ck_assert_uint_lt(len, sizeof(buf) - 1);
		n = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		ck_assert_int_gt(n, 0);		/* died before a frame */
		len += (size_t)n;
	}
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	fd_close(&p[0]);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert_int_eq(buf[0], '{');
}
END_TEST

Suite *
status_suite(void)
{
	Suite	*s = suite_create("status");
	TCase	*tc;

	tc = tcase_create("formats");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_text_service);
	tcase_add_test(tc, test_text_list);
	tcase_add_test(tc, test_json_service);
	tcase_add_test(tc, test_json_list);
	tcase_add_test(tc, test_openmetrics);
	tcase_add_test(tc, test_watch_sigint);
	tcase_add_test(tc, test_unstable_slot);
	tcase_add_test(tc, test_text_v2);
	tcase_add_test(tc, test_methods_text);
	tcase_add_test(tc, test_json_v2);
	tcase_add_test(tc, test_openmetrics_parser);
	suite_add_tcase(s, tc);

	tc = tcase_create("segments");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_test(tc, test_openmetrics_instance);
	tcase_add_test(tc, test_dead_parent);
	tcase_add_test(tc, test_version1_exit);
	tcase_add_loop_test(tc, test_bad_segment_exit, 0,
	    ARRAY_LEN(bad_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("usage");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_loop_test(tc, test_usage_exit, 0, ARRAY_LEN(usage_cases));
	suite_add_tcase(s, tc);
	return s;
}
