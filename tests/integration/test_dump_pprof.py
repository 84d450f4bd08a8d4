#!/usr/bin/env python3
"""pprobe dump's pprof output (dump_waits, fixtures/dump/waits), read with
`go tool pprof` and the project's pprof_decode.  Skips without go.

Expected:
  - `-o FILE.pb.gz` picks the pprof format from the suffix and says "Saved
    thread dump in FILE"; `-format pprof -o FILE` (no suffix), the second
    dump, writes the same kind of file; both are gzip, and both are checked
    as below;
  - `go tool pprof -raw` reads it: sample type threads/count, one sample of
    value 1 per thread of the fixture, each labelled tid and thread (the
    truth's name, the renamed thread's new one), state (sleeping for the
    blocked threads), syscall (the call by name: futex, read,
    [clock_]nanosleep, epoll_wait, as wall profiles label it) and wait,
    only for a lock, as wall profiles use it: "mutex ADDR" for dl-a and
    dl-b (the mutex each waits for), "condition variable ADDR" for cv-wait,
    "join ..." for main, none for the others;
  - its first mapping is dump_waits itself (`go tool pprof -top` says
    "File: dump_waits"), and libc's is there too;
  - each sample's stack, reduced to the fixture's functions, is the
    thread's chain (X_wait;X_thread;start_thread, main), no filler;
  - pprof_decode reads the same samples with the same labels;
  - `go tool pprof -top` works and names the fixture's functions;
    `-tagfocus=thread=dl-a -top` shows dl_wait and not cv_wait;
  - after each dump the target is healthy and saw no EINTR.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import dumpharness as dh  # noqa: E402
from profiles import ProfileFormatError, parse_go_raw, parse_pprof_decode  # noqa: E402


def expected_wait(fixture, name):
    """A regex the "wait" label of thread name must match in full ("" for
    none)."""
    truth = fixture.truth
    if name in ("dl-a", "dl-b"):
        key = "dl_a_waits" if name == "dl-a" else "dl_b_waits"
        return r"mutex 0x%x" % dh.addr(truth[key])
    if name == "cv-wait":
        return r"condition variable 0x%x" % dh.addr(truth["cond"])
    if name == "dump_waits":
        return r"join 0x[0-9a-f]+"
    return ""


def check_profile(ctx, fixture, prof, what):
    tag = "%s [%s]" % (what, prof.reader)
    ctx.check_eq("%s: sample types" % tag, [("threads", "count")], prof.sample_types)
    by_tid = {}
    for s in prof.samples:
        by_tid.setdefault(s.labels.get("tid"), []).append(s)
    truth_tids = {str(t) for t in fixture.truth_threads}
    ctx.check(set(by_tid) == truth_tids and all(len(v) == 1 for v in by_tid.values()),
              "%s: expected one sample per thread %s, got {tid label: samples} %s"
              % (tag, sorted(truth_tids), {k: len(v) for k, v in by_tid.items()}))
    for tid, name in sorted(fixture.truth_threads.items()):
        samples = by_tid.get(str(tid))
        if not samples:
            continue
        s = samples[0]
        stag = "%s: thread %d %r" % (tag, tid, name)
        ctx.check_eq("%s: value" % stag, [1], s.values)
        ctx.check_eq("%s: label thread" % stag, name, s.labels.get("thread"))
        exp = dh.WAITS_EXPECT[name]
        if exp.blocked:
            ctx.check_eq("%s: label state" % stag, "sleeping", s.labels.get("state"))
            ctx.check(s.labels.get("syscall") in exp.calls,
                      "%s: expected label syscall %s, got %r (labels %s)"
                      % (stag, " or ".join(exp.calls), s.labels.get("syscall"), s.labels))
            pattern = expected_wait(fixture, name)
            ctx.check(re.fullmatch(pattern, s.labels.get("wait", "")) is not None,
                      "%s: expected label wait to match %r, got %r (labels %s)"
                      % (stag, pattern, s.labels.get("wait"), s.labels))
        else:
            ctx.check("state" in s.labels, "%s: expected a state label, got %s"
                      % (stag, s.labels))
        dh.check_stack(ctx, stag, [(f.name, None) for f in s.frames], dh.WAITS_KNOWN,
                       exp.stack, dh.fixture_module(fixture), leaf_outside=False)


def compare(ctx, a, b, what):
    agg_a, agg_b = a.aggregate(), b.aggregate()
    ctx.check(agg_a == agg_b, "%s: %s and %s disagree: only in %s %s; only in %s %s"
              % (what, a.reader, b.reader, a.reader, sorted(set(agg_a) - set(agg_b))[:5],
                 b.reader, sorted(set(agg_b) - set(agg_a))[:5]))


def decode(ctx, path, what):
    res = ctx.run_command([ctx.pprof_decode, "--lines", path], 60)
    if res.timed_out or res.rc != 0:
        raise harness.Failure("%s: pprof_decode cannot read the dump:\n  %s"
                              % (what, res.describe()))
    raw = ctx.go_pprof(["-raw", path], what).stdout
    try:
        return parse_pprof_decode(res.stdout, path), parse_go_raw(raw, path)
    except ProfileFormatError as e:
        raise harness.Failure("%s: %s" % (what, e))


def check_gzip(ctx, path, what):
    try:
        with open(path, "rb") as f:
            magic = f.read(2)
    except OSError as e:
        raise harness.Failure("%s: no dump written at %s: %s" % (what, path, e))
    ctx.check(magic == b"\x1f\x8b", "%s: expected a gzip file at %s, it starts %r"
              % (what, path, magic))


def main(ctx):
    ctx.require_pprobe()
    ctx.require_readers()
    fixture = ctx.start_fixture("dump_waits")
    dh.wait_status(ctx, fixture, "dump_waits start")

    out = ctx.tmp_path("waits.pb.gz")
    what = "dump_waits: pprobe dump -p PID -o waits.pb.gz"
    result = dh.run_dump(ctx, fixture, ["-o", out], what)
    dh.check_after_dump(ctx, fixture, what, dh.WAITS_COUNTERS, "worker_cycles")
    line = "Saved thread dump in %s" % out
    ctx.check(line in [l.strip() for l in result.stderr.splitlines()],
              "%s: expected the line %r on stderr, got:%s"
              % (what, line, harness.indent(result.stderr)))
    check_gzip(ctx, out, what)
    ours, go = decode(ctx, out, what)
    for prof in (go, ours):
        check_profile(ctx, fixture, prof, what)
    compare(ctx, ours, go, what)

    top = ctx.go_pprof(["-top", out], what + " (-top)").stdout
    for fn in ("dl_wait", "cv_wait", "pipe_wait", "sleep_wait", "poll_wait", "rename_wait"):
        ctx.check(re.search(r"\b%s\b" % fn, top) is not None,
                  "%s: expected `go tool pprof -top` to name %s, got:%s"
                  % (what, fn, harness.indent(top)))
    ctx.check(re.search(r"^File: dump_waits$", top, re.M) is not None,
              "%s: expected `go tool pprof -top` to say 'File: dump_waits' (mapping 1 is the "
              "main executable), got:%s" % (what, harness.indent(top)))
    res = ctx.run_command([ctx.pprof_decode, out], 60)
    ctx.check(re.search(r"^mapping \d+ .*/libc\.so\.6", res.stdout, re.M) is not None,
              "%s: expected libc's mapping in the dump's profile, pprof_decode says:%s"
              % (what, harness.indent(res.stdout[:2000])))
    focus = ctx.go_pprof(["-tagfocus=thread=dl-a", "-top", out], what + " (-tagfocus)").stdout
    ctx.check("dl_wait" in focus and "cv_wait" not in focus,
              "%s: expected `go tool pprof -tagfocus=thread=dl-a -top` to show dl_wait and not "
              "cv_wait, got:%s" % (what, harness.indent(focus)))

    out2 = ctx.tmp_path("waits-explicit")
    what = "dump_waits: pprobe dump -p PID -format pprof -o waits-explicit"
    dh.run_dump(ctx, fixture, ["-format", "pprof", "-o", out2], what)
    dh.check_after_dump(ctx, fixture, what, dh.WAITS_COUNTERS, "worker_cycles")
    check_gzip(ctx, out2, what)
    ours, go = decode(ctx, out2, what)
    for prof in (go, ours):
        check_profile(ctx, fixture, prof, what)
    compare(ctx, ours, go, what)


if __name__ == "__main__":
    harness.run(main)
