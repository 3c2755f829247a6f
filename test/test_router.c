/*
 * test_router.c: proto/router.c, the routing table and decisions.
 *
 * The io callbacks record what the router asked for into a log of
 * events, so every case asserts the exact sequence of sends.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto/router.h"

#define EV_MAX	64

struct ev {
	char	kind;		/* 'F'orward, 'R'eject, 'O'pen, 'C'lose */
	char	cls[64];
	char	to[128];
	char	router_from[128];
	char	thread[64];
	char	body[128];
	int	why;
};

struct rec {
	struct ev	ev[EV_MAX];
	int		n;
	int		fail_forward;	/* forward() returns -EIO */
};

static struct ev *
rec_add(struct rec *r, char kind, const struct router_class *c)
{
	struct ev	*e;

	ck_assert_int_lt(r->n, EV_MAX);
	e = &r->ev[r->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	str_copy(e->cls, c->name, sizeof(e->cls));
	return e;
}

static void
rec_fwd(struct ev *e, const char *to, const struct router_fwd *f)
{
	str_copy(e->to, to, sizeof(e->to));
	str_copy(e->router_from, f->router_from ? f->router_from : "",
	    sizeof(e->router_from));
	str_copy(e->thread, f->thread ? f->thread : "", sizeof(e->thread));
	str_copy(e->body, f->body ? f->body : "", sizeof(e->body));
}

static int
io_forward(void *arg, struct router_class *c, const char *to,
    const struct router_fwd *f)
{
	struct rec	*r = arg;

	rec_fwd(rec_add(r, 'F', c), to, f);
	return r->fail_forward ? -EIO : 0;
}

static int
io_reject(void *arg, struct router_class *c, const char *to,
    const struct router_fwd *f, enum router_reject why)
{
	struct ev	*e = rec_add(arg, 'R', c);

	rec_fwd(e, to, f);
	e->why = why;
	return 0;
}

static void
io_open(void *arg, struct router_class *c)
{
	rec_add(arg, 'O', c);
}

static void
io_close(void *arg, struct router_class *c)
{
	rec_add(arg, 'C', c);
}

static struct rec	 R;
static struct router	*RT;
static struct router_io	 IO = { &R, io_forward, io_reject, io_open, io_close,
    NULL, NULL };

#define LA	"opensrf@private.localhost/opensrf.math_listener_a_1"
#define LB	"opensrf@private.localhost/opensrf.math_listener_b_2"
#define LC	"opensrf@private.localhost/opensrf.math_listener_c_3"
#define CLI	"opensrf@private.localhost/_vm_1795549623.393137_22541"
#define EVIL	"opensrf@evil.example/_x_1"

static void
setup(void)
{
	char	*servers[] = { "private.localhost" };
	char	*clients[] = { "private.localhost", "public.localhost" };

	log_set_level(LOGL_NONE);
	memset(&R, 0, sizeof(R));
	ck_assert_int_eq(router_new("router", "private.localhost", servers, 1,
	    clients, 2, &RT), 0);
}

static void
teardown(void)
{
	router_free(&RT, &IO);
	ck_assert_ptr_null(RT);
}

static enum router_top
top(const char *from, const char *cmd, const char *cls)
{
	struct router_msg	m = {
		.to = "router@private.localhost/router", .from = from,
		.router_command = cmd, .router_class = cls,
		.body = "registering",
	};

	return router_top_msg(RT, &m, &IO);
}

static void
request(const char *cls, const char *from, const char *thread,
    const char *body)
{
	struct router_msg	m = {
		.from = from, .router_from = "forged@evil.example/x",
		.osrf_xid = "42", .thread = thread, .body = body,
	};
	struct router_class	*c = router_class_find(RT, cls);

	ck_assert_ptr_nonnull(c);
	router_class_msg(RT, c, &m, &IO);
}

static void
bounce(const char *cls, const char *from, const char *thread,
    const char *body)
{
	struct router_msg	m = {
		.from = from, .router_from = CLI, .osrf_xid = "42",
		.thread = thread, .body = body, .is_error = 1,
	};
	struct router_class	*c = router_class_find(RT, cls);

	ck_assert_ptr_nonnull(c);
	router_class_msg(RT, c, &m, &IO);
}

/* --------------------------------------------------------- JIDs */

static const struct {
	const char	*jid;
	int		 rc;
	const char	*dom;
} jid_cases[] = {
	{ "router@private.localhost/router", 17, "private.localhost" },
	{ "opensrf@private.localhost/_vm_1.5_2", 17, "private.localhost" },
	{ "a@b/c@d/e", 1, "b" },		/* resource may hold @ and / */
	{ "b/r@x", -EINVAL, "" },		/* '@' only in the resource */
	{ "a@private.localhost", -EINVAL, "" },	/* bare JID: OpenSRF says "" */
	{ "private.localhost/r", -EINVAL, "" },	/* no node part */
	{ "a@/r", -EINVAL, "" },		/* empty domain */
	{ "", -EINVAL, "" },
	{ "@/", -EINVAL, "" },
	{ "a@b@c/r", 3, "b@c" },		/* never a trusted name */
	/* Redis addresses: the fourth field */
	{ "opensrf:client:opensrf:private.localhost:vm:1:ab", 17,
	  "private.localhost" },
	{ "opensrf:router:router:public.localhost", 16, "public.localhost" },
	{ "opensrf:service:_:_:opensrf.math", 1, "_" },
	{ "opensrf:client:opensrf", -EINVAL, "" },
	{ "opensrf:client:opensrf::vm", -EINVAL, "" },
};

START_TEST(test_jid_domain)
{
	char	buf[64] = "junk";

	ck_assert_int_eq(router_jid_domain(jid_cases[_i].jid, buf,
	    sizeof(buf)), jid_cases[_i].rc);
	ck_assert_str_eq(buf, jid_cases[_i].dom);
}
END_TEST

START_TEST(test_jid_domain_small)
{
	char	buf[4] = "xyz";

	ck_assert_int_eq(router_jid_domain("a@toolong/r", buf, sizeof(buf)),
	    -EINVAL);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(router_jid_domain(NULL, buf, sizeof(buf)), -EINVAL);
}
END_TEST

static const struct {
	const char	*jid;
	int		 trusted;
} trust_cases[] = {
	{ "x@private.localhost/r", 1 },
	{ "x@PRIVATE.localhost/r", 1 },		/* domains are caseless */
	{ "x@public.localhost/r", 0 },
	{ "x@private.localhost.evil/r", 0 },	/* no suffix matching */
	{ "x@localhost/r", 0 },
	{ "x@private.localhost", 0 },		/* no resource */
	{ "private.localhost/x", 0 },
	{ "", 0 },
};

START_TEST(test_jid_trusted)
{
	char	*list[] = { "private.localhost", "other" };

	ck_assert_int_eq(router_jid_trusted(trust_cases[_i].jid, list, 2),
	    trust_cases[_i].trusted);
}
END_TEST

START_TEST(test_new_needs_lists)
{
	struct router	*r = (void *)1;
	char		*one[] = { "d" };

	ck_assert_int_eq(router_new("router", "d", one, 0, one, 1, &r),
	    -EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(router_new("router", "d", one, 1, one, 0, &r),
	    -EINVAL);
	ck_assert_int_eq(router_set_trusted(RT, one, 1, one, 0), -EINVAL);
	/* the old lists stay on failure */
	ck_assert_int_eq(RT->ntrusted_clients, 2);
}
END_TEST

/* ------------------------------------------------- registration */

#define RA	"opensrf:client:opensrf:private.localhost:h1:10:0000000a"
#define RB	"opensrf:client:opensrf:private.localhost:h2:20:0000000b"
#define RQ	"opensrf:service:opensrf:private.localhost:opensrf.math"

/* Redis: the node is the registrant's service queue. */
static int
node_addr(void *arg, const char *cls, const char *reg, char *buf, size_t n)
{
	char	dom[64];

	if (strncmp(reg, "opensrf:client:opensrf:", 23) != 0 ||
	    router_jid_domain(reg, dom, sizeof(dom)) < 0)
		return -EINVAL;
	return snprintf(buf, n, "opensrf:service:opensrf:%s:%s", dom, cls);
}

/* Listeners sharing a queue: one node, gone with its last registrant. */
START_TEST(test_shared_node)
{
	struct router_io	 io = IO;
	struct router_class	*c;

	io.node_addr = node_addr;
	ck_assert_int_eq(router_top_msg(RT, &(struct router_msg){
	    .from = RA, .router_command = "register",
	    .router_class = "opensrf.math" }, &io), ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(router_top_msg(RT, &(struct router_msg){
	    .from = RB, .router_command = "register",
	    .router_class = "opensrf.math" }, &io), ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(router_register_as(RT, "opensrf.math", RQ, RB, &io),
	    -EEXIST);
	ck_assert_ptr_nonnull(c = router_class_find(RT, "opensrf.math"));
	ck_assert_uint_eq(c->nnodes, 1);
	ck_assert_str_eq(c->nodes[0]->jid, RQ);
	ck_assert_uint_eq(c->nodes[0]->nregs, 2);
	ck_assert_uint_eq(router_sender_classes(RT, RA), 1);
	ck_assert_int_eq(R.n, 1);	/* opened once */
	/* one leaves: the queue stays in the rotation */
	ck_assert_int_eq(router_top_msg(RT, &(struct router_msg){
	    .from = RA, .router_command = "unregister",
	    .router_class = "opensrf.math" }, &io), ROUTER_TOP_UNREGISTERED);
	ck_assert_uint_eq(c->nnodes, 1);
	request("opensrf.math", CLI, "t1", "[1]");
	ck_assert_int_eq(R.ev[1].kind, 'F');
	ck_assert_str_eq(R.ev[1].to, RQ);
	/* the last one leaves: the class goes */
	ck_assert_int_eq(router_unregister_as(RT, "opensrf.math", RQ, RA,
	    &io), -ENOENT);
	ck_assert_int_eq(router_unregister_as(RT, "opensrf.math", RQ, RB,
	    &io), 0);
	ck_assert_ptr_null(router_class_find(RT, "opensrf.math"));
	ck_assert_int_eq(R.ev[2].kind, 'C');
	/* an address the io layer cannot place is ignored */
	ck_assert_int_eq(router_top_msg(RT, &(struct router_msg){
	    .from = "opensrf:client:gateway:private.localhost:h:1:1",
	    .router_command = "register", .router_class = "x" }, &io),
	    ROUTER_TOP_IGNORED);
}
END_TEST

/* Class logins paced: n a second, reserved in order, none lost. */
START_TEST(test_pace)
{
	uint64_t	next = 0;

	ck_assert_uint_eq(router_pace(&next, 1000, 0), 1000);
	ck_assert_uint_eq(next, 0);
	ck_assert_uint_eq(router_pace(&next, 1000, 4), 1000);
	ck_assert_uint_eq(router_pace(&next, 1000, 4), 1250);
	ck_assert_uint_eq(router_pace(&next, 1100, 4), 1500);
	/* after a quiet spell: at once again */
	ck_assert_uint_eq(router_pace(&next, 5000, 4), 5000);
	/* 3 a second: intervals round up, never faster than asked */
	next = 0;
	ck_assert_uint_eq(router_pace(&next, 0, 3), 0);
	ck_assert_uint_eq(router_pace(&next, 0, 3), 334);
	ck_assert_uint_eq(router_pace(&next, 0, 3), 668);
	ck_assert_uint_eq(router_pace(&next, 0, 3), 1002);
}
END_TEST

/* Pings the router sent: to whom, with which id. */
static char	pinged[8][128];
static uint32_t	ping_ids[8];
static int	npinged;

static int
io_ping(void *arg, struct router_class *c, const char *to, uint32_t id)
{
	ck_assert_int_lt(npinged, 8);
	str_copy(pinged[npinged], to, sizeof(pinged[0]));
	ping_ids[npinged++] = id;
	return 0;
}

static void
fwd_at(struct router_io *io, uint64_t now, const char *thread)
{
	struct router_msg	m = { .from = CLI, .thread = thread,
				    .body = "[1]" };

	RT->now_ms = now;
	router_class_msg(RT, router_class_find(RT, "opensrf.math"), &m, io);
}

/*
 * Issue 14: a listener that answered pings and then stops is taken out
 * of the rotation ping_timeout after the ping its request brought, and
 * back in when it answers; one that never answers is left alone.
 */
START_TEST(test_liveness)
{
	struct router_io	 io = IO;
	struct router_class	*c;
	int			 i;

	io.ping = io_ping;
	npinged = 0;
	RT->ping_ms = 2000;
	RT->ping_timeout_ms = 3000;
	ck_assert_int_eq(router_register(RT, "opensrf.math", LA, &io), 0);
	ck_assert_int_eq(router_register(RT, "opensrf.math", LB, &io), 0);
	c = router_class_find(RT, "opensrf.math");
	fwd_at(&io, 1000, "t1");		/* A, never heard: ping */
	ck_assert_int_eq(npinged, 1);
	ck_assert_str_eq(pinged[0], LA);
	fwd_at(&io, 1000, "t2");		/* B: ping */
	ck_assert_int_eq(npinged, 2);
	ck_assert_str_eq(pinged[1], LB);
	RT->now_ms = 1100;
	router_live_pong(RT, LA, ping_ids[0], 0, &io);	/* A answers */
	ck_assert_int_eq(c->nodes[0]->answered, 1);
	/* heard 1.9 s ago: no ping yet */
	fwd_at(&io, 3000, "t3");
	ck_assert_int_eq(npinged, 2);
	fwd_at(&io, 3000, "t4");		/* B: its ping is still out */
	fwd_at(&io, 3200, "t5");		/* A: 2.1 s since: ping */
	ck_assert_int_eq(npinged, 3);
	ck_assert_str_eq(pinged[2], LA);
	/* A freezes: suspended 3 s later, B never answered: left alone */
	RT->now_ms = 6100;
	ck_assert_int_ge(router_live_tick(RT, &io), 0);
	ck_assert_int_eq(c->nodes[0]->suspended, 0);
	RT->now_ms = 6200;
	ck_assert_int_ge(router_live_tick(RT, &io), 0);
	ck_assert_int_eq(c->nodes[0]->suspended, 1);
	ck_assert_int_eq(c->nodes[1]->suspended, 0);
	ck_assert_uint_eq(RT->suspensions, 1);
	R.n = 0;
	fwd_at(&io, 6300, "t6");
	fwd_at(&io, 6300, "t7");
	ck_assert_str_eq(R.ev[0].to, LB);
	ck_assert_str_eq(R.ev[1].to, LB);
	/* a suspended one is pinged again now and then */
	RT->now_ms = 8200;
	(void)router_live_tick(RT, &io);
	ck_assert_int_eq(npinged, 4);
	ck_assert_str_eq(pinged[3], LA);
	/* it thaws: the old answer does not count, the new one does */
	router_live_pong(RT, LA, ping_ids[2], 0, &io);
	ck_assert_int_eq(c->nodes[0]->suspended, 1);
	router_live_pong(RT, LA, ping_ids[3], 0, &io);
	ck_assert_int_eq(c->nodes[0]->suspended, 0);
	R.n = 0;
	fwd_at(&io, 8300, "t8");
	fwd_at(&io, 8300, "t9");
	ck_assert_str_ne(R.ev[0].to, R.ev[1].to);
	/* a registration again brings a suspended node back too */
	c->nodes[0]->suspended = 1;
	ck_assert_int_eq(router_register(RT, "opensrf.math", LA, &io),
	    -EEXIST);
	ck_assert_int_eq(c->nodes[0]->suspended, 0);
	/* all suspended: the client hears 503 at once */
	c->nodes[0]->suspended = c->nodes[1]->suspended = 1;
	R.n = 0;
	fwd_at(&io, 9000, "t10");
	ck_assert_int_eq(R.ev[0].kind, 'R');
	ck_assert_int_eq(R.ev[0].why, ROUTER_REJECT_NO_LISTENER);
	/*
	 * The server refuses a ping to one that answered before: it is
	 * gone; out of the rotation at once, removed after a few (its
	 * bounces come first)
	 */
	c->nodes[0]->suspended = c->nodes[1]->suspended = 0;
	for (i = 0; i < ROUTER_PING_ERRORS; i++) {
		ck_assert_uint_eq(c->nnodes, 2);
		c->nodes[0]->ping_sent = 1;
		c->nodes[0]->ping_id = 77 + i;
		router_live_pong(RT, LA, 77 + i, 1, &io);
		if (i + 1 < ROUTER_PING_ERRORS)
			ck_assert_int_eq(c->nodes[0]->suspended, 1);
	}
	ck_assert_uint_eq(c->nnodes, 1);
	ck_assert_str_eq(c->nodes[0]->jid, LB);
	/* ...and to one that never did: nothing (it cannot answer) */
	c->nodes[0]->ping_sent = 1;
	c->nodes[0]->ping_id = 99;
	router_live_pong(RT, LB, 99, 1, &io);
	ck_assert_uint_eq(c->nnodes, 1);
	/* off: no pings, no timers */
	RT->ping_ms = 0;
	ck_assert_int_eq(router_live_tick(RT, &io), -1);
}
END_TEST

/* Issue 14: classes per sender and in all are bounded. */
START_TEST(test_limits)
{
	char	cls[32];
	int	i;

	RT->max_per_sender = 3;
	RT->max_classes = 5;
	for (i = 0; i < 4; i++) {
		snprintf(cls, sizeof(cls), "flood.%d", i);
		ck_assert_int_eq(top(LA, "register", cls), i < 3 ?
		    ROUTER_TOP_REGISTERED : ROUTER_TOP_IGNORED);
	}
	ck_assert_uint_eq(RT->nclasses, 3);
	ck_assert_uint_eq(RT->refused, 1);
	ck_assert_uint_eq(router_sender_classes(RT, LA), 3);
	/* a class it holds already still takes it (no new class) */
	ck_assert_int_eq(router_register(RT, "flood.0", LA, &IO), -EEXIST);
	/* others fill the table up to max_classes */
	ck_assert_int_eq(top(LB, "register", "b.0"), ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(top(LB, "register", "b.1"), ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(top(LC, "register", "c.0"), ROUTER_TOP_IGNORED);
	ck_assert_uint_eq(RT->nclasses, 5);
	ck_assert_uint_eq(RT->refused, 2);
	/* ...but an existing class takes another listener */
	ck_assert_int_eq(top(LC, "register", "flood.0"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_uint_eq(router_class_find(RT, "flood.0")->nnodes, 2);
	/* a freed place is taken again */
	ck_assert_int_eq(top(LB, "unregister", "b.1"),
	    ROUTER_TOP_UNREGISTERED);
	ck_assert_int_eq(top(LC, "register", "c.0"), ROUTER_TOP_REGISTERED);
	/* 0: no limit */
	RT->max_classes = 0;
	RT->max_per_sender = 0;
	for (i = 0; i < 10; i++) {
		snprintf(cls, sizeof(cls), "many.%d", i);
		ck_assert_int_eq(top(LA, "register", cls),
		    ROUTER_TOP_REGISTERED);
	}
	ck_assert_uint_eq(RT->nclasses, 15);
}
END_TEST

START_TEST(test_register_opens_once)
{
	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(top(LB, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	/* a duplicate registration is harmless and adds nothing */
	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(R.n, 1);
	ck_assert_int_eq(R.ev[0].kind, 'O');
	ck_assert_str_eq(R.ev[0].cls, "opensrf.math");
	ck_assert_uint_eq(router_class_find(RT, "opensrf.math")->nnodes, 2);
	ck_assert_uint_eq(RT->nclasses, 1);
}
END_TEST

START_TEST(test_unregister_last_closes)
{
	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(top(LB, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(top(LA, "unregister", "opensrf.math"),
	    ROUTER_TOP_UNREGISTERED);
	ck_assert_int_eq(R.n, 1);
	/* unknown node and unknown class: no effect */
	ck_assert_int_eq(top(LC, "unregister", "opensrf.math"),
	    ROUTER_TOP_UNREGISTERED);
	ck_assert_int_eq(top(LB, "unregister", "nope"),
	    ROUTER_TOP_UNREGISTERED);
	ck_assert_int_eq(R.n, 1);
	ck_assert_int_eq(top(LB, "unregister", "opensrf.math"),
	    ROUTER_TOP_UNREGISTERED);
	ck_assert_int_eq(R.n, 2);
	ck_assert_int_eq(R.ev[1].kind, 'C');
	ck_assert_ptr_null(router_class_find(RT, "opensrf.math"));
}
END_TEST

static const struct {
	const char	*from;
	const char	*cmd;
	const char	*cls;
	enum router_top	 want;
} top_cases[] = {
	{ EVIL, "register", "opensrf.math", ROUTER_TOP_IGNORED },
	{ "opensrf@public.localhost/l", "register", "x", ROUTER_TOP_IGNORED },
	{ "nodomain", "register", "opensrf.math", ROUTER_TOP_IGNORED },
	{ NULL, "register", "opensrf.math", ROUTER_TOP_IGNORED },
	{ LA, "register", "", ROUTER_TOP_IGNORED },
	{ LA, "register", NULL, ROUTER_TOP_IGNORED },
	{ LA, "register", "a/b", ROUTER_TOP_IGNORED },
	{ LA, "query", "servers", ROUTER_TOP_IGNORED },
	{ LA, "", "", ROUTER_TOP_API },
	{ LA, NULL, NULL, ROUTER_TOP_API },
	{ EVIL, "", NULL, ROUTER_TOP_IGNORED },	/* API: server list too */
};

START_TEST(test_top_untrusted)
{
	ck_assert_int_eq(top(top_cases[_i].from, top_cases[_i].cmd,
	    top_cases[_i].cls), top_cases[_i].want);
	ck_assert_int_eq(R.n, 0);
	ck_assert_uint_eq(RT->nclasses, 0);
}
END_TEST

START_TEST(test_top_error_ignored)
{
	struct router_msg	m = { .from = LA, .router_command = "register",
	    .router_class = "opensrf.math", .is_error = 1 };

	ck_assert_int_eq(router_top_msg(RT, &m, &IO), ROUTER_TOP_IGNORED);
	ck_assert_uint_eq(RT->nclasses, 0);
}
END_TEST

START_TEST(test_sighup_trust)
{
	char	*servers[] = { "evil.example" };
	char	*clients[] = { "private.localhost" };

	ck_assert_int_eq(top(EVIL, "register", "opensrf.math"),
	    ROUTER_TOP_IGNORED);
	ck_assert_int_eq(router_set_trusted(RT, servers, 1, clients, 1), 0);
	ck_assert_int_eq(top(EVIL, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_IGNORED);
}
END_TEST

/* -------------------------------------------------- round robin */

START_TEST(test_round_robin)
{
	static const char *const want[] = { LA, LB, LC, LA, LB, LC, LA };
	struct router_class	*c;
	size_t			 i;

	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(top(LB, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(top(LC, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	R.n = 0;
	for (i = 0; i < ARRAY_LEN(want); i++)
		request("opensrf.math", CLI, "t1", "[1]");
	ck_assert_int_eq(R.n, (int)ARRAY_LEN(want));
	for (i = 0; i < ARRAY_LEN(want); i++) {
		ck_assert_int_eq(R.ev[i].kind, 'F');
		ck_assert_str_eq(R.ev[i].to, want[i]);
		/* router_from is the stamped sender, never the incoming one */
		ck_assert_str_eq(R.ev[i].router_from, CLI);
		ck_assert_str_eq(R.ev[i].thread, "t1");
		ck_assert_str_eq(R.ev[i].body, "[1]");
	}
	c = router_class_find(RT, "opensrf.math");
	ck_assert_uint_eq(c->forwarded, 7);
	ck_assert_uint_eq(c->nodes[0]->forwarded, 3);
	ck_assert_uint_eq(c->nodes[1]->forwarded, 2);
	ck_assert_uint_eq(router_class_node_total(c), 7);
}
END_TEST

/* Removing a node keeps the rotation fair: the cursor's node is next. */
START_TEST(test_round_robin_removal)
{
	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(top(LB, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(top(LC, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	R.n = 0;
	request("opensrf.math", CLI, "t", "[1]");	/* -> A */
	request("opensrf.math", CLI, "t", "[2]");	/* -> B, C next */
	ck_assert_int_eq(top(LA, "unregister", "opensrf.math"),
	    ROUTER_TOP_UNREGISTERED);
	request("opensrf.math", CLI, "t", "[3]");
	request("opensrf.math", CLI, "t", "[4]");
	ck_assert_str_eq(R.ev[2].to, LC);
	ck_assert_str_eq(R.ev[3].to, LB);
}
END_TEST

START_TEST(test_untrusted_client_refused)
{
	struct router_class	*c;

	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	R.n = 0;
	request("opensrf.math", EVIL, "t9", "[9]");
	ck_assert_int_eq(R.n, 1);
	ck_assert_int_eq(R.ev[0].kind, 'R');
	ck_assert_int_eq(R.ev[0].why, ROUTER_REJECT_UNTRUSTED);
	ck_assert_str_eq(R.ev[0].to, EVIL);
	ck_assert_str_eq(R.ev[0].thread, "t9");
	c = router_class_find(RT, "opensrf.math");
	ck_assert_uint_eq(c->errors, 1);
	ck_assert_uint_eq(c->forwarded, 0);
	/* an untrusted error stanza is dropped silently */
	bounce("opensrf.math", EVIL, "t9", "[9]");
	ck_assert_int_eq(R.n, 1);
	ck_assert_uint_eq(c->nnodes, 1);
}
END_TEST

START_TEST(test_send_failure_counted)
{
	struct router_class	*c;

	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	R.fail_forward = 1;
	request("opensrf.math", CLI, "t", "[1]");
	c = router_class_find(RT, "opensrf.math");
	ck_assert_uint_eq(c->forwarded, 0);
	ck_assert_uint_eq(c->nodes[0]->win_n, 1);
}
END_TEST

/* --------------------------------------------------------- bounces */

static void
three_listeners(void)
{
	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(top(LB, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(top(LC, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	R.n = 0;
}

/*
 * Several requests in flight to A when it vanishes: every one of them
 * is retried (OpenSRF retries only the last), each on the next node.
 */
START_TEST(test_bounce_all_inflight)
{
	struct router_class	*c;

	three_listeners();
	request("opensrf.math", CLI, "t1", "[1]");	/* A */
	request("opensrf.math", CLI, "t2", "[2]");	/* B */
	request("opensrf.math", CLI, "t3", "[3]");	/* C */
	request("opensrf.math", CLI, "t4", "[4]");	/* A */
	request("opensrf.math", CLI, "t5", "[5]");	/* B */
	ck_assert_int_eq(R.n, 5);
	/* A's bounces arrive; the second comes after A was removed */
	bounce("opensrf.math", LA, "t1", "[1]");
	bounce("opensrf.math", LA, "t4", "");		/* body stripped */
	ck_assert_int_eq(R.n, 7);
	ck_assert_int_eq(R.ev[5].kind, 'F');
	ck_assert_str_eq(R.ev[5].to, LC);		/* cursor was on C */
	ck_assert_str_eq(R.ev[5].thread, "t1");
	ck_assert_str_eq(R.ev[5].body, "[1]");
	ck_assert_str_eq(R.ev[5].router_from, CLI);
	ck_assert_int_eq(R.ev[6].kind, 'F');
	ck_assert_str_eq(R.ev[6].to, LB);
	ck_assert_str_eq(R.ev[6].thread, "t4");
	ck_assert_str_eq(R.ev[6].body, "[4]");		/* from the window */
	c = router_class_find(RT, "opensrf.math");
	ck_assert_uint_eq(c->nnodes, 2);
	ck_assert_uint_eq(c->bounces, 2);
	ck_assert_uint_eq(c->retried, 2);
	ck_assert_uint_eq(c->errors, 0);
}
END_TEST

/* Same thread, same xid: the body tells the requests apart. */
START_TEST(test_bounce_matches_body)
{
	three_listeners();
	request("opensrf.math", CLI, "t", "[1]");	/* A */
	request("opensrf.math", CLI, "t", "[2]");	/* B */
	request("opensrf.math", CLI, "t", "[3]");	/* C */
	request("opensrf.math", CLI, "t", "[4]");	/* A */
	bounce("opensrf.math", LA, "t", "[4]");
	bounce("opensrf.math", LA, "t", "[1]");
	ck_assert_int_eq(R.n, 6);
	ck_assert_str_eq(R.ev[4].body, "[4]");
	ck_assert_str_eq(R.ev[5].body, "[1]");
}
END_TEST

START_TEST(test_bounce_last_listener)
{
	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	R.n = 0;
	request("opensrf.math", CLI, "t1", "[1]");
	bounce("opensrf.math", LA, "t1", "[1]");
	ck_assert_int_eq(R.n, 3);
	ck_assert_int_eq(R.ev[1].kind, 'R');
	ck_assert_int_eq(R.ev[1].why, ROUTER_REJECT_NO_LISTENER);
	ck_assert_str_eq(R.ev[1].to, CLI);
	ck_assert_str_eq(R.ev[1].thread, "t1");
	ck_assert_str_eq(R.ev[1].body, "[1]");
	ck_assert_int_eq(R.ev[2].kind, 'C');
	ck_assert_ptr_null(router_class_find(RT, "opensrf.math"));
}
END_TEST

/*
 * Lingering (XMPP): the last listener's bounce leaves the class and its
 * connection up for linger_ms.  The bounces of the other requests sent
 * to it, which the server returns over that connection a moment later,
 * and requests clients sent meanwhile are answered with 503, not lost
 * with a closed connection; the connection closes when the time is up.
 */
START_TEST(test_linger_answers_late_bounces)
{
	struct router_class	*c;

	RT->linger_ms = 1000;
	RT->now_ms = 5000;
	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	R.n = 0;
	request("opensrf.math", CLI, "t1", "[1]");
	request("opensrf.math", CLI, "t2", "[2]");
	bounce("opensrf.math", LA, "t1", "[1]");
	ck_assert_int_eq(R.n, 3);		/* F F R, no C */
	ck_assert_int_eq(R.ev[2].kind, 'R');
	ck_assert_str_eq(R.ev[2].thread, "t1");
	c = router_class_find(RT, "opensrf.math");
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->nnodes, 0);
	/* the second request's bounce, and a client's new request */
	RT->now_ms = 5400;
	bounce("opensrf.math", LA, "t2", "[2]");
	request("opensrf.math", CLI, "t3", "[3]");
	ck_assert_int_eq(R.n, 5);
	ck_assert_int_eq(R.ev[3].kind, 'R');
	ck_assert_str_eq(R.ev[3].thread, "t2");
	ck_assert_str_eq(R.ev[3].body, "[2]");
	ck_assert_int_eq(R.ev[3].why, ROUTER_REJECT_NO_LISTENER);
	ck_assert_int_eq(R.ev[4].kind, 'R');
	ck_assert_str_eq(R.ev[4].thread, "t3");
	ck_assert_int_eq(router_tick(RT, &IO), 600);
	RT->now_ms = 5999;
	ck_assert_int_eq(router_tick(RT, &IO), 1);
	ck_assert_int_eq(R.n, 5);
	RT->now_ms = 6000;
	ck_assert_int_eq(router_tick(RT, &IO), -1);
	ck_assert_int_eq(R.n, 6);
	ck_assert_int_eq(R.ev[5].kind, 'C');
	ck_assert_ptr_null(router_class_find(RT, "opensrf.math"));
}
END_TEST

/*
 * A listener that registers while its class lingers (after a server
 * restart they all come back a moment after the router) takes the
 * class as it is: no new login, and no close later.
 */
START_TEST(test_linger_revived)
{
	RT->linger_ms = 1000;
	RT->now_ms = 100;
	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(top(LA, "unregister", "opensrf.math"),
	    ROUTER_TOP_UNREGISTERED);
	ck_assert_int_eq(R.n, 1);		/* O */
	RT->now_ms = 600;
	ck_assert_int_eq(top(LB, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	ck_assert_int_eq(R.n, 1);		/* no second O */
	RT->now_ms = 5000;
	ck_assert_int_eq(router_tick(RT, &IO), -1);
	ck_assert_int_eq(R.n, 1);		/* no C */
	R.n = 0;
	request("opensrf.math", CLI, "t1", "[1]");
	ck_assert_int_eq(R.n, 1);
	ck_assert_int_eq(R.ev[0].kind, 'F');
	ck_assert_str_eq(R.ev[0].to, LB);
}
END_TEST

/* Not in the window, but the bounce carries the original: retry it. */
START_TEST(test_bounce_from_stanza)
{
	three_listeners();
	bounce("opensrf.math", LB, "tx", "[7]");
	ck_assert_int_eq(R.n, 1);
	ck_assert_int_eq(R.ev[0].kind, 'F');
	ck_assert_str_eq(R.ev[0].to, LA);
	ck_assert_str_eq(R.ev[0].router_from, CLI);
	ck_assert_str_eq(R.ev[0].body, "[7]");
}
END_TEST

START_TEST(test_bounce_unknown_node)
{
	three_listeners();
	bounce("opensrf.math", CLI, "t", "[1]");
	ck_assert_int_eq(R.n, 0);
	ck_assert_uint_eq(router_class_find(RT, "opensrf.math")->nnodes, 3);
}
END_TEST

/* Nothing to retry: dropped and counted, the node still goes. */
START_TEST(test_bounce_empty)
{
	struct router_class	*c;

	three_listeners();
	bounce("opensrf.math", LA, "zz", "");
	c = router_class_find(RT, "opensrf.math");
	ck_assert_int_eq(R.n, 0);
	ck_assert_uint_eq(c->nnodes, 2);
	ck_assert_uint_eq(c->errors, 1);
}
END_TEST

/* A request bounced by every listener in turn ends in one rejection. */
START_TEST(test_bounce_retry_limit)
{
	char	jid[64];
	int	i;

	for (i = 0; i < ROUTER_RETRY_MAX + 2; i++) {
		snprintf(jid, sizeof(jid), "o@private.localhost/l%d", i);
		ck_assert_int_eq(top(jid, "register", "s"),
		    ROUTER_TOP_REGISTERED);
	}
	R.n = 0;
	request("s", CLI, "t", "[1]");
	for (i = 0; i < ROUTER_RETRY_MAX; i++) {
		ck_assert_int_eq(R.ev[R.n - 1].kind, 'F');
		bounce("s", R.ev[R.n - 1].to, "t", "[1]");
	}
	ck_assert_int_eq(R.ev[R.n - 1].kind, 'R');
	ck_assert_int_eq(R.ev[R.n - 1].why, ROUTER_REJECT_RETRIES);
	ck_assert_uint_eq(router_class_find(RT, "s")->nnodes, 2);
}
END_TEST

/* A listener that re-registers after a bounce comes back whole. */
START_TEST(test_reregister_after_bounce)
{
	struct router_class	*c;

	three_listeners();
	request("opensrf.math", CLI, "t1", "[1]");
	bounce("opensrf.math", LA, "t1", "[1]");
	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	c = router_class_find(RT, "opensrf.math");
	ck_assert_uint_eq(c->nnodes, 3);
	ck_assert_str_eq(c->nodes[2]->jid, LA);
	ck_assert_uint_eq(c->nodes[2]->forwarded, 1);
}
END_TEST

/* No listener at all (class kept only by a racing registration). */
START_TEST(test_no_listener_rejects)
{
	struct router_msg	m = { .from = CLI, .thread = "t",
	    .body = "[1]" };
	struct router_class	*c;

	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	c = router_class_find(RT, "opensrf.math");
	c->nnodes = 0;		/* as if its node had just gone */
	R.n = 0;
	router_class_msg(RT, c, &m, &IO);
	c->nnodes = 1;
	ck_assert_int_eq(R.n, 1);
	ck_assert_int_eq(R.ev[0].kind, 'R');
	ck_assert_int_eq(R.ev[0].why, ROUTER_REJECT_NO_LISTENER);
}
END_TEST

/* The window's copies stay within their caps; bounces still retry. */
START_TEST(test_inflight_caps)
{
	struct router_class	*c;
	struct router_node	*a;
	size_t			 big = 200 * 1024;
	char			*body, thread[16];
	int			 i;

	ck_assert_int_eq(top(LA, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	c = router_class_find(RT, "opensrf.math");
	a = c->nodes[0];
	body = malloc(ROUTER_INFLIGHT_BODY_MAX + 2);
	memset(body, 'x', ROUTER_INFLIGHT_BODY_MAX + 1);
	body[ROUTER_INFLIGHT_BODY_MAX + 1] = '\0';
	request("opensrf.math", CLI, "huge", body);	/* over the body cap */
	ck_assert_ptr_null(a->win[0].body);
	ck_assert_uint_eq(a->win_bytes, 0);
	body[big] = '\0';
	for (i = 0; i < 30; i++) {
		snprintf(thread, sizeof(thread), "t%d", i);
		request("opensrf.math", CLI, thread, body);
		ck_assert_uint_le(a->win_bytes, ROUTER_INFLIGHT_BYTES_MAX);
	}
	ck_assert_uint_eq(a->win_bytes,
	    (ROUTER_INFLIGHT_BYTES_MAX / big) * big);
	ck_assert_ptr_null(a->win[30].body);		/* t29: not kept */
	/* a second listener; t29 bounces with its body and is retried */
	ck_assert_int_eq(top(LB, "register", "opensrf.math"),
	    ROUTER_TOP_REGISTERED);
	R.n = 0;
	bounce("opensrf.math", LA, "t29", "[29]");
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.ev[0].to, LB);
	ck_assert_str_eq(R.ev[0].body, "[29]");
	/* a kept one goes back with the window's copy; bytes are returned */
	bounce("opensrf.math", LA, "t0", "");
	ck_assert_int_eq(R.n, 2);
	ck_assert_uint_eq(strlen(c->nodes[0]->win[1].body), big);
	ck_assert_uint_eq(c->nodes[0]->win_bytes, big + 4);
	ck_assert_ptr_eq(c->grave[0], a);
	ck_assert_uint_eq(a->win_bytes,
	    (ROUTER_INFLIGHT_BYTES_MAX / big - 1) * big);
	free(body);
}
END_TEST

/*
 * A server that bounces without the payload (prosody): the newest
 * requests of the dead listener are retried, one per bounce.
 */
START_TEST(test_bounce_bare)
{
	struct router_msg	m = { .from = LA, .is_error = 1 };
	struct router_class	*c;

	three_listeners();
	request("opensrf.math", CLI, "t1", "[1]");	/* A, answered */
	request("opensrf.math", CLI, "t2", "[2]");	/* B */
	request("opensrf.math", CLI, "t3", "[3]");	/* C */
	request("opensrf.math", CLI, "t4", "[4]");	/* A, lost */
	request("opensrf.math", CLI, "t5", "[5]");	/* B */
	request("opensrf.math", CLI, "t6", "[6]");	/* C */
	request("opensrf.math", CLI, "t7", "[7]");	/* A, lost */
	c = router_class_find(RT, "opensrf.math");
	R.n = 0;
	router_class_msg(RT, c, &m, &IO);
	router_class_msg(RT, c, &m, &IO);
	ck_assert_int_eq(R.n, 2);
	ck_assert_str_eq(R.ev[0].thread, "t7");
	ck_assert_str_eq(R.ev[0].body, "[7]");
	ck_assert_str_eq(R.ev[0].router_from, CLI);
	ck_assert_str_eq(R.ev[1].thread, "t4");
	ck_assert_uint_eq(c->nnodes, 2);
	ck_assert_uint_eq(c->retried, 2);
}
END_TEST

Suite *
router_suite(void)
{
	Suite	*s = suite_create("router");
	TCase	*tc;

	tc = tcase_create("jid");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_jid_domain, 0, ARRAY_LEN(jid_cases));
	tcase_add_test(tc, test_jid_domain_small);
	tcase_add_loop_test(tc, test_jid_trusted, 0, ARRAY_LEN(trust_cases));
	tcase_add_test(tc, test_new_needs_lists);
	suite_add_tcase(s, tc);

	tc = tcase_create("registration");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_register_opens_once);
	tcase_add_test(tc, test_unregister_last_closes);
	tcase_add_test(tc, test_shared_node);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_pace);
	tcase_add_test(tc, test_liveness);
	tcase_add_loop_test(tc, test_top_untrusted, 0, ARRAY_LEN(top_cases));
	tcase_add_test(tc, test_top_error_ignored);
	tcase_add_test(tc, test_sighup_trust);
	suite_add_tcase(s, tc);

	tc = tcase_create("forward");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_robin);
	tcase_add_test(tc, test_round_robin_removal);
	tcase_add_test(tc, test_untrusted_client_refused);
	tcase_add_test(tc, test_send_failure_counted);
	tcase_add_test(tc, test_no_listener_rejects);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounce");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bounce_all_inflight);
	tcase_add_test(tc, test_bounce_matches_body);
	tcase_add_test(tc, test_bounce_last_listener);
	tcase_add_test(tc, test_linger_answers_late_bounces);
	tcase_add_test(tc, test_linger_revived);
	tcase_add_test(tc, test_bounce_from_stanza);
	tcase_add_test(tc, test_bounce_unknown_node);
	tcase_add_test(tc, test_bounce_empty);
	tcase_add_test(tc, test_bounce_retry_limit);
	tcase_add_test(tc, test_reregister_after_bounce);
	tcase_add_test(tc, test_inflight_caps);
	tcase_add_test(tc, test_bounce_bare);
	suite_add_tcase(s, tc);
	return s;
}
