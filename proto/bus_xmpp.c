/*
 * bus_xmpp.c: the XMPP bus (bus.h) over one xmpp_conn (xmpp.h).
 *
 * Addresses are JIDs.  A listener, drone or client logs in as the
 * <username> of its configuration with a resource of spec 1.2
 * (<svc>_listener_<host>_<time>_<pid>, <svc>_drone_..., _<host>_...); a
 * router with the resource its params name ("router" or a class).  The
 * resource is chosen once, so a reconnect comes back under the same JID
 * and registrations held by routers stay true.
 *
 * Frames are stanzas exactly as the server sent them; messages are
 * encoded and decoded by tmsg's XML codec.  A registration that comes
 * back as an error from the router it was sent to (the router was not
 * online) is never handed to the owner: it is bus_reg_bounced() here,
 * and bus.c registers there again with back-off.
 *
 * Connecting: xmpp_connect_start()/xmpp_connect_step() never block;
 * the login's deadline is bus.c's.
 */
#include "bus_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reg.h"
#include "stanza.h"
#include "xmpp.h"

struct bx {
	struct xmpp_conn	*c;
	char			 resource[256];
	int			 corked;
	struct pbuf		 held;		/* stanzas held by bus_cork() */
};

static struct xmpp_conn *
conn(const struct bus *b)
{
	return ((const struct bx *)b->impl)->c;
}

static int
bx_init(struct bus *b)
{
	struct bx	*x;
	enum xmpp_role	 role;
	int		 rc = 0;

	x = xcalloc(1, sizeof(*x));
	switch (b->p.role) {
	case BUS_ROLE_ROUTER:
		str_copy(x->resource, b->p.resource != NULL ? b->p.resource :
		    REG_ROUTER_RESOURCE, sizeof(x->resource));
		break;
	case BUS_ROLE_LISTENER:
	case BUS_ROLE_DRONE:
	case BUS_ROLE_CLIENT:
	default:
		role = b->p.role == BUS_ROLE_LISTENER ? XMPP_ROLE_LISTENER :
		    b->p.role == BUS_ROLE_DRONE ? XMPP_ROLE_DRONE :
		    XMPP_ROLE_CLIENT;
		if (b->p.resource != NULL)
			str_copy(x->resource, b->p.resource,
			    sizeof(x->resource));
		else if (xmpp_resource_make(x->resource, sizeof(x->resource),
		    role, b->p.service) < 0)
			log_warnx("bus: xmpp: resource cut to \"%s\"",
			    x->resource);
		break;
	}
	if ((x->c = xmpp_new(&b->conf, x->resource)) == NULL)
		rc = -ENOMEM;
	if (rc < 0) {
		free(x);
		return rc;
	}
	b->impl = x;
	return 0;
}

static void
bx_destroy(struct bus *b, int logout)
{
	struct bx	*x = b->impl;

	if (x == NULL)
		return;
	if (!logout)
		xmpp_forget_after_fork(x->c);
	xmpp_free(&x->c);	/* logs out when still connected */
	pbuf_free(&x->held);
	free(x);
	b->impl = NULL;
}

static int
bx_result(struct bus *b, int rc)
{
	if (rc < 0 && rc != -EINPROGRESS)
		(void)bus_fail(b, rc, "%s", *xmpp_error(conn(b)) != '\0' ?
		    xmpp_error(conn(b)) : strerror(-rc));
	return rc;
}

static int
bx_connect(struct bus *b)
{
	return bx_result(b, xmpp_connect_start(conn(b)));
}

static int
bx_step(struct bus *b)
{
	return bx_result(b, xmpp_connect_step(conn(b)));
}

static void
bx_drop(struct bus *b)
{
	struct bx	*x = b->impl;

	xmpp_close(x->c);
	x->corked = 0;
	pbuf_reset(&x->held);	/* lost with the connection, as sent ones */
}

static int
bx_fd(const struct bus *b)
{
	return xmpp_fd(conn(b));
}

static uint32_t
bx_events(const struct bus *b)
{
	return xmpp_events(conn(b));
}

static int
bx_flush(struct bus *b)
{
	return xmpp_flush(conn(b));
}

/* The router our registration was sent to, if st is it come back. */
static int
bounced_reg(struct bus *b, const struct xstanza *st, size_t *which)
{
	struct tmsg	 t = TMSG_INIT;
	char		 jid[BUS_ADDR_MAX];
	size_t		 i;
	int		 yes = 0;

	if (b->p.nrouters == 0 ||
	    tmsg_xml_parse(st->raw, st->len, &t, NULL) < 0)
		return 0;
	if (t.is_error && strcmp(t.router_command, "register") == 0)
		for (i = 0; i < b->p.nrouters && !yes; i++) {
			(void)snprintf(jid, sizeof(jid), "%s@%s/"
			    REG_ROUTER_RESOURCE, b->routers[i].name != NULL ?
			    b->routers[i].name : "router",
			    b->routers[i].domain);
			if (strcasecmp(jid, t.from) == 0) {
				*which = i;
				yes = 1;
			}
		}
	tmsg_clear(&t);
	return yes;
}

