"""Every activation in one record: phi and its derivative phi' side by side, as micrograd keeps an
op's backward next to its forward, and everything else the project needs to know about it.

Each section below defines the activation's functions, in two flavours that must agree:
- on Python floats, for the hand derivation (`phi`, `dphi`; only where the hand page offers it);
- on tensors, for every model (`phi_t(z)`, and `dphi_t(z, h)` with h = phi(z)).
and then its `Activation` record: the Xavier/He gain, phi' in LaTeX, the zone where it saturates,
whether its slope jumps at 0, its slope below 0 when it is piecewise linear (the mean-field theory
then has closed forms), and whether the depth sweep draws it. A new activation is one more section
and one more entry in ACTIVATIONS; the pages, the manual backward pass, the checks, the theory line,
the depth sweep and the generated scripts all read it from here.

Derivative conventions at kinks follow torch: relu'(0) = 0, leaky_relu'(0) = slope.

This module never imports torch itself: the tensor functions use tensor methods and look up
torch.nn.functional only when called. So the pages' server process, which never trains anything,
can import it without loading torch.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

LEAKY_SLOPE = 0.01


def _F():
    from torch.nn import functional
    return functional


@dataclass(frozen=True)
class Activation:
    name: str
    phi_t: Callable                         # phi on tensors, elementwise
    dphi_t: Callable                        # phi'(z) on tensors, given z and h = phi(z)
    gain: float                             # Xavier/He gain: keeps a layer's output variance
    phi: Callable | None = None             # on floats (the hand page offers only these)
    dphi: Callable | None = None
    latex: str = ""                         # phi'(z_1) in LaTeX, for the hand page
    flat_beyond: float | None = None        # |u| beyond which the slope is nearly 0 (saturation)
    kinked: bool = False                    # the slope jumps at 0
    curved: bool = False                    # phi' changes with z (|phi''| <= 1): exponentials or erf
    negative_slope: float | None = None     # piecewise linear: slope below 0 (1 above)
    in_sweep: bool = False                  # one of the depth sweep's curves

    @property
    def can_die(self) -> bool:
        """A unit outputs exactly 0, with slope exactly 0, for every input below 0 (ReLU): it can die."""
        return self.negative_slope == 0.0

    def backward_t(self, da, z, h):
        """dL/dz = dL/dh * phi'(z): the step every layer's backward pass takes through it."""
        if self.name == "relu":             # da * 1[z > 0], as one fused kernel
            from torch import ops
            return ops.aten.threshold_backward(da, z, 0)
        return da * self.dphi_t(z, h)


# ---------------------------------------------------------------- relu
def relu(z: float) -> float:
    return z if z > 0 else 0.0


def relu_grad(z: float) -> float:
    return 1.0 if z > 0 else 0.0


def relu_t(z):
    return z.relu()


def relu_grad_t(z, h):
    return (z > 0).to(z.dtype)


RELU = Activation("relu", relu_t, relu_grad_t, math.sqrt(2.0), relu, relu_grad, r"\mathbb{1}[z_1 > 0]",
                  kinked=True, negative_slope=0.0, in_sweep=True)


# ---------------------------------------------------------------- leaky relu
def leaky_relu(z: float) -> float:
    return z if z > 0 else LEAKY_SLOPE * z


def leaky_relu_grad(z: float) -> float:
    return 1.0 if z > 0 else LEAKY_SLOPE


def leaky_relu_t(z):
    return _F().leaky_relu(z, LEAKY_SLOPE)


def leaky_relu_grad_t(z, h):
    return z.new_ones(()).where(z > 0, z.new_full((), LEAKY_SLOPE))


LEAKY_RELU = Activation("leaky_relu", leaky_relu_t, leaky_relu_grad_t, math.sqrt(2.0 / (1 + LEAKY_SLOPE ** 2)),
                        leaky_relu, leaky_relu_grad, r"\begin{cases}1 & z_1>0\\ 0.01 & z_1 \le 0\end{cases}",
                        kinked=True, negative_slope=LEAKY_SLOPE, in_sweep=True)


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


# |u| > 4: slope < 0.018, 7% of its peak
SIGMOID = Activation("sigmoid", sigmoid_t, sigmoid_grad_t, 1.0, sigmoid, sigmoid_grad,
                     r"\sigma(z_1)\,(1-\sigma(z_1))", flat_beyond=4.0, curved=True, in_sweep=True)


# ---------------------------------------------------------------- tanh
def tanh(z: float) -> float:
    return math.tanh(z)


def tanh_grad(z: float) -> float:
    return 1.0 - math.tanh(z) ** 2


def tanh_t(z):
    return z.tanh()


def tanh_grad_t(z, h):
    return 1 - h * h


# |u| > 2: slope < 0.071
TANH = Activation("tanh", tanh_t, tanh_grad_t, 5.0 / 3.0, tanh, tanh_grad, r"1-\tanh^2(z_1)", flat_beyond=2.0,
                  curved=True, in_sweep=True)


# ---------------------------------------------------------------- gelu (exact, erf form)
def gelu_t(z):
    return _F().gelu(z)


def gelu_grad_t(z, h):
    """z * Phi(z)  ->  Phi(z) + z * pdf(z)."""
    cdf = 0.5 * (1 + (z / math.sqrt(2.0)).erf())
    pdf = (-0.5 * z * z).exp() / math.sqrt(2 * math.pi)
    return cdf + z * pdf


GELU = Activation("gelu", gelu_t, gelu_grad_t, math.sqrt(2.0), curved=True)


# ---------------------------------------------------------------- elu (alpha = 1)
def elu_t(z):
    return _F().elu(z)


def elu_grad_t(z, h):
    """1 for z > 0, exp(z) = h + 1 otherwise."""
    return z.new_ones(()).where(z > 0, h + 1)


ELU = Activation("elu", elu_t, elu_grad_t, math.sqrt(2.0), curved=True)


# ---------------------------------------------------------------- silu (swish): z * sigmoid(z)
def silu(z: float) -> float:
    return z * sigmoid(z)


def silu_grad(z: float) -> float:
    """sigma(z) + z sigma(z) (1 - sigma(z))."""
    s = sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


def silu_t(z):
    return z * z.sigmoid()


def silu_grad_t(z, h):
    s = z.sigmoid()
    return s * (1 + z * (1 - s))


# gain: torch has none for SiLU; like GELU and ELU here, the ReLU family's sqrt(2)
SILU = Activation("silu", silu_t, silu_grad_t, math.sqrt(2.0), silu, silu_grad,
                  r"\sigma(z_1)\,(1 + z_1(1-\sigma(z_1)))", curved=True, in_sweep=True)


# ---------------------------------------------------------------- linear
def linear(z: float) -> float:
    return z


def linear_grad(z: float) -> float:
    return 1.0


def linear_t(z):
    return z


def linear_grad_t(z, h):
    return z.new_ones(()).expand_as(z)


LINEAR = Activation("linear", linear_t, linear_grad_t, 1.0, linear, linear_grad, r"1", negative_slope=1.0)


ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (RELU, LEAKY_RELU, SIGMOID, TANH, GELU, ELU, SILU, LINEAR)}
ALL_ACTIVATIONS = tuple(ACTIVATIONS)
HAND_ACTIVATIONS = tuple(name for name, a in ACTIVATIONS.items() if a.phi is not None)
SWEEP_ACTIVATIONS = tuple(name for name, a in ACTIVATIONS.items() if a.in_sweep)
SATURATION_Z = {name: a.flat_beyond for name, a in ACTIVATIONS.items() if a.flat_beyond is not None}


def scalar(name: str):
    """(phi, dphi) acting on Python floats. Raises KeyError for names without them."""
    a = ACTIVATIONS.get(name)
    if a is None or a.phi is None:
        raise KeyError(f"unknown activation {name!r}; choose one of {', '.join(HAND_ACTIVATIONS)}")
    return a.phi, a.dphi


def torch_fn(name: str):
    """phi acting on tensors, elementwise."""
    return ACTIVATIONS[name].phi_t


def torch_grad(name: str, z, h):
    """phi'(z) elementwise, given z and h = phi(z) (both shape (N, width))."""
    if name not in ACTIVATIONS:
        raise KeyError(f"unknown activation {name!r}")
    return ACTIVATIONS[name].dphi_t(z, h)
