#!/usr/bin/env python3
"""Writes a zip file that contains itself: its one entry, deflated, is the
whole zip file, byte for byte (tests/issue16.rs opens it).

Deflate is a small language of two instructions: print the next n bytes
(a stored block) and repeat n bytes from d bytes back (a copy in a
fixed-Huffman block). Every instruction here is encoded in exactly U bytes,
so a program can print and repeat instructions as data. The program below
prints the zip's header P, then itself, then the zip's trailer S:

    L[p+1] P L[p+1]      prints P L[p+1]
    R[p+1]               prints P L[p+1] again
    L1 R[p+1]            prints R[p+1]
    L1 L1                prints L1
    L4 R[p+1] L1 L1 L4   prints R[p+1] L1 L1 L4
    R4                   prints R[p+1] L1 L1 L4 again
    L4 R4 L4 R4 L4       prints R4 L4 R4 L4
    R4                   prints R4 L4 R4 L4 again
    L4 R4 L0 L0 L[s+1]   prints R4 L0 L0 L[s+1]
    R4                   prints R4 L0 L0 L[s+1] again
    L0 L0                print nothing
    L[s+1] R[s+1] S      prints R[s+1] S
    R[s+1]               prints R[s+1] S again (the last block)

where Ln prints the next n units and Rn repeats the last n units printed
(p and s are P's and S's lengths in units). The entry's CRC-32 is of the
whole file, which holds it four times: CRC-32 is affine over GF(2), so the
value that is its own checksum is found by solving 32 linear equations.

Usage: zip_quine.py OUT
"""
import struct
import sys
import zlib

U = 15  # bytes per instruction
NAME = b"r/zip-quine.zip"  # P = 30 + len(NAME) = 3 units
COMMENT = b"quine!!"  # S = 46 + len(NAME) + 22 + len(COMMENT) = 6 units


class Bits:
    """A little-endian bit writer (deflate's bit order)."""

    def __init__(self):
        self.bits = []

    def put(self, value, n):
        for i in range(n):
            self.bits.append((value >> i) & 1)

    def put_huffman(self, code, n):
        # Huffman codes are written most significant bit first.
        for i in reversed(range(n)):
            self.bits.append((code >> i) & 1)

    def align(self):
        while len(self.bits) % 8:
            self.bits.append(0)

    def bytes(self):
        assert len(self.bits) % 8 == 0
        out = bytearray()
        for i in range(0, len(self.bits), 8):
            out.append(sum(b << j for j, b in enumerate(self.bits[i : i + 8])))
        return bytes(out)


def stored(n, final=False):
    """An empty-headed stored block announcing n bytes (byte-aligned)."""
    return bytes([1 if final else 0]) + struct.pack("<HH", n, n ^ 0xFFFF)


