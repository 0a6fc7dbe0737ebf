#!/usr/bin/env python3
"""Draws the example shop's product and hero images.

Standard library only: shapes are filled scanline by scanline into RGB rows and written as
PNG with zlib + struct. Flat colours and the PNG "Sub" filter keep every file small.
Deterministic: no randomness, so the same script always writes the same bytes.

    python3 example-shop/tools/make_images.py        # from the repository root

Flat products get static/images/SLUG.png; bundles get products/SLUG/photo.png.
"""

import math
import os
import struct
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def hexc(s):
    s = s.lstrip("#")
    return bytes(int(s[i : i + 2], 16) for i in (0, 2, 4))


def mix(a, b, t):
    return bytes(round(a[i] + (b[i] - a[i]) * t) for i in range(3))


class Canvas:
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.rows = [bytearray(w * 3) for _ in range(h)]

    def span(self, y, x0, x1, c):
        if y < 0 or y >= self.h:
            return
        x0 = max(0, int(round(x0)))
        x1 = min(self.w, int(round(x1)))
        if x1 > x0:
            self.rows[y][x0 * 3 : x1 * 3] = c * (x1 - x0)

    def bands(self, top, bottom, n):
        """Vertical gradient quantized into n flat bands (poster look, compresses well)."""
        for y in range(self.h):
            k = min(n - 1, y * n // self.h)
            self.span(y, 0, self.w, mix(top, bottom, k / max(1, n - 1)))

    def rect(self, x0, y0, x1, y1, c):
        for y in range(max(0, int(y0)), min(self.h, int(y1))):
            self.span(y, x0, x1, c)

    def poly(self, contours, c):
        """Even-odd fill of one or more closed contours (so rings and holes work)."""
        if contours and isinstance(contours[0][0], (int, float)):
            contours = [contours]
        edges = []
        ys = []
        for pts in contours:
            n = len(pts)
            for i in range(n):
                (xa, ya), (xb, yb) = pts[i], pts[(i + 1) % n]
                if ya != yb:
                    edges.append((xa, ya, xb, yb))
                ys.append(ya)
        if not edges:
            return
        y0 = max(0, int(math.floor(min(ys))))
        y1 = min(self.h, int(math.ceil(max(ys))) + 1)
        for y in range(y0, y1):
            yc = y + 0.5
            xs = []
            for xa, ya, xb, yb in edges:
                if (ya <= yc < yb) or (yb <= yc < ya):
                    xs.append(xa + (yc - ya) * (xb - xa) / (yb - ya))
            xs.sort()
            for i in range(0, len(xs) - 1, 2):
                self.span(y, xs[i], xs[i + 1], c)

    def ellipse(self, cx, cy, rx, ry, c, rot=0.0):
        self.poly(ell(cx, cy, rx, ry, rot), c)

    def ring(self, cx, cy, rx, ry, t, c, rot=0.0):
        self.poly([ell(cx, cy, rx, ry, rot), ell(cx, cy, rx - t, ry - t, rot)], c)

    def rrect(self, x0, y0, x1, y1, r, c):
        self.poly(rrect_pts(x0, y0, x1, y1, r), c)

    def png(self):
        raw = bytearray()
        for row in self.rows:
            raw.append(1)  # Sub filter
            prev = (0, 0, 0)
            out = bytearray(len(row))
            for i in range(0, len(row), 3):
                r, g, b = row[i], row[i + 1], row[i + 2]
                out[i] = (r - prev[0]) & 255
                out[i + 1] = (g - prev[1]) & 255
                out[i + 2] = (b - prev[2]) & 255
                prev = (r, g, b)
            raw += out

        def chunk(kind, data):
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + chunk(b"IEND", b"")
        )


def ell(cx, cy, rx, ry, rot=0.0, n=72):
    cr, sr = math.cos(rot), math.sin(rot)
    pts = []
    for i in range(n):
        a = 2 * math.pi * i / n
        x, y = rx * math.cos(a), ry * math.sin(a)
        pts.append((cx + x * cr - y * sr, cy + x * sr + y * cr))
    return pts


def rrect_pts(x0, y0, x1, y1, r):
    r = min(r, (x1 - x0) / 2, (y1 - y0) / 2)
    pts = []
    for cx, cy, a0 in ((x1 - r, y0 + r, -90), (x1 - r, y1 - r, 0), (x0 + r, y1 - r, 90), (x0 + r, y0 + r, 180)):
        for k in range(7):
            a = math.radians(a0 + 15 * k)
            pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return pts


def tf(pts, cx, cy, s, rot=0.0):
    """Scale unit-space points by s, rotate, and move to (cx, cy)."""
    cr, sr = math.cos(rot), math.sin(rot)
    return [(cx + (x * cr - y * sr) * s, cy + (x * sr + y * cr) * s) for x, y in pts]


