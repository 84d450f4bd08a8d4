#!/usr/bin/env python3
"""pprobe record against cxx_inline (fixtures/cxx_inline): demangled C++
names, an inlined frame, file:line.

Expected, with both readers (names as c++filt demangles the symbols):
  - >= 95% of samples have the stack
        [geo::detail::mix_step...;]geo::Accumulator<double>::run(int);
        geo::drive(int)::{lambda(int)#1}::operator()(int) const;
        geo::drive(int);main
  - >= 50% of samples have the inlined geo::detail::mix_step as its own
    frame right above run (the fixture's hot loop is mostly mix_step's
    code); go tool pprof also shows both frames in one location;
  - those frames carry file:line: mix_step in accumulator.hpp within
    mix_step's lines, run in accumulator.cpp within run's lines (the
    fixture's truth file says which lines those are);
  - no filler function anywhere.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SECONDS = 3
RUN = "geo::Accumulator<double>::run(int)"
LAMBDA = "geo::drive(int)::{lambda(int)#1}::operator()(int) const"
DRIVE = "geo::drive(int)"
# The inlined helper, with or without its parameter list.
MIX_STEP = re.compile(r"geo::detail::mix_step(\(double, double\))?")
CHAIN_SHARE = 0.95
INLINED_SHARE = 0.50


def chain_ok(sample):
    names = sample.names()
    i = 1 if names and MIX_STEP.fullmatch(names[0]) else 0
    return names[i:i + 4] == [RUN, LAMBDA, DRIVE, "main"]


def inlined(sample):
    """True if the leaf is mix_step and the frame below it is run."""
    names = sample.names()
    return len(names) >= 2 and MIX_STEP.fullmatch(names[0]) is not None and names[1] == RUN


def within(frame, path, first, last):
    return (frame.file is not None and os.path.basename(frame.file) == os.path.basename(path)
            and frame.line is not None and first <= frame.line <= last)


def check_profile(ctx, fixture, prof, what):
    tag = "%s [%s]" % (what, prof.reader)
    t = fixture.truth
    total = prof.count()
    if not ctx.check(total > 0, "%s: expected samples, got none" % tag):
        return

    good, total = prof.share(chain_ok)
    ctx.check(good >= CHAIN_SHARE * total,
              "%s: expected >= %.0f%% of samples with stack [mix_step;]%s;%s;%s;main, got %d of "
              "%d:\n%s" % (tag, CHAIN_SHARE * 100, RUN, LAMBDA, DRIVE, good, total,
                           prof.top_stacks()))

    hits = prof.select(inlined)
    ctx.note("%s: %d samples, expected chain in %.1f%%, mix_step inlined above run in %.1f%%"
             % (tag, total, 100.0 * good / total, 100.0 * prof.count(hits) / total))
    ctx.check(prof.count(hits) >= INLINED_SHARE * total,
              "%s: expected >= %.0f%% of samples with the inlined frame "
              "geo::detail::mix_step right above %s, got %d of %d:\n%s"
              % (tag, INLINED_SHARE * 100, RUN, prof.count(hits), total, prof.top_stacks()))

    if prof.reader == "go tool pprof":
        split = [s for s in hits if s.frames[0].loc != s.frames[1].loc]
        ctx.check(not split, "%s: expected mix_step and run in one location (inlined), "
                  "got %d samples with them in locations %s"
                  % (tag, len(split), sorted({(s.frames[0].loc, s.frames[1].loc) for s in split})))
    # pprof_decode prints locations flattened; the order above is what it can show.

    bad_mix = [s.frames[0] for s in hits
               if not within(s.frames[0], t["mix_step_file"], int(t["mix_step_first_line"]),
                             int(t["mix_step_last_line"]))]
    ctx.check(not bad_mix, "%s: expected mix_step frames at %s:%s-%s, got %d otherwise, e.g. %s"
              % (tag, os.path.basename(t["mix_step_file"]), t["mix_step_first_line"],
                 t["mix_step_last_line"], len(bad_mix), bad_mix[:5]))
    bad_run = [s.frames[1] for s in hits
               if not within(s.frames[1], t["run_file"], int(t["run_first_line"]),
                             int(t["run_last_line"]))]
    ctx.check(not bad_run, "%s: expected run's frames (the call site of the inlined mix_step) "
              "at %s:%s-%s, got %d otherwise, e.g. %s"
              % (tag, os.path.basename(t["run_file"]), t["run_first_line"], t["run_last_line"],
                 len(bad_run), bad_run[:5]))

    fillers = prof.select(lambda s: any("filler" in n for n in s.names()))
    ctx.check(not fillers, "%s: expected no filler function in any stack, got:\n%s"
              % (tag, prof.top_stacks(samples=fillers)))


def main(ctx):
    ctx.require_pprobe()
    ctx.require_readers()
    fixture = ctx.start_fixture("cxx_inline")
    what = "cxx_inline: pprobe -p PID -seconds %d" % SECONDS
    result, out = ctx.record(fixture, SECONDS, what=what)
    ctx.check("geo::" in result.stderr,
              "%s: expected the -top table on stderr to show geo:: names, stderr:\n%s"
              % (what, result.stderr))
    for prof in ctx.decode(out, what):
        check_profile(ctx, fixture, prof, what)


if __name__ == "__main__":
    harness.run(main)
