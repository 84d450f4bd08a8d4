"""Helpers of the fidelity tests (test_fidelity_*.py), on top of harness.py
and dumpharness.py (python3 standard library only).  Not a test itself.

The fidelity tests run pprobe against fixtures built the many ways a
profiler meets programs in the field (fixtures/fidelity/README.md) and
check, for each, that a CPU profile names the hot function and that its
stacks reach the thread's entry point, and that a dump shows the stack a
debugger shows.

What is here:
  - read_pprof: a third profile reader, of the pprof protobuf itself, for
    what the other two do not show: each frame's system_name (the mangled
    name), its mapping's file and its location's address.  Every profile it
    reads is also decoded by the project's pprof_decode and the two must
    agree on the stacks (check_against_decode);
  - FidFixture: a fixture started with any argv (through unshare, node, a
    copied binary...), keeping harness.Fixture's ready/truth handshake;
  - stack predicates: reaches_entry, reduce, and record/dump wrappers.
"""

import collections
import gzip
import os
import re
import shutil
import subprocess

import dumpharness
import harness
import profiles

# Functions at which a thread's stack ends when it was unwound to the end.
ENTRY_FUNCTIONS = {
    "_start", "__libc_start_main", "__libc_start_main_impl", "__libc_start_call_main",
    "main", "start_thread", "clone", "clone3", "__clone", "__clone3",
    "runtime.goexit", "runtime.goexit.abi0", "runtime.main", "runtime.mstart",
    "runtime.mstart.abi0", "runtime.rt0_go", "runtime.rt0_go.abi0",
    # musl
    "__libc_start_main_stage2", "libc_start_main_stage2", "_start_c", "start",
}
TRUNCATED = "[truncated]"


# ---------------------------------------------------------------------------
# A pprof reader (profile.proto's field numbers, as pprobe writes them)


def _varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7f) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _fields(buf):
    """(field number, wire type, value) of one message; value is an int or bytes."""
    i, n = 0, len(buf)
    while i < n:
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 1:
            v, i = int.from_bytes(buf[i:i + 8], "little"), i + 8
        elif wt == 2:
            ln, i = _varint(buf, i)
            v, i = buf[i:i + ln], i + ln
        elif wt == 5:
            v, i = int.from_bytes(buf[i:i + 4], "little"), i + 4
        else:
            raise harness.Failure("pprof: unsupported wire type %d" % wt)
        yield num, wt, v


def _ints(wt, v):
    """A repeated integer field's values, packed (bytes) or not."""
    if wt != 2:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = _varint(v, i)
        out.append(x)
    return out


def _signed(x):
    return x - (1 << 64) if x >= 1 << 63 else x


class PFrame:
    """One frame: name, system_name, file, line, module (mapping file's
    basename, or None), address, inlined (not the location's last line)."""

    __slots__ = ("name", "system_name", "file", "line", "module", "address", "inlined")

    def __init__(self, name, system_name, file, line, module, address, inlined):
        self.name = name
        self.system_name = system_name
        self.file = file
        self.line = line
        self.module = module
        self.address = address
        self.inlined = inlined

    def __repr__(self):
        return self.name


class PSample(profiles.Sample):
    """profiles.Sample with PFrame frames, and its first value as count."""

    __slots__ = ()

    @property
    def count(self):
        return self.values[0]


class PProfile:
    def __init__(self, path):
        self.path = path
        self.samples = []
        self.mappings = {}

    def total(self, samples=None):
        return sum(s.count for s in (self.samples if samples is None else samples))

    def select(self, pred):
        return [s for s in self.samples if pred(s)]

    def of_thread(self, name):
        return [s for s in self.samples if s.labels.get("thread") == name]

    def top_stacks(self, samples=None, n=8):
        c = collections.Counter()
        for s in (self.samples if samples is None else samples):
            c[s.stack()] += s.count
        return "\n".join("    %6d %s" % (v, k) for k, v in c.most_common(n)) or "    (none)"

    def self_shares(self, samples=None):
        """{leaf function: share of samples} over samples (default all)."""
        samples = self.samples if samples is None else samples
        total = self.total(samples)
        c = collections.Counter()
        for s in samples:
            if s.frames:
                c[s.frames[0].name] += s.count
        return {k: v / total for k, v in c.items()} if total else {}


