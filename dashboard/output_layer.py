"""Where the backward pass starts, on /flow: the error the output layer sends back for the run's task
(softmax + cross-entropy, or mean squared error), derived in a few lines, and a check the learner
predicts before the page answers it: the loss of a network that knows nothing yet."""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

from backprop_core.digits import number
from backprop_core.results import RunResult

REVEAL_KEY = "reveal_first_loss"


def derivation(run: RunResult) -> str:
    """The output error dL/dz of the run's task, derived in words and symbols."""
    task = run.config.task
    if task.regression:
        return ("The network's output is one number, $\\hat y = z$ (no activation), and the loss is the mean "
                "squared error $L = \\frac{1}{N} \\sum_n (\\hat y_n - y_n)^2$. One point's share differentiates to "
                "**$\\partial L / \\partial \\hat y_n = 2 (\\hat y_n - y_n) / N$**: the residual, scaled. A point the "
                "network already fits sends back nothing; a point far off sends back a large error, which is "
                "why outliers pull hard on a squared error.")
    k = task.classes
    return (f"The output layer has K = {k} logits $z_1 \\dots z_K$, one per class; softmax turns them into "
            "probabilities $p_c = e^{z_c} / \\sum_k e^{z_k}$, and one point's loss is $L = -\\log p_y$ ($y$ its "
            "class). Since $\\log p_y = z_y - \\log \\sum_k e^{z_k}$, its derivative by $z_c$ is "
            "$\\mathbb{1}[c = y] - p_c$, so **$\\partial L / \\partial z_c = p_c - \\mathbb{1}[c = y]$**: the "
            "predicted probabilities minus the one-hot label, divided by $N$ for the batch mean. Each point's "
            "error sums to 0 over the classes: it pushes its own class's logit up exactly as hard as it pushes "
            "the others down."
            + (" With two classes this is the seed lesson's $\\hat y - y$, on each logit." if k == 2 else ""))


def question(run: RunResult) -> str:
    task = run.config.task
    if task.regression:
        return ("**Predict first:** with Initialisation = small every weight is about 0.01, so the network "
                "outputs about 0 for every point. What is its loss before training: near 0, near the targets' "
                "variance, or near 1?")
    return (f"**Predict first:** with Initialisation = small every weight is about 0.01, so all {task.classes} "
            "logits start near 0. What is the loss before the first step?")


def answer(run: RunResult) -> str:
    """The expected first loss, why, and what this run measured."""
    cfg, task = run.config, run.config.task
    first = run.metrics[0, 0] if len(run.metrics) else math.nan
    if task.regression:
        y = np.asarray(run.y_train, dtype=np.float64)
        expected = float(np.mean(y * y))
        why = (f"With $\\hat y \\approx 0$ the loss is the mean of $y^2$, {number(expected)}: the targets' variance "
               f"({number(float(y.var()))}) plus their mean squared ({number(float(y.mean()) ** 2)}), so close to "
               "the variance when the targets average about 0. R² starts near 0 for the same reason.")
    else:
        expected = math.log(task.classes)
        why = (f"Equal logits give every class $p = 1/{task.classes}$, so each point's loss is "
               f"$-\\log(1/{task.classes}) = \\ln {task.classes}$ = {number(expected)}. A first loss far from it "
               "means the network starts out confident, before it has seen any data.")
    measured = f"This run's loss before the first step: **{number(first)}**"
    if cfg.init == "small":
        verdict = f" ({number(abs(first - expected))} from {number(expected)})."
    else:
        verdict = (f". Its initialisation is {cfg.init}, not small, so its outputs do not start near 0: switch "
                   "Initialisation to small to see the first loss land on the value above.")
    return why + "\n\n" + measured + verdict


def explain(run: RunResult) -> None:
    """The expander: derivation, then the question, then (when the learner asks) the answer."""
    with st.expander(f"The output layer: where the backward pass starts ({run.config.task.loss_name})"):
        st.markdown(derivation(run))
        st.markdown(question(run))
        if st.toggle("Show the answer", key=REVEAL_KEY):
            st.markdown(answer(run))
