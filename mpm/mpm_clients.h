/*
 * mpm_clients.h: what each client holds of a service, so that no one
 * client can take it over.
 *
 * A client is the reply-to address of its requests (bus_frame.sender).
 * The parent counts, per client, the requests it has waiting in the
 * backlog and the connected sessions it holds (children busy with a
 * CONNECT of its).  One client flooding a service with CONNECTs then
 * gets 503s beyond its share (max_sessions_per_client,
 * max_queued_per_client), while the others keep theirs: without this,
 * 2,000 CONNECTs of one client held every child for `keepalive` seconds
 * each and starved every other client for minutes.
 *
 * A small open-addressing hash table keyed by the address (FNV-1a),
 * grown by doubling, entries dropped when both counts fall to 0 (by
 * backward-shift deletion, so lookups never meet tombstones).  Pure: no
 * I/O, no clock; tested from tables (test/test_mpm_clients.c).
 *
 * Callers: the parent only.  Ownership: addresses are copied.  Errors:
 * -ENOMEM from mpm_clients_add() (the caller then refuses the request:
 * a parent out of memory cannot keep count).
 */
#ifndef DROVER_MPM_CLIENTS_H
#define DROVER_MPM_CLIENTS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum mpm_client_count {
	MPM_CLIENT_QUEUED = 0,	/* requests waiting in the backlog */
	MPM_CLIENT_SESSIONS,	/* children busy with its CONNECTs */
	MPM_CLIENT_NCOUNTS
};

struct mpm_client {
	char		*addr;		/* owned; NULL: free cell */
	uint64_t	 hash;
	uint32_t	 n[MPM_CLIENT_NCOUNTS];
};

struct mpm_clients {
	struct mpm_client	*cell;
	size_t			 cap;	/* a power of two, or 0 */
	size_t			 used;
};

void	mpm_clients_init(struct mpm_clients *);
void	mpm_clients_free(struct mpm_clients *);
/* The count `which` of addr (0 for an unknown client). */
uint32_t mpm_clients_get(const struct mpm_clients *, const char *addr,
	    enum mpm_client_count which);
/* Add one to it; 0 or -ENOMEM. */
int	mpm_clients_add(struct mpm_clients *, const char *addr,
	    enum mpm_client_count which) MUST_CHECK;
/* Take one from it (never below 0); forgets a client at 0/0. */
void	mpm_clients_sub(struct mpm_clients *, const char *addr,
	    enum mpm_client_count which);
/* Clients known (with a count above 0). */
size_t	mpm_clients_size(const struct mpm_clients *);

/*
 * The share one client may hold when the configured value is 0: half of
 * `total` (max_children for sessions, max_backlog_queue for the queue),
 * at least 1.
 */
uint32_t mpm_clients_share(int configured, int total);

#endif /* DROVER_MPM_CLIENTS_H */
