/*
 * rt_sysmethods.c: the opensrf.system.* methods every service answers.
 *
 * Registered after the service's own methods, in OpenSRF's order (spec
 * 4.3): opensrf.system.method (argc 1) and .atomic,
 * opensrf.system.method.all and .atomic, opensrf.system.echo and
 * .atomic, then opensrf.system.time, which C OpenSRF services lack but
 * Perl ones have (epoch seconds, not streaming), so clients can use it
 * on any service.
 *
 * Introspection results are unhinted objects with OpenSRF's keys in its
 * order: api_name, method (the handler's symbol in OpenSRF; null here, as
 * plugins register function pointers, not symbol names), service, notes,
 * argc, sysmethod, atomic, cachable.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "services/runtime/rt_req.h"
#include "services/runtime/rt_svc.h"

static json_t *
describe(const struct drover_svc *s, const struct rt_method *m)
{
	return json_pack("{s:s, s:n, s:s, s:s, s:i, s:i, s:i, s:i}",
	    "api_name", m->name,
	    "method",
	    "service", s->name,
	    "notes", m->notes,
	    "argc", m->argc,
	    "sysmethod", (m->flags & RT_METHOD_SYSTEM) ? 1 : 0,
	    "atomic", (m->flags & RT_METHOD_ATOMIC) ? 1 : 0,
	    "cachable", (m->flags & DROVER_METHOD_CACHABLE) ? 1 : 0);
}

/* One RESULT per method whose name starts with prefix (NULL: all). */
static int
list_methods(struct drover_req *r, const struct drover_svc *s,
    const char *prefix)
{
	size_t	i, plen = prefix != NULL ? strlen(prefix) : 0;
	int	rc;

	for (i = 0; i < s->nmethods; i++) {
		if (plen > 0 && strncmp(s->methods[i].name, prefix, plen) != 0)
			continue;
		rc = drover_respond_new(r, describe(s, &s->methods[i]));
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
sys_method(struct drover_req *r, const struct drover_svc *s)
{
	const char	*prefix;

	prefix = json_string_value(drover_req_param(r, 0));
	if (prefix == NULL)
		return drover_req_error(r, 400, "opensrf.system.method: the "
		    "parameter must be a string (a method name prefix)");
	return list_methods(r, s, prefix);
}

static int
sys_method_all(struct drover_req *r, const struct drover_svc *s)
{
	return list_methods(r, s, NULL);
}

static int
sys_echo(struct drover_req *r, const struct drover_svc *s)
{
	size_t	 i;
	json_t	*p;
	int	 rc;

	json_array_foreach(drover_req_params(r), i, p) {
		if ((rc = drover_respond(r, p)) < 0)
			return rc;
	}
	return 0;
}

static int
sys_time(struct drover_req *r, const struct drover_svc *s)
{
	return drover_respond_new(r, json_integer((json_int_t)time(NULL)));
}

int
rt_sys_register(struct drover_svc *s)
{
	static const struct {
		const char	*name;
		rt_sys_fn	 fn;
		int		 argc;
		unsigned	 flags;
		const char	*notes;
	} sys[] = {
		{ "opensrf.system.method", sys_method, 1,
		    DROVER_METHOD_STREAMING,
		    "Describes the methods whose names start with the given "
		    "prefix" },
		{ "opensrf.system.method.all", sys_method_all, 0,
		    DROVER_METHOD_STREAMING,
		    "Describes every method of this service" },
		{ "opensrf.system.echo", sys_echo, 0,
		    DROVER_METHOD_STREAMING,
		    "Returns each parameter as one result" },
		{ "opensrf.system.time", sys_time, 0, 0,
		    "Returns the server's time in epoch seconds" },
	};
	size_t	i;
	int	rc;

	for (i = 0; i < ARRAY_LEN(sys); i++) {
		rc = rt_svc_add(s, sys[i].name, NULL, sys[i].fn, sys[i].notes,
		    sys[i].argc, sys[i].flags | RT_METHOD_SYSTEM, NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}
