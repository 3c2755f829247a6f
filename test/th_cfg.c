/*
 * th_cfg.c: see th_cfg.h.
 */
#include "th_cfg.h"

#include <check.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
th_path(const char *rel)
{
	static char	 buf[PATH_MAX];
	const char	*top = getenv("DROVER_TOP");

	snprintf(buf, sizeof(buf), "%s/%s", top != NULL ? top : ".", rel);
	return buf;
}

struct cfg_tree *
th_tree(const char *xml)
{
	struct cfg_tree	*t = NULL;
	struct cfg_err	 err = { "" };
	int		 rc;

	rc = cfg_load_mem(xml, strlen(xml), "t.xml", &t, &err);
	ck_assert_msg(rc == 0, "cfg_load_mem: %d %s", rc, err.msg);
	return t;
}

int
th_contains(const char *s, ...)
{
	const char	*needle;
	va_list		 ap;
	int		 ok = 1;

	va_start(ap, s);
	while ((needle = va_arg(ap, const char *)) != NULL)
		if (strstr(s, needle) == NULL)
			ok = 0;
	va_end(ap);
	return ok;
}
