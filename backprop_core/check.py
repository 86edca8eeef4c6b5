"""Three-way gradient checks: by hand (or the manual backward pass), PyTorch autograd, and central
finite differences, judged against what each precision can resolve.

Truth is float64. Every floating-point operation rounds its result to within u of its size, where
u is the unit roundoff: 2^-53 ≈ 1.1e-16 in float64, 2^-24 ≈ 6.0e-8 in float32. So an entry
computed from terms of total size m can be off by a small multiple of u·m, even when the terms
nearly cancel and the entry itself is tiny. Each compared entry therefore gets an allowance

    allowed = ROUNDING_FACTOR · u · m

with m the magnitude of the terms it was computed from: the same chain rule run on absolute values
(|x|, |W|, |phi'|, sums instead of differences). A wrong derivation is off by about the entry's own
size, far above the allowance, unless the true gradient itself is zero to within rounding.

Finite differences always run in float64 on a float64 copy: (L(p + eps) - L(p - eps)) / 2 eps with
eps = FD_EPS. In float32 the two losses agree in nearly all of their 7 digits and the difference
keeps almost none. The finite difference is itself only good to about the loss's rounding divided
by eps, plus an eps^2 truncation term; its allowance says so (`fd_allowance`).

At a kink (ReLU at exactly 0) the derivative jumps; when a unit's pre-activation is zero to within
rounding, the two precisions may take different sides, and a finite difference straddles both.
Such rows are marked `kink` and pass if they match either side.
"""
from __future__ import annotations

import copy
import math

import pandas as pd
import torch
import torch.nn.functional as F

from backprop_core import hand
from backprop_core.activations import ACTIVATIONS, scalar, torch_fn
from backprop_core.bugs import Bug
from backprop_core.manual import backward_pass
from backprop_core.models import MLP
from backprop_core.precision import (
    FD_EPS,
    NOISE_FACTOR,
    ROUNDING_FACTOR,
    UNDERFLOW,
    UNIT_ROUNDOFF,
    allowance,
    fd_allowance,
)
from backprop_core.results import ModelReport

DTYPES = {"float64": torch.float64, "float32": torch.float32}
HAND_WEIGHTS = [("W1", i, j) for i in range(2) for j in range(2)] + [("W2", 0, j) for j in range(2)]


def rel_err(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|), and 0 when both are 0."""
    denom = max(abs(a), abs(b))
    return abs(a - b) / denom if denom > 0 else 0.0


# ---------------------------------------------------------------- the seed's two-layer net
def _two_layer_loss(x, W1, W2, y, activation):
    """The seed's net on tensors: z1 = x @ W1, z2 = phi(z1) @ W2^T, BCE from the logit."""
    z2 = (torch_fn(activation)(x @ W1) @ W2.T).squeeze()
    return F.binary_cross_entropy_with_logits(z2, y)


def two_layer_magnitudes(r: hand.HandResult, x, W1, W2, y, activation) -> dict[tuple, float]:
    """For each weight, the size m of the terms its gradient is computed from, forward errors
    included: z1 = x W1 (sizes A1), z2 = h W2^T (A2, plus what z1's rounding carries through),
    y_pred - y (through the sigmoid's slope), then the products of the backward pass."""
    _, dphi = scalar(activation)
    w2 = W2[0]
    slope = [dphi(z) for z in r.z1]
    A1 = [abs(x[0] * W1[0][j]) + abs(x[1] * W1[1][j]) for j in range(2)]
    A2 = sum(abs(r.h[j] * w2[j]) + abs(w2[j] * slope[j]) * A1[j] for j in range(2))
    E_dz2 = r.y_pred * (1 - r.y_pred) * A2 + r.y_pred + abs(y) + abs(r.dL_dz2)
    curved = ACTIVATIONS[activation].curved             # phi' moves with z1 (|phi''| <= 1)
    out = {}
    for j in range(2):
        E_h = abs(slope[j]) * A1[j] + abs(r.h[j])
        out[("W2", 0, j)] = E_dz2 * abs(r.h[j]) + abs(r.dL_dz2) * E_h
        E_slope = (A1[j] + 1.0) if curved else 0.0
        for i in range(2):
            out[("W1", i, j)] = (abs(x[i] * w2[j]) * (abs(slope[j]) * E_dz2 + abs(r.dL_dz2) * E_slope)
                                 + abs(r.dW1[i][j]))
    return out


