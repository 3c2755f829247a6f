/*
 * test_router_xmpp.c: drover-router on a private ejabberd (integration).
 *
 * The real bin/drover-router runs against the test server harness's
 * ejabberd (test/th_servers.h).  The test plays the other peers over
 * the real XMPP transport: listeners that register a class and answer
 * each request they are forwarded directly to the client (as a drone
 * would) with their own name as the result, and a client that sends
 * requests by service name and collects the answers.
 *
 * Proven here: two listeners share the load round robin (the router's
 * per-listener counters, read from its status file, and the answers
 * agree); when one listener vanishes every later request is served by
 * the other (its bounces are retried); with no listener left the client
 * gets an error reply at once; an unknown class and an unknown router
 * method get errors; after SIGHUP an untrusted client domain is refused
 * with an error and a registration from an untrusted server domain is
 * ignored; the router logs in again after the server restarts.  A second
 * TCase does the round robin and the failover with two real droverd
 * listeners (-i a, -i b) of drover.test, one of them SIGKILLed, and
 * another runs the first three cases on prosody, whose bounces carry no
 * payload.
 *
 * Synchronisation: waits on stanzas (poll with a deadline), on the
 * router's status file (inotify) and on its log; never on time alone.
 */
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "proto/osrfmsg.h"
#include "proto/pbuf.h"
#include "proto/tmsg.h"
#include "proto/xmpp.h"
#include "th_notify.h"
#include "th_droverd.h"
#include "th_servers.h"

#define DEADLINE_MS	10000
#define NLIS		4
#define SVC		"drover.rtest"

/* ------------------------------------------------------- fixture */

static int			 port;		/* the private server's */
/* The server the current TCase runs on (prosody: no legacy digest). */
static enum th_server_kind	 kind = TH_EJABBERD;
static char			 dir[64];	/* private files */
static char			 core_path[128], status_path[128];
static char			 log_path[128];
static pid_t			 router_pid = -1;

#define PRIV	TH_DOMAIN_PRIVATE
#define PUB	TH_DOMAIN_PUBLIC
#define TRUST_PRIV "<server>" PRIV "</server><client>" PRIV "</client>"
#define TRUST_BOTH "<server>" PRIV "</server><client>" PRIV "</client>" \
	"<client>" PUB "</client>"

/* The router's config; trust is the <trusted_domains> content. */
static void
write_core(const char *trust)
{
	FILE	*f;
	char	 tmp[160];

	snprintf(tmp, sizeof(tmp), "%s.tmp", core_path);
	ck_assert_ptr_nonnull(f = fopen(tmp, "w"));
	fprintf(f, "<config><routers><router>"
	    "<trusted_domains>%s</trusted_domains>"
	    "<transport><server>%s</server><host>127.0.0.1</host>"
	    "<port>%d</port><username>%s</username>"
	    "<password>%s</password><resource>router</resource>"
	    "<reconnect_max>1</reconnect_max><legacy_digest>%d"
	    "</legacy_digest></transport>"
	    "<logfile>%s</logfile><loglevel>4</loglevel>"
	    "</router></routers></config>\n",
	    trust, PRIV, port, "router",
	    TH_ROUTER_PW, kind == TH_EJABBERD, log_path);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(tmp, core_path), 0);
}

/* The router process died: fail now, with its log. */
static void
router_alive(void)
{
	th_child_alive(&router_pid, log_path);
}

/* Read the status file into buf; 1 if it contains want. */
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
 * Wait until the status file contains `want`.  A new version is an
 * IN_MOVED_TO (rename) in dir; the router rewrites it within a second
 * of any change.
 */
static void
status_wait(const char *want)
{
	char		buf[8192], ev[4096];
	struct pollfd	pfd;
	uint64_t	end = mono_ms() + DEADLINE_MS;
	int		ino;

	ck_assert_int_ge(ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), 0);
	ck_assert_int_ge(inotify_add_watch(ino, dir, IN_MOVED_TO), 0);
	while (!status_has(want, buf, sizeof(buf))) {
		router_alive();
		pfd.fd = ino;
		pfd.events = POLLIN;
		if (mono_ms() >= end || poll(&pfd, 1, (int)(end - mono_ms())) <=
		    0)
			ck_abort_msg("status never showed \"%s\"; last:\n%s",
			    want, buf);
		while (read(ino, ev, sizeof(ev)) > 0)
			continue;
	}
	close(ino);
}

