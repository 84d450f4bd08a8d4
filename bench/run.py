#!/usr/bin/env python3
"""bench/run.py - what does pprobe cost the process it profiles, beside perf?

    bench/run.py --pprobe /tmp/bench-build/pprobe [--quick] [--no-results]

Builds the bench programs (bench/CMakeLists.txt, standalone), then for a
1-thread and a 4-thread CPU burner (bench/workload.c) at 100 Hz and 1000 Hz
runs paired windows (baseline, profiled, baseline, profiled, ...) for pprobe,
`perf record -g` and `perf record --call-graph dwarf`, plus one run of the
bare ptrace loop (bench/bare_loop.c).  bench/README.md says what every
column means and how it is measured; in short:

  stop med/p99   per sample, how long a thread is stopped, as pprobe times
                 it (its -v line) or as the bare loop times it
  Δ stopped %    share of the window the target's threads were neither
                 running nor runnable (/proc/PID/task/TID/schedstat), while
                 profiled minus while not (the baseline's own in brackets)
  Δ wait %       the same for the share spent runnable, waiting for a CPU
                 (a thread resumed by PTRACE_CONT may have to wait for one)
  throughput ×   the workload's rounds/s while profiled over the same in the
                 baseline window just before; median of the pairs (range)
  CPU % run      profiler's utime+stime (wait4 rusage) over its whole run,
                 start to exit, as a share of one core; perf's end-of-run
                 processing included
  CPU % window   the same from its schedstat, over the measured window only
  tail s         profiler's wall time minus its window: how long after the
                 window its output was complete
  post s         CPU seconds of `perf script` over one of perf's outputs

The machine may be shared: every window also measures the CPU used by
everything else (/proc/stat busy time minus ours).  A pair in which that
exceeds --foreign-limit (% of one core) is "disturbed": it is redone, after
waiting up to 30 s for quiet (up to --rounds more pairs per row, and only
while the run is within --budget), and the figures use the undisturbed
pairs; the table says how many there were.

Writes bench/RESULTS.md (figures, machine, date, command); anything below
the line NOTES_MARK in an existing RESULTS.md is kept.  Every process it
starts runs in its own session and is killed on the way out, on errors and
on Ctrl-C or SIGTERM too.
"""

import argparse
import datetime
import mmap
import os
import platform
import re
import resource
import select
import shlex
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(BENCH_DIR)
RESULTS_PATH = os.path.join(BENCH_DIR, "RESULTS.md")
NOTES_MARK = "<!-- Notes below this line are kept by bench/run.py -->"

COUNTER_SLOT = 64         # bytes per thread in the workload's counter file
READY_TIMEOUT = 10.0      # workload start-up
ATTACH_TIMEOUT = 10.0     # profiler start-up, until it is attached
SETTLE = 0.4              # after the attach condition, before measuring: what
                          # a profiler does once when it starts (pprobe loads
                          # debug info at its first samples) stays out of the
                          # "CPU % window" figure
PROFILER_EXTRA = 0.6      # profiler window = measured window + this
EXIT_GRACE = 60.0         # profiler exit after its window (perf dwarf is slow)
POST_TIMEOUT = 300.0      # perf script
QUIET_TIMEOUT = 30.0      # wait for a quiet machine after a disturbed pair
QUIET_SAMPLE = 0.5
CLK_TCK = os.sysconf("SC_CLK_TCK")

AIMS = {
    "stop_median_us": 30.0,
    "stopped_pct": {100: 0.3, 1000: 2.0},
    "cpu_pct_100hz": 1.0,
    "tail_s": 0.5,
}


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- processes

class Procs:
    """Every process we start, each in its own session, so its whole group
    (perf's `sleep` child too) can be killed by our own process group id.

    A new session is also a new scheduler autogroup (kernel.sched_autogroup_
    enabled), as when a profiler is started from a shell: the target and the
    profiler then compete as two groups.  CPU time is shared out between
    groups first and by niceness only within a group, so to keep other
    people's work from taking our CPUs, each session's group gets `nice`
    (/proc/PID/autogroup) besides the tasks' own niceness, inherited from
    the driver."""

    def __init__(self, nice=0):
        self.live = []
        self.nice = nice

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        self.live.append(p)
        if self.nice:
            try:
                with open("/proc/%d/autogroup" % p.pid, "w") as f:
                    f.write("%d\n" % self.nice)
            except OSError:
                pass  # no autogroups here, or p is already gone
        return p

    def reap(self, p, timeout):
        """wait4() p with a deadline; returns (exit code, rusage), or kills
        it and raises BenchError when the deadline passes.  The rusage
        includes p's waited-for children (perf's sleep)."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                self.forget(p)
                return p.returncode, ru
            if time.monotonic() > deadline:
                self.kill(p)
                raise BenchError("%s did not exit within %.0fs" % (p.args[0], timeout))
            time.sleep(0.005)

    def forget(self, p):
        """p has been reaped: kill what is left of its process group."""
        if p in self.live:
            self.live.remove(p)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self, p, sig=signal.SIGKILL):
        try:
            os.killpg(p.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        if p.returncode is None:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.forget(p)

    def kill_all(self):
        for p in list(self.live):
            self.kill(p)


def on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def wait_until(cond, timeout, what, proc=None):
    """Poll cond() every 2 ms until it is true; fail after timeout, or as
    soon as proc (the process that should make it true) has exited."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if proc is not None and proc.poll() is not None:
            raise BenchError("%s exited (status %s) before %s" % (proc.args[0], proc.returncode, what))
        if time.monotonic() > deadline:
            raise BenchError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(0.002)


