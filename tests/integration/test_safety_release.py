#!/usr/bin/env python3
"""Releasing the target never costs it an EINTR (safety guarantee 2).

safety_blocked (fixtures/safety/blocked/) has threads in epoll_wait,
sigtimedwait, semtimedop, io_getevents and recv with SO_RCVTIMEO, the
calls a ptrace stop makes fail with EINTR, each with a long timeout and
counting EINTR returns.  It installs no signal handler.

  - Job control, both directions ("exactly as without pprobe"): without
    pprobe, SIGSTOP then SIGCONT makes each of those calls fail with EINTR
    once (signal(7)), and a SIGWINCH (ignored by default) sent to each
    blocked thread makes none fail.  The same with pprobe attached
    (-mode wall): SIGSTOP and SIGCONT inside the window; SIGSTOP inside
    the window and SIGCONT after pprobe has let go; SIGSTOP before pprobe
    attaches and SIGCONT after; SIGWINCH to every blocked thread inside the
    window.  SIGSTOP is sent to the epoll_wait thread (tgkill), so that
    thread takes the signal-delivery-stop and the others stop with the
    group.  Each EINTR count must equal the
    baseline's.
  - SIGKILL at release: KILL_ROUNDS short records of a target with
    MORE_THREADS extra epoll_wait threads; each pprobe is SIGKILLed the
    moment any blocked thread is seen in a tracing stop (state 't'), or
    when it ends.  No call may fail with EINTR.  (A blocked thread may be
    seen stopped: one between two calls is running, and is sampled and
    released by a stop like any running thread.)
  - A target that cannot run: the fixture (with a thread burning CPU) is
    put in a cpu cgroup allowed 1 ms of CPU a second; THROTTLE_ROUNDS
    records each end while the target is starved.  No call may fail with
    EINTR, and pprobe exits 0.  Skipped, with the reason, without a
    writable cgroup v1 cpu hierarchy or a cgroup v2 with the cpu
    controller.
After each part: TracerPid 0 in every task and every thread still makes
its calls.
"""

import ctypes
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

KINDS = ("epoll", "sigwait", "semop", "aio", "recv")
BLOCKED_NAMES = ("b-epoll", "b-sigwait", "b-semop", "b-aio", "b-recv")
WAIT_S = 2.0
KILL_ROUNDS = 8
MORE_THREADS = 150
THROTTLE_ROUNDS = 4
THROTTLE_WAIT_S = 5.0
# x86_64 system call numbers of what the blocked threads sit in.
BLOCKED_NRS = {232, 128, 220, 208, 45}

_libc = ctypes.CDLL(None, use_errno=True)


def tgkill(pid, tid, sig):
    _libc.syscall(234, pid, tid, sig)


def blocked_tids(fixture, extra_prefix=None):
    tids = [t for t, n in fixture.truth_threads.items() if n in BLOCKED_NAMES]
    if extra_prefix:
        tids += [t for t, n in fixture.truth_threads.items() if n.startswith(extra_prefix)]
    return tids


def all_blocked(fixture, tids):
    """Every thread of tids is asleep in its call (by /proc .../syscall)."""
    for tid in tids:
        try:
            with open("/proc/%d/task/%d/syscall" % (fixture.pid, tid)) as f:
                nr = f.read().split()[0]
        except (OSError, IndexError):
            return False
        if not nr.lstrip("-").isdigit() or int(nr) not in BLOCKED_NRS:
            return False
    return True


def wait_blocked(ctx, fixture, tids, what):
    if not harness.wait_for(lambda: all_blocked(fixture, tids), 20):
        raise harness.Failure("%s: the blocked threads of %s are not all in their calls; "
                              "states %s" % (what, fixture.name, harness.task_states(fixture.pid)))


def eintr_counts(fixture, what):
    st = sh.wait_status(fixture, what)
    return {k: st["%s_eintr" % k] for k in KINDS}


def wait_calls_return(ctx, fixture, what, wait_s=WAIT_S):
    """Every kind returns from its call at least once more (so any EINTR
    from what came before has been counted)."""
    return sh.wait_counters_grow(ctx, fixture, ["%s_calls" % k for k in KINDS], what,
                                 timeout=wait_s * 3 + 10)


def delta(a, b):
    return {k: b[k] - a[k] for k in KINDS}


def wait_traced(fixture, timeout=20):
    return harness.wait_for(lambda: all(p != 0 for p in harness.tracer_pids(fixture.pid).values()),
                            timeout)


