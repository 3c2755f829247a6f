/*
 * test_droverctl.c: droverctl(8), run as a subprocess.
 *
 * usage: the argument handling, table-driven (exit code and a line the
 * output must hold).  targets: what droverctl picks from a configuration
 * without starting anything (activeapps, skipped languages, unknown
 * services, stale pid files).  daemons: start, status, reload and stop
 * of real droverd processes on the local bus (--local), synchronised on
 * pid files and the scoreboard, and the SIGKILL escalation against a
 * fake daemon that ignores SIGTERM.  xmpp (integration): the router and
 * a service on the private ejabberd, started and stopped together, and
 * a drover-call through them.
 *
 * Every configuration lives in a fresh directory under /tmp, and the
 * service names carry this process's pid ("c<pid>a"), since scoreboards
 * are per machine and other test runs may be serving at the same time.
 * The teardown stops whatever a failed test left running.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/redis_conn.h"
#include "proto/bus.h"
#include "proto/tmsg.h"
#include "scoreboard/sb.h"
#include "th_droverd.h"
#include "th_sb.h"
#include "th_servers.h"
#include "util.h"

/* Deadline for events the tests wait on: generous, never a sleep. */
#define WAIT_MS		10000

struct run {
	int	 code;
	char	*out;
	char	*err;
};

static char	 base[64];		/* the runner's directory */
static char	 dir[96];		/* the test's, inside base */
static char	 svc_a[SB_NAME_LEN];	/* a C service */
static char	 svc_b[SB_NAME_LEN];	/* a second C service */
static char	 svc_p[SB_NAME_LEN];	/* a Perl service: skipped */
static char	 svc_x[SB_NAME_LEN];	/* C, but its plugin is absent */

static const char *
ctl_bin(void)
{
	static char	 path[4096];
	const char	*bin = getenv("DROVER_BIN");

	ck_assert_msg(bin != NULL,
	    "DROVER_BIN not set: run via test/run-tests");
	snprintf(path, sizeof(path), "%s/droverctl", bin);
	return path;
}

/* droverctl with the test's configuration, then up to 4 arguments. */
static void
ctl(struct run *r, const char *a1, const char *a2, const char *a3,
    const char *a4)
{
	char	*argv[12], core[128], bus[128];
	int	 n = 0, st;

	snprintf(core, sizeof(core), "%s/core.xml", dir);
	snprintf(bus, sizeof(bus), "%s/bus", dir);
	argv[n++] = (char *)ctl_bin();
	argv[n++] = "-c";
	argv[n++] = core;
	argv[n++] = "-h";
	argv[n++] = "testhost";
	argv[n++] = "--local";
	argv[n++] = bus;
	if (a1 != NULL)
		argv[n++] = (char *)a1;
	if (a2 != NULL)
		argv[n++] = (char *)a2;
	if (a3 != NULL)
		argv[n++] = (char *)a3;
	if (a4 != NULL)
		argv[n++] = (char *)a4;
	argv[n] = NULL;
	st = th_run(argv, &r->out, &r->err);
	ck_assert_msg(WIFEXITED(st), "droverctl died: status %d", st);
	r->code = WEXITSTATUS(st);
}

/* As ctl(), on XMPP: no --local. */
static void
ctl_xmpp(struct run *r, const char *a1, const char *a2)
{
	char	*argv[8], core[128];
	int	 n = 0, st;

	snprintf(core, sizeof(core), "%s/core.xml", dir);
	argv[n++] = (char *)ctl_bin();
	argv[n++] = "-c";
	argv[n++] = core;
	argv[n++] = "-h";
	argv[n++] = "testhost";
	argv[n++] = (char *)a1;
	if (a2 != NULL)
		argv[n++] = (char *)a2;
	argv[n] = NULL;
	st = th_run(argv, &r->out, &r->err);
	ck_assert_msg(WIFEXITED(st), "droverctl died: status %d", st);
	r->code = WEXITSTATUS(st);
}

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	ck_assert_msg(f != NULL, "fopen(%s): %s", path, strerror(errno));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static char *
pidfile(const char *svc)
{
	return xasprintf("%s/run/%s.pid", dir, svc);
}

/* The pid in the service's pid file, 0 if none. */
static pid_t
read_pid(const char *svc)
{
	char	*p = pidfile(svc), buf[32];
	FILE	*f;
	int	 pid = 0;

	if ((f = fopen(p, "r")) != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL)
			pid = atoi(buf);
		fclose(f);
	}
	free(p);
	return pid;
}

/* Alive and not a zombie. */
static int
alive(pid_t pid)
{
	char	 path[64], buf[512], *p;
	FILE	*f;
	int	 z = 0;

	if (pid <= 0 || kill(pid, 0) == -1)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z')
		z = 1;
	fclose(f);
	return !z;
}

/* Wait for pid to be gone (it is not our child), with a deadline. */
static int
wait_dead(pid_t pid)
{
	uint64_t	deadline = mono_ms() + WAIT_MS;
	struct timespec	ts = { 0, 5 * 1000 * 1000 };

	while (alive(pid)) {
		if (mono_ms() > deadline)
			return 0;
		nanosleep(&ts, NULL);	/* a polling step, not a sync */
	}
	return 1;
}