static int
bx_recv(struct bus *b, struct bus_frame **out)
{
	struct xstanza	*st;
	unsigned	 flags;
	size_t		 which;
	int		 rc;

	for (;;) {
		if ((rc = xmpp_recv(conn(b), &st)) <= 0)
			return rc == -ENOTCONN ? bx_result(b, rc) : rc;
		flags = 0;
		if (st->is_error)
			flags |= BUS_F_ERROR;
		if (strcmp(st->name, "message") != 0)
			flags |= BUS_F_OTHER;
		/* the answer to one of our pings, result or error */
		if (strcmp(st->name, "iq") == 0 &&
		    strstr(st->raw, BUS_PING_ID) != NULL)
			flags |= BUS_F_PONG;
		if ((flags & BUS_F_ERROR) && bounced_reg(b, st, &which)) {
			bus_reg_bounced(b, which);
			xstanza_free(&st);
			continue;
		}
		*out = bus_frame_wrap(st->raw, st->len, flags);
		st->raw = NULL;
		xstanza_free(&st);
		if (*out == NULL)
			return -ENOMEM;
		bus_frame_peek_xml(*out);
		return 1;
	}
}

static int
bx_more(const struct bus *b)
{
	return xmpp_more(conn(b));
}

static int
bx_decode(const struct bus *b, const char *raw, size_t len, struct tmsg *out,
    struct proto_err *err)
{
	return tmsg_xml_parse(raw, len, out, err);
}

static int
bx_send(struct bus *b, const char *dest, const struct tmsg *m)
{
	struct bx	*x = b->impl;
	struct tmsg	 t = *m;
	int		 rc;

	if (dest != NULL)
		t.to = dest;
	if (t.from == NULL || *t.from == '\0')
		t.from = xmpp_jid(x->c);
	if (x->corked)
		return tmsg_xml_write_buf(&t, &x->held);
	pbuf_reset(&b->scratch);
	if ((rc = tmsg_xml_write_buf(&t, &b->scratch)) < 0)
		return rc;
	return bx_result(b, xmpp_send(x->c, b->scratch.data,
	    b->scratch.len));
}

static int
bx_cork(struct bus *b, int on)
{
	struct bx	*x = b->impl;
	int		 rc = 0;

	x->corked = on;
	if (!on && x->held.len > 0) {
		rc = bx_result(b, xmpp_send(x->c, x->held.data,
		    x->held.len));
		pbuf_reset(&x->held);
	}
	return rc;
}

static const char *
bx_addr(const struct bus *b)
{
	return xmpp_jid(conn(b));
}

static int
bx_service_addr(const struct bus *b, const char *service, char *buf,
    size_t bufsz)
{
	int	n;

	n = snprintf(buf, bufsz, "%s@%s/%s", b->p.router_name,
	    b->conf.domain, service);
	return n < 0 || (size_t)n >= bufsz ? -ENAMETOOLONG : n;
}

static int
bx_reg_send(struct bus *b, const struct reg_target *t, int on)
{
	char	*xml;
	size_t	 len;
	int	 rc;

	if ((rc = reg_stanza(t, xmpp_jid(conn(b)), b->p.service,
	    on ? REG_REGISTER : REG_UNREGISTER, &xml, &len)) < 0)
		return rc;
	rc = xmpp_send(conn(b), xml, len);
	free(xml);
	return bx_result(b, rc);
}

/* XEP-0199: a ping to a full JID; xmpp_recv() answers others' to us. */
static int
bx_ping(struct bus *b, const char *to, uint32_t id)
{
	char	xml[BUS_ADDR_MAX + 160];
	int	n;

	/* a JID of ours never needs escaping; refuse one that would */
	if (to == NULL || *to == '\0' || strpbrk(to, "<>&\"'") != NULL)
		return -EINVAL;
	n = snprintf(xml, sizeof(xml), "<iq type=\"get\" id=\"" BUS_PING_ID
	    "%u\" to=\"%s\" from=\"%s\"><ping xmlns=\"urn:xmpp:ping\"/>"
	    "</iq>", (unsigned)id, to, xmpp_jid(conn(b)));
	if (n < 0 || (size_t)n >= sizeof(xml))
		return -ENAMETOOLONG;
	/* after what is held: the answers come back in the order sent */
	if (((struct bx *)b->impl)->corked)
		return pbuf_add(&((struct bx *)b->impl)->held, xml,
		    (size_t)n);
	return bx_result(b, xmpp_send(conn(b), xml, (size_t)n));
}

/* A message that came while we logged out, as a frame for the caller. */
struct bx_late {
	bus_late_fn	*late;
	void		*arg;
};

static void
bx_late_one(void *arg, struct xstanza *st)
{
	struct bx_late		*l = arg;
	struct bus_frame	*f;

	/* the frame takes the bytes, even when it cannot be made */
	f = bus_frame_wrap(st->raw, st->len, st->is_error ? BUS_F_ERROR : 0);
	st->raw = NULL;
	xstanza_free(&st);
	if (f == NULL) {
		log_warnx("bus: xmpp: a message that came as we logged out "
		    "is lost: out of memory");
		return;
	}
	bus_frame_peek_xml(f);
	l->late(l->arg, f);
}

static void
bx_logout(struct bus *b, bus_late_fn *late, void *arg)
{
	struct bx_late	l = { late, arg };

	xmpp_close_late(conn(b), bx_late_one, &l);
}

const struct bus_ops bus_xmpp_ops = {
	.name = "xmpp",
	.init = bx_init,
	.destroy = bx_destroy,
	.connect = bx_connect,
	.step = bx_step,
	.drop = bx_drop,
	.fd = bx_fd,
	.events = bx_events,
	.flush = bx_flush,
	.recv = bx_recv,
	.more = bx_more,
	.logout = bx_logout,
	.decode = bx_decode,
	.send = bx_send,
	.addr = bx_addr,
	.service_addr = bx_service_addr,
	.reg_send = bx_reg_send,
	.cork = bx_cork,
	.ping = bx_ping,
};