static int
count_of(const char *hay, const char *needle)
{
	int	n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* Wait until the router's log holds `want` at least `times` times. */
static void
log_wait(const char *want, int times)
{
	char		buf[65536], ev[4096];
	struct pollfd	pfd;
	uint64_t	end = mono_ms() + DEADLINE_MS;
	int		ino, fd;
	ssize_t		n;

	ck_assert_int_ge(ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), 0);
	ck_assert_int_ge(inotify_add_watch(ino, log_path, IN_MODIFY), 0);
	for (;;) {
		ck_assert_int_ge(fd = open(log_path, O_RDONLY | O_CLOEXEC), 0);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (count_of(buf, want) >= times)
			break;
		router_alive();
		pfd.fd = ino;
		pfd.events = POLLIN;
		if (mono_ms() >= end || poll(&pfd, 1, (int)(end - mono_ms())) <=
		    0)
			ck_abort_msg("log never showed \"%s\"", want);
		while (read(ino, ev, sizeof(ev)) > 0)
			continue;
	}
	close(ino);
}

static void
router_start(void)
{
	char	bin[256];
	int	fd;

	snprintf(bin, sizeof(bin), "%s/drover-router", getenv("DROVER_BIN"));
	ck_assert_msg(access(bin, X_OK) == 0, "%s missing: build it", bin);
	ck_assert_int_ge(router_pid = fork(), 0);
	if (router_pid == 0) {
		fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, "drover-router", "-f", "-c", core_path, "-s",
		    status_path, (char *)NULL);
		_exit(127);
	}
	status_wait("state up classes");
}

static void
router_stop(void)
{
	struct pollfd	pfd;
	int		st, pfdn;

	if (router_pid < 0)
		return;
	ck_assert_int_eq(kill(router_pid, SIGTERM), 0);
	/* pidfd: the exit is an event to wait on */
	pfdn = (int)syscall(SYS_pidfd_open, router_pid, 0);
	if (pfdn >= 0) {
		pfd.fd = pfdn;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, DEADLINE_MS) != 1)
			kill(router_pid, SIGKILL);
		close(pfdn);
	}
	ck_assert_int_eq(waitpid(router_pid, &st, 0), router_pid);
	router_pid = -1;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "drover-router did not stop cleanly on SIGTERM (status %d)", st);
	/* a clean stop removes the status file */
	ck_assert_int_eq(access(status_path, F_OK), -1);
}

