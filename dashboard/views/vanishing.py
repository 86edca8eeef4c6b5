"""The vanishing-gradient debugger: a run beside the same run with one fix, every fix ranked,
Exercise 4, and the depth sweep."""
import streamlit as st

from backprop_core.config import (
    FIX_LABELS,
    FIX_PARAM,
    PRESETS,
    PTS_PARAM,
    RANK_PARAM,
    SWEEP_ACTIVATIONS,
    SWEEP_PARAMS,
    TrainConfig,
    apply_fix,
    page_train_params,
    points_text,
)
from dashboard import charts, compute, controls, custom_data, exercise, fixes, frames, runs

# ---- read params
params = page_train_params("vanishing")
sweep_params = {p.key: p for p in SWEEP_PARAMS}
notices = controls.prepare(params + (FIX_PARAM, RANK_PARAM, PTS_PARAM) + SWEEP_PARAMS, other_keys=(controls.HIDE_KEY,))
hidden, hide_notices = controls.hidden_keys(params + (FIX_PARAM,))
st.title("The vanishing-gradient debugger")
st.markdown("The run you configure in the sidebar, and beside it the same run (same seed, same data) "
            "with **one** fix applied. Gradients that vanish leave the first layers frozen at their "
            "random start; a good fix brings them back.")
controls.show_notices(notices + hide_notices)
with st.sidebar:
    st.header("The run to debug")
    values = controls.train_widgets(params, hidden)
    fix = controls.widgets([FIX_PARAM], hidden=hidden)["fix"]
controls.show_set_by_link(params + (FIX_PARAM,), values | {"fix": fix}, hidden)
points, problem = custom_data.editor() if values["data"] == "custom" else ([], None)
cfg = TrainConfig.from_values(values | {"pts": points_text(points)})
fixed_cfg = apply_fix(cfg, fix)
controls.budget_guard(cfg, fixed_cfg)
exercise.track_fix(fix)
if not hidden:
    controls.preset_buttons(params, [(label, PRESETS[name]) for label, name in (
        ("Seed demo 4", "seed demo 4"), ("A dying 10-layer sigmoid net", "dying 10-layer sigmoid"),
        ("Exploding", "exploding"))])

# ---- compute
shown, shown_f = (None, None) if problem else runs.get(cfg, fixed_cfg)
(run, diagnosis), (run_f, diagnosis_f) = (((None, None), (None, None)) if problem else
                                          ((shown.result, shown.diagnosis), (shown_f.result, shown_f.diagnosis)))

# ---- draw
if cfg.custom:
    custom_data.clickable_surface(run, points)
if problem:
    st.warning(problem, icon=":material/scatter_plot:")
    st.stop()
relu_withheld = exercise.withholds_relu(cfg)      # Exercise 4 asks the learner to predict the ReLU run first
withheld = relu_withheld and fix == "relu"
pair = {"chosen": run} if withheld else {"chosen": run, "fixed": run_f}
left, right = st.columns(2)
with left:
    st.markdown(f"**Chosen run:** {cfg.summary()}")
    controls.show_verdict(diagnosis)
    runs.show_rounding(shown, "The chosen run")
    runs.show_modes(shown, "the chosen run")
with right:
    st.markdown(f"**With fix `{fix}`**: {FIX_LABELS[fix]}")
    if withheld:
        exercise.withheld_notice()
    else:
        controls.show_verdict(diagnosis_f, prefix=f"Verdict with {fix}")
        runs.show_rounding(shown_f, "The run with the fix")
        runs.show_modes(shown_f, "the run with the fix")
fixes.suggested(diagnosis, cfg, params, hidden)

if not len(run.stats) or not len(run_f.stats):
    st.info("A run diverged during its first epoch, before any gradient could be recorded: there is nothing "
            "to chart for it. Lower the learning rate or pick a smaller initialisation.", icon=":material/info:")
else:
    measured, predicted = frames.signal(pair)
    charts.draw(st, "signal_at_init", signal_measured=measured, signal_predicted=predicted)
    if any(r.theory is None for r in pair.values()):
        st.caption("The dashed theory line covers plain MLPs (no normalisation, no residual connections).")
    st.caption("The weight gradient of a layer is its backward signal times its input, averaged over the batch. "
               "The signal is what shrinks or grows from layer to layer: mean-field theory multiplies it by "
               "√(width · Var(w) · E[φ′(z)²]) at each step down, starting from the output error, for these very "
               "inputs. The dashed line predicts the average over random initialisations; the solid line is this "
               "seed's one network, which scatters around it (averaged over ten seeds the two agree within 1.5×; "
               "a single seed can be a few times off).")
    row = st.container(horizontal=True, gap="medium")
    heats = {name: frames.heat(r) for name, r in pair.items()}
    domain = frames.heat_domain([positive for positive, _ in heats.values()])     # one colour scale for both
    for name, (heat, zero) in heats.items():
        charts.draw(row, f"heat_{name}", **{f"heat_{name}": heat, f"heat_{name}_zero": zero,
                                            f"heat_{name}_domain": domain})
    row = st.container(horizontal=True, gap="medium")
    mean_grad, mean_zero = frames.mean_hidden_gradient(pair)
    charts.draw(row, "mean_hidden_gradient", mean_grad=mean_grad, mean_grad_zero=mean_zero)
    charts.draw(row, "loss_both", loss_both=frames.losses(pair))
    row = st.container(horizontal=True, gap="medium")
    for measure in ("saturated", "dead"):
        if (health := frames.unit_health(pair, measure)) is not None:
            charts.draw(row, f"unit_{measure}", **{f"health_{measure}": health})

fixes.ranked(cfg, params, hidden, withheld={"relu"} if relu_withheld else set())
exercise.render(cfg)


@st.fragment
def depth_sweep():
    st.subheader("Depth sweep (Glorot & Bengio style)")
    st.markdown("For every depth, how much of the gradient at the last hidden layer reaches the first one, at "
                "initialisation, for four activations. The band spans the seeds.")
    row = st.container(horizontal=True, gap="medium")
    depth = controls.widget(sweep_params["sweep_depth"], row)
    init = controls.widget(sweep_params["sweep_init"], row)
    seeds = controls.widget(sweep_params["sweep_seeds"], row)
    args = ("depth_sweep", depth, SWEEP_ACTIVATIONS, (init,), seeds)
    df = compute.cached_job(*args)
    if df is None:                                   # a progress bar only while it computes
        bar = st.progress(0.0, text="Depth sweep")
        df = compute.job(*args, progress=lambda k, total: bar.progress(k / total, text=f"Depth sweep {k}/{total}"))
        bar.empty()
    charts.draw(st, "depth_sweep", sweep=frames.sweep(df))


depth_sweep()
controls.code_for_view("vanishing", values | {"pts": cfg.pts, "fix": fix})
