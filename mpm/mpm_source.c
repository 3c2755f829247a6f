/*
 * mpm_source.c: the local request source (see mpm_source.h).
 */
#include "mpm_source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "localbus.h"
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
}

void
mpm_local_free(struct mpm_local *l)
{
	free(l->dir);
	free(l->service);
	free(l->instance);
	l->dir = l->service = l->instance = NULL;
}