static void
setup(void)
{
	log_set_level(LOGL_WARNING);
	port = th_server(kind)->port;
	str_copy(dir, "/tmp/drover-rtest.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(core_path, sizeof(core_path), "%s/opensrf_core.xml", dir);
	snprintf(status_path, sizeof(status_path), "%s/status", dir);
	snprintf(log_path, sizeof(log_path), "%s/router.log", dir);
	write_core(TRUST_PRIV);
	router_start();
}

static void
teardown(void)
{
	char	cmd[160];

	router_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
setup_prosody(void)
{
	kind = TH_PROSODY;
	setup();
}

/* ------------------------------------------------------ the peers */

struct peer {
	struct xmpp_conn	*t;
	char			 name[64];	/* listener name, "" = client */
	int			 served;	/* requests answered */
	/* client: the last answer or error seen */
	int			 got;
	int			 err_code;
	char			 who[64];	/* content of the RESULT */
	char			 status[512];	/* body of an error/status */
};

static struct xmpp_conn *
login(const char *domain, const char *resource)
{
	struct bus_conf		 c;
	struct xmpp_conn	*t;

	memset(&c, 0, sizeof(c));
	c.host = "127.0.0.1";
	c.domain = (char *)domain;
	c.port = port;
	c.username = "opensrf";
	c.password = TH_OPENSRF_PW;
	c.auth = XMPP_AUTH_LEGACY;
	c.legacy_digest = kind == TH_EJABBERD;
	c.max_stanza_size = 1 << 20;
	ck_assert_ptr_nonnull(t = xmpp_new(&c, resource));
	ck_assert_int_eq(xmpp_open(t, DEADLINE_MS), 0);
	return t;
}

static void
send_msg(struct peer *p, struct tmsg *m)
{
	char	*xml;
	size_t	 len;

	m->from = xmpp_jid(p->t);	/* as OpenSRF: always our own */
	ck_assert_int_eq(tmsg_xml_write(m, &xml, &len), 0);
	ck_assert_int_eq(xmpp_send(p->t, xml, len), 0);
	free(xml);
}

static void
router_cmd(struct peer *p, const char *cmd)
{
	struct tmsg	m = TMSG_INIT;
	char		to[256];

	snprintf(to, sizeof(to), "%s@%s/router", "router", PRIV);
	m.to = to;
	m.router_class = SVC;
	m.router_command = cmd;
	m.body = strcmp(cmd, "register") == 0 ? "registering" :
	    "unregistering";
	send_msg(p, &m);
}

static void
listener_new(struct peer *p, const char *name, const char *domain)
{
	char	res[128];

	memset(p, 0, sizeof(*p));
	str_copy(p->name, name, sizeof(p->name));
	snprintf(res, sizeof(res), SVC "_listener_rtest_%s_%ld", name,
	    (long)getpid());
	p->t = login(domain, res);
	router_cmd(p, "register");
}

static void
client_new(struct peer *p, const char *domain)
{
	char	res[64];

	memset(p, 0, sizeof(*p));
	snprintf(res, sizeof(res), "_rtest_%ld", (long)getpid());
	p->t = login(domain, res);
}

/* A listener answers as a drone would: RESULT (its name), then 205. */
static void
listener_answer(struct peer *p, const struct tmsg *req)
{
	struct osrfmsg_list	 l = OSRFMSG_LIST_INIT;
	struct osrfmsg		 out[2];
	struct pbuf		 b = { 0 };
	struct tmsg		 m = TMSG_INIT;
	json_t			*who = json_string(p->name);

	ck_assert_int_eq(osrfmsg_decode(req->body, strlen(req->body), &l,
	    NULL), 0);
	ck_assert_uint_ge(l.n, 1);
	osrfmsg_make_result(&out[0], &l.msg[0], who);
	osrfmsg_make_complete(&out[1], &l.msg[0]);
	ck_assert_int_eq(osrfmsg_encode(out, 2, &b, NULL), 0);
	m.to = tmsg_reply_to(req);
	m.thread = req->thread;
	m.osrf_xid = req->osrf_xid;
	m.body = b.data;
	send_msg(p, &m);
	p->served++;
	pbuf_free(&b);
	json_decref(who);
	osrfmsg_list_clear(&l);
}

/* The client read an answer: note who served it, or the error. */
static void
client_note(struct peer *p, const struct tmsg *m)
{
	struct osrfmsg_list	l = OSRFMSG_LIST_INIT;
	size_t			i;

	p->got++;
	p->err_code = m->is_error ? (m->error_code ? m->error_code : 500) :
	    0;
	str_copy(p->status, m->body, sizeof(p->status));
	p->who[0] = '\0';
	if (osrfmsg_decode(m->body, strlen(m->body), &l, NULL) != 0)
		return;
	for (i = 0; i < l.n; i++)
		if (l.msg[i].type == OSRFMSG_RESULT &&
		    json_is_string(l.msg[i].content))
			str_copy(p->who, json_string_value(l.msg[i].content),
			    sizeof(p->who));
	osrfmsg_list_clear(&l);
}

/*
 * Serve every peer until the client has `want` answers (or deadline).
 * Listeners answer what they are forwarded; dead ones (t == NULL) are
 * skipped.
 */
static void
pump(struct peer *cli, struct peer *lis, int nlis, int want)
{
	struct pollfd	 pfd[NLIS + 1];
	struct peer	*who[NLIS + 1];
	struct xstanza	*x;
	struct tmsg	 m;
	uint64_t	 end = mono_ms() + DEADLINE_MS;
	int		 n, i, rc;

	while (cli->got < want) {
		router_alive();
		n = 0;
		pfd[n].fd = xmpp_fd(cli->t);
		pfd[n].events = POLLIN;
		who[n++] = cli;
		for (i = 0; i < nlis; i++)
			if (lis[i].t != NULL) {
				pfd[n].fd = xmpp_fd(lis[i].t);
				pfd[n].events = POLLIN;
				who[n++] = &lis[i];
			}
		ck_assert_msg(mono_ms() < end, "client got %d of %d answers",
		    cli->got, want);
		rc = poll(pfd, (nfds_t)n, (int)(end - mono_ms()));
		ck_assert_int_ge(rc, 0);
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			while ((rc = xmpp_recv(who[i]->t, &x)) == 1) {
				memset(&m, 0, sizeof(m));
				if (strcmp(x->name, "message") == 0 &&
				    tmsg_xml_parse(x->raw, x->len, &m, NULL) == 0) {
					if (who[i] == cli)
						client_note(cli, &m);
					else if (!m.is_error)
						listener_answer(who[i], &m);
					tmsg_clear(&m);
				}
				xstanza_free(&x);
			}
			ck_assert_int_eq(rc, 0);
		}
	}
}

#define REQBODY(m, p) \
	"[{\"__c\":\"osrfMessage\",\"__p\":{\"threadTrace\":\"1\"," \
	"\"locale\":\"en-US\",\"api_level\":1,\"type\":\"REQUEST\"," \
	"\"payload\":{\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"" m "\"," \
	"\"params\":" p "}}}}]"

/* Send one request to service svc and wait for its answer. */
static void
call(struct peer *cli, struct peer *lis, int nlis, const char *svc,
    const char *body)
{
	struct tmsg	m = TMSG_INIT;
	char		to[256], thread[64];
	static int	seq;

	snprintf(to, sizeof(to), "%s@%s/%s", "router", PRIV, svc);
	snprintf(thread, sizeof(thread), "rtest.%d", ++seq);
	m.to = to;
	m.thread = thread;
	m.osrf_xid = thread;
	m.body = body;
	send_msg(cli, &m);
	pump(cli, lis, nlis, cli->got + 1);
}

static void
peer_free(struct peer *p)
{
	xmpp_free(&p->t);
}

/* ------------------------------------------------------- the tests */

START_TEST(test_round_robin_and_failover)
{
	struct peer	cli, lis[2];
	char		want[256];
	int		i;

	client_new(&cli, PRIV);
	listener_new(&lis[0], "a", PRIV);
	listener_new(&lis[1], "b", PRIV);
	status_wait("listeners 2 ");
	/* 10 requests alternate a, b, a, b... */
	for (i = 0; i < 10; i++) {
		call(&cli, lis, 2, SVC, REQBODY("echo", "[]"));
		ck_assert_int_eq(cli.err_code, 0);
		ck_assert_str_eq(cli.who, i % 2 == 0 ? "a" : "b");
	}
	ck_assert_int_eq(lis[0].served, 5);
	ck_assert_int_eq(lis[1].served, 5);
	snprintf(want, sizeof(want), "forwarded 5\n    listener %s",
	    xmpp_jid(lis[1].t));
	status_wait(want);
	status_wait("class " SVC " state up listeners 2 forwarded 10 ");

	/* a vanishes without unregistering: b serves everything */
	peer_free(&lis[0]);
	for (i = 0; i < 6; i++) {
		call(&cli, lis, 2, SVC, REQBODY("echo", "[]"));
		ck_assert_int_eq(cli.err_code, 0);
		ck_assert_str_eq(cli.who, "b");
	}
	status_wait("listeners 1 ");
	status_wait(" retried 1 ");

	/* b goes too: the next request gets an error at once */
	peer_free(&lis[1]);
	call(&cli, lis, 2, SVC, REQBODY("echo", "[]"));
	ck_assert_int_eq(cli.err_code, 503);
	ck_assert_ptr_nonnull(strstr(cli.status, "osrfMethodException"));
	ck_assert_ptr_nonnull(strstr(cli.status, "has no listener"));
	status_wait("classes 0 ");
	peer_free(&cli);
}
END_TEST

START_TEST(test_unknown_class_and_method)
{
	struct peer	cli;

	client_new(&cli, PRIV);
	/* no listener, no class address: the server bounces it */
	call(&cli, NULL, 0, "drover.nope", REQBODY("echo", "[]"));
	ck_assert_int_ne(cli.err_code, 0);
	/* the router's own methods, with an unknown class */
	call(&cli, NULL, 0, "router", REQBODY(
	    "opensrf.router.info.stats.class", "[\"drover.nope\"]"));
	ck_assert_int_eq(cli.err_code, 0);
	ck_assert_ptr_nonnull(strstr(cli.status,
	    "Router class not found: drover.nope"));
	call(&cli, NULL, 0, "router", REQBODY("opensrf.router.info.nope",
	    "[]"));
	ck_assert_ptr_nonnull(strstr(cli.status, "Router method not found"));
	peer_free(&cli);
}
END_TEST

START_TEST(test_untrusted)
{
	struct peer	cli, pubcli, lis, publis;

	client_new(&cli, PRIV);
	client_new(&pubcli, PUB);
	listener_new(&lis, "a", PRIV);
	status_wait("listeners 1 ");

	/* a registration from an untrusted server domain is ignored */
	listener_new(&publis, "p", PUB);
	log_wait("register from untrusted opensrf@" PUB, 1);
	status_wait("listeners 1 ");

	/* a client of an untrusted domain is refused with an error */
	call(&pubcli, &lis, 1, SVC, REQBODY("echo", "[]"));
	ck_assert_int_eq(pubcli.err_code, 403);
	ck_assert_ptr_nonnull(strstr(pubcli.status, "refuses requests"));
	ck_assert_int_eq(lis.served, 0);
	call(&cli, &lis, 1, SVC, REQBODY("echo", "[]"));
	ck_assert_str_eq(cli.who, "a");

	/* SIGHUP: now public clients are trusted too */
	write_core(TRUST_BOTH);
	ck_assert_int_eq(kill(router_pid, SIGHUP), 0);
	log_wait("trusted domains reloaded (1 server, 2 client)", 1);
	call(&pubcli, &lis, 1, SVC, REQBODY("echo", "[]"));
	ck_assert_int_eq(pubcli.err_code, 0);
	ck_assert_str_eq(pubcli.who, "a");
	ck_assert_int_eq(publis.served, 0);
	peer_free(&publis);
	peer_free(&lis);
	peer_free(&pubcli);
	peer_free(&cli);
}
END_TEST

/*
 * The XMPP server restarts: the router logs in again on its own, top
 * level and class address, and keeps its table; the listener's old
 * registration is found dead by its first bounce and the request is
 * served by the listener that registered after its own reconnect.
 */
START_TEST(test_server_restart)
{
	struct peer	cli, lis;

	client_new(&cli, PRIV);
	listener_new(&lis, "a", PRIV);
	status_wait("listeners 1 ");
	call(&cli, &lis, 1, SVC, REQBODY("echo", "[]"));
	ck_assert_str_eq(cli.who, "a");
	peer_free(&lis);
	peer_free(&cli);

	ck_assert_int_eq(th_server_restart(TH_EJABBERD), 0);
	log_wait("router: logged in as router@" PRIV "/router", 2);
	log_wait("router: logged in as router@" PRIV "/" SVC, 2);

	client_new(&cli, PRIV);
	listener_new(&lis, "b", PRIV);
	status_wait("listeners 2 ");
	call(&cli, &lis, 1, SVC, REQBODY("echo", "[]"));
	ck_assert_int_eq(cli.err_code, 0);
	ck_assert_str_eq(cli.who, "b");
	status_wait("listeners 1 ");
	peer_free(&lis);
	peer_free(&cli);
}
END_TEST

/* ------------------------------------------------ issue 14: floods */

/* Descriptors the router process holds now. */
static int
router_fds(void)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)router_pid);
	ck_assert_ptr_nonnull(d = opendir(path));
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * One sender registers 300 classes: the router takes 8
 * (max_classes_per_sender), refuses and logs the rest, opens 8 class
 * logins, no more descriptors, and routes the real class all along.
 */
