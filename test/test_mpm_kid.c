/*
 * test_mpm_kid.c: the parent's child state machine (mpm/mpm_kid.h),
 * from tables: every (state, event) pair, the "retiring" rule, and the
 * lives a child leads, without forking.
 */
#include <check.h>
#include <errno.h>

#include "mpm/mpm_kid.h"

#define X	(-1)	/* illegal */

/*
 * Expected next state for every state and event, retiring not set;
 * columns in enum mpm_kid_event order: spawn, ready, dispatch, done,
 * done-last, bus-down, bus-up, retire, gone, reaped.
 */
static const int expect[KID_NSTATES][KEV_NEVENTS] = {
	[KID_FREE] = { KID_STARTING, X, X, X, X, X, X, X, X, X },
	[KID_STARTING] = { X, KID_IDLE, X, X, X, KID_STARTING, KID_STARTING,
	    KID_EXITING, KID_EXITING, KID_FREE },
	[KID_IDLE] = { X, X, KID_BUSY, X, X, KID_NOBUS, KID_IDLE,
	    KID_EXITING, KID_EXITING, KID_FREE },
	[KID_NOBUS] = { X, X, X, X, X, KID_NOBUS, KID_IDLE, KID_EXITING,
	    KID_EXITING, KID_FREE },
	[KID_BUSY] = { X, X, X, KID_IDLE, KID_EXITING, KID_BUSY, KID_BUSY,
	    KID_BUSY, KID_EXITING, KID_FREE },
	[KID_EXITING] = { X, X, X, KID_EXITING, KID_EXITING, KID_EXITING,
	    KID_EXITING, KID_EXITING, KID_EXITING, KID_FREE },
};

START_TEST(test_table)
{
	struct mpm_kid_fsm	k;
	int			s, e, rc;

	for (s = 0; s < KID_NSTATES; s++)
		for (e = 0; e < KEV_NEVENTS; e++) {
			k.state = (enum mpm_kid_state)s;
			k.retiring = 0;
			rc = mpm_kid_step(&k, (enum mpm_kid_event)e);
			if (expect[s][e] == X) {
				ck_assert_msg(rc == -EINVAL && k.state ==
				    (enum mpm_kid_state)s, "%s on %s: "
				    "accepted", mpm_kid_event_name(e),
				    mpm_kid_state_name(s));
				continue;
			}
			ck_assert_msg(rc == 0, "%s on %s: refused",
			    mpm_kid_event_name(e), mpm_kid_state_name(s));
			ck_assert_msg(k.state == (enum mpm_kid_state)
			    expect[s][e], "%s on %s: %s", mpm_kid_event_name(e),
			    mpm_kid_state_name(s), mpm_kid_state_name(k.state));
		}
}
END_TEST

/* A retiring child never becomes ready for work again. */
START_TEST(test_retiring)
{
	static const struct {
		enum mpm_kid_state	from;
		enum mpm_kid_event	ev;
	} cases[] = {
		{ KID_BUSY, KEV_DONE },
		{ KID_STARTING, KEV_READY },
		{ KID_NOBUS, KEV_BUS_UP },
		{ KID_IDLE, KEV_BUS_DOWN },
	};
	struct mpm_kid_fsm	k;
	size_t			i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k.state = cases[i].from;
		k.retiring = 1;
		ck_assert_int_eq(mpm_kid_step(&k, cases[i].ev), 0);
		ck_assert_int_eq(k.state, KID_EXITING);
		ck_assert_int_eq(k.retiring, 1);
	}
	/* RETIRE is what sets it; SPAWN and REAPED clear it */
	k.state = KID_BUSY;
	k.retiring = 0;
	ck_assert_int_eq(mpm_kid_step(&k, KEV_RETIRE), 0);
	ck_assert_int_eq(k.state, KID_BUSY);
	ck_assert_int_eq(k.retiring, 1);
	ck_assert_int_eq(mpm_kid_step(&k, KEV_REAPED), 0);
	ck_assert_int_eq(k.state, KID_FREE);
	ck_assert_int_eq(k.retiring, 0);
}
END_TEST

/* Whole lives, as event sequences, ending where they should. */
static const struct {
	const char		*name;
	enum mpm_kid_event	 ev[8];
	int			 n;
	enum mpm_kid_state	 end;
	int			 refused;	/* index refused, or -1 */
} lives[] = {
	{ "serves and recycles", { KEV_SPAWN, KEV_READY, KEV_DISPATCH,
	    KEV_DONE, KEV_DISPATCH, KEV_DONE_LAST, KEV_REAPED }, 7, KID_FREE,
	    -1 },
	{ "retired while busy", { KEV_SPAWN, KEV_READY, KEV_DISPATCH,
	    KEV_RETIRE, KEV_DONE, KEV_GONE, KEV_REAPED }, 7, KID_FREE, -1 },
	{ "loses and regains its bus", { KEV_SPAWN, KEV_READY, KEV_BUS_DOWN,
	    KEV_BUS_UP, KEV_DISPATCH }, 5, KID_BUSY, -1 },
	{ "no dispatch without a bus", { KEV_SPAWN, KEV_READY, KEV_BUS_DOWN,
	    KEV_DISPATCH }, 4, KID_NOBUS, 3 },
	{ "dies busy", { KEV_SPAWN, KEV_READY, KEV_DISPATCH, KEV_REAPED }, 4,
	    KID_FREE, -1 },
	{ "no dispatch before ready", { KEV_SPAWN, KEV_DISPATCH }, 2,
	    KID_STARTING, 1 },
	{ "no dispatch once exiting", { KEV_SPAWN, KEV_READY, KEV_RETIRE,
	    KEV_DISPATCH }, 4, KID_EXITING, 3 },
	{ "done without a request", { KEV_SPAWN, KEV_READY, KEV_DONE }, 3,
	    KID_IDLE, 2 },
};

START_TEST(test_lives)
{
	struct mpm_kid_fsm	k = { KID_FREE, 0 };
	int			i, rc;

	for (i = 0; i < lives[_i].n; i++) {
		rc = mpm_kid_step(&k, lives[_i].ev[i]);
		ck_assert_msg((rc < 0) == (i == lives[_i].refused),
		    "%s: step %d (%s) %s", lives[_i].name, i,
		    mpm_kid_event_name(lives[_i].ev[i]), rc < 0 ? "refused" :
		    "accepted");
	}
	ck_assert_msg(k.state == lives[_i].end, "%s: ends %s",
	    lives[_i].name, mpm_kid_state_name(k.state));
}
END_TEST

Suite *
mpm_kid_suite(void)
{
	Suite	*s = suite_create("mpm_kid");
	TCase	*tc;

	tc = tcase_create("fsm");
	tcase_set_tags(tc, "unit");
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_retiring);
	tcase_add_loop_test(tc, test_lives, 0,
	    (int)(sizeof(lives) / sizeof(lives[0])));
	suite_add_tcase(s, tc);
	return s;
}
