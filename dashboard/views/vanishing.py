from dataclasses import astuple

import pandas as pd
import streamlit as st

from backprop_core.config import FIX_LABELS, FIX_PARAM, PRESETS, SWEEP_ACTIVATIONS, SWEEP_PARAMS, TrainConfig, apply_fix
from backprop_core.theory import expected_gradient_scale
from dashboard import charts, compute, controls
from dashboard.links import page_train_params

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

controls.preset_buttons(params, [(label, PRESETS[name]) for label, name in (
    ("Seed demo 4", "seed demo 4"), ("A dying 10-layer sigmoid net", "dying 10-layer sigmoid"),
    ("Exploding", "exploding"))])

run, diagnosis = compute.training(cfg)
run_f, diagnosis_f = compute.training(fixed_cfg)

left, right = st.columns(2)
with left:
    st.markdown(f"**Chosen run:** {cfg.summary()}")
    controls.show_verdict(diagnosis)
with right:
    st.markdown(f"**With fix `{fix}`**: {FIX_LABELS[fix]}")
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


def layer_frame(r, name: str) -> pd.DataFrame:
    ls = r.layer_stats
    return ls[ls.layer <= r.depth].assign(run=name)


def at_init(r, name) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Measured mean|dL/dW| per hidden layer at initialisation, and the theory scaled to it."""
    e0 = layer_frame(r, name)
    e0 = e0[e0.epoch == 0][["run", "layer", "grad_mean_abs"]]
    c = r.config
    if c.norm != "none" or c.residual or e0.empty:
        return e0, None
    theory = expected_gradient_scale(c.depth, c.width, c.act, c.init)
    scale = float(e0.grad_mean_abs.iloc[-1])
    return e0, pd.DataFrame({"run": name, "layer": theory.layer, "predicted": theory.relative * scale})


def init_chart():
    (m1, p1), (m2, p2) = at_init(run, "chosen"), at_init(run_f, "fixed")
    predicted = [p for p in (p1, p2) if p is not None]
    return charts.per_layer_at_init(pd.concat([m1, m2]), pd.concat(predicted) if predicted else None)


def both_runs() -> pd.DataFrame:
    return pd.concat([layer_frame(run, "chosen"), layer_frame(run_f, "fixed")])


def mean_gradient_chart():
    return charts.mean_hidden_gradient(both_runs().groupby(["run", "epoch"], as_index=False)["grad_mean_abs"].mean())


def loss_chart():
    losses = pd.concat([run.epoch_stats.assign(run="chosen"), run_f.epoch_stats.assign(run="fixed")])
    return charts.loss_both(losses[["run", "epoch", "train_loss"]])


def health_chart():
    both = both_runs()
    last = both[both.epoch == both.groupby("run").epoch.transform("max")]
    health = last.melt(["run", "layer"], ["saturated", "dead"], "measure", "share")
    health["measure"] = health["measure"].map({"saturated": "saturated (sigmoid/tanh)", "dead": "dead (ReLU family)"})
    return charts.unit_health(health)


key = (astuple(cfg), astuple(fixed_cfg))
compute.chart(st, (key, "init"), init_chart)
if cfg.norm != "none" or cfg.residual or fixed_cfg.norm != "none" or fixed_cfg.residual:
    st.caption("The dashed theory line covers plain MLPs (no normalisation, no residual connections).")
else:
    st.caption("Theory: each layer multiplies the backward signal by √(width · Var(w) · E[φ′(z)²]); "
               "normalised to the measured gradient of the last hidden layer.")
h1, h2 = st.columns(2)
compute.chart(h1, (astuple(cfg), "heatmap", "chosen"),
              lambda: charts.gradient_heatmap(run.layer_stats, run.depth, "Chosen run: ‖dL/dW‖, layer × epoch"))
compute.chart(h2, (astuple(fixed_cfg), "heatmap", fix),
              lambda: charts.gradient_heatmap(run_f.layer_stats, run_f.depth, f"With {fix}: ‖dL/dW‖, layer × epoch"))
g1, g2 = st.columns(2)
compute.chart(g1, (key, "mean_gradient"), mean_gradient_chart)
compute.chart(g2, (key, "loss"), loss_chart)
compute.chart(st, (key, "health"), health_chart, width="content")

st.subheader("Exercise 4: make gradients vanish, then bring them back")
if fix == "relu":
    st.session_state["_tried_relu"] = True
fixed_acc = float(run_f.epoch_stats.train_acc.iloc[-1])
tasks = [
    (cfg.depth >= 8 and cfg.act in ("sigmoid", "tanh"),
     "Build a deep network: at least 8 hidden layers of sigmoid or tanh (sidebar)."),
    (diagnosis.verdict == "vanishing",
     "Train it and see the gradient vanish: the verdict on the left says *vanishing*."),
    (st.session_state.get("_tried_relu", False),
     "Swap ReLU in for every activation (Fix to compare = relu). Does that alone fix it? Read the verdict."),
    (diagnosis.verdict == "vanishing" and diagnosis_f.verdict == "healthy" and fixed_acc >= 0.9,
     "Find a single fix whose run is *healthy* and reaches at least 90% training accuracy."),
]
for done, text in tasks:
    st.markdown((":material/check_box: " if done else ":material/check_box_outline_blank: ") + text)
if all(done for done, _ in tasks):
    st.success(f"Exercise 4 complete: `{fix}` brought the gradient back ({fixed_acc:.0%} training accuracy).",
               icon=":material/celebration:")

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
