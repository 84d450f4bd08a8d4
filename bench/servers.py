#!/usr/bin/env python3
"""bench/servers.py - pprobe's samplers on network servers, beside perf.

    bench/servers.py --pprobe build/pprobe [--window 5] [--pairs 3] [--hz 100,1000]
                     [--accuracy-hz 1000] [--servers redis,memcached] [--no-results]

Needs root, perf, and Debian's servers and clients (it installs nothing):
apt-get install redis-server redis-tools memcached.  Two parts:

Accuracy.  redis-server (private port, no persistence, in a temp dir) under
`redis-benchmark -t set,get -l`, and memcached under bench/mcload.py (4
connections).  For each sampler (perf, then ptrace), pprobe and
`perf record -e cpu-clock --call-graph dwarf` record the same server over the
same window: perf is started with its events disabled (--delay=-1 and a
control pipe), pprobe is started, and perf's events are enabled as soon as
every thread of the server is traced by pprobe (its window starts then) and
disabled --window seconds later, when pprobe's -seconds end.  Flat (self)
shares by function: pprobe's leaf frame weighted by its CPU nanoseconds;
perf's first user-space frame (kernel frames folded into the calling user
frame, as `perf report --no-children --sort sym` of user code), weighted by
the sample's period.  Frames without a symbol count as "[file]" in both.
Prints the top ten functions (by perf) and the largest absolute difference
in points over them.

Harm.  redis-server under `redis-benchmark -t set -n N --csv` (N sized to
take about --window seconds unprofiled), --pairs rounds per rate, each
round running no profiler, pprobe -sampler perf, pprobe -sampler ptrace and
perf record --call-graph dwarf in turn: the profiler is attached (and
settled) before redis-benchmark starts and stopped with SIGINT after it
ends.  Ratios of requests/s and of p99 latency against the no-profiler run
of the same round, median (range) over the rounds; pprobe's CPU per sample
(wait4 rusage over its whole run, and its schedstat over the benchmark only,
divided by the samples of its -v line).

Every window also records the machine's load: /proc/loadavg and the CPU the
rest of the machine used (/proc/stat busy time minus the server's, the
client's, the profilers' and this driver's).  Writes a "## Servers" section
into bench/RESULTS.md (--no-results: prints it only).  Every process it
starts runs in its own session and is killed on the way out.
"""

import argparse
import collections
import csv
import select
import datetime
import io
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)
import results  # noqa: E402
import run as bench  # noqa: E402  (process, /proc and machine helpers)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
import test_fidelity_lib as fidlib  # noqa: E402  (read_pprof)

READY_TIMEOUT = 15.0
SETTLE = 0.3              # after attach, before the window: pprobe's first-sample work
EXIT_GRACE = 120.0        # perf dwarf writes build-ids at exit
TOP = 10
UNNAMED_RE = re.compile(r"^(.+)\+0x[0-9a-f]+$")   # pprobe's "module+0xoffset"


class Machine:
    """The machine's load over one window: loadavg at its start, and the
    CPU (% of one core) the rest of the machine used in it."""

    def __init__(self, pids):
        self.pids = pids
        self.load = bench.read_file("/proc/loadavg").split()[0]     # 1-minute average
        self.t = time.monotonic()
        self.busy = bench.system_cpu_ns()[0]
        self.ours = self._ours()

    def _ours(self):
        return sum(bench.process_run_ns(p) for p in self.pids) + bench.self_cpu_ns()

    def end(self, gone_ns=0.0):
        """gone_ns: CPU of our processes that exited within the window."""
        wall = (time.monotonic() - self.t) * 1e9
        busy = bench.system_cpu_ns()[0] - self.busy
        ours = self._ours() - self.ours + gone_ns
        return {"load": float(self.load), "foreign_pct": 100.0 * max(0.0, busy - ours) / wall}


# ------------------------------------------------------------------ servers

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def start_server(procs, kind, tmp):
    port = free_port()
    if kind == "redis":
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", tmp, "--daemonize", "no", "--logfile", ""]
    else:
        argv = ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-t", "4", "-m", "64"]
        if os.geteuid() == 0:
            argv += ["-u", "root"]
    p = procs.spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
    bench.wait_until(lambda: listening(port), READY_TIMEOUT, kind + " to listen", p)
    return p, port


