#!/usr/bin/env python3
"""Draws the web space's icons (wwwroot/img/*.png and wwwroot/favicon.ico) from the same design as
wwwroot/img/icon.svg: a green rounded square with a white « F ». Standard library only; the output is
committed, run again only to change the design: python3 Scripts/draw-icons.py (from services/web)."""
import os
import struct
import zlib

GREEN = (0x0B, 0x6E, 0x4F)
WHITE = (0xFF, 0xFF, 0xFF)
# On the SVG's 96-unit grid: the square's corner radius and the F's three bars (x0, y0, x1, y1).
RADIUS = 20
BARS = [(30, 20, 43, 76), (30, 20, 68, 32), (30, 42, 62, 54)]
SAMPLES = 4  # per pixel side: anti-aliased edges


def inside_square(x, y, full=False):
    size = 96
    r = 0 if full else RADIUS
    cx = min(max(x, r), size - r)
    cy = min(max(y, r), size - r)
    return 0 <= x <= size and 0 <= y <= size and (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def pixel(px, py, size, full):
    square = letter = 0
    for sy in range(SAMPLES):
        for sx in range(SAMPLES):
            x = (px + (sx + 0.5) / SAMPLES) * 96 / size
            y = (py + (sy + 0.5) / SAMPLES) * 96 / size
            if inside_square(x, y, full):
                square += 1
                if any(x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in BARS):
                    letter += 1
    n = SAMPLES * SAMPLES
    if square == 0:
        return (0, 0, 0, 0)
    w = letter / square
    rgb = tuple(round(g * (1 - w) + c * w) for g, c in zip(GREEN, WHITE))
    return rgb + (round(255 * square / n),)


def png(size, full=False):
    rows = b"".join(b"\x00" + bytes(v for px in range(size) for v in pixel(px, py, size, full)) for py in range(size))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def ico(images):
    """An .ico holding PNG images (every browser of the last decade reads them)."""
    offset = 6 + 16 * len(images)
    entries = data = b""
    for size, image in images:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(image), offset)
        data += image
        offset += len(image)
    return struct.pack("<HHH", 0, 1, len(images)) + entries + data


root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "wwwroot")
small = {size: png(size) for size in (16, 32)}
outputs = {
    "img/favicon-16.png": small[16],
    "img/favicon-32.png": small[32],
    # iOS rounds the corners itself and shows transparency as black: a full square.
    "img/apple-touch-icon.png": png(180, full=True),
    "img/icon-192.png": png(192),
    "img/icon-512.png": png(512),
    "favicon.ico": ico([(16, small[16]), (32, small[32])]),
}
for name, content in outputs.items():
    with open(os.path.join(root, name), "wb") as f:
        f.write(content)
    print(name, len(content), "bytes")
