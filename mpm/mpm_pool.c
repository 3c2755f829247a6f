/*
 * mpm_pool.c: the pool's pure decisions (see mpm_pool.h).
 */
#include "mpm_pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------- idle list */

void
mpm_idle_init(struct mpm_idle *l)
{
	memset(l, 0, sizeof(*l));
	l->head = -1;
}

void
mpm_idle_push(struct mpm_idle *l, int i)
{
	if (l->in[i])
		return;
	l->prev[i] = -1;
	l->next[i] = l->head;
	if (l->head >= 0)
		l->prev[l->head] = (int16_t)i;
	l->head = (int16_t)i;
	l->in[i] = 1;
	l->count++;
}

int
mpm_idle_remove(struct mpm_idle *l, int i)
{
	if (i < 0 || i >= MPM_MAX_SLOTS || !l->in[i])
		return 0;
	if (l->prev[i] >= 0)
		l->next[l->prev[i]] = l->next[i];
	else
		l->head = l->next[i];
	if (l->next[i] >= 0)
		l->prev[l->next[i]] = l->prev[i];
	l->in[i] = 0;
	l->count--;
	return 1;
}

int
mpm_idle_pop(struct mpm_idle *l)
{
	int	i = l->head;

	if (i >= 0)
		(void)mpm_idle_remove(l, i);	/* listed: always 1 */
	return i;
}

/* ------------------------------------------------------- backlog */

int
mpm_fifo_init(struct mpm_fifo *f, size_t cap)
{
	memset(f, 0, sizeof(*f));
	return mpm_fifo_resize(f, cap);
}

int
mpm_fifo_resize(struct mpm_fifo *f, size_t cap)
{
	void	**r;
	size_t	  i;

	if (cap < f->len)
		return -EBUSY;
	if ((r = calloc(cap > 0 ? cap : 1, sizeof(*r))) == NULL)
		return -ENOMEM;
	for (i = 0; i < f->len; i++)
		r[i] = f->ring[(f->head + i) % f->cap];
	free(f->ring);
	f->ring = r;
	f->cap = cap;
	f->head = 0;
	return 0;
}

void
mpm_fifo_free(struct mpm_fifo *f)
{
	free(f->ring);
	memset(f, 0, sizeof(*f));
}

int
mpm_fifo_push(struct mpm_fifo *f, void *p)
{
	if (f->len >= f->cap)
		return -ENOSPC;
	f->ring[(f->head + f->len) % f->cap] = p;
	f->len++;
	return 0;
}

void *
mpm_fifo_peek(const struct mpm_fifo *f)
{
	return f->len > 0 ? f->ring[f->head] : NULL;
}

void *
mpm_fifo_pop(struct mpm_fifo *f)
{
	void	*p;

	if (f->len == 0)
		return NULL;
	p = f->ring[f->head];
	f->head = (f->head + 1) % f->cap;
	f->len--;
	return p;
}

/* ------------------------------------------------------- sizing */

static int
min_int(int a, int b)
{
	return a < b ? a : b;
}

void
mpm_maintain(const struct mpm_limits *lim, const struct mpm_census *c,
    int *rate, struct mpm_plan *plan)
{
	int	spare = c->idle + c->starting;
	int	room = lim->max_children - c->total;
	int	n;

	plan->spawn = 0;
	plan->retire = 0;
	if (*rate < 1)
		*rate = 1;
	if (room < 0)
		room = 0;
	if (c->total < lim->min_children) {
		plan->spawn = min_int(lim->min_children - c->total, room);
		spare += plan->spawn;
		room -= plan->spawn;
	}
	if (spare < lim->min_spare && room > 0) {
		n = min_int(min_int(*rate, lim->min_spare - spare), room);
		plan->spawn += n;
		if (*rate < MPM_MAX_SPAWN_RATE)
			*rate *= 2;
		return;
	}
	*rate = 1;
	/*
	 * Retire only truly idle children (never a starting one) and only
	 * when nobody waits in the backlog.
	 */
	if (plan->spawn == 0 && c->idle > 0 && c->total > lim->max_children)
		plan->retire = 1;	/* max_children lowered (SIGTTOU) */
	else if (plan->spawn == 0 && lim->max_spare > 0 &&
	    c->idle > lim->max_spare &&
	    c->total > lim->min_children && c->queued == 0)
		plan->retire = 1;
}

int
mpm_on_demand(const struct mpm_limits *lim, const struct mpm_census *c)
{
	int	want = c->queued - c->idle - c->starting;
	int	room = lim->max_children - c->total;

	if (want <= 0 || room <= 0)
		return 0;
	return min_int(want, room);
}

int
mpm_req_limit(int max_requests, int jitter, uint32_t rnd)
{
	long long	n;

	if (jitter <= 0)
		return max_requests;
	n = (long long)max_requests + rnd % ((uint32_t)jitter + 1);
	return n > 1000000000LL ? 1000000000 : (int)n;
}

unsigned
mpm_backoff_ms(unsigned n)
{
	unsigned	ms = MPM_BACKOFF_MIN_MS;

	if (n == 0)
		return 0;
	while (--n > 0 && ms < MPM_BACKOFF_MAX_MS)
		ms *= 2;
	return ms < MPM_BACKOFF_MAX_MS ? ms : MPM_BACKOFF_MAX_MS;
}

int
mpm_limits_check(const struct mpm_limits *l, char *why, size_t whysz)
{
	const char	*msg = NULL;

	if (l->max_children < 1 || l->max_children > MPM_MAX_SLOTS)
		msg = "max_children must be from 1 to 256";
	else if (l->min_children < 0 || l->min_children > l->max_children)
		msg = "min_children must be from 0 to max_children";
	else if (l->min_spare < 0 || l->max_spare < 0)
		msg = "spare children counts must not be negative";
	else if (l->max_spare > 0 && l->max_spare <= l->min_spare)
		msg = "max_spare_children must exceed min_spare_children";
	if (msg == NULL)
		return 0;
	snprintf(why, whysz, "%s (min_children %d, max_children %d, "
	    "min_spare_children %d, max_spare_children %d)", msg,
	    l->min_children, l->max_children, l->min_spare, l->max_spare);
	return -EINVAL;
}