def start_load(procs, kind, port):
    if kind == "redis":
        argv = ["redis-benchmark", "-p", str(port), "-t", "set,get", "-r", "100000", "-d", "64",
                "-l", "-q"]
    else:
        argv = [sys.executable, os.path.join(BENCH_DIR, "mcload.py"), "--port", str(port),
                "--conns", "4"]
    return procs.spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# ---------------------------------------------------------------- profilers

def traced_by(pid, tracer):
    tids = bench.tids_of(pid)
    return bool(tids) and all(bench.status_field(pid, t, "TracerPid") == str(tracer)
                              for t in tids)


class Perf:
    """perf record -p PID, events off until enable(): a control pipe pair
    (--control fd:CTL,ACK) to enable and disable them at chosen moments."""

    def __init__(self, procs, pid, hz, out, err):
        self.procs = procs
        ctl_r, self.ctl_w = os.pipe()
        self.ack_r, ack_w = os.pipe()
        self.p = procs.spawn(["perf", "record", "-q", "-e", "cpu-clock", "-F", str(hz),
                              "--call-graph", "dwarf", "-D", "-1",
                              "--control", "fd:%d,%d" % (ctl_r, ack_w), "-p", str(pid),
                              "-o", out], pass_fds=(ctl_r, ack_w), stdout=subprocess.DEVNULL,
                             stderr=err)
        os.close(ctl_r)
        os.close(ack_w)

    def command(self, cmd):
        os.write(self.ctl_w, cmd.encode() + b"\n")
        got = b""
        deadline = time.monotonic() + READY_TIMEOUT
        while b"ack\n" not in got:        # perf writes "ack\n\0"
            r = select.select([self.ack_r], [], [], 0.1)[0]
            if r:
                c = os.read(self.ack_r, 5)
                if not c:
                    raise bench.BenchError("perf closed its control pipe (%s)" % cmd)
                got += c
            elif time.monotonic() > deadline or self.p.poll() is not None:
                raise bench.BenchError("perf did not acknowledge %r" % cmd)

    def stop(self):
        """SIGINT, reap; returns utime+stime.  perf record writes its
        data, then dies of the SIGINT it caught (it raises it again)."""
        self.p.send_signal(signal.SIGINT)
        try:
            status, ru = self.procs.reap(self.p, EXIT_GRACE)
        finally:
            # Only now: perf gives up without writing its header when its
            # control pipe closes first.
            os.close(self.ctl_w)
            os.close(self.ack_r)
        if status not in (0, -signal.SIGINT):
            raise bench.BenchError("perf record exited with %s" % status)
        return ru.ru_utime + ru.ru_stime


def pprobe_argv(args, sampler, pid, hz, seconds, out):
    return [args.pprobe, "-sampler", sampler, "-v", "-p", str(pid), "-hz", str(hz),
            "-seconds", "%.3f" % seconds, "-o", out]


def pprobe_samples(stderr):
    """Samples taken, from the -v line ("pprobe: sampler perf; perf events:
    N samples, ..." or "pprobe: sampler ptrace; stopped threads ...; N
    samples (...)"), and the ptrace stops' median and p99 in µs."""
    line = next((l for l in stderr.splitlines() if l.startswith("pprobe: sampler ")), None)
    m = line and re.search(r"(\d+) samples", line)
    if not m:
        raise bench.BenchError("no -v line in pprobe's output:\n" + stderr[-2000:])
    stops = re.search(r"median (\S+), p99 (\S+),", line)
    return int(m.group(1)), ((bench.parse_duration_ns(stops.group(1)) / 1e3,
                              bench.parse_duration_ns(stops.group(2)) / 1e3) if stops else None)


def read_err(path):
    with open(path) as f:
        return f.read()


# ----------------------------------------------------------------- shares

def frame_key(name, module):
    """One name per function in both tools; unnamed code counts per file."""
    m = UNNAMED_RE.match(name)
    if m:
        return "[%s]" % os.path.basename(m.group(1))
    if name.startswith("0x") or name == "[unknown]":
        return "[%s]" % (module or "unknown")
    return name


def pprobe_shares(path):
    prof = fidlib.read_pprof(path)
    c = collections.Counter()
    for s in prof.samples:
        # The leaf's function itself, not a function inlined into it (perf
        # names the ELF symbol).
        leaf = next((f for f in s.frames if not f.inlined), None)
        if leaf is not None:
            c[frame_key(leaf.name, leaf.module)] += s.values[-1]
    total = sum(c.values())
    return ({k: v / total for k, v in c.items()} if total else {},
            sum(s.values[0] for s in prof.samples))


