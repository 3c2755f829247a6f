/*
 * fuzz_osrfmsg.c: libFuzzer target for proto/osrfmsg.c.
 *
 * Decode; what decodes must encode (jansson holds only valid UTF-8 and
 * finite numbers), and encoding is a fixed point: decode(encode(x))
 * encodes to the same bytes.  The listener's 503 helper must never fail
 * on any body.  The fast reader (osrfmsg_fast.c) takes nothing the full
 * reader refuses and decodes what it takes as the full reader does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/osrfmsg.h"
#include "th_osrfmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct osrfmsg_list	l = OSRFMSG_LIST_INIT, l2 = OSRFMSG_LIST_INIT;
	struct pbuf		b1 = { 0 }, b2 = { 0 }, u = { 0 };

	if (osrfmsg_error_body((const char *)data, size, 503, NULL, &u) != 0)
		abort();
	pbuf_free(&u);
	if (th_osrfmsg_fast_vs_full((const char *)data, size) < 0)
		abort();
	if (osrfmsg_decode((const char *)data, size, &l, NULL) != 0)
		return 0;
	if (osrfmsg_encode(l.msg, l.n, &b1, NULL) != 0)
		abort();
	if (osrfmsg_decode(b1.data, b1.len, &l2, NULL) != 0)
		abort();
	if (l2.n != l.n)
		abort();
	if (osrfmsg_encode(l2.msg, l2.n, &b2, NULL) != 0)
		abort();
	if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
		abort();
	pbuf_free(&b1);
	pbuf_free(&b2);
	osrfmsg_list_clear(&l);
	osrfmsg_list_clear(&l2);
	return 0;
}
