/*
 * test_xmpp.c: the XMPP client (proto/xmpp*.c).
 *
 * Unit cases: SCRAM against the RFC 5802 and RFC 7677 examples, base64,
 * the legacy digest and login bytes against handshake_listener.xml,
 * resource names (spec 1.2), the reconnect back-off; the login state
 * machine stepped one server byte at a time and the output queue
 * (partial writes, order, its bound, flushing) against a server the
 * test plays itself.
 * Integration cases (tag "integration") against the private ejabberd
 * and prosody of test/servers: every login method, through xmpp_open()
 * and through start/step, refused passwords, two clients talking, an
 * oversized stanza refused while the connection lives on, a TLS queue,
 * a server restart, the prosody <digest> trap, and issue 14: messages
 * for a vanished resource bounce instead of reaching the account's
 * other resources.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg.h"
#include "proto/pbuf.h"
#include "proto/bus.h"
#include "proto/reg.h"
#include "th_capture.h"
#include "th_servers.h"
#include "proto/tmsg.h"
#include "util.h"
#include "proto/xmpp.h"
#include "proto/xmpp_int.h"

/* ------------------------------------------------------------ SCRAM */

static const struct {
	const char	*mech, *user, *pass, *cnonce;
	const char	*first, *server_first, *final, *server_final;
} scram_vec[] = {
	/* RFC 5802 section 5 */
	{ "SCRAM-SHA-1", "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL",
	  "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
	  "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,"
	  "i=4096",
	  "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	  "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
	  "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=" },
	/* RFC 7677 section 3 */
	{ "SCRAM-SHA-256", "user", "pencil", "rOprNGfwEbeRWgbNEkqO",
	  "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
	  "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	  "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	  "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	  "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	  "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" },
};

START_TEST(test_scram_rfc)
{
	struct xmpp_scram	 s;
	char			*out;

	ck_assert_int_eq(xmpp_scram_first(&s, scram_vec[_i].mech,
	    scram_vec[_i].user, scram_vec[_i].cnonce, &out), 0);
	ck_assert_str_eq(out, scram_vec[_i].first);
	free(out);
	ck_assert_int_eq(xmpp_scram_final(&s, scram_vec[_i].pass,
	    scram_vec[_i].server_first, &out), 0);
	ck_assert_str_eq(out, scram_vec[_i].final);
	free(out);
	ck_assert_int_eq(xmpp_scram_verify(&s, scram_vec[_i].server_final),
	    0);
	ck_assert_int_eq(xmpp_scram_verify(&s,
	    "v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="), -EACCES);
	ck_assert_int_eq(xmpp_scram_verify(&s, "e=invalid-proof"), -EACCES);
	xmpp_scram_clear(&s);
}
END_TEST

static const struct {
	const char	*server_first;
	int		 rc;
} scram_bad[] = {
	{ "r=OTHERNONCE,s=QSXCR+Q6sek8bf92,i=4096", -EPROTO },
	/* the server's nonce does not extend ours */
	{ "r=abc,s=QSXCR+Q6sek8bf92,i=4096", -EPROTO },
	{ "r=abcdef,i=4096", -EPROTO },			/* no salt */
	{ "r=abcdef,s=QSXCR+Q6sek8bf92", -EPROTO },	/* no count */
	{ "r=abcdef,s=QSXCR+Q6sek8bf92,i=0", -EPROTO },
	{ "r=abcdef,s=QSXCR+Q6sek8bf92,i=99999999", -EPROTO },
	{ "r=abcdef,s=QSXCR+Q6sek8bf92,i=12x", -EPROTO },
	{ "r=abcdef,s=not*base64,i=4096", -EPROTO },
	{ "", -EPROTO },
};

START_TEST(test_scram_bad_server_first)
{
	struct xmpp_scram	 s;
	char			*out = NULL;

	ck_assert_int_eq(xmpp_scram_first(&s, "SCRAM-SHA-1", "u", "abc",
	    &out), 0);
	free(out);
	out = (char *)"untouched";
	ck_assert_int_eq(xmpp_scram_final(&s, "pw", scram_bad[_i].server_first,
	    &out), scram_bad[_i].rc);
	ck_assert_ptr_null(out);
	xmpp_scram_clear(&s);
}
END_TEST

START_TEST(test_scram_misc)
{
	struct xmpp_scram	 s;
	char			*out;

	/* saslname escaping, RFC 5802 5.1 */
	ck_assert_int_eq(xmpp_scram_first(&s, "SCRAM-SHA-1", "a,b=c", "n",
	    &out), 0);
	ck_assert_str_eq(out, "n,,n=a=2Cb=3Dc,r=n");
	free(out);
	xmpp_scram_clear(&s);
	/* random nonce: 32 base64 characters */
	ck_assert_int_eq(xmpp_scram_first(&s, "SCRAM-SHA-1", "u", NULL,
	    &out), 0);
	ck_assert_uint_eq(strlen(out), strlen("n,,n=u,r=") + 32);
	free(out);
	/* verify before final is a misuse */
	ck_assert_int_eq(xmpp_scram_verify(&s, "v=x"), -EINVAL);
	xmpp_scram_clear(&s);
	ck_assert_int_eq(xmpp_scram_first(&s, "DIGEST-MD5", "u", "n", &out),
	    -EINVAL);
	ck_assert_ptr_null(out);
}
END_TEST

static const struct {
	const char	*plain, *b64;
} b64_vec[] = {	/* RFC 4648 section 10 */
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

START_TEST(test_b64)
{
	unsigned char	*dec;
	char		*enc;
	size_t		 len;

	enc = xmpp_b64_encode(b64_vec[_i].plain, strlen(b64_vec[_i].plain));
	ck_assert_str_eq(enc, b64_vec[_i].b64);
	free(enc);
	ck_assert_int_eq(xmpp_b64_decode(b64_vec[_i].b64, &dec, &len), 0);
	ck_assert_uint_eq(len, strlen(b64_vec[_i].plain));
	ck_assert_mem_eq(dec, b64_vec[_i].plain, len);
	free(dec);
}
END_TEST

START_TEST(test_b64_bad)
{
	unsigned char	*dec = (unsigned char *)"x";
	size_t		 len = 7;

	ck_assert_int_eq(xmpp_b64_decode("Zm9", &dec, &len), -EINVAL);
	ck_assert_ptr_null(dec);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(xmpp_b64_decode("Zm*v", &dec, &len), -EINVAL);
}
END_TEST

/* ----------------------------------------------------------- legacy */

static const struct {
	const char	*id, *pw, *hex;
} digest_vec[] = {	/* FIPS 180 examples, split between id and password */
	{ "", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
	{ "a", "bc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ "The quick brown fox ", "jumps over the lazy dog",
	  "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12" },
};

START_TEST(test_legacy_digest)
{
	char	out[XMPP_DIGEST_LEN];

	ck_assert_int_eq(xmpp_legacy_digest(digest_vec[_i].id,
	    digest_vec[_i].pw, out), 0);
	ck_assert_str_eq(out, digest_vec[_i].hex);
}
END_TEST

/* The C->S line of handshake_listener.xml, rebuilt from its parts. */
START_TEST(test_legacy_bytes_capture)
{
	const struct thc_vec	*v;
	struct pbuf		 b = { 0 };
	size_t			 n, i;
	int			 found = 0;

	v = thc_load(&n);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(xmpp_legacy_header(&b, "private.localhost"), 0);
	ck_assert_int_eq(xmpp_legacy_iq(&b, "opensrf",
	    "0a029616ee9d058f096b2da12ba757acbbf395fc", NULL,
	    "opensrf.math_listener_vm_1795549618.932885_22486"), 0);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].file, "handshake_listener.xml") != 0 ||
		    v[i].dir != THC_C2S)
			continue;
		ck_assert_str_eq(b.data, v[i].text);
		found = 1;
	}
	ck_assert_msg(found, "handshake_listener.xml C->S not found");
	pbuf_free(&b);
}
END_TEST

START_TEST(test_legacy_escaping)
{
	struct pbuf	b = { 0 };

	ck_assert_int_eq(xmpp_legacy_iq(&b, "a&b", NULL, "p<'\">", "r"), 0);
	ck_assert_str_eq(b.data, "<iq id='123456789' type='set'><query "
	    "xmlns='jabber:iq:auth'><username>a&amp;b</username><password>"
	    "p&lt;&apos;&quot;&gt;</password><resource>r</resource></query>"
	    "</iq>");
	pbuf_free(&b);
}
END_TEST

/* ---------------------------------------------------- names, back-off */

static const struct {
	enum xmpp_role	 role;
	const char	*svc, *host;
	uint64_t	 us;
	pid_t		 pid;
	const char	*want;
} res_vec[] = {
	{ XMPP_ROLE_LISTENER, "opensrf.math", "vm", 1795549618932885ull,
	  22486, "opensrf.math_listener_vm_1795549618.932885_22486" },
	{ XMPP_ROLE_DRONE, "opensrf.version", "vm", 1795549619398486ull,
	  22518, "opensrf.version_drone_vm_1795549619.398486_22518" },
	{ XMPP_ROLE_CLIENT, "ignored", "vm", 1795550063534240ull, 26676,
	  "_vm_1795550063.534240_26676" },
	{ XMPP_ROLE_CLIENT, NULL, "h", 1000000ull, 1, "_h_1.000000_1" },
};

START_TEST(test_resource_fmt)
{
	char	buf[128];

	ck_assert_int_eq(xmpp_resource_fmt(buf, sizeof(buf), res_vec[_i].role,
	    res_vec[_i].svc, res_vec[_i].host, res_vec[_i].us,
	    res_vec[_i].pid), (int)strlen(res_vec[_i].want));
	ck_assert_str_eq(buf, res_vec[_i].want);
}
END_TEST

START_TEST(test_resource_too_long)
{
	char	buf[10], name[256];

	ck_assert_int_eq(xmpp_resource_fmt(buf, sizeof(buf),
	    XMPP_ROLE_LISTENER, "opensrf.math", "vm", 1, 1), -ENAMETOOLONG);
	ck_assert_uint_eq(strlen(buf), sizeof(buf) - 1);
	ck_assert_int_gt(xmpp_resource_make(name, sizeof(name),
	    XMPP_ROLE_DRONE, "svc"), 0);
	ck_assert_ptr_nonnull(strstr(name, "svc_drone_"));
}
END_TEST

static const struct {
	const char	*iq, *reply;
} iq_vec[] = {
	{ "<iq from='private.localhost' to='a@b/c' id='p1' type='get'>"
	  "<ping xmlns='urn:xmpp:ping'/></iq>",
	  "<iq type='result' id='p1' to='private.localhost'/>" },
	{ "<iq type='get' id='s&amp;1'><ping xmlns='urn:xmpp:ping'/></iq>",
	  "<iq type='result' id='s&amp;1'/>" },
	{ "<iq from='x@y/z' id='d1' type='get'><query xmlns='http://jabber."
	  "org/protocol/disco#info'/></iq>",
	  "<iq type='error' id='d1' to='x@y/z'><error type='cancel' "
	  "code='503'><service-unavailable xmlns='urn:ietf:params:xml:ns:"
	  "xmpp-stanzas'/></error></iq>" },
	/* a <ping> in another namespace is no ping */
	{ "<iq id='q' type='get'><ping xmlns='x'/></iq>",
	  "<iq type='error' id='q'><error type='cancel' code='503'>"
	  "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'"
	  "/></error></iq>" },
};

