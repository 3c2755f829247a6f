/*
 * test_redis_conn.c: the Redis client connection (proto/redis_conn.c)
 * and the accounts it logs in with.
 *
 * Unit cases: error mapping, parameters, the DOWN state, a refused
 * connect, a login that gets no answer.  Integration cases (tag
 * "integration") against the private redis-server of test/servers with
 * drover's accounts (conf/redis-accounts.txt): logins as each ACL user,
 * a wrong password, the rights of each user, a BLPOP on one connection
 * woken by an RPUSH on another, a server stopped under a waiting BLPOP
 * and started again on the same port, pipelining, a 1 MiB value,
 * callbacks that close or free their connection.  Then the same server
 * with OpenSRF main's own accounts file: what drover needs works, only
 * the metric commands are refused.  No sleeps: every wait is a poll()
 * with a deadline; every connection case checks that no descriptor
 * leaked.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/redis_conn.h"
#include "proto/tmsg.h"
#include "th_servers.h"
#include "util.h"

/* Longest any single wait may take before the test fails. */
#define WAIT_MS		5000

/* ------------------------------------------------------------ helpers */

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
	return n - 1;	/* the DIR's own */
}

static int	fds_at_start;

static void
fd_setup(void)
{
	fds_at_start = count_fds();
}

static void
fd_teardown(void)
{
	ck_assert_int_eq(count_fds(), fds_at_start);
}

/* What on_event() reported. */
struct events {
	int	n;		/* calls */
	int	up;		/* calls with 0 */
	int	last;		/* last err */
};

static void
on_event(void *arg, struct rds_conn *c, int err)
{
	struct events	*ev = arg;

	ev->n++;
	ev->up += err == 0;
	ev->last = err;
}

static struct rds_conn *
conn_new(enum th_server_kind k, const char *user, const char *pass,
    struct events *ev)
{
	struct rds_params	 p = { 0 };
	struct rds_conn		*c;

	p.host = "127.0.0.1";
	p.port = th_server(k)->port;
	p.user = user;
	p.pass = pass;
	p.on_event = ev != NULL ? on_event : NULL;
	p.arg = ev;
	ck_assert_int_eq(rds_new(&p, &c), 0);
	return c;
}

/* Connected and logged in, or the test fails with the reason. */
static struct rds_conn *
conn_up(enum th_server_kind k, const char *user, const char *pass,
    struct events *ev)
{
	struct rds_conn	*c = conn_new(k, user, pass, ev);
	int		 rc;

	rc = rds_open(c);
	ck_assert_msg(rc == 0, "login as %s: %s (%s)", user, strerror(-rc),
	    rds_error(c));
	ck_assert_int_eq(rds_state(c), RDS_UP);
	return c;
}

/*
 * Run the connections as an event loop would, until *flag is set; fails
 * the test after WAIT_MS.
 */
static void
run_until(struct rds_conn **cs, int n, const int *flag)
{
	struct pollfd	pfd[8];
	uint64_t	deadline = mono_ms() + WAIT_MS, now;
	uint32_t	ev;
	int		i, t, rc;

	ck_assert_int_le(n, 8);
	while (!*flag) {
		now = mono_ms();
		ck_assert_msg(now < deadline, "no progress in %d ms", WAIT_MS);
		t = (int)(deadline - now);
		for (i = 0; i < n; i++) {
			ev = rds_events(cs[i]);
			pfd[i].fd = rds_fd(cs[i]);
			pfd[i].events = (short)((ev & EPOLLIN ? POLLIN : 0) |
			    (ev & EPOLLOUT ? POLLOUT : 0));
			pfd[i].revents = 0;
			rc = rds_timeout_ms(cs[i], now);
			if (rc >= 0 && rc < t)
				t = rc;
		}
		rc = poll(pfd, (nfds_t)n, t);
		ck_assert_int_ge(rc, 0);
		for (i = 0; i < n; i++) {
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				rds_handle_read(cs[i]);
			if (pfd[i].revents & POLLOUT)
				rds_handle_write(cs[i]);
			rds_tick(cs[i], mono_ms());
		}
	}
}

/* One command, blocking; its error and, for a string, the value. */
static int
call(struct rds_conn *c, struct rds_reply **r, const char *cmd,
    const char *a1, const char *a2, const char *a3)
{
	const char	*argv[4] = { cmd, a1, a2, a3 };
	int		 argc = 1 + (a1 != NULL) + (a2 != NULL) + (a3 != NULL);

	return rds_call(c, WAIT_MS, r, argc, argv, NULL);
}

/* The command's errno, reply freed. */
static int
call_rc(struct rds_conn *c, const char *cmd, const char *a1,
    const char *a2, const char *a3)
{
	struct rds_reply	*r;
	int			 rc;

	rc = call(c, &r, cmd, a1, a2, a3);
	rds_reply_free(&r);
	return rc;
}

/* A key of this test process only, so cases never meet. */
static const char *
key(const char *kind, const char *name)
{
	static char	buf[4][128];
	static int	i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "opensrf:%s:test:%d:%s", kind,
	    (int)getpid(), name);
	return buf[i];
}

