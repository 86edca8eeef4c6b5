"""Depth sweep at initialisation: batched tensor program vs a naive per-configuration loop.
Targets: >= 5x faster than naive, <= 2 s wall.   python bench/bench_sweep.py [--repeats 3]

Workload: depth 1..30 x {sigmoid, tanh, relu, leaky_relu} x 3 seeds, width 32, 200 points.
Naive: for each configuration build_mlp + forward + autograd (360 models).
"""
import argparse
import statistics
import time

import torch

from backprop_core.sweep import depth_sweep, naive_ratio

from common import machine

torch.set_num_threads(1)
ACTS = ("sigmoid", "tanh", "relu", "leaky_relu")


def naive() -> None:
    for act in ACTS:
        for depth in range(1, 31):
            for seed in range(3):
                naive_ratio(act, "default", depth, seed)


def batched() -> None:
    depth_sweep(30, ACTS, ("default",), 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"bench_sweep: depth 1..30 x 4 activations x 3 seeds at init; {machine()}; torch threads = 1")
    batched()
    naive_ratio("relu", "default", 2, 0)  # warm-up
    b, n = [], []
    for _ in range(args.repeats):
        t = time.perf_counter()
        batched()
        b.append(time.perf_counter() - t)
        t = time.perf_counter()
        naive()
        n.append(time.perf_counter() - t)
    bm, nm = statistics.median(b), statistics.median(n)
    print(f"  batched {bm * 1000:8.1f} ms   naive {nm * 1000:8.1f} ms   speed-up {nm / bm:5.1f}x   "
          f"(targets: >= 5x, <= 2000 ms)")


if __name__ == "__main__":
    main()
