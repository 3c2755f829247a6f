/*
 * test_bus.c: what every bus does alike (proto/bus.c), on a scripted
 * backend of the test's own (bus_new_ops()): the reconnect back-off and
 * its cap, connecting and reconnecting by itself, which routers hear a
 * registration, the per-router back-off of bounced registrations, the
 * rescue answer, and batching.  The backends themselves are tested in
 * test_bus_local.c, test_xmpp.c and test_reg.c.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/bus_int.h"
#include "proto/osrfmsg.h"
#include "util.h"

/* ------------------------------------------------------- back-off */

static const struct {
	unsigned	attempt, cap;
	unsigned	lo, hi;
} backoff_vec[] = {
	{ 0, 30000, 250, 500 },
	{ 1, 30000, 500, 1000 },
	{ 2, 30000, 1000, 2000 },
	{ 5, 30000, 8000, 16000 },
	{ 6, 30000, 15000, 30000 },	/* 32 s capped at 30 s */
	{ 40, 30000, 15000, 30000 },	/* no overflow */
	{ 4000000000u, 30000, 15000, 30000 },
	{ 3, 1000, 500, 1000 },
	{ 0, 0, 0, 0 },
	{ 0, 1, 1, 1 },
};

START_TEST(test_backoff)
{
	static const uint32_t	rnds[] = { 0, 1, 7, 12345, UINT32_MAX };
	size_t			i;
	unsigned		d, seen_lo = 0;

	for (i = 0; i < ARRAY_LEN(rnds); i++) {
		d = bus_backoff_ms(backoff_vec[_i].attempt,
		    backoff_vec[_i].cap, rnds[i]);
		ck_assert_uint_ge(d, backoff_vec[_i].lo);
		ck_assert_uint_le(d, backoff_vec[_i].hi);
		seen_lo |= d == backoff_vec[_i].lo;
	}
	ck_assert(seen_lo);	/* rnd 0 gives the lower bound */
}
END_TEST

/* ------------------------------------------------- scripted backend */

#define SENT_MAX	16

static struct {
	int	 fail_connects;		/* connects still to fail */
	int	 connects;
	int	 inprogress;		/* connect returns -EINPROGRESS first */
	int	 reg_fail_domain;	/* index of a router to fail, or -1 */
	char	*regs[SENT_MAX];	/* "register <domain>" ... */
	int	 nregs;
	char	*sent[SENT_MAX];	/* encoded messages, in order */
	int	 nsent;
	int	 corked;
	int	 writes;		/* write calls (cork batches as one) */
	int	 pfd[2];
} S;

static void
script_reset(void)
{
	int	i;

	for (i = 0; i < S.nregs; i++)
		free(S.regs[i]);
	for (i = 0; i < S.nsent; i++)
		free(S.sent[i]);
	fd_close(&S.pfd[0]);
	fd_close(&S.pfd[1]);
	memset(&S, 0, sizeof(S));
	S.reg_fail_domain = -1;
	ck_assert_int_eq(pipe(S.pfd), 0);
}

static int
sc_init(struct bus *b)
{
	return 0;
}

static void
sc_destroy(struct bus *b, int logout)
{
}

static int
sc_connect(struct bus *b)
{
	S.connects++;
	if (S.fail_connects > 0) {
		S.fail_connects--;
		return bus_fail(b, -ECONNREFUSED, "scripted refusal");
	}
	if (S.inprogress) {
		S.inprogress = 0;
		return -EINPROGRESS;
	}
	return 0;
}

static int
sc_step(struct bus *b)
{
	return 0;
}

static void
sc_drop(struct bus *b)
{
}

static int
sc_fd(const struct bus *b)
{
	return S.pfd[0];
}

static uint32_t
sc_events(const struct bus *b)
{
	return POLLIN;
}

static int
sc_recv(struct bus *b, struct bus_frame **out)
{
	return 0;
}

static int
sc_decode(const struct bus *b, const char *raw, size_t len, struct tmsg *t,
    struct proto_err *err)
{
	return tmsg_xml_parse(raw, len, t, err);
}

