/*
 * drover_call_main.c: drover-call(1), a command-line OpenSRF client.
 *
 *	drover-call [-c opensrf_core.xml] [--local dir] [--to jid]
 *	    [-t seconds] [--connect]
 *	    [--bench n [--concurrency c] [--warmup w]]
 *	    service method [json-param ...]
 *
 * Connects to the bus the opensrf_core.xml "opensrf" context names (XMPP
 * or Redis; or opens an endpoint on the local bus with --local), sends
 * one REQUEST to the service's address (bus_service_addr(), or --to)
 * and prints each result as one line of JSON
 * (the C writer's form).  --connect wraps it in a connected session.
 * --bench runs n requests from c processes, each with its own bus
 * connection and session, and prints throughput and latency percentiles,
 * timed from when every process has logged in and run its share of the w
 * warm-up requests, plus one "RESULT k=v ..." line for scripts
 * (test/bench-e2e) that adds the client's own CPU time per request.
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
	int		 conc;
	struct core_conf *core;
	char		 addr[512];
	char		 xid[64];
};

static void NORETURN
usage(FILE *f, int code)
{
	fprintf(f, "usage: drover-call [-c opensrf_core.xml] [--local dir] "
	    "[--to jid] [-t seconds]\n"
	    "                   [--connect] [--bench n [--concurrency c] "
	    "[--warmup w]]\n"
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

static int
open_bus(const struct call *c, struct bus **out)
{
	struct bus	*bus;
	int		 rc;

	if ((rc = new_bus(c, &bus)) < 0)
		return rc;
	if ((rc = bus_open(bus, c->local_dir != NULL ? c->timeout_ms :
	    c->core->bus.connect_timeout_ms)) < 0) {
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

	if ((rc = open_bus(c, &bus)) < 0)
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
 * What a bench worker writes to the parent, one uint32_t at a time (each
 * write is below PIPE_BUF, so the workers' records never interleave): a
 * latency in us, BENCH_FAILED, BENCH_READY once it is logged in and
 * warmed up, and at the end BENCH_CPU followed, in the same write, by the
 * CPU time in us it spent on the timed requests.  Latencies never come
 * near these values (71 minutes).
 */
#define BENCH_FAILED	UINT32_MAX
#define BENCH_READY	(UINT32_MAX - 1)
#define BENCH_CPU	(UINT32_MAX - 2)

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

/*
 * One worker: log in, run `warm` untimed requests, say READY, wait until
 * the parent closes the go pipe (every worker is then ready), run `n`
 * timed ones.  A worker that cannot log in says READY too, so the parent
 * never waits for it, and exits with EXIT_CONNECT.
 */
