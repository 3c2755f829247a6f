/*
 * redis_inbox.h: the inboxes of a Redis bus seen from outside, for
 * droverctl(8): list them, and delete those whose owner is gone.
 *
 * Every OpenSRF process on Redis owns an inbox, the list key
 * opensrf:client:<user>:<domain>:<host>:<pid>:<token>, and deletes it on
 * a clean exit (opensrf-redis.md section 3).  A process that crashes, or
 * a drone's reply to a client that gave up, leaves one behind, and
 * nothing in OpenSRF ever deletes it (spec 7).  The key itself says
 * where its owner ran: on this host, whether the owner lives is a
 * kill(pid, 0) away (a pid that now runs something else counts as alive:
 * an inbox is kept when in doubt); on another host nothing can be known
 * from here, so such inboxes are listed and never deleted (run the sweep
 * on each host).  Keys that do not follow the pattern are left alone.
 *
 * Listing uses SCAN MATCH opensrf:client:*, which drover's accounts file
 * grants the opensrf user (+scan; OpenSRF's does not: -EACCES), plus
 * LLEN for the messages waiting in each; deleting uses DEL.  SCAN walks
 * the key space in steps without blocking the server; a key made or
 * deleted meanwhile may or may not be seen.
 *
 * Callers: tools (droverctl), blocking, one connection.  Ownership: the
 * struct rinbox passed to the callback and its strings live for the
 * call.  Errors: a count, or a negative errno (-EACCES: the user lacks a
 * right; -ETIMEDOUT: the server did not answer; -ENOTCONN).
 */
#ifndef DROVER_REDIS_INBOX_H
#define DROVER_REDIS_INBOX_H

#include <stddef.h>

#include "redis_conn.h"
#include "util.h"

/* What is known of an inbox's owner, from this host. */
enum rinbox_owner {
	RINBOX_ALIVE,		/* this host, its pid runs */
	RINBOX_GONE,		/* this host, no such process */
	RINBOX_ELSEWHERE,	/* another host: unknown from here */
	RINBOX_UNPARSED,	/* not drover's or OpenSRF's pattern */
};

struct rinbox {
	const char		*key;
	long long		 depth;		/* messages waiting; -1 unknown */
	enum rinbox_owner	 owner;
	long			 pid;		/* 0 when unparsed */
	const char		*host;		/* "" when unparsed */
	int			 deleted;	/* the sweep deleted it */
};

typedef void (*rinbox_fn)(void *arg, const struct rinbox *);
/* Is pid alive (kill(pid, 0) but for ESRCH)?  Replaceable for tests. */
typedef int (*rinbox_alive_fn)(long pid);

/*
 * The host and pid an inbox names: 0, or -EINVAL when key is not
 * opensrf:client:<user>:<domain>:<host>:<pid>:<token>.
 */
int	rinbox_parse(const char *key, char *host, size_t hostsz, long *pid)
	    MUST_CHECK;
/* Pure: what myhost can tell of key's owner (alive NULL: kill(2)). */
enum rinbox_owner rinbox_owner(const char *key, const char *myhost,
	    rinbox_alive_fn alive);
/* "alive", "gone", "other host", "unknown". */
const char *rinbox_owner_name(enum rinbox_owner);

/*
 * Walk every inbox on the server of c (UP), calling fn for each; with
 * sweep, DEL those whose owner is RINBOX_GONE first.  myhost is this
 * host's short name as inboxes carry it.  The number of inboxes seen,
 * or -errno.  timeout_ms bounds each command.
 */
int	rinbox_scan(struct rds_conn *c, const char *myhost, int sweep,
	    rinbox_alive_fn alive, int timeout_ms, rinbox_fn fn, void *arg)
	    MUST_CHECK;

#endif /* DROVER_REDIS_INBOX_H */
