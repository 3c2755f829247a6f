/*
 * th_sb.c: scoreboard test helpers (see th_sb.h).
 */
#include "th_sb.h"

#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static const struct sb_limits th_limits = {
	.min_children = 3,
	.max_children = 10,
	.min_spare = 1,
	.max_spare = 5,
	.max_requests = 1000,
	.keepalive_s = 5,
	.max_backlog_queue = 100,
	.request_timeout_s = 60,
	.slow_request_ms = 1000,
	.max_requests_jitter = 100,
	.max_rss_growth_kb = TH_MAX_RSS_GROWTH_KB,
	.max_rss_kb = TH_MAX_RSS_KB,
	.max_child_lifetime_s = TH_LIFETIME_S,
	.max_child_lifetime_jitter_s = 60,
};

const struct sb_limits *
th_sb_limits(void)
{
	return &th_limits;
}

struct sb *
th_sb_create(const char *tag, const char *instance, mode_t mode, char *svc,
    size_t svcsz)
{
	struct sb	*sb;
	pid_t		 owner = 0;
	int		 rc;

	ck_assert_int_lt(snprintf(svc, svcsz, "th-%s-%d", tag, (int)getpid()),
	    (int)svcsz);
	rc = sb_create(&sb, svc, instance, mode, &owner);
	ck_assert_msg(rc == 0, "sb_create(%s): %s", svc, strerror(-rc));
	return sb;
}

void
th_sb_fake_header(struct sb_header *h, uint32_t version)
{
	h->magic = SB_MAGIC;
	h->version = version;
	h->header_size = sizeof(struct sb_header);
	h->slot_size = sizeof(struct sb_slot);
	h->slot_count = SB_SLOTS;
	h->death_count = SB_DEATHS;
	h->methods_offset = offsetof(struct sb_segment, methods);
	h->method_cells = SB_METHOD_CELLS;
	h->method_buckets = SB_METHOD_BUCKETS;
	atomic_store(&h->parent_pid, getpid());
}

static void
start_child(struct sb *sb, unsigned i)
{
	struct sb_slot	*s;
	char		 addr[SB_ADDR_LEN];

	s = sb_slot_spawn(sb, i, TH_GENERATION);
	ck_assert_ptr_nonnull(s);
	sb_slot_child_start(s, TH_PID_BASE + (pid_t)i);
	(void)snprintf(addr, sizeof(addr), TH_ADDR, TH_PID_BASE + (int)i);
	sb_slot_set_addr(s, addr);
	sb_slot_set_bus(s, SB_BUS_UP);
}

static void
request(struct sb_slot *s, uint64_t start_us)
{
	const struct sb_request r = {
		.method = TH_METHOD,
		.client = TH_CLIENT,
		.thread = TH_THREAD,
		.xid = TH_XID,
		.thread_trace = 3,
		.start_us = start_us,
		/* the same instant on the monotonic clock */
		.start_mono_us = start_us != 0 ? mono_us() -
		    (wall_us() - start_us) : 0,
	};

	sb_slot_begin_request(s, &r);
}

void
th_sb_fill(struct sb *sb)
{
	static const char *const names[] = TH_M_NAMES;
	const struct sb_svc_queue sq = {
		.depth = TH_SQ_DEPTH,
		.oldest_ms = TH_SQ_OLDEST_MS,
		.sampled_mono_us = mono_us() - 300000,
	};
	struct sb_sample x;
	uint64_t	now = wall_us();
	unsigned	i;

	sb_set_conf(sb, TH_GENERATION, &th_limits);
	sb_set_max_children_now(sb, 12);
	ck_assert_int_eq(sb_methods_set(sb, names, ARRAY_LEN(names)),
	    TH_METHODS);
	sb_set_bus(sb, SB_BUSKIND_REDIS, SB_BUS_UP);
	sb_set_svc_queue(sb, &sq);
	sb_count(sb, SB_C_ACCEPTED, TH_ACCEPTED);
	sb_count(sb, SB_C_REJECTED, TH_REJECTED);
	sb_count(sb, SB_C_MAXCHILD, 2);
	sb_count(sb, SB_C_UNSENT, TH_UNSENT);
	sb_set_queued(sb, TH_MAX_QUEUED);
	sb_set_backlog(sb, TH_QUEUED, mono_us() - TH_BACKLOG_AGE_US);

	/* 0-2 idle after one request each: ok, ok and slow, failed */
	for (i = 0; i < 3; i++) {
		start_child(sb, i);
		x.rss_kb = TH_RSS_BASE_KB;
		x.cpu_us = 1000;
		sb_slot_set_baseline(sb_slot(sb, i), &x);
		sb_slot_set_state(sb_slot(sb, i), SB_IDLE);
		request(sb_slot(sb, i), 0);
		sb_slot_end_request(sb_slot(sb, i), i == 1 ? 2000000 : 1500,
		    i != 2, SB_IDLE);
		x.rss_kb = TH_RSS_KB(i);
		x.cpu_us = TH_CPU_US(i);
		sb_slot_set_sample(sb_slot(sb, i), &x);
	}
	sb_method_record(sb_slot(sb, 0), TH_M_ADD, 100, 200);
	sb_method_record(sb_slot(sb, 0), TH_M_ADD, 1000000, 205);
	sb_method_record(sb_slot(sb, 1), TH_M_ADD, 50, 404);
	sb_method_record(sb_slot(sb, 1), TH_M_ADD, 2000, 500);
	sb_method_record(sb_slot(sb, 2), TH_M_SUB, 300, 200);
	/* 3-4 busy for two seconds */
	for (i = 3; i < 5; i++) {
		start_child(sb, i);
		request(sb_slot(sb, i), now - 2000000);
	}
	/* 5 in a session after its CONNECT */
	start_child(sb, 5);
	request(sb_slot(sb, 5), 0);
	sb_slot_end_request(sb_slot(sb, 5), 800, 1, SB_SESSION);
	/* 6 starting (bus connecting), 7 exiting (bus lost) */
	start_child(sb, 6);
	sb_slot_set_bus(sb_slot(sb, 6), SB_BUS_CONNECTING);
	start_child(sb, 7);
	sb_slot_set_bus(sb_slot(sb, 7), SB_BUS_DOWN);
	sb_slot_set_exit_reason(sb_slot(sb, 7), SB_EXIT_BUS_LOST);
	sb_slot_set_state(sb_slot(sb, 7), SB_EXITING);
	/* 8 exited cleanly after max_requests, 9 crashed mid-request */
	start_child(sb, 8);
	sb_slot_set_state(sb_slot(sb, 8), SB_IDLE);
	sb_method_record(sb_slot(sb, 8), SB_METHOD_OTHER + 5, 70, 404);
	x.rss_kb = TH_DEATH_RSS_KB;
	x.cpu_us = 7000;
	sb_slot_set_sample(sb_slot(sb, 8), &x);
	sb_slot_set_exit_reason(sb_slot(sb, 8), SB_EXIT_MAX_REQUESTS);
	sb_slot_reaped(sb, 8, TH_PID_BASE + 8, 0);
	start_child(sb, 9);
	request(sb_slot(sb, 9), 0);
	sb_method_record(sb_slot(sb, 9), TH_M_DIV, 10000, 200);
	sb_slot_reaped(sb, 9, TH_PID_BASE + 9, SIGSEGV | 0x80);
}

