#!/usr/bin/env python3
"""pprobe -mode wall against threads (fixtures/threads), and the other
output formats of record.

Expected, with both readers:
  - sample types samples/count and wall/nanoseconds; every thread has
    samples, each labelled state; the sleeper's are all state=sleeping with
    syscall=clock_nanosleep/nanosleep/restart_syscall and a stack through
    sleeper_wait; the main thread (in pthread_join) waits with
    wait="join 0x..."; spin-a/spin-b are state=running in spin_work;
  - every thread gets about one sample per tick: the sleeper as many as a
    spinner (+-30%), though it is stopped only a few times (its CPU time
    does not change; the -v line reports reused samples);
  - `go tool pprof -tagfocus=state=running -top` shows spin_work;
  - -kernel adds "[kernel]" leaf frames to blocked threads only;
  - -format folded / text / svg and -o - write what they say.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SECONDS = 2
HZ = 50


def main(ctx):
    ctx.require_pprobe()
    ctx.require_readers()
    fx = ctx.start_fixture("threads")
    result, out = ctx.record(fx, SECONDS, ["-hz", str(HZ), "-mode", "wall", "-kernel", "-v"])
    reused = re.search(r"\((\d+) reused", result.stderr)
    ctx.check(reused and int(reused.group(1)) > 0,
              "expected the -v line to report reused samples (threads not stopped again), got:\n%s"
              % result.stderr)
    for prof in ctx.decode(out, "wall profile", [("samples", "count"), ("wall", "nanoseconds")]):
        tag = "wall [%s]" % prof.reader
        ctx.check_eq(tag + " sample types", [("samples", "count"), ("wall", "nanoseconds")],
                     prof.sample_types)
        by_thread = {}
        for s in prof.samples:
            by_thread.setdefault(s.labels.get("thread"), []).append(s)
        for name in ("spin-a", "spin-b", "sleeper", "duty", "threads"):
            ctx.check(name in by_thread, "%s: no samples of thread %s (threads: %s)"
                      % (tag, name, sorted(k for k in by_thread if k)))
        ctx.check(all("state" in s.labels for s in prof.samples),
                  "%s: every sample needs a state label" % tag)
        sleeper = by_thread.get("sleeper", [])
        bad = [s for s in sleeper
               if s.labels.get("state") != "sleeping"
               or s.labels.get("syscall") not in ("clock_nanosleep", "nanosleep", "restart_syscall")
               or "sleeper_wait" not in s.names()]
        ctx.check(sleeper and not bad, "%s: sleeper samples should be sleeping in a nanosleep "
                  "through sleeper_wait; bad: %s" % (tag, bad[:3]))
        main_thread = by_thread.get("threads", [])
        ctx.check(main_thread and all((s.labels.get("wait") or "").startswith("join 0x")
                                      for s in main_thread),
                  "%s: the main thread waits in pthread_join: expected wait=join 0x..., got %s"
                  % (tag, [s.labels for s in main_thread[:3]]))
        for name in ("spin-a", "spin-b"):
            # spin_round's own loop around spin_work takes a few samples.
            run = [s for s in by_thread.get(name, []) if s.labels.get("state") == "running"]
            off = [s for s in run if "spin_work" not in s.names()
                   and "spin_round" not in s.names()]
            ctx.check(run and not off,
                      "%s: %s running samples should be in spin_round/spin_work: %s"
                      % (tag, name, off[:3]))
        n_sleeper = prof.count(sleeper)
        n_spin = prof.count(by_thread.get("spin-a", []))
        ctx.check(n_spin and abs(n_sleeper - n_spin) <= 0.3 * n_spin,
                  "%s: every thread is sampled every tick: sleeper %d vs spin-a %d samples"
                  % (tag, n_sleeper, n_spin))
        kernel_running = [s for s in prof.samples if s.labels.get("state") == "running"
                          and any(n.endswith("[kernel]") for n in s.names())]
        ctx.check(not kernel_running, "%s: running samples must not carry kernel frames: %s"
                  % (tag, kernel_running[:2]))
        ctx.check(any(n.endswith("[kernel]") for s in sleeper for n in s.names()),
                  "%s: -kernel: expected [kernel] frames on the sleeper's samples" % tag)
    top = ctx.go_pprof(["-tagfocus=state=running", "-top", out], "tagfocus state=running")
    ctx.check("spin_work" in top.stdout and "sleeper_wait" not in top.stdout,
              "go tool pprof -tagfocus=state=running -top should show spin_work only:\n%s"
              % top.stdout)

    # The other formats (cpu mode).
    folded = ctx.tmp_path("threads.folded")
    r = ctx.run_pprobe(["-p", str(fx.pid), "-seconds", "1", "-o", folded, "-q"], 60)
    ctx.expect_run(r, 0, "-o x.folded")
    lines = open(folded).read().splitlines() if os.path.exists(folded) else []
    ctx.check(lines and all(re.fullmatch(r"[^ ].* \d+", l) for l in lines)
              and any(l.split(" ")[0].endswith(";spin_work") for l in lines)
              and all(l.split(";")[0] in ("clone3", "__clone3", "_start") for l in lines),
              "folded output: expected 'root;...;leaf N' lines ending in spin_work, got %r"
              % lines[:5])
    r = ctx.run_pprobe(["-p", str(fx.pid), "-seconds", "1", "-format", "text", "-o", "-",
                        "-nodecount", "3"], 60)
    ctx.expect_run(r, 0, "-format text -o -")
    rows = [l for l in r.stdout.splitlines() if re.match(r"\s+\S+\s+[\d.]+%", l)]
    ctx.check(r.stdout.startswith("Showing top 3") and len(rows) == 3 and "spin_work" in rows[0],
              "text report to stdout with 3 rows, spin_work first; got:\n%s" % r.stdout)
    svg = ctx.tmp_path("threads.svg")
    r = ctx.run_pprobe(["-p", str(fx.pid), "-seconds", "1", "-o", svg, "-q"], 60)
    ctx.expect_run(r, 0, "-o x.svg")
    text = open(svg).read() if os.path.exists(svg) else ""
    ctx.check(text.startswith("<?xml") and "<svg" in text and "spin_work" in text,
              "svg output: expected an SVG naming spin_work, got %r" % text[:200])
    ctx.check_target_healthy(fx, "after the format runs")


harness.run(main)
