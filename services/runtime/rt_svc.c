/*
 * rt_svc.c: loading a service plugin and keeping its method table.
 *
 * Layout: the loader (path lookup, dlopen, descriptor and ABI check),
 * then the method table (registration, freezing into a sorted index,
 * lookup), then the small public drover_svc_* and drover_register_method
 * entry points.
 */
#include "services/runtime/rt_svc.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "proto/bus.h"
#include "services/runtime/rt_inbox.h"

/* OpenSRF limits a method's minimum argc to what fits its registration. */
#define RT_MAX_ARGC	255
/* Longest method name we accept: names travel in JSON, keep them sane. */
#define RT_MAX_NAME	256

static const char atomic_suffix[] = ".atomic";

/* ------------------------------------------------------------ loader */

/*
 * OpenSRF's file names for the services drover implements itself.  An
 * opensrf.xml written for OpenSRF names libosrf_math.so, which drover
 * ships as opensrf.math.so.  A table rather than libosrf_*.so symlinks
 * installed beside the plugins: it works the same from the build tree,
 * from DROVER_PLUGINDIR and after `make install`, it cannot dangle, and
 * it leaves the name libosrf_math.so to OpenSRF's own library when a
 * site shares one lib directory between the two.
 */
static const struct {
	const char	*opensrf;	/* <implementation> in OpenSRF's files */
	const char	*drover;	/* drover's plugin in the plugin dir */
} plugin_alias[] = {
	{ "libosrf_math.so", "opensrf.math.so" },
	{ "libosrf_dbmath.so", "opensrf.dbmath.so" },
};

/* The names tried so far, for the error message: "a, b, c". */
struct tried {
	char	*buf;
	size_t	 sz;
	size_t	 len;
};