# Palettes per category: background top, background bottom, sun, main shades, accent, dark, light.
PALETTES = {
    "shoes": ("#dbeee6", "#9cc9b8", "#f6f1d9", ["#e4572e", "#2e6f95", "#3c8d5a"], "#f3c969", "#263238", "#f7f7f2"),
    "outerwear": ("#dfe6f0", "#9fb2cc", "#f4efe1", ["#c0392b", "#3d5a80", "#6b8f71"], "#ee9b00", "#1d2731", "#f4f4f0"),
    "packs": ("#f5e9cf", "#d9b77a", "#fff7e3", ["#4a6d7c", "#8d5b4c", "#2f5d50"], "#e9c46a", "#2b2d2f", "#fbf6ea"),
    "cookware": ("#f6e3d8", "#dba58a", "#fff3e8", ["#2f3e46", "#b5523b", "#3a7d7c"], "#f2cc8f", "#1f1f1f", "#fdfaf6"),
    "knives": ("#e7e9ea", "#aeb7bb", "#f6f6f2", ["#5d4037", "#37474f", "#8d6e63"], "#cfd8dc", "#212121", "#eceff1"),
    "tools": ("#f3ecd6", "#cdb77a", "#fff9e6", ["#c44536", "#283d3b", "#197278"], "#b08968", "#1b1b1b", "#f7f3e8"),
    "garden": ("#e3f0d9", "#a7c98f", "#fbf7da", ["#2d6a4f", "#bc6c25", "#6a994e"], "#f4a261", "#1b3a2b", "#f6fbf2"),
}


# ---- silhouettes, drawn around (cx, cy) at scale s (unit ~ 100 px at s=1) ------------------

def shoe(c, cx, cy, s, p, v, high=False, low=False):
    main, acc, dark, light = p[3][v % 3], p[4], p[5], p[6]
    top = -0.95 if high else (-0.45 if low else -0.62)
    body = [(-1.3, 0.25), (-1.3, top), (-0.75, top - 0.05), (-0.45, -0.2), (0.3, -0.12), (1.05, 0.0), (1.35, 0.2), (1.35, 0.3), (-1.3, 0.3)]
    c.poly(tf(body, cx, cy, s * 100), main)
    sole = [(-1.38, 0.28), (1.42, 0.28), (1.45, 0.42), (-1.38, 0.42)]
    c.poly(tf(sole, cx, cy, s * 100), light if low else dark)
    if not low:
        c.poly(tf([(-1.38, 0.42), (1.45, 0.42), (1.4, 0.48), (-1.35, 0.48)], cx, cy, s * 100), acc)
    for k in range(4 if high else 3):
        x = -0.55 + 0.2 * k
        y = -0.18 - (0.12 * (3 - k) if high else 0)
        c.rect(cx + (x - 0.07) * s * 100, cy + (y - 0.03) * s * 100, cx + (x + 0.09) * s * 100, cy + (y + 0.02) * s * 100, light)
    c.poly(tf([(-1.3, 0.0), (-0.9, 0.05), (-0.9, 0.2), (-1.3, 0.2)], cx, cy, s * 100), acc)


def jacket(c, cx, cy, s, p, v, sleeves=True, hood=False, quilt=False):
    main, acc, dark, light = p[3][v % 3], p[4], p[5], p[6]
    u = s * 100
    if sleeves:
        c.poly(tf([(-0.7, -0.85), (-1.15, -0.5), (-1.35, 0.85), (-1.0, 0.9), (-0.75, -0.1)], cx, cy, u), mix(main, dark, 0.2))
        c.poly(tf([(0.7, -0.85), (1.15, -0.5), (1.35, 0.85), (1.0, 0.9), (0.75, -0.1)], cx, cy, u), mix(main, dark, 0.2))
    if hood:
        c.ellipse(cx, cy - 0.95 * u, 0.42 * u, 0.32 * u, mix(main, dark, 0.3))
    c.poly(tf([(-0.75, -0.9), (-0.25, -1.0), (0.0, -0.75), (0.25, -1.0), (0.75, -0.9), (0.8, 1.0), (-0.8, 1.0)], cx, cy, u), main)
    c.rect(cx - 0.02 * u, cy - 0.78 * u, cx + 0.03 * u, cy + 1.0 * u, dark)
    c.poly(tf([(-0.25, -1.0), (0.0, -0.75), (-0.1, -0.62), (-0.35, -0.92)], cx, cy, u), acc)
    c.poly(tf([(0.25, -1.0), (0.0, -0.75), (0.1, -0.62), (0.35, -0.92)], cx, cy, u), acc)
    if quilt:
        for k in range(5):
            y = -0.5 + 0.32 * k
            c.rect(cx - 0.78 * u, cy + y * u, cx + 0.78 * u, cy + (y + 0.025) * u, mix(main, light, 0.35))
    else:
        c.rect(cx - 0.6 * u, cy + 0.35 * u, cx - 0.25 * u, cy + 0.38 * u, dark)
        c.rect(cx + 0.25 * u, cy + 0.35 * u, cx + 0.6 * u, cy + 0.38 * u, dark)


