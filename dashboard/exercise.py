"""Exercise 4 of the seed lesson on /vanishing, as a real exercise.

Every tick follows something the learner did in this session (a button, an answer, a fix they
picked); the state a link arrives in ticks nothing. The learner builds a deep sigmoid/tanh network,
reads whether its gradient vanishes, predicts whether ReLU alone fixes it before the ReLU run's
verdict is shown, then finds a single fix that works.
"""
from __future__ import annotations

from dataclasses import astuple

import streamlit as st

from backprop_core.activations import SATURATION_Z
from backprop_core.config import TrainConfig
from backprop_core.diagnose import LEARNED_ACC, VANISH_RATIO
from backprop_core.fixes import FIX_LABELS, apply_fix
from backprop_core.results import final_metrics
from dashboard import compute

STATE = "ex4"
MIN_DEPTH = 5                       # the lesson: "a deep (5+ layers) network"
SQUASHING = tuple(SATURATION_Z)        # the activations that saturate: sigmoid, tanh
VANISH_CHOICES = ("about as much (within 100×)", "less than 1/100 of it")
RELU_CHOICES = ("yes, ReLU alone makes it healthy", "no, ReLU alone is not enough")


def _state() -> dict:
    return st.session_state.setdefault(STATE, {"built": None, "prediction": None, "tried": [], "last_fix": None})


def _built(state) -> TrainConfig | None:
    return TrainConfig(*state["built"]) if state["built"] is not None else None


def track_fix(fix: str) -> None:
    """Record the fixes the learner picks after locking a prediction (not the one a link brings)."""
    state = _state()
    if state["last_fix"] is not None and fix != state["last_fix"] and state["prediction"] is not None:
        state["tried"].append(fix)
    state["last_fix"] = fix


SHOWN_ANYWAY = "ex4_shown_anyway"


def withholds_relu(cfg: TrainConfig) -> bool:
    """Whether the page keeps this network's ReLU run out of sight (the comparison when the fix is
    relu, its row among every fix ranked): step 3 asks the learner to predict it, so until they lock
    in a prediction (or ask to see it anyway) nothing on the page may show it, for any deep sigmoid
    or tanh network the exercise could be about."""
    qualifies = cfg.depth >= MIN_DEPTH and cfg.act in SQUASHING
    return qualifies and _state()["prediction"] is None and not st.session_state.get(SHOWN_ANYWAY, False)


def withheld_notice() -> None:
    """Where the ReLU run would be: why it is not, and a way to see it anyway."""
    st.info("**Predict first.** Exercise 4 below asks whether switching this deep network to ReLU alone makes it "
            "healthy. The ReLU run (its verdict and its lines in the charts) appears once you lock in a "
            "prediction there.", icon=":material/visibility_off:")
    st.button("Show the ReLU run now", key="ex4_show_anyway", icon=":material/visibility:",
              on_click=lambda: st.session_state.update({SHOWN_ANYWAY: True}))


def _build(cfg: TrainConfig) -> None:
    state = _state()
    if cfg.depth >= MIN_DEPTH and cfg.act in SQUASHING:
        state.update(built=astuple(cfg), prediction=None, tried=[], build_note=None)
        st.session_state.pop("ex4_vanish", None)
        st.session_state.pop("ex4_relu", None)
    else:
        state["build_note"] = (f"Not yet: the sidebar has {cfg.depth} hidden layer{'s' if cfg.depth != 1 else ''} "
                               f"of {cfg.act}. Make it {MIN_DEPTH} or more layers of sigmoid or tanh.")


def _lock(choice: str | None) -> None:
    if choice is not None:
        _state()["prediction"] = choice


def _tick(done: bool, text: str) -> None:
    st.markdown((":material/check_box: " if done else ":material/check_box_outline_blank: ") + text)


def render(cfg: TrainConfig) -> None:
    """Draw the exercise for the sidebar's current network."""
    state = _state()
    built = _built(state)
    st.subheader("Exercise 4: make gradients vanish, then bring them back")

    _tick(built is not None, f"**Build** a deep network: {MIN_DEPTH} or more hidden layers of sigmoid or tanh "
                             "in the sidebar, then press *Use this network*.")
    st.button("Use this network", key="ex4_build", on_click=_build, args=(cfg,), icon=":material/build:")
    if state.get("build_note"):
        st.caption(state["build_note"])
    if built is None:
        return
    if built != cfg:
        st.info(f"You changed the sidebar since step 1. The exercise is about the network you built "
                f"({built.depth} layers of {built.act}); press *Use this network* to start over with the new one.",
                icon=":material/info:")
    run, diagnosis = compute.diagnosed_run(built)

    ratio = diagnosis.ratio
    right_answer = VANISH_CHOICES[1] if ratio < VANISH_RATIO else VANISH_CHOICES[0]
    answer = st.radio(f"**Read** the chart above: at initialisation, how much of layer {built.depth}'s gradient "
                      "reaches layer 1?", VANISH_CHOICES, index=None, key="ex4_vanish", horizontal=True)
    read_ok = answer == right_answer
    if answer is not None:
        (st.success if read_ok else st.warning)(
            f"{'Right' if read_ok else 'Not quite'}: layer 1 receives {ratio:.1e} of layer {built.depth}'s "
            "mean gradient.")
    _tick(read_ok, "**Read** whether the gradient vanishes.")

    choice = st.radio("**Predict** before you look: if every activation becomes ReLU (nothing else changes), "
                      "is this network healthy?", RELU_CHOICES, index=None, key="ex4_relu", horizontal=True,
                      disabled=state["prediction"] is not None)
    st.button("Lock in my prediction", key="ex4_lock", on_click=_lock, args=(choice,),
              disabled=choice is None or state["prediction"] is not None, icon=":material/lock:")
    if state["prediction"] is not None:
        relu_run, relu_diag = compute.diagnosed_run(apply_fix(built, "relu"))
        healthy = relu_diag.verdict == "healthy"
        guessed = state["prediction"] == RELU_CHOICES[0]
        (st.success if healthy == guessed else st.warning)(
            f"With ReLU the verdict is **{relu_diag.verdict}** ({final_metrics(relu_run)['train_score']:.0%} "
            f"training accuracy). Your prediction was {'right' if healthy == guessed else 'wrong'}.")
    _tick(state["prediction"] is not None, "**Predict** whether ReLU alone fixes it, then see.")

    working = []
    for fix in dict.fromkeys(state["tried"]):
        fixed_run, fixed_diag = compute.diagnosed_run(apply_fix(built, fix))
        acc = final_metrics(fixed_run)["train_score"]
        if fixed_diag.verdict == "healthy" and acc >= LEARNED_ACC:
            working.append(f"`{fix}` ({FIX_LABELS[fix]}, {acc:.0%})")
    _tick(bool(working), f"**Fix** it: after your prediction, pick a *Fix to compare* in the sidebar whose run is "
                         f"healthy and reaches at least {LEARNED_ACC:.0%} training accuracy.")
    if state["tried"] and not working:
        st.caption("Tried so far: " + ", ".join(f"`{f}`" for f in dict.fromkeys(state["tried"]))
                   + f". None of them is healthy at {LEARNED_ACC:.0%} yet.")
    if working and read_ok and state["prediction"] is not None:
        st.success("Exercise 4 complete: " + ", ".join(working) + " brought the gradient back.",
                   icon=":material/celebration:")
