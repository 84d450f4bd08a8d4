#!/usr/bin/env python3
"""Twenty dumps in a row of dump_waits (fixtures/dump/waits), back to back.

Every stop pprobe makes interrupts the blocked calls of the target; the
kernel restarts them (read, futex, nanosleep through restart_syscall) or,
for epoll_wait, pprobe must not stop the thread at all, or undo the EINTR.
A dump that follows another finds the threads in the restarted calls.

Expected:
  - each dump exits 0, and right after it no task is stopped and TracerPid
    is 0 in every task;
  - each dump (JSON) says what the first one says: every thread once with
    its state, call (the sleeper in nanosleep or clock_nanosleep, whatever
    the previous stop did to it), lock wait and stack, and the deadlock;
  - after the twenty: the fixture's EINTR counters (and stray signals, and
    other wake-ups) are all 0, and it makes progress.
Failures of one kind are reported once, with the dumps they occurred in.
"""

import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import dumpharness as dh  # noqa: E402

DUMPS = 20


class Collect:
    """Stands in for the Context in the per-dump checks: keeps failures."""

    def __init__(self):
        self.failures = []

    def report(self, message):
        self.failures.append(message)

    def check(self, ok, message):
        if not ok:
            self.report(message)
        return ok

    def check_eq(self, what, expected, actual):
        return self.check(expected == actual,
                          "%s: expected %r, got %r" % (what, expected, actual))


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("dump_waits")
    dh.wait_status(ctx, fixture, "dump_waits start")
    failures = collections.OrderedDict()   # message without the dump number -> [dump numbers]
    for i in range(1, DUMPS + 1):
        what = "dump %d of %d" % (i, DUMPS)
        result, doc = dh.dump_json(ctx, fixture, what)
        stopped = {t: s for t, s in harness.task_states(fixture.pid).items() if s in "tT"}
        traced = {t: p for t, p in harness.tracer_pids(fixture.pid).items() if p}
        ctx.check(not stopped and not traced,
                  "%s: right after pprobe exited, expected no task stopped and TracerPid 0, got "
                  "stopped {tid: state} %s, traced {tid: TracerPid} %s" % (what, stopped, traced))
        collect = Collect()
        dh.check_waits_json(collect, fixture, doc, "dump N")
        for message in collect.failures:
            failures.setdefault(message, []).append(i)
    for message, dumps in failures.items():
        ctx.report("%s (in dump%s %s of %d)" % (message, "s" if len(dumps) > 1 else "",
                                                 ",".join(map(str, dumps)), DUMPS))
    dh.check_after_dump(ctx, fixture, "after %d dumps" % DUMPS, dh.WAITS_COUNTERS,
                        "worker_cycles")


if __name__ == "__main__":
    harness.run(main)