def backpack(c, cx, cy, s, p, v, hip=False, tote=False):
    main, acc, dark, light = p[3][v % 3], p[4], p[5], p[6]
    u = s * 100
    if hip:
        c.rect(cx - 1.5 * u, cy - 0.05 * u, cx + 1.5 * u, cy + 0.08 * u, dark)
        c.rrect(cx - 0.9 * u, cy - 0.45 * u, cx + 0.9 * u, cy + 0.45 * u, 0.35 * u, main)
        c.rect(cx - 0.75 * u, cy - 0.12 * u, cx + 0.75 * u, cy - 0.08 * u, light)
        c.rrect(cx - 0.5 * u, cy + 0.0 * u, cx + 0.5 * u, cy + 0.3 * u, 0.1 * u, mix(main, dark, 0.2))
        return
    if tote:
        c.ring(cx - 0.35 * u, cy - 0.55 * u, 0.25 * u, 0.55 * u, 0.07 * u, dark)
        c.ring(cx + 0.35 * u, cy - 0.55 * u, 0.25 * u, 0.55 * u, 0.07 * u, dark)
        c.poly(tf([(-0.95, -0.4), (0.95, -0.4), (0.8, 1.0), (-0.8, 1.0)], cx, cy, u), main)
        c.rect(cx - 0.9 * u, cy - 0.1 * u, cx + 0.9 * u, cy + 0.05 * u, acc)
        return
    c.rrect(cx - 0.95 * u, cy - 0.7 * u, cx - 0.75 * u, cy + 0.6 * u, 0.08 * u, dark)
    c.rrect(cx + 0.75 * u, cy - 0.7 * u, cx + 0.95 * u, cy + 0.6 * u, 0.08 * u, dark)
    c.ring(cx, cy - 1.0 * u, 0.18 * u, 0.14 * u, 0.05 * u, dark)
    c.rrect(cx - 0.8 * u, cy - 1.0 * u, cx + 0.8 * u, cy + 1.05 * u, 0.35 * u, main)
    c.rrect(cx - 0.82 * u, cy - 1.02 * u, cx + 0.82 * u, cy - 0.45 * u, 0.3 * u, mix(main, dark, 0.25))
    c.rrect(cx - 0.55 * u, cy + 0.15 * u, cx + 0.55 * u, cy + 0.85 * u, 0.15 * u, mix(main, light, 0.2))
    c.rect(cx - 0.4 * u, cy + 0.3 * u, cx + 0.4 * u, cy + 0.34 * u, dark)
    c.rect(cx - 0.1 * u, cy - 0.55 * u, cx + 0.1 * u, cy - 0.3 * u, acc)