START_TEST(test_iq_reply)
{
	struct xstanza	st = { 0 };
	struct pbuf	b = { 0 };

	st.raw = (char *)iq_vec[_i].iq;
	st.len = strlen(st.raw);
	ck_assert_int_eq(xmpp_iq_reply(&st, &b), 0);
	ck_assert_str_eq(b.data, iq_vec[_i].reply);
	pbuf_free(&b);
}
END_TEST

START_TEST(test_mechanisms_pin)
{
	struct bus_conf	 conf = { 0 };
	struct xmpp_conn	*c;

	conf.domain = (char *)"private.localhost";
	c = xmpp_new(&conf, "r");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(xmpp_set_mechanisms(c, "SCRAM-SHA-1 PLAIN"), 0);
	ck_assert_int_eq(xmpp_set_mechanisms(c, "DIGEST-MD5"), -EINVAL);
	ck_assert_int_eq(xmpp_set_mechanisms(c, NULL), 0);
	ck_assert_int_eq(xmpp_fd(c), -1);
	ck_assert_str_eq(xmpp_jid(c), "");
	ck_assert_int_eq(xmpp_send(c, "<x/>", 4), -ENOTCONN);
	xmpp_free(&c);
	ck_assert_ptr_null(c);
	xmpp_free(&c);		/* NULL is a no-op */
}
END_TEST

START_TEST(test_outq_max)
{
	ck_assert_uint_eq(xmpp_outq_max(0), XMPP_OUTQ_MIN);
	ck_assert_uint_eq(xmpp_outq_max(STANZA_MAX_SIZE_DEFAULT),
	    XMPP_OUTQ_MIN);
	ck_assert_uint_eq(xmpp_outq_max(64u * 1024 * 1024),
	    XMPP_OUTQ_STANZAS * 64u * 1024 * 1024);
	ck_assert_uint_eq(xmpp_outq_max(SIZE_MAX), SIZE_MAX);
}
END_TEST


/* ------------------------------------------------ scripted fake server */

/*
 * A one-connection XMPP "server" in a child process, for the client's
 * error paths without ejabberd: for each step it reads until `expect`
 * has arrived (NULL: at once), then writes `reply` (split: one byte per
 * write, so the parser sees every split).  After the last step it waits
 * for the client to close (or closes first with hangup).  Every wait is
 * bounded; the child also dies by alarm() if the test forgets it.
 */
struct fake_step {
	const char	*expect;
	const char	*reply;
	int		 split;
	const char	*forbid;	/* must not come before expect */
};

#define FAKE_WAIT_MS	10000

struct fake_srv {
	pid_t	pid;
	int	port;
};

static int
fake_read_until(int fd, char *buf, size_t cap, size_t *len, const char *want)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	ssize_t		n;

	while (want == NULL || strstr(buf, want) == NULL) {
		if (poll(&pfd, 1, FAKE_WAIT_MS) != 1)
			return -1;
		if (*len + 1 >= cap)
			*len = 0;	/* keep scanning new bytes only */
		n = read(fd, buf + *len, cap - *len - 1);
		if (n <= 0)
			return -1;
		*len += (size_t)n;
		buf[*len] = '\0';
		if (want == NULL)
			break;
	}
	return 0;
}

static void
fake_child(int lfd, const struct fake_step *steps, size_t n, int hangup)
{
	char		buf[65536];
	const char	*q;
	size_t		len = 0, i, k;
	struct pollfd	pfd = { .fd = lfd, .events = POLLIN };
	int		fd;

	alarm(20);
	if (poll(&pfd, 1, FAKE_WAIT_MS) != 1)
		_exit(2);
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(2);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (steps[i].expect != NULL && fake_read_until(fd, buf,
		    sizeof(buf), &len, steps[i].expect) != 0)
			_exit(3);
		/* forbidden before `expect` (the client may say more after) */
		if (steps[i].forbid != NULL && steps[i].expect != NULL &&
		    (q = strstr(buf, steps[i].forbid)) != NULL &&
		    q < strstr(buf, steps[i].expect))
			_exit(5);
		if (steps[i].reply == NULL)
			continue;
		if (!steps[i].split) {
			if (write_full(fd, steps[i].reply,
			    strlen(steps[i].reply)) != 0)
				_exit(4);
			continue;
		}
		for (k = 0; steps[i].reply[k] != '\0'; k++)
			if (write_full(fd, steps[i].reply + k, 1) != 0)
				_exit(4);
	}
	if (!hangup) {
		/* until the client closes */
		while (fake_read_until(fd, buf, sizeof(buf), &len, NULL) == 0)
			;
	}
	_exit(0);
}

static struct fake_srv
fake_start(const struct fake_step *steps, size_t n, int hangup)
{
	struct sockaddr_in	sin;
	socklen_t		slen = sizeof(sin);
	struct fake_srv		f;
	int			lfd;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &slen), 0);
	f.port = ntohs(sin.sin_port);
	f.pid = fork();
	ck_assert_int_ge(f.pid, 0);
	if (f.pid == 0)
		fake_child(lfd, steps, n, hangup);
	close(lfd);
	return f;
}

