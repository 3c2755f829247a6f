/*
 * test_router_loop.c: proto/router_loop.c over a fake bus.
 *
 * Every bus the loop creates is a SOCK_SEQPACKET socketpair: one packet
 * is one stanza (a backend of the test's own, through bus_new_ops()).  The test plays the XMPP server: it holds the
 * peer end of each connection (found by resource), writes the stanzas
 * listeners and clients would send, and reads back, byte for byte, what
 * the router sends.  The loop runs in a thread of the test process; all
 * waits have a deadline and fail the test when it passes.
 */
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "proto/bus_int.h"
#include "proto/router_loop.h"

#define DEADLINE_MS	5000
#define PEERS_MAX	16
#define DOM		"private.localhost"
#define TOPJID		"router@" DOM "/router"
#define MATHJID		"router@" DOM "/opensrf.math"
#define LA		"opensrf@" DOM "/opensrf.math_listener_a_1"
#define LB		"opensrf@" DOM "/opensrf.math_listener_b_2"
#define CLI		"opensrf@" DOM "/_vm_1_2"
#define EVIL		"opensrf@evil.example/_x_1"

/* ------------------------------------------------------- fake bus */

struct fake {
	int	fd;
	char	resource[128];
	char	jid[256];
};

static pthread_mutex_t	peers_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	peers_cv = PTHREAD_COND_INITIALIZER;
static struct {
	char	resource[128];
	int	fd;
} peers[PEERS_MAX];
static int	npeers;
static int	fail_opens;	/* opens still to fail, under peers_mu */

static int
fake_connect(struct bus *t)
{
	struct fake	*f = t->impl;
	int		 sv[2];

	pthread_mutex_lock(&peers_mu);
	if (fail_opens > 0) {
		fail_opens--;
		pthread_mutex_unlock(&peers_mu);
		return -ECONNREFUSED;
	}
	pthread_mutex_unlock(&peers_mu);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	f->fd = sv[0];
	pthread_mutex_lock(&peers_mu);
	ck_assert_int_lt(npeers, PEERS_MAX);
	str_copy(peers[npeers].resource, f->resource,
	    sizeof(peers[npeers].resource));
	peers[npeers++].fd = sv[1];
	pthread_cond_broadcast(&peers_cv);
	pthread_mutex_unlock(&peers_mu);
	return 0;
}

static int
fake_fd(const struct bus *t)
{
	return ((struct fake *)t->impl)->fd;
}

static uint32_t
fake_events(const struct bus *t)
{
	return POLLIN;
}