def wait_states(fixture, tids, letters, timeout=20):
    def ok():
        st = harness.task_states(fixture.pid)
        return all(st.get(t, "?") in letters for t in tids)
    return harness.wait_for(ok, timeout)


def jobctl_round(ctx, fixture, how, variant):
    """One SIGSTOP/SIGCONT (or SIGWINCH) round; pprobe attached unless
    variant is "baseline".  Returns the EINTR deltas."""
    tids = blocked_tids(fixture)
    what = "job control (%s)" % how
    wait_blocked(ctx, fixture, tids, what)
    before = eintr_counts(fixture, what)
    bg = None
    # Sent to b-epoll itself: that thread takes the signal-delivery-stop,
    # the others stop with the group.
    stopper = fixture.tid("b-epoll")
    if variant == "before":
        tgkill(fixture.pid, stopper, signal.SIGSTOP)
        if not wait_states(fixture, tids, "tT"):
            raise harness.Failure("%s: the target did not stop; states %s"
                                  % (what, harness.task_states(fixture.pid)))
    if not variant.startswith("baseline"):
        out = ctx.new_output("release-jobctl")
        bg = ctx.start_pprobe(["-p", str(fixture.pid), "-seconds", "1.5", "-mode", "wall",
                               "-hz", "200", "-o", out])
        if not wait_traced(fixture):
            raise harness.Failure("%s: pprobe did not attach within 20 s" % what)
        if not variant == "before":
            wait_blocked(ctx, fixture, tids, what)
    if variant == "before":
        ctx.expect_run(bg.wait(60), 0, what)
        bg = None
        os.kill(fixture.pid, signal.SIGCONT)
    elif variant in ("winch", "baseline winch"):
        for t in tids:
            tgkill(fixture.pid, t, signal.SIGWINCH)
    else:
        tgkill(fixture.pid, stopper, signal.SIGSTOP)
        if not wait_states(fixture, tids, "tT"):
            raise harness.Failure("%s: the target did not stop; states %s"
                                  % (what, harness.task_states(fixture.pid)))
        if bg is not None and variant == "after":
            res = bg.wait(60)
            ctx.expect_run(res, 0, what)
            bg = None
        os.kill(fixture.pid, signal.SIGCONT)
    if bg is not None:
        ctx.expect_run(bg.wait(60), 0, what)
    wait_calls_return(ctx, fixture, what)
    d = delta(before, eintr_counts(fixture, what))
    ctx.note("%s: EINTR per call %s" % (what, d))
    ctx.check_target_healthy(fixture, what)
    return d


def part_jobctl(ctx):
    fixture = ctx.start_fixture("safety_blocked", ["--wait", str(WAIT_S)])
    sh.wait_status(fixture, "start")
    for kind, rounds in (("stop", ("inside", "after", "before")), ("winch", ("winch",))):
        base = jobctl_round(ctx, fixture, "baseline " + kind, "baseline " + kind)
        for r in rounds:
            how = "pprobe, " + {"inside": "SIGSTOP and SIGCONT inside the window",
                                "after": "SIGSTOP inside the window, SIGCONT after",
                                "before": "SIGSTOP before the window, SIGCONT after",
                                "winch": "SIGWINCH inside the window"}[r]
            got = jobctl_round(ctx, fixture, how, r)
            ctx.check(got == base, "%s: expected the EINTR counts without pprobe %s, got %s"
                      % (how, base, got))
    fixture.kill()


def kill_at_first_stop(ctx, fixture, tids, bg):
    """Polls the blocked threads' states until one is in a tracing stop or
    pprobe ends; SIGKILLs pprobe then.  Returns True if a stop was seen."""
    fds = []
    for t in tids:
        try:
            fds.append(os.open("/proc/%d/task/%d/stat" % (fixture.pid, t), os.O_RDONLY))
        except OSError:
            pass
    seen = False
    try:
        deadline = time.monotonic() + 60
        while bg.alive() and time.monotonic() < deadline and not seen:
            for fd in fds:
                text = os.pread(fd, 512, 0)
                if text[text.rfind(b")") + 2:][:1] == b"t":
                    seen = True
                    break
        bg.kill()
    finally:
        for fd in fds:
            os.close(fd)
    return seen


