"""Guessing the next view: after a learner moves one number (Seed 12 -> 13), the run they will likely
ask for next (13 -> 14, a slider's arrow key) is trained while the workers would otherwise sit idle
(idle_work.py), so their next press finds it ready. One call: `after_move(previous, current)`; and
`soon(cfgs)` for runs a page knows it will likely show next (the ReLU run /vanishing keeps out of
sight until the learner has predicted it).

What it is worth (bench/RESULTS.md section 2): a learner pressing an arrow key sees a new view about
25-55 ms sooner; a class, whose workers are rarely idle, neither gains nor loses measurably. Only
cheap guesses are taken (GUESS_SECONDS). Off with BACKPROP_LAB_GUESS_AHEAD=0 (to measure).
"""
from __future__ import annotations

import os
from dataclasses import replace

from backprop_core.budget import estimate_seconds
from backprop_core.config import TRAIN_PARAMS, TrainConfig
from dashboard import idle_work

GUESS_SECONDS = 0.5          # a guessed view is computed ahead only when it trains faster than this
ENABLED = os.environ.get("BACKPROP_LAB_GUESS_AHEAD", "1") != "0"


def next_guess(prev: TrainConfig, cur: TrainConfig) -> TrainConfig | None:
    """The run a learner who just moved one number from `prev` to `cur` most likely asks for next:
    the same control moved once more by the same amount (a slider's arrow key, the next seed).

    None when no control or more than one changed, when the change was not a number, or when the
    guess leaves the control's range."""
    if prev.pts != cur.pts:
        return None
    changed = [p for p in TRAIN_PARAMS if getattr(prev, p.key) != getattr(cur, p.key)]
    if len(changed) != 1 or changed[0].kind not in ("int", "float"):
        return None
    p = changed[0]
    a, b = getattr(prev, p.key), getattr(cur, p.key)
    guess = b + (b - a) if p.kind == "int" else round(b + (b - a), 10)
    return replace(cur, **{p.key: guess}) if p.lo <= guess <= p.hi else None


def after_move(previous: tuple[TrainConfig, ...], current: tuple[TrainConfig, ...]) -> None:
    """A page showed `current` after `previous` (its last view in this session): queue the views the
    learner will likely ask for next. Not their rounding twins: a twin trains once its view is shown
    (measured: twins of guesses that were never shown cost a class 50 ms of CPU per move)."""
    if len(previous) != len(current) or not ENABLED:
        return
    soon([g for a, b in zip(previous, current, strict=True) if (g := next_guess(a, b)) is not None])


def soon(cfgs: list[TrainConfig]) -> None:
    """Queue these likely next views (the cheap ones, GUESS_SECONDS) as guesses."""
    if ENABLED:
        idle_work.IDLE.guess([c for c in cfgs if estimate_seconds(c) <= GUESS_SECONDS])
