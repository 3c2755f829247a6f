/*
 * router_loop.h: drover-router's event loop, over every XMPP connection
 * of every configured router entry.
 *
 * One process serves all <router> entries of the config (OpenSRF forks
 * one daemon per entry): one epoll loop over, per entry, the top-level
 * connection <name>@<domain>/router and one connection per registered
 * class <name>@<domain>/<class>.  Logins never block routing: each
 * connection is opened by a short-lived connector thread that runs the
 * (blocking) bus_open() and hands the connection back to the loop
 * through a pipe; until then the loop does not touch it, and a class
 * whose address is not up yet is forwarded to from the top-level
 * connection.  A connection that fails is retried with doubling
 * back-off (bus_backoff_ms()) up to the entry's reconnect_max_ms;
 * registrations survive (listeners re-register after their own
 * reconnects).  Messages to send are held per connection (bus_cork())
 * while one batch of events is handled and written at its end.
 *
 * Status: every second, when something changed, the loop rewrites a
 * small text file (write to a temporary file, then rename(2)) with the
 * per-class counters; `drover-router --status` prints it.  A file is
 * simpler and sturdier than a control socket: readable while the loop is
 * busy, nothing to authenticate, no protocol.
 *
 * Callers: drover-router's main(), once.  Not for signal context: the
 * signal handlers of drover_router_main.c only set the flags passed in struct
 * router_loop_conf and write a byte to its wake pipe.
 *
 * Threads: a bus is used by one thread at a time, its connector until the
 * login ends, then the loop; this relies on the buses keeping no shared
 * mutable state (true of proto/bus*.c and xmpp*.c, whose only
 * process-wide setup, xmlInitParser(), the loop does before any thread).
 *
 * Ownership: the config entries are borrowed for the life of the loop
 * (on SIGHUP the trusted lists of fresh entries are copied in).
 * Buses come from conf->mk and are freed by the loop.
 *
 * Errors: 0 or negative errno.
 */
#ifndef DROVER_ROUTER_LOOP_H
#define DROVER_ROUTER_LOOP_H

#include <signal.h>
#include <stddef.h>

#include "bus.h"
#include "cfg.h"
#include "util.h"

/*
 * Make a closed bus (role ROUTER, no reconnecting of its own: the loop
 * paces reconnects) for conf logging in with `resource`.
 */
typedef int (*router_bus_fn)(const struct bus_conf *conf,
    const char *resource, struct bus **out);

struct router_loop_conf {
	const struct router_conf	*entries;
	size_t				 nentries;
	router_bus_fn			 mk;
	const char			*status_path;	/* NULL: none */
	volatile sig_atomic_t		*stop;		/* set: log out */
	volatile sig_atomic_t		*reload;	/* set: reload_fn */
	int				 wake_fd;	/* self-pipe, read */
	/* Called on *reload with fresh entries; may fail (then kept). */
	int	(*reload_fn)(void *arg, struct router_conf **out, size_t *n);
	void	 *reload_arg;
	/* Called once, when every entry's top-level connection is first
	   up (systemd readiness); NULL: none. */
	void	(*on_up)(void *arg);
	void	 *on_up_arg;
};

struct router_loop;

int	router_loop_new(const struct router_loop_conf *,
	    struct router_loop **out) MUST_CHECK;
/* Serve until *stop; then log out every connection.  0 or -errno. */
int	router_loop_run(struct router_loop *) MUST_CHECK;
void	router_loop_free(struct router_loop **);

/* Status file path when none is given: see drover-router(8). */
char	*router_status_default_path(void);
/* Print the status file of a running router to stdout; 0 or -errno. */
int	router_status_print(const char *path) MUST_CHECK;

#endif /* DROVER_ROUTER_LOOP_H */
