#!/usr/bin/env python3
"""Job control passes through pprobe (safety guarantee 4).

The target is safety_waits (fixtures/safety/waits/): a thread on CPU, a
status thread that rewrites its status file every 5 ms, and threads in
timed waits.

  - Stopped throughout: the target is SIGSTOPped (every task in state T),
    then recorded in CPU mode, recorded in wall mode (-hz 1000 both) and
    dumped.  After each run every task is still in state T (a group-stop,
    not a leftover ptrace-stop 't'), TracerPid is 0, the status file was
    not rewritten and the process used almost no CPU (a thread pprobe had
    let run would burn CPU or write the file); the dump's header says the
    process was left stopped.  SIGCONT then gets it running and healthy.
  - SIGSTOP, then SIGCONT, during a record (CPU and wall mode): once the
    stop has settled (every task t/T and the status file unchanged for 50
    of its periods), SIGCONT; the record ends with exit 0 and the
    target running and healthy.
  - SIGCONT, then SIGSTOP, during a record (CPU and wall mode): the record
    ends with exit 0 and the target stopped as above; SIGCONT revives it.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

RECORD_SECONDS = 1.5
HZ = 1000
STOP_TIMEOUT = 10
# A stopped process may use a little CPU while pprobe stops and resumes
# its threads' ptrace-stops (in the kernel); a thread let run would use
# about all of a CPU.
STOPPED_CPU_SHARE = 0.2
# The status thread rewrites its file every 5 ms.  /proc shows 't' for a
# group-stop under a tracer and for any ptrace-stop alike (SIGCONT makes
# every seized thread report one), so "every task in t/T" alone does not
# mean the group-stop has reached every thread: it has once that state has
# held, with the status file unchanged, for 50 of its periods.
SETTLED = 0.25
CALL_KEYS = ["nanosleep_calls", "poll_calls", "epoll_calls", "cond_calls", "sigwait_calls",
             "recv_calls", "read_calls", "accept_calls", "spin_progress"]


def all_stopped(fixture):
    states = harness.task_states(fixture.pid)
    return bool(states) and all(s in "tT" for s in states.values())


def stop_and_wait(ctx, fixture, what):
    """SIGSTOP, then wait until the stop has settled (see SETTLED)."""
    since = {"seq": None, "t": 0.0}

    def settled():
        seq = (sh.read_status(fixture) or {}).get("seq")
        now = time.monotonic()
        if not all_stopped(fixture) or seq != since["seq"]:
            since["seq"], since["t"] = seq, now
            return False
        return now - since["t"] >= SETTLED

    os.kill(fixture.pid, signal.SIGSTOP)
    if not harness.wait_for(settled, STOP_TIMEOUT):
        raise harness.Failure("%s: the target did not stop within %d s of SIGSTOP; states %s, "
                              "status %s" % (what, STOP_TIMEOUT,
                                             harness.task_states(fixture.pid),
                                             sh.read_status(fixture)))


def check_left_stopped(ctx, fixture, seq, cpu_ns, seconds, what):
    """Every task in T, untraced; status file not rewritten since seq; CPU
    since cpu_ns small."""
    states = harness.task_states(fixture.pid)
    ctx.check(states and all(s == "T" for s in states.values()),
              "%s: expected every task stopped in a group-stop (T), got {tid: state} %s"
              % (what, states))
    traced = {t: p for t, p in harness.tracer_pids(fixture.pid).items() if p}
    ctx.check(not traced, "%s: expected TracerPid 0 everywhere, got %s" % (what, traced))
    now = sh.read_status(fixture)
    ctx.check(now["seq"] == seq, "%s: the stopped target's status thread ran: seq %d -> %d"
              % (what, seq, now["seq"]))
    used = harness.process_cpu_ns(fixture.pid) - cpu_ns
    ctx.check(used <= STOPPED_CPU_SHARE * seconds * 1e9,
              "%s: the stopped target used %.3f s of CPU in %.1f s (some thread ran)"
              % (what, used / 1e9, seconds))


def revive(ctx, fixture, what):
    os.kill(fixture.pid, signal.SIGCONT)
    ctx.check_target_healthy(fixture, what)
    sh.wait_counters_grow(ctx, fixture, CALL_KEYS, what)


def record_args(fixture, mode, out, seconds=RECORD_SECONDS):
    return ["-p", str(fixture.pid), "-seconds", str(seconds), "-hz", str(HZ), "-mode", mode,
            "-o", out]


def case_stopped_throughout(ctx, fixture):
    what = "SIGSTOPped target"
    stop_and_wait(ctx, fixture, what)
    for args, label in ((("cpu",), "record -mode cpu"), (("wall",), "record -mode wall"),
                        ((), "dump")):
        w = "%s through pprobe %s" % (what, label)
        seq = sh.read_status(fixture)["seq"]
        cpu = harness.process_cpu_ns(fixture.pid)
        if args:
            out = ctx.new_output("stopped-" + args[0])
            result = ctx.run_pprobe(record_args(fixture, args[0], out), RECORD_SECONDS + 60)
            ctx.expect_run(result, 0, w)
            ctx.expect_saved(result, out, w)
        else:
            result = ctx.run_pprobe(["dump", "-p", str(fixture.pid)], 60)
            ctx.expect_run(result, 0, w)
            header = result.stdout.splitlines()[0] if result.stdout else ""
            ctx.check("was left stopped" in header, "%s: expected the dump's header to say the "
                      "process was left stopped, got %r" % (w, header))
        check_left_stopped(ctx, fixture, seq, cpu, result.elapsed, w)
    revive(ctx, fixture, "%s, after SIGCONT" % what)


def case_stop_then_cont(ctx, fixture, mode):
    what = "SIGSTOP then SIGCONT during pprobe -mode %s" % mode
    out = ctx.new_output("stopcont-" + mode)
    bg = ctx.start_pprobe(record_args(fixture, mode, out))
    sh.wait_traced(ctx, fixture, bg, what)
    stop_and_wait(ctx, fixture, what)
    os.kill(fixture.pid, signal.SIGCONT)
    sh.wait_status(fixture, what)  # the status thread runs again
    result = bg.wait(RECORD_SECONDS + 60)
    ctx.expect_run(result, 0, what)
    ctx.expect_saved(result, out, what)
    ctx.check_target_healthy(fixture, what)
    sh.wait_counters_grow(ctx, fixture, CALL_KEYS, what)


def case_cont_then_stop(ctx, fixture, mode):
    what = "SIGCONT then SIGSTOP during pprobe -mode %s" % mode
    out = ctx.new_output("contstop-" + mode)
    bg = ctx.start_pprobe(record_args(fixture, mode, out))
    sh.wait_traced(ctx, fixture, bg, what)
    os.kill(fixture.pid, signal.SIGCONT)
    stop_and_wait(ctx, fixture, what)
    seq = sh.read_status(fixture)["seq"]
    cpu = harness.process_cpu_ns(fixture.pid)
    result = bg.wait(RECORD_SECONDS + 60)
    ctx.expect_run(result, 0, what)
    ctx.expect_saved(result, out, what)
    check_left_stopped(ctx, fixture, seq, cpu, RECORD_SECONDS, what)
    revive(ctx, fixture, "%s, after SIGCONT" % what)


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("safety_waits")
    case_stopped_throughout(ctx, fixture)
    for mode in ("cpu", "wall"):
        case_stop_then_cont(ctx, fixture, mode)
        case_cont_then_stop(ctx, fixture, mode)


if __name__ == "__main__":
    harness.run(main)
