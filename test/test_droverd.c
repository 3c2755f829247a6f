/*
 * test_droverd.c: droverd end to end on the local bus with the test
 * plugin (drover.test): pool sizing, recycling, backlog and 503, the
 * watchdog, in-flight rescue, crash handling, signals, big requests.
 * Each case starts its own droverd (test/th_droverd.h) and synchronises
 * on replies, scoreboard states and log lines, each with a deadline.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/osrfmsg.h"
#include "proto/tmsg.h"
#include "scoreboard/sb.h"
#include "proto/bus.h"
#include "th_droverd.h"
#include "util.h"

#define WAIT_MS		15000	/* deadline of any single wait */

static struct th_droverd D;

static void
teardown(void)
{
	th_droverd_cleanup(&D);
}

static int
busy_n(const struct th_view *v, void *arg)
{
	return v->sum.by_state[SB_BUSY] + v->sum.by_state[SB_SESSION] >=
	    (uint32_t)*(int *)arg;
}

static int
busy_only_n(const struct th_view *v, void *arg)
{
	return v->sum.by_state[SB_BUSY] >= (uint32_t)*(int *)arg;
}

static int
children_n(const struct th_view *v, void *arg)
{
	return v->sum.children == (uint32_t)*(int *)arg;
}

static int
spawned_n(const struct th_view *v, void *arg)
{
	return v->info.counters[SB_C_SPAWNED] >= (uint64_t)*(int *)arg;
}

static int
completed_n(const struct th_view *v, void *arg)
{
	return v->info.counters[SB_C_COMPLETED] >= (uint64_t)*(int *)arg;
}

static int
slow_n(const struct th_view *v, void *arg)
{
	return v->info.counters[SB_C_SLOW] >= (uint64_t)*(int *)arg;
}

static int
max_now(const struct th_view *v, void *arg)
{
	return v->info.max_children_now == (uint32_t)*(int *)arg;
}

/* The busy child's pid, and its slot. */
static pid_t
busy_pid(int *slotp)
{
	struct th_view	*v = xmalloc(sizeof(*v));
	pid_t		 pid = -1;
	int		 i;

	th_view(&D, v);
	for (i = 0; i < SB_SLOTS; i++)
		if (v->slot[i].state == SB_BUSY) {
			pid = v->slot[i].pid;
			*slotp = i;
			break;
		}
	free(v);
	ck_assert_int_gt(pid, 0);
	return pid;
}

static void
read_cmdline(pid_t pid, char *buf, size_t n)
{
	char	path[64];
	FILE	*f;
	size_t	len;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	len = fread(buf, 1, n - 1, f);
	buf[len] = '\0';
	fclose(f);
}

static void
expect_clean_exit(int st)
{
	struct sb	*sb = NULL;

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "droverd status 0x%x", st);
	sb_close(&D.sb);
	ck_assert_int_eq(sb_open(&sb, D.shm), -ENOENT);	/* unlinked */
}

/* ------------------------------------------------------------ cases */

START_TEST(test_spawn_to_min)
{
	struct th_conf	 c = { .min_children = 3, .max_children = 5 };
	struct th_view	*v = xmalloc(sizeof(*v));
	char		 cmd[256];
	int		 i;

	th_droverd_start(&D, &c);
	th_view(&D, v);
	ck_assert_uint_eq(v->sum.children, 3);
	ck_assert_uint_eq(v->info.limits.min_children, 3);
	ck_assert_uint_eq(v->info.max_children_now, 5);
	ck_assert_int_eq(v->info.parent_pid, D.pid);
	read_cmdline(D.pid, cmd, sizeof(cmd));
	ck_assert_str_eq(cmd, "drover listener [drover.test]");
	for (i = 0; i < SB_SLOTS; i++)
		if (v->slot[i].state == SB_IDLE)
			break;
	read_cmdline(v->slot[i].pid, cmd, sizeof(cmd));
	ck_assert_str_eq(cmd, "drover drone [drover.test] idle");
	free(v);
	expect_clean_exit(th_droverd_stop(&D, SIGTERM, WAIT_MS));
}
END_TEST

