/*
 * bench_runtime.c: what the request runtime costs a child per request
 * (make bench).
 *
 * The runtime serves stanzas in-process on a null transport (sends are
 * counted and dropped, nothing arrives), so the figures are the child's
 * own work: parse the stanza, decode the body, dispatch, run the
 * handler, bundle and encode the answers, write the reply stanza, plus
 * the scoreboard-free session bookkeeping.  Measured:
 *   - opensrf.dbmath add 2,2 from lib/ (the plugin path end to end);
 *   - opensrf.system.echo with 10 parameters (10 RESULTs, one stanza);
 *   - drover.test.bytes 102400 (a chunked result: 3 slices).
 * Prints one line per measurement; asserts nothing about speed.
 * BENCH_SCALE=k divides the iteration counts by k (for profilers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto/osrfmsg.h"
#include "proto/pbuf.h"
#include "proto/tmsg.h"
#include "services/runtime/rt_inbox.h"
#include "services/runtime/rt_svc.h"
#include "services/runtime/runtime.h"
#include "transport.h"
#include "util.h"

struct nullbus {
	unsigned long	sent;
	size_t		bytes;
};

static int
nb_open(struct transport *t, int ms)
{
	return 0;
}

static int
nb_fd(struct transport *t)
{
	return -1;
}

static int
nb_recv(struct transport *t, struct xstanza **out)
{
	*out = NULL;
	return 0;
}

static int
nb_send(struct transport *t, const char *xml, size_t len)
{
	struct nullbus	*nb = t->impl;

	nb->sent++;
	nb->bytes += len;
	return 0;
}

static const char *
nb_jid(const struct transport *t)
{
	return "opensrf@private.localhost/opensrf.bench_drone_h_1.0_1";
}

static void
nb_close(struct transport *t)
{
}

static void
nb_destroy(struct transport *t)
{
}

static const struct transport_ops nb_ops = {
	nb_open, nb_fd, nb_recv, nb_send, nb_jid, nb_close, nb_destroy,
};

static char *
request(const char *method, const char *params)
{
	struct osrfmsg	 m;
	struct pbuf	 body = { 0 };
	struct tmsg	 t = TMSG_INIT;
	json_t		*p = json_loads(params, 0, NULL);
	char		*xml;

	memset(&m, 0, sizeof(m));
	m.type = OSRFMSG_REQUEST;
	m.thread_trace = 1;
	m.locale = "en-US";
	m.api_level = 1;
	m.ingress = "srfsh";
	m.method = method;
	m.params = p;
	if (p == NULL || osrfmsg_encode(&m, 1, &body, NULL) < 0)
		fatalx("cannot encode %s", method);
	json_decref(p);
	t.to = "opensrf@private.localhost/opensrf.bench_listener";
	t.from = "router@private.localhost/opensrf.bench";
	t.router_from = "opensrf@private.localhost/_h_1795549623.393137_22541";
	t.thread = "1795549623.395107.179554962322541";
	t.osrf_xid = "1795549623225410";
	t.body = body.data;
	if (tmsg_xml_write(&t, &xml, NULL) < 0)
		fatalx("cannot write the stanza");
	pbuf_free(&body);
	return xml;
}

static void
run(const char *what, struct drover_svc *svc, const char *method,
    const char *params, long n)
{
	struct nullbus		 nb = { 0, 0 };
	struct transport	 t = { &nb_ops, &nb };
	char			*xml = request(method, params);
	size_t			 len = strlen(xml);
	uint64_t		 t0, dt;
	long			 i;
	const char		*scale = getenv("BENCH_SCALE");

	/* BENCH_SCALE=100 runs 1/100 of the iterations (profilers) */
	if (scale != NULL && atol(scale) > 0 && n / atol(scale) > 0)
		n /= atol(scale);
	t0 = mono_us();
	for (i = 0; i < n; i++)
		if (rt_serve(svc, &t, NULL, 5, xml, len) != WORKER_OK)
			fatalx("%s: request failed", what);
	dt = mono_us() - t0;
	printf("runtime %-28s %9.0f req/s  %6.2f us/req  %lu stanzas "
	    "%zu bytes out/req\n", what, n * 1e6 / (double)dt,
	    (double)dt / (double)n, nb.sent / (unsigned long)n,
	    nb.bytes / (size_t)n);
	free(xml);
}

static struct drover_svc *
load(const char *name)
{
	struct drover_svc	*s;
	const char		*lib = getenv("DROVER_LIB");
	char			 err[RT_ERR_MAX];

	if (rt_svc_load(name, name, lib != NULL ? lib : "lib", &s, err,
	    sizeof(err)) < 0)
		fatalx("%s", err);
	if (rt_svc_init(s) < 0)
		fatalx("%s: init failed", name);
	return s;
}

int
main(void)
{
	struct drover_svc	*dbmath, *test;

	log_init("bench_runtime");
	log_set_level(LOGL_ERROR);
	dbmath = load("opensrf.dbmath");
	test = load("drover.test");
	run("dbmath add 2,2", dbmath, "add", "[2,2]", 200000);
	run("system.echo x10", dbmath, "opensrf.system.echo",
	    "[1,2,3,4,5,6,7,8,9,10]", 50000);
	run("system.method.all.atomic", dbmath,
	    "opensrf.system.method.all.atomic", "[]", 20000);
	run("test.bytes 102400 (chunked)", test, "drover.test.bytes",
	    "[102400]", 2000);
	rt_inbox_free(&dbmath->inbox);
	rt_inbox_free(&test->inbox);
	rt_svc_free(&dbmath);
	rt_svc_free(&test);
	return 0;
}
