"""Helpers of the `pprobe dump` integration tests (test_dump_*.py), on top
of harness.py (python3 standard library only).

The dump fixtures (fixtures/dump/) write, besides their truth file, a status
file (TRUTH.status, named by the truth key "status") that they rewrite whole
every few milliseconds: "key value" lines with a "seq" that grows by one per
write, counters of EINTR returns seen by each waiting loop, and a progress
counter.  wait_status waits until seq has grown by two since it was called,
so the counters it returns were read by the fixture after that moment.

Parsers here read what pprobe dump writes:
  - parse_json: the -format json document, checked against its schema;
  - parse_text: the text form: header, DEADLOCK and CHAIN lines, and each
    thread (or group) entry with its tids, bracket and frames.
Stacks are reduced to the fixture's own functions (plus main and
start_thread) as one "leaf;...;root" line to match against expectations.
"""

import json
import os
import re

import harness

# Whole `pprobe dump` runs; generous, they take well under a second here.
DUMP_TIMEOUT = 60
# How long the fixture gets to write its status file twice.
STATUS_TIMEOUT = 10.0
# How long a signalled process gets to reach the state the signal asks for.
SIGNAL_TIMEOUT = 10.0

WAIT_KINDS = {"mutex", "pi_mutex", "condvar", "rwlock", "semaphore", "join", "futex"}
SLEEP_CALLS = ("nanosleep", "clock_nanosleep")
EPOLL_CALLS = ("epoll_wait", "epoll_pwait", "epoll_pwait2")


# ---------------------------------------------------------------------------
# The fixture's status file


# Shared with the other fixture suites (harness.py).
read_status = harness.read_status


def wait_status(ctx, fixture, what, advance=2, timeout=STATUS_TIMEOUT):
    """See harness.wait_status (ctx kept for the dump tests' call sites)."""
    return harness.wait_status(fixture, what, advance, timeout)


def check_counters_zero(ctx, status, keys, what):
    """Each counter in keys is 0 in status (EINTR seen, signals, ...)."""
    bad = {k: status.get(k) for k in keys if status.get(k) != 0}
    return ctx.check(not bad, "%s: expected the fixture's counters %s all 0, got %s (status %s)"
                     % (what, list(keys), bad, status))


def check_after_dump(ctx, fixture, what, counters, progress_key):
    """After a dump of a running fixture: harness's health check (alive, no
    task stopped, TracerPid 0 everywhere, CPU progress), then the fixture's
    own view: its progress counter grew and every counter in counters (EINTR
    returns, stray signals) is still 0.  Returns the status read."""
    ctx.check_target_healthy(fixture, what)
    before = wait_status(ctx, fixture, what, advance=1)
    after = wait_status(ctx, fixture, what)
    ctx.check(after[progress_key] > before[progress_key],
              "%s: expected the fixture's %s to grow, got %d then %d"
              % (what, progress_key, before[progress_key], after[progress_key]))
    check_counters_zero(ctx, after, counters, what)
    return after


# ---------------------------------------------------------------------------
# /proc


def all_tasks_in(pid, letters):
    """True if pid has tasks and every one is in a state among letters."""
    states = harness.task_states(pid)
    return bool(states) and all(s in letters for s in states.values())


def wait_all_tasks_in(ctx, fixture, letters, what, timeout=SIGNAL_TIMEOUT):
    if not harness.wait_for(lambda: all_tasks_in(fixture.pid, letters), timeout):
        raise harness.Failure("%s: expected every task of pid %d in state %s within %.0f s, "
                              "got %s" % (what, fixture.pid, "/".join(letters), timeout,
                                          harness.task_states(fixture.pid)))


# ---------------------------------------------------------------------------
# Running pprobe dump


def run_dump(ctx, fixture, args=(), what=None, timeout=DUMP_TIMEOUT):
    """`pprobe dump -p PID ARGS`, expecting exit 0; returns the Result."""
    argv = ["dump", "-p", str(fixture.pid)] + list(args)
    what = what or "pprobe " + " ".join(argv)
    result = ctx.run_pprobe(argv, timeout)
    ctx.expect_run(result, 0, what)
    return result


def dump_json(ctx, fixture, what, args=()):
    """`pprobe dump -p PID -format json ARGS`: (Result, parsed document)."""
    result = run_dump(ctx, fixture, ["-format", "json"] + list(args), what)
    return result, parse_json(result.stdout, what)


