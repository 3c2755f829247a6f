/*
 * fuzz_tmsg.c: libFuzzer target for proto/tmsg.c.
 *
 * Parse; what parses must write, and what we write must parse back to
 * the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/tmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
same(const char *a, const char *b)
{
	if (strcmp(a, b) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmsg	 m = TMSG_INIT, back = TMSG_INIT;
	char		*out;
	size_t		 len;

	if (tmsg_xml_parse((const char *)data, size, &m, NULL) != 0)
		return 0;
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
