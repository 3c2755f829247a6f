/*
 * dbmath.c: opensrf.dbmath, the arithmetic behind opensrf.math (spec 4.4).
 *
 * Methods add, sub, mult, div (argc 2, not streaming) parse both
 * parameters as doubles (JSON numbers, or strings holding one, as
 * opensrf.math may pass either) and answer one number, as OpenSRF's
 * C dbmath does with "%.30g": integral results within 2^53 are sent as
 * JSON integers (4, not 4.0), the rest as reals that drover's JSON writer
 * prints with 30 significant digits (1/3 ->
 * 0.333333333333333314829616256247).
 *
 * Deliberate difference: a non-finite result (division by zero,
 * overflow) is STATUS 400 osrfMethodException, never the invalid JSON
 * "inf" OpenSRF sends (spec 9.16); a parameter that is not a number is
 * also 400 (OpenSRF would compute with 0).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <drover/service.h>

/* Largest magnitude below which every integer is exact in a double. */
#define EXACT_INT_MAX	9007199254740992.0	/* 2^53 */

enum op { OP_ADD, OP_SUB, OP_MULT, OP_DIV };

static const struct {
	const char	*name;
	const char	*notes;
} ops[] = {
	[OP_ADD] = { "add", "Adds two numbers" },
	[OP_SUB] = { "sub", "Subtracts two numbers" },
	[OP_MULT] = { "mult", "Multiplies two numbers" },
	[OP_DIV] = { "div", "Divides two numbers" },
};

static int
to_double(const json_t *v, double *out)
{
	const char	*s;
	char		*end;

	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if ((s = json_string_value(v)) == NULL || *s == '\0')
		return -EINVAL;
	errno = 0;
	*out = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE)
		return -EINVAL;
	return 0;
}

static int
dbmath_run(struct drover_req *req, void *user)
{
	enum op	 op = (enum op)(uintptr_t)user;
	double	 a, b, r;

	if (to_double(drover_req_param(req, 0), &a) < 0 ||
	    to_double(drover_req_param(req, 1), &b) < 0)
		return drover_req_error(req, 400, "%s: both parameters must "
		    "be numbers", ops[op].name);
	switch (op) {
	case OP_ADD:
		r = a + b;
		break;
	case OP_SUB:
		r = a - b;
		break;
	case OP_MULT:
		r = a * b;
		break;
	default:
		if (b == 0.0)
			return drover_req_error(req, 400, "div: division by "
			    "zero");
		r = a / b;
		break;
	}
	if (!isfinite(r))
		return drover_req_error(req, 400, "%s: the result is not a "
		    "finite number", ops[op].name);
	if (r == floor(r) && fabs(r) < EXACT_INT_MAX)
		return drover_respond_complete_new(req,
		    json_integer((json_int_t)r));
	return drover_respond_complete_new(req, json_real(r));
}

static int
dbmath_init(struct drover_svc *svc)
{
	size_t	i;
	int	rc;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		rc = drover_register_method(svc, ops[i].name, dbmath_run,
		    ops[i].notes, 2, 0, (void *)(uintptr_t)i);
		if (rc < 0)
			return rc;
	}
	return 0;
}

DROVER_SERVICE("opensrf.dbmath", dbmath_init, NULL, NULL);