/* ---------------------------------------------------------- unit cases */

START_TEST(test_error_errno)
{
	static const struct {
		const char	*text;
		int		 err;
	} t[] = {
		{ "NOPERM this user has no permissions to run the 'keys' "
		    "command", -EACCES },
		{ "WRONGPASS invalid username-password pair or user is "
		    "disabled.", -EACCES },
		{ "NOAUTH Authentication required.", -EACCES },
		{ "LOADING Redis is loading the dataset in memory", -EAGAIN },
		{ "BUSY Redis is busy running a script.", -EAGAIN },
		{ "TRYAGAIN Multiple keys request during rehashing", -EAGAIN },
		{ "MASTERDOWN Link with MASTER is down", -EAGAIN },
		{ "BUSYKEY Target key name already exists.", -EPROTO },
		{ "ERR unknown command 'X'", -EPROTO },
		{ "WRONGTYPE Operation against a key holding the wrong kind",
		    -EPROTO },
		{ "NOPERMS", -EPROTO },
		{ "NOPERM", -EACCES },
		{ "", -EPROTO },
	};
	size_t	i;

	for (i = 0; i < ARRAY_LEN(t); i++)
		ck_assert_msg(rds_error_errno(t[i].text) == t[i].err, "%s",
		    t[i].text);
	ck_assert_int_eq(rds_error_errno(NULL), -EPROTO);
}
END_TEST

START_TEST(test_params)
{
	struct rds_params	 p = { 0 };
	struct rds_conn		*c = (struct rds_conn *)&p;

	ck_assert_int_eq(rds_new(&p, &c), -EINVAL);	/* no host */
	ck_assert_ptr_null(c);
	p.host = "127.0.0.1";
	ck_assert_int_eq(rds_new(&p, &c), -EINVAL);	/* no port */
	p.port = 65536;
	ck_assert_int_eq(rds_new(&p, &c), -EINVAL);
	p.port = 6379;
	p.user = "opensrf";
	ck_assert_int_eq(rds_new(&p, &c), -EINVAL);	/* no password */
	p.pass = "x";
	ck_assert_int_eq(rds_new(&p, &c), 0);
	/* DOWN: nothing to poll, nothing accepted, nothing happens */
	ck_assert_int_eq(rds_state(c), RDS_DOWN);
	ck_assert_int_eq(rds_fd(c), -1);
	ck_assert_uint_eq(rds_events(c), 0);
	ck_assert_int_eq(rds_timeout_ms(c, mono_ms()), -1);
	ck_assert_int_eq(rds_commandl(c, NULL, NULL, "PING", (char *)NULL),
	    -ENOTCONN);
	ck_assert_int_eq(rds_wait(c, 0), -ENOTCONN);
	rds_handle_read(c);
	rds_handle_write(c);
	rds_tick(c, mono_ms() + 1000000);
	rds_close(c);
	ck_assert_str_eq(rds_error(c), "");
	ck_assert_uint_eq(rds_pending(c), 0);
	rds_free(&c);
	ck_assert_ptr_null(c);
	rds_free(&c);		/* NULL is a no-op */
	rds_forget(&c);
}
END_TEST

/* A free loopback port nothing listens on. */
static int
closed_port(void)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	socklen_t		len = sizeof(sin);
	int			fd, port;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

START_TEST(test_refused)
{
	struct rds_params	 p = { 0 };
	struct rds_conn		*c;
	struct events		 ev = { 0 };
	int			 rc, done = 0;

	p.host = "127.0.0.1";
	p.port = closed_port();
	p.user = "opensrf";
	p.pass = TH_OPENSRF_PW;
	p.on_event = on_event;
	p.arg = &ev;
	ck_assert_int_eq(rds_new(&p, &c), 0);
	/* Refused at once (no event) or a moment later (one event). */
	rc = rds_connect(c);
	if (rc == 0) {
		while (!done) {
			ck_assert_int_ge(rds_wait(c, WAIT_MS), 0);
			done = ev.n > 0;
		}
		ck_assert_int_eq(ev.n, 1);
		rc = ev.last;
	} else
		ck_assert_int_eq(ev.n, 0);
	ck_assert_int_eq(rc, -ECONNREFUSED);
	ck_assert_int_eq(rds_state(c), RDS_DOWN);
	ck_assert_ptr_nonnull(strstr(rds_error(c), "connect(127.0.0.1:"));
	/* rds_open() says the same */
	ck_assert_int_eq(rds_open(c), -ECONNREFUSED);
	p.host = "no-such-host.invalid";
	rds_free(&c);
	ck_assert_int_eq(rds_new(&p, &c), 0);
	ck_assert_int_eq(rds_connect(c), -EHOSTUNREACH);
	ck_assert_ptr_nonnull(strstr(rds_error(c), "getaddrinfo"));
	rds_free(&c);
}
END_TEST