static int
fake_recv(struct bus *t, struct bus_frame **out)
{
	struct fake	*f = t->impl;
	char		 buf[65536];
	unsigned	 flags = 0;
	ssize_t		 n;

	n = recv(f->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (n == 0)
		return -ENOTCONN;
	buf[n] = '\0';
	if (strncmp(buf, "<message", 8) != 0)
		flags |= BUS_F_OTHER;
	if (strstr(buf, "type='error'") != NULL)
		flags |= BUS_F_ERROR;
	*out = bus_frame_wrap(strdup(buf), (size_t)n, flags);
	return *out != NULL ? 1 : -ENOMEM;
}

static int
fake_decode(const struct bus *t, const char *raw, size_t len, struct tmsg *m,
    struct proto_err *err)
{
	return tmsg_xml_parse(raw, len, m, err);
}

/* One packet per message. */
static int
fake_send(struct bus *t, const char *dest, const struct tmsg *m)
{
	struct fake	*f = t->impl;
	struct tmsg	 msg = *m;
	char		*xml;
	size_t		 len;
	int		 rc;

	if (dest != NULL)
		msg.to = dest;
	if (msg.from == NULL || *msg.from == '\0')
		msg.from = f->jid;
	if ((rc = tmsg_xml_write(&msg, &xml, &len)) < 0)
		return rc;
	rc = send(f->fd, xml, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 :
	    -ENOTCONN;
	free(xml);
	return rc;
}

static const char *
fake_addr(const struct bus *t)
{
	return ((const struct fake *)t->impl)->jid;
}

static int
fake_service_addr(const struct bus *t, const char *svc, char *buf, size_t n)
{
	return snprintf(buf, n, "router@" DOM "/%s", svc);
}

static void
fake_drop(struct bus *t)
{
	fd_close(&((struct fake *)t->impl)->fd);
}

static void
fake_destroy(struct bus *t, int logout)
{
	fake_drop(t);
	free(t->impl);
	t->impl = NULL;
}

static int
fake_init(struct bus *t)
{
	struct fake	*f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -ENOMEM;
	f->fd = -1;
	str_copy(f->resource, t->p.resource, sizeof(f->resource));
	snprintf(f->jid, sizeof(f->jid), "%s@%s/%s", t->conf.username,
	    t->conf.domain, t->p.resource);
	t->impl = f;
	return 0;
}

static const struct bus_ops fake_ops = {
	.name = "fake",
	.init = fake_init,
	.destroy = fake_destroy,
	.connect = fake_connect,
	.step = fake_connect,
	.drop = fake_drop,
	.fd = fake_fd,
	.events = fake_events,
	.recv = fake_recv,
	.decode = fake_decode,
	.send = fake_send,
	.addr = fake_addr,
	.service_addr = fake_service_addr,
};

static int
fake_new(const struct bus_conf *conf, const char *resource, struct bus **out)
{
	struct bus_params	p;

	memset(&p, 0, sizeof(p));
	p.kind = conf->kind;
	p.conf = conf;
	p.role = BUS_ROLE_ROUTER;
	p.resource = resource;
	return bus_new_ops(&fake_ops, &p, out);
}

/* The n-th (0-based) connection opened with `resource`. */
static int
peer_wait(const char *resource, int nth)
{
	struct timespec	ts;
	int		i, seen, fd = -1;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DEADLINE_MS / 1000;
	pthread_mutex_lock(&peers_mu);
	for (;;) {
		for (i = 0, seen = 0; i < npeers; i++)
			if (strcmp(peers[i].resource, resource) == 0 &&
			    seen++ == nth) {
				fd = peers[i].fd;
				break;
			}
		if (fd >= 0 || pthread_cond_timedwait(&peers_cv, &peers_mu,
		    &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&peers_mu);
	ck_assert_msg(fd >= 0, "no connection for resource %s", resource);
	return fd;
}

/* The test closes its end: the server dropped that connection. */
static void
peer_close(int fd)
{
	int	i;

	pthread_mutex_lock(&peers_mu);
	for (i = 0; i < npeers; i++)
		if (peers[i].fd == fd)
			peers[i].fd = -1;
	pthread_mutex_unlock(&peers_mu);
	close(fd);
}

static void
put(int fd, const char *xml)
{
	ck_assert_int_eq(send(fd, xml, strlen(xml), MSG_NOSIGNAL),
	    (ssize_t)strlen(xml));
}

/* Next stanza the router sent on fd; caller frees. */
static char *
get(int fd)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	char		buf[65536];
	ssize_t		n;

	ck_assert_msg(poll(&pfd, 1, DEADLINE_MS) == 1,
	    "router sent nothing within the deadline");
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	return strdup(buf);
}

/* Nothing is pending on fd (everything sent before was consumed). */
static void
nothing(int fd)
{
	char	buf[16];

	ck_assert_int_eq(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
}

static void
get_eq(int fd, const char *want)
{
	char	*got = get(fd);

	ck_assert_str_eq(got, want);
	free(got);
}

/* ------------------------------------------------------- the loop */

static volatile sig_atomic_t	 stop_flag, reload_flag;
static int			 wake[2];
static struct router_loop	*LOOP;
static pthread_t		 loop_thr;
static char			*servers[] = { DOM };
static char			*clients[] = { DOM };
static char			*clients2[] = { DOM, "evil.example" };
static struct router_conf	 entry;
static char			 status_dir[64];
static char			 status_path[96];

static void *
loop_main(void *arg)
{
	ck_assert_int_eq(router_loop_run(LOOP), 0);
	return NULL;
}

static int
reload_fn(void *arg, struct router_conf **out, size_t *n)
{
	struct router_conf	*c = calloc(1, sizeof(*c));

	c->bus.username = strdup("router");
	c->bus.domain = strdup(DOM);
	c->trusted_servers = calloc(2, sizeof(char *));
	c->trusted_servers[0] = strdup(DOM);
	c->ntrusted_servers = 1;
	c->trusted_clients = calloc(3, sizeof(char *));
	c->trusted_clients[0] = strdup(clients2[0]);
	c->trusted_clients[1] = strdup(clients2[1]);
	c->ntrusted_clients = 2;
	*out = c;
	*n = 1;
	return 0;
}

static void
setup(void)
{
	struct router_loop_conf	lc;

	log_set_level(LOGL_NONE);
	npeers = 0;
	fail_opens = 0;
	stop_flag = reload_flag = 0;
	str_copy(status_dir, "/tmp/drover-test-router.XXXXXX",
	    sizeof(status_dir));
	ck_assert_ptr_nonnull(mkdtemp(status_dir));
	snprintf(status_path, sizeof(status_path), "%s/status", status_dir);
	ck_assert_int_eq(pipe2(wake, O_CLOEXEC | O_NONBLOCK), 0);
	memset(&entry, 0, sizeof(entry));
	entry.bus.username = "router";
	entry.bus.domain = DOM;
	entry.bus.resource = "router";
	entry.bus.reconnect_max_ms = 1;	/* retries at once */
	entry.trusted_servers = servers;
	entry.ntrusted_servers = 1;
	entry.trusted_clients = clients;
	entry.ntrusted_clients = 1;
	memset(&lc, 0, sizeof(lc));
	lc.entries = &entry;
	lc.nentries = 1;
	lc.mk = fake_new;
	lc.status_path = status_path;
	lc.stop = &stop_flag;
	lc.reload = &reload_flag;
	lc.wake_fd = wake[0];
	lc.reload_fn = reload_fn;
	ck_assert_int_eq(router_loop_new(&lc, &LOOP), 0);
	ck_assert_int_eq(pthread_create(&loop_thr, NULL, loop_main, NULL), 0);
}

static void
poke(volatile sig_atomic_t *flag)
{
	*flag = 1;
	ck_assert_int_eq(write(wake[1], "x", 1), 1);
}

static void
teardown(void)
{
	int	i;

	poke(&stop_flag);
	ck_assert_int_eq(pthread_join(loop_thr, NULL), 0);
	router_loop_free(&LOOP);
	ck_assert_ptr_null(LOOP);
	/* every connection was closed: each peer reads end of file */
	for (i = 0; i < npeers; i++) {
		char	buf[8];

		if (peers[i].fd < 0)
			continue;
		while (recv(peers[i].fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			continue;
		ck_assert_int_eq(recv(peers[i].fd, buf, sizeof(buf),
		    MSG_DONTWAIT), 0);
		close(peers[i].fd);
	}
	close(wake[0]);
	close(wake[1]);
	/* the status file goes with the router */
	ck_assert_int_eq(access(status_path, F_OK), -1);
	ck_assert_int_eq(rmdir(status_dir), 0);
}

#define REG(from, cmd) \
	"<message xml:lang='en' to='" TOPJID "' from='" from "'>" \
	"<opensrf router_from='' router_to='' router_class='opensrf.math' " \
	"router_command='" cmd "' osrf_xid=''/><body>" cmd "ing</body>" \
	"</message>"
#define BODY	"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"1\"," \
	"\"locale\":\"en-US\",\"api_level\":1,\"type\":\"REQUEST\"," \
	"\"payload\":{\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"add\"," \
	"\"params\":[2,2]}}}}]"
#define BODYQ	"[{&quot;__c&quot;:&quot;osrfMessage&quot;,&quot;__p&quot;:{" \
	"&quot;threadTrace&quot;:&quot;1&quot;,&quot;locale&quot;:&quot;" \
	"en-US&quot;,&quot;api_level&quot;:1,&quot;type&quot;:&quot;" \
	"REQUEST&quot;,&quot;payload&quot;:{&quot;__c&quot;:&quot;" \
	"osrfMethod&quot;,&quot;__p&quot;:{&quot;method&quot;:&quot;add" \
	"&quot;,&quot;params&quot;:[2,2]}}}}]"
/* A request as ejabberd delivers it to the class address. */
#define REQ(from, thread) \
	"<message xml:lang='en' to='" MATHJID "' from='" from "'>" \
	"<opensrf router_from='forged@evil.example/x' router_to='' " \
	"router_class='' router_command='' osrf_xid='17'/><body>" BODYQ \
	"</body><thread>" thread "</thread></message>"
/* The forward, exactly as spec 2.3 and the capture show it. */
#define FWD(to, thread) \
	"<message to=\"" to "\" from=\"" MATHJID "\"><opensrf router_from=\"" \
	CLI "\" router_to=\"\" router_class=\"\" router_command=\"\" " \
	"osrf_xid=\"17\"/><thread>" thread "</thread><body>" BODY \
	"</body></message>"
/* ejabberd's bounce of a forward to a vanished listener. */
#define BOUNCE(from, thread) \
	"<message xml:lang='en' to='" MATHJID "' from='" from "' " \
	"type='error'><opensrf router_from='" CLI "' router_to='' " \
	"router_class='' router_command='' osrf_xid='17'/><thread>" thread \
	"</thread><body>" BODYQ "</body><error code='503' type='cancel'>" \
	"<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>" \
	"</error></message>"

/*
 * A round trip through the top-level connection.  The loop handles its
 * wake pipe before the stanzas of the same batch, so after poke() and
 * this, the flag has been acted upon.
 */
static void
sync_loop(int top)
{
	char	*r;

	put(top, "<message to='" TOPJID "' from='" CLI "'><thread>sync"
	    "</thread><body>[{\"__c\":\"osrfMessage\",\"__p\":{"
	    "\"threadTrace\":\"9\",\"type\":\"CONNECT\"}}]</body>"
	    "</message>");
	r = get(top);
	ck_assert_ptr_nonnull(strstr(r, "Connection Successful"));
	free(r);
}

/* Register A and B; returns the class connection's peer. */
static int
two_listeners(int top)
{
	put(top, REG(LA, "register"));
	put(top, REG(LB, "register"));
	return peer_wait("opensrf.math", 0);
}

START_TEST(test_forward_round_robin)
{
	int	top = peer_wait("router", 0), cls;

	cls = two_listeners(top);
	put(cls, REQ(CLI, "t1"));
	get_eq(cls, FWD(LA, "t1"));
	put(cls, REQ(CLI, "t2"));
	get_eq(cls, FWD(LB, "t2"));
	put(cls, REQ(CLI, "t3"));
	get_eq(cls, FWD(LA, "t3"));
	nothing(top);
}
END_TEST

START_TEST(test_bounce_retried)
{
	int	top = peer_wait("router", 0), cls;

	cls = two_listeners(top);
	put(cls, REQ(CLI, "t1"));
	get_eq(cls, FWD(LA, "t1"));
	put(cls, REQ(CLI, "t2"));
	get_eq(cls, FWD(LB, "t2"));
	put(cls, REQ(CLI, "t3"));
	get_eq(cls, FWD(LA, "t3"));
	/* A vanished: both its requests come back and go to B */
	put(cls, BOUNCE(LA, "t1"));
	get_eq(cls, FWD(LB, "t1"));
	put(cls, BOUNCE(LA, "t3"));
	get_eq(cls, FWD(LB, "t3"));
	/* now B goes too: the client hears at once */
	put(cls, BOUNCE(LB, "t3"));
	{
		char	*e = get(cls);

		ck_assert_ptr_nonnull(strstr(e, "<message to=\"" CLI "\""));
		ck_assert_ptr_nonnull(strstr(e, " type=\"error\""));
		ck_assert_ptr_nonnull(strstr(e, "code=\"503\""));
		ck_assert_ptr_nonnull(strstr(e, "<thread>t3</thread>"));
		ck_assert_ptr_nonnull(strstr(e, "osrfMethodException"));
		ck_assert_ptr_nonnull(strstr(e,
		    "Service opensrf.math has no listener"));
		free(e);
	}
	/* and the class address is logged out */
	{
		char	buf[8];
		struct pollfd pfd = { cls, POLLIN, 0 };

		ck_assert_int_eq(poll(&pfd, 1, DEADLINE_MS), 1);
		ck_assert_int_eq(recv(cls, buf, sizeof(buf), 0), 0);
	}
}
END_TEST

START_TEST(test_untrusted)
{
	int	 top = peer_wait("router", 0), cls;
	char	*e;

	/* an untrusted registration is ignored: no class address opens */
	put(top, REG(EVIL, "register"));
	cls = two_listeners(top);
	put(cls, REQ(EVIL, "t1"));
	e = get(cls);
	ck_assert_ptr_nonnull(strstr(e, "<message to=\"" EVIL "\""));
	ck_assert_ptr_nonnull(strstr(e, "code=\"403\""));
	ck_assert_ptr_nonnull(strstr(e, "<forbidden"));
	free(e);
	/* SIGHUP adds evil.example to the clients */
	poke(&reload_flag);
	sync_loop(top);
	put(cls, REQ(EVIL, "t2"));
	e = get(cls);
	ck_assert_ptr_nonnull(strstr(e, "<message to=\"" LA "\""));
	free(e);
	/* the evil registration never made it */
	put(cls, REQ(CLI, "t3"));
	get_eq(cls, FWD(LB, "t3"));
}
END_TEST

START_TEST(test_api)
{
	int	 top = peer_wait("router", 0);
	char	*r;

	(void)two_listeners(top);
	put(top, "<message to='" TOPJID "' from='" CLI "'><thread>api1"
	    "</thread><body>[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\""
	    ":\"1\",\"type\":\"REQUEST\",\"payload\":{\"__c\":\"osrfMethod\","
	    "\"__p\":{\"method\":\"opensrf.router.info.class.list\","
	    "\"params\":[]}}}}]</body></message>");
	get_eq(top, "<message to=\"" CLI "\" from=\"" TOPJID "\"><opensrf "
	    "router_from=\"\" router_to=\"\" router_class=\"\" "
	    "router_command=\"\" osrf_xid=\"\"/><thread>api1</thread><body>"
	    "[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"1\","
	    "\"locale\":\"en-US\",\"type\":\"RESULT\",\"payload\":{\"__c\":"
	    "\"osrfResult\",\"__p\":{\"status\":null,\"statusCode\":\"0\","
	    "\"content\":[\"opensrf.math\"]}}}}]</body></message>");
	r = get(top);
	ck_assert_ptr_nonnull(strstr(r, "Request Complete"));
	free(r);
	/* from an untrusted server domain: nothing at all */
	put(top, "<message to='" TOPJID "' from='" EVIL "'><thread>api2"
	    "</thread><body>[]</body></message>");
	put(top, REG(LA, "unregister"));
	put(top, REG(LB, "unregister"));
	/* the class address closes after the last unregistration */
	{
		char	buf[8];
		int	cls = peer_wait("opensrf.math", 0);
		struct pollfd pfd = { cls, POLLIN, 0 };

		ck_assert_int_eq(poll(&pfd, 1, DEADLINE_MS), 1);
		ck_assert_int_eq(recv(cls, buf, sizeof(buf), 0), 0);
	}
	nothing(top);
}
END_TEST

/* Lost connections come back; logins that fail are retried. */
START_TEST(test_reconnect)
{
	int	top = peer_wait("router", 0), cls;

	cls = two_listeners(top);
	pthread_mutex_lock(&peers_mu);
	fail_opens = 2;
	pthread_mutex_unlock(&peers_mu);
	peer_close(cls);	/* the server dropped the class address */
	cls = peer_wait("opensrf.math", 1);
	/* registrations survived the reconnect */
	put(cls, REQ(CLI, "t1"));
	get_eq(cls, FWD(LA, "t1"));
	peer_close(top);	/* and the top-level one */
	top = peer_wait("router", 1);
	put(top, REG(LA, "unregister"));
	put(cls, REQ(CLI, "t2"));
	get_eq(cls, FWD(LB, "t2"));
}
END_TEST

static int
status_has(const char *want, char *buf, size_t bufsz)
{
	FILE	*f;
	size_t	 n;

	buf[0] = '\0';
	if ((f = fopen(status_path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, bufsz - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, want) != NULL;
}

/*
 * The status file shows the counters.  It is replaced by rename(2),
 * so each new version is an IN_MOVED_TO event in its directory.
 */
START_TEST(test_status_file)
{
	int		 top = peer_wait("router", 0), cls, ino;
	char		 buf[4096], ev[4096];
	struct pollfd	 pfd;
	uint64_t	 end;

	ck_assert_int_ge(ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), 0);
	ck_assert_int_ge(inotify_add_watch(ino, status_dir, IN_MOVED_TO), 0);
	cls = two_listeners(top);
	put(cls, REQ(CLI, "t1"));
	get_eq(cls, FWD(LA, "t1"));
	end = mono_ms() + DEADLINE_MS;
	while (!status_has("    listener " LA " forwarded 1\n", buf,
	    sizeof(buf))) {
		pfd.fd = ino;
		pfd.events = POLLIN;
		ck_assert_msg(mono_ms() < end && poll(&pfd, 1,
		    (int)(end - mono_ms())) == 1, "status file not updated");
		while (read(ino, ev, sizeof(ev)) > 0)
			continue;
	}
	close(ino);
	ck_assert_ptr_nonnull(strstr(buf, "router " TOPJID " state up "
	    "classes 1"));
	ck_assert_ptr_nonnull(strstr(buf, "  class opensrf.math state up "
	    "listeners 2 forwarded 1 retried 0 errors 0 bounces 0\n"));
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stdout));
	ck_assert_int_eq(router_status_print(status_path), 0);
}
END_TEST

/* --status: refuses what is not a live router's status file. */
static const struct {
	const char	*raw;		/* written as is; NULL: see pid */
	int		 pid;		/* 0 no file, 1 our pid, 2 a dead one */
	int		 rc;
} print_cases[] = {
	{ NULL, 0, -ENOENT },
	{ "", 0, -EINVAL },
	{ "hello\n", 0, -EINVAL },
	{ "drover-router pid 0 started 1 updated 2\n", 0, -EINVAL },
	{ NULL, 2, -ESRCH },
	{ NULL, 1, 0 },
};

START_TEST(test_status_print)
{
	char	 dname[] = "/tmp/drover-test-rstatus.XXXXXX", path[96];
	FILE	*f;
	pid_t	 pid = getpid();
	int	 st;

	ck_assert_ptr_nonnull(mkdtemp(dname));
	snprintf(path, sizeof(path), "%s/status", dname);
	if (print_cases[_i].pid == 2) {
		/* a child that has been reaped: its pid runs nothing */
		ck_assert_int_ge(pid = fork(), 0);
		if (pid == 0)
			_exit(0);
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	}
	if (print_cases[_i].raw != NULL || print_cases[_i].pid != 0) {
		ck_assert_ptr_nonnull(f = fopen(path, "w"));
		if (print_cases[_i].raw != NULL)
			fputs(print_cases[_i].raw, f);
		else
			fprintf(f, "drover-router pid %ld started 1 updated 2\n"
			    "router x\n", (long)pid);
		ck_assert_int_eq(fclose(f), 0);
	}
	/* this test runs in its own process: its stdout is ours to drop */
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stdout));
	ck_assert_int_eq(router_status_print(path), print_cases[_i].rc);
	(void)unlink(path);	/* absent in the first case */
	ck_assert_int_eq(rmdir(dname), 0);
}
END_TEST

Suite *
router_loop_suite(void)
{
	Suite	*s = suite_create("router_loop");
	TCase	*tc;

	tc = tcase_create("loop");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_forward_round_robin);
	tcase_add_test(tc, test_bounce_retried);
	tcase_add_test(tc, test_untrusted);
	tcase_add_test(tc, test_api);
	tcase_add_test(tc, test_reconnect);
	tcase_add_test(tc, test_status_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("status");
	tcase_add_loop_test(tc, test_status_print, 0, ARRAY_LEN(print_cases));
	suite_add_tcase(s, tc);
	return s;
}
