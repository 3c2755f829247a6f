/*
 * th_osrfmsg.h: osrfmsg.c's two readers held to each other, for
 * test_osrfmsg.c and fuzz_osrfmsg.c.  Header only: the fuzz targets link
 * no test helpers.
 */
#ifndef TH_OSRFMSG_H
#define TH_OSRFMSG_H

#include <string.h>

#include "proto/osrfmsg_int.h"

static inline int
th_str_same(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static inline int
th_json_same(const json_t *a, const json_t *b)
{
	return a == NULL ? b == NULL : b != NULL && json_equal(a, b) &&
	    json_typeof(a) == json_typeof(b);
}

/* Two decoded lists say the same, field by field. */
static inline int
th_osrfmsg_same(const struct osrfmsg_list *a, const struct osrfmsg_list *b)
{
	const struct osrfmsg	*x, *y;
	size_t			 i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		x = &a->msg[i];
		y = &b->msg[i];
		if (x->type != y->type || x->thread_trace != y->thread_trace ||
		    x->api_level != y->api_level ||
		    x->status_code != y->status_code ||
		    !th_str_same(x->locale, y->locale) ||
		    !th_str_same(x->tz, y->tz) ||
		    !th_str_same(x->ingress, y->ingress) ||
		    !th_str_same(x->method, y->method) ||
		    !th_str_same(x->payload_class, y->payload_class) ||
		    !th_str_same(x->status, y->status) ||
		    !th_json_same(x->params, y->params) ||
		    !th_json_same(x->content, y->content))
			return 0;
	}
	return 1;
}

/*
 * The fast reader on body: -1 when it accepted what the full reader
 * refuses or decoded it differently (a bug), else 1 when it took the
 * body, 0 when it left it to the full reader.
 */
static inline int
th_osrfmsg_fast_vs_full(const char *body, size_t len)
{
	struct osrfmsg_list	f = OSRFMSG_LIST_INIT, g = OSRFMSG_LIST_INIT;
	int			rf, rg, same;

	rf = osrfmsg_decode_fast(body, len, &f);
	if (rf == OSRFMSG_FAST_UNSURE)
		return f.n == 0 && f.msg == NULL && f.root == NULL &&
		    f.text == NULL ? 0 : -1;
	rg = osrfmsg_decode_full(body, len, &g, NULL);
	same = rf == 0 && rg == 0 && th_osrfmsg_same(&f, &g);
	osrfmsg_list_clear(&f);
	osrfmsg_list_clear(&g);
	return same ? 1 : -1;
}

#endif /* TH_OSRFMSG_H */
