"""The compute budget's cost model (backprop_core/budget.py) against measured runs.

    .venv/bin/python bench/bench_budget.py          # 50 fresh random reachable runs: estimate / measured
    .venv/bin/python bench/bench_budget.py --fit    # refit COST on another 80 random runs, then check

A random reachable run draws every training control of /flow from its range (log-uniform for sizes)
and keeps the runs the page would start: those whose current estimate is within the budget (the fit
draws up to four times the budget, so the model knows both sides of the limit). A run that diverges
stops early, so its time says nothing about the estimate (which is for every epoch): such runs are
left out and counted. Each run is timed twice in
float64 with one torch thread (as in a worker); the faster time counts. The fit is a non-negative
least-squares fit of relative error, then scaled so that no fitted run took longer than predicted.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from backprop_core import budget  # noqa: E402
from backprop_core.config import TrainConfig, page_train_params  # noqa: E402
from backprop_core.training import train  # noqa: E402

torch.set_num_threads(1)
PARAMS = {p.key: p for p in page_train_params("flow")}
SAVED = Path(__file__).resolve().parent / "out" / "budget_fit_runs.json"
MARGIN = 1.05            # the most under-predicted fitted run sits 5% below its estimate (timing noise)


def log_uniform(rng: random.Random, lo: float, hi: float) -> int:
    return int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))


def random_config(rng: random.Random) -> TrainConfig:
    p = PARAMS
    return TrainConfig(
        depth=log_uniform(rng, p["depth"].lo, p["depth"].hi), width=log_uniform(rng, p["width"].lo, p["width"].hi),
        act=rng.choice(p["act"].choices), init=rng.choice(p["init"].choices), norm=rng.choice(p["norm"].choices),
        residual=rng.random() < 0.3, opt=rng.choice(p["opt"].choices), lr=10 ** rng.uniform(-3, 0),
        epochs=log_uniform(rng, p["epochs"].lo, p["epochs"].hi), seed=rng.randint(0, 9999),
        data=rng.choice(["linear", "xor", "circles", "moons", "spirals", "blobs"]),
        n=log_uniform(rng, p["n"].lo, p["n"].hi), noise=rng.choice([0.0, 0.1, 0.3]),
        batch=rng.choice([0, 0, log_uniform(rng, 1, 512)]), wd=rng.choice([0.0, 1e-3]),
        clip=rng.choice([0.0, 1.0]))


def estimate(cfg: TrainConfig, cost=budget.COST) -> float:
    return sum(c * f for c, f in zip(cost, budget.cost_features(cfg), strict=True))


def sample(seed: int, count: int, limit: float, cost=budget.COST) -> list[TrainConfig]:
    """`count` random runs whose estimate under `cost` is at most `limit` seconds."""
    rng, out = random.Random(seed), []
    while len(out) < count:
        cfg = random_config(rng)
        if estimate(cfg, cost) <= limit:
            out.append(cfg)
    return out


class TooLong(Exception):
    pass


def measure(cfg: TrainConfig, cap: float = 12.0) -> float:
    """The fastest of three timed runs (the machine is shared: noise only adds time); inf when a run
    passes `cap` seconds (it is stopped there), NaN when it diverges (it stops early, so its time says
    nothing about the model's estimate)."""
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()

        def stop_late(done, total, start=start):
            if time.perf_counter() - start > cap:
                raise TooLong
        try:
            run = train(cfg, on_epoch=stop_late)
        except TooLong:
            return math.inf
        if run.diverged_at is not None:
            return math.nan
        best = min(best, time.perf_counter() - start)
    return best


def fit(cfgs: list[TrainConfig], seconds: np.ndarray, steps: int = 20000, power: int = 8) -> np.ndarray:
    """Non-negative COST that keeps estimate / measured in the narrowest band: coefficients as
    exp(theta), fitted by Adam to the mean of (log ratio - its centre)^power (a large power weighs the
    worst runs most, close to a minimax fit), then scaled so that the run most under-predicted sits at
    MARGIN (measurements repeat within about 10%)."""
    X = np.array([budget.cost_features(c) for c in cfgs])
    scale = X.mean(0) + 1e-30
    A = X / scale
    theta = np.log(np.full(A.shape[1], float(np.median(seconds)) / A.shape[1]))
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, steps + 1):
        coef = np.exp(theta)
        est = A @ coef
        r = np.log(est / seconds)
        d = r - 0.5 * (r.max() + r.min())
        grad = power * ((d ** (power - 1) / est)[:, None] * A).mean(0) * coef
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        theta -= 0.02 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-12)
    coef = np.exp(theta) / scale
    return coef * MARGIN * float((seconds / (X @ coef)).max())


