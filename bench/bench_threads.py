"""Torch intra-op threads for these tiny nets: 1 vs 2, idle and with the other core busy.

    python bench/bench_threads.py [--repeats 9]
Busy = a second process spinning on one core (as the browser or another session would)."""
import argparse
import multiprocessing as mp
import statistics
import time

import torch

from backprop_core.config import TrainConfig
from backprop_core.training import train

from common import machine

CASES = {"seed demo 4": TrainConfig.preset("seed demo 4"),
         "20x64 relu, n=1000, 30 epochs": TrainConfig(depth=20, width=64, act="relu", init="kaiming", n=1000,
                                                      epochs=30, lr=0.01)}


def spin(stop):
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def timed(cfg, repeats):
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        train(cfg)
        out.append(time.perf_counter() - t)
    return statistics.median(out) * 1000, max(out) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()
    print(f"bench_threads: median / max ms per training run; {machine()}")
    for busy in (False, True):
        stop = mp.Event()
        hog = mp.Process(target=spin, args=(stop,)) if busy else None
        if hog:
            hog.start()
        for name, cfg in CASES.items():
            row = []
            for threads in (1, 2):
                torch.set_num_threads(threads)
                train(cfg)
                med, worst = timed(cfg, args.repeats)
                row.append(f"{threads} thread{'s' if threads > 1 else ''}: {med:7.1f} / {worst:7.1f}")
            print(f"  {'other core busy' if busy else 'idle':16s} {name:32s} " + "   ".join(row))
        if hog:
            stop.set()
            hog.join()


if __name__ == "__main__":
    main()
