"""Gradients by hand: the seed's two-layer net. The forward pass, then the learner predicts the
backward pass before the page shows it: check yourself, backprop step by step through the graph, the
chain rule one factor at a time. A gradient appears once the walk reaches it or the learner asks for
the solutions, never before."""
import streamlit as st

from backprop_core import hand
from backprop_core.config import HAND_PARAMS, STEP_PARAM, WALK_STEPS, hand_inputs
from backprop_core.presets import HAND_PRESETS, random_hand_values
from dashboard import controls, graph

REVEAL_KEY = "reveal"

# ---- read params
notices = controls.prepare(HAND_PARAMS + (STEP_PARAM,), other_keys=(REVEAL_KEY,))
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
st.html(graph.NARROW_SCREEN_CSS)
st.subheader("Forward pass")
f1, f2, f3 = st.columns(3)
f1.latex(rf"z_1 = x W_1 = {hand.to_latex(r.z1)}")
f1.latex(rf"h = \phi(z_1) = {hand.to_latex(r.h)}")
f2.latex(rf"z_2 = h W_2^\top = {hand.fmt(r.z2)}")
f2.latex(rf"\hat y = \sigma(z_2) = {hand.fmt(r.y_pred)}")
f3.latex(r"L = -[y\log\hat y + (1-y)\log(1-\hat y)]")
f3.latex(rf"= {hand.fmt(r.loss)}")

st.subheader("Predict the backward pass")
st.markdown("Before the page shows any gradient, work each chain-rule factor out on paper and type it in. An "
            f"answer counts as right when it agrees with the true value to {hand.ANSWER_SIG_FIGS} significant "
            f"figures (for example -1.83 for -1.826959), or within {hand.ANSWER_ATOL:g} of it. The seed's "
            "exercise is the **Exercise 1** button at the top of the page.")
entries = [(step, label, value) for step in r.steps for label, value in step.entries()]
with st.form("check_yourself"):
    boxes = st.container(horizontal=True)        # in the chain rule's order, wrapping on a narrow screen
    answers = [boxes.text_input(f"{step.key}{label}", key=f"ans_{step.key}{label}", max_chars=40, width=150)
               for step, label, value in entries]
    submitted = st.form_submit_button("Check my answers")
revealed = st.toggle("Reveal solutions", key=REVEAL_KEY, bind="query-params",
                     help="Shows every gradient on this page: in the table below, the graph and the chain rule.")
if submitted or revealed:
    rows = []
    for (step, label, value), text in zip(entries, answers, strict=True):
        verdict = hand.grade_answer(text, value)
        mark = "right" if verdict else ("wrong" if verdict is False else "no number")
        rows.append({"quantity": f"{step.key}{label}", "your answer": text[:40], "mark": mark,
                     "solution": hand.fmt(value) if revealed else "(hidden)"})
    right = sum(row["mark"] == "right" for row in rows)
    st.write(f"**{right} of {len(rows)} right.**" + ("" if revealed else " Walk through the graph below, or reveal "
                                                     "the solutions, to see the values."))
    st.dataframe(rows, hide_index=True, width="stretch")


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
        st.caption("Step 0 is before the walk: the graph shows the forward pass; each gradient (∇ ?) appears "
                   "when the walk computes it. Press Next (or Play) to go one node and one chain-rule factor at a "
                   "time.")
    else:
        s = walk[step - 1]
        st.markdown(f"**Step {step} of {WALK_STEPS}, {s.phase} pass:** {s.title}")
    st.graphviz_chart(graph.dot(r, x, W1, W2, y, walk, step, revealed), width="stretch")
    st.caption("z1 = x W1, h = φ(z1), z2 = h W2ᵀ, ŷ = σ(z2), L the loss. Under each value, ∇ is dL/d(node), the "
               "gradient of the loss with respect to it (4 significant digits; the equations below carry 6 decimals).")
    with st.container(border=True):
        if step == 0:
            st.caption("The step's formula, with this example's numbers, appears here during the walk.")
        else:
            for line in walk[step - 1].latex:
                st.latex(line)
            st.caption("Values marked ? are not computed yet; the highlighted nodes are being computed from "
                       "the highlighted edges.")
    chain_rule(hand.known_after(walk, step, revealed)[1])


def chain_rule(grads_known: set[str]) -> None:
    """Each factor's formula; its numbers once the walk has computed it or the solutions are revealed."""
    st.subheader("Backward pass: the chain rule, one factor at a time")
    st.info("Shortcut: with a sigmoid output and cross-entropy loss the first two factors cancel into "
            "$\\partial L/\\partial z_2 = \\hat y - y$. It is also the stable way to compute it: "
            "$\\partial L/\\partial \\hat y$ alone overflows when the sigmoid saturates.", icon=":material/lightbulb:")
    for i, factor in enumerate(r.steps, 1):
        with st.container(border=True):
            a, b = st.columns([1, 1.6])
            a.markdown(f"**Step {i}**")
            a.latex(rf"{factor.symbol} = {factor.formula}")
            if factor.key in grads_known:
                b.latex(rf"= {factor.substituted}")
                b.latex(rf"= {hand.to_latex(factor.value)}")
            else:
                b.caption(f"Your turn: work it out, then walk to step {hand.step_of(walk, factor.key)} of the graph "
                          "or reveal the solutions to compare.")
            b.caption(factor.intuition)

    st.subheader("Result")
    if {"dL_dW1", "dL_dW2"} <= grads_known:
        g1, g2 = st.columns(2)
        g1.latex(rf"\frac{{\partial L}}{{\partial W_1}} = {hand.to_latex(r.dW1)}")
        g2.latex(rf"\frac{{\partial L}}{{\partial W_2}} = {hand.to_latex(r.dW2)}")
    else:
        st.caption(f"dL/dW₁ and dL/dW₂ appear at the end of the walk (step {WALK_STEPS}) or when you reveal the "
                   "solutions.")


step_by_step()
controls.code_for_view("hand", v)
