#!/usr/bin/env python3
"""CPU mode finds the running threads among thousands of sleepers (safety: resources).

safety_many --threads N --busy 2: N threads blocked on a condition
variable (10,000, or 5,000 if the machine has no room for that many), a
"beat" thread that naps 1 ms between rounds, and two threads "busy0" and
"busy1" always on CPU.

  - `pprobe -v -hz HZ -seconds SECONDS` (CPU mode) exits 0 and each busy
    thread has at least MIN_SHARE of the samples its CPU time allows: its
    on-CPU time during the run (from /proc, before and after) times HZ,
    at most the ticks pprobe took (its -v line).  Reading every sleeper's
    CPU time every tick made the ticks fall behind: 4 samples in 3 s at
    100 Hz.  The share is low: on a loaded machine a stop can take a
    whole period, and a tick then stops one of the three threads that run
    (beat, busy0, busy1), each in turn -- a third of the ticks each, or
    less (seen here: 29 and 12 of 53 ticks with the load average at 30);
  - `pprobe dump` exits 0 and counts every thread in its header;
  - the target is healthy after each.

No timing is asserted: a busy machine makes both slower, not wrong.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

THREADS = (10000, 5000)
HZ = 100
SECONDS = 3
MIN_SHARE = 0.15
RUN_TIMEOUT = 90
READY_TIMEOUT = 90
BUSY = ("busy0", "busy1")


def main(ctx):
    ctx.require_pprobe()
    room = sh.room_for_threads()
    fit = [n for n in THREADS if room >= n + 1000]
    if not fit:
        raise harness.Skip("no room for %d threads (about %d thread ids free)"
                           % (THREADS[-1], room))
    fixture = sh.start_many(ctx, ["--threads", str(fit[0]), "--busy", "2"],
                           READY_TIMEOUT)
    nthreads = len(harness.task_ids(fixture.pid))
    busy = {name: tid for tid, name in fixture.truth_threads.items() if name in BUSY}
    ctx.check_eq("busy threads in the truth", sorted(BUSY), sorted(busy))

    what = "pprobe -hz %d -seconds %d (CPU mode) of %d threads" % (HZ, SECONDS, nthreads)
    out = ctx.new_output("threads-cpu")
    before = {n: harness.task_cpu_ns(fixture.pid, t) for n, t in busy.items()}
    result = ctx.run_pprobe(["-v", "-p", str(fixture.pid), "-hz", str(HZ), "-seconds",
                             str(SECONDS), "-o", out], RUN_TIMEOUT)
    after = {n: harness.task_cpu_ns(fixture.pid, t) for n, t in busy.items()}
    ctx.expect_run(result, 0, what)
    ctx.check_target_healthy(fixture, what)
    m = re.search(r"; (\d+) ticks", result.stderr)
    if not m:
        raise harness.Failure("%s: no tick count in the -v line:%s"
                              % (what, harness.indent(result.stderr)))
    ticks = int(m.group(1))
    ctx.note("%s: %d ticks" % (what, ticks))
    prof = sh.decode(ctx, out, what)
    for name, tid in sorted(busy.items()):
        cpu_s = (after[name] - before[name]) / 1e9
        allowed = min(cpu_s * HZ, ticks)
        got = prof.count(prof.select(lambda s, tid=tid: s.labels.get("tid") == str(tid)))
        ctx.note("%s: %s (tid %d) used %.2f s of CPU during the run: %d samples, %.0f allowed"
                 % (what, name, tid, cpu_s, got, allowed))
        ctx.check(got >= MIN_SHARE * allowed, "%s: expected >= %.0f samples of %s (%.0f%% of "
                  "%.0f its CPU time allows), got %d"
                  % (what, MIN_SHARE * allowed, name, MIN_SHARE * 100, allowed, got))

    what = "pprobe dump of %d threads" % nthreads
    dump = ctx.tmp_path("threads.dump.txt")
    result = ctx.run_pprobe(["dump", "-p", str(fixture.pid), "-o", dump], RUN_TIMEOUT)
    ctx.expect_run(result, 0, what)
    ctx.note("%s: %.1f s" % (what, result.elapsed))
    with open(dump, errors="replace") as f:
        header = f.readline()
    m = re.search(r"(\d+) threads?", header)
    ctx.check(m and int(m.group(1)) == nthreads, "%s: expected the header to count %d threads, "
              "got %r" % (what, nthreads, header))
    ctx.check_target_healthy(fixture, what)
    fixture.kill()


if __name__ == "__main__":
    harness.run(main)
