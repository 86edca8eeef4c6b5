"""The data each chart template draws, built from a run's numpy arrays (no pandas on the hot path).

Every function returns Columns, {column name: values} of one dataset (or a pair of them, for charts
with two datasets), which charts.draw ships as an Arrow table. A log
scale cannot draw 0, so exact zeros go to a dataset of their own, which the chart draws in a marked
"= 0" band or colour; NaN and inf are dropped. Long runs are thinned to evenly spaced epochs (first
and last kept).
"""
from __future__ import annotations

import numpy as np

from backprop_core.activations import ACTIVATIONS, SATURATION_Z
from backprop_core.results import HALF_DECADES, METRIC_COLUMNS, STAT_COLUMNS, RunResult, hist_bin_labels
from dashboard import raster

Columns = dict[str, np.ndarray | list]   # one dataset: column name -> values (numpy, or a list of strings)

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


def per_layer(run: RunResult, stat: str, limit: int, name: str) -> tuple[Columns, Columns]:
    """(positive, zero): epoch, layer, layer_name and one statistic for every (epoch, layer) where it
    is positive, and epoch, layer, layer_name where it is exactly 0."""
    epochs = _keep_epochs(len(run.stats), limit)
    L = run.depth + 1
    values = run.stats[epochs][:, :L, STAT_COLUMNS.index(stat)]
    epoch = np.repeat(epochs, L)
    layer = np.tile(np.arange(1, L + 1), len(epochs))
    names = np.tile(_names(run)[:L], len(epochs))
    v = values.reshape(-1)
    ok, zero = np.isfinite(v) & (v > 0), v == 0
    return ({"epoch": epoch[ok], "layer": layer[ok], "layer_name": names[ok].tolist(), name: v[ok]},
            {"epoch": epoch[zero], "layer": layer[zero], "layer_name": names[zero].tolist()})


def grad_lines(run: RunResult) -> tuple[Columns, Columns]:
    return per_layer(run, "grad_mean_abs", MAX_EPOCHS_LINES, "grad")


def heat(run: RunResult) -> tuple[Columns, Columns]:
    return per_layer(run, "grad_norm", MAX_EPOCHS_HEAT, "grad_norm")


def heat_domain(heats: list[dict]) -> Columns:
    """Two rows carrying the smallest and largest positive ‖dL/dW‖ of every heatmap of a pair, at a
    cell each heatmap has (epoch 0, layer 1): drawn invisibly, they give the pair one colour scale."""
    values = np.concatenate([h["grad_norm"] for h in heats]) if heats else np.zeros(0)
    lo, hi = (float(values.min()), float(values.max())) if values.size else (1.0, 1.0)
    return {"epoch": np.array([0, 0]), "layer_name": ["1", "1"], "grad_norm": np.array([lo, hi])}


def update_lines(run: RunResult) -> Columns:
    return per_layer(run, "update_ratio", MAX_EPOCHS_LINES, "ratio")[0]


PENALISED = "train + L2 penalty"          # what the optimiser minimises when weight decay is on


def curve(run: RunResult, metric: str) -> Columns:
    """epoch, split, value of the loss or the accuracy after each epoch: train and test, and with weight
    decay the training loss plus its L2 penalty (the objective the optimiser actually minimises)."""
    m = run.metrics
    keep = _keep_epochs(len(m), MAX_EPOCHS_CURVES)
    keep = keep[np.isfinite(m[keep, 0])]
    col = METRIC_COLUMNS.index
    series = {part: m[keep, col(f"{part}_{metric}")] for part in ("train", "test")}
    if metric == "loss" and run.config.wd > 0:
        series[PENALISED] = m[keep, col("train_loss")] + m[keep, col("l2_penalty")]
    epoch, split, value = [], [], []
    for part, v in series.items():
        ok = np.isfinite(v)
        epoch.append(keep[ok])
        value.append(v[ok])
        split += [part] * int(ok.sum())
    return {"epoch": np.concatenate(epoch), "split": split, "value": np.concatenate(value)}


