/*
 * test_mpm_pool.c: the MPM's pure decisions (mpm/mpm_pool.h) and the
 * pipe framing (mpm/mpm_frame.h), without droverd.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mpm/mpm_frame.h"
#include "mpm/mpm_pool.h"

START_TEST(test_idle_lifo)
{
	struct mpm_idle	l;

	mpm_idle_init(&l);
	ck_assert_int_eq(mpm_idle_pop(&l), -1);
	mpm_idle_push(&l, 3);
	mpm_idle_push(&l, 7);
	mpm_idle_push(&l, 255);
	mpm_idle_push(&l, 7);		/* already listed: no-op */
	ck_assert_int_eq(l.count, 3);
	ck_assert_int_eq(mpm_idle_pop(&l), 255);	/* most recent first */
	ck_assert_int_eq(mpm_idle_pop(&l), 7);
	ck_assert_int_eq(mpm_idle_pop(&l), 3);
	ck_assert_int_eq(mpm_idle_pop(&l), -1);
	ck_assert_int_eq(l.count, 0);
}
END_TEST

START_TEST(test_idle_remove)
{
	struct mpm_idle	l;
	int		i;

	mpm_idle_init(&l);
	for (i = 0; i < 5; i++)
		mpm_idle_push(&l, i);
	ck_assert_int_eq(mpm_idle_remove(&l, 2), 1);	/* middle */
	ck_assert_int_eq(mpm_idle_remove(&l, 2), 0);
	ck_assert_int_eq(mpm_idle_remove(&l, 4), 1);	/* head */
	ck_assert_int_eq(mpm_idle_remove(&l, 0), 1);	/* tail */
	ck_assert_int_eq(mpm_idle_remove(&l, -1), 0);
	ck_assert_int_eq(mpm_idle_remove(&l, 256), 0);
	ck_assert_int_eq(l.count, 2);
	ck_assert_int_eq(mpm_idle_pop(&l), 3);
	ck_assert_int_eq(mpm_idle_pop(&l), 1);
	ck_assert_int_eq(mpm_idle_pop(&l), -1);
}
END_TEST

START_TEST(test_fifo)
{
	struct mpm_fifo	f;
	int		v[5] = { 0, 1, 2, 3, 4 };

	ck_assert_int_eq(mpm_fifo_init(&f, 3), 0);
	ck_assert_ptr_null(mpm_fifo_pop(&f));
	ck_assert_int_eq(mpm_fifo_push(&f, &v[0]), 0);
	ck_assert_int_eq(mpm_fifo_push(&f, &v[1]), 0);
	ck_assert_ptr_eq(mpm_fifo_peek(&f), &v[0]);
	ck_assert_ptr_eq(mpm_fifo_pop(&f), &v[0]);
	ck_assert_int_eq(mpm_fifo_push(&f, &v[2]), 0);
	ck_assert_int_eq(mpm_fifo_push(&f, &v[3]), 0);	/* wraps */
	ck_assert_int_eq(mpm_fifo_push(&f, &v[4]), -ENOSPC);
	ck_assert_int_eq(mpm_fifo_resize(&f, 2), -EBUSY);
	ck_assert_int_eq(mpm_fifo_resize(&f, 4), 0);	/* keeps order */
	ck_assert_int_eq(mpm_fifo_push(&f, &v[4]), 0);
	ck_assert_ptr_eq(mpm_fifo_pop(&f), &v[1]);
	ck_assert_ptr_eq(mpm_fifo_pop(&f), &v[2]);
	ck_assert_ptr_eq(mpm_fifo_pop(&f), &v[3]);
	ck_assert_ptr_eq(mpm_fifo_pop(&f), &v[4]);
	ck_assert_ptr_null(mpm_fifo_pop(&f));
	ck_assert_ptr_null(mpm_fifo_peek(&f));
	mpm_fifo_free(&f);
	ck_assert_int_eq(mpm_fifo_init(&f, 0), 0);	/* no backlog */
	ck_assert_int_eq(mpm_fifo_push(&f, &v[0]), -ENOSPC);
	mpm_fifo_free(&f);
}
END_TEST