static void NORETURN
bench_worker(struct call *c, long n, long warm, int fd, int go)
{
	struct bus		*bus = NULL;
	struct rt_inbox		*ib = NULL;
	struct rt_client	*cl = NULL;
	uint32_t		 lat, rec[2];
	uint64_t		 t0, cpu0;
	long			 i;
	int			 rc, code = 0;
	char			 b;

	if (open_bus(c, &bus) < 0 || (ib = rt_inbox_new(bus)) == NULL ||
	    rt_client_new(ib, c->addr, c->xid, "drover-call", &cl) < 0)
		code = EXIT_CONNECT;
	else if (c->connect && (rc = rt_client_connect(cl, c->timeout_ms)) <
	    0) {
		report(cl, rc);
		code = exit_for(rc);
	}
	for (i = 0; code == 0 && i < warm; i++)
		(void)one_call(c, cl, 0);	/* untimed: errors show later */
	lat = BENCH_READY;
	if (write_full(fd, &lat, sizeof(lat)) < 0 || code != 0)
		_exit(code != 0 ? code : EXIT_CONNECT);
	while (read(go, &b, 1) < 0 && errno == EINTR)
		;	/* end of file: go */
	close(go);
	cpu0 = cpu_us();
	for (i = 0; i < n; i++) {
		t0 = mono_us();
		rc = one_call(c, cl, 0);
		lat = rc == 0 ? (uint32_t)(mono_us() - t0) : BENCH_FAILED;
		if (write_full(fd, &lat, sizeof(lat)) < 0)
			_exit(EXIT_CONNECT);
		/* a session lost to its keepalive is made anew; if that
		 * fails the next request counts as an error too */
		if (rc < 0 && c->connect && !rt_client_connected(cl) &&
		    rt_client_connect(cl, c->timeout_ms) < 0)
			continue;
	}
	rec[0] = BENCH_CPU;
	rec[1] = (uint32_t)(cpu_us() - cpu0);
	if (write_full(fd, rec, sizeof(rec)) < 0)
		_exit(EXIT_CONNECT);
	if (c->connect)
		(void)rt_client_disconnect(cl);
	rt_client_free(&cl);
	rt_inbox_free(&ib);
	bus_free(&bus);
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

/* Share i of total over c->conc workers. */
static long
share_of(const struct call *c, long total, int i)
{
	return total / c->conc + (i < total % c->conc);
}

static int
bench(struct call *c)
{
	uint32_t	*lat, x;
	size_t		 nok = 0;
	long		 errors = 0, got = 0;
	uint64_t	 t0 = 0, el = 0, cpu0 = 0, cpu_par = 0, cpu_kids = 0;
	pid_t		 pid;
	int		 pfd[2], go[2], i, st, rc, bad = 0, ready = 0;

	if (pipe2(pfd, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		fatal("pipe2");
	for (i = 0; i < c->conc; i++) {
		if ((pid = fork()) < 0)
			fatal("fork");
		if (pid == 0) {
			close(pfd[0]);
			close(go[1]);
			bench_worker(c, share_of(c, c->bench, i),
			    share_of(c, c->warmup, i), pfd[1], go[0]);
		}
	}
	close(pfd[1]);
	close(go[0]);
	/* after the forks: the workers have no use for it */
	lat = xcalloc((size_t)c->bench, sizeof(*lat));
	while ((rc = read_full(pfd[0], &x, sizeof(x))) == 0) {
		if (x == BENCH_READY) {
			if (++ready == c->conc) {
				/* all logged in and warm: time from here */
				t0 = mono_us();
				cpu0 = cpu_us();
				close(go[1]);
			}
			continue;
		}
		if (x == BENCH_CPU) {
			if (read_full(pfd[0], &x, sizeof(x)) < 0)
				break;
			cpu_kids += x;
			continue;
		}
		if (++got == c->bench) {
			el = mono_us() - t0;
			cpu_par = cpu_us() - cpu0;
		}
		if (x == BENCH_FAILED)
			errors++;
		else if (nok < (size_t)c->bench)
			lat[nok++] = x;
	}
	if (ready < c->conc)
		close(go[1]);
	if (got < c->bench && t0 != 0) {
		el = mono_us() - t0;
		cpu_par = cpu_us() - cpu0;
	}
	close(pfd[0]);
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad = WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_CONNECT;
	qsort(lat, nok, sizeof(*lat), cmp_u32);
	printf("requests %ld concurrency %d%s elapsed %.3f s\n", got, c->conc,
	    c->connect ? " connected" : "", el / 1e6);
	printf("rate %.1f req/s\n", el > 0 ? (double)got * 1e6 / el : 0.0);
	printf("latency ms p50 %.3f p90 %.3f p99 %.3f\n",
	    pct_ms(lat, nok, 0.50), pct_ms(lat, nok, 0.90),
	    pct_ms(lat, nok, 0.99));
	printf("errors %ld\n", errors + (c->bench - got));
	printf("RESULT requests=%ld warmup=%ld clients=%d connected=%d "
	    "secs=%.3f rps=%.1f p50_us=%.0f p90_us=%.0f p99_us=%.0f "
	    "errors=%ld cpu_us_per_req=%.2f parent_cpu_us_per_req=%.2f\n",
	    got, c->warmup, c->conc, c->connect, el / 1e6,
	    el > 0 ? (double)got * 1e6 / el : 0.0,
	    pct_ms(lat, nok, 0.50) * 1000, pct_ms(lat, nok, 0.90) * 1000,
	    pct_ms(lat, nok, 0.99) * 1000, errors + (c->bench - got),
	    got > 0 ? (double)(cpu_kids + cpu_par) / got : 0.0,
	    got > 0 ? (double)cpu_par / got : 0.0);
	free(lat);
	if (bad != 0)
		return bad;
	return errors > 0 || got < c->bench ? EXIT_STATUS : 0;
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
		{ "warmup", required_argument, NULL, 'w' },
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
		case 'w':
			if (parse_ll(optarg, 0, 100000000, &v) < 0)
				usage(stderr, EXIT_USAGE);
			c.warmup = (long)v;
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
	setup_target(&c);
	rc = c.bench > 0 ? bench(&c) : single(&c);
	json_decref(c.params);
	core_conf_free(&c.core);
	return rc;
}
