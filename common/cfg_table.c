/*
 * cfg_table.c: typed lookups and key tables (cfg.h, layer 2).
 *
 * Layout: showing a bad value safely; the scalar getters (cfg_int,
 * cfg_bool, cfg_str) and string lists (cfg_strv); one applier per table
 * row type; cfg_table_load/free.
 *
 * Strictness (cfg.h, "Empty elements and repeated keys"): lookup()
 * refuses a key given twice, the typed appliers an empty element.
 *
 * Every error names the offending node's own path from the document
 * element, so a key found in a merged opensrf.xml reads
 * "apps/opensrf.math/unix_config/max_children" whatever the caller's
 * base was, and carries the file and line the value came from.
 */
#include "cfg.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

/* Longest value quoted back in an error message. */
#define SHOW_MAX	60

/* s quoted for a message: control characters as '?', long values cut. */
static const char *
show(const char *s, char *buf, size_t size)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i < SHOW_MAX && i + 4 < size; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	buf[i] = '\0';
	if (s[i] != '\0' && i + 4 <= size)
		memcpy(buf + i, "...", 4);
	return buf;
}

/* Missing, or present as an empty element. */
static int
is_unset(const struct cfg_node *n)
{
	return n == NULL || (n->child == NULL && (n->text == NULL ||
	    n->text[0] == '\0'));
}

/*
 * The one node base/path names into *np (NULL when absent).  A key
 * given more than once is -EINVAL, reported at its second occurrence,
 * unless `first` (CFG_K_FIRST: a list whose first entry counts).
 */
static int
lookup(const struct cfg_node *base, const char *path, int first,
    const struct cfg_node **np, struct cfg_err *err)
{
	const struct cfg_node	*two[2] = { NULL, NULL };

	*np = NULL;
	if (base == NULL || path == NULL)
		return 0;
	if (cfg_get_all(base, path, two, 2) > 1 && !first) {
		cfg_errf(err, two[1], NULL, "given more than once (first at "
		    "line %d)", two[0]->line);
		return -EINVAL;
	}
	*np = two[0];
	return 0;
}

/*
 * A typed value with nothing in it: an error, not the default (cfg.h,
 * "Empty elements").  `what` is the expectation, "an integer from ...".
 */
static int
empty_err(const struct cfg_node *n, const char *what, struct cfg_err *err)
{
	cfg_errf(err, n, NULL, "expected %s, got an empty element", what);
	return -EINVAL;
}

