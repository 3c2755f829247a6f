/*
 * th_fakebus.c: the in-memory bus of th_fakebus.h.
 */
#include "th_fakebus.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proto/bus_int.h"
#include "util.h"

struct fakebus {
	char		 *jid;
	char		**sent;
	size_t		  nsent, capsent;
	char		**in;		/* injected, FIFO */
	size_t		  nin, headin, capin;
	int		  pfd[2];	/* readable while in[] is non-empty */
	th_fakebus_hook	  hook;
	void		 *hook_arg;
	int		  fail;
};

static struct fakebus *
fb(const struct bus *t)
{
	return t->impl;
}

static int
fb_connect(struct bus *t)
{
	return 0;
}

static void
fb_drop(struct bus *t)
{
}

static int
fb_fd(const struct bus *t)
{
	return fb(t)->pfd[0];
}

static uint32_t
fb_events(const struct bus *t)
{
	return POLLIN;
}

static int
fb_recv(struct bus *t, struct bus_frame **out)
{
	struct fakebus	*b = fb(t);
	unsigned	 flags = 0;
	char		*raw, c;

	*out = NULL;
	if (b->headin == b->nin)
		return 0;
	if (read(b->pfd[0], &c, 1) != 1)
		return -EIO;
	raw = b->in[b->headin];
	b->in[b->headin++] = NULL;
	if (strncmp(raw, "<message", 8) != 0)
		flags |= BUS_F_OTHER;
	if (strstr(raw, "type=\"error\"") != NULL)
		flags |= BUS_F_ERROR;
	if ((*out = bus_frame_wrap(raw, strlen(raw), flags)) == NULL)
		return -ENOMEM;
	return 1;
}

static int
fb_decode(const struct bus *t, const char *raw, size_t len, struct tmsg *m,
    struct proto_err *err)
{
	return tmsg_xml_parse(raw, len, m, err);
}

static int
fb_send(struct bus *t, const char *dest, const struct tmsg *m)
{
	struct fakebus	*b = fb(t);
	struct tmsg	 msg = *m;
	char		**ns, *xml;
	size_t		  cap, len;
	int		  rc;

	if (b->fail != 0)
		return -b->fail;
	if (dest != NULL)
		msg.to = dest;
	if (msg.from == NULL || *msg.from == '\0')
		msg.from = b->jid;
	if ((rc = tmsg_xml_write(&msg, &xml, &len)) < 0)
		return rc;
	if (b->nsent == b->capsent) {
		cap = b->capsent ? 2 * b->capsent : 16;
		if ((ns = realloc(b->sent, cap * sizeof(*ns))) == NULL)
			return -ENOMEM;
		b->sent = ns;
		b->capsent = cap;
	}
	b->sent[b->nsent++] = xml;
	if (b->hook != NULL)
		b->hook(b->hook_arg, xml, len);
	return 0;
}

static const char *
fb_addr(const struct bus *t)
{
	return fb(t)->jid;
}

static int
fb_service_addr(const struct bus *t, const char *service, char *buf,
    size_t bufsz)
{
	int	n = snprintf(buf, bufsz, "router@fake/%s", service);

	return n < 0 || (size_t)n >= bufsz ? -ENAMETOOLONG : n;
}

static void
fb_destroy(struct bus *t, int logout)
{
	struct fakebus	*b = fb(t);
	size_t		 i;

	th_fakebus_clear(t);
	free(b->sent);
	for (i = b->headin; i < b->nin; i++)
		free(b->in[i]);
	free(b->in);
	fd_close(&b->pfd[0]);
	fd_close(&b->pfd[1]);
	free(b->jid);
	free(b);
	t->impl = NULL;
}

static int
fb_init(struct bus *t)
{
	t->impl = xcalloc(1, sizeof(struct fakebus));
	return 0;
}

static const struct bus_ops fb_ops = {
	.name = "fake",
	.init = fb_init,
	.destroy = fb_destroy,
	.connect = fb_connect,
	.step = fb_connect,
	.drop = fb_drop,
	.fd = fb_fd,
	.events = fb_events,
	.recv = fb_recv,
	.decode = fb_decode,
	.send = fb_send,
	.addr = fb_addr,
	.service_addr = fb_service_addr,
};

struct bus *
th_fakebus_new(const char *jid)
{
	struct bus_params	 p;
	struct bus		*t;
	struct fakebus		*b;

	memset(&p, 0, sizeof(p));
	p.kind = BUS_LOCAL;
	p.role = BUS_ROLE_CLIENT;
	if (bus_new_ops(&fb_ops, &p, &t) < 0)
		fatalx("fakebus: bus_new_ops");
	b = fb(t);
	b->jid = xstrdup(jid);
	if (pipe2(b->pfd, O_CLOEXEC | O_NONBLOCK) < 0)
		fatal("pipe2");
	if (bus_start(t) < 0)
		fatalx("fakebus: bus_start");
	return t;
}

size_t
th_fakebus_nsent(struct bus *t)
{
	return fb(t)->nsent;
}

const char *
th_fakebus_sent(struct bus *t, size_t i)
{
	return i < fb(t)->nsent ? fb(t)->sent[i] : NULL;
}

void
th_fakebus_clear(struct bus *t)
{
	struct fakebus	*b = fb(t);
	size_t		 i;

	for (i = 0; i < b->nsent; i++)
		free(b->sent[i]);
	b->nsent = 0;
}

int
th_fakebus_inject(struct bus *t, const char *xml)
{
	struct fakebus	*b = fb(t);
	char		**ni;
	size_t		  cap;

	if (b->nin == b->capin) {
		cap = b->capin ? 2 * b->capin : 16;
		if ((ni = realloc(b->in, cap * sizeof(*ni))) == NULL)
			return -ENOMEM;
		b->in = ni;
		b->capin = cap;
	}
	if ((b->in[b->nin] = strdup(xml)) == NULL)
		return -ENOMEM;
	b->nin++;
	if (write(b->pfd[1], "x", 1) != 1)
		return -EIO;
	return 0;
}

size_t
th_fakebus_pending(struct bus *t)
{
	return fb(t)->nin - fb(t)->headin;
}

void
th_fakebus_on_send(struct bus *t, th_fakebus_hook fn, void *arg)
{
	fb(t)->hook = fn;
	fb(t)->hook_arg = arg;
}

void
th_fakebus_fail_send(struct bus *t, int err)
{
	fb(t)->fail = err;
}
