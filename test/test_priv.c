/*
 * test_priv.c: running as an unprivileged user (common/priv.h).
 *
 * names: priv_resolve() from tables (names, numbers, unknowns, a group
 * without a user).  drop: priv_drop() in a forked child, checked from
 * the kernel's ids, root out of reach afterwards.  droverd and router:
 * the programs started as root (the suite needs root: CI runs as root,
 * and a missing root fails loudly), with user nobody: the parent and
 * every child run as nobody (/proc/PID/status), the scoreboard and the
 * log file belong to nobody, requests are served and a SIGHUP reload
 * reopens the log; without a user and without <allow_root> droverd
 * refuses with exit 77 and says why, --check included.
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "priv.h"
#include "th_droverd.h"
#include "util.h"

#define WAIT_MS		15000

static struct th_droverd D;

/* nobody's ids on this machine (Debian: 65534:65534) */
static uid_t	nobody_uid;
static gid_t	nobody_gid;

static void
need_root_and_nobody(void)
{
	struct passwd	*pw;

	ck_assert_msg(geteuid() == 0, "the privilege tests need root");
	pw = getpwnam("nobody");
	ck_assert_msg(pw != NULL, "no user nobody on this machine");
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;
	ck_assert_uint_ne(nobody_uid, 0);
}

static void
teardown(void)
{
	th_droverd_cleanup(&D);
}

/* ------------------------------------------------------------ names */

static const struct {
	const char	*user;
	const char	*group;
	int		 rc;
	long		 uid;		/* -1: nobody's; -2: don't check */
	long		 gid;		/* -1: nobody's primary */
	const char	*why;		/* in the message on failure */
} names[] = {
	{ "nobody", NULL, 0, -1, -1, NULL },
	{ "nobody", "", 0, -1, -1, NULL },
	{ "nobody", "0", 0, -1, 0, NULL },
	{ "65534", NULL, 0, 65534, -1, NULL },
	{ "4242", "4343", 0, 4242, 4343, NULL },
	{ "4242", NULL, -EINVAL, -2, -2, "give a group too" },
	{ "no-such-user-x", NULL, -ENOENT, -2, -2, "no such user" },
	{ "nobody", "no-such-group-x", -ENOENT, -2, -2, "no such group" },
	{ NULL, "nogroup", -EINVAL, -2, -2, "without a user" },
	{ "", NULL, -EINVAL, -2, -2, "without a user" },
};

START_TEST(test_resolve)
{
	struct priv_ids	ids;
	char		why[256] = "";
	int		rc;

	need_root_and_nobody();
	rc = priv_resolve(names[_i].user, names[_i].group, &ids, why,
	    sizeof(why));
	ck_assert_int_eq(rc, names[_i].rc);
	if (rc < 0) {
		ck_assert_msg(strstr(why, names[_i].why) != NULL, "%s", why);
		return;
	}
	ck_assert_uint_eq(ids.uid, names[_i].uid == -1 ? nobody_uid :
	    (uid_t)names[_i].uid);
	ck_assert_uint_eq(ids.gid, names[_i].gid == -1 ? nobody_gid :
	    (gid_t)names[_i].gid);
}
END_TEST

/* ------------------------------------------------------------- drop */

/* The process switches for good; done in a child of the test. */
START_TEST(test_drop)
{
	struct priv_ids	 ids;
	char		 why[256];
	gid_t		 groups[64];
	pid_t		 pid;
	int		 st, n, i;

	need_root_and_nobody();
	ck_assert_int_eq(priv_resolve("nobody", NULL, &ids, why,
	    sizeof(why)), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (priv_drop(&ids, why, sizeof(why)) != 0)
			_exit(10);
		if (getuid() != nobody_uid || geteuid() != nobody_uid ||
		    getgid() != nobody_gid || getegid() != nobody_gid)
			_exit(11);
		if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1)
			_exit(12);
		if ((n = getgroups(64, groups)) < 0)
			_exit(13);
		for (i = 0; i < n; i++)
			if (groups[i] == 0)
				_exit(14);
		/* a second "switch" to who we are is no error */
		if (priv_drop(&ids, why, sizeof(why)) != 0)
			_exit(15);
		/* to anyone else it is */
		ids.uid = 0;
		if (priv_drop(&ids, why, sizeof(why)) != -EPERM ||
		    strstr(why, "not root") == NULL)
			_exit(16);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "child status 0x%x", st);
}
END_TEST

/* ---------------------------------------------------------- droverd */

/* Uid and Gid lines of /proc/pid/status: real, effective, saved, fs. */
static void
proc_ids(pid_t pid, unsigned uid[4], unsigned gid[4])
{
	char	 path[64], *line = NULL;
	size_t	 cap = 0;
	FILE	*f;
	int	 seen = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s", path);
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "Uid: %u %u %u %u", &uid[0], &uid[1],
		    &uid[2], &uid[3]) == 4)
			seen |= 1;
		if (sscanf(line, "Gid: %u %u %u %u", &gid[0], &gid[1],
		    &gid[2], &gid[3]) == 4)
			seen |= 2;
	}
	free(line);
	fclose(f);
	ck_assert_int_eq(seen, 3);
}