# ------------------------------------------------------------------- /proc

def read_file(path):
    try:
        with open(path) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None


def tids_of(pid):
    try:
        return sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    except FileNotFoundError:
        return []


def status_field(pid, tid, name):
    s = read_file("/proc/%d/task/%d/status" % (pid, tid))
    if s is None:
        return None
    m = re.search(r"^%s:\s*(\S+)" % name, s, re.M)
    return m.group(1) if m else None


def schedstat(pid, tid):
    """(ns on CPU, ns waiting on a run queue) of one thread.  Both lag: the
    run time of a running thread is brought up to date at ticks and
    switches, a queued thread's current wait is added when it gets a CPU."""
    s = read_file("/proc/%d/task/%d/schedstat" % (pid, tid))
    if s is None:
        return None
    run, wait, _ = s.split()
    return int(run), int(wait)


def process_run_ns(pid):
    total = 0
    for tid in tids_of(pid):
        s = schedstat(pid, tid)
        if s:
            total += s[0]
    return total


def system_cpu_ns():
    """(busy, steal) ns of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        f_ = f.readline().split()
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in f_[1:9])
    scale = 1e9 / CLK_TCK
    return (user + nice + system + irq + softirq) * scale, steal * scale


def self_cpu_ns():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return (ru.ru_utime + ru.ru_stime) * 1e9


def children_of(pid):
    """(pid, comm) of every process whose parent is pid (this kernel has
    no /proc/PID/task/TID/children, so scan)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        s = read_file("/proc/%s/stat" % d)
        if not s:
            continue
        rp = s.rindex(")")
        fields = s[rp + 2:].split()
        if int(fields[1]) == pid:
            out.append((int(d), s[s.index("(") + 1:rp]))
    return out


def target_sane(pid):
    """After a profiler is gone: nobody traces the target and no thread is
    stopped.  Returns a complaint or None."""
    for tid in tids_of(pid):
        tracer = status_field(pid, tid, "TracerPid")
        state = status_field(pid, tid, "State")
        if tracer not in (None, "0"):
            return "thread %d still traced by %s" % (tid, tracer)
        if state in ("t", "T"):
            return "thread %d left in state %s" % (tid, state)
    return None


# ----------------------------------------------------------------- workload

class Workload:
    """A running bench/workload with its shared round counters mapped."""

    def __init__(self, procs, exe, threads, tmpdir, tag):
        self.procs = procs
        self.threads = threads
        self.counter_path = os.path.join(tmpdir, "counters.%s.%d" % (tag, threads))
        self.mm = None
        self.proc = procs.spawn([exe, "-t", str(threads), "-c", self.counter_path],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self._read_line(READY_TIMEOUT)
        m = re.match(r"ready (\d+)", line or "")
        if not m:
            self.close()
            raise BenchError("workload did not say 'ready PID' (got %r)" % line)
        self.pid = int(m.group(1))
        wait_until(lambda: len(tids_of(self.pid)) == threads, READY_TIMEOUT,
                   "the workload's %d threads" % threads, self.proc)
        with open(self.counter_path, "rb") as f:
            self.mm = mmap.mmap(f.fileno(), threads * COUNTER_SLOT, prot=mmap.PROT_READ)
        self.tids = tids_of(self.pid)
        self.last_rounds = 0

    def _read_line(self, timeout):
        fd = self.proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 256)
            if not chunk:
                return buf.decode(errors="replace") or None
            buf += chunk
        return buf.decode(errors="replace").strip()

    def rounds(self):
        """Sum of the threads' round counters: aligned 64-bit values that
        only grow; a pair of reads out of order (a torn copy) is read
        again."""
        total = 0
        for i in range(self.threads):
            a = struct.unpack_from("=Q", self.mm, i * COUNTER_SLOT)[0]
            b = struct.unpack_from("=Q", self.mm, i * COUNTER_SLOT)[0]
            while b < a or b - a > 1 << 32:
                a, b = b, struct.unpack_from("=Q", self.mm, i * COUNTER_SLOT)[0]
            total += b
        if total < self.last_rounds:
            raise BenchError("workload counters went backwards")
        self.last_rounds = total
        return total

    def snapshot(self, tids=None, tracer=None):
        """Everything a window is computed from, taken at one moment."""
        tids = tids if tids is not None else self.tids
        t = time.monotonic_ns()
        busy, steal = system_cpu_ns()
        snap = {
            "sched": {tid: schedstat(self.pid, tid) for tid in tids},
            "all_run": process_run_ns(self.pid),
            "rounds": self.rounds(),
            "tracer_run": process_run_ns(tracer) if tracer else 0,
            "self": self_cpu_ns(),
            "busy": busy,
            "steal": steal,
        }
        snap["ns"] = (t + time.monotonic_ns()) // 2
        if self.proc.poll() is not None:
            raise BenchError("workload exited (status %s)" % self.proc.returncode)
        return snap

    def close(self):
        if self.mm is not None:
            self.mm.close()
            self.mm = None
        self.procs.kill(self.proc, signal.SIGTERM)
        try:
            os.unlink(self.counter_path)
        except FileNotFoundError:
            pass