def cookware(c, cx, cy, s, p, v, kind):
    main, acc, dark, light = p[3][v % 3], p[4], p[5], p[6]
    u = s * 100
    if kind == "pan":
        c.poly(tf([(0.7, -0.08), (1.9, -0.16), (1.95, 0.0), (1.9, 0.16), (0.7, 0.08)], cx - 0.5 * u, cy, u), dark)
        c.ellipse(cx - 0.5 * u, cy, 1.0 * u, 1.0 * u, dark)
        c.ellipse(cx - 0.5 * u, cy, 0.85 * u, 0.85 * u, mix(dark, main, 0.35))
        c.ellipse(cx - 0.75 * u, cy - 0.25 * u, 0.25 * u, 0.12 * u, mix(dark, light, 0.2), rot=-0.6)
    elif kind == "pot":
        c.rrect(cx - 1.35 * u, cy - 0.35 * u, cx - 0.9 * u, cy - 0.15 * u, 0.08 * u, dark)
        c.rrect(cx + 0.9 * u, cy - 0.35 * u, cx + 1.35 * u, cy - 0.15 * u, 0.08 * u, dark)
        c.rrect(cx - 1.0 * u, cy - 0.5 * u, cx + 1.0 * u, cy + 0.75 * u, 0.3 * u, main)
        c.ellipse(cx, cy - 0.55 * u, 1.05 * u, 0.18 * u, mix(main, dark, 0.2))
        c.rrect(cx - 0.15 * u, cy - 0.9 * u, cx + 0.15 * u, cy - 0.62 * u, 0.08 * u, acc)
        c.rect(cx - 1.0 * u, cy + 0.2 * u, cx + 1.0 * u, cy + 0.26 * u, mix(main, light, 0.3))
    elif kind == "kettle":
        c.ring(cx, cy - 0.55 * u, 0.6 * u, 0.5 * u, 0.09 * u, dark)
        c.poly(tf([(0.6, 0.2), (1.3, -0.45), (1.4, -0.35), (0.75, 0.45)], cx, cy, u), main)
        c.ellipse(cx, cy + 0.2 * u, 0.95 * u, 0.7 * u, main)
        c.rect(cx - 0.95 * u, cy + 0.2 * u, cx + 0.95 * u, cy + 0.9 * u, main)
        c.ellipse(cx, cy - 0.42 * u, 0.35 * u, 0.1 * u, acc)
        c.rect(cx - 0.95 * u, cy + 0.55 * u, cx + 0.95 * u, cy + 0.6 * u, mix(main, light, 0.4))
    elif kind == "moka":
        c.ring(cx + 0.7 * u, cy - 0.3 * u, 0.35 * u, 0.4 * u, 0.1 * u, dark)
        c.poly(tf([(-0.55, -1.0), (0.55, -1.0), (0.7, 0.05), (-0.7, 0.05)], cx, cy, u), mix(light, dark, 0.35))
        c.poly(tf([(-0.7, 0.12), (0.7, 0.12), (0.55, 1.05), (-0.55, 1.05)], cx, cy, u), mix(light, dark, 0.45))
        c.rect(cx - 0.72 * u, cy + 0.03 * u, cx + 0.72 * u, cy + 0.14 * u, dark)
        c.poly(tf([(-0.55, -1.0), (-0.85, -0.85), (-0.55, -0.8)], cx, cy, u), mix(light, dark, 0.35))
        c.ellipse(cx, cy - 1.05 * u, 0.12 * u, 0.07 * u, main)
    elif kind == "mug":
        c.ring(cx + 0.75 * u, cy + 0.05 * u, 0.38 * u, 0.35 * u, 0.11 * u, mix(light, dark, 0.4))
        c.rrect(cx - 0.75 * u, cy - 0.75 * u, cx + 0.8 * u, cy + 0.8 * u, 0.12 * u, mix(light, dark, 0.3))
        c.ellipse(cx + 0.025 * u, cy - 0.75 * u, 0.775 * u, 0.12 * u, mix(light, dark, 0.55))
        c.rect(cx - 0.75 * u, cy - 0.2 * u, cx + 0.8 * u, cy + 0.25 * u, main)


def blade(c, cx, cy, s, p, v, kind):
    main, acc, dark, light = p[3][v % 3], p[4], p[5], p[6]
    u = s * 100
    steel = mix(light, dark, 0.25)
    if kind == "chef":
        c.poly(tf([(-0.3, -0.3), (1.7, -0.25), (2.0, -0.15), (1.6, 0.1), (0.9, 0.32), (-0.3, 0.35)], cx - 0.5 * u, cy, u), steel)
        c.poly(tf([(-0.3, -0.3), (1.7, -0.25), (2.0, -0.15), (1.7, -0.18), (-0.3, -0.22)], cx - 0.5 * u, cy, u), mix(steel, dark, 0.3))
        c.rrect(cx - 1.9 * u, cy - 0.2 * u, cx - 0.75 * u, cy + 0.14 * u, 0.1 * u, main)
        c.rect(cx - 0.8 * u, cy - 0.26 * u, cx - 0.68 * u, cy + 0.25 * u, dark)
        for x in (-1.6, -1.25, -0.95):
            c.ellipse(cx + x * u, cy - 0.03 * u, 0.05 * u, 0.05 * u, acc)
    elif kind == "folding":
        c.poly(tf([(0.0, -0.12), (1.3, -0.35), (1.55, -0.5), (1.35, -0.2), (0.05, 0.12)], cx - 0.2 * u, cy - 0.1 * u, u), steel)
        c.rrect(cx - 1.4 * u, cy - 0.22 * u, cx + 0.1 * u, cy + 0.22 * u, 0.2 * u, main)
        c.ellipse(cx - 0.05 * u, cy, 0.08 * u, 0.08 * u, acc)
        c.ellipse(cx - 1.2 * u, cy, 0.06 * u, 0.06 * u, acc)
    elif kind == "bread":
        c.poly(tf([(-0.5, -0.2), (1.9, -0.2), (2.05, -0.05), (1.9, 0.15), (-0.5, 0.15)], cx - 0.4 * u, cy, u), steel)
        for k in range(22):
            x = -0.45 + 0.105 * k
            c.poly(tf([(x, 0.15), (x + 0.05, 0.22), (x + 0.1, 0.15)], cx - 0.4 * u, cy, u), steel)
        c.rrect(cx - 2.1 * u, cy - 0.2 * u, cx - 0.85 * u, cy + 0.15 * u, 0.12 * u, main)
    elif kind == "stone":
        c.rrect(cx - 1.5 * u, cy + 0.25 * u, cx + 1.5 * u, cy + 0.6 * u, 0.08 * u, main)
        c.rect(cx - 1.3 * u, cy - 0.05 * u, cx + 1.3 * u, cy + 0.25 * u, hexc("#d9d3c7"))
        c.rect(cx - 1.3 * u, cy - 0.35 * u, cx + 1.3 * u, cy - 0.05 * u, hexc("#c95f3a"))
        c.rect(cx - 1.3 * u, cy - 0.05 * u, cx + 1.3 * u, cy - 0.02 * u, dark)


