/*
 * droverctl_main.c: droverctl(8), start and stop the services of a host.
 *
 *	droverctl [-c opensrf_core.xml] [-h host | -l] [-t seconds]
 *	    [--local dir] start|stop|restart|reload|status|diagnostic|
 *	    router-de-register|router-re-register [service | router]
 *	droverctl [-c opensrf_core.xml] [-t seconds] inboxes | sweep
 *
 * (osrf_control's spellings --diagnostic, --router-de-register and
 * --router-re-register are the last three commands, given as options.)
 *
 * What osrf_control --localhost --start-all does for OpenSRF, for
 * droverd(8) and drover-router(8).  Without a service it acts on every
 * service of <activeapps> for the host whose language is C (or not set);
 * others are skipped with a message.  The router is part of the set when
 * opensrf_core.xml has router daemons (a <routers> entry with a
 * <transport>): it starts first and stops last.
 *
 * Layout of this file: the target list (config -> what to act on), pid
 * files and process checks, the actions, then main().
 *
 * Pid files.  droverd -d writes <dirs/pid>/<service>.pid itself, once it
 * serves; the router writes none, so droverctl detaches it and writes
 * <dirs/pid>/drover-router.pid for it (dirs/pid from opensrf.xml for the
 * host, else /run/drover).  A pid file is trusted only when its pid is
 * alive and runs the expected program (/proc/PID/exe), so a recycled pid
 * is never signalled; anything else is stale and removed.
 *
 * Waiting.  stop waits for the process to end on a pidfd (Linux 5.3),
 * or by polling kill(pid, 0) where pidfds are missing; start polls for
 * the pid file.  Both are bounded by -t.  droverctl makes itself a child
 * subreaper while starting, so the daemons stay its children until it
 * exits and a daemon that dies while starting is reported at once.
 *
 * On a Redis site, `inboxes` lists the inboxes on the server and what
 * is known of their owners, and `sweep` deletes those whose owner is
 * gone (proto/redis_inbox.h): they need no targets.
 *
 * Exit status (an API, documented in droverctl.8): 0 success, 1 a
 * failure, 2 bad usage, 3 (status, diagnostic) something is not
 * running.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "priv.h"
#include "proto/redis_conn.h"
#include "proto/redis_inbox.h"
#include "scoreboard/sb.h"
#include "util.h"

#define CTL_EXIT_OK		0
#define CTL_EXIT_FAIL		1
#define CTL_EXIT_USAGE		2
#define CTL_EXIT_NOTRUNNING	3

/* Where pid files go when opensrf.xml has no dirs/pid (droverd's too). */
#define CTL_RUNDIR		"/run/drover"
#define CTL_DEFAULT_CONF	DROVER_SYSCONFDIR "/drover/opensrf_core.xml"
/* osrf_control waits about as long for a stop; systemd's default is 90. */
#define CTL_DEFAULT_TIMEOUT	30
#define CTL_MAX_TIMEOUT		3600
/*
 * After SIGKILL a process is gone as soon as the kernel tears it down;
 * 5 s only matters for a process stuck in uninterruptible sleep, which
 * no signal can end, so we report it instead of waiting for ever.
 */
#define CTL_KILL_WAIT_MS	5000
/* Pid file polling step: short enough to feel instant, cheap enough. */
#define CTL_POLL_MS		20
#define ROUTER_NAME		"router"

enum action {
	A_START, A_STOP, A_RESTART, A_RELOAD, A_STATUS, A_DIAGNOSTIC,
	A_DEREGISTER, A_REREGISTER, A_INBOXES, A_SWEEP
};

static const char *const action_names[] = {
	"start", "stop", "restart", "reload", "status", "diagnostic",
	"router-de-register", "router-re-register", "inboxes", "sweep", NULL
};

struct target {
	char	*name;			/* service, or "router" */
	int	 is_router;
	char	*pidfile;
	char	*statusfile;		/* router only */
};

struct ctl {
	char		*core_path;	/* absolute */
	char		*host;
	char		*local_dir;	/* absolute, or NULL */
	char		*sbindir;	/* where droverctl itself lives */
	char		*rundir;	/* dirs/pid for the host */
	int		 timeout_ms;
	struct core_conf *core;
	struct cfg_tree	*settings;	/* opensrf.xml */
	struct cfg_tree	*merged;	/* ... for the host */
	struct target	*t;
	size_t		 nt;
};

static void NORETURN
usage(FILE *f, int code)
{
	fprintf(f, "usage: droverctl [-c opensrf_core.xml] [-h host | -l] "
	    "[-t seconds] [--local dir]\n"
	    "                 start | stop | restart | reload | status | "
	    "diagnostic |\n"
	    "                 router-de-register | router-re-register "
	    "[service | router]\n"
	    "       droverctl [-c opensrf_core.xml] [-h host | -l] "
	    "[--local dir]\n"
	    "                 --diagnostic | --router-de-register | "
	    "--router-re-register\n"
	    "                 [service | router]\n"
	    "       droverctl [-c opensrf_core.xml] [-t seconds] inboxes | "
	    "sweep\n"
	    "       droverctl --help | --version\n");
	exit(code);
}

/* ------------------------------------------------------------ targets */

static void
target_add(struct ctl *c, const char *name, int is_router,
    const char *piddir)
{
	struct target	*t;

	c->t = xrealloc(c->t, (c->nt + 1) * sizeof(*c->t));
	t = &c->t[c->nt++];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	t->is_router = is_router;
	if (is_router) {
		t->pidfile = xasprintf("%s/drover-router.pid", piddir);
		t->statusfile = xasprintf("%s/drover-router.status", piddir);
	} else
		t->pidfile = xasprintf("%s/%s.pid", piddir, name);
}

static void
targets_free(struct ctl *c)
{
	size_t	i;

	for (i = 0; i < c->nt; i++) {
		free(c->t[i].name);
		free(c->t[i].pidfile);
		free(c->t[i].statusfile);
	}
	free(c->t);
	c->t = NULL;
	c->nt = 0;
}