/* A server that accepts and never answers: the AUTH deadline. */
START_TEST(test_login_timeout)
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	socklen_t		 len = sizeof(sin);
	struct rds_params	 p = { 0 };
	struct rds_conn		*c;
	struct events		 ev = { 0 };
	uint64_t		 t0;
	int			 lfd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	p.host = "127.0.0.1";
	p.port = ntohs(sin.sin_port);
	p.user = "opensrf";
	p.pass = TH_OPENSRF_PW;
	p.connect_timeout_ms = 200;
	p.on_event = on_event;
	p.arg = &ev;
	ck_assert_int_eq(rds_new(&p, &c), 0);
	t0 = mono_ms();
	ck_assert_int_eq(rds_open(c), -ETIMEDOUT);
	ck_assert_uint_ge(mono_ms() - t0, 200);
	ck_assert_int_eq(ev.n, 1);
	ck_assert_int_eq(ev.last, -ETIMEDOUT);
	ck_assert_msg(strstr(rds_error(c), "AUTH to 127.0.0.1") != NULL,
	    "%s", rds_error(c));
	rds_free(&c);
	close(lfd);
}
END_TEST

/* --------------------------------------------------- logins and rights */

START_TEST(test_login)
{
	static const struct {
		const char	*user, *pass;
	} users[] = {
		{ "opensrf", TH_OPENSRF_PW }, { "router", TH_ROUTER_PW },
		{ "gateway", TH_GATEWAY_PW },
	};
	struct events	 ev = { 0 };
	struct rds_conn	*c;
	int		 one = 0, fl;
	socklen_t	 len = sizeof(one);

	c = conn_up(TH_REDIS, users[_i].user, users[_i].pass, &ev);
	ck_assert_int_eq(ev.n, 1);
	ck_assert_int_eq(ev.up, 1);
	ck_assert_uint_eq(rds_events(c), EPOLLIN);
	ck_assert_int_eq(rds_timeout_ms(c, mono_ms()), -1);
	/* the socket's promises */
	fl = fcntl(rds_fd(c), F_GETFD);
	ck_assert(fl & FD_CLOEXEC);
	ck_assert(fcntl(rds_fd(c), F_GETFL) & O_NONBLOCK);
	ck_assert_int_eq(getsockopt(rds_fd(c), IPPROTO_TCP, TCP_NODELAY,
	    &one, &len), 0);
	ck_assert_int_ne(one, 0);
	ck_assert_int_eq(rds_connect(c), -EISCONN);
	ck_assert_int_eq(call_rc(c, "RPUSH", key("client", "login"), "x",
	    NULL), 0);
	ck_assert_int_eq(call_rc(c, "DEL", key("client", "login"), NULL,
	    NULL), 0);
	rds_free(&c);
	ck_assert_int_eq(ev.n, 1);	/* freeing is not a loss */
}
END_TEST

/* A host name, resolved (the domain is the host in OpenSRF's files). */
START_TEST(test_login_by_name)
{
	struct rds_params	 p = { 0 };
	struct rds_conn		*c;

	p.host = "localhost";
	p.port = th_server(TH_REDIS)->port;
	p.user = "opensrf";
	p.pass = TH_OPENSRF_PW;
	ck_assert_int_eq(rds_new(&p, &c), 0);
	ck_assert_msg(rds_open(c) == 0, "%s", rds_error(c));
	ck_assert_int_eq(call_rc(c, "DEL", key("client", "name"), NULL,
	    NULL), 0);
	rds_free(&c);
}
END_TEST

START_TEST(test_wrong_password)
{
	static const char *const who[][2] = {
		{ "opensrf", "routerpw" }, { "nosuchuser", "x" },
		{ "default", "" },
	};
	struct events	 ev = { 0 };
	struct rds_conn	*c;

	c = conn_new(TH_REDIS, who[_i][0], who[_i][1], &ev);
	ck_assert_int_eq(rds_open(c), -EACCES);
	ck_assert_int_eq(ev.n, 1);
	ck_assert_int_eq(ev.last, -EACCES);
	ck_assert_int_eq(rds_state(c), RDS_DOWN);
	ck_assert_int_eq(rds_fd(c), -1);
	/* the server's text is kept for the log */
	ck_assert_msg(strstr(rds_error(c), "WRONGPASS") != NULL, "%s",
	    rds_error(c));
	ck_assert_ptr_nonnull(strstr(rds_error(c), who[_i][0]));
	rds_free(&c);
}
END_TEST

