"""A hand-written backward pass for any `models.MLP`, with no autograd.

Forward (per hidden layer l, input a_{l-1} of shape (N, fan_in)):
    z_l = a_{l-1} W_l^T + b_l          (N, width)
    u_l = norm(z_l)  or z_l            BatchNorm: stats over the batch; LayerNorm: over features
    h_l = phi(u_l)
    a_l = a_{l-1} + h_l if residual else h_l
logits = a_D W_out^T + b_out; L = mean cross-entropy over K classes, or mean squared error.

Backward, layer by layer from the top:
    dL/dlogits = (softmax(logits) - onehot(y)) / N,  or 2 (y_pred - y) / N     (losses.py)
    dL/du_l = dL/dh_l * phi'(u_l);  dL/dz_l via the norm's backward formula
    dL/dW_l = (dL/dz_l)^T a_{l-1};  dL/db_l = sum_n dL/dz_l  (no b_l before BatchNorm)
    dL/da_{l-1} = dL/dz_l W_l  (+ dL/da_l through the skip when residual)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from backprop_core.activations import ACTIVATIONS, Activation
from backprop_core.bugs import Bug
from backprop_core.losses import loss_and_error
from backprop_core.models import MLP


@dataclass
class LayerCache:
    a_in: torch.Tensor             # (N, fan_in) input to the layer
    z: torch.Tensor                # (N, width)  Linear output
    u: torch.Tensor                # (N, width)  after the norm (= z without one)
    h: torch.Tensor                # (N, width)  phi(u)
    zhat: torch.Tensor | None = None
    inv_std: torch.Tensor | None = None
    du: torch.Tensor | None = None  # (N, width)  dL/du, filled in by backward_pass


@dataclass
class ManualPass:
    loss: torch.Tensor                       # scalar
    logits: torch.Tensor                     # (N, out_dim)
    grads: dict[str, torch.Tensor]           # name -> gradient, same shapes as named_parameters
    signals: list[torch.Tensor]              # dL/dz_l for l = 1..D, then dL/dlogits
    caches: list[LayerCache] = field(default_factory=list)


@dataclass(frozen=True)
class _Layer:
    """What one hidden layer's forward and backward need, looked up once per model: nn.Module
    attribute access costs a microsecond each, and a step makes dozens of them."""
    prefix: str
    W: torch.Tensor
    b: torch.Tensor | None          # None before BatchNorm (models.Block)
    norm: torch.nn.Module | None
    bn: bool
    gamma: torch.Tensor | None
    beta: torch.Tensor | None
    act: Activation
    residual: bool


def _plan(model: MLP) -> tuple[list[_Layer], list[str]]:
    """(layers, parameter names in named_parameters() order), cached on the model."""
    plan = model.__dict__.get("_manual_plan")
    if plan is None:
        layers = []
        for i, block in enumerate(model.hidden):
            norm = block.norm
            layers.append(_Layer(f"hidden.{i}", block.linear.weight, block.linear.bias, norm,
                                 isinstance(norm, torch.nn.BatchNorm1d),
                                 None if norm is None else norm.weight, None if norm is None else norm.bias,
                                 ACTIVATIONS[block.activation], block.residual))
        plan = (layers, [name for name, _ in model.named_parameters()])
        model.__dict__["_manual_plan"] = plan
    return plan


def _norm_forward(layer: _Layer, z: torch.Tensor, update_running: bool):
    """BatchNorm (statistics over the batch, dim 0) or LayerNorm (over features, dim 1)."""
    norm, dim = layer.norm, 0 if layer.bn else 1
    mu = z.mean(dim, keepdim=True)
    var = z.var(dim, unbiased=False, keepdim=True)
    inv_std = torch.rsqrt(var + norm.eps)
    zhat = (z - mu) * inv_std
    if dim == 0 and update_running and norm.track_running_stats:
        m, n = norm.momentum, z.shape[0]
        norm.running_mean.mul_(1 - m).add_(m * mu.squeeze(0))
        norm.running_var.mul_(1 - m).add_(m * var.squeeze(0) * n / max(n - 1, 1))
        norm.num_batches_tracked.add_(1)
    return zhat * layer.gamma + layer.beta, zhat, inv_std


def _affine(a: torch.Tensor, W: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """a W^T + b, fused: for one model (W 2-D), or for K snapshots at once (W (K, out, in), a (K, N, in))."""
    if W.dim() == 2:
        return F.linear(a, W, b)
    return torch.bmm(a, W.mT) if b is None else torch.baddbmm(b[:, None, :], a, W.mT)


def _row(t: torch.Tensor) -> torch.Tensor:
    """A per-unit vector, (C,) or K snapshots of it (K, C), shaped to broadcast over the points."""
    return t[:, None, :] if t.dim() == 2 else t


@torch.no_grad()
def predict(model: MLP, X: torch.Tensor, snapshot=None, hidden: list | None = None) -> torch.Tensor:
    """Logits in eval semantics (BatchNorm normalises with its running statistics), without nn.Module
    calls or train()/eval() switches: the one forward pass for evaluation.

    X: (N, in_dim). `snapshot`: a getter name -> tensor for every parameter and BatchNorm running
    buffer, each with a leading dim of K snapshots (flat.FlatParams.snapshots); the logits are then
    (K, N, out_dim). Without it, the model's own parameters: (N, out_dim). `hidden`, when given, receives
    each hidden layer's (u, h): the activation's input (after the norm) and its output."""
    layers = _plan(model)[0]
    get = snapshot or dict(model.named_parameters(), **{
        f"{layer.prefix}.norm.running_{k}": getattr(layer.norm, f"running_{k}")
        for layer in layers if layer.bn for k in ("mean", "var")}).__getitem__
    a = X if snapshot is None else X.expand(get("out.weight").shape[0], *X.shape)
    for layer in layers:
        p = layer.prefix
        z = _affine(a, get(f"{p}.linear.weight"), get(f"{p}.linear.bias") if layer.b is not None else None)
        if layer.norm is not None:
            gamma, beta = _row(get(f"{p}.norm.weight")), _row(get(f"{p}.norm.bias"))
            if layer.bn:
                mean, var = _row(get(f"{p}.norm.running_mean")), _row(get(f"{p}.norm.running_var"))
            else:
                mean, var = z.mean(-1, keepdim=True), z.var(-1, unbiased=False, keepdim=True)
            z = (z - mean) * torch.rsqrt(var + layer.norm.eps) * gamma + beta
        h = layer.act.phi_t(z)
        if hidden is not None:
            hidden.append((z, h))
        a = a + h if layer.residual else h
    return _affine(a, get("out.weight"), get("out.bias"))


def forward(model: MLP, X: torch.Tensor, update_running: bool = False):
    """Forward pass in train-mode semantics (batch statistics); returns (logits, caches)."""
    caches, a = [], X
    for layer in _plan(model)[0]:
        z = F.linear(a, layer.W, layer.b)                 # fused a W^T + b
        zhat = inv_std = None
        if layer.norm is not None:
            u, zhat, inv_std = _norm_forward(layer, z, update_running)
        else:
            u = z
        h = layer.act.phi_t(u)
        caches.append(LayerCache(a, z, u, h, zhat, inv_std))
        a = a + h if layer.residual else h
    logits = F.linear(a, model.out.weight, model.out.bias)
    return logits, caches


def _norm_backward(layer: _Layer, du, cache, grads):
    """BatchNorm/LayerNorm backward: dz = inv_std * (g - mean(g) - zhat * mean(g * zhat)),
    g = du * gamma, means over the normalised axis."""
    dim = 0 if layer.bn else 1
    grads[f"{layer.prefix}.norm.weight"] = (du * cache.zhat).sum(0)
    grads[f"{layer.prefix}.norm.bias"] = du.sum(0)
    g = du * layer.gamma
    return cache.inv_std * (g - g.mean(dim, keepdim=True)
                            - cache.zhat * (g * cache.zhat).mean(dim, keepdim=True))


@torch.no_grad()
def backward_pass(model: MLP, X: torch.Tensor, y: torch.Tensor, bug: Bug | None = None,
                  update_running: bool = False) -> ManualPass:
    """Loss, gradients of every parameter and the per-layer signals dL/dz, by hand.

    X: (N, in_dim) in the model's dtype; y: (N,) integer classes, or real targets (regression)."""
    layers, names = _plan(model)
    logits, caches = forward(model, X, update_running)
    loss, dlogits = loss_and_error(logits, y)                           # losses.py

    a_top = caches[-1].h if not layers[-1].residual else caches[-1].a_in + caches[-1].h
    W_out = model.out.weight
    grads = {"out.weight": dlogits.T @ a_top, "out.bias": dlogits.sum(0)}
    da = dlogits @ W_out
    signals = [dlogits]
    for i in range(len(layers) - 1, -1, -1):
        layer, cache = layers[i], caches[i]
        planted = bug if bug is not None and bug.layer == i + 1 else None
        du = layer.act.backward_t(da, cache.u, cache.h)               # dL/dh * phi'(u)
        if planted:
            du = planted.at_activation(du, da)
        cache.du = du
        dz = _norm_backward(layer, du, cache, grads) if layer.norm is not None else du
        if planted:
            dz = planted.at_signal(dz)
        dW = dz.T @ cache.a_in
        if planted:
            dW = planted.at_weight_grad(dW)
        grads[f"{layer.prefix}.linear.weight"] = dW
        if layer.b is not None:
            grads[f"{layer.prefix}.linear.bias"] = dz.sum(0)
        signals.append(dz)
        da_in = dz @ layer.W
        da = da_in + da if layer.residual else da_in
    signals.reverse()                                   # dL/dz for layers 1..D, then dL/dlogits
    ordered = {name: grads[name] for name in names}
    return ManualPass(loss=loss, logits=logits, grads=ordered, signals=signals, caches=caches)
