"""Fixes on /vanishing: the diagnosis's suggestions as buttons, and every fix tried and ranked."""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

from backprop_core.config import (
    FIX_LABELS,
    FIXES,
    RANK_BUDGET_SECONDS,
    RANK_PARAM,
    TrainConfig,
    apply_fix,
    estimate_seconds,
)
from backprop_core.diagnose import LEARNED_ACC, gradient_ratio
from backprop_core.results import final_metrics
from dashboard import charts, compute, controls


def _apply(params, target: TrainConfig) -> None:
    """Button callback: move the sidebar controls (and so the URL) to the fixed config."""
    for p in params:
        st.session_state[p.key] = getattr(target, p.key)


def suggested(diagnosis, params) -> None:
    """The diagnosis's fixes in their usual order of preference (a rule of thumb per verdict, not a
    measurement on this network), each a button that applies it to the sidebar."""
    if diagnosis.fixes:
        st.markdown(f"**Fixes that usually help with {diagnosis.verdict}**, the usual first choice first (each "
                    "applies one change to the sidebar; *Every fix, ranked* below tries them all on this network):")
        row = st.container(horizontal=True)
        for f in diagnosis.fixes:
            row.button(f.label, key=f"apply_{f.key}", help=f.why, on_click=_apply, args=(params, f.config),
                       width="stretch")


def rank(rows: list[dict]) -> list[dict]:
    """Best first: runs that are healthy and learned (training accuracy at least LEARNED_ACC), then
    by training accuracy, then by final loss."""
    def key(r):
        acc = r["train_acc"] if math.isfinite(r["train_acc"]) else -1.0
        loss = r["train_loss"] if math.isfinite(r["train_loss"]) else math.inf
        return (0 if r["verdict"] == "healthy" and acc >= LEARNED_ACC else 1), -acc, loss
    return sorted(rows, key=key)


def row(fix: str, fixed: TrainConfig, run, diagnosis) -> dict:
    """One row of the table: the run with `fix` applied, summarised."""
    final = final_metrics(run)
    return {"fix": fix, "verdict": diagnosis.verdict, "train_acc": final["train_acc"], "test_acc": final["test_acc"],
            "train_loss": final["train_loss"], "grad_ratio": gradient_ratio(run), "config": fixed}


def _chart_columns(rows: list[dict]) -> dict:
    return {"label": [FIX_LABELS[r["fix"]] for r in rows], "rank": np.arange(len(rows)),
            "train_acc": np.array([r["train_acc"] if math.isfinite(r["train_acc"]) else 0.0 for r in rows]),
            "loss": np.array([r["train_loss"] if math.isfinite(r["train_loss"]) else np.nan for r in rows]),
            "verdict": [r["verdict"] for r in rows]}


def _pct(v: float) -> str:
    return f"{v:.0%}" if math.isfinite(v) else "—"


def ranked(cfg: TrainConfig, params) -> None:
    """The chosen run tried with every fix, in one ranked table with a chart; a row's button applies it."""
    st.subheader("Every fix, ranked")
    if not controls.widget(RANK_PARAM):
        st.caption("Switch on to train the chosen run once with each of the eight fixes and rank them.")
        return
    changed = [f for f in FIXES if apply_fix(cfg, f) != cfg]
    seconds = sum(estimate_seconds(apply_fix(cfg, f)) for f in changed)
    if seconds > RANK_BUDGET_SECONDS:
        st.warning(f"Trying every fix would take about {seconds:.0f} s of computing, over the "
                   f"{RANK_BUDGET_SECONDS:.0f} s limit: lower epochs, training points, depth or width.",
                   icon=":material/timer:")
        return
    # the runs go through the same cache as the page's own: the chosen fix's run is not trained
    # again, and a row's Apply button opens a view that is already computed
    fixed = [apply_fix(cfg, f) for f in changed]
    bar = st.progress(0.0, text="Trying every fix…")

    def show() -> None:
        done = sum(compute.cached_training(c) is not None for c in fixed)
        bar.progress(done / len(fixed), text=f"Trying every fix… {done}/{len(fixed)} runs")
    runs = compute.trainings(fixed, on_wait=show)
    bar.empty()
    rows = rank([row(f, c, *r) for f, c, r in zip(changed, fixed, runs, strict=True)])
    same = [f for f in FIXES if f not in changed]
    if same:
        st.caption("Already part of this run, so not tried: " + ", ".join(f"`{f}`" for f in same) + ".")
    header = st.columns([2.2, 1.2, 1, 1, 1, 1.3, 1])
    for col, title in zip(header, ("Fix", "Verdict", "Train acc.", "Test acc.", "Final loss", "Layer 1 / last |g| "
                                   "at init", ""), strict=True):
        if title:                            # the Apply column has none ("****" draws a rule)
            col.markdown(f"**{title}**")
    for i, r in enumerate(rows):
        c = st.columns([2.2, 1.2, 1, 1, 1, 1.3, 1])
        c[0].markdown(f"{i + 1}. {FIX_LABELS[r['fix']]} (`{r['fix']}`)")
        c[1].markdown(r["verdict"])
        c[2].markdown(_pct(r["train_acc"]))
        c[3].markdown(_pct(r["test_acc"]))
        c[4].markdown(f"{r['train_loss']:.4f}" if math.isfinite(r["train_loss"]) else "—")
        c[5].markdown(f"{r['grad_ratio']:.2e}" if math.isfinite(r["grad_ratio"]) else "—")
        c[6].button("Apply", key=f"rank_apply_{r['fix']}", on_click=_apply, args=(params, r["config"]),
                    help=f"Move the sidebar to the run with {FIX_LABELS[r['fix']]}")
    charts.draw(st, "fixes", fixes=_chart_columns(rows))
