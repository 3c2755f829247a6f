/*
 * reg.c: router registration messages (reg.h).
 */
#include "reg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmsg.h"

int
reg_stanza(const struct reg_target *t, const char *from,
    const char *service, enum reg_cmd cmd, char **xml, size_t *len)
{
	struct tmsg	 m = TMSG_INIT;
	char		*to;
	int		 rc;

	*xml = NULL;
	*len = 0;
	if (t->domain == NULL || *t->domain == '\0' || service == NULL ||
	    *service == '\0')
		return -EINVAL;
	if (asprintf(&to, "%s@%s/" REG_ROUTER_RESOURCE,
	    t->name && *t->name ? t->name : "router", t->domain) < 0)
		return -ENOMEM;
	m.to = to;
	m.from = from;
	m.router_class = service;
	m.router_command = cmd == REG_REGISTER ? "register" : "unregister";
	m.body = cmd == REG_REGISTER ? "registering" : "unregistering";
	rc = tmsg_xml_write(&m, xml, len);
	free(to);
	return rc;
}
