/*
 * bench_router.c: drover-router's forwarding rate and CPU cost on a
 * private ejabberd (make bench).
 *
 * Starts ejabberd with test/servers/ejabberd and bin/drover-router,
 * registers in-process listeners for one class, and has an in-process
 * client send requests to the class address, keeping W requests in
 * flight (sent but not yet received by a listener).  Each request is
 * two stanzas through ejabberd (client -> router, router -> listener)
 * and one pass through the router.  Listeners do not answer: the figure
 * is the router's, not a service's.
 *
 * Printed per window: forwarded requests/s, and the router's CPU time
 * (user + system, all threads, from /proc/<pid>/stat, in clock ticks;
 * and of its main thread from /proc/<pid>/schedstat, in ns) divided by
 * the requests forwarded.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "proto/tmsg.h"
#include "proto/xmpp.h"

#define SVC	"drover.bench"
#define DOM	"private.localhost"
#define NLIS	2

static char	dir[64], top[1024];
static int	port;
static pid_t	router = -1;

static void
die(const char *what)
{
	fprintf(stderr, "bench_router: %s\n", what);
	if (router > 0)
		kill(router, SIGKILL);
	if (dir[0] != '\0') {
		char	cmd[2048];

		snprintf(cmd, sizeof(cmd), "%s/test/servers/ejabberd stop %s",
		    top, dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_router: ejabberd stop failed\n");
	}
	exit(1);
}

static void
ejabberd_start(void)
{
	char	 cmd[2048], line[256];
	FILE	*f;

	snprintf(cmd, sizeof(cmd), "%s/test/servers/ejabberd start %s "
	    ">/dev/null", top, dir);
	if (system(cmd) != 0)
		die("cannot start ejabberd (test/servers/ejabberd)");
	snprintf(cmd, sizeof(cmd), "%s/env", dir);
	if ((f = fopen(cmd, "r")) == NULL)
		die("no ejabberd env file");
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "EJABBERD_PORT=%d", &port) == 1)
			break;
	fclose(f);
	if (port <= 0)
		die("no EJABBERD_PORT");
}

static void
router_start(void)
{
	char	 core[128], status[128], logf[128], bin[1100], buf[4096];
	FILE	*f;
	size_t	 n;
	int	 i;

	snprintf(core, sizeof(core), "%s/core.xml", dir);
	snprintf(status, sizeof(status), "%s/status", dir);
	snprintf(logf, sizeof(logf), "%s/router.log", dir);
	if ((f = fopen(core, "w")) == NULL)
		die("cannot write core.xml");
	fprintf(f, "<config><routers><router><trusted_domains>"
	    "<server>" DOM "</server><client>" DOM "</client>"
	    "</trusted_domains><transport><server>" DOM "</server>"
	    "<host>127.0.0.1</host><port>%d</port><username>router"
	    "</username><password>routerpw</password><resource>router"
	    "</resource></transport><logfile>%s</logfile><loglevel>2"
	    "</loglevel></router></routers></config>\n", port, logf);
	fclose(f);
	snprintf(bin, sizeof(bin), "%s/bin/drover-router", top);
	if ((router = fork()) < 0)
		die("fork");
	if (router == 0) {
		execl(bin, "drover-router", "-f", "-c", core, "-s", status,
		    (char *)NULL);
		_exit(127);
	}
	/* A benchmark may poll: wait up to 20 s for the router's login. */
	for (i = 0; i < 200; i++) {
		if ((f = fopen(status, "r")) != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[n] = '\0';
			if (strstr(buf, "state up") != NULL)
				return;
		}
		if (waitpid(router, NULL, WNOHANG) == router) {
			router = -1;
			die("drover-router exited at start-up");
		}
		usleep(100000);
	}
	die("drover-router did not log in");
}

static struct xmpp_conn *
login(const char *resource)
{
	struct bus_conf	 c;
	struct xmpp_conn	*t;

	memset(&c, 0, sizeof(c));
	c.host = "127.0.0.1";
	c.domain = DOM;
	c.port = port;
	c.username = "opensrf";
	c.password = "opensrfpw";
	c.auth = XMPP_AUTH_LEGACY;
	c.legacy_digest = 1;
	c.max_stanza_size = 1 << 20;
	if ((t = xmpp_new(&c, resource)) == NULL ||
	    xmpp_open(t, 10000) < 0)
		die("XMPP login failed");
	return t;
}

static void
send_raw(struct xmpp_conn *t, struct tmsg *m)
{
	char	*xml;
	size_t	 len;

	m->from = xmpp_jid(t);
	if (tmsg_xml_write(m, &xml, &len) < 0 || xmpp_send(t, xml, len) < 0)
		die("send failed");
	free(xml);
}

/* Count the stanzas waiting on t. */
static long
drain(struct xmpp_conn *t)
{
	struct xstanza	*x;
	long		 n = 0;
	int		 rc;

	while ((rc = xmpp_recv(t, &x)) == 1) {
		if (!x->is_error)
			n++;
		xstanza_free(&x);
	}
	if (rc < 0)
		die("receive failed");
	return n;
}

