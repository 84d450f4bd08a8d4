"""Helpers of the safety tests (test_safety_*.py), on top of harness.py
(python3 standard library only).

The safety fixtures (fixtures/safety/) publish counters in a status file
(fixtures/safety/common/safetyfix.h): "seq N" then "key value" lines,
rewritten whole every 5 ms by a thread named "status".  wait_status waits
until seq has grown by two since it was called, so the counters it returns
were read by the fixture after that moment.

Also here:
  - decode: a profile through pprof_decode only (the safety tests check
    hundreds of profiles, many of them wall-mode ones, whose sample types
    harness.Context.decode does not expect; go tool pprof is run on one
    profile per test where it says so);
  - run_measured: a command run to completion with its peak RSS
    (wait4's ru_maxrss);
  - ChildWatch: polls the TracerPid of every child process of a target;
  - stderr_surprises: lines pprobe wrote to stderr that a clean run does
    not write.
"""

import os
import re
import signal
import subprocess
import time

import harness
from profiles import ProfileFormatError, parse_pprof_decode

# How long a fixture gets to rewrite its status file twice.
STATUS_TIMEOUT = 10.0


# ---------------------------------------------------------------------------
# The fixture's status file


# Shared with the other fixture suites (harness.py).
read_status = harness.read_status


def wait_status(fixture, what, advance=2, timeout=STATUS_TIMEOUT):
    """See harness.wait_status."""
    return harness.wait_status(fixture, what, advance, timeout)


def reset_maxima(fixture, what, timeout=STATUS_TIMEOUT):
    """Has the fixture zero its "max" counters (the STATUS.reset file of
    safetyfix.h); returns the status read after it did."""
    reset = fixture.truth["status"] + ".reset"
    with open(reset, "w"):
        pass
    if not harness.wait_for(lambda: not os.path.exists(reset), timeout):
        raise harness.Failure("%s: fixture %s did not take %s within %.0f s; task states %s"
                              % (what, fixture.name, reset, timeout,
                                 harness.task_states(fixture.pid)))
    return wait_status(fixture, what)


def wait_counters_grow(ctx, fixture, keys, what, timeout=STATUS_TIMEOUT):
    """Checks that every counter in keys grows within timeout (each thread
    that counts one is making progress).  Returns True if all did."""
    before = wait_status(fixture, what)

    def all_grew():
        now = read_status(fixture)
        if now and all(now.get(k, 0) > before.get(k, 0) for k in keys):
            return now
        return None

    now = harness.wait_for(all_grew, timeout)
    if now is None:
        now = read_status(fixture) or {}
        stuck = {k: before.get(k) for k in keys if now.get(k, 0) <= before.get(k, 0)}
        return ctx.check(False, "%s: expected every counter of %s to grow within %.0f s; "
                         "these did not: %s; task states %s"
                         % (what, fixture.name, timeout, stuck,
                            harness.task_states(fixture.pid)))
    return True


# ---------------------------------------------------------------------------
# Profiles


def decode(ctx, path, what):
    """Decodes path with pprof_decode; returns the Profile (raises Failure)."""
    if not ctx.pprof_decode or not os.access(ctx.pprof_decode, os.X_OK):
        raise harness.Failure("PPROF_DECODE is not set or not built (%r)" % ctx.pprof_decode)
    res = ctx.run_command([ctx.pprof_decode, "--lines", path], 60)
    if res.timed_out or res.rc != 0:
        raise harness.Failure("%s: pprof_decode cannot read %s:\n  %s"
                              % (what, path, res.describe()))
    try:
        return parse_pprof_decode(res.stdout, path)
    except ProfileFormatError as e:
        raise harness.Failure("%s: %s" % (what, e))


def go_check(ctx, path, what):
    """`go tool pprof -top` loads path (when go is installed; else a note)."""
    if not ctx.go or not os.access(ctx.go, os.X_OK):
        ctx.note("%s: go is not installed; %s not checked with go tool pprof" % (what, path))
        return None
    return ctx.go_pprof(["-top", path], what)


def thread_of(sample):
    return sample.labels.get("thread")


# A sampler that keeps up takes about HZ samples a second of a thread on
# CPU; one that stalls (a stop that never comes costs it 100 ms) takes a
# few percent of that.  Busy machines get a wide margin.
MIN_SAMPLE_SHARE = 0.3


def sched_stat(pid, tid):
    """(ns on CPU, ns waiting on a run queue, times scheduled in) of a task,
    from /proc/PID/task/TID/schedstat; None if it is gone."""
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
            run, wait, slices = (int(x) for x in f.read().split()[:3])
    except (OSError, ValueError):
        return None
    return run, wait, slices


