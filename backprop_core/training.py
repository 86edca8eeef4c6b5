"""Instrumented training: train(config, on_epoch) -> RunResult.

Each step runs the hand-written backward pass (`manual.backward_pass`, proven equal to autograd
in the tests) and hands its gradients to a torch optimiser. At the first step of every epoch the
run records, per layer (hidden layers 1..D, then the output layer), on tensors only:

    mean|g|, ||g||, max|g| of the weight-matrix gradient g = dL/dW
    ||dL/dz||            the backward signal reaching the layer's Linear output (batch mean loss)
    signal_rms           the same signal per sample: sqrt(mean over points and units of (dL_n/dz)^2),
                         dL_n being one point's own loss (what theory.signal_at_init predicts)
    ||W|| and ||ΔW||/||W|| (update-to-weight ratio of that step; ~1e-3 is Karpathy's rule of thumb)
    mean and std of the layer's activations h
    saturated: share of (training point, unit) pre-activations u in a flat zone: |u| > 4 for
               sigmoid (slope < 0.018, 7% of its peak), |u| > 2 for tanh (slope < 0.071); 0 otherwise
    dead: share of units with u <= 0 for every training point (ReLU only: its slope is exactly 0
          there, so such a unit passes no gradient; leaky ReLU, ELU and GELU keep a slope below 0)
    a histogram of log10|g| on fixed bins HIST_EDGES

Everything is stacked into one tensor per epoch and converted to pandas once at the end, so
recording costs a few small tensor ops per layer and no Python-level sync per statistic.

Epoch e of `layer_stats` describes the gradient at the start of epoch e (e = 0: at
initialisation); `epoch_stats` has rows 0..E for the model after e epochs.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from backprop_core.config import TrainConfig
from backprop_core.data import Dataset, grid, make_dataset
from backprop_core.manual import backward_pass, forward, predict
from backprop_core.models import MLP, build_mlp

HIST_EDGES = np.arange(-12.0, 2.01, 0.5)      # log10 |g| bins; the first also takes exact zeros
STAT_COLUMNS = ["grad_mean_abs", "grad_norm", "grad_max_abs", "signal_norm", "weight_norm",
                "update_ratio", "act_mean", "act_std", "saturated", "dead", "signal_rms"]
SATURATION_Z = {"sigmoid": 4.0, "tanh": 2.0}
GRID_STEPS = 30

ProgressFn = Callable[[int, int], None]


@dataclass
class RunResult:
    config: TrainConfig
    status: str                         # "ok" or "diverged at epoch k"
    diverged_at: int | None
    layer_stats: pd.DataFrame           # epoch, layer, layer_name, STAT_COLUMNS
    epoch_stats: pd.DataFrame           # epoch, train_loss, test_loss, train_acc, test_acc
    grad_hist: np.ndarray               # (epochs recorded, layers, bins) counts
    surfaces: dict[int, np.ndarray]     # epoch -> P(class 1) on the grid, (GRID_STEPS, GRID_STEPS)
    grid_x: np.ndarray
    grid_y: np.ndarray
    data: Dataset
    seconds: float
    layer_names: list[str] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return self.config.depth

    def hist_frame(self, epoch: int) -> pd.DataFrame:
        """Tidy histogram rows (layer_name, lo, hi, count) for one recorded epoch."""
        epoch = min(max(epoch, 0), len(self.grad_hist) - 1)
        rows = [{"layer": i + 1, "layer_name": name, "log10_lo": HIST_EDGES[b],
                 "log10_hi": HIST_EDGES[b + 1], "count": int(self.grad_hist[epoch, i, b])}
                for i, name in enumerate(self.layer_names) for b in range(len(HIST_EDGES) - 1)]
        return pd.DataFrame(rows)


def _optimizer(cfg: TrainConfig, params):
    # foreach: one fused update for all parameters instead of a Python loop over them
    if cfg.opt == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.wd, foreach=True)
    momentum = 0.9 if cfg.opt == "momentum" else 0.0
    return torch.optim.SGD(params, lr=cfg.lr, momentum=momentum, weight_decay=cfg.wd, foreach=True)


def _weights(model: MLP) -> list[torch.Tensor]:
    return [b.linear.weight for b in model.hidden] + [model.out.weight]


class _Segments:
    """Per-layer reductions over one flat tensor: layer l owns a contiguous slice of it.

    Concatenating the L weight matrices (or their gradients) once and reducing with segment
    ids costs a fixed handful of tensor ops per epoch, however deep the network."""

    def __init__(self, tensors: list[torch.Tensor]):
        sizes = torch.tensor([t.numel() for t in tensors])
        self.L, self.sizes = len(tensors), sizes.to(torch.float32)
        self.ids = torch.repeat_interleave(torch.arange(self.L), sizes)

    def sum(self, flat: torch.Tensor) -> torch.Tensor:
        return torch.zeros(self.L, dtype=flat.dtype).index_add_(0, self.ids, flat)

    def max(self, flat: torch.Tensor) -> torch.Tensor:
        return torch.zeros(self.L, dtype=flat.dtype).scatter_reduce_(0, self.ids, flat, "amax")

    def norm(self, flat: torch.Tensor) -> torch.Tensor:
        return self.sum(flat * flat).sqrt()

    def histogram(self, flat_abs: torch.Tensor) -> torch.Tensor:
        """Counts of log10|g| per HIST_EDGES bin, (L, bins); exact zeros land in the first bin."""
        lo, width, bins = float(HIST_EDGES[0]), float(HIST_EDGES[1] - HIST_EDGES[0]), len(HIST_EDGES) - 1
        logs = torch.log10(flat_abs.clamp_min(1e-30))
        b = ((logs - lo) / width).floor().clamp(0, bins - 1).long()
        return torch.bincount(self.ids * bins + b, minlength=self.L * bins).view(self.L, bins).float()


def _flat(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def _layer_stats(model: MLP, result, grads: list[torch.Tensor], seg: _Segments,
                 full_caches) -> tuple[torch.Tensor, torch.Tensor]:
    """(L, len(STAT_COLUMNS)) stats with update_ratio left NaN, and the (L, bins) histogram.
    `full_caches`: the forward pass over the whole training set (saturation and dead units)."""
    g = _flat(grads).float()
    a = g.abs()
    L = seg.L
    D = L - 1
    nan = torch.full((L,), float("nan"))
    signal = torch.linalg.vector_norm(torch.stack(result.signals[:-1]).float(), dim=(1, 2))
    signal = torch.cat([signal, torch.linalg.vector_norm(result.signals[-1]).float().reshape(1)])
    n = result.signals[-1].shape[0]
    units = torch.tensor([s.shape[1] for s in result.signals], dtype=torch.float32)
    signal_rms = signal * (n / units).sqrt()                       # per-sample dL_n/dz = N dL/dz
    u = torch.stack([c.u for c in full_caches]).float()           # (D, N_train, width)
    h = torch.stack([c.h for c in result.caches]).float()
    act_mean, act_std = nan.clone(), nan.clone()
    flat_h = h.reshape(D, -1)
    k = flat_h.shape[1]
    act_mean[:D] = flat_h.mean(1)
    centred = flat_h - act_mean[:D, None]          # two passes: far faster than torch.std_mean on CPU
    act_std[:D] = (centred.square().sum(1) / max(k - 1, 1)).sqrt()
    sat, dead = nan.clone(), nan.clone()
    sat_z = SATURATION_Z.get(model.activation)
    sat[:D] = (u.abs() > sat_z).float().mean((1, 2)) if sat_z else 0.0
    dead[:D] = (u.amax(1) <= 0).float().mean(1) if model.activation == "relu" else 0.0
    w = _flat(_weights(model)).float()
    stats = torch.stack([seg.sum(a) / seg.sizes, seg.norm(g), seg.max(a), signal, seg.norm(w), nan,
                         act_mean, act_std, sat, dead, signal_rms], 1)
    return stats, seg.histogram(a)


@torch.no_grad()
def _evaluate(model: MLP, X, y) -> tuple[torch.Tensor, torch.Tensor]:
    logits = predict(model, X)
    loss = torch.nn.functional.cross_entropy(logits, y)
    return loss, (logits.argmax(1) == y).float().mean()


def first_batch(cfg: TrainConfig, data: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """The points of the first step (epoch 0's statistics describe the gradient on them)."""
    if cfg.batch_size >= cfg.n:
        return data.X_train, data.y_train
    idx = torch.randperm(cfg.n, generator=torch.Generator().manual_seed(cfg.seed))[:cfg.batch_size]
    return data.X_train[idx], data.y_train[idx]


def _snapshot_epochs(epochs: int, k: int) -> set[int]:
    return {int(round(e)) for e in np.linspace(0, epochs, max(2, k))}


@torch.no_grad()
def train(cfg: TrainConfig, on_epoch: ProgressFn | None = None) -> RunResult:
    """Train the configured MLP and record everything the gradient-flow views draw."""
    start = time.perf_counter()
    data = make_dataset(cfg.data, cfg.n, cfg.noise, cfg.dseed)
    model = build_mlp(cfg.depth, cfg.width, cfg.act, cfg.init, cfg.norm, cfg.residual, cfg.seed)
    opt = _optimizer(cfg, list(model.parameters()))
    weights = _weights(model)
    seg = _Segments(weights)
    weight_names = [f"hidden.{i}.linear.weight" for i in range(cfg.depth)] + ["out.weight"]
    X, y = data.X_train, data.y_train
    gen = torch.Generator().manual_seed(cfg.seed)
    xs, ys, grid_points = grid(torch.cat([X, data.X_test]), GRID_STEPS)
    snapshots = _snapshot_epochs(cfg.epochs, cfg.snapshots)
    bs, full_batch = cfg.batch_size, cfg.batch_size >= cfg.n
    track_train_eval = not full_batch or cfg.norm == "batch"

    stats, hists, evals, surfaces = [], [], [], {}
    diverged_at = None

    def record_eval(epoch: int, train_loss=None, train_acc=None) -> None:
        if train_loss is None:
            train_loss, train_acc = _evaluate(model, X, y)
        test_loss, test_acc = _evaluate(model, data.X_test, data.y_test)
        evals.append(torch.stack([train_loss, test_loss, train_acc, test_acc]))
        if epoch in snapshots:
            surfaces[epoch] = torch.softmax(predict(model, grid_points), 1)[:, 1]

    for epoch in range(cfg.epochs):
        order = torch.randperm(cfg.n, generator=gen) if not full_batch else None
        for step, lo in enumerate(range(0, cfg.n, bs)):
            idx = order[lo:lo + bs] if order is not None else None
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            result = backward_pass(model, xb, yb, update_running=True)
            if not torch.isfinite(result.loss):
                diverged_at = epoch
                break
            for name, p in model.named_parameters():
                p.grad = result.grads[name]
            if step == 0:
                if not track_train_eval:
                    acc = (result.logits.argmax(1) == y).float().mean()
                    record_eval(epoch, result.loss, acc)
                else:
                    record_eval(epoch)
                full = result.caches if idx is None else forward(model, X)[1]
                row, hist = _layer_stats(model, result, [result.grads[n] for n in weight_names], seg, full)
                before = _flat(weights)
            if cfg.clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            if step == 0:
                change = seg.norm((_flat(weights) - before).float())
                row[:, STAT_COLUMNS.index("update_ratio")] = change / row[:, 4].clamp_min(1e-30)
                if not torch.isfinite(row[:, :6]).all():
                    diverged_at = epoch
                    break
                stats.append(row)
                hists.append(hist)
        if diverged_at is not None:
            break
        if on_epoch is not None:
            on_epoch(epoch + 1, cfg.epochs)
    if diverged_at is None:
        record_eval(cfg.epochs)
    return _package(cfg, model, data, stats, hists, evals, surfaces, xs, ys, diverged_at, start)


def _package(cfg, model, data, stats, hists, evals, surfaces, xs, ys, diverged_at, start) -> RunResult:
    names = [str(i + 1) for i in range(cfg.depth)] + ["out"]
    n_rec = len(stats)
    arr = torch.stack(stats).numpy() if stats else np.zeros((0, len(names), len(STAT_COLUMNS)))
    layer_stats = pd.DataFrame(arr.reshape(-1, len(STAT_COLUMNS)), columns=STAT_COLUMNS)
    layer_stats.insert(0, "layer_name", np.tile(names, n_rec))
    layer_stats.insert(0, "layer", np.tile(np.arange(1, len(names) + 1), n_rec))
    layer_stats.insert(0, "epoch", np.repeat(np.arange(n_rec), len(names)))
    layer_stats = layer_stats.replace([np.inf, -np.inf], np.nan)
    ev = torch.stack(evals).numpy() if evals else np.zeros((0, 4))
    epoch_stats = pd.DataFrame(ev, columns=["train_loss", "test_loss", "train_acc", "test_acc"])
    epoch_stats.insert(0, "epoch", np.arange(len(ev)))
    epoch_stats = epoch_stats.replace([np.inf, -np.inf], np.nan)
    epoch_stats = epoch_stats[np.isfinite(epoch_stats["train_loss"])]
    surf = {e: s.reshape(GRID_STEPS, GRID_STEPS).numpy() for e, s in surfaces.items()
            if torch.isfinite(s).all()}
    hist = torch.stack(hists).numpy() if hists else np.zeros((0, len(names), len(HIST_EDGES) - 1))
    status = "ok" if diverged_at is None else f"diverged at epoch {diverged_at}"
    return RunResult(cfg, status, diverged_at, layer_stats, epoch_stats, hist, surf, xs.numpy(),
                     ys.numpy(), data, time.perf_counter() - start, names)


def final_metrics(run: RunResult) -> dict[str, float]:
    """Loss and accuracy of the last recorded model state."""
    last = run.epoch_stats.iloc[-1] if len(run.epoch_stats) else None
    if last is None:
        return {"train_loss": math.nan, "test_loss": math.nan, "train_acc": math.nan, "test_acc": math.nan}
    return {k: float(last[k]) for k in ("train_loss", "test_loss", "train_acc", "test_acc")}