START_TEST(test_big_request)
{
	struct th_conf	 c = { .min_children = 1, .max_children = 1 };
	struct th_reply	 r;
	size_t		 n = 1024 * 1024, i;
	char		*params, *want;

	th_droverd_start(&D, &c);
	params = xmalloc(n + 8);
	want = xmalloc(n + 8);
	params[0] = '[';
	params[1] = '"';
	for (i = 0; i < n; i++)
		params[2 + i] = 'a' + i % 26;
	memcpy(params + 2 + n, "\"]", 3);
	memcpy(want, params + 1, n + 2);
	want[n + 2] = '\0';
	th_call(&D, "opensrf.system.echo", params, &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	ck_assert_uint_eq(strlen(r.content), n + 2);
	ck_assert(strcmp(r.content, want) == 0);
	th_reply_free(&r);
	free(params);
	free(want);
}
END_TEST

/* The idle slot whose child has served `n` requests, or -1. */
static int
served_slot(const struct th_view *v, uint64_t n)
{
	int	i;

	for (i = 0; i < SB_SLOTS; i++)
		if (v->slot[i].pid > 0 && v->slot[i].requests == n &&
		    v->slot[i].state == SB_IDLE)
			return i;
	return -1;
}

static int
served_one(const struct th_view *v, void *arg)
{
	return served_slot(v, 1) >= 0;
}

/*
 * A child that does not read its pipe stalls only itself: a request
 * bigger than the pipe waits in its slot while the parent goes on
 * serving through the other child, and it gets its answer once the
 * child reads again.
 */
START_TEST(test_child_not_reading)
{
	struct th_conf	 c = { .min_children = 2, .max_children = 2 };
	struct th_view	*v = xmalloc(sizeof(*v));
	struct th_reply	 r;
	char		*params, big_thread[64];
	size_t		 n = 1024 * 1024, i;
	pid_t		 stopped;
	int		 slot;

	th_droverd_start(&D, &c);
	/* the child that serves a request is the most recently idle one,
	 * the next to be handed work: make it the stopped one */
	th_call(&D, "opensrf.system.echo", "[1]", &r, WAIT_MS);
	th_reply_free(&r);
	/* the reply may come before the child's slot says it is idle */
	th_wait_sb(&D, served_one, NULL, WAIT_MS, "the server idle again");
	th_view(&D, v);
	slot = served_slot(v, 1);
	ck_assert_int_ge(slot, 0);
	stopped = v->slot[slot].pid;
	ck_assert_int_eq(kill(stopped, SIGSTOP), 0);
	params = xmalloc(n + 8);
	params[0] = '[';
	params[1] = '"';
	for (i = 0; i < n; i++)
		params[2 + i] = 'b';
	memcpy(params + 2 + n, "\"]", 3);
	/* a 1 MiB request to the stopped child: 64 KiB fit its pipe */
	th_send(&D, NULL, 1, "opensrf.system.echo", params, big_thread);
	free(params);
	/* the parent is not stuck in that write: it serves the other */
	for (i = 0; i < 3; i++) {
		th_call(&D, "opensrf.system.echo", "[2]", &r, WAIT_MS);
		ck_assert_int_eq(r.code, 205);
		ck_assert_str_eq(r.content, "2");
		th_reply_free(&r);
	}
	th_view(&D, v);
	ck_assert_int_eq(v->slot[slot].pid, stopped);
	ck_assert_uint_eq(v->slot[slot].requests, 1);	/* still waiting */
	/* and the stalled request gets through once the child reads */
	ck_assert_int_eq(kill(stopped, SIGCONT), 0);
	th_recv(&D, &r, WAIT_MS);
	ck_assert_str_eq(r.thread, big_thread);
	ck_assert_int_eq(r.code, 205);
	ck_assert_uint_eq(strlen(r.content), n + 2);
	th_reply_free(&r);
	free(v);
}
END_TEST

START_TEST(test_growth_to_max)
{
	struct th_conf	c = { .min_children = 1, .max_children = 4 };
	struct th_reply	r;
	int		i, n = 4;

	th_droverd_start(&D, &c);
	for (i = 0; i < 4; i++)
		th_send(&D, NULL, i + 1, "drover.test.sleep", "[0.5]", NULL);
	th_wait_sb(&D, busy_n, &n, WAIT_MS, "4 busy children");
	th_wait_sb(&D, spawned_n, &n, WAIT_MS, "4 spawned");
	for (i = 0; i < 4; i++) {
		th_recv(&D, &r, WAIT_MS);
		ck_assert_int_eq(r.code, 205);
		th_reply_free(&r);
	}
}
END_TEST

START_TEST(test_spare_shrink)
{
	struct th_conf	c = { .min_children = 1, .max_children = 6,
	    .min_spare = 1, .max_spare = 2 };
	struct th_reply	r;
	int		i, n = 5, two = 2;

	th_droverd_start(&D, &c);
	for (i = 0; i < 5; i++)
		th_send(&D, NULL, i + 1, "drover.test.sleep", "[0.3]", NULL);
	th_wait_sb(&D, busy_n, &n, WAIT_MS, "5 busy children");
	for (i = 0; i < 5; i++) {
		th_recv(&D, &r, WAIT_MS);
		ck_assert_int_eq(r.code, 205);
		th_reply_free(&r);
	}
	/* one surplus idle child retired per tick, down to min_children */
	th_wait_sb(&D, children_n, &two, WAIT_MS, "shrink to 2 children");
	ck_assert(th_log_has(&D, "retiring surplus idle child"));
}
END_TEST

START_TEST(test_max_requests)
{
	struct th_conf	 c = { .min_children = 1, .max_children = 1,
	    .max_requests = 2 };
	struct th_reply	 r;
	struct th_view	*v = xmalloc(sizeof(*v));
	int		 i, three = 3, five = 5;

	th_droverd_start(&D, &c);
	for (i = 0; i < 5; i++) {
		th_call(&D, "opensrf.system.echo", "[1]", &r, WAIT_MS);
		ck_assert_int_eq(r.code, 205);
		ck_assert_str_eq(r.content, "1");
		th_reply_free(&r);
	}
	th_wait_sb(&D, spawned_n, &three, WAIT_MS, "3 children spawned");
	/* a child counts after it answered: wait for the count */
	th_wait_sb(&D, completed_n, &five, WAIT_MS, "5 completed");
	th_view(&D, v);
	ck_assert_uint_eq(v->info.counters[SB_C_ABNORMAL], 0);
	free(v);
}
END_TEST

START_TEST(test_backlog_503)
{
	/* one client fills the whole backlog: give it all of it */
	struct th_conf	c = { .min_children = 1, .max_children = 1,
	    .max_backlog_queue = 2,
	    .unix_extra = "<max_queued_per_client>2</max_queued_per_client>" };
	struct th_reply	r;
	int		i, one = 1, seen = 0;

	th_droverd_start(&D, &c);
	th_send(&D, NULL, 1, "drover.test.sleep", "[1]", NULL);
	th_wait_sb(&D, busy_n, &one, WAIT_MS, "1 busy child");
	th_send(&D, NULL, 2, "opensrf.system.echo", "[2]", NULL);
	th_send(&D, NULL, 3, "opensrf.system.echo", "[3]", NULL);
	th_send(&D, NULL, 42, "opensrf.system.echo", "[42]", NULL);
	/* the overflow is answered at once, with its own threadTrace */
	th_recv(&D, &r, WAIT_MS);
	ck_assert_int_eq(r.code, 503);
	ck_assert_int_eq(r.trace, 42);
	th_reply_free(&r);
	/* the queue drains as soon as the child is free */
	for (i = 0; i < 3; i++) {
		th_recv(&D, &r, WAIT_MS);
		ck_assert_int_eq(r.code, 205);
		seen |= 1 << r.trace;
		th_reply_free(&r);
	}
	ck_assert_int_eq(seen, 2 | 4 | 8);
}
END_TEST

START_TEST(test_watchdog)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1,
	    .request_timeout = 1 };
	struct th_reply	r;

	th_droverd_start(&D, &c);
	th_send(&D, NULL, 5, "drover.test.sleep", "[60]", NULL);
	th_recv(&D, &r, WAIT_MS);
	ck_assert_int_eq(r.code, 500);
	ck_assert_int_eq(r.trace, 5);
	ck_assert(strstr(r.status, "timed out") != NULL);
	th_reply_free(&r);
	th_wait_log(&D, "request watchdog", WAIT_MS);
	th_wait_idle(&D, 1, WAIT_MS);	/* replaced */
}
END_TEST

