/*
 * test_bus_local.c: the local bus (proto/bus_local.c): names, framing of
 * small and large messages, bytes passed unchanged, bounces, stale and
 * live socket files.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/bus_int.h"

static char	dir[64];

static void
setup(void)
{
	str_copy(dir, "/tmp/drover-lbXXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	ck_assert_int_eq(rmdir(dir), 0);	/* every socket unlinked */
}

/* Wait (bounded by Check's timeout) for one frame. */
static struct bus_frame *
recv_one(struct bus *t)
{
	struct bus_frame *st = NULL;
	struct pollfd	  p;
	int		  rc;

	for (;;) {
		rc = bus_recv(t, &st);
		ck_assert_int_ge(rc, 0);
		if (rc == 1)
			return st;
		p.fd = bus_fd(t);
		p.events = POLLIN;
		ck_assert_int_eq(poll(&p, 1, 10000), 1);
	}
}

/* A client endpoint "opensrf@local/<name>" in dir, not yet open. */
static struct bus *
endpoint(const char *name)
{
	struct bus_params	 p;
	struct bus		*b;

	memset(&p, 0, sizeof(p));
	p.kind = BUS_LOCAL;
	p.local_dir = dir;
	p.role = BUS_ROLE_CLIENT;
	p.resource = name;
	ck_assert_int_eq(bus_new(&p, &b), 0);
	return b;
}

static const struct {
	const char	*xml;
	const char	*to;	/* NULL: none */
} dest_cases[] = {
	{ "<message to=\"a@b/c\" from=\"x\"/>", "a@b/c" },
	{ "<message from='x' to='a@b/c'><body>to=\"no\"</body></message>",
	    "a@b/c" },
	{ "<?xml version='1.0'?><message\nto = \"q@r\">", "q@r" },
	{ "<message xto=\"no\" from=\"x\"/>", NULL },
	{ "<message from=\"x\"><to>no</to></message>", NULL },
	{ "<message to=\"\"/>", NULL },
	{ "garbage", NULL },
};

START_TEST(test_dest)
{
	char	buf[64];
	int	rc;

	rc = localbus_dest(dest_cases[_i].xml, strlen(dest_cases[_i].xml),
	    buf, sizeof(buf));
	if (dest_cases[_i].to == NULL)
		ck_assert_int_eq(rc, -EINVAL);
	else {
		ck_assert_int_eq(rc, (int)strlen(dest_cases[_i].to));
		ck_assert_str_eq(buf, dest_cases[_i].to);
	}
}
END_TEST

