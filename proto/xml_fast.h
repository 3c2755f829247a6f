/*
 * xml_fast.h: a fast reader for the plain XML that XMPP servers and
 * OpenSRF peers write, feeding libxml2's SAX2 callbacks.
 *
 * libxml2 spends most of a stanza on entities: an OpenSRF body is JSON
 * inside XML text, every quote written as &quot;, and each reference is a
 * separate trip through its parser and a separate characters() call.
 * xml_fast_element() reads one element itself and calls the handler's
 * startElementNs, characters and endElementNs for it as libxml2 would for
 * those bytes: same element and attribute names, values and text decoded
 * the same way (the five predefined entities and character references
 * replaced; literal tab and newline in an attribute value turned into
 * spaces), the element's namespace URI from its xmlns or the one in
 * scope.  So a reader written for libxml2 works unchanged on either.
 *
 * It knows a strict subset and nothing else: elements with unprefixed
 * ASCII names, attributes likewise or xml:lang, xmlns="..." declarations,
 * UTF-8 text and values without a carriage return or another control
 * character, nesting to XML_FAST_MAX_DEPTH, up to XML_FAST_MAX_ATTRS
 * attributes an element, all under libxml2's own size limits.  Anything
 * else (an XML declaration, comment, processing instruction, CDATA,
 * DOCTYPE, other prefixes, U+FFFE, a duplicate attribute, any mistake at
 * all) makes it stop with XML_FAST_UNSURE.  Then the caller undoes what
 * the callbacks did so far and gives the same bytes to libxml2, which
 * decides and words any error.  Nothing it accepts is something libxml2
 * refuses: the differential fuzzers (test/fuzz_tmsg.c, fuzz_stanza.c)
 * hold it to that, comparing every result with libxml2 alone.
 *
 * Not reported: namespace declarations (nb_namespaces is 0) and defaulted
 * attributes (none: there is no DTD).  Attribute arrays are libxml2's:
 * five pointers per attribute (localname, prefix, URI, value, end of
 * value), values not NUL-terminated.
 *
 * Memory: struct xml_fast is caller-owned, zeroed to start, reused for
 * any number of elements (its scratch buffer grows once to the largest
 * input and is then only reused); xml_fast_free() releases it.  Every
 * pointer handed to a callback is valid during that callback only.
 *
 * Callers: any process; one struct per reader, not thread-safe.
 */
#ifndef DROVER_XML_FAST_H
#define DROVER_XML_FAST_H

#include <stddef.h>

#include <libxml/parser.h>

#include "pbuf.h"

#define XML_FAST_MAX_DEPTH	16
#define XML_FAST_MAX_ATTRS	16
/* Longest element or attribute name read; longer ones go to libxml2. */
#define XML_FAST_MAX_NAME	64

enum xml_fast_rc {
	XML_FAST_DONE = 0,	/* one whole element read and reported */
	XML_FAST_MORE,		/* the bytes end inside it */
	XML_FAST_UNSURE,	/* something only libxml2 may judge */
};

struct xml_fast {
	const xmlSAXHandler	*sax;
	void			*ctx;		/* the callbacks' first argument */
	const char		*default_ns;	/* URI in scope, NULL if none */
	/*
	 * During a callback: offset in buf just past the tag being
	 * reported ('>' of a start or end tag), what xmlByteConsumed()
	 * would say relative to buf.
	 */
	size_t			 tok;
	struct pbuf		 scratch;	/* private */
};

/*
 * Read the element starting at buf[0] ('<').  XML_FAST_DONE: *endp is
 * the offset just past its end.  MORE and UNSURE: callbacks may have
 * run for part of it; the caller undoes them (libxml2 reads the bytes
 * again from buf[0]).
 */
enum xml_fast_rc	xml_fast_element(struct xml_fast *, const char *buf,
			    size_t len, size_t *endp);
void			xml_fast_free(struct xml_fast *);

/*
 * Process-wide switch, 0 by default: when set, the readers built on this
 * module (tmsg_xml_parse(), stanza_feed()) use libxml2 alone.  For the
 * differential fuzzers and tests, which compare the two.
 */
extern int	xml_fast_off;

#endif /* DROVER_XML_FAST_H */