static void
write_conf(void)
{
	char	*core, *settings;
	char	*path;

	core = xasprintf(
	    "<?xml version=\"1.0\"?>\n<config><opensrf>\n"
	    "<domain>private.localhost</domain><username>opensrf</username>"
	    "<passwd>password</passwd>\n"
	    "<logfile>%s/osrfsys.log</logfile><loglevel>3</loglevel>\n"
	    "<settings_config>opensrf.xml</settings_config>\n"
	    "<allow_root>true</allow_root>\n"
	    "</opensrf></config>\n", dir);
	settings = xasprintf(
	    "<?xml version=\"1.0\"?>\n<opensrf version=\"0.0.3\"><default>"
	    "<dirs><pid>%s/run</pid></dirs>\n"
	    "<activeapps><appname>%s</appname><appname>%s</appname>"
	    "<appname>%s</appname></activeapps>\n<apps>\n"
	    "<%s><language>c</language>"
	    "<implementation>opensrf.dbmath.so</implementation>"
	    "<keepalive>60</keepalive>"
	    "<unix_config><min_children>2</min_children>"
	    "<max_children>4</max_children></unix_config></%s>\n"
	    "<%s><implementation>opensrf.dbmath.so</implementation>"
	    "<unix_config><min_children>1</min_children>"
	    "<max_children>2</max_children></unix_config></%s>\n"
	    "<%s><language>perl</language></%s>\n"
	    "<%s><language>C</language>"
	    "<implementation>no-such-plugin.so</implementation></%s>\n"
	    "</apps></default></opensrf>\n", dir, svc_a, svc_p, svc_b,
	    svc_a, svc_a, svc_b, svc_b, svc_p, svc_p, svc_x, svc_x);
	path = xasprintf("%s/core.xml", dir);
	write_file(path, core);
	free(path);
	path = xasprintf("%s/opensrf.xml", dir);
	write_file(path, settings);
	free(path);
	free(core);
	free(settings);
}

/* Stop a daemon: TERM, so droverd removes its scoreboard; then KILL. */
static void
stop_pid(pid_t pid)
{
	if (pid <= 0 || !alive(pid))
		return;
	kill(pid, SIGTERM);
	if (!wait_dead(pid)) {
		kill(pid, SIGKILL);
		(void)wait_dead(pid);
	}
}

/*
 * Check skips the checked teardown after a failed assertion (the forked
 * child calls _exit()), so every test's directory lives under one base
 * directory named after the runner process, and this unchecked teardown
 * stops whatever any pid file there still names, then removes it all.
 */
static void
ux_setup(void)
{
	snprintf(base, sizeof(base), "/tmp/droverctl-test.%d", (int)getpid());
	if (mkdir(base, 0700) == -1 && errno != EEXIST)
		ck_abort_msg("mkdir(%s): %s", base, strerror(errno));
}

static void
ux_teardown(void)
{
	glob_t	 g;
	char	*pat, *cmd;
	size_t	 i;

	pat = xasprintf("%s/*/run/*.pid", base);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (i = 0; i < g.gl_pathc; i++) {
			FILE	*f = fopen(g.gl_pathv[i], "r");
			int	 pid = 0;

			if (f == NULL)
				continue;
			if (fscanf(f, "%d", &pid) == 1) {
				fprintf(stderr, "test_droverctl: stopping pid "
				    "%d left by a failed test (%s)\n", pid,
				    g.gl_pathv[i]);
				stop_pid(pid);
			}
			fclose(f);
		}
		globfree(&g);
	}
	free(pat);
	cmd = xasprintf("rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "test_droverctl: %s failed\n", cmd);
	free(cmd);
}

/* Stop what the test started, then remove its directory. */
static void
cleanup(void)
{
	const char	*svcs[] = { svc_a, svc_b, "drover-router" };
	char		*cmd;
	size_t		 i;
	pid_t		 pid;

	if (dir[0] == '\0')
		return;
	for (i = 0; i < ARRAY_LEN(svcs); i++)
		if ((pid = read_pid(svcs[i])) > 0)
			stop_pid(pid);
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_droverctl: %s failed\n", cmd);
	free(cmd);
	dir[0] = '\0';
}

static void
fx_teardown(void)
{
	cleanup();
}

