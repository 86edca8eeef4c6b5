"""Instrumented training: train(config, on_epoch) -> RunResult.

Each step runs the hand-written backward pass (`manual.backward_pass`, proven equal to autograd in
the tests) and hands its gradients to a torch optimiser. At the first step of every epoch the run
records, per layer (hidden layers 1..D, then the output layer):

    grad_mean_abs, grad_norm, grad_max_abs   mean|g|, ||g||, max|g| of the weight gradient g = dL/dW
    signal_norm          ||dL/dz||, the backward signal reaching the layer's Linear output (batch loss)
    signal_rms           the same signal per sample: sqrt(mean over points and units of (dL_n/dz)^2),
                         dL_n being one point's own loss (what theory.signal_at_init predicts)
    weight_norm, update_ratio   ||W|| and ||dW_step|| / ||W|| (~1e-3 is a common rule of thumb)
    act_mean, act_std    of the layer's activations h on the step's batch
    saturated            share of (training point, unit) pre-activations u in a flat zone
                         (activations.SATURATION_Z); 0 for other activations
    dead                 share of units with u <= 0 for every training point (ReLU only: its slope is
                         exactly 0 there; leaky ReLU, ELU and GELU keep a slope below 0)
    a histogram of |g| (exact zeros, below 1e-12, half decades up to 1e2, and above: results.py), at
    the epochs the scrubber shows (the decision-surface epochs, and the last recorded one)

and, after every epoch, train and test loss and accuracy, plus decision surfaces at a few epochs.

How recording stays cheap (bench/bench_core.py compares it with a bare autograd loop):
- every parameter is a view into one flat tensor, so the optimiser updates a single tensor and a
  snapshot of the model is a single copy;
- at the first step of an epoch the run only copies what it will need into preallocated chunk
  buffers (flat gradient, flat parameters, pre-activations, backward signals, logits): four or
  five tensor ops;
- every chunk of epochs the statistics are computed for the whole chunk at once, and test metrics
  and decision surfaces come from the parameter snapshots in batched forward passes.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F

from backprop_core import optim
from backprop_core.activations import SATURATION_Z, torch_fn
from backprop_core.config import POINT_RANGE, TrainConfig, parse_points
from backprop_core.data import Dataset, grid, make_dataset
from backprop_core.manual import backward_pass, forward, predict
from backprop_core.models import MLP, build_mlp
from backprop_core.results import (
    GRID_STEPS,
    HALF_DECADES,
    HIST_BINS,
    METRIC_COLUMNS,
    STAT_COLUMNS,
    UNDER_BIN,
    RunResult,
)

ProgressFn = Callable[[int, int], None]
PRECISIONS = {"float64": torch.float64, "float32": torch.float32}
CHUNK_EPOCHS = 32                 # at most this many epochs are recorded before statistics are computed
CHUNK_FLOATS = 1_000_000          # and at most this many floats are buffered (4 MB, cache-friendly)
_COL = {name: i for i, name in enumerate(STAT_COLUMNS)}


class _Flat:
    """Every parameter of `model` as a view into one flat tensor: weight matrices first (hidden
    layers, then the output), then biases and norm parameters. BatchNorm running statistics get the
    same treatment in a second flat tensor, so a snapshot of the whole model is two copies."""

    def __init__(self, model: MLP):
        named = dict(model.named_parameters())
        D = len(model.hidden)
        self.weight_names = [f"hidden.{i}.linear.weight" for i in range(D)] + ["out.weight"]
        self.names = self.weight_names + [n for n in named if n not in self.weight_names]
        self.model_order = list(named)
        self.param = torch.cat([named[n].detach().reshape(-1) for n in self.names])
        self.slices, offset = {}, 0
        for n in self.names:
            size = named[n].numel()
            self.slices[n] = slice(offset, offset + size)
            named[n].data = self.param.data[offset:offset + size].view_as(named[n])
            offset += size
        self.n_weights = sum(named[n].numel() for n in self.weight_names)
        self.weight_slices = [self.slices[n] for n in self.weight_names]
        # runs of consecutive weight matrices of one shape: (first layer, count, flat slice)
        self.weight_groups = []
        for layer, n in enumerate(self.weight_names):
            last = self.weight_groups[-1] if self.weight_groups else None
            if last and named[self.weight_names[last[0]]].shape == named[n].shape:
                self.weight_groups[-1] = (last[0], last[1] + 1, slice(last[2].start, self.slices[n].stop))
            else:
                self.weight_groups.append((layer, 1, self.slices[n]))
        self.shapes = {n: tuple(named[n].shape) for n in self.names}
        bns = [b.norm for b in model.hidden if isinstance(b.norm, torch.nn.BatchNorm1d)]
        self.running = None
        if bns:
            self.running = torch.cat([t for bn in bns for t in (bn.running_mean, bn.running_var)])
            offset = 0
            for bn in bns:
                w = bn.running_mean.numel()
                bn.running_mean = self.running[offset:offset + w]
                bn.running_var = self.running[offset + w:offset + 2 * w]
                offset += 2 * w

    def gather(self, grads: dict[str, torch.Tensor], out: torch.Tensor) -> torch.Tensor:
        """The gradients in flat order, written into `out`."""
        return torch.cat([grads[n].reshape(-1) for n in self.names], out=out)

    def view(self, rows: torch.Tensor, name: str) -> torch.Tensor:
        """(K, *shape) views of parameter `name` in a batch of K flat snapshots."""
        return rows[:, self.slices[name]].view(rows.shape[0], *self.shapes[name])


class _Recorder:
    """Buffers what the first step of each epoch needs and turns it into statistics per chunk."""

    def __init__(self, cfg: TrainConfig, model: MLP, flat: _Flat, data: Dataset):
        self.cfg, self.model, self.flat, self.data = cfg, model, flat, data
        D, n, bs = cfg.depth, cfg.n, cfg.batch_size
        self.D, self.L = D, D + 1
        self.full_batch = bs >= n
        self.eval_mode_train = not self.full_batch or cfg.norm == "batch"
        P = flat.param.numel()
        per_epoch = 3 * P + 3 * bs
        self.K = max(1, min(CHUNK_EPOCHS, cfg.epochs, CHUNK_FLOATS // per_epoch))
        K, dt = self.K, flat.param.dtype
        self.dtype = dt
        self.G = torch.empty(K, P, dtype=dt)             # flat gradients (used as the step's gradient)
        self.Pw = torch.empty(K + 1, P, dtype=dt)        # flat parameters at the start of each epoch
        self.after = None if self.full_batch else torch.empty(K, flat.n_weights, dtype=dt)
        self.R = None if flat.running is None else torch.empty(K, flat.running.numel(), dtype=dt)
        self.LG = torch.empty(K, bs, 2, dtype=dt)        # logits of the step's batch
        self.YB = torch.empty(K, bs, dtype=torch.long)
        self.units = torch.empty(K, D, 5, dtype=dt)      # act_mean, act_std, saturated, dead, signal_norm
        self.k, self.first_epoch = 0, 0
        self.stats, self.metrics = [], []
        self.hists: dict[int, torch.Tensor] = {}
        self.snapshot_epochs = {int(round(e)) for e in np.linspace(0, cfg.epochs, max(2, cfg.snapshots))}
        self.snaps: dict[int, tuple[torch.Tensor, torch.Tensor | None]] = {}
        layer_of = torch.repeat_interleave(torch.arange(self.L), torch.tensor([s.stop - s.start
                                                                             for s in flat.weight_slices]))
        self.bins = HIST_BINS
        self.hist_base = (layer_of * self.bins).to(dt)
        self.diverged_at: int | None = None
        self.last_epoch: int | None = None
        self.last_grad: torch.Tensor | None = None

    # ---- per epoch, at the first step
    def grad_row(self) -> torch.Tensor:
        return self.G[self.k]

    def capture(self, result, yb: torch.Tensor, full_caches) -> None:
        """Snapshot parameters and logits for the chunk, and compute the unit statistics now,
        while the layers' activations are still in the cache."""
        k = self.k
        self.Pw[k].copy_(self.flat.param)
        if self.R is not None:
            self.R[k].copy_(self.flat.running)
        self.LG[k].copy_(result.logits)
        if not self.full_batch:
            self.YB[k].copy_(yb)
        self.units[k] = _unit_stats(self.cfg.act, result, full_caches)

    def capture_after_step(self) -> None:
        if self.after is not None:
            self.after[self.k].copy_(self.flat.param[:self.flat.n_weights])

    def end_epoch(self, epoch: int) -> bool:
        """Count the epoch; flush a full chunk. False once the run has diverged."""
        self.k += 1
        if self.k == self.K:
            self.flush()
        return self.diverged_at is None

    # ---- per chunk
    def flush(self) -> None:
        K = self.k
        if K == 0:
            return
        self.Pw[K].copy_(self.flat.param)               # the parameters after the chunk's last epoch
        stats = self._chunk_stats(K)
        metrics = self._chunk_metrics(K)
        recorded = K
        bad = ~torch.isfinite(stats[:, :, :_COL["update_ratio"] + 1]).all(2).all(1)
        if bool(bad.any()):                # gradients blew up: the run stops at the first such epoch,
            first = int(torch.nonzero(bad)[0, 0])        # keeping that epoch's metrics but not its statistics
            self.diverged_at = self.first_epoch + first
            stats, metrics = stats[:first], metrics[:first + 1]
            recorded, K = first, first + 1
        rows = [k for k in range(recorded) if self.first_epoch + k in self.snapshot_epochs]
        for k, hist in zip(rows, self._histograms(rows), strict=True):
            self.hists[self.first_epoch + k] = hist
        if recorded:                       # the latest recorded epoch is the scrubber's last position
            self.last_epoch, self.last_grad = self.first_epoch + recorded - 1, self.G[recorded - 1].clone()
        for k in range(K):
            e = self.first_epoch + k
            if e in self.snapshot_epochs:
                self.snaps[e] = (self.Pw[k].clone(), None if self.R is None else self.R[k].clone())
        self.stats.append(stats)
        self.metrics.append(metrics)
        self.first_epoch += self.k
        self.k = 0

    def _chunk_stats(self, K: int) -> torch.Tensor:
        D, L, flat = self.D, self.L, self.flat
        G = self.G[:K, :flat.n_weights]
        W = self.Pw[:K, :flat.n_weights]
        W_next = self.Pw[1:K + 1, :flat.n_weights] if self.after is None else self.after[:K]
        step = W_next - W
        A = G.abs()
        out = torch.full((K, L, len(STAT_COLUMNS)), float("nan"), dtype=self.dtype)
        for first, count, sl in flat.weight_groups:      # layers of equal shape reduce together
            a, g, w, dw = (x[:, sl].view(K, count, -1) for x in (A, G, W, step))
            layers = slice(first, first + count)
            out[:, layers, _COL["grad_mean_abs"]] = a.mean(2)
            out[:, layers, _COL["grad_norm"]] = torch.linalg.vector_norm(g, dim=2)
            out[:, layers, _COL["grad_max_abs"]] = a.amax(2)
            out[:, layers, _COL["weight_norm"]] = torch.linalg.vector_norm(w, dim=2)
            out[:, layers, _COL["update_ratio"]] = (torch.linalg.vector_norm(dw, dim=2)
                                                    / out[:, layers, _COL["weight_norm"]].clamp_min(1e-30))
        # unit statistics (computed at capture), the output layer's signal from the logits
        units = self.units[:K]
        for j, name in enumerate(("act_mean", "act_std", "saturated", "dead", "signal_norm")):
            out[:, :D, _COL[name]] = units[:, :, j]
        dlogits = self._dlogits(K)
        out[:, D, _COL["signal_norm"]] = torch.linalg.vector_norm(dlogits, dim=(1, 2))
        bs = dlogits.shape[1]
        unit_counts = torch.tensor([self.cfg.width] * D + [2], dtype=self.dtype)
        out[:, :, _COL["signal_rms"]] = out[:, :, _COL["signal_norm"]] * (bs / unit_counts).sqrt()
        return out

    def _histograms(self, rows: list[int]) -> list[torch.Tensor]:
        return [self._histogram(self.G[k]) for k in rows]

    def _histogram(self, grad: torch.Tensor) -> torch.Tensor:
        """(L, HIST_BINS) counts of |g| per layer of one flat gradient: the half-decade bin
        floor((log10|g| - lo) / width) after the two special ones, clamped into the underflow and
        overflow bins, and exact zeros (log10 = -inf) in bin 0; the layer offset is added, then a bincount."""
        lo, width = float(HALF_DECADES[0]), float(HALF_DECADES[1] - HALF_DECADES[0])
        a = grad[:self.flat.n_weights].abs().nan_to_num_(nan=0.0)
        ids = (a.log10().sub_(lo).div_(width).floor_().add_(UNDER_BIN + 1).clamp_(UNDER_BIN, self.bins - 1)
               .masked_fill_(a == 0, 0).add_(self.hist_base))
        return torch.bincount(ids.long(), minlength=self.L * self.bins).view(self.L, self.bins)

    def finish(self) -> None:
        """Flush what is left and make sure the last recorded epoch has its histogram."""
        self.flush()
        if self.last_epoch is not None and self.last_epoch not in self.hists:
            self.hists[self.last_epoch] = self._histogram(self.last_grad)

    def _dlogits(self, K: int) -> torch.Tensor:
        """dL/dlogits of each epoch's first step, recomputed from its logits (as backward_pass does)."""
        lg, y = self.LG[:K], self._batch_labels(K)
        log_p = lg - torch.logsumexp(lg, dim=2, keepdim=True)
        d = log_p.exp()
        d.scatter_add_(2, y[..., None], torch.full_like(y[..., None], -1, dtype=d.dtype))
        return d / lg.shape[1]

    def _batch_labels(self, K: int) -> torch.Tensor:
        return self.data.y_train.expand(K, -1) if self.full_batch else self.YB[:K]

    def _chunk_metrics(self, K: int) -> torch.Tensor:
        """(K, 5) train loss, test loss, train acc, test acc and the L2 penalty of the model at the start
        of each epoch."""
        X_test, y_test = self.data.X_test, self.data.y_test
        P, R = self.Pw[:K], (self.R[:K] if self.R is not None else None)
        test_logits = _predict_snapshots(self.model, self.flat, P, R, X_test)
        test_loss, test_acc = _loss_acc(test_logits, y_test)
        if self.eval_mode_train:
            train_logits = _predict_snapshots(self.model, self.flat, P, R, self.data.X_train)
            train_loss, train_acc = _loss_acc(train_logits, self.data.y_train)
        else:
            train_loss, train_acc = _loss_acc(self.LG[:K], self.data.y_train)
        return torch.stack([train_loss, test_loss, train_acc, test_acc, l2_penalty(P, self.cfg.wd)], 1)


