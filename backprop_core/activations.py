"""Activation functions and their derivatives, in three flavours that must agree.

- `scalar(name)` -> (phi, dphi) on Python floats, for the hand derivation;
- `torch_fn(name)` -> phi on tensors (the forward pass of every model);
- `torch_grad(name, z, h)` -> phi'(z) on tensors (the manual backward pass).

Derivative conventions at kinks follow torch: relu'(0) = 0, leaky_relu'(0) = slope.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LEAKY_SLOPE = 0.01
HAND_ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh", "linear")
ALL_ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh", "gelu", "elu", "linear")


def sigmoid(z: float) -> float:
    """Logistic function, stable for large |z| (never overflows)."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


_SCALAR = {
    "relu": (lambda z: z if z > 0 else 0.0, lambda z: 1.0 if z > 0 else 0.0),
    "leaky_relu": (lambda z: z if z > 0 else LEAKY_SLOPE * z,
                   lambda z: 1.0 if z > 0 else LEAKY_SLOPE),
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1.0 - sigmoid(z))),
    "tanh": (math.tanh, lambda z: 1.0 - math.tanh(z) ** 2),
    "linear": (lambda z: z, lambda z: 1.0),
}

# LaTeX for phi'(z) shown on the hand page.
DERIVATIVE_LATEX = {
    "relu": r"\mathbb{1}[z_1 > 0]",
    "leaky_relu": r"\begin{cases}1 & z_1>0\\ 0.01 & z_1 \le 0\end{cases}",
    "sigmoid": r"\sigma(z_1)\,(1-\sigma(z_1))",
    "tanh": r"1-\tanh^2(z_1)",
    "linear": r"1",
}


def scalar(name: str):
    """(phi, dphi) acting on Python floats. Raises KeyError for unknown names."""
    if name not in _SCALAR:
        raise KeyError(f"unknown activation {name!r}; choose one of {', '.join(HAND_ACTIVATIONS)}")
    return _SCALAR[name]


_TORCH_FN = {
    "relu": F.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, LEAKY_SLOPE),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "gelu": F.gelu,
    "elu": F.elu,
    "linear": lambda z: z,
}


def torch_fn(name: str):
    """phi acting on tensors, elementwise."""
    return _TORCH_FN[name]


def torch_grad(name: str, z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """phi'(z) elementwise, given z and h = phi(z) (both shape (N, width))."""
    if name == "relu":
        return (z > 0).to(z.dtype)
    if name == "leaky_relu":
        return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, LEAKY_SLOPE))
    if name == "sigmoid":
        return h * (1 - h)
    if name == "tanh":
        return 1 - h * h
    if name == "gelu":  # exact (erf) GELU: z * Phi(z)  ->  Phi(z) + z * pdf(z)
        cdf = 0.5 * (1 + torch.erf(z / math.sqrt(2.0)))
        pdf = torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        return cdf + z * pdf
    if name == "elu":  # alpha = 1: 1 for z > 0, exp(z) = h + 1 otherwise
        return torch.where(z > 0, torch.ones_like(z), h + 1)
    if name == "linear":
        return torch.ones_like(z)
    raise KeyError(f"unknown activation {name!r}")
