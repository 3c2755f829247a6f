/*
 * th_fakebus.c: the in-memory transport of th_fakebus.h.
 */
#include "th_fakebus.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
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
fb(struct transport *t)
{
	return t->impl;
}

static int
fb_open(struct transport *t, int timeout_ms)
{
	return 0;
}

static int
fb_fd(struct transport *t)
{
	return fb(t)->pfd[0];
}

static int
fb_recv(struct transport *t, struct xstanza **out)
{
	struct fakebus	*b = fb(t);
	struct xstanza	*st;
	const char	*p;
	char		 c;
	size_t		 n;

	*out = NULL;
	if (b->headin == b->nin)
		return 0;
	if (read(b->pfd[0], &c, 1) != 1)
		return -EIO;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -ENOMEM;
	st->raw = b->in[b->headin];
	b->in[b->headin++] = NULL;
	st->len = strlen(st->raw);
	p = st->raw + 1;
	n = strcspn(p, " />");
	if (n >= sizeof(st->name))
		n = sizeof(st->name) - 1;
	memcpy(st->name, p, n);
	st->name[n] = '\0';
	st->is_error = strstr(st->raw, "type=\"error\"") != NULL;
	*out = st;
	return 1;
}

static int
fb_send(struct transport *t, const char *xml, size_t len)
{
	struct fakebus	*b = fb(t);
	char		**ns;
	size_t		  cap;

	if (b->fail != 0)
		return -b->fail;
	if (b->nsent == b->capsent) {
		cap = b->capsent ? 2 * b->capsent : 16;
		if ((ns = realloc(b->sent, cap * sizeof(*ns))) == NULL)
			return -ENOMEM;
		b->sent = ns;
		b->capsent = cap;
	}
	if ((b->sent[b->nsent] = strndup(xml, len)) == NULL)
		return -ENOMEM;
	b->nsent++;
	if (b->hook != NULL)
		b->hook(b->hook_arg, xml, len);
	return 0;
}

static const char *
fb_jid(const struct transport *t)
{
	return ((const struct fakebus *)t->impl)->jid;
}

static void
fb_close(struct transport *t)
{
}

static void
fb_destroy(struct transport *t)
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
}

static const struct transport_ops fb_ops = {
	fb_open, fb_fd, fb_recv, fb_send, fb_jid, fb_close, fb_destroy,
};

struct transport *
th_fakebus_new(const char *jid)
{
	struct transport	*t;
	struct fakebus		*b;

	t = xcalloc(1, sizeof(*t));
	b = xcalloc(1, sizeof(*b));
	b->jid = xstrdup(jid);
	if (pipe2(b->pfd, O_CLOEXEC | O_NONBLOCK) < 0)
		fatal("pipe2");
	t->ops = &fb_ops;
	t->impl = b;
	return t;
}

size_t
th_fakebus_nsent(struct transport *t)
{
	return fb(t)->nsent;
}

const char *
th_fakebus_sent(struct transport *t, size_t i)
{
	return i < fb(t)->nsent ? fb(t)->sent[i] : NULL;
}

void
th_fakebus_clear(struct transport *t)
{
	struct fakebus	*b = fb(t);
	size_t		 i;

	for (i = 0; i < b->nsent; i++)
		free(b->sent[i]);
	b->nsent = 0;
}

int
th_fakebus_inject(struct transport *t, const char *xml)
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
th_fakebus_pending(struct transport *t)
{
	return fb(t)->nin - fb(t)->headin;
}

void
th_fakebus_on_send(struct transport *t, th_fakebus_hook fn, void *arg)
{
	fb(t)->hook = fn;
	fb(t)->hook_arg = arg;
}

void
th_fakebus_fail_send(struct transport *t, int err)
{
	fb(t)->fail = err;
}
