#!/usr/bin/env python3
"""pprobe dump of a SIGSTOPped process (dump_waits, fixtures/dump/waits).

A job-control stop is the target's own state: pprobe must report it and
leave it, so the process is still stopped after the dump and runs on after
SIGCONT as if pprobe had never been there.

Expected:
  - with every task in state T: the text dump exits 0, its header says the
    process is stopped and was left stopped, the DEADLOCK line is there, and
    every thread's bracket says "stopped" (the thread's own state, not the
    "tracing stop" pprobe's own attach puts it in); the JSON dump has every
    thread once with state "stopped", its call, lock wait and stack, and
    the deadlock;
  - right after each dump every task is still in state T with TracerPid 0,
    and the process stays stopped (its worker writes no status) for
    STAY_STOPPED seconds;
  - after SIGCONT: no task stopped, progress, and the fixture's counters
    are 0 except eintr_poll: epoll_wait fails with EINTR after a
    SIGSTOP/SIGCONT by itself (signal(7), "Interruption of system calls and
    library functions by stop signals"), pprobe or not;
  - a dump after SIGCONT shows the threads sleeping again.
"""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import dumpharness as dh  # noqa: E402

# How long the test watches that the dumped process stays stopped.
STAY_STOPPED = 1.0
# The counters that must be 0 after the stop; eintr_poll is left out (see above).
COUNTERS = tuple(k for k in dh.WAITS_COUNTERS if k != "eintr_poll")


def check_still_stopped(ctx, fixture, what):
    states = harness.task_states(fixture.pid)
    ctx.check(states and all(s == "T" for s in states.values()),
              "%s: expected every task still stopped (T) right after the dump, got %s"
              % (what, states))
    traced = {t: p for t, p in harness.tracer_pids(fixture.pid).items() if p}
    ctx.check(not traced, "%s: expected TracerPid 0 in every task, got %s" % (what, traced))
    before = dh.read_status(fixture)
    moved = harness.wait_for(
        lambda: (not dh.all_tasks_in(fixture.pid, "T")) or dh.read_status(fixture) != before,
        STAY_STOPPED)
    ctx.check(not moved, "%s: expected the process to stay stopped, but within %.1f s: task "
              "states %s, status %s -> %s" % (what, STAY_STOPPED, harness.task_states(fixture.pid),
                                              before, dh.read_status(fixture)))


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("dump_waits")
    dh.wait_status(ctx, fixture, "dump_waits start")
    os.kill(fixture.pid, signal.SIGSTOP)
    dh.wait_all_tasks_in(ctx, fixture, "T", "after SIGSTOP")

    what = "stopped dump_waits: pprobe dump -p PID"
    result = dh.run_dump(ctx, fixture, [], what)
    check_still_stopped(ctx, fixture, what)
    dump = dh.parse_text(result.stdout, what)
    ctx.check("the process is stopped (SIGSTOP) and was left stopped" in dump.header,
              "%s: expected the header to say the process is stopped and was left stopped, "
              "got %r" % (what, dump.header))
    dh.check_waits_text(ctx, fixture, dump, what, state="stopped")

    what = "stopped dump_waits: pprobe dump -p PID -format json"
    result, doc = dh.dump_json(ctx, fixture, what)
    check_still_stopped(ctx, fixture, what)
    dh.check_waits_json(ctx, fixture, doc, what, state="stopped", check_partial=False)

    os.kill(fixture.pid, signal.SIGCONT)
    what = "after SIGCONT"
    if not harness.wait_for(lambda: not any(s in "tT" for s in
                                            harness.task_states(fixture.pid).values()),
                            dh.SIGNAL_TIMEOUT):
        raise harness.Failure("%s: expected no task stopped within %.0f s, got %s"
                              % (what, dh.SIGNAL_TIMEOUT, harness.task_states(fixture.pid)))
    status = dh.check_after_dump(ctx, fixture, what, COUNTERS, "worker_cycles")
    ctx.note("eintr_poll after SIGSTOP, 2 dumps, SIGCONT: %d (not checked: see signal(7))"
             % status["eintr_poll"])

    what = "dump_waits after SIGCONT: pprobe dump -p PID -format json"
    result, doc = dh.dump_json(ctx, fixture, what)
    dh.check_after_dump(ctx, fixture, what, COUNTERS, "worker_cycles")
    by_tid = dh.json_threads_by_tid(ctx, doc, fixture, what)
    for tid, name in sorted(fixture.truth_threads.items()):
        if name == "worker" or tid not in by_tid:
            continue
        ctx.check_eq("%s: thread %d %r state" % (what, tid, name), "sleeping",
                     by_tid[tid]["state"])


if __name__ == "__main__":
    harness.run(main)