/* Spare maintenance: one tick, given limits and a census. */
static const struct {
	struct mpm_limits	lim;
	struct mpm_census	c;
	int			rate_in, spawn, retire, rate_out;
} tick_cases[] = {
	/* min, max, min_spare, max_spare | total, idle, starting, queued */
	/* start-up: the whole shortfall below min_children at once */
	{ { 5, 10, 1, 5 }, { 0, 0, 0, 0 }, 1, 5, 0, 1 },
	/* short of spares: the rate applies, then doubles */
	{ { 1, 64, 8, 16 }, { 4, 0, 0, 0 }, 1, 1, 0, 2 },
	{ { 1, 64, 8, 16 }, { 5, 1, 0, 0 }, 2, 2, 0, 4 },
	{ { 1, 64, 40, 50 }, { 5, 1, 0, 0 }, 16, 16, 0, 32 },
	/* the rate stops at 32 */
	{ { 1, 256, 100, 200 }, { 5, 0, 0, 0 }, 32, 32, 0, 32 },
	/* never more than the spares still missing */
	{ { 1, 64, 8, 16 }, { 10, 6, 0, 0 }, 8, 2, 0, 16 },
	/* starting children count as spares (Apache) */
	{ { 1, 64, 8, 16 }, { 10, 4, 4, 0 }, 8, 0, 0, 1 },
	/* never beyond max_children */
	{ { 1, 10, 8, 16 }, { 9, 0, 0, 0 }, 8, 1, 0, 16 },
	{ { 1, 10, 8, 16 }, { 10, 0, 0, 0 }, 8, 0, 0, 1 },
	/* surplus idle: retire one a tick, down to min_children */
	{ { 2, 10, 1, 3 }, { 8, 6, 0, 0 }, 1, 0, 1, 1 },
	{ { 6, 10, 1, 3 }, { 6, 6, 0, 0 }, 1, 0, 0, 1 },
	/* not while requests wait */
	{ { 2, 10, 1, 3 }, { 8, 6, 0, 2 }, 1, 0, 0, 1 },
	/* max_spare 0: surplus is never retired */
	{ { 2, 10, 0, 0 }, { 8, 8, 0, 0 }, 1, 0, 0, 1 },
	/* above a lowered max_children: retire one a tick */
	{ { 1, 4, 0, 0 }, { 6, 2, 0, 0 }, 1, 0, 1, 1 },
	/* enough spares resets the rate */
	{ { 1, 10, 2, 5 }, { 4, 3, 0, 0 }, 8, 0, 0, 1 },
};

START_TEST(test_maintain)
{
	struct mpm_plan	p;
	int		rate = tick_cases[_i].rate_in;

	mpm_maintain(&tick_cases[_i].lim, &tick_cases[_i].c, &rate, &p);
	ck_assert_int_eq(p.spawn, tick_cases[_i].spawn);
	ck_assert_int_eq(p.retire, tick_cases[_i].retire);
	ck_assert_int_eq(rate, tick_cases[_i].rate_out);
}
END_TEST

START_TEST(test_on_demand)
{
	struct mpm_limits	lim = { 1, 4, 0, 0 };
	struct mpm_census	c = { 2, 0, 0, 5 };

	ck_assert_int_eq(mpm_on_demand(&lim, &c), 2);	/* room for 2 */
	c.starting = 4;
	ck_assert_int_eq(mpm_on_demand(&lim, &c), 1);
	c.starting = 5;
	ck_assert_int_eq(mpm_on_demand(&lim, &c), 0);	/* covered */
	c.starting = 0;
	c.total = 4;
	ck_assert_int_eq(mpm_on_demand(&lim, &c), 0);	/* at max */
	c.total = 1;
	c.queued = 0;
	ck_assert_int_eq(mpm_on_demand(&lim, &c), 0);
}
END_TEST

