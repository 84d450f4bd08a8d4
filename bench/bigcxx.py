#!/usr/bin/env python3
"""bench/bigcxx.py - symbolizing a large C++ binary after the window.

    bench/bigcxx.py --pprobe BUILD/pprobe [--funcs 3000] [--seconds 5] [--hz 1000]
                    [--runs 3] [--no-results]

Issue 5, case 9: with a large C++ binary full of DWARF, the time from the
end of the window to the profile written must stay small.  This generates
a C++ program (--funcs template instantiations spread over eight
translation units that also pull in <map>, <string>, <vector>,
<functional> and <sstream>, so the DWARF is that of real C++), builds it
with g++ -O2 -g, runs it on CPU through every function in turn, and
measures, each --runs times on the same process:

  pprobe   -seconds S -hz HZ: its wall time minus S (attach, window end,
           unwinding the samples not yet unwound, symbolizing every
           location cold, writing the file);
  perf     `perf report --stdio` of a `perf record --call-graph dwarf -F HZ`
           of the same S seconds (perf's symbolization happens there);
  eu-stack `eu-stack -i -p PID`: one snapshot with inlined frames (libdw
           loading the same DWARF);
  gdb      `gdb -batch -p PID -ex 'thread apply all bt'`.

and prints the medians, the ratio of each to pprobe's, and how many
distinct functions pprobe's profiles name (with --decoder pprof_decode).  Writes a "## Large C++ binary" section
into bench/RESULTS.md (below the notes marker) unless --no-results.
"""

import argparse
import datetime
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)
import results  # noqa: E402

UNITS = 8
TEMPLATES = 30
HEADER = """#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>
#define BIG_NOINLINE __attribute__((noinline))
namespace big {
extern volatile unsigned long sink;
using fn = unsigned long (*)(unsigned long);
template <int K, typename T> struct Shape {
    std::map<std::string, std::vector<T>> parts;
    std::function<T(T)> step = [](T x) { return x * 3 + K; };
    static BIG_NOINLINE unsigned long spin(unsigned long x);
};
}
"""


def unit_source(u, funcs):
    lines = ['#include "big.hpp"', "namespace big {"]
    names = []
    for t in range(TEMPLATES):
        lines.append("template <int K, typename T> struct Op%d_%d {" % (u, t))
        lines.append("  static BIG_NOINLINE unsigned long run(unsigned long x) {")
        lines.append("    Shape<K, T> s; std::ostringstream o; o << K;")
        lines.append("    s.parts[o.str()].push_back((T)x);")
        lines.append("    for (int i = 0; i < 200; i++) x = x * 6364136223846793005ULL + "
                     "(unsigned long)s.step((T)i);")
        lines.append("    return x + s.parts.size(); } };")
    i = 0
    while len(names) < funcs:
        t, k = i % TEMPLATES, i // TEMPLATES
        ty = "long" if k % 2 else "int"
        names.append("Op%d_%d<%d, %s>::run" % (u, t, k, ty))
        i += 1
    lines.append("fn table%d[] = {" % u)
    lines += ["  &%s," % n for n in names]
    lines.append("};")
    lines.append("unsigned long count%d = %d;" % (u, len(names)))
    lines.append("}")
    return "\n".join(lines) + "\n"


def main_source():
    decl = "\n".join("extern fn table%d[]; extern unsigned long count%d;" % (u, u)
                     for u in range(UNITS))
    calls = "\n".join("    for (unsigned long i = 0; i < count%d; i++) sink += table%d[i](sink);"
                      % (u, u) for u in range(UNITS))
    return """#include "big.hpp"
#include <cstdio>
#include <unistd.h>
namespace big {
volatile unsigned long sink;
%s
}
using namespace big;
int main() {
    printf("ready %%d\\n", (int)getpid());
    fflush(stdout);
    for (;;) {
%s
    }
}
""" % (decl, calls)


def build(tmp, funcs):
    with open(os.path.join(tmp, "big.hpp"), "w") as f:
        f.write(HEADER)
    srcs = []
    for u in range(UNITS):
        p = os.path.join(tmp, "u%d.cpp" % u)
        with open(p, "w") as f:
            f.write(unit_source(u, funcs // UNITS))
        srcs.append(p)
    p = os.path.join(tmp, "main.cpp")
    with open(p, "w") as f:
        f.write(main_source())
    srcs.append(p)
    objs = []
    procs = []
    for s in srcs:
        o = s[:-4] + ".o"
        objs.append(o)
        procs.append(subprocess.Popen(["g++", "-O2", "-g", "-c", s, "-o", o]))
        if len(procs) == 2:
            if procs.pop(0).wait() != 0:
                raise RuntimeError("g++ failed")
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError("g++ failed")
    exe = os.path.join(tmp, "bigcxx")
    subprocess.run(["g++", "-o", exe] + objs, check=True)
    return exe


def debug_bytes(exe):
    out = subprocess.run(["readelf", "-SW", exe], capture_output=True, text=True).stdout
    total = 0
    for line in out.splitlines():
        parts = line.replace("[ ", "[").split()
        if len(parts) > 5 and parts[1].startswith(".debug_"):
            total += int(parts[5], 16)
    return total


def timed(argv, timeout, **kw):
    t0 = time.monotonic()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout,
                       **kw)
    if r.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (argv[0], r.returncode,
                                                  r.stderr.decode(errors="replace")[-300:]))
    return time.monotonic() - t0


