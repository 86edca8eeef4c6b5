from dataclasses import astuple

import streamlit as st

from backprop_core.config import PRESETS, TrainConfig
from backprop_core.training import final_metrics
from dashboard import charts, compute, controls
from dashboard.links import page_train_params

params = page_train_params("flow")
notices = controls.prepare(params, other_keys=("epoch",))

st.title("Gradient flow during training")
st.markdown("Train a small network on a 2-D dataset and watch the gradient that reaches every layer, "
            "epoch by epoch. Gradients that shrink toward the input side starve the early layers.")
controls.show_notices(notices)

with st.sidebar:
    st.header("Network and training")
    values = controls.widgets(params)
cfg = TrainConfig.from_values(values)
controls.budget_guard(cfg)

controls.preset_buttons(params, [(label, PRESETS[name]) for label, name in (
    ("Seed demo 3", "seed demo 3"), ("Healthy deep ReLU", "healthy deep relu"),
    ("Exploding", "exploding"), ("Dying sigmoid", "dying 10-layer sigmoid"))])

run, diagnosis = compute.training(cfg)
st.markdown(f"**Run:** {cfg.summary()}")
controls.show_verdict(diagnosis)
final = final_metrics(run)
m = st.columns(4)
m[0].metric("Status", run.status)
m[1].metric("Train loss", controls.fmt_metric(final["train_loss"], "{:.4f}"))
m[2].metric("Train accuracy", controls.fmt_metric(final["train_acc"], "{:.1%}"))
m[3].metric("Test accuracy", controls.fmt_metric(final["test_acc"], "{:.1%}"))
if not len(run.layer_stats):
    st.info("Training diverged during its first epoch, before any gradient could be recorded: there is "
            "nothing to chart. Lower the learning rate or pick a smaller initialisation.",
            icon=":material/info:")
    st.stop()

key = astuple(cfg)
a, b = st.columns(2)
compute.chart(a, (key, "flow"), lambda: charts.gradient_flow(run.layer_stats, run.depth))
compute.chart(b, (key, "heatmap"), lambda: charts.gradient_heatmap(run.layer_stats, run.depth))
c1, c2 = st.columns(2)
compute.chart(c1, (key, "loss"), lambda: charts.learning_curve(run.epoch_stats, "loss"))
compute.chart(c2, (key, "acc"), lambda: charts.learning_curve(run.epoch_stats, "acc"))
compute.chart(st, (key, "update"), lambda: charts.update_ratio(run.layer_stats, run.depth))


@st.fragment
def scrub(run):
    st.subheader("Scrub through training")
    epoch = controls.epoch_scrubber(sorted(run.surfaces))
    left, right = st.columns(2)
    d, key = run.data, astuple(run.config)
    compute.chart(left, (key, "surface", epoch), lambda: charts.decision_boundary(
        run.surfaces[epoch], run.grid_x, run.grid_y, d.X_train.numpy(), d.y_train.numpy(), epoch))
    grad_epoch = min(epoch, len(run.grad_hist) - 1)
    if epoch > grad_epoch:
        right.caption(f"Gradients are recorded at the first step of each epoch; the last record, shown here, "
                      f"is from epoch {grad_epoch}.")
    compute.chart(right, (key, "hist", grad_epoch),
                  lambda: charts.gradient_distribution(run.hist_frame(grad_epoch), run.depth, grad_epoch))


if run.surfaces:
    scrub(run)

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
        "magnitude (bins of 0.5 in log₁₀|g|, so two bins per power of ten).")