def _other_side(r: hand.HandResult, x, activation, i: int, j: int) -> float:
    """dL/dW1[i][j] with hidden unit j's slope taken from the other side of the kink at 0."""
    _, dphi = scalar(activation)
    left, right = dphi(-1.0), dphi(1.0)
    here = dphi(r.z1[j])
    return x[i] * r.dL_dh[j] * (left if here == right else right)


def two_layer_ledger(x, W1, W2, y, activation="relu", dtype="float64") -> pd.DataFrame:
    """One row per weight entry: hand (exact float64 chain rule), autograd in `dtype`, a float64
    finite difference, the error, what `dtype` rounding allows, and whether all three agree."""
    dt = DTYPES[dtype]
    r = hand.two_layer(x, W1, W2, y, activation)
    xt = torch.tensor([x], dtype=dt)
    W1t = torch.tensor(W1, dtype=dt, requires_grad=True)
    W2t = torch.tensor(W2, dtype=dt, requires_grad=True)
    loss = _two_layer_loss(xt, W1t, W2t, torch.tensor(float(y), dtype=dt), activation)
    g1, g2 = torch.autograd.grad(loss, [W1t, W2t])
    auto = {"W1": g1, "W2": g2}
    x64, y64 = torch.tensor([x], dtype=torch.float64), torch.tensor(float(y), dtype=torch.float64)
    tensors = {"W1": torch.tensor(W1, dtype=torch.float64), "W2": torch.tensor(W2, dtype=torch.float64)}
    magnitude = two_layer_magnitudes(r, x, W1, W2, y, activation)
    rows = []
    for name, i, j in HAND_WEIGHTS:
        fd = central_difference(lambda: _two_layer_loss(x64, tensors["W1"], tensors["W2"], y64, activation),
                                tensors[name], (i, j))
        h = (r.dW1 if name == "W1" else r.dW2)[i][j]
        a = auto[name][i, j].item()
        allowed = allowance(dtype, magnitude[(name, i, j)])
        fd_allowed = fd_allowance(r.loss, h)
        ok, fd_ok, note = abs(a - h) <= allowed, abs(fd - h) <= fd_allowed, ""
        if name == "W1" and ACTIVATIONS[activation].kinked:
            rounding = ROUNDING_FACTOR * UNIT_ROUNDOFF[dtype] * (abs(x[0] * W1[0][j]) + abs(x[1] * W1[1][j]))
            other = _other_side(r, x, activation, i, j)
            if abs(r.z1[j]) <= rounding:            # the two precisions may take different sides
                note, ok = "kink", ok or abs(a - other) <= allowed
            if abs(r.z1[j]) <= FD_EPS * abs(x[i]):  # the difference quotient straddles the kink
                note = "kink"
                lo, hi = min(h, other), max(h, other)
                fd_ok = fd_ok or lo - fd_allowed <= fd <= hi + fd_allowed
        rows.append({"parameter": f"{name}[{i + 1}][{j + 1}]", "hand": h, "autograd": a,
                     "finite_diff": fd, "abs_err": abs(a - h), "allowed": allowed,
                     "rel_err": rel_err(h, a), "fd_abs_err": abs(fd - h), "fd_allowed": fd_allowed,
                     "pass": bool(ok and fd_ok), "note": note})
    return pd.DataFrame(rows)


def central_difference(loss_fn, tensor: torch.Tensor, index, eps: float = FD_EPS) -> float:
    """(L(p + eps) - L(p - eps)) / (2 eps) for one entry of `tensor`, restored afterwards."""
    with torch.no_grad():
        original = tensor[index].item()
        tensor[index] = original + eps
        plus = loss_fn().item()
        tensor[index] = original - eps
        minus = loss_fn().item()
        tensor[index] = original
    return (plus - minus) / (2 * eps)


