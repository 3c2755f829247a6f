/*
 * fuzz_tmsg_json.c: libFuzzer target for proto/tmsg_json.c.
 *
 * Parse; what parses must write, and what we write must parse back to
 * the same fields, whatever the body: the writer puts it inline only
 * when it is one JSON value that reads back as the same text, and as a
 * JSON string otherwise.
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

	if (tmsg_json_parse((const char *)data, size, &m, NULL) != 0)
		return 0;
	(void)tmsg_reply_to(&m);	/* only must not crash */
	if (tmsg_json_write(&m, &out, &len) != 0)
		abort();	/* parsed strings are valid UTF-8 */
	if (tmsg_json_parse(out, len, &back, NULL) != 0)
		abort();
	same(m.to, back.to);
	same(m.from, back.from);
	same(m.thread, back.thread);
	same(m.osrf_xid, back.osrf_xid);
	same(m.router_command, back.router_command);
	same(m.router_class, back.router_class);
	same(m.router_to, back.router_to);
	same(m.router_reply, back.router_reply);
	same(m.body[0] != '\0' ? m.body : "[]", back.body);
	free(out);
	tmsg_clear(&back);
	tmsg_clear(&m);
	return 0;
}
