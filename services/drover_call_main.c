/*
 * drover_call_main.c: drover-call(1), a command-line OpenSRF client.
 *
 *	drover-call [-c opensrf_core.xml] [--local dir] [--to address]
 *	    [-t seconds] [--connect]
 *	    [--bench n [--concurrency c] [--processes p] [--warmup w]
 *	    [--duration s] [--interval ms]]
 *	    service method [json-param ...]
 *
 * Connects to the bus the opensrf_core.xml "opensrf" context names (XMPP
 * or Redis; or opens an endpoint on the local bus with --local), sends
 * one REQUEST to the service's address (bus_service_addr(), or --to)
 * and prints each result as one line of JSON
 * (the C writer's form).  --connect wraps it in a connected session.
 * --bench runs n requests over c sessions, each with its own bus
 * connection and one request out at a time, driven by p processes (1 by
 * default) that each run their sessions from one event loop, and prints
 * throughput and latency percentiles, timed from when every process has
 * logged in and run its share of the w warm-up requests, plus one
 * "RESULT k=v ..." line for scripts
 * (test/bench-e2e, test/chaos) that adds the client's own CPU time per
 * request and what became of every request: ok, errors the client was
 * told of (an error status, a bounce, its own connection lost), lost
 * (no final status within -t) and unsent.  A session whose connection
 * goes down logs in again before its next request, so a load survives
 * a restart of the bus server; --duration and --interval make it a
 * steady load for a given time.
 *
 * The session logic is services/runtime/rt_client.c, which knows only the
 * bus interface (proto/bus.h); this file picks the bus.
 *
 * Exit status: 0 completed, 1 usage or configuration error, 2 the
 * service answered an error status (or the bus bounced the request),
 * 3 timeout, 4 connection or login failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "proto/bus.h"
#include "proto/osrfmsg.h"
#include "services/runtime/rt_client.h"
#include "services/runtime/rt_inbox.h"
#include "util.h"

#define EXIT_USAGE	1
#define EXIT_STATUS	2
#define EXIT_TIMEOUT	3
#define EXIT_CONNECT	4

/* OpenSRF clients wait 60 s for a result by default. */
#define CALL_TIMEOUT_S	60
/* More processes than this is a typo on a 2-core machine. */
#define CALL_MAX_CONC	256

struct call {
	const char	*core_path;
	const char	*local_dir;
	const char	*to;
	const char	*service;
	const char	*method;
	json_t		*params;
	int		 timeout_ms;
	int		 connect;
	long		 bench;		/* requests, 0 = no benchmark */
	long		 warmup;	/* untimed requests before them */
	int		 duration_ms;	/* bench: stop starting requests
					   after this; 0 = none */
	int		 interval_ms;	/* bench: pause between a session's
					   requests */
	int		 conc;		/* bench: sessions */
	int		 procs;		/* bench: processes driving them */
	struct core_conf *core;
	char		 addr[512];
	char		 xid[64];
};

static void NORETURN
usage(FILE *f, int code)
{
	fprintf(f, "usage: drover-call [-c opensrf_core.xml] [--local dir] "
	    "[--to address] [-t seconds]\n"
	    "                   [--connect] [--bench n [--concurrency c] "
	    "[--processes p]\n"
	    "                   [--warmup w] [--duration s] [--interval ms]]\n"
	    "                   service method [json-param ...]\n"
	    "       drover-call --help | --version\n");
	exit(code);
}

/* A closed bus for this process: 0 or -errno (reason printed). */
static int
new_bus(const struct call *c, struct bus **out)
{
	struct bus_params	p;
	int			rc;

	if (c->local_dir != NULL) {
		memset(&p, 0, sizeof(p));
		p.kind = BUS_LOCAL;
		p.local_dir = c->local_dir;
		p.role = BUS_ROLE_CLIENT;
	} else
		bus_params_core(&p, c->core, BUS_ROLE_CLIENT, NULL);
	if ((rc = bus_new(&p, out)) < 0)
		fprintf(stderr, "drover-call: cannot make the %s bus: %s\n",
		    bus_kind_name(p.kind), strerror(-rc));
	return rc;
}