def functions(decoder, path):
    """How many distinct function names the profile's stacks hold."""
    if not decoder:
        return None
    out = subprocess.run([decoder, path], capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        if line.startswith("sample ") and "\t" in line:
            names.update(line.split("\t", 1)[1].split(";"))
    return len(names)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pprobe", required=True)
    ap.add_argument("--decoder", help="pprof_decode, for the count of functions")
    ap.add_argument("--funcs", type=int, default=3000)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--hz", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ)
    env.pop("DEBUGINFOD_URLS", None)
    tmp = tempfile.mkdtemp(prefix="pprobe-bigcxx-")
    proc = None
    try:
        t0 = time.monotonic()
        exe = build(tmp, args.funcs)
        build_s = time.monotonic() - t0
        proc = subprocess.Popen([exe], stdout=subprocess.PIPE, text=True)
        if not proc.stdout.readline().startswith("ready"):
            raise RuntimeError("bigcxx did not start")
        pid = str(proc.pid)
        times = {"pprobe": [], "perf report": [], "eu-stack": [], "gdb": []}
        locs = []
        cpu = []
        for r in range(args.runs):
            out = os.path.join(tmp, "p%d.pb.gz" % r)
            cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall = timed([args.pprobe, "-q", "-p", pid, "-seconds", str(args.seconds), "-hz",
                          str(args.hz), "-o", out], args.seconds + 300, env=env)
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime)
            times["pprobe"].append(wall - args.seconds)
            locs.append(functions(args.decoder, out))
            perf = shutil.which("perf")
            if perf:
                data = os.path.join(tmp, "perf%d.data" % r)
                subprocess.run([perf, "record", "-q", "-F", str(args.hz), "--call-graph",
                                "dwarf", "-o", data, "-p", pid, "--", "sleep",
                                str(args.seconds)], capture_output=True, timeout=600, env=env)
                times["perf report"].append(timed([perf, "report", "-i", data, "--stdio",
                                                   "--no-children"], 1200, env=env))
            if shutil.which("eu-stack"):
                times["eu-stack"].append(timed(["eu-stack", "-i", "-p", pid], 600, env=env))
            if shutil.which("gdb"):
                times["gdb"].append(timed(["gdb", "-batch", "-nx", "-p", pid, "-ex",
                                           "thread apply all bt"], 600, env=env))
        base = statistics.median(times["pprobe"])
        rows = []
        for name, v in times.items():
            if not v:
                rows.append("| %s | - | - | not installed |" % name)
                continue
            med = statistics.median(v)
            rows.append("| %s | %.3f | %.1fx | %s |" % (
                name, med, med / base if base > 0 else float("inf"),
                ", ".join("%.3f" % x for x in v)))
        what = ("| tool | median s | vs pprobe | runs (s) |\n|---|---|---|---|\n"
                + "\n".join(rows))
        loc = [x for x in locs if x is not None]
        section = (
            "## Large C++ binary\n\n"
            "Time to symbolize after the window (issue 5, case 9): a generated C++ program of "
            "%d template instantiations over %d translation units, %.1f MiB of DWARF, "
            "built with g++ -O2 -g in %.0f s, on CPU through every function in turn.  "
            "pprobe: wall time of `pprobe -seconds %g -hz %d` minus the window (attach, "
            "finishing the unwinding, symbolizing every location cold, writing); perf: "
            "`perf report --stdio` of a `perf record --call-graph dwarf` of the same window; "
            "eu-stack -i and gdb: one snapshot of the process.  pprobe names each pc when "
            "it first sees it, during the window (after the thread runs again), so little is "
            "left for the end: its CPU over the whole run was %s s.  %s\n\n%s\n\n"
            "Machine: %s, %s, %d CPUs; %s UTC.  Command: `bench/bigcxx.py %s`.\n" % (
                args.funcs, UNITS, debug_bytes(exe) / 1048576.0, build_s, args.seconds,
                args.hz, "/".join("%.2f" % x for x in cpu),
                ("pprobe's profiles named %s distinct functions." % "/".join(map(str, loc)))
                if loc else "",
                what, platform.node(), platform.release(), os.cpu_count(),
                datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"),
                " ".join(sys.argv[1:])))
        print(section)
        if not args.no_results:
            print("wrote %s" % results.write_section("Large C++ binary", section))
    finally:
        if proc:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
