/*
 * test_redis_inbox.c: proto/redis_inbox.c's pure part, the reading of
 * an inbox address and the judgement of its owner (the walk over a real
 * server is test_droverctl.c's "redis" case).
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "proto/redis_inbox.h"
#include "util.h"

static const struct {
	const char	*key;
	int		 rc;
	const char	*host;
	long		 pid;
} parse_cases[] = {
	{ "opensrf:client:opensrf:private.localhost:vm:17432:d6e05e6e", 0,
	  "vm", 17432 },
	{ "opensrf:client:gateway:public.localhost:vm:19090:5328e13a", 0,
	  "vm", 19090 },
	{ "opensrf:client:router:d:h.example:1:x", 0, "h.example", 1 },
	{ "opensrf:client:opensrf:d:vm:17432", -EINVAL, "", 0 },
	{ "opensrf:client:opensrf:d:vm:17432:", -EINVAL, "", 0 },
	{ "opensrf:client:opensrf:d:vm:17432:a:b", -EINVAL, "", 0 },
	{ "opensrf:client:opensrf:d:vm:0:a", -EINVAL, "", 0 },
	{ "opensrf:client:opensrf:d:vm:-5:a", -EINVAL, "", 0 },
	{ "opensrf:client:opensrf:d:vm:12x:a", -EINVAL, "", 0 },
	{ "opensrf:client:opensrf:d::12:a", -EINVAL, "", 0 },
	{ "opensrf:client::d:vm:12:a", -EINVAL, "", 0 },
	{ "opensrf:service:opensrf:d:opensrf.math", -EINVAL, "", 0 },
	{ "", -EINVAL, "", 0 },
};

START_TEST(test_parse)
{
	char	host[32] = "";
	long	pid = 0;

	ck_assert_int_eq(rinbox_parse(parse_cases[_i].key, host, sizeof(host),
	    &pid), parse_cases[_i].rc);
	if (parse_cases[_i].rc == 0) {
		ck_assert_str_eq(host, parse_cases[_i].host);
		ck_assert_int_eq(pid, parse_cases[_i].pid);
	}
}
END_TEST

static int
alive_odd(long pid)
{
	return pid % 2 == 1;
}

START_TEST(test_owner)
{
	ck_assert_int_eq(rinbox_owner("opensrf:client:o:d:vm:3:a", "vm",
	    alive_odd), RINBOX_ALIVE);
	ck_assert_int_eq(rinbox_owner("opensrf:client:o:d:VM:4:a", "vm",
	    alive_odd), RINBOX_GONE);
	ck_assert_int_eq(rinbox_owner("opensrf:client:o:d:other:4:a", "vm",
	    alive_odd), RINBOX_ELSEWHERE);
	ck_assert_int_eq(rinbox_owner("opensrf:client:o:d:vm:x:a", "vm",
	    alive_odd), RINBOX_UNPARSED);
	ck_assert_str_eq(rinbox_owner_name(RINBOX_ELSEWHERE), "other host");
	/* a host name too long for the buffer is no inbox of ours */
	{
		char	host[4];
		long	pid;

		ck_assert_int_eq(rinbox_parse("opensrf:client:o:d:longhost:1:a",
		    host, sizeof(host), &pid), -EINVAL);
	}
}
END_TEST

Suite *
redis_inbox_suite(void)
{
	Suite	*s = suite_create("redis_inbox");
	TCase	*tc = tcase_create("pure");

	tcase_add_loop_test(tc, test_parse, 0, ARRAY_LEN(parse_cases));
	tcase_add_test(tc, test_owner);
	suite_add_tcase(s, tc);
	return s;
}