START_TEST(test_req_limit)
{
	uint32_t	r;
	int		n, seen_low = 0, seen_high = 0;

	ck_assert_int_eq(mpm_req_limit(1000, 0, 12345), 1000);
	for (r = 0; r < 1000; r++) {
		n = mpm_req_limit(1000, 10, r * 2654435761u);
		ck_assert_int_ge(n, 1000);
		ck_assert_int_le(n, 1010);
		seen_low |= n == 1000;
		seen_high |= n == 1010;
	}
	ck_assert(seen_low && seen_high);
	ck_assert_int_eq(mpm_req_limit(1000000000, 100, 99), 1000000000);
}
END_TEST

START_TEST(test_backoff)
{
	ck_assert_uint_eq(mpm_backoff_ms(0), 0);
	ck_assert_uint_eq(mpm_backoff_ms(1), MPM_BACKOFF_MIN_MS);
	ck_assert_uint_eq(mpm_backoff_ms(2), 2 * MPM_BACKOFF_MIN_MS);
	ck_assert_uint_eq(mpm_backoff_ms(3), 4 * MPM_BACKOFF_MIN_MS);
	ck_assert_uint_eq(mpm_backoff_ms(30), MPM_BACKOFF_MAX_MS);
	ck_assert_uint_eq(mpm_backoff_ms(~0u), MPM_BACKOFF_MAX_MS);
}
END_TEST

static const struct {
	struct mpm_limits	lim;
	int			rc;
} limit_cases[] = {
	{ { 3, 10, 1, 5 }, 0 },
	{ { 0, 1, 0, 0 }, 0 },
	{ { 0, 256, 0, 0 }, 0 },
	{ { 0, 257, 0, 0 }, -EINVAL },
	{ { 0, 0, 0, 0 }, -EINVAL },
	{ { 11, 10, 0, 0 }, -EINVAL },
	{ { -1, 10, 0, 0 }, -EINVAL },
	{ { 1, 10, 5, 5 }, -EINVAL },
	{ { 1, 10, -1, 0 }, -EINVAL },
};

START_TEST(test_limits_check)
{
	char	why[256] = "";

	ck_assert_int_eq(mpm_limits_check(&limit_cases[_i].lim, why,
	    sizeof(why)), limit_cases[_i].rc);
	if (limit_cases[_i].rc != 0)
		ck_assert(strstr(why, "max_children") != NULL);
}
END_TEST

/* ------------------------------------------------------------ frames */

START_TEST(test_frame_big)
{
	size_t		 big = 1024 * 1024 + 17, len;
	struct mpm_frame_in in = { 0 };
	const char	*got;
	char		*out;
	uint32_t	 kind;
	int		 fds[2], st;
	size_t		 i;
	pid_t		 pid;

	out = malloc(big);
	ck_assert_ptr_nonnull(out);
	for (i = 0; i < big; i++)
		out[i] = 'a' + (char)(i % 26);
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		close(fds[0]);
		/* a blocking pipe: each frame goes whole in one call */
		size_t o1 = 0, o2 = 0;

		_exit(mpm_frame_write(fds[1], MPM_FRAME_REQ, out, big, &o1) ==
		    1 && mpm_frame_write(fds[1], MPM_FRAME_RETIRE, NULL, 0,
		    &o2) == 1 ? 0 : 1);
	}
	close(fds[1]);
	in.fd = fds[0];
	ck_assert_int_eq(mpm_frame_next(&in, &kind, &got, &len, big), 0);
	ck_assert_uint_eq(kind, MPM_FRAME_REQ);
	ck_assert_uint_eq(len, big);
	ck_assert(memcmp(got, out, big) == 0);
	ck_assert_int_eq(got[big], '\0');
	ck_assert_int_eq(mpm_frame_next(&in, &kind, &got, &len, big), 0);
	ck_assert_uint_eq(kind, MPM_FRAME_RETIRE);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(got[0], '\0');
	ck_assert_uint_eq(mpm_frame_in_buffered(&in), 0);
	ck_assert_int_eq(mpm_frame_next(&in, &kind, &got, &len, big),
	    -EPIPE);
	mpm_frame_in_free(&in);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fds[0]);
	free(out);
}
END_TEST

