/*
 * th_cfg.h: helpers for the configuration tests (test_cfg*.c).
 *
 * th_path() gives a file of this checkout (test/run-tests exports
 * DROVER_TOP; "." when run by hand from the top).  th_tree() parses a
 * string and fails the test on error.  Both abort the current test on
 * failure, so callers need not check.
 */
#ifndef DROVER_TH_CFG_H
#define DROVER_TH_CFG_H

#include "cfg.h"

/* "<top>/<rel>" in a static buffer, valid until the next call. */
const char	*th_path(const char *rel);
/* Parse xml (named "t.xml" in messages); the caller frees the tree. */
struct cfg_tree	*th_tree(const char *xml);
/* Does s contain every one of the NULL-terminated needles? */
int		 th_contains(const char *s, ...);

#endif /* DROVER_TH_CFG_H */