/* The child's exit status (0: it saw everything it expected). */
static int
fake_wait(struct fake_srv *f)
{
	int	st;

	ck_assert_int_eq(waitpid(f->pid, &st, 0), f->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static struct xmpp_conn *
fake_conn(int port, enum xmpp_auth auth)
{
	struct bus_conf	 conf;
	struct xmpp_conn	*c;

	memset(&conf, 0, sizeof(conf));
	conf.host = (char *)"127.0.0.1";
	conf.domain = (char *)"private.localhost";
	conf.port = port;
	conf.username = (char *)"opensrf";
	conf.password = (char *)"secret";
	conf.auth = auth;
	conf.legacy_digest = 1;
	conf.max_stanza_size = STANZA_MAX_SIZE_DEFAULT;
	c = xmpp_new(&conf, "res");
	ck_assert_ptr_nonnull(c);
	return c;
}

/* The S->C bytes of a capture file. */
static const char *
capture_s2c(const char *file)
{
	const struct thc_vec	*v;
	size_t			 n, i;

	v = thc_load(&n);
	for (i = 0; i < n; i++)
		if (strcmp(v[i].file, file) == 0 && v[i].dir == THC_S2C)
			return v[i].text;
	ck_abort_msg("%s: no S->C vector", file);
	return NULL;
}

#define LEGACY_RESULT	"<iq type='result' id='123456789'/>"
#define STREAM_V1 \
	"<?xml version='1.0'?><stream:stream id='42' " \
	"from='private.localhost' " \
	"version='1.0' xmlns='jabber:client' " \
	"xmlns:stream='http://etherx.jabber.org/streams'>"
#define FEATURES_PLAIN \
	"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:" \
	"xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>" \
	"</stream:features>"

/* handshake_listener.xml's answer, then a split message, then an error. */
START_TEST(test_fake_legacy_then_stream_error)
{
	static const char	msg[] = "<message xml:lang='en' to='a@b/c' "
	    "from='d@e/f'><opensrf router_from='' osrf_xid=''/><body>"
	    "[&quot;x&quot;]</body><thread>t</thread></message>";
	struct fake_step	 steps[] = {
		{ "<stream:stream", NULL, 1, NULL },	/* reply filled below */
		{ "<digest>", "<iq from='private.localhost' id='ping1' "
		  "type='get'><ping xmlns='urn:xmpp:ping'/></iq>", 0, NULL },
		{ "<iq type='result' id='ping1' to='private.localhost'/>",
		  msg, 1, NULL },
		{ NULL, "<stream:error><conflict xmlns='urn:ietf:params:xml:"
		  "ns:xmpp-streams'/></stream:error>", 0, NULL },
	};
	struct fake_srv		 f;
	struct xmpp_conn	*c;
	struct xstanza		*st;
	struct pollfd		 pfd;
	socklen_t		 olen = sizeof(int);
	int			 rc, got = 0, one = 0;

	steps[0].reply = capture_s2c("handshake_listener.xml");
	f = fake_start(steps, ARRAY_LEN(steps), 0);
	c = fake_conn(f.port, XMPP_AUTH_LEGACY);
	ck_assert_msg(xmpp_open(c, FAKE_WAIT_MS) == 0, "%s", xmpp_error(c));
	ck_assert_str_eq(xmpp_jid(c), "opensrf@private.localhost/res");
	ck_assert_str_eq(xmpp_auth_used(c), "legacy-digest");
	/* performance.md: Nagle off on every XMPP socket; STYLE: cloexec */
	ck_assert_int_eq(getsockopt(xmpp_fd(c), IPPROTO_TCP, TCP_NODELAY,
	    &one, &olen), 0);
	ck_assert_int_eq(one, 1);
	ck_assert(fcntl(xmpp_fd(c), F_GETFD) & FD_CLOEXEC);
	pfd.fd = xmpp_fd(c);
	pfd.events = POLLIN;
	for (;;) {
		st = NULL;
		rc = xmpp_recv(c, &st);
		if (rc == 1) {
			ck_assert_str_eq(st->raw, msg);
			got++;
			xstanza_free(&st);
			continue;
		}
		if (rc < 0)
			break;
		ck_assert_int_eq(poll(&pfd, 1, FAKE_WAIT_MS), 1);
	}
	ck_assert_int_eq(got, 1);
	ck_assert_int_eq(rc, -ENOTCONN);
	ck_assert_ptr_nonnull(strstr(xmpp_error(c), "conflict"));
	ck_assert_int_eq(xmpp_fd(c), -1);
	xmpp_free(&c);
	ck_assert_int_eq(fake_wait(&f), 0);
}
END_TEST

static const struct {
	const char	*name;
	const char	*capture;	/* S->C answer, or NULL: inline */
	const char	*inline_reply;
	enum xmpp_auth	 auth;
	int		 hangup;
	int		 rc;
	const char	*reason;	/* in xmpp_error() */
} fake_fail[] = {
	{ "ejabberd bad password (no code=)", "badpw_auth_error.txt", NULL,
	  XMPP_AUTH_LEGACY, 0, -EACCES, "not-authorized" },
	{ "prosody field list", "prosody_digest_auth_failure.txt", NULL,
	  XMPP_AUTH_LEGACY, 0, -EACCES, "field list" },
	{ "legacy error with code", NULL, STREAM_V1 "<iq type='error' "
	  "id='123456789'><error code='401' type='auth'><not-authorized "
	  "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
	  XMPP_AUTH_LEGACY, 0, -EACCES, "not-authorized (code 401)" },
	{ "SASL failure", NULL, STREAM_V1 FEATURES_PLAIN,
	  XMPP_AUTH_SASL, 0, -EACCES, "not-authorized" },
	{ "no common mechanism", NULL, STREAM_V1 "<stream:features>"
	  "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>"
	  "X-OAUTH2</mechanism></mechanisms></stream:features>",
	  XMPP_AUTH_SASL, 0, -EPROTONOSUPPORT, "X-OAUTH2" },
	{ "stream error at login", NULL, STREAM_V1 "<stream:error>"
	  "<host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
	  "</stream:error>", XMPP_AUTH_LEGACY, 0, -EPROTO, "host-unknown" },
	{ "not XML", NULL, "HTTP/1.0 400 Bad Request\r\n\r\n",
	  XMPP_AUTH_LEGACY, 0, -ENOTCONN, "stream" },
	{ "hang-up after the header", NULL, STREAM_V1, XMPP_AUTH_LEGACY, 1,
	  -ENOTCONN, "closed" },
};

START_TEST(test_fake_login_fails)
{
	struct fake_step	 steps[3] = {
		{ "<stream:stream", NULL, 0, NULL },
		{ NULL, NULL, 0, NULL },
		{ NULL, NULL, 0, NULL },
	};
	struct fake_srv		 f;
	struct xmpp_conn	*c;
	size_t			 nsteps = 2;

	steps[1].reply = fake_fail[_i].capture ?
	    capture_s2c(fake_fail[_i].capture) : fake_fail[_i].inline_reply;
	if (fake_fail[_i].auth == XMPP_AUTH_SASL &&
	    fake_fail[_i].rc == -EACCES) {
		steps[2].expect = "<auth ";
		steps[2].reply = "<failure xmlns='urn:ietf:params:xml:ns:"
		    "xmpp-sasl'><not-authorized/></failure>";
		nsteps = 3;
	}
	if (fake_fail[_i].hangup) {
		/* read everything first: unread data would turn FIN into RST */
		steps[2].expect = "</iq>";
		nsteps = 3;
	}
	f = fake_start(steps, nsteps, fake_fail[_i].hangup);
	c = fake_conn(f.port, fake_fail[_i].auth);
	ck_assert_int_eq(xmpp_open(c, FAKE_WAIT_MS), fake_fail[_i].rc);
	ck_assert_msg(strstr(xmpp_error(c), fake_fail[_i].reason) != NULL,
	    "%s: reason \"%s\"", fake_fail[_i].name, xmpp_error(c));
	ck_assert_int_eq(xmpp_fd(c), -1);
	xmpp_free(&c);
	ck_assert_int_eq(fake_wait(&f), 0);
}
END_TEST

/* A server that never answers: the login deadline holds. */
START_TEST(test_fake_login_timeout)
{
	static const struct fake_step	 steps[] = {
		{ "<stream:stream", NULL, 0, NULL },
	};
	struct fake_srv			 f;
	struct xmpp_conn		*c;

	f = fake_start(steps, ARRAY_LEN(steps), 0);
	c = fake_conn(f.port, XMPP_AUTH_LEGACY);
	ck_assert_int_eq(xmpp_open(c, 200), -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(xmpp_error(c), "timed out"));
	xmpp_free(&c);
	ck_assert_int_eq(fake_wait(&f), 0);
}
END_TEST

/* auto: a server with features but no mechanism we have, and iq-auth. */
START_TEST(test_fake_auto_falls_back)
{
	static const struct fake_step	 steps[] = {
		{ "version='1.0'", STREAM_V1 "<stream:features><auth "
		  "xmlns='http://jabber.org/features/iq-auth'/>"
		  "</stream:features>", 0, NULL },
		{ "<digest>", LEGACY_RESULT, 0, NULL },
	};
	struct fake_srv			 f;
	struct xmpp_conn		*c;

	f = fake_start(steps, ARRAY_LEN(steps), 0);
	c = fake_conn(f.port, XMPP_AUTH_AUTO);
	ck_assert_msg(xmpp_open(c, FAKE_WAIT_MS) == 0, "%s", xmpp_error(c));
	ck_assert_str_eq(xmpp_auth_used(c), "legacy-digest");
	xmpp_free(&c);
	ck_assert_int_eq(fake_wait(&f), 0);
}
END_TEST

/* A forked child freeing the connection must not log the parent out. */
START_TEST(test_fake_fork_no_logout)
{
	static const struct fake_step	 steps[] = {
		{ "<stream:stream", "<stream:stream id='1' xmlns='jabber:"
		  "client' xmlns:stream='http://etherx.jabber.org/streams'>"
		  LEGACY_RESULT, 0, NULL },
		{ "<message", NULL, 0, "</stream:stream>" },
	};
	struct fake_srv			 f;
	struct xmpp_conn		*c;
	pid_t				 pid;
	int				 st;

	f = fake_start(steps, ARRAY_LEN(steps), 0);
	c = fake_conn(f.port, XMPP_AUTH_LEGACY);
	ck_assert_msg(xmpp_open(c, FAKE_WAIT_MS) == 0, "%s", xmpp_error(c));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		xmpp_free(&c);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(xmpp_send(c, "<message to='x@y'/>", 19), 0);
	xmpp_free(&c);
	ck_assert_int_eq(fake_wait(&f), 0);	/* 5: logout seen */
}
END_TEST

/* auto against a pre-1.0 server: no features to wait for, legacy. */
START_TEST(test_fake_auto_pre10)
{
	static const struct fake_step	 steps[] = {
		{ "version='1.0'", "<?xml version='1.0'?><stream:stream id='7' "
		  "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org"
		  "/streams'>", 0, NULL },
		{ "<digest>", LEGACY_RESULT, 0, NULL },
	};
	struct fake_srv			 f;
	struct xmpp_conn		*c;

	f = fake_start(steps, ARRAY_LEN(steps), 0);
	c = fake_conn(f.port, XMPP_AUTH_AUTO);
	ck_assert_msg(xmpp_open(c, FAKE_WAIT_MS) == 0, "%s", xmpp_error(c));
	ck_assert_str_eq(xmpp_auth_used(c), "legacy-digest");
	xmpp_free(&c);
	ck_assert_int_eq(fake_wait(&f), 0);
}
END_TEST

/* tls required, no STARTTLS offered: refuse before sending credentials. */
START_TEST(test_fake_tls_required)
{
	static const struct fake_step	 steps[] = {
		{ "<stream:stream", STREAM_V1 FEATURES_PLAIN, 0, NULL },
	};
	struct fake_srv			 f;
	struct bus_conf		 conf;
	struct xmpp_conn		*c;

	f = fake_start(steps, ARRAY_LEN(steps), 0);
	memset(&conf, 0, sizeof(conf));
	conf.host = (char *)"127.0.0.1";
	conf.domain = (char *)"private.localhost";
	conf.port = f.port;
	conf.username = (char *)"u";
	conf.password = (char *)"p";
	conf.auth = XMPP_AUTH_SASL;
	conf.tls = XMPP_TLS_REQUIRED;
	c = xmpp_new(&conf, "r");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(xmpp_open(c, FAKE_WAIT_MS), -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(xmpp_error(c), "STARTTLS"));
	xmpp_free(&c);
	ck_assert_int_eq(fake_wait(&f), 0);
}
END_TEST

START_TEST(test_connect_refused)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	struct xmpp_conn	*c;
	int			 fd;

	/* A port bound but never listened on refuses connections. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	c = fake_conn(ntohs(sin.sin_port), XMPP_AUTH_LEGACY);
	ck_assert_int_eq(xmpp_open(c, FAKE_WAIT_MS), -ECONNREFUSED);
	ck_assert_ptr_nonnull(strstr(xmpp_error(c), "refused"));
	ck_assert_int_eq(xmpp_fd(c), -1);
	xmpp_free(&c);
	close(fd);
}
END_TEST

/* ------------------------------------------ login steps, scripted */

/*
 * The login state machine and the output queue against a "server" the
 * test plays itself on a loopback socket, in its own process: every byte
 * the server says and every step the client takes is the test's, so
 * nothing races.  Each wait is a poll() for a socket event, bounded by
 * SM_WAIT_MS.
 */
#define SM_WAIT_MS	10000
/* The stream id of handshake_listener.xml's server header. */
#define SM_CAPTURE_ID	"3449836441881677972"
#define SM_V1_HEADER \
	"<?xml version='1.0'?><stream:stream to='private.localhost' " \
	"version='1.0' xmlns='jabber:client' " \
	"xmlns:stream='http://etherx.jabber.org/streams'>"
/* The client's send buffer in the queue tests: about the minimum. */
#define SM_TINY_BUF	4096
/*
 * A stanza far larger than what that buffer and the server's receive
 * window (some 64 KiB on loopback before it reads) hold together.
 */
#define SM_BIG		(1024 * 1024)

struct sm {
	int	lfd;		/* listening socket */
	int	fd;		/* the client's connection, -1 before */
	int	port;
};

static void
sm_poll(int fd, short events)
{
	struct pollfd	p = { .fd = fd, .events = events };

	ck_assert_int_eq(poll(&p, 1, SM_WAIT_MS), 1);
}

static void
sm_close(struct sm *s)
{
	fd_close(&s->fd);
	fd_close(&s->lfd);
}

/*
 * Listen, start c's login and accept it; steps through the TCP phase
 * (POLLOUT) until the client waits for the server's header (POLLIN).
 */
static struct xmpp_conn *
sm_start(struct sm *s, enum xmpp_auth auth)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	struct xmpp_conn	*c;
	int			 rc, one = 1;

	s->fd = -1;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s->lfd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	ck_assert_int_eq(listen(s->lfd, 4), 0);
	ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&sin, &slen),
	    0);
	s->port = ntohs(sin.sin_port);
	c = fake_conn(s->port, auth);
	xmpp_set_presence(c, 1);	/* the optional presence is checked too */
	rc = xmpp_connect_start(c);
	ck_assert_msg(rc == -EINPROGRESS, "start: %d %s", rc, xmpp_error(c));
	sm_poll(s->lfd, POLLIN);
	s->fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(s->fd, 0);
	/* one byte per write below: no Nagle wait between them */
	ck_assert_int_eq(setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)), 0);
	while (xmpp_events(c) == POLLOUT) {
		sm_poll(xmpp_fd(c), POLLOUT);
		ck_assert_int_eq(xmpp_connect_step(c), -EINPROGRESS);
	}
	ck_assert_uint_eq(xmpp_events(c), POLLIN);
	return c;
}

/* The server reads exactly `want`. */
static void
sm_expect(struct sm *s, const char *want)
{
	size_t	 n = strlen(want), got = 0;
	char	*buf;
	ssize_t	 r;

	buf = malloc(n + 1);
	ck_assert_ptr_nonnull(buf);
	while (got < n) {
		sm_poll(s->fd, POLLIN);
		r = read(s->fd, buf + got, n - got);
		ck_assert_int_gt(r, 0);
		got += (size_t)r;
	}
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
	free(buf);
}

/* The server sees the end of the connection. */
static void
sm_expect_eof(struct sm *s)
{
	char	c;

	sm_poll(s->fd, POLLIN);
	ck_assert_int_eq(read(s->fd, &c, 1), 0);
}

/*
 * The server says `bytes` one byte per write and the client takes one
 * step per byte: it must wait for input (-EINPROGRESS, POLLIN) until
 * the last byte.  Returns the last step's result.
 */
static int
sm_say_bytewise(struct sm *s, struct xmpp_conn *c, const char *bytes)
{
	size_t	i, n = strlen(bytes);
	int	rc = -EINPROGRESS;

	for (i = 0; i < n; i++) {
		ck_assert_int_eq(rc, -EINPROGRESS);
		ck_assert_uint_eq(xmpp_events(c), POLLIN);
		ck_assert_int_eq(write_full(s->fd, bytes + i, 1), 0);
		sm_poll(xmpp_fd(c), POLLIN);
		rc = xmpp_connect_step(c);
	}
	return rc;
}

