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
 * Done pipe, child -> parent: fixed 8-byte records (kind, flags, requests
 * served so far), each well under PIPE_BUF so a write is atomic and the
 * parent reads whole records.  READY once child_init ran and the child's
 * bus is up; IDLE after each request, EXITING after the last one
 * (max_requests or a worker asking to exit), either with flag UNSENT
 * when the request's reply could not be sent (the parent then answers
 * the client); BUS_DOWN and BUS_UP when the child's own bus connection
 * goes and comes back (the parent dispatches nothing to it meanwhile).
 *
 * Callers: mpm_frame_write() and mpm_done_read() in the parent (both
 * pipes non-blocking on its side); mpm_frame_recv() and mpm_done_send()
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
 * Read one frame into *buf (grown with realloc as needed; the caller owns
 * and frees it, *cap its size); the payload is NUL-terminated.  -EMSGSIZE
 * when it exceeds max (the pipe is then out of step: the child exits).
 */
int	mpm_frame_recv(int fd, uint32_t *kind, char **buf, size_t *cap,
	    size_t *len, size_t max) MUST_CHECK;

int	mpm_done_send(int fd, uint16_t kind, uint16_t flags, uint32_t requests)
	    MUST_CHECK;
/* 1 and *d filled, 0 when nothing is waiting, -EPIPE at end of file. */
int	mpm_done_read(int fd, struct mpm_done *d) MUST_CHECK;

#endif /* DROVER_MPM_FRAME_H */
