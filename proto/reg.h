/*
 * reg.h: the XMPP form of registering a service with OpenSRF routers
 * (spec 2.2), written by the XMPP bus (bus_xmpp.c).
 *
 * A listener tells each router that should carry its service that it
 * is there: a <message> to <name>@<domain>/router with <opensrf
 * router_class="<svc>" router_command="register"/>, body "registering",
 * no thread; unregistering is the same with "unregister" and
 * "unregistering".  Routers never answer.  The targets are the
 * <routers> of opensrf_core.xml (struct reg_target, cfg.h), filtered by
 * reg_target_wants() (no <services> list: every service).
 *
 * When is the bus's business (bus.h, "Registration").  The bytes are
 * those of OpenSRF 3.2's C listener (captures/listener_register.xml),
 * written by tmsg.h.
 *
 * Pure.  Ownership: nothing is kept; reg_stanza() returns a malloc'd
 * string.  Errors: negative errno.
 */
#ifndef DROVER_REG_H
#define DROVER_REG_H

#include <stddef.h>

#include "cfg.h"
#include "util.h"

enum reg_cmd {
	REG_REGISTER,
	REG_UNREGISTER,
};

/* The resource every router listens on for commands (spec 1.2). */
#define REG_ROUTER_RESOURCE	"router"

/*
 * The stanza for one target; from is our full JID.  *xml malloc'd,
 * *len its length.  0, -EINVAL (no domain or service), -ENOMEM.
 */
int	reg_stanza(const struct reg_target *, const char *from,
	    const char *service, enum reg_cmd, char **xml, size_t *len)
	    MUST_CHECK;

#endif /* DROVER_REG_H */
