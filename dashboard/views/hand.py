"""Gradients by hand: the seed's two-layer net, its graph, backprop step by step, the chain rule
one factor at a time, and a self-check."""
import streamlit as st

from backprop_core import hand
from backprop_core.config import HAND_PARAMS, HAND_PRESETS, STEP_PARAM, WALK_STEPS, hand_inputs, random_hand_values
from dashboard import controls, graph

# ---- read params
notices = controls.prepare(HAND_PARAMS + (STEP_PARAM,), other_keys=("reveal",))
st.title("Gradients by hand")
st.markdown("A two-layer network with one sample: $z_1 = x W_1$, $h = \\phi(z_1)$, "
            "$z_2 = h W_2^\\top$, $\\hat y = \\sigma(z_2)$ and binary cross-entropy loss $L$. "
            "Change any number and follow the chain rule from $L$ back to every weight.")
controls.show_notices(notices)
seed_col, _ = st.columns([1, 3])
rand_seed = seed_col.number_input("Random example from seed", 0, 9999, 7, key="rand_seed",
                                  help="Pick a seed, then press the Random button for a reproducible example.")
controls.preset_buttons(HAND_PARAMS, [("Seed demo", HAND_PRESETS["seed demo"]),
                                      ("Exercise 1", HAND_PRESETS["exercise 1"]),
                                      (f"Random #{rand_seed}", random_hand_values(rand_seed))])
v = controls.hand_panel()
x, W1, W2, y, act = hand_inputs(v)

# ---- compute
r = hand.two_layer(x, W1, W2, y, act)
walk = hand.walkthrough(r, x, W1, W2, y, act)

# ---- draw
st.subheader("Forward pass")
f1, f2, f3 = st.columns(3)
f1.latex(rf"z_1 = x W_1 = {hand.to_latex(r.z1)}")
f1.latex(rf"h = \phi(z_1) = {hand.to_latex(r.h)}")
f2.latex(rf"z_2 = h W_2^\top = {hand.fmt(r.z2)}")
f2.latex(rf"\hat y = \sigma(z_2) = {hand.fmt(r.y_pred)}")
f3.latex(r"L = -[y\log\hat y + (1-y)\log(1-\hat y)]")
f3.latex(rf"= {hand.fmt(r.loss)}")


def _move(delta: int) -> None:
    st.session_state[STEP_PARAM.key] = min(max(st.session_state.get(STEP_PARAM.key, 0) + delta, 0), WALK_STEPS)


st.subheader("Backprop step by step")
playing = st.toggle("Play", key="step_play", help="Advance one step every 1.5 seconds until the end.")


@st.fragment(run_every=1.5 if playing else None)
def step_by_step():
    if st.session_state.get("step_play"):            # the clock ticked: one more step, or the end
        if st.session_state.get(STEP_PARAM.key, 0) >= WALK_STEPS:
            st.session_state["step_play"] = False
            st.rerun()
        _move(1)
    c_prev, c_next, c_slider = st.columns([1, 1, 6])
    c_prev.button("Previous", key="step_prev", icon=":material/chevron_left:", on_click=_move, args=(-1,),
                  width="stretch")
    c_next.button("Next", key="step_next", icon=":material/chevron_right:", on_click=_move, args=(1,),
                  width="stretch")
    with c_slider:
        step = controls.widget(STEP_PARAM)
    if step == 0:
        st.caption("Step 0 shows the finished graph: every value and, below it, dL/d(node). Press Next (or "
                   "Play) to compute it one node and one chain-rule factor at a time.")
    else:
        s = walk[step - 1]
        st.markdown(f"**Step {step} of {WALK_STEPS}, {s.phase} pass:** {s.title}")
    st.graphviz_chart(graph.dot(r, x, W1, W2, y, walk, step), width="stretch")
    with st.container(border=True):
        if step == 0:
            a, b = st.columns(2)
            a.latex(rf"\frac{{\partial L}}{{\partial W_1}} = {hand.to_latex(r.dW1)}")
            b.latex(rf"\frac{{\partial L}}{{\partial W_2}} = {hand.to_latex(r.dW2)}")
        else:
            for line in walk[step - 1].latex:
                st.latex(line)
            st.caption("Values marked ? are not computed yet; the highlighted nodes are being computed from "
                       "the highlighted edges.")


step_by_step()

st.subheader("Backward pass: the chain rule, one factor at a time")
st.info("Shortcut: with a sigmoid output and cross-entropy loss the first two factors cancel into "
        "$\\partial L/\\partial z_2 = \\hat y - y$. It is also the stable way to compute it: "
        "$\\partial L/\\partial \\hat y$ alone overflows when the sigmoid saturates.", icon=":material/lightbulb:")
for i, step in enumerate(r.steps, 1):
    with st.container(border=True):
        a, b = st.columns([1, 1.6])
        a.markdown(f"**Step {i}**")
        a.latex(rf"{step.symbol} = {step.formula}")
        b.latex(rf"= {step.substituted}")
        b.latex(rf"= {hand.to_latex(step.value)}")
        b.caption(step.intuition)

st.subheader("Result")
g1, g2 = st.columns(2)
g1.latex(rf"\frac{{\partial L}}{{\partial W_1}} = {hand.to_latex(r.dW1)}")
g2.latex(rf"\frac{{\partial L}}{{\partial W_2}} = {hand.to_latex(r.dW2)}")

st.subheader("Check yourself")
st.markdown(f"Work each factor out on paper and type it in. An answer counts as right within "
            f"{hand.ANSWER_ATOL:g} plus {hand.ANSWER_RTOL:.1%} of the true value. The seed's "
            "exercise is the **Exercise 1** button at the top of the page.")
entries = [(step, label, value) for step in r.steps for label, value in step.entries()]
with st.form("check_yourself"):
    cols = st.columns(4)
    answers = [cols[k % 4].text_input(f"{step.key}{label}", key=f"ans_{step.key}{label}", max_chars=40)
               for k, (step, label, value) in enumerate(entries)]
    submitted = st.form_submit_button("Check my answers")
reveal = st.toggle("Reveal solutions", key="reveal", bind="query-params")
if submitted or reveal:
    rows = []
    for (step, label, value), text in zip(entries, answers, strict=True):
        verdict = hand.grade_answer(text, value)
        mark = "right" if verdict else ("wrong" if verdict is False else "no number")
        rows.append({"quantity": f"{step.key}{label}", "your answer": text[:40], "mark": mark,
                     "solution": hand.fmt(value) if reveal else "(hidden)"})
    right = sum(row["mark"] == "right" for row in rows)
    st.write(f"**{right} of {len(rows)} right.**")
    st.dataframe(rows, hide_index=True, width="stretch")
controls.code_for_view("hand", v)