START_TEST(test_frame_too_big)
{
	struct mpm_frame_in in = { 0 };
	const char	*got = NULL;
	size_t		 len = 99, off = 0;
	uint32_t	 kind = 99;
	int		 fds[2];

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	in.fd = fds[0];
	ck_assert_int_eq(mpm_frame_write(fds[1], MPM_FRAME_REQ, "hello", 5,
	    &off), 1);
	ck_assert_int_eq(mpm_frame_next(&in, &kind, &got, &len, 4),
	    -EMSGSIZE);
	ck_assert_uint_eq(kind, 99);	/* untouched on error */
	ck_assert_uint_eq(len, 99);
	ck_assert_ptr_null(got);
	close(fds[0]);
	close(fds[1]);
	mpm_frame_in_free(&in);
}
END_TEST

/*
 * The parent's side never blocks: a frame bigger than the pipe is
 * written in parts, each call resuming where the last stopped, and the
 * child reads it whole.
 */
START_TEST(test_frame_nonblocking)
{
	size_t		 big = 300 * 1024, off = 0, len;
	struct mpm_frame_in in = { 0 };
	const char	*got;
	char		*out;
	uint32_t	 kind;
	int		 fds[2], rc, st;
	pid_t		 pid;

	out = malloc(big);
	ck_assert_ptr_nonnull(out);
	memset(out, 'x', big);
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	/* nobody reads yet: the first call fills the pipe and stops */
	ck_assert_int_eq(mpm_frame_write(fds[1], MPM_FRAME_REQ, out, big,
	    &off), 0);
	ck_assert_uint_gt(off, 0);
	ck_assert_uint_lt(off, big);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		/* the child: a blocking reader of the whole frame */
		close(fds[1]);
		ck_assert_int_eq(fcntl(fds[0], F_SETFL, 0), 0);
		in.fd = fds[0];
		_exit(mpm_frame_next(&in, &kind, &got, &len, big) ==
		    0 && len == big && kind == MPM_FRAME_REQ &&
		    memcmp(got, out, big) == 0 ? 0 : 1);
	}
	close(fds[0]);
	while ((rc = mpm_frame_write(fds[1], MPM_FRAME_REQ, out, big,
	    &off)) == 0) {
		struct pollfd p = { fds[1], POLLOUT, 0 };

		ck_assert_int_eq(poll(&p, 1, 10000), 1);
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_uint_eq(off, big + 8);	/* header and payload */
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fds[1]);
	free(out);
}
END_TEST

/*
 * Frames read ahead: three written before the first is read come out
 * one by one from the buffer, each NUL-terminated without harming the
 * next one's first byte, and the buffer says when one is waiting.
 */
START_TEST(test_frame_read_ahead)
{
	struct mpm_frame_in in = { 0 };
	const char	*got;
	size_t		 len, off;
	uint32_t	 kind, why = 7;
	int		 fds[2];

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	in.fd = fds[0];
	off = 0;
	ck_assert_int_eq(mpm_frame_write(fds[1], MPM_FRAME_REQ, "abc", 3,
	    &off), 1);
	off = 0;
	ck_assert_int_eq(mpm_frame_write(fds[1], MPM_FRAME_REQ, "defg", 4,
	    &off), 1);
	off = 0;
	ck_assert_int_eq(mpm_frame_write(fds[1], MPM_FRAME_RETIRE, &why,
	    sizeof(why), &off), 1);
	ck_assert_int_eq(mpm_frame_next(&in, &kind, &got, &len, 100), 0);
	ck_assert_str_eq(got, "abc");
	ck_assert_uint_eq(mpm_frame_in_buffered(&in), 8 + 4 + 8 + 4);
	ck_assert_int_eq(mpm_frame_next(&in, &kind, &got, &len, 100), 0);
	ck_assert_uint_eq(kind, MPM_FRAME_REQ);
	ck_assert_str_eq(got, "defg");
	ck_assert_int_eq(mpm_frame_next(&in, &kind, &got, &len, 100), 0);
	ck_assert_uint_eq(kind, MPM_FRAME_RETIRE);
	ck_assert_uint_eq(len, sizeof(why));
	ck_assert(memcmp(got, &why, sizeof(why)) == 0);
	ck_assert_uint_eq(mpm_frame_in_buffered(&in), 0);
	close(fds[1]);
	ck_assert_int_eq(mpm_frame_next(&in, &kind, &got, &len, 100),
	    -EPIPE);
	close(fds[0]);
	mpm_frame_in_free(&in);
}
END_TEST