def _unit_stats(act: str, result, full_caches) -> torch.Tensor:
    """(D, 5): mean and std of each layer's activations h on the step's batch, the share of
    saturated pre-activations and of dead units over the whole training set, and ||dL/dz||."""
    D = len(result.caches)
    h = torch.stack([c.h for c in result.caches])
    flat_h = h.view(D, -1)
    mean = flat_h.mean(1)
    std = torch.linalg.vector_norm(flat_h - mean[:, None], dim=1) / math.sqrt(max(flat_h.shape[1] - 1, 1))
    sat_z, zero = SATURATION_Z.get(act), mean.new_zeros(D)
    if sat_z:   # share of |u| > z as the mean of sign(|u| - z) clipped at 0: a float reduction,
        u = torch.stack([c.u for c in full_caches]).view(D, -1)    # far faster than a boolean mask
        sat = (u.abs() - sat_z).sign_().clamp_(min=0).mean(1)
    else:
        sat = zero
    if act == "relu":   # relu(u) = 0 exactly when u <= 0, so the step's h serves when it saw every point
        full_h = h if full_caches is result.caches else torch.stack([c.h for c in full_caches])
        dead = (full_h.amax(1) <= 0).to(h.dtype).mean(1)
    else:
        dead = zero
    signal = torch.stack(torch._foreach_norm(result.signals[:-1]))
    return torch.stack([mean, std, sat, dead, signal], 1)


