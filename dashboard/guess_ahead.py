"""Guessing the next view: after a learner moves one number (Seed 12 -> 13), the run they will likely
ask for next (13 -> 14, a slider's arrow key) is trained while the workers would otherwise sit idle,
so their next press finds it ready. One call: `after_move(previous, current)`.

What it is worth (bench/RESULTS.md section 2): a learner pressing an arrow key sees a new view about
25-55 ms sooner; a class, whose workers are rarely idle, neither gains nor loses measurably.

Learners go first: a guess waits GUESS_DELAY (the view that made it is still being sent and drawn)
and starts only once no learner's job has run for GUESS_DELAY; the guesses still waiting are dropped
the moment a learner's job runs. At most `keep` wait (the newest), each trains once (through the
single-flight run cache, which a learner asking for it joins), and only cheap guesses are taken. Off
with fewer than two workers (one must stay free), and with BACKPROP_LAB_GUESS_AHEAD=0 (to measure).
"""
from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import replace

from backprop_core.budget import estimate_seconds
from backprop_core.config import TRAIN_PARAMS, TrainConfig
from dashboard import compute

GUESS_SECONDS = 0.5          # a guessed view is computed ahead only when it trains faster than this
GUESS_DELAY = 0.15           # seconds a guess waits, so the view that made it is sent and drawn first
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


class GuessAhead:
    """The queue of guesses and the background drain that computes them (see the module's docstring)."""

    def __init__(self, keep: int = 4):
        self._todo: deque = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._draining = False

    def add(self, cfgs: list[TrainConfig]) -> None:
        if not ENABLED or compute.WORKERS_POOL.count < 2:
            return
        cfgs = [c for c in cfgs if estimate_seconds(c) <= GUESS_SECONDS and compute.cached_run(c) is None]
        if not cfgs:
            return
        with self._lock:
            self._todo.extend(reversed(cfgs))          # taken newest first: this call's first config first
            if self._draining:
                return
            self._draining = True
        compute.in_background(self._drain)

    def _drain(self) -> None:
        try:
            time.sleep(GUESS_DELAY)
            while (cfg := self._next()) is not None:
                try:
                    compute.diagnosed_run(cfg, guess=True)
                except Exception:  # noqa: BLE001 - a failed guess is only a guess; the learner's request retries
                    pass
        except BaseException:
            with self._lock:
                self._draining = False
            raise

    def _next(self) -> TrainConfig | None:
        """The next guess to train once the workers are quiet; None, and draining stops in the same
        locked step (so a guess added meanwhile starts a new drain), when there is none left or a
        learner's job runs (the waiting guesses are then stale and dropped)."""
        quiet = self._quiet()
        with self._lock:
            if not quiet:
                self._todo.clear()
            if self._todo:
                return self._todo.pop()
            self._draining = False
            return None

    @staticmethod
    def _quiet() -> bool:
        """Wait until no learner's job has run for GUESS_DELAY; False at once while one runs."""
        while (quiet := compute.WORKERS_POOL.quiet_for()) < GUESS_DELAY:
            if quiet == 0.0:
                return False
            time.sleep(GUESS_DELAY - quiet)
        return True


GUESSES = GuessAhead()


def after_move(previous: tuple[TrainConfig, ...], current: tuple[TrainConfig, ...], also=None) -> None:
    """A page showed `current` after `previous` (its last view in this session): queue the views the
    learner will likely ask for next, each with the runs `also(cfg)` names (its rounding twin)."""
    if len(previous) != len(current):
        return
    guesses = [g for a, b in zip(previous, current, strict=True) if (g := next_guess(a, b)) is not None]
    GUESSES.add(guesses + [extra for g in guesses for extra in (also(g) if also else ())])