# ---------------------------------------------------------------------------
# JSON


_THREAD_KEYS = {"tid", "name", "state", "syscall", "wait", "wchan", "cpu_ns", "partial",
                "stack_missing", "kernel_stack", "frames"}
_FRAME_KEYS = {"pc", "function", "file", "line", "module", "inlined"}


def _schema_error(what, message):
    raise harness.Failure("%s: JSON dump does not follow its schema: %s" % (what, message))


def parse_json(text, what):
    """Parses a -format json dump and checks its schema; returns the dict."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise harness.Failure("%s: output is not JSON (%s):%s" % (what, e, harness.indent(text)))
    if not isinstance(doc, dict):
        _schema_error(what, "top level is %s, not an object" % type(doc).__name__)
    for key, kind in (("pid", int), ("comm", str), ("time_ns", int), ("frozen_ns", int),
                      ("threads", list), ("deadlocks", list)):
        if not isinstance(doc.get(key), kind):
            _schema_error(what, "%r is %r, expected a %s" % (key, doc.get(key), kind.__name__))
    for t in doc["threads"]:
        if not isinstance(t, dict) or set(t) != _THREAD_KEYS:
            _schema_error(what, "thread %r: expected keys %s" % (t, sorted(_THREAD_KEYS)))
        if not isinstance(t["tid"], int) or not isinstance(t["name"], str) \
                or not isinstance(t["state"], str) or not isinstance(t["partial"], bool) \
                or not isinstance(t["cpu_ns"], int) or not isinstance(t["frames"], list) \
                or not (t["syscall"] is None or isinstance(t["syscall"], str)) \
                or not (t["stack_missing"] is None or isinstance(t["stack_missing"], str)) \
                or not (t["kernel_stack"] is None or
                        (isinstance(t["kernel_stack"], list) and
                         all(isinstance(x, str) for x in t["kernel_stack"]))):
            _schema_error(what, "thread %r: a field has the wrong type" % t)
        if (t["stack_missing"] is None) != bool(t["frames"]):
            _schema_error(what, "thread %r: expected frames or the reason there are none "
                          "(stack_missing), exactly one of them" % t)
        w = t["wait"]
        if w is not None:
            if not isinstance(w, dict) or set(w) != {"kind", "addr", "owner"} \
                    or w["kind"] not in WAIT_KINDS \
                    or not re.fullmatch(r"0x[0-9a-f]+", str(w["addr"])) \
                    or not (w["owner"] is None or isinstance(w["owner"], int)):
                _schema_error(what, "thread %d: bad wait %r" % (t["tid"], w))
        for f in t["frames"]:
            if not isinstance(f, dict) or set(f) != _FRAME_KEYS \
                    or not isinstance(f["function"], str) \
                    or not re.fullmatch(r"0x[0-9a-f]+", str(f["pc"])) \
                    or not isinstance(f["inlined"], bool):
                _schema_error(what, "thread %d: bad frame %r" % (t["tid"], f))
    for cycle in doc["deadlocks"]:
        if not isinstance(cycle, list) or not cycle or \
                not all(isinstance(x, int) for x in cycle):
            _schema_error(what, "bad deadlock entry %r" % (cycle,))
    return doc


def json_threads_by_tid(ctx, doc, fixture, what):
    """{tid: thread} of a JSON dump, after checking that every thread of the
    fixture's truth appears exactly once and no other thread appears."""
    seen = {}
    for t in doc["threads"]:
        seen.setdefault(t["tid"], []).append(t)
    dup = {tid: len(ts) for tid, ts in seen.items() if len(ts) > 1}
    ctx.check(not dup, "%s: expected each thread once, got {tid: times} %s" % (what, dup))
    truth = set(fixture.truth_threads)
    ctx.check(set(seen) == truth,
              "%s: expected exactly the fixture's threads %s, missing %s, extra %s"
              % (what, sorted(truth), sorted(truth - set(seen)), sorted(set(seen) - truth)))
    return {tid: ts[0] for tid, ts in seen.items()}


def addr(value):
    """An address from the truth file or a dump ("0x55d0..."), as an int."""
    return int(str(value), 16)


# ---------------------------------------------------------------------------
# Text


