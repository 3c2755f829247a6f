/*
 * test_servers.c: the private test servers themselves (test/servers/).
 *
 * Proves the harness every integration test relies on: each server
 * starts once, answers on its port, and can be restarted in place.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "th_servers.h"

static int
tcp_accepts(int port)
{
	struct sockaddr_in	sin;
	int			fd, rc;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return rc == 0;
}

static const enum th_server_kind all_kinds[] = {
	TH_EJABBERD, TH_PROSODY, TH_MEMCACHED
};

START_TEST(test_server_listens)
{
	const struct th_server	*s = th_server(all_kinds[_i]);

	ck_assert_int_gt(s->port, 0);
	ck_assert(s->started);
	ck_assert_msg(tcp_accepts(s->port), "port %d refuses", s->port);
}
END_TEST

START_TEST(test_memcached_restart)
{
	const struct th_server	*s = th_server(TH_MEMCACHED);
	int			 port = s->port;

	ck_assert_int_eq(th_server_stop(TH_MEMCACHED), 0);
	ck_assert(!tcp_accepts(port));
	ck_assert_int_eq(th_server_start_again(TH_MEMCACHED), 0);
	ck_assert(tcp_accepts(port));
}
END_TEST

Suite *
servers_suite(void)
{
	Suite	*s = suite_create("servers");
	TCase	*tc;

	tc = tcase_create("running");
	tcase_set_tags(tc, "integration");
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_unchecked_fixture(tc, th_prosody_setup, NULL);
	tcase_add_unchecked_fixture(tc, th_memcached_setup, NULL);
	tcase_add_loop_test(tc, test_server_listens, 0,
	    (int)(sizeof(all_kinds) / sizeof(all_kinds[0])));
	tcase_add_test(tc, test_memcached_restart);
	suite_add_tcase(s, tc);
	return s;
}
