"""Every chart of the app, in one place. Functions take tidy frames from backprop_core and
return Altair charts. Each chart ships aggregated data (a few thousand rows at most), drops
NaN/inf and non-positive values before a log scale, and has a title, axis titles and tooltips.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from backprop_core.hand import fmt

MAX_EPOCHS_DRAWN = 100
MAX_POINTS_DRAWN = 300
HEIGHT = 280
LOG_AXIS = alt.Axis(format=".0e")     # log axes label powers of ten: 1e-8, 1e-6, ...
RUN_COLORS = alt.Scale(domain=["chosen", "fixed"], range=["#d62728", "#1f77b4"])


def inline(df: pd.DataFrame) -> alt.Data:
    """Data embedded in the spec as plain JSON values (no Altair data transformer involved, so
    specs can be built on any thread and cached as JSON)."""
    clean = df.replace([np.inf, -np.inf], np.nan)
    for col in clean.columns:                      # exact Python floats/ints (float32 -> float64)
        kind = clean[col].dtype.kind
        if kind == "f":
            clean[col] = clean[col].astype("float64")
        elif kind in "iu":
            clean[col] = clean[col].astype("int64")
    records = clean.astype(object).where(clean.notna(), None).to_dict(orient="records")
    return alt.Data(values=records)


def to_spec(chart) -> dict:
    """The Vega-Lite spec of an Altair chart, without Altair's (slow) JSON-schema validation."""
    return chart.to_dict(validate=False)


def _finite(df: pd.DataFrame, cols: list[str], positive: bool = False) -> pd.DataFrame:
    out = df.replace([np.inf, -np.inf], np.nan).dropna(subset=cols)
    if positive:
        for c in cols:
            out = out[out[c] > 0]
    return out


def _epochs_subset(df: pd.DataFrame, limit: int = MAX_EPOCHS_DRAWN) -> pd.DataFrame:
    """Keep at most `limit` evenly spaced epochs (always the first and the last)."""
    epochs = np.sort(df["epoch"].unique())
    if len(epochs) <= limit:
        return df
    keep = epochs[np.unique(np.linspace(0, len(epochs) - 1, limit).round().astype(int))]
    return df[df["epoch"].isin(keep)]


def _layer_color(depth: int) -> alt.Color:
    return alt.Color("layer_name:N", title="Layer", sort=[str(i) for i in range(1, depth + 1)] + ["out"],
                     scale=alt.Scale(scheme="viridis"),
                     legend=alt.Legend(columns=2 if depth > 12 else 1, symbolLimit=70))


def gradient_flow(layer_stats: pd.DataFrame, depth: int,
                  title: str = "Gradient flow: mean |dL/dW| per layer") -> alt.Chart:
    """Mean |gradient| of each layer's weights per epoch (log scale): the seed's Demo 3 chart."""
    df = _finite(_epochs_subset(layer_stats), ["grad_mean_abs"], positive=True)
    df = df[["epoch", "layer", "layer_name", "grad_mean_abs"]]
    return alt.Chart(inline(df), title=title, height=HEIGHT).mark_line(point=len(df) < 400).encode(
        x=alt.X("epoch:Q", title="Epoch"),
        y=alt.Y("grad_mean_abs:Q", title="Mean |dL/dW| (log)", scale=alt.Scale(type="log"), axis=LOG_AXIS),
        color=_layer_color(depth),
        tooltip=[alt.Tooltip("layer_name:N", title="Layer"), alt.Tooltip("epoch:Q", title="Epoch"),
                 alt.Tooltip("grad_mean_abs:Q", title="Mean |dL/dW|", format=".3e")])


