/*
 * mpm_source.h: the request sources droverd can serve from.
 *
 * The local source puts the parent and every child on the local bus
 * (localbus.h) in one directory: the parent's JID is
 * "opensrf@local/<service>" ("opensrf@local/<service>@<instance>" with an
 * instance), which is where test clients and benchmarks send requests;
 * each child is "opensrf@local/<service>_drone_<pid>".  There are no
 * routers on the local bus, so registration is a no-op.
 *
 * The XMPP source puts every process on the XMPP server of
 * opensrf_core.xml with its own login (spec 1.2 resources:
 * <service>_listener_<host>_<time>_<pid>, <service>_drone_...), and
 * registers the parent with every router of <routers> that wants the
 * service (proto/reg.h).  A forked child drops its copy of the parent's
 * connection without logging it out.  It reads the core configuration
 * through a pointer to the caller's pointer, so after a SIGHUP reload
 * new children and registrations use the new one.
 *
 * Callers: the parent fills the source before mpm_run(); the callbacks
 * run in parent and children as mpm.h says.  Ownership: struct
 * mpm_local is the caller's and must outlive mpm_run(); it copies its
 * strings and frees them in mpm_local_free().
 */
#ifndef DROVER_MPM_SOURCE_H
#define DROVER_MPM_SOURCE_H

#include <stddef.h>

#include "mpm.h"
#include "util.h"

struct mpm_local {
	char	*dir;
	char	*service;
	char	*instance;	/* NULL for none */
};

struct core_conf;

struct mpm_xmpp {
	struct core_conf **core;	/* the caller's, kept current */
	char		 *service;
};

void	mpm_xmpp_init(struct mpm_xmpp *, struct mpm_source *,
	    struct core_conf **core, const char *service);
void	mpm_xmpp_free(struct mpm_xmpp *);

void	mpm_local_init(struct mpm_local *, struct mpm_source *,
	    const char *dir, const char *service, const char *instance);
void	mpm_local_free(struct mpm_local *);

/* The listener's JID on the local bus; its length or -ENAMETOOLONG. */
int	mpm_local_listener_jid(char *buf, size_t bufsz, const char *service,
	    const char *instance) MUST_CHECK;

#endif /* DROVER_MPM_SOURCE_H */
