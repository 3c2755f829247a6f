/*
 * osrfmsg_int.h: what osrfmsg.c and osrfmsg_fast.c share, and the fast
 * reader on its own for the tests that hold it to the full one.
 */
#ifndef DROVER_OSRFMSG_INT_H
#define DROVER_OSRFMSG_INT_H

#include "osrfmsg.h"

/* The wire names of the types, indexed by enum osrfmsg_type. */
extern const char *const osrfmsg_type_names[OSRFMSG_DISCONNECT + 1];

/* osrfmsg_decode_fast() leaves the body to the full reader. */
#define OSRFMSG_FAST_UNSURE	1

/*
 * Nesting of a params or content value the fast reader takes; deeper
 * values go to the full reader, which holds the whole body to jansson's
 * depth limit.
 */
#define OSRFMSG_FAST_MAX_DEPTH	256

/*
 * Decode body as osrfmsg_decode() would, if it is in the subset that
 * osrfmsg_fast.c describes: 0 and *l filled, OSRFMSG_FAST_UNSURE and *l
 * empty when it is not (or when the full reader would refuse it), or
 * -ENOMEM.  Never a reason: the full reader gives those.
 */
int	osrfmsg_decode_fast(const char *body, size_t len,
	    struct osrfmsg_list *l) MUST_CHECK;

/* osrfmsg_decode() with jansson alone: any body, every error worded. */
int	osrfmsg_decode_full(const char *body, size_t len,
	    struct osrfmsg_list *l, struct proto_err *err) MUST_CHECK;

#endif /* DROVER_OSRFMSG_INT_H */
