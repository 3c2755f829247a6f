/*
 * mpm_frame.h: the two pipes between the parent and each child.
 *
 * Data pipe, parent -> child: frames of an 8-byte header (kind, length,
 * both 32-bit in host order: the two ends are one program on one host)
 * and `length` payload bytes.  REQ carries one bus frame, byte for byte;
 * the child reads until the whole frame is in, so a request of any size up
 * to max_request_size arrives whole (OpenSRF's unframed pipe could cut a
 * message above the 64 KiB pipe buffer).  RETIRE asks the child to exit
 * normally once it reads it: the parent retires surplus, outdated or
 * aged children this way, never mid-request, because a busy child reads
 * it only after its request; its payload, when 4 bytes, is the exit
 * reason the child records (an enum sb_exit_reason, host order).
 *
 * Done pipe, children -> parent, one for all children: fixed 16-byte
 * records (kind, flags, requests served so far, and the writer's slot
 * and pid), each well under PIPE_BUF so a write is atomic and the parent,
 * reading in multiples of the record size, only ever sees whole records.
 * READY once child_init ran and the child's
 * bus is up; IDLE after each request, EXITING after the last one
 * (max_requests or a worker asking to exit), either with flag UNSENT
 * when the request's reply could not be sent (the parent then answers
 * the client); BUS_DOWN and BUS_UP when the child's own bus connection
 * goes and comes back (the parent dispatches nothing to it meanwhile).
 *
 * Callers: mpm_frame_write() and mpm_done_read() in the parent (both
 * pipes non-blocking on its side); mpm_frame_next() and mpm_done_send()
 * in the child (both blocking).  Nothing here owns a descriptor.
 * Errors: negative errno; -EPIPE when the other end is gone.
 */
#ifndef DROVER_MPM_FRAME_H
#define DROVER_MPM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum mpm_frame_kind {
	MPM_FRAME_REQ = 1,
	MPM_FRAME_RETIRE = 2,
};

enum mpm_done_kind {
	MPM_DONE_READY = 1,
	MPM_DONE_IDLE = 2,
	MPM_DONE_EXITING = 3,
	MPM_DONE_BUS_DOWN = 4,
	MPM_DONE_BUS_UP = 5,
};

/* Done record flags. */
#define MPM_DONE_F_UNSENT	0x1	/* the reply could not be sent */

struct mpm_done {
	uint16_t	kind;		/* enum mpm_done_kind */
	uint16_t	flags;		/* MPM_DONE_F_* */
	uint32_t	requests;	/* served by this child so far */
	uint32_t	pid;		/* the child's */
	uint16_t	slot;		/* its slot index */
	uint16_t	pad;		/* 0 */
};

/*
 * Write one frame to a non-blocking pipe, resuming at *off bytes of it
 * (start at 0; the caller keeps buf unchanged until the frame is done):
 * 1 when all of it is written, 0 when the pipe is full (wait for
 * EPOLLOUT and call again), -errno (-EPIPE: the child is gone).
 */
int	mpm_frame_write(int fd, uint32_t kind, const void *buf, size_t len,
	    size_t *off) MUST_CHECK;
/*
 * The child's reading end: it reads ahead (a request and the RETIRE
 * after it often come in one read(2), and a small request's header and
 * payload always do), so a frame may wait in its buffer where poll()
 * cannot see it: check mpm_frame_in_buffered() before polling.  Zeroed,
 * then fd set; mpm_frame_in_free() releases its buffer.
 */
struct mpm_frame_in {
	int	 fd;
	char	*buf;		/* malloc'd; grows to the largest frame */
	size_t	 cap;
	size_t	 have;		/* bytes read */
	size_t	 used;		/* of which handed out */
	size_t	 nul_at;	/* where the last payload's NUL sits, 0 none */
	char	 nul_was;	/* the byte it covers */
};

/*
 * Read one frame: *payload (NUL-terminated, len bytes, valid until the
 * next call) and *kind.  Blocks until the whole frame is in.  0, -EPIPE
 * at end of file (the parent is gone), -EMSGSIZE when the payload would
 * exceed max (the pipe is then out of step: the child exits; *kind and
 * *len untouched), -ENOMEM, -errno.
 */
int	mpm_frame_next(struct mpm_frame_in *, uint32_t *kind,
	    const char **payload, size_t *len, size_t max) MUST_CHECK;
/* Bytes read ahead and not handed out yet. */
size_t	mpm_frame_in_buffered(const struct mpm_frame_in *);
void	mpm_frame_in_free(struct mpm_frame_in *);

int	mpm_done_send(int fd, const struct mpm_done *d) MUST_CHECK;
/*
 * Read up to max waiting records into d: their count (fewer than max:
 * the pipe was empty after them), 0 when none is waiting, -EPIPE at end
 * of file (no writer left), or -errno.
 */
int	mpm_done_read(int fd, struct mpm_done *d, size_t max) MUST_CHECK;

#endif /* DROVER_MPM_FRAME_H */