static int
idle_not_pid(const struct th_view *v, void *arg)
{
	int	i;

	for (i = 0; i < SB_SLOTS; i++)
		if (v->slot[i].state == SB_IDLE &&
		    v->slot[i].pid != *(pid_t *)arg)
			return 1;
	return 0;
}

START_TEST(test_kill9_rescue)
{
	struct th_conf		c = { .min_children = 1, .max_children = 2 };
	struct th_reply		r;
	struct sb_death_info	di[SB_DEATHS];
	pid_t			pid;
	int			one = 1, slot;

	th_droverd_start(&D, &c);
	th_send(&D, NULL, 7, "drover.test.sleep", "[60]", NULL);
	th_wait_sb(&D, busy_n, &one, WAIT_MS, "1 busy child");
	pid = busy_pid(&slot);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	th_recv(&D, &r, WAIT_MS);
	ck_assert_int_eq(r.code, 500);
	ck_assert_int_eq(r.trace, 7);
	th_reply_free(&r);
	th_wait_sb(&D, idle_not_pid, &pid, WAIT_MS, "a replacement child");
	ck_assert_int_ge(sb_read_deaths(D.sb, di, SB_DEATHS), 1);
	ck_assert_int_eq(di[0].pid, pid);
	ck_assert_int_eq(di[0].signal, SIGKILL);
	ck_assert_str_eq(di[0].last_method, "drover.test.sleep");
	ck_assert(th_log_has(&D, "killed by signal 9"));
}
END_TEST

START_TEST(test_crash_request)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1 };
	struct th_reply	r;
	int		i;

	th_droverd_start(&D, &c);
	for (i = 0; i < 2; i++) {
		th_call(&D, "drover.test.crash", "[]", &r, WAIT_MS);
		ck_assert_int_eq(r.code, 500);
		th_reply_free(&r);
	}
	th_call(&D, "opensrf.system.echo", "[1]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	th_reply_free(&r);
}
END_TEST

START_TEST(test_fatal_init)
{
	struct th_conf	c = { .min_children = 2, .max_children = 2,
	    .app_settings = "<fail_child_init>1</fail_child_init>" };
	const char	*extra[] = { "-f", NULL };
	int		st;

	memset(&D, 0, sizeof(D));
	th_droverd_conf(&D, &c);
	D.pid = th_droverd_exec(&D, extra);
	st = th_droverd_wait_exit(&D, WAIT_MS);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 1);	/* no child can run */
	ck_assert(th_log_has(&D, "not respawning"));
	ck_assert(th_log_has(&D, "no child can run"));
}
END_TEST

static int
generation_is(const struct th_view *v, void *arg)
{
	uint32_t	gen = (uint32_t)*(int *)arg;
	int		i, live = 0;

	if (v->info.generation != gen)
		return 0;
	for (i = 0; i < SB_SLOTS; i++) {
		if (v->slot[i].state == SB_EMPTY ||
		    v->slot[i].state == SB_DEAD)
			continue;
		if (v->slot[i].generation != gen)
			return 0;
		live++;
	}
	return live >= 3;
}

