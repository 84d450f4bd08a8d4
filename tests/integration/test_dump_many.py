#!/usr/bin/env python3
"""pprobe dump of a process with 1000 blocked threads (dump_many,
fixtures/dump/many).

Expected:
  - the text dump (no flags) finishes within DUMP_BOUND seconds (generous:
    no timing assertion beyond it) and, with more than 64 threads, groups
    them: the 1000 waiters are one entry "1000 threads "waiter": TIDS
    [futex wait on condition variable ADDR]" (ADDR the truth's cond) with
    the stack waiter_wait;waiter_thread;start_thread; every thread of the
    process is in exactly one entry, and no other;
  - the JSON dump lists each of the 1002 threads exactly once, the waiters
    sleeping in futex with wait kind condvar at the truth's address;
  - after each dump: no task stopped, TracerPid 0 in every task, the
    heartbeat keeps beating and saw no EINTR, no waiter woke up.
The heartbeat's largest gap between wake-ups and the dump's frozen_ns are
printed for the record (the benchmark's numbers), not checked.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import dumpharness as dh  # noqa: E402

THREADS = 1000
DUMP_BOUND = 30
COUNTERS = ("eintr", "spurious")
KNOWN = {"main", "start_thread", "waiter_thread", "waiter_wait", "heartbeat_thread",
         "heartbeat_loop", "many_started"} | dh.DUMPFIX_FUNCTIONS
WAITER_STACK = "waiter_wait;waiter_thread;start_thread"


def check_after(ctx, fixture, what):
    return dh.check_after_dump(ctx, fixture, what, COUNTERS, "beats")


def timed_dump(ctx, fixture, args, what):
    started = time.monotonic()
    result = dh.run_dump(ctx, fixture, args, what, timeout=DUMP_BOUND + 30)
    elapsed = time.monotonic() - started
    ctx.check(elapsed <= DUMP_BOUND, "%s: expected the dump of %d threads within %d s, took "
              "%.1f s" % (what, len(fixture.truth_threads), DUMP_BOUND, elapsed))
    ctx.note("%s: %.2f s" % (what, elapsed))
    return result


def case_text(ctx, fixture, waiters):
    what = "dump_many: pprobe dump -p PID"
    result = timed_dump(ctx, fixture, [], what)
    dh.note_file(ctx, ctx.tmp_path("many.txt"), result.stdout)
    check_after(ctx, fixture, what)
    dump = dh.parse_text(result.stdout, what)
    count = {}
    for e in dump.entries:
        for tid in e.tids:
            count[tid] = count.get(tid, 0) + 1
    truth = set(fixture.truth_threads)
    missing = sorted(truth - set(count))
    extra = sorted(set(count) - truth)
    twice = sorted(t for t, n in count.items() if n > 1)
    ctx.check(not missing and not extra and not twice,
              "%s: expected each of the %d threads in exactly one entry, got %d missing %s, "
              "%d not in the process %s, %d listed more than once %s"
              % (what, len(truth), len(missing), missing[:20], len(extra), extra[:20],
                 len(twice), twice[:20]))
    groups = [e for e in dump.entries if e.group]
    big = [e for e in groups if set(e.tids) == waiters]
    if not ctx.check(len(big) == 1, "%s: expected the %d waiters grouped in one entry (more "
                     "than 64 threads), got groups %s" % (what, len(waiters), groups)):
        return
    entry = big[0]
    ctx.check_eq("%s: the waiters' group name" % what, "waiter", entry.name)
    pattern = r"^futex wait on condition variable 0x%x$" % dh.addr(fixture.truth["cond"])
    ctx.check(re.search(pattern, entry.bracket) is not None,
              "%s: expected the waiters' bracket to match %r, got [%s]"
              % (what, pattern, entry.bracket))
    dh.check_stack(ctx, "%s: the waiters' stack" % what, entry.frames, KNOWN, WAITER_STACK,
                   dh.fixture_module(fixture))


def case_json(ctx, fixture, waiters):
    what = "dump_many: pprobe dump -p PID -format json"
    started = time.monotonic()
    result, doc = dh.dump_json(ctx, fixture, what)
    elapsed = time.monotonic() - started
    ctx.check(elapsed <= DUMP_BOUND, "%s: expected the dump within %d s, took %.1f s"
              % (what, DUMP_BOUND, elapsed))
    status = check_after(ctx, fixture, what)
    by_tid = dh.json_threads_by_tid(ctx, doc, fixture, what)
    cond = dh.addr(fixture.truth["cond"])
    bad = []
    for tid in sorted(waiters):
        t = by_tid.get(tid)
        if t is None:
            continue
        w = t["wait"] or {}
        if t["state"] != "sleeping" or t["syscall"] != "futex" or w.get("kind") != "condvar" \
                or dh.addr(w.get("addr", "0x0")) != cond or t["name"] != "waiter" \
                or dh.reduce_stack([f["function"] for f in t["frames"]], KNOWN) != WAITER_STACK:
            bad.append(t)
    ctx.check(not bad, "%s: expected every waiter sleeping in futex, wait condvar 0x%x, name "
              "waiter, stack %s; %d are not, e.g. %s"
              % (what, cond, WAITER_STACK, len(bad), [dict(b, frames=[f["function"] for f in
                                                                       b["frames"]])
                                                      for b in bad[:3]]))
    ctx.note("frozen_ns %d; heartbeat: largest gap since ready %.2f ms, in the last window "
             "%.2f ms (sleep %.2f ms)"
             % (doc["frozen_ns"], status["max_gap_ns"] / 1e6, status["window_max_gap_ns"] / 1e6,
                int(fixture.truth["sleep_ns"]) / 1e6))


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("dump_many", ["--threads", str(THREADS)])
    dh.wait_status(ctx, fixture, "dump_many start")
    waiters = {t for t, n in fixture.truth_threads.items() if n == "waiter"}
    if len(waiters) != THREADS or int(fixture.truth["threads"]) != THREADS:
        raise harness.Failure("dump_many truth lists %d waiters (threads %s), expected %d"
                              % (len(waiters), fixture.truth.get("threads"), THREADS))
    case_text(ctx, fixture, waiters)
    case_json(ctx, fixture, waiters)


if __name__ == "__main__":
    harness.run(main)
