/*
 * bench_runtime.c: what the request runtime costs a child per request
 * (make bench).
 *
 * The runtime serves stanzas in-process on a null bus (messages are
 * encoded as on XMPP, counted and dropped; nothing arrives), so the
 * figures are the child's
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
#include "proto/bus_int.h"
#include "util.h"

static struct {
	unsigned long	sent;
	size_t		bytes;
} nb;

static int
nb_init(struct bus *t)
{
	return 0;
}

static int
nb_open(struct bus *t)
{
	return 0;
}

static void
nb_drop(struct bus *t)
{
}

static void
nb_destroy(struct bus *t, int logout)
{
}

static int
nb_fd(const struct bus *t)
{
	return -1;
}

static uint32_t
nb_events(const struct bus *t)
{
	return 0;
}

static int
nb_recv(struct bus *t, struct bus_frame **out)
{
	*out = NULL;
	return 0;
}

static int
nb_decode(const struct bus *t, const char *raw, size_t len, struct tmsg *m,
    struct proto_err *err)
{
	return tmsg_xml_parse(raw, len, m, err);
}

/* Encode as the XMPP bus does, count, drop. */
static int
nb_send(struct bus *t, const char *dest, const struct tmsg *m)
{
	struct tmsg	msg = *m;
	int		rc;

	if (msg.from == NULL || *msg.from == '\0')
		msg.from = "opensrf@private.localhost/opensrf.bench_drone_h_1.0_1";
	pbuf_reset(&t->scratch);
	if ((rc = tmsg_xml_write_buf(&msg, &t->scratch)) < 0)
		return rc;
	nb.sent++;
	nb.bytes += t->scratch.len;
	return 0;
}

static const char *
nb_addr(const struct bus *t)
{
	return "opensrf@private.localhost/opensrf.bench_drone_h_1.0_1";
}

static int
nb_service_addr(const struct bus *t, const char *svc, char *buf, size_t n)
{
	return snprintf(buf, n, "router@private.localhost/%s", svc);
}

static const struct bus_ops nb_ops = {
	.name = "null",
	.init = nb_init,
	.destroy = nb_destroy,
	.connect = nb_open,
	.step = nb_open,
	.drop = nb_drop,
	.fd = nb_fd,
	.events = nb_events,
	.recv = nb_recv,
	.decode = nb_decode,
	.send = nb_send,
	.addr = nb_addr,
	.service_addr = nb_service_addr,
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
	struct bus_params	 p;
	struct bus		*t;
	char			*xml = request(method, params);
	size_t			 len = strlen(xml);
	uint64_t		 t0, dt;
	long			 i;
	const char		*scale = getenv("BENCH_SCALE");

	/* BENCH_SCALE=100 runs 1/100 of the iterations (profilers) */
	if (scale != NULL && atol(scale) > 0 && n / atol(scale) > 0)
		n /= atol(scale);
	memset(&p, 0, sizeof(p));
	p.kind = BUS_XMPP;	/* only named: the ops are the null bus's */
	p.role = BUS_ROLE_DRONE;
	p.service = "opensrf.bench";
	if (bus_new_ops(&nb_ops, &p, &t) < 0 || bus_open(t, 1000) < 0)
		fatalx("the null bus");
	nb.sent = 0;
	nb.bytes = 0;
	t0 = mono_us();
	for (i = 0; i < n; i++)
		if (rt_serve(svc, t, NULL, 5, xml, len) != WORKER_OK)
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
