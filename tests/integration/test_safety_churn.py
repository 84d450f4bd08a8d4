#!/usr/bin/env python3
"""Threads that come and go, and children (safety guarantee 5, part 1).

safety_churn (fixtures/safety/churn/) creates and joins short-lived threads
("churn", hundreds a second, each checking its own arithmetic), forks a
child every 20 ms (each computing an answer the parent checks from its exit
status) and has a "spinner" on CPU.  Under `pprobe -hz 1000` in CPU mode
(-sampler ptrace, then -sampler perf) and in wall mode for WINDOW seconds
each, then under DUMPS dumps:

  - pprobe exits 0 with nothing unexpected on stderr, and the profile
    decodes;
  - pprobe keeps sampling at the rate asked: the spinner has at least
    30% of the samples its CPU time (CPU mode) or the window (wall mode)
    is worth at HZ (a stop that never comes stalls the sampler for 100 ms
    and the rate collapses);
  - samples are attributed to the right threads (the churn threads have
    samples, except with perf events: see case_record): every sample with
    churn_work in its stack is labelled thread=churn, every one with
    churn_spin_work thread=spinner, and no sample has churn_child_work
    (that runs only in the children, which pprobe must not trace);
  - no child is ever traced (TracerPid 0 in every child seen, polled
    throughout);
  - the fixture's own checks: at least MIN_THREAD_RATE threads a second
    created, none failing to be created or computing a wrong answer;
    children forked and every one's answer right;
  - the target is healthy afterwards.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

WINDOW = 3
HZ = 1000
DUMPS = 5
MIN_THREAD_RATE = 200
CHURN_FUNCS = {"churn_work": "churn", "churn_spin_work": "spinner"}


def check_fixture(ctx, fixture, before, after, seconds, what):
    d = {k: after[k] - before[k] for k in after}
    rate = d["threads_created"] / seconds
    ctx.note("%s: %d threads created (%.0f a second), %d ok; %d children forked, %d ok"
             % (what, d["threads_created"], rate, d["threads_ok"], d["children_forked"],
                d["children_ok"]))
    ctx.check(rate >= MIN_THREAD_RATE, "%s: expected >= %d threads created a second, got %.0f"
              % (what, MIN_THREAD_RATE, rate))
    for key in ("threads_bad", "create_failed", "children_bad", "fork_failed"):
        ctx.check(d[key] == 0, "%s: expected %s to stay %d, it grew by %d"
                  % (what, key, before[key], d[key]))
    ctx.check(d["children_ok"] > 0, "%s: expected children to be forked and reaped, none was"
              % what)


def check_attribution(ctx, prof, what, sampled=("churn", "spinner")):
    wrong = []
    for s in prof.samples:
        names = s.names()
        for func, thread in CHURN_FUNCS.items():
            if func in names and sh.thread_of(s) != thread:
                wrong.append(s)
        if "churn_child_work" in names:
            wrong.append(s)
    by_thread = prof.count_by(sh.thread_of)
    ctx.note("%s: samples by thread %s" % (what, by_thread))
    ctx.check(not wrong, "%s: expected churn_work samples labelled thread=churn, "
              "churn_spin_work ones thread=spinner, and no churn_child_work (children are "
              "not traced); %d samples otherwise, e.g.:\n%s"
              % (what, len(wrong), "\n".join("    %r" % s for s in wrong[:8])))
    for name in sampled:
        ctx.check(by_thread.get(name, 0) > 0, "%s: expected samples of thread %s, got %s"
                  % (what, name, by_thread))


def case_record(ctx, fixture, mode, sampler="auto"):
    what = "pprobe -mode %s -sampler %s -hz %d on threads that come and go" % (mode, sampler, HZ)
    before = sh.wait_status(fixture, what)
    out = ctx.new_output("churn-" + mode)
    spinner = fixture.tid("spinner")
    bg = ctx.start_pprobe(["-p", str(fixture.pid), "-seconds", str(WINDOW), "-hz", str(HZ),
                           "-mode", mode, "-sampler", sampler, "-o", out])
    with sh.ChildWatch(fixture.pid) as watch:
        # From the attach: pprobe loads symbols before it (README), unsampled.
        sh.wait_traced(ctx, fixture, bg, what)
        cpu_before = harness.task_cpu_ns(fixture.pid, spinner)
        sched_before = sh.sched_stat(fixture.pid, spinner)
        result = bg.wait(WINDOW + 60)
    spin_cpu = (harness.task_cpu_ns(fixture.pid, spinner) - cpu_before) / 1e9
    sched_after = sh.sched_stat(fixture.pid, spinner)
    after = sh.wait_status(fixture, what)
    ctx.expect_run(result, 0, what)
    ctx.expect_saved(result, out, what)
    surprises = sh.stderr_surprises(result)
    ctx.check(not surprises, "%s: unexpected lines on pprobe's stderr: %s" % (what, surprises))
    ctx.check(watch.seen, "%s: expected to see the fixture's children, saw none" % what)
    ctx.check(not watch.traced, "%s: children were traced {pid: TracerPid}: %s"
              % (what, watch.traced))
    ctx.note("%s: %d children seen, none traced" % (what, len(watch.seen)))
    check_fixture(ctx, fixture, before, after, result.elapsed, what)
    ctx.check_target_healthy(fixture, what)
    prof = sh.decode(ctx, out, what)
    # perf events are opened for a thread once its clone is reported: a
    # churn thread that ends within a period of CPU after that has no
    # sample (README, Samplers); ptrace samples whatever is on CPU.
    check_attribution(ctx, prof, what,
                      ("spinner",) if sampler == "perf" else ("churn", "spinner"))
    sh.check_sample_rate(ctx, prof, "spinner", spin_cpu if mode == "cpu" else WINDOW, HZ, what,
                         window=WINDOW, sched=(sched_before, sched_after))
    if mode == "cpu":
        sh.go_check(ctx, out, what)


def case_dumps(ctx, fixture):
    what = "pprobe dump of threads that come and go"
    before = sh.wait_status(fixture, what)
    start = time.monotonic()
    with sh.ChildWatch(fixture.pid) as watch:
        for i in range(DUMPS):
            res = ctx.run_pprobe(["dump", "-p", str(fixture.pid), "-format", "json"], 60)
            if res.timed_out or res.rc != 0:
                ctx.report("%s: dump %d failed:\n  %s" % (what, i + 1, res.describe()))
                break
    after = sh.wait_status(fixture, what)
    ctx.check(not watch.traced, "%s: children were traced {pid: TracerPid}: %s"
              % (what, watch.traced))
    check_fixture(ctx, fixture, before, after, time.monotonic() - start, what)
    ctx.check_target_healthy(fixture, what)


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("safety_churn")
    case_record(ctx, fixture, "cpu", "ptrace")
    case_record(ctx, fixture, "cpu", "perf")
    case_record(ctx, fixture, "wall")
    case_dumps(ctx, fixture)


if __name__ == "__main__":
    harness.run(main)
