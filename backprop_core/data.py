"""Seeded 2-D datasets (binary, K-class and regression) and a grid for decision surfaces.

Every generator draws from its own torch.Generator(seed) through draws.py, in float64, and the points
are rounded to float32 once: the same (name, n, noise, seed) gives the same points on every CPU.
The n training points come first and the test points after them; "linear" with seed 11 and n 200
draws the seed lesson's X = torch.randn(200, 2) (to about 5 digits: draws.py says why not exactly).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import torch

from backprop_core.config import DATASETS, N_RANGE
from backprop_core.draws import normal, uniform
from backprop_core.tasks import CLASSES_RANGE, GAUSS_WIDTH, MULTICLASS_DATASETS


@dataclass(frozen=True)
class Dataset:
    name: str
    X_train: torch.Tensor   # (n, 2) float32 (training converts it to its precision)
    y_train: torch.Tensor   # (n,) int64 classes 0..K-1, or float32 targets in [-1, 1] (regression)
    X_test: torch.Tensor    # (n_test, 2)
    y_test: torch.Tensor


def n_test_for(n: int) -> int:
    return max(20, n // 4)


def _balanced_labels(m: int, g: torch.Generator, k: int = 2) -> torch.Tensor:
    y = torch.arange(m) % k
    return y[torch.randperm(m, generator=g)]


def _linear(m, noise, g):
    X = normal((m, 2), g).float().double()            # the points as the network sees them
    score = X[:, 0] + X[:, 1] + noise * normal((m,), g)
    return X, (score > 0).long()


def _xor(m, noise, g):
    X = uniform((m, 2), -1.0, 1.0, g)
    y = (X[:, 0] * X[:, 1] > 0).long()
    return X + noise * normal((m, 2), g), y


def _circles(m, noise, g):
    y = _balanced_labels(m, g)
    angle = uniform((m,), 0.0, 1.0, g) * 2 * math.pi
    radius = torch.where(y == 1, 0.5, 1.0).double()
    X = torch.stack([radius * angle.cos(), radius * angle.sin()], 1)
    return X + noise * normal((m, 2), g), y


def _moons(m, noise, g):
    y = _balanced_labels(m, g)
    t = uniform((m,), 0.0, 1.0, g) * math.pi
    upper = torch.stack([t.cos(), t.sin()], 1)
    lower = torch.stack([1 - t.cos(), 0.5 - t.sin()], 1)
    X = torch.where((y == 0)[:, None], upper, lower) - torch.tensor([0.5, 0.25], dtype=torch.float64)
    return X + noise * normal((m, 2), g), y


def _spirals(m, noise, g, k=2):
    """k arms winding out from the centre, 1.5 turns each (two arms: one the mirror of the other)."""
    y = _balanced_labels(m, g, k)
    t = uniform((m,), 0.0, 1.0, g).sqrt() * 3 * math.pi
    if k == 2:
        sign = torch.where(y == 0, 1.0, -1.0).double()
        X = torch.stack([sign * t * t.cos(), sign * t * t.sin()], 1) / (3 * math.pi)
    else:
        turn = t + y.double() * (2 * math.pi / k)               # arm c starts at angle 2 pi c / k
        X = torch.stack([t * turn.cos(), t * turn.sin()], 1) / (3 * math.pi)
    return X + noise * normal((m, 2), g), y


def _blobs(m, noise, g, k=2):
    """k Gaussian blobs; two sit at (-1, -1) and (1, 1), more sit evenly on a circle of radius 1.5."""
    y = _balanced_labels(m, g, k)
    if k == 2:
        centre = torch.where((y == 1)[:, None], 1.0, -1.0).double().expand(m, 2)
    else:
        angle = y.double() * (2 * math.pi / k) + math.pi / 2
        centre = 1.5 * torch.stack([angle.cos(), angle.sin()], 1)
    return centre + (0.5 + noise) * normal((m, 2), g), y


def _plane(m, noise, g):
    """Regression: y = 0.6 x1 - 0.4 x2 on the square [-1, 1]^2 (so |y| <= 1), noise added to y."""
    X = uniform((m, 2), -1.0, 1.0, g)
    y = 0.6 * X[:, 0] - 0.4 * X[:, 1] + noise * normal((m,), g)
    return X, y.clamp(-1.0, 1.0)


def _gauss(m, noise, g):
    """Regression: a Gaussian bump y = 2 exp(-|x|^2 / (2 s^2)) - 1 on [-2, 2]^2, from -1 in the
    corners to 1 at the centre, noise added to y."""
    X = uniform((m, 2), -2.0, 2.0, g)
    y = 2 * torch.exp(-(X * X).sum(1) / (2 * GAUSS_WIDTH ** 2)) - 1 + noise * normal((m,), g)
    return X, y.clamp(-1.0, 1.0)


_MAKERS = {"linear": _linear, "xor": _xor, "circles": _circles, "moons": _moons,
           "spirals": _spirals, "blobs": _blobs, "plane": _plane, "gauss": _gauss}


def custom_dataset(points) -> Dataset:
    """The learner's own points, [(x1, x2, class), ...]: training and test set are the same points."""
    X = torch.tensor([[x1, x2] for x1, x2, _ in points], dtype=torch.float32).reshape(-1, 2)
    y = torch.tensor([c for _, _, c in points], dtype=torch.long)
    return Dataset("custom", X, y, X, y)


def make_dataset(name: str, n: int, noise: float = 0.0, seed: int = 11, points=None, classes: int = 2) -> Dataset:
    """n training points plus n_test_for(n) test points of the named set (custom: `points`); spirals
    and blobs have `classes` classes."""
    if name == "custom":
        return custom_dataset(points or [])
    if name not in _MAKERS:
        raise ValueError(f"data must be one of {', '.join(DATASETS)}; got {name!r}")
    lo, hi = N_RANGE
    if not lo <= n <= hi:
        raise ValueError(f"n must be {lo}..{hi}; got {n}")
    lo, hi = CLASSES_RANGE
    if not lo <= classes <= hi:
        raise ValueError(f"classes must be {lo}..{hi}; got {classes}")
    g = torch.Generator().manual_seed(seed)
    maker = _MAKERS[name]
    if classes != 2:
        if name not in MULTICLASS_DATASETS:
            raise ValueError(f"{name} data has a fixed task; classes applies to {', '.join(MULTICLASS_DATASETS)}")
        maker = partial(maker, k=classes)
    X_train, y_train = maker(n, noise, g)
    X_test, y_test = maker(n_test_for(n), noise, g)
    if y_train.is_floating_point():                    # regression targets, like the points, in float32
        y_train, y_test = y_train.float(), y_test.float()
    return Dataset(name, X_train.float(), y_train, X_test.float(), y_test)


def grid(X: torch.Tensor, steps: int = 50, margin: float = 0.5, bounds: float | None = None):
    """A steps x steps grid over X's bounding box (plus margin), or over [-bounds, bounds]^2.

    Returns (xs, ys, points): xs, ys of shape (steps,), points (steps * steps, 2), row-major in y."""
    if bounds is not None:
        lo, hi = torch.full((2,), -bounds), torch.full((2,), bounds)
    else:
        lo = X.min(0).values - margin
        hi = X.max(0).values + margin
    xs = torch.linspace(lo[0].item(), hi[0].item(), steps)
    ys = torch.linspace(lo[1].item(), hi[1].item(), steps)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return xs, ys, torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