def gradient_heatmap(layer_stats: pd.DataFrame, depth: int, title: str = "Gradient norm, layer × epoch") -> alt.Chart:
    """Layer x epoch heatmap of ||dL/dW|| on a log colour scale."""
    df = _finite(_epochs_subset(layer_stats, 60), ["grad_norm"], positive=True)
    df = df[["epoch", "layer", "layer_name", "grad_norm"]]
    return alt.Chart(inline(df), title=title, height=max(HEIGHT, 8 * (depth + 1))).mark_rect().encode(
        x=alt.X("epoch:O", title="Epoch", axis=alt.Axis(labelOverlap=True)),
        y=alt.Y("layer_name:O", title="Layer (1 = input side)",
                sort=[str(i) for i in range(1, depth + 1)] + ["out"]),
        color=alt.Color("grad_norm:Q", title="‖dL/dW‖", scale=alt.Scale(type="log", scheme="inferno"),
                        legend=alt.Legend(format=".0e")),
        tooltip=[alt.Tooltip("layer_name:N", title="Layer"), alt.Tooltip("epoch:Q", title="Epoch"),
                 alt.Tooltip("grad_norm:Q", title="‖dL/dW‖", format=".3e")])


def learning_curve(epoch_stats: pd.DataFrame, metric: str) -> alt.Chart:
    """Train and test `metric` ("loss" or "acc") per epoch."""
    es = _finite(_epochs_subset(epoch_stats, 200), ["train_loss", "test_loss"])
    long = es.melt("epoch", [f"train_{metric}", f"test_{metric}"], "series", "value")
    long["split"] = np.where(long.series.str.startswith("train"), "train", "test")
    y = (alt.Y("value:Q", title="Loss (nats)") if metric == "loss" else
         alt.Y("value:Q", title="Accuracy (fraction)", scale=alt.Scale(domain=[0, 1])))
    return alt.Chart(inline(long[["epoch", "split", "value"]]), title="Loss" if metric == "loss" else "Accuracy",
                     height=HEIGHT - 40).mark_line().encode(
        x=alt.X("epoch:Q", title="Epoch"), y=y,
        color=alt.Color("split:N", title="Split", scale=alt.Scale(domain=["train", "test"])),
        tooltip=[alt.Tooltip("split:N"), alt.Tooltip("epoch:Q", title="Epoch"),
                 alt.Tooltip("value:Q", title=metric, format=".4f")])