START_TEST(test_flood_one_sender)
{
	struct peer	 cli, lis, fl;
	struct tmsg	 m = TMSG_INIT;
	char		 to[256], cls[64], res[64];
	int		 i, fds0;

	client_new(&cli, PRIV);
	listener_new(&lis, "a", PRIV);
	status_wait("listeners 1 ");
	fds0 = router_fds();
	memset(&fl, 0, sizeof(fl));
	snprintf(res, sizeof(res), "flood_%ld", (long)getpid());
	fl.t = login(PRIV, res);
	snprintf(to, sizeof(to), "router@%s/router", PRIV);
	for (i = 0; i < 300; i++) {
		snprintf(cls, sizeof(cls), "flood.%03d", i);
		memset(&m, 0, sizeof(m));
		m.to = to;
		m.router_class = cls;
		m.router_command = "register";
		m.body = "registering";
		send_msg(&fl, &m);
		/* a request mid-flood is served as usual */
		if (i == 150) {
			call(&cli, &lis, 1, SVC, REQBODY("echo", "[]"));
			ck_assert_int_eq(cli.err_code, 0);
			ck_assert_str_eq(cli.who, "a");
		}
	}
	status_wait("classes 9 api_calls 0 ignored 0 refused 292 ");
	/* the eight log in (paced), and nothing more is open */
	status_wait("  class flood.007 state up listeners 1 ");
	ck_assert_int_le(router_fds(), fds0 + 8);
	log_wait("max_classes_per_sender reached", 1);
	call(&cli, &lis, 1, SVC, REQBODY("echo", "[]"));
	ck_assert_int_eq(cli.err_code, 0);
	peer_free(&fl);
	peer_free(&lis);
	peer_free(&cli);
}
END_TEST

