#!/usr/bin/env python3
"""Very large targets within bounded memory and time (safety: resources).

safety_many (fixtures/safety/many/):

  - THREADS threads with 16 KiB stacks, all blocked on a condition
    variable, and one "beat" thread on CPU: `pprobe dump`, `pprobe -mode
    wall -hz 5 -seconds 2` (5 with ASan) and `pprobe -seconds 2` (CPU mode) each exit 0
    within RUN_TIMEOUT, with a peak RSS (wait4's ru_maxrss) under
    MAX_RSS_MIB (MAX_RSS_MIB_SANITIZED when pprobe is built with
    AddressSanitizer, whose shadow memory and quarantine count in the RSS
    too); the dump names every thread, the wall profile has samples
    of nearly every thread (WALL_THREAD_SHARE); the target is healthy.
  - MAPS extra mappings (anonymous pages alternating PROT_READ/PROT_NONE,
    so none merge; fewer if vm.max_map_count does not allow that many, and
    the test says so): `pprobe -hz 1000 -seconds 2`, `pprobe -mode wall
    -hz 100 -seconds 1` and `pprobe dump` likewise.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

THREADS = 10000
MAPS = 100000
MAX_RSS_MIB = 1024
MAX_RSS_MIB_SANITIZED = 3072
RUN_TIMEOUT = 90
WALL_SECONDS = 2
WALL_SECONDS_SANITIZED = 5
WALL_THREAD_SHARE = 0.9
# Mappings left for everything else a process maps (libraries, stacks,
# heap) under vm.max_map_count.
MAP_MARGIN = 2000
READY_TIMEOUT = 90


def sanitized(ctx):
    """True if the pprobe binary is built with AddressSanitizer."""
    with open(ctx.pprobe, "rb") as f:
        return b"__asan_init" in f.read()


def measured(ctx, fixture, args, what, timeout=RUN_TIMEOUT):
    """Runs pprobe args, checks exit 0, time and peak RSS; returns the Result."""
    bound = MAX_RSS_MIB_SANITIZED if sanitized(ctx) else MAX_RSS_MIB
    m = sh.Measured(ctx, [ctx.pprobe] + args)
    result = m.wait(timeout)
    rss_mib = max(m.maxrss_kib or 0, m.peak_hwm_kib) / 1024.0
    ctx.note("%s: exit %s in %.1f s, peak RSS %.0f MiB (bound %d MiB)"
             % (what, result.rc, result.elapsed, rss_mib, bound))
    ctx.expect_run(result, 0, what)
    ctx.check(rss_mib <= bound, "%s: expected a peak RSS under %d MiB, got %.0f MiB"
              % (what, bound, rss_mib))
    return result


def case_threads(ctx):
    room = sh.room_for_threads()
    if room < THREADS + 1000:
        raise harness.Skip("not enough room for %d threads: room for %d (pid_max, threads-max "
                           "and the processes running)" % (THREADS, room))
    fixture = sh.start_many(ctx, ["--threads", str(THREADS)], READY_TIMEOUT)
    ctx.note("%d threads with %s-byte stacks; %s mappings"
             % (THREADS, fixture.truth.get("stack_size"), fixture.truth.get("map_count")))
    nthreads = len(harness.task_ids(fixture.pid))

    what = "pprobe dump of %d threads" % nthreads
    out = ctx.tmp_path("many.dump.txt")
    measured(ctx, fixture, ["dump", "-p", str(fixture.pid), "-o", out], what)
    with open(out, errors="replace") as f:
        header = f.readline()
    ctx.note("%s: %s" % (what, header.strip()))
    m = re.search(r"(\d+) threads?", header)
    ctx.check(m and int(m.group(1)) == nthreads, "%s: expected the header to count %d threads, "
              "got %r" % (what, nthreads, header))
    ctx.check_target_healthy(fixture, what)

    # A tick may spend one period stopping or reading threads, and the
    # next goes on where it ran out; under ASan a thread's first capture
    # is slow enough that 2 s do not reach 90% of 10,000.
    seconds = WALL_SECONDS_SANITIZED if sanitized(ctx) else WALL_SECONDS
    what = "pprobe -mode wall -hz 5 -seconds %d of %d threads" % (seconds, nthreads)
    out = ctx.new_output("many-wall")
    measured(ctx, fixture, ["-p", str(fixture.pid), "-mode", "wall", "-hz", "5", "-seconds",
                            str(seconds), "-o", out], what)
    ctx.check_target_healthy(fixture, what)
    prof = sh.decode(ctx, out, what)
    tids = {s.labels.get("tid") for s in prof.samples}
    ctx.check(len(tids) >= WALL_THREAD_SHARE * nthreads, "%s: expected samples of >= %.0f%% of "
              "the %d threads, got %d threads" % (what, WALL_THREAD_SHARE * 100, nthreads,
                                                 len(tids)))
    waiting = prof.select(lambda s: "many_wait" in s.names())
    ctx.check(waiting, "%s: expected samples in many_wait, got:\n%s" % (what, prof.top_stacks()))

    what = "pprobe -seconds 2 (CPU mode) of %d threads" % nthreads
    out = ctx.new_output("many-cpu")
    measured(ctx, fixture, ["-p", str(fixture.pid), "-seconds", "2", "-o", out], what)
    ctx.check_target_healthy(fixture, what)
    sh.decode(ctx, out, what)
    fixture.kill()


def case_maps(ctx):
    max_count = sh.read_int("/proc/sys/vm/max_map_count")
    count = MAPS
    if max_count is not None and max_count - MAP_MARGIN < count:
        count = max_count - MAP_MARGIN
        ctx.note("vm.max_map_count is %d: using %d mappings instead of %d (a process cannot "
                 "have more than max_map_count; raise it with sysctl vm.max_map_count=%d to "
                 "test %d)" % (max_count, count, MAPS, MAPS + MAP_MARGIN, MAPS))
    fixture = sh.start_many(ctx, ["--maps", str(count)], READY_TIMEOUT)
    nmaps = int(fixture.truth.get("map_count", 0))
    ctx.note("target has %d mappings" % nmaps)
    for args, label in ((["-hz", "1000", "-seconds", "2"], "pprobe -hz 1000 -seconds 2"),
                        (["-mode", "wall", "-hz", "100", "-seconds", "1"],
                         "pprobe -mode wall -hz 100 -seconds 1")):
        what = "%s of a process with %d mappings" % (label, nmaps)
        out = ctx.new_output("maps")
        measured(ctx, fixture, ["-p", str(fixture.pid), "-o", out] + args, what)
        ctx.check_target_healthy(fixture, what)
        prof = sh.decode(ctx, out, what)
        beat = prof.select(lambda s: "many_beat_work" in s.names())
        ctx.check(beat, "%s: expected samples in many_beat_work, got:\n%s"
                  % (what, prof.top_stacks()))
    what = "pprobe dump of a process with %d mappings" % nmaps
    measured(ctx, fixture, ["dump", "-p", str(fixture.pid), "-o", ctx.tmp_path("maps.dump.txt")],
             what)
    ctx.check_target_healthy(fixture, what)
    fixture.kill()


def main(ctx):
    ctx.require_pprobe()
    case_maps(ctx)
    case_threads(ctx)


if __name__ == "__main__":
    harness.run(main)
