#!/usr/bin/env python3
"""Names the target chooses never reach a terminal raw (safety: hostile input).

A copy of the burner fixture is made whose file name (so its process and
main thread name) and whose function level_one (on every sampled stack; its
name patched in the copy's symbol table and debug info, same length) carry a
terminal escape: OSC 0 ("set the window title") ended by BEL.  Then:

  - record without -o: the default file name keeps [A-Za-z0-9._-] only
    (the process name's other bytes are '_'); the "Saved profile in" line
    and the summary table on stderr hold no ESC or BEL byte, and show the
    function's name escaped (\\x1b]0;...\\x07);
  - record -format folded -o - and -format text -o -: the same on stdout;
  - dump (text): the same, for the thread and process names and frames;
  - top into a pipe: the frames hold no ESC but pprobe's own (cursor home,
    clear, cursor hide/show) and no BEL, and show the name escaped;
  - every run exits 0 and leaves the target healthy.
"""

import os
import re
import select
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

FUNC = b"level_one"
EVIL_FUNC = b"\x1b]0;PWNE\x07"          # as long as FUNC
EVIL_EXE = b"b\x1b]0;PWNT\x07x"         # the copy's file name: its comm
ESCAPED_FUNC = "\\x1b]0;PWNE\\x07"
ESCAPED_FOLDED = "\\x1b]0_PWNE\\x07"      # ';' separates frames in folded
ESCAPED_COMM = "\\x1b]0;PWNT\\x07"
SAFE_COMM = "b__0_PWNT_x"
TOP_OWN = [b"\x1b[H", b"\x1b[2J", b"\x1b[?25l", b"\x1b[?25h"]
TOP_TIMEOUT = 15.0


def make_target(ctx):
    src = os.path.join(ctx.fixtures_dir, "burner_O2")
    with open(src, "rb") as f:
        data = f.read()
    if len(EVIL_FUNC) != len(FUNC) or FUNC not in data:
        raise harness.Failure("cannot patch %r in %s" % (FUNC, src))
    d = os.fsencode(ctx.tmp_path("evil"))
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, EVIL_EXE)
    with open(path, "wb") as f:
        f.write(data.replace(FUNC, EVIL_FUNC))
    shutil.copymode(src, path)
    fixture = harness.Fixture(ctx, "burner_O2")
    fixture.path = os.fsdecode(path)
    return fixture.start()


def check_clean(ctx, text, what, must_show, allowed=()):
    """text (bytes) has no ESC (beyond allowed sequences) and no BEL, and
    shows must_show (the escaped name)."""
    for seq in allowed:
        text = text.replace(seq, b"")
    raw = [m.start() for m in re.finditer(rb"[\x1b\x07\x9b]", text)]
    ctx.check(not raw, "%s: raw control bytes at %s: %r" % (
        what, raw[:5], text[max(0, raw[0] - 40):raw[0] + 40] if raw else b""))
    for s in must_show:
        ctx.check(s.encode() in text, "%s: expected %r (the name, escaped) in the output, "
                  "got %r" % (what, s, text[:600]))


def run(ctx, args, cwd=None):
    proc = subprocess.run([ctx.pprobe] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd=cwd, timeout=120)
    return proc


def case_record_default(ctx, fixture):
    what = "pprobe record (default output name)"
    cwd = ctx.tmp_path("cwd")
    os.makedirs(cwd, exist_ok=True)
    p = run(ctx, ["-p", str(fixture.pid), "-seconds", "1"], cwd=cwd)
    ctx.check(p.returncode == 0, "%s: expected exit 0, got %d: %r" % (what, p.returncode, p.stderr))
    names = os.listdir(cwd)
    ctx.check(len(names) == 1, "%s: expected one file in %s, got %r" % (what, cwd, names))
    for n in names:
        ctx.check(re.fullmatch(r"[A-Za-z0-9._-]+", n) is not None and
                  n.startswith("pprobe.%s.%d." % (SAFE_COMM, fixture.pid)),
                  "%s: expected a name of [A-Za-z0-9._-] starting pprobe.%s.%d., got %r"
                  % (what, SAFE_COMM, fixture.pid, n))
        ctx.check(("Saved profile in %s" % n).encode() in p.stderr,
                  "%s: expected 'Saved profile in %s' on stderr, got %r" % (what, n, p.stderr))
    check_clean(ctx, p.stderr, what + ", stderr", [ESCAPED_FUNC])
    ctx.check_target_healthy(fixture, what)


def case_stdout(ctx, fixture, args, what, must_show):
    p = run(ctx, args)
    ctx.check(p.returncode == 0, "%s: expected exit 0, got %d: %r" % (what, p.returncode, p.stderr))
    check_clean(ctx, p.stdout, what + ", stdout", must_show)
    check_clean(ctx, p.stderr, what + ", stderr", [])
    ctx.check_target_healthy(fixture, what)


def case_top(ctx, fixture):
    what = "pprobe top > a pipe"
    r, w = os.pipe()
    try:
        proc = subprocess.Popen([ctx.pprobe, "top", "-p", str(fixture.pid)],
                                stdin=subprocess.DEVNULL, stdout=w, stderr=subprocess.PIPE)
    finally:
        os.close(w)
    got = b""
    deadline = time.monotonic() + TOP_TIMEOUT
    try:
        while time.monotonic() < deadline and ESCAPED_FUNC.encode() not in got \
                and EVIL_FUNC not in got:
            ready, _, _ = select.select([r], [], [], 0.5)
            if ready:
                chunk = os.read(r, 65536)
                if not chunk:
                    break
                got += chunk
    finally:
        os.close(r)
        proc.send_signal(2)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    ctx.check(proc.returncode == 0, "%s: expected exit 0, got %s: %r"
              % (what, proc.returncode, proc.stderr.read()))
    check_clean(ctx, got, what, [ESCAPED_FUNC, ESCAPED_COMM], TOP_OWN)
    ctx.check_target_healthy(fixture, what)


def main(ctx):
    ctx.require_pprobe()
    fixture = make_target(ctx)
    pid = str(fixture.pid)
    case_record_default(ctx, fixture)
    case_stdout(ctx, fixture, ["-p", pid, "-seconds", "1", "-format", "folded", "-o", "-"],
                "pprobe record -format folded -o -", [ESCAPED_FOLDED])
    case_stdout(ctx, fixture, ["-p", pid, "-seconds", "1", "-format", "text", "-o", "-"],
                "pprobe record -format text -o -", [ESCAPED_FUNC])
    case_stdout(ctx, fixture, ["dump", "-p", pid], "pprobe dump", [ESCAPED_FUNC, ESCAPED_COMM])
    case_top(ctx, fixture)


if __name__ == "__main__":
    harness.run(main)
