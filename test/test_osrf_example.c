/*
 * test_osrf_example.c: droverd on the settings an OpenSRF site already
 * has.  test/data/opensrf_example.xml holds the apps section of
 * OpenSRF's stock example for opensrf.math and opensrf.dbmath, with
 * OpenSRF's library names (libosrf_math.so, libosrf_dbmath.so), read
 * unchanged: droverd --check accepts both services, and both start on
 * the local bus and answer.
 *
 * Each service runs under its own instance ("oe<pid>"), so no other
 * droverd on the machine is met; opensrf.math's own methods call
 * opensrf.dbmath by its plain name, so the call here goes to each
 * service directly (opensrf.dbmath's add, opensrf.math's echo).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "th_cfg.h"
#include "th_droverd.h"
#include "util.h"

#define WAIT_MS		15000
/* min_children of both services in the example file */
#define EX_MIN_CHILDREN	5

static const char *const services[] = { "opensrf.math", "opensrf.dbmath" };

static struct th_droverd D;

static void
teardown(void)
{
	th_droverd_cleanup(&D);
}

/* The core file: ours (the local bus), its settings the example's. */
static void
setup_service(const char *service)
{
	char	 inst[32];
	FILE	*f;

	memset(&D, 0, sizeof(D));
	snprintf(inst, sizeof(inst), "oe%d", (int)getpid());
	th_droverd_prepare(&D, service, inst);
	f = fopen(D.core, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "<?xml version=\"1.0\"?>\n<config><opensrf>"
	    "<domain>local</domain><username>opensrf</username>"
	    "<passwd>x</passwd><port>5222</port>"
	    "<logfile>%s</logfile><loglevel>3</loglevel>"
	    "<settings_config>%s</settings_config>"
	    "<allow_root>true</allow_root>"
	    "</opensrf></config>\n", D.log,
	    th_path("test/data/opensrf_example.xml"));
	ck_assert_int_eq(fclose(f), 0);
}

static char *
slurp(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*buf = xcalloc(1, 65536);
	size_t	 n;

	ck_assert_msg(f != NULL, "%s", path);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(test_check)
{
	const char	*extra[] = { "--check", NULL };
	char		*out, path[160], want[128];
	int		 st;

	setup_service(services[_i]);
	D.pid = th_droverd_exec(&D, extra);
	st = th_droverd_wait_exit(&D, WAIT_MS);
	snprintf(path, sizeof(path), "%s/stderr.log", D.dir);
	out = slurp(path);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "droverd --check -s %s: status 0x%x: %s", services[_i], st, out);
	snprintf(want, sizeof(want), "implementation libosrf_%s.so\n",
	    strchr(services[_i], '.') + 1);
	ck_assert_msg(strstr(out, want) != NULL, "no \"%s\" in %s", want,
	    out);
	ck_assert_ptr_nonnull(strstr(out, "min_children 5\n"));
	ck_assert_ptr_nonnull(strstr(out, "configuration OK"));
	free(out);
}
END_TEST

START_TEST(test_serve)
{
	struct th_reply	r;
	char		want[160];

	setup_service(services[_i]);
	th_droverd_run(&D, EX_MIN_CHILDREN);
	snprintf(want, sizeof(want), "plugin %s/%s.so loaded",
	    getenv("DROVER_LIB") != NULL ? getenv("DROVER_LIB") : "lib",
	    services[_i]);
	th_wait_log(&D, want, WAIT_MS);
	if (_i == 1) {
		th_call(&D, "add", "[2,2]", &r, WAIT_MS);
		ck_assert_int_eq(r.code, 205);
		ck_assert_str_eq(r.content, "4");
	} else {
		th_call(&D, "opensrf.system.echo", "[\"osrf\"]", &r, WAIT_MS);
		ck_assert_int_eq(r.code, 205);
		ck_assert_str_eq(r.content, "\"osrf\"");
	}
	th_reply_free(&r);
	ck_assert_int_eq(WEXITSTATUS(th_droverd_stop(&D, SIGTERM, WAIT_MS)),
	    0);
}
END_TEST

Suite *
osrf_example_suite(void)
{
	Suite	*s = suite_create("osrf_example");
	TCase	*tc;

	tc = tcase_create("unchanged");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_check, 0, ARRAY_LEN(services));
	tcase_add_loop_test(tc, test_serve, 0, ARRAY_LEN(services));
	suite_add_tcase(s, tc);
	return s;
}
