/*
 * test_bus_redis.c: the Redis bus (proto/bus_redis.c) on a private
 * redis-server (test/servers/redis; tag "integration").
 *
 * Proven here, each against the wire with a plain Redis connection of
 * the test's own: addresses and the C envelope; a request for a service
 * goes to the router inbox with `to` untouched; messages keep their
 * order; a listener pops no more than bus_take() allows and waits in
 * BLPOP when the queue is empty; the queue bound hands the excess up
 * flagged BUS_F_OVERFLOW; queue depth and age samples; registration and
 * unregistration in C's form, sent at once; bus_free() and bus_reaped()
 * delete inboxes; a key of another domain goes over a connection of its
 * own; a gateway user cannot be a listener; OpenSRF's own accounts (no
 * LLEN/LINDEX) serve requests with the metrics refused cleanly; a Redis
 * restart is survived with a new registration.
 *
 * Keys carry the test's pid so the shared server never mixes two tests.
 * No sleeps: every wait polls the bus with a deadline.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "proto/bus.h"
#include "proto/redis_conn.h"
#include "proto/tmsg.h"
#include "th_servers.h"
#include "util.h"

#define WAIT_MS		5000
#define DOM		TH_DOMAIN_PRIVATE

static enum th_server_kind	 srv = TH_REDIS;
static int			 fds_at_start;
static char			 rname[32];	/* this test's router name */

static int
count_fds(void)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*e;
	int		 n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

static void
setup(void)
{
	fds_at_start = count_fds();
	snprintf(rname, sizeof(rname), "rt%ld", (long)getpid());
	srv = TH_REDIS;
}

static void
setup_osrf(void)
{
	setup();
	srv = TH_REDIS_OSRF;
}

static void
teardown(void)
{
	ck_assert_int_eq(count_fds(), fds_at_start);
}

/* ------------------------------------------------------------ helpers */

static struct bus_conf	conf;

static void
conf_fill(struct bus_conf *c, const char *user, const char *pass,
    const char *domain, const char *host)
{
	memset(c, 0, sizeof(*c));
	c->kind = BUS_REDIS;
	c->kind_conf = BUS_CONF_REDIS;
	c->host = (char *)host;
	c->domain = (char *)domain;
	c->port = th_server(srv)->port;
	c->username = (char *)user;
	c->password = (char *)pass;
	c->max_stanza_size = 1024 * 1024;
	c->connect_timeout_ms = WAIT_MS;
	c->reconnect_max_ms = 1000;
}

static struct bus *
mk(enum bus_role role, const char *user, const char *pass,
    const char *service, const struct reg_target *rt, size_t nrt)
{
	struct bus_params	 p;
	struct bus		*b;

	conf_fill(&conf, user, pass, DOM, "127.0.0.1");
	memset(&p, 0, sizeof(p));
	p.kind = BUS_REDIS;
	p.conf = &conf;
	p.role = role;
	p.service = service;
	p.router_name = rname;
	p.routers = rt;
	p.nrouters = nrt;
	p.reconnect = role != BUS_ROLE_CLIENT;
	ck_assert_int_eq(bus_new(&p, &b), 0);
	return b;
}

static struct bus *
opened(enum bus_role role, const char *service)
{
	struct bus	*b = mk(role, "opensrf", TH_OPENSRF_PW, service, NULL,
			    0);
	int		 rc = bus_open(b, WAIT_MS);

	ck_assert_msg(rc == 0, "bus_open: %s (%s)", strerror(-rc),
	    bus_error(b));
	return b;
}

/* The test's own plain connection, as user. */
static struct rds_conn *
raw(const char *user, const char *pass)
{
	struct rds_params	 p = { 0 };
	struct rds_conn		*c;

	p.host = "127.0.0.1";
	p.port = th_server(srv)->port;
	p.user = user;
	p.pass = pass;
	ck_assert_int_eq(rds_new(&p, &c), 0);
	ck_assert_int_eq(rds_open(c), 0);
	return c;
}

static long long
llen(struct rds_conn *c, const char *key)
{
	struct rds_reply	*r;
	long long		 n;

	ck_assert_int_eq(rds_calll(c, WAIT_MS, &r, "LLEN", key, NULL), 0);
	ck_assert_int_eq(r->type, RDS_INTEGER);
	n = r->integer;
	rds_reply_free(&r);
	return n;
}

static void
rpush(struct rds_conn *c, const char *key, const char *val)
{
	struct rds_reply	*r;

	ck_assert_int_eq(rds_calll(c, WAIT_MS, &r, "RPUSH", key, val, NULL),
	    0);
	rds_reply_free(&r);
}