/* ------------------------------------------------ droverd listeners */

#define DSVC	"drover.test"

/* opensrf_core.xml (context opensrf) and opensrf.xml for droverd. */
static void
write_droverd_conf(void)
{
	char	 path[160];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/droverd.xml", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "<config><opensrf><routers><router>" PRIV "</router>"
	    "</routers><domain>" PRIV "</domain><host>127.0.0.1</host>"
	    "<port>%d</port><username>opensrf</username><passwd>"
	    TH_OPENSRF_PW "</passwd><router_name>router</router_name>"
	    "<logfile>%s/droverd.log</logfile><loglevel>3</loglevel>"
	    "<settings_config>opensrf.xml</settings_config>"
	    "<allow_root>true</allow_root></opensrf>"
	    "</config>\n", port, dir);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(path, sizeof(path), "%s/opensrf.xml", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "<opensrf version=\"0.0.3\"><default><dirs><pid>%s</pid>"
	    "</dirs><apps><" DSVC "><language>c</language>"
	    "<implementation>drover.test.so</implementation>"
	    "<keepalive>5</keepalive><unix_config>"
	    "<min_children>2</min_children><max_children>4</max_children>"
	    "<max_requests>1000</max_requests>"
	    "<graceful_timeout>5</graceful_timeout></unix_config>"
	    "</" DSVC "></apps></default></opensrf>\n", dir);
	ck_assert_int_eq(fclose(f), 0);
}

