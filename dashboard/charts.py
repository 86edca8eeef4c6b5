"""Every chart of the app, as a template.

Each chart kind's Vega-Lite spec is built once by Altair with named datasets, and its text is
byte-identical from one view to the next: whatever depends on the data lives in the data (layer
numbers instead of per-depth sort lists and legends, fixed heights, no epoch in a title). A rerun
ships only Arrow tables built from numpy columns, and Streamlit's frontend then swaps the data
inside the existing Vega view instead of building a new one (tests/test_browser.py checks that the
view survives a rerun). Every chart has a title, axis titles with units, tooltips, and log scales
where gradients span decades; all but SVG_KINDS draw on canvas.

    draw(container, "grad_flow", grad_lines=chart_data.grad_lines(run))
"""
from __future__ import annotations

import json
from functools import cache, partial

import altair as alt
import numpy as np
import pyarrow as pa

from backprop_core.points import POINT_CLASSES
from backprop_core.tasks import CLASSES_RANGE, Task
from dashboard import raster

HEIGHT = 280
ZERO_BAND = 36                  # pixels at the bottom of a log chart for its "= 0" band
# Log axes: the domain is widened to whole powers of ten, and ticks, grid lines and labels sit on
# powers of ten only (1e-8, 1e-6, ... when crowded, every other one), so the labels read evenly.
LOG_SCALE = alt.Scale(type="log", nice=True)
LOG_AXIS = alt.Axis(format=".0e", labelOverlap="parity",      # every decade, then every tenth one (an overflowing run)
                    values=[10.0 ** k for k in range(-40, 21)] + [10.0 ** k for k in range(30, 200, 10)])
RUN_COLORS = alt.Scale(domain=["chosen", "fixed"], range=["#d62728", "#1f77b4"])
LAYER_COLOR = alt.Color("layer:Q", title="Layer (last: output)",
                        scale=alt.Scale(scheme="viridis"), legend=alt.Legend(format="d", tickMinStep=1))
BY_LAYER = alt.EncodingSortField(field="layer", op="min", order="ascending")
POINT = alt.OverlayMarkDef(size=14, filled=True)


# Play (dashboard/player.py): a chart the player animates carries the frames of every recorded epoch in a
# `frame` column and shows the one the player announces: an event PLAYER_EVENT on the page's body, whose
# `value` holds the epoch. Vega listens to it itself, so a frame costs the server nothing. (The body, and
# not an element of the page: Vega looks its element up once, when a view starts, and the body is there
# before any view, whatever order the page's elements arrive in.) Rows with frame -1 (a still view's
# only rows) always show; before the player's first frame (or on a page without one), the rows flagged
# `still` do.
PLAYER_EVENT = "bp-frame"
FRAME = alt.param(name="frame", value="", bind=alt.BindDirect(element="body", event=PLAYER_EVENT))
FRAME_FILTER = "datum.frame < 0 || (!frame ? datum.still == 1 : datum.frame == toNumber(frame))"

EPOCH_X = alt.X("epoch:Q", title="Epoch", axis=alt.Axis(tickMinStep=1, format="d"))   # whole epochs only


def _layer_tooltip(value: str, title: str, fmt: str = ".3e") -> list:
    return [alt.Tooltip("layer_name:N", title="Layer"), alt.Tooltip("epoch:Q", title="Epoch"),
            alt.Tooltip(f"{value}:Q", title=title, format=fmt)]


ZERO_COLOR = "#9e9e9e"          # exact zeros: grey, outside every colour scheme used here