/* BLPOP key as the test; the element, malloc'd, or NULL on timeout. */
static char *
blpop(struct rds_conn *c, const char *key, const char *secs)
{
	struct rds_reply	*r;
	char			*v = NULL;

	ck_assert_int_eq(rds_calll(c, WAIT_MS + 1000, &r, "BLPOP", key, secs,
	    NULL), 0);
	if (r->type == RDS_ARRAY && r->n == 2)
		v = rds_reply_take(r->elem[1], NULL);
	rds_reply_free(&r);
	return v;
}

/* The next frame of b, within the deadline. */
static struct bus_frame *
next_frame(struct bus *b)
{
	struct bus_frame	*f;
	uint64_t		 end = mono_ms() + WAIT_MS;
	int			 rc;

	for (;;) {
		(void)bus_run(b);
		rc = bus_recv(b, &f);
		ck_assert_int_ge(rc, 0);
		if (rc == 1)
			return f;
		ck_assert_msg(mono_ms() < end, "no message within %d ms",
		    WAIT_MS);
		ck_assert_int_ge(bus_wait(b, (int)(end - mono_ms())), 0);
	}
}

static void
send_body(struct bus *b, const char *to, const char *thread,
    const char *body)
{
	struct tmsg	t = TMSG_INIT;

	t.to = to;
	t.thread = thread;
	t.body = body;
	ck_assert_int_eq(bus_send(b, &t), 0);
}

#define BODY	"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"1\"," \
	"\"type\":\"REQUEST\",\"payload\":{\"__c\":\"osrfMethod\",\"__p\":" \
	"{\"method\":\"m\",\"params\":[]}}}}]"

/* ------------------------------------------------------------- tests */

START_TEST(test_addresses)
{
	struct bus	*a = opened(BUS_ROLE_CLIENT, NULL);
	char		 want[128], host[64], buf[128];
	const char	*addr = bus_addr(a);
	size_t		 i;

	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	snprintf(want, sizeof(want), "opensrf:client:opensrf:" DOM ":%s:%ld:",
	    host, (long)getpid());
	ck_assert_msg(strncmp(addr, want, strlen(want)) == 0, "%s", addr);
	ck_assert_uint_eq(strlen(addr), strlen(want) + 8);
	for (i = strlen(want); addr[i] != '\0'; i++)
		ck_assert(strchr("0123456789abcdef", addr[i]) != NULL);
	ck_assert_int_eq(bus_service_addr(a, "opensrf.math", buf,
	    sizeof(buf)), 32);
	ck_assert_str_eq(buf, "opensrf:service:_:_:opensrf.math");
	ck_assert_int_eq(bus_service_addr(a, "x", buf, 8), -ENAMETOOLONG);
	ck_assert_int_eq(bus_kind(a), BUS_REDIS);
	bus_free(&a);
}
END_TEST

START_TEST(test_client_to_client)
{
	struct bus		*a = opened(BUS_ROLE_CLIENT, NULL);
	struct bus		*b = opened(BUS_ROLE_CLIENT, NULL);
	struct bus_frame	*f;
	struct tmsg		 t = TMSG_INIT;
	char			*want;

	send_body(a, bus_addr(b), "t1", BODY);
	f = next_frame(b);
	/* exactly C's envelope: key order, osrf_xid null, body inline */
	want = xasprintf("{\"to\":\"%s\",\"from\":\"%s\",\"thread\":\"t1\","
	    "\"osrf_xid\":null,\"body\":%s}", bus_addr(b), bus_addr(a), BODY);
	ck_assert_str_eq(f->raw, want);
	free(want);
	ck_assert_str_eq(f->sender, bus_addr(a));
	ck_assert_uint_eq(f->flags, 0);
	ck_assert_int_eq(bus_decode(b, f->raw, f->len, &t, NULL), 0);
	ck_assert_str_eq(t.from, bus_addr(a));
	ck_assert_str_eq(t.body, BODY);
	tmsg_clear(&t);
	bus_frame_free(&f);
	bus_free(&a);
	bus_free(&b);
}
END_TEST