def perf_shares(data):
    scr = subprocess.run(["perf", "script", "-i", data, "-F", "tid,period,ip,sym,dso"],
                         capture_output=True, text=True, timeout=1200)
    if scr.returncode != 0:
        raise bench.BenchError("perf script: %s" % scr.stderr.strip()[-300:])
    c = collections.Counter()
    n = 0
    for block in scr.stdout.split("\n\n"):
        lines = [l for l in block.splitlines() if l.strip()]
        if not lines:
            continue
        head = lines[0].split()
        period = int(head[1]) if len(head) > 1 and head[1].isdigit() else 1
        n += 1
        # The first user-space address: perf prints the functions inlined
        # at it first, "(inlined)", then the function that holds it (named
        # from DWARF, as pprobe names it); where debug info says that one is
        # inlined too (libc's read), the last line of the address's group.
        # --no-inline would give ELF symbols instead, which pick other
        # aliases than pprobe (read for __GI___libc_read).
        leaf = None
        for l in lines[1:]:
            m = re.match(r"\s*([0-9a-f]+) (.*?)(?: \((.*)\))?$", l)
            if not m:
                continue
            addr, dso = int(m.group(1), 16), m.group(3) or ""
            if dso.startswith("[kernel") or addr >= 1 << 47:
                continue        # kernel frame: fold into the calling user frame
            if leaf is not None and addr != leaf[0]:
                break
            if leaf is None or dso != "inlined" or leaf[2] == "inlined":
                leaf = (addr, re.sub(r"\+0x[0-9a-f]+$", "", m.group(2)), dso)
        if leaf:
            c[frame_key(leaf[1], os.path.basename(leaf[2]) if leaf[2] else None)] += period
    total = sum(c.values())
    return {k: v / total for k, v in c.items()} if total else {}, n


def accuracy_run(procs, args, server, load, sampler, tmp):
    """pprobe -sampler SAMPLER and perf dwarf over the same window."""
    hz = args.accuracy_hz
    out = os.path.join(tmp, "acc.pb.gz")
    data = os.path.join(tmp, "acc.perf.data")
    with open(os.path.join(tmp, "perf.err"), "w") as perr, \
            open(os.path.join(tmp, "pprobe.err"), "w") as err:
        perf = Perf(procs, server.pid, hz, data, perr)
        try:
            perf.command("ping")    # perf is up, its events still off
            p = procs.spawn(pprobe_argv(args, sampler, server.pid, hz, args.window, out),
                            stdout=subprocess.DEVNULL, stderr=err)
            bench.wait_until(lambda: traced_by(server.pid, p.pid), READY_TIMEOUT,
                             "pprobe to attach", p)
            machine = Machine([server.pid, load.pid, p.pid, perf.p.pid])
            perf.command("enable")
            time.sleep(args.window)
            perf.command("disable")
            load_info = machine.end()
            status, _ = procs.reap(p, EXIT_GRACE)
            perf.stop()
        except BaseException:
            procs.kill(perf.p)
            raise
    if status != 0:
        raise bench.BenchError("pprobe exited with %s:\n%s" % (
            status, read_err(os.path.join(tmp, "pprobe.err"))[-2000:]))
    ours, n_ours = pprobe_shares(out)
    theirs, n_theirs = perf_shares(data)
    for f in (out, data):
        os.unlink(f)
    top = sorted(theirs, key=lambda k: -theirs[k])[:TOP]
    diffs = {k: 100.0 * (ours.get(k, 0.0) - theirs[k]) for k in top}
    worst = max(top, key=lambda k: abs(diffs[k])) if top else None
    return {"ours": ours, "theirs": theirs, "top": top, "diffs": diffs, "worst": worst,
            "n_ours": n_ours, "n_theirs": n_theirs, **load_info}


# --------------------------------------------------------------------- harm

