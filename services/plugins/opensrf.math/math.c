/*
 * math.c: opensrf.math, OpenSRF's example service (spec 4.4).
 *
 * Methods add, sub, mult, div (argc 2) each make a stateless sub-request
 * with the same method name and the first two parameters to
 * opensrf.dbmath, wait up to 60 s, and answer dbmath's result with
 * respond-complete.  An error status from dbmath is passed on with its
 * code and text; no answer is STATUS 504 (OpenSRF would wait the same
 * 60 s and then send 404 "An unknown server error occurred").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <drover/service.h>

/* OpenSRF's opensrf.math waits this long for opensrf.dbmath. */
#define DBMATH_TIMEOUT_MS	60000

static const char *const names[] = { "add", "sub", "mult", "div" };
static const char *const notes[] = {
	"Adds two numbers", "Subtracts two numbers",
	"Multiplies two numbers", "Divides two numbers",
};

static int
math_run(struct drover_req *req, void *user)
{
	struct drover_svc	*svc = drover_req_svc(req);
	json_t			*params, *res = NULL;
	char			*text = NULL;
	int			 code = 0, rc;

	params = json_pack("[OO]", drover_req_param(req, 0),
	    drover_req_param(req, 1));
	if (params == NULL)
		return -ENOMEM;
	rc = drover_call(svc, "opensrf.dbmath", drover_req_method(req),
	    params, DBMATH_TIMEOUT_MS, &res, &code, &text);
	json_decref(params);
	if (rc == -EREMOTEIO) {
		rc = drover_req_error(req, code, "%s",
		    text != NULL ? text : "opensrf.dbmath failed");
		free(text);
		return rc;
	}
	free(text);
	if (rc < 0)
		return drover_req_error(req, rc == -ETIMEDOUT ? 504 : 500,
		    "opensrf.dbmath did not answer: %s", strerror(-rc));
	return drover_respond_complete_new(req, res);
}

static int
math_init(struct drover_svc *svc)
{
	size_t	i;
	int	rc;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		rc = drover_register_method(svc, names[i], math_run, notes[i],
		    2, 0, NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}

DROVER_SERVICE("opensrf.math", math_init, NULL, NULL);
