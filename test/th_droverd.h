/*
 * th_droverd.h: run a real droverd in a test, on the local bus.
 *
 * th_droverd_start() makes a private temporary directory holding a
 * generated opensrf_core.xml and opensrf.xml (service drover.test, the
 * test plugin from lib/), the log file and the local bus sockets; starts
 * bin/droverd -f --local DIR; opens a client endpoint on that bus; and
 * waits until the scoreboard shows min_children idle.  Every wait has a
 * deadline and fails at once (Check assertion) if droverd died.  Nothing
 * sleeps to synchronise: the waits poll the scoreboard, the log file or
 * the client socket for the event itself.
 *
 * Callers: Check tests (test process).  Ownership: struct th_droverd is
 * the test's; th_droverd_cleanup() kills droverd if still alive, closes
 * the client, unmaps the scoreboard and removes the directory.
 * Environment: DROVER_BIN and DROVER_LIB (test/run-tests sets them).
 */
#ifndef DROVER_TH_DROVERD_H
#define DROVER_TH_DROVERD_H

#include <stddef.h>
#include <sys/types.h>

#include "scoreboard/sb.h"

/* Settings of the generated opensrf.xml; 0 or NULL: the helper's default. */
struct th_conf {
	int		 min_children;		/* default 2 */
	int		 max_children;		/* default 4 */
	int		 min_spare;		/* default 0 */
	int		 max_spare;		/* default 0 (off) */
	int		 max_requests;		/* default 1000 */
	int		 max_requests_jitter;
	int		 max_backlog_queue;	/* default 100; -1 writes 0 */
	int		 request_timeout;
	int		 slow_request_ms;
	int		 graceful_timeout;	/* default 10 */
	int		 keepalive;		/* default 5 */
	const char	*app_settings;		/* XML inside <app_settings> */
	const char	*unix_extra;		/* more XML inside <unix_config> */
	const char	*instance;		/* default "th<pid>", so tests
					   never meet another droverd */
	const char	*core_extra;		/* more XML inside <opensrf>;
					   NULL: <allow_root>true</allow_root>
					   (tests run as root) */
	const char	*core_after;		/* XML after </opensrf>, such
					   as <shared> */
};

struct th_droverd {
	char		 dir[64];
	char		 core[128];
	char		 settings[128];
	char		 log[128];
	char		 listener[256];		/* droverd's JID */
	char		 shm[SB_SHM_NAME_MAX];
	char		 instance[32];
	char		 service[SB_NAME_LEN];	/* -s; drover.test by default */
	pid_t		 pid;			/* -1 once reaped */
	int		 status;		/* wait status once reaped */
	struct sb	*sb;			/* read-only map */
	struct bus	*client;
	unsigned	 nthread;
	void		*pend;			/* replies being assembled */
	int		 xmpp;			/* 1: no --local (the test
						   wrote an XMPP core) */
};

/* A view of the scoreboard for wait predicates. */
struct th_view {
	struct sb_info		info;
	struct sb_slot_info	slot[SB_SLOTS];
	struct sb_summary	sum;
};

typedef int (*th_pred)(const struct th_view *, void *arg);

/*
 * Make d->dir (once) and name its files, for `service` and `instance`
 * (NULL: "th<pid>"); a test that writes its own d->core calls this, then
 * th_droverd_run().
 */
void	th_droverd_prepare(struct th_droverd *, const char *service,
	    const char *instance);
/* Write the configuration files for c into d->dir (made if needed). */
void	th_droverd_conf(struct th_droverd *, const struct th_conf *);
/* Configure, start, connect, and wait for min_children idle. */
void	th_droverd_start(struct th_droverd *, const struct th_conf *);
/* Start with -f what is configured, connect, wait for `idle` children. */
void	th_droverd_run(struct th_droverd *, int idle);
/* Start bin/droverd with extra arguments (NULL-terminated) only. */
pid_t	th_droverd_exec(struct th_droverd *, const char *const *extra);
/* Wait (deadline in ms) until pred holds; `what` names it on failure. */
void	th_wait_sb(struct th_droverd *, th_pred, void *arg, int ms,
	    const char *what);
void	th_wait_idle(struct th_droverd *, int n, int ms);
/* Wait until the log file holds `needle`. */
void	th_wait_log(struct th_droverd *, const char *needle, int ms);
/* Does the log file hold `needle` now? */
int	th_log_has(struct th_droverd *, const char *needle);
/* Does a line of the file at path hold `needle` now?  0 if unreadable. */
int	th_file_has(const char *path, const char *needle);
/*
 * A helper daemon the test started (drover-router, say) must still run:
 * if *pid (> 0) has exited, fail now with its status and its log, and
 * set *pid to -1.  Nothing when *pid <= 0.
 */
void	th_child_alive(pid_t *pid, const char *log);
/*
 * Wait up to ms until a line of the file at path holds `needle`; with
 * pid, fail at once when that daemon exits meanwhile (th_child_alive()).
 */
void	th_wait_file(const char *path, const char *needle, int ms, pid_t *pid,
	    const char *log);
/* Send a signal and wait for droverd to exit; returns its wait status. */
int	th_droverd_stop(struct th_droverd *, int sig, int ms);
/* Wait for droverd to exit on its own; returns its wait status. */
int	th_droverd_wait_exit(struct th_droverd *, int ms);
void	th_droverd_cleanup(struct th_droverd *);
/* A copy of the scoreboard now. */
void	th_view(struct th_droverd *, struct th_view *);

/* ---------------------------------------------------------- client */

/*
 * Send a stateless REQUEST for method with params (a JSON array text) to
 * droverd on thread `thread` (NULL: a fresh one, copied to thread_out if
 * not NULL, 64 bytes) with threadTrace trace.
 */
void	th_send(struct th_droverd *, const char *thread, int trace,
	    const char *method, const char *params, char *thread_out);

/* The end of one request as the client saw it. */
struct th_reply {
	char		 thread[64];
	long long	 trace;
	int		 code;		/* final STATUS code (205 = done) */
	char		*status;	/* its text, malloc'd */
	int		 nresults;	/* RESULT messages before it */
	char		*content;	/* results' content JSON, concatenated
					   (partial slices joined), malloc'd */
};

/* Wait for the next request to end (its final STATUS). */
void	th_recv(struct th_droverd *, struct th_reply *, int ms);
void	th_reply_free(struct th_reply *);
/* Send and wait for this request's end (no other traffic expected). */
void	th_call(struct th_droverd *, const char *method, const char *params,
	    struct th_reply *, int ms);

#endif /* DROVER_TH_DROVERD_H */