def window_figures(a, b):
    """Throughput, stopped time and foreign CPU between two snapshots."""
    wall = b["ns"] - a["ns"]
    stopped = waited = 0
    n = 0
    for tid, sa in a["sched"].items():
        sb = b["sched"].get(tid)
        if sa is None or sb is None:
            continue
        stopped += wall - ((sb[0] - sa[0]) + (sb[1] - sa[1]))
        waited += sb[1] - sa[1]
        n += 1
    if n == 0:
        raise BenchError("no thread of the workload survived the window")
    ours = ((b["all_run"] - a["all_run"]) + (b["tracer_run"] - a["tracer_run"]) +
            (b["self"] - a["self"]))
    return {
        "wall_ns": wall,
        "rate": (b["rounds"] - a["rounds"]) / (wall / 1e9),
        "stopped_ns": stopped,
        "wait_ns": waited,
        "thread_ns": n * wall,
        "stopped_pct": 100.0 * stopped / (n * wall),
        "tracer_pct": 100.0 * (b["tracer_run"] - a["tracer_run"]) / wall,
        "foreign_pct": 100.0 * max(0.0, (b["busy"] - a["busy"]) - ours) / wall,
        "steal_pct": 100.0 * (b["steal"] - a["steal"]) / wall,
    }


def measure(wl, window, tids=None, tracer=None):
    a = wl.snapshot(tids, tracer)
    time.sleep(window)
    b = wl.snapshot(tids, tracer)
    return window_figures(a, b)


def wait_quiet(wl, limit, log, until):
    """After a disturbed pair: wait (up to QUIET_TIMEOUT, and not past
    until) for the rest of the machine to use less than `limit` % of a
    core over QUIET_SAMPLE s."""
    deadline = min(time.monotonic() + QUIET_TIMEOUT, until)
    if time.monotonic() >= deadline:
        return False
    while True:
        f = measure(wl, QUIET_SAMPLE)["foreign_pct"]
        if f < limit:
            return True
        if time.monotonic() > deadline:
            log("    machine still busy (others use %.0f%% of a core); going on" % f)
            return False


# ---------------------------------------------------------------- profilers

DURATION_RE = re.compile(r"([0-9.]+)(ns|us|ms|s)")
UNITS_NS = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}


def parse_duration_ns(text):
    m = DURATION_RE.fullmatch(text)
    if not m:
        raise BenchError("cannot read duration %r" % text)
    return float(m.group(1)) * UNITS_NS[m.group(2)]


def parse_pprobe(stderr):
    """pprobe's -v line, e.g. "pprobe: stopped threads 295 times: median
    62.61us, p99 150.68us, total 19.81ms; 295 samples (...), 0 lost (...);
    1 late ticks" (the parts in brackets vary between versions)."""
    line = next((l for l in stderr.splitlines() if "stopped threads " in l), None)
    # Since the perf sampler, the line opens "pprobe: sampler ptrace; ".
    m = line and re.search(r"stopped threads (\d+) times: median (\S+), p99 (\S+), "
                           r"total ([^;\s]+);", line)
    if not m:
        raise BenchError("no -v line in pprobe's output:\n" + stderr)

    def count(what):
        c = re.search(r"(\d+) " + what, line)
        return int(c.group(1)) if c else 0

    return {
        "stops": int(m.group(1)),
        "stop_med_ns": parse_duration_ns(m.group(2)),
        "stop_p99_ns": parse_duration_ns(m.group(3)),
        "stop_total_ns": parse_duration_ns(m.group(4)),
        "samples": count("samples"),
        "lost": count("lost"),
        "late": count("late ticks"),
    }


def parse_perf(stderr):
    m = re.search(r"Captured and wrote ([0-9.]+) MB .*?\((\d+) samples\)", stderr)
    if not m:
        raise BenchError("perf did not say what it wrote:\n" + stderr)
    return {"samples": int(m.group(2)), "mb": float(m.group(1))}


def parse_bare(stdout):
    m = re.search(r"stops (\d+) median_ns (\d+) p99_ns (\d+) wait_ns (\d+) regs_ns (\d+) "
                  r"copy_ns (\d+) cont_ns (\d+) late (\d+)", stdout)
    if not m:
        raise BenchError("bare_loop printed no result: %r" % stdout)
    keys = ["stops", "stop_med_ns", "stop_p99_ns", "wait_ns", "regs_ns", "copy_ns", "cont_ns", "late"]
    return {k: int(v) for k, v in zip(keys, m.groups())}


def traced_by(wl, tracer, tids):
    return all(status_field(wl.pid, tid, "TracerPid") == str(tracer) for tid in tids)


def perf_started(perf_pid):
    # perf forks its `sleep` early but execs it only once its events are on.
    return any(comm == "sleep" for _, comm in children_of(perf_pid))


