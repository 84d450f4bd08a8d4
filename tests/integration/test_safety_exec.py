#!/usr/bin/env python3
"""A target that execs itself mid-window (safety guarantee 5, part 2).

safety_exec (fixtures/safety/exec/) runs thread "before" in
exec_before_work; its thread "execer" (not the main thread) execs the
program again, and the new image runs thread "after" in exec_after_work,
checking its own arithmetic.  Each thread counts how many times a tracer
stopped it (before_stops, after_stops in its status).

  - `pprobe -hz 1000` in CPU mode, then in wall mode (a fresh fixture
    each), over a window that covers the exec: the fixture execs EXEC_AFTER
    seconds after pprobe has stopped "before" STOPS times
    (--exec-after-stops), and the window ends (SIGINT) once pprobe has
    stopped "after" STOPS times -- conditions, not fixed times, which a
    busy machine may not give pprobe (its first tick loads debug info and
    can take a second or more) -- or after WINDOW at most: exit 0, nothing
    unexpected on stderr; the profile decodes and has samples of both images
    (exec_before_work labelled thread=before, exec_after_work thread=after)
    and no sample mixes the two images' functions, names a filler or has
    an address outside every known mapping ("[unknown] 0x..."): every pc
    of this program is in a mapped ELF file, so such a frame means pprobe
    unwound the new image with the old image's memory map;
  - `pprobe dump` run again and again until the fixture has exec'd (and
    once more): every one exits 0;
  - afterwards the new image runs (stage 2), its own checks pass, it makes
    progress and the process is healthy (not stopped, TracerPid 0).
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

EXEC_AFTER = 0.5
STOPS = 20
HZ = 1000
# The fixture waits at most a minute for STOPS before it execs anyway
# (EXEC_GATE_TIMEOUT_NS); the window is a cap, ended early by the test.
GATE_TIMEOUT = 60
WINDOW = GATE_TIMEOUT + 20
STAGE2_TIMEOUT = GATE_TIMEOUT + 15


def wait_stage2(ctx, fixture, what):
    st = harness.wait_for(lambda: (sh.read_status(fixture) or {}).get("stage") == 2,
                          STAGE2_TIMEOUT)
    if not st:
        raise harness.Failure("%s: the fixture did not exec into stage 2 within %d s; status "
                              "%s; alive %s; stderr %r"
                              % (what, STAGE2_TIMEOUT, sh.read_status(fixture), fixture.alive(),
                                 fixture.stderr_text()))


def check_stage2(ctx, fixture, what):
    before = sh.wait_status(fixture, what)
    ctx.check(before.get("stage") == 2, "%s: expected the fixture in stage 2, status %s"
              % (what, before))
    sh.wait_counters_grow(ctx, fixture, ["after_progress"], what)
    after = sh.read_status(fixture)
    ctx.check(after.get("after_bad", 0) == 0, "%s: the new image computed wrong answers %d "
              "times" % (what, after.get("after_bad", 0)))
    ctx.check_target_healthy(fixture, what)


def case_record(ctx, mode):
    what = "pprobe -mode %s -hz %d across an exec" % (mode, HZ)
    fixture = ctx.start_fixture("safety_exec", ["--exec-after", str(EXEC_AFTER),
                                                "--exec-after-stops", str(STOPS)])
    out = ctx.new_output("exec-" + mode)
    # -sampler ptrace: the fixture counts pprobe's stops of its threads to
    # know it was sampled, and perf events stop none.
    bg = ctx.start_pprobe(["-p", str(fixture.pid), "-seconds", str(WINDOW), "-hz", str(HZ),
                           "-mode", mode, "-sampler", "ptrace", "-o", out])
    wait_stage2(ctx, fixture, what)
    # The new image sampled STOPS times (or pprobe gone, or the cap):
    # then end the window as Ctrl-C would.
    harness.wait_for(lambda: (sh.read_status(fixture) or {}).get("after_stops", 0) >= STOPS
                     or not bg.alive(), WINDOW)
    ctx.note("%s: pprobe stopped 'after' %s times in the window"
             % (what, (sh.read_status(fixture) or {}).get("after_stops")))
    if bg.alive():
        bg.proc.send_signal(signal.SIGINT)
    result = bg.wait(60)
    ctx.expect_run(result, 0, what)
    ctx.expect_saved(result, out, what)
    surprises = sh.stderr_surprises(result)
    ctx.check(not surprises, "%s: unexpected lines on pprobe's stderr: %s" % (what, surprises))
    check_stage2(ctx, fixture, what)
    prof = sh.decode(ctx, out, what)
    ctx.note("%s: samples by thread %s" % (what, prof.count_by(sh.thread_of)))
    for func, thread in (("exec_before_work", "before"), ("exec_after_work", "after")):
        with_func = prof.select(lambda s: func in s.names())
        ctx.check(with_func, "%s: expected samples with %s (one image or the other was not "
                  "sampled), got:\n%s\nfixture stderr %r"
                  % (what, func, prof.top_stacks(), fixture.stderr_text()))
        wrong = [s for s in with_func if sh.thread_of(s) != thread]
        ctx.check(not wrong, "%s: expected every %s sample labelled thread=%s, got %d "
                  "otherwise, e.g. %s" % (what, func, thread, len(wrong), wrong[:5]))
    mixed = prof.select(lambda s: {"exec_before_work", "exec_before_thread"} & set(s.names())
                        and {"exec_after_work", "exec_after_thread"} & set(s.names()))
    ctx.check(not mixed, "%s: samples mixing both images' functions: %s" % (what, mixed[:5]))
    fillers = prof.select(lambda s: any("filler" in n for n in s.names()))
    ctx.check(not fillers, "%s: expected no filler function in any stack (a stale map would "
              "name the wrong function), got:\n%s" % (what, prof.top_stacks(samples=fillers)))
    unknown = prof.select(lambda s: any(n.startswith("[unknown]") for n in s.names()))
    ctx.check(not unknown, "%s: expected no [unknown] frame (every pc is in a mapped file; "
              "one means the memory map was stale), got %d samples:\n%s"
              % (what, prof.count(unknown), prof.top_stacks(samples=unknown)))


def case_dumps(ctx):
    what = "pprobe dump again and again across an exec"
    fixture = ctx.start_fixture("safety_exec", ["--exec-after", str(EXEC_AFTER)])
    dumps = 0
    after_exec = 0
    # Until a dump started after stage 2 was seen: every dump before it
    # may have met the exec.
    deadline = time.monotonic() + STAGE2_TIMEOUT
    while after_exec < 1 and time.monotonic() < deadline:
        stage = (sh.read_status(fixture) or {}).get("stage")
        res = ctx.run_pprobe(["dump", "-p", str(fixture.pid), "-format", "json"], 60)
        dumps += 1
        after_exec += stage == 2
        if res.timed_out or res.rc != 0:
            ctx.report("%s: dump %d failed:\n  %s" % (what, dumps, res.describe()))
            break
    ctx.note("%s: %d dumps" % (what, dumps))
    wait_stage2(ctx, fixture, what)
    check_stage2(ctx, fixture, what)


def main(ctx):
    ctx.require_pprobe()
    case_record(ctx, "cpu")
    case_record(ctx, "wall")
    case_dumps(ctx)


if __name__ == "__main__":
    harness.run(main)