/* handshake_listener.xml, byte by byte: spec 1.1's bytes, then ours. */
START_TEST(test_step_legacy_bytewise)
{
	const char		*s2c = capture_s2c("handshake_listener.xml");
	const char		*iq = strstr(s2c, "<iq");
	char			*hdr, digest[XMPP_DIGEST_LEN];
	struct pbuf		 want = { 0 };
	struct sm		 s;
	struct xmpp_conn	*c;

	ck_assert_ptr_nonnull(iq);
	hdr = strndup(s2c, (size_t)(iq - s2c));
	ck_assert_ptr_nonnull(hdr);
	ck_assert_ptr_nonnull(strstr(hdr, SM_CAPTURE_ID));
	c = sm_start(&s, XMPP_AUTH_LEGACY);
	ck_assert_int_eq(xmpp_legacy_header(&want, "private.localhost"), 0);
	sm_expect(&s, want.data);
	/* the server's header: the client answers at its last byte */
	ck_assert_int_eq(sm_say_bytewise(&s, c, hdr), -EINPROGRESS);
	ck_assert_int_eq(xmpp_legacy_digest(SM_CAPTURE_ID, "secret", digest),
	    0);
	pbuf_reset(&want);
	ck_assert_int_eq(xmpp_legacy_iq(&want, "opensrf", digest, NULL, "res"),
	    0);
	sm_expect(&s, want.data);
	ck_assert_str_eq(xmpp_jid(c), "");
	ck_assert_int_eq(xmpp_send(c, "<x/>", 4), -ENOTCONN);
	/* the result: logged in at its last byte, then the presence */
	ck_assert_int_eq(sm_say_bytewise(&s, c, iq), 0);
	ck_assert_str_eq(xmpp_jid(c), "opensrf@private.localhost/res");
	ck_assert_str_eq(xmpp_auth_used(c), "legacy-digest");
	ck_assert_int_eq(xmpp_connect_step(c), 0);	/* and stays so */
	sm_expect(&s, XMPP_PRESENCE);
	ck_assert_uint_eq(xmpp_events(c), POLLIN);
	xmpp_close(c);
	ck_assert_int_eq(xmpp_fd(c), -1);
	ck_assert_uint_eq(xmpp_events(c), 0);
	sm_expect(&s, "</stream:stream>");
	sm_expect_eof(&s);
	xmpp_free(&c);
	pbuf_free(&want);
	free(hdr);
	sm_close(&s);
}
END_TEST

/* badpw_auth_error.txt, byte by byte: refused at the last byte. */
START_TEST(test_step_legacy_refused_bytewise)
{
	struct sm		 s;
	struct xmpp_conn	*c;

	c = sm_start(&s, XMPP_AUTH_LEGACY);
	ck_assert_int_eq(sm_say_bytewise(&s, c,
	    capture_s2c("badpw_auth_error.txt")), -EACCES);
	ck_assert_msg(strstr(xmpp_error(c), "not-authorized") != NULL, "%s",
	    xmpp_error(c));
	ck_assert_int_eq(xmpp_fd(c), -1);
	ck_assert_uint_eq(xmpp_events(c), 0);
	ck_assert_str_eq(xmpp_jid(c), "");
	ck_assert_int_eq(xmpp_connect_step(c), -ENOTCONN);
	sm_expect(&s, "<stream:stream");	/* the client's bytes, then */
	xmpp_free(&c);
	sm_close(&s);
}
END_TEST

