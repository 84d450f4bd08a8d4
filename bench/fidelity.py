#!/usr/bin/env python3
"""bench/fidelity.py - how often does a stack reach its thread's entry point?

    bench/fidelity.py --build BUILD_DIR [--seconds N] [--hz N] [--no-results]

For each fidelity fixture (fixtures/fidelity/, built in BUILD_DIR/fixtures),
the same running process is profiled twice, one after the other:

  pprobe -p PID -seconds N -hz HZ -o F.pb.gz
  perf record -e cpu-clock -F HZ --call-graph dwarf -p PID -- sleep N
  (read with perf script -F tid,ip,sym)

and for each profiler it counts the samples whose stack reaches the
thread's entry point: the stack names one of main, start_thread,
clone3/__clone3, runtime.goexit, runtime.main, _start, __libc_start_main
(musl's too) and does not end in a frame the profiler could not go past
(pprobe's [truncated] or "[unknown] 0x...", perf's "[unknown]" outside any
file).  Samples of every thread of the
fixture count; the deep-recursion case is expected to fail by design for
its 1,000-deep thread (pprobe keeps 256 frames, perf copies 8 KiB of
stack).

Writes a "## Fidelity" section into bench/RESULTS.md, below bench/run.py's
NOTES_MARK line (which run.py keeps when it rewrites the file), replacing
an earlier one; --no-results prints it only.  Every process it starts is
killed on the way out.
"""

import argparse
import datetime
import os
import platform
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(BENCH_DIR)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
import test_fidelity_lib as fidlib  # noqa: E402
sys.path.insert(0, BENCH_DIR)
import results  # noqa: E402

ENTRY = fidlib.ENTRY_FUNCTIONS - {"__libc_start_call_main"}
READY_TIMEOUT = 30.0

# (case, fixture or None, argv after the binary / full argv builder, note)
CASES = [
    ("1 debug info: .gnu_debuglink", "fid_chain_debuglink", None),
    ("1 no debug info at all", "fid_chain_bare", None),
    ("2 PIE", "fid_chain", None),
    ("2 non-PIE", "fid_chain_nopie", None),
    ("2 static glibc", "fid_chain_static", None),
    ("2 static musl", "fid_chain_musl", None),
    ("2 dlopen/dlclose in the window", "fid_dlopen", None),
    ("3 no unwind tables (frame pointers)", "fid_chain_nounwind", None),
    ("3 Go", "fid_go", None),
    ("4 C++ (templates, exceptions)", "fid_cxx", None),
    ("4 Rust v0", "fid_rust_v0", None),
    ("4 Rust legacy", "fid_rust_legacy", None),
    ("5 signal handler, vDSO", "fid_signal", None),
    ("6 JIT (perf map)", "fid_jit", None),
    ("6 Node.js --perf-basic-prof", None, "node"),
    ("8 deleted executable and library", "fid_deleted", None),
    ("9 recursion 1,000 deep", "fid_deep", None),
]


