#!/usr/bin/env python3
"""Fidelity, case 1 over the network: debug info from debuginfod.

fid_chain_net is the chain of test_fidelity_debuginfo.py (main -> chain_outer
-> chain_middle -> chain_hot on CPU; a thread "parked" in read(2)) in a link
of its own, so a build ID of its own, stripped of everything.  Its DWARF is
only in fid_chain_net_dwarf.debug, which this test serves from a real
debuginfod (Debian's package) started over a directory holding that file
alone, on 127.0.0.1.  Every pprobe run gets a DEBUGINFOD_CACHE_PATH of its
own in the scratch directory, so what it knows of that file comes from the
server or from nowhere.

  off        no -debuginfod, no DEBUGINFOD_URLS: the server counts no
             request, the cache directory is not even made, and the
             fixture's frames are fid_chain_net+0xOFF (in the right
             functions, by nm of the debug file), without file:line
  record     -debuginfod with DEBUGINFOD_URLS naming the server: one stderr
             line names the fetch (the file and its build ID); the main
             thread's stacks are chain_hot;chain_middle;chain_outer;main to
             the entry point, chain_hot at chain_hot.c:LINE
  env only   DEBUGINFOD_URLS without the flag fetches too (a dump: the
             parked thread's stack with file:line on the fixture's frames)
  top        -debuginfod: fetched before top attaches; its table shows
             chain_hot by name
  no server  -debuginfod, DEBUGINFOD_URLS empty, no /etc/debuginfod/*.urls:
             exit 2 and no thread traced (left out, with a note, where that
             directory lists servers)
  hang       a server that accepts connections and never answers: a record
             and a dump with -debuginfod-timeout 4 end within the limit
             after their "fetching" line, say the limit was reached, and
             write names from the symbol-less binary; and while pprobe
             waits on that server, no task of the target is traced or
             stopped and it runs (the fetch comes after every thread is let
             go).
  stuck      a thread pprobe cannot detach (FID_CHAIN_VFORK: a thread in
             vfork, state D) stays traced until pprobe exits, and would stop
             as soon as it woke: pprobe says it fetches nothing, asks the
             (silent) server nothing and ends at once.
"""

import os
import re
import shutil
import signal
import socket
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dumpharness  # noqa: E402
import harness  # noqa: E402
import test_fidelity_debuginfo as dbg  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

NAME = "fid_chain_net"
DEBUG_FILE = "fid_chain_net_dwarf.debug"
SECONDS = 2
SERVER_READY_TIMEOUT = 60.0
# The time limit the hanging server is given, and how much later than the
# limit pprobe may end: libdebuginfod looks at the clock about once a second.
HANG_LIMIT = 4
HANG_SLACK = 2.0
FETCH_LINE_TIMEOUT = 30.0
TOP_TIMEOUT = 30.0

# A server that takes every connection and never says a word.  It prints
# its port once it listens, and a line per connection.
SILENT_SERVER = r"""
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print("listening %d" % s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    print("accepted", flush=True)
"""


def free_port():
    """A TCP port nothing listens on now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5.0):
    """(status, body) of GET url, or (None, reason)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)


class Debuginfod:
    """debuginfod -F over a directory holding the fixture's debug file."""

    def __init__(self, ctx, binary, debug_file, build_id):
        self.ctx = ctx
        srv = ctx.tmp_path("srv")
        os.makedirs(srv)
        shutil.copy(debug_file, srv)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.bg = ctx.start_command([binary, "-F", "-p", str(self.port), "-d",
                                     ctx.tmp_path("debuginfod.sqlite"), "-t", "0", "-g", "0",
                                     srv])
        want = "%s/buildid/%s/debuginfo" % (self.url, build_id)
        ready = harness.wait_for(lambda: not self.bg.alive() or http_get(want)[0] == 200,
                                 SERVER_READY_TIMEOUT, interval=0.1)
        if not ready or not self.bg.alive():
            res = self.bg.wait(5) if not self.bg.alive() else None
            raise harness.Failure("debuginfod did not serve %s within %.0f s (%s)"
                                  % (want, SERVER_READY_TIMEOUT,
                                     res.describe() if res else "still running"))

    def requests(self):
        """Requests for files (debuginfo, executable, source...) so far."""
        status, body = http_get(self.url + "/metrics")
        if status != 200:
            raise harness.Failure("debuginfod /metrics: %s %s" % (status, body))
        total = 0
        for m in re.finditer(r'^http_requests_total\{type="([a-z_]+)"\} (\d+)',
                             body.decode(errors="replace"), re.M):
            if m.group(1) != "metrics":
                total += int(m.group(2))
        return total


