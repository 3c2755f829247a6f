/*
 * test_cfg.c: the generic configuration tree, common/cfg_tree.c and
 * common/cfg_table.c: parsing (malformed and hostile XML), lookups and
 * contexts, the JSON form, the default+host merge (spec 5.4) and the
 * typed getters with their messages.  The views are in test_cfg_views.c.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "th_cfg.h"

/* ------------------------------------------------------------ parse */

static const struct {
	const char	*xml;
	int		 rc;
	const char	*msg;		/* substring of the error, or NULL */
} parse_cases[] = {
	{ "<a><b>1</b></a>", 0, NULL },
	{ "", -EINVAL, "t.xml:1: malformed XML: Document is empty" },
	{ "hello", -EINVAL, "t.xml:1: malformed XML" },
	{ "<a>\n<b>\n</a>", -EINVAL, "t.xml:3: malformed XML" },
	{ "<a></b>", -EINVAL, "malformed XML" },
	{ "<a/><b/>", -EINVAL, "malformed XML" },
	{ "<a>&undefined;</a>", -EINVAL, "malformed XML" },
	{ "<?xml version=\"1.0\" encoding=\"bogus-enc\"?><a/>", -EINVAL,
	  "t.xml" },
	/* No network, no external DTD: these parse, nothing is fetched. */
	{ "<!DOCTYPE a SYSTEM \"http://127.0.0.1:1/x.dtd\"><a>x</a>", 0, NULL },
	{ "<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
	  "<a><b>&e;</b></a>", 0, NULL },
	{ "<!-- c --><a x=\"1\"><?pi x?><![CDATA[<raw>]]></a>", 0, NULL },
};

START_TEST(test_parse)
{
	struct cfg_tree	*t = NULL;
	struct cfg_err	 err = { "" };
	const char	*xml = parse_cases[_i].xml;
	int		 rc;

	rc = cfg_load_mem(xml, strlen(xml), "t.xml", &t, &err);
	ck_assert_int_eq(rc, parse_cases[_i].rc);
	if (rc == 0) {
		ck_assert_ptr_nonnull(t);
		ck_assert_ptr_nonnull(cfg_root(t));
	} else {
		ck_assert_ptr_null(t);
		ck_assert_msg(strstr(err.msg, parse_cases[_i].msg) != NULL,
		    "\"%s\" lacks \"%s\"", err.msg, parse_cases[_i].msg);
		ck_assert_ptr_null(strchr(err.msg, '\n'));
	}
	cfg_tree_free(&t);
	ck_assert_ptr_null(t);
	cfg_tree_free(&t);		/* NULL is a no-op */
}
END_TEST

/* Entities are never expanded: no file contents, no amplification. */
START_TEST(test_parse_entities)
{
	struct cfg_tree	*t;

	t = th_tree("<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">"
	    "<!ENTITY i \"inner\">]><a><b>&e;</b><c>x&i;y</c>"
	    "<d>&lt;&amp;</d><e><![CDATA[ <raw> ]]></e></a>");
	ck_assert_str_eq(cfg_get(cfg_root(t), "b")->text, "");
	ck_assert_str_eq(cfg_get(cfg_root(t), "c")->text, "xy");
	ck_assert_str_eq(cfg_get(cfg_root(t), "d")->text, "<&");
	ck_assert_str_eq(cfg_get(cfg_root(t), "e")->text, "<raw>");
	cfg_tree_free(&t);
}
END_TEST

