"""A decision surface as one small PNG image: a 30 x 30 grid of probabilities coloured from the
class-0 red through white to the class-1 blue. Vega draws it as a single image mark, smoothly
scaled, instead of 900 rectangles (the rectangles cost more browser time than every other chart
of /flow together). No imaging library: the PNG is written with zlib."""
from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

CLASS_COLORS = ("#b2182b", "#2166ac")          # the points' own colours: class 0, class 1
MIDDLE = "#f7f7f7"
OPACITY = 0.55                                   # the surface is a tint under the points


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def tint(hex_color: str) -> str:
    """The colour as it shows at OPACITY over a white page."""
    rgb = 255 * (1 - OPACITY) + OPACITY * _rgb(hex_color)
    return "#" + "".join(f"{int(round(v)):02x}" for v in rgb)


LEGEND_RANGE = [tint(CLASS_COLORS[0]), tint(MIDDLE), tint(CLASS_COLORS[1])]   # for P = 0, 0.5, 1


def colors(p: np.ndarray) -> np.ndarray:
    """(h, w) probabilities of class 1 -> (h, w, 3) uint8: red at 0, white at 0.5, blue at 1."""
    stops = np.array([_rgb(c) for c in LEGEND_RANGE])
    p = np.clip(np.nan_to_num(p, nan=0.5), 0.0, 1.0)[..., None]
    low = stops[0] + (stops[1] - stops[0]) * (p / 0.5)
    high = stops[1] + (stops[2] - stops[1]) * ((p - 0.5) / 0.5)
    return np.where(p <= 0.5, low, high).round().astype(np.uint8)


def png(rgb: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of a (h, w, 3) uint8 array, top row first."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[i].tobytes() for i in range(h))      # filter type 0 per row

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def data_url(p_grid: np.ndarray) -> str:
    """The probability grid (rows = increasing y) as a PNG data URL, top row = largest y."""
    return "data:image/png;base64," + base64.b64encode(png(colors(p_grid[::-1]))).decode("ascii")