def _zero_band(dataset: str, color: alt.Color, by: str, who: alt.Tooltip):
    """The "= 0" band along the bottom of a log chart: a cell wherever the value is exactly 0 (a log
    scale cannot draw it), one row per layer (or run). It shares the chart's x axis, so the epoch
    axis spans the whole run, and takes the bottom ZERO_BAND pixels, which the log scale leaves free."""
    return alt.Chart(alt.NamedData(dataset)).mark_rect(opacity=0.85).encode(
        x=alt.X("e0:Q"), x2="e1:Q",
        y=alt.Y(by, title="= 0", scale=alt.Scale(range=[{"expr": "height"}, {"expr": f"height - {ZERO_BAND}"}],
                                                 paddingInner=0.1),
                axis=alt.Axis(labels=False, ticks=False, domain=False, grid=False, orient="left", titleAngle=0,
                              titleAlign="right", titleBaseline="middle",
                              titleY={"expr": f"height - {ZERO_BAND / 2}"})),
        color=color,
        tooltip=[who, alt.Tooltip("epoch:Q", title="Epoch"), alt.Tooltip("zero:N", title="Value")],
    ).transform_calculate(e0="datum.epoch - 0.5", e1="datum.epoch + 0.5", zero="'exactly 0'")


def _with_zero_band(chart, band, title: str):
    """A log chart over its "= 0" band: one x scale, separate y scales and axes."""
    return alt.layer(chart, band, height=HEIGHT,
                     title=alt.Title(title, subtitle="band at the bottom: exactly 0", subtitleColor="#666")
                     ).resolve_scale(y="independent").resolve_axis(y="independent")


# a log y scale that leaves the bottom ZERO_BAND pixels (and a gap) to the "= 0" band
BANDED_LOG_SCALE = alt.Scale(type="log", nice=True, range=[{"expr": f"height - {ZERO_BAND + 10}"}, 0])


def _grad_flow():
    lines = alt.Chart(alt.NamedData("grad_lines")).mark_line(point=POINT, strokeWidth=1.5).encode(
        x=EPOCH_X, y=alt.Y("grad:Q", title="Mean |dL/dW| (log)", scale=BANDED_LOG_SCALE, axis=LOG_AXIS),
        color=LAYER_COLOR, detail="layer_name:N", tooltip=_layer_tooltip("grad", "Mean |dL/dW|"))
    band = _zero_band("grad_zero", LAYER_COLOR, "layer:O", alt.Tooltip("layer_name:N", title="Layer"))
    return _with_zero_band(lines, band, "Gradient flow: mean |dL/dW| per layer")


def _heatmap(name: str, title: str = "Gradient norm ‖dL/dW‖, layer × epoch"):
    """Positive norms on a log colour scale, exact zeros grey, and two invisible cells that carry
    the colour domain (the smallest and largest norm of the pair a learner compares)."""
    x = alt.X("epoch:O", title="Epoch", axis=alt.Axis(labelOverlap=True, labelAngle=0))
    y = alt.Y("layer_name:O", title="Layer (1 = input side)", sort=BY_LAYER, axis=alt.Axis(labelOverlap=True))
    color = alt.Color("grad_norm:Q", title="‖dL/dW‖", scale=alt.Scale(type="log", scheme="inferno"),
                      legend=alt.Legend(format=".0e"))
    cells = alt.Chart(alt.NamedData(name)).mark_rect().encode(
        x=x, y=y, color=color, tooltip=_layer_tooltip("grad_norm", "‖dL/dW‖"))
    zeros = alt.Chart(alt.NamedData(f"{name}_zero")).mark_rect(color=ZERO_COLOR).encode(
        x=x, y=y, tooltip=[alt.Tooltip("layer_name:N", title="Layer"), alt.Tooltip("epoch:Q", title="Epoch"),
                           alt.Tooltip("zero:N", title="‖dL/dW‖")]).transform_calculate(zero="'exactly 0'")
    domain = alt.Chart(alt.NamedData(f"{name}_domain")).mark_rect(opacity=0).encode(x=x, y=y, color=color)
    return alt.layer(cells, zeros, domain, height=HEIGHT,
                     title=alt.Title(title, subtitle="grey: exactly 0", subtitleColor="#666"))


# colours by the splits' sorted order (test, train, train + L2 penalty); no fixed domain, so a legend
# lists only the splits a run has
SPLIT_COLORS = alt.Scale(range=["#ff7f0e", "#1f77b4", "#7f7f7f"])


LOSS_AXIS = {False: "Loss (nats)", True: "Loss (squared units of y)"}        # by regression
LOSS_TITLE = {False: "Loss (cross-entropy)", True: "Loss (mean squared error)"}


