#!/usr/bin/env python3
"""Write the golden PNG files data/fixtures/png/{gray-5x3,rgb-3x2}.png, independently of the
Swift encoder (Sources/lpom/ImageGrid.swift, `PNG.encode`).

The PNG is assembled from the specification (PNG 1.2 / ISO 15948: signature, IHDR, IDAT,
IEND, each chunk length + type + data + CRC-32) with Python's struct, zlib.crc32 and
zlib.compress at level 0 — which writes a zlib stream of stored deflate blocks, the form the
Swift encoder writes, so the files must agree byte for byte (zlib stores at most 65531 bytes per
block, so the golden images are kept small). Each scanline has filter type 0. The pixel
patterns are the ones `PNGTests` encodes:

    grey  5×3:  v(x, y) = (37x + 91y + 11) mod 256
    RGB   3×2:  (r, g, b)(x, y) = ((50x + 20y) mod 256, (200 − 30x) mod 256, (7xy + 128) mod 256)

Standard library only. Run from the repository root: python3 scripts/make_golden_png.py
"""
import os
import struct
import zlib


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(width, height, channels, pixel):
    colour_type = {1: 0, 3: 2}[channels]
    raw = b"".join(b"\x00" + bytes(v for x in range(width) for v in pixel(x, y)) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 0))
            + chunk(b"IEND", b""))


def main():
    out = os.path.join("data", "fixtures", "png")
    os.makedirs(out, exist_ok=True)
    files = {
        "gray-5x3.png": png(5, 3, 1, lambda x, y: [(37 * x + 91 * y + 11) % 256]),
        "rgb-3x2.png": png(3, 2, 3, lambda x, y: [(50 * x + 20 * y) % 256, (200 - 30 * x) % 256,
                                                  (7 * x * y + 128) % 256]),
    }
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(f"{os.path.join(out, name)}: {len(data)} bytes")


if __name__ == "__main__":
    main()
