#!/usr/bin/env python3
"""Hostile ELF files for the symbolizer (safety: hostile input).

safety_badelf (fixtures/safety/badelf/) maps, and executes nothing from, a
truncated copy of a shared library, a file of garbage bytes and a copy with
scrambled program headers; three threads sit in a leaf whose call-frame
information claims a return address inside one of those mappings, so the
unwinder walks into each and the symbolizer must name it.  A thread runs
inside a dlopen'ed copy of the library, and another dlopens, calls and
dlcloses a copy in a loop.  The test runs a copy of the fixture binary,
and once it is ready changes the files on disk:

  variant "replaced": the program's binary is replaced by garbage (a new
      file renamed over it), the dlopen'ed library is deleted;
  variant "deleted": the binary is deleted, the dlopen'ed library replaced.

Then `pprobe -hz 1000` (CPU mode), `pprobe -mode wall -hz 1000`, `pprobe
dump -format json` and `pprobe dump`:

  - no crash: every run exits 0, nothing unexpected on stderr;
  - the fake frames fall back to module+0xoffset: garbage.bin+0x1234,
    victim_corrupt.so+0x1234, victim_trunc.so+0x1234 (for the last two a
    function name of the library is also accepted, should enough of the
    file be readable); in the dump, the frame's module is the file;
  - the replaced or deleted binary and library are still symbolized from
    the files the process mapped (badelf_fake_frame, live_thread,
    victim_spin), not from what is on disk now;
  - the target is healthy and its dlopen loop keeps going without errors.
"""

import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import safetyharness as sh  # noqa: E402

SECONDS = 1.5
HZ = 1000
FAKES = ("fake-trunc", "fake-garbage", "fake-corrupt")
# Besides module+0xoffset, what a fake frame may be called when the file
# is readable enough to find a symbol (any function of the library).
SYMBOL_OK = {"fake-trunc": True, "fake-garbage": False, "fake-corrupt": True}
# pprobe's own summary line is expected here: these frames have no symbols.
ALSO_STDERR = [r"pprobe: \d+ stacks truncated, \d+ addresses without symbols"]


def garbage(path, size=8192):
    with open(path, "wb") as f:
        f.write(os.urandom(size))


def start(ctx, variant):
    work = ctx.tmp_path("work-" + variant)
    os.makedirs(work)
    binary = os.path.join(work, "safety_badelf")
    shutil.copy2(os.path.join(ctx.fixtures_dir, "safety_badelf"), binary)
    victim = os.path.join(ctx.fixtures_dir, "libsafety_victim.so")
    fixture = harness.Fixture(ctx, "safety_badelf", ["--victim", victim, "--workdir", work])
    fixture.path = binary
    fixture.start()
    live = os.path.join(work, "victim_live.so")
    if variant == "replaced":
        garbage(binary + ".new")
        os.rename(binary + ".new", binary)
        os.unlink(live)
    else:
        os.unlink(binary)
        garbage(live + ".new")
        os.rename(live + ".new", live)
    return fixture


def expected_fake(fixture, name):
    module, offset = fixture.truth[name].split()
    return "%s+0x%x" % (module, int(offset, 16))


def fake_frame_ok(name, frame, expected):
    if frame == expected:
        return True
    return SYMBOL_OK[name] and re.fullmatch(r"victim_\w+", frame) is not None


