#!/usr/bin/env python3
"""Writes data/fixtures/png/gray-filters-28x28.png: an 8-bit greyscale 28×28 PNG whose rows use
the five PNG filter types in turn (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth), encoded here from
the PNG specification with the standard library only (zlib, struct), independently of lpom.
Pixel (y, x) = (7·x + 11·y + x·y) mod 256 — the decoder test recomputes it.
"""
import struct, sys, zlib

W = H = 28
pix = [[(7 * x + 11 * y + x * y) % 256 for x in range(W)] for y in range(H)]


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


raw = bytearray()
for y in range(H):
    f = y % 5
    raw.append(f)
    for x in range(W):
        a = pix[y][x - 1] if x > 0 else 0
        b = pix[y - 1][x] if y > 0 else 0
        c = pix[y - 1][x - 1] if x > 0 and y > 0 else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][f]
        raw.append((pix[y][x] - pred) % 256)


def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)


png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 0, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
open(sys.argv[1] if len(sys.argv) > 1 else "data/fixtures/png/gray-filters-28x28.png", "wb").write(png)
