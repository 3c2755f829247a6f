/*
 * fuzz_cfg.c: libFuzzer target for the configuration reader.
 *
 * Feeds any bytes to cfg_load_mem() and, when they parse, through every
 * view: the core context (opensrf), the router daemons, the JSON form,
 * and for opensrf.xml-shaped input the default+host merge, the active
 * apps and each service found under apps.  Nothing may crash, leak or
 * read out of bounds; errors are expected and ignored (their messages
 * are still formatted, so that path is exercised too).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The services of a merged tree, as droverd would load them. */
static void
fuzz_services(const struct cfg_tree *m)
{
	const struct cfg_node	*apps, *c;
	struct svc_conf		*sc;
	struct cfg_err		 err;
	char			**v = NULL;
	int			 n = 0;

	if (cfg_active_apps_tree(m, &v, &err) == 0)
		cfg_strv_free(&v);
	apps = cfg_child(cfg_root(m), "apps");
	for (c = apps != NULL ? apps->child : NULL; c != NULL && n < 16;
	    c = c->next, n++) {
		sc = NULL;
		if (svc_conf_from_tree(m, c->name, &sc, &err) == 0) {
			if (svc_conf_validate(sc, &err) != 0)
				__builtin_trap();	/* load validates */
			svc_conf_free(&sc);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_tree		*t = NULL, *m = NULL;
	struct core_conf	*cc = NULL;
	struct router_conf	*rv = NULL;
	struct cfg_err		 err;
	const struct cfg_node	*h;
	json_t			*j;
	size_t			 n = 0;

	if (cfg_load_mem((const char *)data, size, "fuzz.xml", &t, &err) != 0)
		return 0;
	if ((j = cfg_to_json(cfg_root(t))) != NULL)
		json_decref(j);
	if (core_conf_from_tree(t, "opensrf", &cc, &err) == 0)
		core_conf_free(&cc);
	if (router_conf_from_tree(t, &rv, &n, &err) == 0)
		router_conf_free(&rv, n);
	/* Merge for the first host named, and for one with no entry. */
	h = cfg_get(cfg_root(t), "hosts");
	if (cfg_merge_host(t, h != NULL && h->child != NULL ?
	    h->child->name : "localhost", &m, &err) == 0) {
		fuzz_services(m);
		if ((j = cfg_to_json(cfg_root(m))) != NULL)
			json_decref(j);
		cfg_tree_free(&m);
	}
	if (cfg_merge_host(t, "no.such.host", &m, &err) == 0) {
		fuzz_services(m);
		cfg_tree_free(&m);
	}
	cfg_tree_free(&t);
	return 0;
}
