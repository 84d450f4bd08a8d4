#!/usr/bin/env python3
"""Fidelity, case 5: signal handlers and the vDSO (fixtures/fidelity/signal).

fid_signal's threads:
  "sig":   a POSIX timer sends it SIGALRM every 2 ms and the handler burns
           ~1.2 ms, so ~60% of its time is inside the handler:
             sig_busy; sig_handler; __restore_rt (the signal frame, libc's
             trampoline); sig_work (the interrupted code); sig_thread;
             start_thread; clone3
  "clock": clock_gettime(CLOCK_MONOTONIC) in a loop, answered in the vDSO:
             __vdso_clock_gettime (or the vDSO's inner functions) in
             [vdso]; libc's clock_gettime; clock_hammer; clock_thread; ...

Expected: >= 10% of "sig"'s samples are in the handler (~60% unloaded; leaf
sig_busy, or sig_handler's entry, where a CPU-starved thread is stopped right
after a signal is delivered), and >= 90% of those have the stack above, the trampoline named __restore_rt (not
libc.so.6+0x...), reaching clone3; >= 20% of "clock"'s samples have their
leaf in the [vdso] mapping, and >= 90% of those have vDSO frames whose
outermost is the entry libc called, named by its symbol (clock_gettime or
__vdso_clock_gettime), then libc's clock_gettime and clock_hammer;
clock_thread, reaching clone3.  The inner vDSO frames are named by a vDSO
symbol or, for static code the vDSO has no symbol for, shown as
[vdso]+0xOFFSET: which it is depends on the kernel's build (6.18 with
kvm-clock has its pvclock reader below the first symbol), so either is
right, but never another symbol's name.  The window is extended on a busy
machine until each thread has enough samples to judge (20).  Skipped if the
clock source has no vDSO fast path (then clock_gettime is a system call).
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 3
ENOUGH = 20   # samples per thread: a 10% or 20% floor on a ~60-75% share is then > 4 sigma
SIG_CHAIN = ["sig_busy", "sig_handler", "__restore_rt", "sig_work", "sig_thread",
             "start_thread"]
VDSO_NAME = re.compile(r"(__vdso_)?clock_gettime|__cvdso_clock_gettime\w*|do_hres\w*|"
                       r"vread_\w+|__arch_get_hw_counter")
VDSO_ENTRY = re.compile(r"(__vdso_)?clock_gettime")
VDSO_UNNAMED = re.compile(r"\[vdso\]\+0x[0-9a-f]+")
LIBC_CLOCK = ("clock_gettime", "__clock_gettime", "__GI___clock_gettime",
              "__clock_gettime64", "__GI___clock_gettime64")
CLOCK_REST = ["clock_hammer", "clock_thread", "start_thread"]


def main(ctx):
    ctx.require_pprobe()
    try:
        with open("/sys/devices/system/clocksource/clocksource0/current_clocksource") as f:
            source = f.read().strip()
    except OSError:
        source = "?"
    fixture = fid.start(ctx, "fid_signal")
    what = "fid_signal: pprobe -seconds %d" % SECONDS
    prof = fid.record_enough(ctx, fixture, SECONDS, what, [
        ("thread sig", lambda p: p.of_thread("sig"), ENOUGH),
        ("thread clock", lambda p: p.of_thread("clock"), ENOUGH)])

    sig = prof.of_thread("sig")
    # Inside the handler: in sig_busy, or at sig_handler's first
    # instruction.  A thread starved of CPU (a busy machine) always has a
    # timer signal pending when it is scheduled at last, and the kernel
    # delivers it (builds the handler's frame) before it takes the ptrace
    # stop we asked for, so the stop finds the thread at the handler's entry.
    busy = [s for s in sig if s.frames and s.frames[0].name in ("sig_busy", "sig_handler")]
    # The handler's share depends on how promptly the timer's signals are
    # delivered under load (ptrace stops included); any real share will do
    # to judge the stacks.
    fid.check_share(ctx, prof, sig, lambda s: s in busy, 0.10, what + ", thread sig",
                    "leaf sig_busy or sig_handler (inside the handler)")

    def sig_ok(s):
        ns = s.names()
        chain = SIG_CHAIN if ns[0] == "sig_busy" else SIG_CHAIN[1:]
        return ns[:len(chain)] == chain and ns[-1] in ("clone3", "__clone3")
    fid.check_share(ctx, prof, busy, sig_ok, 0.90, what + ", thread sig",
                    "stack [sig_busy;]%s;clone3" % ";".join(SIG_CHAIN[1:]))

    clock = prof.of_thread("clock")
    vdso = [s for s in clock if s.frames and s.frames[0].module == "[vdso]"]
    if not vdso and source not in ("tsc", "kvm-clock", "hyperv_clocksource_tsc_page",
                                   "arch_sys_counter"):
        raise harness.Skip("no sample in the vDSO and clock source %r: clock_gettime is "
                           "probably a system call here" % source)
    fid.check_share(ctx, prof, clock, lambda s: s in vdso, 0.20, what + ", thread clock",
                    "leaf in [vdso] (clock source %s)" % source)
    names = sorted({f.name for s in vdso for f in s.frames if f.module == "[vdso]"})
    wrong = [n for n in names if not VDSO_NAME.fullmatch(n) and not VDSO_UNNAMED.fullmatch(n)]
    ctx.check(names and not wrong,
              "%s: expected the vDSO frames named as its symbols (__vdso_clock_gettime...) or, "
              "where it has none, [vdso]+0xOFFSET; got %s among %s" % (what, wrong, names))

    def vdso_ok(s):
        ns = s.names()
        k = 1
        while k < len(ns) and s.frames[k].module == "[vdso]":
            k += 1
        return (k < len(ns) and VDSO_ENTRY.fullmatch(ns[k - 1]) is not None and
                ns[k] in LIBC_CLOCK and ns[k + 1:k + 4] == CLOCK_REST and
                ns[-1] in ("clone3", "__clone3"))
    fid.check_share(ctx, prof, vdso, vdso_ok, 0.90, what + ", thread clock",
                    "[vdso] frames, the outermost the entry clock_gettime; libc clock_gettime; "
                    "%s; clone3" % ";".join(CLOCK_REST))


if __name__ == "__main__":
    harness.run(main)
