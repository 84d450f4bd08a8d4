#!/usr/bin/env python3
"""bench/wall.py - what `pprobe -mode wall` costs a busy thread among 1000 sleepers.

    bench/wall.py --pprobe /tmp/bench2/pprobe [--pairs 3] [--seconds 5] [--sleepers 1000]

Builds a small workload with gcc in a temp dir (its source is WORKLOAD_C
below, written there as wall_workload.c): --sleepers threads blocked in
pthread_cond_wait on a condvar nobody signals, and one busy thread spinning
through a noinline function, counting its iterations in a shared counter
file (as bench/workload.c does) that the driver reads without stopping it.

Then, on the same workload process, --pairs pairs of windows:

  baseline  nothing attached, --seconds long
  profiled  pprobe -mode wall -hz 100 -seconds S -v -o TMP -p PID, measured
            from its launch to its exit (attach and detach included)

and per window, for the busy thread only:

  stopped %     1 - (Δrun + Δwait) / Δwall from /proc/PID/task/TID/schedstat
                (ns on CPU, ns runnable waiting for a CPU): the share of the
                window it could not run (stopped by ptrace, or blocked)
  throughput    Δcounter / Δwall; profiled over the baseline just before it
  wait %        Δwait / Δwall: runnable but waiting for a CPU
  pprobe CPU %  pprobe's utime+stime (wait4 rusage) / its wall time

Figures are medians over the pairs.  Prints a markdown table and pprobe's
-v lines.  Every process started is killed on the way out.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

WORKLOAD_C = r"""
/* wall_workload.c - 1 busy thread + N sleepers (written by bench/wall.py).
 *   wall_workload N COUNTER_FILE
 * Prints "ready PID BUSY_TID" once every sleeper is in pthread_cond_wait's
 * futex wait (it waits for all of them to have taken and released the mutex)
 * and the busy thread runs; runs until killed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t started_cv = PTHREAD_COND_INITIALIZER;
static volatile int flag;
static int started;
static uint64_t *counter;
static volatile pid_t busy_tid;

static void *sleeper(void *a)
{
	(void)a;
	pthread_mutex_lock(&mu);
	started++;
	pthread_cond_signal(&started_cv);
	while (!flag)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return NULL;
}

__attribute__((noinline)) static uint64_t spin_step(uint64_t x)
{
	for (int i = 0; i < 64; i++) {
		x ^= x >> 33;
		x *= 0xff51afd7ed558ccdull;
		x ^= x >> 29;
	}
	return x;
}

__attribute__((noinline)) static void spin_loop(void)
{
	uint64_t x = 12345, n = 0;
	for (;;) {
		x = spin_step(x);
		__atomic_store_n(counter, ++n, __ATOMIC_RELAXED);
		if (x == 42)
			counter[1] = x;
	}
}

static void *busy(void *a)
{
	(void)a;
	busy_tid = (pid_t)syscall(SYS_gettid);
	spin_loop();
	return NULL;
}

int main(int argc, char **argv)
{
	int n, fd;
	pthread_attr_t attr;
	pthread_t t;

	if (argc != 3)
		return 2;
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	n = atoi(argv[1]);
	fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 64) != 0)
		return 1;
	counter = mmap(NULL, 64, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (counter == MAP_FAILED)
		return 1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	for (int i = 0; i < n; i++)
		if (pthread_create(&t, &attr, sleeper, NULL))
			return 1;
	pthread_mutex_lock(&mu);
	while (started < n)
		pthread_cond_wait(&started_cv, &mu);
	pthread_mutex_unlock(&mu);
	if (pthread_create(&t, &attr, busy, NULL))
		return 1;
	while (!busy_tid)
		usleep(1000);
	usleep(200000); /* the last sleepers reach their futex wait */
	printf("ready %d %d\n", (int)getpid(), (int)busy_tid);
	fflush(stdout);
	for (;;)
		pause();
}
"""

live = []


def spawn(argv, **kw):
    p = subprocess.Popen(argv, start_new_session=True, **kw)
    live.append(p)
    return p


def kill_all():
    for p in list(live):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        live.remove(p)


def schedstat(pid, tid):
    with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
        run, wait, _ = f.read().split()
    return int(run), int(wait)


def counter(path):
    with open(path, "rb") as f:
        return struct.unpack("=Q", f.read(8))[0]


def snap(pid, tid, cpath):
    t = time.monotonic_ns()
    run, wait = schedstat(pid, tid)
    return t, run, wait, counter(cpath)


def measure(a, b):
    dt = b[0] - a[0]
    stopped = 1.0 - ((b[1] - a[1]) + (b[2] - a[2])) / dt
    rate = (b[3] - a[3]) / (dt / 1e9)
    return stopped, rate, dt / 1e9, (b[2] - a[2]) / dt


def check_clean(pid):
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            text = f.read()
        tracer = re.search(r"^TracerPid:\s*(\d+)", text, re.M).group(1)
        state = re.search(r"^State:\s*(\S)", text, re.M).group(1)
        if tracer != "0" or state in "tT":
            raise RuntimeError("after pprobe: task %s state %s tracer %s" % (tid, state, tracer))


def main():
    # Set, it would have pprobe (and perf) fetch debug info after each window.
    os.environ.pop("DEBUGINFOD_URLS", None)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pprobe", default="/tmp/bench2/pprobe")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--hz", type=int, default=100)
    ap.add_argument("--sleepers", type=int, default=1000)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="pprobe-wallbench.")
    rows = []
    vlines = []
    try:
        src = os.path.join(tmp, "wall_workload.c")
        exe = os.path.join(tmp, "wall_workload")
        with open(src, "w") as f:
            f.write(WORKLOAD_C)
        subprocess.run(["gcc", "-O2", "-g", "-pthread", "-o", exe, src], check=True)
        cpath = os.path.join(tmp, "counter")
        wl = spawn([exe, str(args.sleepers), cpath], stdout=subprocess.PIPE, text=True)
        m = re.match(r"ready (\d+) (\d+)", wl.stdout.readline())
        if not m:
            raise RuntimeError("workload did not start")
        pid, tid = int(m.group(1)), int(m.group(2))
        ntasks = len(os.listdir("/proc/%d/task" % pid))
        time.sleep(0.5)
        for i in range(args.pairs):
            a = snap(pid, tid, cpath)
            time.sleep(args.seconds)
            base = measure(a, snap(pid, tid, cpath))
            out = os.path.join(tmp, "prof%d.pb.gz" % i)
            argv = [args.pprobe, "-mode", "wall", "-hz", str(args.hz),
                    "-seconds", "%g" % args.seconds, "-v", "-o", out, "-p", str(pid)]
            a = snap(pid, tid, cpath)
            p = spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            _, status, ru = os.wait4(p.pid, 0)
            b = snap(pid, tid, cpath)
            p.returncode = os.waitstatus_to_exitcode(status)
            err = p.stderr.read()
            p.stderr.close()
            live.remove(p)
            if p.returncode != 0:
                raise RuntimeError("pprobe exited %d: %s" % (p.returncode, err[-800:]))
            check_clean(pid)
            prof = measure(a, b)
            cpu = (ru.ru_utime + ru.ru_stime) / prof[2]
            rows.append((base, prof, cpu))
            vlines.append(" | ".join(l.strip() for l in err.splitlines() if l.startswith("pprobe:")))
            print("pair %d: baseline stopped %.3f%% rate %.0f/s; profiled stopped %.3f%% "
                  "rate %.0f/s ratio %.4f wall %.2f s; pprobe CPU %.2f%%"
                  % (i + 1, base[0] * 100, base[1], prof[0] * 100, prof[1],
                     prof[1] / base[1], prof[2], cpu * 100), file=sys.stderr, flush=True)
    finally:
        kill_all()
        shutil.rmtree(tmp, ignore_errors=True)

    med = statistics.median
    bs = [r[0][0] * 100 for r in rows]
    ps = [r[1][0] * 100 for r in rows]
    ratio = [r[1][1] / r[0][1] for r in rows]
    cpu = [r[2] * 100 for r in rows]
    bw = [r[0][3] * 100 for r in rows]
    pw = [r[1][3] * 100 for r in rows]
    wall = [r[1][2] for r in rows]
    f = lambda xs, fmt: ", ".join(fmt % x for x in xs)
    print("Target: %d tasks (main, %d sleepers, 1 busy); pprobe -mode wall -hz %d -seconds %g."
          % (ntasks, args.sleepers, args.hz, args.seconds))
    print()
    print("| figure | median | pairs |")
    print("|---|---|---|")
    print("| busy thread stopped %%, profiled (launch to exit) | %.3f | %s |" % (med(ps), f(ps, "%.3f")))
    print("| busy thread stopped %%, baseline | %.3f | %s |" % (med(bs), f(bs, "%.3f")))
    print("| busy thread runnable-waiting %%, profiled | %.3f | %s |" % (med(pw), f(pw, "%.3f")))
    print("| busy thread runnable-waiting %%, baseline | %.3f | %s |" % (med(bw), f(bw, "%.3f")))
    print("| busy thread throughput, profiled / baseline | %.4f | %s |" % (med(ratio), f(ratio, "%.4f")))
    print("| pprobe CPU %% of a core (utime+stime / its wall) | %.2f | %s |" % (med(cpu), f(cpu, "%.2f")))
    print("| pprobe wall s | %.2f | %s |" % (med(wall), f(wall, "%.2f")))
    print()
    for i, v in enumerate(vlines):
        print("- pair %d, pprobe -v: `%s`" % (i + 1, v))


if __name__ == "__main__":
    try:
        main()
    finally:
        kill_all()