START_TEST(test_load_file)
{
	struct cfg_tree	*t = NULL;
	struct cfg_err	 err = { "" };
	const char	*p;

	ck_assert_int_eq(cfg_load("/nonexistent/opensrf.xml", &t, &err),
	    -ENOENT);
	ck_assert_str_eq(err.msg,
	    "/nonexistent/opensrf.xml: open: No such file or directory");
	ck_assert_int_eq(cfg_load("/", &t, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "/: not a regular file");
	p = th_path("test/data/malformed.xml");
	ck_assert_int_eq(cfg_load(p, &t, &err), -EINVAL);
	ck_assert_ptr_null(t);
	ck_assert_msg(th_contains(err.msg, "malformed.xml:5: malformed XML",
	    "opensr", NULL), "%s", err.msg);
	p = th_path("test/data/billion_laughs.xml");
	ck_assert_int_eq(cfg_load(p, &t, &err), -EINVAL);
	ck_assert_msg(th_contains(err.msg, "billion_laughs.xml:15: malformed "
	    "XML", NULL), "%s", err.msg);
	/* Too large: refused before a byte is read. */
	ck_assert_int_eq(cfg_load_mem("<a/>", (size_t)CFG_FILE_MAX + 1, "big",
	    &t, &err), -EFBIG);
	ck_assert_str_eq(err.msg, "big: file too large (more than 16777216 "
	    "bytes)");
	p = th_path("test/data/settings_merge.xml");
	ck_assert_int_eq(cfg_load(p, &t, &err), 0);
	ck_assert_str_eq(cfg_tree_file(t), p);
	ck_assert_int_eq(cfg_get(cfg_root(t),
	    "default/apps/svc.bad/unix_config/max_children")->line, 34);
	cfg_tree_free(&t);
}
END_TEST

/* A FIFO named by mistake is refused, not waited on. */
START_TEST(test_load_fifo)
{
	char		 dir[] = "/tmp/drover-cfg-XXXXXX", path[64];
	struct cfg_tree	*t = NULL;
	struct cfg_err	 err = { "" };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo.xml", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(cfg_load(path, &t, &err), -EINVAL);
	ck_assert_ptr_null(t);
	ck_assert_msg(th_contains(err.msg, "not a regular file", NULL), "%s",
	    err.msg);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_text_and_lines)
{
	struct cfg_tree		*t;
	const struct cfg_node	*r, *n;

	t = th_tree("<r>\n <a>  spaced \n</a>\n <b/>\n <c><d>1</d>mixed</c>"
	    "\n <e>\t\n</e></r>");
	r = cfg_root(t);
	ck_assert_str_eq(r->name, "r");
	ck_assert_ptr_null(r->text);
	ck_assert_int_eq(r->line, 1);
	n = cfg_get(r, "a");
	ck_assert_str_eq(n->text, "spaced");
	ck_assert_int_eq(n->line, 2);
	ck_assert_str_eq(n->file, "t.xml");
	ck_assert_ptr_eq(n->parent, r);
	ck_assert_str_eq(cfg_get(r, "b")->text, "");
	ck_assert_int_eq(cfg_get(r, "b")->line, 4);
	/* Mixed content: the element children win, the text is dropped. */
	ck_assert_ptr_null(cfg_get(r, "c")->text);
	ck_assert_str_eq(cfg_get(r, "c/d")->text, "1");
	ck_assert_str_eq(cfg_get(r, "e")->text, "");
	cfg_tree_free(&t);
}
END_TEST

/* ---------------------------------------------------------- lookups */

static const char lookup_xml[] =
    "<config>"
    " <x><opensrf><k>nested-first</k></opensrf></x>"
    " <opensrf><k>second</k><l><m>1</m></l><l><m>2</m><m>3</m></l>"
    "  <l><n/></l></opensrf>"
    " <routers><router>r1</router></routers>"
    "</config>";

START_TEST(test_lookup)
{
	struct cfg_tree		*t = th_tree(lookup_xml);
	const struct cfg_node	*ctx, *all[2];
	char			 buf[64];

	/* The first element of that name anywhere, in document order. */
	ctx = cfg_context(t, "opensrf");
	ck_assert_ptr_nonnull(ctx);
	ck_assert_str_eq(cfg_get(ctx, "k")->text, "nested-first");
	ck_assert_ptr_eq(cfg_context(t, "config"), cfg_root(t));
	ck_assert_ptr_null(cfg_context(t, "nosuch"));
	ck_assert_ptr_null(cfg_context(NULL, "x"));

	ctx = cfg_child(cfg_root(t), "opensrf");
	ck_assert_str_eq(cfg_get(ctx, "k")->text, "second");
	/* First match across repeated parents; slashes are forgiving. */
	ck_assert_str_eq(cfg_get(ctx, "l/m")->text, "1");
	ck_assert_str_eq(cfg_get(ctx, "/l//m/")->text, "1");
	ck_assert_ptr_eq(cfg_get(ctx, ""), ctx);
	ck_assert_ptr_null(cfg_get(ctx, "l/nosuch"));
	ck_assert_ptr_null(cfg_get(ctx, "l/m/deeper"));
	ck_assert_ptr_null(cfg_get(NULL, "k"));
	ck_assert_str_eq(cfg_get(ctx, "l/n")->name, "n");
	/* Prefixes of names do not match. */
	ck_assert_ptr_null(cfg_get(ctx, "l/"  "mm"));
	ck_assert_ptr_null(cfg_get(ctx, "kk"));

	ck_assert_uint_eq(cfg_get_all(ctx, "l/m", NULL, 0), 3);
	ck_assert_uint_eq(cfg_get_all(ctx, "l/m", all, 2), 3);
	ck_assert_str_eq(all[0]->text, "1");
	ck_assert_str_eq(all[1]->text, "2");
	ck_assert_uint_eq(cfg_get_all(ctx, "l", NULL, 0), 3);
	ck_assert_uint_eq(cfg_get_all(ctx, "zz", NULL, 0), 0);

	ck_assert_uint_eq(cfg_node_path(cfg_get(ctx, "l/m"), buf,
	    sizeof(buf)), strlen("opensrf/l/m"));
	ck_assert_str_eq(buf, "opensrf/l/m");
	cfg_node_path(cfg_root(t), buf, sizeof(buf));
	ck_assert_str_eq(buf, "config");
	ck_assert_uint_eq(cfg_node_path(cfg_get(ctx, "l/m"), buf, 5), 11);
	ck_assert_str_eq(buf, "open");
	cfg_tree_free(&t);
}
END_TEST

/* ------------------------------------------------------------- json */

static const struct {
	const char	*xml;
	const char	*json;
} json_cases[] = {
	{ "<a>text</a>", "\"text\"" },
	{ "<a>42</a>", "42" },
	{ "<a>0042</a>", "42" },
	{ "<a>1234567890</a>", "1234567890" },
	{ "<a>12345678901</a>", "\"12345678901\"" },	/* 11 digits */
	{ "<a>-5</a>", "\"-5\"" },
	{ "<a>1.5</a>", "\"1.5\"" },
	{ "<a> 7 </a>", "7" },
	{ "<a/>", "null" },
	{ "<a><b>1</b><c>x</c><d/></a>", "{\"b\":1,\"c\":\"x\",\"d\":null}" },
	{ "<a><b>1</b><b>2</b><b>x</b></a>", "{\"b\":[1,2,\"x\"]}" },
	{ "<a><b>1</b><c/><b><d>2</d></b></a>",
	  "{\"b\":[1,{\"d\":2}],\"c\":null}" },
	{ "<a k=\"v\"><!-- no --><b>1</b></a>", "{\"b\":1}" },
};

START_TEST(test_to_json)
{
	struct cfg_tree	*t = th_tree(json_cases[_i].xml);
	json_t		*got, *want;
	char		*s;

	got = cfg_to_json(cfg_root(t));
	want = json_loads(json_cases[_i].json, JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_nonnull(want);
	s = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
	ck_assert_msg(json_equal(got, want), "got %s, want %s", s,
	    json_cases[_i].json);
	free(s);
	json_decref(got);
	json_decref(want);
	cfg_tree_free(&t);
	got = cfg_to_json(NULL);
	ck_assert(json_is_null(got));
	json_decref(got);
}
END_TEST

/* ------------------------------------------------------------ merge */

static const struct {
	const char	*host;
	int		 rc;
	const char	*json;		/* merged root, or error substring */
} merge_cases[] = {
	/* Objects key by key, lists index by index, scalars replaced. */
	{ "h1.example.org", 0,
	  "{\"activeapps\":{\"appname\":[\"b1\",\"b2\",\"a3\"]},"
	  "\"cache\":{\"global\":{\"servers\":{\"server\":"
	  "[\"127.0.0.1:11211, 127.0.0.2:11211\",\"10.0.0.1:11211\"]}}},"
	  "\"single\":{\"now\":\"object\"},"
	  "\"apps\":{\"svc.a\":{\"implementation\":\"a.so\","
	  "\"unix_config\":{\"min_children\":2,\"max_children\":12},"
	  "\"app_settings\":{\"x\":1,\"y\":\"three\",\"z\":null}},"
	  "\"svc.bad\":{\"implementation\":\"bad.so\","
	  "\"unix_config\":{\"max_children\":300}},"
	  "\"svc.h\":{\"implementation\":\"h.so\"}}}" },
	/* One against a list: the host's value replaces the list. */
	{ "h2.example.org", 0, "\"only\"" },
	/* An empty host entry and a host without one: the defaults. */
	{ "h3.example.org", 0, "[\"a1\",\"a2\",\"a3\"]" },
	{ "unknown.example.org", 0, "[\"a1\",\"a2\",\"a3\"]" },
	{ NULL, 0, "[\"a1\",\"a2\",\"a3\"]" },
};

START_TEST(test_merge)
{
	struct cfg_tree	*t = NULL, *m = NULL;
	struct cfg_err	 err = { "" };
	json_t		*got, *want;
	char		*s;

	ck_assert_int_eq(cfg_load(th_path("test/data/settings_merge.xml"),
	    &t, &err), 0);
	ck_assert_int_eq(cfg_merge_host(t, merge_cases[_i].host, &m, &err),
	    merge_cases[_i].rc);
	/* The whole tree for h1, the activeapps list for the others. */
	got = cfg_to_json(cfg_root(m));
	ck_assert_ptr_nonnull(got);
	if (_i > 0) {
		json_t *a = json_object_get(json_object_get(got, "activeapps"),
		    "appname");

		json_incref(a);
		json_decref(got);
		got = a;
	}
	want = json_loads(merge_cases[_i].json, JSON_DECODE_ANY, NULL);
	s = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
	ck_assert_msg(json_equal(got, want), "got %s", s);
	free(s);
	json_decref(got);
	json_decref(want);
	/* Merged nodes keep the file and line they came from. */
	if (_i == 0) {
		ck_assert_int_eq(cfg_get(cfg_root(m),
		    "apps/svc.a/unix_config/max_children")->line, 51);
		ck_assert_int_eq(cfg_get(cfg_root(m),
		    "apps/svc.a/unix_config/min_children")->line, 23);
		ck_assert_str_eq(cfg_get(cfg_root(m), "single/now")->file,
		    cfg_tree_file(t));
	}
	cfg_tree_free(&m);
	cfg_tree_free(&t);
}
END_TEST

START_TEST(test_merge_edges)
{
	struct cfg_tree	*t, *m = NULL;
	struct cfg_err	 err = { "" };
	json_t		*j;

	/* Host entry without <default>. */
	t = th_tree("<opensrf><hosts><h><a>1</a></h></hosts></opensrf>");
	ck_assert_int_eq(cfg_merge_host(t, "h", &m, &err), 0);
	ck_assert_str_eq(cfg_get(cfg_root(m), "a")->text, "1");
	cfg_tree_free(&m);
	/* Neither: an error naming the host. */
	ck_assert_int_eq(cfg_merge_host(t, "other", &m, &err), -EINVAL);
	ck_assert_ptr_null(m);
	ck_assert_msg(th_contains(err.msg, "t.xml:1:", "<hosts><other>",
	    NULL), "%s", err.msg);
	cfg_tree_free(&t);
	/* Host values replace default objects and the reverse. */
	t = th_tree("<o><default><a><b>1</b></a><c>x</c><d>1</d><d>2</d>"
	    "</default><hosts><h><a>flat</a><c><e>obj</e></c><d/></h>"
	    "</hosts></o>");
	ck_assert_int_eq(cfg_merge_host(t, "h", &m, &err), 0);
	j = cfg_to_json(cfg_root(m));
	ck_assert_str_eq(json_string_value(json_object_get(j, "a")), "flat");
	ck_assert_str_eq(json_string_value(json_object_get(
	    json_object_get(j, "c"), "e")), "obj");
	ck_assert(json_is_null(json_object_get(j, "d")));
	json_decref(j);
	cfg_tree_free(&m);
	cfg_tree_free(&t);
}
END_TEST

/* ---------------------------------------------------------- getters */

enum getter { G_INT, G_BOOL, G_STR };

static const struct {
	const char	*xml;
	enum getter	 g;
	long long	 min, max;
	int		 rc;
	long long	 ival;
	const char	*sval;
	const char	*msg;
} get_cases[] = {
	{ "<r><k>42</k></r>", G_INT, 1, 256, 0, 42, NULL, NULL },
	{ "<r><k> 7 </k></r>", G_INT, 1, 256, 0, 7, NULL, NULL },
	{ "<r/>", G_INT, 1, 256, 0, -1, NULL, NULL },		/* default */
	/* empty is not "unset": a value was meant and is missing */
	{ "<r><k/></r>", G_INT, 1, 256, -EINVAL, 0, NULL,
	  "t.xml:1: k: expected an integer from 1 to 256, got an empty "
	  "element" },
	{ "<r><k> </k></r>", G_INT, 1, 256, -EINVAL, 0, NULL,
	  "got an empty element" },
	/* a key given twice: which one was meant? */
	{ "<r>\n<k>1</k>\n<k>2</k></r>", G_INT, 1, 256, -EINVAL, 0, NULL,
	  "t.xml:3: k: given more than once (first at line 2)" },
	{ "<r><k>1</k><k>1</k></r>", G_INT, 1, 256, -EINVAL, 0, NULL,
	  "k: given more than once" },
	{ "<r>\n<k>300</k></r>", G_INT, 1, 256, -EINVAL, 0, NULL,
	  "t.xml:2: k: expected an integer from 1 to 256, got \"300\"" },
	{ "<r><k>0</k></r>", G_INT, 1, 256, -EINVAL, 0, NULL,
	  "expected an integer from 1 to 256, got \"0\"" },
	{ "<r><k>ten</k></r>", G_INT, 1, 256, -EINVAL, 0, NULL,
	  "t.xml:1: k: expected an integer from 1 to 256, got \"ten\"" },
	{ "<r><k>5s</k></r>", G_INT, 0, 9, -EINVAL, 0, NULL, "got \"5s\"" },
	{ "<r><k>99999999999999999999</k></r>", G_INT, 0, 9, -EINVAL, 0, NULL,
	  "from 0 to 9" },
	{ "<r><k><v>1</v></k></r>", G_INT, 0, 9, -EINVAL, 0, NULL,
	  "k: expected an integer from 0 to 9, got an element with children" },
	{ "<r><k>a\tb</k></r>", G_INT, 0, 9, -EINVAL, 0, NULL,
	  "got \"a?b\"" },
	{ "<r><k>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxx</k></r>", G_INT, 0, 9, -EINVAL, 0, NULL, "xxx...\"" },
	{ "<r><k>true</k></r>", G_BOOL, 0, 0, 0, 1, NULL, NULL },
	{ "<r><k>FALSE</k></r>", G_BOOL, 0, 0, 0, 0, NULL, NULL },
	{ "<r><k>yes</k></r>", G_BOOL, 0, 0, 0, 1, NULL, NULL },
	{ "<r><k>off</k></r>", G_BOOL, 0, 0, 0, 0, NULL, NULL },
	{ "<r><k>1</k></r>", G_BOOL, 0, 0, 0, 1, NULL, NULL },
	{ "<r/>", G_BOOL, 0, 0, 0, -1, NULL, NULL },
	{ "<r><k></k></r>", G_BOOL, 0, 0, -EINVAL, 0, NULL,
	  "k: expected a boolean (true/false, yes/no, on/off, 1/0), got an "
	  "empty element" },
	{ "<r><k>true</k><k>false</k></r>", G_BOOL, 0, 0, -EINVAL, 0, NULL,
	  "k: given more than once (first at line 1)" },
	{ "<r><k>maybe</k></r>", G_BOOL, 0, 0, -EINVAL, 0, NULL,
	  "k: expected a boolean (true/false, yes/no, on/off, 1/0), "
	  "got \"maybe\"" },
	{ "<r><k><x/></k></r>", G_BOOL, 0, 0, -EINVAL, 0, NULL,
	  "got an element with children" },
	{ "<r><k>val</k><k>second</k></r>", G_STR, 0, 0, -EINVAL, 0, NULL,
	  "t.xml:1: k: given more than once (first at line 1)" },
	{ "<r><k/><k/></r>", G_STR, 0, 0, -EINVAL, 0, NULL,
	  "k: given more than once" },
	{ "<r/>", G_STR, 0, 0, 0, 0, "def", NULL },
	/* strings may be empty: OpenSRF's own files have <pid/> (cfg.h) */
	{ "<r><k/></r>", G_STR, 0, 0, 0, 0, "def", NULL },
	/* a repeated element elsewhere is not this key */
	{ "<r><k>v</k><j>1</j><j>2</j></r>", G_STR, 0, 0, 0, 0, "v", NULL },
	{ "<r><k><x>1</x></k></r>", G_STR, 0, 0, -EINVAL, 0, NULL,
	  "t.xml:1: k: expected a string, got an element with children" },
};

START_TEST(test_getters)
{
	struct cfg_tree	*t = th_tree(get_cases[_i].xml);
	struct cfg_err	 err = { "" };
	long long	 v = -999;
	int		 b = -999, rc = 0;
	const char	*s = "untouched";

	switch (get_cases[_i].g) {
	case G_INT:
		rc = cfg_int(cfg_root(t), "k", get_cases[_i].min,
		    get_cases[_i].max, -1, &v, &err);
		if (rc == 0)
			ck_assert_int_eq(v, get_cases[_i].ival);
		else
			ck_assert_int_eq(v, -999);
		break;
	case G_BOOL:
		rc = cfg_bool(cfg_root(t), "k", -1, &b, &err);
		if (rc == 0)
			ck_assert_int_eq(b, get_cases[_i].ival);
		else
			ck_assert_int_eq(b, -999);
		break;
	case G_STR:
		rc = cfg_str(cfg_root(t), "k", "def", &s, &err);
		if (rc == 0)
			ck_assert_str_eq(s, get_cases[_i].sval);
		else
			ck_assert_str_eq(s, "untouched");
		break;
	}
	ck_assert_int_eq(rc, get_cases[_i].rc);
	if (rc != 0)
		ck_assert_msg(strstr(err.msg, get_cases[_i].msg) != NULL,
		    "\"%s\" lacks \"%s\"", err.msg, get_cases[_i].msg);
	cfg_tree_free(&t);
}
END_TEST

START_TEST(test_strv)
{
	struct cfg_tree	*t;
	struct cfg_err	 err = { "" };
	char		**v = NULL;
	size_t		  n = 99;

	/* One element or many: both are lists. */
	t = th_tree("<r><l><s>one</s></l><l><s>two</s><s/><s>three</s></l>"
	    "<m><s><x/></s></m></r>");
	ck_assert_int_eq(cfg_strv(cfg_root(t), "l/s", &v, &n, &err), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0], "one");
	ck_assert_str_eq(v[2], "three");
	ck_assert_ptr_null(v[3]);
	cfg_strv_free(&v);
	ck_assert_ptr_null(v);
	cfg_strv_free(&v);
	ck_assert_int_eq(cfg_strv(cfg_root(t), "none", &v, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v[0]);
	cfg_strv_free(&v);
	ck_assert_int_eq(cfg_strv(cfg_root(t), "m/s", &v, &n, &err), -EINVAL);
	ck_assert_ptr_null(v);
	ck_assert_msg(th_contains(err.msg, "m/s: expected a string", NULL),
	    "%s", err.msg);
	cfg_tree_free(&t);
}
END_TEST

START_TEST(test_errf)
{
	struct cfg_tree	*t = th_tree("<r>\n<a><b>x</b></a></r>");
	struct cfg_err	 err;
	char		 big[2 * CFG_ERR_MAX];

	cfg_errf(&err, cfg_get(cfg_root(t), "a/b"), NULL, "bad %d", 1);
	ck_assert_str_eq(err.msg, "t.xml:2: a/b: bad 1");
	cfg_errf(&err, NULL, "k", "bad");
	ck_assert_str_eq(err.msg, "k: bad");
	cfg_err_missing(&err, cfg_get(cfg_root(t), "a"), "c/d");
	ck_assert_str_eq(err.msg, "t.xml:2: a/c/d: required key is missing");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cfg_errf(&err, cfg_root(t), big, "%s", big);
	ck_assert_uint_eq(strlen(err.msg), CFG_ERR_MAX - 1);
	cfg_errf(NULL, cfg_root(t), NULL, "no crash");
	cfg_tree_free(&t);
}
END_TEST

Suite *
cfg_suite(void)
{
	Suite	*s = suite_create("cfg");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse, 0, ARRAY_LEN(parse_cases));
	tcase_add_test(tc, test_parse_entities);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_load_fifo);
	tcase_add_test(tc, test_text_and_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookup");
	tcase_add_test(tc, test_lookup);
	tcase_add_loop_test(tc, test_to_json, 0, ARRAY_LEN(json_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("merge");
	tcase_add_loop_test(tc, test_merge, 0, ARRAY_LEN(merge_cases));
	tcase_add_test(tc, test_merge_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("getters");
	tcase_add_loop_test(tc, test_getters, 0, ARRAY_LEN(get_cases));
	tcase_add_test(tc, test_strv);
	tcase_add_test(tc, test_errf);
	suite_add_tcase(s, tc);
	return s;
}
