/*
 * test_mpm_recycle.c: when a child retires itself (mpm/mpm_recycle.h),
 * from tables, without forking; and the opensrf.xml keys that feed it
 * (unix_config/max_rss_growth_kb, max_rss_kb, max_child_lifetime,
 * max_child_lifetime_jitter), parsed and validated from memory.
 *
 * TCases: decide (mpm_recycle_why over limits x samples), limits (the
 * lifetime jitter, limits from a svc_conf), config (the keys' defaults,
 * ranges and cross checks).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "mpm/mpm_pool.h"
#include "mpm/mpm_recycle.h"
#include "scoreboard/sb.h"
#include "util.h"

/* ---------------------------------------------------------------- decide */

#define S	1000000ull	/* one second in us */

static const struct {
	const char			*why;
	struct mpm_recycle_limits	 lim;	/* req, growth, rss, life */
	struct mpm_recycle_sample	 x;	/* req, rss, base, age */
	uint32_t			 want;
} why_cases[] = {
	{ "all off", { 0, 0, 0, 0 }, { 1000000, 1u << 30, 1, 9999 * S },
	    SB_EXIT_NONE },
	{ "fresh child", { 1000, 65536, 524288, 3600 * S },
	    { 0, 20000, 20000, 0 }, SB_EXIT_NONE },
	/* max_requests: at the limit, not before */
	{ "one request short", { 1000, 0, 0, 0 }, { 999, 1, 1, 0 },
	    SB_EXIT_NONE },
	{ "max_requests reached", { 1000, 0, 0, 0 }, { 1000, 1, 1, 0 },
	    SB_EXIT_MAX_REQUESTS },
	/* growth: strictly over the baseline plus the limit */
	{ "grown to the limit", { 0, 65536, 0, 0 },
	    { 5, 20000 + 65536, 20000, 0 }, SB_EXIT_NONE },
	{ "grown past the limit", { 0, 65536, 0, 0 },
	    { 5, 20000 + 65537, 20000, 0 }, SB_EXIT_RSS_GROWTH },
	{ "baseline unknown", { 0, 65536, 0, 0 }, { 5, 900000, 0, 0 },
	    SB_EXIT_NONE },
	{ "shrunk below baseline", { 0, 1024, 0, 0 }, { 5, 100, 20000, 0 },
	    SB_EXIT_NONE },
	{ "huge baseline", { 0, 1024, 0, 0 },
	    { 5, UINT64_MAX, UINT64_MAX - 10, 0 }, SB_EXIT_NONE },
	/* absolute: strictly over */
	{ "at max_rss", { 0, 0, 524288, 0 }, { 5, 524288, 1, 0 },
	    SB_EXIT_NONE },
	{ "over max_rss", { 0, 0, 524288, 0 }, { 5, 524289, 1, 0 },
	    SB_EXIT_RSS_MAX },
	/* lifetime: at the limit */
	{ "young", { 0, 0, 0, 3600 * S }, { 5, 1, 1, 3600 * S - 1 },
	    SB_EXIT_NONE },
	{ "old", { 0, 0, 0, 3600 * S }, { 5, 1, 1, 3600 * S },
	    SB_EXIT_LIFETIME },
	/* several at once: the order in the header */
	{ "everything", { 10, 1024, 4096, 1 * S },
	    { 10, 8192, 2048, 2 * S }, SB_EXIT_RSS_MAX },
	{ "growth, requests, age", { 10, 1024, 0, 1 * S },
	    { 10, 8192, 2048, 2 * S }, SB_EXIT_RSS_GROWTH },
	{ "requests and age", { 10, 1024, 0, 1 * S },
	    { 10, 2048, 2048, 2 * S }, SB_EXIT_MAX_REQUESTS },
};

START_TEST(test_why)
{
	uint32_t	got = mpm_recycle_why(&why_cases[_i].lim,
			    &why_cases[_i].x);

	ck_assert_msg(got == why_cases[_i].want, "%s: %s, want %s",
	    why_cases[_i].why, sb_exit_reason_name(got),
	    sb_exit_reason_name(why_cases[_i].want));
	/* every answer is one a death record can show as recycled */
	if (got != SB_EXIT_NONE)
		ck_assert(sb_exit_reason_recycles(got));
}
END_TEST

/* ---------------------------------------------------------------- limits */

