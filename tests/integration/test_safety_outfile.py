#!/usr/bin/env python3
"""Output path safety (safety: hostile input).

pprobe runs as root and writes where -o says; what is already at that path
must not make it write elsewhere.  For `pprobe record` and `pprobe dump`
(-o, JSON) alike:

  - a symlink planted at the output path, pointing at an existing file:
    afterwards the symlink's target is unchanged (content, inode) and the
    output path is a regular file holding pprobe's output;
  - a dangling symlink planted there: nothing is created where it points;
  - a hard link to another file at the output path: the other file is
    unchanged, and the output path is a new file (another inode);
  - run with SUDO_UID/SUDO_GID set (faked, 65534): the output is owned by
    that uid and gid;
  - no temporary file is left beside the output, and each run exits 0.
"""

import json
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

SECONDS = 0.3
NOBODY = 65534
PRECIOUS = b"precious content that pprobe must not touch\n"


def run(ctx, fixture, kind, out, env=None):
    if kind == "record":
        args = ["-p", str(fixture.pid), "-seconds", str(SECONDS), "-o", out]
    else:
        args = ["dump", "-p", str(fixture.pid), "-format", "json", "-o", out]
    return ctx.run_command([ctx.pprobe] + args, 60, env=env)


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
    d, base = os.path.split(out)
    left = [n for n in os.listdir(d) if n.startswith("." + base + ".tmp")]
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


def case_symlink(ctx, fixture, kind):
    what = "pprobe %s -o a symlink to another file" % kind
    target, before = precious(ctx, "symlink-target-" + kind)
    out = out_path(ctx, kind, "symlinked")
    os.symlink(target, out)
    result = run(ctx, fixture, kind, out)
    ctx.expect_run(result, 0, what)
    check_untouched(ctx, target, before, what)
    check_output(ctx, kind, out, what)
    ctx.check_target_healthy(fixture, what)


def case_dangling(ctx, fixture, kind):
    what = "pprobe %s -o a dangling symlink" % kind
    nowhere = ctx.tmp_path("must-not-exist-" + kind)
    out = out_path(ctx, kind, "dangling")
    os.symlink(nowhere, out)
    result = run(ctx, fixture, kind, out)
    ctx.expect_run(result, 0, what)
    ctx.check(not os.path.lexists(nowhere), "%s: pprobe created %s through the symlink"
              % (what, nowhere))
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
        case_hardlink(ctx, fixture, kind)
        case_sudo(ctx, fixture, kind)


if __name__ == "__main__":
    harness.run(main)
