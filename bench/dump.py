#!/usr/bin/env python3
"""bench/dump.py - `pprobe dump` against eu-stack and gdb on many threads.

    bench/dump.py --build /tmp/bench2 [--threads 10,100,1000] [--runs 3]

For each thread count, starts the fixture dump_many (fixtures/dump/many:
N waiter threads parked on a condvar plus a heartbeat thread that sleeps
1 ms at a time and records the largest gap between its wake-ups), then runs
each tool on it --runs times, round robin:

  pprobe     pprobe dump -p PID -v           (stdout discarded)
  eu-stack   eu-stack -p PID                 (stdout discarded)
  gdb        gdb -batch -p PID -ex 'thread apply all bt'  (stdout discarded)

and measures per run:

  wall s        launch to exit of the tool (time.monotonic around wait4)
  heartbeat ms  the largest gap between the heartbeat's wake-ups in the
                status windows that overlap the tool's run, minus the 1 ms
                the heartbeat sleeps: how long that thread was kept from
                running.  The fixture rewrites its status file every 50
                beats (~55 ms) with that window's largest gap and its start
                and end (CLOCK_MONOTONIC, the clock time.monotonic reads);
                the driver polls the file every 2 ms so it sees every
                window, and after the tool exits waits for a window that
                ends after the exit.  A window is counted when it ends after
                the tool's launch and starts before its exit.
  pprobe frozen pprobe's own figure, from its -v line on stderr
                ("pprobe: process frozen X; ...").

Medians of the runs; the baseline row is the same heartbeat figure over
windows with no tool running (the noise floor).  Prints a markdown table.
Needs root (or ptrace rights over the fixture).  Every process started is
in its own session and is killed on the way out.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

SLEEP_NS = 1_000_000
POLL = 0.002
TOOL_TIMEOUT = 120.0

live = []


def spawn(argv, **kw):
    env = dict(os.environ)
    env.pop("DEBUGINFOD_URLS", None)  # no network look-ups by gdb/eu-stack
    p = subprocess.Popen(argv, start_new_session=True, env=env, **kw)
    live.append(p)
    return p


def kill_all():
    for p in live:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    live.clear()


def read_status(path):
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return None
    st = {}
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        try:
            st[k] = int(v)
        except ValueError:
            return None  # caught mid-rewrite
    return st if "seq" in st and "window_end_ns" in st else None


class Watcher:
    """Collects every status window (seq -> status) by polling."""

    def __init__(self, path):
        self.path = path
        self.windows = {}

    def poll(self):
        st = read_status(self.path)
        if st:
            self.windows.setdefault(st["seq"], st)
        return st

    def until(self, cond, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.poll()
            if st and cond(st):
                return st
            time.sleep(POLL)
        raise RuntimeError("fixture status %s did not advance" % self.path)

    def gap_ms(self, t0_ns, t1_ns):
        gaps = [w["window_max_gap_ns"] for w in self.windows.values()
                if w["window_end_ns"] >= t0_ns and w["window_start_ns"] <= t1_ns]
        return (max(gaps) - SLEEP_NS) / 1e6 if gaps else float("nan")


def parse_duration(s):
    m = re.fullmatch(r"([0-9.]+)(s|ms|us|ns)", s)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"s": 1e3, "ms": 1.0, "us": 1e-3, "ns": 1e-6}[m.group(2)]


def run_tool(argv, watcher):
    """Runs one tool while polling the status file; returns (wall s,
    heartbeat gap ms, stderr)."""
    watcher.until(lambda st: True, 10)
    t0 = time.monotonic()
    p = spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.set_blocking(p.stderr.fileno(), False)
    err = b""
    deadline = t0 + TOOL_TIMEOUT
    while True:
        pid, status, _ = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            t1 = time.monotonic()
            p.returncode = os.waitstatus_to_exitcode(status)
            break
        watcher.poll()
        try:
            chunk = p.stderr.read()
            if chunk:
                err += chunk
        except BlockingIOError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("%s did not finish in %.0f s" % (argv[0], TOOL_TIMEOUT))
        time.sleep(POLL)
    rest = p.stderr.read()
    if rest:
        err += rest
    p.stderr.close()
    live.remove(p)
    t0_ns, t1_ns = int(t0 * 1e9), int(t1 * 1e9)
    watcher.until(lambda st: st["window_end_ns"] > t1_ns, 10)
    if p.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (argv, p.returncode, err.decode(errors="replace")[-500:]))
    return t1 - t0, watcher.gap_ms(t0_ns, t1_ns), err.decode(errors="replace")


def check_healthy(pid):
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            text = f.read()
        tracer = re.search(r"^TracerPid:\s*(\d+)", text, re.M).group(1)
        state = re.search(r"^State:\s*(\S)", text, re.M).group(1)
        if tracer != "0" or state in "tT":
            raise RuntimeError("after a tool: task %s state %s tracer %s" % (tid, state, tracer))


def bench_threads(n, args, tmp):
    truth = os.path.join(tmp, "truth.%d" % n)
    fx = spawn([args.fixture, "--truth", truth, "--threads", str(n)],
               stdout=subprocess.PIPE, text=True)
    line = fx.stdout.readline()
    m = re.match(r"ready (\d+)", line)
    if not m:
        raise RuntimeError("dump_many: no ready line: %r" % line)
    pid = int(m.group(1))
    w = Watcher(truth + ".status")
    w.until(lambda st: True, 10)
    # baseline: ~1 s of windows with nothing attached
    b0 = int(time.monotonic() * 1e9)
    time.sleep(0.2)
    w.until(lambda st: st["window_start_ns"] > b0 + 1_000_000_000, 15)
    base = w.gap_ms(b0, int(time.monotonic() * 1e9))
    tools = {
        "pprobe dump": [args.pprobe, "dump", "-p", str(pid), "-v"],
        "eu-stack": ["eu-stack", "-p", str(pid)],
        "gdb": ["gdb", "-nx", "-batch", "-p", str(pid), "-ex", "thread apply all bt"],
    }
    res = {k: [] for k in tools}
    for r in range(args.runs):
        for name, argv in tools.items():
            time.sleep(0.3)
            wall, gap, err = run_tool(argv, w)
            frozen = float("nan")
            if name == "pprobe dump":
                m2 = re.search(r"pprobe: process frozen (\S+);", err)
                frozen = parse_duration(m2.group(1)) if m2 else float("nan")
            check_healthy(pid)
            res[name].append((wall, gap, frozen))
            print("  %4d threads run %d %-12s wall %.3f s heartbeat gap %.1f ms%s"
                  % (n, r + 1, name, wall, gap,
                     "" if frozen != frozen else " frozen(-v) %.2f ms" % frozen),
                  file=sys.stderr, flush=True)
    os.killpg(fx.pid, signal.SIGKILL)
    fx.wait()
    live.remove(fx)
    return base, res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="/tmp/bench2", help="cmake build dir (pprobe, fixtures/dump_many)")
    ap.add_argument("--pprobe")
    ap.add_argument("--fixture")
    ap.add_argument("--threads", default="10,100,1000")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    args.pprobe = args.pprobe or os.path.join(args.build, "pprobe")
    args.fixture = args.fixture or os.path.join(args.build, "fixtures", "dump_many")
    tmp = tempfile.mkdtemp(prefix="pprobe-dumpbench.")
    rows = []
    try:
        for n in [int(x) for x in args.threads.split(",")]:
            base, res = bench_threads(n, args, tmp)
            rows.append((n, base, res))
    finally:
        kill_all()
        shutil.rmtree(tmp, ignore_errors=True)

    med = statistics.median
    print("| threads | tool | wall s (median; runs) | heartbeat frozen ms (median; runs) | pprobe -v frozen ms (median; runs) |")
    print("|---|---|---|---|---|")
    for n, base, res in rows:
        for name, runs in res.items():
            walls = [x[0] for x in runs]
            gaps = [x[1] for x in runs]
            fro = [x[2] for x in runs]
            print("| %d | %s | %.3f (%s) | %.1f (%s) | %s |" % (
                n, name, med(walls), ", ".join("%.3f" % x for x in walls),
                med(gaps), ", ".join("%.1f" % x for x in gaps),
                "%.2f (%s)" % (med(fro), ", ".join("%.2f" % x for x in fro))
                if name == "pprobe dump" else "-"))
        print("| %d | (no tool: baseline ~1 s) | - | %.1f | - |" % (n, base))


if __name__ == "__main__":
    try:
        main()
    finally:
        kill_all()
