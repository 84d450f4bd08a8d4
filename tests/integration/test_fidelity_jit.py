#!/usr/bin/env python3
"""Fidelity, case 6: code compiled at run time, named in /tmp/perf-PID.map.

fid_jit (fixtures/fidelity/jit) writes a hot loop into anonymous executable
memory, names it jit_hot_loop in /tmp/perf-PID.map (after a stale entry for
the same address, jit_stale_version, which the later line replaces), and
calls it: jit_hot_loop; jit_call; jit_drive; main.  Node.js with
--perf-basic-prof runs fixtures/fidelity/node/hot.js, whose hot JavaScript
function hotJsFunction V8 compiles and names in the same kind of file.

Expected: fid_jit: >= 90% of samples have the leaf jit_hot_loop (never
jit_stale_version) and >= 90% the stack jit_hot_loop; jit_call; jit_drive;
main reaching the entry point (the generated code keeps a frame pointer;
there is no unwind info for it).  Node: >= 50% of samples have a frame whose
name contains hotJsFunction.  Skipped for node when node is not installed.

These need pprobe to read the perf map (src/perfmap.c, wired into
symbolization); until then they fail with "[unknown] 0x..." frames.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 2
CHAIN = ["jit_hot_loop", "jit_call", "jit_drive", "main"]
NODE_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures",
                       "fidelity", "node", "hot.js")


def perf_map_cleanup(ctx, pid):
    ctx.cleanups.append(lambda: fid.unlink_quiet("/tmp/perf-%d.map" % pid))


def check_fid_jit(ctx):
    fixture = fid.start(ctx, "fid_jit")
    perf_map_cleanup(ctx, fixture.pid)
    ctx.check(os.path.exists(fixture.truth["map"]), "fid_jit: no map file %s"
              % fixture.truth["map"])
    what = "fid_jit: pprobe -seconds %d" % SECONDS
    prof = fid.record(ctx, fixture, SECONDS, what)
    fid.check_share(ctx, prof, prof.samples,
                    lambda s: s.frames and s.frames[0].name == "jit_hot_loop", 0.90, what,
                    "leaf jit_hot_loop")
    fid.check_share(ctx, prof, prof.samples,
                    lambda s: s.names()[:4] == CHAIN and fid.reaches_entry(s.names()), 0.90,
                    what, "stack %s reaching the entry point" % ";".join(CHAIN))
    stale = prof.select(lambda s: "jit_stale_version" in s.names())
    ctx.check(not stale, "%s: expected the later map line to win over jit_stale_version, "
              "got:\n%s" % (what, prof.top_stacks(stale)))
    code = int(fixture.truth["code"], 16)
    addrs = {f.address for s in prof.samples for f in s.frames[:1]
             if f.name == "jit_hot_loop"}
    bad = [hex(a) for a in addrs if not code <= a < code + int(fixture.truth["code_len"])]
    ctx.check(not bad, "%s: jit_hot_loop frames at addresses outside the code: %s"
              % (what, bad))
    fixture.kill()


def check_node(ctx):
    node = fid.which("node")
    if not node:
        raise harness.Skip("node is not installed: the Node.js half of the JIT test needs it "
                           "(fid_jit's half passed or failed above)")
    fixture = fid.start(ctx, "node_hot", argv=[node, "--perf-basic-prof", "--no-turbo-inlining",
                                               os.path.abspath(NODE_JS)], module="node",
                        cwd=ctx.tmpdir)   # V8 may write its isolate-*.log there
    perf_map_cleanup(ctx, fixture.pid)
    what = "node --perf-basic-prof hot.js: pprobe -seconds %d" % SECONDS
    prof = fid.record(ctx, fixture, SECONDS, what)
    fid.check_share(ctx, prof, prof.samples,
                    lambda s: any("hotJsFunction" in n for n in s.names()), 0.50, what,
                    "a frame named ...hotJsFunction...")
    fixture.kill()


def main(ctx):
    ctx.require_pprobe()
    check_fid_jit(ctx)
    check_node(ctx)


if __name__ == "__main__":
    harness.run(main)