def read_pprof(path):
    """Reads a gzip-compressed pprof file into a PProfile."""
    with open(path, "rb") as f:
        data = gzip.decompress(f.read())
    strings, raw_samples, mappings, locations, functions = [], [], {}, {}, {}
    for num, wt, v in _fields(data):
        if num == 6:
            strings.append(v.decode("utf-8", "replace"))
        elif num == 2:
            raw_samples.append(v)
        elif num == 3:
            m = dict((n, x) for n, _, x in _fields(v))
            mappings[m.get(1, 0)] = m.get(5, 0)
        elif num == 4:
            loc = {"lines": []}
            for n, w, x in _fields(v):
                if n == 1:
                    loc["id"] = x
                elif n == 2:
                    loc["mapping"] = x
                elif n == 3:
                    loc["address"] = x
                elif n == 4:
                    ln = dict((a, b) for a, _, b in _fields(x))
                    loc["lines"].append((ln.get(1, 0), _signed(ln.get(2, 0))))
            locations[loc.get("id", 0)] = loc
        elif num == 5:
            fn = dict((n, x) for n, _, x in _fields(v))
            functions[fn.get(1, 0)] = fn
    prof = PProfile(path)
    prof.mappings = {k: strings[v] for k, v in mappings.items()}
    frames_of = {}
    for lid, loc in locations.items():
        module = prof.mappings.get(loc.get("mapping", 0))
        module = os.path.basename(module) if module else None
        frames = []
        for k, (fid, line) in enumerate(loc["lines"]):
            fn = functions.get(fid, {})
            file = strings[fn.get(4, 0)] or None
            frames.append(PFrame(strings[fn.get(2, 0)], strings[fn.get(3, 0)], file,
                                 line or None, module, loc.get("address", 0),
                                 k + 1 < len(loc["lines"])))
        if not frames:
            frames.append(PFrame("0x%x" % loc.get("address", 0), "", None, None, module,
                                 loc.get("address", 0), False))
        frames_of[lid] = frames
    for raw in raw_samples:
        locs, values, labels = [], [], {}
        for n, w, x in _fields(raw):
            if n == 1:
                locs.extend(_ints(w, x))
            elif n == 2:
                values.extend(_signed(y) for y in _ints(w, x))
            elif n == 3:
                lab = dict((a, b) for a, _, b in _fields(x))
                key = strings[lab.get(1, 0)]
                labels[key] = strings[lab[2]] if lab.get(2) else str(_signed(lab.get(3, 0)))
        frames = []
        for lid in locs:
            frames.extend(frames_of[lid])
        prof.samples.append(PSample(values, frames, labels))
    return prof


def check_against_decode(ctx, prof, what):
    """The project's pprof_decode must see the same stacks (names) with the
    same sample counts as read_pprof: two readers agreeing."""
    if not ctx.pprof_decode:
        raise harness.Failure("PPROF_DECODE is not set (run through ctest)")
    res = ctx.run_command([ctx.pprof_decode, prof.path], 60)
    if res.rc != 0:
        raise harness.Failure("%s: pprof_decode cannot read %s:\n  %s"
                              % (what, prof.path, res.describe()))
    theirs = collections.Counter()
    for line in res.stdout.splitlines():
        if line.startswith("sample "):
            parts = line[len("sample "):].split("\t")
            names = [f for f in parts[1].split(";") if f]
            names = ["0x%x" % int(n, 16) if re.fullmatch(r"0[xX][0-9a-fA-F]+", n) else n
                     for n in names]
            theirs[";".join(names)] += int(parts[0].split()[0])
    ours = collections.Counter()
    for s in prof.samples:
        ours[s.stack()] += s.count
    theirs = +theirs
    ours = +ours
    if ours != theirs:
        only_o = sorted(set(ours) - set(theirs))[:5]
        only_t = sorted(set(theirs) - set(ours))[:5]
        ctx.report("%s: the pprof reader of the fidelity tests and pprof_decode disagree on "
                   "%s: only ours %s, only pprof_decode's %s" % (what, prof.path, only_o, only_t))


