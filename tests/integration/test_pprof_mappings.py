#!/usr/bin/env python3
"""The Mapping table of a CPU profile, as pprof tools read it.

pprof takes mapping 1 for the main binary ("File:" in every report, its
build ID, where -list and -disasm look), and symbolizes again only a
mapping that claims none of has_functions, has_filenames, has_line_numbers.
Expected:
  - burner_O2 (PIE, dynamically linked): mapping 1 is burner_O2 itself in
    both readers, `go tool pprof -top` says "File: burner_O2", and every
    executable mapping is written, sampled or not (ld-linux's too);
    burner_O2 and libc (debug info from libc6-dbg) claim functions, file
    names, lines and inline frames;
  - libm_burner (its samples' leaves are in libm): mapping 1 is still
    libm_burner, and go tool pprof says "File: libm_burner";
  - `go tool pprof -list hot_a` shows hot_a's source with its samples (PIE);
  - fid_chain_symtab (.symtab only): its mapping claims functions, no lines;
    fid_chain_bare (nothing): it claims nothing, so pprof may symbolize it;
  - fid_chain_nopie: `go tool pprof -disasm chain_hot` shows its code.  Go's
    bundled pprof cannot disassemble PIE code (its object tool does not
    relocate: README), so that is checked on a non-PIE binary.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 2
# go tool pprof -raw: "1: 0xSTART/0xLIMIT/0xOFFSET FILE [BUILDID] [FN][FL][LN][IN]"
GO_MAPPING = re.compile(r"^\s*(\d+): 0x[0-9a-f]+/0x[0-9a-f]+/0x[0-9a-f]+ (\S+)(.*)$")
# pprof_decode: "mapping ID START LIMIT OFFSET FILE [BUILDID]"
OUR_MAPPING = re.compile(r"^mapping (\d+) \S+ \S+ \S+ (\S+)")


def go_mappings(ctx, out, what):
    """[(id, file, flags text)] from go tool pprof -raw (mappings of samples only)."""
    raw = ctx.go_pprof(["-raw", out], what).stdout
    rows, inside = [], False
    for line in raw.splitlines():
        if line.strip() == "Mappings":
            inside = True
            continue
        m = GO_MAPPING.match(line) if inside else None
        if m:
            rows.append((int(m.group(1)), m.group(2), m.group(3)))
    return rows


def our_mappings(ctx, out, what):
    res = ctx.run_command([ctx.pprof_decode, out], 60)
    if res.rc != 0:
        raise harness.Failure("%s: pprof_decode failed:\n  %s" % (what, res.describe()))
    return [(int(m.group(1)), m.group(2)) for m in map(OUR_MAPPING.match, res.stdout.splitlines())
            if m]


def flags_of(rows, basename):
    for _, path, flags in rows:
        if os.path.basename(path) == basename:
            return set(re.findall(r"\[(FN|FL|LN|IN)\]", flags))
    return None


def check_pie(ctx):
    fixture = ctx.start_fixture("burner_O2")
    what = "burner_O2: pprobe -seconds %d" % SECONDS
    _, out = ctx.record(fixture, SECONDS, what=what)
    ours = our_mappings(ctx, out, what)
    ctx.check(ours and ours[0][0] == 1 and os.path.basename(ours[0][1]) == "burner_O2",
              "%s [pprof_decode]: expected mapping 1 to be burner_O2, got %s" % (what, ours))
    ctx.check(any(os.path.basename(p).startswith("ld-linux") for _, p in ours),
              "%s [pprof_decode]: expected every executable mapping, ld-linux's (never "
              "sampled) too, got %s" % (what, ours))
    rows = go_mappings(ctx, out, what)
    ctx.check(rows and os.path.basename(rows[0][1]) == "burner_O2",
              "%s [go tool pprof -raw]: expected the first mapping to be burner_O2, got %s"
              % (what, rows))
    top = ctx.go_pprof(["-top", out], what).stdout
    ctx.check(re.search(r"^File: burner_O2$", top, re.M) is not None,
              "%s: expected go tool pprof -top to say 'File: burner_O2', got:\n%s"
              % (what, harness.indent(top)))
    for name in ("burner_O2", "libc.so.6"):
        got = flags_of(rows, name)
        ctx.check(got == {"FN", "FL", "LN", "IN"},
                  "%s: expected %s's mapping to claim [FN][FL][LN][IN], got %s (rows %s)"
                  % (what, name, got, rows))
    listing = ctx.go_pprof(["-list", "^hot_a$", out], what).stdout
    ctx.check("ROUTINE" in listing and re.search(r"^\s*\S+\s+\S+\s+\d+:.*acc", listing, re.M),
              "%s: expected go tool pprof -list hot_a to show hot_a's source lines, got:\n%s"
              % (what, harness.indent(listing)))


def check_main_first(ctx):
    fixture = ctx.start_fixture("libm_burner")
    what = "libm_burner: pprobe -seconds %d" % SECONDS
    _, out = ctx.record(fixture, SECONDS, what=what)
    ours = our_mappings(ctx, out, what)
    ctx.check(ours and os.path.basename(ours[0][1]) == "libm_burner",
              "%s [pprof_decode]: expected mapping 1 to be libm_burner, got %s" % (what, ours))
    top = ctx.go_pprof(["-top", out], what).stdout
    ctx.check(re.search(r"^File: libm_burner$", top, re.M) is not None,
              "%s: expected go tool pprof -top to say 'File: libm_burner', got:\n%s"
              % (what, harness.indent(top)))


def check_stripped(ctx, name, expected):
    fixture = fid.start(ctx, name)
    what = "%s: pprobe -seconds %d" % (name, SECONDS)
    _, out = ctx.record(fixture, SECONDS, what=what)
    got = flags_of(go_mappings(ctx, out, what), name)
    ctx.check(got == expected, "%s: expected its mapping to claim %s, got %s"
              % (what, sorted(expected), got if got is None else sorted(got)))


def check_disasm(ctx):
    fixture = fid.start(ctx, "fid_chain_nopie")
    what = "fid_chain_nopie: pprobe -seconds %d" % SECONDS
    _, out = ctx.record(fixture, SECONDS, what=what)
    # -disasm takes no anchors (its regexp meets more than the bare name).
    asm = ctx.go_pprof(["-disasm", "chain_hot", out], what).stdout
    ctx.check(re.search(r"^ROUTINE =+ chain_hot$", asm, re.M) and re.search(r"^\s*\S+\s+\S+\s+[0-9a-f]+:", asm, re.M),
              "%s: expected go tool pprof -disasm chain_hot to show its instructions, got:\n%s"
              % (what, harness.indent(asm)))


def main(ctx):
    ctx.require_pprobe()
    ctx.require_readers()
    check_pie(ctx)
    check_main_first(ctx)
    check_stripped(ctx, "fid_chain_symtab", {"FN"})
    check_stripped(ctx, "fid_chain_bare", set())
    check_disasm(ctx)


if __name__ == "__main__":
    harness.run(main)
