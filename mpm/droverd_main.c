/*
 * droverd_main.c: droverd(8), the command.
 *
 *	droverd -c opensrf_core.xml -s SERVICE [-h HOST] [-i INSTANCE]
 *	    [-u USER] [-g GROUP] [-f | -d] [--check] [--local DIR]
 *
 * Reads opensrf_core.xml (context "opensrf") and, through its
 * <settings_config>, the service's settings from opensrf.xml for HOST;
 * builds the request runtime (services/runtime/runtime.h) as the worker;
 * picks the bus (the local bus with --local, else the one <bus> or the
 * port names: XMPP or Redis); and hands everything to mpm_run().
 * --check stops after loading the plugin and prints the effective
 * settings.  -d daemonizes and writes a pid file.  SIGHUP re-reads both
 * files through reload_conf() below.
 *
 * Under systemd (Type=notify), the MPM's events become notifications
 * through $NOTIFY_SOCKET (on_event(), common/notify.h).
 *
 * Identity: started as root with a user (-u, else <user>), droverd
 * opens its log, gives it to that user and lets mpm_run() switch to it
 * before the plugin is loaded (mpm_conf.run_as); --check switches
 * before it loads the plugin too.  Started as root without one, it
 * refuses to run the plugin unless <allow_root> is true.
 *
 * Exit status: 0 after a clean stop or a good --check; 1 on a usage or
 * configuration error, a failed start (another droverd serving the
 * service is named on stderr), or when no child can run; 77
 * (MPM_DEXIT_PRIV) when it would run plugins as root or cannot switch
 * to its user.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "mpm/mpm.h"
#include "mpm/worker.h"
#include "notify.h"
#include "priv.h"
#include "proto/bus.h"
#include "scoreboard/sb.h"
#include "services/runtime/runtime.h"
#include "util.h"

/* Where -d puts the pid file when opensrf.xml has no dirs/pid. */
#define DROVERD_RUNDIR	"/run/drover"

struct droverd {
	char			*core_path;
	char			*service;
	char			*host;
	char			*instance;
	char			*local_dir;
	char			*user;		/* -u, else <user> */
	char			*group;		/* -g, else <group> */
	int			 foreground;
	int			 daemonize;
	int			 check;
	struct core_conf	*core;
	struct svc_conf		*svc;
	struct mpm_conf		 mc;	/* mc.core: the live configuration */
	struct notify		 sm;	/* the service manager, if any */
};

static void
droverd_free(struct droverd *d)
{
	core_conf_free(&d->core);
	svc_conf_free(&d->svc);
	free(d->core_path);
	free(d->service);
	free(d->host);
	free(d->instance);
	free(d->local_dir);
	free(d->user);
	free(d->group);
	memset(d, 0, sizeof(*d));
}

static void NORETURN
usage(FILE *f, int code)
{
	fprintf(f, "usage: droverd -c opensrf_core.xml -s service [-h host] "
	    "[-i instance]\n"
	    "               [-u user] [-g group] [-f | -d] [--check] "
	    "[--local dir]\n"
	    "       droverd --help | --version\n");
	exit(code);
}

static int
load_conf(struct droverd *d, struct core_conf **core, struct svc_conf **svc,
    char *why, size_t whysz)
{
	struct cfg_err	err;
	int		rc;

	err.msg[0] = '\0';
	if ((rc = core_conf_load(d->core_path, "opensrf", core, &err)) != 0) {
		snprintf(why, whysz, "%s", err.msg);
		return rc;
	}
	if ((*core)->settings_config == NULL) {
		snprintf(why, whysz, "%s: no <settings_config> in context "
		    "\"opensrf\"", d->core_path);
		core_conf_free(core);
		return -EINVAL;
	}
	rc = svc_conf_load((*core)->settings_config, d->host, d->service, svc,
	    &err);
	if (rc != 0) {
		snprintf(why, whysz, "%s", err.msg);
		core_conf_free(core);
		return rc;
	}
	if ((*svc)->language != NULL && strcmp((*svc)->language, "c") != 0) {
		snprintf(why, whysz, "%s: service %s has language \"%s\"; "
		    "droverd runs only \"c\" services",
		    (*core)->settings_config, d->service, (*svc)->language);
		core_conf_free(core);
		svc_conf_free(svc);
		return -EINVAL;
	}
	return 0;
}