START_TEST(test_opensrf_rights)
{
	struct rds_conn		*c;
	struct rds_reply	*r;
	const char		*k = key("client", "rights");

	c = conn_up(TH_REDIS, "opensrf", TH_OPENSRF_PW, NULL);
	ck_assert_int_eq(call(c, &r, "RPUSH", k, "one", NULL), 0);
	ck_assert_int_eq(r->type, RDS_INTEGER);
	ck_assert_int_eq(r->integer, 1);
	rds_reply_free(&r);
	ck_assert_int_eq(call_rc(c, "RPUSH", k, "two", NULL), 0);
	ck_assert_int_eq(call(c, &r, "LPOP", k, NULL, NULL), 0);
	ck_assert_int_eq(r->type, RDS_STRING);
	ck_assert_str_eq(r->str, "one");
	rds_reply_free(&r);
	ck_assert_int_eq(call(c, &r, "BLPOP", k, "1", NULL), 0);
	ck_assert_int_eq(r->type, RDS_ARRAY);
	ck_assert_uint_eq(r->n, 2);
	ck_assert_str_eq(r->elem[0]->str, k);
	ck_assert_str_eq(r->elem[1]->str, "two");
	rds_reply_free(&r);
	ck_assert_int_eq(call(c, &r, "LPOP", k, NULL, NULL), 0);
	ck_assert_int_eq(r->type, RDS_NIL);
	rds_reply_free(&r);
	ck_assert_int_eq(call(c, &r, "DEL", k, NULL, NULL), 0);
	ck_assert_int_eq(r->integer, 0);
	rds_reply_free(&r);
	/* outside opensrf:router|service|client:*, and KEYS: refused */
	ck_assert_int_eq(call(c, &r, "RPUSH", "opensrf:foo", "x", NULL),
	    -EACCES);
	ck_assert_int_eq(r->type, RDS_ERROR);
	ck_assert_msg(strncmp(r->str, "NOPERM", 6) == 0, "%s", r->str);
	rds_reply_free(&r);
	ck_assert_int_eq(call(c, &r, "KEYS", "*", NULL, NULL), -EACCES);
	ck_assert_ptr_nonnull(strstr(r->str, "'keys'"));
	rds_reply_free(&r);
	ck_assert_int_eq(call_rc(c, "SET", k, "x", NULL), -EACCES);
	ck_assert_int_eq(call_rc(c, "GET", k, NULL, NULL), -EACCES);
	ck_assert_int_eq(call_rc(c, "FLUSHALL", NULL, NULL, NULL), -EACCES);
	/* a refused command leaves the connection up */
	ck_assert_int_eq(rds_state(c), RDS_UP);
	rds_free(&c);
}
END_TEST

START_TEST(test_gateway_rights)
{
	struct rds_conn	*c;
	const char	*svc = key("service", "gw");
	const char	*rt = key("router", "gw");

	c = conn_up(TH_REDIS, "gateway", TH_GATEWAY_PW, NULL);
	ck_assert_int_eq(call_rc(c, "RPUSH", svc, "x", NULL), -EACCES);
	ck_assert_int_eq(call_rc(c, "LPOP", svc, NULL, NULL), -EACCES);
	ck_assert_int_eq(call_rc(c, "RPUSH", rt, "x", NULL), 0);
	ck_assert_int_eq(call_rc(c, "DEL", rt, NULL, NULL), 0);
	ck_assert_int_eq(call_rc(c, "LLEN", rt, NULL, NULL), -EACCES);
	rds_free(&c);
}
END_TEST

/* drover's additions: LLEN, LINDEX, SCAN for opensrf, nobody else. */
START_TEST(test_drover_rights)
{
	struct rds_conn		*c, *rc;
	struct rds_reply	*r;
	const char		*svc = key("service", "metrics");

	c = conn_up(TH_REDIS, "opensrf", TH_OPENSRF_PW, NULL);
	ck_assert_int_eq(call_rc(c, "RPUSH", svc, "first", NULL), 0);
	ck_assert_int_eq(call_rc(c, "RPUSH", svc, "second", NULL), 0);
	ck_assert_int_eq(call(c, &r, "LLEN", svc, NULL, NULL), 0);
	ck_assert_int_eq(r->integer, 2);
	rds_reply_free(&r);
	ck_assert_int_eq(call(c, &r, "LINDEX", svc, "0", NULL), 0);
	ck_assert_str_eq(r->str, "first");
	rds_reply_free(&r);
	{
		const char	*argv[] = { "SCAN", "0", "MATCH",
				    "opensrf:service:test:*", "COUNT", "1000" };

		ck_assert_int_eq(rds_call(c, WAIT_MS, &r, 6, argv, NULL), 0);
	}
	ck_assert_int_eq(r->type, RDS_ARRAY);
	ck_assert_uint_eq(r->n, 2);
	ck_assert_int_eq(r->elem[1]->type, RDS_ARRAY);
	rds_reply_free(&r);
	/* still only on the opensrf key patterns */
	ck_assert_int_eq(call_rc(c, "LLEN", "other", NULL, NULL), -EACCES);
	ck_assert_int_eq(call_rc(c, "DEL", svc, NULL, NULL), 0);
	/* the router and the gateway did not get them */
	rc = conn_up(TH_REDIS, "router", TH_ROUTER_PW, NULL);
	ck_assert_int_eq(call_rc(rc, "LLEN", svc, NULL, NULL), -EACCES);
	ck_assert_int_eq(call_rc(rc, "SCAN", "0", NULL, NULL), -EACCES);
	rds_free(&rc);
	rds_free(&c);
}
END_TEST

/* ---------------------------------------------------------- behaviour */

/* A completion that records its result and keeps a popped value. */
struct done {
	int	 n;
	int	 err;
	int	 type;
	char	*value;		/* BLPOP/LPOP value, taken */
	size_t	 len;
};

