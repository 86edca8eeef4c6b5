"""What a training run records at the first step of each epoch, and the statistics made from it.

At the first step of every epoch the recorder copies what it needs into preallocated buffers (flat
gradient, flat parameters, the step's logits, the unit statistics): four or five tensor ops. Every
chunk of epochs the statistics are computed for the whole chunk at once (`chunk_stats`,
`chunk_metrics`, `histogram`), and test metrics come from the parameter snapshots in one batched
forward pass (manual.predict). Per layer (hidden layers 1..D, then the output layer):

    grad_mean_abs, grad_norm, grad_max_abs   mean|g|, ||g||, max|g| of the weight gradient g = dL/dW
    signal_norm          ||dL/dz||, the backward signal reaching the layer's Linear output (batch loss)
    signal_rms           the same signal per sample: sqrt(mean over points and units of (dL_n/dz)^2),
                         dL_n being one point's own loss (what theory.signal_at_init predicts)
    weight_norm, update_ratio   ||W|| and ||dW_step|| / ||W|| (~1e-3 is a common rule of thumb)
    act_mean, act_std    of the layer's activations h on the step's batch
    saturated            share of (training point, unit) pre-activations u in a flat zone
                         (activations.SATURATION_Z); 0 for other activations
    dead                 share of units with u <= 0 for every training point, for activations that
                         can die (Activation.can_die: ReLU, whose slope is exactly 0 there); the
                         others keep a slope below 0
and a histogram of |g| (results.hist_bin_labels) at the epochs the scrubber shows.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from backprop_core.activations import ACTIVATIONS, SATURATION_Z
from backprop_core.config import TrainConfig
from backprop_core.data import Dataset
from backprop_core.flat import FlatParams
from backprop_core.losses import batch_loss_score, batch_output_error
from backprop_core.manual import predict
from backprop_core.models import MLP
from backprop_core.results import DRAW_DEPTH, DRAW_WIDTH, HALF_DECADES, HIST_BINS, STAT_COLUMNS, UNDER_BIN

CHUNK_EPOCHS = 32                 # at most this many epochs are recorded before statistics are computed
CHUNK_FLOATS = 1_000_000          # and at most this many floats are buffered (4 MB, cache-friendly)
COL = {name: i for i, name in enumerate(STAT_COLUMNS)}
UNIT_COLUMNS = ("act_mean", "act_std", "saturated", "dead", "signal_norm")


# ---------------------------------------------------------------- statistics, as pure functions
def unit_stats(act: str, result, full_caches) -> torch.Tensor:
    """(D, 5), UNIT_COLUMNS: mean and std of each layer's activations h on the step's batch, the share
    of saturated pre-activations and of dead units over the whole training set, and ||dL/dz||."""
    D = len(result.caches)
    h = torch.stack([c.h for c in result.caches])
    flat_h = h.view(D, -1)
    mean = flat_h.mean(1)
    std = torch.linalg.vector_norm(flat_h - mean[:, None], dim=1) / math.sqrt(max(flat_h.shape[1] - 1, 1))
    sat_z, zero = SATURATION_Z.get(act), mean.new_zeros(D)
    if sat_z:   # share of |u| > z as the mean of the comparison written in place as 1.0 / 0.0: a float
        u = torch.stack([c.u for c in full_caches]).view(D, -1)    # reduction, far faster than a boolean mask
        sat = u.abs().gt_(sat_z).mean(1)
    else:
        sat = zero
    if ACTIVATIONS[act].can_die:   # h = 0 exactly when u <= 0: the step's h serves when it saw every point
        full_h = h if full_caches is result.caches else torch.stack([c.h for c in full_caches])
        dead = (full_h.amax(1) <= 0).to(h.dtype).mean(1)
    else:
        dead = zero
    signal = torch.stack(torch._foreach_norm(result.signals[:-1]))
    return torch.stack([mean, std, sat, dead, signal], 1)


def weight_stats(flat: FlatParams, G: torch.Tensor, W: torch.Tensor, W_next: torch.Tensor,
                 out: torch.Tensor) -> None:
    """Fill the gradient and weight columns of `out` (K, L, C) from K flat gradients G, the weights W
    before each recorded step and W_next after it (weight entries only); layers of equal shape reduce
    together."""
    K = G.shape[0]
    A, step = G.abs(), W_next - W
    for first, count, sl in flat.weight_groups:
        a, g, w, dw = (x[:, sl].view(K, count, -1) for x in (A, G, W, step))
        layers = slice(first, first + count)
        out[:, layers, COL["grad_mean_abs"]] = a.mean(2)
        out[:, layers, COL["grad_norm"]] = torch.linalg.vector_norm(g, dim=2)
        out[:, layers, COL["grad_max_abs"]] = a.amax(2)
        out[:, layers, COL["weight_norm"]] = torch.linalg.vector_norm(w, dim=2)
        out[:, layers, COL["update_ratio"]] = (torch.linalg.vector_norm(dw, dim=2)
                                               / out[:, layers, COL["weight_norm"]].clamp_min(1e-30))


def histogram(grad: torch.Tensor, layer_base: torch.Tensor, L: int) -> torch.Tensor:
    """(L, HIST_BINS) counts of |g| per layer of one flat weight gradient: the half-decade bin
    floor((log10|g| - lo) / width) after the two special ones, clamped into the underflow and overflow
    bins, and exact zeros (log10 = -inf) in bin 0. `layer_base` is each entry's layer * HIST_BINS."""
    lo, width = float(HALF_DECADES[0]), float(HALF_DECADES[1] - HALF_DECADES[0])
    a = grad.abs().nan_to_num_(nan=0.0)
    ids = (a.log10().sub_(lo).div_(width).floor_().add_(UNDER_BIN + 1).clamp_(UNDER_BIN, HIST_BINS - 1)
           .masked_fill_(a == 0, 0).add_(layer_base))
    return torch.bincount(ids.long(), minlength=L * HIST_BINS).view(L, HIST_BINS)