static int
reload_conf(void *arg, struct core_conf **core, struct svc_conf **svc,
    char *why, size_t whysz)
{
	return load_conf(arg, core, svc, why, whysz);
}

static int
open_log(const struct core_conf *core)
{
	struct log_conf	lc;

	memset(&lc, 0, sizeof(lc));
	lc.file = core->logfile;
	lc.level = core->loglevel;
	lc.facility = core->syslog_facility;
	lc.tag = core->logtag;
	return log_open(&lc);
}

/*
 * The MPM's bus factory (mpm.h): the listener's and each drone's bus,
 * from the configuration in force now (a SIGHUP may have replaced it).
 */
static struct bus *
make_bus(void *arg, enum bus_role role)
{
	struct droverd		*d = arg;
	struct bus_params	 p;
	struct bus		*b;

	bus_params_core(&p, d->mc.core, role, d->service);
	p.instance = d->instance;
	if (d->local_dir != NULL) {
		p.kind = BUS_LOCAL;
		p.local_dir = d->local_dir;
	}
	if (bus_new(&p, &b) < 0)
		return NULL;
	return b;
}

/*
 * Who to run as: *out NULL to stay as started, else ids (resolved here,
 * while /etc/passwd is still ours to read).  -EPERM with why[] filled
 * when droverd must not start: root without a user and without
 * <allow_root>, a user that does not resolve, or one a non-root
 * process cannot become.
 */
static int
plan_identity(struct droverd *d, struct priv_ids *ids,
    const struct priv_ids **out, char *why, size_t whysz)
{
	const char	*user = d->user, *group = d->group;
	int		 rc;

	*out = NULL;
	if (user == NULL)
		user = d->core->user;
	if (group == NULL)
		group = d->core->group;
	if (user != NULL && *user != '\0') {
		if ((rc = priv_resolve(user, group, ids, why, whysz)) < 0)
			return -EPERM;
		if (ids->uid != 0) {
			if (!priv_is_root() && getuid() != ids->uid) {
				snprintf(why, whysz, "cannot switch to user "
				    "%s: running as uid %u, not root",
				    ids->user, (unsigned)getuid());
				return -EPERM;
			}
			*out = priv_is_root() ? ids : NULL;
			return 0;
		}
		/* user root: no switch at all, so the rule below holds */
	} else if (group != NULL && *group != '\0') {
		snprintf(why, whysz, "group %s given without a user (-u or "
		    "<user>)", group);
		return -EPERM;
	}
	if (priv_is_root() && !d->core->allow_root) {
		snprintf(why, whysz, "refusing to run %s's plugin as root: "
		    "name a user with -u or <user> in %s, or set "
		    "<allow_root>true</allow_root> there", d->service,
		    d->core_path);
		return -EPERM;
	}
	return 0;
}

/*
 * The MPM's events as systemd notifications (notify.h): READY once the
 * service serves, RELOADING at a SIGHUP (READY follows once the new
 * generation's children are ready), STOPPING, and STATUS lines with the
 * figures when they change.
 */
static void
on_event(void *arg, enum mpm_event ev, const struct mpm_status *st)
{
	struct droverd	*d = arg;
	char		 status[128];
	int		 rc = 0;

	snprintf(status, sizeof(status), "STATUS=serving %d children, %d "
	    "busy, %d queued", st->children, st->busy, st->queued);
	switch (ev) {
	case MPM_EVENT_READY:
		rc = notify_send(&d->sm, "READY=1\n%s", status);
		break;
	case MPM_EVENT_RELOADING:
		rc = notify_send(&d->sm, "RELOADING=1\nMONOTONIC_USEC=%llu\n"
		    "STATUS=reloading", (unsigned long long)mono_us());
		break;
	case MPM_EVENT_STOPPING:
		rc = notify_send(&d->sm, "STOPPING=1\nSTATUS=stopping");
		break;
	case MPM_EVENT_STATUS:
		rc = notify_send(&d->sm, "%s", status);
		break;
	}
	if (rc < 0)
		log_warnx("systemd notification: sendto: %s", strerror(-rc));
}

