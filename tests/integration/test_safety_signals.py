#!/usr/bin/env python3
"""Signals pass through pprobe unchanged (safety guarantee 1).

safety_signals (fixtures/safety/signals/) counts in a shared page every
signal it receives; safety_sigsend queues it real-time signals at a steady
RATE a second, each with a sequence number, and SIGUSR1s one at a time.
The fixture also forks and reaps children one at a time (SIGCHLD each) and
has a setitimer timer firing SIGALRM every 10 ms.  Three phases, each while
the sender runs for PHASE_SECONDS:

  - pprobe -hz 1000 (CPU mode), - pprobe -mode wall -hz 1000, - pprobe
    dump again and again;

after each, once the sender is done:
  - real-time signals: received == sent, every sequence number exactly
    once (the bitmap), none with a siginfo other than the sender's
    (si_code SI_QUEUE, si_pid), so none lost, doubled or rewritten;
  - SIGUSR1: received == sent, none lost (the sender waits for each);
  - SIGCHLD: one for every child reaped (reaped <= received <= reaped+1),
    none waited for in vain, every child's exit status right;
  - SIGALRM: at most ALARM_SLACK + ALARM_SLACK_SHARE of the timer's
    expirations so far missing.  Not exact: an ITIMER_REAL expiration
    merges with a SIGALRM still pending, and while the process is traced a
    SIGALRM waits in a signal-delivery-stop until pprobe passes it on, so
    whenever pprobe takes longer than the 10 ms interval to do that (busy
    unwinding, or waiting for a CPU on a busy machine) the next one merges.
    Without pprobe none merges (the fixture's SIGALRM thread runs at
    real-time priority).  A pprobe that dropped signals would lose nearly
    all of them, and one that lost some in a race would show in the exact
    counts above, which go through the same path.  How many merged and the
    longest gap between two SIGALRMs are printed for every phase;
  - pprobe exited 0 each time; the profiles decode and have samples, and
    the spinner (on CPU throughout) at least 30% of what its CPU time (CPU
    mode) or the window (wall mode) is worth at HZ: a stop that never
    comes stalls the sampler and the rate collapses;
  - the target is healthy (not stopped, TracerPid 0, making progress).
"""

import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

PHASE_SECONDS = 3
RATE = 1000
HZ = 1000
# Once the sender is done, how long the last signals get to be handled.
DRAIN_TIMEOUT = 5
# SIGALRM: expirations so far minus received may be this many plus this
# share of them (see the docstring).
ALARM_SLACK = 3
ALARM_SLACK_SHARE = 0.2

# struct sigshm (fixtures/safety/signals/signals.h): name -> (offset, format)
SIGSHM_FIELDS = {
    "magic": (0, "<Q"), "sender_pid": (8, "<q"), "rt_sent": (16, "<Q"),
    "rt_received": (24, "<Q"), "rt_dup": (32, "<Q"), "rt_bad_info": (40, "<Q"),
    "usr1_sent": (48, "<Q"), "usr1_received": (56, "<Q"), "usr1_bad_info": (64, "<Q"),
    "alarm_received": (72, "<Q"), "alarm_armed_ns": (80, "<q"),
    "alarm_interval_ns": (88, "<q"), "chld_received": (96, "<Q"), "forked": (104, "<Q"),
    "reaped": (112, "<Q"), "child_bad": (120, "<Q"), "chld_missed": (128, "<Q"),
    "spin_progress": (136, "<Q"), "usr1_lost": (144, "<Q"), "send_failed": (152, "<Q"),
    "sleeper_not_rt": (160, "<Q"), "alarm_max_gap_ns": (168, "<q"),
}
SIGSHM_MAGIC = 0x31304d4853474953
BITMAP_OFFSET = 512
BITMAP_BITS = 1 << 20


