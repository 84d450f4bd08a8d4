#!/usr/bin/env python3
"""Another tracer (safety guarantee 7).

  - strace attached to the target (every thread, -f): `pprobe record` and
    `pprobe dump` refuse with exit 5 and a message naming strace's pid,
    and touch nothing: strace stays the tracer of every task; once strace
    is gone the target is healthy.
  - while one pprobe records (-seconds FIRST_SECONDS), a second `pprobe
    record` and a second `pprobe dump` on the same pid refuse with exit 5
    naming the first pprobe's pid; the first finishes with exit 0 and a
    profile that decodes and has samples; the target is healthy.
  - two pprobes started at the same moment, RACES times: exactly one
    records (exit 0, a profile with samples), the other refuses with exit
    5; never both, never neither; the target is healthy.
"""

import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

FIRST_SECONDS = 3
TRACE_TIMEOUT = 10
RACES = 5
RACE_SECONDS = 0.5


def expect_refusal(ctx, fixture, args, tracer_pid, what):
    result = ctx.run_pprobe(args, 30)
    ctx.check(result.rc == 5 and not result.timed_out,
              "%s: expected exit 5 (already traced), got:\n  %s" % (what, result.describe()))
    lines = result.stderr_lines()
    ctx.check(len(lines) == 1 and lines[0].startswith("pprobe: ") and str(tracer_pid) in lines[0],
              "%s: expected one 'pprobe: ' line naming the tracer's pid %d, got:%s"
              % (what, tracer_pid, harness.indent(result.stderr)))
    return result


def case_strace(ctx, fixture):
    strace = shutil.which("strace")
    if not strace:
        ctx.note("strace is not installed: the strace case is skipped (the second-pprobe case "
                 "still runs)")
        return
    what = "with strace attached"
    bg = ctx.start_command([strace, "-f", "-qq", "-o", os.devnull, "-p", str(fixture.pid)])
    if not harness.wait_for(lambda: harness.traced_by(fixture.pid, bg.pid), TRACE_TIMEOUT):
        raise harness.Failure("%s: strace (pid %d) did not attach to every task within %d s: "
                              "TracerPids %s" % (what, bg.pid, TRACE_TIMEOUT,
                                                 harness.tracer_pids(fixture.pid)))
    out = ctx.new_output("strace")
    expect_refusal(ctx, fixture, ["-p", str(fixture.pid), "-seconds", "1", "-o", out], bg.pid,
                   "pprobe record " + what)
    ctx.check(not os.path.exists(out), "%s: pprobe record refused but left %s" % (what, out))
    expect_refusal(ctx, fixture, ["dump", "-p", str(fixture.pid)], bg.pid, "pprobe dump " + what)
    ctx.check(harness.traced_by(fixture.pid, bg.pid),
              "%s: expected strace still to trace every task, TracerPids %s"
              % (what, harness.tracer_pids(fixture.pid)))
    bg.proc.send_signal(signal.SIGTERM)
    bg.wait(TRACE_TIMEOUT)
    ctx.check_target_healthy(fixture, "after strace detached")


def case_second_pprobe(ctx, fixture):
    what = "while another pprobe records"
    out = ctx.new_output("first")
    first = ctx.start_pprobe(["-p", str(fixture.pid), "-seconds", str(FIRST_SECONDS), "-hz",
                              "1000", "-o", out])
    sh.wait_traced(ctx, fixture, first, what)
    out2 = ctx.new_output("second")
    expect_refusal(ctx, fixture, ["-p", str(fixture.pid), "-seconds", "1", "-o", out2],
                   first.pid, "second pprobe record " + what)
    ctx.check(not os.path.exists(out2), "%s: the refused pprobe left %s" % (what, out2))
    expect_refusal(ctx, fixture, ["dump", "-p", str(fixture.pid)], first.pid,
                   "pprobe dump " + what)
    ctx.check(first.alive() and harness.traced_by(fixture.pid, first.pid),
              "%s: expected the first pprobe still running and tracing every task; alive %s, "
              "TracerPids %s" % (what, first.alive(), harness.tracer_pids(fixture.pid)))
    result = first.wait(FIRST_SECONDS + 60)
    ctx.expect_run(result, 0, "the first pprobe " + what)
    ctx.expect_saved(result, out, "the first pprobe " + what)
    prof = sh.decode(ctx, out, "the first pprobe " + what)
    ctx.check(prof.count() > 0, "%s: expected samples in the first pprobe's profile" % what)
    ctx.check_target_healthy(fixture, "after the first pprobe " + what)


def case_race(ctx, fixture):
    for i in range(RACES):
        what = "two pprobes started at once (%d/%d)" % (i + 1, RACES)
        outs = [ctx.new_output("race-a"), ctx.new_output("race-b")]
        bgs = [ctx.start_pprobe(["-p", str(fixture.pid), "-seconds", str(RACE_SECONDS), "-hz",
                                 "1000", "-o", out]) for out in outs]
        results = [bg.wait(RACE_SECONDS + 60) for bg in bgs]
        rcs = sorted(r.rc for r in results)
        if not ctx.check(rcs == [0, 5], "%s: expected one to exit 0 and the other 5, got:\n  %s"
                         % (what, "\n  ".join(r.describe() for r in results))):
            return
        winner = [o for o, r in zip(outs, results) if r.rc == 0][0]
        prof = sh.decode(ctx, winner, what)
        ctx.check(prof.count() > 0, "%s: expected samples in the winner's profile" % what)
        ctx.check_target_healthy(fixture, what)


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("safety_waits")
    case_strace(ctx, fixture)
    case_second_pprobe(ctx, fixture)
    case_race(ctx, fixture)


if __name__ == "__main__":
    harness.run(main)