def tool(c, cx, cy, s, p, v, kind):
    main, acc, dark, light = p[3][v % 3], p[4], p[5], p[6]
    u = s * 100
    wood = hexc("#b08054")
    steel = mix(light, dark, 0.35)
    if kind == "hammer":
        c.poly(tf([(-0.12, -0.6), (0.12, -0.6), (0.16, 1.3), (-0.16, 1.3)], cx, cy, u, rot=0.35), main)
        head = [(-0.9, -1.0), (0.55, -1.0), (0.65, -0.9), (0.65, -0.55), (0.55, -0.45), (-0.2, -0.45), (-0.9, -0.62), (-1.1, -0.95)]
        c.poly(tf(head, cx, cy, u, rot=0.35), steel)
        c.poly(tf([(-0.16, 0.9), (0.16, 0.9), (0.17, 1.3), (-0.17, 1.3)], cx, cy, u, rot=0.35), dark)
    elif kind == "plane":
        c.poly(tf([(-1.4, 0.5), (-1.3, 0.05), (1.3, 0.05), (1.45, 0.5)], cx, cy, u), main)
        c.poly(tf([(-0.3, 0.1), (0.1, -0.75), (0.3, -0.7), (0.05, 0.1)], cx, cy, u), steel)
        c.ellipse(cx - 0.95 * u, cy - 0.15 * u, 0.22 * u, 0.25 * u, wood)
        c.poly(tf([(0.45, 0.05), (0.6, -0.5), (0.95, -0.55), (1.0, -0.35), (0.8, 0.05)], cx, cy, u), wood)
        c.rect(cx - 1.4 * u, cy + 0.5 * u, cx + 1.45 * u, cy + 0.56 * u, dark)
    elif kind == "chisel":
        for k, off in enumerate((-0.7, 0.0, 0.7)):
            w = 0.1 + 0.06 * k
            c.rrect(cx + (off - 0.17) * u, cy - 1.15 * u, cx + (off + 0.17) * u, cy - 0.1 * u, 0.12 * u, wood)
            c.rect(cx + (off - 0.19) * u, cy - 0.12 * u, cx + (off + 0.19) * u, cy - 0.0 * u, main)
            c.poly(tf([(off - w, 0.0), (off + w, 0.0), (off + w, 1.05), (off, 1.15), (off - w, 1.05)], cx, cy, u), steel)
    elif kind == "wrench":
        c.poly(tf([(-0.15, -0.5), (0.15, -0.5), (0.18, 1.3), (-0.18, 1.3)], cx, cy, u, rot=-0.5), steel)
        c.poly([tf(ell(0, -0.75, 0.45, 0.45, n=48), cx, cy, u, rot=-0.5), tf([(-0.15, -1.25), (0.15, -1.25), (0.15, -0.75), (-0.15, -0.75)], cx, cy, u, rot=-0.5)], steel)
        c.poly(tf([(-0.05, 0.2), (0.05, 0.2), (0.05, 1.1), (-0.05, 1.1)], cx, cy, u, rot=-0.5), main)


