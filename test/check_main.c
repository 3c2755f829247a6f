/*
 * check_main.c: the runner for every Check suite in test/.
 *
 * The suite list is generated at build time (test/list-suites) from the
 * `Suite *<name>_suite(void)` constructors, so adding a test file is
 * enough to have it run.  Tags select unit or integration cases through
 * Check's own CK_INCLUDE_TAGS / CK_EXCLUDE_TAGS; CK_RUN_SUITE and
 * CK_RUN_CASE pick single suites or cases.  The exit status is 0 only
 * when every selected test passed.
 */
#include <check.h>
#include <stdlib.h>

#define SUITE(name) Suite *name##_suite(void);
#include "suites.inc"
#undef SUITE

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(NULL);
#define SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.inc"
#undef SUITE
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