/* Read opensrf.xml for the host; dirs/pid, else CTL_RUNDIR. */
static int
load_settings(struct ctl *c)
{
	struct cfg_err		 err;
	const char		*dir = NULL;
	int			 rc;

	err.msg[0] = '\0';
	if ((rc = cfg_load(c->core->settings_config, &c->settings,
	    &err)) < 0 ||
	    (rc = cfg_merge_host(c->settings, c->host, &c->merged,
	    &err)) < 0 ||
	    (rc = cfg_str(cfg_root(c->merged), "dirs/pid", NULL, &dir,
	    &err)) < 0) {
		fprintf(stderr, "droverctl: %s\n", err.msg);
		return rc;
	}
	c->rundir = xstrdup(dir != NULL && *dir != '\0' ? dir : CTL_RUNDIR);
	return 0;
}

/* Does the file configure router daemons (and are we on XMPP)? */
static int
want_router(const struct ctl *c, int quiet)
{
	struct router_conf	*rc = NULL;
	struct cfg_err		 err;
	size_t			 n = 0;

	err.msg[0] = '\0';
	if (router_conf_load(c->core_path, &rc, &n, &err) < 0 || n == 0) {
		/* no entry at all is normal: say only what is broken */
		if (!quiet && strstr(err.msg, "no <routers><router> entry") ==
		    NULL && err.msg[0] != '\0')
			fprintf(stderr, "droverctl: router: %s\n", err.msg);
		return 0;
	}
	router_conf_free(&rc, n);
	if (c->local_dir != NULL) {
		if (!quiet)
			printf("router: skipped: the local bus needs no "
			    "router\n");
		return 0;
	}
	return 1;
}

/*
 * One service: it must exist for the host and be a C service.  Returns
 * 1 when added, 0 when skipped (said why), negative on error (said).
 */
static int
add_service(struct ctl *c, const char *name, int named)
{
	const struct cfg_node	*app;
	struct svc_conf		*svc = NULL;
	struct cfg_err		 err;
	const char		*lang = NULL;
	int			 rc;

	/*
	 * The language first, from the raw tree: a Perl service need not
	 * have the keys a C one must (svc_conf_load() would refuse it).
	 */
	err.msg[0] = '\0';
	if ((app = cfg_child(cfg_get(cfg_root(c->merged), "apps"), name)) !=
	    NULL && cfg_str(app, "language", NULL, &lang, &err) == 0 &&
	    lang != NULL && *lang != '\0' && strcasecmp(lang, "c") != 0) {
		fprintf(named ? stderr : stdout, "%s%s: skipped: language "
		    "is \"%s\"; droverd runs only C services\n",
		    named ? "droverctl: " : "", name, lang);
		return named ? -EINVAL : 0;
	}
	rc = svc_conf_load(c->core->settings_config, c->host, name, &svc,
	    &err);
	if (rc < 0) {
		fprintf(stderr, "droverctl: %s\n", err.msg);
		return rc;
	}
	target_add(c, name, 0, svc->pid_dir != NULL ? svc->pid_dir :
	    CTL_RUNDIR);
	svc_conf_free(&svc);
	return 1;
}

/*
 * What to act on: the router first, then the services in file order.
 * Returns 0, 1 when some services of activeapps were bad (said; the
 * others are acted on), or negative when there is nothing to act on.
 */
static int
build_targets(struct ctl *c, const char *which)
{
	struct cfg_err	  err;
	char		**apps = NULL;
	size_t		  i;
	int		  rc, bad = 0;

	if (which != NULL && strcmp(which, ROUTER_NAME) == 0) {
		if (!want_router(c, 0)) {
			fprintf(stderr, "droverctl: %s has no router to "
			    "run\n", c->core_path);
			return -ENOENT;
		}
		target_add(c, ROUTER_NAME, 1, c->rundir);
		return 0;
	}
	if (which != NULL)
		return add_service(c, which, 1) < 0 ? -EINVAL : 0;

	if (want_router(c, 0))
		target_add(c, ROUTER_NAME, 1, c->rundir);
	err.msg[0] = '\0';
	if ((rc = cfg_active_apps(c->core->settings_config, c->host, &apps,
	    &err)) < 0) {
		fprintf(stderr, "droverctl: %s\n", err.msg);
		return rc;
	}
	if (apps[0] == NULL)
		printf("no activeapps for host %s in %s\n", c->host,
		    c->core->settings_config);
	for (i = 0; apps[i] != NULL; i++)
		if (add_service(c, apps[i], 0) < 0)
			bad = 1;
	cfg_strv_free(&apps);
	return bad;
}

/* ------------------------------------------------- pid files, processes */

static void
msleep(int ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * The pid in path; 0 when there is no file, or an empty one (droverd
 * makes it empty at start and writes its pid once serving); -EINVAL when
 * it is junk.
 */
static pid_t
pidfile_read(const char *path)
{
	char		 buf[32];
	long long	 v;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n == 0)
		return 0;
	if (n < 0)
		return -EINVAL;
	buf[n] = '\0';
	buf[strcspn(buf, " \t\r\n")] = '\0';
	if (parse_ll(buf, 1, INT_MAX, &v) < 0)
		return -EINVAL;
	return (pid_t)v;
}

/*
 * Is pid alive and running `prog` (the base name of its executable; NULL
 * or "" for any)?
 * When /proc/PID/exe is unreadable (another user's process) we cannot
 * tell and believe the pid file.  A zombie counts as dead.
 */
