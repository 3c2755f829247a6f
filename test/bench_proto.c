/*
 * bench_proto.c: throughput of the protocol layer (make bench).
 *
 * Inputs are the request of request_to_listener.xml in both forms: as
 * ejabberd delivers it to a listener (S->C: single quotes, &quot; in the
 * body, body before thread) and as the C router wrote it (C->S), plus
 * the drone's RESULT + STATUS 205 reply.  Measured, each for a fixed
 * number of iterations on one core:
 *   - stanza: the listener's hot path, splitting a stream into raw
 *     stanzas, fed in 64 KiB reads and in reads of one stanza each;
 *   - tmsg: parsing one stanza into fields, writing the C form;
 *   - osrfmsg: decoding a request body, encoding the reply body;
 *   - drone: parse stanza + decode body + build and encode the reply +
 *     write the reply stanza, i.e. the protocol work per request.
 * Prints one line per measurement; it asserts nothing about speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/osrfmsg.h"
#include "proto/pbuf.h"
#include "proto/stanza.h"
#include "proto/tmsg.h"
#include "util.h"

static const char s2c[] =
    "<message xml:lang='en' to='opensrf@private.localhost/opensrf.math_"
    "listener_vm_1795549618.932885_22486' from='router@private.localhost/"
    "opensrf.math'><opensrf router_from='opensrf@private.localhost/_vm_"
    "1795549623.393137_22541' router_to='' router_class='' router_command="
    "'' osrf_xid='1795549623225410'/><body>[{&quot;__c&quot;:&quot;"
    "osrfMessage&quot;,&quot;__p&quot;:{&quot;threadTrace&quot;:&quot;1"
    "&quot;,&quot;locale&quot;:&quot;en-US&quot;,&quot;ingress&quot;:"
    "&quot;srfsh&quot;,&quot;api_level&quot;:1,&quot;type&quot;:&quot;"
    "REQUEST&quot;,&quot;payload&quot;:{&quot;__c&quot;:&quot;osrfMethod"
    "&quot;,&quot;__p&quot;:{&quot;method&quot;:&quot;add&quot;,&quot;"
    "params&quot;:[2,2]}}}}]</body><thread>1795549623.395107."
    "179554962322541</thread></message>";

static const char c2s[] =
    "<message to=\"opensrf@private.localhost/opensrf.math_listener_vm_"
    "1795549618.932885_22486\" from=\"router@private.localhost/opensrf."
    "math\"><opensrf router_from=\"opensrf@private.localhost/_vm_"
    "1795549623.393137_22541\" router_to=\"\" router_class=\"\" "
    "router_command=\"\" osrf_xid=\"1795549623225410\"/><thread>"
    "1795549623.395107.179554962322541</thread><body>[{\"__c\":\""
    "osrfMessage\",\"__p\":{\"threadTrace\":\"1\",\"locale\":\"en-US\","
    "\"ingress\":\"srfsh\",\"api_level\":1,\"type\":\"REQUEST\",\"payload"
    "\":{\"__c\":\"osrfMethod\",\"__p\":{\"method\":\"add\",\"params\":"
    "[2,2]}}}}]</body></message>";

static const char head[] =
    "<?xml version='1.0'?><stream:stream id='3449836441881677972' "
    "xml:lang='en' xmlns:stream='http://etherx.jabber.org/streams' "
    "from='private.localhost' xmlns='jabber:client'>";

static void
report(const char *what, size_t n, size_t bytes, uint64_t us)
{
	double	s = (double)us / 1e6;

	if (bytes > 0)
		printf("%-44s %9.0f /s  %7.1f MB/s  %6.2f us each\n", what,
		    (double)n / s, (double)bytes / s / 1e6, (double)us / n);
	else
		printf("%-44s %9.0f /s  %19.2f us each\n", what, (double)n / s,
		    (double)us / n);
}

static void
bench_stanza(const char *name, const char *st, size_t n, size_t readsz)
{
	struct stanza_parser	*p;
	struct stanza_event	 ev;
	size_t			 sl = strlen(st), i, off, k, got = 0;
	char			*big, label[80];
	uint64_t		 t0;

	if ((big = malloc(sl * n)) == NULL)
		abort();
	for (i = 0; i < n; i++)
		memcpy(big + i * sl, st, sl);
	if ((p = stanza_parser_new(0)) == NULL ||
	    stanza_feed(p, head, sizeof(head) - 1) != 0)
		abort();
	while (stanza_next(p, &ev) == 1)
		stanza_event_clear(&ev);
	if (readsz == 0)
		readsz = sl;
	t0 = mono_us();
	for (off = 0; off < sl * n; off += k) {
		k = sl * n - off < readsz ? sl * n - off : readsz;
		if (stanza_feed(p, big + off, k) != 0)
			abort();
		while (stanza_next(p, &ev) == 1) {
			got++;
			stanza_event_clear(&ev);
		}
	}
	snprintf(label, sizeof(label), "stanza %s, %zu B, %s", name, sl,
	    readsz == sl ? "one per read" : "64 KiB reads");
	report(label, got, sl * n, mono_us() - t0);
	if (got != n)
		abort();
	stanza_parser_free(&p);
	free(big);
}

static void
bench_tmsg(const char *name, const char *st, size_t n)
{
	struct tmsg	m = TMSG_INIT;
	struct pbuf	b = { 0 };
	size_t		sl = strlen(st), i;
	uint64_t	t0;
	char		label[80];

	t0 = mono_us();
	for (i = 0; i < n; i++) {
		if (tmsg_xml_parse(st, sl, &m, NULL) != 0)
			abort();
		tmsg_clear(&m);
	}
	snprintf(label, sizeof(label), "tmsg_xml_parse %s", name);
	report(label, n, sl * n, mono_us() - t0);

	if (tmsg_xml_parse(st, sl, &m, NULL) != 0)
		abort();
	t0 = mono_us();
	for (i = 0; i < n; i++) {
		pbuf_reset(&b);
		if (tmsg_xml_write_buf(&m, &b) != 0)
			abort();
	}
	snprintf(label, sizeof(label), "tmsg_xml_write (reused buffer)");
	report(label, n, b.len * n, mono_us() - t0);
	tmsg_clear(&m);
	pbuf_free(&b);
}

static void
bench_codec(size_t n)
{
	struct tmsg		 m = TMSG_INIT;
	struct osrfmsg_list	 l;
	struct osrfmsg		 out[2];
	struct pbuf		 b = { 0 };
	json_t			*four = json_integer(4);
	size_t			 i, blen;
	uint64_t		 t0;

	if (tmsg_xml_parse(c2s, strlen(c2s), &m, NULL) != 0)
		abort();
	blen = strlen(m.body);
	t0 = mono_us();
	for (i = 0; i < n; i++) {
		if (osrfmsg_decode(m.body, blen, &l, NULL) != 0 || l.n != 1)
			abort();
		osrfmsg_list_clear(&l);
	}
	report("osrfmsg_decode REQUEST body", n, blen * n, mono_us() - t0);

	if (osrfmsg_decode(m.body, blen, &l, NULL) != 0)
		abort();
	osrfmsg_make_result(&out[0], &l.msg[0], four);
	osrfmsg_make_complete(&out[1], &l.msg[0]);
	t0 = mono_us();
	for (i = 0; i < n; i++) {
		pbuf_reset(&b);
		if (osrfmsg_encode(out, 2, &b, NULL) != 0)
			abort();
	}
	report("osrfmsg_encode RESULT + 205 body", n, b.len * n,
	    mono_us() - t0);
	osrfmsg_list_clear(&l);
	json_decref(four);
	tmsg_clear(&m);
	pbuf_free(&b);
}

/* Everything a drone does with the protocol for one stateless request. */
static void
bench_drone(size_t n)
{
	struct tmsg		 m, r;
	struct osrfmsg_list	 l;
	struct osrfmsg		 out[2];
	struct pbuf		 body = { 0 }, xml = { 0 };
	json_t			*four = json_integer(4);
	size_t			 i, sl = strlen(s2c);
	uint64_t		 t0;

	t0 = mono_us();
	for (i = 0; i < n; i++) {
		if (tmsg_xml_parse(s2c, sl, &m, NULL) != 0 ||
		    osrfmsg_decode(m.body, strlen(m.body), &l, NULL) != 0)
			abort();
		osrfmsg_make_result(&out[0], &l.msg[0], four);
		osrfmsg_make_complete(&out[1], &l.msg[0]);
		pbuf_reset(&body);
		pbuf_reset(&xml);
		if (osrfmsg_encode(out, 2, &body, NULL) != 0)
			abort();
		memset(&r, 0, sizeof(r));
		r.to = tmsg_reply_to(&m);
		r.from = m.to;
		r.thread = m.thread;
		r.osrf_xid = m.osrf_xid;
		r.body = body.data;
		if (tmsg_xml_write_buf(&r, &xml) != 0)
			abort();
		osrfmsg_list_clear(&l);
		tmsg_clear(&m);
	}
	report("drone: parse + decode + reply + write", n, 0, mono_us() - t0);
	json_decref(four);
	pbuf_free(&body);
	pbuf_free(&xml);
}

int
main(void)
{
	printf("== proto (one core; shared machine: compare several runs)\n");
	bench_stanza("S->C", s2c, 300000, 65536);
	bench_stanza("S->C", s2c, 300000, 0);
	bench_stanza("C->S", c2s, 300000, 65536);
	bench_tmsg("S->C", s2c, 200000);
	bench_tmsg("C->S", c2s, 200000);
	bench_codec(200000);
	bench_drone(200000);
	return 0;
}