/* Open the bus; `quiet`: say nothing when it fails (a bench retrying). */
static int
open_bus(const struct call *c, struct bus **out, int quiet)
{
	struct bus	*bus;
	int		 rc;

	if ((rc = new_bus(c, &bus)) < 0)
		return rc;
	if ((rc = bus_open(bus, c->local_dir != NULL ? c->timeout_ms :
	    c->core->bus.connect_timeout_ms)) < 0) {
		if (quiet) {
			bus_free(&bus);
			return rc;
		}
		fprintf(stderr, "drover-call: cannot open the bus (%s%s%s%s%s): "
		    "%s\n",
		    bus_kind_name(bus_kind(bus)), c->core != NULL ? " as " : "",
		    c->core != NULL ? c->core->bus.username : "",
		    c->core != NULL ? "@" : "",
		    c->core != NULL ? c->core->bus.domain : "",
		    *bus_error(bus) != '\0' ? bus_error(bus) : strerror(-rc));
		bus_free(&bus);
		return rc;
	}
	*out = bus;
	return 0;
}

static int
exit_for(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case -EREMOTEIO:
	case -EHOSTUNREACH:
	case -ECONNREFUSED:
		return EXIT_STATUS;
	case -ETIMEDOUT:
		return EXIT_TIMEOUT;
	default:
		return EXIT_CONNECT;
	}
}

static void
print_result(const json_t *v)
{
	struct pbuf	b = { 0 };

	if (osrfmsg_json_write(v, &b, NULL) < 0)
		printf("null\n");
	else
		printf("%s\n", b.data);
	pbuf_free(&b);
	fflush(stdout);
}

static void
report(struct rt_client *cl, int rc)
{
	const char	*text;
	int		 code;

	code = rt_client_status(cl, &text);
	switch (rc) {
	case -EREMOTEIO:
		fprintf(stderr, "drover-call: status %d: %s\n", code, text);
		break;
	case -EHOSTUNREACH:
		fprintf(stderr, "drover-call: status %d: %s\n",
		    code != 0 ? code : 503, text);
		break;
	case -ETIMEDOUT:
		fprintf(stderr, "drover-call: timeout: %s\n", text);
		break;
	default:
		fprintf(stderr, "drover-call: %s\n", strerror(-rc));
		break;
	}
}

/* One request on an open session; prints results when `print`. */
static int
one_call(const struct call *c, struct rt_client *cl, int print)
{
	json_t	*v;
	int	 rc;

	if ((rc = rt_client_request(cl, c->method, c->params)) < 0)
		return rc;
	while ((rc = rt_client_recv(cl, c->timeout_ms, &v)) == 1) {
		if (print)
			print_result(v);
		json_decref(v);
	}
	return rc;
}

