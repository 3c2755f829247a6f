/*
 * cfg_tree.c: the generic configuration tree (cfg.h, layer 1).
 *
 * Layout: an arena allocator (every node and string of a tree lives in
 * it, so freeing a tree is freeing its chunks); reading a file; turning
 * a libxml2 document into cfg_node's; path lookups; the default+host
 * merge of spec 5.4; the JSON form; error formatting.
 *
 * libxml2 is asked for as little as possible: no network, no entity
 * expansion, no DTD loading, errors collected from the parser context
 * instead of printed.  Its own nesting limit (256 levels without
 * XML_PARSE_HUGE) bounds the recursion below.
 */
#include "cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

/* Arena chunks: big enough that a stock opensrf.xml needs a handful. */
#define ARENA_CHUNK	(16 * 1024)
#define ARENA_ALIGN	16

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 size;	/* bytes in data[] */
	size_t			 used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct cfg_tree {
	struct arena_chunk	*chunks;
	struct cfg_node		*root;
	char			*file;	/* in the arena */
};

/* ------------------------------------------------------------ arena */

static void *
arena_alloc(struct cfg_tree *t, size_t len)
{
	struct arena_chunk	*c = t->chunks;
	size_t			 sz;
	void			*p;

	len = (len + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (len == 0)
		len = ARENA_ALIGN;
	if (c == NULL || c->size - c->used < len) {
		sz = len > ARENA_CHUNK ? len : ARENA_CHUNK;
		if ((c = malloc(sizeof(*c) + sz)) == NULL)
			return NULL;
		c->size = sz;
		c->used = 0;
		c->next = t->chunks;
		t->chunks = c;
	}
	p = c->data + c->used;
	c->used += len;
	return p;
}

static char *
arena_strndup(struct cfg_tree *t, const char *s, size_t n)
{
	char	*p;

	if ((p = arena_alloc(t, n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static struct cfg_tree *
tree_new(const char *file)
{
	struct cfg_tree	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (file == NULL)
		file = "(config)";
	if ((t->file = arena_strndup(t, file, strlen(file))) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
cfg_tree_free(struct cfg_tree **tp)
{
	struct arena_chunk	*c, *next;

	if (tp == NULL || *tp == NULL)
		return;
	/* Passwords live in the arena too. */
	for (c = (*tp)->chunks; c != NULL; c = next) {
		next = c->next;
		explicit_bzero(c->data, c->used);
		free(c);
	}
	free(*tp);
	*tp = NULL;
}

const struct cfg_node *
cfg_root(const struct cfg_tree *t)
{
	return t != NULL ? t->root : NULL;
}

const char *
cfg_tree_file(const struct cfg_tree *t)
{
	return t != NULL ? t->file : NULL;
}

/* ----------------------------------------------------------- errors */

size_t
cfg_node_path(const struct cfg_node *n, char *buf, size_t size)
{
	const struct cfg_node	*v[64];
	size_t			 nv = 0, len = 0, i;

	if (size > 0)
		buf[0] = '\0';
	/*
	 * Collect n and its ancestors up to, not including, the document
	 * element (unless n is it).  Deeper than 64 levels loses the top.
	 */
	for (; n != NULL && (n->parent != NULL || nv == 0) &&
	    nv < ARRAY_LEN(v); n = n->parent)
		v[nv++] = n;
	for (i = nv; i-- > 0;) {
		if (i + 1 < nv) {
			if (len + 1 < size) {
				buf[len] = '/';
				buf[len + 1] = '\0';
			}
			len++;
		}
		if (len < size)
			str_copy(buf + len, v[i]->name, size - len);
		len += strlen(v[i]->name);
	}
	return len;
}

static void
verrf(struct cfg_err *err, const char *file, int line, const char *path,
    const char *fmt, va_list ap)
{
	size_t	len = 0;
	int	r;

	if (err == NULL)
		return;
	err->msg[0] = '\0';
	if (file != NULL && line > 0)
		r = snprintf(err->msg, sizeof(err->msg), "%s:%d: ", file, line);
	else if (file != NULL)
		r = snprintf(err->msg, sizeof(err->msg), "%s: ", file);
	else
		r = 0;
	if (r > 0)
		len = (size_t)r < sizeof(err->msg) ? (size_t)r :
		    sizeof(err->msg) - 1;
	if (path != NULL && *path != '\0' && len < sizeof(err->msg)) {
		r = snprintf(err->msg + len, sizeof(err->msg) - len, "%s: ",
		    path);
		if (r > 0)
			len += (size_t)r;
		if (len >= sizeof(err->msg))
			len = sizeof(err->msg) - 1;
	}
	/* A cut message is still useful. */
	vsnprintf(err->msg + len, sizeof(err->msg) - len, fmt, ap);
}

void
cfg_errf(struct cfg_err *err, const struct cfg_node *at, const char *path,
    const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;

	if (path == NULL && at != NULL) {
		cfg_node_path(at, buf, sizeof(buf));
		path = buf;
	}
	va_start(ap, fmt);
	verrf(err, at != NULL ? at->file : NULL, at != NULL ? at->line : 0,
	    path, fmt, ap);
	va_end(ap);
}

void
cfg_err_missing(struct cfg_err *err, const struct cfg_node *base,
    const char *key)
{
	char	buf[256];
	size_t	len;

	len = cfg_node_path(base, buf, sizeof(buf));
	if (len + 1 < sizeof(buf)) {
		if (len > 0)
			buf[len++] = '/';
		str_copy(buf + len, key, sizeof(buf) - len);
	}
	cfg_errf(err, base, buf, "required key is missing");
}

/* Error not tied to a node: "file:line: message" (line 0: unknown). */
static void PRINTF(4, 5)
file_errf(struct cfg_err *err, const char *file, int line, const char *fmt,
    ...)
{
	va_list	ap;

	va_start(ap, fmt);
	verrf(err, file, line, NULL, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ build */

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Text of an element without element children: its text and CDATA
 * children concatenated, trimmed.  Entity references stay unexpanded
 * and contribute nothing.
 */
static const char *
build_text(struct cfg_tree *t, const xmlNode *xn)
{
	const xmlNode	*c;
	size_t		 len = 0, n;
	char		*s, *p, *e;

	for (c = xn->children; c != NULL; c = c->next)
		if ((c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) && c->content != NULL)
			len += strlen((const char *)c->content);
	if ((s = arena_alloc(t, len + 1)) == NULL)
		return NULL;
	p = s;
	for (c = xn->children; c != NULL; c = c->next)
		if ((c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) && c->content != NULL) {
			n = strlen((const char *)c->content);
			memcpy(p, c->content, n);
			p += n;
		}
	*p = '\0';
	for (e = p; e > s && is_space(e[-1]); e--)
		;
	*e = '\0';
	for (p = s; is_space(*p); p++)
		;
	return p;
}

static struct cfg_node *
build_node(struct cfg_tree *t, const xmlNode *xn, struct cfg_node *parent)
{
	struct cfg_node	*n, **tail;
	const xmlNode	*c;
	long		 line;

	if ((n = arena_alloc(t, sizeof(*n))) == NULL)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->name = arena_strndup(t, (const char *)xn->name,
	    strlen((const char *)xn->name));
	if (n->name == NULL)
		return NULL;
	n->file = t->file;
	line = xmlGetLineNo(xn);
	n->line = line > 0 && line <= INT_MAX ? (int)line : 0;
	n->parent = parent;
	tail = &n->child;
	for (c = xn->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if ((*tail = build_node(t, c, n)) == NULL)
			return NULL;
		tail = &(*tail)->next;
	}
	if (n->child == NULL && (n->text = build_text(t, xn)) == NULL)
		return NULL;
	return n;
}

static void
strip_nl(char *s)
{
	size_t	n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/*
 * libxml2 2.9 reports some errors (input encoding ones) through its
 * generic error function even under XML_PARSE_NOERROR; the parser's own
 * last error already reaches the caller through cfg_err, so keep stray
 * lines off stderr.
 */
static void
quiet_generic_error(void *ctx, const char *fmt, ...)
{
}

int
cfg_load_mem(const char *buf, size_t len, const char *name,
    struct cfg_tree **out, struct cfg_err *err)
{
	const int	 opts = XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES;
	xmlParserCtxtPtr ctxt;
	xmlDocPtr	 doc;
	const xmlError	*xe;
	xmlNode		*xroot;
	struct cfg_tree	*t;
	char		 msg[256];
	int		 rc = 0;

	if (name == NULL)
		name = "(config)";
	if (buf == NULL) {
		buf = "";
		len = 0;
	}
	if (len > CFG_FILE_MAX) {
		file_errf(err, name, 0, "file too large (more than %d bytes)",
		    CFG_FILE_MAX);
		return -EFBIG;
	}
	xmlSetGenericErrorFunc(NULL, quiet_generic_error);
	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		file_errf(err, name, 0, "out of memory");
		return -ENOMEM;
	}
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, name, NULL, opts);
	if (doc == NULL) {
		xe = xmlCtxtGetLastError(ctxt);
		str_copy(msg, xe != NULL && xe->message != NULL ?
		    xe->message : "unknown error", sizeof(msg));
		strip_nl(msg);
		file_errf(err, name, xe != NULL ? xe->line : 0,
		    "malformed XML: %s", msg);
		xmlFreeParserCtxt(ctxt);
		return -EINVAL;
	}
	if ((xroot = xmlDocGetRootElement(doc)) == NULL) {
		file_errf(err, name, 0, "no document element");
		rc = -EINVAL;
		goto out;
	}
	if ((t = tree_new(name)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((t->root = build_node(t, xroot, NULL)) == NULL) {
		cfg_tree_free(&t);
		rc = -ENOMEM;
		goto out;
	}
	*out = t;
out:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	if (rc == -ENOMEM)
		file_errf(err, name, 0, "out of memory");
	return rc;
}

int
cfg_load(const char *path, struct cfg_tree **out, struct cfg_err *err)
{
	struct stat	 st;
	char		*buf;
	int		 fd, rc;

	/* O_NONBLOCK: a FIFO given by mistake must not hang the caller. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		rc = -errno;
		file_errf(err, path, 0, "open: %s", strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) == -1) {
		rc = -errno;
		file_errf(err, path, 0, "fstat: %s", strerror(-rc));
		fd_close(&fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		file_errf(err, path, 0, "not a regular file");
		fd_close(&fd);
		return -EINVAL;
	}
	if (st.st_size > CFG_FILE_MAX) {
		file_errf(err, path, 0, "file too large (more than %d bytes)",
		    CFG_FILE_MAX);
		fd_close(&fd);
		return -EFBIG;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		file_errf(err, path, 0, "out of memory");
		fd_close(&fd);
		return -ENOMEM;
	}
	if ((rc = read_full(fd, buf, (size_t)st.st_size)) != 0) {
		file_errf(err, path, 0, "read: %s", rc == -EPIPE ?
		    "file shrank while reading" : strerror(-rc));
		goto out;
	}
	rc = cfg_load_mem(buf, (size_t)st.st_size, path, out, err);
out:
	explicit_bzero(buf, (size_t)st.st_size);
	free(buf);
	fd_close(&fd);
	return rc;
}

/* ---------------------------------------------------------- lookups */

static const struct cfg_node *
find_context(const struct cfg_node *n, const char *ctx)
{
	const struct cfg_node	*c, *r;

	if (strcmp(n->name, ctx) == 0)
		return n;
	for (c = n->child; c != NULL; c = c->next)
		if ((r = find_context(c, ctx)) != NULL)
			return r;
	return NULL;
}

const struct cfg_node *
cfg_context(const struct cfg_tree *t, const char *ctx)
{
	if (t == NULL || t->root == NULL || ctx == NULL)
		return NULL;
	return find_context(t->root, ctx);
}

const struct cfg_node *
cfg_child(const struct cfg_node *base, const char *name)
{
	const struct cfg_node	*c;

	if (base == NULL)
		return NULL;
	for (c = base->child; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/*
 * Walk path segments below n; call back for each full match, in
 * document order.  Returns the number of matches; stops early (after
 * the first) when `first` is set.
 */
static size_t
walk(const struct cfg_node *n, const char *path, int first,
    const struct cfg_node **out, size_t max, size_t found)
{
	const struct cfg_node	*c;
	const char		*seg, *end;
	size_t			 seglen, before;

	for (seg = path; *seg == '/'; seg++)
		;
	if (*seg == '\0') {
		if (found < max && out != NULL)
			out[found] = n;
		return found + 1;
	}
	end = strchr(seg, '/');
	seglen = end != NULL ? (size_t)(end - seg) : strlen(seg);
	for (c = n->child; c != NULL; c = c->next) {
		if (strncmp(c->name, seg, seglen) != 0 ||
		    c->name[seglen] != '\0')
			continue;
		before = found;
		found = walk(c, seg + seglen, first, out, max, found);
		if (first && found > before)
			break;
	}
	return found;
}

const struct cfg_node *
cfg_get(const struct cfg_node *base, const char *path)
{
	const struct cfg_node	*r = NULL;

	if (base == NULL || path == NULL)
		return NULL;
	if (walk(base, path, 1, &r, 1, 0) == 0)
		return NULL;
	return r;
}

size_t
cfg_get_all(const struct cfg_node *base, const char *path,
    const struct cfg_node **out, size_t max)
{
	if (base == NULL || path == NULL)
		return 0;
	return walk(base, path, 0, out, max, 0);
}

/* ------------------------------------------------------------ merge */

static struct cfg_node *
copy_node(struct cfg_tree *t, const struct cfg_node *s,
    struct cfg_node *parent)
{
	struct cfg_node		*n, **tail;
	const struct cfg_node	*c;

	if ((n = arena_alloc(t, sizeof(*n))) == NULL)
		return NULL;
	memset(n, 0, sizeof(*n));
	if ((n->name = arena_strndup(t, s->name, strlen(s->name))) == NULL)
		return NULL;
	if (s->text != NULL &&
	    (n->text = arena_strndup(t, s->text, strlen(s->text))) == NULL)
		return NULL;
	n->file = t->file;
	n->line = s->line;
	n->parent = parent;
	tail = &n->child;
	for (c = s->child; c != NULL; c = c->next) {
		if ((*tail = copy_node(t, c, n)) == NULL)
			return NULL;
		tail = &(*tail)->next;
	}
	return n;
}

static size_t
count_named(const struct cfg_node *parent, const char *name)
{
	const struct cfg_node	*c;
	size_t			 n = 0;

	for (c = parent->child; c != NULL; c = c->next)
		n += strcmp(c->name, name) == 0;
	return n;
}

static struct cfg_node *
nth_named(struct cfg_node *parent, const char *name, size_t i)
{
	struct cfg_node	*c;

	for (c = parent->child; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0 && i-- == 0)
			return c;
	return NULL;
}

static struct cfg_node **
tail_of(struct cfg_node *parent)
{
	struct cfg_node	**tail = &parent->child;

	while (*tail != NULL)
		tail = &(*tail)->next;
	return tail;
}

static int merge_children(struct cfg_tree *, struct cfg_node *,
    const struct cfg_node *);

/* d takes s's value: objects merge, anything else is replaced. */
static int
merge_value(struct cfg_tree *t, struct cfg_node *d, const struct cfg_node *s)
{
	const struct cfg_node	*c;
	struct cfg_node		**tail;

	if (d->child != NULL && s->child != NULL)
		return merge_children(t, d, s);
	d->child = NULL;
	d->text = NULL;
	d->line = s->line;
	if (s->text != NULL &&
	    (d->text = arena_strndup(t, s->text, strlen(s->text))) == NULL)
		return -ENOMEM;
	tail = &d->child;
	for (c = s->child; c != NULL; c = c->next) {
		if ((*tail = copy_node(t, c, d)) == NULL)
			return -ENOMEM;
		tail = &(*tail)->next;
	}
	return 0;
}

static int
merge_children(struct cfg_tree *t, struct cfg_node *d,
    const struct cfg_node *s)
{
	const struct cfg_node	*sc, *p;
	struct cfg_node		**pp, *dc;
	size_t			 ns, nd, i;
	int			 rc;

	for (sc = s->child; sc != NULL; sc = sc->next) {
		/* Each name once, at its first occurrence in s. */
		for (p = s->child; p != sc; p = p->next)
			if (strcmp(p->name, sc->name) == 0)
				break;
		if (p != sc)
			continue;
		ns = count_named(s, sc->name);
		nd = count_named(d, sc->name);
		if (nd > 0 && (nd > 1) != (ns > 1)) {
			/* One against a list: the host's value wins. */
			for (pp = &d->child; *pp != NULL;)
				if (strcmp((*pp)->name, sc->name) == 0)
					*pp = (*pp)->next;
				else
					pp = &(*pp)->next;
			nd = 0;
		}
		for (i = 0, p = sc; p != NULL; p = p->next) {
			if (strcmp(p->name, sc->name) != 0)
				continue;
			if (i < nd) {
				dc = nth_named(d, sc->name, i);
				if ((rc = merge_value(t, dc, p)) != 0)
					return rc;
			} else if ((*tail_of(d) = copy_node(t, p, d)) == NULL)
				return -ENOMEM;
			i++;
		}
	}
	return 0;
}

int
cfg_merge_host(const struct cfg_tree *settings, const char *host,
    struct cfg_tree **out, struct cfg_err *err)
{
	const struct cfg_node	*def, *h;
	struct cfg_tree		*t;
	struct cfg_node		*root;

	if (settings == NULL || settings->root == NULL)
		return -EINVAL;
	def = cfg_child(settings->root, "default");
	h = host != NULL ? cfg_child(cfg_child(settings->root, "hosts"),
	    host) : NULL;
	if (def == NULL && h == NULL) {
		cfg_errf(err, settings->root, NULL,
		    "neither <default> nor <hosts><%s> found", host != NULL ?
		    host : "(none)");
		return -EINVAL;
	}
	if ((t = tree_new(settings->file)) == NULL)
		goto nomem;
	/* The root stands for both sections; it keeps <default>'s name. */
	if ((root = arena_alloc(t, sizeof(*root))) == NULL)
		goto nomem;
	memset(root, 0, sizeof(*root));
	root->name = "settings";
	root->file = t->file;
	root->line = def != NULL ? def->line : h->line;
	root->text = "";
	t->root = root;
	if (def != NULL && merge_value(t, root, def) != 0)
		goto nomem;
	/* An empty host entry adds nothing; it must not wipe defaults. */
	if (h != NULL && h->child != NULL && merge_value(t, root, h) != 0)
		goto nomem;
	if (root->child == NULL && root->text == NULL)
		root->text = "";
	*out = t;
	return 0;
nomem:
	cfg_tree_free(&t);
	file_errf(err, settings->file, 0, "out of memory");
	return -ENOMEM;
}

/* ------------------------------------------------------------- json */

static json_t *
leaf_json(const char *s)
{
	size_t	n = strlen(s), i;

	if (n == 0)
		return json_null();
	if (n <= 10) {
		for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == n)
			return json_integer(strtoll(s, NULL, 10));
	}
	return json_string(s);
}

json_t *
cfg_to_json(const struct cfg_node *n)
{
	const struct cfg_node	*c;
	json_t			*obj, *v, *ex, *arr;

	if (n == NULL)
		return json_null();
	if (n->child == NULL)
		return leaf_json(n->text != NULL ? n->text : "");
	if ((obj = json_object()) == NULL)
		return NULL;
	for (c = n->child; c != NULL; c = c->next) {
		if ((v = cfg_to_json(c)) == NULL)
			goto fail;
		/* A node's own value is never an array: arrays are ours. */
		if ((ex = json_object_get(obj, c->name)) == NULL) {
			if (json_object_set_new(obj, c->name, v) != 0)
				goto fail;
		} else if (json_is_array(ex)) {
			if (json_array_append_new(ex, v) != 0)
				goto fail;
		} else {
			/* The _new calls take v and arr even on failure. */
			if ((arr = json_array()) == NULL) {
				json_decref(v);
				goto fail;
			}
			if (json_array_append(arr, ex) != 0) {
				json_decref(v);
				json_decref(arr);
				goto fail;
			}
			if (json_array_append_new(arr, v) != 0 ||
			    json_object_set_new(obj, c->name, arr) != 0)
				goto fail;
		}
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}
