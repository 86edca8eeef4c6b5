"""Named starting points: the seed lesson's demos and exercises, and the network each page opens with.

Plain values by URL key (config.parse validates them like any link), so a preset is a link a
teacher could type.
"""
from __future__ import annotations

import random
from typing import Any

HAND_PRESETS: dict[str, dict[str, Any]] = {
    "seed demo": {},
    "exercise 1": dict(x1=2.0, x2=1.0, w1_11=0.2, w1_12=-0.3, w1_21=0.5, w1_22=0.4,
                       w2_1=0.6, w2_2=-0.7, y=0.0),
}

PRESETS: dict[str, dict[str, Any]] = {
    "seed demo 3": dict(depth=1, width=10, act="relu", opt="adam", lr=0.1, epochs=60, seed=11,
                        data="linear", n=200, dseed=11),
    "seed demo 4": dict(depth=6, width=32, act="sigmoid", opt="adam", lr=0.07, epochs=30, seed=21,
                        data="linear", n=200, dseed=11),
    "dying 10-layer sigmoid": dict(depth=10, width=32, act="sigmoid", opt="sgd", lr=0.5, epochs=60,
                                   seed=21, data="linear", n=200, dseed=11),
    "healthy deep relu": dict(depth=20, width=32, act="relu", init="kaiming", opt="adam", lr=0.01,
                              epochs=30, seed=3, data="moons", n=300, noise=0.1, dseed=11),
    "exploding": dict(depth=6, width=32, act="relu", init="large", opt="sgd", lr=50.0, epochs=30,
                      seed=5, data="linear", n=200, dseed=11),
}

PAGE_PRESET = {"flow": "seed demo 3", "vanishing": "seed demo 4"}      # what each training page opens with

HAND_WEIGHT_KEYS = ("w1_11", "w1_12", "w1_21", "w1_22", "w2_1", "w2_2")


def random_hand_values(seed: int) -> dict[str, float]:
    """A reproducible random example for the hand page (weights in [-1, 1], x in [-2, 2], y in {0, 1})."""
    rng = random.Random(seed)
    v = {key: round(rng.uniform(-1, 1), 2) for key in HAND_WEIGHT_KEYS}
    v |= {"x1": round(rng.uniform(-2, 2), 1), "x2": round(rng.uniform(-2, 2), 1),
          "y": float(rng.randint(0, 1))}
    return v
