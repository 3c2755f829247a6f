/*
 * fuzz_tmsg.c: libFuzzer target for proto/tmsg.c.
 *
 * Differential: the fast reader (proto/xml_fast.c) and libxml2 alone
 * must agree on every input: both fail with the same reason, or both
 * give the same fields.  Then: what parses must write, and what we write
 * must parse back to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/tmsg.h"
#include "proto/xml_fast.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
same(const char *a, const char *b)
{
	if (strcmp(a, b) != 0)
		abort();
}

static void
same_msg(const struct tmsg *a, const struct tmsg *b)
{
	same(a->to, b->to);
	same(a->from, b->from);
	same(a->thread, b->thread);
	same(a->subject, b->subject);
	same(a->body, b->body);
	same(a->router_from, b->router_from);
	same(a->router_to, b->router_to);
	same(a->router_class, b->router_class);
	same(a->router_command, b->router_command);
	same(a->osrf_xid, b->osrf_xid);
	same(a->type, b->type);
	same(a->error_type, b->error_type);
	same(a->error_condition, b->error_condition);
	if (a->broadcast != b->broadcast || a->is_error != b->is_error ||
	    a->error_code != b->error_code)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmsg		 m = TMSG_INIT, back = TMSG_INIT;
	struct tmsg		 slow = TMSG_INIT;
	struct proto_err	 e1, e2;
	char			*out;
	size_t			 len;
	int			 rc;

	xml_fast_off = 1;
	rc = tmsg_xml_parse((const char *)data, size, &slow, &e2);
	xml_fast_off = 0;
	if (tmsg_xml_parse((const char *)data, size, &m, &e1) != rc)
		abort();
	if (rc != 0) {
		same(e1.reason, e2.reason);
		return 0;
	}
	same_msg(&m, &slow);
	tmsg_clear(&slow);
	(void)tmsg_reply_to(&m);	/* only must not crash */
	if (tmsg_xml_write(&m, &out, &len) != 0)
		abort();	/* parsed XML text is always writable */
	if (tmsg_xml_parse(out, len, &back, NULL) != 0)
		abort();
	same(m.to, back.to);
	same(m.from, back.from);
	same(m.thread, back.thread);
	same(m.subject, back.subject);
	same(m.body, back.body);
	same(m.router_from, back.router_from);
	same(m.router_to, back.router_to);
	same(m.router_class, back.router_class);
	same(m.router_command, back.router_command);
	same(m.osrf_xid, back.osrf_xid);
	if (m.broadcast != back.broadcast || m.is_error != back.is_error)
		abort();
	free(out);
	tmsg_clear(&back);
	tmsg_clear(&m);
	return 0;
}
