/*
 * th_capture.h: the wire captures of spec/captures as test vectors.
 *
 * The capture files are copied into test/data/captures/ (so the tests do
 * not depend on the spec directory) and read at run time from
 * $DROVER_TOP/test/data/captures (test/run-tests sets DROVER_TOP; "."
 * otherwise).  Each vector is one line of raw stream bytes with the
 * direction it travelled:
 *	C->S	written by an OpenSRF process (C: double quotes; Perl: single)
 *	S->C	delivered by the XMPP server (re-serialized by ejabberd/prosody)
 * A vector is either one complete <message> (the .xml message lines and
 * every line of startup_stanzas.txt) or a raw stream excerpt that starts
 * with the stream header (handshakes and the auth-failure captures).
 *
 * Ownership: thc_load() returns a static, lazily built table that lives
 * until the process exits.
 */
#ifndef TH_CAPTURE_H
#define TH_CAPTURE_H

#include <stddef.h>

enum thc_dir { THC_C2S = 1, THC_S2C };

struct thc_vec {
	const char	*file;		/* base name of the capture */
	int		 line;		/* line number in it */
	enum thc_dir	 dir;
	int		 is_message;	/* exactly one <message> */
	int		 c_written;	/* C->S with double quotes (C writer) */
	char		*text;		/* the bytes, NUL-terminated */
	size_t		 len;
};

/*
 * All vectors of all capture files; *n = 0 if none were found (callers
 * assert on the count: a missing directory must fail, not pass).  Safe
 * outside a test (suite construction uses it for loop bounds).
 */
const struct thc_vec	*thc_load(size_t *n);

/* A whole file of the capture directory, malloc'd, NUL-ended; NULL if not. */
char	*thc_read(const char *name, size_t *lenp);

/* The stream header ejabberd sends, for wrapping single stanzas. */
#define THC_STREAM_HEAD \
	"<?xml version='1.0'?><stream:stream id='3449836441881677972' " \
	"xml:lang='en' xmlns:stream='http://etherx.jabber.org/streams' " \
	"from='private.localhost' xmlns='jabber:client'>"

#endif /* TH_CAPTURE_H */