def surface_grid(grid_x: np.ndarray, grid_y: np.ndarray, p: np.ndarray | None) -> Columns:
    """A heat cell per grid point: its corners, centre, and P(class 1) (0.5 when there is no model).
    For K classes (p of shape (h, w, K)): P of the most likely class, that class, and the cell's colour."""
    dx, dy = float(grid_x[1] - grid_x[0]), float(grid_y[1] - grid_y[0])
    gx, gy = np.meshgrid(grid_x, grid_y)
    x, y = gx.reshape(-1) - dx / 2, gy.reshape(-1) - dy / 2
    cells = {"x": x, "y": y, "x2": x + dx, "y2": y + dy, "cx": gx.reshape(-1), "cy": gy.reshape(-1)}
    if p is not None and p.ndim == 3:
        P = np.nan_to_num(p.reshape(-1, p.shape[-1]).astype(np.float64), nan=1.0 / p.shape[-1])
        rgb = raster.class_colors(P[None])[0]
        return cells | {"p": P.max(1), "label": [str(c) for c in P.argmax(1)],
                        "fill": ["#%02x%02x%02x" % tuple(c) for c in rgb]}
    probs = np.full(gx.size, 0.5) if p is None else np.nan_to_num(p.reshape(-1).astype(np.float64), nan=0.5)
    return cells | {"p": probs}


def with_frame(columns: Columns, frame: int = -1) -> Columns:
    """The dataset with `frame` and `still` columns for the player (charts.FRAME_FILTER): the recorded
    epoch each row belongs to, or -1 for a still view's rows (always drawn)."""
    rows = len(next(iter(columns.values()))) if columns else 0
    return columns | {"frame": np.full(rows, frame, dtype=np.int32),     # int64 would reach Vega as BigInt
                      "still": np.full(rows, 1, dtype=np.int8)}


def frames(by_epoch: dict[int, Columns]) -> Columns:
    """One dataset per epoch stacked into one, each row tagged with its epoch in `frame` (`still` is
    the player's to set)."""
    tagged = [with_frame(columns, epoch) for epoch, columns in by_epoch.items()]
    return {k: ([x for t in tagged for x in t[k]] if isinstance(tagged[0][k], list)
                else np.concatenate([np.asarray(t[k]) for t in tagged])) for k in tagged[0]}


def surface_image(grid_x: np.ndarray, grid_y: np.ndarray, p: np.ndarray, regression: bool = False) -> Columns:
    """One row: the surface as a PNG data URL and the plane it covers (cell edges)."""
    dx, dy = float(grid_x[1] - grid_x[0]), float(grid_y[1] - grid_y[0])
    return {"url": [raster.data_url(p, regression)], "x": [float(grid_x[0]) - dx / 2],
            "x2": [float(grid_x[-1]) + dx / 2],
            "y": [float(grid_y[-1]) + dy / 2], "y2": [float(grid_y[0]) - dy / 2]}