/* SASL PLAIN, a stream restart, bind and session, byte by byte. */
START_TEST(test_step_sasl_bytewise)
{
	struct sm		 s;
	struct xmpp_conn	*c;

	c = sm_start(&s, XMPP_AUTH_SASL);
	sm_expect(&s, SM_V1_HEADER);
	ck_assert_int_eq(sm_say_bytewise(&s, c, STREAM_V1 FEATURES_PLAIN),
	    -EINPROGRESS);
	/* base64 of "\0opensrf\0secret" (RFC 4616) */
	sm_expect(&s, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='PLAIN'>AG9wZW5zcmYAc2VjcmV0</auth>");
	ck_assert_int_eq(sm_say_bytewise(&s, c, "<success xmlns='urn:ietf:"
	    "params:xml:ns:xmpp-sasl'/>"), -EINPROGRESS);
	sm_expect(&s, SM_V1_HEADER);
	ck_assert_int_eq(sm_say_bytewise(&s, c, STREAM_V1 "<stream:features>"
	    "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-session'/>"
	    "</stream:features>"), -EINPROGRESS);
	sm_expect(&s, "<iq type='set' id='drover_bind'><bind xmlns='urn:ietf:"
	    "params:xml:ns:xmpp-bind'><resource>res</resource></bind></iq>");
	ck_assert_int_eq(sm_say_bytewise(&s, c, "<iq type='result' "
	    "id='drover_bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
	    "<jid>opensrf@private.localhost/res</jid></bind></iq>"),
	    -EINPROGRESS);
	sm_expect(&s, "<iq type='set' id='drover_session'><session "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
	ck_assert_int_eq(sm_say_bytewise(&s, c, "<iq type='result' "
	    "id='drover_session'/>"), 0);
	sm_expect(&s, XMPP_PRESENCE);
	ck_assert_str_eq(xmpp_jid(c), "opensrf@private.localhost/res");
	ck_assert_str_eq(xmpp_auth_used(c), "PLAIN");
	xmpp_free(&c);
	sm_expect(&s, "</stream:stream>");
	sm_close(&s);
}
END_TEST

/* A refused connect through start and step. */
START_TEST(test_step_connect_refused)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	struct xmpp_conn	*c;
	int			 fd, rc;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	c = fake_conn(ntohs(sin.sin_port), XMPP_AUTH_LEGACY);
	rc = xmpp_connect_start(c);
	while (rc == -EINPROGRESS) {
		ck_assert_uint_eq(xmpp_events(c), POLLOUT);
		sm_poll(xmpp_fd(c), POLLOUT);
		rc = xmpp_connect_step(c);
	}
	ck_assert_int_eq(rc, -ECONNREFUSED);
	ck_assert_ptr_nonnull(strstr(xmpp_error(c), "refused"));
	ck_assert_int_eq(xmpp_fd(c), -1);
	xmpp_free(&c);
	close(fd);
}
END_TEST

/* Read until `want` has come, skipping what comes before it. */
static void
sm_expect_until(struct sm *s, const char *want)
{
	char	buf[4096];
	size_t	len = 0;

	buf[0] = '\0';
	while (strstr(buf, want) == NULL) {
		ck_assert_uint_lt(len, sizeof(buf) - 1);
		sm_poll(s->fd, POLLIN);
		/* one byte at a time: never read past `want` */
		ck_assert_int_eq(read(s->fd, buf + len, 1), 1);
		buf[++len] = '\0';
	}
}

/* A legacy login the quick way (not byte by byte). */
static struct xmpp_conn *
sm_login(struct sm *s)
{
	struct xmpp_conn	*c;
	int			 rc;

	c = sm_start(s, XMPP_AUTH_LEGACY);
	ck_assert_int_eq(write_full(s->fd, STREAM_V1 LEGACY_RESULT,
	    strlen(STREAM_V1 LEGACY_RESULT)), 0);
	do {
		sm_poll(xmpp_fd(c), (short)xmpp_events(c));
	} while ((rc = xmpp_connect_step(c)) == -EINPROGRESS);
	ck_assert_msg(rc == 0, "%s", xmpp_error(c));
	sm_expect(s, "<stream:stream");
	/* the rest of the login is in s->fd's buffer: skip it */
	sm_expect_until(s, XMPP_PRESENCE);
	return c;
}

/*
 * A small send buffer on the client's socket, so that it takes little
 * while the server does not read.  (The server's receive buffer stays:
 * a window below one loopback segment would crawl at the pace of
 * delayed ACKs once the server reads.)
 */
static void
sm_tiny_buffers(struct xmpp_conn *c)
{
	int	n = SM_TINY_BUF;

	ck_assert_int_eq(setsockopt(xmpp_fd(c), SOL_SOCKET, SO_SNDBUF, &n,
	    sizeof(n)), 0);
}

/* Message number k, len bytes long, its body telling k apart. */
static void
sm_stanza(struct pbuf *b, unsigned k, size_t len)
{
	static const char	tail[] = "</body></message>";
	char			head[64];
	size_t			fill;

	pbuf_reset(b);
	snprintf(head, sizeof(head), "<message to='x@y/z'><body>%u:", k);
	ck_assert_uint_gt(len, strlen(head) + strlen(tail));
	fill = len - strlen(head) - strlen(tail);
	ck_assert_int_eq(pbuf_adds(b, head), 0);
	ck_assert_int_eq(pbuf_reserve(b, fill), 0);
	memset(b->data + b->len, 'a' + (int)(k % 26), fill);
	b->len += fill;
	b->data[b->len] = '\0';
	ck_assert_int_eq(pbuf_adds(b, tail), 0);
}

/*
 * The server reads until it has `total` bytes, while the client writes
 * its queue whenever its socket reports POLLOUT.
 */
static void
sm_drain(struct sm *s, struct xmpp_conn *c, struct pbuf *got, size_t total)
{
	char		buf[65536];
	struct pollfd	p[2];
	ssize_t		r;
	int		rc;

	while (got->len < total) {
		p[0].fd = s->fd;
		p[0].events = POLLIN;
		p[1].fd = xmpp_events(c) & POLLOUT ? xmpp_fd(c) : -1;
		p[1].events = POLLOUT;
		p[0].revents = p[1].revents = 0;
		ck_assert_int_ge(poll(p, 2, SM_WAIT_MS), 1);
		if (p[1].revents != 0) {
			rc = xmpp_flush(c);
			ck_assert_msg(rc == 0 || rc == -EAGAIN, "flush: %d",
			    rc);
		}
		if (p[0].revents != 0) {
			r = read(s->fd, buf, sizeof(buf));
			ck_assert_int_gt(r, 0);
			ck_assert_int_eq(pbuf_add(got, buf, (size_t)r), 0);
		}
	}
}

/*
 * A server that reads nothing for a while: the socket takes part of a
 * big stanza, the rest and the stanzas after it are queued, and all of
 * it arrives once the server reads, whole and in order.  A forked child
 * that forgets the connection writes none of it.
 */
START_TEST(test_queue_peer_reads_late)
{
	struct pbuf		 want = { 0 }, got = { 0 }, st = { 0 };
	struct sm		 s;
	struct xmpp_conn	*c;
	unsigned		 k;
	pid_t			 pid;
	int			 wst;

	c = sm_login(&s);
	sm_tiny_buffers(c);
	sm_stanza(&st, 0, SM_BIG);
	ck_assert_int_eq(xmpp_send(c, st.data, st.len), 0);
	ck_assert_int_eq(pbuf_add(&want, st.data, st.len), 0);
	ck_assert(xmpp_events(c) & POLLOUT);
	ck_assert_int_eq(xmpp_flush(c), -EAGAIN);
	for (k = 1; k <= 3; k++) {
		sm_stanza(&st, k, 1000 * k);
		ck_assert_int_eq(xmpp_send(c, st.data, st.len), 0);
		ck_assert_int_eq(pbuf_add(&want, st.data, st.len), 0);
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		xmpp_free(&c);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
	ck_assert(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
	sm_drain(&s, c, &got, want.len);
	ck_assert_int_eq(xmpp_flush(c), 0);
	ck_assert_uint_eq(xmpp_events(c), POLLIN);
	ck_assert_uint_eq(got.len, want.len);
	ck_assert(memcmp(got.data, want.data, want.len) == 0);
	xmpp_close(c);
	sm_expect(&s, "</stream:stream>");	/* nothing twice before it */
	xmpp_free(&c);
	sm_close(&s);
	pbuf_free(&want);
	pbuf_free(&got);
	pbuf_free(&st);
}
END_TEST

/* A server that reads nothing at all: the bound ends the connection. */
START_TEST(test_queue_bound)
{
	struct pbuf		 st = { 0 };
	struct sm		 s;
	struct xmpp_conn	*c;
	struct xstanza		*x = NULL;
	unsigned		 n;
	int			 rc;

	c = sm_login(&s);
	sm_tiny_buffers(c);
	xmpp_set_outq_max(c, 256 * 1024);
	sm_stanza(&st, 0, 16384);
	for (n = 0; (rc = xmpp_send(c, st.data, st.len)) == 0; n++)
		ck_assert_uint_lt(n, 1000);
	ck_assert_int_eq(rc, -ENOBUFS);
	/* the queue was full before it gave up */
	ck_assert_uint_ge(n, 256 * 1024 / 16384);
	ck_assert_msg(strstr(xmpp_error(c), "queued") != NULL, "%s",
	    xmpp_error(c));
	ck_assert_int_eq(xmpp_fd(c), -1);
	ck_assert_uint_eq(xmpp_events(c), 0);
	ck_assert_int_eq(xmpp_send(c, "<x/>", 4), -ENOTCONN);
	ck_assert_int_eq(xmpp_flush(c), -ENOTCONN);
	ck_assert_int_eq(xmpp_recv(c, &x), -ENOTCONN);
	ck_assert_ptr_null(x);
	xmpp_free(&c);
	sm_close(&s);
	pbuf_free(&st);
}
END_TEST

/* The answer to a ping waits behind what was queued before it. */
START_TEST(test_queue_iq_answer_in_turn)
{
	static const char	 ping[] = "<iq from='private.localhost' "
	    "id='p1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>";
	struct pbuf		 want = { 0 }, got = { 0 };
	struct sm		 s;
	struct xmpp_conn	*c;
	struct xstanza		*x = NULL;

	c = sm_login(&s);
	sm_tiny_buffers(c);
	sm_stanza(&want, 7, SM_BIG);
	ck_assert_int_eq(xmpp_send(c, want.data, want.len), 0);
	ck_assert(xmpp_events(c) & POLLOUT);
	ck_assert_int_eq(write_full(s.fd, ping, strlen(ping)), 0);
	sm_poll(xmpp_fd(c), POLLIN);
	/* answered, not returned */
	ck_assert_int_eq(xmpp_recv(c, &x), 0);
	ck_assert_ptr_null(x);
	ck_assert_int_eq(pbuf_adds(&want, "<iq type='result' id='p1' "
	    "to='private.localhost'/>"), 0);
	sm_drain(&s, c, &got, want.len);
	ck_assert_uint_eq(got.len, want.len);
	ck_assert(memcmp(got.data, want.data, want.len) == 0);
	xmpp_free(&c);
	sm_close(&s);
	pbuf_free(&want);
	pbuf_free(&got);
}
END_TEST

/* xmpp_flush_wait(): its deadline, then a reader in another process. */
START_TEST(test_queue_flush_wait)
{
	struct pbuf		 st = { 0 };
	struct sm		 s;
	struct xmpp_conn	*c;
	char			*buf;
	pid_t			 pid;
	int			 wst;

	c = sm_login(&s);
	sm_tiny_buffers(c);
	sm_stanza(&st, 3, SM_BIG);
	ck_assert_int_eq(xmpp_send(c, st.data, st.len), 0);
	ck_assert_int_eq(xmpp_flush_wait(c, 50), -ETIMEDOUT);
	ck_assert_int_ge(xmpp_fd(c), 0);		/* it stays */
	ck_assert(xmpp_events(c) & POLLOUT);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* plain code: no Check assertions in this child */
		if ((buf = malloc(st.len)) == NULL ||
		    read_full(s.fd, buf, st.len) != 0)
			_exit(1);
		_exit(memcmp(buf, st.data, st.len) == 0 ? 0 : 2);
	}
	ck_assert_int_eq(xmpp_flush_wait(c, SM_WAIT_MS), 0);
	ck_assert_uint_eq(xmpp_events(c), POLLIN);
	ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
	ck_assert(WIFEXITED(wst));
	ck_assert_int_eq(WEXITSTATUS(wst), 0);
	xmpp_free(&c);
	sm_close(&s);
	pbuf_free(&st);
}
END_TEST

/* ------------------------------------------------------ integration */

/*
 * Bound on every login and wait below: far above what a loaded CI
 * machine needs (ejabberd answers in milliseconds), far below Check's
 * test timeout.
 */
#define LIVE_TIMEOUT_MS	10000

static void
live_conf(struct bus_conf *c, enum th_server_kind k, const char *user,
    const char *pw)
{
	memset(c, 0, sizeof(*c));
	c->host = (char *)"127.0.0.1";
	c->domain = (char *)TH_DOMAIN_PRIVATE;
	c->port = th_server(k)->port;
	c->username = (char *)user;
	c->password = (char *)pw;
	c->auth = XMPP_AUTH_LEGACY;
	c->legacy_digest = 1;
	c->tls = XMPP_TLS_OFF;
	c->tls_verify = 1;
	c->max_stanza_size = STANZA_MAX_SIZE_DEFAULT;
	c->connect_timeout_ms = LIVE_TIMEOUT_MS;
	c->reconnect_max_ms = 30000;
}

static void
live_setup(void)
{
	/* libssl writes with write(2); the daemons ignore SIGPIPE too. */
	signal(SIGPIPE, SIG_IGN);
}

static const struct {
	enum xmpp_auth	 auth;
	int		 digest;
	enum xmpp_tls	 tls;
	const char	*mechs;
	const char	*used;
	int		 is_tls;
} login_vec[] = {
	{ XMPP_AUTH_LEGACY, 1, XMPP_TLS_OFF, NULL, "legacy-digest", 0 },
	{ XMPP_AUTH_LEGACY, 0, XMPP_TLS_OFF, NULL, "legacy-password", 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_OFF, "SCRAM-SHA-1", "SCRAM-SHA-1", 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_OFF, "PLAIN", "PLAIN", 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_OFF, "SCRAM-SHA-256", "SCRAM-SHA-256",
	  0 },
	{ XMPP_AUTH_AUTO, 1, XMPP_TLS_OFF, NULL, NULL, 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_REQUIRED, "SCRAM-SHA-1", "SCRAM-SHA-1",
	  1 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_OPTIONAL, "PLAIN", "PLAIN", 1 },
};

START_TEST(test_live_login)
{
	struct bus_conf	 conf;
	struct xmpp_conn	*c;
	char			 res[64];

	live_conf(&conf, TH_EJABBERD, "opensrf", TH_OPENSRF_PW);
	conf.auth = login_vec[_i].auth;
	conf.legacy_digest = login_vec[_i].digest;
	conf.tls = login_vec[_i].tls;
	conf.tls_ca_file = (char *)th_server(TH_EJABBERD)->cafile;
	snprintf(res, sizeof(res), "login_%d", _i);
	c = xmpp_new(&conf, res);
	ck_assert_ptr_nonnull(c);
	if (login_vec[_i].mechs != NULL)
		ck_assert_int_eq(xmpp_set_mechanisms(c, login_vec[_i].mechs),
		    0);
	ck_assert_msg(xmpp_open(c, LIVE_TIMEOUT_MS) == 0, "login %d: %s", _i,
	    xmpp_error(c));
	ck_assert_int_ge(xmpp_fd(c), 0);
	ck_assert_int_eq(strncmp(xmpp_jid(c), "opensrf@private.localhost/",
	    26), 0);
	ck_assert_str_eq(xmpp_jid(c) + 26, res);
	if (login_vec[_i].used != NULL)
		ck_assert_str_eq(xmpp_auth_used(c), login_vec[_i].used);
	ck_assert_int_eq(xmpp_is_tls(c), login_vec[_i].is_tls);
	xmpp_close(c);
	ck_assert_int_eq(xmpp_fd(c), -1);
	/* reusable after close */
	ck_assert_msg(xmpp_open(c, LIVE_TIMEOUT_MS) == 0, "again: %s",
	    xmpp_error(c));
	xmpp_free(&c);
}
END_TEST

static const struct {
	enum xmpp_auth	 auth;
	int		 digest;
	const char	*mechs;
} badpw_vec[] = {
	{ XMPP_AUTH_LEGACY, 1, NULL },
	{ XMPP_AUTH_LEGACY, 0, NULL },
	{ XMPP_AUTH_SASL, 1, "SCRAM-SHA-1" },
	{ XMPP_AUTH_SASL, 1, "PLAIN" },
};

START_TEST(test_live_bad_password)
{
	struct bus_conf	 conf;
	struct xmpp_conn	*c;

	live_conf(&conf, TH_EJABBERD, "opensrf", "wrong-password");
	conf.auth = badpw_vec[_i].auth;
	conf.legacy_digest = badpw_vec[_i].digest;
	c = xmpp_new(&conf, "badpw");
	ck_assert_ptr_nonnull(c);
	if (badpw_vec[_i].mechs != NULL)
		ck_assert_int_eq(xmpp_set_mechanisms(c, badpw_vec[_i].mechs),
		    0);
	ck_assert_int_eq(xmpp_open(c, LIVE_TIMEOUT_MS), -EACCES);
	ck_assert_msg(strstr(xmpp_error(c), "not-authorized") != NULL,
	    "reason: %s", xmpp_error(c));
	ck_assert_int_eq(xmpp_fd(c), -1);
	xmpp_free(&c);
}
END_TEST

/* A self-signed server certificate the system store does not know. */
START_TEST(test_live_tls_untrusted)
{
	struct bus_conf	 conf;
	struct xmpp_conn	*c;

	live_conf(&conf, TH_EJABBERD, "opensrf", TH_OPENSRF_PW);
	conf.auth = XMPP_AUTH_SASL;
	conf.tls = XMPP_TLS_REQUIRED;
	conf.tls_ca_file = NULL;	/* system store */
	c = xmpp_new(&conf, "untrusted");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(xmpp_open(c, LIVE_TIMEOUT_MS), -EACCES);
	ck_assert_msg(strstr(xmpp_error(c), "certificate") != NULL, "%s",
	    xmpp_error(c));
	ck_assert_int_eq(xmpp_fd(c), -1);
	/* without verification the same server is accepted */
	xmpp_free(&c);
	conf.tls_verify = 0;
	c = xmpp_new(&conf, "unverified");
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(xmpp_open(c, LIVE_TIMEOUT_MS) == 0, "%s", xmpp_error(c));
	ck_assert(xmpp_is_tls(c));
	xmpp_free(&c);
}
END_TEST

/*
 * Wait (bounded) for the next stanza on c other than a presence (every
 * resource of the account that logs in or out sends one, xmpp.h); NULL
 * on timeout.
 */
static struct xstanza *
live_wait(struct xmpp_conn *c)
{
	struct xstanza	*st = NULL;
	struct pollfd	 pfd;
	uint64_t	 deadline = mono_ms() + LIVE_TIMEOUT_MS;
	int		 rc;

	for (;;) {
		rc = xmpp_recv(c, &st);
		ck_assert_int_ge(rc, 0);
		if (rc == 1 && strcmp(st->name, "presence") == 0) {
			xstanza_free(&st);
			continue;
		}
		if (rc == 1)
			return st;
		if (mono_ms() >= deadline)
			return NULL;
		pfd.fd = xmpp_fd(c);
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, (int)(deadline - mono_ms()));
		/* a timeout shows as rc 0 and the deadline check above */
	}
}

static struct xmpp_conn *
live_open(enum xmpp_auth auth, const char *user, const char *pw,
    const char *res, size_t max)
{
	struct bus_conf	 conf;
	struct xmpp_conn	*c;

	live_conf(&conf, TH_EJABBERD, user, pw);
	conf.auth = auth;
	if (max != 0)
		conf.max_stanza_size = max;
	c = xmpp_new(&conf, res);
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(xmpp_open(c, LIVE_TIMEOUT_MS) == 0, "%s: %s", res,
	    xmpp_error(c));
	return c;
}

static void
send_msg(struct xmpp_conn *from, const char *to, const char *thread,
    const char *body)
{
	struct tmsg	 m = TMSG_INIT;
	char		*xml;
	size_t		 len;

	m.to = to;
	m.from = xmpp_jid(from);
	m.thread = thread;
	m.body = body;
	m.osrf_xid = "42";
	ck_assert_int_eq(tmsg_xml_write(&m, &xml, &len), 0);
	ck_assert_int_eq(xmpp_send(from, xml, len), 0);
	free(xml);
}

START_TEST(test_live_exchange)
{
	struct xmpp_conn	*a, *b;
	struct xstanza		*st;
	struct tmsg		 m = TMSG_INIT;

	a = live_open(XMPP_AUTH_LEGACY, "opensrf", TH_OPENSRF_PW, "xa", 0);
	b = live_open(XMPP_AUTH_SASL, "opensrf", TH_OPENSRF_PW, "xb", 0);
	send_msg(a, xmpp_jid(b), "t1", "[\"hello & <world>\"]");
	st = live_wait(b);
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(st->name, "message");
	ck_assert_int_eq(tmsg_xml_parse(st->raw, st->len, &m, NULL), 0);
	ck_assert_str_eq(m.body, "[\"hello & <world>\"]");
	ck_assert_str_eq(m.thread, "t1");
	ck_assert_str_eq(m.from, xmpp_jid(a));
	ck_assert_str_eq(m.osrf_xid, "42");
	tmsg_clear(&m);
	xstanza_free(&st);
	/* and back */
	send_msg(b, xmpp_jid(a), "t2", "reply");
	st = live_wait(a);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(tmsg_xml_parse(st->raw, st->len, &m, NULL), 0);
	ck_assert_str_eq(m.body, "reply");
	tmsg_clear(&m);
	xstanza_free(&st);
	xmpp_free(&a);
	xmpp_free(&b);
}
END_TEST

START_TEST(test_live_toobig)
{
	struct xmpp_conn	*a, *b;
	struct xstanza		*st;
	struct tmsg		 m = TMSG_INIT;
	char			*big;
	size_t			 n = 8192;

	a = live_open(XMPP_AUTH_LEGACY, "opensrf", TH_OPENSRF_PW, "big_a", 0);
	b = live_open(XMPP_AUTH_LEGACY, "opensrf", TH_OPENSRF_PW, "big_b",
	    4096);
	big = malloc(n + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', n);
	big[n] = '\0';
	send_msg(a, xmpp_jid(b), "tbig", big);
	send_msg(a, xmpp_jid(b), "tsmall", "small");
	free(big);
	/* b drops the big one, answers it with an error, keeps going */
	st = live_wait(b);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(tmsg_xml_parse(st->raw, st->len, &m, NULL), 0);
	ck_assert_str_eq(m.thread, "tsmall");
	ck_assert_str_eq(m.body, "small");
	tmsg_clear(&m);
	xstanza_free(&st);
	/* a got the refusal of its big message */
	st = live_wait(a);
	ck_assert_ptr_nonnull(st);
	ck_assert(st->is_error);
	ck_assert_int_eq(tmsg_xml_parse(st->raw, st->len, &m, NULL), 0);
	ck_assert(m.is_error);
	ck_assert_int_eq(m.error_code, 406);
	ck_assert_str_eq(m.thread, "tbig");
	ck_assert_str_eq(m.from, xmpp_jid(b));
	tmsg_clear(&m);
	xstanza_free(&st);
	/* b's connection still works */
	send_msg(a, xmpp_jid(b), "t3", "still there");
	st = live_wait(b);
	ck_assert_ptr_nonnull(st);
	xstanza_free(&st);
	xmpp_free(&a);
	xmpp_free(&b);
}
END_TEST

/* Bounce from the server for a vanished resource: an error, no crash. */
START_TEST(test_live_bounce)
{
	struct xmpp_conn	*a;
	struct xstanza		*st;
	struct tmsg		 m = TMSG_INIT;

	a = live_open(XMPP_AUTH_LEGACY, "opensrf", TH_OPENSRF_PW, "bounce", 0);
	send_msg(a, "opensrf@private.localhost/nobody_here", "tb", "x");
	st = live_wait(a);
	ck_assert_ptr_nonnull(st);
	ck_assert(st->is_error);
	ck_assert_int_eq(tmsg_xml_parse(st->raw, st->len, &m, NULL), 0);
	ck_assert(m.is_error);
	ck_assert_int_eq(m.error_code, 503);	/* mapped or given */
	tmsg_clear(&m);
	xstanza_free(&st);
	xmpp_free(&a);
}
END_TEST

/* Wait (bounded) until c notices the server is gone. */
static void
live_wait_lost(struct xmpp_conn *c)
{
	struct xstanza	*st = NULL;
	struct pollfd	 pfd;
	uint64_t	 deadline = mono_ms() + LIVE_TIMEOUT_MS;
	int		 rc;

	while ((rc = xmpp_recv(c, &st)) >= 0 && mono_ms() < deadline) {
		xstanza_free(&st);
		pfd.fd = xmpp_fd(c);
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, (int)(deadline - mono_ms()));
	}
	ck_assert_int_eq(rc, -ENOTCONN);
	ck_assert_int_eq(xmpp_fd(c), -1);
}

/* Back off (bus_backoff_ms(), capped at 2 s) and reopen until it works. */
static void
live_reconnect(struct xmpp_conn *c)
{
	uint64_t	deadline = mono_ms() + LIVE_TIMEOUT_MS;
	unsigned	attempt = 0;

	while (xmpp_open(c, LIVE_TIMEOUT_MS) != 0) {
		ck_assert_msg(mono_ms() < deadline, "no reconnect: %s",
		    xmpp_error(c));
		(void)poll(NULL, 0, (int)bus_backoff_ms(attempt++, 2000, 0));
	}
}

/* Run a bus until it is up again (it reconnects by itself). */
static void
live_bus_up(struct bus *b)
{
	uint64_t	deadline = mono_ms() + LIVE_TIMEOUT_MS;

	while (bus_state(b) != BUS_UP) {
		ck_assert_msg(mono_ms() < deadline, "no reconnect: %s",
		    bus_error(b));
		ck_assert_int_ge(bus_wait(b, 100), 0);
	}
}

/*
 * The server goes away under a listener and a router: both see
 * -ENOTCONN, cannot log in while it is down, come back with the back-off
 * once it is up, and the listener's bus registers again by itself: the
 * registration reaches the router without being asked for.
 */
START_TEST(test_live_server_restart)
{
	static const struct reg_target	 priv[] = {
		{ (char *)"router", (char *)TH_DOMAIN_PRIVATE, NULL, 0 },
	};
	struct bus_conf			 conf;
	struct bus_params		 bp;
	struct bus			*t;
	struct bus_frame		*f;
	struct xmpp_conn		*lsn, *router;
	struct xstanza			*st = NULL;
	struct tmsg			 m = TMSG_INIT;
	uint64_t			 deadline;
	int				 rc;

	live_conf(&conf, TH_EJABBERD, "opensrf", TH_OPENSRF_PW);
	conf.reconnect_max_ms = 2000;
	/* a plain connection first: the server's side of a loss */
	lsn = xmpp_new(&conf, "opensrf.math_listener_plain");
	ck_assert_ptr_nonnull(lsn);
	ck_assert_int_eq(xmpp_open(lsn, LIVE_TIMEOUT_MS), 0);
	/* and a listener's bus, which must look after itself */
	memset(&bp, 0, sizeof(bp));
	bp.kind = BUS_XMPP;
	bp.conf = &conf;
	bp.role = BUS_ROLE_LISTENER;
	bp.service = "opensrf.math";
	bp.resource = "opensrf.math_listener_restart";
	bp.routers = priv;
	bp.nrouters = 1;
	bp.reconnect = 1;
	ck_assert_int_eq(bus_new(&bp, &t), 0);
	ck_assert_int_eq(bus_open(t, LIVE_TIMEOUT_MS), 0);
	router = live_open(XMPP_AUTH_SASL, "router", TH_ROUTER_PW, "router",
	    0);
	ck_assert_int_eq(bus_register(t, 1), 1);
	st = live_wait(router);
	ck_assert_ptr_nonnull(st);
	xstanza_free(&st);

	ck_assert_int_eq(th_server_stop(TH_EJABBERD), 0);
	live_wait_lost(lsn);
	live_wait_lost(router);
	ck_assert_int_eq(xmpp_recv(lsn, &st), -ENOTCONN);
	ck_assert_int_eq(xmpp_send(lsn, "<x/>", 4), -ENOTCONN);
	ck_assert_int_eq(xmpp_open(lsn, 1000), -ECONNREFUSED);
	/* the bus notices, and keeps trying (never up while down) */
	deadline = mono_ms() + LIVE_TIMEOUT_MS;
	while ((rc = bus_recv(t, &f)) != -ENOTCONN) {
		ck_assert_msg(mono_ms() < deadline, "the bus never noticed");
		if (rc == 1)
			bus_frame_free(&f);
		ck_assert_int_ge(bus_wait(t, 100), 0);
	}
	ck_assert_int_ne(bus_state(t), BUS_UP);

	ck_assert_int_eq(th_server_start_again(TH_EJABBERD), 0);
	live_reconnect(router);
	live_bus_up(t);
	st = live_wait(router);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(tmsg_xml_parse(st->raw, st->len, &m, NULL), 0);
	ck_assert_str_eq(m.router_command, "register");
	ck_assert_str_eq(m.from, bus_addr(t));
	tmsg_clear(&m);
	xstanza_free(&st);
	bus_free(&t);
	xmpp_free(&lsn);
	xmpp_free(&router);
}
END_TEST

/* ---------------------------------------------------------- prosody */

START_TEST(test_prosody_scram)
{
	struct bus_conf	 conf;
	struct xmpp_conn	*c;

	live_conf(&conf, TH_PROSODY, "opensrf", TH_OPENSRF_PW);
	conf.auth = XMPP_AUTH_SASL;
	c = xmpp_new(&conf, "pscram");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(xmpp_set_mechanisms(c, "SCRAM-SHA-1"), 0);
	ck_assert_msg(xmpp_open(c, LIVE_TIMEOUT_MS) == 0, "%s", xmpp_error(c));
	ck_assert_str_eq(xmpp_auth_used(c), "SCRAM-SHA-1");
	ck_assert_str_eq(xmpp_jid(c), "opensrf@private.localhost/pscram");
	xmpp_free(&c);
	/* auto picks SASL on prosody */
	conf.auth = XMPP_AUTH_AUTO;
	c = xmpp_new(&conf, "pauto");
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(xmpp_open(c, LIVE_TIMEOUT_MS) == 0, "%s", xmpp_error(c));
	ck_assert_str_ne(xmpp_auth_used(c), "legacy-digest");
	xmpp_free(&c);
}
END_TEST

/* prosody_digest_auth_failure.txt: the field list is no login. */
START_TEST(test_prosody_digest)
{
	struct bus_conf	 conf;
	struct xmpp_conn	*c;

	live_conf(&conf, TH_PROSODY, "opensrf", TH_OPENSRF_PW);
	c = xmpp_new(&conf, "pdigest");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(xmpp_open(c, LIVE_TIMEOUT_MS), -EACCES);
	ck_assert_msg(strstr(xmpp_error(c), "field list") != NULL, "%s",
	    xmpp_error(c));
	ck_assert_int_eq(xmpp_fd(c), -1);
	xmpp_free(&c);
	/* the plain-text legacy login works there */
	conf.legacy_digest = 0;
	c = xmpp_new(&conf, "pplain");
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(xmpp_open(c, LIVE_TIMEOUT_MS) == 0, "%s", xmpp_error(c));
	xmpp_free(&c);
}
END_TEST

/*
 * The server's side of a logout, in a forked child (plain code: no Check
 * assertions there): read until the client's </stream:stream>, check
 * that `expect` came before it (NULL: anything), send `then` and our
 * own </stream:stream>, and read to a clean end of file.  Exits 0, or
 * 2 (no logout), 3 (no `expect`), 4 (cannot write), 5 (a reset instead
 * of a FIN: the client closed with input unread).
 */
static void NORETURN
logout_peer(int fd, const char *expect, const char *then)
{
	char	buf[1024];
	size_t	len = 0;
	ssize_t	r;

	buf[0] = '\0';
	while (strstr(buf, "</stream:stream>") == NULL) {
		if (len + 1 >= sizeof(buf) || (r = read(fd, buf + len,
		    sizeof(buf) - len - 1)) <= 0)
			_exit(2);
		len += (size_t)r;
		buf[len] = '\0';
	}
	if (expect != NULL && strstr(buf, expect) == NULL)
		_exit(3);
	if (write_full(fd, then, strlen(then)) != 0 ||
	    write_full(fd, "</stream:stream>", 16) != 0)
		_exit(4);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		;
	_exit(r == 0 ? 0 : 5);
}

/*
 * Closing with input unread resets the connection, and a reset makes
 * the server's kernel drop what the server has not read: our last
 * stanza.  xmpp_close() waits for the server's </stream:stream>, so the
 * server (a child here: it must answer while the client waits) reads
 * the last message, then the logout, then a clean end of file.
 */
START_TEST(test_close_waits_for_stream_end)
{
	static const char	 last[] = "<message to='router@private."
	    "localhost/router'><body>unregister</body></message>";
	static const char	 gone[] = "<presence from='opensrf@private."
	    "localhost/x' type='unavailable'/>";
	struct sm		 s;
	struct xmpp_conn	*c;
	pid_t			 pid;
	int			 wst;

	c = sm_login(&s);
	/* input the client has not read when it closes */
	ck_assert_int_eq(write_full(s.fd, gone, strlen(gone)), 0);
	sm_poll(xmpp_fd(c), POLLIN);
	ck_assert_int_eq(xmpp_send(c, last, strlen(last)), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(xmpp_fd(c));	/* or its end of file never comes */
		logout_peer(s.fd, last, "");
	}
	fd_close(&s.fd);	/* the child's now */
	xmpp_close(c);
	ck_assert_int_eq(xmpp_fd(c), -1);
	ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
	ck_assert(WIFEXITED(wst));
	ck_assert_int_eq(WEXITSTATUS(wst), 0);
	xmpp_free(&c);
	sm_close(&s);
}
END_TEST

/*
 * The server routes to a connection until it has read the logout: a
 * message it sends between our </stream:stream> and its own reaches
 * xmpp_close_late()'s callback (a presence does not), where
 * xmpp_close() would have dropped it unread.
 */
struct late_seen {
	int	n;
	char	raw[256];
};

static void
late_keep(void *arg, struct xstanza *st)
{
	struct late_seen	*l = arg;

	l->n++;
	snprintf(l->raw, sizeof(l->raw), "%s", st->raw);
	xstanza_free(&st);
}

START_TEST(test_close_late_keeps_messages)
{
	static const char	 late_msgs[] = "<message to='router@private."
	    "localhost/opensrf.math' from='opensrf@private.localhost/cl'>"
	    "<thread>t1</thread><body>[]</body></message><presence "
	    "from='opensrf@private.localhost/x' type='unavailable'/>";
	struct late_seen	 seen = { 0, "" };
	struct sm		 s;
	struct xmpp_conn	*c;
	pid_t			 pid;
	int			 wst;

	c = sm_login(&s);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(xmpp_fd(c));
		/* routed to us before the server read our logout */
		logout_peer(s.fd, NULL, late_msgs);
	}
	fd_close(&s.fd);
	xmpp_close_late(c, late_keep, &seen);
	ck_assert_int_eq(xmpp_fd(c), -1);
	ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
	ck_assert(WIFEXITED(wst));
	ck_assert_int_eq(WEXITSTATUS(wst), 0);
	ck_assert_int_eq(seen.n, 1);
	ck_assert_ptr_nonnull(strstr(seen.raw, "<thread>t1</thread>"));
	xmpp_free(&c);
	sm_close(&s);
}
END_TEST