static int
sc_send(struct bus *b, const char *dest, const struct tmsg *m)
{
	struct tmsg	t = *m;
	char		*xml;
	size_t		 len;
	int		 rc;

	if (dest != NULL)
		t.to = dest;
	if (t.from == NULL || *t.from == '\0')
		t.from = "me@test/x";
	if ((rc = tmsg_xml_write(&t, &xml, &len)) < 0)
		return rc;
	ck_assert_int_lt(S.nsent, SENT_MAX);
	S.sent[S.nsent++] = xml;
	if (!S.corked)
		S.writes++;
	return 0;
}

static int
sc_cork(struct bus *b, int on)
{
	if (S.corked && !on)
		S.writes++;	/* everything held goes in one write */
	S.corked = on;
	return 0;
}

static const char *
sc_addr(const struct bus *b)
{
	return "me@test/x";
}

static int
sc_service_addr(const struct bus *b, const char *svc, char *buf, size_t n)
{
	return -ENOTSUP;
}

static int
sc_reg_send(struct bus *b, const struct reg_target *t, int on)
{
	ck_assert_int_lt(S.nregs, SENT_MAX);
	if (S.reg_fail_domain >= 0 &&
	    t == &b->routers[S.reg_fail_domain])
		return -EIO;
	S.regs[S.nregs++] = xasprintf("%s %s", on ? "register" :
	    "unregister", t->domain);
	return 0;
}

static const struct bus_ops sc_ops = {
	.name = "script",
	.init = sc_init,
	.destroy = sc_destroy,
	.connect = sc_connect,
	.step = sc_step,
	.drop = sc_drop,
	.fd = sc_fd,
	.events = sc_events,
	.recv = sc_recv,
	.decode = sc_decode,
	.send = sc_send,
	.addr = sc_addr,
	.service_addr = sc_service_addr,
	.reg_send = sc_reg_send,
	.cork = sc_cork,
};

static char *math_only[] = { (char *)"opensrf.math" };

/* The stock layout: public router restricted, private router for all. */
static const struct reg_target stock[] = {
	{ (char *)"router", (char *)"public.localhost", math_only, 1 },
	{ (char *)"router", (char *)"private.localhost", NULL, 0 },
};

static struct bus_conf	conf;
/* register_refresh of the next sc_bus(); 0: off (tests of other timers) */
static int		sc_refresh_ms;

static struct bus *
sc_bus(const char *service, int reconnect, unsigned cap_ms)
{
	struct bus_params	 p;
	struct bus		*b;

	memset(&conf, 0, sizeof(conf));
	conf.domain = (char *)"test";
	conf.connect_timeout_ms = 10000;
	conf.reconnect_max_ms = (int)cap_ms;
	conf.register_refresh_ms = sc_refresh_ms;
	memset(&p, 0, sizeof(p));
	p.kind = BUS_XMPP;	/* named only: the ops are the script's */
	p.conf = &conf;
	p.role = BUS_ROLE_LISTENER;
	p.service = service;
	p.routers = stock;
	p.nrouters = ARRAY_LEN(stock);
	p.reconnect = reconnect;
	ck_assert_int_eq(bus_new_ops(&sc_ops, &p, &b), 0);
	return b;
}

static void
setup(void)
{
	script_reset();
	sc_refresh_ms = 0;
}

static void
teardown(void)
{
	script_reset();
	fd_close(&S.pfd[0]);
	fd_close(&S.pfd[1]);
}

/* Run b until pred(b) or the deadline: bus_wait() honours its timers. */
static void
run_until(struct bus *b, int (*pred)(struct bus *), int ms)
{
	uint64_t	end = mono_ms() + (uint64_t)ms;

	while (!pred(b)) {
		ck_assert_msg(mono_ms() < end, "bus never got there");
		ck_assert_int_ge(bus_wait(b, 50), 0);
	}
}

/* ------------------------------------------------------ reconnect */

/*
 * A reconnecting bus that cannot connect tries again by itself, each
 * time later (never sooner than the back-off, never later than its
 * cap), and registers once it is up; a client's bus does not retry.
 */
