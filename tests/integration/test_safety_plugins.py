#!/usr/bin/env python3
"""A target that loads a fresh library file again and again (safety: resources).

safety_plugins (fixtures/safety/plugins/) copies libsafety_plugin.so to a
file of a new name, dlopens it, burns ~5 ms of CPU in it, dlcloses and
deletes it, for ever: a plugin loader, or a JIT writing .so files.  pprobe
opens each library it finds a pc in (a descriptor and a mapping of the
file, a libdwfl session, unwind tables); kept for ever, those grow with the
number of libraries the target ever loaded (12,659 descriptors and 412 MB
after 10 minutes at 1000 Hz, still rising).

`pprobe -hz 1000 -seconds SECONDS`, with pprobe's descriptors
(/proc/PID/fd) and RSS (VmRSS) read every POLL_INTERVAL during the window:

  - the most of either in the second half of the window exceeds the most
    in the first half by at most FD_SLACK descriptors and RSS_SLACK_MIB
    (the profile itself grows a little with every library it names);
  - the profile names the plugin's functions (plugin_burn/plugin_work) in
    at least MIN_PLUGIN_SHARE of the loader thread's samples;
  - exit 0, the target is healthy and kept loading libraries.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

SECONDS = 10
HZ = 1000
FD_SLACK = 8
RSS_SLACK_MIB = 16
MIN_PLUGIN_SHARE = 0.5
# Below this many libraries loaded during the window the growth a leak
# would show is too small to tell from noise.
MIN_LOADED = 200


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def rss_kib(pid):
    text = harness._read("/proc/%d/status" % pid)
    for line in (text or "").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def main(ctx):
    ctx.require_pprobe()
    work = ctx.tmp_path("plugins")
    os.makedirs(work)
    plugin = os.path.join(ctx.fixtures_dir, "libsafety_plugin.so")
    fixture = harness.Fixture(ctx, "safety_plugins", ["--plugin", plugin, "--workdir", work])
    fixture.start()
    before = sh.wait_status(fixture, "before the run")

    out = ctx.new_output("plugins")
    what = "pprobe -hz %d -seconds %d of a plugin loader" % (HZ, SECONDS)
    # Under AddressSanitizer freed memory waits in a quarantine (256 MiB by
    # default) and shows as growth: keep it small so the RSS check means
    # the same in both builds.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(x for x in (env.get("ASAN_OPTIONS"), "quarantine_size_mb=1",
                                               "thread_local_quarantine_size_kb=64") if x)
    m = sh.Measured(ctx, [ctx.pprobe, "-p", str(fixture.pid), "-hz", str(HZ), "-seconds",
                          str(SECONDS), "-o", out], env=env)
    # (seconds since start, descriptors, RSS KiB) during the window only:
    # writing the profile after it is not what is measured.
    seen = []
    while True:
        t = time.monotonic() - m.started
        if t >= SECONDS:
            break
        fds, rss = fd_count(m.pid), rss_kib(m.pid)
        if fds is None or rss is None:
            break
        seen.append((t, fds, rss))
        time.sleep(harness.POLL_INTERVAL)
    result = m.wait(SECONDS + 60)
    after = sh.wait_status(fixture, "after the run")
    ctx.expect_run(result, 0, what)
    ctx.check_target_healthy(fixture, what)

    loaded = after["loaded"] - before["loaded"]
    first = [s for s in seen if s[0] < SECONDS / 2.0]
    second = [s for s in seen if s[0] >= SECONDS / 2.0]
    ctx.note("%s: %d libraries loaded during the run (%d load errors), %d looks at pprobe"
             % (what, loaded, after.get("load_errors", 0), len(seen)))
    if not first or not second:
        raise harness.Failure("%s: pprobe ended early: %s" % (what, result.describe()))
    fd1, fd2 = max(s[1] for s in first), max(s[1] for s in second)
    rss1, rss2 = max(s[2] for s in first) / 1024.0, max(s[2] for s in second) / 1024.0
    ctx.note("%s: most descriptors %d in the first half, %d in the second; most RSS %.1f MiB, "
             "%.1f MiB" % (what, fd1, fd2, rss1, rss2))
    if loaded < MIN_LOADED:
        raise harness.Skip("only %d libraries loaded in %d s (machine too busy?), need %d"
                           % (loaded, SECONDS, MIN_LOADED))
    ctx.check(fd2 <= fd1 + FD_SLACK, "%s: expected pprobe's descriptors not to grow with the "
              "libraries loaded (at most +%d), got %d in the first half, %d in the second"
              % (what, FD_SLACK, fd1, fd2))
    ctx.check(rss2 <= rss1 + RSS_SLACK_MIB, "%s: expected pprobe's RSS not to grow with the "
              "libraries loaded (at most +%d MiB), got %.1f MiB in the first half, %.1f MiB "
              "in the second" % (what, RSS_SLACK_MIB, rss1, rss2))

    prof = sh.decode(ctx, out, what)
    loader = prof.select(lambda s: s.labels.get("thread") == "loader")
    in_plugin = [s for s in loader
                 if any(n in ("plugin_burn", "plugin_work") for n in s.names())]
    n_loader, n_plugin = prof.count(loader), prof.count(in_plugin)
    share = n_plugin / float(n_loader) if n_loader else 0.0
    ctx.note("%s: %d of %d samples of the loader thread in the plugin's functions"
             % (what, n_plugin, n_loader))
    ctx.check(n_loader and share >= MIN_PLUGIN_SHARE, "%s: expected >= %.0f%% of the loader's "
              "samples in plugin_burn/plugin_work, got %d of %d:\n%s"
              % (what, MIN_PLUGIN_SHARE * 100, n_plugin, n_loader, prof.top_stacks()))
    fixture.kill()


if __name__ == "__main__":
    harness.run(main)