class Runner:
    """pprobe runs with a DEBUGINFOD_* environment of the test's choosing."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.serial = 0

    def env(self, urls):
        """The test's environment without any DEBUGINFOD_ variable, then
        DEBUGINFOD_URLS=urls (None: unset) and a fresh cache directory
        (not made: pprobe or libdebuginfod makes it if they use it)."""
        self.serial += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGINFOD_")}
        if urls is not None:
            env["DEBUGINFOD_URLS"] = urls
        env["DEBUGINFOD_CACHE_PATH"] = self.ctx.tmp_path("cache.%d" % self.serial)
        return env

    def run(self, args, env, timeout):
        return self.ctx.run_command([self.ctx.pprobe] + list(args), timeout, env=env)

    def start(self, args, env):
        """pprobe in the background (harness.Background inherits the
        environment, so it is swapped for the start)."""
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            return self.ctx.start_pprobe(args)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def record(self, fixture, what, env, extra=()):
        out = self.ctx.new_output(fixture.name)
        res = self.run(["-p", str(fixture.pid), "-seconds", str(SECONDS), "-o", out] +
                       list(extra), env, SECONDS + 90)
        healthy = self.ctx.check_target_healthy(fixture, what)
        self.ctx.expect_run(res, 0, what)
        self.ctx.expect_saved(res, out, what)
        if not healthy:
            self.ctx.note("(target unhealthy after: %s)" % res.describe())
        prof = fid.read_pprof(out)
        fid.check_against_decode(self.ctx, prof, what)
        if not self.ctx.check(prof.total() > 0, "%s: no samples; pprobe:\n  %s"
                              % (what, res.describe())):
            raise harness.Failure("%s: no samples" % what)
        return res, prof

    def dump(self, fixture, what, env, extra=()):
        res = self.run(["dump", "-p", str(fixture.pid), "-format", "json"] + list(extra), env,
                       dumpharness.DUMP_TIMEOUT + 60)
        self.ctx.check_target_healthy(fixture, what)
        self.ctx.expect_run(res, 0, what)
        return res, dumpharness.parse_json(res.stdout, what)


def fetch_lines(ctx, res, path, bid, what, count=1):
    """The stderr lines that name the fetch of path; there must be count."""
    want = "pprobe: fetching debug info for %s (build ID %s) from debuginfod" % (path, bid)
    lines = [line for line in res.stderr_lines() if NAME in line and "fetching" in line]
    ctx.check(lines == [want] * count, "%s: expected %d line(s) %r on stderr, got %s; "
              "stderr:%s" % (what, count, want, lines, harness.indent(res.stderr)))


def check_parked(ctx, doc, fixture, what, want_lines, names_of=None):
    t = fid.dump_thread(doc, fixture.tid("parked"))
    if not ctx.check(t is not None, "%s: no thread 'parked' in the dump" % what):
        return
    names = fid.frame_names(t)
    if names_of:
        names = names_of(names)
    ctx.check(fid.reduce(names, dbg.KNOWN) == ";".join(dbg.PARK),
              "%s: parked thread: expected %s, got %s" % (what, ";".join(dbg.PARK), names))
    own = [f for f in t["frames"] if f["module"] == NAME]
    if want_lines:
        ctx.check(own and all(f["file"] and f["line"] for f in own),
                  "%s: expected file:line on the fixture's frames, got %s" % (what, own))
    else:
        ctx.check(own and not any(f["file"] for f in own),
                  "%s: expected the fixture's frames without a file, got %s" % (what, own))


def check_off(ctx, runner, server, fixture, bare_names):
    """No flag, no variable: nothing asked, nothing cached, no DWARF."""
    env = runner.env(None)
    before = server.requests()
    what = "no -debuginfod, no DEBUGINFOD_URLS: record"
    res, prof = runner.record(fixture, what, env)
    dbg.check_main_chain(ctx, prof, fixture, what, names_of=lambda s: bare_names(s.names()),
                         want_lines=False)
    res2, doc = runner.dump(fixture, "no -debuginfod, no DEBUGINFOD_URLS: dump", env)
    check_parked(ctx, doc, fixture, "no -debuginfod, no DEBUGINFOD_URLS: dump", False,
                 bare_names)
    after = server.requests()
    ctx.check(after == before, "without -debuginfod or DEBUGINFOD_URLS: expected no request "
              "to the server, it counted %d" % (after - before))
    ctx.check(not os.path.exists(env["DEBUGINFOD_CACHE_PATH"]),
              "without -debuginfod or DEBUGINFOD_URLS: the debuginfod cache %s was made"
              % env["DEBUGINFOD_CACHE_PATH"])
    for r in (res, res2):
        ctx.check(not re.search(r"^pprobe: .*debuginfod", r.stderr, re.M),
                  "without -debuginfod or DEBUGINFOD_URLS: stderr mentions debuginfod:%s"
                  % harness.indent(r.stderr))


def check_fetch(ctx, runner, server, fixture, path, bid):
    """-debuginfod, or the variable alone: fetched, and file:line."""
    env = runner.env(server.url)
    before = server.requests()
    what = "-debuginfod with DEBUGINFOD_URLS=%s: record" % server.url
    res, prof = runner.record(fixture, what, env, ["-debuginfod"])
    fetch_lines(ctx, res, path, bid, what)
    dbg.check_main_chain(ctx, prof, fixture, what, want_lines=True)
    ctx.check(server.requests() > before, "%s: the server counted no request" % what)

    # The variable alone turns fetching on (a fresh cache: from the server).
    env = runner.env(server.url)
    what = "DEBUGINFOD_URLS=%s without -debuginfod: dump" % server.url
    res, doc = runner.dump(fixture, what, env)
    fetch_lines(ctx, res, path, bid, what)
    check_parked(ctx, doc, fixture, what, True)

    # top fetches before it attaches.
    env = runner.env(server.url)
    what = "pprobe top -debuginfod"
    bg = runner.start(["top", "-p", str(fixture.pid), "-debuginfod"], env)

    def shown():
        with open(bg.out_path, errors="replace") as f:
            return "chain_hot" in f.read()
    seen = harness.wait_for(lambda: shown() or not bg.alive(), TOP_TIMEOUT, interval=0.05)
    if bg.alive():
        bg.proc.send_signal(signal.SIGINT)
    res = bg.wait(30)
    ctx.check(seen and shown(), "%s: the table never showed chain_hot within %.0f s:\n  %s"
              % (what, TOP_TIMEOUT, res.describe()))
    ctx.expect_run(res, 0, what)
    fetch_lines(ctx, res, path, bid, what)
    ctx.check_target_healthy(fixture, what)


def check_no_server(ctx, runner, fixture):
    """-debuginfod and nowhere to fetch from: a usage error, nothing touched."""
    listed = []
    for p in sorted(os.listdir("/etc/debuginfod")) if os.path.isdir("/etc/debuginfod") else []:
        if p.endswith(".urls"):
            with open(os.path.join("/etc/debuginfod", p), errors="replace") as f:
                if f.read().split():
                    listed.append(p)
    if listed:
        ctx.note("no-server check left out: /etc/debuginfod lists servers (%s)"
                 % ", ".join(listed))
        return
    what = "-debuginfod with DEBUGINFOD_URLS empty and no /etc/debuginfod/*.urls"
    with harness.TracerWatch(fixture.pid) as watch:
        res = runner.run(["-p", str(fixture.pid), "-seconds", "1", "-debuginfod"],
                         runner.env(""), 30)
    ctx.expect_run(res, 2, what)
    ctx.check(re.search(r"^pprobe: -debuginfod: no server.*try 'pprobe --help'$", res.stderr,
                        re.M), "%s: expected the usage error naming -debuginfod, got:%s"
              % (what, harness.indent(res.stderr)))
    ctx.check(not watch.seen, "%s: threads were traced: %s" % (what, dict(watch.seen)))


def wait_fetching(bg, what):
    """Waits for the "fetching" line of a background pprobe; its time."""
    def line():
        with open(bg.err_path, errors="replace") as f:
            return "fetching debug info for" in f.read()
    if not harness.wait_for(lambda: line() or not bg.alive(), FETCH_LINE_TIMEOUT) or not line():
        res = bg.wait(30)
        raise harness.Failure("%s: no 'fetching' line within %.0f s:\n  %s"
                              % (what, FETCH_LINE_TIMEOUT, res.describe()))
    return time.monotonic()


def check_released_while_waiting(ctx, fixture, bg, what):
    """pprobe waits on the silent server: the target must be its own."""
    if not ctx.check(bg.alive(), "%s: pprobe ended before the checks made while it waits on "
                     "the server (time limit %d s)" % (what, HANG_LIMIT)):
        return
    traced = {t: p for t, p in harness.tracer_pids(fixture.pid).items() if p}
    ctx.check(not traced, "%s: while pprobe waits on the server, tasks are traced "
              "{tid: TracerPid}: %s" % (what, traced))
    stopped = {t: s for t, s in harness.task_states(fixture.pid).items() if s in "tT"}
    ctx.check(not stopped, "%s: while pprobe waits on the server, tasks are stopped: %s"
              % (what, stopped))
    start = harness.process_cpu_ns(fixture.pid)
    ctx.check(harness.wait_for(lambda: harness.process_cpu_ns(fixture.pid) - start >=
                               harness.PROGRESS_NS, HANG_LIMIT / 2),
              "%s: the target made no progress while pprobe waited on the server" % what)
    ctx.check(bg.alive(), "%s: pprobe ended while the checks ran (they prove less)" % what)


class SilentServer:
    """SILENT_SERVER in the background."""

    def __init__(self, ctx):
        self.bg = ctx.start_command([sys.executable, "-c", SILENT_SERVER])
        if not harness.wait_for(lambda: self._port() or not self.bg.alive(), 10) or \
                not self._port():
            raise harness.Failure("the silent server did not listen: %s"
                                  % self.bg.wait(5).describe())
        self.url = "http://127.0.0.1:%d" % self._port()

    def _text(self):
        with open(self.bg.out_path) as f:
            return f.read()

    def _port(self):
        m = re.search(r"^listening (\d+)$", self._text(), re.M)
        return int(m.group(1)) if m else None

    def accepted(self):
        return self._text().count("accepted")


def wait_hung(ctx, fixture, bg, what):
    """bg (a pprobe asking a server that never answers) says it is fetching,
    lets the target go meanwhile, and ends within the limit, exit 0; returns
    its Result and how long after the 'fetching' line it ended."""
    t0 = wait_fetching(bg, what)
    check_released_while_waiting(ctx, fixture, bg, what)
    res = bg.wait(HANG_LIMIT + 60)
    waited = time.monotonic() - t0
    ctx.expect_run(res, 0, what)
    ctx.check(waited <= HANG_LIMIT + HANG_SLACK,
              "%s: pprobe ended %.1f s after its 'fetching' line, expected at most %.1f s"
              % (what, waited, HANG_LIMIT + HANG_SLACK))
    return res, waited


def check_hang(ctx, runner, fixture, path, bid, bare_names, silent):
    """A server that never answers: pprobe ends within the limit."""
    url = silent.url
    limit = ["-debuginfod", "-debuginfod-timeout", str(HANG_LIMIT)]

    what = "record, server that never answers, -debuginfod-timeout %d" % HANG_LIMIT
    out = ctx.new_output(fixture.name)
    bg = runner.start(["-p", str(fixture.pid), "-seconds", "1", "-o", out] + limit,
                      runner.env(url))
    res, waited = wait_hung(ctx, fixture, bg, what)
    ctx.note("%s: ended %.1f s after the 'fetching' line" % (what, waited))
    fetch_lines(ctx, res, path, bid, what)
    ctx.check("within the time limit (-debuginfod-timeout %d)" % HANG_LIMIT in res.stderr,
              "%s: expected stderr to say the time limit was reached:%s"
              % (what, harness.indent(res.stderr)))
    ctx.expect_saved(res, out, what)
    prof = fid.read_pprof(out)
    fid.check_against_decode(ctx, prof, what)
    leaves = {s.frames[0].name for s in prof.samples
              if s.frames and s.frames[0].module == NAME}
    ctx.check(leaves and all(re.fullmatch(re.escape(NAME) + r"\+0x[0-9a-f]+", n)
                             for n in leaves),
              "%s: expected the fixture's leaves named %s+0xOFF, got %s"
              % (what, NAME, sorted(leaves)[:5]))
    ctx.check_target_healthy(fixture, what)

    what = "dump, server that never answers, -debuginfod-timeout %d" % HANG_LIMIT
    bg = runner.start(["dump", "-p", str(fixture.pid), "-format", "json"] + limit,
                      runner.env(url))
    res, _ = wait_hung(ctx, fixture, bg, what)
    doc = dumpharness.parse_json(res.stdout, what)
    check_parked(ctx, doc, fixture, what, False, bare_names)
    ctx.check_target_healthy(fixture, what)

    accepted = silent.accepted()
    ctx.check(accepted >= 2, "the silent server accepted %d connections, expected one from "
              "each pprobe run at least" % accepted)


def check_stuck(ctx, runner, path, silent):
    """A thread left traced after the window: no fetch, no waiting."""
    env = dict(os.environ, FID_CHAIN_VFORK="1")
    fixture = fid.start(ctx, NAME + "_vfork", argv=[path], env=env)
    tid = fixture.tid("vforker")
    if not harness.wait_for(lambda: harness.task_states(fixture.pid).get(tid) == "D", 10):
        raise harness.Failure("fixture %s: thread vforker not in state D within 10 s: %s"
                              % (fixture.name, harness.task_states(fixture.pid)))
    what = "record -debuginfod, a thread in vfork (state D), server that never answers"
    before = silent.accepted()
    out = ctx.new_output(fixture.name)
    res = runner.run(["-p", str(fixture.pid), "-seconds", "1", "-o", out, "-debuginfod",
                      "-debuginfod-timeout", "60"], runner.env(silent.url), 60)
    ctx.expect_run(res, 0, what)
    ctx.expect_saved(res, out, what)
    ctx.check("not fetching debug info from debuginfod: 1 threads are still traced" in
              res.stderr and "fetching debug info for" not in res.stderr,
              "%s: expected pprobe to say it fetches nothing, and not to fetch:%s"
              % (what, harness.indent(res.stderr)))
    ctx.check(silent.accepted() == before, "%s: the server was asked" % what)
    ctx.check(res.elapsed < 30, "%s: pprobe took %.1f s" % (what, res.elapsed))
    ctx.check_target_healthy(fixture, what)
    fixture.kill()


def main(ctx):
    ctx.require_pprobe()
    if not ctx.pprof_decode:
        raise harness.Failure("PPROF_DECODE is not set (run through ctest)")
    binary = shutil.which("debuginfod")
    if not binary:
        raise harness.Failure("debuginfod is not installed (Debian package debuginfod; "
                              "./dev.sh installs it)")
    path = fid.fixture_path(ctx, NAME)
    debug_file = os.path.join(ctx.fixtures_dir, DEBUG_FILE)
    if not os.path.isfile(debug_file):
        raise harness.Failure("%s is not built (FIXTURES=%s)" % (DEBUG_FILE, ctx.fixtures_dir))
    bid = dbg.build_id(ctx, path)
    if dbg.build_id(ctx, debug_file) != bid:
        raise harness.Failure("%s and %s have different build IDs" % (NAME, DEBUG_FILE))
    installed = os.path.join(dbg.BUILD_ID_ROOT, bid[:2], bid[2:] + ".debug")
    if os.path.exists(installed):
        raise harness.Failure("%s exists: with local debug info for %s nothing would be "
                              "fetched; remove it" % (installed, NAME))
    ranges = dbg.nm_ranges(ctx, debug_file)

    def bare_names(names):
        return [dbg.resolve_offset(n, NAME, ranges) for n in names]

    server = Debuginfod(ctx, binary, debug_file, bid)
    runner = Runner(ctx)
    fixture = fid.start(ctx, NAME)
    real = os.path.realpath(path)
    check_off(ctx, runner, server, fixture, bare_names)
    check_fetch(ctx, runner, server, fixture, real, bid)
    check_no_server(ctx, runner, fixture)
    silent = SilentServer(ctx)
    check_hang(ctx, runner, fixture, real, bid, bare_names, silent)
    fixture.kill()
    check_stuck(ctx, runner, path, silent)


if __name__ == "__main__":
    harness.run(main)
