#!/usr/bin/env python3
"""Output path safety (safety: hostile input).

pprobe runs as root and writes where -o says; what is already at that path
must not make it write elsewhere.  For `pprobe record` and `pprobe dump`
(-o, JSON) alike:

  - a symlink planted at the output path, pointing at an existing file,
    or dangling, or at a directory: refused (exit 1, one line) before any
    thread is touched; the link is still there, unchanged, its target
    unchanged (content, inode), nothing created where a dangling one
    points;
  - a hard link to another file at the output path: the other file is
    unchanged, and the output path is a new file (another inode);
  - a character device (a copy of /dev/null made with mknod, mode 0600):
    written into, never renamed over: afterwards the same inode, still a
    character device with the same rdev and mode; the same through a
    symlink to it (the link stays a link);
  - a FIFO with a reader: the reader gets pprobe's whole output, the FIFO
    is still the same FIFO; a FIFO nobody reads: refused before any thread
    is touched (waiting for a reader would hang);
  - an existing directory: refused before any thread is touched (a record
    window of WINDOW_LONG s must not run first, a dump must not freeze);
  - a 251-byte file name (NAME_MAX is 255): written, as any other name;
  - run with SUDO_UID/SUDO_GID set (faked, 65534): the output is owned by
    that uid and gid;
  - no temporary file is left beside the output, and each run exits 0.
"""

import fcntl
import json
import os
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

SECONDS = 0.3
# The window of the runs that must be refused: long, so a check done only
# after the window shows as a run that outlasts REFUSE_TIMEOUT.
WINDOW_LONG = 60
REFUSE_TIMEOUT = 20
NOBODY = 65534
PRECIOUS = b"precious content that pprobe must not touch\n"


def args_for(fixture, kind, out, seconds=SECONDS):
    if kind == "record":
        return ["-p", str(fixture.pid), "-seconds", str(seconds), "-o", out]
    return ["dump", "-p", str(fixture.pid), "-format", "json", "-o", out]


def run(ctx, fixture, kind, out, env=None):
    return ctx.run_command([ctx.pprobe] + args_for(fixture, kind, out), 60, env=env)


def temp_files(d):
    return [n for n in os.listdir(d) if n.startswith(".pprobe-")]


def check_refused(ctx, fixture, kind, out, pattern, what):
    """pprobe refuses -o out with one line naming it, exit 1, before any
    thread of the target is touched (a TracerWatch sees no tracer, and a
    record with a WINDOW_LONG s window ends long before it)."""
    with harness.TracerWatch(fixture.pid) as watch:
        result = ctx.run_command([ctx.pprobe] + args_for(fixture, kind, out, WINDOW_LONG),
                                 REFUSE_TIMEOUT)
    lines = result.stderr_lines()
    ctx.check(not result.timed_out and result.rc == 1,
              "%s: expected exit 1 at once, got:\n  %s" % (what, result.describe()))
    ctx.check(len(lines) == 1 and lines[0].startswith("pprobe: cannot write %s: " % out)
              and pattern in lines[0],
              "%s: expected one line 'pprobe: cannot write %s: ...%s...', got %r"
              % (what, out, pattern, lines))
    ctx.check(not watch.seen, "%s: expected no task of the target ever traced, saw "
              "{tid: TracerPids} %s" % (what, dict(watch.seen)))
    left = temp_files(os.path.dirname(out))
    ctx.check(not left, "%s: temporary files left beside %s: %s" % (what, out, left))
    ctx.check_target_healthy(fixture, what)


def check_output(ctx, kind, out, what):
    """out is a regular file (not a link) with pprobe's output in it."""
    st = os.lstat(out)
    if not ctx.check(stat.S_ISREG(st.st_mode), "%s: expected %s to be a regular file, it is "
                     "mode %o" % (what, out, st.st_mode)):
        return None
    if kind == "record":
        sh.decode(ctx, out, what)
    else:
        try:
            with open(out) as f:
                json.load(f)
        except ValueError as e:
            ctx.report("%s: %s is not a JSON dump: %s" % (what, out, e))
    left = temp_files(os.path.dirname(out))
    ctx.check(not left, "%s: temporary files left beside %s: %s" % (what, out, left))
    return st


