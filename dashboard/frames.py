"""The columns each chart template draws, built from a run's numpy arrays (no pandas on the hot path).

Every function returns {column: array}; rows that a log scale cannot draw (zero, negative, NaN,
inf) are dropped, and long runs are thinned to evenly spaced epochs (first and last kept).
"""
from __future__ import annotations

import numpy as np

from backprop_core.results import HIST_EDGES, METRIC_COLUMNS, STAT_COLUMNS, RunResult
from dashboard import raster

MAX_EPOCHS_LINES = 100
MAX_EPOCHS_HEAT = 60
MAX_EPOCHS_CURVES = 200


def _keep_epochs(count: int, limit: int) -> np.ndarray:
    """Indices of at most `limit` evenly spaced epochs out of `count`, always the first and last."""
    if count <= limit:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, limit).round().astype(int))


def _names(run: RunResult) -> np.ndarray:
    return np.array(run.layer_names, dtype=object)


def per_layer(run: RunResult, stat: str, limit: int, name: str, hidden_only: bool = False) -> dict:
    """epoch, layer, layer_name and one statistic for every (epoch, layer), positive values only."""
    epochs = _keep_epochs(len(run.stats), limit)
    L = run.depth if hidden_only else run.depth + 1
    values = run.stats[epochs][:, :L, STAT_COLUMNS.index(stat)]
    epoch = np.repeat(epochs, L)
    layer = np.tile(np.arange(1, L + 1), len(epochs))
    names = np.tile(_names(run)[:L], len(epochs))
    v = values.reshape(-1)
    ok = np.isfinite(v) & (v > 0)
    return {"epoch": epoch[ok], "layer": layer[ok], "layer_name": names[ok].tolist(), name: v[ok]}


def grad_lines(run: RunResult) -> dict:
    return per_layer(run, "grad_mean_abs", MAX_EPOCHS_LINES, "grad")


def heat(run: RunResult) -> dict:
    return per_layer(run, "grad_norm", MAX_EPOCHS_HEAT, "grad_norm")


def update_lines(run: RunResult) -> dict:
    return per_layer(run, "update_ratio", MAX_EPOCHS_LINES, "ratio")


def curve(run: RunResult, metric: str) -> dict:
    """epoch, split (train/test), value of the loss or the accuracy after each epoch."""
    m = run.metrics
    keep = _keep_epochs(len(m), MAX_EPOCHS_CURVES)
    keep = keep[np.isfinite(m[keep, 0])]
    epoch, split, value = [], [], []
    for part in ("train", "test"):
        v = m[keep, METRIC_COLUMNS.index(f"{part}_{metric}")]
        ok = np.isfinite(v)
        epoch.append(keep[ok])
        value.append(v[ok])
        split += [part] * int(ok.sum())
    return {"epoch": np.concatenate(epoch), "split": split, "value": np.concatenate(value)}


def surface_grid(grid_x: np.ndarray, grid_y: np.ndarray, p: np.ndarray | None) -> dict:
    """A heat cell per grid point: its corners, centre, and P(class 1) (0.5 when there is no model)."""
    dx, dy = float(grid_x[1] - grid_x[0]), float(grid_y[1] - grid_y[0])
    gx, gy = np.meshgrid(grid_x, grid_y)
    probs = np.full(gx.size, 0.5) if p is None else np.nan_to_num(p.reshape(-1).astype(np.float64), nan=0.5)
    x, y = gx.reshape(-1) - dx / 2, gy.reshape(-1) - dy / 2
    return {"x": x, "y": y, "x2": x + dx, "y2": y + dy, "cx": gx.reshape(-1), "cy": gy.reshape(-1), "p": probs}


def surface_image(grid_x: np.ndarray, grid_y: np.ndarray, p: np.ndarray) -> dict:
    """One row: the surface as a PNG data URL and the plane it covers (cell edges)."""
    dx, dy = float(grid_x[1] - grid_x[0]), float(grid_y[1] - grid_y[0])
    return {"url": [raster.data_url(p)], "x": [float(grid_x[0]) - dx / 2], "x2": [float(grid_x[-1]) + dx / 2],
            "y": [float(grid_y[-1]) + dy / 2], "y2": [float(grid_y[0]) - dy / 2]}


