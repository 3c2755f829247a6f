/*
 * pbuf.c: the growable byte buffer of pbuf.h.
 *
 * Growth doubles the capacity (minimum PBUF_MIN) so that appending n bytes
 * one at a time costs O(n) overall.
 */
#include "pbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* First allocation: one typical OpenSRF stanza fits without regrowth. */
#define PBUF_MIN	1024

int
pbuf_reserve(struct pbuf *b, size_t more)
{
	size_t	 need, cap;
	char	*p;

	if (more > SIZE_MAX - b->len - 1)
		return -ENOMEM;
	need = b->len + more + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap < PBUF_MIN ? PBUF_MIN : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((p = realloc(b->data, cap)) == NULL)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
pbuf_add(struct pbuf *b, const void *src, size_t n)
{
	int	rc;

	/* The common case, room already there, without a call. */
	if ((n >= b->cap - b->len || b->data == NULL) &&
	    (rc = pbuf_reserve(b, n)) != 0)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, src, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
pbuf_adds(struct pbuf *b, const char *s)
{
	return pbuf_add(b, s, strlen(s));
}

int
pbuf_addc(struct pbuf *b, char c)
{
	int	rc;

	if (b->len + 1 >= b->cap && (rc = pbuf_reserve(b, 1)) != 0)
		return rc;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
	return 0;
}

void
pbuf_reset(struct pbuf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *
pbuf_steal(struct pbuf *b, size_t *lenp)
{
	char	*p = b->data;

	if (p == NULL && (p = strdup("")) == NULL)
		return NULL;
	if (lenp != NULL)
		*lenp = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
pbuf_free(struct pbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