/* 300 messages to a client, 600 to a router: in order, none lost. */
START_TEST(test_order)
{
	struct bus		*a = opened(BUS_ROLE_CLIENT, NULL);
	struct bus		*b = opened(BUS_ROLE_CLIENT, NULL);
	struct bus		*r = mk(BUS_ROLE_ROUTER, "router",
				    TH_ROUTER_PW, NULL, NULL, 0);
	struct bus_frame	*f;
	char			 th[32], key[64];
	int			 i;

	for (i = 0; i < 300; i++) {
		snprintf(th, sizeof(th), "n%d", i);
		send_body(a, bus_addr(b), th, BODY);
	}
	for (i = 0; i < 300; i++) {
		f = next_frame(b);
		snprintf(th, sizeof(th), "\"thread\":\"n%d\"", i);
		ck_assert_msg(strstr(f->raw, th) != NULL, "%d: %s", i,
		    f->raw);
		bus_frame_free(&f);
	}
	/* a router pops in batches: still in order */
	ck_assert_int_eq(bus_open(r, WAIT_MS), 0);
	snprintf(key, sizeof(key), "opensrf:router:router:%s", DOM);
	for (i = 0; i < 600; i++) {
		snprintf(th, sizeof(th), "r%d", i);
		send_body(a, key, th, BODY);
	}
	for (i = 0; i < 600; i++) {
		f = next_frame(r);
		snprintf(th, sizeof(th), "\"thread\":\"r%d\"", i);
		ck_assert_msg(strstr(f->raw, th) != NULL, "%d: %s", i,
		    f->raw);
		bus_frame_free(&f);
	}
	bus_free(&r);
	bus_free(&a);
	bus_free(&b);
}
END_TEST

/* A request for a service goes to our router's inbox, `to` untouched. */
START_TEST(test_service_via_router)
{
	struct bus	*a = opened(BUS_ROLE_CLIENT, NULL);
	struct rds_conn	*rc = raw("router", TH_ROUTER_PW);
	struct tmsg	 t = TMSG_INIT;
	char		 inbox[128], svc[128], *v;

	ck_assert_int_gt(bus_service_addr(a, "x.svc", svc, sizeof(svc)), 0);
	send_body(a, svc, "t2", BODY);
	snprintf(inbox, sizeof(inbox), "opensrf:router:%s:%s", rname, DOM);
	ck_assert_ptr_nonnull(v = blpop(rc, inbox, "5"));
	ck_assert_int_eq(tmsg_json_parse(v, strlen(v), &t, NULL), 0);
	ck_assert_str_eq(t.to, "opensrf:service:_:_:x.svc");
	ck_assert_str_eq(t.from, bus_addr(a));
	tmsg_clear(&t);
	free(v);
	rds_free(&rc);
	bus_free(&a);
}
END_TEST

static void
queue_key(char *buf, size_t n, const char *svc)
{
	snprintf(buf, n, "opensrf:service:opensrf:%s:%s", DOM, svc);
}

/* The listener pops what the credit allows, no more. */
START_TEST(test_listener_credit)
{
	struct rds_conn		*c = raw("opensrf", TH_OPENSRF_PW);
	struct bus		*l;
	struct bus_frame	*f;
	char			 svc[64], q[160], th[16];
	int			 i;

	snprintf(svc, sizeof(svc), "credit.%ld", (long)getpid());
	queue_key(q, sizeof(q), svc);
	for (i = 0; i < 5; i++) {
		snprintf(th, sizeof(th), "{\"thread\":\"c%d\"}", i);
		rpush(c, q, th);
	}
	l = opened(BUS_ROLE_LISTENER, svc);
	/* no credit: a sample round trip later, all five still wait */
	bus_take(l, 0);
	(void)bus_run(l);
	ck_assert_int_eq(llen(c, q), 5);
	bus_take(l, 2);
	for (i = 0; i < 2; i++) {
		f = next_frame(l);
		snprintf(th, sizeof(th), "\"c%d\"", i);
		ck_assert_msg(strstr(f->raw, th) != NULL, "%s", f->raw);
		bus_frame_free(&f);
	}
	ck_assert_int_eq(llen(c, q), 3);
	/* the credit given is used up: nothing more comes */
	(void)bus_run(l);
	ck_assert_int_eq(bus_recv(l, &f), 0);
	ck_assert_int_eq(llen(c, q), 3);
	bus_take(l, 10);
	for (i = 2; i < 5; i++) {
		f = next_frame(l);
		bus_frame_free(&f);
	}
	ck_assert_int_eq(llen(c, q), 0);
	/* empty: it waits in BLPOP, and a push wakes it */
	rpush(c, q, "{\"thread\":\"late\"}");
	f = next_frame(l);
	ck_assert(strstr(f->raw, "late") != NULL);
	bus_frame_free(&f);
	bus_take(l, 0);
	bus_free(&l);
	rds_free(&c);
}
END_TEST