START_TEST(test_sighup_under_load)
{
	struct th_conf	c = { .min_children = 2, .max_children = 4 };
	struct th_reply	r;
	int		sent = 0, got = 0, total = 200, window = 8, two = 2;

	th_droverd_start(&D, &c);
	while (got < total) {
		while (sent < total && sent - got < window) {
			th_send(&D, NULL, sent + 1, "opensrf.system.echo",
			    "[\"x\"]", NULL);
			sent++;
		}
		th_recv(&D, &r, WAIT_MS);
		ck_assert_msg(r.code == 205, "request %lld: %d %s", r.trace,
		    r.code, r.status);
		th_reply_free(&r);
		if (++got == 50) {
			c.min_children = 3;
			th_droverd_conf(&D, &c);
			ck_assert_int_eq(kill(D.pid, SIGHUP), 0);
		}
	}
	th_wait_sb(&D, generation_is, &two, WAIT_MS,
	    "generation 2 with 3 children");
	ck_assert(th_log_has(&D, "reload: generation 2"));
}
END_TEST

START_TEST(test_sighup_invalid)
{
	struct th_conf	c = { .min_children = 1, .max_children = 2 };
	struct th_reply	r;
	FILE		*f;

	th_droverd_start(&D, &c);
	f = fopen(D.settings, "w");
	ck_assert_ptr_nonnull(f);
	fputs("<opensrf><broken", f);
	fclose(f);
	ck_assert_int_eq(kill(D.pid, SIGHUP), 0);
	th_wait_log(&D, "keeping the running configuration", WAIT_MS);
	th_call(&D, "opensrf.system.echo", "[1]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	th_reply_free(&r);
}
END_TEST

START_TEST(test_sigterm_inflight)
{
	struct th_conf	c = { .min_children = 2, .max_children = 2 };
	struct th_reply	r;
	int		i, two = 2;

	th_droverd_start(&D, &c);
	th_send(&D, NULL, 1, "drover.test.sleep", "[0.5]", NULL);
	th_send(&D, NULL, 2, "drover.test.sleep", "[0.5]", NULL);
	th_wait_sb(&D, busy_n, &two, WAIT_MS, "2 busy children");
	ck_assert_int_eq(kill(D.pid, SIGTERM), 0);
	for (i = 0; i < 2; i++) {
		th_recv(&D, &r, WAIT_MS);
		ck_assert_int_eq(r.code, 205);
		th_reply_free(&r);
	}
	expect_clean_exit(th_droverd_wait_exit(&D, WAIT_MS));
}
END_TEST

START_TEST(test_sigint_fast)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1 };
	struct th_reply	r;
	char		path[256];
	int		one = 1, slot, st;
	pid_t		pid;

	th_droverd_start(&D, &c);
	th_send(&D, NULL, 9, "drover.test.sleep", "[60]", NULL);
	th_wait_sb(&D, busy_n, &one, WAIT_MS, "1 busy child");
	pid = busy_pid(&slot);
	ck_assert_int_eq(kill(D.pid, SIGINT), 0);
	/* no waiting for the request: its client hears at once */
	th_recv(&D, &r, WAIT_MS);
	ck_assert_int_eq(r.code, 500);
	ck_assert_int_eq(r.trace, 9);
	th_reply_free(&r);
	st = th_droverd_wait_exit(&D, WAIT_MS);
	expect_clean_exit(st);
	/* the killed child's bus socket went with it */
	snprintf(path, sizeof(path), "%s/opensrf@local+drover.test_drone_%d",
	    D.dir, (int)pid);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

START_TEST(test_check_bad_plugin)
{
	struct th_conf	c = { .min_children = 1 };
	const char	*extra[] = { "--check", NULL };
	char		*x;
	int		 st;

	memset(&D, 0, sizeof(D));
	th_droverd_conf(&D, &c);
	/* the same settings with a plugin that does not exist */
	x = xasprintf("sed -i 's/drover.test.so/no-such-plugin.so/' %s",
	    D.settings);
	ck_assert_int_eq(system(x), 0);
	free(x);
	D.pid = th_droverd_exec(&D, extra);
	st = th_droverd_wait_exit(&D, WAIT_MS);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 1);
}
END_TEST

START_TEST(test_daemon)
{
	struct th_conf	 c = { .min_children = 1, .max_children = 1 };
	const char	*extra[] = { "-d", NULL };
	struct sb	*sb = NULL;
	char		 pidfile[160], buf[32];
	uint64_t	 end;
	FILE		*f;
	pid_t		 pid = 0;
	int		 st;

	memset(&D, 0, sizeof(D));
	th_droverd_conf(&D, &c);
	D.pid = th_droverd_exec(&D, extra);
	st = th_droverd_wait_exit(&D, WAIT_MS);	/* the foreground part */
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	snprintf(pidfile, sizeof(pidfile), "%s/drover.test@%s.pid", D.dir,
	    D.instance);
	/* made empty at start, the pid written once it serves */
	end = mono_ms() + WAIT_MS;
	for (;;) {
		if ((f = fopen(pidfile, "r")) != NULL) {
			if (fgets(buf, sizeof(buf), f) != NULL)
				pid = atoi(buf);
			fclose(f);
		}
		if (pid != 0)
			break;
		ck_assert_msg(mono_ms() < end, "no pid in %s", pidfile);
		(void)poll(NULL, 0, 2);
	}
	ck_assert_int_gt(pid, 1);
	th_wait_idle(&D, 1, WAIT_MS);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	/* a clean stop removes the pid file and the scoreboard */
	end = mono_ms() + WAIT_MS;
	while (access(pidfile, F_OK) == 0 || sb_open(&sb, D.shm) == 0) {
		sb_close(&sb);
		ck_assert_msg(mono_ms() < end, "daemon %d did not stop",
		    (int)pid);
		(void)poll(NULL, 0, 2);
	}
	sb_close(&D.sb);
}
END_TEST

