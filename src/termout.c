/* termout.c - frames for a terminal that may not be read (see termout.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pprobe/termout.h"
#include "pprobe/timeutil.h"

int termout_open(struct termout *t, int fd)
{
	char proc[64];
	struct stat st;
	int nfd;

	memset(t, 0, sizeof(*t));
	t->fd = fd;
	if (fstat(fd, &st) < 0 || S_ISREG(st.st_mode))
		return 0; /* a file: writes do not wait on a reader */
	if (S_ISSOCK(st.st_mode)) {
		t->sock = true;
		return 0;
	}
	/* A description of our own, so O_NONBLOCK is never seen by the shell
	 * or whatever else shares fd's (a shell given a non-blocking terminal
	 * back fails its reads with EAGAIN). */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	nfd = open(proc, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (nfd >= 0) {
		t->fd = nfd;
		t->own = true;
		return 0;
	}
	if (errno == ENXIO && S_ISFIFO(st.st_mode))
		return -EPIPE; /* a pipe without a reader */
	t->toggle = true;
	return 0;
}

/* One write of up to n bytes that never waits: the count written, or
 * -errno (-EAGAIN when nothing fits now). */
static ssize_t termout_write(struct termout *t, const char *p, size_t n)
{
	ssize_t w;
	int fl = -1;

	if (t->sock) {
		w = send(t->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		return w < 0 ? -errno : w;
	}
	if (t->toggle) {
		/* Could not reopen: O_NONBLOCK on the shared description for
		 * the length of one write, and restored at once. */
		fl = fcntl(t->fd, F_GETFL);
		if (fl >= 0 && (fl & O_NONBLOCK))
			fl = -1;
		else if (fl >= 0 && fcntl(t->fd, F_SETFL, fl | O_NONBLOCK) < 0)
			fl = -1;
	}
	w = write(t->fd, p, n);
	if (w < 0)
		w = -errno;
	if (fl >= 0)
		fcntl(t->fd, F_SETFL, fl);
	return w;
}

int termout_flush(struct termout *t)
{
	while (t->pending_off < t->pending_len) {
		ssize_t w = termout_write(t, t->pending + t->pending_off,
					  t->pending_len - t->pending_off);

		if (w == -EINTR)
			continue;
		if (w == 0 || w == -EAGAIN)
			return 0; /* full: the rest goes out later */
		if (w < 0)
			return (int)w; /* EPIPE: nobody reads; EIO: the terminal hung up */
		t->pending_off += (size_t)w;
	}
	free(t->pending);
	t->pending = NULL;
	t->pending_len = t->pending_off = 0;
	return 0;
}

bool termout_pending(const struct termout *t)
{
	return t->pending_off < t->pending_len;
}

int termout_frame(struct termout *t, const char *buf, size_t len)
{
	int err = termout_flush(t);

	if (err)
		return err;
	if (termout_pending(t)) {
		t->dropped++;
		return 0;
	}
	t->pending = malloc(len ? len : 1);
	if (!t->pending) {
		t->dropped++;
		return 0;
	}
	memcpy(t->pending, buf, len);
	t->pending_len = len;
	t->pending_off = 0;
	t->frames++;
	return termout_flush(t);
}

void termout_drain(struct termout *t, int timeout_ms)
{
	int64_t end = timeutil_mono_ns() + (int64_t)timeout_ms * 1000000;

	while (termout_pending(t)) {
		struct pollfd pfd = { .fd = t->fd, .events = POLLOUT };
		int64_t left = end - timeutil_mono_ns();

		if (left <= 0 || poll(&pfd, 1, (int)(left / 1000000) + 1) <= 0 ||
		    (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)))
			return;
		if (termout_flush(t))
			return;
	}
}

void termout_close(struct termout *t)
{
	free(t->pending);
	t->pending = NULL;
	t->pending_len = t->pending_off = 0;
	if (t->own)
		close(t->fd);
	t->fd = -1;
	t->own = false;
}