static void
assert_nobody(pid_t pid)
{
	unsigned	uid[4], gid[4];
	int		i;

	proc_ids(pid, uid, gid);
	for (i = 0; i < 4; i++) {
		ck_assert_msg(uid[i] == nobody_uid, "pid %d uid[%d] %u",
		    (int)pid, i, uid[i]);
		ck_assert_msg(gid[i] == nobody_gid, "pid %d gid[%d] %u",
		    (int)pid, i, gid[i]);
	}
}

static void
assert_owner(const char *path, uid_t uid, gid_t gid)
{
	struct stat	st;

	ck_assert_msg(stat(path, &st) == 0, "stat(%s): %s", path,
	    strerror(errno));
	ck_assert_msg(st.st_uid == uid && st.st_gid == gid,
	    "%s belongs to %u:%u, not %u:%u", path, (unsigned)st.st_uid,
	    (unsigned)st.st_gid, (unsigned)uid, (unsigned)gid);
}

/*
 * The test's directory is the local bus and holds the log: the service
 * user creates its sockets there, and its peers must reach the test's.
 */
static void
open_dir_to_nobody(void)
{
	ck_assert_int_eq(chown(D.dir, nobody_uid, nobody_gid), 0);
	(void)umask(0);		/* the client's socket: writable by all */
}

static int
reloaded(const struct th_view *v, void *arg)
{
	(void)arg;
	return v->info.generation >= 2 && v->sum.by_state[SB_IDLE] >= 2;
}

START_TEST(test_droverd_as_nobody)
{
	struct th_conf	 c = { .min_children = 2, .max_children = 3,
	    .core_extra = "<user>nobody</user>" };
	struct th_view	*v = xmalloc(sizeof(*v));
	struct th_reply	 r;
	char		 shm[160], rotated[160];
	int		 i, n = 0;

	need_root_and_nobody();
	memset(&D, 0, sizeof(D));
	th_droverd_conf(&D, &c);
	open_dir_to_nobody();
	th_droverd_run(&D, 2);
	th_wait_log(&D, "running as user nobody", WAIT_MS);
	assert_nobody(D.pid);
	th_view(&D, v);
	for (i = 0; i < SB_SLOTS; i++)
		if (v->slot[i].state == SB_IDLE) {
			assert_nobody(v->slot[i].pid);
			n++;
		}
	ck_assert_int_eq(n, 2);
	snprintf(shm, sizeof(shm), "/dev/shm%s", D.shm);
	assert_owner(shm, nobody_uid, nobody_gid);
	assert_owner(D.log, nobody_uid, nobody_gid);
	/* nobody serves, and reopens its log on SIGHUP */
	th_call(&D, "drover.test.sleep", "[0]", &r, WAIT_MS);
	ck_assert_int_eq(r.code, 205);
	th_reply_free(&r);
	snprintf(rotated, sizeof(rotated), "%s.1", D.log);
	ck_assert_int_eq(rename(D.log, rotated), 0);
	ck_assert_int_eq(kill(D.pid, SIGHUP), 0);
	th_wait_sb(&D, reloaded, NULL, WAIT_MS, "generation 2 idle");
	th_wait_log(&D, "reload: generation 2", WAIT_MS);
	assert_owner(D.log, nobody_uid, nobody_gid);
	/* a clean stop: nobody removes its scoreboard */
	i = th_droverd_stop(&D, SIGTERM, WAIT_MS);
	ck_assert_msg(WIFEXITED(i) && WEXITSTATUS(i) == 0, "status 0x%x", i);
	ck_assert_int_eq(access(shm, F_OK), -1);
	free(v);
}
END_TEST

static char *
read_stderr(void)
{
	char	 path[160], *buf = xcalloc(1, 8192);
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/stderr.log", D.dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, 8191, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* As root without <user> and without <allow_root>: exit 77, and why. */
START_TEST(test_droverd_refuses_root)
{
	static const char *const modes[][2] = { { "-f", NULL },
	    { "--check", NULL } };
	struct th_conf	 c = { .min_children = 1, .core_extra = "" };
	struct sb	*sb = NULL;
	char		*err;
	int		 st;

	need_root_and_nobody();
	memset(&D, 0, sizeof(D));
	th_droverd_conf(&D, &c);
	D.pid = th_droverd_exec(&D, (const char *const *)modes[_i]);
	st = th_droverd_wait_exit(&D, WAIT_MS);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 77,
	    "status 0x%x", st);
	err = read_stderr();
	ck_assert_msg(strstr(err, "refusing to run drover.test's plugin as "
	    "root: name a user with -u or <user>") != NULL, "%s", err);
	free(err);
	/* nothing was made */
	ck_assert_int_eq(sb_open(&sb, D.shm), -ENOENT);
}
END_TEST