/* droverd -i inst in its own process group (killed as a group). */
static pid_t
droverd_start(const char *inst)
{
	char	bin[256], core[160], plug[256];
	pid_t	pid;
	int	fd;

	snprintf(bin, sizeof(bin), "%s/droverd", getenv("DROVER_BIN"));
	snprintf(core, sizeof(core), "%s/droverd.xml", dir);
	snprintf(plug, sizeof(plug), "%s", getenv("DROVER_LIB"));
	ck_assert_msg(access(bin, X_OK) == 0, "%s missing: build it", bin);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		(void)setpgid(0, 0);
		/* a failed test must not leave it running */
		(void)prctl(PR_SET_PDEATHSIG, SIGINT, 0, 0, 0);
		setenv("DROVER_PLUGINDIR", plug, 1);
		if ((fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT,
		    0644)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, "droverd", "-c", core, "-s", DSVC, "-h",
		    "localhost", "-i", inst, "-f", (char *)NULL);
		_exit(127);
	}
	(void)setpgid(pid, pid);	/* either side may win the race */
	return pid;
}

/* Stop droverd's whole group with sig; reap the leader. */
static void
droverd_kill(pid_t *pid, int sig)
{
	int	st;

	if (*pid <= 0)
		return;
	(void)kill(-*pid, sig);		/* ESRCH: already gone */
	ck_assert_int_eq(waitpid(*pid, &st, 0), *pid);
	if (sig != SIGKILL)
		(void)kill(-*pid, SIGKILL);	/* stray drones, if any */
	*pid = -1;
}

/*
 * Wait until the XMPP server has dropped jid's session: a message sent
 * to it comes back as a bounce.  Until then it may still be delivered to
 * the dead connection, which is what a probe is for.
 */
static void
session_gone(struct peer *cli, const char *jid)
{
	struct tmsg	 m = TMSG_INIT;
	struct xstanza	*x;
	struct pollfd	 pfd;
	uint64_t	 end = mono_ms() + DEADLINE_MS, next = 0, now;
	int		 bounced = 0;

	while (!bounced) {
		ck_assert_msg((now = mono_ms()) < end, "%s never went away",
		    jid);
		if (now >= next) {
			memset(&m, 0, sizeof(m));
			m.to = jid;
			m.thread = "probe";
			send_msg(cli, &m);
			next = now + 100;
		}
		pfd.fd = xmpp_fd(cli->t);
		pfd.events = POLLIN;
		/*
		 * one probe per 100 ms of silence (input that is no message,
		 * the presences of resources that come and go, is silence);
		 * any answer ends the wait
		 */
		if (poll(&pfd, 1, (int)(next - now)) <= 0)
			continue;
		while (xmpp_recv(cli->t, &x) == 1) {
			bounced |= x->is_error;
			xstanza_free(&x);
		}
	}
}

/* The listener JID the router holds for droverd `pid`. */
static void
listener_of(pid_t pid, char *jid, size_t jidsz)
{
	char	 buf[8192], tail[32], *p, *e;

	snprintf(tail, sizeof(tail), "_%ld forwarded", (long)pid);
	ck_assert_int_eq(status_has(tail, buf, sizeof(buf)), 1);
	p = strstr(buf, tail);
	while (p > buf && p[-1] != ' ')
		p--;
	e = strstr(p, " forwarded");
	ck_assert_uint_lt((size_t)(e - p), jidsz);
	memcpy(jid, p, (size_t)(e - p));
	jid[e - p] = '\0';
}

#define ECHO	REQBODY("opensrf.system.echo", "[\"hi\"]")

/* Run drover-call with args (a service, a method); its output has want. */
static void
drover_call_has(const char *args, const char *want)
{
	char	 cmd[512], out[8192];
	FILE	*p;
	size_t	 n;

	snprintf(cmd, sizeof(cmd), "%s/drover-call -c %s/droverd.xml -t 10 "
	    "%s 2>&1", getenv("DROVER_BIN"), dir, args);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	ck_assert_msg(pclose(p) == 0, "%s failed:\n%s", cmd, out);
	ck_assert_msg(strstr(out, want) != NULL, "%s:\n%s\nlacks %s", cmd,
	    out, want);
}

/*
 * Two droverd listeners of one service share its requests round robin;
 * when one is killed (SIGKILL: no unregistration, drones and all),
 * every later request is served by the other.
 */
