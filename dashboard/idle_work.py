"""Work no learner is waiting for, trained while the machine would otherwise sit idle. Two kinds:

- checks: the rounding twins of views already on screen (computing.py shows a view at once and its
  rounding notice as soon as the twin is done). They train one after the other, newest first, in
  the low-priority worker (compute.CHECKS_POOL, nice 19), and only while everything else (the
  server, the learners' workers) has lately used less than CHECK_BUSY of the machine's CPU time: a
  core shared with a check runs a learner's job slower even at the lowest priority (two virtual
  CPUs are often one physical core), so a class exploring at full speed never waits behind a check,
  and the checks catch up when it pauses. At most KEEP_CHECKS wait.
- guesses: the views learners will likely ask for next (guess_ahead.py). They train in the learners'
  workers, so they must stay out of the learners' way: a guess starts only once it has waited
  GUESS_DELAY and no learner's job has run for as long (the view that made it is still being sent
  and drawn), one at a time, and the guesses still waiting are dropped the moment a learner's job
  runs (they guessed about a moment that has passed). At most KEEP_GUESSES wait; off with fewer
  than two workers.
"""
from __future__ import annotations

import pathlib
import threading
import time
from collections import deque

from backprop_core.config import TrainConfig
from dashboard import compute

GUESS_DELAY = 0.15           # seconds of quiet before a guess starts
KEEP_CHECKS, KEEP_GUESSES = 64, 4
CHECK_BUSY = 0.35            # a check starts only while the rest used less of the machine's CPU time lately
BUSY_WINDOW = 0.25           # seconds over which that is measured


class MachineBusy:
    """The share of the machine's CPU time used lately (over at least BUSY_WINDOW) by everything but the
    check worker, from /proc; None where there is no /proc (then checks are never held back)."""

    def __init__(self):
        self._samples: deque = deque(maxlen=64)

    @staticmethod
    def _read() -> tuple[float, int, int, int] | None:
        try:                                           # fixed /proc paths and our own pids only
            ticks = [int(v) for v in pathlib.Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
            own = 0
            for pid in compute.CHECKS_POOL.pids():
                fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                own += int(fields[11]) + int(fields[12])
        except OSError:
            return None
        return time.monotonic(), sum(ticks), ticks[3] + ticks[4], own      # all, idle + iowait, the check worker's

    def share(self) -> float | None:
        """The busy share since the newest sample at least BUSY_WINDOW old; 1.0 (wait and ask again)
        while every sample is younger; None on the very first call or without /proc."""
        now = self._read()
        if now is None:
            return None
        old = [s for s in self._samples if now[0] - s[0] >= BUSY_WINDOW]
        first = not self._samples
        self._samples.append(now)
        if not old:
            return None if first else 1.0
        (_, all0, idle0, own0), (_, all1, idle1, own1) = old[-1], now
        total = all1 - all0
        return max(0.0, (total - (idle1 - idle0) - (own1 - own0)) / total) if total > 0 else 0.0


class _Queue:
    """Configs to train, newest first, drained by one background thread at a time."""

    def __init__(self, keep: int):
        self.todo: deque = deque(maxlen=keep)
        self.running: TrainConfig | None = None
        self.lock = threading.Lock()
        self.draining = False

    def add(self, cfgs: list[TrainConfig], drain) -> None:
        with self.lock:
            fresh = [c for c in cfgs if c != self.running and c not in self.todo and compute.cached_run(c) is None]
            self.todo.extend(reversed(fresh))          # taken newest first: this call's first config first
            if not fresh or self.draining:
                return
            self.draining = True
        compute.in_background(drain)

    def waiting(self, cfg: TrainConfig) -> bool:
        with self.lock:
            return cfg == self.running or cfg in self.todo

    def take(self) -> TrainConfig | None:
        """The next config, or None, and draining stops in the same locked step (so a config added
        meanwhile starts a new drain), when none is left."""
        with self.lock:
            self.running = self.todo.pop() if self.todo else None
            self.draining = self.running is not None
            return self.running

    def train(self, cfg: TrainConfig, **kind) -> None:
        try:
            compute.diagnosed_run(cfg, **kind)
        except Exception:  # noqa: BLE001 - idle work is only a head start; a learner's request retries
            pass
        finally:
            with self.lock:
                self.running = None


class IdleWork:
    """The two queues (see the module's docstring)."""

    def __init__(self):
        self._checks, self._guesses = _Queue(KEEP_CHECKS), _Queue(KEEP_GUESSES)
        self._busy = MachineBusy()
        self._held = False                 # the checks' last look found the machine busy

    def check(self, cfgs: list[TrainConfig]) -> None:
        """Train these rounding twins in the low-priority worker, newest first."""
        if checks_enabled():
            self._checks.add(cfgs, self._drain_checks)

    def guess(self, cfgs: list[TrainConfig]) -> None:
        """Train these guessed views when the learners' workers have been quiet a moment, newest first."""
        if compute.WORKERS_POOL.count >= 2:
            self._guesses.add(cfgs, self._drain_guesses)

    def waiting(self, cfg: TrainConfig) -> bool:
        """Whether `cfg` is queued or being trained."""
        return self._checks.waiting(cfg) or self._guesses.waiting(cfg)

    def held_back(self) -> bool:
        """Whether checks are waiting because the machine was busy when they last looked."""
        return self._held

    def _drain_checks(self) -> None:
        while True:
            if (share := self._busy.share()) is not None:
                self._held = share >= CHECK_BUSY
            if self._held:
                time.sleep(BUSY_WINDOW)                # learners keep the machine busy: look again later
                continue
            if (cfg := self._checks.take()) is None:
                return
            self._checks.train(cfg, check=True)

    def _drain_guesses(self) -> None:
        time.sleep(GUESS_DELAY)
        while (cfg := self._next_guess()) is not None:
            self._guesses.train(cfg, guess=True)

    def _next_guess(self) -> TrainConfig | None:
        """Wait until no learner's job has run for GUESS_DELAY, then the newest guess; None (the
        waiting guesses dropped) as soon as a learner's job runs."""
        while (quiet := compute.WORKERS_POOL.quiet_for()) < GUESS_DELAY:
            if quiet == 0.0:
                with self._guesses.lock:
                    self._guesses.todo.clear()
                break
            time.sleep(GUESS_DELAY - quiet)
        return self._guesses.take()


def checks_enabled() -> bool:
    """Rounding twins train as idle work when the low-priority worker exists (not inline, as in tests)."""
    return compute.CHECKS_POOL.count > 0


IDLE = IdleWork()
