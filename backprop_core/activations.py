"""Each activation phi and its derivative phi', side by side, in two flavours that must agree:

- on Python floats, for the hand derivation: `scalar(name) -> (phi, dphi)`;
- on tensors, for every model: `torch_fn(name)(z)` and `torch_grad(name, z, h)` with h = phi(z).

Derivative conventions at kinks follow torch: relu'(0) = 0, leaky_relu'(0) = slope.

This module never imports torch itself: the tensor functions use tensor methods and look up
torch.nn.functional only when called. So the pages' server process, which never trains anything,
can import the float flavour without loading torch.
"""
from __future__ import annotations

import math

LEAKY_SLOPE = 0.01
HAND_ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh", "linear")
ALL_ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh", "gelu", "elu", "linear")
# Where a squashing activation is flat: |u| > 4 for sigmoid (slope < 0.018, 7% of its peak),
# |u| > 2 for tanh (slope < 0.071). Units there pass almost no gradient.
SATURATION_Z = {"sigmoid": 4.0, "tanh": 2.0}


def _F():
    from torch.nn import functional
    return functional


# ---------------------------------------------------------------- relu
def relu(z: float) -> float:
    return z if z > 0 else 0.0


def relu_grad(z: float) -> float:
    return 1.0 if z > 0 else 0.0


def relu_t(z):
    return z.relu()


def relu_grad_t(z, h):
    return (z > 0).to(z.dtype)


# ---------------------------------------------------------------- leaky relu
def leaky_relu(z: float) -> float:
    return z if z > 0 else LEAKY_SLOPE * z


def leaky_relu_grad(z: float) -> float:
    return 1.0 if z > 0 else LEAKY_SLOPE


def leaky_relu_t(z):
    return _F().leaky_relu(z, LEAKY_SLOPE)


def leaky_relu_grad_t(z, h):
    return z.new_ones(()).where(z > 0, z.new_full((), LEAKY_SLOPE))


# ---------------------------------------------------------------- sigmoid
def sigmoid(z: float) -> float:
    """Logistic function, stable for large |z| (never overflows)."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def sigmoid_grad(z: float) -> float:
    s = sigmoid(z)
    return s * (1.0 - s)


def sigmoid_t(z):
    return z.sigmoid()


def sigmoid_grad_t(z, h):
    return h * (1 - h)


# ---------------------------------------------------------------- tanh
def tanh(z: float) -> float:
    return math.tanh(z)


def tanh_grad(z: float) -> float:
    return 1.0 - math.tanh(z) ** 2


def tanh_t(z):
    return z.tanh()


def tanh_grad_t(z, h):
    return 1 - h * h


# ---------------------------------------------------------------- gelu (exact, erf form)
def gelu_t(z):
    return _F().gelu(z)


def gelu_grad_t(z, h):
    """z * Phi(z)  ->  Phi(z) + z * pdf(z)."""
    cdf = 0.5 * (1 + (z / math.sqrt(2.0)).erf())
    pdf = (-0.5 * z * z).exp() / math.sqrt(2 * math.pi)
    return cdf + z * pdf


# ---------------------------------------------------------------- elu (alpha = 1)
def elu_t(z):
    return _F().elu(z)


def elu_grad_t(z, h):
    """1 for z > 0, exp(z) = h + 1 otherwise."""
    return z.new_ones(()).where(z > 0, h + 1)


# ---------------------------------------------------------------- linear
def linear(z: float) -> float:
    return z


def linear_grad(z: float) -> float:
    return 1.0


def linear_t(z):
    return z


def linear_grad_t(z, h):
    return z.new_ones(()).expand_as(z)


_SCALAR = {"relu": (relu, relu_grad), "leaky_relu": (leaky_relu, leaky_relu_grad),
           "sigmoid": (sigmoid, sigmoid_grad), "tanh": (tanh, tanh_grad), "linear": (linear, linear_grad)}
_TENSOR = {"relu": (relu_t, relu_grad_t), "leaky_relu": (leaky_relu_t, leaky_relu_grad_t),
           "sigmoid": (sigmoid_t, sigmoid_grad_t), "tanh": (tanh_t, tanh_grad_t), "gelu": (gelu_t, gelu_grad_t),
           "elu": (elu_t, elu_grad_t), "linear": (linear_t, linear_grad_t)}

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


def torch_fn(name: str):
    """phi acting on tensors, elementwise."""
    return _TENSOR[name][0]


def torch_grad(name: str, z, h):
    """phi'(z) elementwise, given z and h = phi(z) (both shape (N, width))."""
    if name not in _TENSOR:
        raise KeyError(f"unknown activation {name!r}")
    return _TENSOR[name][1](z, h)
