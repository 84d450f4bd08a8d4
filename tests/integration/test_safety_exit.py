#!/usr/bin/env python3
"""The target exits mid-window (safety guarantee 6).

safety_exit (fixtures/safety/exit/) ends in one of four ways: main returns
(exit_group from the main thread), a thread faults (SIGSEGV), a thread
calls exit(3) (exit_group from a non-main thread), or the main thread calls
pthread_exit and the other threads follow half a second later (the leader
is a zombie meanwhile).  It ends AFTER seconds after pprobe has stopped its
spinning thread STOPS times (--after-stops: the thread counts its own
ptrace stops), not a fixed time after it started: on a busy machine pprobe
may take longer than any fixed time to attach and take its first samples
(its first tick loads debug info), and a target gone by then leaves the
profile empty for no fault of pprobe's.  For each, under `pprobe -hz 1000
-seconds WINDOW` in CPU mode (and, for two of them, wall mode):

  - pprobe ends within FINISH_SLACK of the target's end, well before
    WINDOW, with exit 0, says the process exited, and writes a profile that
    decodes and has samples of the target's spinning thread (it was
    stopped for STOPS of them before the countdown began);
  - the target ended the way it meant to: its exit status (0, 3) or the
    signal that killed it (SIGSEGV) is what it would be without pprobe --
    a fatal signal passed on, not swallowed or replaced.

A process whose main thread has exited while its other threads run on
("leaderless": /proc/PID/status says zombie, /proc/PID/maps is empty) has
not exited: `pprobe record` (CPU and wall) and `pprobe dump` exit 0, sample
and unwind its live threads, and the dump lists the main thread as a
zombie; the target stays healthy.
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

AFTER = 1.0
STOPS = 20
# The fixture waits at most a minute for STOPS (then counts down anyway and
# says so on stderr): the window and the wait for the target outlast that.
GATE_TIMEOUT = 60
WINDOW = GATE_TIMEOUT + 30
HZ = 1000
# pprobe must notice the exit and finish within this long of it.
FINISH_SLACK = 10
CASES = [("normal", 0, ("cpu", "wall")), ("signal", -signal.SIGSEGV, ("cpu",)),
         ("thread", 3, ("cpu", "wall")), ("leader", 0, ("cpu",))]


def case(ctx, how, status, mode):
    what = "pprobe -mode %s -hz %d while the target ends (%s)" % (mode, HZ, how)
    fixture = ctx.start_fixture("safety_exit", ["--how", how, "--after", str(AFTER),
                                                "--after-stops", str(STOPS)])
    out = ctx.new_output("exit-%s-%s" % (how, mode))
    # -sampler ptrace: the fixture counts pprobe's stops of its threads to
    # know it was sampled, and perf events stop none.
    bg = ctx.start_pprobe(["-p", str(fixture.pid), "-seconds", str(WINDOW), "-hz", str(HZ),
                           "-mode", mode, "-sampler", "ptrace", "-o", out])
    try:
        rc = fixture.proc.wait(timeout=GATE_TIMEOUT + AFTER + 30)
    except subprocess.TimeoutExpired:
        rc = None
    # When the test saw the target end (no earlier than it did).
    ended = time.monotonic()
    result = bg.wait(FINISH_SLACK + 30)
    ctx.check(rc == status, "%s: expected the target to end with %s, got %s; stderr %r"
              % (what, "signal %s" % signal.Signals(-status).name if status < 0
                 else "status %d" % status, rc, fixture.stderr_text()))
    ctx.expect_run(result, 0, what)
    finish = bg.started + result.elapsed - ended
    ctx.check(finish < FINISH_SLACK,
              "%s: expected pprobe to finish within %d s of the target's end, it finished "
              "%.1f s after (ran %.1f s of -seconds %d)"
              % (what, FINISH_SLACK, finish, result.elapsed, WINDOW))
    ctx.expect_saved(result, out, what)
    ctx.check(any("process %d exited" % fixture.pid in line for line in result.stderr_lines()),
              "%s: expected pprobe to say 'process %d exited ...', stderr:%s"
              % (what, fixture.pid, harness.indent(result.stderr)))
    surprises = sh.stderr_surprises(result)
    ctx.check(not surprises, "%s: unexpected lines on pprobe's stderr: %s" % (what, surprises))
    prof = sh.decode(ctx, out, what)
    spin = prof.select(lambda s: "exit_spin_work" in s.names())
    ctx.check(spin, "%s: expected samples with exit_spin_work, got:\n%s\nfixture stderr %r"
              % (what, prof.top_stacks(), fixture.stderr_text()))


def leader_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def case_leaderless(ctx):
    what = "pprobe on a process whose main thread has exited"
    fixture = ctx.start_fixture("safety_exit", ["--how", "leaderless", "--after", "120"])
    if not harness.wait_for(lambda: leader_state(fixture.pid) == "Z", 10):
        raise harness.Failure("%s: the fixture's main thread did not become a zombie; state %s"
                              % (what, leader_state(fixture.pid)))
    for mode in ("cpu", "wall"):
        run = "%s: -mode %s" % (what, mode)
        out = ctx.new_output("leaderless-" + mode)
        # A second, and until ex-spin was sampled STOPS times.
        result = sh.record_until_sampled(ctx, fixture, "ex-spin",
                                         ["-hz", "200", "-mode", mode, "-sampler", "ptrace",
                                          "-o", out],
                                         STOPS, 1, WINDOW, run)
        ctx.expect_run(result, 0, run)
        ctx.expect_saved(result, out, run)
        prof = sh.decode(ctx, out, run)
        spin = prof.select(lambda s: "exit_spin_work" in s.names()
                           and sh.thread_of(s) == "ex-spin")
        ctx.check(spin, "%s: expected samples of exit_spin_work labelled thread=ex-spin, "
                  "got:\n%s" % (run, prof.top_stacks()))
        ctx.check_target_healthy(fixture, run)
    run = "%s: dump" % what
    result = ctx.run_pprobe(["dump", "-p", str(fixture.pid), "-format", "json"], 60)
    ctx.expect_run(result, 0, run)
    try:
        doc = json.loads(result.stdout)
    except ValueError:
        raise harness.Failure("%s: output is not JSON:%s" % (run, harness.indent(result.stdout)))
    threads = {t["tid"]: t for t in doc.get("threads", [])}
    ctx.check(set(threads) == set(fixture.truth_threads), "%s: expected threads %s, got %s"
              % (run, sorted(fixture.truth_threads), sorted(threads)))
    main_t = threads.get(fixture.pid, {})
    ctx.check(main_t.get("state") == "zombie", "%s: expected the main thread listed as a "
              "zombie, got %r" % (run, main_t))
    spin = [t for t in threads.values() if t["name"] == "ex-spin"]
    ctx.check(spin and any(f["function"] == "exit_spin_work" for f in spin[0]["frames"]),
              "%s: expected ex-spin's stack to hold exit_spin_work, got %r" % (run, spin))
    ctx.check_target_healthy(fixture, run)
    fixture.kill()


def main(ctx):
    ctx.require_pprobe()
    case_leaderless(ctx)
    for how, status, modes in CASES:
        for mode in modes:
            case(ctx, how, status, mode)


if __name__ == "__main__":
    harness.run(main)
