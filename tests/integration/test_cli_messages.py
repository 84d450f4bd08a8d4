#!/usr/bin/env python3
"""What pprobe tells the user around a run that works (issue 12).

  - quiet: `-q` prints nothing on stderr for a run that worked (no
    "Saved profile", no summary, no truncation line), for record (pprof
    and folded) and dump -o; the file is still written.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

WINDOW = 0.5
SLACK = 30


def case_quiet(ctx, busy):
    for ext in ("pb.gz", "folded"):
        out = ctx.tmp_path("quiet.%s" % ext)
        args = ["-p", str(busy.pid), "-seconds", str(WINDOW), "-q", "-o", out]
        what = "pprobe " + " ".join(args)
        result = ctx.run_pprobe(args, WINDOW + SLACK)
        ctx.expect_run(result, 0, what)
        ctx.check(result.stderr == "", "%s: expected nothing on stderr, got:%s"
                  % (what, harness.indent(result.stderr)))
        ctx.check(os.path.isfile(out) and os.path.getsize(out) > 0,
                  "%s: expected the profile written at %s" % (what, out))
    out = ctx.tmp_path("quiet.dump.txt")
    args = ["dump", "-p", str(busy.pid), "-q", "-o", out]
    what = "pprobe " + " ".join(args)
    result = ctx.run_pprobe(args, SLACK)
    ctx.expect_run(result, 0, what)
    ctx.check(result.stderr == "", "%s: expected nothing on stderr, got:%s"
              % (what, harness.indent(result.stderr)))
    ctx.check_target_healthy(busy, "pprobe -q runs")


def main(ctx):
    ctx.require_pprobe()
    busy = ctx.start_fixture("burner_O2")
    case_quiet(ctx, busy)


if __name__ == "__main__":
    harness.run(main)