static void
print_settings(const struct droverd *d)
{
	const struct svc_conf	*s = d->svc;

	printf("service %s%s%s on host %s\n", d->service,
	    d->instance != NULL ? "@" : "",
	    d->instance != NULL ? d->instance : "", d->host);
	printf("implementation %s\n", s->implementation != NULL ?
	    s->implementation : "(service name)");
	printf("keepalive %d\nmin_children %d\nmax_children %d\n"
	    "min_spare_children %d\nmax_spare_children %d\n"
	    "max_requests %d\nmax_requests_jitter %d\n"
	    "max_backlog_queue %d\nrequest_timeout %d\n"
	    "slow_request_ms %d\ngraceful_timeout %d\n"
	    "max_request_size %zu\n", s->keepalive, s->min_children,
	    s->max_children, s->min_spare_children, s->max_spare_children,
	    s->max_requests, s->max_requests_jitter, s->max_backlog_queue,
	    s->request_timeout, s->slow_request_ms, s->graceful_timeout,
	    s->max_request_size);
	printf("bus %s%s%s\n", d->local_dir != NULL ? "local" :
	    bus_kind_name(d->core->bus.kind), d->local_dir != NULL ? " " : "",
	    d->local_dir != NULL ? d->local_dir : "");
	printf("logfile %s\nloglevel %d\n", d->core->logfile != NULL ?
	    d->core->logfile : "stderr", d->core->loglevel);
	printf("user uid %u gid %u\n", (unsigned)getuid(),
	    (unsigned)getgid());
}

static char *
pidfile_path(const struct droverd *d)
{
	const char	*dir = d->svc->pid_dir != NULL ? d->svc->pid_dir :
	    DROVERD_RUNDIR;

	if (d->instance != NULL)
		return xasprintf("%s/%s@%s.pid", dir, d->service,
		    d->instance);
	return xasprintf("%s/%s.pid", dir, d->service);
}

/*
 * Is the service served by another droverd already?  Then say which on
 * stderr (the log alone is no answer to whoever typed the command) and
 * return 1.
 */
static int
refuse_second(const struct droverd *d)
{
	pid_t	pid = sb_owner(d->service, d->instance);

	if (pid <= 0 || pid == getpid())
		return 0;
	fprintf(stderr, "droverd: %s%s%s is already served by droverd pid "
	    "%d\n", d->service, d->instance != NULL ? "@" : "",
	    d->instance != NULL ? d->instance : "", (int)pid);
	if (d->core->logfile != NULL && strcmp(d->core->logfile, "stderr") != 0)
		log_errx("%s%s%s is already served by droverd pid %d; not "
		    "started", d->service, d->instance != NULL ? "@" : "",
		    d->instance != NULL ? d->instance : "", (int)pid);
	return 1;
}

