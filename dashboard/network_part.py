"""/flow's network drawing at the scrubbed epoch, with the probe: one point's forward and backward
pass in four sub-steps (URL keys `probe`, `sub`), a table of every unit's numbers under it."""
from __future__ import annotations

from dataclasses import astuple
from functools import partial

import streamlit as st

from backprop_core.config import NET_PARAM, PROBE_PARAM, SUB_PARAM, probe_of
from backprop_core.digits import number
from backprop_core.results import DRAW_DEPTH, DRAW_WIDTH, RunResult
from dashboard import chart_data, charts, compute, controls, network_data, player

SUB_TEXT = {
    "forward": "**Forward.** Each unit computes z = a·wᵀ + b from the layer below, then h = φ(z). Hover a unit "
               "for its z and h at this point.",
    "loss": "**Loss.** The output turns into probabilities (or the predicted value), and the point's own loss "
            "compares it with the label.",
    "backward": "**Backward.** The error flows back: every unit's dL/dz, and every edge's width is that weight's "
                "dL/dw for this point alone (dL/dw = dL/dz of the unit above × h of the unit below).",
    "update": "**Update.** The optimiser steps with the whole batch's gradient, not this point's: edge widths "
              "show the step each weight took.",
}


def wanted() -> bool:
    """The "Show the network" toggle (`net=true`, or any link with a probe): the drawing is a large
    chart, and a page that does not show it keeps every rerun as fast as before (bench/RESULTS.md)."""
    if st.query_params.get(PROBE_PARAM.key) and NET_PARAM.key not in st.session_state:
        st.session_state[NET_PARAM.key] = True              # a link with a probe opens the drawing
    return controls.widget(NET_PARAM)


def draw(run: RunResult, epoch: int, playing: list[int] | None = None) -> None:
    """The drawing at `epoch`; while the player plays, the frames of the `playing` epochs
    (dashboard/player.py)."""
    cfg = run.config
    plural = "s" if epoch != 1 else ""
    st.subheader("The network, epoch by epoch" if playing else f"The network after {epoch} epoch{plural}")
    if run.snapshots is None or epoch not in run.snapshots.params:
        st.caption(f"A network larger than {DRAW_DEPTH} hidden layers × {DRAW_WIDTH} units is drawn one node per "
                   "layer (hover for its statistics): unit by unit it would be too many marks to read.")
        empty = {k: [] for k in ("x", "y", "x2", "y2", "sign", "strength", "width", "weight", "size")}
        nodes = player.at_epochs(("layer_nodes", astuple(cfg)), partial(network_data.layer_nodes, run), epoch, playing)
        charts.draw(st, "network", network_nodes=nodes, network_edges=chart_data.with_frame(empty))
        return
    row = st.container(horizontal=True)
    text = controls.widget(PROBE_PARAM, row)
    sub = controls.widget(SUB_PARAM, row)
    probe, problem = probe_of(text, cfg.task)
    if problem:
        controls.show_notices([problem])

    def view_at(e: int):
        return compute.keyed_job("network_view", (astuple(cfg), e, probe), cfg, e, run.snapshots, run.grid_x,
                                 run.grid_y, probe)

    view = view_at(epoch)
    frames = [e for e in playing if e in run.snapshots.params] if playing else None
    kind = "network" if cfg.width <= 8 else "network_wide"
    key = (astuple(cfg), sub, probe)
    charts.draw(st, kind, network_nodes=player.at_epochs(
                    ("nodes", *key), lambda e: network_data.nodes(run, view_at(e), sub), epoch, frames),
                network_edges=player.at_epochs(
                    ("edges", *key), lambda e: network_data.edges(run, view_at(e), sub, e), epoch, frames))
    if view.probe_note:
        st.info(view.probe_note, icon=":material/info:")
    if playing:
        st.caption("The probe's numbers are listed when the player is paused.")
        return
    if view.probe is None:
        st.caption("Edge widths: the whole batch's |dL/dW| at this epoch. Probe a point (x₁:x₂:label) to follow "
                   "its own forward and backward pass.")
        return
    st.markdown(SUB_TEXT[sub])
    if sub in ("loss", "backward", "update"):
        st.caption(f"This point's loss: {number(view.probe.loss)} ({cfg.task.loss_name}).")
    if sub == "update":
        st.caption(_update_rule(cfg))
    number_column = st.column_config.NumberColumn(format="%.4g")
    st.dataframe(network_data.probe_table(view, sub), hide_index=True, width="stretch",
                 column_config={k: number_column for k in ("z", "h", "dL/dz")})


def _update_rule(cfg) -> str:
    if cfg.opt == "sgd" and cfg.wd == 0 and cfg.clip == 0:
        return f"Plain SGD: W′ = W − lr · g with lr = {cfg.lr:g}, g the whole batch's dL/dW."
    if cfg.opt == "adam":
        return ("Adam: each weight moves by about lr · m̂ / (√v̂ + ε), m̂ and v̂ running averages of its past "
                "gradients and their squares, so every weight steps about lr at first, whatever its gradient's size.")
    return f"{cfg.opt} (lr {cfg.lr:g}): the step uses the whole batch's gradient and the optimiser's own state."
