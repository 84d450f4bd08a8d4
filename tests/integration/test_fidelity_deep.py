#!/usr/bin/env python3
"""Fidelity, case 9: recursion deeper than the depth bound.

fid_deep (fixtures/fidelity/deep) has two threads on CPU in deep_leaf at
the bottom of a recursion: "deep1000" 1,000 calls deep (1,001 deep_recurse
frames), "deep200" 200 calls deep.  pprobe keeps 256 frames of a stack.

Expected: every "deep1000" sample is exactly 256 frames, deep_leaf then 255
deep_recurse, with the root frame "[truncated]" (and nothing else: no
garbage, no filler); >= 95% of "deep200" samples are whole: deep_leaf, 201
deep_recurse, deep_thread, start_thread, clone3, not truncated.  The text
dump says where "deep1000"'s stack was cut ("stack ends: depth limit") and
shows "deep200" whole.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 2
DEPTH = 256


def deep1000_ok(s):
    n = s.names()
    return (len(n) == DEPTH + 1 and n[0] == "deep_leaf" and n[-1] == fid.TRUNCATED and
            all(x == "deep_recurse" for x in n[1:DEPTH]))


def deep200_ok(s):
    n = s.names()
    return (n[:1] == ["deep_leaf"] and n[1:202] == ["deep_recurse"] * 201 and
            n[202:] in (["deep_thread", "start_thread", "__clone3"],
                        ["deep_thread", "start_thread", "clone3"]))


def short(s):
    n = s.names()
    return "%d frames: %s ... %s" % (len(n), ";".join(n[:3]), ";".join(n[-4:]))


def main(ctx):
    ctx.require_pprobe()
    fixture = fid.start(ctx, "fid_deep")
    what = "fid_deep: pprobe -seconds %d" % SECONDS
    prof = fid.record(ctx, fixture, SECONDS, what)
    d1000 = prof.of_thread("deep1000")
    bad = [short(s) for s in d1000 if not deep1000_ok(s)]
    ctx.check(d1000 and not bad, "%s: expected every deep1000 sample to be deep_leaf, 255 "
              "deep_recurse and [truncated], got %d of %d otherwise, e.g. %s"
              % (what, len(bad), len(d1000), bad[:3]))
    fid.check_share(ctx, prof, prof.of_thread("deep200"), deep200_ok, 0.95, what,
                    "a whole deep200 stack (deep_leaf, 201 deep_recurse, deep_thread, "
                    "start_thread, clone3)")

    text, _ = fid.dump(ctx, fixture, "fid_deep: pprobe dump", fmt="text")
    blocks = {}
    cur = None
    for line in text.splitlines():
        if line.startswith("thread "):
            cur = line.split('"')[1] if '"' in line else None
            blocks[cur] = []
        elif cur:
            blocks[cur].append(line)
    d1 = blocks.get("deep1000", [])
    frames = [l for l in d1 if l.startswith("  #")]
    ctx.check(len(frames) == DEPTH and any("stack ends: depth limit" in l for l in d1),
              "fid_deep: pprobe dump: expected deep1000 with %d frames and 'stack ends: depth "
              "limit', got %d frames, last lines %s" % (DEPTH, len(frames), d1[-3:]))
    d2 = blocks.get("deep200", [])
    frames2 = [l for l in d2 if l.startswith("  #")]
    ctx.check(len(frames2) == 205 and not any("stack ends" in l for l in d2),
              "fid_deep: pprobe dump: expected deep200 whole (205 frames), got %d frames, "
              "last lines %s" % (len(frames2), d2[-3:]))


if __name__ == "__main__":
    harness.run(main)
