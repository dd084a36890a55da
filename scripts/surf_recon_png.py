#!/usr/bin/env python3
"""Targets above reconstructions, as a PNG, from the HDF5 files `lpom surf --save` writes.

    python3 scripts/surf_recon_png.py OUT.png SAVE.h5 [SAVE.h5 ...] [--columns 10] [--scale 3]

Row 1: the targets y of the first trials (the first --columns, in trial order: no choosing);
then one row per file: G(x̂), the generator's image of what that run found. Several files must
hold the same targets (the same trials, e.g. regular Adam's and surfing's runs on the same seed):
a file with other targets is refused. Pixels are clipped to [0, 1] for display; rows are
separated by a grey line. Prints, per file, the RMSE per pixel of the columns shown and of all
trials, for a caption.

Made for the sweep's compressed sensing of test images (the paper's Fig. 4; scripts/surf_paper_table.sh,
unit cs_real), which renders each run as it finishes, before the run's HDF5 (out of git) is lost
with the machine. Needs h5py and numpy.
"""
import argparse
import math
import os
import struct
import sys
import zlib

try:
    import h5py
    import numpy as np
except ImportError:
    h5py = None

MAX_TRIALS = 1_000_000      # sizes read from a file are checked before anything is built from them
MAX_SIDE = 256


def fail(msg):
    sys.exit(f"surf_recon_png: {msg}")


def read(path):
    """(targets, generated, rmse, side) of one --save file, each checked."""
    try:
        f = h5py.File(path, "r")
    except (OSError, ValueError) as e:
        fail(f"{path}: not a readable HDF5 file ({e.__class__.__name__})")
    with f:
        for name in ("targets", "generated", "rmse"):
            if name not in f or not isinstance(f[name], h5py.Dataset):
                fail(f"{path}: no dataset '{name}' (is it a file `lpom surf --save` wrote?)")
        t, g, r = f["targets"], f["generated"], f["rmse"]
        if len(t.shape) != 2 or t.shape != g.shape or r.shape != (t.shape[0],):
            fail(f"{path}: targets {t.shape}, generated {g.shape}, rmse {r.shape}: not n × pixels, n × pixels, n")
        n, size = t.shape
        side = math.isqrt(size)
        if not (1 <= n <= MAX_TRIALS) or side * side != size or not (1 <= side <= MAX_SIDE):
            fail(f"{path}: {n} trials of {size} pixels: not a square image of at most {MAX_SIDE}² pixels")
        targets, generated, rmse = (np.asarray(d[...], dtype=np.float64) for d in (t, g, r))
    if not (np.isfinite(targets).all() and np.isfinite(generated).all()):
        fail(f"{path}: NaN or infinite pixels")
    return targets, generated, rmse, side


def png(path, pixels):
    """An 8-bit greyscale PNG of pixels (a 2-D uint8 array)."""
    h, w = pixels.shape
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    tmp = f"{path}.{os.getpid()}.tmp"      # whole or not at all (another stream may draw it too)
    with open(tmp, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    os.replace(tmp, path)


GAP, GREY = 2, 128


def layout(rows, side, scale):
    """Rows of images (each a list of flat pixel arrays in [0, 1]) as one uint8 picture: a GAP-wide
    grey line around and between the images, each pixel a scale × scale block."""
    cols = len(rows[0])
    cell = side * scale
    out = np.full((len(rows) * cell + (len(rows) + 1) * GAP, cols * cell + (cols + 1) * GAP), GREY, np.uint8)
    for r, images in enumerate(rows):
        for c, img in enumerate(images):
            y0, x0 = GAP + r * (cell + GAP), GAP + c * (cell + GAP)
            block = np.rint(255 * np.clip(np.asarray(img).reshape(side, side), 0, 1)).astype(np.uint8)
            out[y0:y0 + cell, x0:x0 + cell] = np.kron(block, np.ones((scale, scale), np.uint8))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="the PNG to write")
    p.add_argument("saves", nargs="+", help="HDF5 files written by `lpom surf --save` (one row each)")
    p.add_argument("--columns", type=int, default=10, help="trials shown: the first N (default 10)")
    p.add_argument("--scale", type=int, default=3, help="each pixel as an N×N block (default 3)")
    a = p.parse_args(argv)
    if h5py is None:
        fail("needs h5py and numpy")
    if not a.out.endswith(".png"):
        fail(f"writes a .png, got '{a.out}'")
    if not (1 <= a.columns <= 100) or not (1 <= a.scale <= 16):
        fail("--columns must be in 1…100 and --scale in 1…16")
    runs = [read(s) for s in a.saves]
    targets, _, _, side = runs[0]
    for s, (t, _, _, sd) in zip(a.saves[1:], runs[1:]):
        if sd != side or t.shape != targets.shape or (t != targets).any():
            fail(f"{s}: not the same targets as {a.saves[0]} (another seed, target set or trial range?)")
    cols = min(a.columns, targets.shape[0])
    rows = [list(targets[:cols])] + [list(g[:cols]) for _, g, _, _ in runs]
    png(a.out, layout(rows, side, a.scale))
    print(f"{a.out}: targets (row 1) and {len(runs)} reconstruction row(s) of trials 0–{cols - 1}")
    for s, (_, _, r, _) in zip(a.saves, runs):
        shown = ", ".join(f"{x:.3f}" for x in r[:cols])
        print(f"  {s}: RMSE per pixel {shown} (mean of these {r[:cols].mean():.4f}; of all {len(r)} trials {r.mean():.4f})")


if __name__ == "__main__":
    main()