def garden(c, cx, cy, s, p, v, kind):
    main, acc, dark, light = p[3][v % 3], p[4], p[5], p[6]
    u = s * 100
    steel = mix(light, dark, 0.35)
    if kind == "trowel":
        c.poly(tf([(0.0, -1.3), (0.45, -0.7), (0.45, 0.0), (0.06, 0.25), (-0.06, 0.25), (-0.45, 0.0), (-0.45, -0.7)], cx, cy, u, rot=0.6), steel)
        c.poly(tf([(-0.05, 0.2), (0.05, 0.2), (0.05, 0.45), (-0.05, 0.45)], cx, cy, u, rot=0.6), dark)
        c.poly(tf(rrect_pts(-0.14, 0.45, 0.14, 1.35, 0.12), cx, cy, u, rot=0.6), main)
    elif kind == "can":
        c.ring(cx - 0.1 * u, cy - 0.55 * u, 0.75 * u, 0.55 * u, 0.09 * u, steel)
        c.poly(tf([(0.7, 0.2), (1.65, -0.75), (1.75, -0.65), (0.8, 0.45)], cx, cy, u), steel)
        c.ellipse(cx + 1.75 * u, cy - 0.75 * u, 0.15 * u, 0.2 * u, mix(steel, dark, 0.3), rot=-0.8)
        c.rrect(cx - 0.95 * u, cy - 0.4 * u, cx + 0.8 * u, cy + 0.9 * u, 0.12 * u, steel)
        c.rect(cx - 0.95 * u, cy + 0.1 * u, cx + 0.8 * u, cy + 0.16 * u, mix(steel, dark, 0.25))
        c.rect(cx - 0.95 * u, cy + 0.6 * u, cx + 0.8 * u, cy + 0.66 * u, mix(steel, dark, 0.25))
    elif kind == "pruner":
        c.poly(tf([(-0.12, -0.2), (0.12, -0.2), (0.35, 1.3), (0.05, 1.3)], cx, cy, u, rot=0.25), main)
        c.poly(tf([(-0.12, -0.2), (0.12, -0.2), (0.35, 1.3), (0.05, 1.3)], cx, cy, u, rot=-0.25), acc)
        c.poly(tf([(-0.12, -0.1), (-0.25, -0.8), (0.0, -1.2), (0.1, -0.9), (0.1, -0.1)], cx, cy, u, rot=0.15), steel)
        c.poly(tf([(0.12, -0.1), (0.2, -0.75), (0.05, -1.0), (-0.1, -0.1)], cx, cy, u, rot=-0.2), mix(steel, dark, 0.3))
        c.ellipse(cx, cy - 0.15 * u, 0.09 * u, 0.09 * u, dark)
    elif kind == "seeds":
        for k, (lx, ly, rot) in enumerate(((-0.3, -1.0, -0.7), (0.3, -1.05, 0.7), (0.0, -1.3, 0.0))):
            c.ellipse(cx + lx * u, cy + ly * u, 0.35 * u, 0.14 * u, mix(main, light, 0.15 * k), rot=rot)
        c.rect(cx - 0.03 * u, cy - 1.2 * u, cx + 0.03 * u, cy - 0.6 * u, main)
        c.rrect(cx - 0.75 * u, cy - 0.6 * u, cx + 0.75 * u, cy + 0.95 * u, 0.08 * u, hexc("#c9ced1"))
        c.rect(cx - 0.75 * u, cy - 0.2 * u, cx + 0.75 * u, cy + 0.55 * u, acc)
        c.ellipse(cx, cy + 0.18 * u, 0.25 * u, 0.22 * u, hexc("#c0392b"))
        c.rect(cx - 0.78 * u, cy - 0.62 * u, cx + 0.78 * u, cy - 0.5 * u, dark)


def draw_kind(c, kind, cx, cy, s, p, v):
    if kind in ("runner", "boot", "sneaker", "slipper"):
        shoe(c, cx, cy + 55, s, p, v, high=kind == "boot", low=kind in ("sneaker", "slipper"))
    elif kind in ("jacket", "vest", "hoodie", "smock"):
        jacket(c, cx, cy, s * 0.9, p, v, sleeves=kind != "vest", hood=kind in ("hoodie", "smock"), quilt=kind == "vest")
    elif kind in ("backpack", "hippack", "tote"):
        backpack(c, cx, cy + (55 if kind == "hippack" else 0), s * 0.9, p, v, hip=kind == "hippack", tote=kind == "tote")
    elif kind in ("pan", "pot", "kettle", "moka", "mug"):
        cookware(c, cx, cy, s * 0.85, p, v, kind)
    elif kind in ("chef", "folding", "bread", "stone"):
        blade(c, cx, cy + (30 if kind == "stone" else 55), s * 0.95, p, v, kind)
    elif kind in ("hammer", "plane", "chisel", "wrench"):
        tool(c, cx, cy, s * 0.85, p, v, kind)
    else:
        garden(c, cx, cy, s * 0.85, p, v, kind)


# Photo shapes: shops mix landscape, portrait and square shots, and the theme must keep each.
SHAPES = {"landscape": (480, 360), "portrait": (360, 480), "square": (420, 420)}