class Tool:
    """One profiler: its command line and how to tell it has attached."""

    def __init__(self, key, label):
        self.key, self.label = key, label

    def argv(self, args, pid, hz, duration, out):
        d = "%.3f" % duration
        if self.key == "pprobe":
            return [args.pprobe, "-p", str(pid), "-seconds", d, "-hz", str(hz), "-o", out, "-v"]
        graph = ["-g"] if self.key == "perf-fp" else ["--call-graph", "dwarf"]
        return (["perf", "record", "-e", "cpu-clock", "-F", str(hz)] + graph +
                ["-p", str(pid), "-o", out, "--", "sleep", d])

    def attached(self, wl, proc):
        if self.key == "pprobe":
            return traced_by(wl, proc.pid, wl.tids)
        return perf_started(proc.pid)


TOOLS = {
    "pprobe": Tool("pprobe", "pprobe"),
    "perf-fp": Tool("perf-fp", "perf -g (fp build)"),
    "perf-dwarf": Tool("perf-dwarf", "perf --call-graph dwarf"),
}


def run_profiled(procs, args, wl, tool, hz, tmpdir, keep_output=False):
    """One profiled window: start the tool, wait until it is attached,
    measure args.window seconds, reap it and collect its figures."""
    duration = args.window + PROFILER_EXTRA
    out = os.path.join(tmpdir, "%s.%d.%d.%s" % (tool.key, wl.threads, hz,
                                                 "pb.gz" if tool.key == "pprobe" else "data"))
    errpath = out + ".stderr"
    with open(errpath, "w") as err:
        t0 = time.monotonic()
        p = procs.spawn(tool.argv(args, wl.pid, hz, duration, out), stdout=subprocess.DEVNULL,
                        stderr=err)
        try:
            wait_until(lambda: tool.attached(wl, p), ATTACH_TIMEOUT, tool.label + " to attach", p)
            t_attached = time.monotonic()
            time.sleep(SETTLE)
            fig = measure(wl, args.window, tracer=p.pid)
            status, ru = procs.reap(p, duration + EXIT_GRACE)
        except BaseException:
            procs.kill(p)
            raise
        t_exit = time.monotonic()
    with open(errpath) as f:
        stderr = f.read()
    os.unlink(errpath)
    if status != 0:
        raise BenchError("%s exited with %s:\n%s" % (shlex.join(p.args), status, stderr))
    complaint = target_sane(wl.pid)
    if complaint:
        raise BenchError("after %s: %s" % (tool.label, complaint))
    cpu = ru.ru_utime + ru.ru_stime
    fig.update({
        "cpu_s": cpu,
        "cpu_pct": 100.0 * cpu / (t_exit - t0),
        "wall_s": t_exit - t0,
        "start_s": t_attached - t0,
        "tail_s": t_exit - t_attached - duration,
        "over_s": t_exit - t0 - duration,
        "duration": duration,
    })
    fig.update(parse_pprobe(stderr) if tool.key == "pprobe" else parse_perf(stderr))
    fig["samples_per_s"] = fig["samples"] / duration
    if keep_output:
        fig["output"] = out
    elif os.path.exists(out):
        os.unlink(out)
    return fig


def run_bare(procs, args, wl, hz):
    """The bare loop on the workload's main thread for one window; its
    stopped share is the main thread's alone."""
    p = procs.spawn([args.bare_loop, "-p", str(wl.pid), "-hz", str(hz), "-seconds",
                     "%.3f" % (args.window + PROFILER_EXTRA)],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: traced_by(wl, p.pid, [wl.pid]), ATTACH_TIMEOUT, "bare_loop to attach", p)
        time.sleep(SETTLE)
        fig = measure(wl, args.window, tids=[wl.pid], tracer=p.pid)
        out, err = p.communicate(timeout=args.window + EXIT_GRACE)
    except BaseException:
        procs.kill(p)
        raise
    procs.forget(p)
    if p.returncode != 0:
        raise BenchError("bare_loop exited with %s: %s" % (p.returncode, err.decode(errors="replace")))
    complaint = target_sane(wl.pid)
    if complaint:
        raise BenchError("after bare_loop: %s" % complaint)
    fig.update(parse_bare(out.decode()))
    return fig