/* ---------------------------------------- start/step against servers */

/*
 * Log in the way bus.c does: xmpp_connect_start(), then a step at each
 * readiness of what xmpp_events() asks for, under our own deadline.
 * *steps: the steps it took.
 */
static int
live_steps(struct xmpp_conn *c, int *steps)
{
	struct pollfd	pfd;
	uint64_t	deadline = mono_ms() + LIVE_TIMEOUT_MS;
	int		rc;

	*steps = 0;
	rc = xmpp_connect_start(c);
	while (rc == -EINPROGRESS) {
		ck_assert_msg(mono_ms() < deadline, "login stuck waiting for "
		    "%s", xmpp_login_waiting(c));
		pfd.fd = xmpp_fd(c);
		pfd.events = (short)xmpp_events(c);
		ck_assert_int_ne(pfd.events, 0);
		ck_assert_int_ge(poll(&pfd, 1, (int)(deadline - mono_ms())), 0);
		rc = xmpp_connect_step(c);
		(*steps)++;
	}
	return rc;
}

struct step_vec {
	enum xmpp_auth	 auth;
	int		 digest;
	enum xmpp_tls	 tls;
	const char	*mechs;
	const char	*used;		/* auth_used, NULL: any */
	int		 is_tls;
	const char	*pw;		/* NULL: the right one */
	int		 rc;
};

