"""A decision surface as one small PNG image: a 30 x 30 grid of probabilities coloured from the
class-0 red through white to the class-1 blue (K classes: the most likely class's colour, paler where
the network is less sure; regression: the predicted value from brown through white to teal). Vega
draws it as a single image mark, smoothly scaled, instead of 900 rectangles (the rectangles cost more
browser time than every other chart of /flow together). No imaging library: the PNG is written with
zlib."""
from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

CLASS_COLORS = ("#b2182b", "#2166ac", "#1b7837", "#e08214", "#762a83")   # the points' colours: class 0..4
MIDDLE = "#f7f7f7"
OPACITY = 0.55                                   # the surface is a tint under the points


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def tint(hex_color: str) -> str:
    """The colour as it shows at OPACITY over a white page."""
    rgb = 255 * (1 - OPACITY) + OPACITY * _rgb(hex_color)
    return "#" + "".join(f"{int(round(v)):02x}" for v in rgb)


LEGEND_RANGE = [tint(CLASS_COLORS[0]), tint(MIDDLE), tint(CLASS_COLORS[1])]   # for P = 0, 0.5, 1
VALUE_COLORS = ("#8c510a", "#01665e")            # regression: y = -1, y = 1
VALUE_LEGEND_RANGE = [tint(VALUE_COLORS[0]), tint(MIDDLE), tint(VALUE_COLORS[1])]   # for y = -1, 0, 1


def colors(p: np.ndarray, legend: list[str] = LEGEND_RANGE) -> np.ndarray:
    """(h, w) probabilities of class 1 -> (h, w, 3) uint8: red at 0, white at 0.5, blue at 1 (or the
    three colours of another legend)."""
    stops = np.array([_rgb(c) for c in legend])
    p = np.clip(np.nan_to_num(p, nan=0.5), 0.0, 1.0)[..., None]
    low = stops[0] + (stops[1] - stops[0]) * (p / 0.5)
    high = stops[1] + (stops[2] - stops[1]) * ((p - 0.5) / 0.5)
    return np.where(p <= 0.5, low, high).round().astype(np.uint8)


def class_colors(P: np.ndarray) -> np.ndarray:
    """(h, w, K) class probabilities -> (h, w, 3) uint8: the tint of the most likely class, mixed with
    white by how sure the network is, (max P - 1/K) / (1 - 1/K): white where all K are equally likely."""
    K = P.shape[-1]
    P = np.nan_to_num(P, nan=1.0 / K)
    tints = np.array([_rgb(tint(c)) for c in CLASS_COLORS[:K]])
    sure = ((P.max(-1) - 1.0 / K) / (1 - 1.0 / K)).clip(0.0, 1.0)[..., None]
    white = _rgb(tint(MIDDLE))
    return (white + (tints[P.argmax(-1)] - white) * sure).round().astype(np.uint8)


def value_colors(v: np.ndarray) -> np.ndarray:
    """(h, w) predicted values -> (h, w, 3) uint8 on VALUE_LEGEND_RANGE, clamped to [-1, 1]."""
    return colors((np.clip(np.nan_to_num(v, nan=0.0), -1.0, 1.0) + 1) / 2, VALUE_LEGEND_RANGE)


def png(rgb: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of a (h, w, 3) uint8 array, top row first."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[i].tobytes() for i in range(h))      # filter type 0 per row

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def unit_colors(v: np.ndarray) -> np.ndarray:
    """(h, w) values in [-1, 1] -> (h, w, 3) uint8 at full strength (a unit's map is small and drawn
    alone, not as a tint under points): brown at -1, near-white at 0, teal at 1."""
    return colors((np.clip(np.nan_to_num(v, nan=0.0), -1.0, 1.0) + 1) / 2,
                  [VALUE_COLORS[0], "#f5f5f5", VALUE_COLORS[1]])


def png_url(rgb: np.ndarray) -> str:
    """A (h, w, 3) uint8 image as a PNG data URL, top row first."""
    return "data:image/png;base64," + base64.b64encode(png(rgb)).decode("ascii")


def rgb_of(surface: np.ndarray, regression: bool = False) -> np.ndarray:
    """The colours of a surface: P(class 1) (h, w), every class's P (h, w, K), or predicted values."""
    if regression:
        return value_colors(surface)
    return class_colors(surface) if surface.ndim == 3 else colors(surface)


def data_url(surface: np.ndarray, regression: bool = False) -> str:
    """The surface grid (rows = increasing y) as a PNG data URL, top row = largest y."""
    return png_url(rgb_of(surface[::-1], regression))