static int
pid_is(pid_t pid, const char *prog)
{
	char	path[64], exe[PATH_MAX], stat[512], *p;
	ssize_t	n;
	int	fd;

	if (!sb_pid_alive(pid))
		return 0;
	if (prog == NULL)
		prog = "";
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, stat, sizeof(stat) - 1);
		close(fd);
		if (n > 0) {
			stat[n] = '\0';
			if ((p = strrchr(stat, ')')) != NULL && p[1] == ' ' &&
			    p[2] == 'Z')
				return 0;
		}
	}
	if (*prog == '\0')
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if ((n = readlink(path, exe, sizeof(exe) - 1)) == -1)
		return errno == ENOENT ? 0 : 1;
	exe[n] = '\0';
	/* "/usr/sbin/droverd (deleted)" after an upgrade is still ours */
	if ((p = strstr(exe, " (deleted)")) != NULL)
		*p = '\0';
	p = strrchr(exe, '/');
	return strcmp(p != NULL ? p + 1 : exe, prog) == 0;
}

static const char *
target_prog(const struct target *t)
{
	return t->is_router ? "drover-router" : "droverd";
}

/*
 * The live pid of the target, or 0 when it does not run.  A stale pid
 * file (dead pid, another program, junk) is removed and said so.
 */
static pid_t
target_pid(const struct target *t)
{
	pid_t	pid;

	if ((pid = pidfile_read(t->pidfile)) == 0)
		return 0;
	if (pid > 0 && pid_is(pid, target_prog(t)))
		return pid;
	if (unlink(t->pidfile) == 0)
		printf("%s: removed stale pid file %s\n", t->name,
		    t->pidfile);
	else if (errno != ENOENT)
		fprintf(stderr, "droverctl: unlink(%s): %s\n", t->pidfile,
		    strerror(errno));
	return 0;
}