START_TEST(test_ttin_ttou)
{
	struct th_conf	c = { .min_children = 1, .max_children = 3 };
	int		n;

	th_droverd_start(&D, &c);
	ck_assert_int_eq(kill(D.pid, SIGTTIN), 0);
	n = 4;
	th_wait_sb(&D, max_now, &n, WAIT_MS, "max_children 4");
	/* one at a time: a pending signal is not counted twice */
	ck_assert_int_eq(kill(D.pid, SIGTTOU), 0);
	n = 3;
	th_wait_sb(&D, max_now, &n, WAIT_MS, "max_children 3");
	ck_assert_int_eq(kill(D.pid, SIGTTOU), 0);
	n = 2;
	th_wait_sb(&D, max_now, &n, WAIT_MS, "max_children 2");
}
END_TEST

/* What droverd wrote to stderr (d->dir/stderr.log), NUL-terminated. */
static void
read_stderr(struct th_droverd *d, char *buf, size_t size)
{
	char	 path[128];
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/stderr.log", d->dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/*
 * A second droverd for the same service and instance exits 1 and says
 * on stderr which pid serves it (not only in the log: with -d, before
 * it daemonizes, whose stderr is /dev/null).
 */
START_TEST(test_second_refused)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1 };
	const char	*extra[2][2] = { { "-f", NULL }, { "-d", NULL } };
	struct th_droverd d2;
	char		 want[128], buf[4096];
	int		 st;

	th_droverd_start(&D, &c);
	d2 = D;		/* same files and directory */
	d2.pid = th_droverd_exec(&D, extra[_i]);
	d2.sb = NULL;
	d2.client = NULL;
	d2.pend = NULL;
	st = th_droverd_wait_exit(&d2, WAIT_MS);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x",
	    st);
	snprintf(want, sizeof(want), "droverd: drover.test@%s is already "
	    "served by droverd pid %d\n", D.instance, (int)D.pid);
	read_stderr(&D, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, want) != NULL, "stderr \"%s\" lacks "
	    "\"%s\"", buf, want);
	/* the first one goes on serving */
	ck_assert_int_eq(kill(D.pid, 0), 0);
	if (_i == 0) {
		snprintf(want, sizeof(want), "by droverd pid %d", (int)D.pid);
		th_wait_log(&D, want, WAIT_MS);
	}
}
END_TEST

START_TEST(test_check)
{
	struct th_conf	c = { .min_children = 1 };
	const char	*extra[] = { "--check", NULL };
	char		 path[128], buf[4096];
	FILE		*f;
	size_t		 n;
	int		 st;

	memset(&D, 0, sizeof(D));
	th_droverd_conf(&D, &c);
	D.pid = th_droverd_exec(&D, extra);
	st = th_droverd_wait_exit(&D, WAIT_MS);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	snprintf(path, sizeof(path), "%s/stderr.log", D.dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert(strstr(buf, "min_children 1\n") != NULL);
	ck_assert(strstr(buf, "configuration OK") != NULL);
}
END_TEST

START_TEST(test_stream)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1 };
	struct th_reply	r;

	th_droverd_start(&D, &c);
	th_call(&D, "drover.test.stream", "[5]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	ck_assert_int_eq(r.nresults, 5);
	ck_assert_str_eq(r.content, "12345");
	th_reply_free(&r);
}
END_TEST

START_TEST(test_slow_request)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1,
	    .slow_request_ms = 100 };
	struct th_reply	r;
	int		one = 1;

	th_droverd_start(&D, &c);
	th_call(&D, "drover.test.sleep", "[0.2,\"visible\"]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	th_reply_free(&r);
	/* the child logs it, with its params (the xid is th_send()'s) */
	th_wait_log(&D, "slow request: method \"drover.test.sleep\" xid "
	    "\"xid1\" client \"opensrf@local/th_", WAIT_MS);
	th_wait_log(&D, "(slow_request_ms 100) params [0.2,\"visible\"]",
	    WAIT_MS);
	th_wait_sb(&D, slow_n, &one, WAIT_MS, "1 slow request counted");
}
END_TEST

/*
 * A method under <log_protect> (a prefix, as OpenSRF matches it): its
 * slow-request line says the params are redacted, and they reach the
 * log file nowhere, at debug level.
 */
