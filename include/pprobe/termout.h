/* termout.h - frames for a terminal (or pipe) that may not be read.
 *
 * `pprobe top` redraws while it traces every thread of the target.  A
 * write(2) to a terminal stopped with Ctrl-S, a stalled ssh session or a
 * pipe nobody reads blocks once the buffer is full, and a tracer blocked
 * there answers no ptrace stop: the target's signals wait in stops.  So
 * writes here never block: the output is reopened as a file description of
 * our own (through /proc/self/fd) with O_NONBLOCK -- the shell's
 * description of the same terminal is left as it was -- a socket is written
 * with MSG_DONTWAIT, and a frame that does not fit is kept to be finished
 * later, while newer frames are dropped until it is out (a terminal never
 * sees half a frame followed by another).  A reader that went away (EPIPE)
 * is reported, so `top | head` ends.
 */
#ifndef PPROBE_TERMOUT_H
#define PPROBE_TERMOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct termout {
	int fd;          /* where frames go */
	bool own;        /* fd is our own description, closed by termout_close */
	bool sock;       /* a socket: send(MSG_DONTWAIT) */
	bool toggle;     /* last resort: O_NONBLOCK set on fd around each write */
	char *pending;   /* the frame being written (owned) */
	size_t pending_len, pending_off;
	uint64_t frames, dropped;
};

/* Set up writing to fd (standard output).  Returns 0, or -EPIPE when fd is
 * a pipe that nobody reads any more. */
int termout_open(struct termout *t, int fd);
/* Write a frame of len bytes (copied) as far as it goes now; when the last
 * frame is not out yet, drop this one.  Returns 0, or -errno when the
 * output is gone: -EPIPE (nobody reads it), -EIO (a terminal hung up)... */
int termout_frame(struct termout *t, const char *buf, size_t len);
/* Write more of a frame that did not fit, never waiting.  Returns 0 or
 * -errno as termout_frame. */
int termout_flush(struct termout *t);
/* True while part of a frame waits to be written. */
bool termout_pending(const struct termout *t);
/* Wait up to timeout_ms for the frame being written to go out: only for
 * the end, when no thread is traced any more. */
void termout_drain(struct termout *t, int timeout_ms);
void termout_close(struct termout *t);

#endif