/* Beyond the bound the excess comes up flagged; depth is sampled. */
START_TEST(test_overflow)
{
	struct rds_conn		*c = raw("opensrf", TH_OPENSRF_PW);
	struct bus_queue_info	 qi;
	struct bus		*l;
	struct bus_frame	*f;
	char			 svc[64], q[160];
	int			 i;

	snprintf(svc, sizeof(svc), "over.%ld", (long)getpid());
	queue_key(q, sizeof(q), svc);
	for (i = 0; i < 5; i++)
		rpush(c, q, "{\"thread\":\"o\",\"from\":\"opensrf:client:x\"}");
	l = opened(BUS_ROLE_LISTENER, svc);
	bus_set_queue_max(l, 2);
	bus_take(l, 0);
	for (i = 0; i < 3; i++) {
		f = next_frame(l);
		ck_assert_uint_eq(f->flags & BUS_F_OVERFLOW, BUS_F_OVERFLOW);
		ck_assert_str_eq(f->sender, "opensrf:client:x");
		bus_frame_free(&f);
	}
	ck_assert_int_eq(bus_queue_info(l, &qi), 0);
	ck_assert_uint_eq(qi.depth, 5);
	ck_assert_int_eq(llen(c, q), 2);
	bus_free(&l);
	ck_assert_int_eq(llen(c, q), 2);
	rds_free(&c);
}
END_TEST

/* Depth and a growing lower bound of the head's age. */
START_TEST(test_queue_age)
{
	struct rds_conn		*c = raw("opensrf", TH_OPENSRF_PW);
	struct bus_queue_info	 qi;
	struct bus		*l;
	struct bus_frame	*f;
	char			 svc[64], q[160];
	uint64_t		 end;

	snprintf(svc, sizeof(svc), "age.%ld", (long)getpid());
	queue_key(q, sizeof(q), svc);
	l = opened(BUS_ROLE_LISTENER, svc);
	ck_assert_int_eq(bus_queue_info(l, &qi) == 0 ||
	    bus_queue_info(l, &qi) == -EAGAIN, 1);
	rpush(c, q, "{\"thread\":\"a1\"}");
	rpush(c, q, "{\"thread\":\"a2\"}");
	bus_take(l, 0);
	end = mono_ms() + WAIT_MS;
	for (;;) {
		(void)bus_run(l);
		if (bus_queue_info(l, &qi) == 0 && qi.depth == 2 &&
		    qi.oldest_ms >= 1000)
			break;
		ck_assert_msg(mono_ms() < end, "age never passed 1 s");
		ck_assert_int_ge(bus_wait(l, 100), 0);
	}
	ck_assert_uint_gt(qi.sampled_us, 0);
	bus_take(l, 2);
	f = next_frame(l);
	bus_frame_free(&f);
	f = next_frame(l);
	bus_frame_free(&f);
	bus_free(&l);
	rds_free(&c);
}
END_TEST

/* C's register and unregister; the unregister is not held back. */
START_TEST(test_register)
{
	struct rds_conn		*c = raw("router", TH_ROUTER_PW);
	struct reg_target	 rt = { rname, (char *)DOM, NULL, 0 };
	struct bus		*l;
	char			 svc[64], inbox[128], *v, *want;

	snprintf(svc, sizeof(svc), "reg.%ld", (long)getpid());
	snprintf(inbox, sizeof(inbox), "opensrf:router:%s:%s", rname, DOM);
	l = mk(BUS_ROLE_LISTENER, "opensrf", TH_OPENSRF_PW, svc, &rt, 1);
	ck_assert_int_eq(bus_register(l, 1), 0);	/* when up */
	ck_assert_int_eq(bus_open(l, WAIT_MS), 0);
	ck_assert_ptr_nonnull(v = blpop(c, inbox, "5"));
	want = xasprintf("{\"to\":\"%s\",\"from\":\"%s\",\"thread\":\"\","
	    "\"osrf_xid\":null,\"router_to\":\"\",\"router_class\":\"%s\","
	    "\"router_command\":\"register\",\"body\":\"[]\"}", inbox,
	    bus_addr(l), svc);
	ck_assert_str_eq(v, want);
	free(want);
	free(v);
	/* a listener sitting in BLPOP (1 s) still unregisters at once */
	bus_take(l, 1);
	ck_assert_int_eq(bus_register(l, 0), 1);
	ck_assert_ptr_nonnull(v = blpop(c, inbox, "5"));
	ck_assert(strstr(v, "\"router_command\":\"unregister\"") != NULL);
	free(v);
	bus_take(l, 0);
	bus_free(&l);
	rds_free(&c);
}
END_TEST

