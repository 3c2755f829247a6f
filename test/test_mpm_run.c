/*
 * test_mpm_run.c: mpm_run() in process with a scripted bus (a backend
 * of its own through bus_new_ops()) and a tiny worker, for what the local
 * bus cannot show: registration sent when the bus comes up, again after
 * it came back, unregistration at stop; every child forgets the parent's
 * bus; a lost bus reconnected with back-off while children keep serving.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cfg.h"
#include "mpm/mpm.h"
#include "mpm/worker.h"
#include "proto/bus_int.h"
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
is_parent(const struct bus *b)
{
	return b->p.role == BUS_ROLE_LISTENER;
}

static int
s_init(struct bus *b)
{
	return 0;
}

static int
s_connect(struct bus *b)
{
	if (!is_parent(b))
		return 0;	/* a drone's bus: up, and silent */
	S.opens++;
	if (S.efd < 0)
		S.efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
	return S.efd < 0 ? -errno : 0;
}

static void
s_drop(struct bus *b)
{
}

static int
s_fd(const struct bus *b)
{
	return is_parent(b) ? S.efd : -1;
}

static uint32_t
s_events(const struct bus *b)
{
	return POLLIN;
}

static struct bus_frame *
request(void)
{
	struct bus_frame *f = bus_frame_wrap(xstrdup("<message to='x'/>"),
	    17, 0);

	ck_assert_ptr_nonnull(f);
	return f;
}

/*
 * Script of the parent's bus: one request; then the connection dies;
 * after the reconnect one more request; then nothing.
 */
static int
s_recv(struct bus *b, struct bus_frame **out)
{
	uint64_t	v;

	if (!is_parent(b))
		return 0;
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
s_decode(const struct bus *b, const char *raw, size_t len, struct tmsg *t,
    struct proto_err *err)
{
	return tmsg_xml_parse(raw, len, t, err);
}

static int
s_send(struct bus *b, const char *dest, const struct tmsg *m)
{
	return 0;
}

static const char *
s_addr(const struct bus *b)
{
	return S.jid;
}

static int
s_service_addr(const struct bus *b, const char *svc, char *buf, size_t n)
{
	return snprintf(buf, n, "%s", svc);
}

static int
s_reg_send(struct bus *b, const struct reg_target *t, int on)
{
	if (on)
		S.regs++;
	else
		S.unregs++;
	return 0;
}

static void
s_destroy(struct bus *b, int logout)
{
	/* a child forgetting the parent's bus closes its copy of the
	 * script's eventfd */
	if (!logout && is_parent(b))
		fd_close(&S.efd);
}

static const struct bus_ops s_ops = {
	.name = "script",
	.init = s_init,
	.destroy = s_destroy,
	.connect = s_connect,
	.step = s_connect,
	.drop = s_drop,
	.fd = s_fd,
	.events = s_events,
	.recv = s_recv,
	.decode = s_decode,
	.send = s_send,
	.addr = s_addr,
	.service_addr = s_service_addr,
	.reg_send = s_reg_send,
};

static struct bus *
make_bus(void *arg, enum bus_role role)
{
	static const struct reg_target	router = { (char *)"router",
	    (char *)"local", NULL, 0 };
	struct bus_params		p;
	struct bus			*b;

	memset(&p, 0, sizeof(p));
	p.kind = BUS_LOCAL;	/* only named: the ops are the script's */
	p.role = role;
	p.service = "test.mpm_run";
	p.routers = &router;
	p.nrouters = 1;
	p.reconnect = 1;
	if (bus_new_ops(&s_ops, &p, &b) < 0)
		return NULL;
	return b;
}

static int
w_handle(void *arg, struct worker_env *env, const char *raw, size_t len)
{
	return WORKER_OK;
}

static void
on_done(void *arg, const struct bus_frame *req)
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
	mc.bus = make_bus;
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

	tc = tcase_create("bus");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_reconnect_and_hooks);
	suite_add_tcase(s, tc);
	return s;
}
