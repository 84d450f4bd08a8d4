#!/usr/bin/env python3
"""pprobe record against burner (fixtures/burner), at -O2 without frame
pointers and at -O0 with them.

Expected, with both readers:
  - hot_a's share of the CPU ns of hot_a + hot_b is 0.75 +- 0.08
    (the fixture gives hot_a 3 times hot_b's work);
  - >= 95% of samples have the stack [hot_a|hot_b;]level_two;level_one;
    run_loop;main, beyond main at most libc's start-up frames;
  - no filler function anywhere (an unwinder or symbolizer slipped);
  - the -top table on stderr names hot_a.
And -seconds=2, --seconds 2, --seconds=2 are accepted and honoured.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SECONDS = 3
HOT_A_SHARE = 0.75
HOT_A_TOLERANCE = 0.08
CHAIN_SHARE = 0.95
# 3 s at the default 100 Hz is ~300 samples; fewer than half of that and the
# share's tolerance would be within chance (and pprobe lost samples).
MIN_SAMPLES = 150

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
    tag = "%s [%s]" % (what, prof.reader)
    total = prof.count()
    # The perf sampler samples every 10 ms of the target's CPU time: on a
    # busy host the fixture gets less than a CPU, and the floor is half of
    # what its CPU time (over pprobe's whole run) allows.
    floor = min(MIN_SAMPLES, int(cpu_ns / 1e7 / 2))
    if not ctx.check(total >= floor, "%s: expected >= %d samples (%d s at 100 Hz, the fixture "
                     "had %.2f s of CPU), got %d" % (tag, floor, SECONDS, cpu_ns / 1e9, total)):
        return

    leaf_ns = {leaf: prof.cpu_ns(prof.select(lambda s, l=leaf: s.frames and s.frames[0].name == l))
               for leaf in LEAVES}
    hot = leaf_ns["hot_a"] + leaf_ns["hot_b"]
    share = leaf_ns["hot_a"] / hot if hot else 0.0
    ctx.check(abs(share - HOT_A_SHARE) <= HOT_A_TOLERANCE,
              "%s: expected hot_a's share of hot_a+hot_b CPU ns %.2f +- %.2f, got %.3f "
              "(hot_a %d ns, hot_b %d ns); heaviest stacks:\n%s"
              % (tag, HOT_A_SHARE, HOT_A_TOLERANCE, share, leaf_ns["hot_a"], leaf_ns["hot_b"],
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
        what = "%s: pprobe -p PID -seconds %d -o F" % (name, SECONDS)
        result, out = ctx.record(fixture, SECONDS, what=what)
        ctx.check("hot_a" in result.stderr,
                  "%s: expected the -top table on stderr to name hot_a, stderr:\n%s"
                  % (what, result.stderr))
        profiles = ctx.decode(out, what)
        for prof in profiles:
            check_profile(ctx, prof, what, ctx.last_cpu_ns)
        check_duration(ctx, result, profiles, SECONDS, what)
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