def literal(units):
    """Ln: two empty stored blocks, then one announcing n units: U bytes."""
    out = stored(0) * (U // 5 - 1) + stored(units * U)
    assert len(out) == U
    return out


LENGTHS = [  # (code, first length, extra bits)
    (257, 3, 0), (258, 4, 0), (259, 5, 0), (260, 6, 0), (261, 7, 0),
    (262, 8, 0), (263, 9, 0), (264, 10, 0), (265, 11, 1), (266, 13, 1),
    (267, 15, 1), (268, 17, 1), (269, 19, 2), (270, 23, 2), (271, 27, 2),
    (272, 31, 2), (273, 35, 3), (274, 43, 3), (275, 51, 3), (276, 59, 3),
    (277, 67, 4), (278, 83, 4), (279, 99, 4), (280, 115, 4), (281, 131, 5),
    (282, 163, 5), (283, 195, 5), (284, 227, 5), (285, 258, 0),
]
DISTANCES = [  # (code, first distance, extra bits)
    (0, 1, 0), (1, 2, 0), (2, 3, 0), (3, 4, 0), (4, 5, 1), (5, 7, 1),
    (6, 9, 2), (7, 13, 2), (8, 17, 3), (9, 25, 3), (10, 33, 4), (11, 49, 4),
    (12, 65, 5), (13, 97, 5), (14, 129, 6), (15, 193, 6), (16, 257, 7),
    (17, 385, 7), (18, 513, 8), (19, 769, 8),
]


def pick(table, value):
    return [t for t in table if t[1] <= value][-1]


def put_length(b, n):
    code, base, extra = pick(LENGTHS, n)
    if code == 285:
        base, extra = 258, 0
    if code <= 279:
        b.put_huffman(code - 256, 7)
    else:
        b.put_huffman(0xC0 + code - 280, 8)
    b.put(n - base, extra)


def put_distance(b, d):
    code, base, extra = pick(DISTANCES, d)
    b.put_huffman(code, 5)
    b.put(d - base, extra)


def repeat_with(chunks, dist, final):
    b = Bits()
    b.put(0, 1)  # not the last block
    b.put(1, 2)  # fixed Huffman codes
    for n in chunks:
        put_length(b, n)
        put_distance(b, dist)
    b.put_huffman(0, 7)  # end of block
    # Back to a byte boundary: an empty stored block (the last one when
    # `final`).
    b.put(1 if final else 0, 1)
    b.put(0, 2)
    b.align()
    return b.bytes() + struct.pack("<HH", 0, 0xFFFF)


def repeat(units, final=False):
    """Rn: one copy of n units from n units back, split into chunks so that
    the block is exactly U bytes."""
    total = units * U
    for parts in range(1, 8):
        for first in range(3, 259):
            rest = total - first
            if parts == 1:
                chunks = [total] if first == total else None
            else:
                each, extra = divmod(rest, parts - 1)
                if each < 3 or each + 1 > 258:
                    continue
                chunks = [first] + [each + (1 if i < extra else 0) for i in range(parts - 1)]
            if chunks is None or max(chunks) > 258:
                continue
            out = repeat_with(chunks, total, final)
            if len(out) == U:
                return out
    raise SystemExit(f"no {U}-byte encoding of R{units}")


def build(crc):
    name_len = len(NAME)
    p_len = 30 + name_len
    s_len = 46 + name_len + 22 + len(COMMENT)
    assert p_len % U == 0 and s_len % U == 0, (p_len, s_len)
    p, s = p_len // U, s_len // U
    L, R = literal, repeat
    # The program as units; the headers need its length first.
    def program(P, S):
        return [
            L(p + 1), P, L(p + 1),
            R(p + 1),
            L(1), R(p + 1),
            L(1), L(1),
            L(4), R(p + 1), L(1), L(1), L(4),
            R(4),
            L(4), R(4), L(4), R(4), L(4),
            R(4),
            L(4), R(4), L(0), L(0), L(s + 1),
            R(4),
            L(0), L(0),
            L(s + 1), R(s + 1, final=True), S,
            R(s + 1, final=True),
        ]

    code_len = sum(len(x) for x in program(b"\0" * p_len, b"\0" * s_len))
    total = p_len + code_len + s_len
    dos_time, dos_date = 0, 0x21  # 1980-01-01
    P = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, dos_time, dos_date,
        crc, code_len, total, name_len, 0,
    ) + NAME
    S = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, dos_time, dos_date,
        crc, code_len, total, name_len, 0, 0, 0, 0, 0, 0,
    ) + NAME + struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, 46 + name_len, p_len + code_len, len(COMMENT),
    ) + COMMENT
    assert len(P) == p_len and len(S) == s_len
    return P + b"".join(program(P, S)) + S


def own_crc():
    """The x for which crc32(build(x)) == x."""
    base = zlib.crc32(build(0))
    # crc32(build(x)) = base ^ M x (linear in x): M's columns.
    cols = [zlib.crc32(build(1 << i)) ^ base for i in range(32)]
    # Solve (M + I) x = base over GF(2).
    rows = []
    for r in range(32):
        bits = 0
        for c in range(32):
            if ((cols[c] >> r) & 1) ^ (1 if r == c else 0):
                bits |= 1 << c
        rows.append([bits, (base >> r) & 1])
    x_col = {}
    rank = 0
    for c in range(32):
        pivot = next((i for i in range(rank, 32) if (rows[i][0] >> c) & 1), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(32):
            if i != rank and (rows[i][0] >> c) & 1:
                rows[i][0] ^= rows[rank][0]
                rows[i][1] ^= rows[rank][1]
        x_col[c] = rank
        rank += 1
    if any(r[0] == 0 and r[1] for r in rows):
        raise SystemExit("no CRC-32 fixed point for this layout")
    x = 0
    for c, r in x_col.items():
        if rows[r][1]:
            x |= 1 << c
    return x


def main():
    crc = own_crc()
    data = build(crc)
    assert zlib.crc32(data) == crc
    start = 30 + len(NAME)
    code_len = len(data) - start - (46 + len(NAME) + 22 + len(COMMENT))
    assert zlib.decompressobj(-15).decompress(data[start : start + code_len]) == data
    with open(sys.argv[1], "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