def check_profile(ctx, fixture, prof, what):
    by_thread = prof.count_by(sh.thread_of)
    ctx.note("%s: samples by thread %s" % (what, by_thread))
    for name in FAKES:
        expected = expected_fake(fixture, name)
        samples = prof.select(lambda s: sh.thread_of(s) == name)
        leaf = [s for s in samples if s.names()[:1] == ["badelf_fake_frame"]]
        if not ctx.check(leaf, "%s: expected samples of %s in badelf_fake_frame (the replaced "
                         "or deleted binary symbolized from the mapped file), got:\n%s"
                         % (what, name, prof.top_stacks(samples=samples))):
            continue
        bad = [s for s in leaf if len(s.names()) < 2
               or not fake_frame_ok(name, s.names()[1], expected)]
        ctx.check(not bad, "%s: expected the frame after badelf_fake_frame of %s to be %s%s, "
                  "got:\n%s" % (what, name, expected,
                                " (or a function of the library)" if SYMBOL_OK[name] else "",
                                prof.top_stacks(samples=bad)))
    live = prof.select(lambda s: sh.thread_of(s) == "in-dlopen")
    good = [s for s in live if "live_thread" in s.names()
            and any(n in ("victim_spin", "victim_work") or n.startswith("victim_live.so")
                    for n in s.names())]
    ctx.check(live and len(good) == len(live),
              "%s: expected every sample of in-dlopen to show victim_spin/victim_work (or "
              "victim_live.so+0x...) called from live_thread, got:\n%s"
              % (what, prof.top_stacks(samples=live)))


def check_dump(ctx, fixture, text, what):
    try:
        doc = json.loads(text)
    except ValueError as e:
        ctx.report("%s: the dump is not JSON: %s" % (what, e))
        return
    threads = {t.get("name"): t for t in doc.get("threads", [])}
    for name in FAKES:
        expected = expected_fake(fixture, name)
        module = expected.split("+")[0]
        t = threads.get(name)
        if not ctx.check(t is not None, "%s: no thread %s in the dump" % (what, name)):
            continue
        frames = [(f.get("function"), f.get("module")) for f in t.get("frames", [])]
        ok = (len(frames) >= 2 and frames[0][0] == "badelf_fake_frame"
              and frames[1][1] == module and fake_frame_ok(name, frames[1][0], expected))
        ctx.check(ok, "%s: expected %s's frames to start badelf_fake_frame, then %s in module "
                  "%s; got %s" % (what, name, expected, module, frames[:4]))


def run_variant(ctx, variant):
    fixture = start(ctx, variant)
    what0 = "binary %s, dlopen'ed library %s" % (
        variant, "deleted" if variant == "replaced" else "replaced")
    before = sh.wait_status(fixture, what0)
    for mode in ("cpu", "wall"):
        what = "pprobe -mode %s -hz %d (%s)" % (mode, HZ, what0)
        out = ctx.new_output("badelf-%s-%s" % (variant, mode))
        result = ctx.run_pprobe(["-p", str(fixture.pid), "-seconds", str(SECONDS), "-hz",
                                 str(HZ), "-mode", mode, "-o", out], SECONDS + 60)
        ctx.expect_run(result, 0, what)
        ctx.expect_saved(result, out, what)
        surprises = sh.stderr_surprises(result, ALSO_STDERR)
        ctx.check(not surprises, "%s: unexpected lines on pprobe's stderr: %s"
                  % (what, surprises))
        ctx.check_target_healthy(fixture, what)
        check_profile(ctx, fixture, sh.decode(ctx, out, what), what)
    what = "pprobe dump -format json (%s)" % what0
    result = ctx.run_pprobe(["dump", "-p", str(fixture.pid), "-format", "json"], 60)
    ctx.expect_run(result, 0, what)
    check_dump(ctx, fixture, result.stdout, what)
    what = "pprobe dump (%s)" % what0
    result = ctx.run_pprobe(["dump", "-p", str(fixture.pid)], 60)
    ctx.expect_run(result, 0, what)
    ctx.check_target_healthy(fixture, what)
    after = sh.wait_status(fixture, what0)
    ctx.check(after["loop_rounds"] > before["loop_rounds"] and after["loop_errors"] == 0,
              "%s: expected the dlopen loop to keep going without errors: rounds %d -> %d, "
              "errors %d" % (what0, before["loop_rounds"], after["loop_rounds"],
                             after["loop_errors"]))
    # Its spinning threads would only slow the next variant down.
    fixture.kill()


def main(ctx):
    ctx.require_pprobe()
    for variant in ("replaced", "deleted"):
        run_variant(ctx, variant)


if __name__ == "__main__":
    harness.run(main)
