/*
 * test_mpm_clients.c: the per-client counts (mpm/mpm_clients.h), from
 * tables: counting up and down, forgetting clients at zero, growth,
 * deletions in the middle of probe runs, and the default shares.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "mpm/mpm_clients.h"
#include "util.h"

START_TEST(test_counts)
{
	struct mpm_clients	c;

	mpm_clients_init(&c);
	ck_assert_uint_eq(mpm_clients_get(&c, "a", MPM_CLIENT_QUEUED), 0);
	ck_assert_int_eq(mpm_clients_add(&c, "a", MPM_CLIENT_QUEUED), 0);
	ck_assert_int_eq(mpm_clients_add(&c, "a", MPM_CLIENT_QUEUED), 0);
	ck_assert_int_eq(mpm_clients_add(&c, "a", MPM_CLIENT_SESSIONS), 0);
	ck_assert_int_eq(mpm_clients_add(&c, "b", MPM_CLIENT_SESSIONS), 0);
	ck_assert_uint_eq(mpm_clients_get(&c, "a", MPM_CLIENT_QUEUED), 2);
	ck_assert_uint_eq(mpm_clients_get(&c, "a", MPM_CLIENT_SESSIONS), 1);
	ck_assert_uint_eq(mpm_clients_get(&c, "b", MPM_CLIENT_QUEUED), 0);
	ck_assert_uint_eq(mpm_clients_size(&c), 2);
	mpm_clients_sub(&c, "a", MPM_CLIENT_QUEUED);
	mpm_clients_sub(&c, "a", MPM_CLIENT_QUEUED);
	mpm_clients_sub(&c, "a", MPM_CLIENT_QUEUED);	/* never below 0 */
	ck_assert_uint_eq(mpm_clients_get(&c, "a", MPM_CLIENT_QUEUED), 0);
	ck_assert_uint_eq(mpm_clients_size(&c), 2);	/* a holds a session */
	mpm_clients_sub(&c, "a", MPM_CLIENT_SESSIONS);
	ck_assert_uint_eq(mpm_clients_size(&c), 1);	/* a forgotten */
	mpm_clients_sub(&c, "nobody", MPM_CLIENT_QUEUED);
	mpm_clients_sub(&c, "b", MPM_CLIENT_SESSIONS);
	ck_assert_uint_eq(mpm_clients_size(&c), 0);
	mpm_clients_free(&c);
}
END_TEST

/*
 * Many clients, removed in an order that cuts probe runs in the middle:
 * every remaining client keeps its count (backward-shift deletion).
 */
START_TEST(test_many)
{
	struct mpm_clients	c;
	char			a[32];
	int			i, n = 1000;

	mpm_clients_init(&c);
	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "client%d@x/y", i);
		ck_assert_int_eq(mpm_clients_add(&c, a, MPM_CLIENT_QUEUED), 0);
		if (i % 3 == 0)
			ck_assert_int_eq(mpm_clients_add(&c, a,
			    MPM_CLIENT_QUEUED), 0);
	}
	ck_assert_uint_eq(mpm_clients_size(&c), (size_t)n);
	ck_assert_uint_ge(c.cap * 3, (size_t)n * 4);	/* load <= 3/4 */
	for (i = 0; i < n; i += 2) {
		snprintf(a, sizeof(a), "client%d@x/y", i);
		mpm_clients_sub(&c, a, MPM_CLIENT_QUEUED);
		if (i % 3 == 0)
			mpm_clients_sub(&c, a, MPM_CLIENT_QUEUED);
	}
	ck_assert_uint_eq(mpm_clients_size(&c), (size_t)n / 2);
	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "client%d@x/y", i);
		ck_assert_uint_eq(mpm_clients_get(&c, a, MPM_CLIENT_QUEUED),
		    i % 2 == 0 ? 0 : i % 3 == 0 ? 2 : 1);
	}
	mpm_clients_free(&c);
	ck_assert_uint_eq(mpm_clients_size(&c), 0);
}
END_TEST

static const struct {
	int		configured, total;
	uint32_t	share;
} share_vec[] = {
	{ 0, 10, 5 },
	{ 0, 1, 1 },
	{ 0, 0, 1 },
	{ 0, 1000, 500 },
	{ 3, 10, 3 },
	{ 300, 10, 300 },
};

START_TEST(test_share)
{
	ck_assert_uint_eq(mpm_clients_share(share_vec[_i].configured,
	    share_vec[_i].total), share_vec[_i].share);
}
END_TEST

Suite *
mpm_clients_suite(void)
{
	Suite	*s = suite_create("mpm_clients");
	TCase	*tc;

	tc = tcase_create("counts");
	tcase_set_tags(tc, "unit");
	tcase_add_test(tc, test_counts);
	tcase_add_test(tc, test_many);
	tcase_add_loop_test(tc, test_share, 0, ARRAY_LEN(share_vec));
	suite_add_tcase(s, tc);
	return s;
}
