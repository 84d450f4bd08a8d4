#!/usr/bin/env python3
"""The target exits mid-window (safety guarantee 6).

safety_exit (fixtures/safety/exit/) ends AFTER seconds after ready in one of
four ways: main returns (exit_group from the main thread), a thread faults
(SIGSEGV), a thread calls exit(3) (exit_group from a non-main thread), or
the main thread calls pthread_exit and the other threads follow half a
second later (the leader is a zombie meanwhile).  For each, under `pprobe
-hz 1000 -seconds WINDOW` in CPU mode (and, for two of them, wall mode):

  - pprobe ends soon after the target, well before WINDOW, with exit 0,
    says the process exited, and writes a profile that decodes and has
    samples of the target's spinning thread;
  - the target ended the way it meant to: its exit status (0, 3) or the
    signal that killed it (SIGSEGV) is what it would be without pprobe --
    a fatal signal passed on, not swallowed or replaced.
"""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

AFTER = 1.0
WINDOW = 20
HZ = 1000
# pprobe must notice the exit and finish within this long of it.
FINISH_SLACK = 10
CASES = [("normal", 0, ("cpu", "wall")), ("signal", -signal.SIGSEGV, ("cpu",)),
         ("thread", 3, ("cpu", "wall")), ("leader", 0, ("cpu",))]


def case(ctx, how, status, mode):
    what = "pprobe -mode %s -hz %d while the target ends (%s)" % (mode, HZ, how)
    fixture = ctx.start_fixture("safety_exit", ["--how", how, "--after", str(AFTER)])
    out = ctx.new_output("exit-%s-%s" % (how, mode))
    bg = ctx.start_pprobe(["-p", str(fixture.pid), "-seconds", str(WINDOW), "-hz", str(HZ),
                           "-mode", mode, "-o", out])
    try:
        rc = fixture.proc.wait(timeout=AFTER + 30)
    except subprocess.TimeoutExpired:
        rc = None
    result = bg.wait(AFTER + FINISH_SLACK + 30)
    ctx.check(rc == status, "%s: expected the target to end with %s, got %s; stderr %r"
              % (what, "signal %s" % signal.Signals(-status).name if status < 0
                 else "status %d" % status, rc, fixture.stderr_text()))
    ctx.expect_run(result, 0, what)
    ctx.check(result.elapsed < AFTER + FINISH_SLACK,
              "%s: expected pprobe to finish within %d s of the target's end, it ran %.1f s "
              "(-seconds %d)" % (what, FINISH_SLACK, result.elapsed, WINDOW))
    ctx.expect_saved(result, out, what)
    ctx.check(any("process %d exited" % fixture.pid in line for line in result.stderr_lines()),
              "%s: expected pprobe to say 'process %d exited ...', stderr:%s"
              % (what, fixture.pid, harness.indent(result.stderr)))
    surprises = sh.stderr_surprises(result)
    ctx.check(not surprises, "%s: unexpected lines on pprobe's stderr: %s" % (what, surprises))
    prof = sh.decode(ctx, out, what)
    spin = prof.select(lambda s: "exit_spin_work" in s.names())
    ctx.check(spin, "%s: expected samples with exit_spin_work, got:\n%s"
              % (what, prof.top_stacks()))


def main(ctx):
    ctx.require_pprobe()
    for how, status, modes in CASES:
        for mode in modes:
            case(ctx, how, status, mode)


if __name__ == "__main__":
    harness.run(main)