def report(cfgs: list[TrainConfig], seconds: np.ndarray, cost) -> None:
    est = np.array([estimate(cfg, cost) for cfg in cfgs])
    ratio = est / seconds
    print(f"{'depth':>5} {'width':>5} {'norm':>5} {'n':>5} {'batch':>5} {'epochs':>6} {'measured s':>10} "
          f"{'estimate s':>10} {'ratio':>6}")
    for cfg, m, e, r in sorted(zip(cfgs, seconds, est, ratio, strict=True), key=lambda t: -t[1]):
        print(f"{cfg.depth:5d} {cfg.width:5d} {cfg.norm:>5} {cfg.n:5d} {cfg.batch:5d} {cfg.epochs:6d} "
              f"{m:10.3f} {e:10.3f} {r:6.2f}")
    print(f"estimate / measured over {len(cfgs)} runs: min {ratio.min():.2f}, median {np.median(ratio):.2f}, "
          f"max {ratio.max():.2f}")


def slider_ends() -> None:
    """From each page's defaults, every numeric control moved alone to its ends: the runs the budget
    refuses, and how long they really take (stopped at 12 s)."""
    from backprop_core.config import page_train_params
    from backprop_core.fixes import apply_fix
    print("\nEach numeric control alone at an end of its range, from each page's defaults:")
    for page in ("flow", "vanishing"):
        params = page_train_params(page)
        base = TrainConfig.from_values({p.key: p.default for p in params})
        for p in params:
            if p.kind not in ("int", "float"):
                continue
            for end in (p.lo, p.hi):
                cfg = replace(base, **{p.key: int(end) if p.kind == "int" else float(end)})
                cfgs = [cfg] if page == "flow" else [cfg, apply_fix(cfg, "relu")]
                if budget.over_budget(*cfgs):
                    est = budget.wall_seconds(*cfgs)
                    took = sum(measure(c) for c in cfgs)
                    print(f"  /{page} {p.key}={end:g}: refused (typical {est:.1f} s on two workers); "
                          f"its float64 runs take {took:.1f} s one after the other")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", action="store_true", help="refit COST first (measures 100 runs, ~8 minutes)")
    parser.add_argument("--refit", action="store_true", help="refit COST on the runs --fit measured last")
    parser.add_argument("--seed", type=int, default=2, help="the fresh sample to check the model on (the fit "
                        "used seeds 0 and 1)")
    args = parser.parse_args()
    train(TrainConfig(epochs=2))                                      # warm-up
    cost = budget.COST
    if args.fit or args.refit:
        if args.fit:
            cfgs = sample(0, 100, 4 * budget.BUDGET_SECONDS)
            seconds = [measure(c) for c in cfgs]
            SAVED.parent.mkdir(parents=True, exist_ok=True)
            SAVED.write_text(json.dumps([[asdict(c), t] for c, t in zip(cfgs, seconds, strict=True)]))
        runs = [(TrainConfig(**c), t) for c, t in json.loads(SAVED.read_text())]
        keep = [(c, t) for c, t in runs if math.isfinite(t)]
        print(f"fit on {len(keep)} runs ({sum(math.isinf(t) for _, t in runs)} stopped at 12 s, "
              f"{sum(math.isnan(t) for _, t in runs)} diverged)")
        cost = tuple(fit([c for c, _ in keep], np.array([t for _, t in keep])))
        print("fitted COST = (" + ", ".join(f"{c:.1e}" for c in cost) + ")  # " + ", ".join(budget.FEATURES))
    measured = [(c, measure(c)) for c in sample(args.seed, 70, budget.BUDGET_SECONDS, cost)]
    done = [(c, t) for c, t in measured if math.isfinite(t)][:50]
    print(f"{sum(math.isnan(t) for _, t in measured)} of {len(measured)} sampled runs diverged (stopped early) "
          "and are left out; the first 50 that trained every epoch:")
    report([c for c, _ in done], np.array([t for _, t in done]), cost)
    slider_ends()


if __name__ == "__main__":
    main()