def part_kill(ctx):
    fixture = ctx.start_fixture("safety_blocked", ["--wait", str(WAIT_S), "--more",
                                                   str(MORE_THREADS), "--spin", "1"])
    sh.wait_status(fixture, "start")
    tids = blocked_tids(fixture, "b-more-")
    what = "SIGKILL at release"
    before = eintr_counts(fixture, what)
    seen = 0
    for i in range(KILL_ROUNDS):
        out = ctx.new_output("release-kill")
        mode = ("wall", "cpu")[i % 2]
        wait_blocked(ctx, fixture, tids, what)
        bg = ctx.start_pprobe(["-p", str(fixture.pid), "-seconds", "0.3", "-mode", mode,
                               "-hz", "200", "-o", out])
        seen += kill_at_first_stop(ctx, fixture, tids, bg)
        harness.wait_for(lambda: all(p == 0 for p in harness.tracer_pids(fixture.pid).values()),
                         10)
    wait_calls_return(ctx, fixture, what)
    d = delta(before, eintr_counts(fixture, what))
    ctx.note("%s: %d rounds, %d saw a blocked thread in a tracing stop; EINTR per call %s"
             % (what, KILL_ROUNDS, seen, d))
    ctx.check(all(v == 0 for v in d.values()),
              "%s: expected no EINTR in any blocked call, got %s" % (what, d))
    ctx.check_target_healthy(fixture, what)
    fixture.kill()


def cpu_cgroup():
    """A directory where a cpu cgroup can be made, with its knobs:
    (parent, version) or (None, reason)."""
    v1 = "/sys/fs/cgroup/cpu"
    if os.path.exists(os.path.join(v1, "cpu.cfs_quota_us")) and os.access(v1, os.W_OK):
        return v1, 1
    for v2 in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        try:
            with open(os.path.join(v2, "cgroup.controllers")) as f:
                ctrls = f.read().split()
        except OSError:
            continue
        if "cpu" in ctrls and os.access(v2, os.W_OK):
            return v2, 2
    return None, "no writable cgroup v1 cpu hierarchy nor cgroup v2 with the cpu controller"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def part_throttle(ctx):
    parent, version = cpu_cgroup()
    if parent is None:
        ctx.note("SKIP part 'target that cannot run': %s" % version)
        return False
    # Long waits: a thread that returns from its call must run to call
    # again, which a throttled one cannot do at once.
    fixture = ctx.start_fixture("safety_blocked", ["--wait", str(THROTTLE_WAIT_S), "--spin",
                                                   "1"])
    sh.wait_status(fixture, "start")
    tids = blocked_tids(fixture)
    cg = os.path.join(parent, "pprobe-test-%d" % os.getpid())
    what = "target throttled to 1 ms of CPU a second"
    # Its status thread is throttled too: counters are read outside.
    before = eintr_counts(fixture, what)
    os.mkdir(cg)
    try:
        if version == 1:
            write(os.path.join(cg, "cpu.cfs_period_us"), "1000000")
            write(os.path.join(cg, "cpu.cfs_quota_us"), "1000")
        else:
            write(os.path.join(cg, "cpu.max"), "1000 1000000")
        write(os.path.join(cg, "cgroup.procs"), str(fixture.pid))
        for i in range(THROTTLE_ROUNDS):
            out = ctx.new_output("release-throttle")
            wait_blocked(ctx, fixture, tids, what)
            res = ctx.run_pprobe(["-p", str(fixture.pid), "-seconds", "0.3", "-mode",
                                  ("wall", "cpu")[i % 2], "-hz", "100", "-o", out], 120)
            ctx.expect_run(res, 0, what)
        write(os.path.join(parent, "cgroup.procs"), str(fixture.pid))
        wait_calls_return(ctx, fixture, what, THROTTLE_WAIT_S)
        d = delta(before, eintr_counts(fixture, what))
        ctx.note("%s: %d rounds; EINTR per call %s" % (what, THROTTLE_ROUNDS, d))
        ctx.check(all(v == 0 for v in d.values()),
                  "%s: expected no EINTR in any blocked call, got %s" % (what, d))
        ctx.check_target_healthy(fixture, what)
    finally:
        try:
            write(os.path.join(parent, "cgroup.procs"), str(fixture.pid))
        except OSError:
            pass
        fixture.kill()
        harness.wait_for(lambda: _rmdir(cg), 10)
    return True


def _rmdir(path):
    try:
        os.rmdir(path)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def main(ctx):
    ctx.require_pprobe()
    part_jobctl(ctx)
    part_kill(ctx)
    part_throttle(ctx)


if __name__ == "__main__":
    harness.run(main)