def surface_points(X: np.ndarray, y: np.ndarray, limit: int = 300) -> dict:
    """At most `limit` training points (evenly strided), with their class as a string."""
    step = max(1, len(X) // limit)
    return {"x": X[::step, 0].astype(np.float64), "y": X[::step, 1].astype(np.float64),
            "label": [str(int(c)) for c in y[::step]]}


def hist(run: RunResult, epoch: int) -> dict:
    """layer, layer_name, bin edges, count and share of each layer's gradient entries per bin."""
    counts = run.grad_hist[run.hist_epoch(epoch)]
    L, bins = counts.shape
    totals = counts.sum(1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    c = counts.reshape(-1)
    ok = c > 0
    return {"layer": np.repeat(np.arange(1, L + 1), bins)[ok],
            "layer_name": np.repeat(_names(run), bins)[ok].tolist(),
            "lo": np.tile(HIST_EDGES[:-1], L)[ok], "hi": np.tile(HIST_EDGES[1:], L)[ok],
            "count": c[ok].astype(np.int64), "share": share.reshape(-1)[ok]}


def signal(runs: dict[str, RunResult]) -> tuple[dict, dict]:
    """(measured, predicted): the RMS per-sample signal per hidden layer at initialisation, and
    the mean-field prediction for the runs it covers (plain MLPs)."""
    measured = {"run": [], "layer": [], "signal": []}
    predicted = {"run": [], "layer": [], "predicted": []}
    for name, run in runs.items():
        if not len(run.stats):
            continue
        s = run.stats[0, :run.depth, STAT_COLUMNS.index("signal_rms")]
        ok = np.isfinite(s) & (s > 0)
        measured["run"] += [name] * int(ok.sum())
        measured["layer"] += np.arange(1, run.depth + 1)[ok].tolist()
        measured["signal"] += s[ok].tolist()
        if run.theory is not None:
            ok = np.isfinite(run.theory) & (run.theory > 0)
            predicted["run"] += [name] * int(ok.sum())
            predicted["layer"] += np.arange(1, run.depth + 1)[ok].tolist()
            predicted["predicted"] += run.theory[ok].tolist()
    return ({"run": measured["run"], "layer": np.array(measured["layer"], dtype=np.int64),
             "signal": np.array(measured["signal"], dtype=np.float64)},
            {"run": predicted["run"], "layer": np.array(predicted["layer"], dtype=np.int64),
             "predicted": np.array(predicted["predicted"], dtype=np.float64)})


def _by_run(runs: dict[str, RunResult], build) -> dict:
    parts = [build(name, run) for name, run in runs.items()]
    out = {}
    for key in parts[0]:
        values = [p[key] for p in parts]
        out[key] = sum(values, []) if isinstance(values[0], list) else np.concatenate(values)
    return out


def mean_hidden_gradient(runs: dict[str, RunResult]) -> dict:
    """run, epoch, grad: mean over the hidden layers of mean|dL/dW| (the seed's Demo 4 chart)."""
    def build(name, run):
        epochs = _keep_epochs(len(run.stats), MAX_EPOCHS_LINES)
        g = run.stats[epochs][:, :run.depth, STAT_COLUMNS.index("grad_mean_abs")].mean(1)
        ok = np.isfinite(g) & (g > 0)
        return {"run": [name] * int(ok.sum()), "epoch": epochs[ok], "grad": g[ok]}
    return _by_run(runs, build)


def losses(runs: dict[str, RunResult]) -> dict:
    """run, epoch, loss: the training loss after each epoch."""
    def build(name, run):
        keep = _keep_epochs(len(run.metrics), MAX_EPOCHS_CURVES)
        loss = run.metrics[keep, 0]
        ok = np.isfinite(loss)
        return {"run": [name] * int(ok.sum()), "epoch": keep[ok], "loss": loss[ok]}
    return _by_run(runs, build)


HEALTH_LABELS = {"saturated": "saturated: |u| in a flat zone (sigmoid/tanh)",
                 "dead": "dead: ReLU output 0 for every training point"}


def unit_health(runs: dict[str, RunResult]) -> dict:
    """run, layer, measure, share: saturated and dead units at each run's last recorded epoch."""
    def build(name, run):
        D = run.depth
        last = run.stats[-1, :D] if len(run.stats) else np.full((D, len(STAT_COLUMNS)), np.nan)
        shares = np.concatenate([last[:, STAT_COLUMNS.index(m)] for m in HEALTH_LABELS])
        ok = np.isfinite(shares)
        measures = sum(([label] * D for label in HEALTH_LABELS.values()), [])
        return {"run": [name] * int(ok.sum()), "layer": np.tile(np.arange(1, D + 1), 2)[ok],
                "measure": [m for m, k in zip(measures, ok, strict=True) if k], "share": shares[ok]}
    return _by_run(runs, build)


def sweep(df) -> dict:
    """config, depth, ratio, lo, hi from a depth-sweep frame (positive, finite ratios only)."""
    d = df[np.isfinite(df.ratio_mean) & (df.ratio_lo > 0) & (df.ratio_mean > 0) & np.isfinite(df.ratio_hi)]
    return {"config": (d.activation + " + " + d.init).tolist(), "depth": d.depth.to_numpy(np.int64),
            "ratio": d.ratio_mean.to_numpy(np.float64), "lo": d.ratio_lo.to_numpy(np.float64),
            "hi": d.ratio_hi.to_numpy(np.float64)}


def errors(tensors) -> dict:
    """parameter, value, shown (clipped at 1e-18 for the log axis), check: one dot per tensor."""
    v = tensors.rel_err.to_numpy(np.float64)
    return {"parameter": tensors.parameter.tolist(), "value": v, "shown": np.clip(v, 1e-18, None),
            "check": ["pass" if ok else "FAIL" for ok in tensors["pass"]]}