def _curve(metric: str, regression: bool = False):
    if metric == "loss":
        y, title = alt.Y("value:Q", title=LOSS_AXIS[regression]), LOSS_TITLE[regression]
    elif regression:                       # R² is 1 for a perfect fit, 0 for predicting the mean, below for worse
        y = alt.Y("value:Q", title="R² (1 = perfect fit)", scale=alt.Scale(domainMax=1))
        title = "R² (share of the targets' variance explained)"
    else:
        y = alt.Y("value:Q", title="Accuracy (fraction)", scale=alt.Scale(domain=[0, 1]))
        title = "Accuracy"
    return alt.Chart(alt.NamedData("curve"), title=title, height=HEIGHT - 40).mark_line().encode(
        x=EPOCH_X, y=y,
        color=alt.Color("split:N", title="Split", scale=SPLIT_COLORS),
        tooltip=[alt.Tooltip("split:N", title="Split"), alt.Tooltip("epoch:Q", title="Epoch"),
                 alt.Tooltip("value:Q", title=metric, format=".4f")])


def _update_ratio():
    lines = alt.Chart(alt.NamedData("update_lines")).mark_line(point=POINT, strokeWidth=1.5).encode(
        x=EPOCH_X,
        y=alt.Y("ratio:Q", title="‖ΔW‖ / ‖W‖ per step (log)", scale=LOG_SCALE, axis=LOG_AXIS),
        color=LAYER_COLOR, detail="layer_name:N", tooltip=_layer_tooltip("ratio", "update / weight", ".2e"))
    guide = alt.Chart().mark_rule(strokeDash=[6, 4], color="gray").encode(y=alt.datum(1e-3))
    return alt.layer(lines, guide, height=HEIGHT, title=alt.Title(
        "Update-to-weight ratio", subtitle="dashed: the 1e-3 rule of thumb", subtitleColor="#666"))


SURFACE_COLOR = alt.Color("p:Q", title="P(class 1)",
                          scale=alt.Scale(domain=[0, 0.5, 1], range=raster.LEGEND_RANGE))
VALUE_SCALE = alt.Scale(domain=[-1, 0, 1], range=raster.VALUE_LEGEND_RANGE, clamp=True)
VALUE_COLOR = alt.Color("value:Q", title="Predicted y", scale=VALUE_SCALE)
TARGET_SCALE = alt.Scale(domain=[-1, 0, 1], range=[raster.VALUE_COLORS[0], "#d9d9d9", raster.VALUE_COLORS[1]],
                         clamp=True)
PLANE_X = alt.X("x:Q", title="x₁ (input 1)", scale=alt.Scale(zero=False, nice=False))
PLANE_Y = alt.Y("y:Q", title="x₂ (input 2)", scale=alt.Scale(zero=False, nice=False))
SQUARE = 340                    # the clickable plane: a square domain, drawn square at any width


def _points_layer(classes: int = 2):
    """The training points, shape and colour by class (0..classes-1); beyond two classes with a legend
    of them (two classes: the P(class 1) legend says which colour is which)."""
    domain = [str(c) for c in range(classes)]
    return alt.Chart(alt.NamedData("surface_points")).mark_point(
        filled=True, size=40, stroke="white", strokeWidth=0.8, opacity=1).encode(
        x="x:Q", y="y:Q", shape=alt.Shape("label:N", title="Class", scale=alt.Scale(domain=domain)),
        fill=alt.Fill("label:N", scale=alt.Scale(domain=domain, range=list(raster.CLASS_COLORS[:classes])),
                      legend=None if classes == 2 else alt.Legend(title="Class", symbolSize=90, symbolStrokeWidth=0)),
        tooltip=[alt.Tooltip("x:Q", title="x₁", format=".2f"), alt.Tooltip("y:Q", title="x₂", format=".2f"),
                 alt.Tooltip("label:N", title="Class")])