START_TEST(test_slow_request_protected)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1,
	    .slow_request_ms = 100, .core_after = "<shared><log_protect>"
	    "<match_string>open-ils.auth</match_string>"
	    "<match_string>drover.test.sl</match_string>"
	    "</log_protect></shared>" };
	struct th_reply	r;
	int		one = 1;

	th_droverd_start(&D, &c);
	th_call(&D, "drover.test.sleep", "[0.2,\"s3cr3t-pw\"]", &r,
	    WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	th_reply_free(&r);
	th_wait_sb(&D, slow_n, &one, WAIT_MS, "1 slow request counted");
	th_wait_log(&D, "slow request: method \"drover.test.sleep\"",
	    WAIT_MS);
	ck_assert(th_log_has(&D, "(slow_request_ms 100) params "
	    "**PARAMS REDACTED**"));
	/* nor does the stop log them */
	ck_assert_int_eq(WEXITSTATUS(th_droverd_stop(&D, SIGTERM, WAIT_MS)),
	    0);
	ck_assert(!th_log_has(&D, "s3cr3t-pw"));
}
END_TEST

START_TEST(test_panic)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1 };
	struct th_reply	r;
	int		two = 2;

	th_droverd_start(&D, &c);
	th_call(&D, "drover.test.panic", "[]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);	/* answered, then the child went */
	th_reply_free(&r);
	th_wait_sb(&D, spawned_n, &two, WAIT_MS, "a second child");
	th_call(&D, "opensrf.system.echo", "[1]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	th_reply_free(&r);
}
END_TEST

START_TEST(test_crash_loop)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1 };
	struct th_reply	r;
	int		i;

	th_droverd_start(&D, &c);
	/* children that die right after they start: forks slow down */
	for (i = 0; i < 3; i++) {
		th_call(&D, "drover.test.exit", "[3]", &r, WAIT_MS);
		ck_assert_int_eq(r.code, 500);
		th_reply_free(&r);
	}
	th_wait_log(&D, "crash loop: 3 children died early", WAIT_MS);
	/* and the service still serves once one survives */
	th_call(&D, "opensrf.system.echo", "[1]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	th_reply_free(&r);
}
END_TEST

/* One more client on droverd's local bus, "opensrf@local/<name>". */
static struct bus *
other_client(const char *name)
{
	struct bus_params	 p;
	struct bus		*b;

	memset(&p, 0, sizeof(p));
	p.kind = BUS_LOCAL;
	p.local_dir = D.dir;
	p.role = BUS_ROLE_CLIENT;
	p.resource = name;
	ck_assert_int_eq(bus_new(&p, &b), 0);
	ck_assert_int_eq(bus_open(b, WAIT_MS), 0);
	return b;
}

/* The final STATUS codes of n answers on b, counted by code class. */
static void
answers(struct bus *b, int n, int *ok, int *unavailable, char *why,
    size_t whysz)
{
	struct bus_frame	*f;
	struct tmsg		 t = TMSG_INIT;
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct pollfd		 p;
	uint64_t		 end = mono_ms() + WAIT_MS;
	size_t			 i;
	int			 rc;

	*ok = *unavailable = 0;
	while (*ok + *unavailable < n) {
		ck_assert_msg(mono_ms() < end, "%d of %d answered",
		    *ok + *unavailable, n);
		if ((rc = bus_recv(b, &f)) == 0) {
			p.fd = bus_fd(b);
			p.events = POLLIN;
			(void)poll(&p, 1, 100);
			continue;
		}
		ck_assert_int_eq(rc, 1);
		ck_assert_int_eq(bus_decode(b, f->raw, f->len, &t, NULL), 0);
		ck_assert_int_eq(osrfmsg_decode(t.body, strlen(t.body), &l,
		    NULL), 0);
		for (i = 0; i < l.n; i++) {
			if (l.msg[i].type != OSRFMSG_STATUS)
				continue;
			if (l.msg[i].status_code == 200 ||
			    l.msg[i].status_code == 205)
				(*ok)++;
			else if (l.msg[i].status_code == 503) {
				(*unavailable)++;
				if (why != NULL && l.msg[i].status != NULL)
					str_copy(why, l.msg[i].status, whysz);
			}
		}
		osrfmsg_list_clear(&l);
		tmsg_clear(&t);
		bus_frame_free(&f);
	}
}

#define CONNECT_BODY	"[{\"__c\":\"osrfMessage\",\"__p\":{" \
	"\"threadTrace\":\"0\",\"type\":\"CONNECT\"}}]"

/*
 * One client floods the service with CONNECTs: it gets its share of
 * the children and of the backlog, the rest of its CONNECTs are refused
 * at once, the queued ones are refused once no client would still wait
 * for them, and another client is served meanwhile.  Every CONNECT gets
 * an answer.
 */
