#!/usr/bin/env python3
"""pprobe top never blocks on its output (safety: never hang while tracing).

`pprobe top` traces every thread of the target while it draws.  A write to a
terminal stopped with Ctrl-S, a stalled ssh session, or a pipe nobody reads
blocks once the buffer is full, and a tracer blocked there answers no
ptrace stop: the target's signals would wait in signal-delivery stops.
Against safety_signals (its SIGALRM timer fires every 10 ms and each
SIGALRM is counted in its shared page):

  - top writing into a pipe that is full from the start (4 KiB, filled,
    never read): while it runs, the target keeps receiving its SIGALRMs --
    ALARMS more of them after pprobe attached (several redraws' worth) --
    pprobe is still running, and SIGINT ends it with exit 0;
  - `top | head -1`: a reader that takes the first line and closes the
    pipe: pprobe notices at its next redraw and exits 0 within
    EXIT_TIMEOUT, and the target is left running and untraced;
  - `record` whose stderr, and `top` whose stdout, is a terminal (a pty)
    that nobody reads, full from the start (as after Ctrl-S): the status
    line or the frames are written while tracing, yet the target keeps
    receiving its SIGALRMs (ALARMS after pprobe attached); once the pty is
    read again pprobe ends (top: on SIGINT) and exits 0.
"""

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# SIGALRMs (100 a second) the target must receive after pprobe attached:
# 3 s of them, so redraws at 1, 2 and 3 s fall inside.
ALARMS = 300
ALARM_TIMEOUT = 20.0
ATTACH_TIMEOUT = 10.0
EXIT_TIMEOUT = 10.0
# struct sigshm (fixtures/safety/signals/signals.h)
ALARM_RECEIVED_OFFSET = 72


def alarms(fixture):
    with open(fixture.truth["shm"], "rb") as f:
        data = f.read(ALARM_RECEIVED_OFFSET + 8)
    return struct.unpack_from("<Q", data, ALARM_RECEIVED_OFFSET)[0]


def start_top(ctx, fixture, stdout_fd):
    err_path = ctx.tmp_path("top%d.stderr" % ctx.next_serial())
    with open(err_path, "wb") as err:
        proc = subprocess.Popen([ctx.pprobe, "top", "-p", str(fixture.pid)],
                                stdin=subprocess.DEVNULL, stdout=stdout_fd, stderr=err)
    ctx.cleanups.append(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
    return proc, err_path


def wait_exit(proc, timeout):
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def describe(proc, err_path):
    state = "running"
    try:
        with open("/proc/%d/wchan" % proc.pid) as f:
            state = "running, in the kernel at %s" % f.read()
    except OSError:
        state = "exited %s" % proc.returncode
    with open(err_path, errors="replace") as f:
        return "pprobe top (pid %d) %s; stderr %r" % (proc.pid, state, f.read())


def wait_attached(ctx, fixture, proc, err_path, what):
    if not harness.wait_for(lambda: harness.traced_by(fixture.pid, proc.pid) or
                            proc.poll() is not None, ATTACH_TIMEOUT) or proc.poll() is not None:
        raise harness.Failure("%s: pprobe did not attach within %.0f s: %s"
                              % (what, ATTACH_TIMEOUT, describe(proc, err_path)))


def case_unread_pipe(ctx, fixture):
    what = "pprobe top > a full pipe nobody reads"
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 4096)
        os.set_blocking(w, False)
        try:
            while True:
                os.write(w, b"x" * 512)
        except BlockingIOError:
            pass
        os.set_blocking(w, True)
        proc, err_path = start_top(ctx, fixture, w)
    finally:
        os.close(w)
    try:
        wait_attached(ctx, fixture, proc, err_path, what)
        start = alarms(fixture)
        got = harness.wait_for(lambda: alarms(fixture) - start >= ALARMS, ALARM_TIMEOUT)
        ctx.check(got, "%s: expected the target to receive %d SIGALRMs within %.0f s while "
                  "pprobe traces it, got %d; task states %s; %s"
                  % (what, ALARMS, ALARM_TIMEOUT, alarms(fixture) - start,
                     harness.task_states(fixture.pid), describe(proc, err_path)))
        ctx.check(proc.poll() is None, "%s: expected pprobe still running, %s"
                  % (what, describe(proc, err_path)))
        proc.send_signal(signal.SIGINT)
        rc = wait_exit(proc, EXIT_TIMEOUT)
        ctx.check(rc == 0, "%s: expected exit 0 within %.0f s of SIGINT, %s"
                  % (what, EXIT_TIMEOUT, describe(proc, err_path)))
    finally:
        os.close(r)
    ctx.check_target_healthy(fixture, what)


