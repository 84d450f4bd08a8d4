#!/usr/bin/env python3
"""Fidelity, case 1: where the names and lines come from.

One chain (fixtures/fidelity/chain: main -> chain_outer -> chain_middle ->
chain_hot on CPU; a thread "parked" in read(2)), from one link, stripped
different ways:

  fid_chain_debuglink  stripped; DWARF in fid_chain_debuglink.debug beside
                       it, named by .gnu_debuglink
  fid_chain_bare       stripped of everything; with its debug file installed
                       for the time of the test under
                       /usr/lib/debug/.build-id/xx/yyyy.debug: found by
                       build ID.  Without it: "fid_chain_bare+0xOFF" frames
                       whose offsets fall in the right functions (checked
                       against nm of the unstripped original)
  fid_chain_symtab     .symtab only: names, no file:line
  fid_chain_dynsym     .dynsym only (-rdynamic, strip --strip-all): names

For each: a CPU profile's main-thread stacks are chain_hot; chain_middle;
chain_outer; main ... reaching the entry point, never a blank frame; a dump
shows the parked thread's stack, and Debian's libc6-dbg gives libc's frames
file:line (read.c).
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 2
CHAIN = ["chain_hot", "chain_middle", "chain_outer", "main"]
PARK = ["fid_block_read", "chain_park_wait", "chain_park_thread", "start_thread"]
KNOWN = set(CHAIN) | set(PARK)
CHAIN_SHARE = 0.90
ENTRY_SHARE = 0.95
BUILD_ID_ROOT = "/usr/lib/debug/.build-id"


def nm_ranges(ctx, path):
    """{name: (start, end)} of the functions in path's .symtab."""
    res = fid.run_tool(ctx, ["nm", "-S", "--defined-only", path])
    if res.rc != 0:
        raise harness.Failure("nm -S %s failed:\n  %s" % (path, res.describe()))
    ranges = {}
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tTwW":
            start, size = int(parts[0], 16), int(parts[1], 16)
            ranges[parts[3]] = (start, start + size)
    return ranges


def resolve_offset(name, module, ranges):
    """'module+0xOFF' -> the function of ranges holding OFF (for a caller
    frame OFF is inside its call instruction), else the name itself."""
    m = re.fullmatch(re.escape(module) + r"\+0x([0-9a-f]+)", name)
    if not m:
        return name
    off = int(m.group(1), 16)
    for fn, (lo, hi) in ranges.items():
        if lo <= off < hi:
            return fn
    return name


def build_id(ctx, path):
    res = fid.run_tool(ctx, ["readelf", "-n", path])
    m = re.search(r"Build ID: ([0-9a-f]+)", res.stdout)
    if not m:
        raise harness.Failure("no GNU build ID in %s:\n  %s" % (path, res.describe()))
    return m.group(1)


def check_main_chain(ctx, prof, fixture, what, names_of=None, want_lines=True):
    """The main thread's samples: the chain, the entry point, file:line."""
    main_tid = str(fixture.pid)
    samples = [s for s in prof.samples if s.labels.get("tid") == main_tid]
    names_of = names_of or (lambda s: s.names())
    fid.check_share(ctx, prof, samples, lambda s: fid.reduce(names_of(s), KNOWN) ==
                    ";".join(CHAIN), CHAIN_SHARE, what, "stack " + ";".join(CHAIN))
    fid.check_share(ctx, prof, samples, lambda s: fid.reaches_entry(names_of(s)),
                    ENTRY_SHARE, what, "a stack reaching the entry point")
    fillers = [s.stack() for s in samples if any("filler" in n for n in names_of(s))]
    ctx.check(not fillers, "%s: expected no filler function, got %s" % (what, fillers[:3]))
    hot = [s.frames[0] for s in samples if s.frames and names_of(s)[0] == "chain_hot"]
    if want_lines:
        bad = [(f.file, f.line) for f in hot
               if not (f.file and f.file.endswith("chain_hot.c") and f.line)]
        ctx.check(hot and not bad, "%s: expected chain_hot frames at chain_hot.c:LINE "
                  "(debug info found), got %d of %d without, e.g. %s"
                  % (what, len(bad), len(hot), bad[:3]))
    else:
        bad = [(f.file, f.line) for f in hot if f.file]
        ctx.check(not bad, "%s: expected no file for chain_hot (no DWARF), got %s"
                  % (what, bad[:3]))


