/*
 * drover_router_main.c: drover-router, the OpenSRF-compatible XMPP router.
 *
 * Reads the <routers> context of opensrf_core.xml, logs in as
 * <name>@<domain>/router for every entry (all in this one process, see
 * router_loop.h) and routes until SIGTERM or SIGINT.  SIGHUP re-reads
 * the trusted domains and reopens the log.  The signal handlers only set
 * a flag and write a byte to a self-pipe the loop watches.
 *
 * Started as root with a user (-u, else the entries' <user>), it opens
 * its log, gives it to that user and switches to it (common/priv.h)
 * before it logs in anywhere; without one it warns and stays root (it
 * runs no plugin code).
 *
 * Exit status: 0 after a clean stop (or --status printed), 1 on a start-up
 * error (bad config, no entry), 2 on bad usage, 77 when it cannot switch
 * to its user.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "notify.h"
#include "priv.h"
#include "router_loop.h"
#include "proto/bus.h"

#define DEFAULT_CONF	DROVER_SYSCONFDIR "/drover/opensrf_core.xml"

/* The only globals: signal flags and the self-pipe (STYLE.md). */
static volatile sig_atomic_t	got_stop;
static volatile sig_atomic_t	got_hup;
static int			wake_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	int	saved = errno;
	char	c = 0;
	ssize_t	n;

	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
	/* Non-blocking: a full pipe already wakes the loop. */
	n = write(wake_pipe[1], &c, 1);
	(void)n;		/* nothing to do about it in a handler */
	errno = saved;
}

/* EX_NOPERM, as droverd's: cannot become the configured user. */
#define ROUTER_EXIT_PRIV	77

static void
usage(FILE *f)
{
	fprintf(f, "usage: drover-router [-f | -d] [-c opensrf_core.xml] "
	    "[-s statusfile]\n"
	    "                     [-u user] [-g group]\n"
	    "       drover-router --status [-s statusfile]\n"
	    "       drover-router --help | --version\n");
}

static int
mk_bus(const struct bus_conf *conf, const char *resource, struct bus **out)
{
	struct bus_params	p;

	memset(&p, 0, sizeof(p));
	p.kind = conf->kind;
	p.conf = conf;
	p.role = BUS_ROLE_ROUTER;
	p.resource = resource;
	return bus_new(&p, out);
}

static int
load(const char *path, struct router_conf **out, size_t *n)
{
	struct cfg_err	err;
	int		rc;

	/* No entry with a <transport> is -EINVAL, with a message. */
	if ((rc = router_conf_load(path, out, n, &err)) < 0)
		log_warnx("%s", err.msg);
	return rc;
}

/* What the loop's callbacks need: the file, the service manager. */
struct router_main {
	const char	*conf;
	struct notify	 sm;	/* systemd, if any: notify.h */
};

static void
notify(struct router_main *rm, const char *what)
{
	int	rc;

	if ((rc = notify_send(&rm->sm, "%s", what)) < 0)
		log_warnx("systemd notification: sendto: %s", strerror(-rc));
}

/* router_loop's on_up: every top-level connection is up. */
static void
on_up(void *arg)
{
	notify(arg, "READY=1\nSTATUS=routing");
}

static int
reload_conf(void *arg, struct router_conf **out, size_t *n)
{
	struct router_main	*rm = arg;
	char			 buf[96];
	int			 rc;

	/* the reload is this call and the copy of the lists after it */
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)mono_us());
	notify(rm, buf);
	rc = load(rm->conf, out, n);
	notify(rm, "READY=1");
	return rc;
}

/*
 * The user and group to run as: -u/-g, else the entries' <user> and
 * <group>, which must agree (one process serves them all).  NULL user:
 * none.  -EINVAL with why[] when entries disagree.
 */
static int
pick_identity(const struct router_conf *e, size_t n, const char **user,
    const char **group, char *why, size_t whysz)
{
	size_t	i;

	if (*user != NULL)
		return 0;
	for (i = 0; i < n; i++) {
		if (e[i].user == NULL)
			continue;
		if (*user != NULL && (strcmp(*user, e[i].user) != 0 ||
		    strcmp(*group != NULL ? *group : "", e[i].group != NULL ?
		    e[i].group : "") != 0)) {
			snprintf(why, whysz, "%s:%d: <user>/<group> %s/%s "
			    "differs from an earlier entry's %s/%s; one "
			    "process serves every entry", e[i].file, e[i].line,
			    e[i].user, e[i].group != NULL ? e[i].group : "",
			    *user, *group != NULL ? *group : "");
			return -EINVAL;
		}
		*user = e[i].user;
		*group = e[i].group;
	}
	return 0;
}

