#!/usr/bin/env python3
"""Fidelity, case 3c: a stripped Go program (fixtures/fidelity/gostrip/main.go,
built with -ldflags='-s -w': no .symtab, no DWARF), named from Go's own
table, .gopclntab (src/gopclntab.c).

The main goroutine runs main.main -> main.spin -> main.burn, another
goroutine main.spin -> main.burn, with main.step inlined into burn's loop.
Stripped, the program has no CFI either: frames are stepped by Go's table
of stack-pointer offsets (pcsp), and the walk ends where Go's traceback
does.  The lines marked "// at:NAME" in main.go are
where each frame is (an inlined callee at its own line, each caller at its
call site), as the Go runtime's traceback and `go tool pprof` on a Go CPU
profile of the program name them.

Expected:
  - no frame of the executable is left as "fid_gostrip+0x..." (before
    .gopclntab was read, every one was);
  - >= 85% of the samples have the leaf main.step or main.burn;
  - >= 90% of those have the whole chain, names, file and lines:
    [main.step main.go:step (inlined)] main.burn main.go:burn (when step
    is the leaf) / main.go, main.spin main.go:spin, then main.main
    main.go:main, runtime.main, runtime.goexit (the main goroutine) or
    runtime.goexit (the other);
  - >= 95% of all samples end at runtime.goexit, runtime.mstart or
    runtime.rt0_go, nothing above them (a frame-pointer walk went on past
    goexit into whatever the goroutine's stack held);
  - main.step, the inlined frame, is the leaf in >= 20% of them.

Then fid_go_stripped (fixtures/fidelity/go/main.go stripped: goroutines
started through a closure, preempted asynchronously in the frameless leaf
main.hotLoop): >= 95% of its samples end at those roots too (a walk of
frame pointers went on past runtime.goexit in 12-37% of them).
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 2
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures",
                      "fidelity", "gostrip", "main.go")
HOT = ("main.step", "main.burn")
ROOTS = ("runtime.goexit", "runtime.mstart", "runtime.rt0_go")


def marked_lines():
    """{NAME: line number} of the "// at:NAME" marks in the fixture's source."""
    lines = {}
    with open(SOURCE) as f:
        for no, text in enumerate(f, 1):
            m = re.search(r"// at:(\w+)", text)
            if m:
                lines[m.group(1)] = no
    return lines


def chain_ok(s, at):
    """The sample's stack is the fixture's chain, with files and lines."""
    fr = s.frames
    if fr and fr[0].name == "main.step":
        if not (fr[0].line == at["step"] and fr[0].inlined and len(fr) > 1 and
                fr[1].name == "main.burn" and fr[1].line == at["burn"]):
            return False
        fr = fr[1:]
    if len(fr) == 3:
        want = [("main.burn", None), ("main.spin", at["spin"]), ("runtime.goexit", None)]
    else:
        want = [("main.burn", None), ("main.spin", at["spin"]), ("main.main", at["main"]),
                ("runtime.main", None), ("runtime.goexit", None)]
    if [f.name for f in fr] != [n for n, _ in want]:
        return False
    for f, (_, line) in zip(fr, want):
        if not f.file or (line is not None and f.line != line) or not f.line:
            return False
    return all(f.file.endswith("gostrip/main.go") for f in fr[:len(want) - 2])


def main(ctx):
    ctx.require_pprobe()
    at = marked_lines()
    fixture = fid.start(ctx, "fid_gostrip", tool="go (Debian's golang-go)")
    what = "fid_gostrip: pprobe -seconds %d" % SECONDS

    def hot_of(prof):
        return [s for s in prof.samples if s.frames and s.frames[0].name in HOT]

    prof = fid.record_enough(ctx, fixture, SECONDS, what, [("main.burn/step leaves", hot_of, 40)])
    unnamed = [s.stack() for s in prof.samples
               if any(f.module == "fid_gostrip" and "+0x" in f.name for f in s.frames)]
    ctx.check(not unnamed, "%s: expected every frame of fid_gostrip named from .gopclntab, "
              "got %d stacks with a module+0x frame, e.g.:\n    %s"
              % (what, len(unnamed), "\n    ".join(unnamed[:5])))
    hot = hot_of(prof)
    fid.check_share(ctx, prof, prof.samples, lambda s: s in hot, 0.85, what,
                    "leaf main.step or main.burn")
    share = fid.check_share(ctx, prof, hot, lambda s: chain_ok(s, at), 0.90, what,
                            "the chain main.step (inlined, main.go:%d) / main.burn "
                            "(main.go:%d) / main.spin (main.go:%d) / main.main (main.go:%d) / "
                            "runtime.main / runtime.goexit, or main.spin / runtime.goexit"
                            % (at["step"], at["burn"], at["spin"], at["main"]))
    if share < 0.90:
        bad = [s for s in hot if not chain_ok(s, at)][:3]
        ctx.note("%s: e.g. %s" % (what, "; ".join(
            " / ".join("%s %s:%s%s" % (f.name, f.file, f.line, " (inlined)" if f.inlined else "")
                       for f in s.frames) for s in bad)))
    fid.check_share(ctx, prof, hot, lambda s: s.frames[0].name == "main.step", 0.20, what,
                    "the inlined main.step as the leaf")
    fid.check_share(ctx, prof, prof.samples, lambda s: s.frames and s.frames[-1].name in ROOTS,
                    0.95, what, "a stack ending at %s" % " or ".join(ROOTS))
    ctx.check_target_healthy(fixture, what)
    fixture.kill()

    fixture = fid.start(ctx, "fid_go_stripped", tool="go (Debian's golang-go)")
    what = "fid_go_stripped: pprobe -seconds %d" % SECONDS
    prof = fid.record_enough(ctx, fixture, SECONDS, what,
                             [("samples", lambda p: p.samples, 40)])
    fid.check_share(ctx, prof, prof.samples, lambda s: s.frames and s.frames[-1].name in ROOTS,
                    0.95, what, "a stack ending at %s" % " or ".join(ROOTS))
    fid.check_share(ctx, prof, prof.samples,
                    lambda s: s.frames and s.frames[0].name == "main.hotLoop", 0.85, what,
                    "leaf main.hotLoop")
    ctx.check_target_healthy(fixture, what)


if __name__ == "__main__":
    harness.run(main)
