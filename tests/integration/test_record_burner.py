#!/usr/bin/env python3
"""pprobe record against burner (fixtures/burner), at -O2 without frame
pointers and at -O0 with them.

Expected, with both readers:
  - hot_a's share of the CPU ns of hot_a + hot_b is 0.75 +- 0.08, or +- 5
    sigma of a binomial share of the samples taken where that is wider
    (the fixture gives hot_a 3 times hot_b's work);
  - samples for at least half of the 10 ms ticks' worth of CPU time the
    fixture actually got during the run (on a busy machine it gets a small
    part of a CPU); with fewer than 60 samples, the window is extended
    (scaled by the shortfall, at most 30 s) so the share can be judged;
  - >= 95% of samples have the stack [hot_a|hot_b;]level_two;level_one;
    run_loop;main, beyond main at most libc's start-up frames;
  - no filler function anywhere (an unwinder or symbolizer slipped);
  - the -top table on stderr names hot_a.
And -seconds=2, --seconds 2, --seconds=2 are accepted and honoured.
"""

import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SECONDS = 3
HOT_A_SHARE = 0.75
HOT_A_TOLERANCE = 0.08
CHAIN_SHARE = 0.95
# Fewer samples than this and a share is not worth judging: the window is
# extended.  The bound on how many samples pprobe must take comes from the
# CPU time the fixture got (one per 10 ms tick it ran in; half of it).
JUDGE_SAMPLES = 60
MAX_SECONDS = 30
KEEP_UP = 0.5

CHAIN = ["level_two", "level_one", "run_loop", "main"]
LEAVES = {"hot_a", "hot_b"}
# What may follow main on the root side: libc's start-up code, however its
# symbols come out, or an explicitly marked frame.
BEYOND_MAIN = re.compile(r"__libc_start\w*|_start|libc\.so[.\d]*\+0x[0-9a-f]+|0x[0-9a-f]+|\[.*\]")


def chain_ok(sample):
    names = sample.names()
    i = 1 if names and names[0] in LEAVES else 0
    if names[i:i + len(CHAIN)] != CHAIN:
        return False
    return all(BEYOND_MAIN.fullmatch(n) for n in names[i + len(CHAIN):])


def has_filler(sample):
    return any("filler" in n for n in sample.names())


def check_profile(ctx, prof, what, cpu_ns):
    """cpu_ns: the CPU time the fixture used while pprobe ran."""
    tag = "%s [%s]" % (what, prof.reader)
    total = prof.count()
    floor = int(KEEP_UP * cpu_ns / 10e6)
    if not ctx.check(total >= max(1, floor),
                     "%s: expected >= %d samples (half the 10 ms ticks of the %.2f s of CPU the "
                     "fixture got while pprobe ran), got %d" % (tag, floor, cpu_ns / 1e9, total)):
        return

    leaf_ns = {leaf: prof.cpu_ns(prof.select(lambda s, l=leaf: s.frames and s.frames[0].name == l))
               for leaf in LEAVES}
    hot = leaf_ns["hot_a"] + leaf_ns["hot_b"]
    share = leaf_ns["hot_a"] / hot if hot else 0.0
    n = prof.count(prof.select(lambda s: s.frames and s.frames[0].name in LEAVES))
    tolerance = max(HOT_A_TOLERANCE,
                    5 * math.sqrt(HOT_A_SHARE * (1 - HOT_A_SHARE) / max(n, 1)))
    ctx.check(abs(share - HOT_A_SHARE) <= tolerance,
              "%s: expected hot_a's share of hot_a+hot_b CPU ns %.2f +- %.3f (of %d samples), "
              "got %.3f (hot_a %d ns, hot_b %d ns); heaviest stacks:\n%s"
              % (tag, HOT_A_SHARE, tolerance, n, share, leaf_ns["hot_a"], leaf_ns["hot_b"],
                 prof.top_stacks()))

    good, total = prof.share(chain_ok)
    ctx.note("%s: %d samples, hot_a share %.3f, expected chain in %.1f%%"
             % (tag, total, share, 100.0 * good / total))
    ctx.check(good >= CHAIN_SHARE * total,
              "%s: expected >= %.0f%% of samples with stack [hot_a|hot_b;]%s[;libc start], "
              "got %d of %d; heaviest stacks:\n%s"
              % (tag, CHAIN_SHARE * 100, ";".join(CHAIN), good, total, prof.top_stacks()))

    fillers = prof.select(has_filler)
    ctx.check(not fillers, "%s: expected no filler function in any stack, got %d samples:\n%s"
              % (tag, prof.count(fillers), prof.top_stacks(samples=fillers)))


def check_duration(ctx, result, profiles, seconds, what):
    """The window asked for was the one used: by wall time and by duration_nanos."""
    ctx.check(seconds * 0.9 <= result.elapsed <= seconds + 15,
              "%s: expected pprobe to run about %g s, it ran %.2f s"
              % (what, seconds, result.elapsed))
    for prof in profiles:
        d = prof.duration_nanos
        ctx.check(d is not None and abs(d - seconds * 1e9) <= 0.25 * seconds * 1e9,
                  "%s [%s]: expected duration_nanos %g s +- 25%%, got %s"
                  % (what, prof.reader, seconds, d))


def main(ctx):
    ctx.require_pprobe()
    ctx.require_readers()

    for name in ("burner_O2", "burner_O0"):
        fixture = ctx.start_fixture(name)
        seconds = SECONDS
        while True:
            what = "%s: pprobe -p PID -seconds %d -o F" % (name, seconds)
            cpu0 = harness.process_cpu_ns(fixture.pid)
            result, out = ctx.record(fixture, seconds, what=what)
            cpu_ns = harness.process_cpu_ns(fixture.pid) - cpu0
            profiles = ctx.decode(out, what)
            got = min(p.count() for p in profiles)
            if got >= JUDGE_SAMPLES or seconds >= MAX_SECONDS:
                break
            # A busy machine: scale the window by the shortfall measured.
            more = min(MAX_SECONDS, int(seconds * min(5.0, JUDGE_SAMPLES / max(got, 1))) + 1)
            ctx.note("%s: %d samples (the fixture got %.2f s of CPU), too few to judge a "
                     "share: again with -seconds %d" % (what, got, cpu_ns / 1e9, more))
            seconds = more
        ctx.check("hot_a" in result.stderr,
                  "%s: expected the -top table on stderr to name hot_a, stderr:\n%s"
                  % (what, result.stderr))
        for prof in profiles:
            check_profile(ctx, prof, what, cpu_ns)
        check_duration(ctx, result, profiles, seconds, what)
        fixture.kill()

    # The other spellings of -seconds, each checked for being honoured.
    fixture = ctx.start_fixture("burner_O2")
    for spelling in (["-seconds=2"], ["--seconds", "2"], ["--seconds=2"]):
        out = ctx.new_output("spelling")
        args = ["-p", str(fixture.pid)] + spelling + ["-o", out]
        what = "burner_O2: pprobe " + " ".join(args)
        result = ctx.run_pprobe(args, 2 + 30)
        ctx.check_target_healthy(fixture, what)
        if result.timed_out or result.rc != 0:
            ctx.report("%s: expected exit 0, got:\n  %s" % (what, result.describe()))
            continue
        try:
            ctx.expect_saved(result, out, what)
            check_duration(ctx, result, ctx.decode(out, what), 2, what)
        except harness.Failure as e:
            ctx.report(str(e))


if __name__ == "__main__":
    harness.run(main)
