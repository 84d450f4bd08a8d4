#!/usr/bin/env python3
"""pprobe's answers to bad input: the exit code of its table, one
`pprobe: ` line on stderr naming the problem, and a running fixture given
as -p left as it was (not stopped, untraced, making progress; TracerPid 0
in every task all through the run, polled).

Exit codes: 1 runtime failure (output not writable), 2 usage error,
3 no such process (or a zombie), 5 already traced (the message names the
tracer's PID).  A usage error may add one hint line mentioning --help.
"""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

TIMEOUT = 10          # a bad-input run should end at once; this bounds a broken one
TRACE_TIMEOUT = 10    # for strace to attach / detach


def check_error(ctx, result, rc, patterns, what):
    """rc, and one `pprobe: ` line matching every regex in patterns (optionally
    followed by one hint line mentioning --help)."""
    if result.timed_out or result.rc != rc:
        ctx.report("%s: expected exit %d, got:\n  %s" % (what, rc, result.describe()))
        return
    lines = result.stderr_lines()
    one_line = len(lines) == 1
    with_hint = len(lines) == 2 and "--help" in lines[1]
    if not (one_line or with_hint) or not lines[0].startswith("pprobe: "):
        ctx.report("%s: expected exactly one line starting 'pprobe: ' on stderr (and at most a "
                   "--help hint after it), got %d lines:%s"
                   % (what, len(lines), harness.indent(result.stderr)))
        return
    for pattern in patterns:
        ctx.check(re.search(pattern, lines[0], re.IGNORECASE),
                  "%s: expected the error line to match /%s/, got %r" % (what, pattern, lines[0]))


def check_untouched(ctx, fixture, watch, what):
    ctx.check(not watch.seen, "%s: expected no task of the target ever traced, saw "
              "{tid: TracerPids} %s" % (what, dict(watch.seen)))
    ctx.check_target_healthy(fixture, what)


def bad_run(ctx, fixture, args, rc, patterns, what=None, out=None):
    """Runs pprobe args with a TracerWatch on fixture; checks error and target."""
    what = what or "pprobe " + " ".join(args)
    with harness.TracerWatch(fixture.pid) as watch:
        result = ctx.run_pprobe(args, TIMEOUT)
    check_error(ctx, result, rc, patterns, what)
    check_untouched(ctx, fixture, watch, what)
    if out is not None:
        ctx.check(not os.path.exists(out), "%s: expected no file at %s" % (what, out))
    return result


def case_usage(ctx, fixture, out):
    pid = str(fixture.pid)
    for value in ("0", "-1", "abc", "100000"):
        bad_run(ctx, fixture, ["-p", pid, "-seconds", value, "-o", out], 2,
                [r"seconds", re.escape(value)], out=out)
    for value in ("0", "20000"):
        bad_run(ctx, fixture, ["-p", pid, "-hz", value, "-o", out], 2,
                [r"hz", re.escape(value)], out=out)
    bad_run(ctx, fixture, ["-p", pid, "--no-such-flag", "-o", out], 2,
            [r"no-such-flag"], out=out)
    bad_run(ctx, fixture, ["-seconds", "1", "-o", out], 2, [r"-p\b|pid|process"], out=out)


def case_no_such_process(ctx, fixture, out):
    pid = harness.free_pid()
    bad_run(ctx, fixture, ["-p", str(pid), "-seconds", "1", "-o", out], 3,
            [r"\b%d\b" % pid], what="pprobe -p %d (no such process)" % pid, out=out)


def case_zombie(ctx, fixture, out):
    # A child that exits and is not reaped stays a zombie.  Forked before any
    # TracerWatch thread runs; the child only calls _exit.
    child = os.fork()
    if child == 0:
        os._exit(0)
    try:
        if not harness.wait_for(lambda: harness.process_state(child) == "Z", 10):
            raise harness.Failure("child %d did not become a zombie (state %s)"
                                  % (child, harness.process_state(child)))
        bad_run(ctx, fixture, ["-p", str(child), "-seconds", "1", "-o", out], 3,
                [r"\b%d\b" % child], what="pprobe -p %d (a zombie)" % child, out=out)
    finally:
        os.waitpid(child, 0)


def case_kernel_thread(ctx, fixture, out):
    kthread = harness.find_kernel_thread()
    if kthread is None:
        ctx.note("skipped the kernel-thread case: no kernel thread is visible here")
        return
    bad_run(ctx, fixture, ["-p", str(kthread), "-seconds", "1", "-o", out], 2,
            [r"\b%d\b" % kthread, r"kernel"],
            what="pprobe -p %d (kernel thread %s)" % (kthread, harness.task_comm(kthread, kthread)),
            out=out)


