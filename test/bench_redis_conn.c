/*
 * bench_redis_conn.c: the cost of the Redis layer (proto/redis_conn.c
 * and the JSON envelope of proto/tmsg_json.c) against a private
 * redis-server.
 *
 * Starts redis-server with test/servers/redis (or adopts the instance in
 * $DROVER_TEST_REDIS_DIR) and measures:
 *   - round trip: connection A waits in BLPOP on a list, B RPUSHes one
 *     envelope to it; A's reply is taken without a copy and decoded,
 *     then A waits again and B pushes the next.  One hop of a request
 *     (client -> service queue -> listener), one at a time: round trips
 *     per second, and the client CPU (user + system of this process, which
 *     runs both ends) per round trip in microseconds.  Redis's own CPU
 *     is not counted.
 *   - the codec alone: tmsg_json_parse() and tmsg_json_write() per
 *     envelope, for an OpenSRF-sized request and the 205 KB one of
 *     06-chunked.
 * The server is stopped at exit; if the bench dies, the script's guard
 * (fd 3, see test/servers/README) stops it.  Run from the source top.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/pbuf.h"
#include "proto/redis_conn.h"
#include "proto/tmsg.h"
#include "util.h"

#define ROUND_TRIPS	20000
#define BIG_TRIPS	2000	/* with a 64 KiB body */
#define CODEC_LOOPS	200000
#define BIG_LOOPS	500
#define WAIT_MS		10000
#define SMALL_BODY	700	/* an OpenSRF request body, roughly */

static char	srv_dir[256];
static int	srv_port;
static int	srv_owned;

static void
die(const char *what)
{
	fprintf(stderr, "bench_redis_conn: %s\n", what);
	exit(1);
}

