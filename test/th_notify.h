/*
 * th_notify.h: play systemd's side of sd_notify(3) in a test.
 *
 * th_notify_open() binds a datagram socket, at a path in a directory or
 * as an abstract name, and sets $NOTIFY_SOCKET to it (for the daemons
 * the test starts afterwards).  th_notify_next() takes the next
 * notification with a deadline and the kernel's receive time
 * (SO_TIMESTAMP, wall clock), so a test can put it in order with the
 * scoreboard's own times; th_notify_wait() skips to the first one that
 * holds a string.  Both fail the test at the deadline.
 *
 * Ownership: the struct is the test's; th_notify_close() closes the
 * socket, removes its path and unsets $NOTIFY_SOCKET.
 */
#ifndef DROVER_TH_NOTIFY_H
#define DROVER_TH_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

/* Largest notification the helpers keep (systemd reads a page). */
#define TH_NOTE_MAX	4096

struct th_notify {
	int	fd;
	char	path[108];	/* "" for an abstract name */
};

void	th_notify_open(struct th_notify *, const char *dir, int abstract);
/* The next notification into buf (NUL-terminated); *rx_us: arrival. */
void	th_notify_next(struct th_notify *, char *buf, size_t sz,
	    uint64_t *rx_us, int ms);
/* The first notification holding `needle`; those before are skipped. */
void	th_notify_wait(struct th_notify *, const char *needle, char *buf,
	    size_t sz, uint64_t *rx_us, int ms);
/* Is a notification waiting now? */
int	th_notify_pending(struct th_notify *);
void	th_notify_close(struct th_notify *);

#endif /* DROVER_TH_NOTIFY_H */