START_TEST(test_connect_flood)
{
	struct th_conf	 c = { .min_children = 2, .max_children = 2,
	    .max_backlog_queue = 10, .keepalive = 30,
	    .unix_extra = "<max_connect_wait>1</max_connect_wait>" };
	struct bus	*flood;
	struct tmsg	 t = TMSG_INIT;
	struct th_reply	 r;
	char		 thread[32], why[256] = "";
	int		 i, ok, unavailable, one = 1;

	th_droverd_start(&D, &c);
	/* one child busy for 2 s: the flood finds one idle child */
	th_send(&D, NULL, 1, "drover.test.sleep", "[2]", NULL);
	th_wait_sb(&D, busy_only_n, &one, WAIT_MS, "the sleep running");
	flood = other_client("flooder");
	for (i = 0; i < 20; i++) {
		snprintf(thread, sizeof(thread), "flood.%d", i);
		t.to = D.listener;
		t.thread = thread;
		t.body = CONNECT_BODY;
		ck_assert_int_eq(bus_send(flood, &t), 0);
	}
	/* one session (the idle child), 5 queued (half of the backlog of
	 * 10), 14 refused at once */
	answers(flood, 15, &ok, &unavailable, why, sizeof(why));
	ck_assert_int_eq(ok, 1);
	ck_assert_int_eq(unavailable, 14);
	ck_assert_ptr_nonnull(strstr(why, "share of the backlog"));
	th_recv(&D, &r, WAIT_MS);	/* the sleep ends: a child frees */
	ck_assert_int_eq(r.code, 205);
	th_reply_free(&r);
	/* the 5 queued ones are refused, not served: no client waits that
	 * long for a CONNECT (1 s here) */
	answers(flood, 5, &ok, &unavailable, why, sizeof(why));
	ck_assert_int_eq(ok, 0);
	ck_assert_int_eq(unavailable, 5);
	ck_assert_ptr_nonnull(strstr(why, "waited longer"));
	/* and another client is served while the flooder holds its session */
	th_call(&D, "opensrf.system.echo", "[1]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	th_reply_free(&r);
	bus_free(&flood);
}
END_TEST

/* The newest death record says `reason`. */
static int
died_for(const struct th_view *v, void *arg)
{
	struct sb_death_info	d;

	return v->info.deaths_total > 0 &&
	    sb_read_deaths(D.sb, &d, 1) == 1 &&
	    d.exit_reason == *(uint32_t *)arg;
}

/*
 * A child that stays idle past max_child_lifetime is retired on the
 * parent's tick (it checks its own age only after a request), for that
 * reason, without counting as a failure, and replaced.
 */
START_TEST(test_idle_lifetime)
{
	struct th_conf	 c = { .min_children = 1, .max_children = 1,
	    .unix_extra = "<max_child_lifetime>1</max_child_lifetime>" };
	struct th_view	*v = xmalloc(sizeof(*v));
	uint32_t	 why = SB_EXIT_LIFETIME;
	struct th_reply	 r;

	th_droverd_start(&D, &c);
	th_wait_sb(&D, died_for, &why, WAIT_MS, "a death for its lifetime");
	th_view(&D, v);
	ck_assert_uint_eq(v->info.counters[SB_C_ABNORMAL], 0);
	ck_assert_uint_ge(v->info.counters[SB_C_RECYCLED], 1);
	free(v);
	th_call(&D, "opensrf.system.echo", "[1]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	th_reply_free(&r);
}
END_TEST

static int
session_n(const struct th_view *v, void *arg)
{
	return v->sum.by_state[SB_SESSION] == (uint32_t)*(int *)arg;
}

/* Send one body to `to` on `thread` from the test's client. */
static void
send_body(const char *to, const char *thread, const char *body)
{
	struct tmsg	t = TMSG_INIT;

	t.to = to;
	t.thread = thread;
	t.body = body;
	ck_assert_int_eq(bus_send(D.client, &t), 0);
}

/* CONNECT on thread `thread`; the drone's JID into drone. */
static void
connect_session(const char *thread, char *drone, size_t n)
{
	struct bus_frame *st = NULL;
	struct tmsg	  t = TMSG_INIT;
	struct pollfd	  p;
	uint64_t	  end;
	int		  rc;

	send_body(D.listener, thread, "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"0\",\"type\":\"CONNECT\"}}]");
	end = mono_ms() + WAIT_MS;
	while ((rc = bus_recv(D.client, &st)) == 0) {
		ck_assert(mono_ms() < end);
		p.fd = bus_fd(D.client);
		p.events = POLLIN;
		(void)poll(&p, 1, 100);
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_int_eq(bus_decode(D.client, st->raw, st->len, &t, NULL),
	    0);
	ck_assert(strstr(t.body, "\"200\"") != NULL);	/* connected */
	str_copy(drone, t.from, n);
	tmsg_clear(&t);
	bus_frame_free(&st);
}

START_TEST(test_session_rescue)
{
	struct th_conf	c = { .min_children = 1, .max_children = 2 };
	struct th_reply	r;
	char		drone[256];
	int		one = 1, slot;

	th_droverd_start(&D, &c);
	connect_session("sess2", drone, sizeof(drone));
	th_wait_sb(&D, session_n, &one, WAIT_MS, "a session slot");
	/* a request inside the session goes to the drone, not the parent */
	send_body(drone, "sess2", "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"5\",\"type\":\"REQUEST\",\"payload\":{"
	    "\"__c\":\"osrfMethod\",\"__p\":{\"method\":"
	    "\"drover.test.sleep\",\"params\":[60]}}}}]");
	th_wait_sb(&D, busy_only_n, &one, WAIT_MS, "the session's request");
	ck_assert_int_eq(kill(busy_pid(&slot), SIGKILL), 0);
	/* answered from the slot's record: the session's own request */
	th_recv(&D, &r, WAIT_MS);
	ck_assert_str_eq(r.thread, "sess2");
	ck_assert_int_eq(r.trace, 5);
	ck_assert_int_eq(r.code, 500);
	th_reply_free(&r);
}
END_TEST

START_TEST(test_session)
{
	struct th_conf	 c = { .min_children = 1, .max_children = 2 };
	char		 drone[256];
	int		 one = 1, zero = 0;

	th_droverd_start(&D, &c);
	connect_session("sess1", drone, sizeof(drone));
	/* the child stays with the client; the slot shows it */
	th_wait_sb(&D, session_n, &one, WAIT_MS, "a session slot");
	send_body(drone, "sess1", "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"1\",\"type\":\"DISCONNECT\"}}]");
	th_wait_sb(&D, session_n, &zero, WAIT_MS, "the session to end");
	th_wait_idle(&D, 1, WAIT_MS);
}
END_TEST

/* Descriptors of pid: count; *noexec gets those without FD_CLOEXEC. */
static int
count_fds(pid_t pid, int *noexec)
{
	char		 path[320], line[128];
	struct dirent	*de;
	DIR		*dir;
	FILE		*f;
	unsigned long	 flags;
	int		 n = 0;

	*noexec = 0;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	dir = opendir(path);
	ck_assert_ptr_nonnull(dir);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		if (atoi(de->d_name) <= 2)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid,
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* closed meanwhile */
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "flags: %lo", &flags) == 1 &&
			    (flags & O_CLOEXEC) == 0)
				(*noexec)++;
		fclose(f);
	}
	closedir(dir);
	return n;
}