def decision_boundary(surface: np.ndarray, grid_x: np.ndarray, grid_y: np.ndarray, X: np.ndarray,
                      y: np.ndarray, epoch: int) -> alt.Chart:
    """P(class 1) on the grid as a heatmap, with (at most MAX_POINTS_DRAWN) training points."""
    gx, gy = np.meshgrid(grid_x, grid_y)
    dx, dy = float(grid_x[1] - grid_x[0]), float(grid_y[1] - grid_y[0])
    grid_df = pd.DataFrame({"x": gx.ravel(), "y": gy.ravel(), "x2": gx.ravel() + dx,
                            "y2": gy.ravel() + dy, "p": np.nan_to_num(surface.ravel(), nan=0.5)})
    step = max(1, len(X) // MAX_POINTS_DRAWN)
    pts = pd.DataFrame({"x": X[::step, 0], "y": X[::step, 1], "label": y[::step].astype(str)})
    heat = alt.Chart(inline(grid_df)).mark_rect(opacity=0.55).encode(
        x=alt.X("x:Q", title="x₀ (input 1)"), x2="x2", y=alt.Y("y:Q", title="x₁ (input 2)"), y2="y2",
        color=alt.Color("p:Q", title="P(class 1)", scale=alt.Scale(domain=[0, 1], scheme="redblue", reverse=True)),
        tooltip=[alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("y:Q", format=".2f"),
                 alt.Tooltip("p:Q", title="P(class 1)", format=".3f")])
    dots = alt.Chart(inline(pts)).mark_point(filled=True, size=36, stroke="white", strokeWidth=0.8, opacity=1).encode(
        x="x:Q", y="y:Q", shape=alt.Shape("label:N", title="Label"),
        fill=alt.Fill("label:N", scale=alt.Scale(domain=["0", "1"], range=["#b2182b", "#2166ac"]), legend=None),
        tooltip=[alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("y:Q", format=".2f"), "label:N"])
    return (heat + dots).properties(title=f"Decision surface at epoch {epoch}", height=HEIGHT + 40)


def gradient_distribution(hist: pd.DataFrame, depth: int, epoch: int) -> alt.Chart:
    """Share of each layer's weight gradients per log10|g| bin, as a layer x magnitude heatmap."""
    df = hist.copy()
    totals = df.groupby("layer_name")["count"].transform("sum").replace(0, np.nan)
    df["share"] = (df["count"] / totals).fillna(0.0)
    df = df[df["count"] > 0]
    return alt.Chart(inline(df), title=f"Gradient distribution at epoch {epoch}",
                     height=max(HEIGHT - 40, 8 * (depth + 1))).mark_rect().encode(
        x=alt.X("log10_lo:Q", title="log₁₀ |dL/dW| (bin start; -12 includes exact zeros)",
                scale=alt.Scale(domain=[-12, 2])),
        x2="log10_hi",
        y=alt.Y("layer_name:O", title="Layer", sort=[str(i) for i in range(1, depth + 1)] + ["out"]),
        color=alt.Color("share:Q", title="Share of entries", scale=alt.Scale(scheme="blues")),
        tooltip=[alt.Tooltip("layer_name:N", title="Layer"),
                 alt.Tooltip("log10_lo:Q", title="from log₁₀|g|"), alt.Tooltip("log10_hi:Q", title="to log₁₀|g|"),
                 alt.Tooltip("count:Q", title="Entries"), alt.Tooltip("share:Q", format=".1%")])


def update_ratio(layer_stats: pd.DataFrame, depth: int) -> alt.Chart:
    """||ΔW|| / ||W|| per layer per epoch (log scale) with the 1e-3 rule of thumb."""
    df = _finite(_epochs_subset(layer_stats), ["update_ratio"], positive=True)
    df = df[["epoch", "layer", "layer_name", "update_ratio"]]
    lines = alt.Chart(inline(df)).mark_line().encode(
        x=alt.X("epoch:Q", title="Epoch"),
        y=alt.Y("update_ratio:Q", title="‖ΔW‖ / ‖W‖ (log)", scale=alt.Scale(type="log"), axis=LOG_AXIS),
        color=_layer_color(depth),
        tooltip=[alt.Tooltip("layer_name:N", title="Layer"), alt.Tooltip("epoch:Q", title="Epoch"),
                 alt.Tooltip("update_ratio:Q", title="update / weight", format=".2e")])
    guide = alt.Chart(inline(pd.DataFrame({"y": [1e-3], "label": ["1e-3 guide"]}))).mark_rule(
        strokeDash=[6, 4], color="gray").encode(y="y:Q", tooltip=[alt.Tooltip("label:N", title="Rule of thumb")])
    return (lines + guide).properties(title="Update-to-weight ratio (≈1e-3 is a healthy step)", height=HEIGHT)


def signal_at_init(measured: pd.DataFrame, predicted: pd.DataFrame) -> alt.Chart:
    """RMS per-sample backward signal dL/dz per hidden layer at initialisation for each run, with
    the mean-field prediction dashed. measured: run, layer, signal_rms; predicted: run, layer, predicted."""
    m = _finite(measured, ["signal_rms"], positive=True)
    chart = alt.Chart(inline(m)).mark_line(point=True).encode(
        x=alt.X("layer:Q", title="Hidden layer (1 = input side)", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("signal_rms:Q", title="RMS of dLₙ/dz per point (log)", scale=alt.Scale(type="log"), axis=LOG_AXIS),
        color=alt.Color("run:N", title="Run", scale=RUN_COLORS),
        tooltip=[alt.Tooltip("run:N"), alt.Tooltip("layer:Q", title="Layer"),
                 alt.Tooltip("signal_rms:Q", title="measured", format=".3e")])
    if len(predicted):
        p = _finite(predicted, ["predicted"], positive=True)
        chart = chart + alt.Chart(inline(p)).mark_line(strokeDash=[5, 4]).encode(
            x="layer:Q", y="predicted:Q", color=alt.Color("run:N", scale=RUN_COLORS),
            tooltip=[alt.Tooltip("run:N"), alt.Tooltip("layer:Q", title="Layer"),
                     alt.Tooltip("predicted:Q", title="mean-field theory", format=".3e")])
    return chart.properties(title="Backward signal per layer at initialisation (solid: measured, dashed: theory)",
                            height=HEIGHT)


def mean_hidden_gradient(df: pd.DataFrame) -> alt.Chart:
    """Mean over hidden layers of mean |dL/dW| per epoch for each run: the seed's Demo 4 chart.

    df: run, epoch, grad_mean_abs."""
    d = _finite(_epochs_subset(df), ["grad_mean_abs"], positive=True)
    chart = alt.Chart(inline(d), title="Mean gradient over all hidden layers", height=HEIGHT)
    return chart.mark_line(point=True).encode(
        x=alt.X("epoch:Q", title="Epoch"),
        y=alt.Y("grad_mean_abs:Q", title="Mean |dL/dW| (log)", scale=alt.Scale(type="log"), axis=LOG_AXIS),
        color=alt.Color("run:N", title="Run", scale=RUN_COLORS),
        tooltip=[alt.Tooltip("run:N"), alt.Tooltip("epoch:Q", title="Epoch"),
                 alt.Tooltip("grad_mean_abs:Q", title="Mean |dL/dW|", format=".3e")])


def loss_both(df: pd.DataFrame) -> alt.Chart:
    """Training loss per epoch for both runs. df: run, epoch, train_loss."""
    d = _finite(_epochs_subset(df, 200), ["train_loss"])
    return alt.Chart(inline(d), title="Training loss", height=HEIGHT).mark_line().encode(
        x=alt.X("epoch:Q", title="Epoch"), y=alt.Y("train_loss:Q", title="Loss (nats)"),
        color=alt.Color("run:N", title="Run", scale=RUN_COLORS),
        tooltip=[alt.Tooltip("run:N"), alt.Tooltip("epoch:Q"), alt.Tooltip("train_loss:Q", format=".4f")])


def unit_health(df: pd.DataFrame) -> alt.Chart:
    """Saturated and dead percentages per hidden layer at the last epoch for both runs.

    df: run, layer, measure, share."""
    d = _finite(df, ["share"])
    return alt.Chart(inline(d), height=HEIGHT - 60).mark_bar().encode(
        x=alt.X("layer:O", title="Hidden layer"),
        xOffset="run:N",
        y=alt.Y("share:Q", title="Share (%)", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("run:N", title="Run", scale=RUN_COLORS),
        column=alt.Column("measure:N", title=None),
        tooltip=[alt.Tooltip("run:N"), alt.Tooltip("layer:O"), alt.Tooltip("measure:N"),
                 alt.Tooltip("share:Q", format=".0%")]
    ).properties(title="Saturated and dead units at the last epoch", width=300)


def depth_sweep(df: pd.DataFrame) -> alt.Chart:
    """First/last hidden-layer gradient ratio vs depth, per activation x init, with a seed band."""
    d = _finite(df, ["ratio_mean", "ratio_lo", "ratio_hi"], positive=True).copy()
    d["config"] = d["activation"] + " + " + d["init"]
    enc = dict(x=alt.X("depth:Q", title="Depth (hidden layers)"),
               color=alt.Color("config:N", title="Activation + init", scale=alt.Scale(scheme="category10")))
    band = alt.Chart(inline(d)).mark_area(opacity=0.18).encode(
        y=alt.Y("ratio_lo:Q", title="|g₁| / |g_last| at init (log)", scale=alt.Scale(type="log"), axis=LOG_AXIS),
        y2="ratio_hi:Q", **enc)
    line = alt.Chart(inline(d)).mark_line(point=True).encode(
        y="ratio_mean:Q", **enc,
        tooltip=[alt.Tooltip("config:N"), alt.Tooltip("depth:Q"),
                 alt.Tooltip("ratio_mean:Q", title="ratio (geo. mean)", format=".2e"),
                 alt.Tooltip("ratio_lo:Q", title="min over seeds", format=".2e"),
                 alt.Tooltip("ratio_hi:Q", title="max over seeds", format=".2e")])
    return (band + line).properties(title="Depth sweep: how much of the gradient reaches layer 1",
                                    height=HEIGHT + 40)


def error_dots(df: pd.DataFrame, value: str, title: str, x_title: str) -> alt.Chart:
    """An error per parameter as a dot on a log axis (exact zeros drawn at 1e-18)."""
    d = df[["parameter", value, "pass"]].copy()
    d["shown"] = d[value].clip(lower=1e-18)
    d["pass"] = d["pass"].map({True: "pass", False: "FAIL"})
    chart = alt.Chart(inline(d), title=title, height=alt.Step(24))
    return chart.mark_point(filled=True, size=90).encode(
        y=alt.Y("parameter:N", title="Parameter tensor", sort=None,
                axis=alt.Axis(labelLimit=240, labelOverlap=False)),
        x=alt.X("shown:Q", title=x_title, scale=alt.Scale(type="log", domain=[1e-18, 10]), axis=LOG_AXIS),
        color=alt.Color("pass:N", title="Check",
                        scale=alt.Scale(domain=["pass", "FAIL"], range=["#2ca02c", "#d62728"])),
        tooltip=[alt.Tooltip("parameter:N"), alt.Tooltip(f"{value}:Q", title=x_title, format=".3e"),
                 alt.Tooltip("pass:N", title="Check")])


def computational_graph(result, x, W1, W2, y) -> str:
    """Graphviz DOT of the seed's net, micrograd style: every node shows its value and dL/d(node).

    Built from numbers only (nothing user-typed reaches the DOT text)."""
    def node(name, title, value, grad=None, shape="box", color="#f7f7f7"):
        g = "" if grad is None else f"\\ngrad {fmt(grad)}"
        return f'"{name}" [label="{title}\\n{fmt(value)}{g}", shape={shape}, style=filled, fillcolor="{color}"];'

    lines = ["digraph G {", "rankdir=LR;", "nodesep=0.25;", "ranksep=0.45;",
             'node [fontname="Helvetica", fontsize=15, margin="0.12,0.06"];']
    for i in range(2):
        lines.append(node(f"x{i}", f"x{i + 1}", x[i], color="#e8f0fe"))
        for j in range(2):
            lines.append(node(f"W1_{i}{j}", f"W1[{i + 1}][{j + 1}]", W1[i][j], result.dW1[i][j], color="#fff4e5"))
    for j in range(2):
        lines.append(node(f"z1_{j}", f"z1[{j + 1}] = Σ x·W1", result.z1[j], result.dL_dz1[j], "ellipse"))
        lines.append(node(f"h{j}", f"h[{j + 1}] = φ(z1)", result.h[j], result.dL_dh[j], "ellipse"))
        lines.append(node(f"W2_{j}", f"W2[{j + 1}]", W2[0][j], result.dW2[0][j], color="#fff4e5"))
        lines += [f'"x{i}" -> "z1_{j}";' for i in range(2)] + [f'"W1_{i}{j}" -> "z1_{j}";' for i in range(2)]
        lines += [f'"z1_{j}" -> "h{j}";', f'"h{j}" -> "z2";', f'"W2_{j}" -> "z2";']
    lines.append(node("z2", "z2 = h·W2ᵀ", result.z2, result.dL_dz2, "ellipse"))
    lines.append(node("yp", "ŷ = σ(z2)", result.y_pred, result.steps[0].value, "ellipse"))
    lines.append(node("y", "target y", y, color="#e8f0fe"))
    lines.append(node("L", "loss L", result.loss, 1.0, "doubleoctagon", "#fde2e2"))
    lines += ['"z2" -> "yp";', '"yp" -> "L";', '"y" -> "L";', "}"]
    return "\n".join(lines)
