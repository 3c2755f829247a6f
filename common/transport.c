/*
 * transport.c: the implementation-independent parts of transport.h.
 */
#include "transport.h"

#include <stdlib.h>

void
xstanza_free(struct xstanza **sp)
{
	if (*sp == NULL)
		return;
	free((*sp)->raw);
	free(*sp);
	*sp = NULL;
}

void
transport_free(struct transport **tp)
{
	struct transport	*t = *tp;

	if (t == NULL)
		return;
	t->ops->close(t);
	t->ops->destroy(t);
	free(t);
	*tp = NULL;
}
