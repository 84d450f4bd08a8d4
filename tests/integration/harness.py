"""Shared pieces of pprobe's integration tests (python3 standard library only).

Each tests/integration/test_*.py script runs the real pprobe binary against
real fixture processes (fixtures/), decodes what it wrote with two readers,
and checks the result and the target's health.  A script calls run(main):
main(ctx) gets a Context and does its checks; the script exits 0 if every
check passed, 1 if any failed (each failure printed with both sides), and 77
(ctest's SKIP_RETURN_CODE) if the test cannot run here, with the reason.

Environment (set by tests/integration/CMakeLists.txt):
  PPROBE        the pprobe binary
  PPROF_DECODE  the project's own profile decoder (tests/tools)
  FIXTURES      directory holding the built fixtures
  GO            the go binary, or empty if there is none
  TEST_TMPDIR   a scratch directory for this test (emptied at start)
  PPROBE_SAMPLER  perf or ptrace: added as -sampler to record and top runs
                (unset: pprobe's default, auto)

Decoding is in profiles.py; Context.decode runs both readers and checks that
they agree.

Rules the helpers keep (STYLE.md, Tests): wait on conditions with timeouts,
never fixed sleeps; no retries; after every pprobe run the target is not
stopped, not traced (TracerPid 0 in every task) and makes progress.
"""

import collections
import ctypes
import errno
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from profiles import ProfileFormatError, parse_go_raw, parse_go_top_duration, parse_pprof_decode

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_SKIP = 77

# How long a fixture may take to say "ready".
READY_TIMEOUT = 10.0
# CPU time the target must gain (summed over its tasks) to count as making
# progress, and how long it gets to do so.
PROGRESS_NS = 20 * 1000 * 1000
PROGRESS_TIMEOUT = 5.0
# Interval of condition polls: short, so waits end soon after the condition.
POLL_INTERVAL = 0.005

# What every pprobe profile has, in this order.
SAMPLE_TYPES = [("samples", "count"), ("cpu", "nanoseconds")]

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


class Failure(Exception):
    """A check failed in a way that stops the test (later checks depend on it)."""


class Skip(Exception):
    """The test cannot run here; the message says why."""


# ---------------------------------------------------------------------------
# Waiting


def wait_for(condition, timeout, interval=POLL_INTERVAL):
    """Polls condition() until it returns a true value or timeout seconds pass.

    Returns that value, or None on timeout.  This is the only way the tests
    wait for something; there are no fixed sleeps.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


# ---------------------------------------------------------------------------
# /proc readers.  A task that vanished (ENOENT/ESRCH) is skipped, not an error.


def _read(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError as e:
        if e.errno in (errno.ESRCH, errno.ENOENT):
            return None
        raise


def task_ids(pid):
    """The thread ids of process pid (empty if it is gone)."""
    try:
        return sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    except (FileNotFoundError, ProcessLookupError):
        return []


def task_status(pid, tid):
    """/proc/PID/task/TID/status as a dict, or None if the task is gone."""
    text = _read("/proc/%d/task/%d/status" % (pid, tid))
    if text is None:
        return None
    status = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        status[key] = value.strip()
    return status


def task_stat_fields(pid, tid=None):
    """Fields of /proc/PID[/task/TID]/stat after the comm, as a list.

    fields[0] is the state letter (stat field 3), fields[6] the flags (field 9).
    """
    path = "/proc/%d/stat" % pid if tid is None else "/proc/%d/task/%d/stat" % (pid, tid)
    text = _read(path)
    if text is None:
        return None
    return text[text.rindex(")") + 2:].split()


def process_state(pid):
    """State letter of process pid (R, S, D, Z, t, T, ...) or None if gone."""
    fields = task_stat_fields(pid)
    return fields[0] if fields else None


def task_states(pid):
    """{tid: state letter} for every task of pid."""
    states = {}
    for tid in task_ids(pid):
        fields = task_stat_fields(pid, tid)
        if fields:
            states[tid] = fields[0]
    return states


def tracer_pids(pid):
    """{tid: TracerPid} for every task of pid."""
    tracers = {}
    for tid in task_ids(pid):
        status = task_status(pid, tid)
        if status is not None:
            tracers[tid] = int(status.get("TracerPid", "0"))
    return tracers


def task_cpu_ns(pid, tid):
    """CPU time task tid has run, in ns (schedstat field 1), or None if gone."""
    text = _read("/proc/%d/task/%d/schedstat" % (pid, tid))
    return int(text.split()[0]) if text else None


def process_cpu_ns(pid):
    """CPU time summed over all tasks of pid, in ns."""
    total = 0
    for tid in task_ids(pid):
        ns = task_cpu_ns(pid, tid)
        if ns:
            total += ns
    return total


def task_comm(pid, tid):
    text = _read("/proc/%d/task/%d/comm" % (pid, tid))
    return text.rstrip("\n") if text is not None else None


PF_KTHREAD = 0x00200000


def is_kernel_thread(pid):
    fields = task_stat_fields(pid)
    return bool(fields) and int(fields[6]) & PF_KTHREAD != 0


def find_kernel_thread():
    """A kernel thread's pid: 2 (kthreadd) if it is one, else any; None if none is visible."""
    if is_kernel_thread(2):
        return 2
    for name in os.listdir("/proc"):
        if name.isdigit() and is_kernel_thread(int(name)):
            return int(name)
    return None


