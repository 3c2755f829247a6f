/*
 * mpm_source.c: the request sources of mpm_source.h: the local bus, then
 * XMPP.
 */
#include "mpm_source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "localbus.h"
#include "log.h"
#include "proto/reg.h"
#include "proto/tmsg.h"
#include "proto/xmpp.h"
#include "transport.h"

int
mpm_local_listener_jid(char *buf, size_t bufsz, const char *service,
    const char *instance)
{
	int	n;

	if (instance != NULL && *instance != '\0')
		n = snprintf(buf, bufsz, "opensrf@local/%s@%s", service,
		    instance);
	else
		n = snprintf(buf, bufsz, "opensrf@local/%s", service);
	return n < 0 || (size_t)n >= bufsz ? -ENAMETOOLONG : n;
}

static struct transport *
local_listener(void *arg)
{
	struct mpm_local	*l = arg;
	char			 jid[512];

	if (mpm_local_listener_jid(jid, sizeof(jid), l->service,
	    l->instance) < 0)
		jid[0] = '\0';	/* open() then fails with a clear error */
	return localbus_new(l->dir, jid);
}

static void
drone_jid(const struct mpm_local *l, pid_t pid, char *buf, size_t n)
{
	snprintf(buf, n, "opensrf@local/%s_drone_%d", l->service, (int)pid);
}

static struct transport *
local_drone(void *arg, int slot)
{
	struct mpm_local	*l = arg;
	char			 jid[512];

	(void)slot;	/* the pid alone keeps drone names unique */
	drone_jid(l, getpid(), jid, sizeof(jid));
	return localbus_new(l->dir, jid);
}

/* A child killed outright leaves its socket file: remove it. */
static void
local_reaped(void *arg, pid_t pid)
{
	struct mpm_local	*l = arg;
	char			 jid[512], path[256];

	drone_jid(l, pid, jid, sizeof(jid));
	if (localbus_path(l->dir, jid, path, sizeof(path)) > 0)
		(void)unlink(path);	/* gone already after a clean exit */
}

static void
local_forget(void *arg, struct transport **tp)
{
	(void)arg;
	localbus_forget(tp);
}

void
mpm_local_init(struct mpm_local *l, struct mpm_source *src, const char *dir,
    const char *service, const char *instance)
{
	l->dir = xstrdup(dir);
	l->service = xstrdup(service);
	l->instance = instance != NULL && *instance != '\0' ?
	    xstrdup(instance) : NULL;
	src->listener = local_listener;
	src->drone = local_drone;
	src->forget = local_forget;
	src->reg = NULL;
	src->unreg = NULL;
	src->arg = l;
	src->reaped = local_reaped;
	src->reg_bounced = NULL;
}

void
mpm_local_free(struct mpm_local *l)
{
	free(l->dir);
	free(l->service);
	free(l->instance);
	l->dir = l->service = l->instance = NULL;
}

/* ---------------------------------------------------------------- XMPP */

static struct transport *
xmpp_endpoint(struct mpm_xmpp *x, enum xmpp_role role)
{
	struct transport	*t;
	char			 res[256];

	if (xmpp_resource_make(res, sizeof(res), role, x->service) < 0)
		log_warnx("%s: XMPP resource cut to \"%s\"", x->service,
		    res);
	if ((t = transport_new_xmpp(&(*x->core)->bus, res)) == NULL)
		fatalx("out of memory for the XMPP connection");
	return t;
}

static struct transport *
xmpp_listener(void *arg)
{
	return xmpp_endpoint(arg, XMPP_ROLE_LISTENER);
}

static struct transport *
xmpp_drone(void *arg, int slot)
{
	(void)slot;
	return xmpp_endpoint(arg, XMPP_ROLE_DRONE);
}

static void
xmpp_forget(void *arg, struct transport **tp)
{
	struct xmpp_conn	*c;

	if (*tp == NULL)
		return;
	if ((c = transport_xmpp(*tp)) != NULL)
		xmpp_forget_after_fork(c);
	transport_free(tp);	/* never logs the parent out (xmpp.h) */
}

static int
xmpp_reg_cmd(struct mpm_xmpp *x, struct transport *t, enum reg_cmd cmd)
{
	const struct core_conf	*core = *x->core;

	return reg_send(t, core->routers, core->nrouters, x->service, cmd);
}

/* Our register command come back as an error: the router was away. */
static int
xmpp_reg_bounced(void *arg, const struct xstanza *st)
{
	struct tmsg	t = TMSG_INIT;
	int		yes;

	if (tmsg_xml_parse(st->raw, st->len, &t, NULL) < 0)
		return 0;
	yes = t.is_error && strcmp(t.router_command, "register") == 0;
	tmsg_clear(&t);
	return yes;
}

static int
xmpp_reg(void *arg, struct transport *t)
{
	return xmpp_reg_cmd(arg, t, REG_REGISTER);
}

static int
xmpp_unreg(void *arg, struct transport *t)
{
	return xmpp_reg_cmd(arg, t, REG_UNREGISTER);
}

void
mpm_xmpp_init(struct mpm_xmpp *x, struct mpm_source *src,
    struct core_conf **core, const char *service)
{
	x->core = core;
	x->service = xstrdup(service);
	src->listener = xmpp_listener;
	src->drone = xmpp_drone;
	src->forget = xmpp_forget;
	src->reg = xmpp_reg;
	src->unreg = xmpp_unreg;
	src->arg = x;
	src->reaped = NULL;
	src->reg_bounced = xmpp_reg_bounced;
}

void
mpm_xmpp_free(struct mpm_xmpp *x)
{
	free(x->service);
	x->service = NULL;
}