_THREAD_HDR = re.compile(r'thread (\d+) "((?:[^"\\]|\\.)*)" \[(.*)\] cpu=(\S+)(?: total)?'
                         r'(?: wchan=(\S+))?')
_GROUP_HDR = re.compile(r'(\d+) threads(?: "((?:[^"\\]|\\.)*)")?: ([0-9 -]+) \[(.*)\] cpu=(\S+)'
                        r' total(?: wchan=(\S+))?')
# "  #3  name [inlined]  (file.c:12)  module"; the name may hold spaces
# (C++), so it is the shortest text after which the rest fits.
_FRAME = re.compile(r"  #(\d+)\s+(.+?)( \[inlined\])?(?:  \(([^()]*)\))?(?:  (\S+))?")


class TextEntry:
    """One thread or group entry of a text dump: tids (list), name (None for
    a group of threads with different names), bracket, and frames as
    (function, module) pairs, innermost first; notes are the other indented
    lines (the partial-stack note, "... (stack ends: ...)")."""

    def __init__(self, line, tids, name, bracket, group):
        self.line = line
        self.tids = tids
        self.name = name
        self.bracket = bracket
        self.group = group
        self.frames = []
        self.notes = []

    def functions(self):
        return [f for f, _ in self.frames]

    def __repr__(self):
        return self.line


class TextDump:
    """header (first line), deadlocks, chains (the text after "DEADLOCK: "
    and "CHAIN: "), also_stuck lines, entries (TextEntry, in order)."""

    def __init__(self):
        self.header = ""
        self.deadlocks = []
        self.chains = []
        self.also_stuck = []
        self.entries = []

    def entries_of(self, tid):
        return [e for e in self.entries if tid in e.tids]


def expand_tids(text):
    """"101-104 110" -> [101, 102, 103, 104, 110]."""
    tids = []
    for part in text.split():
        first, dash, last = part.partition("-")
        if dash:
            tids.extend(range(int(first), int(last) + 1))
        else:
            tids.append(int(first))
    return tids


def parse_text(text, what):
    """Parses a text dump into a TextDump; unknown lines fail the test."""
    dump = TextDump()
    lines = text.splitlines()
    if not lines or not lines[0].startswith("pprobe dump of process "):
        raise harness.Failure("%s: text dump does not start with its header:%s"
                              % (what, harness.indent(text)))
    dump.header = lines[0]
    entry = None
    in_kernel_stack = False
    for line in lines[1:]:
        if not line.strip():
            entry = None
            continue
        if line.startswith("DEADLOCK: "):
            dump.deadlocks.append(line[len("DEADLOCK: "):])
            continue
        if line.startswith("CHAIN: "):
            dump.chains.append(line[len("CHAIN: "):])
            continue
        if line.startswith("  also stuck: "):
            dump.also_stuck.append(line[len("  also stuck: "):])
            continue
        m = _THREAD_HDR.fullmatch(line)
        if m:
            entry = TextEntry(line, [int(m.group(1))], m.group(2), m.group(3), False)
            dump.entries.append(entry)
            in_kernel_stack = False
            continue
        m = _GROUP_HDR.fullmatch(line)
        if m:
            tids = expand_tids(m.group(3))
            if len(tids) != int(m.group(1)):
                raise harness.Failure("%s: group line says %s threads, lists %d: %r"
                                      % (what, m.group(1), len(tids), line))
            entry = TextEntry(line, tids, m.group(2), m.group(4), True)
            dump.entries.append(entry)
            in_kernel_stack = False
            continue
        if entry is None or not line.startswith("  "):
            raise harness.Failure("%s: unexpected line in text dump: %r" % (what, line))
        if line == "  kernel stack:":
            in_kernel_stack = True
            continue
        if in_kernel_stack and line.startswith("    "):
            continue
        m = _FRAME.fullmatch(line)
        if m:
            entry.frames.append((m.group(2), m.group(5)))
        else:
            entry.notes.append(line.strip())
    return dump


# ---------------------------------------------------------------------------
# Stacks


def reduce_stack(functions, known):
    """The frames whose function is in known, as one "leaf;...;root" line."""
    return ";".join(f for f in functions if f in known)


# Functions of a fixture's module that may be in a stack without being
# part of the reduced line.
STACK_EXTRA = ("_start",)


