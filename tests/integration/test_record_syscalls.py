#!/usr/bin/env python3
"""pprobe record against syscalls (fixtures/syscalls): a thread that splits
its CPU between user-mode work (user_spin) and small writes to a pipe
(pipe_part), and measures the split with its own CPU clock.

Expected, with both readers:
  - the working thread's samples have sys_round;main under user_spin or
    pipe_part (>= 90% of its CPU ns);
  - with -sampler perf, pipe_part's share of the CPU ns of the two parts
    is within 5 points of the fixture's own figure over the window, with
    at least MIN_SAMPLES samples of the two parts (fewer: the share is
    chance, the test fails saying so);
  - with -sampler ptrace, the same share is only reported: stops land at
    system-call exits (README, "Samplers"), and how far they move the split
    depends on the host.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SECONDS = 5
# A busy host gives the worker a fraction of a CPU: 250 Hz keeps the count
# of samples above MIN_SAMPLES there too.
HZ = 250
TOLERANCE = 0.05
MIN_SAMPLES = 150
STACK_SHARE = 0.90
PARTS = ("user_spin", "pipe_part")


def read_stats(path):
    stats = {}
    try:
        with open(path) as f:
            for line in f:
                k, v = line.split()
                stats[k] = int(v)
    except (OSError, ValueError):
        return None
    return stats if "user_ns" in stats and "pipe_ns" in stats else None


def part_of(sample):
    names = sample.names()
    for part in PARTS:
        if part in names:
            i = names.index(part)
            return part if names[i + 1:i + 3] == ["sys_round", "main"] else None
    return None


def main(ctx):
    ctx.require_pprobe()
    ctx.require_readers()
    stats_path = ctx.tmp_path("syscalls.stats")
    fixture = ctx.start_fixture("syscalls", ["--stats", stats_path])
    worker = str(fixture.pid)
    before = harness.wait_for(lambda: read_stats(stats_path), harness.READY_TIMEOUT)
    if not before:
        raise harness.Failure("syscalls: no stats file at %s" % stats_path)
    what = "syscalls: pprobe -p PID -seconds %d -hz 250 -o F (sampler %s)" % (
        SECONDS, ctx.sampler or "auto")
    result, out = ctx.record(fixture, SECONDS, extra=["-hz", str(HZ)], what=what)
    after = read_stats(stats_path)
    user = after["user_ns"] - before["user_ns"]
    pipe = after["pipe_ns"] - before["pipe_ns"]
    truth = pipe / float(user + pipe)
    for prof in ctx.decode(out, what):
        tag = "%s [%s]" % (what, prof.reader)
        mine = prof.select(lambda s: s.labels.get("tid") == worker)
        parts = {p: prof.select(lambda s, p=p: s in mine and part_of(s) == p) for p in PARTS}
        ns = {p: prof.cpu_ns(parts[p]) for p in PARTS}
        n = sum(prof.count(parts[p]) for p in PARTS)
        ctx.check(sum(ns.values()) >= STACK_SHARE * prof.cpu_ns(mine),
                  "%s: expected >= %.0f%% of the worker's CPU ns under %s;sys_round;main, "
                  "got %d of %d ns; heaviest stacks:\n%s"
                  % (tag, STACK_SHARE * 100, "|".join(PARTS), sum(ns.values()),
                     prof.cpu_ns(mine), prof.top_stacks(samples=mine)))
        if not ctx.check(n >= MIN_SAMPLES, "%s: expected >= %d samples of the two parts, got %d"
                         % (tag, MIN_SAMPLES, n)):
            continue
        share = ns["pipe_part"] / float(sum(ns.values()))
        ctx.note("%s: pipe_part share %.3f, the fixture's own %.3f (%d samples)"
                 % (tag, share, truth, n))
        if ctx.sampler == "perf":
            ctx.check(abs(share - truth) <= TOLERANCE,
                      "%s: expected pipe_part's share of the CPU ns within %.2f of the "
                      "fixture's %.3f, got %.3f; heaviest stacks:\n%s"
                      % (tag, TOLERANCE, truth, share, prof.top_stacks(samples=mine)))


if __name__ == "__main__":
    harness.run(main)
