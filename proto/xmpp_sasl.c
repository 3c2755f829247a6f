/*
 * xmpp_sasl.c: the client side of SCRAM (RFC 5802; SHA-256 per RFC 7677)
 * and base64, all cryptography from OpenSSL's libcrypto.
 *
 * Pure functions over strings: the connection (xmpp_login.c) wraps them
 * in <auth>/<challenge>/<response>/<success>.  Passwords are used as
 * given (no SASLprep): OpenSRF passwords are ASCII in practice, and a
 * non-ASCII one still works against a server that does not normalise.
 */
#include "xmpp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

/* Client nonce: 24 random bytes (32 base64 characters). */
#define SCRAM_NONCE_BYTES	24
/*
 * Refuse iteration counts a hostile server could use to make us burn
 * CPU (ejabberd and prosody use 4096; RFC 7677 recommends >= 4096).
 */
#define SCRAM_MAX_ITER		1000000
#define SCRAM_MAX_HLEN		64

char *
xmpp_b64_encode(const void *in, size_t len)
{
	char	*out;

	if (len > (size_t)0x3fffffff)
		return NULL;
	if ((out = malloc(4 * ((len + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

int
xmpp_b64_decode(const char *in, unsigned char **out, size_t *outlen)
{
	size_t		 len = strlen(in), pad = 0;
	unsigned char	*buf;
	int		 n;

	*out = NULL;
	*outlen = 0;
	if (len % 4 != 0 || len > (size_t)0x3fffffff)
		return -EINVAL;
	if (len > 0 && in[len - 1] == '=')
		pad++;
	if (len > 1 && in[len - 2] == '=')
		pad++;
	if ((buf = malloc(len / 4 * 3 + 1)) == NULL)
		return -ENOMEM;
	n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(buf);
		return -EINVAL;
	}
	n -= (int)pad;
	buf[n] = '\0';
	*out = buf;
	*outlen = (size_t)n;
	return 0;
}

static const EVP_MD *
scram_md(const char *mech, size_t *hlen)
{
	if (strcmp(mech, "SCRAM-SHA-1") == 0) {
		*hlen = 20;
		return EVP_sha1();
	}
	if (strcmp(mech, "SCRAM-SHA-256") == 0) {
		*hlen = 32;
		return EVP_sha256();
	}
	return NULL;
}

int
xmpp_scram_first(struct xmpp_scram *s, const char *mech, const char *user,
    const char *cnonce, char **out)
{
	unsigned char	 raw[SCRAM_NONCE_BYTES];
	char		*nonce = NULL, *ename;
	const char	*p;
	size_t		 n = 0;
	int		 rc = -ENOMEM;

	memset(s, 0, sizeof(*s));
	*out = NULL;
	if (scram_md(mech, &s->hlen) == NULL)
		return -EINVAL;
	s->mech = mech;
	if (cnonce == NULL) {
		if (RAND_bytes(raw, sizeof(raw)) != 1)
			return -EIO;
		if ((nonce = xmpp_b64_encode(raw, sizeof(raw))) == NULL)
			return -ENOMEM;
		cnonce = nonce;
	}
	/* saslname: ',' and '=' escaped (RFC 5802 5.1). */
	if ((ename = malloc(3 * strlen(user) + 1)) == NULL)
		goto out;
	for (p = user; *p != '\0'; p++) {
		if (*p == ',') {
			memcpy(ename + n, "=2C", 3);
			n += 3;
		} else if (*p == '=') {
			memcpy(ename + n, "=3D", 3);
			n += 3;
		} else
			ename[n++] = *p;
	}
	ename[n] = '\0';
	if (asprintf(&s->client_first_bare, "n=%s,r=%s", ename, cnonce) < 0) {
		s->client_first_bare = NULL;
		goto out_ename;
	}
	if (asprintf(out, "n,,%s", s->client_first_bare) < 0) {
		*out = NULL;
		goto out_ename;
	}
	s->step = 1;
	rc = 0;
out_ename:
	free(ename);
out:
	free(nonce);
	return rc;
}

/* Value of attribute `a` ("r", "s", "i") in a SCRAM message, or NULL. */
static const char *
scram_attr(const char *msg, char a, size_t *len)
{
	const char	*p = msg;

	while (*p != '\0') {
		if (p[0] == a && p[1] == '=') {
			*len = strcspn(p + 2, ",");
			return p + 2;
		}
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	return NULL;
}

static int
hmac(const EVP_MD *md, const void *key, size_t klen, const void *data,
    size_t dlen, unsigned char *out)
{
	unsigned int	len = 0;

	return HMAC(md, key, (int)klen, data, dlen, out, &len) == NULL ?
	    -EIO : 0;
}

int
xmpp_scram_final(struct xmpp_scram *s, const char *password,
    const char *sf, char **out)
{
	const EVP_MD	*md;
	const char	*nonce, *salt64, *iters;
	size_t		 nlen, slen, ilen, clen, hlen, i;
	unsigned char	*salt = NULL, salted[SCRAM_MAX_HLEN];
	unsigned char	 ckey[SCRAM_MAX_HLEN], skey[SCRAM_MAX_HLEN];
	unsigned char	 stored[SCRAM_MAX_HLEN], csig[SCRAM_MAX_HLEN];
	unsigned int	 dlen;
	char		*wo_proof = NULL, *auth = NULL, *proof = NULL, *tmp;
	char		 ibuf[16];
	long long	 iter;
	int		 rc = -EPROTO;

	*out = NULL;
	if (s->step != 1 || (md = scram_md(s->mech, &hlen)) == NULL)
		return -EINVAL;
	nonce = scram_attr(sf, 'r', &nlen);
	salt64 = scram_attr(sf, 's', &slen);
	iters = scram_attr(sf, 'i', &ilen);
	if (nonce == NULL || salt64 == NULL || iters == NULL ||
	    ilen == 0 || ilen >= sizeof(ibuf))
		return -EPROTO;
	/* The server's nonce must extend ours (RFC 5802 5.1, r=). */
	clen = strlen(strstr(s->client_first_bare, ",r=") + 3);
	if (nlen <= clen || strncmp(nonce,
	    strstr(s->client_first_bare, ",r=") + 3, clen) != 0)
		return -EPROTO;
	memcpy(ibuf, iters, ilen);
	ibuf[ilen] = '\0';
	if (parse_ll(ibuf, 1, SCRAM_MAX_ITER, &iter) != 0)
		return -EPROTO;
	if ((tmp = strndup(salt64, slen)) == NULL)
		return -ENOMEM;
	rc = xmpp_b64_decode(tmp, &salt, &slen);
	free(tmp);
	if (rc != 0)
		return -EPROTO;
	rc = -EIO;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt,
	    (int)slen, (int)iter, md, (int)hlen, salted) != 1)
		goto out;
	if (hmac(md, salted, hlen, "Client Key", 10, ckey) != 0 ||
	    hmac(md, salted, hlen, "Server Key", 10, skey) != 0)
		goto out;
	if (EVP_Digest(ckey, hlen, stored, &dlen, md, NULL) != 1)
		goto out;
	rc = -ENOMEM;
	if (asprintf(&wo_proof, "c=biws,r=%.*s", (int)nlen, nonce) < 0) {
		wo_proof = NULL;
		goto out;
	}
	if (asprintf(&auth, "%s,%s,%s", s->client_first_bare, sf,
	    wo_proof) < 0) {
		auth = NULL;
		goto out;
	}
	rc = -EIO;
	if (hmac(md, stored, hlen, auth, strlen(auth), csig) != 0 ||
	    hmac(md, skey, hlen, auth, strlen(auth), s->server_sig) != 0)
		goto out;
	for (i = 0; i < hlen; i++)
		csig[i] ^= ckey[i];	/* ClientProof */
	rc = -ENOMEM;
	if ((proof = xmpp_b64_encode(csig, hlen)) == NULL)
		goto out;
	if (asprintf(out, "%s,p=%s", wo_proof, proof) < 0) {
		*out = NULL;
		goto out;
	}
	s->step = 2;
	rc = 0;
out:
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(ckey, sizeof(ckey));
	OPENSSL_cleanse(skey, sizeof(skey));
	OPENSSL_cleanse(stored, sizeof(stored));
	free(salt);
	free(wo_proof);
	free(auth);
	free(proof);
	return rc;
}

int
xmpp_scram_verify(struct xmpp_scram *s, const char *server_final)
{
	unsigned char	*sig;
	const char	*v;
	char		*tmp;
	size_t		 vlen, siglen;
	int		 rc;

	if (s->step != 2)
		return -EINVAL;
	if ((v = scram_attr(server_final, 'v', &vlen)) == NULL)
		return -EACCES;		/* e=<error> or garbage */
	if ((tmp = strndup(v, vlen)) == NULL)
		return -ENOMEM;
	rc = xmpp_b64_decode(tmp, &sig, &siglen);
	free(tmp);
	if (rc != 0)
		return -EACCES;
	rc = (siglen == s->hlen &&
	    CRYPTO_memcmp(sig, s->server_sig, siglen) == 0) ? 0 : -EACCES;
	free(sig);
	return rc;
}

void
xmpp_scram_clear(struct xmpp_scram *s)
{
	free(s->client_first_bare);
	OPENSSL_cleanse(s, sizeof(*s));
}
