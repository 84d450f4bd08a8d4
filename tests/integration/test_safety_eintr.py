#!/usr/bin/env python3
"""No EINTR and no short sleeps (safety guarantee 2).

safety_waits (fixtures/safety/waits/) has one thread per way of waiting --
nanosleep, poll, epoll_wait, pthread_cond_timedwait, sigtimedwait and recv
with 20 ms timeouts, a nanosleep of 500 ms ("longsleep"), a pipe read and
an accept that another thread feeds every 20 ms -- each timing its call
and counting EINTR returns, other unexpected results and sleeps shorter
than asked, with a SIGUSR2 handler installed without SA_RESTART (nobody
sends SIGUSR2).  For PHASE_SECONDS each, without pprobe (the baseline),
under `pprobe -mode wall -hz 1000`, under `pprobe -hz 1000` (CPU mode) and
under `pprobe dump` run again and again (at least MIN_DUMPS times; a
record lasts until it has sampled w-spin STOPS times too):

  - no call returned EINTR or anything but its normal result;
  - no timed call returned before its timeout (recv: its jiffy-based
    timeout may end up to one tick early, see waits.h);
  - no timed call overran its timeout by more than pprobe can explain:
    the largest overshoot of each kind is at most
        control + held + restart + SLACK_MS
    where control is the largest overshoot of any wait in a second
    safety_waits that pprobe never touches, measured over the same phase
    (what the machine's load, a stalled virtual CPU and timer granularity
    cost a wait, whatever they are: any kind, as a stall hits whichever
    call is under way); held is the longest time pprobe says it kept a thread
    stopped (record: `-v`'s longest stop and its release; dump: the
    largest "frozen_ns"), during which no thread can return; restart is
    one more timeout for the calls that pprobe has the kernel restart
    afresh after a stop (epoll_wait, sigtimedwait, recv: their -EINTR is
    rewritten to -ERESTARTNOHAND, README "No EINTR"), none for the calls
    the kernel resumes with the time left (nanosleep, poll, a condvar's
    absolute deadline).  A lost wake-up, or one of the latter restarted
    with a full fresh timeout, overshoots by more: by as much as the call
    had slept before the stop, hundreds of ms for longsleep, which every
    run stops at least once (a dump stops it, a record's release does).
    The phase ends once every timed call in flight has returned;  No fixed bound: on a
    busy machine pprobe itself waits for a CPU while a thread is stopped,
    and says how long;
  - the SIGUSR2 handler never ran;
  - every thread kept making progress, pprobe exited 0, and the target is
    healthy after each run.
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

PHASE_SECONDS = 2.5
MIN_DUMPS = 3
# A record phase lasts PHASE_SECONDS and until pprobe sampled w-spin STOPS
# times, at most MAX_WINDOW seconds.
STOPS = 20
MAX_WINDOW = 60
HZ = 1000
TIMEOUT_MS = {"longsleep": 500}
DEFAULT_TIMEOUT_MS = 20
# What one process's luck may differ from another's in the same phase.
SLACK_MS = 10
TIMED = ("nanosleep", "poll", "epoll", "cond", "sigwait", "recv", "longsleep")
# Restarted with their whole timeout after a stop of pprobe's.
RESTARTED_AFRESH = ("epoll", "sigwait", "recv")
FED = ("read", "accept")
KINDS = TIMED + FED
_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def duration_ms(text):
    """A duration as timeutil_format_duration writes it ("78.03ms", "0ns")."""
    m = re.fullmatch(r"([\d.]+)(ns|us|ms|s)", text)
    if not m:
        raise harness.Failure("cannot read the duration %r" % text)
    return float(m.group(1)) * _MS[m.group(2)]


def held_by_record(result, what):
    """From `pprobe -v`: the longest stop of a sample and the release."""
    for line in result.stderr_lines():
        m = re.search(r"longest stop (\S+), release (\S+)$", line)
        if m:
            return max(duration_ms(m.group(1)), duration_ms(m.group(2)))
    raise harness.Failure("%s: no 'longest stop ..., release ...' in pprobe -v's stderr:%s"
                          % (what, harness.indent(result.stderr)))


class Phase:
    """The target's and the control's counters from a start on."""

    def __init__(self, fixture, control, what):
        self.fixture, self.control, self.what = fixture, control, what
        self.before = sh.reset_maxima(fixture, what)
        sh.reset_maxima(control, what + " (control)")


def check_phase(ctx, phase, held_ms, what):
    """The checks of the docstring on the counters since the phase began;
    held_ms: the longest pprobe held a thread stopped in it (0 without)."""
    fixture, before = phase.fixture, phase.before
    # Every timed call under way when pprobe went has returned (and
    # counted its overshoot) once each kind has counted two more calls.
    for proc in (fixture, phase.control):
        now = sh.wait_status(proc, what)
        grown = harness.wait_for(
            lambda: all((sh.read_status(proc) or {}).get("%s_calls" % k, 0)
                        >= now["%s_calls" % k] + 2 for k in TIMED),
            sh.STATUS_TIMEOUT + 3 * max(TIMEOUT_MS.values()) / 1000.0)
        ctx.check(grown, "%s: expected two more calls of every timed kind in %s, got %s "
                  "(from %s); task states %s"
                  % (what, proc.name, sh.read_status(proc),
                     {k: now["%s_calls" % k] for k in TIMED}, harness.task_states(proc.pid)))
    after = sh.wait_status(fixture, what)
    control = sh.wait_status(phase.control, what + " (control)")
    d = {k: after[k] - before.get(k, 0) for k in after}
    overs = {k: after["%s_maxover_us" % k] / 1000.0 for k in TIMED}
    ctrl = {k: control["%s_maxover_us" % k] / 1000.0 for k in TIMED}
    timeout = {k: TIMEOUT_MS.get(k, DEFAULT_TIMEOUT_MS) for k in TIMED}
    ctrl_max = max(ctrl.values())
    allowed = {k: ctrl_max + held_ms + (timeout[k] if k in RESTARTED_AFRESH else 0) + SLACK_MS
               for k in TIMED}
    ctx.note("%s: calls %s; largest overshoot (ms) %s; control %s; pprobe held a thread "
             "%.1f ms at most"
             % (what, {k: d["%s_calls" % k] for k in KINDS},
                {k: round(v, 1) for k, v in overs.items()},
                {k: round(v, 1) for k, v in ctrl.items()}, held_ms))
    for k in KINDS:
        ctx.check(d["%s_calls" % k] > 0, "%s: expected %s calls to return during the phase, "
                  "got none; task states %s" % (what, k, harness.task_states(fixture.pid)))
        ctx.check(d["%s_eintr" % k] == 0, "%s: expected no EINTR from %s, got %d (of %d calls)"
                  % (what, k, d["%s_eintr" % k], d["%s_calls" % k]))
        ctx.check(d["%s_err" % k] == 0, "%s: expected every %s call to end normally (timeout "
                  "or data), %d did not" % (what, k, d["%s_err" % k]))
    for k in TIMED:
        ctx.check(d["%s_short" % k] == 0, "%s: expected no %s to end before its %d ms "
                  "timeout, %d did" % (what, k, timeout[k], d["%s_short" % k]))
        ctx.check(overs[k] <= allowed[k], "%s: expected every %s to end within +%.1f ms of "
                  "its %d ms timeout (the control's worst +%.1f, pprobe's hold %.1f%s, slack %d), "
                  "one took +%.1f ms (a wake-up lost, or a call restarted with its whole "
                  "timeout)" % (what, k, allowed[k], timeout[k], ctrl_max, held_ms,
                               ", a restart %d" % timeout[k] if k in RESTARTED_AFRESH else "",
                               SLACK_MS, overs[k]))
    ctx.check(d["sigusr2"] == 0, "%s: expected the SIGUSR2 handler never to run, it ran %d "
              "times" % (what, d["sigusr2"]))
    ctx.check(d["feed_err"] == 0 and d["dial_err"] == 0,
              "%s: the feeding threads failed: write errors %d, connect errors %d"
              % (what, d["feed_err"], d["dial_err"]))
    return after


def run_record(ctx, fixture, control, mode):
    what = "pprobe -mode %s -hz %d" % (mode, HZ)
    phase = Phase(fixture, control, what)
    out = ctx.new_output("eintr-" + mode)
    # PHASE_SECONDS, and longer until w-spin was sampled STOPS times: the
    # first tick loads debug info, for seconds on a busy machine.
    result = sh.record_until_sampled(ctx, fixture, "w-spin",
                                     ["-hz", str(HZ), "-mode", mode, "-sampler", "ptrace",
                                      "-v", "-o", out],
                                     STOPS, PHASE_SECONDS, MAX_WINDOW, what)
    # A failed run says nothing of its holds: the other checks still run.
    ok = not result.timed_out and result.rc == 0
    check_phase(ctx, phase, held_by_record(result, what) if ok else float("inf"), what)
    ctx.expect_run(result, 0, what)
    ctx.expect_saved(result, out, what)
    ctx.check_target_healthy(fixture, what)
    prof = sh.decode(ctx, out, what)
    ctx.check(prof.count() > 0, "%s: expected samples in %s" % (what, out))


def run_dumps(ctx, fixture, control):
    what = "pprobe dump again and again"
    phase = Phase(fixture, control, what)
    deadline = time.monotonic() + PHASE_SECONDS
    dumps = 0
    frozen_ms = 0.0
    while time.monotonic() < deadline or dumps < MIN_DUMPS:
        res = ctx.run_pprobe(["dump", "-p", str(fixture.pid), "-format", "json"], 60)
        dumps += 1
        if res.timed_out or res.rc != 0:
            ctx.report("%s: dump %d failed:\n  %s" % (what, dumps, res.describe()))
            break
        try:
            frozen_ms = max(frozen_ms, json.loads(res.stdout)["frozen_ns"] / 1e6)
        except (ValueError, KeyError, TypeError) as e:
            raise harness.Failure("%s: dump %d: no frozen_ns in its JSON (%s):%s"
                                  % (what, dumps, e, harness.indent(res.stdout[:2000])))
    check_phase(ctx, phase, frozen_ms, "%s (%d dumps)" % (what, dumps))
    ctx.check_target_healthy(fixture, what)


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("safety_waits")
    # The control: the same waits in a process pprobe never touches.
    control = ctx.start_fixture("safety_waits")
    first = sh.wait_status(fixture, "start")
    if first.get("rt_failed"):
        ctx.note("note: %d waiting threads could not get SCHED_FIFO; overshoots include "
                 "waiting for a CPU" % first["rt_failed"])
    what = "baseline without pprobe"
    phase = Phase(fixture, control, what)
    start = phase.before["nanosleep_calls"]
    # The baseline lasts as long as a phase: as many 20 ms sleeps.
    harness.wait_for(lambda: (sh.read_status(fixture) or {}).get("nanosleep_calls", 0)
                     >= start + int(PHASE_SECONDS / 0.02), PHASE_SECONDS + 10)
    check_phase(ctx, phase, 0.0, what)
    run_record(ctx, fixture, control, "wall")
    run_record(ctx, fixture, control, "cpu")
    run_dumps(ctx, fixture, control)


if __name__ == "__main__":
    harness.run(main)
