"""Three-way gradient checks: by hand (or the manual backward), PyTorch autograd, and central
finite differences.

Tolerances follow torch.autograd.gradcheck's defaults: a value passes when
|a - b| <= ATOL + RTOL * |b|. Finite differences use step EPS in float64; in float32 a step of
1e-6 would drown in round-off (float32 keeps ~7 digits), so FD_EPS[float32] = 1e-3.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F

from backprop_core import hand
from backprop_core.activations import torch_fn
from backprop_core.manual import Bug, backward_pass
from backprop_core.models import MLP

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3
DTYPES = {"float64": torch.float64, "float32": torch.float32}
FD_EPS = {"float64": 1e-6, "float32": 1e-3}
HAND_PARAMS = [("W1", i, j) for i in range(2) for j in range(2)] + [("W2", 0, j) for j in range(2)]


def close(a: float, b: float, atol: float = ATOL, rtol: float = RTOL) -> bool:
    return abs(a - b) <= atol + rtol * abs(b)


def rel_err(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|), and 0 when both are 0."""
    denom = max(abs(a), abs(b))
    return abs(a - b) / denom if denom > 0 else 0.0


def _two_layer_loss(x, W1, W2, y, activation):
    """The seed's net on tensors: z1 = x @ W1, z2 = phi(z1) @ W2^T, BCE from the logit."""
    z2 = (torch_fn(activation)(x @ W1) @ W2.T).squeeze()
    return F.binary_cross_entropy_with_logits(z2, y)


def two_layer_ledger(x, W1, W2, y, activation="relu", dtype="float64") -> pd.DataFrame:
    """One row per weight entry: hand, autograd, finite difference, errors and pass.

    `hand` is always exact float64 arithmetic; autograd and finite differences run in `dtype`."""
    dt = DTYPES[dtype]
    result = hand.two_layer(x, W1, W2, y, activation)
    xt = torch.tensor([x], dtype=dt)
    W1t = torch.tensor(W1, dtype=dt, requires_grad=True)
    W2t = torch.tensor(W2, dtype=dt, requires_grad=True)
    yt = torch.tensor(float(y), dtype=dt)
    loss = _two_layer_loss(xt, W1t, W2t, yt, activation)
    g1, g2 = torch.autograd.grad(loss, [W1t, W2t])
    tensors, auto = {"W1": W1t.detach(), "W2": W2t.detach()}, {"W1": g1, "W2": g2}
    eps, rows = FD_EPS[dtype], []
    for name, i, j in HAND_PARAMS:
        fd = _central_difference(lambda: _two_layer_loss(xt, tensors["W1"], tensors["W2"], yt, activation),
                                 tensors[name], (i, j), eps)
        h = (result.dW1 if name == "W1" else result.dW2)[i][j]
        a = auto[name][i, j].item()
        rows.append({"parameter": f"{name}[{i + 1}][{j + 1}]", "hand": h, "autograd": a,
                     "finite_diff": fd, "abs_err": abs(h - a), "rel_err": rel_err(h, a),
                     "fd_abs_err": abs(fd - h), "pass": close(a, h) and close(fd, h)})
    return pd.DataFrame(rows)


def _central_difference(loss_fn, tensor: torch.Tensor, index, eps: float) -> float:
    """(L(p + eps) - L(p - eps)) / (2 eps) for one entry of `tensor`, restored afterwards."""
    with torch.no_grad():
        original = tensor[index].item()
        tensor[index] = original + eps
        plus = loss_fn().item()
        tensor[index] = original - eps
        minus = loss_fn().item()
        tensor[index] = original
    return (plus - minus) / (2 * eps)


def layer_of(name: str) -> str:
    """'hidden.2.linear.weight' -> '3' (1-based hidden layer); 'out.bias' -> 'out'."""
    return str(int(name.split(".")[1]) + 1) if name.startswith("hidden.") else "out"


@dataclass
class ModelReport:
    tensors: pd.DataFrame        # one row per parameter tensor: manual vs autograd
    samples: pd.DataFrame        # sampled entries: manual, autograd, finite difference
    first_bad_layer: str | None  # first layer, in backward order (output first), that disagrees

    @property
    def all_pass(self) -> bool:
        return bool(self.tensors["pass"].all() and self.samples["pass"].all())


def autograd_grads(model: MLP, X: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Reference gradients from PyTorch autograd (train mode, on a copy of the model)."""
    twin = copy.deepcopy(model).train()
    params = [p for _, p in twin.named_parameters()]
    with torch.enable_grad():
        loss = F.cross_entropy(twin(X), y)
        grads = torch.autograd.grad(loss, params)
    return {name: g for (name, _), g in zip(twin.named_parameters(), grads, strict=True)}


def model_report(model: MLP, X: torch.Tensor, y: torch.Tensor, fd_samples: int = 24, seed: int = 0,
                 bug: Bug | None = None) -> ModelReport:
    """Manual backward vs autograd for every tensor, plus finite differences on a seeded sample
    of at most `fd_samples` entries (so big models stay fast)."""
    manual = backward_pass(model, X, y, bug=bug).grads
    auto = autograd_grads(model, X, y)
    scale = max(g.abs().max().item() for g in auto.values()) or 1.0
    rows = []
    for name, a in auto.items():
        m = manual[name]
        err = (m - a).abs().max().item()
        ref = a.abs().max().item()
        rows.append({"layer": layer_of(name), "parameter": name, "shape": "x".join(map(str, a.shape)),
                     "max_abs_err": err, "rel_err": err / max(ref, 1e-3 * scale),
                     "pass": err <= ATOL + RTOL * ref})
    tensors = pd.DataFrame(rows)
    samples = _fd_samples(model, X, y, manual, auto, fd_samples, seed)
    bad = set(tensors.loc[~tensors["pass"], "layer"]) | set(samples.loc[~samples["pass"], "layer"])
    order = ["out"] + [str(i) for i in range(len(model.hidden), 0, -1)]
    first_bad = next((layer for layer in order if layer in bad), None)
    return ModelReport(tensors, samples, first_bad)


def _fd_samples(model, X, y, manual, auto, k, seed) -> pd.DataFrame:
    twin = copy.deepcopy(model).train()
    params = dict(twin.named_parameters())
    gen = torch.Generator().manual_seed(seed)
    names = list(params)
    eps = FD_EPS["float64" if model.out.weight.dtype == torch.float64 else "float32"]
    rows = []
    with torch.no_grad():
        for _ in range(k):
            name = names[int(torch.randint(len(names), (1,), generator=gen))]
            p = params[name]
            index = tuple(int(torch.randint(s, (1,), generator=gen)) for s in p.shape)
            fd = _central_difference(lambda: F.cross_entropy(twin(X), y), p.data, index, eps)
            m, a = manual[name][index].item(), auto[name][index].item()
            rows.append({"layer": layer_of(name), "parameter": name, "index": str(list(index)),
                         "manual": m, "autograd": a, "finite_diff": fd,
                         "pass": close(m, a) and close(fd, a)})
    return pd.DataFrame(rows)