def check_sample_rate(ctx, prof, thread, cpu_seconds, hz, what, share=MIN_SAMPLE_SHARE,
                      window=None, sched=None):
    """thread (a name) has at least share * cpu_seconds * hz samples:
    cpu_seconds is how long it was on CPU (CPU mode) or the window (wall
    mode).  sched: the thread's sched_stat() before and after the run, and
    window its length in s: on a busy machine a thread waits for a CPU
    after every stop (and pprobe for one before every sample), so no
    sampler takes more than one sample per such wait; the bound is then
    share * window / (the mean wait measured), if that is lower."""
    got = prof.count([s for s in prof.samples if thread_of(s) == thread])
    want = share * cpu_seconds * hz
    why = "%.0f%% of %.2f s at %d Hz" % (share * 100, cpu_seconds, hz)
    if window and sched and sched[0] and sched[1]:
        waited = sched[1][1] - sched[0][1]
        slices = sched[1][2] - sched[0][2]
        if slices > 0 and waited > 0:
            latency = waited / slices / 1e9
            if share * window / latency < want:
                want = share * window / latency
                why = ("%.0f%% of %.2f s at one sample per %.1f ms, the mean wait for a CPU "
                       "measured" % (share * 100, window, latency * 1e3))
    return ctx.check(got >= want, "%s: expected >= %.0f samples of thread %s (%s: pprobe keeps "
                     "up with the ticks), got %d" % (what, want, thread, why, got))


# ---------------------------------------------------------------------------
# pprobe's stderr

# What a clean run prints on stderr: the saved line, the -top table, the
# end-of-run notes the README documents.
_EXPECTED_STDERR = [
    r"Saved (profile|flame graph|report|thread dump) in .*",
    r"Showing top \d+ functions, total .*",
    r"\s*flat\s+flat%\s+sum%\s+cum\s+cum%",
    r"\s*-?[\d.]+\w*\s+[\d.]+%\s+[\d.]+%\s+-?[\d.]+\w*\s+[\d.]+%\s+.*",
    r"pprobe: \d+ stacks truncated, \d+ addresses without symbols",
    r"pprobe: process \d+ exited after [\d.]+s; writing what was collected",
    r"pprobe: CPU samples from (perf events \(kernel timer, threads not stopped\)|ptrace stops)",
    r"pprobe: perf events: \d+ samples lost, \d+ throttled, \d+ threads not sampled",
    r"pprobe: warning: .*",
    r"pprobe: window cut short by \w+ after [\d.]+s of [\d.]+s; writing what was collected",
    r"View it with: .*",
    r"pprobe: wall: \d+ of \d+ ticks taken in [\d.]+ s .*; \d+ thread samples, \d+ lost .*",
]


def stderr_surprises(result, also=()):
    """Lines of result.stderr that a clean run does not print."""
    pats = [re.compile(p) for p in _EXPECTED_STDERR + list(also)]
    return [line for line in result.stderr_lines()
            if not any(p.fullmatch(line) for p in pats)]


# ---------------------------------------------------------------------------
# Running with resource accounting


class Measured:
    """A command started in the background whose peak RSS is read when it is
    reaped (os.wait4).  No preexec_fn: threads may be running."""

    def __init__(self, ctx, argv, env=None):
        self.ctx = ctx
        self.argv = argv
        n = len(ctx.processes)
        self.out_path = ctx.tmp_path("measured%d.stdout" % n)
        self.err_path = ctx.tmp_path("measured%d.stderr" % n)
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, env=env)
        self.pid = self.proc.pid
        self.maxrss_kib = None
        self.peak_hwm_kib = 0
        ctx.processes.append(self)

    def alive(self):
        return self.proc.returncode is None

    def poll_hwm(self):
        """Reads VmHWM from /proc (the peak so far), keeping the largest."""
        text = harness._read("/proc/%d/status" % self.pid)
        if text:
            m = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
            if m:
                self.peak_hwm_kib = max(self.peak_hwm_kib, int(m.group(1)))

    def wait(self, timeout):
        """Reaps the command (killing it after timeout s); returns a Result."""
        deadline = time.monotonic() + timeout
        timed_out = False
        status = None
        while status is None:
            pid, st, ru = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                status = st
                self.maxrss_kib = ru.ru_maxrss
                break
            self.poll_hwm()
            if time.monotonic() >= deadline and not timed_out:
                timed_out = True
                os.kill(self.pid, signal.SIGKILL)
            time.sleep(harness.POLL_INTERVAL)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.monotonic() - self.started
        with open(self.out_path, errors="replace") as f:
            out = f.read()
        with open(self.err_path, errors="replace") as f:
            err = f.read()
        return harness.Result(self.argv, self.proc.returncode, out, err, elapsed, timed_out)

    def kill(self):
        if self.proc.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.proc.returncode = -signal.SIGKILL