/* bus_free() deletes the own inbox; bus_reaped() a dead child's. */
START_TEST(test_inbox_deleted)
{
	struct rds_conn		*c = raw("opensrf", TH_OPENSRF_PW);
	struct bus		*a = opened(BUS_ROLE_LISTENER, "del.svc");
	struct bus		*l = opened(BUS_ROLE_LISTENER, "del.svc");
	char			 addr[BUS_ADDR_MAX], dead[128];
	uint64_t		 end;

	/* a listener pops its queue, not its inbox: the key stays */
	str_copy(addr, bus_addr(a), sizeof(addr));
	rpush(c, addr, "{}");
	rpush(c, addr, "{}");
	ck_assert_int_eq(llen(c, addr), 2);
	bus_free(&a);
	ck_assert_int_eq(llen(c, addr), 0);
	snprintf(dead, sizeof(dead), "opensrf:client:opensrf:%s:h:1:%ld",
	    DOM, (long)getpid());
	rpush(c, dead, "{}");
	bus_reaped(l, 1, dead);
	end = mono_ms() + WAIT_MS;
	while (llen(c, dead) != 0) {
		ck_assert(mono_ms() < end);
		ck_assert_int_ge(bus_wait(l, 10), 0);
	}
	bus_free(&l);
	rds_free(&c);
}
END_TEST

/* A key of another domain goes to that domain's host, by its name. */
START_TEST(test_other_domain)
{
	struct bus_conf		 oc;
	struct bus_params	 p;
	struct bus		*a = opened(BUS_ROLE_CLIENT, NULL), *b;
	struct bus_frame	*f;
	int			 before, during;

	/* "localhost" resolves, private.localhost need not */
	conf_fill(&oc, "opensrf", TH_OPENSRF_PW, "localhost", "localhost");
	memset(&p, 0, sizeof(p));
	p.kind = BUS_REDIS;
	p.conf = &oc;
	p.role = BUS_ROLE_CLIENT;
	ck_assert_int_eq(bus_new(&p, &b), 0);
	ck_assert_int_eq(bus_open(b, WAIT_MS), 0);
	ck_assert(strstr(bus_addr(b), ":localhost:") != NULL);
	before = count_fds();
	send_body(a, bus_addr(b), "x1", BODY);
	ck_assert_int_eq(bus_flush(a, WAIT_MS), 0);	/* connects first */
	during = count_fds();
	ck_assert_int_eq(during, before + 1);	/* the second connection */
	f = next_frame(b);
	ck_assert_str_eq(f->sender, bus_addr(a));
	bus_frame_free(&f);
	/* cached: the next one uses it again */
	send_body(a, bus_addr(b), "x2", BODY);
	ck_assert_int_eq(count_fds(), during);
	f = next_frame(b);
	bus_frame_free(&f);
	bus_free(&a);
	bus_free(&b);
}
END_TEST

START_TEST(test_too_big)
{
	struct bus	*a = opened(BUS_ROLE_CLIENT, NULL);
	char		*big = xmalloc(2 * 1024 * 1024);

	memset(big, ' ', 2 * 1024 * 1024 - 1);
	big[0] = '[';
	big[2 * 1024 * 1024 - 2] = ']';
	big[2 * 1024 * 1024 - 1] = '\0';
	{
		struct tmsg	t = TMSG_INIT;

		t.to = bus_addr(a);
		t.body = big;
		ck_assert_int_eq(bus_send(a, &t), -EMSGSIZE);
	}
	free(big);
	bus_free(&a);
}
END_TEST

/* The gateway user may not pop a service queue: no listener. */
START_TEST(test_gateway_listener)
{
	struct bus_params	 p;
	struct bus		*l;

	conf_fill(&conf, "gateway", TH_GATEWAY_PW, DOM, "127.0.0.1");
	memset(&p, 0, sizeof(p));
	p.kind = BUS_REDIS;
	p.conf = &conf;
	p.role = BUS_ROLE_LISTENER;
	p.service = "gw.svc";
	ck_assert_int_eq(bus_new(&p, &l), 0);
	ck_assert_int_eq(bus_open(l, WAIT_MS), -EACCES);
	ck_assert_msg(strstr(bus_error(l), "NOPERM") != NULL, "%s",
	    bus_error(l));
	ck_assert_int_ne(bus_state(l), BUS_UP);
	bus_free(&l);
}
END_TEST

