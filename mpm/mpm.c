/*
 * mpm.c: mpm_run(), the parent's start and end around the main loop.
 *
 * Start: scoreboard (which refuses a second droverd for the same service
 * and instance, naming the live pid), the pid file made (empty), the
 * switch to mpm_conf.run_as if any, signals into a signalfd, the
 * worker's parent_init, the pid file written, the bus started (it
 * connects and registers with the routers by itself, without blocking:
 * bus.h), min_children forked, then the loop.  End: the loop returns once every child is reaped (or
 * given up on); the bus is closed, the pid file removed and the
 * scoreboard unlinked.
 */
#include "mpm_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "priv.h"
#include "scoreboard/sb.h"
#include "mpm/worker.h"

static const int mpm_sigs[] = {
	SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGTTIN,
	SIGTTOU, SIGCHLD,
};

void
mpm_stop(void)
{
	/* taken by the signalfd like any SIGTERM */
	if (kill(getpid(), SIGTERM) == -1)
		log_warn("kill(self, SIGTERM)");
}

static int
setup_signals(struct mpm *m)
{
	struct sigaction	sa;
	sigset_t		set;
	size_t			i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return -errno;
	sigemptyset(&set);
	for (i = 0; i < ARRAY_LEN(mpm_sigs); i++)
		sigaddset(&set, mpm_sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -errno;
	m->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return m->sigfd == -1 ? -errno : 0;
}

static void
restore_signals(void)
{
	sigset_t	set;
	size_t		i;

	sigemptyset(&set);
	for (i = 0; i < ARRAY_LEN(mpm_sigs); i++)
		sigaddset(&set, mpm_sigs[i]);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);	/* valid set */
}

int
mpm_poll_add(struct mpm *m, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = tag;
	return epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) == -1 ? -errno : 0;
}

void
mpm_publish_conf(struct mpm *m)
{
	struct sb_limits	sl;

	memset(&sl, 0, sizeof(sl));
	sl.min_children = m->lim.min_children;
	sl.max_children = m->lim.max_children;
	sl.min_spare = m->lim.min_spare;
	sl.max_spare = m->lim.max_spare;
	sl.max_requests = m->conf->svc->max_requests;
	sl.keepalive_s = m->conf->svc->keepalive;
	sl.max_backlog_queue = m->max_backlog;
	sl.request_timeout_s = m->conf->svc->request_timeout;
	sl.slow_request_ms = m->conf->svc->slow_request_ms;
	sl.max_requests_jitter = m->conf->svc->max_requests_jitter;
	sl.max_rss_growth_kb = (uint32_t)m->conf->svc->max_rss_growth_kb;
	sl.max_rss_kb = (uint32_t)m->conf->svc->max_rss_kb;
	sl.max_child_lifetime_s = m->conf->svc->max_child_lifetime;
	sl.max_child_lifetime_jitter_s =
	    m->conf->svc->max_child_lifetime_jitter;
	sb_set_conf(m->sb, m->generation, &sl);
	sb_set_max_children_now(m->sb, m->lim.max_children);
}

/*
 * The pid file is made empty while the start-up identity may still
 * create it (and give it to run_as), and filled once serving
 * (write_pidfile()): until then droverctl(8) reads "not yet".
 */
static int
create_pidfile(struct mpm *m)
{
	const struct priv_ids	*id = m->conf->run_as;
	int			 rc;

	m->pidfd = open(m->conf->pidfile, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644);
	if (m->pidfd == -1)
		return -errno;
	if (id != NULL && fchown(m->pidfd, id->uid, id->gid) == -1) {
		rc = -errno;
		fd_close(&m->pidfd);
		return rc;
	}
	return 0;
}

static int
write_pidfile(struct mpm *m)
{
	char	buf[32];
	int	n, rc;

	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	rc = write_full(m->pidfd, buf, (size_t)n);
	fd_close(&m->pidfd);
	return rc;
}

/*
 * What needs the start-up identity (the pid file, and the scoreboard
 * given away), then the switch to conf->run_as for good: before the bus
 * exists and before the worker's parent_init, so neither plugin code
 * nor bus input ever runs as root.
 */
