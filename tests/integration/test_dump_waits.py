#!/usr/bin/env python3
"""pprobe dump against dump_waits (fixtures/dump/waits): one thread for each
way of waiting, checked against the fixture's truth.

Expected:
  - text (no flags): header naming the process and its 9 threads; one
    DEADLOCK line naming dl-a and dl-b and the two mutexes with the right
    holders (truth dl_a_holds, dl_b_holds); every thread has one entry (the
    deadlocked two: one with the deadlock, one in the list, identical), no
    groups; brackets: dl-a/dl-b "futex wait on mutex ADDR held by thread
    TID", cv-wait "futex wait on condition variable ADDR" (truth cond),
    pipe-read "sleeping in read(fd N)", sleeper and rename-new "sleeping in
    [clock_]nanosleep", poller "sleeping in epoll_wait(epfd N)", main
    "waiting for thread TID "worker" to exit"; the renamed thread is shown
    with its new name;
  - JSON (-o FILE.json, format from the suffix): "Saved thread dump in
    FILE"; the schema; every thread exactly once with state sleeping,
    syscall, wait kind/addr/owner as above, poller partial and the others
    not; "deadlocks" is the one cycle of dl-a and dl-b;
  - stacks (both forms), reduced to the fixture's functions: X_wait;
    X_thread;start_thread for each waiting thread, main for main, no
    filler, the leaf in libc for blocked threads;
  - -group: dl-a and dl-b fold into one entry of 2 threads, every other
    thread its own entry;
  - after every dump: no task stopped, TracerPid 0 in every task, the
    worker makes progress, and no EINTR (or other wake-up) was seen by any
    waiting loop of the fixture (the status file's counters stay 0).
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import dumpharness as dh  # noqa: E402


def after(ctx, fixture, what):
    dh.check_after_dump(ctx, fixture, what, dh.WAITS_COUNTERS, "worker_cycles")


def case_text(ctx, fixture):
    what = "dump_waits: pprobe dump -p PID"
    result = dh.run_dump(ctx, fixture, [], what)
    dh.note_file(ctx, ctx.tmp_path("waits.txt"), result.stdout)
    after(ctx, fixture, what)
    dump = dh.parse_text(result.stdout, what)
    expected = "pprobe dump of process %d (dump_waits): %d threads, " \
        % (fixture.pid, len(fixture.truth_threads))
    ctx.check(dump.header.startswith(expected) and "stopped" not in dump.header,
              "%s: expected a header starting %r (and no word of a stop), got %r"
              % (what, expected, dump.header))
    dh.check_waits_text(ctx, fixture, dump, what)
    renamed = [e for e in dump.entries if fixture.tid("rename-new") in e.tids]
    ctx.check(all(e.name == "rename-new" for e in renamed) and
              fixture.truth["rename_old"] not in result.stdout,
              "%s: expected the renamed thread as \"rename-new\" and no trace of its first "
              "name %r, got %s" % (what, fixture.truth["rename_old"], renamed))


def case_json(ctx, fixture):
    out = ctx.tmp_path("waits.json")
    what = "dump_waits: pprobe dump -p PID -o waits.json"
    result = dh.run_dump(ctx, fixture, ["-o", out], what)
    after(ctx, fixture, what)
    line = "Saved thread dump in %s" % out
    ctx.check(line in [l.strip() for l in result.stderr.splitlines()],
              "%s: expected the line %r on stderr, got:%s"
              % (what, line, harness.indent(result.stderr)))
    ctx.check(result.stdout == "", "%s: expected nothing on stdout with -o, got:%s"
              % (what, harness.indent(result.stdout)))
    try:
        with open(out) as f:
            text = f.read()
    except OSError as e:
        raise harness.Failure("%s: no dump written at %s: %s" % (what, out, e))
    doc = dh.parse_json(text, what)
    ctx.check_eq("%s: comm" % what, "dump_waits", doc["comm"])
    dh.check_waits_json(ctx, fixture, doc, what)


def case_group(ctx, fixture):
    what = "dump_waits: pprobe dump -p PID -group"
    result = dh.run_dump(ctx, fixture, ["-group"], what)
    after(ctx, fixture, what)
    dump = dh.parse_text(result.stdout, what)
    a, b = fixture.tid("dl-a"), fixture.tid("dl-b")
    pair = [e for e in dump.entries if e.group and sorted(e.tids) == sorted([a, b])]
    ctx.check(len(pair) == 1 and re.search(r"^futex wait on mutex", pair[0].bracket),
              "%s: expected one group entry of dl-a %d and dl-b %d waiting on mutexes, got "
              "entries %s" % (what, a, b, dump.entries))
    for tid, name in sorted(fixture.truth_threads.items()):
        times = 2 if tid in (a, b) else 1   # dl-a, dl-b: with the deadlock, and the group
        got = dump.entries_of(tid)
        ctx.check(len(got) == times, "%s: expected thread %d %r in %d entr%s, got %s"
                  % (what, tid, name, times, "ies" if times > 1 else "y", got))
    others = [e for e in dump.entries if e.group and e is not (pair[0] if pair else None)]
    ctx.check(not others, "%s: expected no other group, got %s" % (what, others))


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("dump_waits")
    dh.wait_status(ctx, fixture, "dump_waits start")
    case_text(ctx, fixture)
    case_json(ctx, fixture)
    case_group(ctx, fixture)


if __name__ == "__main__":
    harness.run(main)