# ---------------------------------------------------------------- any MLP: manual vs autograd
def layer_of(name: str) -> str:
    """'hidden.2.linear.weight' -> '3' (1-based hidden layer); 'out.bias' -> 'out'."""
    return str(int(name.split(".")[1]) + 1) if name.startswith("hidden.") else "out"


def in_dtype(y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Labels as a model of `dtype` takes them: classes stay integers, regression targets follow the model."""
    return y.to(dtype) if y.is_floating_point() else y


def reference_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """PyTorch's own loss for the labels' task (the independent reference for losses.py):
    cross-entropy over integer classes, mean squared error against real targets."""
    return F.mse_loss(logits[:, 0], y) if y.is_floating_point() else F.cross_entropy(logits, y)


def autograd_grads(model: MLP, X: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Reference gradients from PyTorch autograd (train mode, on a copy of the model)."""
    twin = copy.deepcopy(model).train()
    params = [p for _, p in twin.named_parameters()]
    with torch.enable_grad():
        loss = reference_loss(twin(X), y)
        grads = torch.autograd.grad(loss, params)
    return {name: g for (name, _), g in zip(twin.named_parameters(), grads, strict=True)}


def float32_noise(model: MLP, X: torch.Tensor, y: torch.Tensor, truth: dict[str, torch.Tensor],
                  bug: Bug | None = None, shuffles: int = 2, seed: int = 0) -> dict[str, float]:
    """Per tensor, how much float32 rounding moves the gradient: the largest of float32 autograd's
    distance from the float64 truth, and the spread of the manual pass in float32 when the batch
    is shuffled (the same sum in another order; a planted bug is the same in every order)."""
    m32, X32, y = copy.deepcopy(model).to(torch.float32), X.to(torch.float32), in_dtype(y, torch.float32)
    auto32 = autograd_grads(m32, X32, y)
    noise = {name: (auto32[name].double() - t).abs().max().item() for name, t in truth.items()}
    base = backward_pass(m32, X32, y, bug=bug).grads
    gen = torch.Generator().manual_seed(seed)
    for _ in range(shuffles):
        order = torch.randperm(X.shape[0], generator=gen)
        shuffled = backward_pass(m32, X32[order], y[order], bug=bug).grads
        for name in noise:
            noise[name] = max(noise[name], (shuffled[name] - base[name]).abs().max().item())
    return noise


@torch.no_grad()
def local_rounding(model: MLP, X: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """sqrt(N) times the root-sum-square of the batch terms each gradient entry sums, e.g.
    sqrt(N · sum_n (dz_ni a_nj)^2) for dL/dW[i, j]: the typical rounding of that sum is about u
    times this. Run on a float64 model; same shapes as the gradients."""
    result = backward_pass(model, X, y)
    root_n = X.shape[0] ** 0.5

    def rss(terms_sq):
        return terms_sq.sqrt() * root_n

    top, dlogits = result.caches[-1], result.signals[-1]
    a_top = top.a_in + top.h if model.hidden[-1].residual else top.h
    out = {"out.weight": rss(dlogits.square().T @ a_top.square()), "out.bias": rss(dlogits.square().sum(0))}
    for i, (cache, dz) in enumerate(zip(result.caches, result.signals[:-1], strict=True)):
        prefix = f"hidden.{i}"
        out[f"{prefix}.linear.weight"] = rss(dz.square().T @ cache.a_in.square())
        out[f"{prefix}.linear.bias"] = rss(dz.square().sum(0))
        if cache.zhat is not None:
            out[f"{prefix}.norm.weight"] = rss((cache.du * cache.zhat).square().sum(0))
            out[f"{prefix}.norm.bias"] = rss(cache.du.square().sum(0))
    return {name: out[name] for name, _ in model.named_parameters()}


def model_report(model: MLP, X: torch.Tensor, y: torch.Tensor, fd_samples: int = 24, seed: int = 0,
                 bug: Bug | None = None) -> ModelReport:
    """The manual backward pass vs autograd, both in the model's precision, for every tensor, and
    float64 finite differences on a seeded sample of at most `fd_samples` entries.

    Each entry's allowance has two parts:
    - the rounding of its own last step, a sum over the batch: ROUNDING_FACTOR · u · sqrt(N) times the
      root-sum-square of the summed terms (`local_rounding`); a sum that cancels keeps that error;
    - the error it inherits from the layers above, measured rather than guessed: autograd runs once
      more in float32, and its distance from float64 autograd on the tensor is float32's noise there
      (normalisation layers can amplify it far beyond u). For float64 that noise is scaled by
      u64 / u32, since rounding errors are proportional to u: NOISE_FACTOR · (noise + u · max|g|)."""
    dtype = "float64" if model.out.weight.dtype == torch.float64 else "float32"
    model64 = copy.deepcopy(model).to(torch.float64)
    X64, y64, y = X.to(torch.float64), in_dtype(y, torch.float64), in_dtype(y, model.out.weight.dtype)
    truth = autograd_grads(model64, X64, y64)
    manual = backward_pass(model, X, y, bug=bug).grads
    auto = autograd_grads(model, X, y) if dtype == "float32" else truth
    noise32 = float32_noise(model, X, y, truth, bug)
    u = UNIT_ROUNDOFF[dtype]
    local = local_rounding(model64, X64, y64)
    layer_scale: dict[str, float] = {}
    for name, t in truth.items():        # a layer's size: its largest gradient (a bias feeding a norm is 0)
        layer_scale[layer_of(name)] = max(layer_scale.get(layer_of(name), 0.0), t.abs().max().item())
    allowed, rows, digits = {}, [], 7.0
    for name, t in truth.items():
        if layer_scale[layer_of(name)] > 0:
            digits = min(digits, math.log10(layer_scale[layer_of(name)] / max(noise32[name], 1e-300)))
        noise = noise32[name] * u / UNIT_ROUNDOFF["float32"]
        allowed[name] = (ROUNDING_FACTOR * u * local[name] + NOISE_FACTOR * (noise + u * t.abs().max().item())
                         + UNDERFLOW[dtype])
        a = auto[name].double()
        diff = (manual[name].double() - a).abs()
        err = diff.max().item()
        rows.append({"layer": layer_of(name), "parameter": name, "shape": "x".join(map(str, t.shape)),
                     "max_abs_err": err, "rel_err": err / max(a.abs().max().item(), UNDERFLOW[dtype]),
                     "allowed": allowed[name].min().item(), "pass": bool((diff <= allowed[name]).all())})
    tensors = pd.DataFrame(rows)
    samples = _fd_samples(model64, X64, y64, manual, auto, truth, allowed, fd_samples, seed)
    bad = set(tensors.loc[~tensors["pass"], "layer"])
    order = ["out"] + [str(i) for i in range(len(model.hidden), 0, -1)]
    return ModelReport(dtype, tensors, samples, next((layer for layer in order if layer in bad), None),
                       min(digits, 7.0))


def _fd_samples(model64, X64, y, manual, auto, truth, allowed, k, seed) -> pd.DataFrame:
    twin = copy.deepcopy(model64).train()
    params = dict(twin.named_parameters())
    gen = torch.Generator().manual_seed(seed)
    names = list(params)
    with torch.no_grad():
        loss = reference_loss(twin(X64), y).item()
    rows = []
    with torch.no_grad():
        for _ in range(k):
            name = names[int(torch.randint(len(names), (1,), generator=gen))]
            p = params[name]
            index = tuple(int(torch.randint(s, (1,), generator=gen)) for s in p.shape)
            fd = central_difference(lambda: reference_loss(twin(X64), y), p.data, index)
            m, a, t = manual[name][index].item(), auto[name][index].item(), truth[name][index].item()
            ok = abs(m - a) <= allowed[name][index].item() and abs(fd - t) <= fd_allowance(loss, t)
            rows.append({"layer": layer_of(name), "parameter": name, "index": str(list(index)),
                         "manual": m, "autograd": a, "finite_diff": fd, "pass": ok})
    return pd.DataFrame(rows)

