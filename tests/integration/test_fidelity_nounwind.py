#!/usr/bin/env python3
"""Fidelity, case 3a: code without unwind tables.

fid_chain_nounwind is the chain of fixtures/fidelity/chain built with
-fno-asynchronous-unwind-tables -fno-unwind-tables -fno-omit-frame-pointer
-mno-omit-leaf-frame-pointer and its .debug_frame removed: no CFI for any
of its own functions, only the frame-pointer chain (libunwind's fallback).
Its callers in libc (__libc_start_call_main, start_thread) do have CFI, so
the walk goes from frame pointers back to CFI.

Expected: >= 90% of the main thread's samples have chain_hot; [chain_middle;]
chain_outer; main -- chain_middle may be missing (documented below) -- and
>= 95% reach the entry point (through __libc_start_call_main and
__libc_start_main to _start); a dump shows the parked thread's
fid_block_read; chain_park_wait; chain_park_thread; start_thread; clone3.

Documented: GCC 12 gives a leaf function that uses no stack no frame even
with -mno-omit-leaf-frame-pointer, so while chain_hot runs, rbp is still
chain_middle's and a frame-pointer walk cannot see chain_middle (perf
--call-graph fp cannot either).  Only a leaf's immediate caller can be lost
this way.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 2
KNOWN = {"chain_hot", "chain_middle", "chain_outer", "main", "fid_block_read",
         "chain_park_wait", "chain_park_thread", "start_thread"}
MAIN_CHAINS = ("chain_hot;chain_middle;chain_outer;main", "chain_hot;chain_outer;main")
PARK = "fid_block_read;chain_park_wait;chain_park_thread;start_thread"


def main(ctx):
    ctx.require_pprobe()
    fixture = fid.start(ctx, "fid_chain_nounwind")
    what = "fid_chain_nounwind: pprobe -seconds %d" % SECONDS
    prof = fid.record(ctx, fixture, SECONDS, what)
    samples = [s for s in prof.samples if s.labels.get("tid") == str(fixture.pid)]
    fid.check_share(ctx, prof, samples, lambda s: fid.reduce(s.names(), KNOWN) in MAIN_CHAINS,
                    0.90, what, "stack chain_hot;[chain_middle;]chain_outer;main")
    fid.check_share(ctx, prof, samples,
                    lambda s: fid.reaches_entry(s.names()) and "_start" in s.names(), 0.95,
                    what, "a stack reaching _start")
    dwhat = "fid_chain_nounwind: pprobe dump"
    doc, _ = fid.dump(ctx, fixture, dwhat)
    t = fid.dump_thread(doc, fixture.tid("parked"))
    names = fid.frame_names(t) if t else []
    ctx.check(fid.reduce(names, KNOWN) == PARK, "%s: parked thread: expected %s, got %s"
              % (dwhat, PARK, names))
    ctx.check(names and names[-1] in ("clone3", "__clone3"),
              "%s: parked thread: expected the stack to end in clone3 (start_thread has CFI, "
              "reached from a frame-pointer frame), got %s" % (dwhat, names))


if __name__ == "__main__":
    harness.run(main)