def free_pid():
    """A pid that no process has: that of a child that ran and was reaped."""
    child = subprocess.Popen(["true"])
    child.wait()
    if os.path.exists("/proc/%d" % child.pid):
        raise Failure("pid %d of a reaped child is in use again" % child.pid)
    return child.pid


def traced_by(pid, tracer_pid):
    """True if every task of pid is traced by process tracer_pid.

    TracerPid names the tracing thread, which need not be the tracer's main
    thread, so any task of tracer_pid counts.
    """
    tracers = tracer_pids(pid)
    if not tracers:
        return False
    tracer_tasks = set(task_ids(tracer_pid)) | {tracer_pid}
    return all(t in tracer_tasks for t in tracers.values())


class Poller:
    """Calls self.poll() in a thread, every half poll interval, while in a
    with block."""

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def poll(self):
        raise NotImplementedError

    def _run(self):
        while True:
            self.poll()
            if self._stop.wait(POLL_INTERVAL / 2):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False


class TracerWatch(Poller):
    """Polls the TracerPid of every task of pid in a thread while in a with block.

    .seen is {tid: set of non-zero TracerPids seen}.  Polling can miss an
    attach that lasts less than a poll interval; for checking that a failing
    pprobe touched no thread that is enough.
    """

    def __init__(self, pid):
        super().__init__()
        self.pid = pid
        self.seen = collections.defaultdict(set)

    def poll(self):
        for tid, tracer in tracer_pids(self.pid).items():
            if tracer:
                self.seen[tid].add(tracer)


def _set_pdeathsig():
    """preexec_fn: the child is killed if the test dies, so no burner outlives it.

    Used only where no other thread of the test runs (fixtures and background
    commands are started before any TracerWatch).
    """
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


# ---------------------------------------------------------------------------
# Fixtures