def _value_points_layer():
    """Regression: the training points coloured by their target on the surface's scale, at full
    strength (the surface is a tint of it), so a well-fitted dot is a darker spot of its background."""
    return alt.Chart(alt.NamedData("surface_points")).mark_point(
        filled=True, size=40, stroke="white", strokeWidth=0.6, opacity=1).encode(
        x="x:Q", y="y:Q", fill=alt.Fill("target:Q", scale=TARGET_SCALE, legend=None),
        tooltip=[alt.Tooltip("x:Q", title="x₁", format=".2f"), alt.Tooltip("y:Q", title="x₂", format=".2f"),
                 alt.Tooltip("target:Q", title="target y", format=".3f")])


def _surface_image():
    return alt.Chart(alt.NamedData("surface_image")).mark_image(aspect=False, smooth=True).encode(
        x=PLANE_X, x2="x2", y=PLANE_Y, y2="y2", url="url:N").transform_filter(FRAME_FILTER)


def _surface():
    """The model's P(class 1) over the plane as one smoothly scaled image (dashboard/raster.py),
    the points on top, and a colour legend for P."""
    legend = alt.Chart(alt.Data(values=[{"p": 0.0}, {"p": 1.0}])).mark_point(opacity=0, size=0).encode(
        color=SURFACE_COLOR)
    return alt.layer(_surface_image(), legend, _points_layer(), title="Decision surface", height=HEIGHT + 40
                     ).add_params(FRAME)


def _surface_classes(classes: int):
    """K classes: each place coloured by its most likely class, paler where the network is less sure
    (white where all K are equally likely); the class legend comes from the points."""
    return alt.layer(_surface_image(), _points_layer(classes), height=HEIGHT + 40, title=alt.Title(
        "Decision surface", subtitle="colour: the most likely class; paler: less sure", subtitleColor="#666")
    ).add_params(FRAME)


def _surface_value():
    """Regression: the predicted value over the plane, and the points coloured by their targets."""
    legend = alt.Chart(alt.Data(values=[{"value": -1.0}, {"value": 1.0}])).mark_point(opacity=0, size=0).encode(
        color=VALUE_COLOR)
    return alt.layer(_surface_image(), legend, _value_points_layer(), height=HEIGHT + 40, title=alt.Title(
        "Prediction surface", subtitle="background: the network's y; dots: the targets", subtitleColor="#666")
    ).add_params(FRAME)


def _surface_clickable():
    """The same plane as clickable cells (a click selects the cell's centre) for your own data."""
    heat = alt.Chart(alt.NamedData("surface_grid")).mark_rect().encode(
        x=PLANE_X, x2="x2", y=PLANE_Y, y2="y2", color=SURFACE_COLOR,
        tooltip=[alt.Tooltip("cx:Q", title="x₁", format=".2f"), alt.Tooltip("cy:Q", title="x₂", format=".2f"),
                 alt.Tooltip("p:Q", title="P(class 1)", format=".3f")]
    ).add_params(alt.selection_point(name="add_point", on="click", fields=["cx", "cy"], clear=False, empty=False))
    return alt.layer(heat, _points_layer(), title="Decision surface (click to add a point)", height=SQUARE,
                     width=SQUARE)


NODE_PX = {"network": 30, "network_wide": 17}    # a unit's output map, in pixels: up to 8 units a layer, or 16
NET_AXIS = alt.Axis(labels=False, ticks=False, grid=False, domain=False)