static void
on_done(void *arg, int err, struct rds_reply *r)
{
	struct done	*d = arg;

	d->n++;
	d->err = err;
	d->type = r != NULL ? (int)r->type : 0;
	if (r != NULL && r->type == RDS_ARRAY && r->n == 2)
		d->value = rds_reply_take(r->elem[1], &d->len);
	else if (r != NULL && r->type == RDS_STRING)
		d->value = rds_reply_take(r, &d->len);
}

START_TEST(test_blpop_wakes)
{
	struct rds_conn	*cs[2];
	struct done	 d = { 0 }, push = { 0 };
	const char	*k = key("client", "wake");

	cs[0] = conn_up(TH_REDIS, "opensrf", TH_OPENSRF_PW, NULL);
	cs[1] = conn_up(TH_REDIS, "router", TH_ROUTER_PW, NULL);
	ck_assert_int_eq(rds_commandl(cs[0], on_done, &d, "BLPOP", k, "0",
	    (char *)NULL), 0);
	ck_assert_uint_eq(rds_pending(cs[0]), 1);
	/* the BLPOP is on the server and waits: the other one sends */
	ck_assert_int_eq(rds_commandl(cs[1], on_done, &push, "RPUSH", k,
	    "{\"to\":\"x\"}", (char *)NULL), 0);
	run_until(cs, 2, &d.n);
	ck_assert_int_eq(d.n, 1);
	ck_assert_int_eq(d.err, 0);
	ck_assert_str_eq(d.value, "{\"to\":\"x\"}");
	ck_assert_uint_eq(d.len, 10);
	ck_assert_uint_eq(rds_pending(cs[0]), 0);
	run_until(cs, 2, &push.n);
	ck_assert_int_eq(push.err, 0);
	free(d.value);
	rds_free(&cs[0]);
	rds_free(&cs[1]);
}
END_TEST

/*
 * The server stops under a waiting BLPOP: the command fails and the loss
 * is reported once; a new connect after the server is back (same port)
 * works.  Leaves the server running.
 */
START_TEST(test_server_restart)
{
	struct rds_conn	*c;
	struct events	 ev = { 0 };
	struct done	 d = { 0 };
	int		 i, port = th_server(TH_REDIS)->port;

	c = conn_up(TH_REDIS, "opensrf", TH_OPENSRF_PW, &ev);
	ck_assert_int_eq(rds_commandl(c, on_done, &d, "BLPOP",
	    key("client", "restart"), "0", (char *)NULL), 0);
	ck_assert_int_eq(th_server_stop(TH_REDIS), 0);
	run_until(&c, 1, &d.n);
	ck_assert_int_eq(d.n, 1);
	ck_assert_int_eq(d.err, -ENOTCONN);
	ck_assert_int_eq(ev.n, 2);		/* up, then lost: once */
	ck_assert_int_eq(ev.last, -ENOTCONN);
	ck_assert_int_eq(rds_state(c), RDS_DOWN);
	ck_assert_int_eq(rds_fd(c), -1);
	ck_assert_msg(strstr(rds_error(c), "closed") != NULL ||
	    strstr(rds_error(c), "reset") != NULL, "%s", rds_error(c));
	/* nothing more happens, whatever the owner calls */
	for (i = 0; i < 3; i++) {
		rds_handle_read(c);
		rds_handle_write(c);
		rds_tick(c, mono_ms());
	}
	ck_assert_int_eq(ev.n, 2);
	ck_assert_int_eq(d.n, 1);
	ck_assert_int_eq(rds_commandl(c, NULL, NULL, "PING", (char *)NULL),
	    -ENOTCONN);
	/* while it is down, a connect fails */
	ck_assert_int_ne(rds_open(c), 0);
	ck_assert_int_eq(th_server_start_again(TH_REDIS), 0);
	ck_assert_int_eq(th_server(TH_REDIS)->port, port);
	ck_assert_int_eq(rds_open(c), 0);
	ck_assert_int_eq(call_rc(c, "RPUSH", key("client", "restart"), "x",
	    NULL), 0);
	ck_assert_int_eq(call_rc(c, "DEL", key("client", "restart"), NULL,
	    NULL), 0);
	rds_free(&c);
}
END_TEST

/* Many commands in flight at once complete in order. */
#define PIPELINED	2000

struct order {
	int	next;		/* index expected next */
	int	bad;
	int	done;
};

static void
on_ordered(void *arg, int err, struct rds_reply *r)
{
	struct order	*o = arg;

	/* RPUSH i answers i + 1, the list's new length */
	if (err != 0 || r->type != RDS_INTEGER || r->integer != o->next + 1)
		o->bad++;
	o->done = ++o->next == PIPELINED;
}

