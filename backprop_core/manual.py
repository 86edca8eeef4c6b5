"""A hand-written backward pass for any `models.MLP`, with no autograd.

Forward (per hidden layer l, input a_{l-1} of shape (N, fan_in)):
    z_l = a_{l-1} W_l^T + b_l          (N, width)
    u_l = norm(z_l)  or z_l            BatchNorm: stats over the batch; LayerNorm: over features
    h_l = phi(u_l)
    a_l = a_{l-1} + h_l if residual else h_l
logits = a_D W_out^T + b_out; L = mean cross-entropy.

Backward, layer by layer from the top:
    dL/dlogits = (softmax(logits) - onehot(y)) / N
    dL/du_l = dL/dh_l * phi'(u_l);  dL/dz_l via the norm's backward formula
    dL/dW_l = (dL/dz_l)^T a_{l-1};  dL/db_l = sum_n dL/dz_l
    dL/da_{l-1} = dL/dz_l W_l  (+ dL/da_l through the skip when residual)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from backprop_core.activations import torch_fn, torch_grad
from backprop_core.models import MLP

BUGS = ("no_act_grad", "no_transpose", "wrong_sign")
BUG_LABELS = {
    "no_act_grad": "forgot the activation derivative",
    "no_transpose": "missing transpose in dL/dW",
    "wrong_sign": "wrong sign in dL/dz",
}


@dataclass(frozen=True)
class Bug:
    """A deliberate mistake for the 'Break it' exercise: `kind` at hidden layer `layer` (1-based)."""
    kind: str
    layer: int


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


def _norm_dim(block) -> int:
    """BatchNorm normalises each feature over the batch (dim 0); LayerNorm each sample (dim 1)."""
    return 0 if isinstance(block.norm, torch.nn.BatchNorm1d) else 1


def _norm_forward(block, z: torch.Tensor, update_running: bool):
    norm = block.norm
    dim = _norm_dim(block)
    mu = z.mean(dim, keepdim=True)
    var = z.var(dim, unbiased=False, keepdim=True)
    inv_std = torch.rsqrt(var + norm.eps)
    zhat = (z - mu) * inv_std
    if dim == 0 and update_running and norm.track_running_stats:
        m, n = norm.momentum, z.shape[0]
        norm.running_mean.mul_(1 - m).add_(m * mu.squeeze(0))
        norm.running_var.mul_(1 - m).add_(m * var.squeeze(0) * n / max(n - 1, 1))
        norm.num_batches_tracked.add_(1)
    return zhat * norm.weight + norm.bias, zhat, inv_std, dim


@torch.no_grad()
def predict(model: MLP, X: torch.Tensor) -> torch.Tensor:
    """Logits in eval semantics (BatchNorm uses its running statistics), without nn.Module calls
    or train()/eval() switches: the cheap path for per-epoch evaluation."""
    a = X
    for block in model.hidden:
        z = F.linear(a, block.linear.weight, block.linear.bias)
        if isinstance(block.norm, torch.nn.BatchNorm1d):
            n = block.norm
            z = (z - n.running_mean) * torch.rsqrt(n.running_var + n.eps) * n.weight + n.bias
        elif block.norm is not None:
            z = _norm_forward(block, z, False)[0]
        h = torch_fn(block.activation)(z)
        a = a + h if block.residual else h
    return F.linear(a, model.out.weight, model.out.bias)


def forward(model: MLP, X: torch.Tensor, update_running: bool = False):
    """Forward pass in train-mode semantics (batch statistics); returns (logits, caches)."""
    caches, a = [], X
    for block in model.hidden:
        z = F.linear(a, block.linear.weight, block.linear.bias)     # fused a W^T + b
        zhat = inv_std = None
        if block.norm is not None:
            u, zhat, inv_std, _ = _norm_forward(block, z, update_running)
        else:
            u = z
        h = torch_fn(block.activation)(u)
        caches.append(LayerCache(a, z, u, h, zhat, inv_std))
        a = a + h if block.residual else h
    logits = F.linear(a, model.out.weight, model.out.bias)
    return logits, caches


def _norm_backward(block, du, cache, prefix, grads):
    """BatchNorm/LayerNorm backward: dz = inv_std * (g - mean(g) - zhat * mean(g * zhat)),
    g = du * gamma, means over the normalised axis."""
    dim = _norm_dim(block)
    grads[f"{prefix}.norm.weight"] = (du * cache.zhat).sum(0)
    grads[f"{prefix}.norm.bias"] = du.sum(0)
    g = du * block.norm.weight
    return cache.inv_std * (g - g.mean(dim, keepdim=True)
                            - cache.zhat * (g * cache.zhat).mean(dim, keepdim=True))


@torch.no_grad()
def backward_pass(model: MLP, X: torch.Tensor, y: torch.Tensor, bug: Bug | None = None,
                  update_running: bool = False) -> ManualPass:
    """Loss, gradients of every parameter and the per-layer signals dL/dz, by hand.

    X: (N, in_dim) in the model's dtype; y: (N,) integer labels."""
    logits, caches = forward(model, X, update_running)
    n = X.shape[0]
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    loss = -log_p[torch.arange(n), y].mean()
    dlogits = log_p.exp()
    dlogits[torch.arange(n), y] -= 1
    dlogits /= n

    a_top = caches[-1].h if not model.hidden[-1].residual else caches[-1].a_in + caches[-1].h
    grads = {"out.weight": dlogits.T @ a_top, "out.bias": dlogits.sum(0)}
    da = dlogits @ model.out.weight
    signals = [dlogits]
    for i in range(len(model.hidden) - 1, -1, -1):
        block, cache, prefix = model.hidden[i], caches[i], f"hidden.{i}"
        layer_bug = bug.kind if bug is not None and bug.layer == i + 1 else None
        if layer_bug == "no_act_grad":
            du = da
        elif block.activation == "relu":   # da * 1[u > 0], as one fused kernel
            du = torch.ops.aten.threshold_backward(da, cache.u, 0)
        else:
            du = da * torch_grad(block.activation, cache.u, cache.h)
        cache.du = du
        dz = _norm_backward(block, du, cache, prefix, grads) if block.norm is not None else du
        if layer_bug == "wrong_sign":
            dz = -dz
        dW = dz.T @ cache.a_in
        if layer_bug == "no_transpose" and dW.shape[0] == dW.shape[1]:
            dW = dW.T
        grads[f"{prefix}.linear.weight"] = dW
        grads[f"{prefix}.linear.bias"] = dz.sum(0)
        signals.insert(0, dz)
        da_in = dz @ block.linear.weight
        da = da_in + da if block.residual else da_in
    ordered = {name: grads[name] for name, _ in model.named_parameters()}
    return ManualPass(loss=loss, logits=logits, grads=ordered, signals=signals, caches=caches)


def backward(model: MLP, X: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """{name: dL/dparam} for every entry of model.named_parameters(), without autograd."""
    return backward_pass(model, X, y).grads
