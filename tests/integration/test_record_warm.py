#!/usr/bin/env python3
"""pprobe record loads the symbols of the target's mapped images before it
attaches, not on the first samples (burner_O2: its stacks end in libc,
whose separate debug info, with libc6-dbg, is tens of MB of DWARF).

Loaded on the first sample, libc's debug info held up the sampling loop
for a second and more on a busy machine: a 1-second window had 1 or 2
samples.

Expected:
  - -v says, a line per image, which were loaded before attaching: the
    main executable first, libc among them;
  - a 1-second CPU-mode window has at least half the samples the target's
    CPU time while traced asks for (its CPU time from /proc between the
    attach and pprobe's exit, over the 10 ms period): a window blind for
    its first second has almost none.  Bounded by the CPU the target got,
    so it holds however busy the machine is.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

FIXTURE = "burner_O2"
ATTACH_TIMEOUT = 10
EXIT_TIMEOUT = 60
PERIOD_NS = 10 * 1000 * 1000  # 100 Hz
MIN_SHARE = 0.5
# Below this much CPU while traced (20 samples' worth) the machine gave the
# target too little for a share to mean anything.
MIN_TRACED_NS = 20 * PERIOD_NS
LOADED = re.compile(r"^pprobe: loaded symbols of (.*) before attaching \([0-9.]+ ms\)$")


def main(ctx):
    ctx.require_pprobe()
    ctx.require_readers()
    fixture = ctx.start_fixture(FIXTURE)
    out = ctx.new_output(FIXTURE)
    what = "pprobe -seconds 1 -v on %s" % FIXTURE
    bg = ctx.start_pprobe(["-p", str(fixture.pid), "-seconds", "1", "-v", "-o", out])

    def attached():
        if harness.traced_by(fixture.pid, bg.pid):
            return "attached"
        return None if bg.alive() else "exited"

    if harness.wait_for(attached, ATTACH_TIMEOUT) != "attached":
        raise harness.Failure("%s: expected pprobe (pid %d) to trace the target within %d s; "
                              "pprobe:\n  %s" % (what, bg.pid, ATTACH_TIMEOUT,
                                                 bg.wait(1).describe()))
    start = harness.process_cpu_ns(fixture.pid)
    result = bg.wait(EXIT_TIMEOUT)
    traced_ns = harness.process_cpu_ns(fixture.pid) - start
    ctx.check_target_healthy(fixture, what)
    ctx.expect_run(result, 0, what)
    ctx.expect_saved(result, out, what)

    loaded = [m.group(1) for m in map(LOADED.match, result.stderr_lines()) if m]
    ctx.note("%s: loaded before attaching: %s" % (what, loaded))
    ctx.check(loaded and os.path.basename(loaded[0]) == FIXTURE,
              "%s: expected the first image loaded before attaching to be %s, got %s; "
              "stderr:%s" % (what, FIXTURE, loaded, harness.indent(result.stderr)))
    ctx.check(any(re.fullmatch(r"libc\.so[.\d]*", os.path.basename(p)) for p in loaded),
              "%s: expected libc among the images loaded before attaching, got %s; stderr:%s"
              % (what, loaded, harness.indent(result.stderr)))

    expected = traced_ns / PERIOD_NS
    for prof in ctx.decode(out, what):
        tag = "%s [%s]" % (what, prof.reader)
        ctx.note("%s: %d samples; the target ran %.3f s of CPU while traced (%.0f samples' "
                 "worth)" % (tag, prof.count(), traced_ns / 1e9, expected))
        if traced_ns < MIN_TRACED_NS:
            ctx.note("%s: the target ran too little while traced for the share to mean "
                     "anything; not checked" % tag)
            continue
        ctx.check(prof.count() >= MIN_SHARE * expected,
                  "%s: expected >= %.0f%% of %.0f samples (the target's %.3f s of CPU while "
                  "traced at 100 Hz), got %d: was the window blind while symbols loaded?"
                  % (tag, MIN_SHARE * 100, expected, traced_ns / 1e9, prof.count()))


if __name__ == "__main__":
    harness.run(main)