START_TEST(test_droverd_pair)
{
	struct peer	cli;
	pid_t		a, b;
	char		want[256], ajid[256];
	int		i;

	write_droverd_conf();
	a = droverd_start("a");
	b = droverd_start("b");
	client_new(&cli, PRIV);
	status_wait("class " DSVC " state up listeners 2 ");
	for (i = 0; i < 10; i++) {
		call(&cli, NULL, 0, DSVC, ECHO);
		ck_assert_msg(cli.err_code == 0, "request %d: error %d: %s",
		    i, cli.err_code, cli.status);
		ck_assert_str_eq(cli.who, "hi");
	}
	/* the router's per-listener counters: 5 each */
	snprintf(want, sizeof(want), "_%ld forwarded 5\n", (long)a);
	status_wait(want);
	snprintf(want, sizeof(want), "_%ld forwarded 5\n", (long)b);
	status_wait(want);

	/* drover-call asks the router itself: both classes' listeners */
	drover_call_has("router opensrf.router.info.stats.class.all",
	    "\"" DSVC "\":{\"opensrf@" PRIV "/" DSVC "_listener_");
	drover_call_has("router opensrf.router.info.class.list",
	    "\"" DSVC "\"");

	listener_of(a, ajid, sizeof(ajid));
	droverd_kill(&a, SIGKILL);
	/* A killed droverd cannot remove its scoreboard: do it for it. */
	ck_assert_int_eq(shm_unlink("/drover." DSVC "@a"), 0);
	session_gone(&cli, ajid);
	for (i = 0; i < 6; i++) {
		call(&cli, NULL, 0, DSVC, ECHO);
		ck_assert_msg(cli.err_code == 0, "after the kill, request %d: "
		    "error %d: %s", i, cli.err_code, cli.status);
		ck_assert_str_eq(cli.who, "hi");
	}
	status_wait("class " DSVC " state up listeners 1 forwarded 17 "
	    "retried 1 ");
	snprintf(want, sizeof(want), "_%ld forwarded 11\n", (long)b);
	status_wait(want);

	/* b stops cleanly: it unregisters, the class goes */
	droverd_kill(&b, SIGTERM);
	status_wait("classes 0 ");
	peer_free(&cli);
}
END_TEST

/* ------------------------------------------ issue 14: a frozen host */

/*
 * Cut every TCP connection of the processes of group pgid (ss -K), as a
 * network failure or a firewall would: the server drops their sessions.
 */
static void
cut_connections(pid_t pgid)
{
	char	cmd[1024];

	snprintf(cmd, sizeof(cmd), "for p in $(pgrep -g %ld); do ls -l "
	    "/proc/$p/fd 2>/dev/null; done | sed -n 's/.*socket:\\["
	    "\\([0-9]*\\)\\].*/\\1/p' | sort -u | while read i; do ss "
	    "-tneH | awk -v i=\"ino:$i\" '{for (f = 1; f <= NF; f++) if "
	    "($f == i) print $4}'; done | while read a; do ss -K -tn src "
	    "\"$a\" >/dev/null; done", (long)pgid);
	ck_assert_int_eq(system(cmd), 0);
}

/* One request; 1 when it was answered within ms, 0 when not. */
static int
try_call(struct peer *cli, int ms)
{
	struct tmsg	 m = TMSG_INIT;
	struct xstanza	*x;
	struct pollfd	 pfd;
	uint64_t	 end = mono_ms() + (uint64_t)ms;
	char		 to[256], thread[64];
	static int	 seq;
	int		 got = 0;

	snprintf(to, sizeof(to), "router@%s/%s", PRIV, DSVC);
	snprintf(thread, sizeof(thread), "frozen.%d", ++seq);
	m.to = to;
	m.thread = thread;
	m.body = ECHO;
	send_msg(cli, &m);
	while (!got && mono_ms() < end) {
		router_alive();
		pfd.fd = xmpp_fd(cli->t);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(end - mono_ms())) <= 0)
			continue;
		while (xmpp_recv(cli->t, &x) == 1) {
			struct tmsg	r = TMSG_INIT;

			/* late answers of earlier tries do not count */
			if (tmsg_xml_parse(x->raw, x->len, &r, NULL) == 0)
				got |= strcmp(r.thread, thread) == 0 &&
				    strstr(r.body, "\"statusCode\":\"205\"") !=
				    NULL;
			tmsg_clear(&r);
			xstanza_free(&x);
		}
	}
	return got;
}

/*
 * Issue 14: two droverd listeners as if on two hosts; one is frozen
 * (SIGSTOP, its whole group) mid-load.  The router's pings find it: it
 * is out of the rotation within listener_ping + listener_ping_timeout
 * (2 + 3 s here), and every request after that is served by the other.
 * Its connections are cut (ss -K), it is thawed, and it comes back:
 * reconnects, registers again and gets its share.
 */