static int
take_identity(struct mpm *m)
{
	const struct priv_ids	*id = m->conf->run_as;
	char			 why[256];
	int			 rc;

	if (m->conf->pidfile != NULL && (rc = create_pidfile(m)) < 0) {
		log_errx("pid file %s: %s", m->conf->pidfile, strerror(-rc));
		return rc;
	}
	if (id == NULL)
		return 0;
	if ((rc = sb_chown(m->sb, id->uid, id->gid)) < 0) {
		m->priv_failed = 1;	/* sb_chown() said why */
		return rc;
	}
	if ((rc = priv_drop(id, why, sizeof(why))) < 0) {
		log_errx("%s: cannot run as user %s: %s", m->conf->service,
		    id->user, why);
		m->priv_failed = 1;
		return rc;
	}
	log_info("%s: running as user %s (uid %u, gid %u)", m->conf->service,
	    id->user, (unsigned)id->uid, (unsigned)id->gid);
	return 0;
}

static int
start(struct mpm *m)
{
	struct svc_conf		*svc = m->conf->svc;
	struct worker_env	 env;
	char			 why[256];
	pid_t			 owner = 0;
	int			 i, rc, fds[2];

	m->lim.min_children = svc->min_children;
	m->lim.max_children = svc->max_children;
	m->lim.min_spare = svc->min_spare_children;
	m->lim.max_spare = svc->max_spare_children;
	m->max_backlog = svc->max_backlog_queue;
	if (mpm_limits_check(&m->lim, why, sizeof(why)) < 0) {
		log_errx("%s: %s", m->conf->service, why);
		return -EINVAL;
	}
	rc = sb_create(&m->sb, m->conf->service, m->conf->instance,
	    m->conf->sb_mode != 0 ? m->conf->sb_mode : SB_DEFAULT_MODE,
	    &owner);
	if (rc == -EBUSY) {
		log_errx("%s%s%s is already served by droverd pid %d",
		    m->conf->service, m->conf->instance != NULL &&
		    *m->conf->instance != '\0' ? "@" : "",
		    m->conf->instance != NULL ? m->conf->instance : "",
		    (int)owner);
		return rc;
	}
	if (rc < 0)
		return rc;	/* sb_create() logged why */
	m->generation = 1;
	mpm_publish_conf(m);
	if ((rc = take_identity(m)) < 0)
		return rc;
	if (mpm_fifo_init(&m->backlog, (size_t)m->max_backlog) < 0)
		fatalx("out of memory for the backlog");
	mpm_clients_init(&m->clients);
	mpm_client_limits(m);
	mpm_idle_init(&m->idle);
	for (i = 0; i < MPM_MAX_SLOTS; i++)
		m->kids[i].data_w = -1;
	m->spawn_rate = 1;
	m->rnd = (uint32_t)getpid() * 2654435761u ^ (uint32_t)mono_us();
	if (m->rnd == 0)
		m->rnd = 1;

	if ((m->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_err("epoll_create1");
		return -errno;
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_err("pipe2 for the done pipe");
		return -errno;
	}
	m->done_r = fds[0];
	m->done_w = fds[1];
	if (fd_set_nonblock(m->done_r) < 0) {
		log_err("fcntl(O_NONBLOCK) on the done pipe");
		return -errno;
	}
	if ((rc = setup_signals(m)) < 0 ||
	    (rc = mpm_poll_add(m, m->sigfd, EPOLLIN, MPM_EV_SIG)) < 0) {
		log_errx("signal setup: %s", strerror(-rc));
		return rc;
	}
	if ((m->bus = m->conf->bus(m->conf->bus_arg, BUS_ROLE_LISTENER)) ==
	    NULL)
		return -EINVAL;		/* logged by the factory */
	/* a bus with a queue of its own (Redis) bounds it only when the
	 * file says so: unset is unbounded, as OpenSRF main */
	bus_set_queue_max(m->bus, svc->max_backlog_queue_set ?
	    (unsigned)m->max_backlog : 0);

	memset(&env, 0, sizeof(env));
	env.core = m->conf->core;
	env.svc = svc;
	env.sb = m->sb;
	env.generation = m->generation;
	env.slot_index = -1;
	if (m->conf->worker->parent_init != NULL &&
	    (rc = m->conf->worker->parent_init(m->conf->worker->arg,
	    &env)) != 0) {
		log_errx("%s: the service's init failed (%d)",
		    m->conf->service, rc);
		return rc < 0 ? rc : -EINVAL;
	}
	if (m->pidfd >= 0 && (rc = write_pidfile(m)) < 0) {
		log_errx("pid file %s: %s", m->conf->pidfile, strerror(-rc));
		return rc;
	}
	mpm_title_set("drover listener [%s]", m->conf->service);
	/* registration is sent once the bus is up, and again after every
	 * reconnect; a bus without routers has nothing to send */
	m->want_reg = bus_register(m->bus, 1) != -ENOTSUP;
	if ((rc = bus_start(m->bus)) < 0)
		log_warnx("%s: the bus cannot start (%s); retrying",
		    m->conf->service, strerror(-rc));
	for (i = 0; i < m->lim.min_children; i++)
		if ((rc = mpm_spawn(m)) < 0)
			return rc;
	log_info("%s: serving with %d children (max %d), generation %u, "
	    "on the %s bus", m->conf->service, m->lim.min_children,
	    m->lim.max_children, m->generation,
	    bus_kind_name(bus_kind(m->bus)));
	return 0;
}

/*
 * How long abort_children() waits for SIGKILLed children before giving
 * up on them (a process in uninterruptible sleep cannot die).
 */
#define MPM_ABORT_WAIT_MS	10000
/* Its polling step. */
#define MPM_ABORT_STEP_MS	10

/* Start failed, or children outlived the loop: take them down. */
static void
abort_children(struct mpm *m)
{
	uint64_t	deadline = mono_ms() + MPM_ABORT_WAIT_MS;
	int		i;

	for (i = 0; i < MPM_MAX_SLOTS; i++)
		mpm_kill(m, i, SIGKILL, KILL_STOP);
	for (;;) {
		mpm_reap(m);
		if (m->nkids == 0)
			return;
		if (mono_ms() >= deadline)
			break;
		(void)poll(NULL, 0, MPM_ABORT_STEP_MS);	/* EINTR: again */
	}
	for (i = 0; i < MPM_MAX_SLOTS; i++)
		if (m->kids[i].pid != 0)
			log_errx("child %d (slot %d) survived SIGKILL for %d "
			    "ms: giving up on it", (int)m->kids[i].pid, i,
			    MPM_ABORT_WAIT_MS);
}

int
mpm_run(struct mpm_conf *conf)
{
	struct mpm		*m;
	struct bus_frame	*f;
	int			 rc;

	m = xcalloc(1, sizeof(*m));
	m->conf = conf;
	m->epfd = m->sigfd = m->pidfd = m->done_r = m->done_w = -1;
	mpm_title_init(conf->argc, conf->argv);
	if (start(m) < 0) {
		abort_children(m);
		rc = m->priv_failed ? MPM_DEXIT_PRIV : MPM_DEXIT_FAIL;
	} else
		rc = mpm_loop(m);
	if (m->nkids > 0)
		abort_children(m);
	while ((f = mpm_fifo_pop(&m->backlog)) != NULL)
		bus_frame_free(&f);
	mpm_fifo_free(&m->backlog);
	mpm_clients_free(&m->clients);
	bus_free(&m->bus);
	fd_close(&m->epfd);
	fd_close(&m->sigfd);
	fd_close(&m->done_r);
	fd_close(&m->done_w);
	fd_close(&m->pidfd);
	restore_signals();
	/* gone is fine; a directory run_as may not write keeps it, and
	 * droverctl(8) removes it as stale */
	if (m->sb != NULL && conf->pidfile != NULL)
		(void)unlink(conf->pidfile);
	sb_destroy(&m->sb);
	log_info("%s: stopped", conf->service);
	while (m->nold > 0) {
		m->nold--;
		core_conf_free(&m->old_core[m->nold]);
		svc_conf_free(&m->old_svc[m->nold]);
	}
	free(m->old_core);
	free(m->old_svc);
	free(m);
	return rc;
}
