#!/usr/bin/env python3
"""pprobe -mode wall accounts for every tick of the window (issue 15 item 6).

Against fixtures/threads (two spinners, a sleeper in a 1 h nanosleep, a
duty-cycled thread, main in pthread_join), `-mode wall -hz HZ -seconds
SECONDS`: the summary line

    pprobe: wall: T of D ticks taken in W s (L late: ...); S thread samples, X lost (...)

and the profile, read with both readers, must agree:

  - the ticks due cover the window: W is the window asked for, D is W * HZ
    (+-1: the last tick's jitter), and D = T + L (a tick is taken or late);
  - the profile's duration_nanos is the window W, not the time until the
    profile was written;
  - every thread present all window has at most T samples, and the samples
    it lacks are exactly the lost ones: the sum over threads of (T - its
    samples) is X, and S is the samples' sum (nothing is missing silently);
  - each sample is worth whole periods (the late and lost ticks it stands
    for), and no thread's wall time exceeds the D ticks due;
  - the sleeping threads (sleeper, main) have a sample at every tick taken
    but at most (1 - SLEEPER_SHARE) of them, and wall time of at least
    SLEEPER_SHARE of the window, however many ticks were late.  They never
    run, so each tick reuses their stack without a stop and no budget can
    cost them a tick.

These hold under a CPU hog: a busy machine shows as late ticks (L), counted.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SECONDS = 2
HZ = 50
SLEEPER_SHARE = 0.95
THREADS = ("spin-a", "spin-b", "sleeper", "duty", "threads")
SLEEPING = ("sleeper", "threads")
SUMMARY_RE = re.compile(r"pprobe: wall: (\d+) of (\d+) ticks taken in ([0-9.]+) s \((\d+) late"
                        r"[^)]*\); (\d+) thread samples, (\d+) lost \(([^)]*)\)")


def main(ctx):
    ctx.require_pprobe()
    ctx.require_readers()
    fx = ctx.start_fixture("threads")
    result, out = ctx.record(fx, SECONDS, ["-hz", str(HZ), "-mode", "wall"])
    m = SUMMARY_RE.search(result.stderr)
    if not m:
        raise harness.Failure("expected the summary line 'pprobe: wall: T of D ticks taken in W "
                              "s (L late...); S thread samples, X lost (...)', got:\n%s"
                              % result.stderr)
    taken, due, window, late, samples, lost = (int(m.group(1)), int(m.group(2)),
                                               float(m.group(3)), int(m.group(4)),
                                               int(m.group(5)), int(m.group(6)))
    ctx.note("summary: %s" % m.group(0))
    ctx.check(abs(window - SECONDS) < 0.05, "the window lasted %.2f s, expected %d s"
              % (window, SECONDS))
    ctx.check(abs(due - window * HZ) <= 1, "%d ticks due in %.2f s at %d Hz, expected %.0f +-1"
              % (due, window, HZ, window * HZ))
    ctx.check_eq("ticks due = taken + late", due, taken + late)
    period = 1000000000 // HZ
    for prof in ctx.decode(out, "wall profile", [("samples", "count"), ("wall", "nanoseconds")]):
        tag = "[%s]" % prof.reader
        if prof.duration_nanos is not None:
            ctx.check(abs(prof.duration_nanos - window * 1e9) < 0.02e9,
                      "%s duration %.3f s, expected the window, %.2f s"
                      % (tag, prof.duration_nanos / 1e9, window))
        counts = prof.count_by(lambda s: s.labels.get("thread"))
        wall_i = prof.value_index(("wall", "nanoseconds"))
        bad = [s for s in prof.samples if s.values[wall_i] % period
               or s.values[wall_i] < s.values[0] * period]
        ctx.check(not bad, "%s every sample is worth whole periods (%d ns), one at least: %s"
                  % (tag, period, bad[:3]))
        wall = {}
        for s in prof.samples:
            name = s.labels.get("thread")
            wall[name] = wall.get(name, 0) + s.values[wall_i]
        over = {k: v for k, v in wall.items() if v > due * period}
        ctx.check(not over, "%s no thread's wall time can exceed the %d ticks due: %s"
                  % (tag, due, over))
        ctx.check(set(THREADS) <= set(counts), "%s expected samples of %s, got %s"
                  % (tag, THREADS, counts))
        over = {k: v for k, v in counts.items() if v > taken}
        ctx.check(not over, "%s no thread can have more samples than the %d ticks taken: %s"
                  % (tag, taken, over))
        ctx.check_eq("%s thread samples (profile) against the summary" % tag, samples,
                     prof.count())
        missing = sum(taken - counts.get(name, 0) for name in THREADS)
        ctx.check(missing == lost, "%s the summary's %d lost thread samples must be exactly "
                  "what the threads lack of one sample per tick taken (%d): %s"
                  % (tag, lost, missing, counts))
        for name in SLEEPING:
            n = counts.get(name, 0)
            ctx.check(n >= SLEEPER_SHARE * taken,
                      "%s %s sleeps all window: expected a sample at >= %.0f%% of the %d ticks "
                      "taken, got %d" % (tag, name, SLEEPER_SHARE * 100, taken, n))
            ctx.check(wall.get(name, 0) >= SLEEPER_SHARE * window * 1e9,
                      "%s %s sleeps all window: expected >= %.0f%% of the %.2f s window, got "
                      "%.3f s" % (tag, name, SLEEPER_SHARE * 100, window,
                                  wall.get(name, 0) / 1e9))
        ctx.note("%s samples per thread: %s; wall/window: %s" % (
            tag, counts, {k: round(v / 1e9 / window, 3) for k, v in wall.items()}))


harness.run(main)