static void
fx_setup(void)
{
	const char	*lib = getenv("DROVER_LIB");
	char		*p;

	ck_assert_msg(lib != NULL,
	    "DROVER_LIB not set: run via test/run-tests");
	ck_assert_int_eq(setenv("DROVER_PLUGINDIR", lib, 1), 0);
	snprintf(dir, sizeof(dir), "%s/t.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	p = xasprintf("%s/bus", dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	free(p);
	snprintf(svc_a, sizeof(svc_a), "c%da", (int)getpid());
	snprintf(svc_b, sizeof(svc_b), "c%db", (int)getpid());
	snprintf(svc_p, sizeof(svc_p), "c%dp", (int)getpid());
	snprintf(svc_x, sizeof(svc_x), "c%dx", (int)getpid());
	write_conf();
}


/* ------------------------------------------------------------ usage */

static const struct usage_case {
	const char	*args[4];
	int		 code;
	const char	*out;		/* in stdout, or NULL */
	const char	*err;		/* in stderr, or NULL */
} usage_cases[] = {
	{ { "--help" }, 0, "usage: droverctl [-c opensrf_core.xml]", NULL },
	{ { "--version" }, 0, "droverctl " DROVER_VERSION "\n", NULL },
	{ { NULL }, 2, NULL, "usage: droverctl" },
	{ { "frobnicate" }, 2, NULL, "unknown command \"frobnicate\"" },
	{ { "status", "a", "b" }, 2, NULL, "usage: droverctl" },
	{ { "-l", "-h", "x", "status" }, 2, NULL, "usage: droverctl" },
	{ { "-t", "0", "status" }, 2, NULL, "expected seconds from 1" },
	{ { "-t", "3601", "stop" }, 2, NULL, "expected seconds from 1" },
	{ { "-t", "ten", "stop" }, 2, NULL, "expected seconds from 1" },
	{ { "-q", "status" }, 2, NULL, "usage: droverctl" },
	{ { "sweep", "opensrf.math" }, 2, NULL, "usage: droverctl" },
	{ { "--help" }, 0, "--diagnostic | --router-de-register | "
	  "--router-re-register", NULL },
	{ { "--diagnostic", "a", "b" }, 2, NULL, "usage: droverctl" },
	{ { "--diagnostic", "--router-re-register" }, 2, NULL,
	  "usage: droverctl" },
	{ { "-c", "/nonexistent/core.xml", "status" }, 1, NULL,
	  "/nonexistent/core.xml" },
};

START_TEST(test_usage)
{
	const struct usage_case	*uc = &usage_cases[_i];
	struct run		 r;
	char			*argv[8];
	int			 n = 0, i, st;

	argv[n++] = (char *)ctl_bin();
	for (i = 0; i < 4 && uc->args[i] != NULL; i++)
		argv[n++] = (char *)uc->args[i];
	argv[n] = NULL;
	st = th_run(argv, &r.out, &r.err);
	ck_assert(WIFEXITED(st));
	ck_assert_msg(WEXITSTATUS(st) == uc->code, "case %d: exit %d, want %d;"
	    " stderr: %s", _i, WEXITSTATUS(st), uc->code, r.err);
	if (uc->out != NULL)
		ck_assert_msg(strstr(r.out, uc->out) != NULL,
		    "case %d: stdout lacks \"%s\": %s", _i, uc->out, r.out);
	if (uc->err != NULL)
		ck_assert_msg(strstr(r.err, uc->err) != NULL,
		    "case %d: stderr lacks \"%s\": %s", _i, uc->err, r.err);
	run_free(&r);
}
END_TEST

/* ---------------------------------------------------------- targets */

START_TEST(test_status_all_stopped)
{
	struct run	 r;
	char		*want;

	ctl(&r, "status", NULL, NULL, NULL);
	ck_assert_int_eq(r.code, 3);
	want = xasprintf("%s: stopped\n%s: stopped\n", svc_a, svc_b);
	ck_assert_msg(strstr(r.out, want) != NULL, "stdout: %s", r.out);
	free(want);
	want = xasprintf("%s: skipped: language is \"perl\"", svc_p);
	ck_assert_msg(strstr(r.out, want) != NULL, "stdout: %s", r.out);
	free(want);
	run_free(&r);
}
END_TEST

START_TEST(test_named_perl_refused)
{
	struct run	r;

	ctl(&r, "start", svc_p, NULL, NULL);
	ck_assert_int_eq(r.code, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "droverd runs only C services"));
	run_free(&r);
}
END_TEST

START_TEST(test_unknown_service)
{
	struct run	r;

	ctl(&r, "status", "no.such.service", NULL, NULL);
	ck_assert_int_eq(r.code, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "no.such.service"));
	run_free(&r);
}
END_TEST

START_TEST(test_no_router_here)
{
	struct run	r;

	ctl(&r, "start", "router", NULL, NULL);
	ck_assert_int_eq(r.code, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "has no router to run"));
	run_free(&r);
}
END_TEST

/* Nothing runs: a line per service, exit 3; osrf_control's spelling too. */
START_TEST(test_diagnostic_stopped)
{
	static const char *const how[] = { "diagnostic", "--diagnostic" };
	struct run	 r;
	char		*want;

	ctl(&r, how[_i], NULL, NULL, NULL);
	ck_assert_int_eq(r.code, 3);
	want = xasprintf("* %s  is not running\n* %s  is not running\n",
	    svc_a, svc_b);
	ck_assert_msg(strstr(r.out, want) != NULL, "stdout: %s", r.out);
	free(want);
	run_free(&r);
}
END_TEST

/* A pid file naming a process that is gone is removed, not trusted. */
START_TEST(test_stale_pidfile)
{
	struct run	 r;
	char		*p, *buf;
	pid_t		 pid;
	int		 st;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);	/* now unused */
	p = xasprintf("%s/run", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	p = pidfile(svc_a);
	buf = xasprintf("%d\n", (int)pid);
	write_file(p, buf);
	ctl(&r, "status", svc_a, NULL, NULL);
	ck_assert_int_eq(r.code, 3);
	ck_assert_ptr_nonnull(strstr(r.out, "removed stale pid file"));
	ck_assert_int_eq(access(p, F_OK), -1);
	run_free(&r);
	free(buf);
	free(p);
}
END_TEST

/* ---------------------------------------------------------- daemons */

/* The whole life of two services through droverctl. */
START_TEST(test_start_status_stop)
{
	struct sb	*sb = NULL;
	struct run	 r;
	char		 name[SB_SHM_NAME_MAX], *want;
	pid_t		 pa, pb;

	ctl(&r, "-t", "10", "start", NULL);
	ck_assert_msg(r.code == 0, "start: %d: %s", r.code, r.err);
	pa = read_pid(svc_a);
	pb = read_pid(svc_b);
	ck_assert(alive(pa));
	ck_assert(alive(pb));
	want = xasprintf("%s: started, pid %d\n", svc_a, (int)pa);
	ck_assert_msg(strstr(r.out, want) != NULL, "stdout: %s", r.out);
	free(want);
	run_free(&r);
	/* the scoreboard is the daemon's, as status reads it */
	ck_assert_int_eq(sb_shm_name(name, sizeof(name), svc_a, NULL), 0);
	ck_assert_int_eq(sb_open(&sb, name), 0);
	sb_close(&sb);

	/* no double start */
	ctl(&r, "start", svc_a, NULL, NULL);
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "already running"));
	ck_assert_int_eq(read_pid(svc_a), pa);
	run_free(&r);

	ctl(&r, "status", NULL, NULL, NULL);
	ck_assert_msg(r.code == 0, "status: %d: %s%s", r.code, r.out, r.err);
	want = xasprintf("%s: running, pid %d\n  children ", svc_a, (int)pa);
	ck_assert_msg(strstr(r.out, want) != NULL, "stdout: %s", r.out);
	free(want);
	ck_assert_ptr_nonnull(strstr(r.out, "max 4; requests 0 accepted"));
	run_free(&r);

	ctl(&r, "reload", svc_b, NULL, NULL);
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "reload requested"));
	ck_assert(alive(pb));
	run_free(&r);

	ctl(&r, "stop", NULL, NULL, NULL);
	ck_assert_msg(r.code == 0, "stop: %d: %s", r.code, r.err);
	ck_assert(!alive(pa));
	ck_assert(!alive(pb));
	ck_assert_int_eq(read_pid(svc_a), 0);
	ck_assert_int_eq(read_pid(svc_b), 0);
	ck_assert_int_eq(sb_open(&sb, name), -ENOENT);
	run_free(&r);

	ctl(&r, "status", svc_a, NULL, NULL);
	ck_assert_int_eq(r.code, 3);
	run_free(&r);
}
END_TEST