# ---------------------------------------------------------------------------
# Children of a target


def children_of(pid):
    """Pids of the child processes of every task of pid."""
    kids = set()
    for tid in harness.task_ids(pid):
        text = harness._read("/proc/%d/task/%d/children" % (pid, tid))
        if text:
            kids.update(int(k) for k in text.split())
    return kids


class ChildWatch(harness.Poller):
    """Polls the children of pid while in a with block: .seen is the set of
    child pids seen, .traced {child: TracerPid} for any seen traced."""

    def __init__(self, pid):
        super().__init__()
        self.pid = pid
        self.seen = set()
        self.traced = {}

    def poll(self):
        for kid in children_of(self.pid):
            self.seen.add(kid)
            for tid, tracer in harness.tracer_pids(kid).items():
                if tracer:
                    self.traced[tid] = tracer


def wait_traced(ctx, fixture, bg, what, timeout=10):
    """Waits until every task of fixture is traced by bg (a pprobe in the
    background); raises Failure if bg exits first or time runs out."""
    def attached():
        if harness.traced_by(fixture.pid, bg.pid):
            return "attached"
        return None if bg.alive() else "exited"

    got = harness.wait_for(attached, timeout)
    if got != "attached":
        result = bg.wait(5)
        raise harness.Failure("%s: expected pprobe (pid %d) to trace every task of %s within "
                              "%d s (%s); TracerPids %s; pprobe:\n  %s"
                              % (what, bg.pid, fixture.name, timeout, got,
                                 harness.tracer_pids(fixture.pid), result.describe()))


def kill_quietly(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------------------
# Windows that end on samples taken, not on seconds


def voluntary_switches(pid, tid):
    """The voluntary context switches of task tid of pid, or None.  A
    thread that spins in user space switches voluntarily only when a tracer
    stops it (a ptrace stop; being preempted is involuntary): its growth
    counts pprobe's samples of it (fixtures/safety/common/safetyfix.h)."""
    text = harness._read("/proc/%d/task/%d/status" % (pid, tid))
    m = text and re.search(r"^voluntary_ctxt_switches:\s+(\d+)", text, re.M)
    return int(m.group(1)) if m else None


def record_until_sampled(ctx, fixture, thread, args, stops, min_seconds, max_seconds, what):
    """Runs `pprobe -seconds max_seconds ARGS` on fixture and ends it with
    SIGINT (as Ctrl-C would) once it has stopped the spinning thread named
    thread at least stops times and min_seconds have passed -- however long
    a busy machine makes that take, up to max_seconds.  Returns the Result."""
    tids = [t for t, name in fixture.truth_threads.items() if name == thread]
    if not tids:
        raise harness.Failure("%s: no thread %s in %s's truth %s"
                              % (what, thread, fixture.name, fixture.truth_threads))
    base = voluntary_switches(fixture.pid, tids[0]) or 0
    started = time.monotonic()
    bg = ctx.start_pprobe(["-p", str(fixture.pid), "-seconds", str(max_seconds)] + list(args))

    def enough():
        n = voluntary_switches(fixture.pid, tids[0])
        return not bg.alive() or (n is not None and n - base >= stops and
                                  time.monotonic() - started >= min_seconds)

    harness.wait_for(enough, max_seconds + 30)
    if bg.alive():
        bg.proc.send_signal(signal.SIGINT)
    return bg.wait(60)


def read_int(path):
    """The first number in a /proc or /sys file, or None."""
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def room_for_threads():
    """How many more threads this machine can take, with room to spare:
    (the lower of pid_max and threads-max, less four per running process)."""
    pid_max = read_int("/proc/sys/kernel/pid_max") or 0
    threads_max = read_int("/proc/sys/kernel/threads-max") or 0
    in_use = len([n for n in os.listdir("/proc") if n.isdigit()])
    return min(pid_max, threads_max) - in_use * 4


def start_many(ctx, args, ready_timeout=90):
    """Starts safety_many with args; creating 10,000 threads takes a while,
    so its ready line may take up to ready_timeout seconds."""
    fixture = harness.Fixture(ctx, "safety_many", args)
    saved = harness.READY_TIMEOUT
    harness.READY_TIMEOUT = ready_timeout
    try:
        return fixture.start()
    finally:
        harness.READY_TIMEOUT = saved
