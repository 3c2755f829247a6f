/*
 * th_servers.c: start, share and stop the private test servers.
 *
 * The work is done by the scripts in test/servers/; this file runs them,
 * reads the instance's DIR/env and owns the "guard" pipe whose end of
 * file tells the scripts' watchers that the test binary is gone.
 */
#include "th_servers.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static const struct {
	const char	*script;	/* test/servers/<script> */
	const char	*envdir;	/* adopt an external instance */
	const char	*portkey;	/* in DIR/env */
	const char	*cakey;		/* in DIR/env, or NULL */
	const char	*accounts;	/* redis: --accounts, from the top */
} kinds[TH_NSERVERS] = {
	[TH_EJABBERD] = { "ejabberd", "DROVER_TEST_EJABBERD_DIR",
	    "EJABBERD_PORT", "EJABBERD_CAFILE" },
	[TH_PROSODY] = { "prosody", "DROVER_TEST_PROSODY_DIR",
	    "PROSODY_PORT", "PROSODY_CAFILE" },
	[TH_MEMCACHED] = { "memcached", "DROVER_TEST_MEMCACHED_DIR",
	    "MEMCACHED_PORT", NULL },
	[TH_REDIS] = { "redis", "DROVER_TEST_REDIS_DIR", "REDIS_PORT", NULL,
	    "conf/redis-accounts.txt" },
	[TH_REDIS_OSRF] = { "redis", "DROVER_TEST_REDIS_OSRF_DIR",
	    "REDIS_PORT", NULL,
	    "test/data/captures-redis/00-redis-accounts.txt" },
};

static struct th_server	servers[TH_NSERVERS];
static pid_t		owner_pid; /* process that started them */
static int		guard_fds[2] = { -1, -1 };

/* The fd number the scripts' watchers read; see test/servers/README. */
#define GUARD_FD	3

static void
script_path(const char *name, char *buf, size_t len)
{
	const char	*top = getenv("DROVER_TOP");

	snprintf(buf, len, "%s/test/servers/%s", top ? top : ".", name);
}

/*
 * Run test/servers/<script> with args; stdout is discarded (the state is
 * read from DIR/env), stderr is the test's, so failures show the log
 * tail.  With guard, the pipe's read end is passed as GUARD_FD.
 */
