"""The vanishing-gradient debugger: a run beside the same run with one fix, and Exercise 4."""
from dataclasses import astuple

import streamlit as st

from backprop_core.config import FIX_LABELS, FIX_PARAM, PRESETS, SWEEP_ACTIVATIONS, SWEEP_PARAMS, TrainConfig, apply_fix
from dashboard import charts, compute, controls, exercise, frames
from dashboard.links import page_train_params

# ---- read params
params = page_train_params("vanishing")
sweep_params = {p.key: p for p in SWEEP_PARAMS}
notices = controls.prepare(params + (FIX_PARAM,) + SWEEP_PARAMS)
st.title("The vanishing-gradient debugger")
st.markdown("The run you configure on the left, and beside it the same run (same seed, same data) "
            "with **one** fix applied. Gradients that vanish leave the first layers frozen at their "
            "random start; a good fix brings them back.")
controls.show_notices(notices)
with st.sidebar:
    st.header("The run to debug")
    values = controls.widgets(params)
    fix = controls.widget(FIX_PARAM)
cfg = TrainConfig.from_values(values)
fixed_cfg = apply_fix(cfg, fix)
controls.budget_guard(cfg, fixed_cfg)
exercise.track_fix(fix)
controls.preset_buttons(params, [(label, PRESETS[name]) for label, name in (
    ("Seed demo 4", "seed demo 4"), ("A dying 10-layer sigmoid net", "dying 10-layer sigmoid"),
    ("Exploding", "exploding"))])

# ---- compute
run, diagnosis = compute.training(cfg)
run_f, diagnosis_f = compute.training(fixed_cfg)
runs = {"chosen": run, "fixed": run_f}

# ---- draw
left, right = st.columns(2)
with left:
    st.markdown(f"**Chosen run:** {cfg.summary()}")
    controls.show_verdict(diagnosis)
with right:
    st.markdown(f"**With fix `{fix}`**: {FIX_LABELS[fix]}")
    if exercise.hides_relu_verdict(cfg, fix):
        st.info("The ReLU run's verdict is hidden until you lock in your prediction (Exercise 4, step 3, "
                "below).", icon=":material/visibility_off:")
    else:
        controls.show_verdict(diagnosis_f, prefix=f"Verdict with {fix}")


def apply_changes(target: TrainConfig) -> None:
    """Button callback: move the sidebar controls (and so the URL) to the fixed config."""
    for p in params:
        st.session_state[p.key] = getattr(target, p.key)


if diagnosis.fixes:
    st.markdown("**Suggested fixes, best first** (each applies one change to the sidebar):")
    cols = st.columns(len(diagnosis.fixes))
    for col, f in zip(cols, diagnosis.fixes, strict=True):
        col.button(f.label, key=f"apply_{f.key}", help=f.why, on_click=apply_changes, args=(f.config,),
                   width="stretch")

if not len(run.layer_stats) or not len(run_f.layer_stats):
    st.info("A run diverged during its first epoch, before any gradient could be recorded: there is nothing "
            "to chart for it. Lower the learning rate or pick a smaller initialisation.", icon=":material/info:")
else:
    key = (astuple(cfg), astuple(fixed_cfg))
    compute.chart(st, (key, "init"), lambda: charts.signal_at_init(*frames.signal_at_init_frames(runs)))
    if any(not frames.has_theory(r) for r in runs.values()):
        st.caption("The dashed theory line covers plain MLPs (no normalisation, no residual connections).")
    st.caption("The weight gradient of a layer is its backward signal times its input, averaged over the batch. "
               "The signal is what shrinks or grows from layer to layer: mean-field theory multiplies it by "
               "√(width · Var(w) · E[φ′(z)²]) at each step down, starting from the output error, for these very "
               "inputs.")
    h1, h2 = st.columns(2)
    compute.chart(h1, (astuple(cfg), "heatmap", "chosen"),
                  lambda: charts.gradient_heatmap(run.layer_stats, run.depth, "Chosen run: ‖dL/dW‖, layer × epoch"))
    compute.chart(h2, (astuple(fixed_cfg), "heatmap", fix),
                  lambda: charts.gradient_heatmap(run_f.layer_stats, run_f.depth,
                                                  f"With {fix}: ‖dL/dW‖, layer × epoch"))
    g1, g2 = st.columns(2)
    compute.chart(g1, (key, "mean_gradient"), lambda: charts.mean_hidden_gradient(frames.mean_hidden_gradient(runs)))
    compute.chart(g2, (key, "loss"), lambda: charts.loss_both(frames.losses(runs)))
    compute.chart(st, (key, "health"), lambda: charts.unit_health(frames.unit_health(runs)), width="content")

exercise.render(cfg)

st.subheader("Depth sweep (Glorot & Bengio style)")
st.markdown("For every depth, how much of the gradient at the last hidden layer reaches the first one, at "
            "initialisation, for four activations. The band spans the seeds.")
s1, s2, s3 = st.columns(3)
sweep_depth = controls.widget(sweep_params["sweep_depth"], s1)
sweep_init = controls.widget(sweep_params["sweep_init"], s2)
sweep_seeds = controls.widget(sweep_params["sweep_seeds"], s3)
bar = st.progress(0.0, text="Depth sweep")
df = compute.depth_sweep(sweep_depth, SWEEP_ACTIVATIONS, (sweep_init,), sweep_seeds,
                         progress=lambda k, total: bar.progress(k / total, text=f"Depth sweep {k}/{total}"))
bar.empty()
compute.chart(st, ("sweep", sweep_depth, sweep_init, sweep_seeds), lambda: charts.depth_sweep(df))