def read_shm(path):
    """The counter page as ({field: int}, bitmap as one int, monotonic ns read
    at); the fields also hold the time as "_now"."""
    # The counters were read at some instant between t0 and now: on a busy
    # machine this process may wait for a CPU in between, for longer than
    # the timer's interval.
    t0 = time.monotonic_ns()
    with open(path, "rb") as f:
        data = f.read()
    now = time.monotonic_ns()
    if len(data) < BITMAP_OFFSET + BITMAP_BITS // 8:
        raise harness.Failure("%s: %d bytes, expected a whole counter page" % (path, len(data)))
    fields = {k: struct.unpack_from(fmt, data, off)[0] for k, (off, fmt) in SIGSHM_FIELDS.items()}
    if fields["magic"] != SIGSHM_MAGIC:
        raise harness.Failure("%s: bad magic %#x" % (path, fields["magic"]))
    bitmap = int.from_bytes(data[BITMAP_OFFSET:BITMAP_OFFSET + BITMAP_BITS // 8], "little")
    fields["_now"] = now
    fields["_t0"] = t0
    return fields, bitmap, now


def start_sender(ctx, fixture):
    sender = os.path.join(ctx.fixtures_dir, "safety_sigsend")
    return ctx.start_command([sender, "--shm", fixture.truth["shm"], "--pid", str(fixture.pid),
                              "--seconds", str(PHASE_SECONDS), "--rate", str(RATE)])


def drained(path):
    f, _, _ = read_shm(path)
    return f["rt_received"] >= f["rt_sent"] and f["usr1_received"] >= f["usr1_sent"]


def check_signals(ctx, fixture, before, what, traffic=True):
    """Every check of the docstring on the counter page, after a phase
    (traffic: the sender ran and children were forked since before)."""
    path = fixture.truth["shm"]
    harness.wait_for(lambda: drained(path), DRAIN_TIMEOUT)
    f, bitmap, now = read_shm(path)
    sent_rt = f["rt_sent"] - before["rt_sent"]
    got_rt = f["rt_received"] - before["rt_received"]
    ctx.note("%s: sent %d real-time signals (received %d), %d SIGUSR1 (received %d); "
             "%d children reaped, %d SIGCHLD; %d SIGALRM"
             % (what, sent_rt, got_rt, f["usr1_sent"] - before["usr1_sent"],
                f["usr1_received"] - before["usr1_received"], f["reaped"] - before["reaped"],
                f["chld_received"] - before["chld_received"],
                f["alarm_received"] - before["alarm_received"]))
    ctx.check(not traffic or sent_rt >= RATE * PHASE_SECONDS // 2,
              "%s: expected the sender to queue about %d real-time signals, it queued %d "
              "(send_failed %d)" % (what, RATE * PHASE_SECONDS, sent_rt, f["send_failed"]))
    ctx.check(f["send_failed"] == 0, "%s: expected every sigqueue/kill to succeed, %d failed"
              % (what, f["send_failed"]))
    ctx.check_eq("%s: real-time signals received in total (= sent)" % what,
                 f["rt_sent"], f["rt_received"])
    ctx.check_eq("%s: real-time signals received twice" % what, 0, f["rt_dup"])
    ctx.check_eq("%s: real-time signals with another siginfo than sent (si_code, si_pid, "
                 "value)" % what, 0, f["rt_bad_info"])
    want_bits = (1 << f["rt_sent"]) - 1
    if bitmap != want_bits:
        missing = [i for i in range(f["rt_sent"]) if not (bitmap >> i) & 1]
        extra = [i for i in range(f["rt_sent"], BITMAP_BITS) if (bitmap >> i) & 1]
        ctx.report("%s: expected every sequence number 0..%d received once; missing %d %s, "
                   "never sent but received %d %s"
                   % (what, f["rt_sent"] - 1, len(missing), missing[:20], len(extra),
                      extra[:20]))
    ctx.check_eq("%s: SIGUSR1 received in total (= sent)" % what, f["usr1_sent"],
                 f["usr1_received"])
    ctx.check_eq("%s: SIGUSR1 the sender waited 2 s for in vain" % what, 0, f["usr1_lost"])
    ctx.check_eq("%s: SIGUSR1 with another siginfo than sent" % what, 0, f["usr1_bad_info"])
    ctx.check(not traffic or f["reaped"] > before["reaped"], "%s: expected the fixture to fork and reap "
              "children during the phase, reaped %d -> %d"
              % (what, before["reaped"], f["reaped"]))
    ctx.check(0 <= f["chld_received"] - f["reaped"] <= 1,
              "%s: expected one SIGCHLD per child reaped (the last may be in flight): %d "
              "reaped, %d SIGCHLD received" % (what, f["reaped"], f["chld_received"]))
    ctx.check_eq("%s: children whose SIGCHLD did not come within 1 s" % what, 0,
                 f["chld_missed"])
    ctx.check_eq("%s: children with a wrong exit status" % what, 0, f["child_bad"])
    # Expirations and SIGALRMs during the phase: a signal may be in flight
    # at either end, hence +-2.
    # Each page was read between its _t0 and _now: the expirations between
    # the two reads are bracketed by the shortest and longest interval.
    expired = (f["_t0"] - before["_now"]) // f["alarm_interval_ns"]
    expired_max = (now - before["_t0"]) // f["alarm_interval_ns"]
    received = f["alarm_received"] - before["alarm_received"]
    slack = ALARM_SLACK + int(ALARM_SLACK_SHARE * expired)
    ctx.note("%s: SIGALRM: %d timer expirations, %d received (%d merged); longest gap between "
             "two %.1f ms (interval %.0f ms)%s"
             % (what, expired, received, expired - received, f["alarm_max_gap_ns"] / 1e6,
                f["alarm_interval_ns"] / 1e6,
                "; the SIGALRM thread could not get real-time priority"
                if f["sleeper_not_rt"] else ""))
    ctx.check(expired - slack <= received <= expired_max + 2,
              "%s: expected about %d..%d SIGALRM (the timer's expirations, -%d/+2), received %d"
              % (what, expired, expired_max, slack, received))
    return f


def reset_alarm_gap(fixture):
    """Zeroes the fixture's longest-SIGALRM-gap so it is measured per phase."""
    off = SIGSHM_FIELDS["alarm_max_gap_ns"][0]
    fd = os.open(fixture.truth["shm"], os.O_WRONLY)
    try:
        os.pwrite(fd, struct.pack("<q", 0), off)
    finally:
        os.close(fd)


def check_profile(ctx, out, what):
    prof = sh.decode(ctx, out, what)
    ctx.check(prof.count() > 0, "%s: expected samples in %s, got none" % (what, out))
    return prof


def phase_record(ctx, fixture, mode):
    what = "pprobe -mode %s -hz %d while signals arrive" % (mode, HZ)
    reset_alarm_gap(fixture)
    before, _, _ = read_shm(fixture.truth["shm"])
    out = ctx.new_output("signals-" + mode)
    spinner = fixture.tid("spinner")
    sender = start_sender(ctx, fixture)
    bg = ctx.start_pprobe(["-p", str(fixture.pid), "-seconds", str(PHASE_SECONDS), "-hz",
                           str(HZ), "-mode", mode, "-o", out])
    # From the attach: pprobe loads symbols before it (README), unsampled.
    sh.wait_traced(ctx, fixture, bg, what)
    cpu_before = harness.task_cpu_ns(fixture.pid, spinner)
    sched_before = sh.sched_stat(fixture.pid, spinner)
    sent = sender.wait(PHASE_SECONDS + 30)
    result = bg.wait(PHASE_SECONDS + 60)
    spin_cpu = (harness.task_cpu_ns(fixture.pid, spinner) - cpu_before) / 1e9
    sched_after = sh.sched_stat(fixture.pid, spinner)
    ctx.check(sent.rc == 0, "%s: the sender failed:\n  %s" % (what, sent.describe()))
    ctx.expect_run(result, 0, what)
    ctx.expect_saved(result, out, what)
    surprises = sh.stderr_surprises(result)
    ctx.check(not surprises, "%s: unexpected lines on pprobe's stderr: %s" % (what, surprises))
    check_signals(ctx, fixture, before, what)
    ctx.check_target_healthy(fixture, what)
    prof = check_profile(ctx, out, what)
    if mode == "cpu":
        sh.go_check(ctx, out, what)
    ctx.note("%s: samples by thread %s" % (what, prof.count_by(sh.thread_of)))
    sh.check_sample_rate(ctx, prof, "spinner", spin_cpu if mode == "cpu" else PHASE_SECONDS,
                         HZ, what, window=PHASE_SECONDS,
                         sched=(sched_before, sched_after))


def phase_dumps(ctx, fixture):
    what = "pprobe dump again and again while signals arrive"
    reset_alarm_gap(fixture)
    before, _, _ = read_shm(fixture.truth["shm"])
    sender = start_sender(ctx, fixture)
    dumps = 0
    elapsed = 0.0
    while sender.alive():
        res = ctx.run_pprobe(["dump", "-p", str(fixture.pid), "-format", "json"], 60)
        dumps += 1
        elapsed += res.elapsed
        if res.timed_out or res.rc != 0 or not res.stdout.startswith("{"):
            ctx.report("%s: dump %d failed:\n  %s" % (what, dumps, res.describe()))
            break
    sent = sender.wait(30)
    ctx.check(sent.rc == 0, "%s: the sender failed:\n  %s" % (what, sent.describe()))
    ctx.note("%s: %d dumps while the sender ran" % (what, dumps))
    # Three, or as many as fit in the window at the mean time a dump took
    # (on a busy machine, a thread waits long for a CPU to take its stop).
    fit = int(PHASE_SECONDS / (elapsed / dumps)) if dumps and elapsed else 3
    ctx.check(dumps >= min(3, max(1, fit)), "%s: expected several dumps in %d s (3, or the %d "
              "that fit at the mean %.2f s a dump took), got %d"
              % (what, PHASE_SECONDS, fit, elapsed / dumps if dumps else 0, dumps))
    check_signals(ctx, fixture, before, what)
    ctx.check_target_healthy(fixture, what)


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("safety_signals")
    # The fixture's counters before pprobe: the page must already be right.
    # Without pprobe for PHASE_SECONDS first: the baseline.
    reset_alarm_gap(fixture)
    before, _, _ = read_shm(fixture.truth["shm"])
    harness.wait_for(lambda: read_shm(fixture.truth["shm"])[0]["alarm_received"]
                     >= before["alarm_received"] + PHASE_SECONDS * 100, PHASE_SECONDS + 5)
    check_signals(ctx, fixture, before, "without pprobe", traffic=False)
    phase_record(ctx, fixture, "cpu")
    phase_record(ctx, fixture, "wall")
    phase_dumps(ctx, fixture)


if __name__ == "__main__":
    harness.run(main)
