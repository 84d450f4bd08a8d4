#!/usr/bin/env python3
"""bench/threads.py - how CPU-mode sampling and the dump scale with thread count.

    bench/threads.py --pprobe build/pprobe [--pprobe OTHER] [--many build/fixtures/safety_many]
                     [--threads 0,1000,10000] [--hz 100] [--seconds 3]

For each thread count N, starts the safety_many fixture (fixtures/safety/many)
with N threads blocked in pthread_cond_wait and 2 threads always on CPU
(--busy 2), and for each pprobe binary given:

  record  pprobe -v -hz HZ -seconds S -p PID (CPU mode), launch to exit:
          ticks taken (its -v line) of HZ*S asked, samples, pprobe's CPU
          (utime+stime from wait4) per tick, and the busy threads' CPU
          seconds in the run (from /proc/PID/task/TID/schedstat)
  dump    pprobe dump -p PID: wall seconds and pprobe's CPU seconds

Prints a markdown table.  Every process started is killed on the way out.
On a shared machine the wall-clock figures move with the load; CPU per
tick moves much less.
"""

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time


def cpu_ns(pid, tid):
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError):
        return 0


def start_many(many, n, tmp):
    truth = os.path.join(tmp, "many%d.truth" % n)
    p = subprocess.Popen([many, "--truth", truth, "--threads", str(n), "--busy", "2"],
                         stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    line = p.stdout.readline().decode().strip()
    if not line.startswith("ready "):
        p.kill()
        raise SystemExit("safety_many did not start: %r" % line)
    busy = []
    with open(truth) as f:
        for l in f:
            parts = l.split()
            if len(parts) == 2 and parts[1].startswith("busy"):
                busy.append(int(parts[0]))
    return p, busy


def run_measured(argv):
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    err = p.stderr.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, err, time.monotonic() - t0, ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pprobe", action="append", required=True)
    ap.add_argument("--many", default="build/fixtures/safety_many")
    ap.add_argument("--threads", default="0,1000,10000")
    ap.add_argument("--hz", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=3)
    a = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in a.threads.split(",")]:
            proc, busy = start_many(a.many, n, tmp)
            try:
                for pp in a.pprobe:
                    out = os.path.join(tmp, "out.pb.gz")
                    before = [cpu_ns(proc.pid, t) for t in busy]
                    rc, err, wall, cpu = run_measured(
                        [pp, "-v", "-p", str(proc.pid), "-hz", str(a.hz), "-seconds",
                         str(a.seconds), "-o", out])
                    busy_s = sum(cpu_ns(proc.pid, t) - b for t, b in zip(busy, before)) / 1e9
                    m = re.search(r"; (\d+) samples", err)
                    samples = int(m.group(1)) if m else -1
                    m = re.search(r"; (\d+) ticks", err)
                    ticks = int(m.group(1)) if m else None
                    drc, derr, dwall, dcpu = run_measured(
                        [pp, "dump", "-p", str(proc.pid), "-o", os.path.join(tmp, "d.txt")])
                    rows.append((n + 4, pp, rc, ticks, samples, busy_s, cpu, wall, drc, dwall,
                                 dcpu))
                    sys.stderr.write("%s\n" % err.strip().splitlines()[-1] if err.strip() else "")
            finally:
                proc.kill()
                proc.wait()
    print("| tasks | pprobe | ticks (of %d) | samples | busy CPU s | pprobe CPU ms/tick | "
          "record wall s | dump wall s | dump CPU s |" % int(a.hz * a.seconds))
    print("|---|---|---|---|---|---|---|---|---|")
    for (n, pp, rc, ticks, samples, busy_s, cpu, wall, drc, dwall, dcpu) in rows:
        per = "%.2f" % (cpu * 1000 / ticks) if ticks else "-"
        print("| %d | %s%s | %s | %d | %.2f | %s | %.1f | %.1f%s | %.2f |"
              % (n, pp, "" if rc == 0 else " (exit %d)" % rc, ticks if ticks is not None else "?",
                 samples, busy_s, per, wall, dwall, "" if drc == 0 else " (exit %d)" % drc,
                 dcpu))


if __name__ == "__main__":
    main()
