"""Fixes on /vanishing: the diagnosis's suggestions as buttons, and every fix tried and ranked."""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

from backprop_core.budget import RANK_BUDGET_SECONDS, wall_seconds
from backprop_core.config import RANK_PARAM, TrainConfig
from backprop_core.diagnose import gradient_ratio
from backprop_core.digits import number, score
from backprop_core.fixes import FIX_LABELS, FIXES, apply_fix
from backprop_core.results import final_metrics
from dashboard import charts, computing, controls

RANK_RULE = ("Ranked by: first the runs whose verdict is healthy (gradients reach every layer and the network "
             "learns), then by training accuracy (R² for regression), then by final training loss.")


def _apply(params, target: TrainConfig) -> None:
    """Button callback: move the sidebar controls (and so the URL) to the fixed config."""
    for p in params:
        st.session_state[p.key] = getattr(target, p.key)


def locked_by_link(params, cfg: TrainConfig, target: TrainConfig, hidden) -> list[str]:
    """The controls this fix would change that a focused link has fixed (hidden): a button that would
    move them can only say so."""
    labels = {p.key: p.label for p in params}
    return [labels[k].lower() for k in hidden if k in labels and getattr(cfg, k) != getattr(target, k)]


def suggested(diagnosis, cfg: TrainConfig, params, hidden=()) -> None:
    """The diagnosis's fixes in their usual order of preference (a rule of thumb per verdict, not a
    measurement on this network), each a button that applies it to the sidebar."""
    if diagnosis.fixes:
        st.markdown(f"**Fixes that usually help with {diagnosis.verdict}**, the usual first choice first (each "
                    "applies one change to the sidebar; *Every fix, ranked* below tries them all on this network):")
        row = st.container(horizontal=True)
        for f in diagnosis.fixes:
            locked = locked_by_link(params, cfg, f.config, hidden)
            row.button(f.label, key=f"apply_{f.key}", on_click=_apply, args=(params, f.config), width="stretch",
                       disabled=bool(locked),
                       help=f"This link fixes the {', '.join(locked)}, so it cannot change here." if locked else f.why)


def rank(rows: list[dict]) -> list[dict]:
    """Best first (RANK_RULE): runs that are healthy, then by training accuracy, then by final loss."""
    def key(r):
        acc = r["train_score"] if math.isfinite(r["train_score"]) else -1.0
        loss = r["train_loss"] if math.isfinite(r["train_loss"]) else math.inf
        return (0 if r["verdict"] == "healthy" else 1), -acc, loss
    return sorted(rows, key=key)


def row(fix: str, shown: computing.PageRun) -> dict:
    """One row of the table: the run with `fix` applied, summarised."""
    final = final_metrics(shown.result)
    return {"fix": fix, "verdict": shown.diagnosis.verdict, "train_score": final["train_score"],
            "test_score": final["test_score"], "train_loss": final["train_loss"],
            "grad_ratio": gradient_ratio(shown.result), "config": shown.config,
            "sensitive": bool(shown.rounding), "checking": shown.rounding is None}


def _chart_columns(rows: list[dict]) -> dict:
    return {"label": [FIX_LABELS[r["fix"]] for r in rows], "rank": np.arange(len(rows)),
            "train_score": np.array([r["train_score"] if math.isfinite(r["train_score"]) else 0.0 for r in rows]),
            "loss": np.array([r["train_loss"] if math.isfinite(r["train_loss"]) else np.nan for r in rows]),
            "verdict": [r["verdict"] for r in rows]}


def ranked(cfg: TrainConfig, params, hidden=(), withheld: set[str] = frozenset()) -> None:
    """The chosen run tried with every fix, in one ranked table with a chart; a row's button applies it.
    Fixes in `withheld` (an exercise asks the learner to predict them) are listed without their result."""
    st.subheader("Every fix, ranked")
    if not controls.widget(RANK_PARAM):
        st.caption("Switch on to train the chosen run once with each of the eight fixes and rank them.")
        return
    changed = [f for f in FIXES if apply_fix(cfg, f) != cfg and f not in withheld]
    seconds = wall_seconds(*(apply_fix(cfg, f) for f in changed))
    if seconds > RANK_BUDGET_SECONDS:
        st.warning(f"Trying every fix would take about {seconds:.0f} s of computing, over the "
                   f"{RANK_BUDGET_SECONDS:.0f} s limit: lower epochs, training points, depth or width.",
                   icon=":material/timer:")
        return
    # the runs go through the same cache as the page's own: the chosen fix's run is not trained
    # again, and a row's Apply button opens a view that is already computed
    fixed = [apply_fix(cfg, f) for f in changed]
    shown = computing.runs(*fixed, text="Trying every fix…")
    rows = rank([row(f, s) for f, s in zip(changed, shown, strict=True)])
    st.caption(RANK_RULE + (" ≈ marks a run whose numbers read differently when it is computed in float32: "
                            "sensitive to rounding." if any(r["sensitive"] for r in rows) else ""))
    if any(r["checking"] for r in rows):
        computing.await_checks([r["config"] for r in rows if r["checking"]],
                               "… marks a run still being checked against rounding (the same run in float32 trains "
                               "while the server is idle); the table updates when the checks are done.")
    same = [f for f in FIXES if apply_fix(cfg, f) == cfg]
    if same:
        st.caption("Already part of this run, so not tried: " + ", ".join(f"`{f}`" for f in same) + ".")
    if withheld:
        st.caption("Not shown until you lock in your prediction in Exercise 4: "
                   + ", ".join(f"`{f}`" for f in withheld) + ".")
    regression = cfg.task.regression
    train_col, test_col = ("train R²", "test R²") if regression else ("train acc.", "test acc.")
    st.dataframe([{"rank": i + 1, "fix": f"{FIX_LABELS[r['fix']]} ({r['fix']})",
                   "verdict": r["verdict"] + (" ≈" if r["sensitive"] else " …" if r["checking"] else ""),
                   train_col: score(r["train_score"], regression, 0), test_col: score(r["test_score"], regression, 0),
                   "final loss": number(r["train_loss"]), "layer 1 / last |g| at init": number(r["grad_ratio"], 3)}
                  for i, r in enumerate(rows)], hide_index=True, width="stretch")
    st.caption("Apply one to move the sidebar to that run (best first):")
    buttons = st.container(horizontal=True)
    for r in rows:
        locked = locked_by_link(params, cfg, r["config"], hidden)
        buttons.button(FIX_LABELS[r["fix"]], key=f"rank_apply_{r['fix']}", on_click=_apply, args=(params, r["config"]),
                       disabled=bool(locked), icon=":material/arrow_upward:",
                       help=(f"This link fixes the {', '.join(locked)}, so it cannot change here." if locked
                             else f"Move the sidebar to the run with {FIX_LABELS[r['fix']]}"))
    charts.draw(st, charts.for_task("fixes", cfg.task), fixes=_chart_columns(rows))
