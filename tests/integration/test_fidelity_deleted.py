#!/usr/bin/env python3
"""Fidelity, case 8: the executable and a library deleted or replaced
after the target started (as a package upgrade does).

fid_deleted and libfid_del.so (fixtures/fidelity/deleted) are copied to a
scratch directory and started from there (the library found beside the
executable, rpath $ORIGIN).  Once it is ready: the executable is deleted;
the library is replaced by another file renamed over it (the file on disk
now is a different library).  Then a profile and a dump.

Expected: >= 90% of samples have del_exe_hot; del_outer; main or
del_lib_hot; del_lib_run; del_outer; main, each of the two >= 30%, reaching
the entry point; names come from the files the process mapped (through
/proc/PID/map_files), not from what the paths hold now; the dump shows the
main thread's stack the same way.
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 2
EXE_CHAIN = "del_exe_hot;del_outer;main"
LIB_CHAIN = "del_lib_hot;del_lib_run;del_outer;main"
KNOWN = {"del_exe_hot", "del_outer", "main", "del_lib_hot", "del_lib_run"}


def main(ctx):
    ctx.require_pprobe()
    exe_src = fid.fixture_path(ctx, "fid_deleted")
    lib_src = os.path.join(ctx.fixtures_dir, "libfid_del.so")
    other = os.path.join(ctx.fixtures_dir, "libfid_plug_a.so")
    d = ctx.tmp_path("del")
    os.makedirs(d)
    exe = os.path.join(d, "fid_deleted")
    lib = os.path.join(d, "libfid_del.so")
    shutil.copy2(exe_src, exe)
    shutil.copy2(lib_src, lib)
    fixture = fid.start(ctx, "fid_deleted", argv=[exe])

    os.unlink(exe)
    shutil.copy2(other, lib + ".new")
    os.rename(lib + ".new", lib)
    with open("/proc/%d/maps" % fixture.pid) as f:
        maps = f.read()
    ctx.check("fid_deleted (deleted)" in maps and "libfid_del.so (deleted)" in maps,
              "expected the kernel to show both files deleted in /proc/PID/maps, got:\n%s"
              % maps)

    what = "fid_deleted (deleted, library replaced): pprobe -seconds %d" % SECONDS
    prof = fid.record(ctx, fixture, SECONDS, what)
    fid.check_share(ctx, prof, prof.samples,
                    lambda s: fid.reduce(s.names(), KNOWN) in (EXE_CHAIN, LIB_CHAIN) and
                    fid.reaches_entry(s.names()), 0.90, what,
                    "stack %s or %s reaching the entry point" % (EXE_CHAIN, LIB_CHAIN))
    for chain in (EXE_CHAIN, LIB_CHAIN):
        fid.check_share(ctx, prof, prof.samples,
                        lambda s, c=chain: fid.reduce(s.names(), KNOWN) == c, 0.30, what,
                        "stack " + chain)
    plug = prof.select(lambda s: any(n.startswith("plug_") for n in s.names()))
    ctx.check(not plug, "%s: names from the library now at the path:\n%s"
              % (what, prof.top_stacks(plug)))
    doc, _ = fid.dump(ctx, fixture, "fid_deleted: pprobe dump")
    t = fid.dump_thread(doc, fixture.pid)
    names = fid.frame_names(t) if t else []
    ctx.check(fid.reduce(names, KNOWN) in (EXE_CHAIN, LIB_CHAIN) and fid.reaches_entry(names),
              "fid_deleted: pprobe dump: expected %s or %s reaching the entry point, got %s"
              % (EXE_CHAIN, LIB_CHAIN, names))


if __name__ == "__main__":
    harness.run(main)
