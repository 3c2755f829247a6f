/*
 * priv.c: see priv.h.  Name lookups, then the switch itself, checked
 * afterwards from every id the kernel keeps (real, effective, saved)
 * rather than trusted from the calls' return values.
 */
#include "priv.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * getpwnam_r()/getgrnam_r() buffer: the sizes the C library suggests
 * are around 1 KiB; a group with thousands of members needs more, so
 * the lookup grows it up to this before giving up.
 */
#define PRIV_BUF_MAX	(1024 * 1024)

/* A decimal id such as "65534"; 0 or -EINVAL. */
static int
parse_id(const char *s, unsigned long *out)
{
	long long	v;

	if (parse_ll(s, 0, (long long)UINT_MAX - 1, &v) < 0)
		return -EINVAL;
	*out = (unsigned long)v;
	return 0;
}

/*
 * After a *_r lookup said ERANGE: double *buf (up to PRIV_BUF_MAX).
 * 0, -ERANGE when it may not grow further, -ENOMEM.
 */
static int
grow(char **buf, size_t *sz)
{
	char	*nb;

	if (*sz >= PRIV_BUF_MAX)
		return -ERANGE;
	if ((nb = realloc(*buf, *sz * 2)) == NULL)
		return -ENOMEM;
	*buf = nb;
	*sz *= 2;
	return 0;
}

/* The account called name, or with uid when name is NULL. */
static int
lookup_passwd(const char *name, uid_t uid, struct passwd *pw, char **buf,
    size_t *sz)
{
	struct passwd	*res = NULL;
	int		 rc;

	while ((rc = name != NULL ? getpwnam_r(name, pw, *buf, *sz, &res) :
	    getpwuid_r(uid, pw, *buf, *sz, &res)) == ERANGE)
		if ((rc = grow(buf, sz)) < 0)
			return rc;
	if (rc != 0)
		return -rc;
	return res != NULL ? 0 : -ENOENT;
}

static int
lookup_group(const char *name, gid_t *gid, char **buf, size_t *sz)
{
	struct group	 gr, *res = NULL;
	int		 rc;

	while ((rc = getgrnam_r(name, &gr, *buf, *sz, &res)) == ERANGE)
		if ((rc = grow(buf, sz)) < 0)
			return rc;
	if (rc != 0)
		return -rc;
	if (res == NULL)
		return -ENOENT;
	*gid = gr.gr_gid;
	return 0;
}

int
priv_resolve(const char *user, const char *group, struct priv_ids *out,
    char *why, size_t whysz)
{
	struct passwd	 pw;
	unsigned long	 id;
	size_t		 sz = 1024;
	char		*buf;
	int		 rc, have_group = 0;

	memset(out, 0, sizeof(*out));
	if (user == NULL || *user == '\0') {
		snprintf(why, whysz, "group \"%s\" given without a user",
		    group != NULL ? group : "");
		return -EINVAL;
	}
	if ((buf = malloc(sz)) == NULL) {
		snprintf(why, whysz, "out of memory");
		return -ENOMEM;
	}
	if ((rc = lookup_passwd(user, 0, &pw, &buf, &sz)) == 0) {
		out->uid = pw.pw_uid;
		out->gid = pw.pw_gid;
		out->have_passwd = 1;
		str_copy(out->user, pw.pw_name, sizeof(out->user));
	} else if (rc == -ENOENT && parse_id(user, &id) == 0) {
		out->uid = (uid_t)id;
		if (lookup_passwd(NULL, out->uid, &pw, &buf, &sz) == 0) {
			out->gid = pw.pw_gid;
			out->have_passwd = 1;
			str_copy(out->user, pw.pw_name, sizeof(out->user));
		} else
			str_copy(out->user, user, sizeof(out->user));
	} else {
		snprintf(why, whysz, "user \"%s\": %s", user, rc == -ENOENT ?
		    "no such user" : strerror(-rc));
		free(buf);
		return rc == -ENOENT ? -ENOENT : rc;
	}
	if (group != NULL && *group != '\0') {
		if ((rc = lookup_group(group, &out->gid, &buf, &sz)) == 0)
			have_group = 1;
		else if (rc == -ENOENT && parse_id(group, &id) == 0) {
			out->gid = (gid_t)id;
			have_group = 1;
		} else {
			snprintf(why, whysz, "group \"%s\": %s", group,
			    rc == -ENOENT ? "no such group" : strerror(-rc));
			free(buf);
			return rc;
		}
	}
	free(buf);
	if (!out->have_passwd && !have_group) {
		snprintf(why, whysz, "user %s has no passwd entry: give a "
		    "group too", user);
		return -EINVAL;
	}
	return 0;
}

int
priv_is_root(void)
{
	return getuid() == 0 || geteuid() == 0;
}

/* Do the kernel's ids say we are ids, and only ids? */
static int
ids_are(const struct priv_ids *ids, char *why, size_t whysz)
{
	uid_t	ru, eu, su;
	gid_t	rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1) {
		snprintf(why, whysz, "getresuid: %s", strerror(errno));
		return -errno;
	}
	if (ru != ids->uid || eu != ids->uid || su != ids->uid ||
	    rg != ids->gid || eg != ids->gid || sg != ids->gid) {
		snprintf(why, whysz, "ids after the switch are uid %u/%u/%u "
		    "gid %u/%u/%u, not %u:%u", (unsigned)ru, (unsigned)eu,
		    (unsigned)su, (unsigned)rg, (unsigned)eg, (unsigned)sg,
		    (unsigned)ids->uid, (unsigned)ids->gid);
		return -EPERM;
	}
	return 0;
}

int
priv_drop(const struct priv_ids *ids, char *why, size_t whysz)
{
	int	rc;

	if (!priv_is_root()) {
		if (getuid() == ids->uid && getgid() == ids->gid &&
		    ids_are(ids, why, whysz) == 0)
			return 0;	/* already who we should be */
		snprintf(why, whysz, "cannot switch to user %s (uid %u, "
		    "gid %u): running as uid %u, not root", ids->user,
		    (unsigned)ids->uid, (unsigned)ids->gid,
		    (unsigned)getuid());
		return -EPERM;
	}
	if (ids->have_passwd) {
		if (initgroups(ids->user, ids->gid) == -1) {
			rc = -errno;
			snprintf(why, whysz, "initgroups(%s, %u): %s",
			    ids->user, (unsigned)ids->gid, strerror(-rc));
			return rc;
		}
	} else if (setgroups(1, &ids->gid) == -1) {
		rc = -errno;
		snprintf(why, whysz, "setgroups(%u): %s", (unsigned)ids->gid,
		    strerror(-rc));
		return rc;
	}
	/* the group first: once the user is not root, it cannot be set */
	if (setresgid(ids->gid, ids->gid, ids->gid) == -1) {
		rc = -errno;
		snprintf(why, whysz, "setresgid(%u): %s", (unsigned)ids->gid,
		    strerror(-rc));
		return rc;
	}
	if (setresuid(ids->uid, ids->uid, ids->uid) == -1) {
		rc = -errno;
		snprintf(why, whysz, "setresuid(%u): %s", (unsigned)ids->uid,
		    strerror(-rc));
		return rc;
	}
	if ((rc = ids_are(ids, why, whysz)) < 0)
		return rc;
	/* a user other than root must not get root back by any door */
	if (ids->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1 ||
	    (ids->gid != 0 && setgid(0) != -1))) {
		snprintf(why, whysz, "switched to uid %u but could become "
		    "root again", (unsigned)ids->uid);
		return -EPERM;
	}
	return 0;
}