def l2_penalty(P: torch.Tensor, wd: float) -> torch.Tensor:
    """wd/2 * ||theta||^2 per flat parameter snapshot (rows of P): weight decay adds wd * theta to the
    gradient of every parameter, which is the gradient of this penalty, so the optimiser minimises
    the cross-entropy plus it."""
    return 0.5 * wd * P.square().sum(-1)


def _loss_acc(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy and accuracy per snapshot: logits (K, n, 2), y (n,)."""
    log_p = logits - torch.logsumexp(logits, dim=2, keepdim=True)
    loss = -log_p.gather(2, y.expand(logits.shape[0], -1)[..., None]).squeeze(2).mean(1)
    acc = (logits.argmax(2) == y).to(logits.dtype).mean(1)
    return loss, acc


def _predict_snapshots(model: MLP, flat: _Flat, P: torch.Tensor, R: torch.Tensor | None,
                       X: torch.Tensor) -> torch.Tensor:
    """Logits (K, n, 2) of K parameter snapshots on X, in eval semantics (BatchNorm uses the
    snapshot's running statistics), in one batched forward pass."""
    K = P.shape[0]
    a = X.expand(K, *X.shape)
    offset = 0
    for i, block in enumerate(model.hidden):
        W = flat.view(P, f"hidden.{i}.linear.weight")
        if block.linear.bias is not None:
            z = torch.baddbmm(flat.view(P, f"hidden.{i}.linear.bias")[:, None, :], a, W.transpose(1, 2))
        else:
            z = torch.bmm(a, W.transpose(1, 2))
        if block.norm is not None:
            g, beta = flat.view(P, f"hidden.{i}.norm.weight")[:, None], flat.view(P, f"hidden.{i}.norm.bias")[:, None]
            if isinstance(block.norm, torch.nn.BatchNorm1d):
                w = z.shape[2]
                mean, var = R[:, None, offset:offset + w], R[:, None, offset + w:offset + 2 * w]
                offset += 2 * w
                z = (z - mean) * torch.rsqrt(var + block.norm.eps) * g + beta
            else:
                mu = z.mean(2, keepdim=True)
                var = z.var(2, unbiased=False, keepdim=True)
                z = (z - mu) * torch.rsqrt(var + block.norm.eps) * g + beta
        h = torch_fn(block.activation)(z)
        a = a + h if block.residual else h
    W, b = flat.view(P, "out.weight"), flat.view(P, "out.bias")
    return torch.baddbmm(b[:, None, :], a, W.transpose(1, 2))


def in_precision(data: Dataset, dtype: torch.dtype) -> Dataset:
    """The same points in `dtype` (generated in float32, so both precisions see the same values)."""
    if data.X_train.dtype == dtype:
        return data
    return replace(data, X_train=data.X_train.to(dtype), X_test=data.X_test.to(dtype))


def dataset_for(cfg: TrainConfig) -> Dataset:
    """The training and test points a config names (custom: its own points)."""
    return make_dataset(cfg.data, cfg.n, cfg.noise, cfg.dseed, points=parse_points(cfg.pts)[0] if cfg.custom else None)


def first_batch(cfg: TrainConfig, data: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """The points of the first step (epoch 0's statistics describe the gradient on them)."""
    if cfg.batch_size >= cfg.n:
        return data.X_train, data.y_train
    idx = torch.randperm(cfg.n, generator=torch.Generator().manual_seed(cfg.seed))[:cfg.batch_size]
    return data.X_train[idx], data.y_train[idx]


def _clip_(grad: torch.Tensor, flat: _Flat, max_norm: float) -> None:
    """clip_grad_norm_ on the flat gradient: the total norm is the norm of the per-tensor norms, as
    torch computes it for a model's parameters, then one in-place scale."""
    total = torch.nn.utils.get_total_norm([grad[flat.slices[n]] for n in flat.model_order])
    grad.mul_((max_norm / (total + 1e-6)).clamp(max=1.0))


@torch.no_grad()
def train(cfg: TrainConfig, on_epoch: ProgressFn | None = None, data: Dataset | None = None) -> RunResult:
    """Train the configured MLP and record everything the gradient-flow views draw."""
    start = time.perf_counter()
    dtype = PRECISIONS[cfg.precision]
    data = in_precision(data if data is not None else dataset_for(cfg), dtype)
    model = build_mlp(cfg.depth, cfg.width, cfg.act, cfg.init, cfg.norm, cfg.residual, cfg.seed, dtype=dtype)
    flat = _Flat(model)
    opt = optim.make(cfg.opt, flat.param, cfg.lr, cfg.wd)
    rec = _Recorder(cfg, model, flat, data)
    X, y = data.X_train, data.y_train
    gen = torch.Generator().manual_seed(cfg.seed)
    bs = cfg.batch_size
    step_grad = torch.empty_like(flat.param)

    for epoch in range(cfg.epochs):
        order = torch.randperm(cfg.n, generator=gen) if not rec.full_batch else None
        captured = False
        for step, lo in enumerate(range(0, cfg.n, bs)):
            idx = order[lo:lo + bs] if order is not None else None
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            result = backward_pass(model, xb, yb, update_running=True)
            if not math.isfinite(result.loss.item()):
                rec.diverged_at = epoch
                break
            if step == 0:
                grad = flat.gather(result.grads, rec.grad_row())
                rec.capture(result, yb, result.caches if idx is None else forward(model, X)[1])
                if cfg.clip > 0:                      # keep the recorded gradient unclipped
                    grad = step_grad.copy_(grad)
            else:
                grad = flat.gather(result.grads, step_grad)
            if cfg.clip > 0:
                _clip_(grad, flat, cfg.clip)
            opt.step(grad)
            if step == 0:
                rec.capture_after_step()
                captured = True
        if rec.diverged_at is not None:
            rec.k += captured                         # a later step failed: epoch `epoch` was recorded
            break
        if not rec.end_epoch(epoch):
            break
        if on_epoch is not None:
            on_epoch(epoch + 1, cfg.epochs)
    diverged_in_step = rec.diverged_at
    rec.diverged_at = None
    rec.finish()                                      # the epochs recorded before the end (or the failing step)
    if rec.diverged_at is None:
        rec.diverged_at = diverged_in_step
    return _package(cfg, model, flat, rec, data, start)


def _package(cfg: TrainConfig, model: MLP, flat: _Flat, rec: _Recorder, data: Dataset, start: float) -> RunResult:
    L = cfg.depth + 1
    stats = torch.cat(rec.stats).double().numpy() if rec.stats else np.zeros((0, L, len(STAT_COLUMNS)))
    stats = np.where(np.isinf(stats), np.nan, stats)
    hist = {e: h.numpy().astype(np.int32) for e, h in sorted(rec.hists.items())}
    metrics = [m for m in rec.metrics if len(m)]
    train_mode = None
    if rec.diverged_at is None:                        # after the last epoch, by the plain forward pass
        metrics.append(_final_metrics(model, data, flat.param, cfg.wd))
        if cfg.norm == "batch":
            train_mode = _train_mode_metrics(model, data)
        rec.snaps[cfg.epochs] = (flat.param.clone(), None if flat.running is None else flat.running.clone())
    metrics = torch.cat(metrics).double().numpy() if metrics else np.zeros((0, len(METRIC_COLUMNS)))
    metrics = np.where(np.isinf(metrics), np.nan, metrics)
    xs, ys, grid_points = grid(torch.cat([data.X_train, data.X_test]).float(), GRID_STEPS,
                               bounds=POINT_RANGE if cfg.custom else None)
    grid_points = grid_points.to(flat.param.dtype)
    surfaces = {}
    epochs = sorted(e for e in rec.snaps if e < len(metrics))
    if epochs:
        P = torch.stack([rec.snaps[e][0] for e in epochs])
        R = torch.stack([rec.snaps[e][1] for e in epochs]) if flat.running is not None else None
        probs = torch.softmax(_predict_snapshots(model, flat, P, R, grid_points), 2)[..., 1]
        for e, p in zip(epochs, probs, strict=True):
            if torch.isfinite(p).all():
                surfaces[e] = p.reshape(GRID_STEPS, GRID_STEPS).numpy()
    return RunResult(cfg, rec.diverged_at, stats, metrics, hist, surfaces, xs.numpy(), ys.numpy(),
                     data.X_train.float().numpy(), data.y_train.numpy(), time.perf_counter() - start,
                     train_mode=train_mode)


def _final_metrics(model: MLP, data: Dataset, param: torch.Tensor, wd: float) -> torch.Tensor:
    """(1, 5) metrics of the trained model, by the same plain forward pass a learner's script uses."""
    row = []
    for X, y in ((data.X_train, data.y_train), (data.X_test, data.y_test)):
        logits = predict(model, X)
        row.append((F.cross_entropy(logits, y), (logits.argmax(1) == y).to(logits.dtype).mean()))
    (train_loss, train_acc), (test_loss, test_acc) = row
    return torch.stack([train_loss, test_loss, train_acc, test_acc, l2_penalty(param, wd)])[None]


def _train_mode_metrics(model: MLP, data: Dataset) -> dict[str, float]:
    """Training loss and accuracy of a BatchNorm model in train mode: each layer normalised with the
    training set's own statistics (as during training), instead of the running averages eval mode uses."""
    logits = forward(model, data.X_train)[0]
    return {"train_loss": F.cross_entropy(logits, data.y_train).item(),
            "train_acc": (logits.argmax(1) == data.y_train).to(logits.dtype).mean().item()}
