"""The vanishing-gradient debugger: a run beside the same run with one fix, every fix ranked,
Exercise 4, and the depth sweep."""
import streamlit as st

from backprop_core.activations import SWEEP_ACTIVATIONS
from backprop_core.config import FIX_PARAM, RANK_PARAM, SWEEP_PARAMS
from backprop_core.fixes import FIX_LABELS, apply_fix
from dashboard import chart_data, charts, computing, controls, exercise, fixes, training_page

# ---- read params
page = training_page.set_up(
    "vanishing", "The vanishing-gradient debugger",
    "The run you configure in the sidebar, and beside it the same run (same seed, same data) with **one** fix "
    "applied. Gradients that vanish leave the first layers frozen at their random start; a good fix brings them "
    "back.",
    "The run to debug", [("Seed demo 4", "seed demo 4"), ("A dying 10-layer sigmoid net", "dying 10-layer sigmoid"),
                         ("Exploding", "exploding")],
    extra=(FIX_PARAM,), other_params=(RANK_PARAM,) + SWEEP_PARAMS)
cfg, fix, params, hidden = page.cfg, page.values["fix"], page.params, page.hidden
fixed_cfg = apply_fix(cfg, fix)
controls.budget_guard(cfg, fixed_cfg)
exercise.track_fix(fix)
relu_withheld = exercise.withholds_relu(cfg)      # Exercise 4 asks the learner to predict the ReLU run first
withheld = relu_withheld and fix == "relu"        # then the run with the fix is neither shown nor trained yet

# ---- compute
if page.problem:
    shown = shown_f = None
elif withheld:
    (shown,), shown_f = computing.runs(cfg), None
    computing.ahead([fixed_cfg])                  # ready in a quiet moment, for when the learner asks for it
else:
    shown, shown_f = computing.runs(cfg, fixed_cfg)
run, diagnosis = (None, None) if shown is None else (shown.result, shown.diagnosis)
run_f, diagnosis_f = (None, None) if shown_f is None else (shown_f.result, shown_f.diagnosis)

# ---- draw
training_page.stop_without_data(page, run)
pair = {"chosen": run} if withheld else {"chosen": run, "fixed": run_f}
left, right = st.columns(2)
with left:
    st.markdown(f"**Chosen run:** {cfg.summary()}")
    controls.show_verdict(diagnosis)
    computing.show_rounding(shown, "The chosen run")
    computing.show_modes(shown, "the chosen run")
with right:
    st.markdown(f"**With fix `{fix}`**: {FIX_LABELS[fix]}")
    if withheld:
        exercise.withheld_notice()
    else:
        controls.show_verdict(diagnosis_f, prefix=f"Verdict with {fix}")
        computing.show_rounding(shown_f, "The run with the fix")
        computing.show_modes(shown_f, "the run with the fix")
fixes.suggested(diagnosis, cfg, params, hidden)

training_page.stop_without_statistics(*pair.values())
measured, predicted = chart_data.signal(pair)
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
heats = {name: chart_data.heat(r) for name, r in pair.items()}
domain = chart_data.heat_domain([positive for positive, _ in heats.values()])     # one colour scale for both
for name, (heat, zero) in heats.items():
    charts.draw(row, f"heat_{name}", **{f"heat_{name}": heat, f"heat_{name}_zero": zero,
                                        f"heat_{name}_domain": domain})
row = st.container(horizontal=True, gap="medium")
mean_grad, mean_zero = chart_data.mean_hidden_gradient(pair)
charts.draw(row, "mean_hidden_gradient", mean_grad=mean_grad, mean_grad_zero=mean_zero)
charts.draw(row, charts.for_task("loss_both", cfg.task), loss_both=chart_data.losses(pair))
row = st.container(horizontal=True, gap="medium")
for measure in ("saturated", "dead"):
    if (health := chart_data.unit_health(pair, measure)) is not None:
        charts.draw(row, f"unit_{measure}", **{f"health_{measure}": health})

fixes.ranked(cfg, params, hidden, withheld={"relu"} if relu_withheld else set())
exercise.render(cfg)


@st.fragment
def depth_sweep():
    st.subheader("Depth sweep (Glorot & Bengio style)")
    data = "linear" if cfg.custom else cfg.data           # your own points are too few to sweep on
    st.markdown("For every depth, how much of the gradient at the last hidden layer reaches the first one, at "
                f"initialisation, for {len(SWEEP_ACTIVATIONS)} activations, on {data} data"
                f"{', ' + cfg.task.words() if cfg.task.words() and not cfg.custom else ''}. The band spans the seeds.")
    row = st.container(horizontal=True, gap="medium")
    depth, init, seeds = (controls.widget(p, row) for p in SWEEP_PARAMS)
    args = ("depth_sweep", depth, SWEEP_ACTIVATIONS, (init,), seeds, data, cfg.classes if not cfg.custom else 2)
    df = computing.job(*args, text="Depth sweep")
    charts.draw(st, "depth_sweep", sweep=computing.columns(args, lambda: chart_data.sweep(df)))


depth_sweep()
controls.code_for_view("vanishing", page.values | {"pts": cfg.pts})