static int
run(const char *cmd, const char *dir, int guard_fd)
{
	pid_t	pid;
	int	st;

	fflush(stdout);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(126);
		/* dup2() onto itself would keep close-on-exec */
		if (guard_fd == 3 && fcntl(3, F_SETFD, 0) == -1)
			_exit(126);
		if (guard_fd >= 0 && guard_fd != 3 && dup2(guard_fd, 3) == -1)
			_exit(126);
		if (guard_fd >= 0)
			execl("test/servers/redis", "redis", cmd, dir,
			    "--guard-fd", "3", (char *)NULL);
		else
			execl("test/servers/redis", "redis", cmd, dir,
			    (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void
stop_server(void)
{
	if (srv_owned && run("stop", srv_dir, -1) != 0)
		fprintf(stderr, "bench_redis_conn: stopping redis failed\n");
}

static void
start_server(void)
{
	const char	*ext = getenv("DROVER_TEST_REDIS_DIR");
	char		 path[300], line[128];
	FILE		*f;
	int		 guard[2];

	if (ext != NULL && *ext != '\0')
		snprintf(srv_dir, sizeof(srv_dir), "%s", ext);
	else {
		snprintf(srv_dir, sizeof(srv_dir),
		    "/tmp/drover-bench-redis-XXXXXX");
		if (mkdtemp(srv_dir) == NULL || pipe2(guard, O_CLOEXEC) != 0)
			die("mkdtemp/pipe2");
		if (run("start", srv_dir, guard[0]) != 0)
			die("cannot start redis-server (test/servers/redis)");
		srv_owned = 1;
		atexit(stop_server);
	}
	snprintf(path, sizeof(path), "%s/env", srv_dir);
	if ((f = fopen(path, "re")) == NULL)
		die("no env file");
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "REDIS_PORT=", 11) == 0)
			srv_port = atoi(line + 11);
	fclose(f);
	if (srv_port <= 0)
		die("no REDIS_PORT");
}

static struct rds_conn *
open_conn(void)
{
	struct rds_params	 p = { 0 };
	struct rds_conn		*c;

	p.host = "127.0.0.1";
	p.port = srv_port;
	p.user = "opensrf";
	p.pass = "opensrfpw";
	if (rds_new(&p, &c) != 0 || rds_open(c) != 0)
		die("login as opensrf failed");
	return c;
}

/* An envelope as a client writes it, with a body of about n bytes. */
static char *
envelope(size_t n, size_t *lenp)
{
	struct pbuf	 body = { 0 };
	struct tmsg	 m = TMSG_INIT;
	char		*out;

	if (pbuf_adds(&body, "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"1\",\"locale\":\"en-US\",\"type\":"
	    "\"REQUEST\",\"payload\":{\"__c\":\"osrfMethod\",\"__p\":{"
	    "\"method\":\"opensrf.system.echo\",\"params\":[\"") != 0)
		die("out of memory");
	while (body.len < n)
		if (pbuf_addc(&body, 'A') != 0)
			die("out of memory");
	if (pbuf_adds(&body, "\"]}}}}]") != 0)
		die("out of memory");
	m.to = "opensrf:service:_:_:opensrf.math";
	m.from = "opensrf:client:opensrf:private.localhost:bench:1:cafef00d";
	m.thread = "1796179652.932156.179617965218075";
	m.osrf_xid = "1796179652180750";
	m.body = body.data;
	if (tmsg_json_write(&m, &out, lenp) != 0)
		die("tmsg_json_write");
	pbuf_free(&body);
	return out;
}

/* ------------------------------------------------------- round trips */

struct trip {
	struct rds_conn	*a, *b;
	const char	*key;
	const char	*msg;
	size_t		 len;
	int		 left;		/* round trips to go */
	int		 got;		/* A's reply arrived */
	int		 failed;
};

static void
on_pushed(void *arg, int err, struct rds_reply *r)
{
	struct trip	*t = arg;

	if (err != 0)
		t->failed = 1;
}

static void
on_popped(void *arg, int err, struct rds_reply *r)
{
	struct trip	*t = arg;
	struct tmsg	 m = TMSG_INIT;
	char		*v;
	size_t		 len;

	if (err != 0 || r->type != RDS_ARRAY || r->n != 2) {
		t->failed = 1;
		return;
	}
	/* as the bus will: take the value, decode the envelope */
	v = rds_reply_take(r->elem[1], &len);
	if (len != t->len || tmsg_json_parse(v, len, &m, NULL) != 0)
		t->failed = 1;
	tmsg_clear(&m);
	free(v);
	t->got = 1;
}

/* One step: A waits, B pushes. */
static void
trip_send(struct trip *t)
{
	const char	*argv[3] = { "RPUSH", t->key, t->msg };
	size_t		 lens[3] = { 5, strlen(t->key), t->len };

	t->got = 0;
	if (rds_commandl(t->a, on_popped, t, "BLPOP", t->key, "0",
	    (char *)NULL) != 0 ||
	    rds_command(t->b, on_pushed, t, 3, argv, lens) != 0)
		die("rds_command");
}

static void
pump(struct trip *t)
{
	struct rds_conn	*cs[2] = { t->a, t->b };
	struct pollfd	 pfd[2];
	uint32_t	 ev;
	int		 i;

	while (!t->got && !t->failed) {
		for (i = 0; i < 2; i++) {
			ev = rds_events(cs[i]);
			pfd[i].fd = rds_fd(cs[i]);
			pfd[i].events = (short)((ev & EPOLLIN ? POLLIN : 0) |
			    (ev & EPOLLOUT ? POLLOUT : 0));
		}
		if (poll(pfd, 2, WAIT_MS) <= 0)
			die("no answer from redis-server");
		for (i = 0; i < 2; i++) {
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				rds_handle_read(cs[i]);
			if (pfd[i].revents & POLLOUT)
				rds_handle_write(cs[i]);
		}
	}
	if (t->failed)
		die("a command failed");
}

static double
cpu_us(const struct rusage *a, const struct rusage *b)
{
	return (double)(b->ru_utime.tv_sec - a->ru_utime.tv_sec) * 1e6 +
	    (double)(b->ru_utime.tv_usec - a->ru_utime.tv_usec) +
	    (double)(b->ru_stime.tv_sec - a->ru_stime.tv_sec) * 1e6 +
	    (double)(b->ru_stime.tv_usec - a->ru_stime.tv_usec);
}

static void
round_trips(size_t body, int n)
{
	struct trip	 t = { 0 };
	struct rusage	 r0, r1;
	uint64_t	 t0, t1;
	char		*msg;
	int		 i;

	t.a = open_conn();
	t.b = open_conn();
	t.key = "opensrf:service:opensrf:private.localhost:bench";
	msg = envelope(body, &t.len);
	t.msg = msg;
	for (i = 0; i < 100; i++) {	/* warm up */
		trip_send(&t);
		pump(&t);
	}
	getrusage(RUSAGE_SELF, &r0);
	t0 = mono_us();
	for (i = 0; i < n; i++) {
		trip_send(&t);
		pump(&t);
	}
	t1 = mono_us();
	getrusage(RUSAGE_SELF, &r1);
	printf("  RPUSH+BLPOP, %6zu B envelope: %8.0f round trips/s, "
	    "%6.1f us each, %6.1f us client CPU each\n", t.len,
	    n * 1e6 / (double)(t1 - t0), (double)(t1 - t0) / n,
	    cpu_us(&r0, &r1) / n);
	free(msg);
	rds_free(&t.a);
	rds_free(&t.b);
}

/* ------------------------------------------------------------ codec */

static void
codec(size_t body, int n)
{
	struct tmsg	 m = TMSG_INIT;
	struct pbuf	 out = { 0 };
	uint64_t	 t0, t1, t2;
	char		*msg;
	size_t		 len;
	int		 i;

	msg = envelope(body, &len);
	t0 = mono_us();
	for (i = 0; i < n; i++) {
		if (tmsg_json_parse(msg, len, &m, NULL) != 0)
			die("tmsg_json_parse");
		if (i < n - 1)
			tmsg_clear(&m);
	}
	t1 = mono_us();
	for (i = 0; i < n; i++) {
		pbuf_reset(&out);
		if (tmsg_json_write_buf(&m, &out) != 0)
			die("tmsg_json_write_buf");
	}
	t2 = mono_us();
	if (out.len != len || memcmp(out.data, msg, len) != 0)
		die("write(parse(x)) != x");
	printf("  envelope %6zu B: parse %8.2f us (%6.0f MB/s), "
	    "write %8.2f us (%6.0f MB/s)\n", len,
	    (double)(t1 - t0) / n, (double)len * n / (double)(t1 - t0),
	    (double)(t2 - t1) / n, (double)len * n / (double)(t2 - t1));
	tmsg_clear(&m);
	pbuf_free(&out);
	free(msg);
}

int
main(void)
{
	printf("codec (proto/tmsg_json.c):\n");
	codec(SMALL_BODY, CODEC_LOOPS);
	codec(205 * 1024, BIG_LOOPS);
	start_server();
	printf("connection (proto/redis_conn.c), redis-server on 127.0.0.1:%d,"
	    " one at a time:\n", srv_port);
	round_trips(SMALL_BODY, ROUND_TRIPS);
	round_trips(64 * 1024, BIG_TRIPS);
	return 0;
}