/* Router CPU: all threads in ticks, main thread in ns. */
static void
router_cpu(double *all_us, double *main_us)
{
	char		 path[64], buf[2048], *p;
	unsigned long	 ut = 0, st = 0;
	unsigned long long ns = 0;
	FILE		*f;
	size_t		 n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)router);
	if ((f = fopen(path, "r")) == NULL)
		die("router gone");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields 14 and 15, counted after the ")" of the command */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
	    &st) != 2)
		die("cannot read /proc stat");
	*all_us = (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof(path), "/proc/%ld/schedstat", (long)router);
	if ((f = fopen(path, "r")) == NULL || fscanf(f, "%llu", &ns) != 1)
		die("cannot read schedstat");
	fclose(f);
	*main_us = (double)ns / 1000.0;
}

static void
run(struct xmpp_conn *cli, struct xmpp_conn **lis, int window, long total)
{
	struct pollfd	 pfd[NLIS + 1];
	struct tmsg	 m = TMSG_INIT;
	char		 to[128], thread[32];
	const char	*body = "[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"1\",\"locale\":\"en-US\",\"api_level\":1,"
	    "\"type\":\"REQUEST\",\"payload\":{\"__c\":\"osrfMethod\","
	    "\"__p\":{\"method\":\"add\",\"params\":[2,2]}}}}]";
	long		 sent = 0, got = 0;
	double		 a0, m0, a1, m1;
	uint64_t	 t0, t1;
	int		 i;

	snprintf(to, sizeof(to), "router@" DOM "/" SVC);
	m.to = to;
	m.thread = thread;
	m.osrf_xid = "";
	m.body = body;
	router_cpu(&a0, &m0);
	t0 = mono_us();
	while (got < total) {
		while (sent < total && sent - got < window) {
			snprintf(thread, sizeof(thread), "b.%ld", sent);
			send_raw(cli, &m);
			sent++;
		}
		for (i = 0; i < NLIS; i++) {
			pfd[i].fd = xmpp_fd(lis[i]);
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, NLIS, 10000) <= 0)
			die("no forward within 10 s");
		for (i = 0; i < NLIS; i++)
			got += drain(lis[i]);
	}
	t1 = mono_us();
	router_cpu(&a1, &m1);
	(void)drain(cli);	/* nothing is expected; keep it empty */
	printf("router  window %2d  %6ld requests  %7.0f forwarded/s  "
	    "router CPU %5.1f us/request (main thread %5.1f)\n", window,
	    total, (double)total * 1e6 / (double)(t1 - t0),
	    (a1 - a0) / (double)total, (m1 - m0) / (double)total);
	fflush(stdout);
}

int
main(void)
{
	struct xmpp_conn	*cli, *lis[NLIS];
	struct tmsg		 m = TMSG_INIT;
	char			 res[64], cmd[2048];
	const char		*t = getenv("DROVER_TOP");
	long			 got = 0;
	int			 i, st;

	log_init("bench_router");
	log_set_level(LOGL_ERROR);
	signal(SIGPIPE, SIG_IGN);
	str_copy(top, t != NULL ? t : ".", sizeof(top));
	str_copy(dir, "/tmp/drover-bench-router.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL) {
		dir[0] = '\0';
		die("mkdtemp");
	}
	ejabberd_start();
	router_start();
	for (i = 0; i < NLIS; i++) {
		snprintf(res, sizeof(res), SVC "_listener_bench_%d", i);
		lis[i] = login(res);
		m.to = "router@" DOM "/router";
		m.router_class = SVC;
		m.router_command = "register";
		m.body = "registering";
		send_raw(lis[i], &m);
	}
	cli = login("_bench_client");
	/* Warm up until the class address is up and both are forwarded to. */
	memset(&m, 0, sizeof(m));
	m.to = "router@" DOM "/" SVC;
	m.thread = "warm";
	m.body = "[]";
	for (i = 0; i < 400 && got < 20; i++) {
		struct xstanza	*x;

		send_raw(cli, &m);
		while (xmpp_recv(cli, &x) == 1)
			xstanza_free(&x);	/* bounces while it logs in */
		usleep(50000);
		got += drain(lis[0]) + drain(lis[1]);
	}
	if (got < 20)
		die("the router never forwarded");
	run(cli, lis, 1, 5000);
	run(cli, lis, 16, 30000);
	run(cli, lis, 64, 30000);

	xmpp_free(&cli);
	for (i = 0; i < NLIS; i++)
		xmpp_free(&lis[i]);
	kill(router, SIGTERM);
	if (waitpid(router, &st, 0) != router || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		fprintf(stderr, "bench_router: router did not stop cleanly\n");
	router = -1;
	snprintf(cmd, sizeof(cmd), "%s/test/servers/ejabberd stop %s; "
	    "rm -rf %s", top, dir, dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_router: cleanup failed\n");
	return 0;
}