def perf_post_cpu(procs, data):
    """CPU seconds of `perf script` over one perf.data: the unwinding and
    symbolizing perf leaves for later (pprobe does it while it runs)."""
    p = procs.spawn(["perf", "script", "-i", data], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
    try:
        status, ru = procs.reap(p, POST_TIMEOUT)
    finally:
        os.unlink(data)
    return ru.ru_utime + ru.ru_stime if status == 0 else None


def perf_usable(procs, tmpdir):
    if not shutil.which("perf"):
        return "perf is not installed"
    out = os.path.join(tmpdir, "probe.data")
    p = procs.spawn(["perf", "record", "-e", "cpu-clock", "-F", "99", "-g", "-o", out, "--", "true"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = p.communicate(timeout=30)
    finally:
        procs.forget(p)
    if os.path.exists(out):
        os.unlink(out)
    if p.returncode != 0:
        return "perf record -e cpu-clock fails here: " + err.decode(errors="replace").strip()[-300:]
    return None


# --------------------------------------------------------------- the bench

def run_pairs(procs, args, wl, keys, hz, tmpdir, res, log, extras_until):
    """Paired windows on one workload for the tools in keys, interleaved
    (the order flips each round): args.rounds pairs each, then, until
    extras_until (monotonic time), more to replace disturbed ones, up to
    2 * args.rounds pairs in all."""
    want = {k: args.rounds for k in keys}
    tries = {k: 0 for k in keys}
    r = 0
    while True:
        extras = time.monotonic() < extras_until
        todo = [k for k in keys if (tries[k] < args.rounds or
                                    (extras and want[k] > 0 and tries[k] < 2 * args.rounds))]
        if not todo:
            return
        if r % 2:
            todo.reverse()
        r += 1
        for key in todo:
            tool = TOOLS[key]
            keep = key != "pprobe" and key not in res["post"]
            base = measure(wl, args.window)
            fig = run_profiled(procs, args, wl, tool, hz, tmpdir, keep)
            if keep:
                res["post"][key] = perf_post_cpu(procs, fig.pop("output"))
            foreign = max(base["foreign_pct"], fig["foreign_pct"])
            clean = foreign < args.foreign_limit
            tries[key] += 1
            want[key] -= clean
            res["pairs"][key].append({"base": base, "fig": fig, "clean": clean})
            log("  %-24s pair %d: throughput %.3f, stopped %+.3f%%, CPU %.2f%% (window %.2f%%), "
                "start %.3fs, tail %.3fs%s" % (
                tool.label, tries[key], fig["rate"] / base["rate"],
                fig["stopped_pct"] - base["stopped_pct"], fig["cpu_pct"], fig["tracer_pct"],
                fig["start_s"], fig["tail_s"],
                "" if clean else ", DISTURBED: others used %.0f%% of a core" % foreign))
            if not clean:
                wait_quiet(wl, args.foreign_limit, log, extras_until)


def run_config(procs, args, threads, hz, tmpdir, tools, log, extras_until):
    """Every measurement for one workload size and one rate; redone pairs
    and waits for quiet only until extras_until."""
    res = {"threads": threads, "hz": hz, "pairs": {k: [] for k in tools}, "post": {}, "bare": [],
           "min_clean": (args.rounds + 1) // 2}
    nofp = [k for k in tools if k != "perf-fp"]
    if nofp or args.bare:
        wl = Workload(procs, args.workload, threads, tmpdir, "nofp")
        try:
            run_pairs(procs, args, wl, nofp, hz, tmpdir, res, log, extras_until)
            for i in range(3 if args.bare else 0):
                if i and time.monotonic() >= extras_until:
                    break
                b = run_bare(procs, args, wl, hz)
                b["clean"] = b["foreign_pct"] < args.foreign_limit
                res["bare"].append(b)
                log("  bare loop: median %.1fus p99 %.1fus%s" % (
                    b["stop_med_ns"] / 1e3, b["stop_p99_ns"] / 1e3,
                    "" if b["clean"] else ", DISTURBED: others used %.0f%% of a core" % b["foreign_pct"]))
                if b["clean"]:
                    break
                wait_quiet(wl, args.foreign_limit, log, extras_until)
        finally:
            wl.close()
    if "perf-fp" in tools:
        wl = Workload(procs, args.workload_fp, threads, tmpdir, "fp")
        try:
            run_pairs(procs, args, wl, ["perf-fp"], hz, tmpdir, res, log, extras_until)
        finally:
            wl.close()
    return res


# ----------------------------------------------------------------- summary

def med(xs):
    return statistics.median(xs) if xs else None


def summarize(res):
    """One row per tool (medians over its undisturbed pairs, or over all
    of them when fewer than half the pairs asked for were undisturbed),
    the bare loop after pprobe."""
    rows = []
    for key, pairs in res["pairs"].items():
        if not pairs:
            continue
        clean = [p for p in pairs if p["clean"]]
        used = clean if len(clean) >= max(1, res["min_clean"]) else pairs
        figs = [p["fig"] for p in used]
        bases = [p["base"] for p in used]
        ratios = [f["rate"] / b["rate"] for f, b in zip(figs, bases)]
        # Stopped shares pooled over the pairs: the schedstat lag at each
        # window's edges is noise that averages out.
        def pooled(key, ws):
            return 100.0 * sum(w[key] for w in ws) / sum(w["thread_ns"] for w in ws)

        f_stop, b_stop = pooled("stopped_ns", figs), pooled("stopped_ns", bases)
        f_wait, b_wait = pooled("wait_ns", figs), pooled("wait_ns", bases)
        row = {
            "key": key,
            "label": TOOLS[key].label,
            "pairs": len(pairs),
            "used": len(used),
            "clean": sum(p["clean"] for p in pairs),
            "ratio": med(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "stopped_pct": f_stop,
            "base_stopped_pct": b_stop,
            "stopped_diff_pct": f_stop - b_stop,
            "wait_pct": f_wait,
            "base_wait_pct": b_wait,
            "cpu_pct": med([f["cpu_pct"] for f in figs]),
            "tracer_pct": med([f["tracer_pct"] for f in figs]),
            "start_s": med([f["start_s"] for f in figs]),
            "tail_s": med([f["tail_s"] for f in figs]),
            "over_s": med([f["over_s"] for f in figs]),
            "over_max_s": max(f["over_s"] for f in figs),
            "samples_per_s": med([f["samples_per_s"] for f in figs]),
            "post_cpu_s": res["post"].get(key),
            "foreign_pct": med([max(p["base"]["foreign_pct"], p["fig"]["foreign_pct"]) for p in used]),
            "steal_pct": med([p["fig"]["steal_pct"] for p in used]),
        }
        if key == "pprobe":
            row["stop_med_ns"] = med([f["stop_med_ns"] for f in figs])
            row["stop_p99_ns"] = med([f["stop_p99_ns"] for f in figs])
            row["stop_p99_max_ns"] = max(f["stop_p99_ns"] for f in figs)
            row["lost"] = sum(f["lost"] for f in figs)
            row["late"] = sum(f["late"] for f in figs)
            row["late_per_s"] = med([f["late"] / f["duration"] for f in figs])
            # A run in which pprobe used no CPU in the measured window did
            # not sample in it: attached, but idle.
            idle = [f for f in figs if f["tracer_pct"] < 0.05]
            row["idle"] = len(idle)
            row["idle_over_s"] = [f["over_s"] for f in idle]
        rows.append(row)
    if res["bare"]:
        b = next((b for b in res["bare"] if b["clean"]), res["bare"][-1])
        at = 1 if rows and rows[0]["key"] == "pprobe" else 0
        rows.insert(at, {
            "key": "bare", "label": "bare loop (main thread)", "bare": b,
            "stop_med_ns": b["stop_med_ns"], "stop_p99_ns": b["stop_p99_ns"],
            "stopped_pct": b["stopped_pct"], "tracer_pct": b["tracer_pct"],
            "clean": int(b["clean"]), "pairs": 1,
        })
    return rows


def fmt_us(ns):
    if ns is None:
        return "-"
    return "%.1f" % (ns / 1e3) if ns < 1e7 else "%.0f" % (ns / 1e3)


def fmt(v, spec):
    return "-" if v is None else spec % v


COLUMNS = ["workload", "Hz", "tool", "stop med µs", "stop p99 µs", "Δ stopped % (base)",
           "Δ wait % (base)",
           "throughput × (range)", "CPU % run", "CPU % window", "start s", "tail s", "post s", "samples/s",
           "clean pairs"]


def wl_name(res):
    return "%d thread%s" % (res["threads"], "" if res["threads"] == 1 else "s")


def table_rows(all_res):
    out = []
    for res in all_res:
        for row in summarize(res):
            if row["key"] == "bare":
                out.append([wl_name(res), str(res["hz"]), row["label"], fmt_us(row["stop_med_ns"]),
                            fmt_us(row["stop_p99_ns"]), "%.3f (main thread)" % row["stopped_pct"],
                            "-", "-", "-", "%.2f" % row["tracer_pct"], "-", "-", "-", "-",
                            "%d/%d" % (row["clean"], row["pairs"])])
                continue
            out.append([
                wl_name(res), str(res["hz"]), row["label"],
                fmt_us(row.get("stop_med_ns")), fmt_us(row.get("stop_p99_ns")),
                "%+.3f (%.3f)" % (row["stopped_diff_pct"], row["base_stopped_pct"]),
                "%+.2f (%.2f)" % (row["wait_pct"] - row["base_wait_pct"], row["base_wait_pct"]),
                "%.3f (%.3f-%.3f)" % (row["ratio"], row["ratio_min"], row["ratio_max"]),
                "%.2f" % row["cpu_pct"], "%.2f" % row["tracer_pct"], "%.3f" % row["start_s"],
                "%.3f" % row["tail_s"],
                fmt(row["post_cpu_s"], "%.2f"), "%.0f" % row["samples_per_s"],
                "%d/%d%s" % (row["clean"], row["pairs"], "" if row["used"] == row["clean"] else " (all used)"),
            ])
    return out


def text_table(rows):
    widths = [max(len(COLUMNS[i]), *(len(r[i]) for r in rows)) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    prev = None
    for r in rows:
        shown = list(r)
        if (r[0], r[1]) == prev:
            shown[0] = shown[1] = ""
        prev = (r[0], r[1])
        lines.append("  ".join(c.ljust(w) for c, w in zip(shown, widths)).rstrip())
    return "\n".join(lines)


def md_table(rows):
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    lines.extend("| " + " | ".join(r) + " |" for r in rows)
    return "\n".join(lines)


def detail_lines(all_res):
    """The bare loop's steps, pprobe's sampling shortfall, the machine's
    own noise."""
    lines = []
    for res in all_res:
        name = "%s, %d Hz" % (wl_name(res), res["hz"])
        for row in summarize(res):
            if row["key"] == "bare":
                b = row["bare"]
                lines.append("%s: bare loop, %d stops: median %.1f µs; step medians: wait for the "
                             "stop %.1f, GETREGSET %.1f, 8 KiB readv %.1f, CONT %.1f µs; %d late" % (
                                 name, b["stops"], b["stop_med_ns"] / 1e3, b["wait_ns"] / 1e3,
                                 b["regs_ns"] / 1e3, b["copy_ns"] / 1e3, b["cont_ns"] / 1e3, b["late"]))
            elif row["key"] == "pprobe":
                lines.append("%s: pprobe took %.0f samples/s (%d Hz x %d threads asked), %.1f late "
                             "ticks/s, %d samples lost; worst p99 stop %.1f µs" % (
                                 name, row["samples_per_s"], res["hz"], res["threads"],
                                 row["late_per_s"], row["lost"], row["stop_p99_max_ns"] / 1e3))
                if row["idle"]:
                    lines.append("%s: in %d of %d runs pprobe used no CPU in the measured "
                                 "window (attached but not sampling); they ended %s s after "
                                 "-seconds" % (name, row["idle"], row["used"], ", ".join(
                                     "%.2f" % x for x in row["idle_over_s"])))
        others = [r["foreign_pct"] for r in summarize(res) if r.get("foreign_pct") is not None]
        steal = [r["steal_pct"] for r in summarize(res) if r.get("steal_pct") is not None]
        if others:
            lines.append("%s: the rest of the machine used %.1f%% of a core (median over the "
                         "rows' pairs), steal %.1f%%" % (name, med(others), med(steal)))
    return lines


def aims_check(all_res):
    """The issue's aims against pprobe's figures."""
    lines = []
    ok = lambda c: "met" if c else "**not met**"
    for res in all_res:
        p = next((r for r in summarize(res) if r["key"] == "pprobe"), None)
        if not p:
            continue
        name = "%s, %d Hz" % (wl_name(res), res["hz"])
        med_us = p["stop_med_ns"] / 1e3
        lines.append("%s: median stop %.1f µs (aim ≤ %.0f µs): %s" % (
            name, med_us, AIMS["stop_median_us"], ok(med_us <= AIMS["stop_median_us"])))
        lim = AIMS["stopped_pct"].get(res["hz"])
        if lim is not None:
            lines.append("%s: target stopped %.3f%% of the time more than without (aim ≤ %.1f%%): %s" % (
                name, p["stopped_diff_pct"], lim, ok(p["stopped_diff_pct"] <= lim)))
        if res["hz"] == 100:
            lines.append("%s: pprobe used %.2f%% of a core over its run, %.2f%% in the window "
                         "(aim < %.0f%%): %s" % (name, p["cpu_pct"], p["tracer_pct"],
                                                 AIMS["cpu_pct_100hz"],
                                                 ok(p["cpu_pct"] < AIMS["cpu_pct_100hz"])))
        lines.append("%s: pprobe's wall time minus -seconds %.3f s, worst %.3f s (aim: profile written "
                     "within %.1f s of the window's end): %s" % (
                         name, p["over_s"], p["over_max_s"], AIMS["tail_s"],
                         ok(p["over_max_s"] <= AIMS["tail_s"])))
    return lines


# -------------------------------------------------------------- the report

def machine_info():
    ci = read_file("/proc/cpuinfo") or ""
    m = re.search(r"^model name\s*:\s*(.*)$", ci, re.M)
    perf = "perf not installed"
    if shutil.which("perf"):
        perf = subprocess.run(["perf", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "cpu": m.group(1).strip() if m else "unknown CPU",
        "os": (read_file("/etc/debian_version") or "?").strip(),
        "perf": perf,
    }


def git_describe():
    try:
        head = subprocess.run(["git", "-C", SOURCE_DIR, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", SOURCE_DIR, "status", "--porcelain", "--", "src", "include"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (head or "unknown") + (" plus uncommitted changes in src/ or include/" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def write_results(args, all_res, rows, started, elapsed, skipped, source):
    notes = ""
    old = read_file(RESULTS_PATH)
    if old and NOTES_MARK in old:
        notes = old[old.index(NOTES_MARK) + len(NOTES_MARK):].strip("\n")
    mi = machine_info()
    t = ["# pprobe overhead benchmark: results", "",
         "Written by `bench/run.py`; bench/README.md explains the columns and how each is measured.",
         "",
         "- Date: %s (the run took %.0f s)" % (started.strftime("%Y-%m-%d %H:%M:%S %Z").strip(), elapsed),
         "- Command: `bench/run.py %s`" % shlex.join(sys.argv[1:]),
         "- pprobe: `%s`; the source tree was at %s when the run started" % (args.pprobe, source),
         "- Machine: %s CPUs (%s), Linux %s, Debian %s, %s" % (
             mi["nproc"], mi["cpu"], mi["kernel"], mi["os"], mi["perf"]),
         "- Niceness of the driver, the workload and the profilers, and of their sessions' "
         "scheduler autogroups: %d" % args.nice,
         "- Pairs: %d undisturbed pairs of %.1f s windows wanted per row (baseline, then profiled); "
         "each profiler runs for its window + %.1f s; a pair is disturbed when the rest of the "
         "machine used ≥ %.0f%% of a core in it" % (args.rounds, args.window, PROFILER_EXTRA,
                                                    args.foreign_limit)]
    t += ["- Skipped: " + s for s in skipped]
    t += ["", "## Figures", "", md_table(rows), "",
          "Medians over the undisturbed pairs (over all pairs, marked *all used*, when fewer than "
          "half the pairs asked for were undisturbed); *range* is the lowest and "
          "highest throughput ratio; *Δ stopped %* and *Δ wait %* are pooled over the pairs, "
          "profiled minus baseline, the baseline's own in brackets; *post s* is `perf script` CPU seconds over "
          "one perf.data of that row, not included in *CPU %*. The bare loop row is one run "
          "sampling the main thread only.", "",
          "## Details", ""]
    t += ["- " + l for l in detail_lines(all_res)]
    t += ["", "## Against the issue's aims", ""]
    t += ["- " + l for l in aims_check(all_res)]
    t += ["", NOTES_MARK]
    if notes:
        t += ["", notes]
    with open(RESULTS_PATH + ".tmp", "w") as f:
        f.write("\n".join(t) + "\n")
    os.replace(RESULTS_PATH + ".tmp", RESULTS_PATH)


# --------------------------------------------------------------------- main

def build_bench(args, log):
    build = args.bench_build
    log("building the bench programs in %s" % build)
    for cmd in (["cmake", "-S", BENCH_DIR, "-B", build], ["cmake", "--build", build]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise BenchError("%s failed:\n%s%s" % (shlex.join(cmd), r.stdout, r.stderr))
    args.workload = os.path.join(build, "workload")
    args.workload_fp = os.path.join(build, "workload_fp")
    args.bare_loop = os.path.join(build, "bare_loop")


def int_list(text):
    return [int(x) for x in text.split(",") if x]


def main():
    # Set, it would have pprobe (and perf) fetch debug info after each window.
    os.environ.pop("DEBUGINFOD_URLS", None)
    ap = argparse.ArgumentParser(description="Measure what pprobe costs its target, beside perf.")
    ap.add_argument("--pprobe", required=True, help="the pprobe binary to measure")
    ap.add_argument("--quick", action="store_true", help="1 pair of 1 s windows per row (a smoke run)")
    ap.add_argument("--rounds", type=int, help="undisturbed pairs wanted per row (default 5)")
    ap.add_argument("--window", type=float, help="seconds per window (default 3)")
    ap.add_argument("--threads", type=int_list, default=[1, 4], help="workload sizes (default 1,4)")
    ap.add_argument("--hz", type=int_list, default=[100, 1000], help="rates (default 100,1000)")
    ap.add_argument("--tools", default="pprobe,perf-fp,perf-dwarf",
                    help="tools to run (default pprobe,perf-fp,perf-dwarf)")
    ap.add_argument("--no-bare", dest="bare", action="store_false", help="skip the bare loop")
    ap.add_argument("--foreign-limit", type=float, default=10.0,
                    help="%% of a core others may use before a pair counts as disturbed (default 10)")
    ap.add_argument("--budget", type=float,
                    help="seconds the whole run may take before disturbed pairs are no longer "
                         "redone (default 540; --quick 120)")
    ap.add_argument("--nice", type=int, default=-20,
                    help="niceness for the driver and everything it starts (default -20: a busy "
                         "machine's other work gets little CPU from ours; 0 to leave it)")
    ap.add_argument("--bench-build", default=os.path.join(tempfile.gettempdir(), "pprobe-bench-build"),
                    help="build directory for the bench programs")
    ap.add_argument("--no-results", action="store_true", help="do not write bench/RESULTS.md")
    args = ap.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.window = args.window or (1.0 if args.quick else 3.0)
    args.budget = args.budget or (120.0 if args.quick else 540.0)
    args.pprobe = os.path.abspath(args.pprobe)
    if not os.access(args.pprobe, os.X_OK):
        ap.error("%s is not an executable" % args.pprobe)
    tools = [t for t in args.tools.split(",") if t]
    for t in tools:
        if t not in TOOLS:
            ap.error("unknown tool %r (pprobe, perf-fp, perf-dwarf)" % t)

    def log(msg):
        print("bench: " + msg, file=sys.stderr, flush=True)

    signal.signal(signal.SIGTERM, on_sigterm)
    procs = Procs(args.nice)
    tmpdir = tempfile.mkdtemp(prefix="pprobe-bench.")
    started = datetime.datetime.now().astimezone()
    source = git_describe()
    t0 = time.monotonic()
    skipped = []
    try:
        if os.geteuid() != 0:
            log("not root: attaching needs CAP_SYS_PTRACE, or the same user and ptrace_scope 0")
        if args.nice:
            # Inherited by the workload, the profilers and the bare loop.
            try:
                os.setpriority(os.PRIO_PROCESS, 0, args.nice)
            except OSError as e:
                log("cannot set niceness %d: %s" % (args.nice, e))
                args.nice = procs.nice = os.getpriority(os.PRIO_PROCESS, 0)
        build_bench(args, log)
        if any(t.startswith("perf") for t in tools):
            why = perf_usable(procs, tmpdir)
            if why:
                skipped.append("perf rows: " + why)
                log("skipping perf: " + why)
                tools = [t for t in tools if not t.startswith("perf")]
        all_res = []
        configs = [(n, hz) for n in args.threads for hz in args.hz]
        for i, (n, hz) in enumerate(configs):
            # Each configuration may spend its share of what is left of
            # the budget on redoing disturbed pairs.
            left = args.budget - (time.monotonic() - t0)
            extras_until = time.monotonic() + left / (len(configs) - i)
            log("%d thread(s), %d Hz" % (n, hz))
            all_res.append(run_config(procs, args, n, hz, tmpdir, tools, log, extras_until))
        elapsed = time.monotonic() - t0
        rows = table_rows(all_res)
        print(text_table(rows))
        print()
        for l in detail_lines(all_res):
            print(l)
        print()
        for l in aims_check(all_res):
            print("aim: " + l.replace("**", ""))
        if not args.no_results:
            write_results(args, all_res, rows, started, elapsed, skipped, source)
            log("wrote %s (%.0f s)" % (RESULTS_PATH, elapsed))
        return 0
    except BenchError as e:
        log("error: %s" % e)
        return 1
    finally:
        procs.kill_all()
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
