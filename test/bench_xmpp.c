/*
 * bench_xmpp.c: the XMPP client against a private ejabberd.
 *
 * Starts ejabberd with test/servers/ejabberd (or adopts the instance in
 * $DROVER_TEST_EJABBERD_DIR) and measures:
 *   - login time: legacy digest, SCRAM-SHA-1, SCRAM-SHA-1 over STARTTLS;
 *   - ping-pong: client A sends an OpenSRF-sized message to B, B answers,
 *     one at a time: round trips per second and p50/p99 latency; this is
 *     two stanzas through ejabberd per round trip, like one hop of a
 *     request;
 *   - one-way stream: A sends N messages to B as fast as it can, B reads
 *     them: stanzas/s and MB/s at the receiver.
 * The server is stopped at exit; if the bench dies, the script's guard
 * (fd 3, see test/servers/README) stops it.  Run from the source top.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "proto/tmsg.h"
#include "proto/xmpp.h"
#include "util.h"

#define LOGINS		30
#define PINGS		5000
#define STREAM_MSGS	20000
#define BODY_SIZE	700	/* an OpenSRF request body, roughly */
#define WAIT_MS		10000

static char	srv_dir[256];
static int	srv_port;
static int	srv_owned;

static int
run(const char *cmd, const char *dir, int guard_fd)
{
	pid_t	pid;
	int	st;

	fflush(stdout);		/* or the child's freopen() prints it again */
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
			execl("test/servers/ejabberd", "ejabberd", cmd, dir,
			    "--guard-fd", "3", (char *)NULL);
		else
			execl("test/servers/ejabberd", "ejabberd", cmd, dir,
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
		fprintf(stderr, "bench_xmpp: stopping ejabberd failed\n");
}

static int
start_server(void)
{
	const char	*ext = getenv("DROVER_TEST_EJABBERD_DIR");
	char		 path[300], line[128];
	FILE		*f;
	int		 guard[2];

	if (ext != NULL && *ext != '\0')
		snprintf(srv_dir, sizeof(srv_dir), "%s", ext);
	else {
		snprintf(srv_dir, sizeof(srv_dir), "/tmp/drover-bench-xmpp-"
		    "XXXXXX");
		if (mkdtemp(srv_dir) == NULL || pipe2(guard, O_CLOEXEC) != 0)
			return -1;
		if (run("start", srv_dir, guard[0]) != 0)
			return -1;
		srv_owned = 1;
		atexit(stop_server);
	}
	snprintf(path, sizeof(path), "%s/env", srv_dir);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "EJABBERD_PORT=", 14) == 0)
			srv_port = atoi(line + 14);
	fclose(f);
	return srv_port > 0 ? 0 : -1;
}

static void
conf_init(struct bus_conf *c, enum xmpp_auth auth, enum xmpp_tls tls)
{
	static char	cafile[300];

	snprintf(cafile, sizeof(cafile), "%s/crt.pem", srv_dir);
	memset(c, 0, sizeof(*c));
	c->host = (char *)"127.0.0.1";
	c->domain = (char *)"private.localhost";
	c->port = srv_port;
	c->username = (char *)"opensrf";
	c->password = (char *)"opensrfpw";
	c->auth = auth;
	c->legacy_digest = 1;
	c->tls = tls;
	c->tls_ca_file = cafile;
	c->tls_verify = 1;
	c->max_stanza_size = 10 * 1024 * 1024;
}

static struct xmpp_conn *
open_conn(enum xmpp_auth auth, enum xmpp_tls tls, const char *mech,
    const char *res)
{
	struct bus_conf	 conf;
	struct xmpp_conn	*c;

	conf_init(&conf, auth, tls);
	if ((c = xmpp_new(&conf, res)) == NULL)
		return NULL;
	if ((mech != NULL && xmpp_set_mechanisms(c, mech) != 0) ||
	    xmpp_open(c, WAIT_MS) != 0) {
		fprintf(stderr, "bench_xmpp: login %s: %s\n", res,
		    xmpp_error(c));
		xmpp_free(&c);
	}
	return c;
}

static void
bench_logins(const char *name, enum xmpp_auth auth, enum xmpp_tls tls,
    const char *mech)
{
	struct xmpp_conn	*c;
	uint64_t		 t0 = mono_us();
	char			 res[32];
	int			 i;

	for (i = 0; i < LOGINS; i++) {
		snprintf(res, sizeof(res), "login%d", i);
		if ((c = open_conn(auth, tls, mech, res)) == NULL)
			exit(1);
		xmpp_free(&c);
	}
	printf("login %-22s %8.2f ms each (%d logins)\n", name,
	    (double)(mono_us() - t0) / 1000.0 / LOGINS, LOGINS);
}

static char *
message(const char *to, const char *from, const char *body, size_t *len)
{
	struct tmsg	 m = TMSG_INIT;
	char		*xml;

	m.to = to;
	m.from = from;
	m.thread = "1795549623.398265.179554962322541";
	m.osrf_xid = "1795549623225412";
	m.body = body;
	if (tmsg_xml_write(&m, &xml, len) != 0)
		exit(1);
	return xml;
}

/*
 * Block (bounded) until c has a stanza other than a presence (the
 * account's resources announce themselves, xmpp.h); exits on failure.
 */
