#!/usr/bin/env python3
"""A FIFO where debug info is looked for never blocks pprobe (safety:
nothing pprobe opens may block).

A stripped copy of libsafety_victim.so gets a .gnu_debuglink naming
victim_live.debug, and a FIFO with that name is made beside the copies
safety_badelf (fixtures/safety/badelf/) dlopens; nobody ever writes to it.
libdwfl's standard search would open() it and wait for a writer forever,
with every thread of the target traced.  Then `pprobe -hz 200` (CPU mode),
`pprobe -mode wall -hz 200` and `pprobe dump`:

  - each run ends within RUN_BOUND_S of its window and exits 0;
  - the library's code is still named (from its own symbol table);
  - the target is healthy afterwards: no task stopped, none traced.

Skipped without objcopy.
"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

RUN_BOUND_S = 60
SECONDS = 1


def make_victim(ctx, work):
    """The stripped, debuglinked library; the FIFO is made by the caller."""
    objcopy = shutil.which("objcopy")
    if not objcopy:
        raise harness.Skip("objcopy is not installed")
    src = os.path.join(ctx.fixtures_dir, "libsafety_victim.so")
    stripped = os.path.join(work, "stripped.so")
    linked = os.path.join(work, "linked.so")
    debug = os.path.join(work, "victim_live.debug")
    with open(debug, "wb") as f:
        f.write(b"not the debug info, and soon not a file\n")
    for argv in ([objcopy, "--strip-debug", src, stripped],
                 [objcopy, "--add-gnu-debuglink=" + debug, stripped, linked]):
        res = ctx.run_command(argv, 60)
        if res.timed_out or res.rc != 0:
            raise harness.Failure("cannot prepare the library: %s" % res.describe())
    os.unlink(debug)
    return linked


def main(ctx):
    ctx.require_pprobe()
    work = ctx.tmp_path("work")
    os.makedirs(work)
    victim = make_victim(ctx, work)
    fixture = ctx.start_fixture("safety_badelf", ["--victim", victim, "--workdir", work])
    fifo = os.path.join(work, "victim_live.debug")
    os.mkfifo(fifo)
    sh.wait_status(fixture, "start")
    runs = [
        ("cpu", ["-p", str(fixture.pid), "-seconds", str(SECONDS), "-hz", "200"]),
        ("wall", ["-p", str(fixture.pid), "-seconds", str(SECONDS), "-hz", "200", "-mode",
                  "wall"]),
    ]
    for name, args in runs:
        out = ctx.new_output("fifo-" + name)
        what = "pprobe -mode %s with a FIFO as debuglink" % name
        res = ctx.run_pprobe(args + ["-o", out, "-format", "folded"], SECONDS + RUN_BOUND_S)
        ctx.expect_run(res, 0, what)
        with open(out) as f:
            folded = f.read()
        ctx.check("victim_" in folded, "%s: expected the library's functions (victim_...) "
                  "named in %s, got:\n%s" % (what, out, harness.indent(folded[:2000])))
        ctx.check_target_healthy(fixture, what)
    what = "pprobe dump with a FIFO as debuglink"
    res = ctx.run_pprobe(["dump", "-p", str(fixture.pid)], RUN_BOUND_S)
    ctx.expect_run(res, 0, what)
    ctx.check("victim_" in res.stdout, "%s: expected the library's functions (victim_...) in "
              "the dump, got:\n%s" % (what, harness.indent(res.stdout[:2000])))
    ctx.check_target_healthy(fixture, what)
    ctx.check(os.path.exists(fifo) and not os.path.isfile(fifo),
              "the FIFO %s is still there" % fifo)


if __name__ == "__main__":
    harness.run(main)
