"""Gradient flow: train a network and watch the gradient that reaches every layer, epoch by epoch."""
from dataclasses import astuple
from functools import partial

import streamlit as st

from backprop_core import readout
from backprop_core.config import NET_PARAM, PROBE_PARAM, SUB_PARAM
from dashboard import chart_data, charts, computing, controls, network_part, output_layer, player, training_page

# ---- read params
page = training_page.set_up(
    "flow", "Gradient flow during training",
    "Train a small network on a 2-D dataset and watch the gradient that reaches every layer, epoch by epoch. "
    "Gradients that shrink toward the input side starve the early layers.",
    "Network and training", [("Seed demo 3", "seed demo 3"), ("Healthy deep ReLU", "healthy deep relu"),
                             ("Exploding", "exploding"), ("Dying sigmoid", "dying 10-layer sigmoid")],
    other_params=(NET_PARAM, PROBE_PARAM, SUB_PARAM), other_keys=("epoch",))
cfg, task = page.cfg, page.cfg.task
controls.budget_guard(cfg)

# ---- compute
shown = None if page.problem else computing.runs(cfg)[0]
run, diagnosis = (None, None) if shown is None else (shown.result, shown.diagnosis)

# ---- draw
training_page.stop_without_data(page, run)
st.markdown(f"**Run:** {cfg.summary()}")
controls.show_verdict(diagnosis)
m = st.container(horizontal=True)
train_label, test_label = readout.metric_labels(task)
for label in ("Status", "Train loss", train_label, test_label):
    m.metric(label if not (cfg.custom and label == test_label) else f"{test_label} (= training points)",
             shown.readout[label], help=readout.STATUS_HELP if label == "Status" else None)
computing.show_rounding(shown)
computing.show_modes(shown)
training_page.stop_without_statistics(run)

row = st.container(horizontal=True, gap="medium")
lines, zeros = chart_data.grad_lines(run)
charts.draw(row, "grad_flow", grad_lines=lines, grad_zero=zeros)
heat, heat_zero = chart_data.heat(run)
charts.draw(row, "heatmap", heat=heat, heat_zero=heat_zero, heat_domain=chart_data.heat_domain([heat]))
row = st.container(horizontal=True, gap="medium")
charts.draw(row, charts.for_task("loss", task), curve=chart_data.curve(run, "loss"))
charts.draw(row, charts.for_task("acc", task), curve=chart_data.curve(run, "score"))
charts.draw(st, "update_ratio", update_lines=chart_data.update_lines(run))


@st.fragment
def scrub(run):
    st.subheader("Scrub through training")
    epochs = sorted(run.surfaces)
    drawing = network_part.wanted()
    epoch, playing = player.controls_for(epochs, drawing)
    hist_epoch = run.hist_epoch(epoch)
    last = " (the last one recorded)." if hist_epoch != epoch else "."
    surface = "prediction" if task.regression else "decision"
    st.container(key=player.STILL_CAPTION).caption(
        f"The {surface} surface after {epoch} epoch{'s' if epoch != 1 else ''}, and the gradients at the first step "
        f"of epoch {hist_epoch}{last} Play steps through every recorded epoch.")
    row = st.container(horizontal=True, gap="medium")
    image = player.at_epochs(("surface", astuple(cfg)), lambda e: chart_data.surface_image(
        run.grid_x, run.grid_y, run.surfaces[e], task.regression), epoch, epochs)
    charts.draw(row, charts.for_task("surface", task), surface_image=image,
                surface_points=chart_data.surface_points(run.X_train, run.y_train))
    hist = player.at_epochs(("hist", astuple(cfg)), partial(chart_data.hist, run), epoch, epochs)
    charts.draw(row, "grad_distribution", hist=hist)
    if drawing:
        network_part.draw(run, epoch, playing)


if run.surfaces:
    scrub(run)

output_layer.explain(run)
st.download_button("Download per-epoch, per-layer statistics (CSV)",
                   data=lambda: run.layer_stats.to_csv(index=False), file_name="backprop-lab-layer-stats.csv",
                   mime="text/csv", icon=":material/download:", on_click="ignore")
with st.expander("What the statistics mean"):
    st.markdown(
        "- **Mean |dL/dW|**: the average size of a layer's weight gradient at the first step of each epoch.\n"
        "- **‖dL/dW‖**: its L2 norm; the heatmap shows it for every layer and epoch.\n"
        "- **Update-to-weight ratio** ‖ΔW‖/‖W‖: how much one step changes a layer. Around 1e-3 is a "
        "common rule of thumb; far below, the layer barely learns; far above, it is thrashing.\n"
        "- **Gradient distribution**: the share of a layer's weight gradients in each half-decade of "
        "magnitude (bins of 0.5 in log₁₀|g|, so two bins per power of ten), with exact zeros, everything "
        "below 1e-12 and everything from 1e2 up in bins of their own.\n"
        "- **Exact zeros** cannot sit on a log scale: the band marked = 0 under a line chart, and grey cells "
        "in a heatmap, show where a gradient is exactly 0 (a dead unit passes none).")
controls.code_for_view("flow", page.values | {"pts": cfg.pts, "probe": st.session_state.get("probe", ""),
                                              "epoch": st.session_state.get("epoch")})