def case_self_and_parent(ctx, fixture, out):
    """pprobe asked to profile itself or its parent (a shell, not this test,
    so that a pprobe that wrongly attaches stops only that shell)."""
    ctx.require_pprobe()
    cases = (
        ("its own pid", 'exec "$0" -p "$$" -seconds 1 -o "$1"'),
        ("its parent's pid", '"$0" -p "$$" -seconds 1 -o "$1"; exit $?'),
    )
    for title, script in cases:
        what = "pprobe -p PID (%s)" % title
        bg = ctx.start_command(["sh", "-c", script, ctx.pprobe, out])
        with harness.TracerWatch(fixture.pid) as watch:
            result = bg.wait(TIMEOUT)
        check_error(ctx, result, 2, [r"\b%d\b" % bg.pid], what)
        check_untouched(ctx, fixture, watch, what)
        ctx.check(not os.path.exists(out), "%s: expected no file at %s" % (what, out))


def case_unwritable(ctx, fixture):
    pid = str(fixture.pid)
    missing = ctx.tmp_path("no/such/dir")
    out = os.path.join(missing, "out.pb.gz")
    bad_run(ctx, fixture, ["-p", pid, "-seconds", "1", "-o", out], 1,
            [re.escape(missing)], what="pprobe -o %s (no such directory)" % out)

    ro = ctx.tmp_path("readonly")
    os.makedirs(ro)
    os.chmod(ro, 0o555)
    how = "mode 0555"
    if os.geteuid() == 0:
        # Root ignores the mode; the immutable attribute stops root too.
        if harness.set_immutable(ro, True):
            ctx.cleanups.append(lambda: harness.set_immutable(ro, False))
            how = "immutable (chattr +i)"
    probe = os.path.join(ro, "probe")
    try:
        with open(probe, "w"):
            pass
        os.unlink(probe)
        ctx.note("skipped the read-only-directory case: cannot make a directory this user "
                 "cannot write to")
        return
    except OSError:
        pass
    out = os.path.join(ro, "out.pb.gz")
    bad_run(ctx, fixture, ["-p", pid, "-seconds", "1", "-o", out], 1, [re.escape(ro)],
            what="pprobe -o %s (read-only directory, %s)" % (out, how), out=out)


def case_already_traced(ctx, fixture, out):
    strace = shutil.which("strace")
    if strace is None:
        ctx.note("skipped the already-traced case: strace is not installed")
        return
    tracer = ctx.start_command([strace, "-p", str(fixture.pid), "-o", "/dev/null"])
    if not harness.wait_for(lambda: harness.tracer_pids(fixture.pid).get(fixture.pid) == tracer.pid,
                            TRACE_TIMEOUT):
        raise harness.Failure("strace (pid %d) did not attach to the fixture within %d s: %s"
                              % (tracer.pid, TRACE_TIMEOUT, tracer.wait(1).describe()))
    what = "pprobe -p PID (already traced by strace, pid %d)" % tracer.pid
    result = ctx.run_pprobe(["-p", str(fixture.pid), "-seconds", "1", "-o", out], TIMEOUT)
    check_error(ctx, result, 5, [r"\b%d\b" % tracer.pid], what)
    ctx.check(not os.path.exists(out), "%s: expected no file at %s" % (what, out))
    tracers = harness.tracer_pids(fixture.pid)
    ctx.check(tracers.get(fixture.pid) == tracer.pid,
              "%s: expected strace still tracing the target, TracerPids %s" % (what, tracers))
    # strace detaches on SIGTERM; then the target must be as before.
    tracer.proc.terminate()
    tracer.wait(TRACE_TIMEOUT)
    if not harness.wait_for(lambda: not any(harness.tracer_pids(fixture.pid).values()),
                            TRACE_TIMEOUT):
        ctx.report("%s: target still traced after strace exited: %s"
                   % (what, harness.tracer_pids(fixture.pid)))
    ctx.check_target_healthy(fixture, what + ", after strace detached")


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("burner_O2")
    out = ctx.tmp_path("never-written.pb.gz")
    case_zombie(ctx, fixture, out)          # forks: before any helper thread
    case_usage(ctx, fixture, out)
    case_no_such_process(ctx, fixture, out)
    case_kernel_thread(ctx, fixture, out)
    case_self_and_parent(ctx, fixture, out)
    case_unwritable(ctx, fixture)
    case_already_traced(ctx, fixture, out)


if __name__ == "__main__":
    harness.run(main)
