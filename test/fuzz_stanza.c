/*
 * fuzz_stanza.c: libFuzzer target for proto/stanza.c.
 *
 * The first input byte picks the read size (so splits are fuzzed too)
 * and a small stanza limit (so the oversize path is reached); the rest is
 * the stream.  Besides not crashing, every stanza handed out must obey
 * the contract: NUL-terminated at len, within the limit, starting with
 * '<' and ending with '>', and the parse must not depend on the split:
 * the events of one run are a prefix of the other's (libxml2 may notice
 * an error inside an incomplete token earlier when it has more bytes at
 * once, which ends that run sooner), and equal when neither failed.  The
 * same holds between the fast reader (proto/xml_fast.c) and libxml2
 * alone, which reads the stream a third time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/stanza.h"
#include "proto/xml_fast.h"

#define MAXEV	4096

struct trace {
	unsigned long	ev[MAXEV];
	size_t		n;
	int		rc;
};

static void
parse(const uint8_t *d, size_t n, size_t step, size_t max, struct trace *t)
{
	struct stanza_parser	*p;
	struct stanza_event	 ev;
	size_t			 off = 0, k, i;
	int			 rc = 0;
	unsigned long		 h;

	if ((p = stanza_parser_new(max)) == NULL)
		abort();
	t->n = 0;
	while (off < n && rc == 0) {
		k = n - off < step ? n - off : step;
		rc = stanza_feed(p, d + off, k);
		off += k;
		while (stanza_next(p, &ev) == 1) {
			h = (unsigned long)ev.type * 1000003u + ev.size;
			if (ev.stanza != NULL) {
				struct xstanza *xs = ev.stanza;

				if (xs->raw[xs->len] != '\0' || xs->len > max ||
				    xs->len < 3 || xs->raw[0] != '<' ||
				    xs->raw[xs->len - 1] != '>')
					abort();
				for (i = 0; i < xs->len; i++)
					h = h * 31 + (unsigned char)xs->raw[i];
			}
			if (t->n < MAXEV)
				t->ev[t->n++] = h;
			stanza_event_clear(&ev);
		}
	}
	t->rc = rc;
	stanza_parser_free(&p);
}

static struct trace	t1, t2, t3;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
agree(const struct trace *a, const struct trace *b)
{
	size_t	n = a->n < b->n ? a->n : b->n;

	if (memcmp(a->ev, b->ev, n * sizeof(a->ev[0])) != 0)
		abort();
	if (a->rc == 0 && b->rc == 0 && a->n != b->n)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	step, max, n;

	if (size < 1)
		return 0;
	step = 1 + (data[0] & 0x3f) * 7;
	max = data[0] & 0x40 ? STANZA_MAX_SIZE_MIN : 0;
	if (max == 0)
		max = STANZA_MAX_SIZE_DEFAULT;
	parse(data + 1, size - 1, step, max, &t1);
	parse(data + 1, size - 1, size, max, &t2);
	xml_fast_off = 1;
	parse(data + 1, size - 1, step, max, &t3);
	xml_fast_off = 0;
	agree(&t1, &t2);
	agree(&t1, &t3);
	return 0;
}