/* Whose message is it (bus_addr_same(), RFC 7622 for JIDs). */
static const struct {
	enum bus_kind	 kind;
	const char	*a, *b;
	int		 same;
} addr_vec[] = {
	{ BUS_XMPP, "opensrf@private.localhost/x_drone_1",
	  "opensrf@private.localhost/x_drone_1", 1 },
	{ BUS_XMPP, "opensrf@private.localhost/x_drone_1",
	  "opensrf@Private.LOCALHOST/x_drone_1", 1 },
	{ BUS_XMPP, "opensrf@private.localhost/x_drone_1",
	  "OpenSRF@private.localhost/x_drone_1", 1 },
	/* resources keep their case */
	{ BUS_XMPP, "opensrf@private.localhost/x_drone_1",
	  "opensrf@private.localhost/X_drone_1", 0 },
	{ BUS_XMPP, "opensrf@private.localhost/x_drone_1",
	  "opensrf@private.localhost/x_drone_2", 0 },
	{ BUS_XMPP, "opensrf@private.localhost/x_drone_1",
	  "opensrf@private.localhost", 0 },
	{ BUS_XMPP, "opensrf@private.localhost/x_drone_1",
	  "opensrf@private.localhost/x_drone_1/more", 0 },
	{ BUS_XMPP, "opensrf@private.localhost/a/b",
	  "OPENSRF@private.localhost/a/b", 1 },
	{ BUS_XMPP, "opensrf@private.localhost/x", "", 0 },
	{ BUS_LOCAL, "opensrf@local/x_drone_1", "opensrf@LOCAL/x_drone_1",
	  1 },
	/* Redis keys are bytes */
	{ BUS_REDIS, "opensrf:client:abc", "opensrf:client:abc", 1 },
	{ BUS_REDIS, "opensrf:client:abc", "opensrf:client:ABC", 0 },
	{ BUS_REDIS, "opensrf:client:abc", "OPENSRF:client:abc", 0 },
};

START_TEST(test_addr_same)
{
	ck_assert_int_eq(bus_addr_same(addr_vec[_i].kind, addr_vec[_i].a,
	    addr_vec[_i].b), addr_vec[_i].same);
	ck_assert_int_eq(bus_addr_same(addr_vec[_i].kind, addr_vec[_i].b,
	    addr_vec[_i].a), addr_vec[_i].same);
}
END_TEST

START_TEST(test_reconnect)
{
	struct bus	*b;
	int		 t, ev;

	b = sc_bus("opensrf.math", 1, 200);
	ck_assert_int_eq(bus_register(b, 1), 0);	/* not up: later */
	S.fail_connects = 3;
	ck_assert_int_eq(bus_start(b), -ECONNREFUSED);
	ck_assert_int_eq(bus_state(b), BUS_DOWN);
	ck_assert_str_eq(bus_error(b), "scripted refusal");
	ck_assert_int_eq(bus_fd(b), -1);
	ev = bus_run(b);
	ck_assert_int_eq(ev & BUS_EV_FAILED, BUS_EV_FAILED);
	/* a retry is due within the cap */
	t = bus_timeout_ms(b, mono_ms());
	ck_assert_int_ge(t, 0);
	ck_assert_int_le(t, 200);
	while (S.connects < 4) {
		t = bus_timeout_ms(b, mono_ms());
		ck_assert_int_ge(t, 0);
		ck_assert_int_le(t, 200);
		ck_assert_int_ge(bus_wait(b, -1), 0);
	}
	ck_assert_int_eq(S.connects, 4);
	ck_assert_int_eq(bus_state(b), BUS_UP);
	ev = bus_run(b);
	ck_assert_int_eq(ev & BUS_EV_UP, BUS_EV_UP);
	/* up: both routers for opensrf.math, registered by the bus */
	ck_assert_int_eq(S.nregs, 2);
	ck_assert_str_eq(S.regs[0], "register public.localhost");
	ck_assert_str_eq(S.regs[1], "register private.localhost");
	ck_assert_int_eq(bus_timeout_ms(b, mono_ms()), -1);
	bus_free(&b);

	/* a client's bus gives up at the first failure */
	script_reset();
	b = sc_bus("opensrf.math", 0, 200);
	S.fail_connects = 1;
	ck_assert_int_eq(bus_open(b, 1000), -ECONNREFUSED);
	ck_assert_int_eq(S.connects, 1);
	ck_assert_int_eq(bus_timeout_ms(b, mono_ms()), -1);
	bus_free(&b);
}
END_TEST

/* A connect that needs I/O comes up through bus_run(); a login that
 * never ends fails at its deadline. */
