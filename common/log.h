/*
 * log.h: drover's logging, with OpenSRF's six levels.
 *
 * Levels 0-5 as in opensrf_core.xml <loglevel>: none, error, warning,
 * info, debug, internal.  A line is written when its level is <= the
 * configured one.  Destinations: a file opened O_APPEND (each line one
 * write(2), so lines of parent and children do not interleave), stderr,
 * or syslog(3) with a configurable facility.
 *
 * Line format (file and stderr):
 *   2026-11-24T21:30:00.123Z droverd[1234]: INFO [xid] message
 * The "[xid]" part appears only while a request's osrf_xid is set with
 * log_set_xid().
 *
 * The *_warn / log_err / fatal variants append ": strerror(errno)"; the
 * *x variants do not (OpenBSD's log.h split).  fatal*() log and _exit(1);
 * use them only in the parent before serving, in start-up code, or on a
 * broken invariant (see STYLE.md).
 *
 * Callers: any process.  NOT async-signal-safe: never call from a signal
 * handler.  State is per process (program name, pid, xid, destination);
 * a child calls log_after_fork() first thing.
 */
#ifndef DROVER_LOG_H
#define DROVER_LOG_H

#include <stdarg.h>
#include <sys/types.h>

#include "util.h"

enum log_level {
	LOGL_NONE = 0,
	LOGL_ERROR = 1,
	LOGL_WARNING = 2,
	LOGL_INFO = 3,
	LOGL_DEBUG = 4,
	LOGL_INTERNAL = 5,
};

struct log_conf {
	const char	*file;		/* path, "stderr" or "syslog" */
	int		 level;		/* 0-5 */
	int		 facility;	/* syslog facility, e.g. LOG_LOCAL0 */
	const char	*tag;		/* syslog ident; NULL = program name */
};

/*
 * Set the program name and destination.  Before log_open() (and when it
 * fails) lines go to stderr at level LOGL_INFO.  Returns 0 or -errno when
 * the file cannot be opened (the previous destination stays).
 */
void	log_init(const char *progname);
int	log_open(const struct log_conf *) MUST_CHECK;
/* Reopen the log file (after rotation); same return as log_open(). */
int	log_reopen(void) MUST_CHECK;
/*
 * Give the open log file to uid:gid (fchown), so that a process that
 * switched to that user can reopen it.  0 when logging elsewhere than
 * to a file, or -errno.
 */
int	log_chown(uid_t, gid_t) MUST_CHECK;
void	log_close(void);
void	log_set_level(int);
int	log_get_level(void);
/* The current request's osrf_xid, copied; NULL or "" clears it. */
void	log_set_xid(const char *);
/* Refresh the cached pid and program name in a new child. */
void	log_after_fork(const char *progname);
/* "local0".."local7", "daemon", "user": facility or -EINVAL. */
int	log_facility_parse(const char *);
/* Is `level` enabled?  Cheap; guards costly argument preparation. */
int	log_enabled(int level);

void	log_msg(int level, int with_errno, const char *fmt, ...) PRINTF(3, 4);
void	log_vmsg(int level, int with_errno, const char *fmt, va_list);

#define log_err(...)	  log_msg(LOGL_ERROR, 1, __VA_ARGS__)
#define log_errx(...)	  log_msg(LOGL_ERROR, 0, __VA_ARGS__)
#define log_warn(...)	  log_msg(LOGL_WARNING, 1, __VA_ARGS__)
#define log_warnx(...)	  log_msg(LOGL_WARNING, 0, __VA_ARGS__)
#define log_info(...)	  log_msg(LOGL_INFO, 0, __VA_ARGS__)
#define log_debug(...)	  log_msg(LOGL_DEBUG, 0, __VA_ARGS__)
#define log_internal(...) log_msg(LOGL_INTERNAL, 0, __VA_ARGS__)

void	fatal(const char *, ...) PRINTF(1, 2) NORETURN;
void	fatalx(const char *, ...) PRINTF(1, 2) NORETURN;

#endif /* DROVER_LOG_H */
