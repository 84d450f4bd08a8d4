#!/usr/bin/env python3
"""Fidelity, case 3b: a Go program (fixtures/fidelity/go/main.go).

fid_go (CGO_ENABLED=0: static, no .eh_frame; Go keeps frame pointers on
amd64 and describes its frames in .debug_frame) runs two goroutines
main.worker -> main.hotLoop and the main goroutine main.mainSpin ->
main.hotLoop, all on CPU.

Expected, by thread (Go threads carry no names; stacks tell them apart):
  - >= 85% of all samples have the leaf main.hotLoop, named as Go names it
    (the rest is the runtime: the scheduler, its preemption signals);
  - >= 90% of all samples reach a root: runtime.goexit (every goroutine,
    main's too, is started above goexit; through runtime.main for the main
    goroutine) or runtime.mstart (a thread on its own g0 stack) -- samples
    taken in a signal handler (runtime.sigtramp) included;
  - hotLoop's caller is there: >= 90% of the samples with leaf main.hotLoop
    have main.worker or main.mainSpin right above it (hotLoop is a leaf
    without a frame of its own, so a walk of frame pointers alone skips its
    caller; Go's .debug_frame describes it).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 2
ROOTS = ("runtime.goexit", "runtime.goexit.abi0", "runtime.mstart", "runtime.mstart.abi0")


def main(ctx):
    ctx.require_pprobe()
    fixture = fid.start(ctx, "fid_go", tool="go (Debian's golang-go)")
    what = "fid_go: pprobe -seconds %d" % SECONDS
    prof = fid.record(ctx, fixture, SECONDS, what)
    hot = [s for s in prof.samples if s.frames and s.frames[0].name == "main.hotLoop"]
    fid.check_share(ctx, prof, prof.samples, lambda s: s in hot, 0.85, what,
                    "leaf main.hotLoop")
    fid.check_share(ctx, prof, prof.samples,
                    lambda s: any(n in ROOTS for n in s.names()[-2:]), 0.90, what,
                    "a stack ending at runtime.goexit or runtime.mstart")
    fid.check_share(ctx, prof, hot, lambda s: len(s.frames) > 1 and
                    s.frames[1].name in ("main.worker", "main.mainSpin"), 0.90, what,
                    "main.worker or main.mainSpin right above main.hotLoop")
    main_g = [s for s in hot if "main.main" in s.names()]
    ctx.check(main_g and all("runtime.main" in s.names() for s in main_g),
              "%s: expected the main goroutine's stacks to go through runtime.main, got:\n%s"
              % (what, prof.top_stacks(main_g)))
    ctx.check(prof.total(main_g) >= 0.15 * prof.total(),
              "%s: expected the main goroutine (main.main) in >= 15%% of samples, got %d of %d"
              % (what, prof.total(main_g), prof.total()))


if __name__ == "__main__":
    harness.run(main)