static int
int_at(const struct cfg_node *n, long long min, long long max,
    long long def, long long *out, struct cfg_err *err)
{
	long long	v;
	char		buf[SHOW_MAX + 4], what[80];

	if (n == NULL) {
		*out = def;
		return 0;
	}
	snprintf(what, sizeof(what), "an integer from %lld to %lld", min, max);
	if (is_unset(n))
		return empty_err(n, what, err);
	if (n->child != NULL) {
		cfg_errf(err, n, NULL, "expected %s, got an element with "
		    "children", what);
		return -EINVAL;
	}
	if (parse_ll(n->text, min, max, &v) != 0) {
		cfg_errf(err, n, NULL, "expected %s, got \"%s\"", what,
		    show(n->text, buf, sizeof(buf)));
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int
cfg_int(const struct cfg_node *base, const char *path, long long min,
    long long max, long long def, long long *out, struct cfg_err *err)
{
	const struct cfg_node	*n;
	int			 rc;

	if ((rc = lookup(base, path, 0, &n, err)) != 0)
		return rc;
	return int_at(n, min, max, def, out, err);
}

static const struct {
	const char	*name;
	int		 val;
} bools[] = {
	{ "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 },
	{ "on", 1 }, { "off", 0 }, { "1", 1 }, { "0", 0 },
};

#define BOOL_WHAT	"a boolean (true/false, yes/no, on/off, 1/0)"

static int
bool_at(const struct cfg_node *n, int def, int *out, struct cfg_err *err)
{
	char	buf[SHOW_MAX + 4];
	size_t	i;

	if (n == NULL) {
		*out = def;
		return 0;
	}
	if (is_unset(n))
		return empty_err(n, BOOL_WHAT, err);
	if (n->child == NULL)
		for (i = 0; i < ARRAY_LEN(bools); i++)
			if (strcasecmp(n->text, bools[i].name) == 0) {
				*out = bools[i].val;
				return 0;
			}
	cfg_errf(err, n, NULL, "expected " BOOL_WHAT ", got %s%s%s",
	    n->child != NULL ? "" : "\"",
	    n->child != NULL ? "an element with children" :
	    show(n->text, buf, sizeof(buf)), n->child != NULL ? "" : "\"");
	return -EINVAL;
}

int
cfg_bool(const struct cfg_node *base, const char *path, int def, int *out,
    struct cfg_err *err)
{
	const struct cfg_node	*n;
	int			 rc;

	if ((rc = lookup(base, path, 0, &n, err)) != 0)
		return rc;
	return bool_at(n, def, out, err);
}

/*
 * A string; an empty element gives def when empty_ok (OpenSRF's own
 * keys: cfg.h, "Empty elements"), else it is an error.
 */
static int
str_at(const struct cfg_node *n, const char *def, int empty_ok,
    const char **out, struct cfg_err *err)
{
	if (n == NULL || (empty_ok && is_unset(n))) {
		*out = def;
		return 0;
	}
	if (is_unset(n))
		return empty_err(n, "a string", err);
	if (n->child != NULL) {
		cfg_errf(err, n, NULL,
		    "expected a string, got an element with children");
		return -EINVAL;
	}
	*out = n->text;
	return 0;
}

int
cfg_str(const struct cfg_node *base, const char *path, const char *def,
    const char **out, struct cfg_err *err)
{
	const struct cfg_node	*n;
	int			 rc;

	if ((rc = lookup(base, path, 0, &n, err)) != 0)
		return rc;
	return str_at(n, def, 1, out, err);
}

void
cfg_strv_free(char ***vp)
{
	char	**v;

	if (vp == NULL || (v = *vp) == NULL)
		return;
	while (*v != NULL)
		free(*v++);
	free(*vp);
	*vp = NULL;
}

int
cfg_strv(const struct cfg_node *base, const char *path, char ***out,
    size_t *np, struct cfg_err *err)
{
	const struct cfg_node	**nodes = NULL;
	char			**v = NULL;
	size_t			  total, i, n = 0;
	int			  rc = 0;

	total = cfg_get_all(base, path, NULL, 0);
	if (total > 0 && (nodes = calloc(total, sizeof(*nodes))) == NULL)
		goto nomem;
	cfg_get_all(base, path, nodes, total);
	if ((v = calloc(total + 1, sizeof(*v))) == NULL)
		goto nomem;
	for (i = 0; i < total; i++) {
		if (nodes[i]->child != NULL) {
			cfg_errf(err, nodes[i], NULL, "expected a string, "
			    "got an element with children");
			rc = -EINVAL;
			goto fail;
		}
		if (is_unset(nodes[i]))
			continue;
		if ((v[n] = strdup(nodes[i]->text)) == NULL)
			goto nomem;
		n++;
	}
	free(nodes);
	*out = v;
	if (np != NULL)
		*np = n;
	return 0;
nomem:
	cfg_errf(err, base, path, "out of memory");
	rc = -ENOMEM;
fail:
	cfg_strv_free(&v);
	free(nodes);
	return rc;
}

/* ------------------------------------------------------------ tables */

#define FIELD(obj, k, type)	((type *)(void *)((char *)(obj) + (k)->off))

static int
load_enum(const struct cfg_node *n, const struct cfg_key *k, int *out,
    struct cfg_err *err)
{
	const char	*s;
	char		 list[128], what[160], buf[SHOW_MAX + 4];
	size_t		 i, len = 0;
	int		 rc, r;

	list[0] = '\0';
	for (i = 0; k->names[i] != NULL && len < sizeof(list); i++) {
		r = snprintf(list + len, sizeof(list) - len, "%s%s",
		    i > 0 ? ", " : "", k->names[i]);
		if (r < 0)
			break;
		len += (size_t)r;
	}
	snprintf(what, sizeof(what), "one of %s", list);
	if (n != NULL && is_unset(n))
		return empty_err(n, what, err);
	if ((rc = str_at(n, NULL, 0, &s, err)) != 0)
		return rc;
	if (s == NULL) {
		*out = (int)k->def;
		return 0;
	}
	for (i = 0; k->names[i] != NULL; i++)
		if (strcasecmp(s, k->names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	cfg_errf(err, n, NULL, "expected %s, got \"%s\"", what,
	    show(s, buf, sizeof(buf)));
	return -EINVAL;
}

static int
load_mode(const struct cfg_node *n, const struct cfg_key *k,
    unsigned *out, struct cfg_err *err)
{
	const char	*s, *p;
	char		 buf[SHOW_MAX + 4], what[64];
	unsigned long	 v = 0;
	int		 rc;

	snprintf(what, sizeof(what), "an octal mode from %04llo to %04llo",
	    k->min, k->max);
	if (n != NULL && is_unset(n))
		return empty_err(n, what, err);
	if ((rc = str_at(n, NULL, 0, &s, err)) != 0)
		return rc;
	if (s == NULL) {
		*out = (unsigned)k->def;
		return 0;
	}
	/* At most 5 octal digits ("00640"), so v cannot overflow. */
	for (p = s; *p >= '0' && *p <= '7' && p - s < 5; p++)
		v = v * 8 + (unsigned long)(*p - '0');
	if (p == s || *p != '\0' || v < (unsigned long)k->min ||
	    v > (unsigned long)k->max) {
		cfg_errf(err, n, NULL, "expected %s, got \"%s\"", what,
		    show(s, buf, sizeof(buf)));
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

#define FACILITY_WHAT	"a syslog facility (local0 to local7, daemon, user)"

static int
load_facility(const struct cfg_node *n, const struct cfg_key *k,
    int *out, struct cfg_err *err)
{
	const char	*s;
	char		 buf[SHOW_MAX + 4];
	int		 rc, fac;

	if (n != NULL && is_unset(n))
		return empty_err(n, FACILITY_WHAT, err);
	if ((rc = str_at(n, NULL, 0, &s, err)) != 0)
		return rc;
	if (s == NULL) {
		*out = (int)k->def;
		return 0;
	}
	if ((fac = log_facility_parse(s)) < 0) {
		cfg_errf(err, n, NULL, "expected " FACILITY_WHAT ", got \"%s\"",
		    show(s, buf, sizeof(buf)));
		return -EINVAL;
	}
	*out = fac;
	return 0;
}

static int
load_key(const struct cfg_node *base, const struct cfg_key *k, void *obj,
    struct cfg_err *err)
{
	const struct cfg_node	*n;
	const char		*s;
	long long		 v;
	int			 rc, b;

	if ((rc = lookup(base, k->path, k->flags & CFG_K_FIRST, &n,
	    err)) != 0)
		return rc;
	if ((k->flags & CFG_K_REQUIRED) && is_unset(n)) {
		cfg_err_missing(err, base, k->path);
		return -EINVAL;
	}
	switch (k->type) {
	case CFG_T_STR:
		/* OpenSRF's strings may be empty in its stock files; drover's
		 * own are in no stock file and may not */
		if ((rc = str_at(n, k->sdef, !(k->flags & CFG_K_DROVER), &s,
		    err)) != 0)
			return rc;
		if (s != NULL && (*FIELD(obj, k, char *) = strdup(s)) == NULL) {
			cfg_errf(err, base, k->path, "out of memory");
			return -ENOMEM;
		}
		return 0;
	case CFG_T_INT:
	case CFG_T_SIZE:
	case CFG_T_MS:
		if ((rc = int_at(n, k->min, k->max, k->def, &v, err)) != 0)
			return rc;
		if (k->type == CFG_T_INT)
			*FIELD(obj, k, int) = (int)v;
		else if (k->type == CFG_T_SIZE)
			*FIELD(obj, k, size_t) = (size_t)v;
		else
			*FIELD(obj, k, int) = (int)(v * 1000);
		return 0;
	case CFG_T_BOOL:
		if ((rc = bool_at(n, (int)k->def, &b, err)) != 0)
			return rc;
		*FIELD(obj, k, int) = b;
		return 0;
	case CFG_T_ENUM:
		return load_enum(n, k, FIELD(obj, k, int), err);
	case CFG_T_MODE:
		return load_mode(n, k, FIELD(obj, k, unsigned), err);
	case CFG_T_FACILITY:
		return load_facility(n, k, FIELD(obj, k, int), err);
	}
	cfg_errf(err, base, k->path, "internal error: unknown key type %d",
	    (int)k->type);
	return -EINVAL;
}

int
cfg_table_load(const struct cfg_node *base, const struct cfg_key *keys,
    size_t nkeys, void *obj, struct cfg_err *err)
{
	size_t	i;
	int	rc;

	for (i = 0; i < nkeys; i++)
		if ((rc = load_key(base, &keys[i], obj, err)) != 0) {
			cfg_table_free(keys, nkeys, obj);
			return rc;
		}
	return 0;
}

void
cfg_table_free(const struct cfg_key *keys, size_t nkeys, void *obj)
{
	char	**sp;
	size_t	  i;

	for (i = 0; i < nkeys; i++) {
		if (keys[i].type != CFG_T_STR)
			continue;
		sp = FIELD(obj, &keys[i], char *);
		if (*sp != NULL && (keys[i].flags & CFG_K_SECRET))
			explicit_bzero(*sp, strlen(*sp));
		free(*sp);
		*sp = NULL;
	}
}
