#!/usr/bin/env python3
"""pprobe dump and a wall-mode record of dump_rbp (fixtures/dump/rbp): two
threads blocked in epoll_wait, which pprobe captures without a stop (a
stop would make the call fail with EINTR), whose callers keep their frame
in rbp (CFI "CFA = rbp+16"): main -> o0_outer -> o0_wait (-O0) and
alloca-poll's alloca_thread -> alloca_wait (-O2 with an alloca).  Without
a stop pprobe has only their pc and sp; rbp is recovered from the copied
stack (issue #15 item 1).  Before that, both stacks ended "(stack ends: no
unwind info)" right after o0_wait / alloca_wait.

Expected:
  - JSON: both threads partial, their stacks reduced to the fixture's
    functions "o0_wait;o0_outer;main" and
    "alloca_wait;alloca_thread;start_thread", the leaf in libc, no filler;
  - text: neither thread's entry says "stack ends";
  - -mode wall for 1 s: every sample of the two threads has the whole
    chain (to main, to start_thread);
  - after each run: no task stopped, TracerPid 0, the ticker makes
    progress, and neither epoll_wait returned (EINTR or otherwise).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import dumpharness as dh  # noqa: E402

KNOWN = {"main", "start_thread", "o0_outer", "o0_wait", "alloca_thread", "alloca_wait",
         "ticker_thread", "ticker_cycle", "rbp_count_return"} | dh.DUMPFIX_FUNCTIONS
COUNTERS = ("eintr_main", "eintr_alloca", "eintr_ticker", "unexpected")
EXPECT = {
    "dump_rbp": "o0_wait;o0_outer;main",
    "alloca-poll": "alloca_wait;alloca_thread;start_thread",
}


def after(ctx, fixture, what):
    dh.check_after_dump(ctx, fixture, what, COUNTERS, "ticks")


def case_json(ctx, fixture):
    what = "dump_rbp: pprobe dump -p PID -format json"
    result, doc = dh.dump_json(ctx, fixture, what)
    dh.note_file(ctx, ctx.tmp_path("rbp.json"), result.stdout)
    after(ctx, fixture, what)
    by_tid = dh.json_threads_by_tid(ctx, doc, fixture, what)
    module = dh.fixture_module(fixture)
    for name, stack in sorted(EXPECT.items()):
        tid = fixture.tid(name)
        t = by_tid.get(tid)
        tag = "%s: thread %d %r" % (what, tid, name)
        if not ctx.check(t is not None, "%s: missing from the dump" % tag):
            continue
        ctx.check_eq("%s: syscall" % tag, True, t["syscall"] in dh.EPOLL_CALLS)
        ctx.check_eq("%s: partial (captured without a stop)" % tag, True, t["partial"])
        dh.check_stack(ctx, tag, dh.json_frames(t), KNOWN, stack, module)


def case_text(ctx, fixture):
    what = "dump_rbp: pprobe dump -p PID"
    result = dh.run_dump(ctx, fixture, [], what)
    dh.note_file(ctx, ctx.tmp_path("rbp.txt"), result.stdout)
    after(ctx, fixture, what)
    dump = dh.parse_text(result.stdout, what)
    for name in sorted(EXPECT):
        entries = dump.entries_of(fixture.tid(name))
        ends = [n for e in entries for n in e.notes if "stack ends" in n]
        ctx.check(len(entries) == 1 and not ends,
                  "%s: expected one entry for %r whose stack does not end early, got %s, "
                  "notes %s" % (what, name, entries, ends))
        if len(entries) == 1:
            dh.check_stack(ctx, "%s: %r" % (what, name), entries[0].frames, KNOWN,
                           EXPECT[name], dh.fixture_module(fixture))


def case_wall(ctx, fixture):
    what = "dump_rbp: pprobe -mode wall -seconds 1"
    _, out = ctx.record(fixture, 1, ["-hz", "50", "-mode", "wall"], what)
    after(ctx, fixture, what)
    for prof in ctx.decode(out, what, [("samples", "count"), ("wall", "nanoseconds")]):
        tag = "%s [%s]" % (what, prof.reader)
        for name, stack in sorted(EXPECT.items()):
            mine = [s for s in prof.samples if s.labels.get("thread") == name]
            bad = [s.stack() for s in mine
                   if dh.reduce_stack(s.names(), KNOWN) != stack]
            ctx.check(mine and not bad,
                      "%s: every sample of %r should reduce to %r; %d samples, bad: %s"
                      % (tag, name, stack, len(mine), bad[:3]))


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("dump_rbp")
    dh.wait_status(ctx, fixture, "dump_rbp start")
    case_json(ctx, fixture)
    case_text(ctx, fixture)
    case_wall(ctx, fixture)


if __name__ == "__main__":
    harness.run(main)