START_TEST(test_restart_new_pid)
{
	struct run	r;
	pid_t		p1, p2;

	ctl(&r, "start", svc_b, NULL, NULL);
	ck_assert_msg(r.code == 0, "start: %s", r.err);
	run_free(&r);
	p1 = read_pid(svc_b);
	ctl(&r, "restart", svc_b, NULL, NULL);
	ck_assert_msg(r.code == 0, "restart: %s", r.err);
	run_free(&r);
	p2 = read_pid(svc_b);
	ck_assert(!alive(p1));
	ck_assert(alive(p2));
	ck_assert_int_ne(p1, p2);
	ctl(&r, "stop", svc_b, NULL, NULL);
	ck_assert_int_eq(r.code, 0);
	ck_assert(!alive(p2));
	run_free(&r);
}
END_TEST

/*
 * Does out hold the service's line, matched whole as a script's regular
 * expression would?  The pattern goes to *patp (caller frees) if asked.
 */
static int
diag_matches(const char *out, const char *svc, pid_t pid,
    const char *drones, char **patp)
{
	regex_t		 re;
	char		*pat;
	int		 rc;

	/* osrf_control's layout: name and one space, " [pid] ", times
	   padded to 11 and a space each */
	pat = xasprintf("^\\* %s  \\[%d\\] uptime=[0-9]{2}:[0-9]{2} {7}"
	    "cputime=[0-9]{2}:[0-9]{2}:[0-9]{2} {4}#drones=%s$", svc, (int)pid,
	    drones);
	ck_assert_int_eq(regcomp(&re, pat, REG_EXTENDED | REG_NEWLINE), 0);
	rc = regexec(&re, out, 0, NULL, 0);
	regfree(&re);
	if (patp != NULL)
		*patp = pat;
	else
		free(pat);
	return rc == 0;
}

static void
diag_line(const char *out, const char *svc, pid_t pid, const char *drones)
{
	char	*pat;

	ck_assert_msg(diag_matches(out, svc, pid, drones, &pat),
	    "no line /%s/ in:\n%s", pat, out);
	free(pat);
}

/*
 * Run `diagnostic` (through run, e.g. ctl() or ctl_xmpp() bound to their
 * arguments) until svc's line shows `drones`: droverd forks its
 * min_children after it starts to serve, so the count settles a moment
 * after the start.  Leaves the last output in *r; the caller asserts.
 */
static void
diag_wait(struct run *r, void (*run)(struct run *), const char *svc,
    pid_t pid, const char *drones)
{
	struct timespec	step = { 0, 20 * 1000 * 1000 };
	uint64_t	end = mono_ms() + WAIT_MS;

	for (;;) {
		run(r);
		if (diag_matches(r->out, svc, pid, drones, NULL) ||
		    mono_ms() >= end)
			return;
		run_free(r);
		nanosleep(&step, NULL);		/* polling step */
	}
}

static void
diag_local(struct run *r)
{
	ctl(r, "diagnostic", NULL, NULL, NULL);
}

static void
diag_xmpp(struct run *r)
{
	ctl_xmpp(r, "--diagnostic", NULL);
}

/*
 * Hold one of svc_a's children in a connected session (CONNECT on the
 * local bus, answered STATUS 200), until session_end().
 */
static struct bus *
session_begin(void)
{
	struct bus_params	 p;
	struct bus		*b = NULL;
	struct bus_frame	*f = NULL;
	struct tmsg		 t = TMSG_INIT;
	char			*busdir, *to, thread[64];
	uint64_t		 end = mono_ms() + WAIT_MS;
	int			 rc;

	busdir = xasprintf("%s/bus", dir);
	memset(&p, 0, sizeof(p));
	p.kind = BUS_LOCAL;
	p.local_dir = busdir;
	p.role = BUS_ROLE_CLIENT;
	p.resource = "ctltest";
	ck_assert_int_eq(bus_new(&p, &b), 0);
	ck_assert_int_eq(bus_open(b, 1000), 0);
	to = xasprintf("opensrf@local/%s", svc_a);
	snprintf(thread, sizeof(thread), "ctl.%d", (int)getpid());
	t.to = to;
	t.thread = thread;
	t.body = (char *)"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":"
	    "\"0\",\"locale\":\"en-US\",\"api_level\":1,\"type\":"
	    "\"CONNECT\"}}]";
	ck_assert_int_eq(bus_send(b, &t), 0);
	/* its STATUS 200: the child holds the session now */
	while ((rc = bus_recv(b, &f)) == 0) {
		ck_assert_msg(mono_ms() < end, "no answer to CONNECT");
		ck_assert_int_ge(bus_wait(b, (int)(end - mono_ms())), 0);
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(f->raw, "\\\"200\\\"") != NULL ||
	    strstr(f->raw, "Connection Successful") != NULL, "%s", f->raw);
	bus_frame_free(&f);
	free(to);
	free(busdir);
	return b;
}