static int
ends_with(const char *s, const char *suffix)
{
	size_t	n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Is the file "<a><b><c>" there?  The name goes into buf either way. */
static int
try_file(struct tried *t, char *buf, size_t sz, const char *a,
    const char *b, const char *c)
{
	int	n;

	n = snprintf(buf, sz, "%s%s%s", a, b, c);
	if (n < 0 || (size_t)n >= sz)
		return -ENAMETOOLONG;
	if (t->len < t->sz)
		t->len += (size_t)snprintf(t->buf + t->len, t->sz - t->len,
		    "%s%s", t->len > 0 ? ", " : "", buf);
	if (t->len >= t->sz)
		t->len = t->sz;		/* cut: the message says enough */
	return access(buf, R_OK) == 0 ? 0 : -ENOENT;
}

/* drover's own plugin for OpenSRF's file name `file`, or NULL. */
static const char *
alias_of(const char *file)
{
	size_t	i;

	for (i = 0; i < ARRAY_LEN(plugin_alias); i++)
		if (strcmp(file, plugin_alias[i].opensrf) == 0)
			return plugin_alias[i].drover;
	return NULL;
}

/*
 * Find the plugin file for an <implementation>.  A path
 * ("/openils/lib/libosrf_math.so") is taken as it is; a bare name is
 * looked up in plugindir as itself, with ".so" added, and as
 * "lib<name>.so" (each only where it makes sense: nothing is added to a
 * name that ends in ".so").  Last, a name OpenSRF uses for a service
 * drover implements (plugin_alias) stands for drover's plugin in
 * plugindir.  0 with the file in buf, or -ENOENT (-ENAMETOOLONG) with
 * every name tried in tried[], comma-separated.
 */
static int
find_plugin(const char *path, const char *plugindir, char *buf, size_t sz,
    char *tried, size_t triedsz)
{
	struct tried	 t = { tried, triedsz, 0 };
	const char	*base, *alias = NULL;
	char		*withso = NULL;
	int		 rc;

	tried[0] = '\0';
	if (plugindir == NULL)
		plugindir = DROVER_PLUGINDIR;
	if ((base = strrchr(path, '/')) != NULL) {
		if ((rc = try_file(&t, buf, sz, path, "", "")) != -ENOENT)
			return rc;
		alias = alias_of(base + 1);
	} else if (ends_with(path, ".so")) {
		if ((rc = try_file(&t, buf, sz, plugindir, "/", path)) !=
		    -ENOENT)
			return rc;
		alias = alias_of(path);
	} else {
		if ((rc = try_file(&t, buf, sz, plugindir, "/", path)) !=
		    -ENOENT)
			return rc;
		withso = xasprintf("%s.so", path);
		if ((rc = try_file(&t, buf, sz, plugindir, "/", withso)) !=
		    -ENOENT)
			goto out;
		if (strncmp(path, "lib", 3) != 0 &&
		    (rc = try_file(&t, buf, sz, plugindir, "/lib",
		    withso)) != -ENOENT)
			goto out;
		alias = alias_of(withso);
	}
	rc = -ENOENT;
	if (alias != NULL)
		rc = try_file(&t, buf, sz, plugindir, "/", alias);
out:
	free(withso);
	return rc;
}

static struct drover_svc *
svc_alloc(const char *service)
{
	struct drover_svc	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->name = strdup(service)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

int
rt_desc_check(const struct drover_service_desc *d, const char *service,
    const char *file, char *err, size_t errsz)
{
	if (d->magic != DROVER_ABI_MAGIC) {
		snprintf(err, errsz, "service %s: %s: bad descriptor magic "
		    "0x%08x (expected 0x%08x)", service, file,
		    (unsigned)d->magic, DROVER_ABI_MAGIC);
		return -EPROTO;
	}
	if (d->abi_major != DROVER_ABI_MAJOR ||
	    d->abi_minor > DROVER_ABI_MINOR) {
		snprintf(err, errsz, "service %s: %s: plugin ABI %u.%u, "
		    "drover ABI %u.%u: rebuild the plugin", service, file,
		    d->abi_major, d->abi_minor, DROVER_ABI_MAJOR,
		    DROVER_ABI_MINOR);
		return -EPROTO;
	}
	if (d->init == NULL) {
		snprintf(err, errsz, "service %s: %s: descriptor has no "
		    "init hook", service, file);
		return -EPROTO;
	}
	return 0;
}

struct drover_svc *
rt_svc_new(const char *service)
{
	return svc_alloc(service);
}

int
rt_svc_load(const char *service, const char *path, const char *plugindir,
    struct drover_svc **out, char *err, size_t errsz)
{
	const struct drover_service_desc *d;
	struct drover_svc	*s;
	char			 file[4096], tried[RT_ERR_MAX];
	void			*dl;
	const char		*why;
	int			 rc;

	*out = NULL;
	if ((rc = find_plugin(path, plugindir, file, sizeof(file), tried,
	    sizeof(tried))) < 0) {
		snprintf(err, errsz, "service %s: plugin %s: %s; tried %s",
		    service, path, strerror(-rc), tried);
		return rc;
	}
	(void)dlerror();	/* reset: only this call's text is wanted */
	if ((dl = dlopen(file, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		snprintf(err, errsz, "service %s: dlopen: %s", service,
		    why != NULL ? why : file);
		return -ELIBBAD;
	}
	d = dlsym(dl, DROVER_SERVICE_SYMBOL);
	if (d == NULL) {
		why = dlerror();
		snprintf(err, errsz, "service %s: %s is not a drover plugin "
		    "(no %s symbol: %s)", service, file, DROVER_SERVICE_SYMBOL,
		    why != NULL ? why : "NULL");
		dlclose(dl);
		return -ELIBBAD;
	}
	if ((rc = rt_desc_check(d, service, file, err, errsz)) < 0) {
		dlclose(dl);
		return rc;
	}
	if ((s = svc_alloc(service)) == NULL ||
	    (s->path = strdup(file)) == NULL) {
		rt_svc_free(&s);
		dlclose(dl);
		snprintf(err, errsz, "service %s: out of memory", service);
		return -ENOMEM;
	}
	s->dl = dl;
	s->desc = d;
	*out = s;
	return 0;
}

void
rt_svc_free(struct drover_svc **sp)
{
	struct drover_svc	*s = *sp;
	size_t			 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nmethods; i++) {
		free(s->methods[i].name);
		free(s->methods[i].notes);
	}
	free(s->methods);
	free(s->index);
	if (s->dl != NULL)
		dlclose(s->dl);
	free(s->path);
	free(s->name);
	free(s);
	*sp = NULL;
}

int
rt_svc_init(struct drover_svc *s)
{
	int	rc;

	if (s->desc != NULL) {
		s->registering = 1;
		rc = s->desc->init(s);
		s->registering = 0;
		if (rc != 0) {
			log_warnx("service %s: init hook of %s refused to "
			    "start (returned %d)", s->name, s->path, rc);
			return -ECANCELED;
		}
	}
	return rt_svc_freeze(s);
}

/* ------------------------------------------------------ method table */

static int
name_ok(const char *name)
{
	size_t	len, i;

	if (name == NULL || (len = strlen(name)) == 0 || len > RT_MAX_NAME)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] <= ' ' || name[i] == 0x7f)
			return 0;
	return 1;
}

static int
push_method(struct drover_svc *s, const char *name, drover_method_fn fn,
    rt_sys_fn sys, const char *notes, int argc, unsigned flags, void *user)
{
	struct rt_method	*m, *nm;
	size_t			 cap;

	if (s->nmethods == s->capmethods) {
		cap = s->capmethods ? s->capmethods * 2 : 16;
		nm = realloc(s->methods, cap * sizeof(*nm));
		if (nm == NULL)
			return -ENOMEM;
		s->methods = nm;
		s->capmethods = cap;
	}
	m = &s->methods[s->nmethods];
	memset(m, 0, sizeof(*m));
	if ((m->name = strdup(name)) == NULL ||
	    (m->notes = strdup(notes != NULL ? notes : "")) == NULL) {
		free(m->name);
		return -ENOMEM;
	}
	m->fn = fn;
	m->sys = sys;
	m->argc = argc;
	m->flags = flags;
	m->user = user;
	s->nmethods++;
	return 0;
}

/* Linear on purpose: registration happens once, before the index. */
static int
have_method(const struct drover_svc *s, const char *name)
{
	size_t	i;

	for (i = 0; i < s->nmethods; i++)
		if (strcmp(s->methods[i].name, name) == 0)
			return 1;
	return 0;
}

int
rt_svc_add(struct drover_svc *s, const char *name, drover_method_fn fn,
    rt_sys_fn sys, const char *notes, int argc, unsigned flags, void *user)
{
	char	*aname;
	size_t	 len;
	int	 rc;

	if (!name_ok(name) || (fn == NULL) == (sys == NULL) || argc < 0 ||
	    argc > RT_MAX_ARGC)
		return -EINVAL;
	if (s->index != NULL)
		return -EPERM;
	len = strlen(name);
	if (have_method(s, name))
		return -EEXIST;
	if (!(flags & DROVER_METHOD_STREAMING))
		return push_method(s, name, fn, sys, notes, argc, flags, user);

	if ((aname = malloc(len + sizeof(atomic_suffix))) == NULL)
		return -ENOMEM;
	memcpy(aname, name, len);
	memcpy(aname + len, atomic_suffix, sizeof(atomic_suffix));
	if (have_method(s, aname)) {
		free(aname);
		return -EEXIST;
	}
	rc = push_method(s, name, fn, sys, notes, argc, flags, user);
	if (rc == 0) {
		rc = push_method(s, aname, fn, sys, notes, argc,
		    flags | RT_METHOD_ATOMIC, user);
		if (rc < 0) {	/* keep the pair together */
			s->nmethods--;
			free(s->methods[s->nmethods].name);
			free(s->methods[s->nmethods].notes);
		}
	}
	free(aname);
	return rc;
}

static const struct drover_svc *sort_svc;	/* qsort has no context */

static int
cmp_index(const void *a, const void *b)
{
	const size_t	*ia = a, *ib = b;

	return strcmp(sort_svc->methods[*ia].name,
	    sort_svc->methods[*ib].name);
}

int
rt_svc_freeze(struct drover_svc *s)
{
	size_t	i;
	int	rc;

	if (s->index != NULL)
		return 0;
	if ((rc = rt_sys_register(s)) < 0)
		return rc;
	if ((s->index = calloc(s->nmethods, sizeof(*s->index))) == NULL)
		return -ENOMEM;
	for (i = 0; i < s->nmethods; i++)
		s->index[i] = i;
	sort_svc = s;
	qsort(s->index, s->nmethods, sizeof(*s->index), cmp_index);
	sort_svc = NULL;
	return 0;
}

const struct rt_method *
rt_svc_method(const struct drover_svc *s, const char *name)
{
	size_t	lo = 0, hi = s->nmethods, mid;
	int	c;

	if (s->index == NULL)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(name, s->methods[s->index[mid]].name);
		if (c == 0)
			return &s->methods[s->index[mid]];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int
rt_svc_addr(const struct drover_svc *s, const char *service, char *buf,
    size_t sz)
{
	int	n;

	if (s->addr_fn != NULL)
		return s->addr_fn(s->addr_arg, service, buf, sz);
	if (s->inbox == NULL)
		return -EDESTADDRREQ;
	n = bus_service_addr(rt_inbox_bus(s->inbox), service, buf, sz);
	return n < 0 ? n : 0;
}

/* ------------------------------------------------------- public API */

int
drover_register_method(struct drover_svc *s, const char *name,
    drover_method_fn fn, const char *notes, int argc, unsigned flags,
    void *user)
{
	if (s == NULL)
		return -EINVAL;
	if (!s->registering)
		return -EPERM;
	if (flags & ~(unsigned)(DROVER_METHOD_STREAMING |
	    DROVER_METHOD_CACHABLE))
		return -EINVAL;
	if (strncmp(name != NULL ? name : "", "opensrf.system.", 15) == 0)
		return -EEXIST;	/* the built-ins own that namespace */
	return rt_svc_add(s, name, fn, NULL, notes, argc, flags, user);
}

const char *
drover_svc_name(const struct drover_svc *s)
{
	return s->name;
}

const json_t *
drover_svc_settings(const struct drover_svc *s)
{
	static json_t	*null_settings;

	if (s->settings != NULL)
		return s->settings;
	if (null_settings == NULL)
		null_settings = json_null();	/* a singleton in jansson */
	return null_settings;
}

void
drover_svc_set_data(struct drover_svc *s, void *p)
{
	s->data = p;
}

void *
drover_svc_data(const struct drover_svc *s)
{
	return s->data;
}

void
drover_vlog(int level, const char *fmt, va_list ap)
{
	if (level < LOGL_ERROR)
		level = LOGL_ERROR;
	if (level > LOGL_DEBUG)
		level = LOGL_DEBUG;
	log_vmsg(level, 0, fmt, ap);
}

void
drover_log(int level, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	drover_vlog(level, fmt, ap);
	va_end(ap);
}