START_TEST(test_connect_steps)
{
	struct bus	*b;

	b = sc_bus("opensrf.math", 0, 200);
	S.inprogress = 1;
	ck_assert_int_eq(bus_start(b), 0);
	ck_assert_int_eq(bus_state(b), BUS_CONNECTING);
	ck_assert_int_ge(bus_timeout_ms(b, mono_ms()), 9000);	/* deadline */
	ck_assert_int_eq(bus_run(b) & BUS_EV_UP, BUS_EV_UP);
	ck_assert_int_eq(bus_state(b), BUS_UP);
	bus_free(&b);
}
END_TEST

/* --------------------------------------------------- registration */

static const struct {
	const char	*service;
	int		 on;
	int		 fail;		/* router index to fail, -1 none */
	int		 rc;
	int		 nregs;
	const char	*first;
} reg_vec[] = {
	{ "opensrf.math", 1, -1, 2, 2, "register public.localhost" },
	{ "opensrf.dbmath", 1, -1, 1, 1, "register private.localhost" },
	{ "opensrf.math", 0, -1, 2, 2, "unregister public.localhost" },
	/* one router failing: the other still hears, one told */
	{ "opensrf.math", 1, 0, 1, 1, "register private.localhost" },
};

START_TEST(test_reg_choice)
{
	struct bus	*b;

	b = sc_bus(reg_vec[_i].service, 0, 200);
	ck_assert_int_eq(bus_open(b, 1000), 0);
	S.reg_fail_domain = reg_vec[_i].fail;
	ck_assert_int_eq(bus_register(b, reg_vec[_i].on), reg_vec[_i].rc);
	ck_assert_int_eq(S.nregs, reg_vec[_i].nregs);
	ck_assert_str_eq(S.regs[0], reg_vec[_i].first);
	bus_free(&b);
}
END_TEST

static int
two_regs(struct bus *b)
{
	return S.nregs >= 2;
}

/*
 * A bounced registration is sent again to that router only, after a
 * delay that grows per router; the router that took it hears nothing
 * more.  (droverd used to re-send to every router once a second.)
 */
START_TEST(test_reg_bounce)
{
	struct bus	*b;
	uint64_t	 t0;
	int		 t;

	b = sc_bus("opensrf.math", 0, 200);
	ck_assert_int_eq(bus_open(b, 1000), 0);
	ck_assert_int_eq(bus_register(b, 1), 2);
	ck_assert_int_eq(bus_timeout_ms(b, mono_ms()), -1);
	while (S.nregs > 0)		/* count afresh from here */
		free(S.regs[--S.nregs]);
	bus_reg_bounced(b, 0);			/* public bounced */
	bus_reg_bounced(b, 0);			/* its duplicate: no 2nd */
	t = bus_timeout_ms(b, mono_ms());
	ck_assert_int_gt(t, 900);		/* 1 s for the first */
	ck_assert_int_le(t, 1000);
	t0 = mono_ms();
	while (S.nregs == 0) {
		ck_assert(mono_ms() - t0 < 3000);
		ck_assert_int_ge(bus_wait(b, -1), 0);
	}
	ck_assert_uint_ge(mono_ms() - t0, 900);
	ck_assert_int_eq(S.nregs, 1);
	ck_assert_str_eq(S.regs[0], "register public.localhost");
	/* bounced again: the delay doubles, and only for this router */
	bus_reg_bounced(b, 0);
	t = bus_timeout_ms(b, mono_ms());
	ck_assert_int_gt(t, 1900);
	ck_assert_int_le(t, 2000);
	/* unregistering cancels the pending re-registration */
	ck_assert_int_eq(bus_register(b, 0), 2);
	run_until(b, two_regs, 100);
	ck_assert_str_eq(S.regs[1], "unregister public.localhost");
	ck_assert_int_eq(bus_timeout_ms(b, mono_ms()), -1);
	bus_free(&b);
}
END_TEST

static int
four_regs(struct bus *b)
{
	return S.nregs >= 4;
}

static int
five_regs(struct bus *b)
{
	return S.nregs >= 5;
}

/*
 * A registered listener tells its routers again every half to all of
 * register_refresh (routers keep registrations in memory only: a
 * restarted one learns it so), to each router that wants the service;
 * a router whose bounce retry is pending waits for that retry; and
 * unregistering stops it all.
 */
