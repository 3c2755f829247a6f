/*
 * chaos_tool.c: the two faults of test/chaos that need a bus client of
 * their own (built as build/test/chaos-tool, never installed).
 *
 *	chaos-tool -c opensrf_core.xml connect-flood SERVICE N SECONDS
 *	chaos-tool -c opensrf_core.xml register PREFIX N
 *
 * connect-flood: one client (one bus connection) sends N CONNECTs to
 * SERVICE at once, each on its own thread, and waits up to SECONDS for
 * every one to end: a 200 (it then sends the DISCONNECT at once), an
 * error status or a bounce.  It accounts for every CONNECT like
 * drover-call --bench does for requests and prints
 *	RESULT sent=N ok=.. errors=.. lost=..
 * where lost are the CONNECTs that got no final status in time.
 *
 * register: logs in N listeners for the classes PREFIX.1 .. PREFIX.N on
 * one bus connection each and registers them with the routers of the
 * configuration, as N droverd would; prints "REGISTERED N" once every
 * one is up, then holds them (dropping whatever reaches them) until
 * SIGTERM or SIGINT, unregisters, prints "UNREGISTERED N" and exits.
 *
 * Exit status: 0 done (connect-flood: nothing lost), 1 usage or
 * configuration error, 3 a CONNECT was lost, 4 the bus failed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "proto/bus.h"
#include "proto/osrfmsg.h"
#include "proto/tmsg.h"
#include "util.h"

#define EXIT_USAGE	1
#define EXIT_LOST	3
#define EXIT_BUS	4

/* More than this is a typo: each class is two logins at the server. */
#define TOOL_MAX	1000

static struct core_conf *
load_core(const char *path)
{
	struct core_conf	*core = NULL;
	struct cfg_err		 err;

	if (core_conf_load(path, "opensrf", &core, &err) != 0) {
		fprintf(stderr, "chaos-tool: %s\n", err.msg);
		exit(EXIT_USAGE);
	}
	return core;
}

static struct bus *
open_as(const struct core_conf *core, enum bus_role role, const char *svc,
    int reg)
{
	struct bus_params	 p;
	struct bus		*b;

	bus_params_core(&p, core, role, svc);
	if (bus_new(&p, &b) < 0)
		return NULL;
	if (reg && bus_register(b, 1) < 0) {
		bus_free(&b);
		return NULL;
	}
	if (bus_open(b, core->bus.connect_timeout_ms) < 0) {
		fprintf(stderr, "chaos-tool: cannot open the bus: %s\n",
		    bus_error(b));
		bus_free(&b);
		return NULL;
	}
	return b;
}

/* ------------------------------------------------------ connect-flood */

enum { PENDING, DONE_OK, DONE_ERR };

static int
send_one(struct bus *b, const char *to, const char *thread,
    enum osrfmsg_type type)
{
	struct osrfmsg	m;
	struct pbuf	body = { 0 };
	struct tmsg	t = TMSG_INIT;
	int		rc;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.thread_trace = 1;
	m.locale = "en-US";
	if ((rc = osrfmsg_encode(&m, 1, &body, NULL)) < 0)
		return rc;
	t.to = to;
	t.thread = thread;
	t.body = body.data;
	rc = bus_send(b, &t);
	pbuf_free(&body);
	return rc;
}

/* Index of a thread "<prefix><i>", or -1. */
static long
thread_index(const char *thread, const char *prefix, long n)
{
	size_t		 len = strlen(prefix);
	long long	 v;

	if (strncmp(thread, prefix, len) != 0 ||
	    parse_ll(thread + len, 0, n - 1, &v) != 0)
		return -1;
	return (long)v;
}

/* Apply one received message to the CONNECTs' states; 1 if it ended one. */
static int
flood_apply(struct bus *b, const struct tmsg *t, const char *prefix,
    char *state, long n)
{
	struct osrfmsg_list	l = OSRFMSG_LIST_INIT;
	long			i = thread_index(t->thread, prefix, n);
	size_t			k;
	int			ended = 0;

	if (i < 0 || state[i] != PENDING)
		return 0;
	if (t->is_error) {
		state[i] = DONE_ERR;	/* bounced: the client knows */
		return 1;
	}
	if (osrfmsg_decode(t->body, strlen(t->body), &l, NULL) < 0)
		return 0;
	for (k = 0; k < l.n && !ended; k++) {
		if (l.msg[k].type != OSRFMSG_STATUS)
			continue;
		if (l.msg[k].status_code == OSRFMSG_STATUS_OK) {
			state[i] = DONE_OK;
			/* end the session at once: the drone is free again */
			if (send_one(b, t->from, t->thread,
			    OSRFMSG_DISCONNECT) < 0)
				fprintf(stderr, "chaos-tool: DISCONNECT to %s "
				    "not sent\n", t->from);
		} else
			state[i] = DONE_ERR;
		ended = 1;
	}
	osrfmsg_list_clear(&l);
	return ended;
}

