"""One small network at one scrubbed epoch, unit by unit (what /flow draws): what every hidden unit
computes over the input plane, the whole batch's weight gradient, and one point's forward and
backward pass, the probe.

For a point x with label y at the epoch's weights, with L_x that point's own loss (no 1/N):
    forward    z_l = a_{l-1} W_l^T + b_l,  h_l = phi(z_l)  (after the norm, if any), up to the output
    loss       p = softmax(z_out) and L_x = -log p_y;  or y_pred = z_out and L_x = (y_pred - y)^2
    backward   dL_x/dz for every unit, dL_x/dW = (dL_x/dz)^T a_{l-1} for every weight
The mean of dL_x/dW over the training points is the whole batch's gradient (full batch, no
BatchNorm: BatchNorm couples the points, so one point's gradient alone is not defined there).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from backprop_core.activations import ACTIVATIONS, SATURATION_Z
from backprop_core.config import TrainConfig
from backprop_core.flat import FlatParams
from backprop_core.manual import backward_pass, predict
from backprop_core.models import MLP, build_mlp
from backprop_core.results import Snapshots

PROBE_COLUMNS = ("layer", "unit", "z", "h", "dL/dz")


def is_weight(name: str) -> bool:
    """A Linear layer's weight matrix (the drawing's edges), not a bias or a norm's scale."""
    return name.endswith("linear.weight") or name == "out.weight"


@dataclass
class Probe:
    """One point's pass. rows: one per unit (layer 1..D, then 'out'): z, h (out: p or y_pred), dL/dz."""
    x: tuple[float, float]
    label: float
    loss: float
    rows: list[dict]
    dW: dict[str, np.ndarray]          # weight name -> dL_x/dW, the weight's shape


@dataclass
class NetworkView:
    epoch: int
    maps: np.ndarray                    # (D, width, S, S) float32: each hidden unit's h over the grid
    grad: dict[str, np.ndarray]         # weight name -> the whole batch's dL/dW at this epoch's weights
    dead: np.ndarray                    # (D, width) bool: outputs 0 for every training point
    saturated: np.ndarray               # (D, width) share of training points in the flat zone
    probe: Probe | None
    probe_note: str | None = None       # why there is no probe (BatchNorm)


def model_at(cfg: TrainConfig, params: np.ndarray, running: np.ndarray | None = None) -> MLP:
    """The configured network (float64) with a snapshot's flat parameters (and running statistics)."""
    model = build_mlp(cfg.depth, cfg.width, cfg.act, cfg.init, cfg.norm, cfg.residual, cfg.seed,
                      out_dim=cfg.task.out_dim, dtype=torch.float64)
    flat = FlatParams(model)
    with torch.no_grad():
        flat.param.copy_(torch.from_numpy(params))
        if running is not None:
            flat.running.copy_(torch.from_numpy(running))
    return model


def unit_maps(model: MLP, grid_x: np.ndarray, grid_y: np.ndarray) -> np.ndarray:
    """(D, width, S, S): each hidden unit's output h at every grid point (rows: increasing x2), as the
    network computes it in eval mode."""
    gy, gx = np.meshgrid(grid_y, grid_x, indexing="ij")
    points = torch.from_numpy(np.stack([gx.reshape(-1), gy.reshape(-1)], 1).astype(np.float64))
    hidden: list = []
    predict(model, points, hidden=hidden)
    S = len(grid_y), len(grid_x)
    return torch.stack([h for _, h in hidden]).permute(0, 2, 1).reshape(len(hidden), -1, *S).float().numpy()


def unit_health(model: MLP, X: torch.Tensor, act: str) -> tuple[np.ndarray, np.ndarray]:
    """(dead, saturated), each (D, width): whether a unit outputs 0 for every training point (ReLU),
    and the share of training points for which its input sits in the activation's flat zone."""
    hidden: list = []
    predict(model, X, hidden=hidden)
    u = torch.stack([z for z, _ in hidden])                        # (D, N, width)
    h = torch.stack([h for _, h in hidden])
    dead = (h.amax(1) <= 0).numpy() if ACTIVATIONS[act].can_die else np.zeros(u.shape[::2], bool)
    zone = SATURATION_Z.get(act)
    saturated = (u.abs() > zone).double().mean(1).numpy() if zone else np.zeros(u.shape[::2])
    return dead, saturated


def probe_point(model: MLP, x: tuple[float, float], label: float, regression: bool) -> Probe:
    """The point's own forward and backward pass, by the manual backward pass on a batch of one."""
    X = torch.tensor([x], dtype=torch.float64)
    y = torch.tensor([float(label)], dtype=torch.float64) if regression else torch.tensor([int(label)])
    result = backward_pass(model, X, y)
    rows = []
    for i, (cache, dz) in enumerate(zip(result.caches, result.signals[:-1], strict=True)):
        for j in range(cache.z.shape[1]):
            rows.append({"layer": str(i + 1), "unit": j + 1, "z": cache.z[0, j].item(), "h": cache.h[0, j].item(),
                         "dL/dz": dz[0, j].item()})
    out = result.logits[0]
    shown = out if regression else torch.softmax(out, 0)
    for j in range(out.shape[0]):
        rows.append({"layer": "out", "unit": j + 1, "z": out[j].item(), "h": shown[j].item(),
                     "dL/dz": result.signals[-1][0, j].item()})
    weights = {n: g.numpy() for n, g in result.grads.items() if is_weight(n)}
    return Probe(tuple(x), float(label), result.loss.item(), rows, weights)


def batch_gradient(model: MLP, X: torch.Tensor, y: torch.Tensor) -> dict[str, np.ndarray]:
    """The whole training set's dL/dW of every weight matrix at the model's weights (train mode)."""
    grads = backward_pass(model, X, y).grads
    return {n: g.numpy() for n, g in grads.items() if is_weight(n)}


def network_view(cfg: TrainConfig, snapshots: Snapshots, epoch: int, grid_x: np.ndarray, grid_y: np.ndarray,
                 probe: tuple[float, float, float] | None = None) -> NetworkView:
    """Everything the drawing needs at `epoch`: unit maps, the batch gradient (recorded, or computed
    at the last epoch, which has no step of its own) and, when asked, the probe."""
    from backprop_core.training import dataset_for, first_batch, in_precision
    model = model_at(cfg, snapshots.params[epoch], snapshots.running.get(epoch))
    data = in_precision(dataset_for(cfg), torch.float64)
    if epoch in snapshots.grads:
        grad = {n: snapshots.get(epoch, n, "grads") for n in snapshots.layout if is_weight(n)}
    else:
        grad = batch_gradient(model, *first_batch(cfg, data))
    found, note = None, None
    if probe is not None:
        if cfg.norm == "batch":
            note = ("With BatchNorm one point's gradient is not defined on its own: every point's output "
                    "depends on the batch's mean and variance.")
        else:
            found = probe_point(model, probe[:2], probe[2], cfg.task.regression)
    dead, saturated = unit_health(model, data.X_train, cfg.act)
    return NetworkView(epoch, unit_maps(model, grid_x, grid_y), grad, dead, saturated, found, note)
