"""The compute budget: how long a training run will take, predicted from its size alone, and the
limit a shared server puts on it. No torch here: the pages' server checks it before asking a worker.

    seconds ≈ COST · cost_features(cfg)

The features count what a run does (training.py): optimiser steps and the per-layer work of each
step, the per-epoch recording, multiply-adds of the matrix products, elementwise work on
activations, and the optimiser's work on every parameter at every step. bench/bench_budget.py fits
COST on random reachable runs of one machine (2 cores, one torch thread per worker, float64), then
scales it so that no fitted run took longer than 1/1.05 of its prediction. On 50 fresh random runs
(bench/RESULTS.md section 0) estimate / measured spans a band about 2.8 wide, 1.10-3.29 in the last
check (the band moves by about 10% from one check to the next with the shared machine's speed),
median about 1.8. The budget judges a page by the typical time (wall_seconds).
"""
from __future__ import annotations

import math

from backprop_core.activations import ACTIVATIONS
from backprop_core.config import TrainConfig

BUDGET_SECONDS = 3.0          # no reachable run is allowed to take longer (2-core machine, 1 thread)
RANK_BUDGET_SECONDS = 2 * BUDGET_SECONDS   # all eight fixed runs together (two workers share them)

FEATURES = ("run", "depth", "steps", "steps x depth", "steps x depth, smooth activation", "steps x depth with a norm",
            "epochs", "epochs x depth", "multiply-adds", "elementwise", "elementwise, smooth activation",
            "rows", "rows with LayerNorm", "steps x parameters")
COST = (5.04e-03, 1.04e-03, 2.00e-04, 2.42e-06, 3.89e-05, 1.26e-04, 5.46e-04, 1.15e-05, 1.16e-10, 5.67e-09, 2.84e-09,
        1.16e-09, 1.89e-07, 1.37e-08)


def cost_features(cfg: TrainConfig) -> tuple[float, ...]:
    """What the run does, counted (see FEATURES)."""
    batches = math.ceil(cfg.n / cfg.batch_size)
    steps = cfg.epochs * batches
    n_test = max(20, cfg.n // 4)
    full_batch = batches == 1
    # every epoch: the steps' forward and backward passes (3 products per layer), the test set's
    # forward pass, and with mini-batches or BatchNorm the training set's too (evaluation and dead units)
    samples = 3 * cfg.n + n_test + (0 if full_batch and cfg.norm != "batch" else 2 * cfg.n)
    macs_per_sample = 2 * cfg.width + (cfg.depth - 1) * cfg.width ** 2 + 2 * cfg.width
    surfaces = min(cfg.snapshots, cfg.epochs + 1)           # decision surfaces: 900 grid points each
    macs = cfg.epochs * samples * macs_per_sample + surfaces * 900 * macs_per_sample
    elementwise = cfg.epochs * samples * cfg.width * cfg.depth * (2 if cfg.norm != "none" else 1)
    params = macs_per_sample + 3 * cfg.depth * cfg.width + 2
    normed = cfg.depth if cfg.norm != "none" else 0
    smooth = 1.0 if ACTIVATIONS[cfg.act].curved else 0.0      # exponentials or erf cost more than a compare
    rows = cfg.epochs * samples * cfg.depth                  # per sample and layer: row-wise work (norms)
    return (1.0, float(cfg.depth), float(steps), float(steps * cfg.depth), smooth * steps * cfg.depth,
            float(steps * normed), float(cfg.epochs), float(cfg.epochs * cfg.depth), float(macs),
            float(elementwise), smooth * elementwise, float(rows), float(rows if cfg.norm == "layer" else 0),
            float(steps * params))


def estimate_seconds(cfg: TrainConfig) -> float:
    """Predicted wall time of training `cfg` (float64), from its size alone."""
    return sum(c * f for c, f in zip(COST, cost_features(cfg), strict=True))


TYPICAL_OVERESTIMATE = 1.8      # median of estimate / measured on fresh runs (bench/bench_budget.py)
WORKERS = 2                     # the worker processes of a 2-core server, which the budget is for


def wall_seconds(*cfgs: TrainConfig) -> float:
    """Typical wall time of a page's runs on WORKERS workers, each run to the one that is free first.
    Their float32 rounding twins add nothing to it: a twin trains beside its run only on a worker the
    runs leave free (and trains faster), else later, in the low-priority worker (dashboard/idle_work.py)."""
    loads = [0.0] * WORKERS
    for seconds in [estimate_seconds(c) / TYPICAL_OVERESTIMATE for c in cfgs]:
        loads[loads.index(min(loads))] += seconds
    return max(loads)


def over_budget(*cfgs: TrainConfig, budget: float = BUDGET_SECONDS) -> str | None:
    """A message for the learner when the runs would typically take longer than the budget, else None.
    The estimate is about an upper bound (1-3.3x the measured time); judging by the typical time refuses
    only runs that really run past the budget, and lets none through that takes more than about twice it."""
    seconds = wall_seconds(*cfgs)
    if seconds <= budget:
        return None
    return (f"This would take about {seconds:.0f} s of computing, over the {budget:.0f} s limit for a "
            f"shared server: lower epochs, training points, depth or width, or use a larger batch "
            f"(0 = full batch).")
