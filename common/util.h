/*
 * util.h: small helpers every drover module uses.
 *
 * Callers: any process, parent or child; nothing here is for signal
 * context (drover takes its signals from a signalfd or a self-pipe).
 *
 * Allocation: the x*() allocators call fatalx() on exhaustion and are for
 * start-up and parent bookkeeping only.  Request paths use plain malloc()
 * and return -ENOMEM.
 *
 * Errors: functions returning int give 0 (or a count >= 0) on success and
 * a negative errno on failure; they do not log.
 */
#ifndef DROVER_UTIL_H
#define DROVER_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MUST_CHECK	__attribute__((warn_unused_result))
#define PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define NORETURN	__attribute__((noreturn))
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xasprintf(const char *, ...) PRINTF(1, 2);

/*
 * Copy src into dst of size dstsz, always NUL-terminating when dstsz > 0.
 * Returns strlen(src); a result >= dstsz means the copy was truncated.
 */
size_t	 str_copy(char *dst, const char *src, size_t dstsz);

/* Close *fdp if it is >= 0 and set it to -1; keeps errno. */
void	 fd_close(int *fdp);
int	 fd_set_nonblock(int fd) MUST_CHECK;
int	 fd_set_cloexec(int fd) MUST_CHECK;

/*
 * Write or read exactly len bytes, retrying EINTR and short transfers.
 * On a non-blocking fd EAGAIN is returned as -EAGAIN after a partial
 * transfer has been lost to the caller, so use them on blocking fds.
 * read_full() returns -EPIPE on end of file before len bytes.
 */
int	 write_full(int fd, const void *buf, size_t len) MUST_CHECK;
int	 read_full(int fd, void *buf, size_t len) MUST_CHECK;

/* Clocks.  mono_*() never go back; wall_*() are Unix time. */
uint64_t mono_us(void);
uint64_t mono_ms(void);
uint64_t wall_us(void);
int64_t	 wall_sec(void);

/* Parse a whole decimal string into [min, max]; -EINVAL / -ERANGE. */
int	 parse_ll(const char *s, long long min, long long max,
	    long long *out) MUST_CHECK;

#endif /* DROVER_UTIL_H */
