#!/usr/bin/env python3
"""Fidelity oracle: pprobe dump's stacks against gdb's, frame by frame.

fid_parked (fixtures/fidelity/parked/parked.h) holds every thread still in
read(2), each reached through a different kind of frame: plain calls,
inlined functions, code without unwind tables (frame pointers only), a
signal handler and its signal frame, C++ templates and lambdas, 30-deep
recursion.  Once every thread sleeps in read:

  1. `pprobe dump -p PID -format json`; the target is then running and
     untraced (harness.check_target_healthy);
  2. `gdb -batch -p PID -ex 'thread apply all bt'` (past main and entry,
     frame arguments not printed) on the same, unchanged state;
  3. for each thread (by tid), the two lists of function names, inlined
     frames included, must be equal after the documented differences below;
     any other disagreement fails the test and prints both stacks.

Documented differences (DIFFERENCES: gdb's spelling, pprobe's spelling, why)
and normalisations:
  - C++ names: pprobe gives the demangler's full name, gdb the function's
    name without its parameter list (and without a template instance's
    return type, and without " const"); both are reduced to the latter;
  - "<signal handler called>" is gdb's pseudo-frame for the signal
    trampoline; pprobe names the trampoline's symbol, __restore_rt;
  - GDB_ONLY: frames gdb shows that are not in the stack: right after a
    signal frame, gdb 13 shows a frame named __pthread_kill_esrch whose
    address (a stale value on the stack) lies in glibc's compat text;
    eu-stack, like pprobe, goes from __pthread_kill_implementation straight
    to its caller.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

# (gdb's name, pprobe's name, reason)
DIFFERENCES = [
    ("<signal handler called>", "__restore_rt",
     "gdb shows the signal trampoline as a pseudo-frame; pprobe names its symbol"),
]
# (gdb's name, the frame before it in gdb's stack, reason)
GDB_ONLY = [
    ("__pthread_kill_esrch", "__pthread_kill_implementation",
     "gdb 13 unwinds the frame interrupted by a signal as if its pc were a return "
     "address and picks up a stale stack slot; eu-stack agrees with pprobe"),
]
GDB_TIMEOUT = 120

_THREAD = re.compile(r'Thread \d+ \(Thread 0x[0-9a-f]+ \(LWP (\d+)\)(?: "(.*)")?\):')
# "#N  [0xADDR in ]FUNC (ARGS)[ at FILE:LINE| from LIB]"; with frame
# arguments not printed, ARGS is "name=..., ..." (no parentheses inside).
_FRAME = re.compile(r"#(\d+)\s+(?:0x[0-9a-f]+ in )?(?P<func>.+?) \([^()]*\)"
                    r"(?: at \S+:\d+| from \S+)?$")


def parse_gdb(text):
    """{tid: [function names, innermost first]} from `thread apply all bt`."""
    threads, cur = {}, None
    for line in text.splitlines():
        m = _THREAD.match(line)
        if m:
            cur = threads.setdefault(int(m.group(1)), [])
            continue
        if cur is not None and line.startswith("#"):
            if "<signal handler called>" in line:
                cur.append("<signal handler called>")
                continue
            m = _FRAME.match(line)
            cur.append(m.group("func") if m else line)
    return threads


def strip_params(name):
    """A C++ name as gdb writes a function: no trailing ' const', no
    parameter list, no leading return type; C names unchanged."""
    if name.endswith(" const"):
        name = name[:-len(" const")]
    if name.endswith(")"):
        depth = 0
        for i in range(len(name) - 1, -1, -1):
            c = name[i]
            if c == ")":
                depth += 1
            elif c == "(":
                depth -= 1
                if depth == 0:
                    name = name[:i]
                    break
    depth, cut = 0, -1
    for i, c in enumerate(name):
        if c in "<(":
            depth += 1
        elif c in ">)":
            depth -= 1
        elif c == " " and depth == 0:
            cut = i
    if cut >= 0:
        name = name[cut + 1:]
    return name


def normalise_gdb(names):
    out = []
    for n in names:
        skip = [g for g in GDB_ONLY if g[0] == n and out and out[-1] == g[1]]
        if skip:
            continue
        for g, p, _ in DIFFERENCES:
            if n == g:
                n = p
        out.append(strip_params(n))
    return out


def normalise_pprobe(names):
    return [strip_params(n) for n in names]


def main(ctx):
    ctx.require_pprobe()
    gdb = fid.which("gdb")
    if not gdb:
        raise harness.Skip("gdb is not installed (./dev.sh installs it): it is the oracle")
    fixture = fid.start(ctx, "fid_parked")
    tids = sorted(fixture.truth_threads)
    fid.wait_blocked_in_read(ctx, fixture, tids)

    doc, _ = fid.dump(ctx, fixture, "fid_parked: pprobe dump -format json", progress=False)
    if not harness.wait_for(lambda: not any(harness.tracer_pids(fixture.pid).values()), 10):
        raise harness.Failure("fid_parked still traced after pprobe exited: %s"
                              % harness.tracer_pids(fixture.pid))
    res = ctx.run_command([gdb, "-nx", "-batch", "-p", str(fixture.pid),
                           "-ex", "set pagination off",
                           "-ex", "set backtrace past-main on",
                           "-ex", "set backtrace past-entry on",
                           "-ex", "set print frame-arguments none",
                           "-ex", "thread apply all bt"], GDB_TIMEOUT)
    with open(ctx.tmp_path("gdb.txt"), "w") as f:
        f.write(res.stdout + "\n--- stderr\n" + res.stderr)
    if res.rc != 0 or "Thread " not in res.stdout:
        raise harness.Skip("gdb could not attach here (exit %s): %s"
                           % (res.rc, res.stderr.strip()[-300:]))
    fid.check_released(ctx, fixture, "after gdb detached")
    theirs = parse_gdb(res.stdout)
    ours = {t["tid"]: t for t in doc["threads"]}
    ctx.check(set(theirs) == set(ours) == set(tids),
              "expected the same threads in gdb's and pprobe's output and the truth: gdb %s, "
              "pprobe %s, truth %s" % (sorted(theirs), sorted(ours), tids))
    agree = 0
    for tid in tids:
        if tid not in theirs or tid not in ours:
            continue
        name = fixture.truth_threads[tid]
        g = normalise_gdb(theirs[tid])
        p = normalise_pprobe(fid.frame_names(ours[tid]))
        inl = [f["function"] for f in ours[tid]["frames"] if f["inlined"]]
        if ctx.check(g == p, "thread %d %r: pprobe and gdb disagree:\n  gdb:    %s\n  pprobe: "
                     "%s\n  (raw gdb %s)" % (tid, name, g, p, theirs[tid])):
            agree += 1
            ctx.note("thread %d %r: %d frames agree (%d inlined in pprobe's)"
                     % (tid, name, len(p), len(inl)))
    ctx.note("%d of %d threads agree with gdb" % (agree, len(tids)))


if __name__ == "__main__":
    harness.run(main)
