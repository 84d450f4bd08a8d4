#!/usr/bin/env python3
"""Which CPU sampler pprobe picks (-sampler), against burner_O2.

perf events are refused by running pprobe under tests/tools/no_perf_events,
a seccomp filter that makes perf_event_open fail with EACCES (root is not
exempt from seccomp, as it is from kernel.perf_event_paranoid).

Expected:
  - refused, -sampler auto (the default): exit 0, a profile with burner's
    stacks, "CPU samples from ptrace stops" on stderr, "sampler ptrace" on
    the -v line, the comment "sampler: ptrace" in the profile;
  - refused, -sampler perf: exit 4 with the reason on stderr, no profile
    written, and no thread of the target ever traced (watched throughout);
  - allowed (no filter), -sampler auto: perf events, said in the same three
    places ("perf events", "sampler perf", "sampler: perf");
  - -sampler perf -mode wall: exit 2 (a usage error).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SECONDS = 2


def check_said(ctx, result, out, what, stderr_text, v_text, comment):
    ctx.check(stderr_text in result.stderr, "%s: expected %r on stderr, got:%s"
              % (what, stderr_text, harness.indent(result.stderr)))
    ctx.check(v_text in result.stderr, "%s: expected %r on the -v line, got:%s"
              % (what, v_text, harness.indent(result.stderr)))
    for prof in ctx.decode(out, what):
        ctx.check(comment in prof.comments, "%s [%s]: expected the comment %r, got %r"
                  % (what, prof.reader, comment, prof.comments))
        ctx.check(any("hot_a" in s.names() for s in prof.samples),
                  "%s [%s]: expected samples in hot_a; heaviest stacks:\n%s"
                  % (what, prof.reader, prof.top_stacks()))


def main(ctx):
    ctx.require_pprobe()
    ctx.require_readers()
    wrapper = os.environ.get("NO_PERF_EVENTS", "")
    if not (wrapper and os.access(wrapper, os.X_OK)):
        raise harness.Failure("NO_PERF_EVENTS=%r is not an executable (tests/tools)" % wrapper)
    fixture = ctx.start_fixture("burner_O2")
    pid = str(fixture.pid)

    # Refused, auto: falls back to ptrace.
    out = ctx.new_output("auto-refused")
    what = "no_perf_events pprobe -p PID -seconds %d -v -o F" % SECONDS
    result = ctx.run_command([wrapper, ctx.pprobe, "-p", pid, "-seconds", str(SECONDS), "-v",
                              "-o", out], SECONDS + 30)
    ctx.check_target_healthy(fixture, what)
    ctx.expect_run(result, 0, what)
    ctx.expect_saved(result, out, what)
    check_said(ctx, result, out, what, "CPU samples from ptrace stops", "sampler ptrace",
               "sampler: ptrace")

    # Refused, perf: fails before touching a thread.
    out = ctx.new_output("perf-refused")
    what = "no_perf_events pprobe -p PID -sampler perf -o F"
    with harness.TracerWatch(fixture.pid) as watch:
        result = ctx.run_command([wrapper, ctx.pprobe, "-p", pid, "-seconds", str(SECONDS),
                                  "-sampler", "perf", "-o", out], SECONDS + 30)
    ctx.check(not result.timed_out and result.rc == 4,
              "%s: expected exit 4, got:\n  %s" % (what, result.describe()))
    ctx.check("-sampler perf" in result.stderr and "not allowed" in result.stderr,
              "%s: expected the reason on stderr, got:%s" % (what, harness.indent(result.stderr)))
    ctx.check(not os.path.exists(out), "%s: expected no profile, found %s" % (what, out))
    ctx.check(not watch.seen, "%s: expected no thread traced, saw {tid: TracerPids} %s"
              % (what, dict(watch.seen)))
    ctx.check_target_healthy(fixture, what)

    # Allowed, auto: perf events.
    out = ctx.new_output("auto-allowed")
    what = "pprobe -p PID -seconds %d -v -o F" % SECONDS
    result = ctx.run_command([ctx.pprobe, "-p", pid, "-seconds", str(SECONDS), "-v", "-o", out],
                             SECONDS + 30)
    ctx.check_target_healthy(fixture, what)
    ctx.expect_run(result, 0, what)
    ctx.expect_saved(result, out, what)
    check_said(ctx, result, out, what, "CPU samples from perf events", "sampler perf",
               "sampler: perf (task-clock events)")

    # perf events cannot take wall samples.
    what = "pprobe -p PID -sampler perf -mode wall"
    result = ctx.run_command([ctx.pprobe, "-p", pid, "-seconds", "1", "-sampler", "perf",
                              "-mode", "wall", "-o", ctx.new_output("wall")], 30)
    ctx.check(not result.timed_out and result.rc == 2,
              "%s: expected exit 2, got:\n  %s" % (what, result.describe()))


if __name__ == "__main__":
    harness.run(main)