def check_stack(ctx, tag, frames, known, expected, fixture_module, leaf_outside=True):
    """Checks one stack, frames as (function, module) innermost first:
      - reduced to the functions in known it matches expected (a regex);
      - no frame names a filler (the unwinder slipped off a function);
      - every frame in the fixture's own module is a known function;
      - with leaf_outside, the innermost frame is not in the fixture (a
        thread blocked in libc whose stack starts in the fixture lost its
        leaf)."""
    functions = [f for f, _ in frames]
    line = reduce_stack(functions, known)
    ok = ctx.check(re.fullmatch(expected, line) is not None,
                   "%s: expected the stack reduced to the fixture's functions to match %r, "
                   "got %r; full stack %s" % (tag, expected, line, functions))
    fillers = [f for f in functions if "filler" in f]
    ok &= ctx.check(not fillers, "%s: expected no filler function in the stack, got %s in %s"
                    % (tag, fillers, functions))
    strays = [f for f, m in frames
              if m == fixture_module and f not in known and f not in STACK_EXTRA]
    ok &= ctx.check(not strays, "%s: expected only known functions of %s in the stack, got "
                    "%s in %s" % (tag, fixture_module, strays, functions))
    if leaf_outside and frames:
        ok &= ctx.check(frames[0][1] != fixture_module,
                        "%s: expected the innermost frame in a library (the thread is blocked "
                        "in a call), got %s in %s; full stack %s"
                        % (tag, frames[0][0], frames[0][1], functions))
    return ok


def json_frames(thread):
    return [(f["function"], f["module"]) for f in thread["frames"]]


# ---------------------------------------------------------------------------
# Small things


def note_file(ctx, path, text):
    """Keeps a dump's text beside the test's other scratch files."""
    with open(path, "w") as f:
        f.write(text)


def fixture_module(fixture):
    return os.path.basename(fixture.path)


# ---------------------------------------------------------------------------
# The dump_waits fixture (fixtures/dump/waits/waits.h): what a dump of it
# must say about each thread.

# fixtures/dump/common/dumpfix.c, linked into every dump fixture.
DUMPFIX_FUNCTIONS = {"dumpfix_await", "dumpfix_status_path", "dumpfix_status_write",
                     "dumpfix_now_ns"}

WAITS_KNOWN = {
    "main", "start_thread", "dl_thread", "dl_wait", "cv_thread", "cv_wait", "pipe_thread",
    "pipe_wait", "sleep_thread", "sleep_wait", "poll_thread", "poll_wait", "rename_thread",
    "rename_wait", "worker_thread", "worker_cycle", "worker_spin", "waits_nap",
    "waits_write_status", "waits_started", "worker_calibrate",
} | DUMPFIX_FUNCTIONS

# The counters of the status file that must stay 0 while pprobe is used.
WAITS_COUNTERS = ("eintr_pipe", "eintr_sleep", "eintr_poll", "eintr_rename", "eintr_worker",
                  "eintr_cond", "signals", "unexpected")


class Expect:
    """What a dump must say of one thread: calls (the syscall names it may
    be in; None: any), wait (kind, truth key of the address or None, name of
    the owner thread or None) or None for no lock wait, stack (regex of the
    reduced stack), blocked (its state is that of a blocked thread, and its
    leaf is in libc), partial (expected value, None: either)."""

    def __init__(self, calls, wait, stack, blocked=True, partial=False):
        self.calls = calls
        self.wait = wait
        self.stack = stack
        self.blocked = blocked
        self.partial = partial


WAITS_EXPECT = {
    "dl-a": Expect(("futex",), ("mutex", "dl_a_waits", "dl-b"), "dl_wait;dl_thread;start_thread"),
    "dl-b": Expect(("futex",), ("mutex", "dl_b_waits", "dl-a"), "dl_wait;dl_thread;start_thread"),
    "cv-wait": Expect(("futex",), ("condvar", "cond", None), "cv_wait;cv_thread;start_thread"),
    "pipe-read": Expect(("read",), None, "pipe_wait;pipe_thread;start_thread"),
    "sleeper": Expect(SLEEP_CALLS, None, "sleep_wait;sleep_thread;start_thread"),
    "poller": Expect(EPOLL_CALLS, None, "poll_wait;poll_thread;start_thread", partial=True),
    "rename-new": Expect(SLEEP_CALLS, None, "rename_wait;rename_thread;start_thread"),
    "worker": Expect(None, None,
                     r"(?:(?:worker_spin|waits_nap|waits_write_status|dumpfix_\w+);)*"
                     r"worker_cycle;worker_thread;start_thread",
                     blocked=False, partial=None),
    "dump_waits": Expect(("futex",), ("join", None, "worker"), "main"),
}


