#!/usr/bin/env python3
"""pprobe dump of dump_dstate (fixtures/dump/dstate): threads asleep on a
userfaultfd page that is never filled in (issue #15 item 2).

  - gup-wait sleeps in uninterruptible sleep ('D') in process_vm_readv of
    its own process (the kernel faults the page in for the call, killable
    only): it cannot be stopped, so it is copied without a stop from the
    pc and sp the kernel saved;
  - fault-wait sleeps ('S') in a user page fault: no system call
    (/proc/.../syscall says "-1 SP PC"), stopped and copied as usual.

Expected (JSON): gup-wait in state "disk sleep (uninterruptible)", syscall
process_vm_readv, partial, stack "gup_wait;gup_thread;start_thread" with
its leaf in libc, and (as root, where /proc/PID/task/TID/stack is
readable) a kernel stack through handle_userfault; fault-wait sleeping,
syscall null, stack "fault_touch;fault_thread;start_thread" with its leaf
in the fixture (the faulting load).  Every thread has frames and no
stack_missing.  After the dump: no task stopped, TracerPid 0, main makes
progress, neither waiting call returned, gup-wait is still in 'D'.
Skips where userfaultfd is not available.
"""

import ctypes
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import dumpharness as dh  # noqa: E402

SYS_USERFAULTFD = 323  # x86_64
O_CLOEXEC = 0o2000000
KNOWN = {"main", "start_thread", "gup_thread", "gup_wait", "fault_thread", "fault_touch",
         "dstate_trampoline"} | dh.DUMPFIX_FUNCTIONS


def userfaultfd_available():
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(SYS_USERFAULTFD, O_CLOEXEC)
    if fd < 0:
        return os.strerror(ctypes.get_errno())
    os.close(fd)
    return None


def main(ctx):
    ctx.require_pprobe()
    why = userfaultfd_available()
    if why:
        raise harness.Skip("userfaultfd is not available here: %s" % why)
    fixture = ctx.start_fixture("dump_dstate")
    dh.wait_status(ctx, fixture, "dump_dstate start")
    what = "dump_dstate: pprobe dump -p PID -format json"
    result, doc = dh.dump_json(ctx, fixture, what)
    dh.note_file(ctx, ctx.tmp_path("dstate.json"), result.stdout)
    dh.check_after_dump(ctx, fixture, what, ("returned",), "ticks")
    gup = fixture.tid("gup-wait")
    states = harness.task_states(fixture.pid)
    ctx.check(states.get(gup) == "D", "%s: expected gup-wait %d still in D after the dump, got "
              "%s" % (what, gup, states))
    by_tid = dh.json_threads_by_tid(ctx, doc, fixture, what)
    module = dh.fixture_module(fixture)
    t = by_tid.get(gup)
    if ctx.check(t is not None, "%s: gup-wait missing" % what):
        tag = "%s: gup-wait %d" % (what, gup)
        ctx.check_eq("%s: state" % tag, "disk sleep (uninterruptible)", t["state"])
        ctx.check_eq("%s: syscall" % tag, "process_vm_readv", t["syscall"])
        ctx.check_eq("%s: partial" % tag, True, t["partial"])
        ctx.check(t["stack_missing"] is None, "%s: expected a stack, got none because %r"
                  % (tag, t["stack_missing"]))
        dh.check_stack(ctx, tag, dh.json_frames(t), KNOWN, "gup_wait;gup_thread;start_thread",
                       module)
        if os.geteuid() == 0:
            ks = t["kernel_stack"] or []
            ctx.check(any(f.startswith("handle_userfault+") for f in ks),
                      "%s: expected a kernel stack through handle_userfault, got %r" % (tag, ks))
    fault = fixture.tid("fault-wait")
    t = by_tid.get(fault)
    if ctx.check(t is not None, "%s: fault-wait missing" % what):
        tag = "%s: fault-wait %d" % (what, fault)
        ctx.check_eq("%s: state" % tag, "sleeping", t["state"])
        ctx.check_eq("%s: syscall (a page fault is none)" % tag, None, t["syscall"])
        ctx.check(t["stack_missing"] is None, "%s: expected a stack, got none because %r"
                  % (tag, t["stack_missing"]))
        dh.check_stack(ctx, tag, dh.json_frames(t), KNOWN,
                       "fault_touch;fault_thread;start_thread", module, leaf_outside=False)


if __name__ == "__main__":
    harness.run(main)
