"""Instrumented training (every statistic recorded) vs a bare torch loop on the same model,
data and optimiser. Target: ratio <= 1.15.   python bench/bench_core.py [--repeats 15]

The bare loop is what a learner would write: forward, F.cross_entropy, zero_grad, backward
(autograd), step. The instrumented run uses the manual backward pass and records per-layer
statistics, histograms, train/test metrics and decision surfaces.
"""
import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from backprop_core.config import TrainConfig  # noqa: E402
from backprop_core.data import make_dataset  # noqa: E402
from backprop_core.models import build_mlp  # noqa: E402
from backprop_core.training import train  # noqa: E402

from common import machine, median_ms, timed  # noqa: E402

torch.set_num_threads(1)


def bare_loop(cfg: TrainConfig) -> None:
    data = make_dataset(cfg.data, cfg.n, cfg.noise, cfg.dseed)
    model = build_mlp(cfg.depth, cfg.width, cfg.act, cfg.init, cfg.norm, cfg.residual, cfg.seed)
    # the faster of torch's two CPU paths (foreach), so the comparison is not flattered
    opt = (torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.wd, foreach=True) if cfg.opt == "adam"
           else torch.optim.SGD(model.parameters(), lr=cfg.lr, weight_decay=cfg.wd, foreach=True,
                                momentum=0.9 if cfg.opt == "momentum" else 0.0))
    for _ in range(cfg.epochs):
        loss = F.cross_entropy(model(data.X_train), data.y_train)
        opt.zero_grad()
        loss.backward()
        opt.step()


CASES = {
    "seed demo 4 (6x32 sigmoid, 30 epochs)": TrainConfig.preset("seed demo 4"),
    "seed demo 3 (1x10 relu, 60 epochs)": TrainConfig.preset("seed demo 3"),
    "12x64 relu, 80 epochs": TrainConfig(depth=12, width=64, act="relu", init="kaiming", epochs=80, lr=0.01),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    print(f"bench_core: instrumented train() vs bare torch loop; {machine()}; torch threads = 1")
    for name, cfg in CASES.items():
        train(cfg)
        bare_loop(cfg)  # warm-up both
        inst, bare = [], []
        for _ in range(args.repeats):  # interleave so machine noise hits both alike
            inst += timed(lambda cfg=cfg: train(cfg), 1)
            bare += timed(lambda cfg=cfg: bare_loop(cfg), 1)
        a, b = median_ms(inst), median_ms(bare)
        print(f"  {name:42s} instrumented {a:8.1f} ms   bare {b:8.1f} ms   ratio {a / b:5.2f}")


if __name__ == "__main__":
    main()