START_TEST(test_lifetime_jitter)
{
	uint32_t	r, n;
	int		seen_low = 0, seen_high = 0;

	ck_assert_uint_eq(mpm_lifetime_limit_s(0, 100, 12345), 0);
	ck_assert_uint_eq(mpm_lifetime_limit_s(-5, 100, 12345), 0);
	ck_assert_uint_eq(mpm_lifetime_limit_s(3600, 0, 12345), 3600);
	ck_assert_uint_eq(mpm_lifetime_limit_s(3600, -1, 12345), 3600);
	/* as mpm_req_limit(): lifetime + rnd % (jitter + 1) */
	for (r = 0; r < 1000; r++) {
		n = mpm_lifetime_limit_s(3600, 10, r * 2654435761u);
		ck_assert_uint_ge(n, 3600);
		ck_assert_uint_le(n, 3610);
		ck_assert_uint_eq(n - 3600, (uint32_t)mpm_req_limit(3600, 10,
		    r * 2654435761u) - 3600);
		seen_low |= n == 3600;
		seen_high |= n == 3610;
	}
	ck_assert(seen_low && seen_high);
	ck_assert_uint_eq(mpm_lifetime_limit_s(31536000, 31535999,
	    0xffffffffu), 31536000u + 0xffffffffu % 31536000u);
}
END_TEST

START_TEST(test_limits_set)
{
	struct svc_conf			sc;
	struct mpm_recycle_limits	l;

	memset(&sc, 0, sizeof(sc));
	mpm_recycle_limits_set(&l, &sc, 0, 7);
	ck_assert_uint_eq(l.max_requests, 0);
	ck_assert_uint_eq(l.max_rss_growth_kb, 0);
	ck_assert_uint_eq(l.max_rss_kb, 0);
	ck_assert_uint_eq(l.max_lifetime_us, 0);

	sc.max_rss_growth_kb = 65536;
	sc.max_rss_kb = 524288;
	sc.max_child_lifetime = 3600;
	sc.max_child_lifetime_jitter = 60;
	mpm_recycle_limits_set(&l, &sc, 1042, 61 * 5 + 17);
	ck_assert_uint_eq(l.max_requests, 1042);
	ck_assert_uint_eq(l.max_rss_growth_kb, 65536);
	ck_assert_uint_eq(l.max_rss_kb, 524288);
	ck_assert_uint_eq(l.max_lifetime_us, (3600 + 17) * S);
	mpm_recycle_limits_set(&l, &sc, -3, 0);
	ck_assert_uint_eq(l.max_requests, 0);
	ck_assert_uint_eq(l.max_lifetime_us, 3600 * S);
}
END_TEST

/* ---------------------------------------------------------------- config */

#define SVC_HEAD "<opensrf><default><apps><s><implementation>s.so" \
	"</implementation><unix_config>"
#define SVC_TAIL "</unix_config></s></apps></default></opensrf>"

static const struct {
	const char	*body;
	const char	*msg;		/* NULL: loads */
	int		 growth, rss, life, jitter;
} key_cases[] = {
	{ "", NULL, 0, 0, 0, 0 },
	{ "<max_rss_growth_kb>65536</max_rss_growth_kb>"
	  "<max_rss_kb>524288</max_rss_kb>"
	  "<max_child_lifetime>3600</max_child_lifetime>"
	  "<max_child_lifetime_jitter>600</max_child_lifetime_jitter>",
	  NULL, 65536, 524288, 3600, 600 },
	{ "<max_rss_kb>1073741824</max_rss_kb>", NULL, 0, 1073741824, 0, 0 },
	/* jitter unset: a tenth of the lifetime; 0 when asked for */
	{ "<max_child_lifetime>31536000</max_child_lifetime>", NULL, 0, 0,
	  31536000, 3153600 },
	{ "<max_child_lifetime>3600</max_child_lifetime>"
	  "<max_child_lifetime_jitter>0</max_child_lifetime_jitter>", NULL,
	  0, 0, 3600, 0 },
	{ "<max_child_lifetime>3600</max_child_lifetime>"
	  "<max_child_lifetime_jitter>-1</max_child_lifetime_jitter>", NULL,
	  0, 0, 3600, 360 },
	{ "<max_child_lifetime_jitter>-2</max_child_lifetime_jitter>",
	  "expected an integer from -1 to", 0, 0, 0, 0 },
	/* empty is an error, not the default (cfg.h) */
	{ "<max_rss_growth_kb/>", "max_rss_growth_kb: expected an integer "
	  "from 0 to 1073741824, got an empty element", 0, 0, 0, 0 },
	{ "<max_rss_kb>1073741825</max_rss_kb>", "expected an integer from "
	  "0 to 1073741824", 0, 0, 0, 0 },
	{ "<max_rss_growth_kb>-1</max_rss_growth_kb>", "expected an "
	  "integer from 0 to", 0, 0, 0, 0 },
	{ "<max_child_lifetime>31536001</max_child_lifetime>",
	  "expected an integer from 0 to 31536000", 0, 0, 0, 0 },
	{ "<max_rss_kb>512</max_rss_kb>", "max_rss_kb: expected 0 (off) or "
	  "at least 1024, got 512", 0, 0, 0, 0 },
	{ "<max_rss_growth_kb>100</max_rss_growth_kb>", "max_rss_growth_kb: "
	  "expected 0 (off) or at least 1024", 0, 0, 0, 0 },
	{ "<max_child_lifetime>60</max_child_lifetime>"
	  "<max_child_lifetime_jitter>60</max_child_lifetime_jitter>",
	  "max_child_lifetime_jitter (60) must be less than "
	  "max_child_lifetime (60)", 0, 0, 0, 0 },
	{ "<max_child_lifetime_jitter>5</max_child_lifetime_jitter>",
	  "max_child_lifetime_jitter (5) must be less than "
	  "max_child_lifetime (0)", 0, 0, 0, 0 },
};

