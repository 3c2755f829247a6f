/*
 * xmpp_tls.c: STARTTLS for the XMPP client, with libssl.
 *
 * Nothing here blocks: the handshake is stepped by the login state
 * machine (xmpp_login.c), reads and writes report -EAGAIN, and c->tls_hs,
 * c->tls_rd and c->tls_wr tell xmpp_events() which way the socket must
 * be ready before the retry.  TLS 1.2 at least.  With
 * tls_verify the certificate must chain to tls_ca_file (or the system
 * store) and name the XMPP domain.
 *
 * libssl writes through write(2), not send(MSG_NOSIGNAL): a process
 * that uses TLS must ignore SIGPIPE (droverd and the tools do, STYLE.md).
 */
#include "xmpp.h"
#include "xmpp_int.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"

static const char *
ssl_reason(void)
{
	unsigned long	e = ERR_get_error();

	ERR_clear_error();
	return e ? ERR_reason_error_string(e) : "unknown error";
}

int
xmpp_tls_begin(struct xmpp_conn *c)
{
	int	rc;

	ERR_clear_error();
	if ((c->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return xmpp_fail(c, -ENOMEM, "SSL_CTX_new: %s", ssl_reason());
	SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
	if (c->conf.tls_verify) {
		SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
		rc = c->conf.tls_ca_file ?
		    SSL_CTX_load_verify_locations(c->ssl_ctx,
		    c->conf.tls_ca_file, NULL) :
		    SSL_CTX_set_default_verify_paths(c->ssl_ctx);
		if (rc != 1)
			return xmpp_fail(c, -EINVAL, "TLS CA %s: %s",
			    c->conf.tls_ca_file ? c->conf.tls_ca_file :
			    "(system store)", ssl_reason());
	}
	if ((c->ssl = SSL_new(c->ssl_ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		return xmpp_fail(c, -ENOMEM, "SSL_new: %s", ssl_reason());
	/*
	 * The output queue hands SSL_write() its first unwritten bytes:
	 * after a write that had to wait, the retry starts with the same
	 * bytes but maybe at another address (the queue grew and moved)
	 * and with more of them (more was queued).  Partial writes let a
	 * long queue go out record by record.
	 */
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_set_tlsext_host_name(c->ssl, c->conf.domain);
	if (c->conf.tls_verify && SSL_set1_host(c->ssl, c->conf.domain) != 1)
		return xmpp_fail(c, -ENOMEM, "SSL_set1_host: %s",
		    ssl_reason());
	c->tls_hs = POLLOUT;	/* the ClientHello goes first */
	return 0;
}

int
xmpp_tls_handshake(struct xmpp_conn *c)
{
	long	vr;
	int	rc, e;

	ERR_clear_error();
	rc = SSL_connect(c->ssl);
	if (rc == 1) {
		c->tls_hs = 0;
		log_debug("xmpp: TLS %s with %s", SSL_get_version(c->ssl),
		    c->conf.domain);
		return 0;
	}
	e = SSL_get_error(c->ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->tls_hs = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		return -EINPROGRESS;
	}
	vr = SSL_get_verify_result(c->ssl);
	return xmpp_fail(c, vr != X509_V_OK ? -EACCES : -EPROTO,
	    "TLS handshake with %s: %s%s%s", c->conf.domain, ssl_reason(),
	    vr != X509_V_OK ? ": " : "",
	    vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "");
}

/* Map a failed SSL_read/SSL_write; *wants: what a retry waits for. */
static ssize_t
tls_result(struct xmpp_conn *c, int rc, unsigned *wants)
{
	int	e = SSL_get_error(c->ssl, rc);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		*wants = POLLIN;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*wants = POLLOUT;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		return errno ? -errno : 0;
	default:
		return xmpp_fail(c, -EPROTO, "TLS: %s", ssl_reason());
	}
}

ssize_t
xmpp_tls_read(struct xmpp_conn *c, void *buf, size_t len)
{
	int	rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_read(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	c->tls_rd = 0;
	if (rc > 0)
		return rc;
	return tls_result(c, rc, &c->tls_rd);
}

ssize_t
xmpp_tls_write(struct xmpp_conn *c, const void *buf, size_t len)
{
	int	rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	c->tls_wr = 0;
	if (rc > 0)
		return rc;
	rc = (int)tls_result(c, rc, &c->tls_wr);
	return rc == 0 ? -EPIPE : rc;
}

void
xmpp_tls_close(struct xmpp_conn *c, int notify)
{
	if (c->ssl != NULL) {
		if (notify)
			(void)SSL_shutdown(c->ssl); /* one-way close_notify;
						       the socket closes next */
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->ssl_ctx != NULL) {
		SSL_CTX_free(c->ssl_ctx);
		c->ssl_ctx = NULL;
	}
	c->tls_hs = c->tls_rd = c->tls_wr = 0;
}
