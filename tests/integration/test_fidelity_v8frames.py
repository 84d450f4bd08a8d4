#!/usr/bin/env python3
"""Fidelity, case 6b: V8's entry frames (issue 15, item 3).

fid_v8frames (fixtures/fidelity/v8/) runs its main thread under hand-written
frames without any CFI that keep the rbp chain, shaped as Node.js's
Builtins_JSEntry -> Builtins_JSEntryTrampoline -> Builtins_Call (a tail
jump) -> Builtins_InterpreterEntryTrampoline, which sets its frame up only
after 60 bytes of checks, between C frames with CFI (the caller's CFA is
rbp-based, as V8's Invoke's).

Expected: >= 95% of the samples are v8fid_runtime_burn;
v8fid_interpreter_entry; v8fid_js_entry_trampoline; v8fid_js_entry;
v8fid_invoke; main and reach _start.  Before the fix the frame-pointer setup
was looked for in the first 48 bytes only: the stack scan ran instead, skipped
the two entry frames (their calls target other functions) and carried a
stale rbp into v8fid_invoke: "bad frame".
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 2
CHAIN = ["v8fid_runtime_burn", "v8fid_interpreter_entry", "v8fid_js_entry_trampoline",
         "v8fid_js_entry", "v8fid_invoke", "main"]


def main(ctx):
    ctx.require_pprobe()
    fixture = fid.start(ctx, "fid_v8frames")
    what = "fid_v8frames: pprobe -seconds %d" % SECONDS
    prof = fid.record(ctx, fixture, SECONDS, what)
    samples = [s for s in prof.samples if s.labels.get("tid") == str(fixture.pid)]
    fid.check_share(ctx, prof, samples,
                    lambda s: s.names()[:len(CHAIN)] == CHAIN and "_start" in s.names()
                    and fid.reaches_entry(s.names()),
                    0.95, what, "stack %s to _start" % ";".join(CHAIN))


if __name__ == "__main__":
    harness.run(main)
