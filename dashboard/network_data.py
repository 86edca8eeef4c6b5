"""The datasets of the network drawing (charts.py template "network"): one node per unit, laid out by
layer, with its output map as a small image, and one edge per weight, coloured by the weight's sign,
as opaque as it is large, as wide as its gradient. What the numbers are depends on the probe's
sub-step: forward shows z and h, loss the output, backward dL/dz and the point's dL/dw, update the
step the optimiser took (whole batch). Without a probe the widths are the whole batch's |dL/dW|."""
from __future__ import annotations

import numpy as np

from backprop_core.digits import number
from backprop_core.results import STAT_COLUMNS, RunResult
from dashboard import raster

MAP_STEP = 2                       # the unit maps are drawn from every other grid point (15 x 15 pixels)
MAX_WIDTH_PX = 6.0                 # the widest edge
REACHED = {"forward": ("z", "h"), "loss": ("z", "h"), "backward": ("z", "h", "dL/dz"),
           "update": ("z", "h", "dL/dz")}          # the probe's numbers each sub-step has computed


def _ys(count: int) -> np.ndarray:
    """Vertical places of a layer's units, the first on top."""
    return (count - 1) / 2 - np.arange(count)


def _unit_png(h: np.ndarray) -> str:
    """A unit's output over the plane: -max|h| brown, 0 white, +max|h| teal (raster.unit_colors)."""
    scale = float(np.abs(h).max()) or 1.0
    return raster.png_url(raster.unit_colors(h[::MAP_STEP, ::MAP_STEP][::-1] / scale))


def _fmt(v) -> str:
    return "—" if v is None else number(float(v))


def nodes(run: RunResult, view, sub: str) -> dict:
    """x (layer: 0 inputs .. D+1 output), y, label, status, url, and the numbers a tooltip shows."""
    cfg, D = run.config, run.depth
    probe = view.probe
    by_unit = {(r["layer"], r["unit"]): r for r in probe.rows} if probe else {}
    shown = REACHED[sub]
    rows: dict[str, list] = {k: [] for k in ("x", "y", "label", "status", "url", "layer", "z", "h", "dz")}

    def add(x, y, label, status, url, layer, row=None):
        rows["x"].append(float(x))
        rows["y"].append(float(y))
        rows["label"].append(label)
        rows["status"].append(status)
        rows["url"].append(url)
        rows["layer"].append(layer)
        for key, col in (("z", "z"), ("h", "h"), ("dz", "dL/dz")):
            rows[key].append(_fmt(row[col]) if row is not None and col in shown else "—")

    for j, (y, name) in enumerate(zip(_ys(2), ("x₁", "x₂"), strict=True)):
        add(0, y, name, "input", "", "input", None)
        if probe:
            rows["h"][-1] = _fmt(probe.x[j])
    for layer in range(D):
        width = view.maps.shape[1]
        for j, y in enumerate(_ys(width)):
            status = "dead" if view.dead[layer, j] else "saturated" if view.saturated[layer, j] >= 0.5 else "unit"
            add(layer + 1, y, f"{layer + 1}.{j + 1}", status, _unit_png(view.maps[layer, j]), str(layer + 1),
                by_unit.get((str(layer + 1), j + 1)))
    out = cfg.task.out_dim
    for j, y in enumerate(_ys(out)):
        label = "ŷ" if cfg.task.regression else f"class {j}"
        add(D + 1, y, label, "output", "", "out", by_unit.get(("out", j + 1)))
    return {k: (np.array(v) if k in ("x", "y") else v) for k, v in rows.items()}


def edges(run: RunResult, view, sub: str, epoch: int) -> dict:
    """One row per weight: its two ends, sign, |w| relative to the largest, and a width from the
    gradient shown (the point's dL/dw at backward, the step at update, else the batch's dL/dW)."""
    snaps, D = run.snapshots, run.depth
    names = [f"hidden.{i}.linear.weight" for i in range(D)] + ["out.weight"]
    probe = view.probe
    W = [snaps.get(epoch, n) for n in names]
    if sub == "update" and epoch in snaps.steps:
        sizes, what = [snaps.get(epoch, n, "steps") for n in names], "step ΔW"
    elif sub in ("backward", "update") and probe is not None:
        sizes, what = [probe.dW[n] for n in names], "dL/dw, this point"
    else:
        sizes, what = [view.grad[n] for n in names], "dL/dW, whole batch"
    w_max = max(float(np.abs(w).max()) for w in W) or 1.0
    s_max = max(float(np.abs(s).max()) for s in sizes) or 1.0
    cols: dict[str, list] = {k: [] for k in ("x", "y", "x2", "y2", "sign", "strength", "width", "weight", "size")}
    for layer, (w, g) in enumerate(zip(W, sizes, strict=True)):
        fan_out, fan_in = w.shape
        y_in, y_out = _ys(fan_in), _ys(fan_out)
        for i in range(fan_out):
            for j in range(fan_in):
                cols["x"].append(float(layer))
                cols["y"].append(float(y_in[j]))
                cols["x2"].append(float(layer + 1))
                cols["y2"].append(float(y_out[i]))
                cols["sign"].append("+" if w[i, j] >= 0 else "−")
                cols["strength"].append(abs(float(w[i, j])) / w_max)
                cols["width"].append(0.3 + (MAX_WIDTH_PX - 0.3) * abs(float(g[i, j])) / s_max)
                cols["weight"].append(number(float(w[i, j])))
                cols["size"].append(f"{what}: {number(float(g[i, j]))}")
    return {k: (np.array(v) if k in ("x", "y", "x2", "y2", "strength", "width") else v) for k, v in cols.items()}


def layer_nodes(run: RunResult, epoch: int) -> dict:
    """A network too large to draw unit by unit: one node per layer with its statistics."""
    e = min(epoch, len(run.stats) - 1)
    D = run.depth
    col = STAT_COLUMNS.index
    rows = {k: [] for k in ("x", "y", "label", "status", "url", "layer", "z", "h", "dz")}
    for layer in range(D + 1):
        s = run.stats[e, layer]
        rows["x"].append(float(layer + 1))
        rows["y"].append(0.0)
        rows["label"].append(f"layer {run.layer_names[layer]}" if layer < D else "output")
        rows["status"].append("output" if layer == D else "unit")
        rows["url"].append("")
        rows["layer"].append(run.layer_names[layer])
        rows["z"].append(f"‖dL/dW‖ {number(float(s[col('grad_norm')]))}")
        rows["h"].append(f"dead {s[col('dead')]:.0%}, saturated {s[col('saturated')]:.0%}")
        rows["dz"].append(f"mean |dL/dW| {number(float(s[col('grad_mean_abs')]))}")
    return {k: (np.array(v) if k in ("x", "y") else v) for k, v in rows.items()}


def probe_table(view, sub: str) -> list[dict]:
    """The probe's rows as the page lists them: numbers not yet reached by the sub-step left blank."""
    reached = REACHED[sub]
    return [{"layer": r["layer"], "unit": r["unit"],
             **{k: (r[k] if k in reached else None) for k in ("z", "h", "dL/dz")}} for r in view.probe.rows]
