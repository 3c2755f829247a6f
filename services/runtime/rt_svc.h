/*
 * rt_svc.h: a loaded service plugin and its method table.
 *
 * struct drover_svc (opaque to plugins, see drover/service.h) is the one
 * per-process view of the service: the plugin handle and descriptor, the
 * methods in registration order (the service's own, then the built-in
 * opensrf.system.* ones), its settings, and the child's runtime state
 * (cache, bus, client addressing) filled in after fork.
 *
 * Callers: rt_svc_load() and the init hook run in the parent before any
 * fork; the table is frozen (rt_svc_freeze()) before the first fork and
 * only read afterwards, so children share it copy-on-write.
 *
 * Ownership: rt_svc_load() returns an object freed with rt_svc_free(&s)
 * (dlclose included).  The svc_conf passed in is borrowed and must
 * outlive the object.  Method names and notes are copies owned here.
 *
 * Errors: negative errno, with a one-line reason in a caller's buffer for
 * the loader (dlerror() text, ABI versions, missing symbol).
 */
#ifndef DROVER_RT_SVC_H
#define DROVER_RT_SVC_H

#include <stddef.h>

#include <jansson.h>

#include "drover/service.h"
#include "util.h"

struct svc_conf;
struct rt_cache;
struct rt_inbox;


/* Internal method bits, beside the public ones (OpenSRF's values). */
#define RT_METHOD_SYSTEM	0x01
#define RT_METHOD_ATOMIC	0x04

/* Built-in handlers get the request and the method; see rt_sysmethods.c */
typedef int	(*rt_sys_fn)(struct drover_req *, const struct drover_svc *);

struct rt_method {
	char			*name;
	char			*notes;
	drover_method_fn	 fn;	/* plugin handler, or NULL */
	rt_sys_fn		 sys;	/* built-in handler, or NULL */
	void			*user;
	int			 argc;	/* minimum params */
	unsigned		 flags;	/* DROVER_METHOD_* | RT_METHOD_* */
};

/*
 * How sub-requests find a service: by default bus_service_addr() of the
 * child's own bus (through the router on XMPP and Redis, straight to the
 * listener on the local bus); a test may aim them elsewhere.  Writes at
 * most sz bytes into buf; returns 0 or -ENAMETOOLONG.
 */
typedef int	(*rt_addr_fn)(void *arg, const char *service, char *buf,
		    size_t sz);

struct drover_svc {
	char			*name;		/* service name */
	char			*path;		/* plugin file as loaded */
	void			*dl;		/* dlopen handle or NULL */
	const struct drover_service_desc *desc;
	const json_t		*settings;	/* app_settings, borrowed */
	const struct svc_conf	*conf;		/* borrowed, or NULL */
	void			*data;		/* plugin's pointer */
	/* method-name prefixes whose params are never logged
	   (<log_protect>, core_conf.log_protect), borrowed; child */
	char *const		*log_protect;
	size_t			 nlog_protect;

	struct rt_method	*methods;	/* registration order */
	size_t			 nmethods;
	size_t			 capmethods;
	size_t			*index;		/* sorted by name (frozen) */
	int			 registering;	/* in init(): may register */

	/* child state */
	struct rt_cache		*cache;		/* or NULL */
	struct rt_inbox		*inbox;		/* the child's bus, or NULL */
	struct drover_req	*cur;		/* request being served */
	rt_addr_fn		 addr_fn;	/* NULL: the bus's */
	void			*addr_arg;
	int			 in_child;
};

#define RT_ERR_MAX	512

/*
 * Load the plugin at `path` (a bare name is looked up in `plugindir`,
 * with "lib" and ".so" tried as OpenSRF's implementation names use them)
 * and check its descriptor.  Does not call init().  -ENOENT (no file),
 * -ELIBBAD (dlopen failed or no descriptor), -EPROTO (ABI mismatch),
 * with err filled.
 */
int	rt_svc_load(const char *service, const char *path,
	    const char *plugindir, struct drover_svc **out, char *err,
	    size_t errsz) MUST_CHECK;
/*
 * The descriptor checks of rt_svc_load(), pure: magic, same major, minor
 * not newer than ours, an init hook.  0 or -EPROTO with err naming the
 * service, the file and both versions.
 */
int	rt_desc_check(const struct drover_service_desc *, const char *service,
	    const char *file, char *err, size_t errsz) MUST_CHECK;
/* A service with no plugin (tests, built-ins only). */
struct drover_svc *rt_svc_new(const char *service);
void	rt_svc_free(struct drover_svc **);

/*
 * Run the plugin's init hook with registration open, then add the
 * built-in methods and freeze the table.  -ECANCELED when init refused.
 */
int	rt_svc_init(struct drover_svc *) MUST_CHECK;
/* Register the built-ins and build the lookup index.  Idempotent. */
int	rt_svc_freeze(struct drover_svc *) MUST_CHECK;

/* Method by exact name, or NULL.  Needs a frozen table. */
const struct rt_method *rt_svc_method(const struct drover_svc *,
	    const char *name);

/* The internal registration behind drover_register_method(). */
int	rt_svc_add(struct drover_svc *, const char *name, drover_method_fn,
	    rt_sys_fn, const char *notes, int argc, unsigned flags,
	    void *user) MUST_CHECK;

/* Register opensrf.system.* (rt_sysmethods.c). */
int	rt_sys_register(struct drover_svc *) MUST_CHECK;

/* The address of `service` for sub-requests, see rt_addr_fn. */
int	rt_svc_addr(const struct drover_svc *, const char *service,
	    char *buf, size_t sz) MUST_CHECK;

#endif /* DROVER_RT_SVC_H */
