/*
 * test_mpm_run.c: mpm_run() in process with a scripted source and a
 * tiny worker, for what the local bus cannot show: the source hooks
 * (register at start, again after the bus came back, unregister at
 * stop; forget in every child) and reconnecting a lost bus with
 * back-off while the children keep serving.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cfg.h"
#include "mpm/mpm.h"
#include "mpm/worker.h"
#include "transport.h"
#include "util.h"

struct script {
	int	efd;
	int	opens;		/* parent's bus opened */
	int	regs, unregs;
	int	step;		/* recv calls that produced something */
	int	done;		/* requests the children finished */
	char	jid[32];
};

static struct script S;

static int
s_open(struct transport *t, int ms)
{
	S.opens++;
	if (S.efd < 0)
		S.efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
	return S.efd < 0 ? -errno : 0;
}

static int
s_fd(struct transport *t)
{
	return S.efd;
}

static struct xstanza *
request(void)
{
	struct xstanza	*st = xcalloc(1, sizeof(*st));

	st->raw = xstrdup("<message to='x'/>");
	st->len = strlen(st->raw);
	str_copy(st->name, "message", sizeof(st->name));
	return st;
}

/*
 * Script of the parent's bus: one request; then the connection dies;
 * after the reconnect one more request; then nothing.
 */
static int
s_recv(struct transport *t, struct xstanza **out)
{
	uint64_t	v;

	if (S.opens == 1 && S.step == 0) {
		S.step++;
		*out = request();
		return 1;
	}
	if (S.opens == 1 && S.step == 1 && S.done == 1) {
		S.step++;
		return -ENOTCONN;
	}
	if (S.opens == 2 && S.step == 2) {
		S.step++;
		*out = request();
		return 1;
	}
	if (read(S.efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static int
s_send(struct transport *t, const char *xml, size_t len)
{
	return 0;
}

static const char *
s_jid(const struct transport *t)
{
	return S.jid;
}

static void
s_close(struct transport *t)
{
}

static void
s_destroy(struct transport *t)
{
}

static const struct transport_ops s_ops = {
	s_open, s_fd, s_recv, s_send, s_jid, s_close, s_destroy,
};

static struct transport *
src_listener(void *arg)
{
	struct transport	*t = xcalloc(1, sizeof(*t));

	t->ops = &s_ops;
	return t;
}

static struct transport *
src_drone(void *arg, int slot)
{
	struct transport	*t = xcalloc(1, sizeof(*t));

	t->ops = &s_ops;
	return t;
}

static void
src_forget(void *arg, struct transport **tp)
{
	/* the child's copy of the script's eventfd goes with it */
	fd_close(&S.efd);
	free(*tp);
	*tp = NULL;
}

static int
src_reg(void *arg, struct transport *t)
{
	S.regs++;
	return 0;
}

static int
src_unreg(void *arg, struct transport *t)
{
	S.unregs++;
	return 0;
}

static int
w_handle(void *arg, struct worker_env *env, const char *raw, size_t len)
{
	return WORKER_OK;
}

static void
on_done(void *arg, const struct xstanza *req)
{
	uint64_t	one = 1;

	S.done++;
	if (S.done == 2)
		mpm_stop();
	else if (write(S.efd, &one, sizeof(one)) < 0)
		ck_abort_msg("eventfd write");
}

START_TEST(test_reconnect_and_hooks)
{
	struct mpm_source	src = { .listener = src_listener,
	    .drone = src_drone, .forget = src_forget, .reg = src_reg,
	    .unreg = src_unreg };
	struct worker_ops	w = { NULL, NULL, w_handle, NULL, NULL };
	struct svc_conf		svc;
	struct mpm_conf		mc;
	char			inst[32];

	memset(&S, 0, sizeof(S));
	S.efd = -1;
	str_copy(S.jid, "test@local/parent", sizeof(S.jid));
	memset(&svc, 0, sizeof(svc));
	svc.name = "test.mpm_run";
	svc.min_children = 1;
	svc.max_children = 2;
	svc.max_requests = 100;
	svc.max_backlog_queue = 10;
	svc.graceful_timeout = 5;
	svc.keepalive = 5;
	svc.max_request_size = 1024;
	snprintf(inst, sizeof(inst), "t%d", (int)getpid());
	memset(&mc, 0, sizeof(mc));
	mc.service = "test.mpm_run";
	mc.instance = inst;
	mc.svc = &svc;
	mc.worker = &w;
	mc.source = &src;
	mc.on_done = on_done;
	ck_assert_int_eq(mpm_run(&mc), MPM_DEXIT_OK);
	ck_assert_int_eq(S.done, 2);
	ck_assert_int_eq(S.opens, 2);	/* the lost bus was opened again */
	ck_assert_int_eq(S.regs, 2);	/* at start and after reconnect */
	ck_assert_int_eq(S.unregs, 1);	/* at the stop */
	fd_close(&S.efd);
}
END_TEST

Suite *
mpm_run_suite(void)
{
	Suite	*s = suite_create("mpm_run");
	TCase	*tc;

	tc = tcase_create("source");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_reconnect_and_hooks);
	suite_add_tcase(s, tc);
	return s;
}
