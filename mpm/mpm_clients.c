/*
 * mpm_clients.c: the per-client counts of mpm_clients.h.
 */
#include "mpm_clients.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Grow past this load (3/4): linear probing stays short. */
#define LOAD_NUM	3
#define LOAD_DEN	4
#define CAP_MIN		16

static uint64_t
fnv1a(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void
mpm_clients_init(struct mpm_clients *c)
{
	memset(c, 0, sizeof(*c));
}

void
mpm_clients_free(struct mpm_clients *c)
{
	size_t	i;

	for (i = 0; i < c->cap; i++)
		free(c->cell[i].addr);
	free(c->cell);
	memset(c, 0, sizeof(*c));
}

/* The cell holding addr, or the free cell where it would go. */
static size_t
slot(const struct mpm_clients *c, const char *addr, uint64_t h)
{
	size_t	i = (size_t)h & (c->cap - 1);

	while (c->cell[i].addr != NULL && (c->cell[i].hash != h ||
	    strcmp(c->cell[i].addr, addr) != 0))
		i = (i + 1) & (c->cap - 1);
	return i;
}

static int
grow(struct mpm_clients *c)
{
	struct mpm_client	*old = c->cell, *cell;
	size_t			 ocap = c->cap, ncap, i, j;

	ncap = ocap == 0 ? CAP_MIN : ocap * 2;
	if ((cell = calloc(ncap, sizeof(*cell))) == NULL)
		return -ENOMEM;
	c->cell = cell;
	c->cap = ncap;
	for (i = 0; i < ocap; i++) {
		if (old[i].addr == NULL)
			continue;
		j = slot(c, old[i].addr, old[i].hash);
		c->cell[j] = old[i];
	}
	free(old);
	return 0;
}

uint32_t
mpm_clients_get(const struct mpm_clients *c, const char *addr,
    enum mpm_client_count which)
{
	size_t	i;

	if (c->cap == 0)
		return 0;
	i = slot(c, addr, fnv1a(addr));
	return c->cell[i].addr != NULL ? c->cell[i].n[which] : 0;
}

int
mpm_clients_add(struct mpm_clients *c, const char *addr,
    enum mpm_client_count which)
{
	uint64_t	h = fnv1a(addr);
	size_t		i;
	char		*copy;

	if ((c->used + 1) * LOAD_DEN > c->cap * LOAD_NUM && grow(c) < 0)
		return -ENOMEM;
	i = slot(c, addr, h);
	if (c->cell[i].addr == NULL) {
		if ((copy = strdup(addr)) == NULL)
			return -ENOMEM;
		c->cell[i].addr = copy;
		c->cell[i].hash = h;
		memset(c->cell[i].n, 0, sizeof(c->cell[i].n));
		c->used++;
	}
	c->cell[i].n[which]++;
	return 0;
}

/* Remove cell i, shifting back the cells of its probe run. */
static void
drop(struct mpm_clients *c, size_t i)
{
	size_t	j = i, home;

	free(c->cell[i].addr);
	c->cell[i].addr = NULL;
	c->used--;
	for (;;) {
		j = (j + 1) & (c->cap - 1);
		if (c->cell[j].addr == NULL)
			return;
		home = (size_t)c->cell[j].hash & (c->cap - 1);
		/* j may move to i unless its home lies in (i, j] */
		if ((i < j && (home <= i || home > j)) ||
		    (i > j && home <= i && home > j)) {
			c->cell[i] = c->cell[j];
			c->cell[j].addr = NULL;
			i = j;
		}
	}
}

void
mpm_clients_sub(struct mpm_clients *c, const char *addr,
    enum mpm_client_count which)
{
	size_t	i, k;

	if (c->cap == 0)
		return;
	i = slot(c, addr, fnv1a(addr));
	if (c->cell[i].addr == NULL)
		return;
	if (c->cell[i].n[which] > 0)
		c->cell[i].n[which]--;
	for (k = 0; k < MPM_CLIENT_NCOUNTS; k++)
		if (c->cell[i].n[k] != 0)
			return;
	drop(c, i);
}

size_t
mpm_clients_size(const struct mpm_clients *c)
{
	return c->used;
}

uint32_t
mpm_clients_share(int configured, int total)
{
	if (configured > 0)
		return (uint32_t)configured;
	return total / 2 > 0 ? (uint32_t)(total / 2) : 1;
}
