/*
 * test_util.c: common/util.c and common/log.c.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

START_TEST(test_str_copy)
{
	char	buf[4];

	ck_assert_uint_eq(str_copy(buf, "ab", sizeof(buf)), 2);
	ck_assert_str_eq(buf, "ab");
	ck_assert_uint_eq(str_copy(buf, "abcdef", sizeof(buf)), 6);
	ck_assert_str_eq(buf, "abc");
	buf[0] = 'x';
	ck_assert_uint_eq(str_copy(buf, "abc", 0), 3);
	ck_assert_int_eq(buf[0], 'x');
}
END_TEST

static const struct {
	const char	*in;
	long long	 min, max;
	int		 rc;
	long long	 out;
} ll_cases[] = {
	{ "42", 0, 100, 0, 42 },
	{ " 7\n", 0, 100, 0, 7 },
	{ "-1", 0, 100, -ERANGE, 0 },
	{ "101", 0, 100, -ERANGE, 0 },
	{ "", 0, 100, -EINVAL, 0 },
	{ "12abc", 0, 100, -EINVAL, 0 },
	{ "0x10", 0, 100, -EINVAL, 0 },
	{ "99999999999999999999", 0, LLONG_MAX, -ERANGE, 0 },
};

START_TEST(test_parse_ll)
{
	long long	v = -999;
	int		rc;

	rc = parse_ll(ll_cases[_i].in, ll_cases[_i].min, ll_cases[_i].max, &v);
	ck_assert_int_eq(rc, ll_cases[_i].rc);
	if (rc == 0)
		ck_assert_int_eq(v, ll_cases[_i].out);
	else
		ck_assert_int_eq(v, -999);	/* untouched on error */
}
END_TEST

START_TEST(test_fd_close)
{
	int	fds[2];

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	fd_close(&fds[0]);
	ck_assert_int_eq(fds[0], -1);
	fd_close(&fds[0]);		/* second close is a no-op */
	ck_assert_int_eq(fds[0], -1);
	fd_close(&fds[1]);
}
END_TEST

START_TEST(test_read_write_full)
{
	int	fds[2];
	char	out[5];

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	ck_assert_int_eq(write_full(fds[1], "hello", 5), 0);
	fd_close(&fds[1]);
	ck_assert_int_eq(read_full(fds[0], out, 5), 0);
	ck_assert_int_eq(memcmp(out, "hello", 5), 0);
	ck_assert_int_eq(read_full(fds[0], out, 1), -EPIPE);
	fd_close(&fds[0]);
}
END_TEST

START_TEST(test_log_file_format)
{
	char			 path[] = "/tmp/drover-logtest-XXXXXX";
	struct log_conf		 lc = { 0 };
	char			 buf[1024];
	ssize_t			 n;
	int			 fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	log_init("logtest");
	lc.file = path;
	lc.level = LOGL_INFO;
	ck_assert_int_eq(log_open(&lc), 0);
	log_info("first %d", 1);
	log_debug("not written");
	log_set_xid("17956");
	errno = ENOENT;
	log_warn("open(%s)", "x");
	log_set_xid(NULL);
	log_close();
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, " logtest["));
	ck_assert_ptr_nonnull(strstr(buf, "]: INFO first 1\n"));
	ck_assert_ptr_null(strstr(buf, "not written"));
	ck_assert_ptr_nonnull(strstr(buf,
	    "WARN [17956] open(x): No such file or directory\n"));
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(test_log_levels)
{
	struct log_conf	lc = { .file = "stderr", .level = 6 };

	ck_assert_int_eq(log_open(&lc), -EINVAL);
	lc.level = LOGL_WARNING;
	ck_assert_int_eq(log_open(&lc), 0);
	ck_assert(log_enabled(LOGL_ERROR));
	ck_assert(log_enabled(LOGL_WARNING));
	ck_assert(!log_enabled(LOGL_INFO));
	log_set_level(LOGL_NONE);
	ck_assert(!log_enabled(LOGL_ERROR));
	ck_assert_int_eq(log_facility_parse("LOCAL3") >= 0, 1);
	ck_assert_int_eq(log_facility_parse("nope"), -EINVAL);
}
END_TEST

Suite *
util_suite(void)
{
	Suite	*s = suite_create("util");
	TCase	*tc = tcase_create("util");

	tcase_add_test(tc, test_str_copy);
	tcase_add_loop_test(tc, test_parse_ll, 0, ARRAY_LEN(ll_cases));
	tcase_add_test(tc, test_fd_close);
	tcase_add_test(tc, test_read_write_full);
	tcase_add_test(tc, test_log_file_format);
	tcase_add_test(tc, test_log_levels);
	suite_add_tcase(s, tc);
	return s;
}