/* OpenSRF's accounts: requests flow, the metrics say -EACCES. */
START_TEST(test_osrf_accounts)
{
	struct rds_conn		*c = raw("opensrf", TH_OPENSRF_PW);
	struct bus_queue_info	 qi;
	struct bus		*l;
	struct bus_frame	*f;
	char			 svc[64], q[160];
	uint64_t		 end;

	snprintf(svc, sizeof(svc), "osrf.%ld", (long)getpid());
	queue_key(q, sizeof(q), svc);
	l = opened(BUS_ROLE_LISTENER, svc);
	bus_set_queue_max(l, 1);
	end = mono_ms() + WAIT_MS;
	while (bus_queue_info(l, &qi) != -EACCES) {
		ck_assert(mono_ms() < end);
		(void)bus_run(l);
		ck_assert_int_ge(bus_wait(l, 100), 0);
	}
	rpush(c, q, "{\"thread\":\"q1\"}");
	rpush(c, q, "{\"thread\":\"q2\"}");
	bus_take(l, 2);
	f = next_frame(l);
	ck_assert_uint_eq(f->flags & BUS_F_OVERFLOW, 0);
	bus_frame_free(&f);
	f = next_frame(l);
	bus_frame_free(&f);
	bus_free(&l);
	rds_free(&c);
}
END_TEST

/* Redis restarts: the listener comes back and registers again. */
START_TEST(test_restart)
{
	struct rds_conn		*c;
	struct reg_target	 rt = { rname, (char *)DOM, NULL, 0 };
	struct bus		*l;
	char			 inbox[128], *v;
	uint64_t		 end;
	unsigned		 seen = 0, ev;

	snprintf(inbox, sizeof(inbox), "opensrf:router:%s:%s", rname, DOM);
	l = mk(BUS_ROLE_LISTENER, "opensrf", TH_OPENSRF_PW, "rs.svc", &rt, 1);
	ck_assert_int_eq(bus_register(l, 1), 0);
	ck_assert_int_eq(bus_open(l, WAIT_MS), 0);
	bus_take(l, 1);
	(void)bus_run(l);	/* the events of the first login */
	ck_assert_int_eq(th_server_restart(TH_REDIS), 0);
	end = mono_ms() + 3 * WAIT_MS;
	while (!(seen & BUS_EV_DOWN) || !(seen & BUS_EV_UP)) {
		struct bus_frame *f;

		ck_assert_msg(mono_ms() < end, "never back up");
		ev = (unsigned)bus_run(l);
		/* up counts after down only */
		seen |= ev & BUS_EV_DOWN;
		if (seen & BUS_EV_DOWN)
			seen |= ev & BUS_EV_UP;
		while (bus_recv(l, &f) == 1)
			bus_frame_free(&f);
		/* down: the wait is the back-off's, errors included */
		if (bus_wait(l, 100) < 0)
			continue;
	}
	ck_assert(seen & BUS_EV_DOWN);
	/* the data died with the server: the register is the new one */
	c = raw("router", TH_ROUTER_PW);
	ck_assert_ptr_nonnull(v = blpop(c, inbox, "5"));
	ck_assert(strstr(v, "\"router_command\":\"register\"") != NULL);
	free(v);
	bus_take(l, 0);
	bus_free(&l);
	rds_free(&c);
}
END_TEST

Suite *
bus_redis_suite(void)
{
	Suite	*s = suite_create("bus_redis");
	TCase	*tc;

	tc = tcase_create("redis");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, th_redis_setup, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_client_to_client);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_service_via_router);
	tcase_add_test(tc, test_listener_credit);
	tcase_add_test(tc, test_overflow);
	tcase_add_test(tc, test_queue_age);
	tcase_add_test(tc, test_register);
	tcase_add_test(tc, test_inbox_deleted);
	tcase_add_test(tc, test_other_domain);
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_gateway_listener);
	suite_add_tcase(s, tc);

	tc = tcase_create("opensrf_accounts");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, th_redis_osrf_setup, NULL);
	tcase_add_checked_fixture(tc, setup_osrf, teardown);
	tcase_add_test(tc, test_osrf_accounts);
	suite_add_tcase(s, tc);

	/* its own TCase: it restarts the shared server */
	tc = tcase_create("restart");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, th_redis_setup, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_restart);
	suite_add_tcase(s, tc);
	return s;
}