START_TEST(test_reg_refresh)
{
	struct bus	*b;
	uint64_t	 t0;
	int		 t;

	sc_refresh_ms = 200;
	b = sc_bus("opensrf.math", 0, 200);
	ck_assert_int_eq(bus_open(b, 1000), 0);
	ck_assert_int_eq(bus_register(b, 1), 2);
	t0 = mono_ms();
	t = bus_timeout_ms(b, t0);
	ck_assert_int_ge(t, 0);
	ck_assert_int_le(t, 200);
	run_until(b, four_regs, 2000);
	ck_assert_uint_ge(mono_ms() - t0, 100);
	ck_assert_int_eq(S.nregs, 4);
	ck_assert_str_eq(S.regs[2], "register public.localhost");
	ck_assert_str_eq(S.regs[3], "register private.localhost");
	/* the public router bounced: it waits for its retry (1 s) */
	bus_reg_bounced(b, 0);
	run_until(b, five_regs, 2000);
	ck_assert_str_eq(S.regs[4], "register private.localhost");
	ck_assert_int_eq(bus_register(b, 0), 2);
	ck_assert_int_eq(bus_timeout_ms(b, mono_ms()), -1);
	bus_free(&b);
}
END_TEST

/* ---------------------------------------------------------- rescue */

#define M(p)	"{\"__c\":\"osrfMessage\",\"__p\":{" p "}}"
#define REQ(tr)	M("\"threadTrace\":\"" tr "\",\"type\":\"REQUEST\"," \
	"\"payload\":{\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"m\"," \
	"\"params\":[]}}")

static struct bus_frame *
frame(const char *thread, const char *body)
{
	struct tmsg	 t = TMSG_INIT;
	char		*xml;
	size_t		 len;

	t.to = "me@test/x";
	t.from = "client@test/c";
	t.thread = thread;
	t.osrf_xid = "x1";
	t.body = body;
	ck_assert_int_eq(tmsg_xml_write(&t, &xml, &len), 0);
	return bus_frame_wrap(xml, len, 0);
}

static void
sent(int i, struct tmsg *t, struct osrfmsg_list *l)
{
	ck_assert_int_lt(i, S.nsent);
	ck_assert_int_eq(tmsg_xml_parse(S.sent[i], strlen(S.sent[i]), t,
	    NULL), 0);
	ck_assert_int_eq(osrfmsg_decode(t->body, strlen(t->body), l, NULL),
	    0);
}

START_TEST(test_answer)
{
	struct bus		*b;
	struct bus_frame	*f;
	struct bus_rescue	 rs;
	struct tmsg		 t = TMSG_INIT;
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;

	b = sc_bus("opensrf.math", 0, 200);
	ck_assert_int_eq(bus_open(b, 1000), 0);

	/* every REQUEST of the frame, each with its own threadTrace */
	f = frame("T1", "[" REQ("3") "," REQ("4") "]");
	ck_assert_int_eq(bus_answer(b, f, NULL, 500, "gone"), 0);
	sent(0, &t, &l);
	ck_assert_str_eq(t.to, "client@test/c");
	ck_assert_str_eq(t.thread, "T1");
	ck_assert_str_eq(t.osrf_xid, "x1");
	ck_assert_uint_eq(l.n, 2);
	ck_assert_int_eq(l.msg[0].thread_trace, 3);
	ck_assert_int_eq(l.msg[1].thread_trace, 4);
	ck_assert_int_eq(l.msg[1].status_code, 500);
	ck_assert_str_eq(l.msg[1].status, "gone");
	osrfmsg_list_clear(&l);
	tmsg_clear(&t);

	/* the slot shows a later request of the same session: that one */
	rs.client = "client@test/c";
	rs.thread = "T1";
	rs.xid = "x9";
	rs.trace = 7;
	ck_assert_int_eq(bus_answer(b, f, &rs, 500, "gone"), 0);
	sent(1, &t, &l);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(l.msg[0].thread_trace, 7);
	osrfmsg_list_clear(&l);
	tmsg_clear(&t);

	/* the slot shows one of the frame's own: the frame decides */
	rs.trace = 4;
	ck_assert_int_eq(bus_answer(b, f, &rs, 500, "gone"), 0);
	sent(2, &t, &l);
	ck_assert_uint_eq(l.n, 2);
	osrfmsg_list_clear(&l);
	tmsg_clear(&t);

	/* no frame: the slot's record alone */
	rs.trace = 9;
	ck_assert_int_eq(bus_answer(b, NULL, &rs, 503, NULL), 0);
	sent(3, &t, &l);
	ck_assert_str_eq(t.to, "client@test/c");
	ck_assert_str_eq(t.osrf_xid, "x9");
	ck_assert_int_eq(l.msg[0].thread_trace, 9);
	ck_assert_str_eq(l.msg[0].status, OSRFMSG_T_UNAVAILABLE);
	osrfmsg_list_clear(&l);
	tmsg_clear(&t);

	/* nothing to answer with */
	ck_assert_int_eq(bus_answer(b, NULL, NULL, 500, "x"), -ENOENT);
	ck_assert_int_eq(S.nsent, 4);
	bus_frame_free(&f);
	bus_free(&b);
}
END_TEST

