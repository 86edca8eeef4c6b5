"""Depth sweep at initialisation (Glorot & Bengio style), batched into one tensor program.

For each (activation, init) it draws S seeds of a D-layer stack plus an output head and treats
the first d layers + head as the depth-d network, for every d = 1..D at once:

    forward once:    A_l = phi(A_{l-1} W_l^T + b_l)                     (S, N, width)
    every head:      logits_d = A_d W_out^T + b_out                      (S, D, N, K or 1)
    backward, l = D..1, for all depths d >= l together:
        G <- dL/dA_l for each d (the depth-l network's signal enters here)
        delta = G * phi'(Z_l);  |dL/dW_l| = mean |delta^T A_{l-1}|        (S, D-l+1)
        G <- delta W_l

So D * (#activations) batched matmuls replace D * D * S separate models. Each depth-d network is
a genuine draw from the init distribution (networks of different depths share their lower layers,
which correlates neighbouring depths but not their expected values).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import torch
import torch.nn.functional as F

from backprop_core.activations import SWEEP_ACTIVATIONS, torch_fn, torch_grad
from backprop_core.data import make_dataset
from backprop_core.losses import batch_output_error
from backprop_core.models import build_mlp, weight_distribution

SWEEP_MAX_DEPTH = 40
SWEEP_MAX_SEEDS = 5


def _draw(shape, kind: str, scale: float, g: torch.Generator) -> torch.Tensor:
    if kind == "uniform":
        return (torch.rand(shape, generator=g) * 2 - 1) * scale
    return torch.randn(shape, generator=g) * scale


def sample_stack(activation: str, init: str, seeds: int, depth: int, width: int, seed: int = 0,
                 in_dim: int = 2, out_dim: int = 2) -> dict[str, list[torch.Tensor]]:
    """Weights for `seeds` stacks: W[l] (S, width, fan_in), b[l] (S, width), W_out (S, out, width)."""
    g = torch.Generator().manual_seed(seed)
    W, b = [], []
    for layer in range(depth):
        fan_in = in_dim if layer == 0 else width
        kind, scale = weight_distribution(init, activation, fan_in, width)
        W.append(_draw((seeds, width, fan_in), kind, scale, g))
        b.append(_draw((seeds, width), "uniform", fan_in ** -0.5, g) if init == "default"
                 else torch.zeros(seeds, width))
    kind, scale = weight_distribution(init, "linear", width, out_dim)
    W_out = _draw((seeds, out_dim, width), kind, scale, g)
    b_out = (_draw((seeds, out_dim), "uniform", width ** -0.5, g) if init == "default"
             else torch.zeros(seeds, out_dim))
    return {"W": W, "b": b, "W_out": [W_out], "b_out": [b_out]}


@torch.no_grad()
def layer_gradients(stack, activation: str, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """mean|dL/dW_l| for every seed s, depth d and layer l <= d: tensor (S, D, D), NaN above d."""
    W, b = stack["W"], stack["b"]
    W_out, b_out = stack["W_out"][0], stack["b_out"][0]
    S, D, N = W[0].shape[0], len(W), X.shape[0]
    phi = torch_fn(activation)
    A, Z = [X.expand(S, N, X.shape[1])], []
    for layer in range(D):
        Z.append(A[-1] @ W[layer].transpose(1, 2) + b[layer][:, None, :])
        A.append(phi(Z[-1]))
    H = torch.stack(A[1:], 1)                                   # (S, D, N, width)
    logits = H @ W_out.transpose(1, 2)[:, None] + b_out[:, None, None, :]
    out_dim = logits.shape[-1]
    dlogits = batch_output_error(logits.reshape(S * D, N, out_dim), y.expand(S * D, N))    # losses.py
    top = dlogits.reshape(S, D, N, out_dim) @ W_out[:, None]    # dL/dA_d for each depth d
    out = torch.full((S, D, D), float("nan"))
    G = torch.empty_like(top)
    for layer in range(D - 1, -1, -1):
        G[:, layer] = top[:, layer]
        active = G[:, layer:]                                   # depths d >= layer + 1
        delta = active * torch_grad(activation, Z[layer], A[layer + 1])[:, None]
        dW = delta.transpose(2, 3) @ A[layer][:, None]          # (S, D', width, fan_in)
        out[:, layer:, layer] = dW.abs().mean((2, 3))
        if layer > 0:
            G[:, layer:] = delta @ W[layer][:, None]
    return out


def depth_sweep(max_depth: int = 30, activations: Sequence[str] = SWEEP_ACTIVATIONS,
                inits: Sequence[str] = ("default",), seeds: int = 3, width: int = 32, n: int = 200,
                data_seed: int = 11, on_progress: Callable[[int, int], None] | None = None,
                data: str = "linear", classes: int = 2) -> pd.DataFrame:
    """Tidy rows (activation, init, depth, ratio_mean, ratio_lo, ratio_hi, log10 stats):
    ratio = mean|dL/dW_1| / mean|dL/dW_depth| at initialisation, across seeds (geometric mean and
    min..max band), on n points of the named dataset and its task (K classes or regression)."""
    max_depth = int(min(max(max_depth, 1), SWEEP_MAX_DEPTH))
    seeds = int(min(max(seeds, 1), SWEEP_MAX_SEEDS))
    points = make_dataset(data, n, 0.0, data_seed, classes=classes)
    X, y = points.X_train, points.y_train
    out_dim = 1 if y.is_floating_point() else classes
    rows, combos = [], [(a, i) for a in activations for i in inits]
    for k, (act, init) in enumerate(combos):
        stack = sample_stack(act, init, seeds, max_depth, width, seed=1000 + k, out_dim=out_dim)
        g = layer_gradients(stack, act, X, y)                           # (S, D, D)
        depths = torch.arange(max_depth)
        ratio = g[:, :, 0] / g[:, depths, depths]                       # (S, D)
        log_r = torch.log10(ratio.clamp_min(1e-300)).numpy()
        for d in range(max_depth):
            lr = log_r[:, d]
            rows.append({"activation": act, "init": init, "depth": d + 1,
                         "ratio_mean": float(10 ** lr.mean()), "ratio_lo": float(10 ** lr.min()),
                         "ratio_hi": float(10 ** lr.max()), "log10_ratio": float(lr.mean()),
                         "log10_sd": float(lr.std())})
        if on_progress is not None:
            on_progress(k + 1, len(combos))
    return pd.DataFrame(rows)


def naive_ratio(activation: str, init: str, depth: int, seed: int, width: int = 32, n: int = 200,
                data_seed: int = 11) -> float:
    """The reference the sweep is benchmarked against: one build_mlp + autograd per config."""
    data = make_dataset("linear", n, 0.0, data_seed)
    model = build_mlp(depth, width, activation, init, seed=seed)
    loss = F.cross_entropy(model(data.X_train), data.y_train)
    weights = [blk.linear.weight for blk in model.hidden]
    grads = torch.autograd.grad(loss, weights)
    return float(grads[0].abs().mean() / grads[-1].abs().mean())

