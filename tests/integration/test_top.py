#!/usr/bin/env python3
"""pprobe top in a real terminal (tmux): it draws the hottest functions of
burner_O2 (hot_a above hot_b), refreshes, ends with q with exit 0, and
leaves the target running and untraced.  Skips without tmux."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def tmux(*args, check=True):
    return subprocess.run(["tmux", "-L", "pprobe-test"] + list(args), check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=10)


def screen():
    return tmux("capture-pane", "-p", "-t", "top", check=False).stdout


def main(ctx):
    ctx.require_pprobe()
    if not shutil.which("tmux"):
        raise harness.Skip("tmux is not installed")
    fx = ctx.start_fixture("burner_O2")
    status = ctx.tmp_path("top.status")
    cmd = "%s top -p %d; echo $? > %s" % (ctx.pprobe, fx.pid, status)
    tmux("kill-server", check=False)
    tmux("new-session", "-d", "-s", "top", "-x", "120", "-y", "30", cmd)
    try:
        drawn = harness.wait_for(lambda: "hot_a" in screen() and "hot_b" in screen(), 20)
        text = screen()
        ctx.check(drawn, "top should show hot_a and hot_b within 20 s; screen:\n%s" % text)
        rows = [l for l in text.splitlines() if l.strip().endswith(("hot_a", "hot_b"))]
        ctx.check(len(rows) == 2 and rows[0].strip().endswith("hot_a"),
                  "hot_a (75%% of the CPU) should be listed above hot_b: %s" % rows)
        first = [l for l in text.splitlines() if l.startswith("pprobe top:")]
        ctx.check(harness.wait_for(lambda: [l for l in screen().splitlines()
                                            if l.startswith("pprobe top:")] != first, 10),
                  "the header (samples, seconds) should change as top refreshes")
        tmux("send-keys", "-t", "top", "q")
        ended = harness.wait_for(lambda: os.path.exists(status) and open(status).read().strip(), 10)
        ctx.check(ended and open(status).read().strip() == "0",
                  "q should end top with exit 0 (status file: %r)"
                  % (open(status).read() if os.path.exists(status) else None))
    finally:
        tmux("kill-server", check=False)
    ctx.check_target_healthy(fx, "after pprobe top")


harness.run(main)