def surface_points(X: np.ndarray, y: np.ndarray, limit: int = 300) -> Columns:
    """At most `limit` training points (evenly strided), with their class as a string (or, for
    regression, their target)."""
    step = max(1, len(X) // limit)
    xy = {"x": X[::step, 0].astype(np.float64), "y": X[::step, 1].astype(np.float64)}
    if np.issubdtype(y.dtype, np.floating):
        return xy | {"target": y[::step].astype(np.float64)}
    return xy | {"label": [str(int(c)) for c in y[::step]]}


# Where each histogram bin sits on the chart's log10 |g| axis: the half decades at their own place,
# "below 1e-12" half a decade wide just left of them, "exactly 0" apart after a gap, "1e2 and above"
# just right of them (charts.HIST_TICKS labels the special ones).
HIST_LO = np.concatenate([[-14.0, -12.5], HALF_DECADES[:-1], [HALF_DECADES[-1]]])
HIST_HI = HIST_LO + 0.5
HIST_LABELS = hist_bin_labels()


def hist(run: RunResult, epoch: int) -> Columns:
    """layer, layer_name, bin (in words), its place on the axis, count and share of each layer's
    gradient entries per bin."""
    counts = run.grad_hist[run.hist_epoch(epoch)]
    L, bins = counts.shape
    totals = counts.sum(1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    c = counts.reshape(-1)
    ok = c > 0
    return {"layer": np.repeat(np.arange(1, L + 1), bins)[ok],
            "layer_name": np.repeat(_names(run), bins)[ok].tolist(),
            "bin": np.tile(np.array(HIST_LABELS, dtype=object), L)[ok].tolist(),
            "lo": np.tile(HIST_LO, L)[ok], "hi": np.tile(HIST_HI, L)[ok],
            "count": c[ok].astype(np.int64), "share": share.reshape(-1)[ok]}


def signal(runs: dict[str, RunResult]) -> tuple[Columns, Columns]:
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


def _by_run(runs: dict[str, RunResult], build) -> Columns:
    parts = [build(name, run) for name, run in runs.items()]
    out = {}
    for key in parts[0]:
        values = [p[key] for p in parts]
        out[key] = sum(values, []) if isinstance(values[0], list) else np.concatenate(values)
    return out


def mean_hidden_gradient(runs: dict[str, RunResult]) -> tuple[Columns, Columns]:
    """(positive, zero): run, epoch, grad: mean over the hidden layers of mean|dL/dW| (the seed's
    Demo 4 chart), and run, epoch where it is exactly 0."""
    def build(name, run, zero):
        epochs = _keep_epochs(len(run.stats), MAX_EPOCHS_LINES)
        g = run.stats[epochs][:, :run.depth, STAT_COLUMNS.index("grad_mean_abs")].mean(1)
        ok = (g == 0) if zero else (np.isfinite(g) & (g > 0))
        return {"run": [name] * int(ok.sum()), "epoch": epochs[ok]} | ({} if zero else {"grad": g[ok]})
    return (_by_run(runs, lambda n, r: build(n, r, False)), _by_run(runs, lambda n, r: build(n, r, True)))


def losses(runs: dict[str, RunResult]) -> Columns:
    """run, epoch, loss: the training loss after each epoch."""
    def build(name, run):
        keep = _keep_epochs(len(run.metrics), MAX_EPOCHS_CURVES)
        loss = run.metrics[keep, 0]
        ok = np.isfinite(loss)
        return {"run": [name] * int(ok.sum()), "epoch": keep[ok], "loss": loss[ok]}
    return _by_run(runs, build)


def unit_health(runs: dict[str, RunResult], measure: str) -> Columns | None:
    """run, layer, share: the share of "saturated" or "dead" units per hidden layer at each run's last
    recorded epoch, for the runs whose activation can have them (None when none can)."""
    can = {"saturated": lambda act: act in SATURATION_Z, "dead": lambda act: ACTIVATIONS[act].can_die}[measure]
    runs = {name: run for name, run in runs.items() if can(run.config.act) and len(run.stats)}
    if not runs:
        return None

    def build(name, run):
        share = run.stats[-1, :run.depth, STAT_COLUMNS.index(measure)]
        ok = np.isfinite(share)
        return {"run": [name] * int(ok.sum()), "layer": np.arange(1, run.depth + 1)[ok], "share": share[ok]}
    return _by_run(runs, build)


def sweep(df) -> Columns:
    """config, depth, ratio, lo, hi from a depth-sweep frame (positive, finite ratios only)."""
    d = df[np.isfinite(df.ratio_mean) & (df.ratio_lo > 0) & (df.ratio_mean > 0) & np.isfinite(df.ratio_hi)]
    return {"config": (d.activation + " + " + d.init).tolist(), "depth": d.depth.to_numpy(np.int64),
            "ratio": d.ratio_mean.to_numpy(np.float64), "lo": d.ratio_lo.to_numpy(np.float64),
            "hi": d.ratio_hi.to_numpy(np.float64)}


def errors(tensors) -> Columns:
    """parameter, order, value, shown (clipped at 1e-18 for the log axis), check: one dot per tensor, in
    the model's order (the chart sorts by `order`: a reused Vega view keeps no stale order)."""
    v = tensors.rel_err.to_numpy(np.float64)
    return {"parameter": tensors.parameter.tolist(), "order": np.arange(len(v)), "value": v,
            "shown": np.clip(v, 1e-18, None), "check": ["pass" if ok else "FAIL" for ok in tensors["pass"]]}