START_TEST(test_done_records)
{
	struct mpm_done	d[4], a = { MPM_DONE_READY, 0, 0, 100, 3, 0 };
	struct mpm_done	b = { MPM_DONE_IDLE, MPM_DONE_F_UNSENT, 7, 200, 9, 0 };
	int		fds[2];

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	ck_assert_int_eq(mpm_done_read(fds[0], d, 4), 0);
	ck_assert_int_eq(mpm_done_send(fds[1], &a), 0);
	ck_assert_int_eq(mpm_done_send(fds[1], &b), 0);
	ck_assert_int_eq(mpm_done_send(fds[1], &a), 0);
	/* a batch, then the rest */
	ck_assert_int_eq(mpm_done_read(fds[0], d, 2), 2);
	ck_assert_uint_eq(d[0].kind, MPM_DONE_READY);
	ck_assert_uint_eq(d[0].pid, 100);
	ck_assert_uint_eq(d[0].slot, 3);
	ck_assert_uint_eq(d[1].kind, MPM_DONE_IDLE);
	ck_assert_uint_eq(d[1].flags, MPM_DONE_F_UNSENT);
	ck_assert_uint_eq(d[1].requests, 7);
	ck_assert_uint_eq(d[1].pid, 200);
	ck_assert_uint_eq(d[1].slot, 9);
	ck_assert_int_eq(mpm_done_read(fds[0], d, 4), 1);
	ck_assert_uint_eq(d[0].kind, MPM_DONE_READY);
	ck_assert_int_eq(mpm_done_read(fds[0], d, 4), 0);
	close(fds[1]);
	ck_assert_int_eq(mpm_done_read(fds[0], d, 4), -EPIPE);
	close(fds[0]);
}
END_TEST

Suite *
mpm_pool_suite(void)
{
	Suite	*s = suite_create("mpm_pool");
	TCase	*tc;

	tc = tcase_create("idle");
	tcase_set_tags(tc, "unit");
	tcase_add_test(tc, test_idle_lifo);
	tcase_add_test(tc, test_idle_remove);
	suite_add_tcase(s, tc);

	tc = tcase_create("backlog");
	tcase_set_tags(tc, "unit");
	tcase_add_test(tc, test_fifo);
	suite_add_tcase(s, tc);

	tc = tcase_create("sizing");
	tcase_set_tags(tc, "unit");
	tcase_add_loop_test(tc, test_maintain, 0, ARRAY_LEN(tick_cases));
	tcase_add_test(tc, test_on_demand);
	tcase_add_test(tc, test_req_limit);
	tcase_add_test(tc, test_backoff);
	tcase_add_loop_test(tc, test_limits_check, 0,
	    ARRAY_LEN(limit_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("frames");
	tcase_set_tags(tc, "unit");
	tcase_add_test(tc, test_frame_big);
	tcase_add_test(tc, test_frame_too_big);
	tcase_add_test(tc, test_frame_nonblocking);
	tcase_add_test(tc, test_frame_read_ahead);
	tcase_add_test(tc, test_done_records);
	suite_add_tcase(s, tc);
	return s;
}