def check_waits_json(ctx, fixture, doc, what, state="sleeping", check_partial=True):
    """Checks a JSON dump of dump_waits against its truth: every thread
    once, each with its state, call, lock wait and stack, and the deadlock.
    state: what blocked threads must be ("sleeping", or "stopped" when the
    whole process was SIGSTOPped)."""
    by_tid = json_threads_by_tid(ctx, doc, fixture, what)
    module = fixture_module(fixture)
    truth = fixture.truth
    ctx.check_eq("%s: pid" % what, fixture.pid, doc["pid"])
    for tid, name in sorted(fixture.truth_threads.items()):
        t = by_tid.get(tid)
        exp = WAITS_EXPECT.get(name)
        if t is None or exp is None:
            ctx.check(exp is not None, "%s: no expectation for thread %r" % (what, name))
            continue
        tag = "%s: thread %d %r" % (what, tid, name)
        ctx.check_eq("%s: name" % tag, name, t["name"])
        if exp.blocked or state != "sleeping":
            ctx.check_eq("%s: state" % tag, state, t["state"])
        if exp.calls is not None:
            ctx.check(t["syscall"] in exp.calls, "%s: expected syscall %s, got %r"
                      % (tag, " or ".join(exp.calls), t["syscall"]))
        if exp.wait is None:
            if exp.blocked:
                ctx.check(t["wait"] is None, "%s: expected no lock wait, got %r"
                          % (tag, t["wait"]))
        else:
            kind, addr_key, owner_name = exp.wait
            w = t["wait"] or {}
            ctx.check_eq("%s: wait kind" % tag, kind, w.get("kind"))
            if addr_key is not None:
                ctx.check(w.get("addr") is not None and addr(w["addr"]) == addr(truth[addr_key]),
                          "%s: expected wait addr %s (truth %s), got %r"
                          % (tag, truth[addr_key], addr_key, w.get("addr")))
            expected_owner = fixture.tid(owner_name) if owner_name else None
            ctx.check_eq("%s: wait owner (%s)" % (tag, owner_name), expected_owner,
                         w.get("owner"))
        if check_partial and exp.partial is not None:
            ctx.check_eq("%s: partial" % tag, exp.partial, t["partial"])
        ctx.check(t["stack_missing"] is None, "%s: expected a stack, got none because %r"
                  % (tag, t["stack_missing"]))
        check_stack(ctx, tag, json_frames(t), WAITS_KNOWN, exp.stack, module,
                    leaf_outside=exp.blocked)
    check_waits_deadlock_json(ctx, fixture, doc, by_tid, what)
    return by_tid


def check_waits_deadlock_json(ctx, fixture, doc, by_tid, what):
    """One deadlock, dl-a and dl-b; each waits for the mutex the other holds."""
    a, b = fixture.tid("dl-a"), fixture.tid("dl-b")
    ctx.check(len(doc["deadlocks"]) == 1 and sorted(doc["deadlocks"][0]) == sorted([a, b]),
              "%s: expected \"deadlocks\" to be one cycle of dl-a %d and dl-b %d, got %r"
              % (what, a, b, doc["deadlocks"]))
    truth = fixture.truth
    for waiter, holder, held_key in ((a, b, "dl_b_holds"), (b, a, "dl_a_holds")):
        w = (by_tid.get(waiter) or {}).get("wait") or {}
        ok = w.get("kind") == "mutex" and w.get("owner") == holder and \
            w.get("addr") is not None and addr(w["addr"]) == addr(truth[held_key])
        ctx.check(ok, "%s: expected thread %d to wait for mutex %s (truth %s) held by %d, "
                  "got wait %r" % (what, waiter, truth[held_key], held_key, holder, w))