static int
run_script(const char *script, const char *const *args, int guard)
{
	char		 path[PATH_MAX];
	const char	*argv[12];
	size_t		 n = 0;
	pid_t		 pid;
	int		 st, devnull;

	script_path(script, path, sizeof(path));
	argv[n++] = path;
	while (*args != NULL && n < ARRAY_LEN(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == -1) {
		fprintf(stderr, "th_servers: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		/* dup2() onto itself would keep close-on-exec */
		if (guard && guard_fds[0] == GUARD_FD &&
		    fcntl(GUARD_FD, F_SETFD, 0) == -1)
			_exit(126);
		if (guard && guard_fds[0] != GUARD_FD &&
		    dup2(guard_fds[0], GUARD_FD) == -1)
			_exit(126);
		execv(path, (char *const *)argv);
		fprintf(stderr, "th_servers: %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "th_servers: %s %s failed (status %d)\n",
		    path, argv[1] ? argv[1] : "", st);
		return -1;
	}
	return 0;
}

/* Read KEY=value from DIR/env into buf; 0 or -1. */
static int
env_get(const char *dir, const char *key, char *buf, size_t len)
{
	char	 path[PATH_MAX], line[PATH_MAX + 64];
	size_t	 klen = strlen(key);
	FILE	*f;
	int	 rc = -1;

	snprintf(path, sizeof(path), "%s/env", dir);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, klen) != 0 || line[klen] != '=')
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(buf, len, "%s", line + klen + 1);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

static int
load_env(struct th_server *s, enum th_server_kind k)
{
	char	 port[32];

	if (env_get(s->dir, kinds[k].portkey, port, sizeof(port)) != 0) {
		fprintf(stderr, "th_servers: %s/env: no %s\n", s->dir,
		    kinds[k].portkey);
		return -1;
	}
	s->port = atoi(port);
	s->cafile[0] = '\0';
	if (kinds[k].cakey != NULL)
		(void)env_get(s->dir, kinds[k].cakey, s->cafile,
		    sizeof(s->cafile));	/* optional: "" when absent */
	return s->port > 0 ? 0 : -1;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(path);
}

static void
stop_all(void)
{
	int	k;

	if (getpid() != owner_pid)
		return;		/* a forked test child exiting */
	for (k = 0; k < TH_NSERVERS; k++) {
		struct th_server	*s = &servers[k];
		const char		*args[] = { "stop", s->dir, NULL };

		if (!s->started || !s->owned)
			continue;
		if (run_script(kinds[k].script, args, 0) == 0 &&
		    getenv("DROVER_TEST_KEEP") == NULL)
			(void)nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
			/* best effort: a leftover directory under $TMPDIR
			   is harmless and helps a post-mortem */
		s->started = 0;
	}
}

static int
start(enum th_server_kind k)
{
	struct th_server	*s = &servers[k];
	const char		*ext, *tmp, *top;
	char			 fd[8], accounts[PATH_MAX];
	const char		*args[] = { "start", s->dir, "--guard-fd", fd,
				    NULL, NULL, NULL };

	if ((ext = getenv(kinds[k].envdir)) != NULL && *ext != '\0') {
		snprintf(s->dir, sizeof(s->dir), "%s", ext);
		if (load_env(s, k) != 0)
			return -1;
		s->started = 1;
		s->owned = 0;
		return 0;
	}
	if (guard_fds[0] == -1) {
		/* Only this process holds the write end (close-on-exec). */
		if (pipe2(guard_fds, O_CLOEXEC) == -1)
			return -1;
		owner_pid = getpid();
		atexit(stop_all);
	}
	tmp = getenv("TMPDIR");
	snprintf(s->dir, sizeof(s->dir), "%s/drover-%s-XXXXXX",
	    tmp ? tmp : "/tmp", kinds[k].script);
	if (mkdtemp(s->dir) == NULL) {
		fprintf(stderr, "th_servers: mkdtemp(%s): %s\n", s->dir,
		    strerror(errno));
		return -1;
	}
	snprintf(fd, sizeof(fd), "%d", GUARD_FD);
	if (kinds[k].accounts != NULL) {
		top = getenv("DROVER_TOP");
		snprintf(accounts, sizeof(accounts), "%s/%s",
		    top != NULL ? top : ".", kinds[k].accounts);
		args[4] = "--accounts";
		args[5] = accounts;
	}
	if (run_script(kinds[k].script, args, 1) != 0)
		return -1;
	if (load_env(s, k) != 0)
		return -1;
	s->started = 1;
	s->owned = 1;
	return 0;
}

/*
 * 1 while the process group in DIR/pid exists.  `stop` removes DIR/pid,
 * so a server a test stopped and did not start again reads as down.
 */
static int
running(const struct th_server *s)
{
	char	 path[PATH_MAX + 8];
	FILE	*f;
	long	 pid = 0;
	int	 n;

	snprintf(path, sizeof(path), "%s/pid", s->dir);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	n = fscanf(f, "%ld", &pid);
	fclose(f);
	return n == 1 && pid > 1 && kill(-(pid_t)pid, 0) == 0;
}

const struct th_server *
th_server_get(enum th_server_kind k)
{
	struct th_server	*s;
	const char		*args[] = { "restart", NULL, NULL };

	ck_assert_int_lt(k, TH_NSERVERS);
	s = &servers[k];
	if (!s->started && start(k) != 0)
		ck_abort_msg("could not start the private %s "
		    "(see its log above); is it installed (test/deps)?",
		    kinds[k].script);
	/*
	 * A test that stops the shared server and fails before it starts
	 * it again (Check runs no teardown after a failed assertion in
	 * fork mode) must fail alone, not every TCase after it: the next
	 * fixture brings the server back, same port and data, and says so.
	 */
	if (s->owned && !running(s)) {
		fprintf(stderr, "th_servers: the private %s in %s is down "
		    "(a test before stopped it and failed?); restarting it\n",
		    kinds[k].script, s->dir);
		args[1] = s->dir;
		if (run_script(kinds[k].script, args, 0) != 0)
			ck_abort_msg("could not restart the private %s "
			    "(see its log above)", kinds[k].script);
	}
	return s;
}

const struct th_server *
th_server(enum th_server_kind k)
{
	ck_assert_msg(servers[k].started, "%s: no fixture started it",
	    kinds[k].script);
	return &servers[k];
}

static int
simple(enum th_server_kind k, const char *cmd)
{
	const char	*args[] = { cmd, servers[k].dir, NULL };

	if (!servers[k].started)
		return -1;
	return run_script(kinds[k].script, args, 0);
}

int
th_server_stop(enum th_server_kind k)
{
	return simple(k, "stop");
}

int
th_server_restart(enum th_server_kind k)
{
	return simple(k, "restart");
}

/* After th_server_stop(): the same instance again; restart does that. */
int
th_server_start_again(enum th_server_kind k)
{
	return simple(k, "restart");
}

int
th_server_adduser(enum th_server_kind k, const char *user,
    const char *host, const char *password)
{
	const char	*args[] = { "register", servers[k].dir, user, host,
			    password, NULL };

	if (!servers[k].started)
		return -1;
	return run_script(kinds[k].script, args, 0);
}

void
th_ejabberd_setup(void)
{
	(void)th_server_get(TH_EJABBERD);	/* aborts on failure */
}

void
th_prosody_setup(void)
{
	(void)th_server_get(TH_PROSODY);
}

void
th_memcached_setup(void)
{
	(void)th_server_get(TH_MEMCACHED);
}

void
th_redis_setup(void)
{
	(void)th_server_get(TH_REDIS);
}

void
th_redis_osrf_setup(void)
{
	(void)th_server_get(TH_REDIS_OSRF);
}
