/*
 * priv.h: running as an unprivileged user, as daemons started by root
 * must.
 *
 * droverd and drover-router may be started as root: to read a
 * configuration only root may read, to create the scoreboard, the pid
 * and log files, and to give them to the user who runs the service.
 * Then they switch to that user for good, before any plugin code runs
 * and before anything read from the bus is handled, so a hole in a
 * plugin or a parser is that user's, not root's.
 *
 * Use: priv_resolve() the names from the configuration or the command
 * line while still root (it reads /etc/passwd and /etc/group), give the
 * files away with fchown(2) to .uid/.gid, then priv_drop().  Both fill
 * `why` with one human line on failure.
 *
 * Callers: a program's main process at start-up, never in signal
 * context.  No ownership: struct priv_ids is a plain value.
 * Errors: 0 or negative errno (-ENOENT unknown user or group, -EINVAL a
 * group without a user, -EPERM no right to switch or a switch that did
 * not stick).
 */
#ifndef DROVER_PRIV_H
#define DROVER_PRIV_H

#include <stddef.h>
#include <sys/types.h>

#include "util.h"

/* Longest user name kept (POSIX allows 32 on Linux; leave room). */
#define PRIV_NAME_MAX	64

struct priv_ids {
	char	user[PRIV_NAME_MAX];	/* for initgroups(3), as resolved */
	uid_t	uid;
	gid_t	gid;
	int	have_passwd;		/* user has a passwd entry: its
					   supplementary groups apply */
};

/*
 * Resolve `user` (a name or a number) and `group` (a name or a number;
 * NULL or "": the user's primary group) into *out.  A user given as a
 * number without a passwd entry needs a group.  Does not change the
 * process.
 */
int	priv_resolve(const char *user, const char *group,
	    struct priv_ids *out, char *why, size_t whysz) MUST_CHECK;

/*
 * Become ids for good: supplementary groups (those of the user's
 * entry, else just the group), then group, then user, real, effective
 * and saved alike; then check that root cannot be had back.  A process
 * that is not root may only "switch" to who it already is (0, nothing
 * done), anything else is -EPERM.
 */
int	priv_drop(const struct priv_ids *ids, char *why, size_t whysz)
	    MUST_CHECK;

/* Is this process running with root's user id (real or effective)? */
int	priv_is_root(void);

#endif /* DROVER_PRIV_H */