START_TEST(test_frozen_listener)
{
	struct peer	 cli;
	pid_t		 a, b;
	char		 buf[8192], ajid[256], want[300];
	uint64_t	 end;
	int		 i, lost = 0;

	write_droverd_conf();
	a = droverd_start("a");
	b = droverd_start("b");
	client_new(&cli, PRIV);
	status_wait("class " DSVC " state up listeners 2 ");
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(try_call(&cli, DEADLINE_MS), 1);
	listener_of(a, ajid, sizeof(ajid));
	ck_assert_int_eq(kill(-a, SIGSTOP), 0);
	/* under load, the frozen one's share goes unanswered until... */
	end = mono_ms() + DEADLINE_MS;
	while (!status_has("suspended: no answer to a ping", buf,
	    sizeof(buf))) {
		ck_assert_msg(mono_ms() < end, "never suspended:\n%s", buf);
		lost += !try_call(&cli, 300);
	}
	ck_assert_int_gt(lost, 0);
	snprintf(want, sizeof(want), "listener %s forwarded", ajid);
	ck_assert_ptr_nonnull(strstr(buf, want));
	/* ...it is out of the rotation: everything is served */
	for (i = 0; i < 10; i++)
		ck_assert_msg(try_call(&cli, DEADLINE_MS) == 1, "request %d "
		    "after the suspension unanswered", i);
	/* its network goes, then it thaws: it comes back by itself */
	cut_connections(a);
	ck_assert_int_eq(kill(-a, SIGCONT), 0);
	end = mono_ms() + DEADLINE_MS;
	for (;;) {
		ck_assert_msg(mono_ms() < end, "never back:\n%s", buf);
		if (status_has("listeners 2 ", buf, sizeof(buf)) &&
		    strstr(buf, "suspended:") == NULL)
			break;
		(void)try_call(&cli, 300);
	}
	snprintf(want, sizeof(want), "_%ld forwarded", (long)a);
	{
		char	*p = strstr(buf, want);
		long	 before, now = 0;

		ck_assert_ptr_nonnull(p);
		before = strtol(p + strlen(want), NULL, 10);
		for (i = 0; i < 6; i++)
			ck_assert_int_eq(try_call(&cli, DEADLINE_MS), 1);
		/* back in the rotation: it takes its turns again (not
		 * necessarily every other one: a ping may fall between) */
		end = mono_ms() + DEADLINE_MS;
		while (now <= before) {
			ck_assert_msg(mono_ms() < end, "no request since its "
			    "return:\n%s", buf);
			(void)status_has(want, buf, sizeof(buf));
			if ((p = strstr(buf, want)) != NULL)
				now = strtol(p + strlen(want), NULL, 10);
			if (now <= before)
				(void)poll(NULL, 0, 100);
		}
	}
	droverd_kill(&a, SIGTERM);
	droverd_kill(&b, SIGTERM);
	peer_free(&cli);
}
END_TEST

/*
 * Under a service manager (sd_notify(3), test/th_notify.h): READY=1
 * once the top-level connection is logged in, RELOADING=1 then READY=1
 * around a SIGHUP, STOPPING=1 at SIGTERM.
 */
START_TEST(test_notify)
{
	struct th_notify	n;
	char			buf[TH_NOTE_MAX], want[160];
	uint64_t		rx;

	router_stop();		/* the fixture's, started without a manager */
	th_notify_open(&n, dir, 0);
	router_start();
	th_notify_next(&n, buf, sizeof(buf), &rx, DEADLINE_MS);
	ck_assert_str_eq(buf, "READY=1\nSTATUS=routing");
	/* it was logged in by then: the line precedes the notification */
	snprintf(want, sizeof(want), "router: logged in as router@%s/router",
	    PRIV);
	log_wait(want, 1);
	ck_assert_int_eq(kill(router_pid, SIGHUP), 0);
	th_notify_next(&n, buf, sizeof(buf), &rx, DEADLINE_MS);
	ck_assert_msg(strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0,
	    "after SIGHUP: %s", buf);
	th_notify_next(&n, buf, sizeof(buf), &rx, DEADLINE_MS);
	ck_assert_str_eq(buf, "READY=1");
	router_stop();
	th_notify_next(&n, buf, sizeof(buf), &rx, DEADLINE_MS);
	ck_assert_str_eq(buf, "STOPPING=1");
	th_notify_close(&n);
}
END_TEST

Suite *
router_xmpp_suite(void)
{
	Suite	*s = suite_create("router_xmpp");
	TCase	*tc;

	tc = tcase_create("router_xmpp");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_robin_and_failover);
	tcase_add_test(tc, test_unknown_class_and_method);
	tcase_add_test(tc, test_untrusted);
	tcase_add_test(tc, test_server_restart);
	tcase_add_test(tc, test_notify);
	suite_add_tcase(s, tc);

	/* the same router on prosody, the other server OpenSRF supports */
	tc = tcase_create("router_prosody");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, th_prosody_setup, NULL);
	tcase_add_checked_fixture(tc, setup_prosody, teardown);
	tcase_add_test(tc, test_round_robin_and_failover);
	tcase_add_test(tc, test_unknown_class_and_method);
	tcase_add_test(tc, test_untrusted);
	suite_add_tcase(s, tc);

	tc = tcase_create("router_flood");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_flood_one_sender);
	suite_add_tcase(s, tc);

	tc = tcase_create("router_frozen");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_frozen_listener);
	suite_add_tcase(s, tc);

	tc = tcase_create("router_droverd");
	tcase_set_tags(tc, "integration");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_droverd_pair);
	suite_add_tcase(s, tc);
	return s;
}
