"""Fit the compute-budget cost model (backprop_core.config.estimate_seconds) to measured runs.

    python bench/bench_budget.py          # prints measured vs predicted seconds and fitted constants

The model: seconds ≈ COST · config.cost_features(cfg) (steps, steps·depth, epochs·depth,
multiply-adds, steps·parameters).
Run on the target machine (2 cores, one torch thread); paste the constants into config.py.
"""
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from backprop_core import config  # noqa: E402
from backprop_core.config import TrainConfig, estimate_seconds  # noqa: E402
from backprop_core.training import train  # noqa: E402

torch.set_num_threads(1)


def features(cfg: TrainConfig) -> list[float]:
    return list(config.cost_features(cfg))


def measure(cfg: TrainConfig, repeats: int = 2) -> float:
    return min(_timed(cfg) for _ in range(repeats))


def _timed(cfg):
    t = time.perf_counter()
    train(cfg)
    return time.perf_counter() - t


def main() -> None:
    train(TrainConfig(epochs=2))  # warm-up
    grid = []
    for depth, width, n, batch in itertools.product([1, 8, 32, 64], [8, 64, 256], [200, 2000], [0, 64]):
        grid.append(TrainConfig(depth=depth, width=width, n=n, batch=batch, epochs=4, act="tanh",
                                norm="batch" if depth == 8 else "none"))
    X, y = [], []
    for cfg in grid:
        X.append(features(cfg))
        y.append(measure(cfg))
    X, y = np.array(X), np.array(y)
    coef, *_ = np.linalg.lstsq(X / y[:, None], np.ones(len(y)), rcond=None)  # relative-error fit
    coef = np.maximum(coef, 0)
    big = y >= 0.3                                            # runs that matter for a 3 s budget
    coef = coef * max(1.0, float((y[big] / (X[big] @ coef)).max()))   # conservative on those
    print("fitted COST =", "(" + ", ".join(f"{c:.1e}" for c in coef) + ")")
    current = np.array([estimate_seconds(c) for c in grid])
    fitted = X @ coef
    print(f"{'depth':>5} {'width':>5} {'n':>5} {'batch':>5} {'measured':>9} {'current':>9} {'fitted':>9}")
    for cfg, m, c, f in zip(grid, y, current, fitted, strict=True):
        print(f"{cfg.depth:5d} {cfg.width:5d} {cfg.n:5d} {cfg.batch:5d} {m:9.3f} {c:9.3f} {f:9.3f}")
    ratio = y[big] / current[big]
    print(f"runs >= 0.3 s, measured/current model: median {np.median(ratio):.2f}, max {ratio.max():.2f}")
    print("budget", config.BUDGET_SECONDS, "s")


if __name__ == "__main__":
    main()