/* ---------------------------------------------------------- batches */

START_TEST(test_cork)
{
	struct bus	*b;
	struct tmsg	 t = TMSG_INIT;
	int		 i;

	b = sc_bus("opensrf.math", 0, 200);
	ck_assert_int_eq(bus_open(b, 1000), 0);
	t.to = "x@test/y";
	t.body = "[]";
	bus_cork(b);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(bus_send(b, &t), 0);
	ck_assert_int_eq(S.writes, 0);
	ck_assert_int_eq(bus_uncork(b), 0);
	ck_assert_int_eq(S.writes, 1);
	ck_assert_int_eq(S.nsent, 5);
	ck_assert_int_eq(bus_send(b, &t), 0);
	ck_assert_int_eq(S.writes, 2);
	bus_free(&b);
}
END_TEST

/* bus_pong_id(): the id of our ping's answer, nothing else. */
static const struct {
	const char	*raw;
	unsigned	 flags;
	int		 rc;
	uint32_t	 id;
} pong_cases[] = {
	{ "<iq type='result' id='drover-ping-42' from='a@b/c'/>",
	  BUS_F_PONG, 0, 42 },
	{ "<iq from=\"a@b/c\" id=\"drover-ping-4294967295\" type=\"error\">"
	  "<error/></iq>", BUS_F_PONG | BUS_F_ERROR, 0, 4294967295u },
	{ "<iq type='result' id='drover-ping-42' from='a@b/c'/>", 0,
	  -EINVAL, 0 },				/* not flagged */
	{ "<iq type='result' id='drover-ping-' from='a@b/c'/>", BUS_F_PONG,
	  -EINVAL, 0 },
	{ "<iq type='result' id='drover-ping-4294967296'/>", BUS_F_PONG,
	  -EINVAL, 0 },				/* too big */
	{ "<iq type='result' id='drover-ping-12x'/>", BUS_F_PONG, -EINVAL,
	  0 },
	{ "<iq type='result' id='other'/>", BUS_F_PONG, -EINVAL, 0 },
};

START_TEST(test_pong_id)
{
	struct bus_frame	f;
	uint32_t		id = 7;

	memset(&f, 0, sizeof(f));
	f.raw = (char *)pong_cases[_i].raw;
	f.len = strlen(f.raw);
	f.flags = pong_cases[_i].flags;
	ck_assert_int_eq(bus_pong_id(&f, &id), pong_cases[_i].rc);
	ck_assert_uint_eq(id, pong_cases[_i].rc == 0 ? pong_cases[_i].id : 7);
}
END_TEST

Suite *
bus_suite(void)
{
	Suite	*s = suite_create("bus");
	TCase	*tc;

	tc = tcase_create("backoff");
	tcase_set_tags(tc, "unit");
	tcase_add_loop_test(tc, test_backoff, 0, ARRAY_LEN(backoff_vec));
	tcase_add_loop_test(tc, test_addr_same, 0, ARRAY_LEN(addr_vec));
	suite_add_tcase(s, tc);

	tc = tcase_create("life");
	tcase_set_tags(tc, "unit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reconnect);
	tcase_add_test(tc, test_connect_steps);
	tcase_add_loop_test(tc, test_reg_choice, 0, ARRAY_LEN(reg_vec));
	tcase_add_test(tc, test_reg_bounce);
	tcase_add_test(tc, test_reg_refresh);
	tcase_add_test(tc, test_answer);
	tcase_add_test(tc, test_cork);
	tcase_add_loop_test(tc, test_pong_id, 0, ARRAY_LEN(pong_cases));
	suite_add_tcase(s, tc);
	return s;
}