def check_dump(ctx, fixture, what, want_lines, names_of=None):
    doc, _ = fid.dump(ctx, fixture, what)
    t = fid.dump_thread(doc, fixture.tid("parked"))
    if not ctx.check(t is not None, "%s: no thread 'parked' in the dump" % what):
        return
    names = [f["function"] for f in t["frames"]]
    if names_of:
        names = names_of(names)
    ctx.check(fid.reduce(names, KNOWN) == ";".join(PARK),
              "%s: parked thread: expected %s, got %s" % (what, ";".join(PARK), names))
    ctx.check(fid.reaches_entry(names), "%s: parked thread's stack does not reach its entry "
              "point: %s" % (what, names))
    blanks = [f for f in t["frames"] if not f["function"].strip()]
    ctx.check(not blanks, "%s: blank frames %s" % (what, blanks))
    # libc6-dbg: the read frame in libc has file:line.
    libc = [f for f in t["frames"] if (f["module"] or "").startswith("libc.so")]
    ctx.check(libc and libc[0]["file"] and libc[0]["file"].endswith("read.c") and
              libc[0]["line"], "%s: expected libc's innermost frame at read.c:LINE "
              "(libc6-dbg), got %s" % (what, libc[:1]))
    if want_lines:
        own = [f for f in t["frames"] if f["function"] in PARK and f["module"] == fixture.module]
        ctx.check(own and all(f["file"] and f["line"] for f in own),
                  "%s: expected file:line on the fixture's frames, got %s" % (what, own))


def run_variant(ctx, name, want_lines=True, names_of=None, dump_names_of=None):
    fixture = fid.start(ctx, name)
    what = "%s: pprobe -seconds %d" % (name, SECONDS)
    prof = fid.record(ctx, fixture, SECONDS, what)
    check_main_chain(ctx, prof, fixture, what, names_of, want_lines)
    check_dump(ctx, fixture, "%s: pprobe dump" % name, want_lines, dump_names_of)
    fixture.kill()
    return prof


def main(ctx):
    ctx.require_pprobe()
    res = ctx.run_command(["dpkg-query", "-W", "-f=${Status}", "libc6-dbg"], 30)
    if "ok installed" not in res.stdout:
        raise harness.Skip("libc6-dbg is not installed (./dev.sh installs it): libc's "
                           "file:line is part of this test")
    strip_ref = fid.fixture_path(ctx, "fid_chain_strip")
    ranges = nm_ranges(ctx, strip_ref)
    bid = build_id(ctx, fid.fixture_path(ctx, "fid_chain_bare"))
    installed = os.path.join(BUILD_ID_ROOT, bid[:2], bid[2:] + ".debug")
    if os.path.exists(installed):
        raise harness.Failure("%s exists before the test installed it: a debug file for "
                              "fid_chain_bare's build ID would make the no-debug-info checks "
                              "meaningless; remove it" % installed)

    # .gnu_debuglink beside the binary.
    run_variant(ctx, "fid_chain_debuglink")

    # Nothing at all: module+0xoffset, in the right functions.
    def bare_names(s):
        return [resolve_offset(n, "fid_chain_bare", ranges) for n in s.names()]
    prof = run_variant(ctx, "fid_chain_bare", want_lines=False, names_of=bare_names,
                       dump_names_of=lambda ns: [resolve_offset(n, "fid_chain_bare", ranges)
                                                 for n in ns])
    raw = [s.frames[0].name for s in prof.samples if s.frames and
           s.frames[0].module == "fid_chain_bare"]
    ctx.check(raw and all(re.fullmatch(r"fid_chain_bare\+0x[0-9a-f]+", n) for n in raw),
              "fid_chain_bare: expected leaf frames named fid_chain_bare+0xOFF, got %s"
              % sorted(set(raw))[:5])

    # The same binary with its debug file under /usr/lib/debug/.build-id.
    d = os.path.dirname(installed)
    made_dir = not os.path.isdir(d)
    try:
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(ctx.fixtures_dir, "fid_chain_strip.debug"), "rb") as src, \
                open(installed, "wb") as dst:
            dst.write(src.read())
    except OSError as e:
        raise harness.Skip("cannot install a debug file under %s (%s): the build-ID lookup "
                           "needs the system path" % (BUILD_ID_ROOT, e))

    def remove_installed():
        fid.unlink_quiet(installed)
        if made_dir:
            try:
                os.rmdir(d)
            except OSError:
                pass
    ctx.cleanups.append(remove_installed)
    run_variant(ctx, "fid_chain_bare")
    remove_installed()

    # Symbol tables only.
    run_variant(ctx, "fid_chain_symtab", want_lines=False)
    run_variant(ctx, "fid_chain_dynsym", want_lines=False)


if __name__ == "__main__":
    harness.run(main)