static void
session_end(struct bus **b)
{
	struct tmsg	t = TMSG_INIT;
	char		*to, thread[64];

	to = xasprintf("opensrf@local/%s", svc_a);
	snprintf(thread, sizeof(thread), "ctl.%d", (int)getpid());
	t.to = to;
	t.thread = thread;
	t.body = (char *)"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":"
	    "\"1\",\"locale\":\"en-US\",\"type\":\"DISCONNECT\"}}]";
	ck_assert_int_eq(bus_send(*b, &t), 0);
	ck_assert_int_eq(bus_flush(*b, WAIT_MS), 0);
	free(to);
	bus_free(b);
}

/*
 * diagnostic of a running service: its pid, times and drones (live
 * children over max_children), the stopped one's line, exit 3 while one
 * is stopped.
 */
START_TEST(test_diagnostic_running)
{
	struct run	 r;
	struct bus	*b;
	char		*want;
	pid_t		 pa;

	ctl(&r, "start", svc_a, NULL, NULL);
	ck_assert_msg(r.code == 0, "start: %s", r.err);
	run_free(&r);
	pa = read_pid(svc_a);
	ck_assert(alive(pa));

	/* min_children 2 of max_children 4 live */
	diag_wait(&r, diag_local, svc_a, pa, "2/4  50%");
	ck_assert_msg(r.code == 3, "diagnostic: %d: %s", r.code, r.err);
	diag_line(r.out, svc_a, pa, "2/4  50%");
	want = xasprintf("* %s  is not running\n", svc_b);
	ck_assert_msg(strstr(r.out, want) != NULL, "stdout: %s", r.out);
	free(want);
	run_free(&r);

	/* a child held by a session is still one of the live drones; a
	   spare may have been forked beside it */
	b = session_begin();
	ctl(&r, "--diagnostic", svc_a, NULL, NULL);
	ck_assert_msg(r.code == 0, "diagnostic: %d: %s", r.code, r.err);
	diag_line(r.out, svc_a, pa, "(2/4  50|3/4  75|4/4 100)%");
	run_free(&r);
	session_end(&b);

	ctl(&r, "stop", svc_a, NULL, NULL);
	ck_assert_int_eq(r.code, 0);
	run_free(&r);
}
END_TEST

/* Does svc_a's droverd log hold needle? */
static int
svc_log_has(const char *needle)
{
	char	*path = xasprintf("%s/osrfsys.log", dir);
	int	 found = th_file_has(path, needle);

	free(path);
	return found;
}

static void
svc_log_wait(const char *needle)
{
	struct timespec	step = { 0, 5 * 1000 * 1000 };
	uint64_t	end = mono_ms() + WAIT_MS;

	while (!svc_log_has(needle)) {
		ck_assert_msg(mono_ms() < end, "log never said \"%s\"",
		    needle);
		nanosleep(&step, NULL);		/* polling step */
	}
}

/*
 * osrf_control's --router-de-register and --router-re-register: SIGUSR1
 * and SIGUSR2 reach droverd (on the local bus it has no router to tell,
 * and says so); a stopped service is an error.  The routers' side is
 * test_xmpp_router_and_service's.
 */
START_TEST(test_register_signals)
{
	struct run	 r;
	char		*want;
	pid_t		 pa;

	ctl(&r, "--router-de-register", svc_a, NULL, NULL);
	ck_assert_int_eq(r.code, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "not running"));
	run_free(&r);
	ctl(&r, "start", svc_a, NULL, NULL);
	ck_assert_msg(r.code == 0, "start: %s", r.err);
	run_free(&r);
	pa = read_pid(svc_a);

	ctl(&r, "--router-de-register", svc_a, NULL, NULL);
	ck_assert_msg(r.code == 0, "%s", r.err);
	want = xasprintf("%s: unregistration from the routers requested "
	    "(SIGUSR1), pid %d\n", svc_a, (int)pa);
	ck_assert_msg(strstr(r.out, want) != NULL, "stdout: %s", r.out);
	free(want);
	run_free(&r);
	svc_log_wait("SIGUSR1: the local bus has no routers: nothing to "
	    "leave");

	ctl(&r, "router-re-register", svc_a, NULL, NULL);
	ck_assert_msg(r.code == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "(SIGUSR2)"));
	run_free(&r);
	svc_log_wait("SIGUSR2: the local bus has no routers: nothing to "
	    "join");
	ck_assert(alive(pa));

	ctl(&r, "stop", svc_a, NULL, NULL);
	ck_assert_int_eq(r.code, 0);
	run_free(&r);
}
END_TEST

/* A plugin that will not load: reported at once with droverd's status. */
START_TEST(test_start_failure)
{
	struct run	r;

	ctl(&r, "-t", "60", "start", svc_x);
	ck_assert_int_eq(r.code, 1);
	ck_assert_msg(strstr(r.err, "exited with 1 while starting") != NULL,
	    "stderr: %s", r.err);
	ck_assert_int_eq(read_pid(svc_x), 0);
	run_free(&r);
}
END_TEST

/*
 * The escalation: a "droverd" (a copy of /bin/sh, so /proc/PID/exe ends
 * in droverd) that ignores SIGTERM must get SIGKILL after -t.  It writes
 * its own pid file once the trap is set: that is the start event.
 */