def benchmark(procs, port, n):
    """One redis-benchmark SET run: (requests/s, p99 ms, client CPU ns)."""
    p = procs.spawn(["redis-benchmark", "-p", str(port), "-t", "set", "-r", "100000", "-d", "64",
                     "-n", str(n), "--csv", "--precision", "3"],
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = p.stdout.read().decode()
    status, ru = procs.reap(p, 300)
    rows = list(csv.DictReader(io.StringIO(out)))
    if status != 0 or not rows or "p99_latency_ms" not in rows[0]:
        raise bench.BenchError("redis-benchmark (exit %s) printed %r" % (status, out[-500:]))
    return (float(rows[0]["rps"]), float(rows[0]["p99_latency_ms"]),
            (ru.ru_utime + ru.ru_stime) * 1e9)


HARM_TOOLS = ["none", "pprobe-perf", "pprobe-ptrace", "perf-dwarf"]


def harm_run(procs, args, server, port, tool, hz, n, tmp):
    out = os.path.join(tmp, "harm.out")
    errpath = os.path.join(tmp, "harm.err")
    rec = {"tool": tool}
    with open(errpath, "w") as err:
        p = perf = None
        try:
            if tool.startswith("pprobe"):
                p = procs.spawn(pprobe_argv(args, tool.split("-")[1], server.pid, hz, 3600, out),
                                stdout=subprocess.DEVNULL, stderr=err)
                bench.wait_until(lambda: traced_by(server.pid, p.pid), READY_TIMEOUT,
                                 "pprobe to attach", p)
            elif tool == "perf-dwarf":
                perf = Perf(procs, server.pid, hz, out, err)
                perf.command("enable")
            time.sleep(SETTLE)
            tracer = p.pid if p else perf.p.pid if perf else None
            t_run0 = bench.process_run_ns(tracer) if tracer else 0
            machine = Machine([server.pid] + ([tracer] if tracer else []))
            rps, p99, client_ns = benchmark(procs, port, n)
            rec.update(machine.end(client_ns))
            rec["tool_window_ns"] = (bench.process_run_ns(tracer) - t_run0) if tracer else 0
            if p:
                p.send_signal(signal.SIGINT)
                status, ru = procs.reap(p, EXIT_GRACE)
                if status != 0:
                    raise bench.BenchError("pprobe exited with %s:\n%s" % (status, read_err(errpath)[-2000:]))
                rec["tool_cpu_s"] = ru.ru_utime + ru.ru_stime
            elif perf:
                rec["tool_cpu_s"] = perf.stop()
        except BaseException:
            for q in (p, perf.p if perf else None):
                if q is not None:
                    procs.kill(q)
            raise
    if p:
        rec["samples"], rec["stops_us"] = pprobe_samples(read_err(errpath))
        complaint = bench.target_sane(server.pid)
        if complaint:
            raise bench.BenchError("after %s: %s" % (tool, complaint))
    for f in (out, errpath):
        if os.path.exists(f):
            os.unlink(f)
    rec.update({"rps": rps, "p99": p99})
    return rec


def harm_medians(runs):
    """{tool: (median requests/s ratio, median p99 ratio)} against the
    no-profiler run of the same round."""
    base = {r["round"]: r for r in runs if r["tool"] == "none"}
    out = {}
    for tool in HARM_TOOLS[1:]:
        rs = [r for r in runs if r["tool"] == tool and r["round"] in base]
        if rs:
            out[tool] = (statistics.median(r["rps"] / base[r["round"]]["rps"] for r in rs),
                         statistics.median(r["p99"] / base[r["round"]]["p99"] for r in rs))
    return out


def med_range(xs):
    return "%.3f (%.3f-%.3f)" % (statistics.median(xs), min(xs), max(xs)) if xs else "-"


# --------------------------------------------------------------------- main

def main():
    os.environ.pop("DEBUGINFOD_URLS", None)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pprobe", required=True)
    ap.add_argument("--window", type=float, default=5.0, help="seconds per window (default 5)")
    ap.add_argument("--pairs", type=int, default=3, help="harm rounds per rate (default 3)")
    ap.add_argument("--hz", type=bench.int_list, default=[100, 1000],
                    help="harm rates (default 100,1000)")
    ap.add_argument("--accuracy-hz", type=int, default=1000, help="accuracy rate (default 1000)")
    ap.add_argument("--servers", default="redis,memcached", help="accuracy servers")
    ap.add_argument("--no-harm", action="store_true")
    ap.add_argument("--nice", type=int, default=-20,
                    help="niceness of the driver and all it starts, and of their sessions' "
                         "autogroups (as bench/run.py; default -20)")
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args()
    args.pprobe = os.path.abspath(args.pprobe)
    missing = [t for t in ("perf", "redis-server", "redis-benchmark", "memcached")
               if not shutil.which(t)]
    if missing:
        ap.error("not installed: %s (apt-get install redis-server redis-tools memcached "
                 "linux-perf)" % ", ".join(missing))

    def log(msg):
        print("servers: " + msg, file=sys.stderr, flush=True)

    signal.signal(signal.SIGTERM, bench.on_sigterm)
    if args.nice:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, args.nice)
        except OSError as e:
            log("cannot set niceness %d: %s" % (args.nice, e))
            args.nice = 0
    procs = bench.Procs(args.nice)
    tmp = tempfile.mkdtemp(prefix="pprobe-servers.")
    started = datetime.datetime.now(datetime.timezone.utc)
    source = bench.git_describe()
    t0 = time.monotonic()
    acc, harm = [], {}
    try:
        for kind in [s for s in args.servers.split(",") if s]:
            server, port = start_server(procs, kind, tmp)
            load = start_load(procs, kind, port)
            try:
                time.sleep(1.0)    # the load's connections are up and busy
                for sampler in ("perf", "ptrace"):
                    r = accuracy_run(procs, args, server, load, sampler, tmp)
                    r.update({"server": kind, "sampler": sampler})
                    acc.append(r)
                    log("%s, -sampler %s: top-%d max |diff| %.1f points (%s), load %.2f, "
                        "others %.0f%%" % (kind, sampler, TOP, abs(r["diffs"][r["worst"]]),
                                            r["worst"], r["load"], r["foreign_pct"]))
            finally:
                procs.kill(load)
                procs.kill(server, signal.SIGTERM)
        if not args.no_harm:
            server, port = start_server(procs, "redis", tmp)
            try:
                rps, _, _ = benchmark(procs, port, 20000)      # warm-up and sizing
                n = max(10000, int(rps * args.window))
                log("harm: %d SETs per run (%.0f requests/s unprofiled)" % (n, rps))
                for hz in args.hz:
                    for rnd in range(args.pairs):
                        for tool in HARM_TOOLS:
                            r = harm_run(procs, args, server, port, tool, hz, n, tmp)
                            r["round"] = rnd
                            harm.setdefault(hz, []).append(r)
                            log("%d Hz round %d %-13s %8.0f req/s p99 %.3f ms load %.2f "
                                "others %.0f%%" % (hz, rnd, tool, r["rps"], r["p99"], r["load"],
                                                   r["foreign_pct"]))
            finally:
                procs.kill(server, signal.SIGTERM)
    except bench.BenchError as e:
        log("error: %s" % e)
        return 1
    finally:
        procs.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)
    section = report(args, acc, harm, started, time.monotonic() - t0, source)
    print(section)
    if not args.no_results:
        log("wrote %s" % results.write_section("Servers", section))
    return 0


