/*
 * xmpp_util.c: the pure helpers of xmpp.h (legacy digest, resource
 * names, reconnect back-off) and the XML escaping the login uses.
 */
#include "xmpp.h"
#include "xmpp_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

int
xmpp_legacy_digest(const char *stream_id, const char *password,
    char out[XMPP_DIGEST_LEN])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 len = 0, i;
	EVP_MD_CTX		*ctx;
	int			 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, stream_id, strlen(stream_id)) == 1 &&
	    EVP_DigestUpdate(ctx, password, strlen(password)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &len) == 1 && len == 20;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	for (i = 0; i < len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[2 * len] = '\0';
	return 0;
}

int
xmpp_resource_fmt(char *buf, size_t len, enum xmpp_role role,
    const char *svc, const char *host, uint64_t wall_us, pid_t pid)
{
	const char	*kind;
	int		 n;

	switch (role) {
	case XMPP_ROLE_LISTENER:
		kind = "_listener";
		break;
	case XMPP_ROLE_DRONE:
		kind = "_drone";
		break;
	default:
		kind = "";
		svc = "";
		break;
	}
	n = snprintf(buf, len, "%s%s_%s_%llu.%06llu_%ld", svc, kind, host,
	    (unsigned long long)(wall_us / 1000000),
	    (unsigned long long)(wall_us % 1000000), (long)pid);
	if (n < 0)
		return -EINVAL;
	return (size_t)n >= len ? -ENAMETOOLONG : n;
}

int
xmpp_resource_make(char *buf, size_t len, enum xmpp_role role,
    const char *svc)
{
	char	host[HOST_NAME_MAX + 1];

	if (gethostname(host, sizeof(host)) != 0)
		str_copy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	return xmpp_resource_fmt(buf, len, role, svc, host, wall_us(),
	    getpid());
}

int
xmpp_escape(struct pbuf *b, const char *s)
{
	const char	*p;
	int		 rc = 0;

	for (p = s; *p != '\0' && rc == 0; p++) {
		switch (*p) {
		case '&':
			rc = pbuf_adds(b, "&amp;");
			break;
		case '<':
			rc = pbuf_adds(b, "&lt;");
			break;
		case '>':
			rc = pbuf_adds(b, "&gt;");
			break;
		case '\'':
			rc = pbuf_adds(b, "&apos;");
			break;
		case '"':
			rc = pbuf_adds(b, "&quot;");
			break;
		default:
			rc = pbuf_addc(b, *p);
			break;
		}
	}
	return rc;
}