static struct xstanza *
wait_stanza(struct xmpp_conn *c)
{
	struct xstanza	*st;
	struct pollfd	 pfd;
	int		 rc;

	for (;;) {
		if ((rc = xmpp_recv(c, &st)) == 1 &&
		    strcmp(st->name, "presence") == 0) {
			xstanza_free(&st);
			continue;
		}
		if (rc == 1)
			return st;
		if (rc < 0) {
			fprintf(stderr, "bench_xmpp: recv: %s\n", xmpp_error(c));
			exit(1);
		}
		pfd.fd = xmpp_fd(c);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, WAIT_MS) == 0) {
			fprintf(stderr, "bench_xmpp: no stanza in %d ms\n",
			    WAIT_MS);
			exit(1);
		}
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
bench_pingpong(struct xmpp_conn *a, struct xmpp_conn *b, const char *body)
{
	struct xstanza	*st;
	uint64_t	*lat, t0, t;
	char		*ping, *pong;
	size_t		 plen, qlen;
	int		 i;

	if ((lat = calloc(PINGS, sizeof(*lat))) == NULL)
		exit(1);
	ping = message(xmpp_jid(b), xmpp_jid(a), body, &plen);
	pong = message(xmpp_jid(a), xmpp_jid(b), body, &qlen);
	t0 = mono_us();
	for (i = 0; i < PINGS; i++) {
		t = mono_us();
		if (xmpp_send(a, ping, plen) != 0)
			exit(1);
		st = wait_stanza(b);
		xstanza_free(&st);
		if (xmpp_send(b, pong, qlen) != 0)
			exit(1);
		st = wait_stanza(a);
		xstanza_free(&st);
		lat[i] = mono_us() - t;
	}
	t = mono_us() - t0;
	qsort(lat, PINGS, sizeof(*lat), cmp_u64);
	printf("ping-pong via ejabberd    %8.0f round trips/s, p50 %.3f ms, "
	    "p99 %.3f ms (%d, %zu-byte stanzas)\n",
	    PINGS / ((double)t / 1e6), lat[PINGS / 2] / 1000.0,
	    lat[PINGS * 99 / 100] / 1000.0, PINGS, plen);
	free(ping);
	free(pong);
	free(lat);
}

static void
bench_stream(struct xmpp_conn *a, struct xmpp_conn *b, const char *body)
{
	struct xstanza	*st;
	uint64_t	 t0, t, bytes = 0;
	char		*msg;
	size_t		 len;
	int		 sent = 0, got = 0, rc;
	struct pollfd	 pfd[2];

	msg = message(xmpp_jid(b), xmpp_jid(a), body, &len);
	t0 = mono_us();
	while (got < STREAM_MSGS) {
		/* keep a bounded window in flight so neither side blocks */
		while (sent < STREAM_MSGS && sent - got < 200) {
			if (xmpp_send(a, msg, len) != 0) {
				fprintf(stderr, "bench_xmpp: send: %s\n",
				    xmpp_error(a));
				exit(1);
			}
			sent++;
		}
		/* xmpp_send() queues what the socket does not take */
		if ((rc = xmpp_flush(a)) != 0 && rc != -EAGAIN) {
			fprintf(stderr, "bench_xmpp: flush: %s\n",
			    xmpp_error(a));
			exit(1);
		}
		while ((rc = xmpp_recv(b, &st)) == 1) {
			if (strcmp(st->name, "presence") != 0) {
				bytes += st->len;
				got++;
			}
			xstanza_free(&st);
		}
		if (rc < 0) {
			fprintf(stderr, "bench_xmpp: recv: %s\n",
			    xmpp_error(b));
			exit(1);
		}
		if (got < sent) {	/* else send the next window */
			pfd[0].fd = xmpp_fd(b);
			pfd[0].events = POLLIN;
			pfd[1].fd = xmpp_events(a) & POLLOUT ? xmpp_fd(a) : -1;
			pfd[1].events = POLLOUT;
			if (poll(pfd, 2, WAIT_MS) == 0) {
				fprintf(stderr, "bench_xmpp: stalled at %d of "
				    "%d (sent %d)\n", got, STREAM_MSGS, sent);
				exit(1);
			}
		}
	}
	t = mono_us() - t0;
	printf("one-way via ejabberd      %8.0f stanzas/s, %.1f MB/s "
	    "received (%d stanzas)\n", STREAM_MSGS / ((double)t / 1e6),
	    (double)bytes / ((double)t / 1e6) / 1e6, STREAM_MSGS);
	free(msg);
}

int
main(void)
{
	struct xmpp_conn	*a, *b;
	char			 body[BODY_SIZE + 1];

	signal(SIGPIPE, SIG_IGN);
	if (start_server() != 0) {
		fprintf(stderr, "bench_xmpp: cannot start ejabberd "
		    "(test/servers/ejabberd)\n");
		return 1;
	}
	log_set_level(LOGL_ERROR);
	bench_logins("legacy digest", XMPP_AUTH_LEGACY, XMPP_TLS_OFF, NULL);
	bench_logins("SASL SCRAM-SHA-1", XMPP_AUTH_SASL, XMPP_TLS_OFF,
	    "SCRAM-SHA-1");
	bench_logins("SCRAM-SHA-1 + STARTTLS", XMPP_AUTH_SASL,
	    XMPP_TLS_REQUIRED, "SCRAM-SHA-1");
	memset(body, 'x', BODY_SIZE);
	body[BODY_SIZE] = '\0';
	a = open_conn(XMPP_AUTH_LEGACY, XMPP_TLS_OFF, NULL, "bench_a");
	b = open_conn(XMPP_AUTH_LEGACY, XMPP_TLS_OFF, NULL, "bench_b");
	if (a == NULL || b == NULL)
		return 1;
	bench_pingpong(a, b, body);
	bench_stream(a, b, body);
	xmpp_free(&a);
	xmpp_free(&b);
	return 0;
}
