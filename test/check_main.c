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
#include <stdio.h>
#include <stdlib.h>

#define SUITE(name) Suite *name##_suite(void);
#include "suites.inc"
#undef SUITE

/*
 * Check lists every failure in run order; a log that keeps only its
 * last lines (CI's) then shows the last ones, usually a cascade.  Say
 * again, last, which failed first and where.
 */
static void
first_failures(SRunner *sr, int failed)
{
	TestResult	**tr;
	int		  i, n = 0;

	if (failed == 0 || (tr = srunner_failures(sr)) == NULL)
		return;
	printf("\n%d test(s) failed; the first %d:\n", failed,
	    failed < 8 ? failed : 8);
	for (i = 0; i < failed && n < 8; i++, n++)
		printf("  %s:%d: %s: %s\n", tr_lfile(tr[i]), tr_lno(tr[i]),
		    tr_tcname(tr[i]), tr_msg(tr[i]));
	free(tr);
}

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
	first_failures(sr, failed);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