START_TEST(test_config_keys)
{
	struct svc_conf	*sc = NULL;
	struct cfg_err	 err = { "" };
	struct cfg_tree	*t = NULL, *m = NULL;
	char		*xml;
	int		 rc;

	xml = xasprintf("%s%s%s", SVC_HEAD, key_cases[_i].body, SVC_TAIL);
	ck_assert_int_eq(cfg_load_mem(xml, strlen(xml), "t.xml", &t, &err),
	    0);
	ck_assert_int_eq(cfg_merge_host(t, "h", &m, &err), 0);
	rc = svc_conf_from_tree(m, "s", &sc, &err);
	if (key_cases[_i].msg == NULL) {
		ck_assert_msg(rc == 0, "%s", err.msg);
		ck_assert_int_eq(sc->max_rss_growth_kb, key_cases[_i].growth);
		ck_assert_int_eq(sc->max_rss_kb, key_cases[_i].rss);
		ck_assert_int_eq(sc->max_child_lifetime, key_cases[_i].life);
		ck_assert_int_eq(sc->max_child_lifetime_jitter,
		    key_cases[_i].jitter);
		svc_conf_free(&sc);
	} else {
		ck_assert_int_eq(rc, -EINVAL);
		ck_assert_ptr_null(sc);
		ck_assert_msg(strstr(err.msg, key_cases[_i].msg) != NULL,
		    "\"%s\" lacks \"%s\"", err.msg, key_cases[_i].msg);
	}
	cfg_tree_free(&m);
	cfg_tree_free(&t);
	free(xml);
}
END_TEST

/* The four keys are drover's, in the service table with a doc line. */
START_TEST(test_config_table)
{
	static const char *const want[] = {
		"unix_config/max_rss_growth_kb", "unix_config/max_rss_kb",
		"unix_config/max_child_lifetime",
		"unix_config/max_child_lifetime_jitter",
	};
	const struct cfg_key	*k;
	size_t			 n, i, j;
	int			 found;

	k = cfg_keys_svc(&n);
	for (i = 0; i < ARRAY_LEN(want); i++) {
		found = 0;
		for (j = 0; j < n; j++) {
			if (strcmp(k[j].path, want[i]) != 0)
				continue;
			found++;
			ck_assert_int_eq(k[j].flags & CFG_K_DROVER,
			    CFG_K_DROVER);
			/* the jitter's -1: a tenth of the lifetime */
			ck_assert_int_eq(k[j].def, i == 3 ? -1 : 0);
			ck_assert_int_eq(k[j].min, i == 3 ? -1 : 0);
			ck_assert_ptr_nonnull(k[j].doc);
		}
		ck_assert_msg(found == 1, "%s in the table %d times", want[i],
		    found);
	}
}
END_TEST

Suite *
mpm_recycle_suite(void)
{
	Suite	*s = suite_create("mpm_recycle");
	TCase	*tc;

	tc = tcase_create("decide");
	tcase_add_loop_test(tc, test_why, 0, ARRAY_LEN(why_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_lifetime_jitter);
	tcase_add_test(tc, test_limits_set);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_add_loop_test(tc, test_config_keys, 0, ARRAY_LEN(key_cases));
	tcase_add_test(tc, test_config_table);
	suite_add_tcase(s, tc);
	return s;
}