def report(args, acc, harm, started, elapsed, source):
    mi = bench.machine_info()
    t = ["## Servers", "",
         "Written by `bench/servers.py` (bench/README.md, *Servers*).  pprobe's samplers "
         "against `perf record -e cpu-clock --call-graph dwarf` on network servers.", "",
         "- Date: %s (the run took %.0f s); command: `bench/servers.py %s`; source at %s" % (
             started.strftime("%Y-%m-%d %H:%M UTC"), elapsed, shlex.join(sys.argv[1:]), source),
         "- Machine: %s CPUs (%s), Linux %s, Debian %s, %s; redis %s, memcached %s" % (
             mi["nproc"], mi["cpu"], mi["kernel"], mi["os"], mi["perf"],
             version(["redis-server", "--version"], r"v=(\S+)"),
             version(["memcached", "-V"], r"memcached (\S+)")),
         "- **The machine was shared and loaded** (load average and the CPU the rest of the "
         "machine used, in % of one core, are given per window): on 2 vCPUs the server, its "
         "client and the profilers compete with that load, so the harm ratios are "
         "indicative, not precise.", ""]
    if acc:
        t += ["### Accuracy: flat share of the top %d functions (by perf), %d Hz, %g s, "
              "same window" % (TOP, args.accuracy_hz, args.window), "",
              "Share of CPU whose leaf (pprobe) or first user-space frame (perf, kernel frames "
              "folded into the calling user frame) is the function; unnamed code per file.  "
              "perf is the reference, not the truth: `-sampler perf` and perf use the same "
              "kernel timer, so for it this checks pprobe's reading, naming and weighting of "
              "the kernel's samples; the ptrace sampler's stops land elsewhere (README, "
              "*Samplers*).", ""]
        for r in acc:
            t += ["#### %s, pprobe -sampler %s (%d samples) vs perf (%d samples); 1-min load average %.2f, "
                  "others %.0f%% of a core" % (r["server"], r["sampler"], r["n_ours"],
                                              r["n_theirs"], r["load"], r["foreign_pct"]), "",
                  "| function | perf % | pprobe % | diff (points) |", "|---|---|---|---|"]
            for k in r["top"]:
                t.append("| `%s` | %.1f | %.1f | %+.1f |" % (k, 100 * r["theirs"][k],
                                                          100 * r["ours"].get(k, 0.0),
                                                          r["diffs"][k]))
            t.append("")
        t += ["| server | sampler | max \\|diff\\| over the top %d (points) | at | aim ≤ 5 |" % TOP,
              "|---|---|---|---|---|"]
        for r in acc:
            d = abs(r["diffs"][r["worst"]]) if r["worst"] else float("nan")
            t.append("| %s | %s | %.1f | `%s` | %s |" % (
                r["server"], r["sampler"], d, r["worst"],
                ("met" if d <= 5 else "**not met**") if r["sampler"] == "perf" else "(reported)"))
        t.append("")
    if harm:
        t += ["### Harm: redis-benchmark SET, %d rounds of %g s per rate" % (
            args.pairs, args.window), "",
              "Ratios to the no-profiler run of the same round: median (lowest-highest). "
              "CPU/sample: pprobe's utime+stime over its whole run (start-up included) / "
              "samples, and its CPU over the benchmark only / samples.", "",
              "| Hz | tool | requests/s × | p99 latency × | samples | CPU/sample µs (run; window) "
              "| ptrace stop med/p99 µs | 1-min load avg | others % of a core |",
              "|---|---|---|---|---|---|---|---|---|"]
        for hz, runs in sorted(harm.items()):
            base = {r["round"]: r for r in runs if r["tool"] == "none"}
            for tool in HARM_TOOLS:
                rs = [r for r in runs if r["tool"] == tool]
                rps = [r["rps"] / base[r["round"]]["rps"] for r in rs]
                p99 = [r["p99"] / base[r["round"]]["p99"] for r in rs if base[r["round"]]["p99"]]
                smp = [r["samples"] for r in rs if "samples" in r]
                per = ["%.0f; %.0f" % (r["tool_cpu_s"] * 1e6 / r["samples"],
                                       r["tool_window_ns"] / 1e3 / r["samples"])
                       for r in rs if r.get("samples")]
                stops = ["%.0f/%.0f" % r["stops_us"] for r in rs if r.get("stops_us")]
                t.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    hz, tool, med_range(rps) if tool != "none" else "1 (%.0f/s)" % statistics.median(
                        r["rps"] for r in rs),
                    med_range(p99) if tool != "none" else "1 (%.3f ms)" % statistics.median(
                        r["p99"] for r in rs),
                    ", ".join(str(s) for s in smp) or "-", ", ".join(per) or "-",
                    ", ".join(stops) or "-",
                    ", ".join("%.1f" % r["load"] for r in rs),
                    ", ".join("%.0f" % r["foreign_pct"] for r in rs)))
        t.append("")
        t += ["Against the issue's aim (`-sampler perf` within 2% of perf's throughput and p99; "
              "medians, so within the rounds' spread either way):", ""]
        for hz, runs in sorted(harm.items()):
            m = harm_medians(runs)
            if "pprobe-perf" not in m or "perf-dwarf" not in m:
                continue
            (ours_rps, ours_p99), (perf_rps, perf_p99) = m["pprobe-perf"], m["perf-dwarf"]
            ok = lambda c: "met" if c else "**not met**"
            t.append("- %d Hz: requests/s × %.3f against perf's × %.3f: %s; p99 × %.3f against "
                     "× %.3f: %s" % (hz, ours_rps, perf_rps, ok(ours_rps >= perf_rps * 0.98),
                                     ours_p99, perf_p99, ok(ours_p99 <= perf_p99 * 1.02)))
        t.append("")
    return "\n".join(t) + "\n"


def version(argv, pattern):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return "?"
    m = re.search(pattern, out)
    return m.group(1) if m else "?"


if __name__ == "__main__":
    sys.exit(main())