def _network(kind: str = "network"):
    """Units as their output maps over the input plane (brown below 0, teal above, each scaled to its
    own largest |h|), edges by weight (blue +, red −, opaque as large) and gradient (width); dead units
    ringed black, saturated ones orange. Tooltips carry the numbers."""
    x = alt.X("x:Q", title="inputs → hidden layers 1..D → output", axis=NET_AXIS,
              scale=alt.Scale(padding=48, nice=False, zero=False))
    y = alt.Y("y:Q", title="units", axis=NET_AXIS, scale=alt.Scale(padding=18, nice=False, zero=False))
    edges = alt.Chart(alt.NamedData("network_edges")).transform_filter(FRAME_FILTER).mark_rule().encode(
        x=x, y=y, x2="x2:Q", y2="y2:Q",
        color=alt.Color("sign:N", title="Weight sign",
                        scale=alt.Scale(domain=["+", "−"], range=["#2166ac", "#b2182b"])),
        opacity=alt.Opacity("strength:Q", legend=None, scale=alt.Scale(domain=[0, 1], range=[0.12, 0.9])),
        strokeWidth=alt.StrokeWidth("width:Q", scale=None),
        tooltip=[alt.Tooltip("weight:N", title="weight w"), alt.Tooltip("size:N", title="width shows")])
    px = NODE_PX[kind]
    node_data = alt.Chart(alt.NamedData("network_nodes")).transform_filter(FRAME_FILTER)
    maps = node_data.mark_image(width=px, height=px).encode(x=x, y=y, url="url:N")
    rings = node_data.mark_square(size=px * px * 1.3, filled=False, strokeWidth=2).encode(
        x=x, y=y,
        stroke=alt.Stroke("status:N", title="Unit", scale=alt.Scale(
            domain=["unit", "dead", "saturated", "input", "output"],
            range=["#bbbbbb", "#000000", "#ff7f0e", "#555555", "#555555"])),
        tooltip=[alt.Tooltip("label:N", title="unit"), alt.Tooltip("z:N", title="z"),
                 alt.Tooltip("h:N", title="h (output: p or ŷ)"), alt.Tooltip("dz:N", title="dL/dz")])
    inputs = node_data.transform_filter("datum.status == 'input'").mark_text(
        dx=-px, align="right", fontSize=11).encode(x=x, y=y, text="label:N")
    outputs = node_data.transform_filter("datum.status == 'output'").mark_text(
        dx=px, align="left", fontSize=11).encode(x=x, y=y, text="label:N")
    layers = node_data.transform_filter(       # one node per layer
        "datum.status == 'unit' && datum.url == ''").mark_text(dy=-px, fontSize=11).encode(
        x=x, y=y, text="label:N")
    height = 420 if kind == "network" else 460
    return alt.layer(edges, maps, rings, inputs, outputs, layers, height=height, title=alt.Title(
        "The network: inputs → hidden units → output",
        subtitle="each unit shows its output over the input plane; edges: colour = sign of w, width = the "
                 "gradient shown", subtitleColor="#666")).add_params(FRAME)


def _surface_clickable_classes():
    """The clickable plane for more than two classes: each cell in its most likely class's colour."""
    heat = alt.Chart(alt.NamedData("surface_grid")).mark_rect().encode(
        x=PLANE_X, x2="x2", y=PLANE_Y, y2="y2", color=alt.Color("fill:N", scale=None),
        tooltip=[alt.Tooltip("cx:Q", title="x₁", format=".2f"), alt.Tooltip("cy:Q", title="x₂", format=".2f"),
                 alt.Tooltip("label:N", title="Most likely class"), alt.Tooltip("p:Q", title="Its P", format=".3f")]
    ).add_params(alt.selection_point(name="add_point", on="click", fields=["cx", "cy"], clear=False, empty=False))
    return alt.layer(heat, _points_layer(POINT_CLASSES), title="Decision surface (click to add a point)",
                     height=SQUARE, width=SQUARE)


# The histogram's axis: log10|g| from 1e-12 to 1e2 in half decades, with a bin for exact zeros set apart
# on the left, one for everything below 1e-12 and one for 1e2 and above (chart_data.HIST_LO places them).
HIST_TICKS = {-13.75: "0", -12.25: "<1e-12", **{v: f"1e{v}" for v in (-9, -6, -3, 0)}, 2.25: "≥1e2"}


def _grad_distribution():
    label = " : ".join(f"datum.value == {v} ? '{t}'" for v, t in HIST_TICKS.items()) + " : ''"
    chart = alt.Chart(alt.NamedData("hist"), title=alt.Title(
        "Gradient distribution per layer", subtitle="half-decade bins; exact 0, below 1e-12 and from 1e2 up apart",
        subtitleColor="#666"), height=HEIGHT - 40).transform_filter(FRAME_FILTER).add_params(FRAME)
    return chart.mark_rect().encode(
        x=alt.X("lo:Q", title="|dL/dW| (log scale)", scale=alt.Scale(domain=[-14.25, 2.75], nice=False, zero=False),
                axis=alt.Axis(values=list(HIST_TICKS), labelExpr=label, labelOverlap=False, grid=False)),
        x2="hi",
        y=alt.Y("layer_name:O", title="Layer", sort=BY_LAYER, axis=alt.Axis(labelOverlap=True)),
        color=alt.Color("share:Q", title="Share of entries", scale=alt.Scale(scheme="blues", domain=[0, 1]),
                        legend=alt.Legend(format=".0%")),
        tooltip=[alt.Tooltip("layer_name:N", title="Layer"), alt.Tooltip("bin:N", title="|dL/dW|"),
                 alt.Tooltip("count:Q", title="Entries"), alt.Tooltip("share:Q", title="Share", format=".1%")])


