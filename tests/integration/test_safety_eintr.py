#!/usr/bin/env python3
"""No EINTR and no short sleeps (safety guarantee 2).

safety_waits (fixtures/safety/waits/) has one thread per way of waiting --
nanosleep, poll, epoll_wait, pthread_cond_timedwait, sigtimedwait and recv
with 20 ms timeouts, a pipe read and an accept that another thread feeds
every 20 ms -- each timing its call and counting EINTR returns, other
unexpected results and sleeps shorter than asked, with a SIGUSR2 handler
installed without SA_RESTART (nobody sends SIGUSR2).  For PHASE_SECONDS
each, without pprobe (the baseline), under `pprobe -mode wall -hz 1000`,
under `pprobe -hz 1000` (CPU mode) and under `pprobe dump` run again and
again:

  - no call returned EINTR or anything but its normal result;
  - no timed call returned before its timeout (recv: its jiffy-based
    timeout may end up to one tick early, see waits.h);
  - no timed call overran its timeout by more than MAX_OVERSHOOT_MS (the
    largest overshoot of each kind is printed for every phase);
  - the SIGUSR2 handler never ran;
  - every thread kept making progress, pprobe exited 0, and the target is
    healthy after each run.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

PHASE_SECONDS = 2.5
HZ = 1000
MAX_OVERSHOOT_MS = 50
TIMED = ("nanosleep", "poll", "epoll", "cond", "sigwait", "recv")
FED = ("read", "accept")
KINDS = TIMED + FED


def check_phase(ctx, fixture, before, what):
    """The checks of the docstring on the counters since before."""
    after = sh.wait_status(fixture, what)
    d = {k: after[k] - before.get(k, 0) for k in after}
    overs = {k: after["%s_maxover_us" % k] / 1000.0 for k in TIMED}
    ctx.note("%s: calls %s; largest overshoot (ms) %s"
             % (what, {k: d["%s_calls" % k] for k in KINDS},
                {k: round(v, 1) for k, v in overs.items()}))
    for k in KINDS:
        ctx.check(d["%s_calls" % k] > 0, "%s: expected %s calls to return during the phase, "
                  "got none; task states %s" % (what, k, harness.task_states(fixture.pid)))
        ctx.check(d["%s_eintr" % k] == 0, "%s: expected no EINTR from %s, got %d (of %d calls)"
                  % (what, k, d["%s_eintr" % k], d["%s_calls" % k]))
        ctx.check(d["%s_err" % k] == 0, "%s: expected every %s call to end normally (timeout "
                  "or data), %d did not" % (what, k, d["%s_err" % k]))
    for k in TIMED:
        ctx.check(d["%s_short" % k] == 0, "%s: expected no %s to end before its 20 ms "
                  "timeout, %d did" % (what, k, d["%s_short" % k]))
        ctx.check(overs[k] <= MAX_OVERSHOOT_MS, "%s: expected every %s to end within +%d ms "
                  "of its 20 ms timeout, one took +%.1f ms" % (what, k, MAX_OVERSHOOT_MS,
                                                              overs[k]))
    ctx.check(d["sigusr2"] == 0, "%s: expected the SIGUSR2 handler never to run, it ran %d "
              "times" % (what, d["sigusr2"]))
    ctx.check(d["feed_err"] == 0 and d["dial_err"] == 0,
              "%s: the feeding threads failed: write errors %d, connect errors %d"
              % (what, d["feed_err"], d["dial_err"]))
    return after


def run_record(ctx, fixture, mode):
    what = "pprobe -mode %s -hz %d" % (mode, HZ)
    before = sh.reset_maxima(fixture, what)
    out = ctx.new_output("eintr-" + mode)
    result = ctx.run_pprobe(["-p", str(fixture.pid), "-seconds", str(PHASE_SECONDS), "-hz",
                             str(HZ), "-mode", mode, "-o", out], PHASE_SECONDS + 60)
    check_phase(ctx, fixture, before, what)
    ctx.expect_run(result, 0, what)
    ctx.expect_saved(result, out, what)
    ctx.check_target_healthy(fixture, what)
    prof = sh.decode(ctx, out, what)
    ctx.check(prof.count() > 0, "%s: expected samples in %s" % (what, out))


def run_dumps(ctx, fixture):
    what = "pprobe dump again and again"
    before = sh.reset_maxima(fixture, what)
    deadline = time.monotonic() + PHASE_SECONDS
    dumps = 0
    while time.monotonic() < deadline:
        res = ctx.run_pprobe(["dump", "-p", str(fixture.pid), "-format", "json"], 60)
        dumps += 1
        if res.timed_out or res.rc != 0:
            ctx.report("%s: dump %d failed:\n  %s" % (what, dumps, res.describe()))
            break
    check_phase(ctx, fixture, before, "%s (%d dumps)" % (what, dumps))
    ctx.check_target_healthy(fixture, what)


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("safety_waits")
    first = sh.wait_status(fixture, "start")
    if first.get("rt_failed"):
        ctx.note("note: %d waiting threads could not get SCHED_FIFO; overshoots include "
                 "waiting for a CPU" % first["rt_failed"])
    what = "baseline without pprobe"
    before = sh.reset_maxima(fixture, what)
    start = before["nanosleep_calls"]
    # The baseline lasts as long as a phase: as many 20 ms sleeps.
    harness.wait_for(lambda: (sh.read_status(fixture) or {}).get("nanosleep_calls", 0)
                     >= start + int(PHASE_SECONDS / 0.02), PHASE_SECONDS + 10)
    check_phase(ctx, fixture, before, what)
    run_record(ctx, fixture, "wall")
    run_record(ctx, fixture, "cpu")
    run_dumps(ctx, fixture)


if __name__ == "__main__":
    harness.run(main)
