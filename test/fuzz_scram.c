/*
 * fuzz_scram.c: libFuzzer target for the SCRAM and base64 code of
 * proto/xmpp_sasl.c, i.e. everything a hostile XMPP server can feed the
 * client during SASL.
 *
 * The input is split at the first newline: the part before is taken as
 * the server-first-message, the part after as the server-final-message.
 * Also checks that base64 decoding never reports more bytes than it
 * could have produced and that decode(encode(x)) gives x back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/xmpp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct xmpp_scram	 s;
	unsigned char		*dec, *dec2;
	char			*buf, *nl, *enc;
	char			*first = NULL, *final = NULL;
	size_t			 dlen, dlen2;

	if ((buf = malloc(n + 1)) == NULL)
		return 0;
	memcpy(buf, d, n);
	buf[n] = '\0';
	if (xmpp_b64_decode(buf, &dec, &dlen) == 0) {
		if (dlen > n / 4 * 3)
			abort();
		/* decode(encode(x)) == x for whatever was decoded */
		enc = xmpp_b64_encode(dec, dlen);
		if (enc == NULL || xmpp_b64_decode(enc, &dec2, &dlen2) != 0 ||
		    dlen2 != dlen || memcmp(dec, dec2, dlen) != 0)
			abort();
		free(dec2);
		free(enc);
		free(dec);
	}
	if ((nl = strchr(buf, '\n')) != NULL)
		*nl = '\0';
	if (xmpp_scram_first(&s, n % 2 ? "SCRAM-SHA-1" : "SCRAM-SHA-256",
	    "user", "fyko+d2lbbFgONRv9qkxdawL", &first) == 0) {
		if (xmpp_scram_final(&s, "pencil", buf, &final) == 0)
			(void)xmpp_scram_verify(&s, nl ? nl + 1 : "");
		xmpp_scram_clear(&s);
	}
	free(first);
	free(final);
	free(buf);
	return 0;
}
