"""The decision surface image: each pixel sits where its probability was computed and has the
colour of the class the model favours there, the same colour as that class's points."""
import base64
import io
import json

import numpy as np
from PIL import Image

from dashboard import chart_data, charts, raster


def _decode(url: str) -> np.ndarray:
    """(h, w, 3) uint8 pixels of a PNG data URL, decoded by Pillow (not by our writer)."""
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


def _hue(rgb: np.ndarray) -> str:
    r, _, b = (int(v) for v in rgb)
    return "blue" if b > r + 20 else "red" if r > b + 20 else "white"


def test_pixels_sit_where_their_probability_was_computed():
    grid_x, grid_y = np.linspace(-2, 2, 7), np.linspace(-1, 3, 5)          # rows = increasing y
    p = np.where((grid_y[:, None] > 1.5) & (grid_x[None, :] > 0), 0.95, 0.05)   # class 1 only top right
    row = chart_data.surface_image(grid_x, grid_y, p)
    pixels = _decode(row["url"][0])
    assert pixels.shape == (5, 7, 3)
    for i, y in enumerate(grid_y):
        for j, x in enumerate(grid_x):
            top_row = len(grid_y) - 1 - i                                  # images are drawn top row first
            assert _hue(pixels[top_row, j]) == ("blue" if (y > 1.5 and x > 0) else "red"), (x, y)
    # the image covers the cells' edges: half a step beyond the first and last centres
    edges = [row[k][0] for k in ("x", "x2", "y", "y2")]
    assert np.allclose(edges, [-2 - 1 / 3, 2 + 1 / 3, 3.5, -1.5])


def test_colour_follows_probability_monotonically():
    p = np.linspace(0, 1, 11)[None, :]
    rgb = raster.colors(p)[0].astype(int)
    assert _hue(rgb[0]) == "red" and _hue(rgb[5]) == "white" and _hue(rgb[-1]) == "blue"
    assert (np.diff(rgb[:, 2] - rgb[:, 0]) > 0).all()                       # bluer than red, more so as P grows
    assert (raster.colors(np.array([[np.nan]]))[0, 0] == rgb[5]).all()      # unknown shows as undecided


def test_class_one_points_and_high_probability_share_a_colour():
    """A learner reads 'blue region = the model says class 1' from the points on it."""
    spec = json.loads(charts.spec_text("surface"))
    scales = {}
    for layer in spec["layer"]:
        enc = layer.get("encoding", {})
        for channel in ("fill", "color"):
            if "scale" in enc.get(channel, {}):
                scales[enc[channel]["field"]] = enc[channel]["scale"]
    label, prob = scales["label"], scales["p"]
    class_one = label["range"][label["domain"].index("1")]
    class_zero = label["range"][label["domain"].index("0")]
    assert _hue(raster._rgb(class_one)) == _hue(raster._rgb(prob["range"][-1])) == "blue"
    assert _hue(raster._rgb(class_zero)) == _hue(raster._rgb(prob["range"][0])) == "red"
    assert prob["domain"] == [0, 0.5, 1]