def precious(ctx, name):
    path = ctx.tmp_path(name)
    with open(path, "wb") as f:
        f.write(PRECIOUS)
    return path, os.stat(path)


def check_untouched(ctx, path, before, what):
    st = os.stat(path)
    with open(path, "rb") as f:
        data = f.read()
    ctx.check(data == PRECIOUS and st.st_ino == before.st_ino and st.st_size == before.st_size,
              "%s: expected %s unchanged (inode %d, %d bytes), got inode %d, %d bytes, "
              "content %r" % (what, path, before.st_ino, before.st_size, st.st_ino, st.st_size,
                              data[:60]))


def out_path(ctx, kind, stem):
    return ctx.tmp_path("%s-%s%s" % (stem, kind, ".pb.gz" if kind == "record" else ".json"))


def check_link(ctx, out, target, what):
    ctx.check(os.path.islink(out) and os.readlink(out) == target,
              "%s: expected %s still a symlink to %s, it is %s" % (
                  what, out, target, os.readlink(out) if os.path.islink(out) else
                  "mode %o" % os.lstat(out).st_mode if os.path.lexists(out) else "gone"))


def case_symlink(ctx, fixture, kind):
    what = "pprobe %s -o a symlink to another file" % kind
    target, before = precious(ctx, "symlink-target-" + kind)
    out = out_path(ctx, kind, "symlinked")
    os.symlink(target, out)
    check_refused(ctx, fixture, kind, out, "symbolic link", what)
    check_untouched(ctx, target, before, what)
    check_link(ctx, out, target, what)


def case_dangling(ctx, fixture, kind):
    what = "pprobe %s -o a dangling symlink" % kind
    nowhere = ctx.tmp_path("must-not-exist-" + kind)
    out = out_path(ctx, kind, "dangling")
    os.symlink(nowhere, out)
    check_refused(ctx, fixture, kind, out, "symbolic link", what)
    ctx.check(not os.path.lexists(nowhere), "%s: pprobe created %s through the symlink"
              % (what, nowhere))
    check_link(ctx, out, nowhere, what)


def case_directory(ctx, fixture, kind):
    what = "pprobe %s -o an existing directory" % kind
    out = ctx.tmp_path("a-directory-" + kind)
    os.mkdir(out)
    check_refused(ctx, fixture, kind, out, "directory", what)
    ctx.check(os.path.isdir(out) and not os.listdir(out),
              "%s: expected %s still an empty directory" % (what, out))
    link = ctx.tmp_path("link-to-directory-" + kind)
    os.symlink(out, link)
    check_refused(ctx, fixture, kind, link, "symbolic link",
                  "pprobe %s -o a symlink to a directory" % kind)
    check_link(ctx, link, out, what)


def device_state(path):
    st = os.lstat(path)
    return (st.st_ino, stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_rdev,
            st.st_uid, st.st_gid)


def case_device(ctx, fixture, kind):
    """A character device (a /dev/null made here), directly and through a
    symlink: written into, never replaced, mode and owner unchanged."""
    if os.geteuid() != 0:
        ctx.note("pprobe %s -o a device: not root, cannot mknod; skipped" % kind)
        return
    node = ctx.tmp_path("null-device-" + kind)
    os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    before = device_state(node)
    link = ctx.tmp_path("link-to-device-" + kind)
    os.symlink(node, link)
    for out, what in ((node, "pprobe %s -o a character device (1,3)" % kind),
                      (link, "pprobe %s -o a symlink to a character device" % kind)):
        result = run(ctx, fixture, kind, out)
        ctx.expect_run(result, 0, what)
        after = device_state(node)
        ctx.check(after == before, "%s: expected %s unchanged (inode, type, mode, rdev, uid, "
                  "gid) %s, got %s" % (what, node, before, after))
        left = temp_files(os.path.dirname(out))
        ctx.check(not left, "%s: temporary files left beside %s: %s" % (what, out, left))
        ctx.check_target_healthy(fixture, what)
    check_link(ctx, link, node, "pprobe %s -o a symlink to a character device" % kind)


