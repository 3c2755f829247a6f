/*
 * proto_err.c: filling the error report of the proto/ parsers.
 */
#include "proto_err.h"

#include <stdarg.h>
#include <stdio.h>

void
proto_err_clear(struct proto_err *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->reason[0] = '\0';
}

int
proto_err_set(struct proto_err *e, int code, const char *fmt, ...)
{
	va_list	ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	/* Truncation is fine: the reason is for humans. */
	if (vsnprintf(e->reason, sizeof(e->reason), fmt, ap) < 0)
		e->reason[0] = '\0';
	va_end(ap);
	return code;
}
