/*
 * notify.h: telling the service manager (systemd) how the daemon is
 * doing, as Type=notify units expect.
 *
 * The protocol is sd_notify(3)'s: one datagram of newline-separated
 * KEY=VALUE lines (READY=1, RELOADING=1, STOPPING=1, STATUS=text,
 * MONOTONIC_USEC=n) sent to the AF_UNIX socket named by $NOTIFY_SOCKET,
 * a path, or an abstract name written with a leading '@'.  It is
 * stable and documented, and a datagram is a few lines of code: drover
 * implements it rather than link libsystemd for it (README.md, the
 * library section).  vsock addresses (newer systemd, for VMs) are not
 * supported: notify_init() says so and notifications are off.
 *
 * Use: notify_init() once at start (it reads and unsets
 * $NOTIFY_SOCKET, so no child or plugin inherits it), then notify_send()
 * from the main process, the one the manager watches.  Each send opens
 * a socket, sends and closes it: nothing is held across a fork.
 *
 * Callers: the main process of droverd and drover-router, never in
 * signal context.  Errors: 0 or negative errno; a daemon goes on
 * without notifications, logging why.
 */
#ifndef DROVER_NOTIFY_H
#define DROVER_NOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>

#include "util.h"

struct notify {
	struct sockaddr_un	addr;
	socklen_t		len;	/* 0: no manager to tell */
};

/*
 * From $NOTIFY_SOCKET: 0 with n->len set, 0 with n->len 0 when unset
 * or empty (not under a manager), -EAFNOSUPPORT (vsock, or anything
 * that is neither a path nor '@') or -ENAMETOOLONG with n->len 0.
 */
int	notify_init(struct notify *n) MUST_CHECK;
/* Is there a manager to tell? */
int	notify_on(const struct notify *n);
/*
 * Send one datagram of the formatted lines (no trailing newline
 * needed); a no-op returning 0 without a manager.  0 or -errno.
 */
int	notify_send(const struct notify *n, const char *fmt, ...)
	    PRINTF(2, 3);

#endif /* DROVER_NOTIFY_H */