def case_head(ctx, fixture):
    what = "pprobe top | head -1"
    r, w = os.pipe()
    try:
        proc, err_path = start_top(ctx, fixture, w)
    finally:
        os.close(w)
    wait_attached(ctx, fixture, proc, err_path, what)
    line = b""
    with os.fdopen(r, "rb", buffering=0) as f:
        while not line.endswith(b"\n"):
            c = f.read(1)
            if not c:
                break
            line += c
    ctx.check(b"pprobe top" in line, "%s: expected the first line to be the table's header, "
              "got %r" % (what, line))
    closed = time.monotonic()
    rc = wait_exit(proc, EXIT_TIMEOUT)
    ctx.check(rc == 0, "%s: expected exit 0 within %.0f s of the reader closing the pipe, %s"
              % (what, EXIT_TIMEOUT, describe(proc, err_path)))
    if rc == 0:
        ctx.note("%s: pprobe ended %.2f s after the pipe closed"
                 % (what, time.monotonic() - closed))
    ctx.check_target_healthy(fixture, what)


def case_tty(ctx, fixture, command):
    """pprobe record (stderr: its status line) or top (stdout: its frames)
    writing to a full terminal nobody reads (as after Ctrl-S)."""
    what = "pprobe %s to a full terminal nobody reads" % command
    master, slave = pty.openpty()
    out = ctx.tmp_path("record-tty.pb.gz")
    if command == "record":
        argv = [ctx.pprobe, "-p", str(fixture.pid), "-seconds", "6", "-o", out]
        streams = dict(stdout=subprocess.DEVNULL, stderr=slave)
    else:
        argv = [ctx.pprobe, "top", "-p", str(fixture.pid)]
        streams = dict(stdout=slave, stderr=subprocess.DEVNULL)
    try:
        os.set_blocking(slave, False)
        try:
            while True:
                os.write(slave, b"x" * 256)
        except BlockingIOError:
            pass
        os.set_blocking(slave, True)
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **streams)
        ctx.cleanups.append(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
    finally:
        os.close(slave)
    err_note = "%s is the pty" % ("stderr" if command == "record" else "stdout")
    try:
        if not harness.wait_for(lambda: harness.traced_by(fixture.pid, proc.pid) or
                                proc.poll() is not None, ATTACH_TIMEOUT):
            raise harness.Failure("%s: pprobe did not attach within %.0f s" % (what, ATTACH_TIMEOUT))
        start = alarms(fixture)
        got = harness.wait_for(lambda: alarms(fixture) - start >= ALARMS, ALARM_TIMEOUT)
        ctx.check(got, "%s: expected the target to receive %d SIGALRMs within %.0f s while "
                  "pprobe traces it, got %d; task states %s; pprobe in the kernel at %s"
                  % (what, ALARMS, ALARM_TIMEOUT, alarms(fixture) - start,
                     harness.task_states(fixture.pid), wchan(proc.pid)))
        if command == "top":
            proc.send_signal(signal.SIGINT)
        # Read the terminal again: the rest of the run may print freely.
        deadline = time.monotonic() + ALARM_TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        rc = wait_exit(proc, EXIT_TIMEOUT)
        ctx.check(rc == 0, "%s: expected exit 0, got %s (%s)" % (what, rc, err_note))
    finally:
        os.close(master)
    ctx.check_target_healthy(fixture, what)


def wchan(pid):
    try:
        with open("/proc/%d/wchan" % pid) as f:
            return f.read()
    except OSError:
        return "(exited)"


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("safety_signals")
    case_unread_pipe(ctx, fixture)
    case_head(ctx, fixture)
    case_tty(ctx, fixture, "record")
    case_tty(ctx, fixture, "top")


if __name__ == "__main__":
    harness.run(main)