void
th_shm_write(const char *svc, const void *buf, size_t len)
{
	char	name[SB_SHM_NAME_MAX];
	int	fd;

	ck_assert_int_eq(sb_shm_name(name, sizeof(name), svc, NULL), 0);
	(void)shm_unlink(name);		/* leftovers of an aborted run */
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "shm_open(%s): %s", name, strerror(errno));
	ck_assert_int_eq(write_full(fd, buf, len), 0);
	fd_close(&fd);
}

void
th_shm_unlink(const char *svc)
{
	char	name[SB_SHM_NAME_MAX];

	ck_assert_int_eq(sb_shm_name(name, sizeof(name), svc, NULL), 0);
	ck_assert_msg(shm_unlink(name) == 0, "shm_unlink(%s): %s", name,
	    strerror(errno));
}

const char *
th_status_bin(void)
{
	static char	 path[PATH_MAX];
	const char	*dir = getenv("DROVER_BIN");

	ck_assert_msg(dir != NULL, "DROVER_BIN not set: run via test/run-tests");
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/drover-status", dir),
	    (int)sizeof(path));
	ck_assert_msg(access(path, X_OK) == 0, "%s: %s", path,
	    strerror(errno));
	return path;
}

/* Append what fd has to *buf; 0 on EOF, 1 if more may come. */
static int
drain(int fd, char **buf, size_t *len)
{
	char	chunk[4096];
	ssize_t	n;

	n = read(fd, chunk, sizeof(chunk));
	if (n == -1 && errno == EINTR)
		return 1;
	ck_assert_msg(n >= 0, "read: %s", strerror(errno));
	if (n == 0)
		return 0;
	*buf = xrealloc(*buf, *len + (size_t)n + 1);
	memcpy(*buf + *len, chunk, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
	return 1;
}

int
th_run(char *const argv[], char **out, char **err)
{
	struct pollfd	 pfd[2];
	size_t		 olen = 0, elen = 0;
	pid_t		 pid;
	int		 po[2], pe[2], status, open_fds = 2;

	ck_assert_int_eq(pipe2(po, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(pe, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (dup2(po[1], STDOUT_FILENO) == -1 ||
		    dup2(pe[1], STDERR_FILENO) == -1)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	fd_close(&po[1]);
	fd_close(&pe[1]);
	*out = xcalloc(1, 1);
	*err = xcalloc(1, 1);
	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (open_fds > 0) {
		if (poll(pfd, 2, -1) == -1) {
			ck_assert_int_eq(errno, EINTR);
			continue;
		}
		if (pfd[0].revents && !drain(po[0], out, &olen)) {
			pfd[0].fd = -1;
			open_fds--;
		}
		if (pfd[1].revents && !drain(pe[0], err, &elen)) {
			pfd[1].fd = -1;
			open_fds--;
		}
	}
	fd_close(&po[0]);
	fd_close(&pe[0]);
	while (waitpid(pid, &status, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	return status;
}

void
th_sb_sweep(void)
{
	DIR		*dir;
	struct dirent	*de;
	char		 base[NAME_MAX + 1], path[NAME_MAX + 2], *p;
	long		 pid;

	if ((dir = opendir("/dev/shm")) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, "drover.th-", 10) != 0)
			continue;
		(void)str_copy(base, de->d_name, sizeof(base));
		if ((p = strchr(base, '@')) != NULL)
			*p = '\0';
		if ((p = strrchr(base, '-')) == NULL || !isdigit(
		    (unsigned char)p[1]))
			continue;
		pid = strtol(p + 1, NULL, 10);
		if (pid <= 0 || sb_pid_alive((pid_t)pid))
			continue;
		(void)snprintf(path, sizeof(path), "/%s", de->d_name);
		/* Best effort: a concurrent sweep may have won. */
		(void)shm_unlink(path);
	}
	(void)closedir(dir);
}
