/*
 * mpm_frame.h: the two pipes between the parent and each child.
 *
 * Data pipe, parent -> child: frames of an 8-byte header (kind, length,
 * both 32-bit in host order: the two ends are one program on one host)
 * and `length` payload bytes.  REQ carries one stanza, byte for byte; the
 * child reads until the whole frame is in, so a request of any size up
 * to max_request_size arrives whole (OpenSRF's unframed pipe could cut a
 * stanza above the 64 KiB pipe buffer).  RETIRE (no payload) asks the
 * child to exit normally once it reads it: the parent retires surplus or
 * outdated children this way, never mid-request, because a busy child
 * reads it only after its request.
 *
 * Done pipe, child -> parent: fixed 8-byte records (kind, requests served
 * so far), each well under PIPE_BUF so a write is atomic and the parent
 * reads whole records.  READY after child_init, IDLE after each request,
 * EXITING after the last one (max_requests or a worker asking to exit).
 *
 * Callers: mpm_frame_send() and mpm_done_read() in the parent (data pipe
 * blocking, done pipe non-blocking); mpm_frame_recv() and mpm_done_send()
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
};

struct mpm_done {
	uint32_t	kind;		/* enum mpm_done_kind */
	uint32_t	requests;	/* served by this child so far */
};

int	mpm_frame_send(int fd, uint32_t kind, const void *buf, size_t len)
	    MUST_CHECK;
/*
 * Read one frame into *buf (grown with realloc as needed; the caller owns
 * and frees it, *cap its size); the payload is NUL-terminated.  -EMSGSIZE
 * when it exceeds max (the pipe is then out of step: the child exits).
 */
int	mpm_frame_recv(int fd, uint32_t *kind, char **buf, size_t *cap,
	    size_t *len, size_t max) MUST_CHECK;

int	mpm_done_send(int fd, uint32_t kind, uint32_t requests) MUST_CHECK;
/* 1 and *d filled, 0 when nothing is waiting, -EPIPE at end of file. */
int	mpm_done_read(int fd, struct mpm_done *d) MUST_CHECK;

#endif /* DROVER_MPM_FRAME_H */
