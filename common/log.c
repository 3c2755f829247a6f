/*
 * log.c: see log.h.  One static state per process: the only global in
 * drover besides the signal flags, as STYLE.md allows.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* Longest line written; longer messages are cut with "...". */
#define LOG_LINE_MAX	8192
#define LOG_PROG_MAX	64
#define LOG_XID_MAX	128

enum log_dest { DEST_STDERR, DEST_FILE, DEST_SYSLOG };

static struct {
	enum log_dest	 dest;
	int		 fd;
	int		 level;
	int		 facility;
	char		*path;
	char		 prog[LOG_PROG_MAX];
	char		 tag[LOG_PROG_MAX];
	char		 xid[LOG_XID_MAX];
	pid_t		 pid;
} L = { DEST_STDERR, -1, LOGL_INFO, LOG_LOCAL0, NULL, "drover", "", "", 0 };

static const char *const level_names[] = {
	"NONE", "ERR", "WARN", "INFO", "DEBG", "INTL"
};

void
log_init(const char *progname)
{
	const char	*p = strrchr(progname, '/');

	str_copy(L.prog, p != NULL ? p + 1 : progname, sizeof(L.prog));
	L.pid = getpid();
}

void
log_after_fork(const char *progname)
{
	if (progname != NULL)
		str_copy(L.prog, progname, sizeof(L.prog));
	L.pid = getpid();
	L.xid[0] = '\0';
}

static int
open_file(const char *path)
{
	int	fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	return fd == -1 ? -errno : fd;
}

int
log_open(const struct log_conf *c)
{
	int	fd;

	if (c->level < LOGL_NONE || c->level > LOGL_INTERNAL)
		return -EINVAL;
	if (c->file == NULL || strcmp(c->file, "stderr") == 0) {
		log_close();
		L.dest = DEST_STDERR;
	} else if (strcmp(c->file, "syslog") == 0) {
		log_close();
		str_copy(L.tag, c->tag != NULL ? c->tag : L.prog,
		    sizeof(L.tag));
		L.facility = c->facility;
		openlog(L.tag, LOG_PID | LOG_NDELAY, L.facility);
		L.dest = DEST_SYSLOG;
	} else {
		if ((fd = open_file(c->file)) < 0)
			return fd;
		log_close();
		L.fd = fd;
		L.path = strdup(c->file);
		if (L.path == NULL) {
			fd_close(&L.fd);
			return -ENOMEM;
		}
		L.dest = DEST_FILE;
	}
	L.level = c->level;
	return 0;
}

int
log_reopen(void)
{
	int	fd;

	if (L.dest != DEST_FILE)
		return 0;
	if ((fd = open_file(L.path)) < 0)
		return fd;
	fd_close(&L.fd);
	L.fd = fd;
	return 0;
}

int
log_chown(uid_t uid, gid_t gid)
{
	if (L.dest != DEST_FILE)
		return 0;
	return fchown(L.fd, uid, gid) == -1 ? -errno : 0;
}

void
log_close(void)
{
	if (L.dest == DEST_FILE) {
		fd_close(&L.fd);
		free(L.path);
		L.path = NULL;
	} else if (L.dest == DEST_SYSLOG)
		closelog();
	L.dest = DEST_STDERR;
}

void
log_set_level(int level)
{
	if (level < LOGL_NONE)
		level = LOGL_NONE;
	if (level > LOGL_INTERNAL)
		level = LOGL_INTERNAL;
	L.level = level;
}

int
log_get_level(void)
{
	return L.level;
}

int
log_enabled(int level)
{
	return level <= L.level && level > LOGL_NONE;
}

void
log_set_xid(const char *xid)
{
	str_copy(L.xid, xid != NULL ? xid : "", sizeof(L.xid));
}

int
log_facility_parse(const char *s)
{
	static const struct { const char *name; int fac; } tab[] = {
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
		{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
	};
	size_t	i;

	for (i = 0; i < ARRAY_LEN(tab); i++)
		if (strcasecmp(s, tab[i].name) == 0)
			return tab[i].fac;
	return -EINVAL;
}

static void
emit(int level, const char *msg)
{
	static const int prio[] = {
		LOG_DEBUG, LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG
	};
	char		 line[LOG_LINE_MAX + 128];
	struct timespec	 ts;
	struct tm	 tm;
	int		 n, fd;

	if (L.dest == DEST_SYSLOG) {
		if (L.xid[0] != '\0')
			syslog(prio[level], "%s [%s] %s", level_names[level],
			    L.xid, msg);
		else
			syslog(prio[level], "%s %s", level_names[level], msg);
		return;
	}
	if (L.pid == 0)
		L.pid = getpid();
	(void)clock_gettime(CLOCK_REALTIME, &ts);	/* cannot fail */
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld]: %s %s%s%s%s\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, L.prog, (long)L.pid,
	    level_names[level], L.xid[0] != '\0' ? "[" : "", L.xid,
	    L.xid[0] != '\0' ? "] " : "", msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	fd = L.dest == DEST_FILE ? L.fd : STDERR_FILENO;
	/* A log line that cannot be written has nowhere else to go. */
	if (write_full(fd, line, (size_t)n) < 0)
		return;
}

void
log_vmsg(int level, int with_errno, const char *fmt, va_list ap)
{
	char	msg[LOG_LINE_MAX];
	int	saved = errno, n;

	if (!log_enabled(level))
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		str_copy(msg, fmt, sizeof(msg));
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	if (with_errno) {
		size_t len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s",
		    strerror(saved));
	}
	emit(level, msg);
	errno = saved;
}

void
log_msg(int level, int with_errno, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(level, with_errno, fmt, ap);
	va_end(ap);
}

static void NORETURN
vfatal(int with_errno, const char *fmt, va_list ap)
{
	if (L.level < LOGL_ERROR)
		L.level = LOGL_ERROR;
	log_vmsg(LOGL_ERROR, with_errno, fmt, ap);
	_exit(1);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfatal(1, fmt, ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfatal(0, fmt, ap);
}
