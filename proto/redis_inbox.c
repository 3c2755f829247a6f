/*
 * redis_inbox.c: listing and sweeping Redis inboxes (redis_inbox.h).
 *
 * Layout: the pure part (parsing an address, judging its owner), then
 * the walk over the server's keys.
 */
#include "redis_inbox.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RI_PREFIX	"opensrf:client:"
/* Keys SCAN looks at per step: a step stays well under a millisecond. */
#define RI_SCAN_COUNT	"1000"

int
rinbox_parse(const char *key, char *host, size_t hostsz, long *pid)
{
	const char	*f[8];
	char		*end;
	size_t		 n = 0, len;
	long		 v;

	if (strncmp(key, RI_PREFIX, sizeof(RI_PREFIX) - 1) != 0)
		return -EINVAL;
	/* fields after the prefix: user, domain, host, pid, token */
	f[n++] = key + sizeof(RI_PREFIX) - 1;
	while (n < 8 && (f[n] = strchr(f[n - 1], ':')) != NULL)
		f[n] = f[n] + 1, n++;
	if (n != 5)
		return -EINVAL;
	len = (size_t)(f[3] - f[2] - 1);
	if (len == 0 || len >= hostsz || f[1] - f[0] < 2 || f[2] - f[1] < 2 ||
	    *f[4] == '\0')
		return -EINVAL;
	errno = 0;
	v = strtol(f[3], &end, 10);
	if (errno != 0 || end != f[4] - 1 || v <= 0)
		return -EINVAL;
	memcpy(host, f[2], len);
	host[len] = '\0';
	*pid = v;
	return 0;
}

static int
pid_alive(long pid)
{
	return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

enum rinbox_owner
rinbox_owner(const char *key, const char *myhost, rinbox_alive_fn alive)
{
	char	host[256];
	long	pid;

	if (rinbox_parse(key, host, sizeof(host), &pid) < 0)
		return RINBOX_UNPARSED;
	if (strcasecmp(host, myhost) != 0)
		return RINBOX_ELSEWHERE;
	return (alive != NULL ? alive : pid_alive)(pid) ? RINBOX_ALIVE :
	    RINBOX_GONE;
}

const char *
rinbox_owner_name(enum rinbox_owner o)
{
	switch (o) {
	case RINBOX_ALIVE:
		return "alive";
	case RINBOX_GONE:
		return "gone";
	case RINBOX_ELSEWHERE:
		return "other host";
	case RINBOX_UNPARSED:
	default:
		return "unknown";
	}
}

/* One key: look, maybe delete, report. */
static int
one(struct rds_conn *c, const char *key, const char *myhost, int sweep,
    rinbox_alive_fn alive, int ms, rinbox_fn fn, void *arg)
{
	struct rds_reply	*r = NULL;
	struct rinbox		 ib;
	char			 host[256] = "";
	int			 rc;

	memset(&ib, 0, sizeof(ib));
	ib.key = key;
	ib.host = host;
	ib.owner = rinbox_owner(key, myhost, alive);
	if (rinbox_parse(key, host, sizeof(host), &ib.pid) < 0) {
		host[0] = '\0';
		ib.pid = 0;
	}
	ib.depth = -1;
	if ((rc = rds_calll(c, ms, &r, "LLEN", key, NULL)) == 0 &&
	    r->type == RDS_INTEGER)
		ib.depth = r->integer;
	rds_reply_free(&r);
	if (rc == -ENOTCONN || rc == -ETIMEDOUT)
		return rc;
	if (sweep && ib.owner == RINBOX_GONE) {
		if ((rc = rds_calll(c, ms, &r, "DEL", key, NULL)) < 0) {
			rds_reply_free(&r);
			return rc;
		}
		ib.deleted = r != NULL && r->type == RDS_INTEGER &&
		    r->integer == 1;
		rds_reply_free(&r);
	}
	fn(arg, &ib);
	return 0;
}

int
rinbox_scan(struct rds_conn *c, const char *myhost, int sweep,
    rinbox_alive_fn alive, int timeout_ms, rinbox_fn fn, void *arg)
{
	struct rds_reply	*r = NULL;
	char			*cursor = xstrdup("0");
	size_t			 i;
	int			 rc, n = 0;

	do {
		rc = rds_calll(c, timeout_ms, &r, "SCAN", cursor, "MATCH",
		    RI_PREFIX "*", "COUNT", RI_SCAN_COUNT, NULL);
		if (rc < 0)
			goto out;
		if (r->type != RDS_ARRAY || r->n != 2 ||
		    r->elem[0]->type != RDS_STRING ||
		    r->elem[1]->type != RDS_ARRAY) {
			rc = -EPROTO;
			goto out;
		}
		free(cursor);
		cursor = rds_reply_take(r->elem[0], NULL);
		for (i = 0; i < r->elem[1]->n; i++) {
			if (r->elem[1]->elem[i]->type != RDS_STRING)
				continue;
			if ((rc = one(c, r->elem[1]->elem[i]->str, myhost,
			    sweep, alive, timeout_ms, fn, arg)) < 0)
				goto out;
			n++;
		}
		rds_reply_free(&r);
	} while (strcmp(cursor, "0") != 0);
	rc = n;
out:
	rds_reply_free(&r);
	free(cursor);
	return rc;
}