def product_image(category, kind, v, alt=False, shape="landscape"):
    p = PALETTES[category]
    w, h = SHAPES[shape]
    c = Canvas(w, h)
    top, bottom = hexc(p[0]), hexc(p[1])
    if alt:
        top, bottom = bottom, mix(bottom, hexc(p[5]), 0.25)
    c.bands(top, bottom, 8)
    # The scene is drawn for 480 x 360 and placed at the canvas's centre, scaled to fit.
    k = min(w / 480, h / 360)
    cx, floor = w / 2, round(h * 292 / 360)
    sun_x = round((90 + 75 * (v % 5)) * w / 480)
    c.ellipse(sun_x, round((70 + 12 * (v % 3)) * h / 360), 46 + 6 * (v % 4), 46 + 6 * (v % 4), hexc(p[2]))
    # floor and soft shadow
    c.rect(0, floor, w, h, mix(bottom, hexc(p[5]), 0.12))
    c.ellipse(cx, floor + 8, round(170 * k), 16, mix(bottom, hexc(p[5]), 0.3))
    pal = (p[0], p[1], p[2], [hexc(x) for x in p[3]], hexc(p[4]), hexc(p[5]), hexc(p[6]))
    draw_kind(c, kind, cx, floor - 107 * k, 1.05 * k, pal, v)
    return c


def hero_image(scene):
    w, h = 1200, 400
    c = Canvas(w, h)
    if scene == "trail":
        c.bands(hexc("#f7d9b5"), hexc("#8fb8c9"), 10)
        c.ellipse(930, 120, 70, 70, hexc("#fff3d6"))
        c.poly([(0, 330), (180, 140), (330, 260), (520, 90), (760, 290), (930, 170), (1200, 300), (1200, 400), (0, 400)], hexc("#5c7a89"))
        c.poly([(0, 360), (260, 250), (470, 330), (700, 230), (1000, 340), (1200, 280), (1200, 400), (0, 400)], hexc("#3f5e4e"))
        c.poly([(520, 90), (575, 140), (545, 150), (520, 130), (495, 148), (470, 138)], hexc("#f4f4f0"))
        c.poly([(560, 400), (640, 330), (700, 300), (690, 305), (620, 340), (600, 400)], hexc("#c9a46b"))
        shoe(c, 210, 330, 0.55, (0, 0, 0, [hexc("#e4572e")] * 3, hexc("#f3c969"), hexc("#263238"), hexc("#f7f7f2")), 0)
    elif scene == "shop":
        # The hero everyone sees: a shelf with one thing from each corner of the shop.
        c.bands(hexc("#f4ead7"), hexc("#d9c7a4"), 10)
        c.rect(0, 300, w, 400, hexc("#7a5a3c"))
        c.rect(0, 300, w, 312, hexc("#5e4329"))
        def pal(cat):
            q = PALETTES[cat]
            return (q[0], q[1], q[2], [hexc(x) for x in q[3]], hexc(q[4]), hexc(q[5]), hexc(q[6]))
        backpack(c, 250, 215, 0.85, pal("packs"), 0)
        shoe(c, 470, 262, 0.7, pal("shoes"), 0)
        cookware(c, 690, 232, 0.65, pal("cookware"), 1, "pot")
        tool(c, 900, 240, 0.6, pal("tools"), 0, "hammer")
        garden(c, 1070, 240, 0.55, pal("garden"), 1, "can")
    elif scene == "kitchen":
        c.bands(hexc("#fbeee0"), hexc("#efc9a8"), 8)
        for k in range(6):
            c.rect(0, 40 + 40 * k, w, 42 + 40 * k, hexc("#f3dcc6"))
        c.rect(0, 300, w, 400, hexc("#8d5b4c"))
        c.rect(0, 300, w, 312, hexc("#6d4437"))
        pal = (0, 0, 0, [hexc("#2f3e46"), hexc("#b5523b"), hexc("#3a7d7c")], hexc("#f2cc8f"), hexc("#1f1f1f"), hexc("#fdfaf6"))
        cookware(c, 360, 215, 0.8, pal, 1, "pot")
        cookware(c, 640, 225, 0.6, pal, 2, "kettle")
        cookware(c, 860, 240, 0.55, pal, 0, "moka")
        cookware(c, 1020, 255, 0.4, pal, 0, "mug")
    elif scene == "workshop":
        c.bands(hexc("#e9dfc7"), hexc("#cbb88f"), 8)
        for y in range(50, 260, 36):
            for x in range(70, 1180, 36):
                c.rect(x, y, x + 6, y + 6, hexc("#b9a57a"))
        c.rect(0, 290, w, 400, hexc("#a0724a"))
        c.rect(0, 290, w, 304, hexc("#7a5234"))
        pal = (0, 0, 0, [hexc("#c44536"), hexc("#283d3b"), hexc("#197278")], hexc("#b08968"), hexc("#1b1b1b"), hexc("#f7f3e8"))
        tool(c, 300, 170, 0.75, pal, 0, "hammer")
        tool(c, 560, 180, 0.7, pal, 1, "wrench")
        tool(c, 860, 235, 0.6, pal, 2, "plane")
    else:
        c.bands(hexc("#fdf3d0"), hexc("#bfe0c4"), 8)
        c.ellipse(1010, 95, 60, 60, hexc("#fffbe8"))
        c.poly([(0, 260), (300, 200), (650, 250), (1000, 190), (1200, 230), (1200, 400), (0, 400)], hexc("#8fbf6a"))
        c.rect(0, 320, w, 400, hexc("#6b4f3a"))
        for k in range(14):
            x = 60 + 80 * k
            c.rect(x - 2, 275, x + 2, 320, hexc("#2d6a4f"))
            c.ellipse(x - 14, 290, 16, 7, hexc("#40916c"), rot=-0.5)
            c.ellipse(x + 14, 282, 16, 7, hexc("#52b788"), rot=0.5)
        pal = (0, 0, 0, [hexc("#2d6a4f")] * 3, hexc("#f4a261"), hexc("#1b3a2b"), hexc("#f6fbf2"))
        garden(c, 880, 250, 0.8, pal, 0, "can")
    return c