/* Classic double fork; the caller continues as the daemon. */
static void
daemonize(void)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) == -1)
		fatal("fork while daemonizing");
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		fatal("setsid");
	if ((pid = fork()) == -1)
		fatal("fork while daemonizing");
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		fatal("chdir(/)");
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("open(/dev/null)");
	if (dup2(fd, 0) == -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
		fatal("dup2(/dev/null)");
	if (fd > 2)
		close(fd);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'C' },
		{ "local", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'H' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct droverd		 d;
	struct mpm_conf		*mc = &d.mc;
	struct rt_worker	*rw;
	struct worker_ops	 ops;
	struct worker_env	 env;
	struct priv_ids		 ids;
	const struct priv_ids	*run_as = NULL;
	char			 why[CFG_ERR_MAX], host[HOST_NAME_MAX + 1];
	char			*pidfile = NULL;
	int			 ch, rc;

	memset(&d, 0, sizeof(d));
	log_init("droverd");
	while ((ch = getopt_long(argc, argv, "c:s:h:i:u:g:fd", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.core_path = xstrdup(optarg);
			break;
		case 's':
			d.service = xstrdup(optarg);
			break;
		case 'h':
			d.host = xstrdup(optarg);
			break;
		case 'i':
			d.instance = *optarg != '\0' ? xstrdup(optarg) : NULL;
			break;
		case 'u':
			free(d.user);
			d.user = xstrdup(optarg);
			break;
		case 'g':
			free(d.group);
			d.group = xstrdup(optarg);
			break;
		case 'f':
			d.foreground = 1;
			break;
		case 'd':
			d.daemonize = 1;
			break;
		case 'C':
			d.check = 1;
			break;
		case 'L':
			d.local_dir = xstrdup(optarg);
			break;
		case 'H':
			usage(stdout, 0);
		case 'V':
			printf("droverd %s\n", DROVER_VERSION);
			return 0;
		default:
			usage(stderr, 1);
		}
	}
	if (optind != argc || d.core_path == NULL || d.service == NULL ||
	    (d.foreground && d.daemonize))
		usage(stderr, 1);
	if (d.host == NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			fatal("gethostname");
		host[sizeof(host) - 1] = '\0';
		d.host = xstrdup(host);
	}
	if (load_conf(&d, &d.core, &d.svc, why, sizeof(why)) < 0) {
		fprintf(stderr, "droverd: %s\n", why);
		droverd_free(&d);
		return 1;
	}
	if (plan_identity(&d, &ids, &run_as, why, sizeof(why)) < 0) {
		fprintf(stderr, "droverd: %s\n", why);
		droverd_free(&d);
		return MPM_DEXIT_PRIV;
	}
	if (!d.check && (rc = open_log(d.core)) < 0)
		fprintf(stderr, "droverd: log %s: %s; logging to stderr\n",
		    d.core->logfile, strerror(-rc));
	/* the user reopens it after a rotation (SIGHUP) */
	if (!d.check && run_as != NULL &&
	    (rc = log_chown(run_as->uid, run_as->gid)) < 0)
		fprintf(stderr, "droverd: log %s: fchown to %s: %s\n",
		    d.core->logfile, run_as->user, strerror(-rc));

	/* mc->core is the live configuration make_bus() reads */
	memset(mc, 0, sizeof(*mc));
	mc->core = d.core;
	rw = rt_worker_new(NULL);
	rt_worker_ops(rw, &ops);

	if (d.check) {
		if (run_as != NULL && priv_drop(run_as, why, sizeof(why)) < 0) {
			fprintf(stderr, "droverd: cannot run as user %s: %s\n",
			    run_as->user, why);
			rt_worker_free(&rw);
			droverd_free(&d);
			return MPM_DEXIT_PRIV;
		}
		memset(&env, 0, sizeof(env));
		env.core = d.core;
		env.svc = d.svc;
		env.slot_index = -1;
		rc = ops.parent_init(ops.arg, &env);
		if (rc != 0)
			fprintf(stderr, "droverd: %s: the plugin did not load "
			    "or initialise (%d)\n", d.service, rc);
		else {
			print_settings(&d);
			printf("configuration OK\n");
		}
		rt_worker_free(&rw);
		droverd_free(&d);
		return rc != 0;
	}

	/* before -d loses stderr; mpm_run() decides (and logs) for good */
	if (refuse_second(&d)) {
		rt_worker_free(&rw);
		droverd_free(&d);
		return MPM_DEXIT_FAIL;
	}
	if (d.daemonize) {
		pidfile = pidfile_path(&d);
		daemonize();
		log_after_fork(NULL);
	}
	/* after -d: the manager follows the process that serves */
	if ((rc = notify_init(&d.sm)) < 0)
		log_warnx("NOTIFY_SOCKET: %s; no systemd notifications",
		    strerror(-rc));
	if (notify_on(&d.sm)) {
		mc->on_event = on_event;
		mc->on_event_arg = &d;
	}
	mc->service = d.service;
	mc->instance = d.instance;
	mc->core = d.core;
	mc->svc = d.svc;
	mc->worker = &ops;
	mc->bus = make_bus;
	mc->bus_arg = &d;
	mc->reload = reload_conf;
	mc->reload_arg = &d;
	mc->sb_mode = d.core->scoreboard_mode;
	mc->pidfile = pidfile;
	mc->run_as = run_as;
	mc->argc = argc;
	mc->argv = argv;
	rc = mpm_run(mc);
	/* another droverd may have started between the check and here */
	if (rc != MPM_DEXIT_OK && !d.daemonize && !refuse_second(&d))
		fprintf(stderr, "droverd: %s: stopped on an error; see %s\n",
		    d.service, mc->core->logfile != NULL ? mc->core->logfile :
		    "the log");
	rt_worker_free(&rw);
	/* a reload may have replaced them: mc holds the newest */
	d.core = mc->core;
	d.svc = mc->svc;
	droverd_free(&d);
	free(pidfile);
	return rc;
}