# ---------------------------------------------------------------------------
# Fixtures started with any command line


class FidFixture(harness.Fixture):
    """A fixture whose command line is argv (the truth option is appended
    unless truth_arg is False), with the same ready/truth handshake as
    harness.Fixture.  module is the file name its frames carry."""

    def __init__(self, ctx, name, argv, env=None, module=None, cwd=None):
        harness.Fixture.__init__(self, ctx, name)
        self.argv = list(argv)
        self.env = env
        self.cwd = cwd
        self.module = module or os.path.basename(argv[0])

    def start(self):
        for stale in (self.truth_path, self.truth_path + ".tmp"):
            if os.path.exists(stale):
                os.unlink(stale)
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.argv + ["--truth", self.truth_path],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=self.env,
                cwd=self.cwd, preexec_fn=harness._set_pdeathsig)
        self.ctx.fixtures.append(self)
        line = self._read_ready_line(harness.READY_TIMEOUT * 3)
        m = re.fullmatch(r"ready (\d+)", line)
        if not m or int(m.group(1)) != self.proc.pid:
            raise harness.Failure("fixture %s: expected 'ready %d', got %r"
                                  % (self.name, self.proc.pid, line))
        self.pid = self.proc.pid
        self._read_truth()
        return self


def fixture_path(ctx, name, tool=None):
    """The built fixture's path; a missing fixture built from a tool that may
    be absent (tool names it) is a skip, any other a failure."""
    path = os.path.join(ctx.fixtures_dir, name)
    if not os.access(path, os.X_OK):
        if tool:
            raise harness.Skip("fixture %s was not built: %s was not found at configure time"
                               % (name, tool))
        raise harness.Failure("fixture %s is not built (FIXTURES=%s)" % (name, ctx.fixtures_dir))
    return path


def start(ctx, name, argv=None, tool=None, **kw):
    """Starts fixture name (argv default: its built binary)."""
    if argv is None:
        argv = [fixture_path(ctx, name, tool)]
    return FidFixture(ctx, name, argv, **kw).start()


# ---------------------------------------------------------------------------
# Stacks


def reaches_entry(names):
    """True if a stack (leaf first) ends at a thread's entry point: it is not
    truncated and its outermost frames include an entry function."""
    if not names or names[-1] == TRUNCATED:
        return False
    return any(n in ENTRY_FUNCTIONS for n in names[-4:])


def reduce(names, known):
    return ";".join(n for n in names if n in known)


def blank_frames(prof):
    """Frames with an empty or missing name, anywhere in the profile."""
    return [s.stack() for s in prof.samples if any(not f.name.strip() for f in s.frames)]


def record(ctx, fixture, seconds, what, extra=()):
    """pprobe record of fixture; returns the PProfile (checked against
    pprof_decode)."""
    result, out = ctx.record(fixture, seconds, extra=extra, what=what)
    prof = read_pprof(out)
    check_against_decode(ctx, prof, what)
    prof.result = result
    if not ctx.check(prof.total() > 0, "%s: expected samples, got none; pprobe:\n  %s"
                     % (what, result.describe())):
        raise harness.Failure("%s: no samples" % what)
    blanks = blank_frames(prof)
    ctx.check(not blanks, "%s: expected no blank frame, got %d stacks with one, e.g. %s"
              % (what, len(blanks), blanks[:3]))
    return prof