def _signal_at_init():
    measured = alt.Chart(alt.NamedData("signal_measured")).mark_line(point=True).encode(
        x=alt.X("layer:Q", title="Hidden layer (1 = input side)", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("signal:Q", title="RMS of dLₙ/dz per point (log)", scale=LOG_SCALE, axis=LOG_AXIS),
        color=alt.Color("run:N", title="Run", scale=RUN_COLORS),
        tooltip=[alt.Tooltip("run:N", title="Run"), alt.Tooltip("layer:Q", title="Layer"),
                 alt.Tooltip("signal:Q", title="measured", format=".3e")])
    predicted = alt.Chart(alt.NamedData("signal_predicted")).mark_line(strokeDash=[5, 4]).encode(
        x="layer:Q", y="predicted:Q", color=alt.Color("run:N", scale=RUN_COLORS),
        tooltip=[alt.Tooltip("run:N", title="Run"), alt.Tooltip("layer:Q", title="Layer"),
                 alt.Tooltip("predicted:Q", title="mean-field theory", format=".3e")])
    return alt.layer(measured, predicted, height=HEIGHT,
                     title="Backward signal per layer at initialisation (solid: measured, dashed: theory)")


def _mean_hidden_gradient():
    run_color = alt.Color("run:N", title="Run", scale=RUN_COLORS)
    lines = alt.Chart(alt.NamedData("mean_grad")).mark_line(point=POINT).encode(
        x=EPOCH_X, y=alt.Y("grad:Q", title="Mean |dL/dW| (log)", scale=BANDED_LOG_SCALE, axis=LOG_AXIS),
        color=run_color,
        tooltip=[alt.Tooltip("run:N", title="Run"), alt.Tooltip("epoch:Q", title="Epoch"),
                 alt.Tooltip("grad:Q", title="Mean |dL/dW|", format=".3e")])
    band = _zero_band("mean_grad_zero", run_color, "run:N", alt.Tooltip("run:N", title="Run"))
    return _with_zero_band(lines, band, "Mean gradient over all hidden layers")


def _loss_both(regression: bool = False):
    return alt.Chart(alt.NamedData("loss_both"), title="Training loss", height=HEIGHT).mark_line().encode(
        x=EPOCH_X, y=alt.Y("loss:Q", title=LOSS_AXIS[regression]),
        color=alt.Color("run:N", title="Run", scale=RUN_COLORS),
        tooltip=[alt.Tooltip("run:N", title="Run"), alt.Tooltip("epoch:Q", title="Epoch"),
                 alt.Tooltip("loss:Q", title="Loss", format=".4f")])


UNIT_HEALTH = {"saturated": ("Saturated units at the last epoch", "|u| in the flat zone", "Saturated (%)"),
               "dead": ("Dead units at the last epoch", "ReLU output 0 for every training point", "Dead (%)")}


def _unit_health(measure: str):
    title, subtitle, axis = UNIT_HEALTH[measure]
    return alt.Chart(alt.NamedData(f"health_{measure}"), height=HEIGHT - 60,
                     title=alt.Title(title, subtitle=subtitle, subtitleColor="#666")).mark_bar().encode(
        x=alt.X("layer:O", title="Hidden layer", axis=alt.Axis(labelOverlap=True, labelAngle=0)),
        xOffset="run:N",
        y=alt.Y("share:Q", title=axis, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("run:N", title="Run", scale=RUN_COLORS),
        tooltip=[alt.Tooltip("run:N", title="Run"), alt.Tooltip("layer:O", title="Layer"),
                 alt.Tooltip("share:Q", title="Share", format=".0%")])


def _depth_sweep():
    enc = dict(x=alt.X("depth:Q", title="Depth (hidden layers)", scale=alt.Scale(zero=False, nice=False),
                       axis=alt.Axis(tickMinStep=1, format="d")),           # whole depths from 1
               color=alt.Color("config:N", title="Activation + init", scale=alt.Scale(scheme="category10")))
    band = alt.Chart(alt.NamedData("sweep")).mark_area(opacity=0.18).encode(
        y=alt.Y("lo:Q", title="|g₁| / |g_last| at init (log)", scale=LOG_SCALE, axis=LOG_AXIS),
        y2="hi:Q", **enc)
    line = alt.Chart(alt.NamedData("sweep")).mark_line(point=True).encode(
        y="ratio:Q", **enc,
        tooltip=[alt.Tooltip("config:N", title="Activation + init"), alt.Tooltip("depth:Q", title="Depth"),
                 alt.Tooltip("ratio:Q", title="ratio (geo. mean)", format=".2e"),
                 alt.Tooltip("lo:Q", title="min over seeds", format=".2e"),
                 alt.Tooltip("hi:Q", title="max over seeds", format=".2e")])
    return alt.layer(band, line, title="Depth sweep: how much of the gradient reaches layer 1", height=HEIGHT + 40)


def _error_dots():
    return alt.Chart(alt.NamedData("errors"), title="Manual backward vs autograd, per parameter tensor",
                     height=alt.Step(24)).mark_point(filled=True, size=90).encode(
        y=alt.Y("parameter:N", title="Parameter tensor", sort=alt.EncodingSortField(field="order", op="min"),
                axis=alt.Axis(labelLimit=240, labelOverlap=False)),
        x=alt.X("shown:Q", title="Relative error (log; exact zeros at 1e-18)",
                scale=alt.Scale(type="log", domain=[1e-18, 10]), axis=LOG_AXIS),
        color=alt.Color("check:N", title="Check",
                        scale=alt.Scale(domain=["pass", "FAIL"], range=["#2ca02c", "#d62728"])),
        tooltip=[alt.Tooltip("parameter:N", title="Tensor"),
                 alt.Tooltip("value:Q", title="relative error", format=".3e"),
                 alt.Tooltip("check:N", title="Check")])


def _fixes(regression: bool = False):
    score = "R²" if regression else "accuracy"
    x = (alt.X("train_score:Q", title="Final training R² (1 = perfect fit)", scale=alt.Scale(domainMax=1))
         if regression else
         alt.X("train_score:Q", title="Final training accuracy (%)", scale=alt.Scale(domain=[0, 1]),
               axis=alt.Axis(format=".0%", tickCount=5)))
    return alt.Chart(alt.NamedData("fixes"), title="Every fix in rank order (healthy and learned first): "
                     f"final training {score}",
                     height=alt.Step(26)).mark_bar().encode(
        y=alt.Y("label:N", title=None, sort=alt.EncodingSortField(field="rank", order="ascending"),
                axis=alt.Axis(labelLimit=240)),                          # whole fix names
        x=x,
        color=alt.Color("verdict:N", title="Verdict", scale=alt.Scale(
            domain=["healthy", "vanishing", "exploding", "diverged", "dead units", "saturated"],
            range=["#2ca02c", "#ff7f0e", "#d62728", "#7f0000", "#8c564b", "#9467bd"])),
        tooltip=[alt.Tooltip("label:N", title="Fix"), alt.Tooltip("verdict:N", title="Verdict"),
                 alt.Tooltip("train_score:Q", title=f"Train {score}", format=".4f" if regression else ".1%"),
                 alt.Tooltip("loss:Q", title="Final loss", format=".4f")])


BUILDERS = {
    "grad_flow": _grad_flow, "heatmap": lambda: _heatmap("heat"),
    "heat_chosen": lambda: _heatmap("heat_chosen", "Chosen run: ‖dL/dW‖, layer × epoch"),
    "heat_fixed": lambda: _heatmap("heat_fixed", "With the fix: ‖dL/dW‖, layer × epoch"),
    "loss": lambda: _curve("loss"), "acc": lambda: _curve("acc"), "update_ratio": _update_ratio,
    "loss_mse": lambda: _curve("loss", True), "r2": lambda: _curve("r2", True),
    "surface": _surface, "surface_clickable": _surface_clickable, "surface_value": _surface_value,
    "surface_clickable_classes": _surface_clickable_classes,
    **{f"surface_k{k}": partial(_surface_classes, k) for k in range(3, CLASSES_RANGE[1] + 1)},
    "loss_both_mse": lambda: _loss_both(True), "fixes_r2": lambda: _fixes(True), "network": _network,
    "network_wide": lambda: _network("network_wide"),
    "grad_distribution": _grad_distribution, "signal_at_init": _signal_at_init,
    "mean_hidden_gradient": _mean_hidden_gradient, "loss_both": _loss_both,
    "unit_saturated": lambda: _unit_health("saturated"), "unit_dead": lambda: _unit_health("dead"),
    "depth_sweep": _depth_sweep, "error_dots": _error_dots, "fixes": _fixes,
}


# Drawn as SVG: a chart of a few dozen marks whose labels are then text a browser (and a screen reader,
# and a test) can read; and the network drawing, whose image marks a canvas view stopped drawing once
# the player changed its frame (every frame came out blank in Chromium). Every other chart draws on
# canvas, which is faster for many marks.
SVG_KINDS = frozenset({"error_dots", "network", "network_wide"})


def for_task(kind: str, task: Task) -> str:
    """The template of chart `kind` for a run's task: the loss, score and fix charts have a regression
    twin (`loss_mse`, `r2`, `loss_both_mse`, `fixes_r2`); the surface one per number of classes."""
    if kind == "surface":
        return "surface_value" if task.regression else "surface" if task.classes == 2 else f"surface_k{task.classes}"
    if kind == "surface_clickable":
        return kind if task.classes == 2 else "surface_clickable_classes"
    if not task.regression:
        return kind
    return {"loss": "loss_mse", "acc": "r2", "loss_both": "loss_both_mse", "fixes": "fixes_r2"}.get(kind, kind)


@cache
def spec_text(kind: str) -> str:
    """The template's Vega-Lite JSON: built once by Altair (without its slow schema validation)."""
    spec = BUILDERS[kind]().to_dict(validate=False)
    spec["usermeta"] = {"embedOptions": {"renderer": "svg" if kind in SVG_KINDS else "canvas"}}
    # y labels exactly at their ticks (the theme nudges the end labels inward, so a line at
    # accuracy 1.0 sat above the "1.0" label, as if it were more)
    spec.setdefault("config", {}).setdefault("axisY", {})["labelFlush"] = False
    # ARIA descriptions only where they are drawn: Vega writes them into SVG alone, yet on a canvas
    # chart Vega-Lite would still build a description string for every mark item on every update
    # (about a fifth of Vega's time per rerun on /flow, bench/browser_profile.py)
    spec["config"]["aria"] = kind in SVG_KINDS
    return json.dumps(spec, sort_keys=True)


def arrow(columns: dict[str, np.ndarray | list]) -> bytes:
    """One dataset as Arrow IPC bytes, straight from numpy columns (strings may be lists)."""
    batch = pa.RecordBatch.from_pydict({k: (v if isinstance(v, list) else np.asarray(v)) for k, v in columns.items()})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def draw(container, kind: str, width: str = "stretch", **datasets: dict):
    """Draw chart `kind` with its datasets (name -> columns); extra keywords (key, on_select,
    selection_mode) go to st.vega_lite_chart. Returns what Streamlit returns."""
    options = {k: datasets.pop(k) for k in ("key", "on_select", "selection_mode") if k in datasets}
    spec = json.loads(spec_text(kind))
    # the template's own constant datasets (a legend's two rows) stay; the view's data is added
    spec["datasets"] = {**spec.get("datasets", {}), **{name: arrow(columns) for name, columns in datasets.items()}}
    return container.vega_lite_chart(spec=spec, width=width, **options)