START_TEST(test_path)
{
	char	buf[108], longjid[200];

	ck_assert_int_gt(localbus_path("/d", "opensrf@local/x/y", buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/d/opensrf@local+x+y");
	memset(longjid, 'j', sizeof(longjid) - 1);
	longjid[sizeof(longjid) - 1] = '\0';
	ck_assert_int_gt(localbus_path("/d", longjid, buf, sizeof(buf)), 0);
	ck_assert(strncmp(buf, "/d/h-", 5) == 0);
	ck_assert_uint_eq(strlen(buf), 5 + 16);
	ck_assert_int_eq(localbus_path(longjid, "x", buf, sizeof(buf)),
	    -ENAMETOOLONG);
}
END_TEST

START_TEST(test_roundtrip)
{
	struct bus		*a, *b;
	struct bus_frame	*st;
	struct tmsg		 t = TMSG_INIT;
	static const char	 m1[] = "<message to=\"opensrf@local/b\" "
	    "from=\"opensrf@local/a\"><body>[1]</body></message>";
	static const char	 m2[] = "<iq to='opensrf@local/b' type='error'/>";
	char			*big;
	size_t			 n = 3 * 1024 * 1024, hl;
	int			 i;

	a = endpoint("a");
	b = endpoint("b");
	ck_assert_int_eq(bus_open(a, 1000), 0);
	ck_assert_int_eq(bus_open(b, 1000), 0);
	ck_assert_str_eq(bus_addr(b), "opensrf@local/b");
	ck_assert_int_eq(bus_recv(b, &st), 0);	/* nothing yet */
	ck_assert_int_eq(localbus_send_raw(a, m1, strlen(m1)), 0);
	ck_assert_int_eq(localbus_send_raw(a, m2, strlen(m2)), 0);
	st = recv_one(b);
	ck_assert_str_eq(st->raw, m1);
	ck_assert_uint_eq(st->len, strlen(m1));
	ck_assert_uint_eq(st->flags, 0);	/* a message, no error */
	bus_frame_free(&st);
	st = recv_one(b);
	ck_assert_str_eq(st->raw, m2);
	ck_assert_uint_eq(st->flags, BUS_F_OTHER | BUS_F_ERROR);
	bus_frame_free(&st);
	/* an encoded message: from is the sender's own address */
	t.to = "opensrf@local/b";
	t.thread = "T1";
	t.body = "[3]";
	ck_assert_int_eq(bus_send(a, &t), 0);
	st = recv_one(b);
	ck_assert_int_eq(bus_decode(b, st->raw, st->len, &t, NULL), 0);
	ck_assert_str_eq(t.from, "opensrf@local/a");
	ck_assert_str_eq(t.body, "[3]");
	tmsg_clear(&t);
	bus_frame_free(&st);

	/* big: bytes through unchanged, whatever the socket buffers */
	big = malloc(n + 1);
	ck_assert_ptr_nonnull(big);
	hl = (size_t)snprintf(big, n,
	    "<message to=\"opensrf@local/b\"><body>");
	for (i = (int)hl; (size_t)i < n - 20; i++)
		big[i] = 'A' + i % 26;
	strcpy(big + n - 20, "</body></message>");
	if (fork() == 0) {
		/* a sender in another process: the receiver must read
		 * while it writes */
		_exit(localbus_send_raw(a, big, strlen(big)) == 0 ? 0 : 1);
	}
	st = recv_one(b);
	ck_assert_uint_eq(st->len, strlen(big));
	ck_assert(memcmp(st->raw, big, st->len) == 0);
	bus_frame_free(&st);
	free(big);
	ck_assert_int_eq(wait(NULL) > 0, 1);

	bus_free(&a);
	bus_free(&b);
}
END_TEST

START_TEST(test_bounce)
{
	struct bus		*a;
	struct bus_frame	*st;
	static const char	 m[] = "<message to=\"nobody@local/x\" "
	    "from=\"opensrf@local/a\"><thread>T</thread><body>[2]</body>"
	    "</message>";

	a = endpoint("a");
	ck_assert_int_eq(bus_open(a, 1000), 0);
	ck_assert_int_eq(localbus_send_raw(a, m, strlen(m)), 0);
	st = recv_one(a);
	ck_assert_uint_eq(st->flags & BUS_F_ERROR, BUS_F_ERROR);
	ck_assert(strstr(st->raw, "from=\"nobody@local/x\"") != NULL);
	ck_assert(strstr(st->raw, "to=\"opensrf@local/a\"") != NULL);
	ck_assert(strstr(st->raw, "code=\"503\"") != NULL);
	ck_assert(strstr(st->raw, "<thread>T</thread><body>[2]</body>") !=
	    NULL);
	bus_frame_free(&st);
	bus_free(&a);
}
END_TEST

START_TEST(test_names_taken)
{
	struct bus	*a, *a2, *old;

	a = endpoint("a");
	a2 = endpoint("a");
	ck_assert_int_eq(bus_open(a, 1000), 0);
	ck_assert_int_eq(bus_open(a2, 1000), -EADDRINUSE);
	/* forget leaves the file (a forked child's view) ... */
	old = a;
	bus_forget(&old);
	ck_assert_ptr_null(old);
	ck_assert_int_eq(access("/dev/null", F_OK), 0);
	/* ... which is stale now and replaced */
	ck_assert_int_eq(bus_open(a2, 1000), 0);
	bus_free(&a2);
}
END_TEST

Suite *
bus_local_suite(void)
{
	Suite	*s = suite_create("bus_local");
	TCase	*tc;

	tc = tcase_create("names");
	tcase_set_tags(tc, "unit");
	tcase_add_loop_test(tc, test_dest, 0, ARRAY_LEN(dest_cases));
	tcase_add_test(tc, test_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("bus");
	tcase_set_tags(tc, "unit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_bounce);
	tcase_add_test(tc, test_names_taken);
	suite_add_tcase(s, tc);
	return s;
}