def record_enough(ctx, fixture, seconds, what, wants, extra=(), max_seconds=60):
    """record(), with the window extended until each of wants, a list of
    (description, samples_of(prof), minimum count), has at least its minimum:
    on a busy machine the fixture's threads get a small share of the CPU and
    a window tuned on an idle one yields too few samples to judge a share.
    Each further window is scaled by the largest shortfall measured so far,
    and the profiles are merged; after max_seconds of windows in all the
    result is returned as it is (the share checks then report the counts)."""
    prof = record(ctx, fixture, seconds, what, extra)
    spent = seconds
    while spent < max_seconds:
        short = [(d, prof.total(f(prof)), m) for d, f, m in wants if prof.total(f(prof)) < m]
        if not short:
            break
        factor = min(5.0, max(m / max(got, 1) for _, got, m in short))
        more = int(min(max_seconds - spent, max(seconds, spent * (factor - 1) * 1.2)))
        ctx.note("%s: too few samples after %d s (%s): recording %d s more"
                 % (what, spent, ", ".join("%s %d < %d" % x for x in short), more))
        extra_prof = record(ctx, fixture, more, what + " (+%d s)" % more, extra)
        prof.samples.extend(extra_prof.samples)
        spent += more
    return prof


def check_share(ctx, prof, samples, pred, minimum, what, describe):
    """At least minimum of samples satisfy pred; returns the share."""
    total = prof.total(samples)
    good = prof.total([s for s in samples if pred(s)])
    share = good / total if total else 0.0
    ctx.note("%s: %s in %d of %d samples (%.1f%%)" % (what, describe, good, total, 100 * share))
    ctx.check(total > 0 and share >= minimum,
              "%s: expected %s in >= %.0f%% of samples, got %d of %d:\n%s"
              % (what, describe, 100 * minimum, good, total, prof.top_stacks(samples)))
    return share


def check_released(ctx, fixture, what):
    """For a fixture whose threads all sleep (no CPU progress to wait for):
    alive, no task stopped, TracerPid 0 in every task."""
    if not fixture.alive():
        ctx.report("%s: %s has exited" % (what, fixture.name))
        return
    stopped = {t: st for t, st in harness.task_states(fixture.pid).items() if st in "tT"}
    ctx.check(not stopped, "%s: %s has stopped tasks %s" % (what, fixture.name, stopped))
    traced = {t: p for t, p in harness.tracer_pids(fixture.pid).items() if p}
    ctx.check(not traced, "%s: %s still traced {tid: TracerPid} %s"
              % (what, fixture.name, traced))


def dump(ctx, fixture, what, fmt="json", progress=True):
    """pprobe dump; the parsed JSON document (or the text) and the Result.
    progress=False: the fixture sleeps, check it is released only."""
    if fmt == "json":
        result, doc = dumpharness.dump_json(ctx, fixture, what)
    else:
        result = dumpharness.run_dump(ctx, fixture, [], what)
        doc = result.stdout
    if progress:
        ctx.check_target_healthy(fixture, what)
    else:
        check_released(ctx, fixture, what)
    return doc, result


def dump_thread(doc, tid):
    for t in doc["threads"]:
        if t["tid"] == tid:
            return t
    return None


def frame_names(thread):
    return [f["function"] for f in thread["frames"]]


# ---------------------------------------------------------------------------
# Threads held still


def task_syscall(pid, tid):
    """The system call number a task is blocked in, or None."""
    try:
        with open("/proc/%d/task/%d/syscall" % (pid, tid)) as f:
            first = f.read().split()
    except OSError:
        return None
    if not first or first[0] in ("running", "-1"):
        return None
    return int(first[0])


SYS_READ = 0


def wait_blocked_in_read(ctx, fixture, tids, timeout=10.0):
    """Waits until every task in tids sleeps in read(2)."""
    def blocked():
        states = harness.task_states(fixture.pid)
        return all(states.get(t) == "S" and task_syscall(fixture.pid, t) == SYS_READ
                   for t in tids)
    if not harness.wait_for(blocked, timeout):
        raise harness.Failure("fixture %s: threads %s not all blocked in read(2) within %.0f s "
                              "(states %s)" % (fixture.name, sorted(tids), timeout,
                                               harness.task_states(fixture.pid)))


# ---------------------------------------------------------------------------
# Tools


def which(tool):
    return shutil.which(tool)


def run_tool(ctx, argv, timeout=120, env=None, cwd=None):
    return ctx.run_command(argv, timeout, env=env, cwd=cwd)


def wait_file(path, timeout=10.0):
    return harness.wait_for(lambda: os.path.exists(path), timeout)


def unlink_quiet(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
