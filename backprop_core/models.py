"""MLPs for the training lab: depth x (Linear -> optional norm -> activation [+ residual]) -> Linear.

Parameter names (as `named_parameters()` gives them):
    hidden.{i}.linear.weight (width, fan_in)
    hidden.{i}.linear.bias (width,)                  not with norm="batch"
    hidden.{i}.norm.weight / .bias (width,)          only with norm="batch" or "layer"
    out.weight (out_dim, width), out.bias (out_dim,)

A Linear layer followed by BatchNorm has no bias, as is common practice: BatchNorm subtracts each
unit's mean over the batch, so such a bias has an analytic gradient of exactly 0 and changes
nothing the network computes in training. In float32 that zero comes out as rounding noise of about
1e-8, which Adam divides by its own size and turns into steps of size lr: the bias would drift by
whatever this CPU's rounding says, and eval-mode BatchNorm (whose running mean lags behind) reads
the drift. BatchNorm's own shift beta plays the bias's role. Before LayerNorm the bias stays: that
norm subtracts the mean over units, so only the bias's mean over units is cancelled, and the rest of
it has a real gradient.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from backprop_core.activations import ACTIVATIONS, ALL_ACTIVATIONS, torch_fn
from backprop_core.config import DEPTH_RANGE, INITS, NORMS, WIDTH_RANGE
from backprop_core.draws import normal, uniform


def gain(activation: str) -> float:
    """Gain for xavier/kaiming, from the activation's record (activations.py)."""
    return ACTIVATIONS[activation].gain


def weight_distribution(init: str, activation: str, fan_in: int, fan_out: int) -> tuple[str, float]:
    """(kind, scale) of a weight matrix's entries: ("uniform", bound) or ("normal", std).

    default: PyTorch's Linear, U(+-1/sqrt(fan_in)); xavier: U(+-gain*sqrt(6/(fan_in+fan_out)));
    kaiming: N(0, gain/sqrt(fan_in)) (He, fan_in mode); small: N(0, 0.01); large: N(0, 1)."""
    if init == "default":
        return "uniform", 1.0 / math.sqrt(fan_in)
    if init == "xavier":
        return "uniform", gain(activation) * math.sqrt(6.0 / (fan_in + fan_out))
    if init == "kaiming":
        return "normal", gain(activation) / math.sqrt(fan_in)
    if init == "small":
        return "normal", 0.01
    if init == "large":
        return "normal", 1.0
    raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")


def weight_variance(init: str, activation: str, fan_in: int, fan_out: int) -> float:
    """Variance of one weight entry under `weight_distribution`."""
    kind, scale = weight_distribution(init, activation, fan_in, fan_out)
    return scale ** 2 / 3.0 if kind == "uniform" else scale ** 2


def bias_variance(init: str, fan_in: int) -> float:
    """Biases are U(+-1/sqrt(fan_in)) under "default" and zero otherwise."""
    return 1.0 / (3.0 * fan_in) if init == "default" else 0.0


class Block(nn.Module):
    """One hidden layer: z = a W^T + b, u = norm(z), h = phi(u), out = a + h if residual else h
    (no b before BatchNorm)."""

    def __init__(self, fan_in: int, width: int, activation: str, norm: str, residual: bool):
        super().__init__()
        self.linear = nn.Linear(fan_in, width, bias=norm != "batch")
        self.norm = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}[norm](width) if norm != "none" else None
        self.activation = activation
        self.residual = residual

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        z = self.linear(a)
        u = self.norm(z) if self.norm is not None else z
        h = torch_fn(self.activation)(u)
        return a + h if self.residual else h


class MLP(nn.Module):
    """`depth` Blocks of `width` units, then a Linear layer of `out_dim` logits."""

    def __init__(self, depth, width, activation, norm, residual, in_dim, out_dim):
        super().__init__()
        self.hidden = nn.ModuleList(
            Block(in_dim if i == 0 else width, width, activation, norm, residual and i > 0)
            for i in range(depth))
        self.out = nn.Linear(width, out_dim)
        self.activation, self.norm_kind = activation, norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, in_dim) -> logits (N, out_dim)."""
        for block in self.hidden:
            x = block(x)
        return self.out(x)


def _check(depth, width, activation, init, norm):
    lo, hi = DEPTH_RANGE
    if not (isinstance(depth, int) and lo <= depth <= hi):
        raise ValueError(f"depth must be {lo}..{hi}; got {depth!r}")
    lo, hi = WIDTH_RANGE
    if not (isinstance(width, int) and lo <= width <= hi):
        raise ValueError(f"width must be {lo}..{hi}; got {width!r}")
    for name, value, allowed in (("activation", activation, ALL_ACTIVATIONS), ("init", init, INITS),
                                 ("norm", norm, NORMS)):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def draw_weights(model: MLP, init: str, seed: int) -> None:
    """Fill every Linear of `model` with seeded draws (draws.py: the same weights on every CPU).

    PyTorch's order: first each Linear's default init as its constructor draws it (weight
    U(+-1/sqrt(fan_in)) by kaiming_uniform_(a=sqrt(5)), then bias U(+-1/sqrt(fan_in))), hidden layers
    first, then out; then, for another init, each Linear's new weights in the same order, biases 0."""
    g = torch.Generator().manual_seed(seed)
    gain = math.sqrt(2.0 / (1 + math.sqrt(5) ** 2))            # kaiming_uniform_'s, for a = sqrt(5)
    linears = [block.linear for block in model.hidden] + [model.out]
    acts = [model.activation] * len(model.hidden) + ["linear"]
    with torch.no_grad():
        for linear in linears:
            fan_in = linear.weight.shape[1]
            bound = math.sqrt(3.0) * (gain / math.sqrt(fan_in))
            linear.weight.copy_(uniform(tuple(linear.weight.shape), -bound, bound, g))
            if linear.bias is not None:
                linear.bias.copy_(uniform(tuple(linear.bias.shape), -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), g))
        if init == "default":
            return
        for linear, act in zip(linears, acts, strict=True):
            fan_out, fan_in = linear.weight.shape
            kind, scale = weight_distribution(init, act, fan_in, fan_out)
            shape = (fan_out, fan_in)
            linear.weight.copy_(uniform(shape, -scale, scale, g) if kind == "uniform" else normal(shape, g, 0.0, scale))
            if linear.bias is not None:
                linear.bias.zero_()


def build_mlp(depth: int, width: int, activation: str, init: str = "default", norm: str = "none",
              residual: bool = False, seed: int = 0, in_dim: int = 2, out_dim: int = 2,
              dtype: torch.dtype = torch.float32) -> MLP:
    """A seeded MLP: the same arguments give bit-identical weights on every CPU and in every thread (its
    own generator: what nn.Linear's constructor draws from torch's global one is replaced, and the global
    generator's state is put back)."""
    _check(depth, width, activation, init, norm)
    with torch.random.fork_rng(devices=[]):
        model = MLP(depth, width, activation, norm, residual, in_dim, out_dim)
    draw_weights(model, init, seed)
    return model.to(dtype)
