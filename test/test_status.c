/*
 * test_status.c: drover-status(8), run as a subprocess.
 *
 * Each test fills a scoreboard with th_sb_fill() (a known mix of slots,
 * counters and deaths), runs $DROVER_BIN/drover-status on it and checks
 * the output: text by its lines, JSON parsed back with jansson,
 * OpenMetrics line by line against the exposition grammar.  Exit codes
 * are checked for every error class.  --watch is stopped with SIGINT
 * once its first frame has arrived (an event, not a sleep).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "scoreboard/sb.h"
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
	ck_assert_int_eq(regcomp(&re_meta, "^# (TYPE [a-z_]+ (gauge|counter)|"
	    "HELP [a-z_]+ .+|UNIT [a-z_]+ [a-z]+|EOF)$", REG_EXTENDED), 0);
	ck_assert_int_eq(regcomp(&re_sample, "^([a-z_]+)\\{service=\"[^\"]+\""
	    "(,[a-z]+=\"[a-z_]+\")?\\} [0-9]+(\\.[0-9]+)?$", REG_EXTENDED), 0);
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
	h->magic = bad_cases[_i].magic;
	h->version = bad_cases[_i].version;
	h->header_size = sizeof(struct sb_header);
	h->slot_size = sizeof(struct sb_slot);
	h->slot_count = SB_SLOTS;
	h->death_count = SB_DEATHS;
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
	suite_add_tcase(s, tc);

	tc = tcase_create("segments");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_test(tc, test_openmetrics_instance);
	tcase_add_test(tc, test_dead_parent);
	tcase_add_loop_test(tc, test_bad_segment_exit, 0,
	    ARRAY_LEN(bad_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("usage");
	tcase_add_unchecked_fixture(tc, NULL, th_sb_sweep);
	tcase_add_loop_test(tc, test_usage_exit, 0, ARRAY_LEN(usage_cases));
	suite_add_tcase(s, tc);
	return s;
}