START_TEST(test_pipelined)
{
	struct rds_conn		*c;
	struct rds_reply	*r;
	struct order		 o = { 0, 0, 0 };
	const char		*k = key("client", "pipe");
	char			 v[16];
	int			 i;

	c = conn_up(TH_REDIS, "opensrf", TH_OPENSRF_PW, NULL);
	for (i = 0; i < PIPELINED; i++) {
		snprintf(v, sizeof(v), "%d", i);
		ck_assert_int_eq(rds_commandl(c, on_ordered, &o, "RPUSH", k, v,
		    (char *)NULL), 0);
	}
	ck_assert_uint_eq(rds_pending(c), PIPELINED);
	run_until(&c, 1, &o.done);
	ck_assert_int_eq(o.bad, 0);
	ck_assert_int_eq(o.next, PIPELINED);
	for (i = 0; i < PIPELINED; i += 500) {
		snprintf(v, sizeof(v), "%d", i);
		ck_assert_int_eq(call(c, &r, "LINDEX", k, v, NULL), 0);
		ck_assert_str_eq(r->str, v);
		rds_reply_free(&r);
	}
	ck_assert_int_eq(call_rc(c, "DEL", k, NULL, NULL), 0);
	rds_free(&c);
}
END_TEST

/* 1 MiB, every byte value, through RPUSH and LPOP. */
START_TEST(test_big_value)
{
	const size_t	 n = 1024 * 1024;
	struct rds_conn	*cs[2];
	struct done	 d = { 0 }, push = { 0 };
	const char	*k = key("client", "big");
	const char	*argv[3] = { "RPUSH", k, NULL };
	size_t		 lens[3] = { 5, strlen(k), n };
	char		*v;
	size_t		 i;

	v = malloc(n);
	ck_assert_ptr_nonnull(v);
	for (i = 0; i < n; i++)
		v[i] = (char)(i * 7 + i / 256);	/* \0, \r, \n included */
	argv[2] = v;
	cs[0] = conn_up(TH_REDIS, "opensrf", TH_OPENSRF_PW, NULL);
	cs[1] = conn_up(TH_REDIS, "opensrf", TH_OPENSRF_PW, NULL);
	ck_assert_int_eq(rds_command(cs[0], on_done, &push, 3, argv, lens),
	    0);
	ck_assert_int_eq(rds_commandl(cs[1], on_done, &d, "BLPOP", k, "0",
	    (char *)NULL), 0);
	run_until(cs, 2, &d.n);
	ck_assert_int_eq(d.err, 0);
	ck_assert_uint_eq(d.len, n);
	ck_assert(memcmp(d.value, v, n) == 0);
	ck_assert_int_eq(d.value[n], '\0');
	run_until(cs, 2, &push.n);
	ck_assert_int_eq(push.err, 0);
	free(d.value);
	free(v);
	rds_free(&cs[0]);
	rds_free(&cs[1]);
}
END_TEST

/* rds_call()'s deadline: the late reply is dropped, order kept. */
START_TEST(test_call_timeout)
{
	struct rds_conn		*c, *p;
	struct rds_reply	*r;
	const char		*k = key("client", "late");

	c = conn_up(TH_REDIS, "opensrf", TH_OPENSRF_PW, NULL);
	p = conn_up(TH_REDIS, "opensrf", TH_OPENSRF_PW, NULL);
	{
		const char	*argv[] = { "BLPOP", k, "0" };

		ck_assert_int_eq(rds_call(c, 100, &r, 3, argv, NULL),
		    -ETIMEDOUT);
	}
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(rds_pending(c), 1);	/* still on the server */
	ck_assert_int_eq(call_rc(p, "RPUSH", k, "late", NULL), 0);
	/* the next reply on c is its own, not the BLPOP's */
	ck_assert_int_eq(call(c, &r, "LPOP", k, NULL, NULL), 0);
	ck_assert_int_eq(r->type, RDS_NIL);	/* the BLPOP took it */
	rds_reply_free(&r);
	ck_assert_uint_eq(rds_pending(c), 0);
	rds_free(&p);
	rds_free(&c);
}
END_TEST

/* rds_close(): pending commands cancelled, no event; reconnect works. */
START_TEST(test_close_pending)
{
	struct rds_conn	*c;
	struct events	 ev = { 0 };
	struct done	 d = { 0 };

	c = conn_up(TH_REDIS, "opensrf", TH_OPENSRF_PW, &ev);
	ck_assert_int_eq(rds_commandl(c, on_done, &d, "BLPOP",
	    key("client", "close"), "0", (char *)NULL), 0);
	rds_close(c);
	ck_assert_int_eq(d.n, 1);
	ck_assert_int_eq(d.err, -ECANCELED);
	ck_assert_int_eq(ev.n, 1);
	ck_assert_int_eq(rds_state(c), RDS_DOWN);
	ck_assert_int_eq(rds_open(c), 0);
	ck_assert_int_eq(ev.n, 2);
	ck_assert_int_eq(call_rc(c, "DEL", key("client", "close"), NULL,
	    NULL), 0);
	/* freeing with a command pending cancels it too */
	d.n = 0;
	ck_assert_int_eq(rds_commandl(c, on_done, &d, "BLPOP",
	    key("client", "close"), "0", (char *)NULL), 0);
	rds_free(&c);
	ck_assert_int_eq(d.n, 1);
	ck_assert_int_eq(d.err, -ECANCELED);
}
END_TEST

/* A callback frees its own connection; the rest are cancelled. */
struct self_free {
	struct rds_conn	*c;
	int		 n, cancelled;
};