static int
single(struct call *c)
{
	struct bus		*bus = NULL;
	struct rt_inbox		*ib = NULL;
	struct rt_client	*cl = NULL;
	int			 rc;

	if ((rc = open_bus(c, &bus, 0)) < 0)
		return EXIT_CONNECT;
	if ((ib = rt_inbox_new(bus)) == NULL ||
	    rt_client_new(ib, c->addr, c->xid, "drover-call", &cl) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	if (c->connect && (rc = rt_client_connect(cl, c->timeout_ms)) < 0) {
		report(cl, rc == -ECONNREFUSED ? -EREMOTEIO : rc);
		goto out;
	}
	if ((rc = one_call(c, cl, 1)) < 0)
		report(cl, rc);
	if (c->connect)
		(void)rt_client_disconnect(cl);	/* best effort, no reply */
out:
	rt_client_free(&cl);
	rt_inbox_free(&ib);
	bus_free(&bus);
	return exit_for(rc);
}

/* --------------------------------------------------------- bench */

/*
 * What a bench worker writes to the parent, uint32_t records, batched
 * (BENCH_BATCH of them, at most a second old: a write a request would
 * wake the parent a request; each write is at most PIPE_BUF, so the
 * workers' records never interleave):
 * for each request its latency in us when it completed, else one of the
 * outcome codes below; BENCH_READY once it is logged in and warmed up;
 * and at the end BENCH_CPU followed, in the same write, by the CPU time
 * in us it spent on the timed requests.  Latencies never come near these
 * values (71 minutes).
 *
 * The outcomes tell apart what the client knows from what it does not:
 *	STATUS	the service (or droverd, or the router) answered an error
 *		status
 *	BOUNCE	the bus bounced the request (nobody at that address)
 *	CONN	the client's own connection went down after it sent the
 *		request, before the final status: it knows at once
 *	UNSENT	the bus was unreachable: the request was never sent
 *	LOST	no final status within the timeout, the connection up: a
 *		request something dropped without a word
 */
#define BENCH_LOST	UINT32_MAX
#define BENCH_READY	(UINT32_MAX - 1)
#define BENCH_CPU	(UINT32_MAX - 2)
#define BENCH_STATUS	(UINT32_MAX - 3)
#define BENCH_BOUNCE	(UINT32_MAX - 4)
#define BENCH_CONN	(UINT32_MAX - 5)
#define BENCH_UNSENT	(UINT32_MAX - 6)
/* Below this a record is a latency. */
#define BENCH_CODES	BENCH_UNSENT
/* Records per write: PIPE_BUF bytes, the most a write keeps whole. */
#define BENCH_BATCH	(PIPE_BUF / sizeof(uint32_t))
/* A batch goes out at least this often, so the parent sees progress. */
#define BENCH_FLUSH_MS	1000

/* A worker's records not written yet. */
struct bench_out {
	int		fd;
	size_t		n;
	uint64_t	since_ms;	/* mono: the oldest's */
	uint32_t	rec[BENCH_BATCH];
};

static int
bench_flush(struct bench_out *o)
{
	int	rc = 0;

	if (o->n > 0)
		rc = write_full(o->fd, o->rec, o->n * sizeof(o->rec[0]));
	o->n = 0;
	return rc;
}

static int
bench_put(struct bench_out *o, uint32_t r)
{
	uint64_t	now = mono_ms();

	if (o->n == 0)
		o->since_ms = now;
	o->rec[o->n++] = r;
	if (o->n == BENCH_BATCH || now - o->since_ms >= BENCH_FLUSH_MS)
		return bench_flush(o);
	return 0;
}

/* User + system time of this process, in us. */
static uint64_t
cpu_us(void)
{
	struct rusage	ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;	/* cannot fail for RUSAGE_SELF */
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* A worker's connection: bus, inbox and session, made and remade. */
struct bench_conn {
	struct bus		*bus;
	struct rt_inbox		*ib;
	struct rt_client	*cl;
};

static void
bench_close(struct bench_conn *bc)
{
	rt_client_free(&bc->cl);
	rt_inbox_free(&bc->ib);
	bus_free(&bc->bus);
}

/*
 * While the bus cannot be reached, a worker tries again this often (each
 * try is one unsent request): often enough to see the server return,
 * seldom enough not to flood the log and the counts.
 */
#define BENCH_REOPEN_MS	200

/*
 * (Re)open the worker's connection and session.  0, or the exit code
 * for it (the reason is printed, except for reopening: `again`).
 */
static int
bench_open(struct call *c, struct bench_conn *bc, int again)
{
	int	rc;

	bench_close(bc);
	if (open_bus(c, &bc->bus, again) < 0 ||
	    (bc->ib = rt_inbox_new(bc->bus)) == NULL ||
	    rt_client_new(bc->ib, c->addr, c->xid, "drover-call",
	    &bc->cl) < 0) {
		bench_close(bc);
		return EXIT_CONNECT;
	}
	if (c->connect && (rc = rt_client_connect(bc->cl, c->timeout_ms)) <
	    0) {
		report(bc->cl, rc);
		return exit_for(rc);
	}
	return 0;
}

/* One session of a worker: its connection and the request it has out. */
struct bench_sess {
	struct bench_conn bc;
	uint64_t	t0;		/* mono us it went out; 0: none out */
	uint64_t	deadline_ms;	/* mono: its -t runs out */
	uint64_t	next_ms;	/* mono: start the next no earlier */
};

/* The record for s's request, ended with rt_client outcome rc (<= 0). */
static uint32_t
sess_outcome(struct bench_sess *s, int rc)
{
	uint64_t	lat = mono_us() - s->t0;

	s->t0 = 0;
	switch (rc) {
	case 0:
		return lat < BENCH_CODES ? (uint32_t)lat : BENCH_CODES - 1;
	case -EREMOTEIO:
		return BENCH_STATUS;
	case -EHOSTUNREACH:
		return BENCH_BOUNCE;
	case -ETIMEDOUT:
		return bus_state(s->bc.bus) == BUS_UP ? BENCH_LOST : BENCH_CONN;
	default:
		return BENCH_CONN;
	}
}

/*
 * Send s's next request: 1 when it went out, 0 when it could not
 * (*rec = BENCH_UNSENT).  A connection that is down is opened again
 * first (the bus server may have restarted; while it cannot be, the
 * session tries again every BENCH_REOPEN_MS, each try one unsent
 * request); a connected session lost to its keepalive is made anew.
 */
static int
sess_start(struct call *c, struct bench_sess *s, uint32_t *rec)
{
	*rec = BENCH_UNSENT;
	if ((s->bc.bus == NULL || bus_state(s->bc.bus) != BUS_UP ||
	    (c->connect && !rt_client_connected(s->bc.cl))) &&
	    bench_open(c, &s->bc, 1) != 0) {
		s->next_ms = mono_ms() + BENCH_REOPEN_MS;
		return 0;
	}
	s->t0 = mono_us();
	if (rt_client_request(s->bc.cl, c->method, c->params) < 0) {
		s->t0 = 0;
		return 0;
	}
	s->deadline_ms = mono_ms() + (uint64_t)c->timeout_ms;
	return 1;
}

/*
 * s's bus is readable (or has timed work): take what it holds.  1 when
 * the request out ended (*rec set), else 0.  An idle session's input
 * (a late answer of a request given up on) is dropped.
 */
static int
sess_input(struct bench_sess *s, uint32_t *rec)
{
	json_t	*v;
	int	 rc;

	(void)bus_run(s->bc.bus);
	if (s->t0 == 0) {
		(void)rt_inbox_flush(s->bc.ib, 1);
		return 0;
	}
	while ((rc = rt_client_poll(s->bc.cl, &v)) == 1)
		json_decref(v);
	if (rc == -EAGAIN)
		return 0;
	*rec = sess_outcome(s, rc);
	return 1;
}

/* s's request ran out of time: whatever came last, then the outcome. */
static uint32_t
sess_expire(struct bench_sess *s)
{
	json_t	*v;
	int	 rc;

	while ((rc = rt_client_recv(s->bc.cl, 0, &v)) == 1)
		json_decref(v);
	return sess_outcome(s, rc);
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Count a request that ended with record rec; `pace`: s's next starts
 * --interval from now. */
static void
sess_record(struct call *c, struct bench_sess *s, struct bench_out *out,
    uint32_t rec, int pace, long *ended)
{
	if (bench_put(out, rec) < 0)
		_exit(EXIT_CONNECT);
	(*ended)++;
	if (pace)
		s->next_ms = mono_ms() + (uint64_t)c->interval_ms;
}

/*
 * The timed part of a worker: n requests over its sessions, each session
 * with one request out at a time (or as many as fit in --duration,
 * each session pausing --interval after each), driven from one epoll
 * loop, as a load generator should: the wake-ups and CPU it spends are
 * taken from the servers it measures.  Records go to out.
 */
static void
bench_loop(struct call *c, struct bench_sess *ss, int nsess, long n,
    struct bench_out *out)
{
	struct epoll_event	 ev[64];
	struct bench_sess	*s;
	uint64_t		 now, end = 0, until;
	uint32_t		 rec;
	long			 started = 0, ended = 0;
	int			 epfd, i, k, nev, stop;

	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fatal("epoll_create1");
	if (c->duration_ms > 0)
		end = mono_ms() + (uint64_t)c->duration_ms;
	for (;;) {
		now = mono_ms();
		stop = end != 0 && now >= end;
		until = UINT64_MAX;
		for (i = 0; i < nsess; i++) {
			s = &ss[i];
			if (s->t0 != 0 && now >= s->deadline_ms)
				sess_record(c, s, out, sess_expire(s), 1,
				    &ended);
			if (s->t0 == 0 && started < n && !stop &&
			    now >= s->next_ms) {
				started++;
				/* unsent: sess_start() paced the retry */
				if (!sess_start(c, s, &rec))
					sess_record(c, s, out, rec, 0, &ended);
				now = mono_ms();
			}
			if (s->t0 != 0)
				until = min_u64(until, s->deadline_ms);
			else if (started < n && !stop)
				until = min_u64(until, s->next_ms);
			if (s->bc.bus != NULL) {
				if (bus_watch(s->bc.bus, epfd, (uint64_t)i) < 0)
					fatal("epoll_ctl");
				if ((k = bus_timeout_ms(s->bc.bus, now)) >= 0)
					until = min_u64(until,
					    now + (uint64_t)k);
			}
		}
		if (ended == started && (started == n || stop))
			break;
		if (end != 0 && !stop)
			until = min_u64(until, end);
		k = until == UINT64_MAX ? -1 : until <= now ? 0 :
		    (int)min_u64(until - now, INT32_MAX);
		if ((nev = epoll_wait(epfd, ev, ARRAY_LEN(ev), k)) < 0) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		for (i = 0; i < nev; i++) {
			s = &ss[ev[i].data.u64];
			if (sess_input(s, &rec))
				sess_record(c, s, out, rec, 1, &ended);
		}
		/* timers of buses that had no input (a keepalive, a write) */
		for (i = 0; nev == 0 && i < nsess; i++)
			if (ss[i].bc.bus != NULL && sess_input(&ss[i], &rec))
				sess_record(c, &ss[i], out, rec, 1, &ended);
	}
	close(epfd);
}

/*
 * One worker: log its nsess sessions in, run `warm` untimed requests
 * over them, say READY, wait until the parent closes the go pipe (every
 * worker is then ready), run the timed part, send its CPU time.  A
 * worker that cannot log in says READY too, so the parent never waits
 * for it, and exits with EXIT_CONNECT.
 */
static void NORETURN
bench_worker(struct call *c, int nsess, long n, long warm, int fd, int go)
{
	struct bench_sess	*ss = xcalloc((size_t)nsess, sizeof(*ss));
	struct bench_conn	*bc;
	struct bench_out	 out;
	uint32_t		 lat;
	uint64_t		 cpu0;
	long			 i;
	int			 code = 0;
	char			 b;
	json_t			*v;

	for (i = 0; i < nsess && code == 0; i++)
		code = bench_open(c, &ss[i].bc, 0);
	for (i = 0; code == 0 && i < warm; i++) {
		/* untimed, round robin over the sessions: errors show later */
		bc = &ss[i % nsess].bc;
		if (rt_client_request(bc->cl, c->method, c->params) == 0)
			while (rt_client_recv(bc->cl, c->timeout_ms, &v) == 1)
				json_decref(v);
	}
	lat = BENCH_READY;
	if (write_full(fd, &lat, sizeof(lat)) < 0 || code != 0)
		_exit(code != 0 ? code : EXIT_CONNECT);
	while (read(go, &b, 1) < 0 && errno == EINTR)
		;	/* end of file: go */
	close(go);
	cpu0 = cpu_us();
	out.fd = fd;
	out.n = 0;
	bench_loop(c, ss, nsess, n, &out);
	/* the CPU pair in one write, after the rest */
	if (out.n + 2 > BENCH_BATCH && bench_flush(&out) < 0)
		_exit(EXIT_CONNECT);
	out.rec[out.n++] = BENCH_CPU;
	out.rec[out.n++] = (uint32_t)(cpu_us() - cpu0);
	if (bench_flush(&out) < 0)
		_exit(EXIT_CONNECT);
	for (i = 0; i < nsess; i++) {
		if (c->connect && ss[i].bc.cl != NULL)
			(void)rt_client_disconnect(ss[i].bc.cl);
		bench_close(&ss[i].bc);
	}
	free(ss);
	close(fd);
	_exit(0);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct_ms(const uint32_t *v, size_t n, double p)
{
	size_t	i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i] / 1000.0;
}

/* Share i of total over `parts`. */
static long
share_of(long total, int parts, int i)
{
	return total / parts + (i < total % parts);
}

/* The outcomes of a run, as the parent counts them. */
struct bench_sum {
	long	got;		/* records: every request run */
	long	status, bounce, conn, unsent, lost;
};

static void
bench_count(struct bench_sum *sum, uint32_t x)
{
	sum->got++;
	switch (x) {
	case BENCH_STATUS:
		sum->status++;
		break;
	case BENCH_BOUNCE:
		sum->bounce++;
		break;
	case BENCH_CONN:
		sum->conn++;
		break;
	case BENCH_UNSENT:
		sum->unsent++;
		break;
	case BENCH_LOST:
		sum->lost++;
		break;
	default:
		break;
	}
}

/* The parent's end of the workers' pipe, read a batch at a time. */
struct bench_in {
	int		fd;
	size_t		have, at;
	uint32_t	rec[BENCH_BATCH * 8];
};

/* The next record: 0, or -1 at the end (every worker gone). */
static int
bench_get(struct bench_in *in, uint32_t *x)
{
	ssize_t	r;

	while (in->at == in->have) {
		r = read(in->fd, in->rec, sizeof(in->rec));
		if (r == -1 && errno == EINTR)
			continue;
		/* writes are whole records, so are reads (see above) */
		if (r <= 0 || r % (ssize_t)sizeof(in->rec[0]) != 0)
			return -1;
		in->have = (size_t)r / sizeof(in->rec[0]);
		in->at = 0;
	}
	*x = in->rec[in->at++];
	return 0;
}

static int
bench(struct call *c)
{
	struct bench_sum sum;
	struct bench_in	 in;
	uint32_t	*lat, x;
	size_t		 nok = 0, cap;
	long		 errors, missing;
	uint64_t	 t0 = 0, el = 0, cpu0 = 0, cpu_par = 0, cpu_kids = 0;
	pid_t		 pid;
	int		 pfd[2], go[2], i, st, bad = 0, ready = 0;

	memset(&sum, 0, sizeof(sum));
	if (pipe2(pfd, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		fatal("pipe2");
	for (i = 0; i < c->procs; i++) {
		if ((pid = fork()) < 0)
			fatal("fork");
		if (pid == 0) {
			close(pfd[0]);
			close(go[1]);
			bench_worker(c, (int)share_of(c->conc, c->procs, i),
			    share_of(c->bench, c->procs, i),
			    share_of(c->warmup, c->procs, i), pfd[1], go[0]);
		}
	}
	close(pfd[1]);
	close(go[0]);
	/* after the forks: the workers have no use for it; with a
	 * duration, n is a bound only, so it grows as needed */
	cap = c->duration_ms > 0 && c->bench > 4096 ? 4096 :
	    (size_t)c->bench;
	lat = xcalloc(cap, sizeof(*lat));
	in.fd = pfd[0];
	in.have = in.at = 0;
	while (bench_get(&in, &x) == 0) {
		if (x == BENCH_READY) {
			if (++ready == c->procs) {
				/* all logged in and warm: time from here */
				t0 = mono_us();
				cpu0 = cpu_us();
				close(go[1]);
			}
			continue;
		}
		if (x == BENCH_CPU) {
			if (bench_get(&in, &x) < 0)
				break;
			cpu_kids += x;
			continue;
		}
		bench_count(&sum, x);
		if (sum.got == c->bench) {
			el = mono_us() - t0;
			cpu_par = cpu_us() - cpu0;
		}
		if (x >= BENCH_CODES)
			continue;
		if (nok == cap) {
			cap *= 2;
			lat = xrealloc(lat, cap * sizeof(*lat));
		}
		lat[nok++] = x;
	}
	if (ready < c->procs)
		close(go[1]);
	if (sum.got < c->bench && t0 != 0) {
		el = mono_us() - t0;
		cpu_par = cpu_us() - cpu0;
	}
	close(pfd[0]);
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad = WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_CONNECT;
	/* a worker that died or never logged in ran none of the rest */
	missing = c->duration_ms > 0 || bad == 0 ? 0 : c->bench - sum.got;
	errors = sum.status + sum.bounce + sum.conn;
	qsort(lat, nok, sizeof(*lat), cmp_u32);
	printf("requests %ld concurrency %d%s elapsed %.3f s\n", sum.got,
	    c->conc, c->connect ? " connected" : "", el / 1e6);
	printf("rate %.1f req/s\n", el > 0 ? (double)sum.got * 1e6 / el :
	    0.0);
	printf("latency ms p50 %.3f p90 %.3f p99 %.3f\n",
	    pct_ms(lat, nok, 0.50), pct_ms(lat, nok, 0.90),
	    pct_ms(lat, nok, 0.99));
	printf("ok %zu errors %ld (status %ld, bounced %ld, connection lost "
	    "%ld) lost %ld unsent %ld\n", nok, errors, sum.status, sum.bounce,
	    sum.conn, sum.lost, sum.unsent + missing);
	printf("RESULT requests=%ld warmup=%ld clients=%d connected=%d "
	    "secs=%.3f rps=%.1f p50_us=%.0f p90_us=%.0f p99_us=%.0f "
	    "errors=%ld cpu_us_per_req=%.2f parent_cpu_us_per_req=%.2f "
	    "sent=%ld ok=%zu lost=%ld unsent=%ld err_status=%ld "
	    "err_bounce=%ld err_conn=%ld\n",
	    sum.got, c->warmup, c->conc, c->connect, el / 1e6,
	    el > 0 ? (double)sum.got * 1e6 / el : 0.0,
	    pct_ms(lat, nok, 0.50) * 1000, pct_ms(lat, nok, 0.90) * 1000,
	    pct_ms(lat, nok, 0.99) * 1000, errors,
	    sum.got > 0 ? (double)(cpu_kids + cpu_par) / sum.got : 0.0,
	    sum.got > 0 ? (double)cpu_par / sum.got : 0.0,
	    sum.got - sum.unsent, nok, sum.lost, sum.unsent + missing,
	    sum.status, sum.bounce, sum.conn);
	fflush(stdout);
	free(lat);
	if (bad != 0)
		return bad;
	if (sum.lost > 0)
		return EXIT_TIMEOUT;
	return errors > 0 || sum.unsent + missing > 0 ? EXIT_STATUS : 0;
}

/* ---------------------------------------------------------- main */

static void
setup_target(struct call *c)
{
	struct cfg_err	 err;
	struct bus	*bus;
	const char	*path = c->core_path;
	int		 n;

	/* the bus needs the login details; only the local bus does without */
	if (path == NULL && c->local_dir == NULL)
		path = DROVER_SYSCONFDIR "/drover/opensrf_core.xml";
	if (path != NULL && core_conf_load(path, "opensrf", &c->core,
	    &err) != 0) {
		fprintf(stderr, "drover-call: %s\n", err.msg);
		exit(EXIT_USAGE);
	}
	if (c->to != NULL)
		n = snprintf(c->addr, sizeof(c->addr), "%s", c->to);
	else {
		/* where this bus routes requests for the service */
		if (new_bus(c, &bus) < 0)
			exit(EXIT_USAGE);
		n = bus_service_addr(bus, c->service, c->addr,
		    sizeof(c->addr));
		bus_free(&bus);
	}
	if (n < 0 || (size_t)n >= sizeof(c->addr)) {
		fprintf(stderr, "drover-call: service name too long\n");
		exit(EXIT_USAGE);
	}
	/* an originating client makes the log transaction id (spec 1.3) */
	snprintf(c->xid, sizeof(c->xid), "%lld%ld1", (long long)wall_sec(),
	    (long)getpid());
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "local", required_argument, NULL, 'L' },
		{ "to", required_argument, NULL, 'T' },
		{ "timeout", required_argument, NULL, 't' },
		{ "connect", no_argument, NULL, 'k' },
		{ "bench", required_argument, NULL, 'b' },
		{ "concurrency", required_argument, NULL, 'n' },
		{ "processes", required_argument, NULL, 'P' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'D' },
		{ "interval", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct call	 c;
	json_error_t	 jerr;
	json_t		*p;
	long long	 v;
	int		 ch, i, rc;

	memset(&c, 0, sizeof(c));
	c.timeout_ms = CALL_TIMEOUT_S * 1000;
	c.conc = 1;
	c.procs = 1;
	log_init("drover-call");
	log_set_level(LOGL_ERROR);
	while ((ch = getopt_long(argc, argv, "c:t:hV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			c.core_path = optarg;
			break;
		case 'L':
			c.local_dir = optarg;
			break;
		case 'T':
			c.to = optarg;
			break;
		case 't':
			if (parse_ll(optarg, 1, 86400, &v) < 0)
				usage(stderr, EXIT_USAGE);
			c.timeout_ms = (int)v * 1000;
			break;
		case 'k':
			c.connect = 1;
			break;
		case 'b':
			if (parse_ll(optarg, 1, 100000000, &v) < 0)
				usage(stderr, EXIT_USAGE);
			c.bench = (long)v;
			break;
		case 'n':
			if (parse_ll(optarg, 1, CALL_MAX_CONC, &v) < 0)
				usage(stderr, EXIT_USAGE);
			c.conc = (int)v;
			break;
		case 'P':
			if (parse_ll(optarg, 1, CALL_MAX_CONC, &v) < 0)
				usage(stderr, EXIT_USAGE);
			c.procs = (int)v;
			break;
		case 'w':
			if (parse_ll(optarg, 0, 100000000, &v) < 0)
				usage(stderr, EXIT_USAGE);
			c.warmup = (long)v;
			break;
		case 'D':
			if (parse_ll(optarg, 1, 86400, &v) < 0)
				usage(stderr, EXIT_USAGE);
			c.duration_ms = (int)v * 1000;
			break;
		case 'I':
			if (parse_ll(optarg, 0, 60000, &v) < 0)
				usage(stderr, EXIT_USAGE);
			c.interval_ms = (int)v;
			break;
		case 'h':
			usage(stdout, 0);
		case 'V':
			printf("drover-call %s\n", DROVER_VERSION);
			return 0;
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
	if (argc - optind < 2)
		usage(stderr, EXIT_USAGE);
	c.service = argv[optind];
	c.method = argv[optind + 1];
	c.params = json_array();
	for (i = optind + 2; i < argc; i++) {
		p = json_loads(argv[i], JSON_DECODE_ANY, &jerr);
		if (p == NULL) {
			fprintf(stderr, "drover-call: parameter %d is not "
			    "JSON: %s: %s\n", i - optind - 1, argv[i],
			    jerr.text);
			return EXIT_USAGE;
		}
		json_array_append_new(c.params, p);
	}
	if (c.procs > c.conc)
		c.procs = c.conc;	/* a process drives one session at least */
	setup_target(&c);
	rc = c.bench > 0 ? bench(&c) : single(&c);
	json_decref(c.params);
	core_conf_free(&c.core);
	return rc;
}