def _bracket_expect(fixture, name, exp, state):
    """A regex the text bracket of thread name must match (re.search)."""
    truth = fixture.truth
    tail = "" if state == "sleeping" else ", %s" % re.escape(state)
    if name == "dump_waits":
        return r'^waiting for thread %d "worker" to exit%s$' % (fixture.tid("worker"), tail)
    if exp.wait is not None:
        kind, addr_key, owner_name = exp.wait
        words = {"mutex": "mutex", "condvar": "condition variable"}[kind]
        text = r"^futex wait on %s 0x%x" % (words, addr(truth[addr_key]))
        if owner_name:
            text += r' held by thread %d "%s"' % (fixture.tid(owner_name), re.escape(owner_name))
        return text + tail + "$"
    calls = "|".join(exp.calls)
    arg = ""
    if name == "pipe-read":
        arg = r"\(fd %s\)" % truth["pipe_fd"]
    elif name == "poller":
        arg = r"\(epfd %s\)" % truth["epoll_fd"]
    return r"^%s in (?:%s)%s$" % (re.escape(state), calls, arg)


def check_waits_text(ctx, fixture, dump, what, state="sleeping"):
    """Checks a text dump of dump_waits (not grouped): the DEADLOCK line
    names dl-a, dl-b and the two mutexes with their holders; every thread
    has an entry (two for the deadlocked ones: with their deadlock and in
    the list, the same both times), with its name, bracket and stack."""
    module = fixture_module(fixture)
    truth = fixture.truth
    a, b = fixture.tid("dl-a"), fixture.tid("dl-b")
    ctx.check(len(dump.deadlocks) == 1, "%s: expected one DEADLOCK line, got %r"
              % (what, dump.deadlocks))
    if dump.deadlocks:
        line = dump.deadlocks[0]
        hops = set((addr(m), int(t)) for m, t in
                   re.findall(r"mutex (0x[0-9a-f]+) held by thread (\d+)", line))
        expected = {(addr(truth["dl_a_holds"]), a), (addr(truth["dl_b_holds"]), b)}
        ctx.check(hops == expected,
                  "%s: expected the DEADLOCK line to name mutex %s held by dl-a %d and mutex %s "
                  "held by dl-b %d, got %r" % (what, truth["dl_a_holds"], a, truth["dl_b_holds"],
                                               b, line))
        tids = set(int(t) for t in re.findall(r"thread (\d+)", line))
        ctx.check(tids == {a, b}, "%s: expected the DEADLOCK line to name threads %d and %d "
                  "only, got %r" % (what, a, b, line))
    groups = [e for e in dump.entries if e.group]
    ctx.check(not groups, "%s: expected no groups (%d threads, fewer than 64, no -group), "
              "got %s" % (what, len(fixture.truth_threads), groups))
    listed = set()
    for e in dump.entries:
        listed.update(e.tids)
    extra = listed - set(fixture.truth_threads)
    ctx.check(not extra, "%s: entries for threads not in the fixture: %s" % (what, sorted(extra)))
    for tid, name in sorted(fixture.truth_threads.items()):
        tag = "%s: thread %d %r (text)" % (what, tid, name)
        entries = dump.entries_of(tid)
        times = 2 if tid in (a, b) else 1
        if not ctx.check(len(entries) == times, "%s: expected %d entr%s, got %d: %s"
                         % (tag, times, "ies" if times > 1 else "y", len(entries), entries)):
            continue
        if times > 1:
            ctx.check(entries[0].line == entries[1].line and
                      entries[0].frames == entries[1].frames,
                      "%s: expected its deadlock entry and its list entry to be the same, got "
                      "%r %s and %r %s" % (tag, entries[0].line, entries[0].frames,
                                           entries[1].line, entries[1].frames))
        e = entries[-1]
        ctx.check_eq("%s: name" % tag, name, e.name)
        exp = WAITS_EXPECT.get(name)
        if exp is None:
            continue
        if exp.blocked or state != "sleeping":
            pattern = _bracket_expect(fixture, name, exp, state) if exp.blocked else \
                r"^%s(?: in .*)?$" % re.escape(state)
            ctx.check(re.search(pattern, e.bracket) is not None,
                      "%s: expected the bracket to match %r, got [%s]" % (tag, pattern, e.bracket))
        check_stack(ctx, tag, e.frames, WAITS_KNOWN, exp.stack, module,
                    leaf_outside=exp.blocked)
