/*
 * hello.c: a minimal drover service plugin, built out of tree against
 * the installed header (see Makefile here):
 *
 *	example.hello  name      -> "Hello, <name>!" (greeting configurable)
 *	example.count  n         -> 1, 2, ..., n (streaming: also
 *	                            example.count.atomic -> [1, ..., n])
 *
 * Configure it in opensrf.xml like any service:
 *	<example.hello>
 *	  <language>c</language>
 *	  <implementation>/path/to/example.hello.so</implementation>
 *	  <app_settings><greeting>Hello</greeting></app_settings>
 *	</example.hello>
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <drover/service.h>

static int
hello(struct drover_req *req, void *user)
{
	const json_t	*set = drover_svc_settings(drover_req_svc(req));
	const char	*greeting, *name;

	(void)user;	/* no per-method data registered */
	/* borrowed: valid until we return, never freed by us */
	name = json_string_value(drover_req_param(req, 0));
	if (name == NULL)
		return drover_req_error(req, 400, "example.hello: the name "
		    "must be a string");
	greeting = json_string_value(json_object_get(set, "greeting"));
	if (greeting == NULL)
		greeting = "Hello";
	/* json_sprintf() makes a new reference; _new steals it */
	return drover_respond_new(req, json_sprintf("%s, %s!", greeting,
	    name));
}

static int
count(struct drover_req *req, void *user)
{
	json_int_t	n, i;
	int		rc;

	(void)user;	/* no per-method data registered */
	n = json_integer_value(drover_req_param(req, 0));
	if (n < 0 || n > 1000)
		return drover_req_error(req, 400, "example.count: n must be "
		    "from 0 to 1000");
	for (i = 1; i <= n; i++)
		if ((rc = drover_respond_new(req, json_integer(i))) < 0)
			return rc;
	return 0;	/* drover sends the final STATUS 205 */
}

static int
init(struct drover_svc *svc)
{
	int	rc;

	if ((rc = drover_register_method(svc, "example.hello", hello,
	    "Greets the given name", 1, 0, NULL)) < 0)
		return rc;
	return drover_register_method(svc, "example.count", count,
	    "Counts from 1 to n, one result each", 1,
	    DROVER_METHOD_STREAMING, NULL);
}

static int
child_init(struct drover_svc *svc)
{
	drover_log(DROVER_LOG_INFO, "%s: child ready", drover_svc_name(svc));
	return 0;
}

DROVER_SERVICE("example.hello", init, child_init, NULL);