static void
on_free_self(void *arg, int err, struct rds_reply *r)
{
	struct self_free	*s = arg;

	if (err == -ECANCELED) {
		s->cancelled++;
		return;
	}
	s->n++;
	rds_free(&s->c);
}

START_TEST(test_free_in_callback)
{
	struct self_free	 s = { NULL, 0, 0 };
	struct rds_conn		*c;
	int			 done = 0;

	s.c = conn_up(TH_REDIS, "opensrf", TH_OPENSRF_PW, NULL);
	c = s.c;
	ck_assert_int_eq(rds_commandl(c, on_free_self, &s, "PING",
	    (char *)NULL), 0);
	ck_assert_int_eq(rds_commandl(c, on_free_self, &s, "PING",
	    (char *)NULL), 0);
	/* no run_until: c disappears under us, so poll by hand */
	while (!done) {
		struct pollfd	pfd = { .fd = rds_fd(c), .events = POLLIN };

		ck_assert_int_eq(poll(&pfd, 1, WAIT_MS), 1);
		rds_handle_read(c);	/* frees c inside */
		done = s.c == NULL;
	}
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.cancelled, 1);
}
END_TEST

/* A message through a service queue, encoded and decoded as the bus
 * will: the envelope survives Redis unchanged. */
static void
envelope_through(enum th_server_kind k)
{
	struct rds_conn		*c;
	struct rds_reply	*r;
	struct tmsg		 m = TMSG_INIT, back = TMSG_INIT;
	const char		*q = key("service", "envelope");
	char			*json;
	size_t			 len;

	m.to = "opensrf:service:_:_:opensrf.math";
	m.from = "opensrf:client:opensrf:private.localhost:vm:1:2";
	m.thread = "t-1";
	m.body = "[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"1\","
	    "\"type\":\"REQUEST\",\"payload\":{\"__c\":\"osrfMethod\","
	    "\"__p\":{\"method\":\"add\",\"params\":[2,2]}}}}]";
	ck_assert_int_eq(tmsg_json_write(&m, &json, &len), 0);
	c = conn_up(k, "opensrf", TH_OPENSRF_PW, NULL);
	ck_assert_int_eq(call_rc(c, "RPUSH", q, json, NULL), 0);
	ck_assert_int_eq(call(c, &r, "BLPOP", q, "1", NULL), 0);
	ck_assert_uint_eq(r->elem[1]->len, len);
	ck_assert_str_eq(r->elem[1]->str, json);
	ck_assert_int_eq(tmsg_json_parse(r->elem[1]->str, r->elem[1]->len,
	    &back, NULL), 0);
	ck_assert_str_eq(back.body, m.body);
	rds_reply_free(&r);
	tmsg_clear(&back);
	free(json);
	ck_assert_int_eq(call_rc(c, "DEL", q, NULL, NULL), 0);
	rds_free(&c);
}

START_TEST(test_envelope)
{
	envelope_through(TH_REDIS);
}
END_TEST

/* ------------------------------------------- OpenSRF's exact accounts */

/* The rights of one "user NAME ..." line of ACL LIST, sorted, the
 * password hash left out. */
