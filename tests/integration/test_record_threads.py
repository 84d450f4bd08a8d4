#!/usr/bin/env python3
"""pprobe record against threads (fixtures/threads): thread labels, off-CPU
threads, CPU attribution and -t.

Expected, with both readers:
  - every sample has labels thread and tid naming the same thread as the
    fixture's truth; spin-a, spin-b and duty all have samples;
  - no sample of sleeper (it sleeps all the window);
  - >= 97% of duty's samples have duty_work in the stack and <= 3% have
    duty_sleep or a nanosleep (one sample is always allowed).  Only threads
    on CPU are sampled, so a sampler that took sleeping threads would put
    about half of duty's samples in nanosleep.  Not 0%: entering and leaving
    the sleep is on CPU too (in the kernel, the user stack in nanosleep),
    and perf's own cpu-clock samples land there now and then, as they do in
    duty_cycle's loop around duty_work;
  - duty's CPU ns in the profile is within +-30% of the CPU time its
    schedstat shows it used while pprobe traced it (read when the test first
    sees every task traced by pprobe and when it first sees one untraced;
    the window is a subset of that);
  - spin samples have spin_work;spin_round;spin_loop;spin_thread; no filler;
  - `go tool pprof -tagfocus=thread=spin-a -top` works and shows spin_work;
  - with -t TID, every sample is of that thread.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SECONDS = 4
T_SECONDS = 2
DUTY_TOLERANCE = 0.30
SPIN_CHAIN = ["spin_work", "spin_round", "spin_loop", "spin_thread"]
SPIN_CHAIN_SHARE = 0.95
ON_CPU_THREADS = ("spin-a", "spin-b", "duty")
DUTY_WORK_SHARE = 0.97
DUTY_ASLEEP_SHARE = 0.03
ATTACH_TIMEOUT = 10


def thread_of(sample):
    return sample.labels.get("thread")


def check_labels(ctx, fixture, prof, tag):
    """Every sample: thread and tid labels, consistent with the truth file."""
    bad = []
    for s in prof.samples:
        tid = s.labels.get("tid")
        name = s.labels.get("thread")
        if tid is None or name is None or not tid.isdigit() \
                or fixture.truth_threads.get(int(tid)) != name:
            bad.append(s)
    ctx.check(not bad, "%s: expected every sample to have labels thread=NAME tid=TID of one "
              "thread %s, got %d samples otherwise, e.g. %s"
              % (tag, fixture.truth_threads, len(bad), bad[:5]))


def check_main_profile(ctx, fixture, prof, duty_cpu_ns, what):
    tag = "%s [%s]" % (what, prof.reader)
    check_labels(ctx, fixture, prof, tag)

    seen = {thread_of(s) for s in prof.samples}
    for name in ON_CPU_THREADS:
        ctx.check(name in seen, "%s: expected samples with thread=%s, threads seen: %s"
                  % (tag, name, sorted(x for x in seen if x)))

    sleeper = prof.select(lambda s: thread_of(s) == "sleeper"
                          or s.labels.get("tid") == str(fixture.tid("sleeper")))
    ctx.check(not sleeper, "%s: expected no samples of sleeper (never on CPU), got %d:\n%s"
              % (tag, prof.count(sleeper), prof.top_stacks(samples=sleeper)))

    duty = prof.select(lambda s: thread_of(s) == "duty")
    working, total = prof.share(lambda s: "duty_work" in s.names(), duty)
    ctx.check(total - working <= max(1, (1 - DUTY_WORK_SHARE) * total),
              "%s: expected duty_work in >= %.0f%% of duty's samples, got %d of %d:\n%s"
              % (tag, DUTY_WORK_SHARE * 100, working, total, prof.top_stacks(samples=duty)))
    asleep, total = prof.share(
        lambda s: any(n == "duty_sleep" or "nanosleep" in n for n in s.names()), duty)
    ctx.check(asleep <= max(1, DUTY_ASLEEP_SHARE * total),
              "%s: expected <= %.0f%% of duty's samples in duty_sleep/nanosleep (it sleeps off "
              "CPU there), got %d of %d:\n%s"
              % (tag, DUTY_ASLEEP_SHARE * 100, asleep, total, prof.top_stacks(samples=duty)))

    got = prof.cpu_ns(duty)
    ctx.note("%s: samples by thread %s; duty %.3f s in the profile, %.3f s by schedstat"
             % (tag, prof.count_by(thread_of),
                got / 1e9, duty_cpu_ns / 1e9))
    ctx.check(abs(got - duty_cpu_ns) <= DUTY_TOLERANCE * duty_cpu_ns,
              "%s: expected duty's CPU ns in the profile within %d%% of its schedstat delta "
              "%d ns, got %d ns (%.2f of it)"
              % (tag, DUTY_TOLERANCE * 100, duty_cpu_ns, got, got / duty_cpu_ns if duty_cpu_ns else 0))

    spin = prof.select(lambda s: thread_of(s) in ("spin-a", "spin-b"))
    good, total = prof.share(lambda s: s.names()[:len(SPIN_CHAIN)] == SPIN_CHAIN, spin)
    ctx.check(total and good >= SPIN_CHAIN_SHARE * total,
              "%s: expected >= %.0f%% of spin samples with stack %s;..., got %d of %d:\n%s"
              % (tag, SPIN_CHAIN_SHARE * 100, ";".join(SPIN_CHAIN), good, total,
                 prof.top_stacks(samples=spin)))

    fillers = prof.select(lambda s: any("filler" in n for n in s.names()))
    ctx.check(not fillers, "%s: expected no filler function in any stack, got:\n%s"
              % (tag, prof.top_stacks(samples=fillers)))

    # What -tagfocus=thread=spin-a shows, seen through this reader.
    focused = prof.select(lambda s: thread_of(s) == "spin-a")
    ctx.check(any("spin_work" in s.names() for s in focused),
              "%s: expected spin_work in the samples of thread=spin-a, got:\n%s"
              % (tag, prof.top_stacks(samples=focused)))


def record_measuring(ctx, fixture, tid, what):
    """Runs pprobe -seconds SECONDS on fixture in the background and measures
    the CPU time thread tid uses while pprobe traces it.

    Returns (Result, profile path, CPU ns).  The bracket is from the first
    poll that sees every task traced by pprobe to the first that sees one
    untraced (or pprobe gone): pprobe's own start-up and its work after
    detaching are outside it.
    """
    out = ctx.new_output(fixture.name)
    before = harness.task_cpu_ns(fixture.pid, tid)
    bg = ctx.start_pprobe(["-p", str(fixture.pid), "-seconds", str(SECONDS), "-o", out])
    attached = harness.wait_for(
        lambda: "yes" if harness.traced_by(fixture.pid, bg.pid) else None if bg.alive() else "no",
        ATTACH_TIMEOUT) == "yes"
    at_attach = harness.task_cpu_ns(fixture.pid, tid)
    if attached:
        harness.wait_for(lambda: not bg.alive() or not harness.traced_by(fixture.pid, bg.pid),
                         SECONDS + 30)
    at_detach = harness.task_cpu_ns(fixture.pid, tid)
    result = bg.wait(SECONDS + 30)
    after = harness.task_cpu_ns(fixture.pid, tid)
    healthy = ctx.check_target_healthy(fixture, what)
    ctx.expect_run(result, 0, what)
    ctx.expect_saved(result, out, what)
    if not healthy:
        ctx.note("(target unhealthy after: %s)" % result.describe())
    if not attached:
        raise harness.Failure("%s: never saw every task of the target traced by pprobe (pid %d); "
                              "cannot measure duty's CPU time" % (what, bg.pid))
    ctx.note("duty used %.3f s of CPU while traced, %.3f s while pprobe ran (%.2f s)"
             % ((at_detach - at_attach) / 1e9, (after - before) / 1e9, result.elapsed))
    return result, out, at_detach - at_attach


def main(ctx):
    ctx.require_pprobe()
    ctx.require_readers()
    fixture = ctx.start_fixture("threads")
    duty_tid = fixture.tid("duty")
    spin_a = fixture.tid("spin-a")

    what = "threads: pprobe -p PID -seconds %d" % SECONDS
    result, out, duty_cpu_ns = record_measuring(ctx, fixture, duty_tid, what)
    for prof in ctx.decode(out, what):
        check_main_profile(ctx, fixture, prof, duty_cpu_ns, what)

    top = ctx.go_pprof(["-tagfocus=thread=spin-a", "-top", out], what + " (-tagfocus)")
    ctx.check("spin_work" in top.stdout,
              "%s: expected `go tool pprof -tagfocus=thread=spin-a -top` to show spin_work, "
              "got:\n%s" % (what, top.stdout))

    what = "threads: pprobe -p PID -seconds %d -t %d (spin-a)" % (T_SECONDS, spin_a)
    result, out = ctx.record(fixture, T_SECONDS, extra=["-t", str(spin_a)], what=what)
    for prof in ctx.decode(out, what):
        tag = "%s [%s]" % (what, prof.reader)
        check_labels(ctx, fixture, prof, tag)
        others = prof.select(lambda s: s.labels.get("tid") != str(spin_a))
        ctx.check(prof.count() > 0 and not others,
                  "%s: expected samples of tid %d only, got %d samples of which %d of other "
                  "threads: %s" % (tag, spin_a, prof.count(), prof.count(others),
                                   sorted({(s.labels.get("tid"), thread_of(s)) for s in others})))


if __name__ == "__main__":
    harness.run(main)