static const struct step_vec steps_ejabberd[] = {
	{ XMPP_AUTH_LEGACY, 1, XMPP_TLS_OFF, NULL, "legacy-digest", 0,
	  NULL, 0 },
	{ XMPP_AUTH_LEGACY, 0, XMPP_TLS_OFF, NULL, "legacy-password", 0,
	  NULL, 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_OFF, "SCRAM-SHA-1", "SCRAM-SHA-1", 0,
	  NULL, 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_OFF, "SCRAM-SHA-256", "SCRAM-SHA-256",
	  0, NULL, 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_OFF, "PLAIN", "PLAIN", 0, NULL, 0 },
	{ XMPP_AUTH_AUTO, 1, XMPP_TLS_OFF, NULL, NULL, 0, NULL, 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_REQUIRED, "SCRAM-SHA-256",
	  "SCRAM-SHA-256", 1, NULL, 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_REQUIRED, "SCRAM-SHA-1", "SCRAM-SHA-1",
	  1, NULL, 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_OPTIONAL, "PLAIN", "PLAIN", 1, NULL,
	  0 },
	{ XMPP_AUTH_LEGACY, 1, XMPP_TLS_OFF, NULL, NULL, 0, "wrong", -EACCES },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_REQUIRED, "SCRAM-SHA-1", NULL, 1,
	  "wrong", -EACCES },
};

/* prosody: no <digest> (test_prosody_digest), the rest as ejabberd. */
static const struct step_vec steps_prosody[] = {
	{ XMPP_AUTH_LEGACY, 0, XMPP_TLS_OFF, NULL, "legacy-password", 0,
	  NULL, 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_OFF, "SCRAM-SHA-1", "SCRAM-SHA-1", 0,
	  NULL, 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_OFF, "SCRAM-SHA-256", "SCRAM-SHA-256",
	  0, NULL, 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_OFF, "PLAIN", "PLAIN", 0, NULL, 0 },
	{ XMPP_AUTH_AUTO, 0, XMPP_TLS_OFF, NULL, NULL, 0, NULL, 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_REQUIRED, "SCRAM-SHA-1", "SCRAM-SHA-1",
	  1, NULL, 0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_REQUIRED, "PLAIN", "PLAIN", 1, NULL,
	  0 },
	{ XMPP_AUTH_SASL, 1, XMPP_TLS_OFF, "SCRAM-SHA-1", NULL, 0, "wrong",
	  -EACCES },
};

static void
check_steps(enum th_server_kind k, const struct step_vec *v, int i)
{
	struct bus_conf	 conf;
	struct xmpp_conn	*c;
	char			 res[64];
	int			 steps, rc;

	live_conf(&conf, k, "opensrf", v->pw ? v->pw : TH_OPENSRF_PW);
	conf.auth = v->auth;
	conf.legacy_digest = v->digest;
	conf.tls = v->tls;
	conf.tls_ca_file = (char *)th_server(k)->cafile;
	snprintf(res, sizeof(res), "steps_%d", i);
	c = xmpp_new(&conf, res);
	ck_assert_ptr_nonnull(c);
	if (v->mechs != NULL)
		ck_assert_int_eq(xmpp_set_mechanisms(c, v->mechs), 0);
	rc = live_steps(c, &steps);
	ck_assert_msg(rc == v->rc, "login %d: %d, %s", i, rc, xmpp_error(c));
	ck_assert_int_gt(steps, 0);	/* nothing was done in one go */
	if (v->rc != 0) {
		ck_assert_int_eq(xmpp_fd(c), -1);
		xmpp_free(&c);
		return;
	}
	ck_assert_str_eq(xmpp_jid(c) + strlen("opensrf@private.localhost/"),
	    res);
	if (v->used != NULL)
		ck_assert_str_eq(xmpp_auth_used(c), v->used);
	ck_assert_int_eq(xmpp_is_tls(c), v->is_tls);
	ck_assert(xmpp_events(c) & POLLIN);
	xmpp_free(&c);
}

START_TEST(test_live_steps)
{
	check_steps(TH_EJABBERD, &steps_ejabberd[_i], _i);
}
END_TEST

START_TEST(test_prosody_steps)
{
	check_steps(TH_PROSODY, &steps_prosody[_i], _i);
}
END_TEST

/*
 * Over TLS with a tiny send buffer: 8 MiB in four messages go into the
 * queue (growing, so moving under SSL_write's retry) and come out
 * whole and in order at the other end.
 */
