"""Instrumented training: train(config, on_epoch) -> RunResult.

Each step runs the hand-written backward pass (`manual.backward_pass`, proven equal to autograd in
the tests) on parameters that live in one flat tensor (flat.py), updated by a hand-written Adam or
SGD that matches torch.optim bit for bit (optim.py). At the first step of every epoch the recorder
(recording.py) keeps what the statistics need; after every epoch come train and test loss and
accuracy, and decision surfaces at a few epochs. bench/bench_core.py compares the cost with a bare
autograd loop.

Runs are float64 (TrainConfig.precision; "float32" is the pages' rounding twin); weights and points
are drawn in float32 as PyTorch draws them and converted, so both precisions start from the same values.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from backprop_core import optim
from backprop_core.config import TrainConfig
from backprop_core.data import Dataset, grid, make_dataset
from backprop_core.flat import FlatParams
from backprop_core.losses import loss_and_score, surface_values
from backprop_core.manual import backward_pass, forward, predict
from backprop_core.models import MLP, build_mlp
from backprop_core.points import POINT_RANGE, parse_points
from backprop_core.recording import Recorder, l2_penalty
from backprop_core.results import GRID_STEPS, METRIC_COLUMNS, STAT_COLUMNS, RunResult, Snapshots

ProgressFn = Callable[[int, int], None]
PRECISIONS = {"float64": torch.float64, "float32": torch.float32}


def in_precision(data: Dataset, dtype: torch.dtype) -> Dataset:
    """The same points (and regression targets) in `dtype` (generated in float32, so both precisions
    see the same values)."""
    if data.X_train.dtype == dtype:
        return data
    data = replace(data, X_train=data.X_train.to(dtype), X_test=data.X_test.to(dtype))
    if data.y_train.is_floating_point():
        data = replace(data, y_train=data.y_train.to(dtype), y_test=data.y_test.to(dtype))
    return data


def dataset_for(cfg: TrainConfig) -> Dataset:
    """The training and test points a config names (custom: its own points)."""
    return make_dataset(cfg.data, cfg.n, cfg.noise, cfg.dseed, points=parse_points(cfg.pts)[0] if cfg.custom else None,
                        classes=cfg.classes)


def first_batch(cfg: TrainConfig, data: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """The points of the first step (epoch 0's statistics describe the gradient on them)."""
    if cfg.batch_size >= cfg.n:
        return data.X_train, data.y_train
    idx = torch.randperm(cfg.n, generator=torch.Generator().manual_seed(cfg.seed))[:cfg.batch_size]
    return data.X_train[idx], data.y_train[idx]


def clip_(grad: torch.Tensor, flat: FlatParams, max_norm: float) -> None:
    """clip_grad_norm_ on the flat gradient: the total norm is the norm of the per-tensor norms, as
    torch computes it for a model's parameters, then one in-place scale."""
    total = torch.nn.utils.get_total_norm([grad[flat.slices[n]] for n in flat.model_order])
    grad.mul_((max_norm / (total + 1e-6)).clamp(max=1.0))


@torch.inference_mode()          # no autograd anywhere in a run: about a tenth less overhead per op than no_grad
def train(cfg: TrainConfig, on_epoch: ProgressFn | None = None, data: Dataset | None = None) -> RunResult:
    """Train the configured MLP and record everything the gradient-flow views draw (numpy arrays:
    no tensor made here leaves the run)."""
    start = time.perf_counter()
    dtype = PRECISIONS[cfg.precision]
    data = in_precision(data if data is not None else dataset_for(cfg), dtype)
    model = build_mlp(cfg.depth, cfg.width, cfg.act, cfg.init, cfg.norm, cfg.residual, cfg.seed,
                      out_dim=cfg.task.out_dim, dtype=dtype)
    flat = FlatParams(model)
    opt = optim.make(cfg.opt, flat.param, cfg.lr, cfg.wd)
    rec = Recorder(cfg, model, flat, data)
    X, y = data.X_train, data.y_train
    gen = torch.Generator().manual_seed(cfg.seed)
    bs = cfg.batch_size
    step_grad = torch.empty_like(flat.param)
    loss_diverged_at = None                          # the epoch in which a step's loss was not finite

    for epoch in range(cfg.epochs):
        order = torch.randperm(cfg.n, generator=gen) if not rec.full_batch else None
        for step, lo in enumerate(range(0, cfg.n, bs)):
            idx = order[lo:lo + bs] if order is not None else None
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            result = backward_pass(model, xb, yb, update_running=True)
            if not math.isfinite(result.loss.item()):
                loss_diverged_at = epoch
                break
            if step == 0:
                grad = flat.gather(result.grads, rec.grad_row())
                rec.capture(result, yb, result.caches if idx is None else forward(model, X)[1])
                if cfg.clip > 0:                      # keep the recorded gradient unclipped
                    grad = step_grad.copy_(grad)
            else:
                grad = flat.gather(result.grads, step_grad)
            if cfg.clip > 0:
                clip_(grad, flat, cfg.clip)
            opt.step(grad)
            if step == 0:
                rec.capture_after_step()
        if loss_diverged_at is not None:
            rec.k += step > 0                         # a later step failed: the epoch's first was recorded
            break
        if not rec.end_epoch():
            break
        if on_epoch is not None:
            on_epoch(epoch + 1, cfg.epochs)
    rec.finish()                                      # the epochs recorded before the end (or the failing step)
    candidates = [e for e in (loss_diverged_at, rec.stats_diverged_at) if e is not None]
    return _package(cfg, model, flat, rec, data, min(candidates) if candidates else None, start)


def _package(cfg: TrainConfig, model: MLP, flat: FlatParams, rec: Recorder, data: Dataset,
             diverged_at: int | None, start: float) -> RunResult:
    L = cfg.depth + 1
    stats = torch.cat(rec.stats).double().numpy() if rec.stats else np.zeros((0, L, len(STAT_COLUMNS)))
    stats = np.where(np.isinf(stats), np.nan, stats)
    hist = {e: h.numpy().astype(np.int32) for e, h in sorted(rec.hists.items())}
    metrics = [m for m in rec.metrics if len(m)]
    train_mode = None
    if diverged_at is None:                            # after the last epoch, by the plain forward pass
        metrics.append(final_metrics(model, data, flat.param, cfg.wd))
        if cfg.norm == "batch":
            train_mode = train_mode_metrics(model, data)
        rec.snaps[cfg.epochs] = (flat.param.clone(), None if flat.running is None else flat.running.clone())
    metrics = torch.cat(metrics).double().numpy() if metrics else np.zeros((0, len(METRIC_COLUMNS)))
    metrics = np.where(np.isinf(metrics), np.nan, metrics)
    xs, ys, surfaces = decision_surfaces(cfg, model, flat, rec.snaps, data, len(metrics))
    return RunResult(cfg, diverged_at, stats, metrics, hist, surfaces, xs, ys,
                     data.X_train.float().numpy(), data.y_train.numpy(), time.perf_counter() - start,
                     train_mode=train_mode, snapshots=snapshots_of(flat, rec, surfaces))


def snapshots_of(flat: FlatParams, rec: Recorder, surfaces: dict) -> Snapshots | None:
    """A small network's parameters, gradients and steps at the epochs that have a surface."""
    if not rec.keep_steps:
        return None
    epochs = [e for e in sorted(surfaces) if e in rec.snaps]
    layout = {n: (sl.start, sl.stop, flat.shapes[n]) for n, sl in flat.slices.items()}
    running_layout = {n: (sl.start, sl.stop) for n, sl in flat.running_slices.items()}
    return Snapshots(layout, {e: rec.snaps[e][0].double().numpy() for e in epochs},
                     {e: rec.snap_steps[e][0].double().numpy() for e in epochs if e in rec.snap_steps},
                     {e: rec.snap_steps[e][1].double().numpy() for e in epochs if e in rec.snap_steps},
                     {e: rec.snaps[e][1].double().numpy() for e in epochs if rec.snaps[e][1] is not None},
                     running_layout)


def decision_surfaces(cfg: TrainConfig, model: MLP, flat: FlatParams, snaps: dict, data: Dataset, recorded: int):
    """(xs, ys, {epoch: surface on the grid}) for the snapshot epochs with metrics, in one batched
    forward pass (losses.surface_values: P(class 1), every class's P, or the predicted value); the grid
    covers the points (custom data: the whole plane a learner clicks on)."""
    xs, ys, grid_points = grid(torch.cat([data.X_train, data.X_test]).float(), GRID_STEPS,
                               bounds=POINT_RANGE if cfg.custom else None)
    surfaces = {}
    epochs = sorted(e for e in snaps if e < recorded)
    if epochs:
        P = torch.stack([snaps[e][0] for e in epochs])
        R = torch.stack([snaps[e][1] for e in epochs]) if flat.running is not None else None
        logits = predict(model, grid_points.to(flat.param.dtype), flat.snapshots(P, R))
        for e, p in zip(epochs, surface_values(logits, cfg.task.regression), strict=True):
            if torch.isfinite(p).all():
                surfaces[e] = p.reshape(GRID_STEPS, GRID_STEPS, *p.shape[1:]).numpy()
    return xs.numpy(), ys.numpy(), surfaces


def final_metrics(model: MLP, data: Dataset, param: torch.Tensor, wd: float) -> torch.Tensor:
    """(1, 5) metrics of the trained model, by the same plain forward pass a learner's script uses."""
    row = [loss_and_score(predict(model, X), y) for X, y in ((data.X_train, data.y_train), (data.X_test, data.y_test))]
    (train_loss, train_score), (test_loss, test_score) = row
    return torch.stack([train_loss, test_loss, train_score, test_score, l2_penalty(param, wd)])[None]


def train_mode_metrics(model: MLP, data: Dataset) -> dict[str, float]:
    """Training loss and score of a BatchNorm model in train mode: each layer normalised with the
    training set's own statistics (as during training), instead of the running averages eval mode uses."""
    loss, score = loss_and_score(forward(model, data.X_train)[0], data.y_train)
    return {"train_loss": loss.item(), "train_score": score.item()}