# (output path relative to example-shop/, category, kind, variant, alternate background[, shape])
PRODUCT_IMAGES = [
    ("products/trail-runner-2/photo.png", "shoes", "runner", 0, False),
    ("products/trail-runner-2/photo-trail.png", "shoes", "runner", 0, True),
    ("static/images/ridgeline-hiking-boot.png", "shoes", "boot", 1, False),
    ("static/images/ridgeline-hiking-boot-sole.png", "shoes", "boot", 1, True),
    ("static/images/harbour-canvas-sneaker.png", "shoes", "sneaker", 2, False),
    ("static/images/hut-slipper.png", "shoes", "slipper", 4, False),
    ("static/images/stormhood-rain-shell.png", "outerwear", "hoodie", 0, False, "portrait"),
    ("static/images/cedar-waxed-field-jacket.png", "outerwear", "jacket", 2, False, "portrait"),
    ("static/images/loft-down-vest.png", "outerwear", "vest", 1, False, "portrait"),
    ("static/images/ridge-merino-hoodie.png", "outerwear", "hoodie", 4, False, "portrait"),
    ("static/images/packable-wind-smock.png", "outerwear", "smock", 5, False, "portrait"),
    ("products/fernpack-28/photo.png", "packs", "backpack", 2, False, "portrait"),
    ("static/images/roll-top-daypack-20.png", "packs", "backpack", 0, False),
    ("static/images/flint-hip-pack.png", "packs", "hippack", 1, False),
    ("static/images/market-tote.png", "packs", "tote", 4, False, "portrait"),
    ("static/images/market-tote-garden.png", "packs", "tote", 4, True),
    ("static/images/carbon-steel-skillet-28.png", "cookware", "pan", 0, False),
    ("products/enamel-dutch-oven/photo.png", "cookware", "pot", 1, False, "square"),
    ("static/images/camp-kettle-1l.png", "cookware", "kettle", 2, False),
    ("static/images/stovetop-espresso-pot.png", "cookware", "moka", 3, False),
    ("static/images/titanium-mug-450.png", "cookware", "mug", 4, False, "square"),
    ("products/chefs-knife-21/photo.png", "knives", "chef", 0, False),
    ("static/images/folding-pocket-knife.png", "knives", "folding", 1, False),
    ("static/images/bread-knife-24.png", "knives", "bread", 2, False),
    ("static/images/combination-whetstone.png", "knives", "stone", 3, False),
    ("static/images/claw-hammer-16oz.png", "tools", "hammer", 0, False),
    ("static/images/low-angle-block-plane.png", "tools", "plane", 1, False),
    ("static/images/bench-chisel-set.png", "tools", "chisel", 2, False),
    ("static/images/adjustable-spanner-200.png", "tools", "wrench", 3, False),
    ("static/images/forged-hand-trowel.png", "garden", "trowel", 0, False),
    ("products/galvanised-watering-can/photo.png", "garden", "can", 1, False),
    ("static/images/bypass-pruners.png", "garden", "pruner", 2, False),
    ("static/images/heirloom-tomato-seed-tin.png", "garden", "seeds", 3, False, "square"),
]

HEROES = [
    ("static/hero-shop.png", "shop"),
    ("static/hero-trail.png", "trail"),
    ("static/hero-kitchen.png", "kitchen"),
    ("static/hero-workshop.png", "workshop"),
    ("static/hero-garden.png", "garden"),
]


def write(rel, canvas):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = canvas.png()
    with open(path, "wb") as f:
        f.write(data)
    print(f"{len(data):6d}  {rel}")


def main():
    for rel, category, kind, v, alt, *shape in PRODUCT_IMAGES:
        write(rel, product_image(category, kind, v, alt, *shape))
    for rel, scene in HEROES:
        write(rel, hero_image(scene))


if __name__ == "__main__":
    main()
