#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/corpus/gopclntab/ (the input of
fuzz_gopclntab.c is a .gopclntab section by itself, at virtual address
VADDR, with text starting at TEXT).  Run: python3 make_gopclntab_seeds.py DIR.

seed-v116, seed-v118, seed-v120 are well-formed tables of each layout
(Go 1.16-1.17, 1.18-1.19, 1.20+) with three functions:
  main.outer  TEXT+0x00..0x40  a.go line 5 (0x00-0x10), 6 (0x10-0x40)
  main.leaf   TEXT+0x40..0x60  a.go:10, except TEXT+0x48..0x50 where
              main.inner (b.go:20) is inlined, called from parentPc 0x4
              (a.go:10)
  main.tail   TEXT+0x60..0x70  no pcfile/pcln tables
tests/unit/test_gopclntab.c looks them up.  The other seeds are broken
copies: truncated, bad magic, offsets past the end, a functab out of order,
an inline tree that points at itself.
"""

import os
import struct
import sys

VADDR = 0x500000
TEXT = 0x401000
MAGIC = {116: 0xfffffffa, 118: 0xfffffff0, 120: 0xfffffff1}


def uvarint(v):
    out = b""
    while True:
        b = v & 0x7f
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pcvalue(pairs):
    """pairs: (value, end pc offset) from the entry; Go's encoding."""
    out, prev, prevpc = b"", -1, 0
    for v, end in pairs:
        d = v - prev
        out += uvarint(((d << 1) ^ (d >> 31)) & 0xffffffff) + uvarint(end - prevpc)
        prev, prevpc = v, end
    return out + b"\0"


def build(ver):
    names = b"main.outer\0main.leaf\0main.inner\0main.tail\0"
    nameoff = {n: names.index(n.encode() + b"\0") for n in
               ("main.outer", "main.leaf", "main.inner", "main.tail")}
    files = b"a.go\0b.go\0"
    cutab = struct.pack("<II", 0, 5)
    pctab = b"\0"
    tabs = {}
    for key, pairs in (("outer_file", [(0, 0x40)]), ("outer_ln", [(5, 0x10), (6, 0x40)]),
                       ("leaf_file", [(0, 0x8), (1, 0x10), (0, 0x20)]),
                       ("leaf_ln", [(10, 0x8), (20, 0x10), (10, 0x20)]),
                       ("leaf_inl", [(-1, 0x8), (0, 0x10), (-1, 0x20)])):
        tabs[key] = len(pctab)
        pctab += pcvalue(pairs)
    hdr_size = 64 if ver == 116 else 72
    funcname_off = hdr_size
    cu_off = funcname_off + len(names)
    file_off = cu_off + len(cutab)
    pctab_off = file_off + len(files)
    pcln_off = pctab_off + len(pctab)
    pcln_off += (-pcln_off) % 8
    funcs = [("main.outer", 0x00, tabs["outer_file"], tabs["outer_ln"], None),
             ("main.leaf", 0x40, tabs["leaf_file"], tabs["leaf_ln"], tabs["leaf_inl"]),
             ("main.tail", 0x60, 0, 0, None)]
    ent = 16 if ver == 116 else 8
    ftab_size = (len(funcs) + 1) * ent
    # _func records after the functab; the inline tree after them.
    recs, funcoffs = b"", []
    tree_at = None
    fixups = []
    for name, entry, pf, pl, inl in funcs:
        funcoffs.append(ftab_size + len(recs))
        npcdata = 3 if inl is not None else 0
        nfuncdata = 4 if inl is not None else 0
        fields = struct.pack("<iiIIIIII", nameoff[name], 0, 0, 0, pf, pl, npcdata, 0)
        if ver == 116:
            rec = struct.pack("<Q", TEXT + entry) + fields + bytes([0, 0, 0, nfuncdata])
        elif ver == 118:
            rec = struct.pack("<I", entry) + fields + bytes([0, 0, 0, nfuncdata])
        else:
            rec = struct.pack("<I", entry) + fields + struct.pack("<i", 1) + \
                bytes([0, 0, 0, nfuncdata])
        if inl is not None:
            rec += struct.pack("<III", 0, 0, inl)
            if ver == 116:
                here = VADDR + pcln_off + funcoffs[-1] + len(rec)
                if here & 4:
                    rec += b"\0" * 4
                fixups.append((len(recs) + len(rec) + 24, 8))
                rec += b"\0" * 32
            else:
                fixups.append((len(recs) + len(rec) + 12, 4))
                rec += struct.pack("<III", 0xffffffff, 0xffffffff, 0xffffffff) + b"\0" * 4
        rec += b"\0" * ((-len(rec)) % 8)
        recs += rec
    tree_at = pcln_off + ftab_size + len(recs)
    if ver == 120:
        tree = struct.pack("<BxxxiiI", 0, nameoff["main.inner"], 0x4, 19)
    else:
        tree = struct.pack("<hBxiiii", -1, 0, 1, 10, nameoff["main.inner"], 0x4)
    recs = bytearray(recs)
    for off, size in fixups:
        if size == 8:
            recs[off:off + 8] = struct.pack("<Q", VADDR + tree_at)
        else:
            recs[off:off + 4] = struct.pack("<I", tree_at)
    ftab = b""
    for (name, entry, *_), fo in zip(funcs, funcoffs):
        ftab += struct.pack("<QQ", TEXT + entry, fo) if ver == 116 else struct.pack("<II", entry, fo)
    ftab += struct.pack("<QQ", TEXT + 0x70, 0) if ver == 116 else struct.pack("<II", 0x70, 0)
    hdr = struct.pack("<IBBBBQQ", MAGIC[ver], 0, 0, 1, 8, len(funcs), 2)
    if ver != 116:
        hdr += struct.pack("<Q", TEXT)
    hdr += struct.pack("<QQQQQ", funcname_off, cu_off, file_off, pctab_off, pcln_off)
    body = hdr + names + cutab + files + pctab
    body += b"\0" * (pcln_off - len(body))
    return body + ftab + bytes(recs) + tree, pcln_off, tree_at


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    seeds = {}
    for ver in (116, 118, 120):
        data, pcln_off, tree_at = build(ver)
        seeds["seed-v%d" % ver] = data
        seeds["seed-v%d-cut" % ver] = data[:len(data) * 2 // 3]
        seeds["seed-v%d-hdr" % ver] = data[:72]
        bad = bytearray(data)
        bad[0] ^= 0x0f
        seeds["seed-v%d-magic" % ver] = bytes(bad)
        bad = bytearray(data)
        bad[-20:] = b"\xff" * 20
        seeds["seed-v%d-tail" % ver] = bytes(bad)
        if ver != 116:
            # functab out of order, and an inline tree whose parentPc
            # leads back into the inlined range (a cycle).
            bad = bytearray(data)
            bad[pcln_off:pcln_off + 4] = struct.pack("<I", 0x50)
            seeds["seed-v%d-order" % ver] = bytes(bad)
            bad = bytearray(data)
            at = tree_at + (8 if ver == 120 else 16)
            bad[at:at + 4] = struct.pack("<I", 0x8)
            seeds["seed-v%d-cycle" % ver] = bytes(bad)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