static void
acl_rights(const char *text, const char *user, char *out, size_t outsz)
{
	char		 line[1024], *tok, *save, *toks[64];
	const char	*p;
	size_t		 n = 0, i, j, want = strlen(user);

	out[0] = '\0';
	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, "user ", 5) == 0 &&
		    strncmp(p + 5, user, want) == 0 && p[5 + want] == ' ')
			break;
	}
	ck_assert_msg(p != NULL && *p != '\0', "no ACL line for %s", user);
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	for (tok = strtok_r(line, " ", &save); tok != NULL && n < 64;
	    tok = strtok_r(NULL, " ", &save))
		if (tok[0] != '#')
			toks[n++] = tok;
	for (i = 1; i < n; i++)		/* insertion sort: a few tokens */
		for (j = i; j > 0 && strcmp(toks[j - 1], toks[j]) > 0; j--) {
			tok = toks[j];
			toks[j] = toks[j - 1];
			toks[j - 1] = tok;
		}
	for (i = 0; i < n; i++) {
		strncat(out, toks[i], outsz - strlen(out) - 2);
		strncat(out, " ", outsz - strlen(out) - 1);
	}
}

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 n;

	f = fopen(path, "re");
	ck_assert_msg(f != NULL, "%s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static char *
server_acl(enum th_server_kind k)
{
	char	path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/acl-list.txt", th_server(k)->dir);
	return slurp(path);
}

static char *
capture_acl(void)
{
	char		 path[PATH_MAX];
	const char	*top = getenv("DROVER_TOP");

	snprintf(path, sizeof(path), "%s/test/data/captures-redis/"
	    "00-redis-accounts.txt", top != NULL ? top : ".");
	return slurp(path);
}

/* The server loaded OpenSRF's file: the same rights as the capture. */
START_TEST(test_osrf_accounts_loaded)
{
	static const char *const users[] = {
		"default", "opensrf", "router", "gateway",
	};
	char	*srv = server_acl(TH_REDIS_OSRF), *cap = capture_acl();
	char	 a[1024], b[1024];
	size_t	 i;

	for (i = 0; i < ARRAY_LEN(users); i++) {
		acl_rights(srv, users[i], a, sizeof(a));
		acl_rights(strstr(cap, "--- ACL LIST"), users[i], b, sizeof(b));
		ck_assert_str_eq(a, b);
	}
	free(srv);
	free(cap);
}
END_TEST

/* drover's file: OpenSRF's rights plus +llen +lindex +scan for opensrf,
 * nothing else anywhere. */
START_TEST(test_drover_accounts_loaded)
{
	char	*srv = server_acl(TH_REDIS), *cap = capture_acl();
	char	 a[1024], b[1024], *extra;

	acl_rights(srv, "opensrf", a, sizeof(a));
	acl_rights(strstr(cap, "--- ACL LIST"), "opensrf", b, sizeof(b));
	ck_assert_str_eq(a, "+blpop +del +lindex +llen +lpop +rpush +scan "
	    "-@all on opensrf resetchannels sanitize-payload user "
	    "~opensrf:client:* ~opensrf:router:* ~opensrf:service:* ");
	/* the same minus the three additions */
	while ((extra = strstr(a, "+lindex ")) != NULL ||
	    (extra = strstr(a, "+llen ")) != NULL ||
	    (extra = strstr(a, "+scan ")) != NULL)
		memmove(extra, strchr(extra, ' ') + 1,
		    strlen(strchr(extra, ' ') + 1) + 1);
	ck_assert_str_eq(a, b);
	acl_rights(srv, "router", a, sizeof(a));
	acl_rights(strstr(cap, "--- ACL LIST"), "router", b, sizeof(b));
	ck_assert_str_eq(a, b);
	acl_rights(srv, "gateway", a, sizeof(a));
	acl_rights(strstr(cap, "--- ACL LIST"), "gateway", b, sizeof(b));
	ck_assert_str_eq(a, b);
	free(srv);
	free(cap);
}
END_TEST

/*
 * On OpenSRF's rights everything drover's bus sends works; only the
 * metric and sweep commands are refused (degraded metrics, nothing
 * else).
 */
START_TEST(test_osrf_rights)
{
	struct rds_conn	*c, *g;
	const char	*svc = key("service", "osrf");

	envelope_through(TH_REDIS_OSRF);
	c = conn_up(TH_REDIS_OSRF, "opensrf", TH_OPENSRF_PW, NULL);
	ck_assert_int_eq(call_rc(c, "RPUSH", svc, "x", NULL), 0);
	ck_assert_int_eq(call_rc(c, "LLEN", svc, NULL, NULL), -EACCES);
	ck_assert_int_eq(call_rc(c, "LINDEX", svc, "0", NULL), -EACCES);
	ck_assert_int_eq(call_rc(c, "SCAN", "0", NULL, NULL), -EACCES);
	ck_assert_int_eq(call_rc(c, "LPOP", svc, NULL, NULL), 0);
	ck_assert_int_eq(call_rc(c, "DEL", svc, NULL, NULL), 0);
	ck_assert_int_eq(rds_state(c), RDS_UP);
	g = conn_up(TH_REDIS_OSRF, "gateway", TH_GATEWAY_PW, NULL);
	ck_assert_int_eq(call_rc(g, "RPUSH", svc, "x", NULL), -EACCES);
	rds_free(&g);
	rds_free(&c);
}
END_TEST

Suite *
redis_conn_suite(void)
{
	Suite	*s = suite_create("redis_conn");
	TCase	*tc;

	tc = tcase_create("unit");
	tcase_add_checked_fixture(tc, fd_setup, fd_teardown);
	tcase_add_test(tc, test_error_errno);
	tcase_add_test(tc, test_params);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_login_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("redis");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, th_redis_setup, NULL);
	tcase_add_checked_fixture(tc, fd_setup, fd_teardown);
	tcase_add_loop_test(tc, test_login, 0, 3);
	tcase_add_test(tc, test_login_by_name);
	tcase_add_loop_test(tc, test_wrong_password, 0, 3);
	tcase_add_test(tc, test_opensrf_rights);
	tcase_add_test(tc, test_gateway_rights);
	tcase_add_test(tc, test_drover_rights);
	tcase_add_test(tc, test_drover_accounts_loaded);
	tcase_add_test(tc, test_blpop_wakes);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_big_value);
	tcase_add_test(tc, test_call_timeout);
	tcase_add_test(tc, test_close_pending);
	tcase_add_test(tc, test_free_in_callback);
	tcase_add_test(tc, test_envelope);
	tcase_add_test(tc, test_server_restart);
	suite_add_tcase(s, tc);

	tc = tcase_create("opensrf_accounts");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, th_redis_osrf_setup, NULL);
	tcase_add_checked_fixture(tc, fd_setup, fd_teardown);
	tcase_add_test(tc, test_osrf_accounts_loaded);
	tcase_add_test(tc, test_osrf_rights);
	suite_add_tcase(s, tc);
	return s;
}
