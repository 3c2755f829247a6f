/*
 * reg.c: router registration messages (reg.h).
 */
#include "reg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
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

int
reg_send(struct transport *tr, const struct reg_target *t, size_t n,
    const char *service, enum reg_cmd cmd)
{
	const char	*what;
	char		*xml;
	size_t		 i, len;
	int		 rc, first = 0, sent = 0;

	what = cmd == REG_REGISTER ? "register" : "unregister";
	for (i = 0; i < n; i++) {
		if (!reg_target_wants(&t[i], service))
			continue;
		rc = reg_stanza(&t[i], transport_jid(tr), service, cmd, &xml,
		    &len);
		if (rc == 0) {
			rc = transport_send(tr, xml, len);
			free(xml);
		}
		if (rc != 0) {
			log_warnx("%s %s with router %s@%s: %s", what, service,
			    t[i].name ? t[i].name : "router",
			    t[i].domain ? t[i].domain : "?", strerror(-rc));
			if (first == 0)
				first = rc;
			continue;
		}
		log_info("%s %s with router %s@%s", what, service,
		    t[i].name ? t[i].name : "router", t[i].domain);
		sent++;
	}
	return first != 0 ? first : sent;
}
