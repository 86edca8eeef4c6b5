"""Work for idle workers: runs no learner is waiting for, trained while the workers would otherwise
sit idle. Two kinds, in this order:

- checks: the rounding twins of views already on screen (computing.py shows a view at once and its
  rounding notice as soon as the twin is done);
- guesses: the views learners will likely ask for next (guess_ahead.py).

Learners go first. Idle work starts only while no learner's job runs, a guess only once it has
waited GUESS_DELAY and no learner's job has run for as long (the view that made it is still being
sent and drawn). One idle job runs
at a time, so a learner's job that arrives meanwhile finds the other worker free. Guesses still
waiting are dropped the moment a learner's job runs (they guessed about a moment that has passed);
checks are kept, at most KEEP_CHECKS of them (the newest). Off with fewer than two workers, where
computing.py trains every twin beside its run.
"""
from __future__ import annotations

import threading
import time
from collections import deque

from backprop_core.config import TrainConfig
from dashboard import compute

GUESS_DELAY = 0.15           # seconds of quiet before a guess starts
KEEP_CHECKS, KEEP_GUESSES = 64, 4
POLL = 0.01                  # seconds between looks at the workers while idle work waits


def enabled() -> bool:
    return compute.WORKERS_POOL.count >= 2


class IdleWork:
    """The two queues and the one background thread that drains them (see the module's docstring)."""

    def __init__(self):
        self._checks: deque = deque(maxlen=KEEP_CHECKS)
        self._guesses: deque = deque(maxlen=KEEP_GUESSES)
        self._running: TrainConfig | None = None
        self._guessed_at = -float("inf")          # when the newest guess came (monotonic seconds)
        self._lock = threading.Lock()
        self._draining = False

    def check(self, cfgs: list[TrainConfig]) -> None:
        """Train these rounding twins when the workers are idle, newest first."""
        self._add(self._checks, cfgs)

    def guess(self, cfgs: list[TrainConfig]) -> None:
        """Train these guessed views when the workers have been quiet for a moment, newest first."""
        self._add(self._guesses, cfgs)

    def waiting(self, cfg: TrainConfig) -> bool:
        """Whether `cfg` is queued or being trained."""
        with self._lock:
            return cfg == self._running or cfg in self._checks or cfg in self._guesses

    def _add(self, queue: deque, cfgs: list[TrainConfig]) -> None:
        if not enabled():
            return
        with self._lock:
            if queue is self._guesses:
                self._guessed_at = time.monotonic()
            fresh = [c for c in cfgs if c != self._running and c not in queue and compute.cached_run(c) is None]
            queue.extend(reversed(fresh))              # taken newest first: this call's first config first
            if not fresh or self._draining:
                return
            self._draining = True
        compute.in_background(self._drain)

    def _drain(self) -> None:
        try:
            while (cfg := self._next()) is not None:
                try:
                    compute.diagnosed_run(cfg, guess=True)
                except Exception:  # noqa: BLE001 - idle work is only a head start; a learner's request retries
                    pass
                finally:
                    with self._lock:
                        self._running = None
        except BaseException:
            with self._lock:
                self._draining = False
            raise

    def _next(self) -> TrainConfig | None:
        """The next run to train once the workers allow it; None, and draining stops in the same
        locked step (so work added meanwhile starts a new drain), when nothing is left."""
        while True:
            quiet = compute.WORKERS_POOL.quiet_for()          # 0.0 while a learner's job runs
            wait = POLL
            with self._lock:
                if quiet == 0.0:
                    self._guesses.clear()                      # a learner moved: the guesses are stale
                elif self._checks:
                    self._running = self._checks.pop()
                    return self._running
                elif self._guesses:
                    wait = GUESS_DELAY - min(quiet, time.monotonic() - self._guessed_at)
                    if wait <= 0:
                        self._running = self._guesses.pop()
                        return self._running
                if not self._checks and not self._guesses:
                    self._draining = False
                    return None
            time.sleep(max(POLL, wait))

IDLE = IdleWork()