class Fixture:
    """A running fixture process (see fixtures/common/fixture.h).

    Started with --truth; after start() it has said "ready", and .truth_threads
    ({tid: name}) and .truth ({key: value}) hold what it wrote about itself.
    """

    def __init__(self, ctx, name, args=()):
        self.ctx = ctx
        self.name = name
        self.path = os.path.join(ctx.fixtures_dir, name)
        self.args = list(args)
        self.proc = None
        self.pid = None
        self.truth = {}
        self.truth_threads = {}
        # One name per instance: a test that runs the same fixture twice
        # must not read the first one's status file as the second's.
        stem = "%s.%d" % (name, ctx.next_serial())
        self.truth_path = ctx.tmp_path(stem + ".truth")
        self.stderr_path = ctx.tmp_path(stem + ".stderr")

    def start(self):
        if not os.access(self.path, os.X_OK):
            raise Failure("fixture %s is not built: %s is not an executable file "
                          "(FIXTURES=%s)" % (self.name, self.path, self.ctx.fixtures_dir))
        for stale in (self.truth_path, self.truth_path + ".tmp"):
            if os.path.exists(stale):
                os.unlink(stale)
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [self.path, "--truth", self.truth_path] + self.args,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                preexec_fn=_set_pdeathsig)
        self.ctx.fixtures.append(self)
        line = self._read_ready_line(READY_TIMEOUT)
        m = re.fullmatch(r"ready (\d+)", line)
        if not m or int(m.group(1)) != self.proc.pid:
            raise Failure("fixture %s: expected 'ready %d', got %r"
                          % (self.name, self.proc.pid, line))
        self.pid = self.proc.pid
        self._read_truth()
        return self

    def _read_ready_line(self, timeout):
        """Reads the first stdout line, selecting on the pipe until timeout."""
        fd = self.proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("fixture %s did not say ready within %.0f s (stdout so far %r, "
                              "stderr %r)" % (self.name, timeout, buf, self.stderr_text()))
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                rc = self.proc.wait(timeout=5)
                raise Failure("fixture %s exited (status %s) before saying ready; stderr %r"
                              % (self.name, rc, self.stderr_text()))
            buf += chunk
        return buf.split(b"\n", 1)[0].decode(errors="replace")

    def _read_truth(self):
        try:
            with open(self.truth_path) as f:
                lines = f.read().splitlines()
        except OSError as e:
            raise Failure("fixture %s said ready without its truth file: %s" % (self.name, e))
        for line in lines:
            key, _, value = line.partition(" ")
            if key.isdigit():
                self.truth_threads[int(key)] = value
            else:
                self.truth[key] = value
        if int(self.truth.get("pid", -1)) != self.pid:
            raise Failure("fixture %s truth says pid %s, process is %d"
                          % (self.name, self.truth.get("pid"), self.pid))
        for tid, name in self.truth_threads.items():
            comm = task_comm(self.pid, tid)
            if comm != name:
                raise Failure("fixture %s truth says thread %d is %r, /proc says %r"
                              % (self.name, tid, name, comm))

    def tid(self, name):
        """The tid of the thread the truth file names name."""
        tids = [t for t, n in self.truth_threads.items() if n == name]
        if len(tids) != 1:
            raise Failure("fixture %s truth has %d threads named %r: %s"
                          % (self.name, len(tids), name, self.truth_threads))
        return tids[0]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr_text(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def kill(self):
        """SIGKILL and reap; works whatever state a broken tracer left it in."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.ctx.report("fixture %s (pid %d) did not die within 10 s of SIGKILL"
                            % (self.name, self.proc.pid))
        if self.proc.stdout:
            self.proc.stdout.close()


# ---------------------------------------------------------------------------
# Running pprobe


class Result:
    """How a command ended: argv, rc (negative: killed by that signal),
    stdout, stderr, elapsed seconds, timed_out."""

    def __init__(self, argv, rc, stdout, stderr, elapsed, timed_out=False):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed
        self.timed_out = timed_out

    def describe(self):
        if self.timed_out:
            how = "did not exit within %.0f s (killed)" % self.elapsed
        elif self.rc < 0:
            how = "was killed by %s" % signal.Signals(-self.rc).name
        else:
            how = "exited %d after %.2f s" % (self.rc, self.elapsed)
        return "%s %s\n  stdout: %s\n  stderr: %s" % (
            " ".join(self.argv), how, indent(self.stdout), indent(self.stderr))

    def stderr_lines(self):
        return [line for line in self.stderr.splitlines() if line.strip()]


def indent(text):
    text = text.rstrip("\n")
    if not text:
        return "(empty)"
    return "\n    " + text.replace("\n", "\n    ")


class Background:
    """A command started with Context.start_command, running in the background."""

    def __init__(self, ctx, argv):
        self.argv = argv
        self.out_path = ctx.tmp_path("bg%d.stdout" % len(ctx.processes))
        self.err_path = ctx.tmp_path("bg%d.stderr" % len(ctx.processes))
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, preexec_fn=_set_pdeathsig)
        self.pid = self.proc.pid
        self.result = None

    def alive(self):
        return self.proc.poll() is None

    def wait(self, timeout):
        """Waits up to timeout for exit (killing it then) and returns a Result."""
        timed_out = False
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            self.proc.kill()
            rc = self.proc.wait()
        elapsed = time.monotonic() - self.started
        with open(self.out_path, errors="replace") as f:
            out = f.read()
        with open(self.err_path, errors="replace") as f:
            err = f.read()
        self.result = Result(self.argv, rc, out, err, elapsed, timed_out)
        return self.result

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


# ---------------------------------------------------------------------------
# The test context


class Context:
    """What a test uses: paths from the environment, the scratch directory,
    started processes (cleaned up at the end), and the failures so far."""

    def __init__(self):
        self.failures = []
        self.fixtures = []
        self.processes = []
        self.cleanups = []
        self.pprobe = os.environ.get("PPROBE", "")
        self.pprof_decode = os.environ.get("PPROF_DECODE", "")
        self.fixtures_dir = os.environ.get("FIXTURES", "")
        self.go = os.environ.get("GO", "")
        self.sampler = os.environ.get("PPROBE_SAMPLER", "")
        self.last_cpu_ns = 0
        tmp = os.environ.get("TEST_TMPDIR", "")
        if tmp:
            if os.path.isdir(tmp):
                _rmtree(tmp)
            os.makedirs(tmp)
            self.tmpdir = tmp
        else:
            self.tmpdir = tempfile.mkdtemp(prefix="pprobe-test.")
        self._tmp_serial = 0

    # -- reporting

    def report(self, message):
        """Records a failure and goes on (later checks do not depend on this one)."""
        self.failures.append(message)
        print("FAIL: " + message, flush=True)

    def check(self, ok, message):
        if not ok:
            self.report(message)
        return ok

    def check_eq(self, what, expected, actual):
        return self.check(expected == actual,
                          "%s: expected %r, got %r" % (what, expected, actual))

    def note(self, message):
        print(message, flush=True)

    # -- environment

    def tmp_path(self, name):
        return os.path.join(self.tmpdir, name)

    def next_serial(self):
        """A number not handed out before in this test, for unique file names."""
        self._tmp_serial += 1
        return self._tmp_serial

    def new_output(self, stem):
        """A fresh path for a profile in the scratch directory."""
        return self.tmp_path("%s.%d.pb.gz" % (stem, self.next_serial()))

    def require_pprobe(self):
        if not self.pprobe:
            raise Failure("PPROBE is not set (run through ctest)")
        if not (os.path.isfile(self.pprobe) and os.access(self.pprobe, os.X_OK)):
            raise Failure("pprobe is not built: PPROBE=%s is not an executable file"
                          % self.pprobe)

    def require_readers(self):
        """Both readers are needed to check a profile; go missing is a skip."""
        if not self.go or not os.access(self.go, os.X_OK):
            raise Skip("go is not installed (GO=%r): go tool pprof is one of the two "
                       "readers every profile assertion is checked with" % self.go)
        if not self.pprof_decode:
            raise Failure("PPROF_DECODE is not set (the pprof_decode target is missing?)")
        if not (os.path.isfile(self.pprof_decode) and os.access(self.pprof_decode, os.X_OK)):
            raise Failure("pprof_decode is not built: PPROF_DECODE=%s is not an executable file"
                          % self.pprof_decode)

    # -- processes

    def start_fixture(self, name, args=()):
        return Fixture(self, name, args).start()

    def run_command(self, argv, timeout, env=None, cwd=None):
        """Runs argv to completion (killing it after timeout s); returns a Result."""
        started = time.monotonic()
        # No preexec_fn here: a TracerWatch thread may be running, and forking
        # a threaded Python to run Python code in the child is not safe.
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env, cwd=cwd)
        except OSError as e:
            raise Failure("cannot run %s: %s" % (argv[0], e))
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            out, err = proc.communicate()
        return Result(argv, proc.returncode, out.decode(errors="replace"),
                      err.decode(errors="replace"), time.monotonic() - started, timed_out)

    def sampler_args(self, args):
        """args with -sampler $PPROBE_SAMPLER added to a record or top run
        (tests registered once per sampler, tests/integration/CMakeLists.txt);
        args unchanged without it, for dump, and where args name a sampler."""
        args = list(args)
        if (not self.sampler or (args and args[0] == "dump")
                or any(a.lstrip("-").startswith("sampler") for a in args)):
            return args
        return args + ["-sampler", self.sampler]

    def run_pprobe(self, args, timeout, cwd=None):
        """Runs pprobe with args; timeout is for the whole run."""
        self.require_pprobe()
        return self.run_command([self.pprobe] + self.sampler_args(args), timeout, cwd=cwd)

    def start_command(self, argv):
        """Starts argv in the background (killed at cleanup if still running)."""
        try:
            bg = Background(self, argv)
        except OSError as e:
            raise Failure("cannot run %s: %s" % (argv[0], e))
        self.processes.append(bg)
        return bg

    def start_pprobe(self, args):
        self.require_pprobe()
        return self.start_command([self.pprobe] + self.sampler_args(args))

    # -- checks on a pprobe run and its target

    def expect_run(self, result, rc, what):
        """Fails (stopping the test) unless result exited with rc."""
        if result.timed_out or result.rc != rc:
            raise Failure("%s: expected exit %d, got:\n  %s" % (what, rc, result.describe()))

    def expect_saved(self, result, out, what):
        """pprobe said "Saved profile in OUT" and OUT is a gzip file."""
        line = "Saved profile in %s" % out
        self.check(line in [l.strip() for l in result.stderr.splitlines()],
                   "%s: expected the line %r on stderr, got:%s"
                   % (what, line, indent(result.stderr)))
        if not os.path.isfile(out):
            raise Failure("%s: no profile written at %s; pprobe:\n  %s"
                          % (what, out, result.describe()))
        with open(out, "rb") as f:
            magic = f.read(2)
        if magic != b"\x1f\x8b":
            raise Failure("%s: %s is not gzip (starts %r)" % (what, out, magic))

    def check_target_healthy(self, fixture, what, allow_stopped=False):
        """After a pprobe run: the fixture lives, no task is stopped (state t/T)
        unless the test stopped it, TracerPid is 0 in every task, and it makes
        progress (CPU time grows by PROGRESS_NS within PROGRESS_TIMEOUT)."""
        where = "%s: target %s (pid %s)" % (what, fixture.name, fixture.pid)
        if not fixture.alive():
            self.report("%s has exited (status %s); stderr %r"
                        % (where, fixture.proc.returncode, fixture.stderr_text()))
            return False
        ok = True
        states = task_states(fixture.pid)
        if not allow_stopped:
            stopped = {t: s for t, s in states.items() if s in "tT"}
            ok &= self.check(not stopped, "%s has stopped tasks {tid: state}: %s (all: %s)"
                             % (where, stopped, states))
        tracers = tracer_pids(fixture.pid)
        traced = {t: p for t, p in tracers.items() if p != 0}
        ok &= self.check(not traced, "%s: expected TracerPid 0 in every task, got "
                                     "{tid: TracerPid} %s" % (where, traced))
        if not allow_stopped:
            start = process_cpu_ns(fixture.pid)
            grown = wait_for(lambda: process_cpu_ns(fixture.pid) - start >= PROGRESS_NS,
                             PROGRESS_TIMEOUT)
            if not grown:
                ok &= self.check(False, "%s makes no progress: CPU time %d ns -> %d ns in "
                                 "%.0f s, expected +%d ns; states %s"
                                 % (where, start, process_cpu_ns(fixture.pid),
                                    PROGRESS_TIMEOUT, PROGRESS_NS, task_states(fixture.pid)))
        return ok

    def record(self, fixture, seconds, extra=(), what=None, timeout_slack=30):
        """`pprobe -p PID -seconds N -o OUT [extra]`, expecting exit 0, the
        "Saved profile" line and a healthy target; returns (Result, OUT)."""
        out = self.new_output(fixture.name)
        args = ["-p", str(fixture.pid), "-seconds", str(seconds), "-o", out] + list(extra)
        what = what or "pprobe " + " ".join(args)
        cpu_before = process_cpu_ns(fixture.pid)
        result = self.run_pprobe(args, seconds + timeout_slack)
        # The CPU time the target had while pprobe ran: the perf sampler
        # takes one sample per period of it, so on a busy host a window
        # has fewer samples than seconds * hz (tests bound counts by it).
        self.last_cpu_ns = process_cpu_ns(fixture.pid) - cpu_before
        healthy = self.check_target_healthy(fixture, what)
        self.expect_run(result, 0, what)
        self.expect_saved(result, out, what)
        if not healthy:
            self.note("(target unhealthy after: %s)" % result.describe())
        return result, out

    # -- decoding

    def go_env(self):
        home = self.tmp_path("gohome")
        for d in ("gohome", "gocache", "pproftmp"):
            os.makedirs(self.tmp_path(d), exist_ok=True)
        env = dict(os.environ)
        env.update(HOME=home, GOCACHE=self.tmp_path("gocache"),
                   PPROF_TMPDIR=self.tmp_path("pproftmp"), GOTOOLCHAIN="local",
                   GOPROXY="off", GOFLAGS="")
        return env

    def go_pprof(self, args, what, timeout=120):
        """Runs `go tool pprof -symbolize=none ARGS` and returns the Result.

        -symbolize=none: the test is of the names pprobe wrote, so pprof must
        not look them up again in the binaries on this machine.
        """
        argv = [self.go, "tool", "pprof", "-symbolize=none"] + list(args)
        result = self.run_command(argv, timeout, env=self.go_env(), cwd=self.tmpdir)
        if result.timed_out or result.rc != 0:
            raise Failure("%s: go tool pprof failed:\n  %s" % (what, result.describe()))
        return result

    def decode(self, path, what, sample_types=None):
        """Decodes path with both readers; returns [pprof_decode's, go's] Profile.

        Also checks the two agree: the same stacks with the same labels and
        summed values, and the sample types (default samples/count
        cpu/nanoseconds).
        """
        sample_types = sample_types or SAMPLE_TYPES
        self.require_readers()
        res = self.run_command([self.pprof_decode, "--lines", path], 60)
        if res.timed_out or res.rc != 0:
            raise Failure("%s: pprof_decode cannot read the profile:\n  %s"
                          % (what, res.describe()))
        raw = self.go_pprof(["-raw", path], what).stdout
        top = self.go_pprof(["-top", path], what).stdout
        try:
            ours = parse_pprof_decode(res.stdout, path)
            go = parse_go_raw(raw, path)
        except ProfileFormatError as e:
            raise Failure("%s: %s" % (what, e))
        go.top = top
        go.duration_nanos = parse_go_top_duration(top)
        for prof in (ours, go):
            if prof.sample_types != sample_types:
                raise Failure("%s [%s]: expected sample types %s, got %s"
                              % (what, prof.reader, sample_types, prof.sample_types))
        self._compare_readers(ours, go, what)
        return [ours, go]

    def _compare_readers(self, a, b, what):
        agg_a, agg_b = a.aggregate(), b.aggregate()
        if agg_a == agg_b:
            return
        only_a = sorted(set(agg_a) - set(agg_b))
        only_b = sorted(set(agg_b) - set(agg_a))
        differ = sorted(k for k in set(agg_a) & set(agg_b) if agg_a[k] != agg_b[k])
        lines = ["%s: the two readers disagree on %s" % (what, a.path)]
        for title, keys, src in (("only in " + a.reader, only_a, agg_a),
                                 ("only in " + b.reader, only_b, agg_b)):
            for key in keys[:10]:
                lines.append("  %s: %s %s %s" % (title, src[key], key[0], dict(key[1])))
        for key in differ[:10]:
            lines.append("  values differ: %s: %s, %s: %s for %s %s"
                         % (a.reader, agg_a[key], b.reader, agg_b[key], key[0], dict(key[1])))
        self.report("\n".join(lines))

    # -- cleanup

    def cleanup(self):
        for bg in self.processes:
            try:
                bg.kill()
            except Exception as e:   # keep cleaning up the rest
                print("cleanup: %s: %s" % (bg.argv[0], e))
        for fixture in self.fixtures:
            try:
                fixture.kill()
            except Exception as e:
                print("cleanup: fixture %s: %s" % (fixture.name, e))
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:
                print("cleanup: %s" % e)


def _rmtree(path):
    """Removes path, clearing an immutable flag a crashed test may have left."""
    def onerror(func, p, exc):
        set_immutable(os.path.dirname(p), False)
        set_immutable(p, False)
        func(p)
    for root, dirs, _ in os.walk(path):
        for d in dirs:
            set_immutable(os.path.join(root, d), False)
    shutil.rmtree(path, onerror=onerror)


FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_IMMUTABLE_FL = 0x00000010


def set_immutable(path, on):
    """Sets or clears the immutable attribute (chattr +i) of a directory.

    Returns True if it worked.  Root ignores permission bits, so a test that
    needs a directory root cannot write to uses this.
    """
    import array
    import fcntl
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        flags = array.array("l", [0])
        fcntl.ioctl(fd, FS_IOC_GETFLAGS, flags, True)
        flags[0] = flags[0] | FS_IMMUTABLE_FL if on else flags[0] & ~FS_IMMUTABLE_FL
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, flags, True)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def read_status(fixture):
    """The fixture's status file as {key: int}, or None if not written yet.

    Fixtures replace the file atomically (write a temporary, rename), but a
    fixture that execs itself can leave one write half done; a malformed
    read is read again a few times before it counts as a failure."""
    path = fixture.truth.get("status")
    if not path:
        raise Failure("fixture %s truth has no status path: %s"
                      % (fixture.name, fixture.truth))
    bad = None
    for _ in range(5):
        try:
            with open(path) as f:
                text = f.read()
        except FileNotFoundError:
            return None
        status = {}
        bad = None
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            try:
                status[key] = int(value)
            except ValueError:
                bad = line
                break
        if bad is None:
            return status
    raise Failure("fixture %s status file %s: bad line %r" % (fixture.name, path, bad))


def wait_status(fixture, what, advance=2, timeout=10.0):
    """Waits until the status seq grew by advance since the call; returns it.

    A fixture that stopped writing (stopped, hung, dead) fails the test:
    later checks read its counters.
    """
    first = read_status(fixture)
    start = first["seq"] if first else 0

    def grown():
        st = read_status(fixture)
        return st if st and st.get("seq", 0) >= start + advance else None

    status = wait_for(grown, timeout)
    if status is None:
        raise Failure("%s: fixture %s (pid %s) did not rewrite its status file %d "
                              "times within %.0f s (seq %s, now %s); task states %s; "
                              "alive %s; stderr %r"
                              % (what, fixture.name, fixture.pid, advance, timeout, start,
                                 (read_status(fixture) or {}).get("seq"),
                                 task_states(fixture.pid), fixture.alive(),
                                 fixture.stderr_text()))
    return status


def run(main):
    """Runs main(ctx) and exits 0 (all checks passed), 1 (some failed) or 77 (skipped)."""
    ctx = None
    code = EXIT_PASS
    try:
        ctx = Context()
        main(ctx)
    except Skip as e:
        print("SKIP: %s" % e, flush=True)
        code = EXIT_SKIP
    except Failure as e:
        if ctx is not None:
            ctx.report(str(e))
        else:
            print("FAIL: %s" % e, flush=True)
        code = EXIT_FAIL
    except Exception:
        print("FAIL: the test itself raised:", flush=True)
        traceback.print_exc()
        code = EXIT_FAIL
    finally:
        if ctx is not None:
            ctx.cleanup()
    if ctx is not None and ctx.failures:
        code = EXIT_FAIL
        print("%d check(s) failed" % len(ctx.failures), flush=True)
    elif code == EXIT_PASS:
        print("PASS", flush=True)
    sys.exit(code)