START_TEST(test_stop_escalates)
{
	struct run	 r;
	struct timespec	 step = { 0, 5 * 1000 * 1000 };
	char		*fake, *cmd, *pf, *script;
	pid_t		 pid;
	uint64_t	 deadline;
	int		 in[2], st;

	fake = xasprintf("%s/droverd", dir);
	cmd = xasprintf("cp -L /bin/sh '%s' && mkdir -p '%s/run'", fake, dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	pf = pidfile(svc_a);
	script = xasprintf("trap '' TERM; echo $$ > '%s.tmp' && "
	    "mv '%s.tmp' '%s'; read x", pf, pf, pf);
	ck_assert_int_eq(pipe(in), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(in[0], 0);
		close(in[1]);
		execl(fake, "droverd", "-c", script, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	deadline = mono_ms() + WAIT_MS;
	while (read_pid(svc_a) != pid) {
		ck_assert_msg(mono_ms() < deadline && waitpid(pid, &st,
		    WNOHANG) == 0, "fake daemon did not start");
		nanosleep(&step, NULL);	/* polling step */
	}
	ctl(&r, "-t", "1", "stop", svc_a);
	ck_assert_msg(r.code == 0, "stop: %s", r.err);
	ck_assert_ptr_nonnull(strstr(r.err, "sending SIGKILL"));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ck_assert_int_eq(access(pf, F_OK), -1);
	run_free(&r);
	close(in[1]);
	free(script);
	free(pf);
	free(fake);
}
END_TEST

/* The router's status file holds want (it rewrites it within 1 s). */
static void
rstatus_wait(const char *want)
{
	struct timespec	 step = { 0, 10 * 1000 * 1000 };
	uint64_t	 end = mono_ms() + WAIT_MS;
	char		*path, buf[8192];
	size_t		 n;
	FILE		*f;

	path = xasprintf("%s/run/drover-router.status", dir);
	for (;;) {
		buf[0] = '\0';
		if ((f = fopen(path, "r")) != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			buf[n] = '\0';
			fclose(f);
		}
		if (strstr(buf, want) != NULL)
			break;
		ck_assert_msg(mono_ms() < end, "router status never held "
		    "\"%s\":\n%s", want, buf);
		nanosleep(&step, NULL);		/* polling step */
	}
	free(path);
}

/*
 * drover-call -t secs svc_a add 2 3 through the router: its exit status
 * (it must answer 5 when 0).  Its standard error goes to *errp, or is
 * dropped when errp is NULL.
 */
static int
call_add_t(int secs, char **errp)
{
	char	*argv[10], *path, *core, *out, *err, t[16];
	int	 st;

	path = xasprintf("%s/drover-call", getenv("DROVER_BIN"));
	core = xasprintf("%s/core.xml", dir);
	snprintf(t, sizeof(t), "%d", secs);
	argv[0] = path;
	argv[1] = "-c";
	argv[2] = core;
	argv[3] = "-t";
	argv[4] = t;
	argv[5] = svc_a;
	argv[6] = "add";
	argv[7] = "2";
	argv[8] = "3";
	argv[9] = NULL;
	st = th_run(argv, &out, &err);
	ck_assert(WIFEXITED(st));
	if (WEXITSTATUS(st) == 0)
		ck_assert_str_eq(out, "5\n");
	free(out);
	if (errp != NULL)
		*errp = err;
	else
		free(err);
	free(path);
	free(core);
	return WEXITSTATUS(st);
}

static int
call_add(void)
{
	return call_add_t(5, NULL);
}

/* The router and one service on ejabberd: the order and a real call. */
START_TEST(test_xmpp_router_and_service)
{
	const struct th_server	*ej = th_server(TH_EJABBERD);
	struct run		 r;
	char			*core, *path, *err, *want;
	char			*rpid;
	pid_t			 pa, pr;
	int			 st;

	core = xasprintf(
	    "<?xml version=\"1.0\"?>\n<config><opensrf>\n"
	    "<routers><router>%s</router></routers>\n"
	    "<domain>%s</domain><host>127.0.0.1</host><port>%d</port>\n"
	    "<username>opensrf</username><passwd>%s</passwd>"
	    "<tls>off</tls>\n"
	    "<logfile>%s/osrfsys.log</logfile><loglevel>3</loglevel>\n"
	    "<settings_config>opensrf.xml</settings_config>\n"
	    "<allow_root>true</allow_root>\n"
	    "</opensrf>\n<routers><router>\n"
	    "<trusted_domains><server>%s</server><client>%s</client>"
	    "</trusted_domains>\n<transport><server>%s</server>"
	    "<host>127.0.0.1</host><port>%d</port><username>router</username>"
	    "<password>%s</password><resource>router</resource>"
	    "<tls>off</tls></transport>\n"
	    "<logfile>%s/router.log</logfile><loglevel>3</loglevel>\n"
	    "</router></routers></config>\n", TH_DOMAIN_PRIVATE,
	    TH_DOMAIN_PRIVATE, ej->port, TH_OPENSRF_PW, dir,
	    TH_DOMAIN_PRIVATE, TH_DOMAIN_PRIVATE, TH_DOMAIN_PRIVATE, ej->port,
	    TH_ROUTER_PW, dir);
	path = xasprintf("%s/core.xml", dir);
	write_file(path, core);
	free(path);
	free(core);

	/* the router first: services register with it when they log in */
	ctl_xmpp(&r, "start", "router");
	ck_assert_msg(r.code == 0, "start router: %s", r.err);
	run_free(&r);
	ctl_xmpp(&r, "start", svc_a);
	ck_assert_msg(r.code == 0, "start %s: %s", svc_a, r.err);
	run_free(&r);
	pa = read_pid(svc_a);
	rpid = xasprintf("%s/run/drover-router.pid", dir);
	pr = 0;
	{
		FILE	*f = fopen(rpid, "r");

		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(fscanf(f, "%d", &pr), 1);
		fclose(f);
	}
	ck_assert(alive(pa));
	ck_assert(alive(pr));

	/* through the router, to which the service registered */
	st = call_add_t(10, &err);
	ck_assert_msg(st == 0, "drover-call: %d: %s", st, err);
	free(err);

	/* diagnostic: sorted by name, so the service's line, then the
	   router's (padded to the service's name, no drones) */
	diag_wait(&r, diag_xmpp, svc_a, pa, "2/4  50%");
	ck_assert_msg(r.code == 3, "diagnostic: %d: %s", r.code, r.err);
	want = xasprintf("\n* router%*s  [%d] uptime=", (int)strlen(svc_a) - 6,
	    "", (int)pr);
	ck_assert_msg(strstr(r.out, want) != NULL, "%s", r.out);
	ck_assert_msg(strstr(r.out, svc_a) < strstr(r.out, want), "%s", r.out);
	diag_line(r.out, svc_a, pa, "2/4  50%");
	free(want);
	run_free(&r);

	/* the router forgets the service, then knows it again */
	ctl_xmpp(&r, "--router-de-register", svc_a);
	ck_assert_msg(r.code == 0, "de-register: %s", r.err);
	run_free(&r);
	rstatus_wait("classes 0 ");
	ck_assert_int_ne(call_add(), 0);
	ctl_xmpp(&r, "--router-re-register", svc_a);
	ck_assert_msg(r.code == 0, "re-register: %s", r.err);
	run_free(&r);
	want = xasprintf("class %s state up listeners 1 ", svc_a);
	rstatus_wait(want);
	free(want);
	ck_assert_int_eq(call_add(), 0);

	/* svc_b was not started: exit 3; the router comes first */
	ctl_xmpp(&r, "status", NULL);
	ck_assert_msg(r.code == 3, "status: %d: %s%s", r.code, r.out, r.err);
	want = xasprintf("router: running, pid %d\n%s: running, pid %d\n",
	    (int)pr, svc_a, (int)pa);
	ck_assert_msg(strstr(r.out, want) != NULL, "status: %s", r.out);
	free(want);
	run_free(&r);

	/* stop: the service first, the router last */
	ctl_xmpp(&r, "stop", NULL);
	ck_assert_msg(r.code == 0, "stop: %s", r.err);
	want = xasprintf("%s: stopped, pid %d\n", svc_a, (int)pa);
	ck_assert_msg(strstr(r.out, want) != NULL &&
	    strstr(strstr(r.out, want), "router: stopped") != NULL,
	    "stop order: %s", r.out);
	free(want);
	ck_assert(!alive(pa));
	ck_assert(!alive(pr));
	ck_assert_int_eq(access(rpid, F_OK), -1);
	run_free(&r);
	free(rpid);
}
END_TEST

/* ------------------------------------------------------------ redis */

/* A Redis core for the test: router and services; srv's accounts. */
static void
write_redis_core(enum th_server_kind srv, const char *dom)
{
	char	*core, *path;
	int	 port = th_server(srv)->port;

	core = xasprintf(
	    "<?xml version=\"1.0\"?>\n<config><opensrf>\n"
	    "<routers><router>%s</router></routers>\n"
	    "<domain>%s</domain><host>127.0.0.1</host><port>%d</port>"
	    "<bus>redis</bus>\n<username>opensrf</username><passwd>%s</passwd>"
	    "<logfile>%s/osrfsys.log</logfile><loglevel>3</loglevel>\n"
	    "<allow_root>true</allow_root>\n"
	    "<settings_config>opensrf.xml</settings_config>\n"
	    "</opensrf>\n<routers><router>\n"
	    "<trusted_domains><server>%s</server><client>%s</client>"
	    "</trusted_domains>\n<transport><server>%s</server>"
	    "<host>127.0.0.1</host><port>%d</port><bus>redis</bus>"
	    "<username>router</username><password>%s</password></transport>\n"
	    "<logfile>%s/router.log</logfile><loglevel>3</loglevel>\n"
	    "</router></routers></config>\n", dom, dom, port, TH_OPENSRF_PW,
	    dir, dom, dom, dom, port, TH_ROUTER_PW, dir);
	path = xasprintf("%s/core.xml", dir);
	write_file(path, core);
	free(path);
	free(core);
}

/* The router and one service on Redis: start, call, status, stop. */
START_TEST(test_redis_router_and_service)
{
	struct run	 r;
	char		*err, dom[64];
	pid_t		 pa;

	snprintf(dom, sizeof(dom), "c%d.private", (int)getpid());
	write_redis_core(TH_REDIS, dom);
	ctl_xmpp(&r, "start", "router");
	ck_assert_msg(r.code == 0, "start router: %s", r.err);
	run_free(&r);
	ctl_xmpp(&r, "start", svc_a);
	ck_assert_msg(r.code == 0, "start %s: %s", svc_a, r.err);
	run_free(&r);
	pa = read_pid(svc_a);
	/* the registration may trail the start by a moment: 404 until */
	{
		uint64_t	end = mono_ms() + WAIT_MS;
		struct timespec	ts = { 0, 20 * 1000 * 1000 };

		while (call_add_t(10, &err) != 0) {
			ck_assert_msg(mono_ms() < end, "drover-call: %s",
			    err);
			free(err);
			nanosleep(&ts, NULL);	/* a retry step */
		}
		free(err);
	}
	ctl_xmpp(&r, "reload", svc_a);
	ck_assert_msg(r.code == 0, "reload: %s", r.err);
	run_free(&r);
	ctl_xmpp(&r, "status", NULL);
	ck_assert_msg(strstr(r.out, "router: running") != NULL, "%s", r.out);
	run_free(&r);
	ctl_xmpp(&r, "stop", NULL);
	ck_assert_msg(r.code == 0, "stop: %s", r.err);
	ck_assert(!alive(pa));
	run_free(&r);
}
END_TEST

static long long
rllen(struct rds_conn *c, const char *key)
{
	struct rds_reply	*r;
	long long		 n;

	ck_assert_int_eq(rds_calll(c, WAIT_MS, &r, "LLEN", key, NULL), 0);
	n = r->integer;
	rds_reply_free(&r);
	return n;
}

static void
rpush(struct rds_conn *c, const char *key)
{
	struct rds_reply	*r;

	ck_assert_int_eq(rds_calll(c, WAIT_MS, &r, "RPUSH", key, "{}", NULL),
	    0);
	rds_reply_free(&r);
}

/* inboxes lists, sweep deletes what this host knows is dead. */
START_TEST(test_redis_inboxes)
{
	struct rds_params	 p = { 0 };
	struct rds_conn		*c;
	struct run		 r;
	char			 host[64], dom[64], live[256], dead[256];
	char			 other[256], odd[256];
	pid_t			 gone;
	int			 st;

	snprintf(dom, sizeof(dom), "i%d.private", (int)getpid());
	write_redis_core(TH_REDIS, dom);
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	ck_assert_int_ge(gone = fork(), 0);
	if (gone == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(gone, &st, 0), gone);
	snprintf(live, sizeof(live), "opensrf:client:opensrf:%s:%s:%d:aa",
	    dom, host, (int)getpid());
	snprintf(dead, sizeof(dead), "opensrf:client:opensrf:%s:%s:%d:bb",
	    dom, host, (int)gone);
	snprintf(other, sizeof(other), "opensrf:client:opensrf:%s:elsewhere:"
	    "%d:cc", dom, (int)gone);
	snprintf(odd, sizeof(odd), "opensrf:client:%s:odd", dom);
	p.host = "127.0.0.1";
	p.port = th_server(TH_REDIS)->port;
	p.user = "opensrf";
	p.pass = TH_OPENSRF_PW;
	ck_assert_int_eq(rds_new(&p, &c), 0);
	ck_assert_int_eq(rds_open(c), 0);
	rpush(c, live);
	rpush(c, dead);
	rpush(c, dead);
	rpush(c, other);
	rpush(c, odd);
	ctl_xmpp(&r, "inboxes", NULL);
	ck_assert_msg(r.code == 0, "inboxes: %s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, live));
	ck_assert_ptr_nonnull(strstr(strstr(r.out, live), " owner alive\n"));
	ck_assert_ptr_nonnull(strstr(strstr(r.out, dead),
	    " messages 2 owner gone\n"));
	ck_assert_ptr_nonnull(strstr(strstr(r.out, other),
	    " owner other host\n"));
	ck_assert_ptr_nonnull(strstr(strstr(r.out, odd), " owner unknown\n"));
	run_free(&r);
	ck_assert_int_eq(rllen(c, dead), 2);
	ctl_xmpp(&r, "sweep", NULL);
	ck_assert_msg(r.code == 0, "sweep: %s", r.err);
	ck_assert_ptr_nonnull(strstr(strstr(r.out, dead),
	    " owner gone deleted\n"));
	run_free(&r);
	ck_assert_int_eq(rllen(c, dead), 0);
	ck_assert_int_eq(rllen(c, live), 1);
	ck_assert_int_eq(rllen(c, other), 1);
	ck_assert_int_eq(rllen(c, odd), 1);
	rds_free(&c);
}
END_TEST

/* OpenSRF's accounts grant no SCAN: said, exit 1. */
START_TEST(test_redis_inboxes_no_scan)
{
	struct run	r;

	write_redis_core(TH_REDIS_OSRF, "x.private");
	ctl_xmpp(&r, "inboxes", NULL);
	ck_assert_int_eq(r.code, 1);
	ck_assert_msg(strstr(r.err, "may not SCAN") != NULL, "%s", r.err);
	run_free(&r);
	/* an XMPP site has no inboxes */
	write_conf();
	ctl_xmpp(&r, "sweep", NULL);
	ck_assert_int_eq(r.code, 1);
	ck_assert_msg(strstr(r.err, "not a Redis site") != NULL, "%s", r.err);
	run_free(&r);
}
END_TEST

Suite *
droverctl_suite(void)
{
	Suite	*s = suite_create("droverctl");
	TCase	*tc;

	tc = tcase_create("usage");
	tcase_add_loop_test(tc, test_usage, 0, ARRAY_LEN(usage_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("targets");
	tcase_add_unchecked_fixture(tc, ux_setup, ux_teardown);
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_status_all_stopped);
	tcase_add_test(tc, test_named_perl_refused);
	tcase_add_test(tc, test_unknown_service);
	tcase_add_test(tc, test_no_router_here);
	tcase_add_test(tc, test_stale_pidfile);
	tcase_add_loop_test(tc, test_diagnostic_stopped, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("daemons");
	tcase_add_unchecked_fixture(tc, ux_setup, ux_teardown);
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_start_status_stop);
	tcase_add_test(tc, test_restart_new_pid);
	tcase_add_test(tc, test_start_failure);
	tcase_add_test(tc, test_stop_escalates);
	tcase_add_test(tc, test_diagnostic_running);
	tcase_add_test(tc, test_register_signals);
	suite_add_tcase(s, tc);

	tc = tcase_create("xmpp");
	tcase_set_tags(tc, "integration");
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_unchecked_fixture(tc, ux_setup, ux_teardown);
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_xmpp_router_and_service);
	suite_add_tcase(s, tc);

	tc = tcase_create("redis");
	tcase_set_tags(tc, "integration");
	tcase_add_unchecked_fixture(tc, th_redis_setup, NULL);
	tcase_add_unchecked_fixture(tc, th_redis_osrf_setup, NULL);
	tcase_add_unchecked_fixture(tc, ux_setup, ux_teardown);
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_redis_router_and_service);
	tcase_add_test(tc, test_redis_inboxes);
	tcase_add_test(tc, test_redis_inboxes_no_scan);
	suite_add_tcase(s, tc);
	return s;
}