static int
pidfd_open_compat(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Wait up to ms for pid to end.  Returns 1 when it has, 0 on timeout.
 * A pidfd becomes readable when the process exits; without one, poll.
 */
static int
wait_gone(pid_t pid, const char *prog, int ms)
{
	struct pollfd	pfd;
	uint64_t	deadline = mono_ms() + (uint64_t)ms, now;
	int		fd;

	if ((fd = pidfd_open_compat(pid)) == -1)
		return errno == ESRCH;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (pid_is(pid, prog) && (now = mono_ms()) < deadline) {
		/* short steps: reaping by init may lag the pidfd a little */
		if (poll(&pfd, 1, (int)(deadline - now < CTL_POLL_MS * 10 ?
		    deadline - now : CTL_POLL_MS * 10)) == 1)
			msleep(1);
	}
	close(fd);
	return !pid_is(pid, prog);
}

/* ------------------------------------------------------------ actions */

/* Path of a sibling program: beside us, in $DROVER_SBINDIR, or PATH. */
static char *
prog_path(const struct ctl *c, const char *prog)
{
	const char	*env;
	char		*p;

	if (c->sbindir != NULL) {
		p = xasprintf("%s/%s", c->sbindir, prog);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	if ((env = getenv("DROVER_SBINDIR")) != NULL && *env != '\0') {
		p = xasprintf("%s/%s", env, prog);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return xstrdup(prog);
}

/*
 * The user a target's daemon switches to when started as root: <user>
 * of context opensrf for a service, the first router entry's for the
 * router; NULL when none.  Strings point into c's configuration or rc.
 */
static const char *
target_user(const struct ctl *c, const struct target *t,
    const struct router_conf *rc, size_t n, const char **group)
{
	size_t	i;

	*group = NULL;
	if (!t->is_router) {
		*group = c->core->group;
		return c->core->user;
	}
	for (i = 0; i < n; i++)
		if (rc[i].user != NULL) {
			*group = rc[i].group;
			return rc[i].user;
		}
	return NULL;
}

/*
 * Run as root, droverctl creates the directory of the pid (and router
 * status) files; a daemon that then switches to its user must still
 * write there (the router's status file) and remove its pid file, so a
 * directory droverctl has just created goes to that user.  A directory
 * that existed is left as it is.
 */
static void
give_dir(const struct ctl *c, const struct target *t, const char *dir)
{
	struct router_conf	*rc = NULL;
	struct priv_ids		 ids;
	struct cfg_err		 err;
	const char		*user, *group;
	char			 why[256];
	size_t			 n = 0;

	if (geteuid() != 0)
		return;
	if (t->is_router && router_conf_load(c->core_path, &rc, &n,
	    &err) < 0)
		return;		/* start reports it */
	user = target_user(c, t, rc, n, &group);
	if (user != NULL && *user != '\0') {
		if (priv_resolve(user, group, &ids, why, sizeof(why)) < 0)
			fprintf(stderr, "droverctl: %s: %s\n", t->name, why);
		else if (chown(dir, ids.uid, ids.gid) == -1)
			fprintf(stderr, "droverctl: chown(%s, %s): %s\n", dir,
			    ids.user, strerror(errno));
	}
	router_conf_free(&rc, n);
}

static int
mkdir_p(const char *dir)
{
	char	*d = xstrdup(dir), *p, save;
	int	 rc = 0;

	for (p = d + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		save = *p;
		*p = '\0';
		if (mkdir(d, 0755) == -1 && errno != EEXIST) {
			rc = -errno;
			fprintf(stderr, "droverctl: mkdir(%s): %s\n", d,
			    strerror(errno));
		}
		*p = save;
		if (save == '\0')
			break;
	}
	free(d);
	return rc;
}

/* Run argv and wait for it; its exit status, or -1. */
static int
run_wait(char *const argv[])
{
	pid_t	pid;
	int	st;

	if ((pid = fork()) == -1) {
		fprintf(stderr, "droverctl: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "droverctl: %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return -1;
}

/*
 * The router has no -d pid file: detach it ourselves.  A child starts a
 * session, forks the router (foreground mode, output to a file beside
 * the pid file), writes its pid file and exits.
 */
static int
spawn_router(const struct ctl *c, const struct target *t)
{
	char	*prog, *out, buf[32];
	char	*argv[8];
	pid_t	 pid, r;
	int	 st, fd, n, rc;

	prog = prog_path(c, "drover-router");
	out = xasprintf("%s/drover-router.out", c->rundir);
	argv[0] = prog;
	argv[1] = "-f";
	argv[2] = "-c";
	argv[3] = c->core_path;
	argv[4] = "-s";
	argv[5] = t->statusfile;
	argv[6] = NULL;
	if ((pid = fork()) == -1) {
		fprintf(stderr, "droverctl: fork: %s\n", strerror(errno));
		free(prog);
		free(out);
		return -1;
	}
	if (pid == 0) {
		if (setsid() == -1)
			_exit(126);
		if ((r = fork()) == -1)
			_exit(126);
		if (r == 0) {
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (fd == -1 || dup2(fd, 0) == -1)
				_exit(126);
			fd = open(out, O_WRONLY | O_CREAT | O_TRUNC |
			    O_CLOEXEC, 0640);
			if (fd == -1 || dup2(fd, 1) == -1 ||
			    dup2(fd, 2) == -1)
				_exit(126);
			if (chdir("/") == -1)
				_exit(126);
			execvp(prog, argv);
			dprintf(STDERR_FILENO, "droverctl: exec %s: %s\n",
			    prog, strerror(errno));
			_exit(127);
		}
		n = snprintf(buf, sizeof(buf), "%d\n", (int)r);
		fd = open(t->pidfile, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644);
		if (fd == -1 || write_full(fd, buf, (size_t)n) < 0) {
			fprintf(stderr, "droverctl: %s: %s\n", t->pidfile,
			    strerror(errno));
			kill(r, SIGTERM);
			_exit(1);
		}
		close(fd);
		_exit(0);
	}
	free(prog);
	free(out);
	while ((rc = waitpid(pid, &st, 0)) == -1 && errno == EINTR)
		;
	return rc != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int
spawn_droverd(const struct ctl *c, const struct target *t)
{
	char	*argv[12];
	int	 i = 0, rc;

	argv[i++] = prog_path(c, "droverd");
	argv[i++] = "-c";
	argv[i++] = c->core_path;
	argv[i++] = "-s";
	argv[i++] = t->name;
	argv[i++] = "-h";
	argv[i++] = c->host;
	argv[i++] = "-d";
	if (c->local_dir != NULL) {
		argv[i++] = "--local";
		argv[i++] = c->local_dir;
	}
	argv[i] = NULL;
	rc = run_wait(argv);
	free(argv[0]);
	if (rc != 0) {
		fprintf(stderr, "droverctl: %s: droverd -d exited with %d\n",
		    t->name, rc);
		return -1;
	}
	return 0;
}

/*
 * A daemon of ours that died while starting.  droverctl is a child
 * subreaper (main()), so the daemons droverd -d and spawn_router() leave
 * behind are our children until we exit: a failure shows up here at
 * once, with its status.  The intermediate processes exit 0 and are
 * ignored.  Returns the dead pid (its status in *st) or 0.
 */
static pid_t
reap_failed(int *st)
{
	pid_t	pid;

	while ((pid = waitpid(-1, st, WNOHANG)) > 0)
		if (!WIFEXITED(*st) || WEXITSTATUS(*st) != 0)
			return pid;
	return 0;
}

static void
say_failed(const struct target *t, pid_t pid, int st)
{
	if (WIFSIGNALED(st))
		fprintf(stderr, "droverctl: %s: %s pid %d killed by signal "
		    "%d while starting; see its log\n", t->name,
		    target_prog(t), (int)pid, WTERMSIG(st));
	else
		fprintf(stderr, "droverctl: %s: %s pid %d exited with %d "
		    "while starting; see its log\n", t->name, target_prog(t),
		    (int)pid, WEXITSTATUS(st));
}

/* droverd: wait for its pid file, written once it serves. */
static pid_t
wait_droverd(const struct ctl *c, const struct target *t)
{
	uint64_t	deadline = mono_ms() + (uint64_t)c->timeout_ms;
	pid_t		pid, dead;
	int		st;

	for (;;) {
		if ((pid = pidfile_read(t->pidfile)) > 0 &&
		    pid_is(pid, "droverd"))
			return pid;
		if ((dead = reap_failed(&st)) > 0) {
			say_failed(t, dead, st);
			return -1;
		}
		if (mono_ms() >= deadline) {
			fprintf(stderr, "droverctl: %s: no pid file %s after "
			    "%d s; see its log\n", t->name, t->pidfile,
			    c->timeout_ms / 1000);
			return -1;
		}
		msleep(CTL_POLL_MS);
	}
}

/* The last lines of dir/name to stderr: why the router did not start. */
static void
print_tail(const char *dir, const char *name)
{
	char	 buf[2048], *path, *p;
	ssize_t	 n;
	off_t	 end;
	int	 fd;

	path = xasprintf("%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		free(path);
		return;
	}
	if ((end = lseek(fd, 0, SEEK_END)) > (off_t)sizeof(buf) - 1)
		(void)lseek(fd, end - (off_t)sizeof(buf) + 1, SEEK_SET);
	else
		(void)lseek(fd, 0, SEEK_SET);
	if ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		/* start at a line boundary when the tail was cut */
		p = end >= (off_t)sizeof(buf) - 1 &&
		    strchr(buf, '\n') != NULL ? strchr(buf, '\n') + 1 : buf;
		fprintf(stderr, "---- %s\n%s", path, p);
		if (n > 0 && buf[n - 1] != '\n')
			fputc('\n', stderr);
	}
	close(fd);
	free(path);
}

/* The router: alive, and its first status file written (it is up). */
static pid_t
wait_router(const struct ctl *c, const struct target *t)
{
	uint64_t	deadline = mono_ms() + (uint64_t)c->timeout_ms;
	pid_t		pid;
	int		st;

	if ((pid = pidfile_read(t->pidfile)) <= 0) {
		fprintf(stderr, "droverctl: router: no pid file %s\n",
		    t->pidfile);
		return -1;
	}
	for (;;) {
		/* any program: it may not have reached its exec yet */
		if (reap_failed(&st) > 0 || !pid_is(pid, NULL)) {
			fprintf(stderr, "droverctl: router: pid %d exited "
			    "while starting; see its log\n", (int)pid);
			print_tail(c->rundir, "drover-router.out");
			(void)unlink(t->pidfile);	/* ours, now stale */
			return -1;
		}
		if (access(t->statusfile, F_OK) == 0 &&
		    pid_is(pid, "drover-router"))
			return pid;
		if (mono_ms() >= deadline) {
			printf("router: pid %d runs but wrote no status file "
			    "in %d s\n", (int)pid, c->timeout_ms / 1000);
			return pid;
		}
		msleep(CTL_POLL_MS);
	}
}

static int
do_start(const struct ctl *c, const struct target *t)
{
	char	*dir, *d;
	pid_t	 pid;
	int	 rc, existed;

	if ((pid = target_pid(t)) > 0) {
		printf("%s: already running, pid %d; not started\n", t->name,
		    (int)pid);
		return 0;
	}
	/* scoreboards are per machine: another config's droverd, say */
	if (!t->is_router && (pid = sb_owner(t->name, NULL)) > 0) {
		fprintf(stderr, "droverctl: %s: already served by droverd pid "
		    "%d, which has no pid file %s; not started\n", t->name,
		    (int)pid, t->pidfile);
		return -1;
	}
	dir = xstrdup(t->pidfile);
	d = dirname(dir);		/* within dir */
	existed = access(d, F_OK) == 0;
	if ((rc = mkdir_p(d)) == 0 && !existed)
		give_dir(c, t, d);
	free(dir);
	if (rc < 0)
		return -1;
	if (t->is_router) {
		(void)unlink(t->statusfile);	/* a fresh one means "up" */
		if (spawn_router(c, t) < 0 || (pid = wait_router(c, t)) < 0)
			return -1;
	} else if (spawn_droverd(c, t) < 0 || (pid = wait_droverd(c, t)) < 0)
		return -1;
	printf("%s: started, pid %d\n", t->name, (int)pid);
	return 0;
}

static int
do_stop(const struct ctl *c, const struct target *t)
{
	const char	*prog = target_prog(t);
	pid_t		 pid;

	if ((pid = target_pid(t)) == 0) {
		printf("%s: not running\n", t->name);
		return 0;
	}
	if (kill(pid, SIGTERM) == -1 && errno != ESRCH) {
		fprintf(stderr, "droverctl: %s: kill(%d, SIGTERM): %s\n",
		    t->name, (int)pid, strerror(errno));
		return -1;
	}
	if (!wait_gone(pid, prog, c->timeout_ms)) {
		fprintf(stderr, "droverctl: %s: pid %d still running after "
		    "%d s; sending SIGKILL\n", t->name, (int)pid,
		    c->timeout_ms / 1000);
		if (kill(pid, SIGKILL) == -1 && errno != ESRCH) {
			fprintf(stderr, "droverctl: %s: kill(%d, SIGKILL): "
			    "%s\n", t->name, (int)pid, strerror(errno));
			return -1;
		}
		if (!wait_gone(pid, prog, CTL_KILL_WAIT_MS)) {
			fprintf(stderr, "droverctl: %s: pid %d survived "
			    "SIGKILL\n", t->name, (int)pid);
			return -1;
		}
	}
	/* droverd removes its own; the router's and a killed one's stay */
	if (unlink(t->pidfile) == -1 && errno != ENOENT)
		fprintf(stderr, "droverctl: unlink(%s): %s\n", t->pidfile,
		    strerror(errno));
	if (t->statusfile != NULL)
		(void)unlink(t->statusfile);	/* may never have existed */
	printf("%s: stopped, pid %d\n", t->name, (int)pid);
	return 0;
}

static int
do_reload(const struct ctl *c, const struct target *t)
{
	pid_t	pid;

	(void)c;
	if ((pid = target_pid(t)) == 0) {
		fprintf(stderr, "droverctl: %s: not running\n", t->name);
		return -1;
	}
	if (kill(pid, SIGHUP) == -1) {
		fprintf(stderr, "droverctl: %s: kill(%d, SIGHUP): %s\n",
		    t->name, (int)pid, strerror(errno));
		return -1;
	}
	printf("%s: reload requested, pid %d\n", t->name, (int)pid);
	return 0;
}

/* "  children 3 (idle 2, busy 1), max 10; requests 12 done, 0 failed" */
static void
print_summary(const char *service)
{
	struct sb		*sb = NULL;
	struct sb_info		 info;
	struct sb_slot_info	 si[SB_SLOTS];
	struct sb_summary	 sum;
	char			 name[SB_SHM_NAME_MAX];
	unsigned		 i, n = 0;
	int			 rc, st;

	if (sb_shm_name(name, sizeof(name), service, NULL) < 0)
		return;
	if ((rc = sb_open(&sb, name)) < 0) {
		printf("  scoreboard %s: %s\n", name, strerror(-rc));
		return;
	}
	if ((rc = sb_read_info(sb, &info)) < 0) {
		printf("  scoreboard %s: %s\n", name, strerror(-rc));
		sb_close(&sb);
		return;
	}
	for (i = 0; i < SB_SLOTS; i++)
		if (sb_read_slot(sb, i, &si[n]) == 0 || si[n].unstable)
			n++;
	sb_summarize(si, n, &sum);
	printf("  children %u (", sum.children);
	for (st = SB_STARTING, i = 0; st <= SB_EXITING; st++) {
		if (sum.by_state[st] == 0)
			continue;
		printf("%s%s %u", i++ ? ", " : "", sb_state_name(st),
		    sum.by_state[st]);
	}
	printf("), max %u; requests %llu accepted, %llu completed, "
	    "%llu failed, %llu queued\n", info.max_children_now,
	    (unsigned long long)info.counters[SB_C_ACCEPTED],
	    (unsigned long long)info.counters[SB_C_COMPLETED],
	    (unsigned long long)info.counters[SB_C_FAILED],
	    (unsigned long long)info.counters[SB_C_QUEUED]);
	if (sum.by_state[SB_DEAD] > 0 || info.counters[SB_C_ABNORMAL] > 0)
		printf("  abnormal child exits %llu\n",
		    (unsigned long long)info.counters[SB_C_ABNORMAL]);
	sb_close(&sb);
}

/* 0 running, 1 not running. */
static int
do_status(const struct ctl *c, const struct target *t)
{
	pid_t	pid;

	(void)c;
	if ((pid = target_pid(t)) == 0) {
		printf("%s: stopped\n", t->name);
		return 1;
	}
	printf("%s: running, pid %d\n", t->name, (int)pid);
	if (!t->is_router)
		print_summary(t->name);
	return 0;
}

/*
 * SIGUSR1 (on 0) or SIGUSR2 (on 1): the service leaves or joins its
 * routers, as osrf_control --router-de-register / --router-re-register.
 * The router itself registers with no one and is skipped.
 */
static int
do_register(const struct ctl *c, const struct target *t, int on)
{
	const char	*sig = on ? "SIGUSR2" : "SIGUSR1";
	pid_t		 pid;

	(void)c;
	if (t->is_router) {
		printf("%s: skipped: routers register with no one\n",
		    t->name);
		return 0;
	}
	if ((pid = target_pid(t)) == 0) {
		fprintf(stderr, "droverctl: %s: not running\n", t->name);
		return -1;
	}
	if (kill(pid, on ? SIGUSR2 : SIGUSR1) == -1) {
		fprintf(stderr, "droverctl: %s: kill(%d, %s): %s\n", t->name,
		    (int)pid, sig, strerror(errno));
		return -1;
	}
	printf("%s: %s requested (%s), pid %d\n", t->name, on ?
	    "registration with the routers" :
	    "unregistration from the routers", sig, (int)pid);
	return 0;
}

/* ------------------------------------------------------- diagnostic */

/*
 * Seconds as ps(1) prints them: etime [[dd-]hh:]mm:ss (hours 0: hh only
 * from an hour on), cputime [dd-]hh:mm:ss (hours 1).
 */
static void
fmt_ps_time(uint64_t s, int hours, char *buf, size_t n)
{
	unsigned	h = (unsigned)(s / 3600 % 24), m = (unsigned)(s / 60 % 60);
	unsigned	sec = (unsigned)(s % 60);

	if (s >= 86400)
		snprintf(buf, n, "%llu-%02u:%02u:%02u",
		    (unsigned long long)(s / 86400), h, m, sec);
	else if (hours || s >= 3600)
		snprintf(buf, n, "%02u:%02u:%02u", h, m, sec);
	else
		snprintf(buf, n, "%02u:%02u", m, sec);
}

/*
 * A process's age and CPU time (user + system, its own), in seconds,
 * from /proc/PID/stat (fields 14, 15 and 22, in clock ticks) and
 * /proc/uptime, as ps(1) reads them.  0 or -errno.
 */
static int
proc_times(pid_t pid, uint64_t *age_s, uint64_t *cpu_s)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 ut, st, start;
	double			 up;
	long			 hz = sysconf(_SC_CLK_TCK);
	ssize_t			 n;
	FILE			*f;
	int			 fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || hz <= 0)
		return -EIO;
	buf[n] = '\0';
	/* the name may hold anything: fields count from its ')' */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
	    "%*d %*d %*d %*d %*d %*d %llu", &ut, &st, &start) != 3)
		return -EPROTO;
	if ((f = fopen("/proc/uptime", "re")) == NULL)
		return -errno;
	n = fscanf(f, "%lf", &up) == 1;
	fclose(f);
	if (!n)
		return -EPROTO;
	*cpu_s = (ut + st) / (unsigned long long)hz;
	*age_s = up > (double)start / (double)hz ?
	    (uint64_t)(up - (double)start / (double)hz) : 0;
	return 0;
}

/*
 * The service's children (every live slot: idle, busy, in a session or
 * on their way out, as osrf_control counts drone processes) and the cap
 * in force, from the service's scoreboard.  0 or -errno.
 */
static int
drones(const char *service, unsigned *live, unsigned *max)
{
	struct sb		*sb = NULL;
	struct sb_info		 info;
	struct sb_slot_info	 si;
	char			 name[SB_SHM_NAME_MAX];
	unsigned		 i;
	int			 rc;

	if ((rc = sb_shm_name(name, sizeof(name), service, NULL)) < 0 ||
	    (rc = sb_open(&sb, name)) < 0)
		return rc;
	if ((rc = sb_read_info(sb, &info)) < 0) {
		sb_close(&sb);
		return rc;
	}
	*live = 0;
	for (i = 0; i < SB_SLOTS; i++)
		if (sb_read_slot(sb, i, &si) == 0 && si.pid > 0 &&
		    si.state != SB_EMPTY && si.state != SB_DEAD)
			(*live)++;
	*max = info.max_children_now;
	sb_close(&sb);
	return 0;
}

/*
 * One line per target in osrf_control --diagnostic's layout, byte for
 * byte, so that scripts written for it read ours (the layout is an
 * interface, documented in droverctl(8)):
 *
 *	* opensrf.dbmath  is not running
 *	* opensrf.math    [4242] uptime=01:02:03    cputime=00:00:07    #drones=3/10  30%
 *	* router          [4240] uptime=01:02:05    cputime=00:00:01
 *
 * (the router's line ends with the space after cputime's padding), and
 * for a service without children a second line "* \tERR <name> has no
 * running drones.".
 * The name is padded to the longest and followed by one space; uptime
 * and cputime are padded to 11; drones are the live children over
 * max_children in force, the percentage rounded down.  1 when the
 * target does not run.
 */
static int
do_diagnostic(const struct ctl *c, const struct target *t, int width)
{
	char		 up[32], cpu[32];
	uint64_t	 age = 0, cs = 0;
	unsigned	 live, max;
	pid_t		 pid;
	int		 rc;

	(void)c;
	if ((pid = target_pid(t)) == 0) {
		printf("* %-*s  is not running\n", width, t->name);
		return 1;
	}
	if ((rc = proc_times(pid, &age, &cs)) < 0) {
		/* it just went, or /proc is hidden from us */
		fprintf(stderr, "droverctl: %s: /proc/%d: %s\n", t->name,
		    (int)pid, strerror(-rc));
	}
	fmt_ps_time(age, 0, up, sizeof(up));
	fmt_ps_time(cs, 1, cpu, sizeof(cpu));
	printf("* %-*s  [%d] uptime=%-11s cputime=%-11s ", width, t->name,
	    (int)pid, up, cpu);
	if (t->is_router)
		printf("\n");
	else if ((rc = drones(t->name, &live, &max)) < 0) {
		printf("\n");
		fprintf(stderr, "droverctl: %s: scoreboard: %s\n", t->name,
		    strerror(-rc));
	} else {
		printf("#drones=%u/%u %3u%%\n", live, max, max > 0 ?
		    live * 100 / max : 0);
		if (live == 0)
			printf("* \tERR %s has no running drones.\n", t->name);
	}
	return 0;
}

/* Targets by name, as osrf_control lists them. */
static int
cmp_target(const void *a, const void *b)
{
	return strcmp((*(const struct target *const *)a)->name,
	    (*(const struct target *const *)b)->name);
}

static int
run_action(struct ctl *c, enum action a)
{
	struct target	**byname;
	size_t		  i;
	int		  fail = 0, down = 0, width = 0;

	switch (a) {
	case A_START:
		for (i = 0; i < c->nt; i++)
			if (do_start(c, &c->t[i]) < 0)
				fail = 1;
		break;
	case A_STOP:
	case A_RESTART:
		/* services before the router, which they are registered to */
		for (i = c->nt; i-- > 0;)
			if (do_stop(c, &c->t[i]) < 0)
				fail = 1;
		if (a == A_STOP || fail)
			break;
		for (i = 0; i < c->nt; i++)
			if (do_start(c, &c->t[i]) < 0)
				fail = 1;
		break;
	case A_RELOAD:
		for (i = 0; i < c->nt; i++)
			if (do_reload(c, &c->t[i]) < 0)
				fail = 1;
		break;
	case A_STATUS:
		for (i = 0; i < c->nt; i++)
			down += do_status(c, &c->t[i]);
		if (down > 0)
			return CTL_EXIT_NOTRUNNING;
		break;
	case A_DIAGNOSTIC:
		byname = xcalloc(c->nt, sizeof(*byname));
		for (i = 0; i < c->nt; i++) {
			byname[i] = &c->t[i];
			if ((int)strlen(c->t[i].name) > width)
				width = (int)strlen(c->t[i].name);
		}
		qsort(byname, c->nt, sizeof(*byname), cmp_target);
		for (i = 0; i < c->nt; i++)
			down += do_diagnostic(c, byname[i], width);
		free(byname);
		if (down > 0)
			return CTL_EXIT_NOTRUNNING;
		break;
	case A_DEREGISTER:
	case A_REREGISTER:
		for (i = 0; i < c->nt; i++)
			if (do_register(c, &c->t[i], a == A_REREGISTER) < 0)
				fail = 1;
		break;
	case A_INBOXES:
	case A_SWEEP:
		break;		/* main() ran them: they have no targets */
	}
	return fail ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

/* ---------------------------------------------------- Redis inboxes */

struct inbox_counts {
	int	by[RINBOX_UNPARSED + 1];
	int	deleted;
};

static void
print_inbox(void *arg, const struct rinbox *ib)
{
	struct inbox_counts	*k = arg;

	k->by[ib->owner]++;
	k->deleted += ib->deleted;
	printf("%s messages %lld owner %s%s\n", ib->key, ib->depth,
	    rinbox_owner_name(ib->owner), ib->deleted ? " deleted" : "");
}

/*
 * inboxes / sweep: every opensrf:client:* key on the site's Redis, as
 * the user of context opensrf.  Owners on this host are checked; those
 * elsewhere cannot be from here.
 */
static int
do_inboxes(const struct ctl *c, int sweep)
{
	const struct bus_conf	*bc = &c->core->bus;
	struct rds_params	 p;
	struct rds_conn		*rc = NULL;
	struct inbox_counts	 k;
	char			 host[HOST_NAME_MAX + 1];
	int			 n;

	if (bc->kind != BUS_REDIS) {
		fprintf(stderr, "droverctl: %s: not a Redis site (<bus> or "
		    "<port> 6379 in context opensrf): no inboxes to %s\n",
		    c->core_path, sweep ? "sweep" : "list");
		return CTL_EXIT_FAIL;
	}
	memset(&p, 0, sizeof(p));
	p.host = bc->host;
	p.port = bc->port;
	p.user = bc->username;
	p.pass = bc->password;
	p.connect_timeout_ms = c->timeout_ms;
	if (rds_new(&p, &rc) < 0 || (n = rds_open(rc)) < 0) {
		fprintf(stderr, "droverctl: Redis %s:%d: %s\n", bc->host,
		    bc->port, rc != NULL && *rds_error(rc) != '\0' ?
		    rds_error(rc) : "cannot connect");
		rds_free(&rc);
		return CTL_EXIT_FAIL;
	}
	if (gethostname(host, sizeof(host)) == -1)
		fatal("gethostname");
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';	/* inboxes carry the short name */
	memset(&k, 0, sizeof(k));
	n = rinbox_scan(rc, host, sweep, NULL, c->timeout_ms, print_inbox, &k);
	rds_free(&rc);
	if (n == -EACCES) {
		fprintf(stderr, "droverctl: user %s may not SCAN the keys "
		    "(OpenSRF's accounts file): load drover's "
		    "redis-accounts.txt, which grants it\n", bc->username);
		return CTL_EXIT_FAIL;
	}
	if (n < 0) {
		fprintf(stderr, "droverctl: listing inboxes: %s\n",
		    strerror(-n));
		return CTL_EXIT_FAIL;
	}
	printf("%d inbox%s: %d alive, %d gone (%d deleted), %d of other "
	    "hosts (unknown from %s), %d not drover's\n", n, n == 1 ? "" :
	    "es", k.by[RINBOX_ALIVE], k.by[RINBOX_GONE], k.deleted,
	    k.by[RINBOX_ELSEWHERE], host, k.by[RINBOX_UNPARSED]);
	return CTL_EXIT_OK;
}

/* ------------------------------------------------------------- main */

static char *
self_dir(void)
{
	char	buf[PATH_MAX];
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", buf, sizeof(buf) - 1)) <= 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(dirname(buf));
}

static char *
abs_path(const char *what, const char *p)
{
	char	*r;

	if ((r = realpath(p, NULL)) == NULL) {
		fprintf(stderr, "droverctl: %s %s: %s\n", what, p,
		    strerror(errno));
		exit(CTL_EXIT_FAIL);
	}
	return r;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "local", required_argument, NULL, 'L' },
		/* osrf_control's spellings of three commands */
		{ "diagnostic", no_argument, NULL, 'G' },
		{ "router-de-register", no_argument, NULL, 'U' },
		{ "router-re-register", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'H' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl	 c;
	struct cfg_err	 err;
	const char	*core = CTL_DEFAULT_CONF, *which = NULL;
	char		 host[HOST_NAME_MAX + 1];
	long long	 v;
	int		 ch, a, lflag = 0, rc, bad = 0, opt_a = -1;

	memset(&c, 0, sizeof(c));
	c.timeout_ms = CTL_DEFAULT_TIMEOUT * 1000;
	log_init("droverctl");
	while ((ch = getopt_long(argc, argv, "c:h:lt:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			core = optarg;
			break;
		case 'h':
			free(c.host);
			c.host = xstrdup(optarg);
			break;
		case 'l':
			lflag = 1;
			break;
		case 't':
			if (parse_ll(optarg, 1, CTL_MAX_TIMEOUT, &v) < 0) {
				fprintf(stderr, "droverctl: -t %s: expected "
				    "seconds from 1 to %d\n", optarg,
				    CTL_MAX_TIMEOUT);
				usage(stderr, CTL_EXIT_USAGE);
			}
			c.timeout_ms = (int)v * 1000;
			break;
		case 'L':
			free(c.local_dir);
			c.local_dir = abs_path("--local", optarg);
			break;
		case 'G':
		case 'U':
		case 'R':
			if (opt_a != -1)
				usage(stderr, CTL_EXIT_USAGE);
			opt_a = ch == 'G' ? A_DIAGNOSTIC : ch == 'U' ?
			    A_DEREGISTER : A_REREGISTER;
			break;
		case 'H':
			usage(stdout, CTL_EXIT_OK);
		case 'V':
			printf("droverctl %s\n", DROVER_VERSION);
			return CTL_EXIT_OK;
		default:
			usage(stderr, CTL_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (lflag && c.host != NULL)
		usage(stderr, CTL_EXIT_USAGE);
	if (opt_a != -1) {
		/* --diagnostic [service]: the option is the command */
		if (argc > 1)
			usage(stderr, CTL_EXIT_USAGE);
		a = opt_a;
		if (argc == 1)
			which = argv[0];
	} else {
		if (argc < 1 || argc > 2)
			usage(stderr, CTL_EXIT_USAGE);
		for (a = 0; action_names[a] != NULL; a++)
			if (strcmp(argv[0], action_names[a]) == 0)
				break;
		if (action_names[a] == NULL) {
			fprintf(stderr, "droverctl: unknown command \"%s\"\n",
			    argv[0]);
			usage(stderr, CTL_EXIT_USAGE);
		}
		if (argc == 2)
			which = argv[1];
	}
	if ((a == A_INBOXES || a == A_SWEEP) && (which != NULL ||
	    c.local_dir != NULL))
		usage(stderr, CTL_EXIT_USAGE);
	if (lflag)
		c.host = xstrdup("localhost");
	else if (c.host == NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			fatal("gethostname");
		host[sizeof(host) - 1] = '\0';
		c.host = xstrdup(host);
	}
	/* droverd -d and the router chdir to /: give them absolute paths */
	c.core_path = abs_path("configuration", core);
	c.sbindir = self_dir();
	err.msg[0] = '\0';
	if ((rc = core_conf_load(c.core_path, "opensrf", &c.core, &err)) < 0) {
		fprintf(stderr, "droverctl: %s\n", err.msg);
		return CTL_EXIT_FAIL;
	}
	if (a == A_INBOXES || a == A_SWEEP) {
		rc = do_inboxes(&c, a == A_SWEEP);
		core_conf_free(&c.core);
		free(c.core_path);
		free(c.host);
		free(c.sbindir);
		return rc;
	}
	if (c.core->settings_config == NULL) {
		fprintf(stderr, "droverctl: %s: no <settings_config> in "
		    "context \"opensrf\"\n", c.core_path);
		return CTL_EXIT_FAIL;
	}
	/* see reap_failed() */
	if ((a == A_START || a == A_RESTART) &&
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		fprintf(stderr, "droverctl: prctl(PR_SET_CHILD_SUBREAPER): "
		    "%s; start failures show only at the timeout\n",
		    strerror(errno));
	if (load_settings(&c) < 0 || (bad = build_targets(&c, which)) < 0)
		rc = CTL_EXIT_FAIL;
	else {
		rc = run_action(&c, (enum action)a);
		if (bad && rc == CTL_EXIT_OK)
			rc = CTL_EXIT_FAIL;
	}
	targets_free(&c);
	cfg_tree_free(&c.merged);
	cfg_tree_free(&c.settings);
	core_conf_free(&c.core);
	free(c.core_path);
	free(c.host);
	free(c.local_dir);
	free(c.sbindir);
	free(c.rundir);
	return rc;
}
