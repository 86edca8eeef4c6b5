"""What a training run records, as plain numpy arrays (no torch: results cross process boundaries and
the pages' server never loads torch). Tidy pandas views are built on first use.

Shapes: E recorded epochs, L = depth + 1 layers (hidden 1..D, then the output layer), C statistics.
Epoch e of `stats` describes the gradient at the first step of epoch e (e = 0: at initialisation);
row e of `metrics` describes the model after e epochs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:                     # pandas is imported where a table is asked for, not by workers
    import pandas as pd

    from backprop_core.config import TrainConfig

STAT_COLUMNS = ["grad_mean_abs", "grad_norm", "grad_max_abs", "signal_norm", "weight_norm",
                "update_ratio", "act_mean", "act_std", "saturated", "dead", "signal_rms"]
METRIC_COLUMNS = ["train_loss", "test_loss", "train_score", "test_score", "l2_penalty"]
# Histogram of |g| per layer: exact zeros in a bin of their own, then everything below 1e-12, then
# half-decade bins of log10|g| from 1e-12 to 1e2, then everything from 1e2 up.
HALF_DECADES = np.arange(-12.0, 2.01, 0.5)    # edges of the half-decade bins
HIST_BINS = 3 + len(HALF_DECADES) - 1         # zero, underflow, 28 half-decades, overflow
ZERO_BIN, UNDER_BIN, OVER_BIN = 0, 1, HIST_BINS - 1


def hist_bin_labels() -> list[str]:
    """What each histogram bin holds, in words, for tooltips."""
    halves = [f"1e{lo:g} to 1e{hi:g}" for lo, hi in zip(HALF_DECADES[:-1], HALF_DECADES[1:], strict=True)]
    return ["exactly 0", f"below 1e{HALF_DECADES[0]:g}", *halves, f"1e{HALF_DECADES[-1]:g} and above"]
GRID_STEPS = 30
ILL_DIGITS = 2.0                  # fewer correct float32 digits than this: the network is ill-conditioned


DRAW_DEPTH, DRAW_WIDTH = 6, 16   # networks up to this size keep their weights at the scrubber's epochs


@dataclass
class Snapshots:
    """A small network's parameters at the scrubber's epochs, for drawing it and probing a point
    (network.py). Flat float64 vectors in FlatParams order; `layout` names each parameter's
    (start, stop, shape) in them. `grads[e]` is the gradient of the first step of epoch e (the whole
    batch's, with full batches) at `params[e]`; `steps[e]` that step's change of the weight matrices
    (the first n_weights entries); `running[e]` BatchNorm's running statistics (else absent)."""
    layout: dict[str, tuple[int, int, tuple[int, ...]]]
    params: dict[int, np.ndarray]
    grads: dict[int, np.ndarray]
    steps: dict[int, np.ndarray]
    running: dict[int, np.ndarray]
    running_layout: dict[str, tuple[int, int]]

    def get(self, epoch: int, name: str, kind: str = "params") -> np.ndarray:
        """One parameter (or its gradient, or its step) at `epoch`, in its own shape."""
        start, stop, shape = self.layout[name]
        return getattr(self, kind)[epoch][start:stop].reshape(shape)


@dataclass
class RunResult:
    config: TrainConfig
    diverged_at: int | None
    stats: np.ndarray                   # (E, L, C) float64, columns STAT_COLUMNS (inf stored as NaN)
    metrics: np.ndarray                 # (M, 5) float64, columns METRIC_COLUMNS, rows: after 0..M-1 epochs.
                                        # BatchNorm models and mini-batch runs are evaluated in eval mode
                                        # (running statistics); l2_penalty is wd/2 ||theta||^2
    grad_hist: dict[int, np.ndarray]    # epoch -> (L, HIST_BINS) counts of |dL/dW| per bin (hist_bin_labels)
    surfaces: dict[int, np.ndarray]     # epoch -> P(class 1) on the grid, (GRID_STEPS, GRID_STEPS)
    grid_x: np.ndarray                  # (GRID_STEPS,)
    grid_y: np.ndarray
    X_train: np.ndarray                 # (n, 2) float32, the training points
    y_train: np.ndarray                 # (n,) int64
    seconds: float
    theory: np.ndarray | None = None    # predicted RMS per-sample signal per hidden layer (plain MLPs)
    train_mode: dict | None = None      # BatchNorm: final train_loss/train_score with batch statistics
    snapshots: Snapshots | None = None  # networks of at most DRAW_DEPTH x DRAW_WIDTH: weights per scrubber epoch

    @property
    def depth(self) -> int:
        return self.config.depth

    @property
    def layer_names(self) -> list[str]:
        return [str(i + 1) for i in range(self.depth)] + ["out"]

    def column(self, name: str) -> np.ndarray:
        """(E, L) array of one statistic."""
        return self.stats[:, :, STAT_COLUMNS.index(name)]

    @cached_property
    def layer_stats(self) -> pd.DataFrame:
        """Tidy rows: epoch, layer (1-based, the output is depth + 1), layer_name, STAT_COLUMNS."""
        import pandas as pd
        E, L, _ = self.stats.shape
        df = pd.DataFrame(self.stats.reshape(E * L, -1), columns=STAT_COLUMNS)
        df.insert(0, "layer_name", np.tile(np.array(self.layer_names, dtype=object), E))
        df.insert(0, "layer", np.tile(np.arange(1, L + 1), E))
        df.insert(0, "epoch", np.repeat(np.arange(E), L))
        return df

    def finite_metrics(self) -> np.ndarray:
        """The rows of `metrics` whose training loss is finite (a diverging run's last ones are not)."""
        return self.metrics[np.isfinite(self.metrics[:, 0])] if len(self.metrics) else self.metrics

    def hist_epoch(self, epoch: int) -> int | None:
        """The recorded histogram epoch shown for a scrubber epoch: the latest one at or before it."""
        at_or_before = [e for e in self.grad_hist if e <= epoch]
        return max(at_or_before) if at_or_before else (min(self.grad_hist) if self.grad_hist else None)


def final_metrics(run: RunResult) -> dict[str, float]:
    """Loss and accuracy of the last recorded model state (NaN when there is none)."""
    rows = run.finite_metrics()
    if not len(rows):
        return {k: math.nan for k in METRIC_COLUMNS}
    return {k: float(v) for k, v in zip(METRIC_COLUMNS, rows[-1], strict=True)}


@dataclass
class ModelReport:
    """check.model_report's answer: the manual backward pass vs autograd for one model."""
    dtype: str
    tensors: pd.DataFrame        # one row per parameter tensor: manual vs autograd in `dtype`
    samples: pd.DataFrame        # sampled entries: manual, autograd, float64 finite difference
    first_bad_layer: str | None  # first layer, in backward order (output first), that disagrees
    float32_digits: float = 7.0  # correct digits float32 keeps on the worst tensor (log10 |g| / noise)

    @property
    def ill_conditioned(self) -> bool:
        """Rounding is amplified so much that float32 keeps fewer than ILL_DIGITS correct digits on
        some tensor; even float64 results (and finite differences) are then unreliable."""
        return self.float32_digits < ILL_DIGITS

    @property
    def all_pass(self) -> bool:
        return bool(self.tensors["pass"].all() and self.samples["pass"].all())
