/*
 * fuzz_tmsg_json.c: libFuzzer target for proto/tmsg_json.c.
 *
 * Parse; what parses must write, and what we write must parse back to
 * the same fields.  The one input that may not come back is a body given
 * as a JSON string in a message without router_command: the writer puts
 * such a body inline, so it reads back only if its text is JSON itself;
 * then the same body alone must fail to parse as an envelope's body too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pbuf.h"
#include "proto/tmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
same(const char *a, const char *b)
{
	if (strcmp(a, b) != 0)
		abort();
}

/* Does {"body":<body>} parse?  (Is body one JSON value?) */
static int
body_is_json(const char *body)
{
	struct pbuf	b = { 0 };
	struct tmsg	m = TMSG_INIT;
	int		rc;

	if (pbuf_adds(&b, "{\"body\":") != 0 || pbuf_adds(&b, body) != 0 ||
	    pbuf_addc(&b, '}') != 0)
		abort();
	rc = tmsg_json_parse(b.data, b.len, &m, NULL);
	tmsg_clear(&m);
	pbuf_free(&b);
	return rc == 0;
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
	if (tmsg_json_parse(out, len, &back, NULL) != 0) {
		if (m.router_command[0] != '\0' || body_is_json(m.body))
			abort();
		goto out;
	}
	same(m.to, back.to);
	same(m.from, back.from);
	same(m.thread, back.thread);
	same(m.osrf_xid, back.osrf_xid);
	same(m.router_command, back.router_command);
	same(m.router_class, back.router_class);
	same(m.router_to, back.router_to);
	same(m.router_reply, back.router_reply);
	same(m.body[0] != '\0' ? m.body : "[]", back.body);
out:
	free(out);
	tmsg_clear(&back);
	tmsg_clear(&m);
	return 0;
}
