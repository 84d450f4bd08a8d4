#!/usr/bin/env python3
"""Ending pprobe's window early.

  - SIGINT, SIGTERM, SIGHUP to pprobe mid-window (-seconds 30; sent once the
    target's TracerPid is pprobe and the target has run 0.2 s of CPU since):
    exit 0, profile written with samples and readable by both readers,
    target healthy, and stderr says the window was cut short by that signal;
  - the target killed mid-window: exit 0, profile written and readable,
    stderr says the target exited.
"""

import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

WINDOW = 30
ATTACH_TIMEOUT = 10
# CPU time the target runs while traced before the test ends the window, so
# that there is something to sample (20 samples' worth at 100 Hz).  The
# timeout is generous: on a loaded machine a traced target gets little CPU
# (it waits stopped while pprobe waits for a CPU to take the sample on).
RUN_TRACED_NS = 200 * 1000 * 1000
RUN_TRACED_TIMEOUT = 20
EXIT_TIMEOUT = 15


def start_and_attach(ctx, fixture, what):
    """Starts pprobe -seconds 30 on fixture; returns it once it traces the
    target and the target has run RUN_TRACED_NS of CPU since."""
    out = ctx.new_output(fixture.name)
    bg = ctx.start_pprobe(["-p", str(fixture.pid), "-seconds", str(WINDOW), "-o", out])

    def attached():
        if harness.traced_by(fixture.pid, bg.pid):
            return "attached"
        return None if bg.alive() else "exited"

    if harness.wait_for(attached, ATTACH_TIMEOUT) != "attached":
        result = bg.wait(1)
        raise harness.Failure("%s: expected pprobe (pid %d) to trace the target within %d s; "
                              "TracerPids %s; pprobe:\n  %s"
                              % (what, bg.pid, ATTACH_TIMEOUT, harness.tracer_pids(fixture.pid),
                                 result.describe()))
    start = harness.process_cpu_ns(fixture.pid)
    if not harness.wait_for(lambda: harness.process_cpu_ns(fixture.pid) - start >= RUN_TRACED_NS,
                            RUN_TRACED_TIMEOUT):
        ctx.report("%s: the traced target ran only %d ns of CPU in %d s (expected %d); "
                   "task states %s" % (what, harness.process_cpu_ns(fixture.pid) - start,
                                       RUN_TRACED_TIMEOUT, RUN_TRACED_NS,
                                       harness.task_states(fixture.pid)))
    return bg, out


def check_profile(ctx, out, what):
    for prof in ctx.decode(out, what):
        ctx.check(prof.count() > 0, "%s [%s]: expected samples in the profile, got none"
                  % (what, prof.reader))


def case_signal(ctx, sig):
    fixture = ctx.start_fixture("burner_O2")
    what = "pprobe -seconds %d ended by %s" % (WINDOW, sig.name)
    bg, out = start_and_attach(ctx, fixture, what)
    os.kill(bg.pid, sig)
    result = bg.wait(EXIT_TIMEOUT)
    healthy = ctx.check_target_healthy(fixture, what)
    ctx.expect_run(result, 0, what)
    ctx.check(result.elapsed < WINDOW, "%s: expected the window to end early, pprobe ran %.1f s"
              % (what, result.elapsed))
    ctx.expect_saved(result, out, what)
    ctx.check(re.search(r"^pprobe: window cut short by %s after [\d.]+s of %ds; writing what was "
                        r"collected$" % (sig.name, WINDOW), result.stderr, re.M),
              "%s: expected a line saying the window was cut short by %s, got:%s"
              % (what, sig.name, harness.indent(result.stderr)))
    check_profile(ctx, out, what)
    if not healthy:
        ctx.note("(target unhealthy after: %s)" % result.describe())
    fixture.kill()


def case_target_exits(ctx):
    fixture = ctx.start_fixture("burner_O2")
    what = "pprobe -seconds %d, target killed mid-window" % WINDOW
    bg, out = start_and_attach(ctx, fixture, what)
    fixture.proc.kill()
    result = bg.wait(EXIT_TIMEOUT)
    fixture.proc.wait(EXIT_TIMEOUT)
    ctx.expect_run(result, 0, what)
    ctx.check(any(re.search(r"exited", line, re.IGNORECASE) and "Saved profile" not in line
                  for line in result.stderr_lines()),
              "%s: expected a line on stderr saying the target exited, got:%s"
              % (what, harness.indent(result.stderr)))
    ctx.expect_saved(result, out, what)
    check_profile(ctx, out, what)


def main(ctx):
    ctx.require_pprobe()
    ctx.require_readers()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            case_signal(ctx, sig)
        except harness.Failure as e:
            ctx.report(str(e))
    case_target_exits(ctx)


if __name__ == "__main__":
    harness.run(main)