def l2_penalty(P: torch.Tensor, wd: float) -> torch.Tensor:
    """wd/2 * ||theta||^2 per flat parameter snapshot (rows of P): weight decay adds wd * theta to the
    gradient of every parameter, which is the gradient of this penalty, so the optimiser minimises
    the loss plus it."""
    return 0.5 * wd * P.square().sum(-1)


# ---------------------------------------------------------------- the recorder
class Recorder:
    """Buffers what the first step of each epoch needs; per chunk, turns it into statistics, metrics,
    histograms and snapshots. `stats_diverged_at`: the first epoch whose statistics were not finite."""

    def __init__(self, cfg: TrainConfig, model: MLP, flat: FlatParams, data: Dataset):
        self.cfg, self.model, self.flat, self.data = cfg, model, flat, data
        D, n, bs = cfg.depth, cfg.n, cfg.batch_size
        self.D, self.L = D, D + 1
        self.full_batch = bs >= n
        self.eval_mode_train = not self.full_batch or cfg.norm == "batch"
        P = flat.param.numel()
        self.K = K = max(1, min(CHUNK_EPOCHS, cfg.epochs, CHUNK_FLOATS // (3 * P + 3 * bs)))
        dt = self.dtype = flat.param.dtype
        self.G = torch.empty(K, P, dtype=dt)             # flat gradients (used as the step's gradient)
        self.Pw = torch.empty(K + 1, P, dtype=dt)        # flat parameters at the start of each epoch
        self.after = None if self.full_batch else torch.empty(K, flat.n_weights, dtype=dt)
        self.R = None if flat.running is None else torch.empty(K, flat.running.numel(), dtype=dt)
        self.LG = torch.empty(K, bs, cfg.task.out_dim, dtype=dt)     # logits of the step's batch
        self.YB = torch.empty(K, bs, dtype=data.y_train.dtype)
        self.units = torch.empty(K, D, len(UNIT_COLUMNS), dtype=dt)
        self.k, self.first_epoch = 0, 0
        self.stats, self.metrics = [], []
        self.hists: dict[int, torch.Tensor] = {}
        self.snapshot_epochs = {int(round(e)) for e in np.linspace(0, cfg.epochs, max(2, cfg.snapshots))}
        self.snaps: dict[int, tuple[torch.Tensor, torch.Tensor | None]] = {}
        self.keep_steps = D <= DRAW_DEPTH and cfg.width <= DRAW_WIDTH
        self.snap_steps: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        sizes = torch.tensor([s.stop - s.start for s in flat.weight_slices])
        self.layer_base = (torch.repeat_interleave(torch.arange(self.L), sizes) * HIST_BINS).to(dt)
        self.stats_diverged_at: int | None = None
        self.last_epoch: int | None = None
        self.last_grad: torch.Tensor | None = None

    # ---- at the first step of an epoch
    def grad_row(self) -> torch.Tensor:
        return self.G[self.k]

    def capture(self, result, yb: torch.Tensor, full_caches) -> None:
        """Snapshot parameters and logits for the chunk, and compute the unit statistics now, while the
        layers' activations are still in the cache."""
        k = self.k
        self.Pw[k].copy_(self.flat.param)
        if self.R is not None:
            self.R[k].copy_(self.flat.running)
        self.LG[k].copy_(result.logits)
        if not self.full_batch:
            self.YB[k].copy_(yb)
        self.units[k] = unit_stats(self.cfg.act, result, full_caches)

    def capture_after_step(self) -> None:
        if self.after is not None:
            self.after[self.k].copy_(self.flat.param[:self.flat.n_weights])

    def end_epoch(self) -> bool:
        """Count the epoch; flush a full chunk. False once the statistics have diverged."""
        self.k += 1
        if self.k == self.K:
            self.flush()
        return self.stats_diverged_at is None

    # ---- per chunk
    def flush(self) -> None:
        K = self.k
        if K == 0:
            return
        self.Pw[K].copy_(self.flat.param)               # the parameters after the chunk's last epoch
        stats, metrics = self.chunk_stats(K), self.chunk_metrics(K)
        recorded = K
        bad = ~torch.isfinite(stats[:, :, :COL["update_ratio"] + 1]).all(2).all(1)
        if bool(bad.any()):                # gradients blew up: the run stops at the first such epoch,
            first = int(torch.nonzero(bad)[0, 0])        # keeping that epoch's metrics but not its statistics
            self.stats_diverged_at = self.first_epoch + first
            stats, metrics = stats[:first], metrics[:first + 1]
            recorded, K = first, first + 1
        self._keep_histograms_and_snapshots(recorded, K)
        self.stats.append(stats)
        self.metrics.append(metrics)
        self.first_epoch += self.k
        self.k = 0

    def _keep_histograms_and_snapshots(self, recorded: int, K: int) -> None:
        n = self.flat.n_weights
        for k in range(recorded):
            if self.first_epoch + k in self.snapshot_epochs:
                self.hists[self.first_epoch + k] = histogram(self.G[k, :n], self.layer_base, self.L)
        if recorded:                       # the latest recorded epoch is the scrubber's last position
            self.last_epoch, self.last_grad = self.first_epoch + recorded - 1, self.G[recorded - 1].clone()
        for k in range(K):
            if self.first_epoch + k in self.snapshot_epochs:
                self.snaps[self.first_epoch + k] = (self.Pw[k].clone(), None if self.R is None else self.R[k].clone())
        if self.keep_steps:                # small networks: the gradient and the step at each scrubber epoch
            for k in range(recorded):
                if self.first_epoch + k in self.snapshot_epochs:
                    after = self.Pw[k + 1, :n] if self.after is None else self.after[k]
                    self.snap_steps[self.first_epoch + k] = (self.G[k].clone(), after - self.Pw[k, :n])

    def chunk_stats(self, K: int) -> torch.Tensor:
        """(K, L, C) statistics of the chunk's K recorded epochs."""
        D, n = self.D, self.flat.n_weights
        out = torch.full((K, self.L, len(STAT_COLUMNS)), float("nan"), dtype=self.dtype)
        W_next = self.Pw[1:K + 1, :n] if self.after is None else self.after[:K]
        weight_stats(self.flat, self.G[:K, :n], self.Pw[:K, :n], W_next, out)
        for j, name in enumerate(UNIT_COLUMNS):                     # computed at capture
            out[:, :D, COL[name]] = self.units[:K, :, j]
        labels = self.data.y_train.expand(K, -1) if self.full_batch else self.YB[:K]
        dlogits = batch_output_error(self.LG[:K], labels)
        out[:, D, COL["signal_norm"]] = torch.linalg.vector_norm(dlogits, dim=(1, 2))
        unit_counts = torch.tensor([self.cfg.width] * D + [self.cfg.task.out_dim], dtype=self.dtype)
        out[:, :, COL["signal_rms"]] = out[:, :, COL["signal_norm"]] * (dlogits.shape[1] / unit_counts).sqrt()
        return out

    def chunk_metrics(self, K: int) -> torch.Tensor:
        """(K, 5) train loss, test loss, train score, test score (accuracy or R²) and the L2 penalty of
        the model at the start of each epoch (eval mode for BatchNorm and for mini-batches; else the
        step's own logits)."""
        P, R = self.Pw[:K], (self.R[:K] if self.R is not None else None)
        snapshot = self.flat.snapshots(P, R)
        test_loss, test_score = batch_loss_score(predict(self.model, self.data.X_test, snapshot), self.data.y_test)
        train_logits = predict(self.model, self.data.X_train, snapshot) if self.eval_mode_train else self.LG[:K]
        train_loss, train_score = batch_loss_score(train_logits, self.data.y_train)
        return torch.stack([train_loss, test_loss, train_score, test_score, l2_penalty(P, self.cfg.wd)], 1)

    def finish(self) -> None:
        """Flush what is left and make sure the last recorded epoch has its histogram."""
        self.flush()
        if self.last_epoch is not None and self.last_epoch not in self.hists:
            self.hists[self.last_epoch] = histogram(self.last_grad[:self.flat.n_weights], self.layer_base, self.L)