START_TEST(test_fds)
{
	struct th_conf	 c = { .min_children = 16, .max_children = 16 };
	struct th_view	*v = xmalloc(sizeof(*v));
	int		 i, n, noexec, first = -1;

	th_droverd_start(&D, &c);
	/* the parent: two per child plus a fixed few, all close-on-exec */
	n = count_fds(D.pid, &noexec);
	ck_assert_int_le(n, 2 * 16 + 12);
	ck_assert_int_eq(noexec, 0);
	/* a child holds the same few whatever its slot: no sibling fds */
	th_view(&D, v);
	for (i = 0; i < SB_SLOTS; i++) {
		if (v->slot[i].state != SB_IDLE)
			continue;
		n = count_fds(v->slot[i].pid, &noexec);
		if (first < 0)
			first = n;
		ck_assert_int_eq(n, first);
		ck_assert_int_le(n, 12);
	}
	free(v);
}
END_TEST

/*
 * The local bus has no routers: SIGUSR1 and SIGUSR2 say so, and change
 * nothing (the service keeps answering).  On XMPP, test_droverd_xmpp.c
 * proves an unregistered service gets no traffic.
 */
START_TEST(test_usr1_usr2)
{
	struct th_conf	c = { .min_children = 1, .max_children = 1 };
	struct th_reply	r;

	th_droverd_start(&D, &c);
	ck_assert_int_eq(kill(D.pid, SIGUSR1), 0);
	th_wait_log(&D, "SIGUSR1: the local bus has no routers: nothing to "
	    "leave", WAIT_MS);
	th_call(&D, "opensrf.system.echo", "[1]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	th_reply_free(&r);
	ck_assert_int_eq(kill(D.pid, SIGUSR2), 0);
	th_wait_log(&D, "SIGUSR2: the local bus has no routers: nothing to "
	    "join", WAIT_MS);
	ck_assert(!th_log_has(&D, "unregistered from"));
}
END_TEST

Suite *
droverd_suite(void)
{
	Suite	*s = suite_create("droverd");
	TCase	*tc;

	tc = tcase_create("pool");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_spawn_to_min);
	tcase_add_test(tc, test_fds);
	tcase_add_test(tc, test_big_request);
	tcase_add_test(tc, test_child_not_reading);
	tcase_add_test(tc, test_growth_to_max);
	tcase_add_test(tc, test_spare_shrink);
	tcase_add_test(tc, test_max_requests);
	tcase_add_test(tc, test_backlog_503);
	tcase_add_test(tc, test_stream);
	tcase_add_test(tc, test_slow_request);
	tcase_add_test(tc, test_slow_request_protected);
	tcase_add_test(tc, test_session);
	tcase_add_test(tc, test_session_rescue);
	tcase_add_test(tc, test_connect_flood);
	tcase_add_test(tc, test_idle_lifetime);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_watchdog);
	tcase_add_test(tc, test_kill9_rescue);
	tcase_add_test(tc, test_crash_request);
	tcase_add_test(tc, test_fatal_init);
	tcase_add_test(tc, test_panic);
	tcase_add_test(tc, test_crash_loop);
	suite_add_tcase(s, tc);

	tc = tcase_create("signals");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sighup_under_load);
	tcase_add_test(tc, test_sighup_invalid);
	tcase_add_test(tc, test_sigterm_inflight);
	tcase_add_test(tc, test_sigint_fast);
	tcase_add_test(tc, test_ttin_ttou);
	tcase_add_test(tc, test_usr1_usr2);
	tcase_add_loop_test(tc, test_second_refused, 0, 2);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_daemon);
	tcase_add_test(tc, test_check_bad_plugin);
	suite_add_tcase(s, tc);
	return s;
}
