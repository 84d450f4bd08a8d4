#!/usr/bin/env python3
"""Golden replay: fid_parked's stacks, unwound and symbolized offline, frame
by frame.

The live tests check pprobe's stacks against a running process, so what
they can assert exactly is limited by timing and by the kernel.  Here the
capture is separated from the check:

  1. fid_parked (fixtures/fidelity/parked/parked.h) holds every thread still
     in read(2), each reached through a different kind of frame: DWARF CFI
     without frame pointers to start_thread (p-plain) and to main and _start
     (the main thread), inlined functions (p-inline), code without unwind
     tables (p-nofp), a signal handler and its signal frame (p-signal), a
     C++ template method and its lambda, demangled (p-cxx), 30-deep
     recursion (p-deep);
  2. tests/tools/snapshot_record copies every thread's registers and stack
     (snapshot_capture, as pprobe does), the maps, the mapped files' build
     IDs and the vDSO into a snapshot file (include/pprobe/snapfile.h), from
     two separate runs of the fixture (different load addresses, thread ids),
     the first also copying the mapped files aside;
  3. both fixtures are killed and reaped; from then on no process is
     involved: tests/tools/snapshot_replay unwinds (unwind_stack) and
     symbolizes (stacks_symbolize) the files against the same ELF files;
  4. every thread's frames must be exactly the expected list: function name,
     inlined or not, source file and line for the fixture's frames (the lines
     are found by grepping the fixture's source for the call, so an edit of
     the fixture moves the expectation with it), module; the libc frames by
     name (the read wrapper may show as one or two frames, and under any of
     its aliases, depending on the libc's debug info); and for every frame,
     how the unwinder found it (CFI, the signal frame, the frame pointer of
     code without CFI: a stack that comes out right by a fallback, such as
     the stack scan, where CFI should have served, fails).  The unwind must
     end "complete";
  5. determinism: replaying a file twice gives the same bytes, and the two
     recordings replay to the same output (tids aside: the addresses printed
     are the ELF files' own, not the load addresses), the copied files
     (snapshot_replay -root) replay as the originals do; a snapshot whose
     executable's build ID differs from the file on disk is refused.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PARKED = os.path.join(SRC, "fixtures", "fidelity", "parked")
COMMON = os.path.join(SRC, "fixtures", "fidelity", "common")
EXE = "fid_parked"
LIBC = "libc.so.6"
TOOL_TIMEOUT = 60

# The read(2) wrapper: __GI___libc_read (with libc's DWARF: twice, the
# inlined syscall macro's frame first), or its exported aliases.
LIBC_READ = {"__GI___libc_read", "__libc_read", "read", "__read"}
# What pthread_kill's frame above a signal frame is called.
LIBC_KILL = {"__pthread_kill_implementation", "__pthread_kill_internal", "pthread_kill",
             "__pthread_kill"}


def source_line(path, pattern):
    """The one line of path matching pattern (1-based), and the match."""
    with open(path) as f:
        hits = [(i + 1, m) for i, line in enumerate(f) for m in [re.search(pattern, line)] if m]
    if len(hits) != 1:
        raise harness.Failure("expected exactly one line of %s to match %r, found %d: the "
                              "fixture changed, update the marker" % (path, pattern, len(hits)))
    return hits[0]


def at(func, path, pattern, inlined=False, how="cfi"):
    """A frame of the fixture: func at the line of path matching pattern,
    its pc found the way how says (snapshot_replay's HOW column)."""
    line, _ = source_line(path, pattern)
    return ("exact", func, os.path.basename(path), line, EXE, inlined, how)


def libc(func, how="cfi"):
    """A frame of libc with no line checked (libc's sources are not ours)."""
    return ("libc", {func}, 1, 1, how)


def libc_run(names, most, how="cfi"):
    """One to most consecutive frames of libc, each named one of names."""
    return ("libc", names, 1, most, how)


def expected_stacks():
    """thread name -> the expected frames, innermost first."""
    p = lambda name: os.path.join(PARKED, name)  # noqa: E731
    read = [libc_run(LIBC_READ, 2, how="regs"),
            at("fid_block_read", os.path.join(COMMON, "fid.c"), r"=\s*read\(fd, &c, 1\);")]
    thread_end = [libc("start_thread"), libc("clone3")]
    _, deep = source_line(p("park_deep.c"), r"^\s*park_deep\((\d+), ")
    depth = int(deep.group(1))
    return {
        EXE: read + [
            at("park_main", p("park_main.c"), r"^\s*fid_block_read\(fd\);"),
            at("main", p("main.c"), r"^\s*park_main\(fid_park_fd\(\)\);"),
            libc("__libc_start_call_main"),
            libc_run({"__libc_start_main_impl", "__libc_start_main"}, 1),
            ("exact", "_start", None, 0, EXE, False, "cfi"),
        ],
        "p-plain": read + [
            at("park_plain_wait", p("park_plain.c"), r"^\s*fid_block_read\(fd\);"),
            at("park_plain_thread", p("park_plain.c"), r"^\s*park_plain_wait\("),
        ] + thread_end,
        "p-inline": read + [
            at("park_inline_inner", p("park_inline.c"), r"^\s*fid_block_read\(fd\);", True),
            at("park_inline_mid", p("park_inline.c"), r"^\s*park_inline_inner\(fd\);", True),
            at("park_inline_outer", p("park_inline.c"), r"^\s*park_inline_mid\(fd\);"),
            at("park_inline_thread", p("park_inline.c"), r"^\s*park_inline_outer\("),
        ] + thread_end,
        "p-nofp": read + [
            at("park_nofp_wait", p("park_nofp.c"), r"^\s*fid_block_read\(fd\);"),
            # park_nofp_wait and park_nofp_thread have no CFI: their
            # callers are found through their frame pointers.
            at("park_nofp_thread", p("park_nofp.c"), r"^\s*park_nofp_wait\(", how="fp"),
            libc("start_thread", how="fp"), libc("clone3"),
        ],
        "p-signal": read + [
            at("park_in_handler", p("park_signal.c"), r"^\s*fid_block_read\(fd\);"),
            at("park_signal_handler", p("park_signal.c"), r"^\s*park_in_handler\("),
            libc("__restore_rt"),
            libc_run(LIBC_KILL, 3, how="signal"),
            at("park_signal_raise", p("park_signal.c"), r"^\s*pthread_kill\(pthread_self\(\)"),
            at("park_signal_thread", p("park_signal.c"), r"^\s*park_signal_raise\(\);"),
        ] + thread_end,
        "p-cxx": read + [
            at("fid_park::Box<int>::wait<fid_park::Tag>()::{lambda()#1}::operator()() const",
               p("park_cxx.cpp"), r"^\s*fid_block_read\(static_cast<int>\(fd\)"),
            at("void fid_park::Box<int>::wait<fid_park::Tag>()", p("park_cxx.cpp"),
               r"^\s*block\(\);"),
            at("park_cxx_thread", p("park_cxx.cpp"), r"^\s*box\.wait<fid_park::Tag>\(\);"),
        ] + thread_end,
        "p-deep": read + [
            at("park_deep", p("park_deep.c"), r"^\s*fid_block_read\(fd\);"),
        ] + [at("park_deep", p("park_deep.c"), r"^\s*park_deep\(n - 1, fd\);")] * depth + [
            at("park_deep_thread", p("park_deep.c"), r"^\s*park_deep\(\d+, "),
        ] + thread_end,
    }


def parse_replay(text):
    """snapshot_replay's output -> [(name, tid, end, [frames])], each frame
    (function, file basename or None, line, module, inlined, how, vaddr)."""
    threads = []
    for line in text.splitlines():
        key, _, rest = line.partition(" ")
        if key == "thread":
            threads.append([rest, None, None, []])
        elif key == "tid" and threads:
            threads[-1][1] = int(rest)
        elif key == "end" and threads:
            threads[-1][2] = rest
        elif key == "frame" and threads:
            func, path, lineno, module, vaddr, inl, how = rest.split("\t")
            threads[-1][3].append((func, None if path == "-" else os.path.basename(path),
                                   int(lineno), module, inl == "1", how, vaddr))
        else:
            raise harness.Failure("unexpected line in snapshot_replay's output: %r" % line)
    return threads


def match(expected, frames, libc_names=True):
    """None if frames are exactly what expected says, else why not.  Without
    libc_names (libc has no debug info here), libc's frames are checked by
    module and how they were found only: its static functions (start_thread,
    __restore_rt...) have no symbol then and borrow a neighbour's name."""
    i = 0
    for k, e in enumerate(expected):
        if e[0] == "libc":
            _, names, least, most, how = e
            n = 0
            while (i + n < len(frames) and n < most and frames[i + n][3] == LIBC
                   and (frames[i + n][0] in names or not libc_names)
                   and frames[i + n][5] == how):
                n += 1
            if n < least:
                got = frames[i] if i < len(frames) else "the end of the stack"
                return ("expectation %d: a %s frame named one of %s, found by %r, got %s"
                        % (k, LIBC, sorted(names), how, got))
            # Only the last of a run may be a real (not inlined) frame.
            if any(f[4] for f in frames[i + n - 1:i + n]) or \
                    not all(f[4] for f in frames[i:i + n - 1]):
                return "expectation %d: inlined flags %s" % (k, frames[i:i + n])
            i += n
            continue
        want = e[1:]
        if i >= len(frames):
            return "expectation %d: %s, got the end of the stack" % (k, want)
        got = frames[i][:6]
        if got != want:
            return "frame %d: expected %s, got %s" % (i, want, got)
        i += 1
    if i != len(frames):
        return "frames after the expected end: %s" % frames[i:]
    return None


def describe(frames):
    return "\n".join("    #%-2d %s%s  %s:%s  %s  %s  (%s)" % (i, f[0], " [inlined]" if f[4] else "",
                                                            f[1], f[2], f[3], f[6], f[5])
                     for i, f in enumerate(frames))


def record(ctx, tool, copy_dir=None):
    """Start fid_parked, record it once all its threads sleep in read(2)
    (with copy_dir: the mapped files copied there too)."""
    fixture = fid.start(ctx, EXE)
    tids = sorted(fixture.truth_threads)
    fid.wait_blocked_in_read(ctx, fixture, tids)
    path = ctx.tmp_path("parked-%d.snap" % ctx.next_serial())
    res = fid.run_tool(ctx, [tool, str(fixture.pid), path] + ([copy_dir] if copy_dir else []),
                       TOOL_TIMEOUT)
    if res.rc != 0:
        raise harness.Failure("snapshot_record failed:\n%s" % res.describe())
    fid.check_released(ctx, fixture, "after snapshot_record")
    return fixture, path


def replay(ctx, tool, path, what, root=None):
    res = fid.run_tool(ctx, [tool] + (["-root", root] if root else []) + [path], TOOL_TIMEOUT)
    if res.rc != 0:
        raise harness.Failure("snapshot_replay %s failed:\n%s" % (what, res.describe()))
    return res.stdout


def main(ctx):
    tools = os.path.dirname(ctx.pprof_decode) if ctx.pprof_decode else ""
    rec = os.environ.get("SNAPSHOT_RECORD") or os.path.join(tools, "snapshot_record")
    rep = os.environ.get("SNAPSHOT_REPLAY") or os.path.join(tools, "snapshot_replay")
    for t in (rec, rep):
        if not os.access(t, os.X_OK):
            raise harness.Failure("%s is not built (SNAPSHOT_RECORD / SNAPSHOT_REPLAY)" % t)
    expected = expected_stacks()

    fixtures, snaps = [], []
    copies = ctx.tmp_path("files")
    for k in range(2):
        fixture, path = record(ctx, rec, copies if k == 0 else None)
        fixtures.append(fixture)
        snaps.append(path)
    # From here on, no process: the replay reads the files only.
    for fixture in fixtures:
        fixture.kill()
        if not harness.wait_for(lambda: not os.path.exists("/proc/%d" % fixture.pid), 10):
            raise harness.Failure("fixture %d did not go away" % fixture.pid)

    out = [replay(ctx, rep, snaps[0], "of the first recording")]
    out.append(replay(ctx, rep, snaps[0], "of the first recording, again"))
    out.append(replay(ctx, rep, snaps[1], "of the second recording"))
    out.append(replay(ctx, rep, snaps[0], "from the copied files", root=copies))
    with open(ctx.tmp_path("replay.txt"), "w") as f:
        f.write(out[0])
    ctx.check(out[0] == out[1], "replaying the same snapshot twice gave different output")
    ctx.check(out[0] == out[3], "replaying from the copies of the mapped files (-root) differs:\n"
              "--- from the files\n%s\n--- from the copies\n%s" % (out[0], out[3]))
    strip = lambda text: "\n".join(l for l in text.splitlines()  # noqa: E731
                                   if not l.startswith("tid "))
    ctx.check(strip(out[0]) == strip(out[2]),
              "two recordings of the same parked state replay differently (tids aside):\n"
              "--- first\n%s\n--- second\n%s" % (strip(out[0]), strip(out[2])))

    threads = parse_replay(out[0])
    # libc's DWARF (Debian's libc6-dbg, which ./dev.sh installs) gives its
    # frames files; without it their names are not checked.
    libc_names = any(f[3] == LIBC and f[1] for t in threads for f in t[3])
    if not libc_names:
        ctx.note("libc has no debug info here (libc6-dbg): its frames are checked by module "
                 "and unwind step only, not by name")
    names = [t[0] for t in threads]
    ctx.check(sorted(names) == sorted(expected),
              "expected threads %s in the snapshot, got %s" % (sorted(expected), names))
    for name, tid, end, frames in threads:
        if name not in expected:
            continue
        ctx.check(end == "complete", "thread %s: unwinding ended with %r, not 'complete':\n%s"
                  % (name, end, describe(frames)))
        why = match(expected[name], frames, libc_names)
        if ctx.check(why is None, "thread %s (tid %d): %s; its frames:\n%s"
                     % (name, tid, why, describe(frames))):
            ctx.note("thread %s: %d frames exactly as expected (%d inlined)"
                     % (name, len(frames), sum(1 for f in frames if f[4])))

    # The replay reads the files the snapshot was taken over, or none.
    with open(snaps[0]) as f:
        text = f.read()
    exe = os.path.join(ctx.fixtures_dir, EXE)
    forged, n = re.subn(r"^(file %s )([0-9a-f]+)$" % re.escape(os.path.realpath(exe)),
                        lambda m: m.group(1) + "00" * (len(m.group(2)) // 2), text, flags=re.M)
    if ctx.check(n == 1, "expected one 'file' line naming %s in the snapshot" % exe):
        path = ctx.tmp_path("forged.snap")
        with open(path, "w") as f:
            f.write(forged)
        res = fid.run_tool(ctx, [rep, path], TOOL_TIMEOUT)
        ctx.check(res.rc == 1 and "build ID" in res.stderr,
                  "a snapshot naming another build of %s must be refused (exit 1, 'build ID'):"
                  "\n%s" % (EXE, res.describe()))


if __name__ == "__main__":
    harness.run(main)