/* -u on the command line: --check loads the plugin as that user. */
START_TEST(test_droverd_check_as_user)
{
	const char	*extra[] = { "--check", "-u", "nobody", NULL };
	struct th_conf	 c = { .min_children = 1, .core_extra = "" };
	char		*out, want[64];
	int		 st;

	need_root_and_nobody();
	memset(&D, 0, sizeof(D));
	th_droverd_conf(&D, &c);
	D.pid = th_droverd_exec(&D, extra);
	st = th_droverd_wait_exit(&D, WAIT_MS);
	out = read_stderr();
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x: "
	    "%s", st, out);
	snprintf(want, sizeof(want), "user uid %u gid %u\n",
	    (unsigned)nobody_uid, (unsigned)nobody_gid);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "configuration OK"));
	free(out);
}
END_TEST

/* An unknown user is refused the same way, before anything is made. */
START_TEST(test_droverd_unknown_user)
{
	const char	*extra[] = { "-f", "-u", "no-such-user-x", NULL };
	struct th_conf	 c = { .min_children = 1 };
	char		*err;
	int		 st;

	need_root_and_nobody();
	memset(&D, 0, sizeof(D));
	th_droverd_conf(&D, &c);
	D.pid = th_droverd_exec(&D, extra);
	st = th_droverd_wait_exit(&D, WAIT_MS);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 77);
	err = read_stderr();
	ck_assert_msg(strstr(err, "user \"no-such-user-x\": no such user") !=
	    NULL, "%s", err);
	free(err);
}
END_TEST

/* ----------------------------------------------------------- router */

START_TEST(test_router_as_nobody)
{
	char	*core, *status, bin[512];
	char	*argv[10];
	uint64_t end;
	pid_t	 pid;
	int	 st;

	need_root_and_nobody();
	memset(&D, 0, sizeof(D));
	th_droverd_prepare(&D, "router", NULL);
	open_dir_to_nobody();
	/* a port nothing listens on: the router retries, as nobody */
	core = xasprintf("<?xml version=\"1.0\"?>\n<config><routers>"
	    "<router><trusted_domains><server>local</server>"
	    "<client>local</client></trusted_domains><transport>"
	    "<server>127.0.0.1</server><port>1</port>"
	    "<username>router</username><password>x</password>"
	    "<resource>router</resource></transport>"
	    "<logfile>%s</logfile><loglevel>3</loglevel>"
	    "<user>nobody</user></router></routers></config>\n", D.log);
	status = xasprintf("%s/router.status", D.dir);
	{
		FILE *f = fopen(D.core, "w");

		ck_assert_ptr_nonnull(f);
		ck_assert_int_ge(fputs(core, f), 0);
		ck_assert_int_eq(fclose(f), 0);
	}
	snprintf(bin, sizeof(bin), "%s/drover-router",
	    getenv("DROVER_BIN") != NULL ? getenv("DROVER_BIN") : "bin");
	argv[0] = bin;
	argv[1] = (char *)"-f";
	argv[2] = (char *)"-c";
	argv[3] = D.core;
	argv[4] = (char *)"-s";
	argv[5] = status;
	argv[6] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execv(bin, argv);
		_exit(127);
	}
	D.pid = pid;	/* th_droverd_cleanup() stops it */
	th_wait_log(&D, "running as user nobody (uid", WAIT_MS);
	assert_nobody(pid);
	assert_owner(D.log, nobody_uid, nobody_gid);
	/* a failed login changes the status: nobody writes the file */
	th_wait_log(&D, "login as router@127.0.0.1/router failed", WAIT_MS);
	end = mono_ms() + WAIT_MS;
	while (access(status, F_OK) != 0) {
		ck_assert_msg(mono_ms() < end, "no status file %s", status);
		ck_assert_int_eq(waitpid(pid, &st, WNOHANG), 0);
		(void)poll(NULL, 0, 5);		/* polling step */
	}
	assert_owner(status, nobody_uid, nobody_gid);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	D.pid = -1;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x",
	    st);
	free(core);
	free(status);
}
END_TEST

Suite *
priv_suite(void)
{
	Suite	*s = suite_create("priv");
	TCase	*tc;

	tc = tcase_create("names");
	tcase_add_loop_test(tc, test_resolve, 0, ARRAY_LEN(names));
	tcase_add_test(tc, test_drop);
	suite_add_tcase(s, tc);

	tc = tcase_create("programs");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_droverd_as_nobody);
	tcase_add_loop_test(tc, test_droverd_refuses_root, 0, 2);
	tcase_add_test(tc, test_droverd_check_as_user);
	tcase_add_test(tc, test_droverd_unknown_user);
	tcase_add_test(tc, test_router_as_nobody);
	suite_add_tcase(s, tc);
	return s;
}
