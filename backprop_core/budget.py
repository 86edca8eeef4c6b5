"""The compute budget: how long a training run will take, predicted from its size alone, and the
limit a shared server puts on it. No torch here: the pages' server checks it before asking a worker.

    seconds ≈ COST · cost_features(cfg)

The features count what a run does (training.py): optimiser steps and the per-layer work of each
step, the per-epoch recording, multiply-adds of the matrix products, elementwise work on
activations, and the optimiser's work on every parameter at every step. bench/bench_budget.py fits
COST on random reachable runs of one machine (2 cores, one torch thread per worker, float64), then
scales it so that no measured run took longer than predicted; on fresh random runs the prediction
stays within 1-3x of the measurement (it prints the table).
"""
from __future__ import annotations

import math

from backprop_core.config import TrainConfig

BUDGET_SECONDS = 3.0          # no reachable run is allowed to take longer (2-core machine, 1 thread)
RANK_BUDGET_SECONDS = 2 * BUDGET_SECONDS   # all eight fixed runs together (two workers share them)

FEATURES = ("run", "depth", "steps", "steps x depth", "steps x depth, smooth activation", "steps x depth with a norm",
            "epochs", "epochs x depth", "multiply-adds", "elementwise", "elementwise, smooth activation",
            "steps x parameters")
COST = (7.3e-03, 2.0e-03, 8.1e-04, 3.5e-05, 5.6e-05, 5.8e-04, 4.3e-04, 3.1e-05, 1.8e-10, 1.1e-08, 3.5e-10,
        8.6e-09)
# activations whose phi and phi' cost exponentials or erf (relu, leaky_relu and linear are a compare or less)
SMOOTH = frozenset({"sigmoid", "tanh", "gelu", "elu", "silu"})


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
    smooth = 1.0 if cfg.act in SMOOTH else 0.0
    return (1.0, float(cfg.depth), float(steps), float(steps * cfg.depth), smooth * steps * cfg.depth,
            float(steps * normed), float(cfg.epochs), float(cfg.epochs * cfg.depth), float(macs),
            float(elementwise), smooth * elementwise, float(steps * params))


def estimate_seconds(cfg: TrainConfig) -> float:
    """Predicted wall time of training `cfg` (float64), from its size alone."""
    return sum(c * f for c, f in zip(COST, cost_features(cfg), strict=True))


def over_budget(*cfgs: TrainConfig, budget: float = BUDGET_SECONDS) -> str | None:
    """A message for the learner when the runs together would exceed the budget, else None."""
    est = sum(estimate_seconds(c) for c in cfgs)
    if est <= budget:
        return None
    return (f"This would take about {est:.0f} s of computing, over the {budget:.0f} s limit for a "
            f"shared server: lower epochs, training points, depth or width, or use a larger batch "
            f"(0 = full batch).")
