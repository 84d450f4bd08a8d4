#!/usr/bin/env python3
"""A chrooted target's paths are resolved inside its root (safety: hostile input).

pprobe reads the target's perf map (/tmp/perf-PID.map) as the target sees
it, through /proc/PID/root.  A chroot whose /tmp is an absolute symbolic
link must not lead pprobe, run as root, to a file of the host: the link is
resolved inside the target's root.

The static fid_chain_static fixture runs chrooted in ROOT, whose /tmp is a
symlink to HOSTDIR, an absolute path of the host (this test's scratch
directory).  HOSTDIR holds a root-only perf-PID.map (mode 0600, owned by
root: the kind of file the owner check lets through), and ROOT holds one at
ROOT/HOSTDIR too, where the link leads inside the root.  inotify watches
both directories while `pprobe record` runs:

  - the host's file is never opened;
  - the one inside the root is (the map is still read, from the right place);
  - pprobe exits 0 and the target is healthy.

The same holds for separate debug info: the fixture is stripped and its
.gnu_debuglink names fixture.debug, which in ROOT is an absolute symbolic
link to HOSTDIR/fixture.debug.  Both HOSTDIR and ROOT/HOSTDIR hold the real
debug file, so either would be accepted (its CRC matches):

  - the host's debug file is never opened, the one inside the root is.

Needs root (chroot), objcopy and strip; skips otherwise.
"""

import ctypes
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

IN_ACCESS = 0x1
IN_OPEN = 0x20
READY_TIMEOUT = 15


class Inotify:
    def __init__(self):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise harness.Failure("inotify_init1: %s" % os.strerror(ctypes.get_errno()))
        self.dirs = {}

    def watch(self, path):
        wd = self.libc.inotify_add_watch(self.fd, os.fsencode(path), IN_OPEN | IN_ACCESS)
        if wd < 0:
            raise harness.Failure("inotify_add_watch %s: %s"
                                  % (path, os.strerror(ctypes.get_errno())))
        self.dirs[wd] = path

    def opened(self):
        """{path of a file opened or read in a watched directory}."""
        seen = set()
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return seen
            off = 0
            while off + 16 <= len(data):
                wd, _mask, _cookie, n = struct.unpack_from("iIII", data, off)
                name = data[off + 16:off + 16 + n].rstrip(b"\0").decode(errors="replace")
                if name:
                    seen.add(os.path.join(self.dirs.get(wd, "?"), name))
                off += 16 + n

    def close(self):
        os.close(self.fd)


def write_map(path, name):
    with open(path, "w") as f:
        f.write("1000 100 %s\n" % name)
    os.chown(path, 0, 0)
    os.chmod(path, 0o600)


def make_debuglinked(ctx, src, dst, debug_dirs):
    """dst: src stripped, with a .gnu_debuglink to fixture.debug; the debug
    file itself written into each of debug_dirs."""
    objcopy, strip = shutil.which("objcopy"), shutil.which("strip")
    if not objcopy or not strip:
        raise harness.Skip("objcopy and strip (binutils) are needed")
    debug = ctx.tmp_path("fixture.debug")
    for argv in ([objcopy, "--only-keep-debug", src, debug],
                 [strip, "--strip-all", "-o", dst, src],
                 [objcopy, "--add-gnu-debuglink=" + debug, dst]):
        res = ctx.run_command(argv, 60)
        if res.rc != 0:
            raise harness.Failure("%s failed:\n  %s" % (argv[0], res.describe()))
    for d in debug_dirs:
        shutil.copy2(debug, os.path.join(d, "fixture.debug"))


def main(ctx):
    ctx.require_pprobe()
    if os.geteuid() != 0:
        raise harness.Skip("chroot needs root")
    chroot = shutil.which("chroot")
    if not chroot:
        raise harness.Skip("no chroot(8)")
    base = ctx.tmpdir
    if os.path.realpath(base).startswith("/tmp/"):
        # ROOT/HOSTDIR would lead through ROOT/tmp, the link under test: a
        # checkout under /tmp gets its scratch directory elsewhere.
        base = tempfile.mkdtemp(prefix="pprobe-chroot.", dir="/var/tmp")
        ctx.cleanups.append(lambda: shutil.rmtree(base, ignore_errors=True))
    root = os.path.join(base, "root")
    hostdir = os.path.join(base, "hostdir")
    inner = root + hostdir
    os.makedirs(root)
    os.makedirs(hostdir)
    os.makedirs(inner)
    make_debuglinked(ctx, os.path.join(ctx.fixtures_dir, "fid_chain_static"),
                     os.path.join(root, "fixture"), [hostdir, inner])
    os.symlink(hostdir, os.path.join(root, "tmp"))
    # The maps of a chrooted process name its files by their host path
    # (ROOT/fixture), so the fixture is also hard-linked at ROOT/ROOT/fixture,
    # where that path leads inside the root: pprobe then looks for the debug
    # file beside it, as it does in a container whose paths are its own.
    mirror = root + root
    os.makedirs(mirror)
    os.link(os.path.join(root, "fixture"), os.path.join(mirror, "fixture"))
    for d in (root, mirror):
        os.symlink(os.path.join(hostdir, "fixture.debug"), os.path.join(d, "fixture.debug"))

    proc = subprocess.Popen([chroot, root, "/fixture"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    ctx.cleanups.append(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
    line = proc.stdout.readline().decode(errors="replace").strip()
    m = re.fullmatch(r"ready (\d+)", line)
    if not m or int(m.group(1)) != proc.pid:
        raise harness.Failure("chrooted fixture: expected 'ready %d', got %r" % (proc.pid, line))
    pid = proc.pid

    host_map = os.path.join(hostdir, "perf-%d.map" % pid)
    inner_map = os.path.join(inner, "perf-%d.map" % pid)
    write_map(host_map, "HOST_SECRET")
    write_map(inner_map, "TARGET_OWN")
    watch = Inotify()
    try:
        watch.watch(hostdir)
        watch.watch(inner)
        out = ctx.tmp_path("chroot.pb.gz")
        what = "pprobe record of a chrooted target whose /tmp -> %s" % hostdir
        result = ctx.run_pprobe(["-p", str(pid), "-seconds", "0.5", "-o", out], 60)
        ctx.expect_run(result, 0, what)
        opened = watch.opened()
    finally:
        watch.close()
    ctx.check(host_map not in opened, "%s: pprobe opened the host's %s (files opened in the "
              "watched directories: %s)" % (what, host_map, sorted(opened)))
    ctx.check(inner_map in opened, "%s: expected pprobe to read the target's own perf map "
              "%s (its /tmp resolved inside its root); opened: %s"
              % (what, inner_map, sorted(opened)))
    host_debug = os.path.join(hostdir, "fixture.debug")
    inner_debug = os.path.join(inner, "fixture.debug")
    ctx.check(host_debug not in opened, "%s: pprobe opened the host's %s through the target's "
              "debug link (opened: %s)" % (what, host_debug, sorted(opened)))
    ctx.check(inner_debug in opened, "%s: expected pprobe to read the target's debug file %s "
              "(its debug link resolved inside its root); opened: %s"
              % (what, inner_debug, sorted(opened)))

    class Target:
        name = "fid_chain_static (chrooted)"

        def __init__(self, p):
            self.proc, self.pid = p, p.pid

        def alive(self):
            return self.proc.poll() is None

        def stderr_text(self):
            return ""
    ctx.check_target_healthy(Target(proc), what)


if __name__ == "__main__":
    harness.run(main)