START_TEST(test_live_tls_queue)
{
	enum { NMSG = 4, BODY = 2 * 1024 * 1024 };
	struct bus_conf	 conf;
	struct xmpp_conn	*a, *b;
	struct xstanza		*st;
	struct tmsg		 m = TMSG_INIT;
	struct pollfd		 p[2];
	char			*body, thread[16];
	uint64_t		 deadline;
	int			 steps, n = 0, queued = 0, rc, i;

	live_conf(&conf, TH_EJABBERD, "opensrf", TH_OPENSRF_PW);
	conf.auth = XMPP_AUTH_SASL;
	conf.tls = XMPP_TLS_REQUIRED;
	conf.tls_ca_file = (char *)th_server(TH_EJABBERD)->cafile;
	a = xmpp_new(&conf, "tlsq_a");
	ck_assert_ptr_nonnull(a);
	ck_assert_msg(live_steps(a, &steps) == 0, "%s", xmpp_error(a));
	ck_assert(xmpp_is_tls(a));
	b = live_open(XMPP_AUTH_LEGACY, "opensrf", TH_OPENSRF_PW, "tlsq_b",
	    BODY + 4096);
	i = SM_TINY_BUF;
	ck_assert_int_eq(setsockopt(xmpp_fd(a), SOL_SOCKET, SO_SNDBUF, &i,
	    sizeof(i)), 0);
	body = malloc(BODY + 1);
	ck_assert_ptr_nonnull(body);
	for (i = 0; i < NMSG; i++) {
		memset(body, 'a' + i, BODY);
		body[BODY] = '\0';
		snprintf(thread, sizeof(thread), "q%d", i);
		send_msg(a, xmpp_jid(b), thread, body);
		queued |= (xmpp_events(a) & POLLOUT) != 0;
	}
	ck_assert(queued);
	deadline = mono_ms() + LIVE_TIMEOUT_MS;
	while (n < NMSG) {
		ck_assert_msg(mono_ms() < deadline, "%d of %d arrived", n,
		    NMSG);
		p[0].fd = xmpp_fd(a);
		p[0].events = (short)xmpp_events(a);
		p[1].fd = xmpp_fd(b);
		p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		ck_assert_int_ge(poll(p, 2, (int)(deadline - mono_ms())), 0);
		rc = xmpp_flush(a);
		ck_assert_msg(rc == 0 || rc == -EAGAIN, "flush: %d %s", rc,
		    xmpp_error(a));
		while (xmpp_recv(a, &st) == 1)
			xstanza_free(&st);	/* presences */
		while ((rc = xmpp_recv(b, &st)) == 1) {
			if (strcmp(st->name, "presence") != 0) {
				ck_assert_int_eq(tmsg_xml_parse(st->raw,
				    st->len, &m, NULL), 0);
				snprintf(thread, sizeof(thread), "q%d", n);
				ck_assert_str_eq(m.thread, thread);
				ck_assert_uint_eq(strlen(m.body), BODY);
				ck_assert_int_eq(m.body[0], 'a' + n);
				ck_assert_int_eq(m.body[BODY - 1], 'a' + n);
				tmsg_clear(&m);
				n++;
			}
			xstanza_free(&st);
		}
		ck_assert_int_ge(rc, 0);
	}
	ck_assert_int_eq(xmpp_flush(a), 0);
	free(body);
	xmpp_free(&a);
	xmpp_free(&b);
}
END_TEST

/* ------------------------------------------- unreachable by bare JID */

/* A connection to server k for the bare-JID checks. */
static struct xmpp_conn *
bare_open(enum th_server_kind k, const char *user, const char *pw,
    const char *res, int presence)
{
	struct bus_conf	 conf;
	struct xmpp_conn	*c;
	int			 steps;

	live_conf(&conf, k, user, pw);
	conf.legacy_digest = k == TH_EJABBERD;	/* prosody: no <digest> */
	c = xmpp_new(&conf, res);
	ck_assert_ptr_nonnull(c);
	xmpp_set_presence(c, presence);
	ck_assert_msg(live_steps(c, &steps) == 0, "%s: %s", res,
	    xmpp_error(c));
	return c;
}

/* Wait (bounded) for a presence from `from`, skipping other stanzas. */
static struct xstanza *
wait_presence(struct xmpp_conn *c, const char *from, int unavailable)
{
	struct xstanza	*st = NULL;
	struct pollfd	 pfd;
	uint64_t	 deadline = mono_ms() + LIVE_TIMEOUT_MS;
	char		 want[300];
	int		 rc;

	snprintf(want, sizeof(want), "from='%s'", from);
	for (;;) {
		while ((rc = xmpp_recv(c, &st)) == 1) {
			if (strcmp(st->name, "presence") == 0 &&
			    strstr(st->raw, want) != NULL &&
			    (strstr(st->raw, "'unavailable'") != NULL) ==
			    unavailable)
				return st;
			xstanza_free(&st);
		}
		ck_assert_int_eq(rc, 0);
		ck_assert_msg(mono_ms() < deadline, "no presence from %s",
		    from);
		pfd.fd = xmpp_fd(c);
		pfd.events = POLLIN;
		ck_assert_int_ge(poll(&pfd, 1, (int)(deadline - mono_ms())),
		    0);
	}
}

/*
 * The next message on c (presences skipped) must be the marker: the
 * sender wrote it after the strays, so a stray delivered to c would
 * have come first.
 */
static void
expect_marker(struct xmpp_conn *c)
{
	struct xstanza	*st;
	struct tmsg	 m = TMSG_INIT;

	st = live_wait(c);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(tmsg_xml_parse(st->raw, st->len, &m, NULL), 0);
	ck_assert_msg(strcmp(m.thread, "marker") == 0, "%s got a stray: %s",
	    xmpp_jid(c), st->raw);
	tmsg_clear(&m);
	xstanza_free(&st);
}

/* A message to `to` comes back to s as an error from `to`. */
static void
expect_bounce(struct xmpp_conn *s, const char *to)
{
	struct xstanza	*st;
	struct tmsg	 m = TMSG_INIT;

	send_msg(s, to, "stray", "[]");
	st = live_wait(s);
	ck_assert_ptr_nonnull(st);
	ck_assert_msg(st->is_error, "not a bounce: %s", st->raw);
	ck_assert_int_eq(tmsg_xml_parse(st->raw, st->len, &m, NULL), 0);
	ck_assert_str_eq(m.from, to);
	tmsg_clear(&m);
	xstanza_free(&st);
}

/*
 * Issue 14: two resources A and B of the shared account, a message to
 * a resource C that never existed and to D that logged out: the sender
 * gets it back, A and B never see it.  Then the control: a resource E
 * that announces priority 0 does get such a message, while A and B
 * still do not.
 */
static void
check_bare_jid(enum th_server_kind k)
{
	static const char	 gone[] = "opensrf@" TH_DOMAIN_PRIVATE
	    "/bare_c_never_there";
	struct xmpp_conn	*a, *b, *d, *e, *s;
	struct xstanza		*st;
	struct tmsg		 m = TMSG_INIT;
	char			 djid[128];

	a = bare_open(k, "opensrf", TH_OPENSRF_PW, "bare_a", 1);
	b = bare_open(k, "opensrf", TH_OPENSRF_PW, "bare_b", 1);
	s = bare_open(k, "router", TH_ROUTER_PW, "bare_sender", 1);
	/* b's presence reached a: priority -1 */
	st = wait_presence(a, xmpp_jid(b), 0);
	ck_assert_ptr_nonnull(strstr(st->raw, "<priority>-1</priority>"));
	xstanza_free(&st);
	/* d comes and goes; a sees it leave */
	d = bare_open(k, "opensrf", TH_OPENSRF_PW, "bare_d", 1);
	str_copy(djid, xmpp_jid(d), sizeof(djid));
	xmpp_free(&d);
	st = wait_presence(a, djid, 1);
	xstanza_free(&st);

	expect_bounce(s, gone);
	expect_bounce(s, djid);
	send_msg(s, xmpp_jid(a), "marker", "[]");
	send_msg(s, xmpp_jid(b), "marker", "[]");
	expect_marker(a);
	expect_marker(b);

	/* control: priority 0 takes what the server falls back with */
	e = bare_open(k, "opensrf", TH_OPENSRF_PW, "bare_e", 0);
	ck_assert_int_eq(xmpp_send(e, "<presence/>", 11), 0);
	st = wait_presence(a, xmpp_jid(e), 0);
	xstanza_free(&st);
	send_msg(s, gone, "stray", "[]");
	st = live_wait(e);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(tmsg_xml_parse(st->raw, st->len, &m, NULL), 0);
	ck_assert_str_eq(m.thread, "stray");
	tmsg_clear(&m);
	xstanza_free(&st);
	send_msg(s, xmpp_jid(a), "marker", "[]");
	send_msg(s, xmpp_jid(b), "marker", "[]");
	expect_marker(a);
	expect_marker(b);
	xmpp_free(&e);
	xmpp_free(&s);
	xmpp_free(&b);
	xmpp_free(&a);
}

START_TEST(test_live_bare_jid)
{
	check_bare_jid(TH_EJABBERD);
}
END_TEST

START_TEST(test_prosody_bare_jid)
{
	check_bare_jid(TH_PROSODY);
}
END_TEST

Suite *
xmpp_suite(void)
{
	Suite	*s = suite_create("xmpp");
	TCase	*tc;

	tc = tcase_create("scram");
	tcase_add_loop_test(tc, test_scram_rfc, 0, ARRAY_LEN(scram_vec));
	tcase_add_loop_test(tc, test_scram_bad_server_first, 0,
	    ARRAY_LEN(scram_bad));
	tcase_add_test(tc, test_scram_misc);
	tcase_add_loop_test(tc, test_b64, 0, ARRAY_LEN(b64_vec));
	tcase_add_test(tc, test_b64_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("legacy");
	tcase_add_loop_test(tc, test_legacy_digest, 0, ARRAY_LEN(digest_vec));
	tcase_add_test(tc, test_legacy_bytes_capture);
	tcase_add_test(tc, test_legacy_escaping);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_loop_test(tc, test_resource_fmt, 0, ARRAY_LEN(res_vec));
	tcase_add_test(tc, test_resource_too_long);
	tcase_add_loop_test(tc, test_iq_reply, 0, ARRAY_LEN(iq_vec));
	tcase_add_test(tc, test_mechanisms_pin);
	tcase_add_test(tc, test_outq_max);
	suite_add_tcase(s, tc);

	tc = tcase_create("fake_server");
	tcase_add_test(tc, test_fake_legacy_then_stream_error);
	tcase_add_loop_test(tc, test_fake_login_fails, 0,
	    ARRAY_LEN(fake_fail));
	tcase_add_test(tc, test_fake_login_timeout);
	tcase_add_test(tc, test_fake_auto_falls_back);
	tcase_add_test(tc, test_fake_auto_pre10);
	tcase_add_test(tc, test_fake_fork_no_logout);
	tcase_add_test(tc, test_fake_tls_required);
	tcase_add_test(tc, test_connect_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("steps");
	tcase_add_test(tc, test_step_legacy_bytewise);
	tcase_add_test(tc, test_step_legacy_refused_bytewise);
	tcase_add_test(tc, test_step_sasl_bytewise);
	tcase_add_test(tc, test_step_connect_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("queue");
	tcase_add_test(tc, test_queue_peer_reads_late);
	tcase_add_test(tc, test_queue_bound);
	tcase_add_test(tc, test_queue_iq_answer_in_turn);
	tcase_add_test(tc, test_queue_flush_wait);
	tcase_add_test(tc, test_close_waits_for_stream_end);
	tcase_add_test(tc, test_close_late_keeps_messages);
	suite_add_tcase(s, tc);

	tc = tcase_create("ejabberd");
	tcase_set_tags(tc, "integration");
	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
	tcase_add_checked_fixture(tc, live_setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_live_login, 0, ARRAY_LEN(login_vec));
	tcase_add_loop_test(tc, test_live_bad_password, 0,
	    ARRAY_LEN(badpw_vec));
	tcase_add_test(tc, test_live_tls_untrusted);
	tcase_add_test(tc, test_live_exchange);
	tcase_add_test(tc, test_live_toobig);
	tcase_add_test(tc, test_live_bounce);
	tcase_add_test(tc, test_live_server_restart);
	tcase_add_loop_test(tc, test_live_steps, 0, ARRAY_LEN(steps_ejabberd));
	tcase_add_test(tc, test_live_tls_queue);
	tcase_add_test(tc, test_live_bare_jid);
	suite_add_tcase(s, tc);

	tc = tcase_create("prosody");
	tcase_set_tags(tc, "integration");
	tcase_add_unchecked_fixture(tc, th_prosody_setup, NULL);
	tcase_add_checked_fixture(tc, live_setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_prosody_scram);
	tcase_add_test(tc, test_prosody_digest);
	tcase_add_loop_test(tc, test_prosody_steps, 0,
	    ARRAY_LEN(steps_prosody));
	tcase_add_test(tc, test_prosody_bare_jid);
	suite_add_tcase(s, tc);
	return s;
}