static void
setup_signals(void)
{
	struct sigaction	sa;

	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		fatal("pipe2");
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		fatal("sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		fatal("sigaction(SIGPIPE)");
}

static void
daemonize(void)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		fatal("setsid");
	if (chdir("/") < 0)
		fatal("chdir(/)");
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		fatal("open(/dev/null)");
	if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
	    dup2(fd, STDERR_FILENO) < 0)
		fatal("dup2");
	if (fd > STDERR_FILENO)
		fd_close(&fd);
	log_after_fork(NULL);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "status", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct router_loop_conf	 lc;
	struct router_loop	*L = NULL;
	struct router_conf	*entries = NULL;
	struct log_conf		 logc;
	struct priv_ids		 ids;
	struct router_main	 rm;
	const char		*conf = DEFAULT_CONF;
	const char		*user = NULL, *group = NULL;
	char			*status_path = NULL, why[256];
	size_t			 n = 0;
	int			 ch, foreground = 0, detach = 0, status = 0;
	int			 rc, drop = 0, status_given = 0;

	log_init(argv[0]);
	memset(&rm, 0, sizeof(rm));
	while ((ch = getopt_long(argc, argv, "c:dfs:u:g:h", longopts,
	    NULL)) != -1)
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			detach = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 's':
			free(status_path);
			status_path = xstrdup(optarg);
			status_given = 1;
			break;
		case 'u':
			user = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case 'S':
			status = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("drover-router %s\n", DROVER_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	if (optind != argc || (foreground && detach)) {
		usage(stderr);
		return 2;
	}
	if (status_path == NULL)
		status_path = router_status_default_path();
	if (status) {
		rc = router_status_print(status_path);
		free(status_path);
		return rc == 0 ? 0 : 1;
	}

	if (load(conf, &entries, &n) < 0)
		return 1;
	if (pick_identity(entries, n, &user, &group, why, sizeof(why)) < 0 ||
	    (user == NULL && group != NULL && snprintf(why, sizeof(why),
	    "group %s given without a user", group) > 0) ||
	    (user != NULL && priv_resolve(user, group, &ids, why,
	    sizeof(why)) < 0)) {
		log_warnx("%s", why);
		router_conf_free(&entries, n);
		free(status_path);
		return ROUTER_EXIT_PRIV;
	}
	drop = user != NULL && priv_is_root();
	/* One process serves every entry: it logs where the first says. */
	memset(&logc, 0, sizeof(logc));
	(void)router_conf_log(&entries[0], &logc);	/* always 0 */
	if ((rc = log_open(&logc)) < 0)
		log_warnx("cannot open log %s: %s; logging to stderr",
		    logc.file != NULL ? logc.file : "(none)", strerror(-rc));
	/* the user reopens it after a rotation (SIGHUP) */
	if (drop && (rc = log_chown(ids.uid, ids.gid)) < 0)
		log_warnx("log %s: fchown to %s: %s", logc.file, ids.user,
		    strerror(-rc));
	/* before any connection: nothing from the bus is read as root */
	if (user != NULL && (rc = priv_drop(&ids, why, sizeof(why))) < 0) {
		log_warnx("cannot run as user %s: %s", ids.user, why);
		router_conf_free(&entries, n);
		free(status_path);
		return ROUTER_EXIT_PRIV;
	}
	if (drop) {
		log_info("running as user %s (uid %u, gid %u)", ids.user,
		    (unsigned)ids.uid, (unsigned)ids.gid);
		/* root's default place is root's to write */
		if (!status_given) {
			free(status_path);
			status_path = xasprintf("/tmp/drover-router.%u.status",
			    (unsigned)ids.uid);
		}
	}
	else if (priv_is_root())
		log_warnx("running as root: name a user with -u or <user> in "
		    "each <router> of %s", conf);

	setup_signals();
	memset(&lc, 0, sizeof(lc));
	lc.entries = entries;
	lc.nentries = n;
	lc.mk = mk_bus;
	lc.status_path = status_path;
	lc.stop = &got_stop;
	lc.reload = &got_hup;
	lc.wake_fd = wake_pipe[0];
	rm.conf = conf;
	lc.reload_fn = reload_conf;
	lc.reload_arg = &rm;
	lc.on_up = on_up;
	lc.on_up_arg = &rm;
	if (detach)
		daemonize();
	/* after -d: the manager follows the process that routes */
	if ((rc = notify_init(&rm.sm)) < 0)
		log_warnx("NOTIFY_SOCKET: %s; no systemd notifications",
		    strerror(-rc));
	if (router_loop_new(&lc, &L) < 0) {
		router_conf_free(&entries, n);
		return 1;
	}
	log_info("drover-router %s starting, %zu router entr%s", DROVER_VERSION,
	    n, n == 1 ? "y" : "ies");
	rc = router_loop_run(L);
	notify(&rm, "STOPPING=1");
	router_loop_free(&L);
	router_conf_free(&entries, n);
	free(status_path);
	fd_close(&wake_pipe[0]);
	fd_close(&wake_pipe[1]);
	log_info("drover-router stopped");
	return rc == 0 ? 0 : 1;
}
