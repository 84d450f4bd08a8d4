#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/corpus/unwind/ (see fuzz_unwind.c for
the input layout).  Run from anywhere: python3 make_unwind_seeds.py DIR.

Each seed is a case the unwinder must survive: empty input, registers
only, a frame chain that loops, pcs and stack pointers in unmapped or
non-canonical memory, a stack whose end wraps around 2^64, a chain of
return addresses thousands deep, registers captured without a stop, and
pointers into data mappings.  The fuzzer grows the rest of the corpus from
these.
"""

import os
import random
import struct
import sys

NREGS = 17
REGS = ["rip", "rsp", "rbp", "rbx", "r12", "r13", "r14", "r15", "rax", "rcx", "rdx", "rsi",
        "rdi", "r8", "r9", "r10", "r11"]
PARTIAL, SYMBOLIZE, PROFILE = 1, 2, 4
DEPTH = {256: 0, 16: 1 << 4, 1024: 2 << 4, 4096: 3 << 4}


def code(idx, off):
    return (0xC0DE << 48) | ((idx & 0xffff) << 32) | (off & 0xffffffff)


def data(idx, off):
    return (0xDA7A << 48) | ((idx & 0xffff) << 32) | (off & 0xffffffff)


def stack(off):
    return (0x57AC << 48) | (off & 0xffffffff)


def seed(flags=0, regs=None, stack_start=stack(0), words=(), raw=b""):
    regs = dict(regs or {})
    out = bytes([flags])
    out += b"".join(struct.pack("<Q", regs.get(r, 0)) for r in REGS)
    out += struct.pack("<Q", stack_start)
    out += b"".join(struct.pack("<Q", w) for w in words)
    return out + raw


def seeds():
    rng = random.Random(1)
    yield "empty", b""
    yield "flags_only", bytes([SYMBOLIZE | PROFILE])
    yield "regs_only", seed(SYMBOLIZE, {"rip": code(0, 0x1000), "rsp": stack(0x80)})
    # rbp points at itself and the return address never changes: a loop.
    yield "loop_frame_pointer", seed(
        SYMBOLIZE | PROFILE, {"rip": code(0, 0x1200), "rsp": stack(0x80), "rbp": stack(0x80)},
        words=[0] * 16 + [stack(0x80), code(0, 0x1300)] * 64)
    # Every slot a return address into the same function: as deep as the
    # copy allows, bounded by the depth limit.
    yield "deep_chain", seed(
        DEPTH[4096] | PROFILE, {"rip": code(0, 0x2000), "rsp": stack(0x80)},
        words=[code(0, 0x2001)] * 8000)
    yield "deep_mixed", seed(
        DEPTH[1024] | SYMBOLIZE, {"rip": code(1, 0x400), "rsp": stack(0x80), "rbp": stack(0x100)},
        words=[code(rng.randrange(8), rng.randrange(1 << 20)) if rng.random() < 0.5
               else stack(rng.randrange(0x80, 0x4000)) for _ in range(4000)])
    yield "unmapped_rip", seed(SYMBOLIZE, {"rip": 0x10, "rsp": stack(0x80)},
                               words=[code(0, 0x10)] * 32)
    yield "unmapped_return", seed(SYMBOLIZE | PROFILE, {"rip": code(0, 0x1000), "rsp": stack(0x80)},
                                  words=[0] * 16 + [0xdead0000beef, 0x1000, 0x7ff0000000] * 8)
    yield "noncanonical", seed(SYMBOLIZE, {"rip": 0x8000000000000000, "rsp": 0xffffffffffffff00,
                                           "rbp": 0xfffffffffffffff8},
                               stack_start=0xfffffffffffff000,
                               words=[0xffffffffffffffff] * 600)
    yield "stack_wraps", seed(0, {"rip": code(0, 0x1000), "rsp": 0xfffffffffffffff0},
                              stack_start=0xffffffffffffff80, words=[code(0, 0x1001)] * 64)
    yield "stack_start_zero", seed(SYMBOLIZE, {"rip": code(0, 0x1000), "rsp": 0x40},
                                   stack_start=0, words=[code(0, 0x1001)] * 32)
    yield "rsp_below_copy", seed(0, {"rip": code(0, 0x1000), "rsp": stack(-0x10000)},
                                 words=[code(0, 0x1001)] * 32)
    yield "rsp_above_copy", seed(0, {"rip": code(0, 0x1000), "rsp": stack(0x7fffffff)},
                                 words=[code(0, 0x1001)] * 32)
    yield "partial_regs", seed(PARTIAL | SYMBOLIZE | PROFILE,
                               {"rip": code(0, 0x1500), "rsp": stack(0x80),
                                "rdi": code(1, 0), "rsi": stack(0x100)},
                               words=[code(rng.randrange(4), rng.randrange(1 << 16))
                                      for _ in range(256)])
    yield "data_pointers", seed(SYMBOLIZE | PROFILE,
                                {r: data(i, i * 0x111) for i, r in enumerate(REGS)},
                                words=[data(rng.randrange(64), rng.randrange(1 << 24))
                                       for _ in range(512)])
    yield "odd_length", seed(SYMBOLIZE, {"rip": code(0, 0x1000), "rsp": stack(0x81)},
                             raw=bytes(range(255)))
    yield "depth16", seed(DEPTH[16] | SYMBOLIZE | PROFILE,
                          {"rip": code(2, 0x800), "rsp": stack(0x80)},
                          words=[code(2, 0x801 + 16 * i) for i in range(512)])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "unwind")
    os.makedirs(out, exist_ok=True)
    for name, blob in seeds():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