def case_fifo(ctx, fixture, kind):
    what = "pprobe %s -o a FIFO with a reader" % kind
    fifo = ctx.tmp_path("fifo-" + kind)
    os.mkfifo(fifo, 0o600)
    ino = os.lstat(fifo).st_ino
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        # Room for the whole output, so pprobe never waits on this reader.
        fcntl.fcntl(rfd, fcntl.F_SETPIPE_SZ, 1 << 20)
        result = run(ctx, fixture, kind, fifo)
        ctx.expect_run(result, 0, what)
        chunks = []
        while True:
            try:
                chunk = os.read(rfd, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(rfd)
    data = b"".join(chunks)
    st = os.lstat(fifo)
    ctx.check(stat.S_ISFIFO(st.st_mode) and st.st_ino == ino,
              "%s: expected %s still the same FIFO (inode %d), got mode %o inode %d"
              % (what, fifo, ino, st.st_mode, st.st_ino))
    if kind == "record":
        ctx.check(data[:2] == b"\x1f\x8b", "%s: the reader got %d bytes starting %r, "
                  "expected a gzip profile" % (what, len(data), data[:8]))
    else:
        try:
            json.loads(data.decode())
        except ValueError as e:
            ctx.report("%s: the reader got %d bytes, not a JSON dump: %s" % (what, len(data), e))
    ctx.check_target_healthy(fixture, what)
    check_refused(ctx, fixture, kind, fifo, "nobody reads",
                  "pprobe %s -o a FIFO nobody reads" % kind)


def case_long_name(ctx, fixture, kind):
    """A 251-byte name is valid (NAME_MAX 255); the temporary file beside it
    must not need more."""
    what = "pprobe %s -o a 251-byte file name" % kind
    ext = ".pb.gz" if kind == "record" else ".json"
    out = ctx.tmp_path("n" * (251 - len(ext)) + ext)
    started = time.monotonic()
    result = run(ctx, fixture, kind, out)
    ctx.expect_run(result, 0, "%s (after %.1f s)" % (what, time.monotonic() - started))
    check_output(ctx, kind, out, what)
    ctx.check_target_healthy(fixture, what)


def case_hardlink(ctx, fixture, kind):
    what = "pprobe %s -o a hard link to another file" % kind
    other, before = precious(ctx, "hardlink-other-" + kind)
    out = out_path(ctx, kind, "hardlinked")
    os.link(other, out)
    result = run(ctx, fixture, kind, out)
    ctx.expect_run(result, 0, what)
    check_untouched(ctx, other, before, what)
    ctx.check_target_healthy(fixture, what)
    st = check_output(ctx, kind, out, what)
    if st:
        ctx.check(st.st_ino != before.st_ino, "%s: expected %s to be a new file, it is still "
                  "inode %d (the other file's)" % (what, out, st.st_ino))


def case_sudo(ctx, fixture, kind):
    what = "pprobe %s with SUDO_UID=SUDO_GID=%d" % (kind, NOBODY)
    if os.geteuid() != 0:
        ctx.note("%s: not root, skipped (pprobe only hands files over as root)" % what)
        return
    out = out_path(ctx, kind, "sudo")
    env = dict(os.environ, SUDO_UID=str(NOBODY), SUDO_GID=str(NOBODY), SUDO_USER="nobody")
    result = run(ctx, fixture, kind, out, env=env)
    ctx.expect_run(result, 0, what)
    ctx.check_target_healthy(fixture, what)
    st = check_output(ctx, kind, out, what)
    if st:
        ctx.check((st.st_uid, st.st_gid) == (NOBODY, NOBODY),
                  "%s: expected %s owned by %d:%d, got %d:%d"
                  % (what, out, NOBODY, NOBODY, st.st_uid, st.st_gid))


def main(ctx):
    ctx.require_pprobe()
    fixture = ctx.start_fixture("safety_waits")
    for kind in ("record", "dump"):
        case_symlink(ctx, fixture, kind)
        case_dangling(ctx, fixture, kind)
        case_directory(ctx, fixture, kind)
        case_hardlink(ctx, fixture, kind)
        case_device(ctx, fixture, kind)
        case_fifo(ctx, fixture, kind)
        case_long_name(ctx, fixture, kind)
        case_sudo(ctx, fixture, kind)


if __name__ == "__main__":
    harness.run(main)