class Proc:
    """A fixture process started in its own session, killed at the end."""

    def __init__(self, argv, truth):
        self.p = subprocess.Popen(argv + ["--truth", truth], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  cwd=os.path.dirname(truth), start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT
        line = b""
        while not line.endswith(b"\n"):
            if time.monotonic() > deadline or self.p.poll() is not None:
                self.kill()
                raise RuntimeError("%s did not say ready" % argv[0])
            r, _, _ = select.select([self.p.stdout], [], [], 0.5)
            if r:
                c = os.read(self.p.stdout.fileno(), 1)
                if not c:
                    continue
                line += c
        self.pid = self.p.pid

    def kill(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.p.wait()
        fidlib.unlink_quiet("/tmp/perf-%d.map" % self.p.pid)


def reaches(names, bad_last):
    return bool(names) and names[-1] not in bad_last and any(n in ENTRY for n in names)


def pprobe_share(pprobe, pid, seconds, hz, out):
    res = subprocess.run([pprobe, "-q", "-p", str(pid), "-seconds", str(seconds), "-hz",
                          str(hz), "-o", out], capture_output=True, text=True,
                         timeout=seconds + 120)
    if res.returncode != 0:
        return None, "pprobe exit %d: %s" % (res.returncode, res.stderr.strip()[-200:])
    prof = fidlib.read_pprof(out)
    total = prof.total()
    good = prof.total([s for s in prof.samples
                       if reaches(s.names(), (fidlib.TRUNCATED,)) and
                       not s.names()[-1].startswith("[unknown]")])   # outside every mapping
    return (good, total), None


def perf_share(perf, pid, seconds, hz, data):
    rec = subprocess.run([perf, "record", "-q", "-e", "cpu-clock", "-F", str(hz),
                          "--call-graph", "dwarf", "-o", data, "-p", str(pid), "--", "sleep",
                          str(seconds)], capture_output=True, text=True, timeout=seconds + 300)
    if rec.returncode != 0 or not os.path.exists(data):
        return None, "perf record: %s" % (rec.stderr.strip()[-200:] or rec.returncode)
    scr = subprocess.run([perf, "script", "-i", data, "-F", "tid,ip,sym,dso"],
                         capture_output=True, text=True, timeout=1200)
    if scr.returncode != 0:
        return None, "perf script: %s" % scr.stderr.strip()[-200:]
    good = total = 0
    for block in scr.stdout.split("\n\n"):
        lines = [l for l in block.splitlines() if l.strip()]
        if not lines:
            continue
        names = []
        for l in lines[1:]:
            # "ADDR SYM (DSO)": an unnamed frame in a known file is a frame;
            # one outside every mapping ("[unknown] ([unknown])") ends it.
            m = re.match(r"\s*[0-9a-f]+ (.*?)(?: \((.*)\))?$", l)
            sym, dso = (m.group(1), m.group(2) or "") if m else ("[unknown]", "")
            sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
            names.append("[unmapped]" if sym == "[unknown]" and dso in ("", "[unknown]")
                         else sym)
        total += 1
        if reaches(names, ("[unmapped]",)):
            good += 1
    return (good, total), None


def pct(r):
    if not r:
        return "-"
    good, total = r
    return "%.1f%% (%d/%d)" % (100.0 * good / total, good, total) if total else "no samples"


def run_case(args, name, fixture, special, tmp):
    fx = os.path.join(args.build, "fixtures")
    if special == "node":
        node = shutil.which("node")
        if not node:
            return None, None, "node not installed"
        argv = [node, "--perf-basic-prof", "--no-turbo-inlining",
                os.path.join(SOURCE_DIR, "fixtures", "fidelity", "node", "hot.js")]
    else:
        path = os.path.join(fx, fixture)
        if not os.access(path, os.X_OK):
            return None, None, "%s not built" % fixture
        argv = [path]
    notes = []
    proc = Proc(argv, os.path.join(tmp, "truth"))
    try:
        ours, err = pprobe_share(args.pprobe, proc.pid, args.seconds, args.hz,
                                 os.path.join(tmp, "p.pb.gz"))
        if err:
            notes.append(err)
        theirs = None
        if args.perf:
            theirs, err = perf_share(args.perf, proc.pid, args.seconds, args.hz,
                                     os.path.join(tmp, "perf.data"))
            if err:
                notes.append(err)
    finally:
        proc.kill()
    return ours, theirs, "; ".join(notes)


def main():
    # Set, it would have pprobe (and perf) fetch debug info after each window.
    os.environ.pop("DEBUGINFOD_URLS", None)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="the build directory (pprobe, fixtures/)")
    ap.add_argument("--pprobe", help="pprobe binary (default BUILD/pprobe)")
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--hz", type=int, default=100)
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args()
    args.pprobe = args.pprobe or os.path.join(args.build, "pprobe")
    args.perf = shutil.which("perf")
    rows = []
    tmp = tempfile.mkdtemp(prefix="pprobe-fidelity.")
    try:
        for name, fixture, special in CASES:
            ours, theirs, note = run_case(args, name, fixture, special, tmp)
            rows.append((name, fixture or special, ours, theirs, note))
            print("%-40s pprobe %-22s perf %-22s %s" % (name, pct(ours), pct(theirs), note),
                  flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    cmd = "bench/fidelity.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    t = ["## Fidelity", "",
         "Share of samples whose stack reaches its thread's entry point (it names main, "
         "start_thread, clone3, runtime.goexit, _start or __libc_start_main and does not end "
         "in a frame outside every mapping or pprobe's [truncated]), all threads of each fixture, "
         "%g s at %d Hz each, pprobe then `perf record -e cpu-clock --call-graph dwarf` on the "
         "same process.  Case numbers are the issue's." % (args.seconds, args.hz), "",
         "| case | fixture | pprobe | perf --call-graph dwarf | note |",
         "|---|---|---|---|---|"]
    for name, fx, ours, theirs, note in rows:
        t.append("| %s | %s | %s | %s | %s |" % (name, fx, pct(ours), pct(theirs),
                                                 note.replace("|", "/")))
    t += ["", "Machine: %s, %s, %d CPUs; %s.  Command: `%s`."
          % (platform.node(), platform.release(), os.cpu_count() or 0,
             datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
             cmd), ""]
    section = "\n".join(t)
    if args.no_results:
        print(section)
    else:
        print("wrote %s" % results.write_section("Fidelity", section))


if __name__ == "__main__":
    main()