static int
connect_flood(const struct core_conf *core, const char *svc, long n,
    int secs)
{
	struct bus		*b;
	struct bus_frame	*f;
	struct tmsg		 t;
	char			 addr[BUS_ADDR_MAX], prefix[64], thread[96];
	char			*state;
	uint64_t		 end;
	long			 i, left = n, ok = 0, errs = 0, lost = 0;
	int			 rc, down = 0;

	if ((b = open_as(core, BUS_ROLE_CLIENT, NULL, 0)) == NULL)
		return EXIT_BUS;
	if (bus_service_addr(b, svc, addr, sizeof(addr)) < 0) {
		bus_free(&b);
		return EXIT_USAGE;
	}
	state = xcalloc((size_t)n, 1);
	snprintf(prefix, sizeof(prefix), "chaos.flood.%d.", (int)getpid());
	for (i = 0; i < n; i++) {
		snprintf(thread, sizeof(thread), "%s%ld", prefix, i);
		if (send_one(b, addr, thread, OSRFMSG_CONNECT) < 0) {
			fprintf(stderr, "chaos-tool: CONNECT %ld not sent\n",
			    i);
			free(state);
			bus_free(&b);
			return EXIT_BUS;
		}
	}
	end = mono_ms() + (uint64_t)secs * 1000;
	while (left > 0 && !down) {
		while (left > 0 && (rc = bus_recv(b, &f)) == 1) {
			memset(&t, 0, sizeof(t));
			if (bus_decode(b, f->raw, f->len, &t, NULL) == 0) {
				left -= flood_apply(b, &t, prefix, state, n);
				tmsg_clear(&t);
			}
			bus_frame_free(&f);
		}
		if (rc < 0)
			down = 1;
		if (left == 0 || down || mono_ms() >= end)
			break;
		if (bus_wait(b, (int)(end - mono_ms())) < 0)
			down = 1;
	}
	if (bus_flush(b, 2000) < 0)		/* the DISCONNECTs */
		fprintf(stderr, "chaos-tool: DISCONNECTs not flushed: %s\n",
		    bus_error(b));
	for (i = 0; i < n; i++) {
		if (state[i] == DONE_OK)
			ok++;
		else if (state[i] == DONE_ERR || down)
			errs++;		/* our connection went: we know */
		else
			lost++;
	}
	printf("RESULT sent=%ld ok=%ld errors=%ld lost=%ld\n", n, ok, errs,
	    lost);
	fflush(stdout);
	free(state);
	bus_free(&b);
	return lost > 0 ? EXIT_LOST : 0;
}

/* ---------------------------------------------------------- register */

static int
register_many(const struct core_conf *core, const char *prefix, long n)
{
	struct bus		**b;
	struct bus_frame	 *f;
	struct signalfd_siginfo	  si;
	struct pollfd		 *pf;
	sigset_t		  set;
	char			  svc[128];
	long			  i;
	int			  sfd, stop = 0, rc = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0)
		fatal("signalfd");
	b = xcalloc((size_t)n, sizeof(*b));
	pf = xcalloc((size_t)n + 1, sizeof(*pf));
	for (i = 0; i < n; i++) {
		snprintf(svc, sizeof(svc), "%s.%ld", prefix, i + 1);
		if ((b[i] = open_as(core, BUS_ROLE_LISTENER, svc, 1)) ==
		    NULL) {
			rc = EXIT_BUS;
			goto out;
		}
	}
	printf("REGISTERED %ld\n", n);
	fflush(stdout);
	while (!stop) {
		for (i = 0; i < n; i++) {
			(void)bus_run(b[i]);
			while (bus_recv(b[i], &f) == 1)
				bus_frame_free(&f);	/* nobody calls us */
			pf[i].fd = bus_fd(b[i]);
			pf[i].events = (short)bus_events(b[i]);
		}
		pf[n].fd = sfd;
		pf[n].events = POLLIN;
		/* a bounded wait: reconnects are due by the clock too */
		if (poll(pf, (nfds_t)n + 1, 500) > 0 &&
		    (pf[n].revents & POLLIN) &&
		    read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			stop = 1;
	}
out:
	for (i = 0; i < n; i++) {
		if (b[i] == NULL)
			continue;
		if (bus_register(b[i], 0) < 0 || bus_flush(b[i], 2000) < 0)
			fprintf(stderr, "chaos-tool: %s.%ld: unregister not "
			    "sent: %s\n", prefix, i + 1, bus_error(b[i]));
		bus_free(&b[i]);
	}
	if (rc == 0) {
		printf("UNREGISTERED %ld\n", n);
		fflush(stdout);
	}
	free(b);
	free(pf);
	close(sfd);
	return rc;
}

static void NORETURN
usage(void)
{
	fprintf(stderr, "usage: chaos-tool -c opensrf_core.xml connect-flood "
	    "service n seconds\n"
	    "       chaos-tool -c opensrf_core.xml register prefix n\n");
	exit(EXIT_USAGE);
}

int
main(int argc, char **argv)
{
	struct core_conf	*core;
	long long		 n, secs;
	int			 rc;

	log_init("chaos-tool");
	log_set_level(LOGL_ERROR);
	if (argc < 5 || strcmp(argv[1], "-c") != 0)
		usage();
	core = load_core(argv[2]);
	if (strcmp(argv[3], "connect-flood") == 0 && argc == 7 &&
	    parse_ll(argv[5], 1, TOOL_MAX, &n) == 0 &&
	    parse_ll(argv[6], 1, 3600, &secs) == 0)
		rc = connect_flood(core, argv[4], (long)n, (int)secs);
	else if (strcmp(argv[3], "register") == 0 && argc == 6 &&
	    parse_ll(argv[5], 1, TOOL_MAX, &n) == 0)
		rc = register_many(core, argv[4], (long)n);
	else
		usage();
	core_conf_free(&core);
	return rc;
}
