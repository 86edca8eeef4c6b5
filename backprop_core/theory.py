"""Mean-field prediction of per-layer gradient scale at initialisation (no norm, no residual).

Forward, for pre-activations z_l of a plain MLP with inputs of second moment q_in:
    q_1 = in_dim * s_w(1)^2 * q_in + s_b^2
    q_l = width * s_w(l)^2 * E[phi(z)^2]_{z ~ N(0, q_{l-1})} + s_b^2
Backward, for the signal delta_l = dL/dz_l:
    E[delta_l^2] = chi_l * E[delta_{l+1}^2],   chi_l = fan_out(l+1) * s_w(l+1)^2 * E[phi'(z_l)^2]
Gradient of W_l = delta_l^T a_{l-1}, so its typical size is sqrt(E[delta_l^2] * E[a_{l-1}^2]).

`sqrt(chi_l)` is the factor by which the gradient shrinks (< 1) or grows (> 1) per layer going
down; its product over layers explains vanishing and exploding gradients.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from backprop_core.activations import torch_fn, torch_grad
from backprop_core.models import bias_variance, weight_variance

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(100)  # even: no node sits on a kink at z = 0
_WEIGHTS = _WEIGHTS / math.sqrt(2 * math.pi)


def gaussian_moments(activation: str, q: float) -> tuple[float, float]:
    """(E[phi(z)^2], E[phi'(z)^2]) for z ~ N(0, q), by Gauss-Hermite quadrature."""
    z = torch.tensor(_NODES * math.sqrt(max(q, 1e-300)), dtype=torch.float64)
    h = torch_fn(activation)(z)
    d = torch_grad(activation, z, h)
    return float((_WEIGHTS * (h * h).numpy()).sum()), float((_WEIGHTS * (d * d).numpy()).sum())


def expected_gradient_scale(depth: int, width: int, activation: str, init: str,
                            in_dim: int = 2, out_dim: int = 2, q_in: float = 1.0) -> pd.DataFrame:
    """One row per hidden layer l = 1..depth: q (pre-activation variance), factor = sqrt(chi_l),
    and relative = predicted typical |dL/dW_l| divided by that of the last hidden layer."""
    fans = [in_dim] + [width] * depth
    q, a2 = [], [q_in]                       # a2[l] = E[a_l^2], a_0 = input
    for layer in range(1, depth + 1):
        fan_in = fans[layer - 1]
        q_l = fan_in * weight_variance(init, activation, fan_in, width) * a2[-1] + bias_variance(init, fan_in)
        q.append(q_l)
        a2.append(gaussian_moments(activation, q_l)[0])
    chi = []
    for layer in range(1, depth + 1):
        fan_out = width if layer < depth else out_dim
        w_next = weight_variance(init, activation if layer < depth else "linear", width, fan_out)
        chi.append(fan_out * w_next * gaussian_moments(activation, q[layer - 1])[1])
    delta2 = [1.0] * depth                   # relative to the last hidden layer
    for layer in range(depth - 2, -1, -1):
        delta2[layer] = delta2[layer + 1] * chi[layer]
    g = [math.sqrt(delta2[i] * a2[i]) for i in range(depth)]
    return pd.DataFrame({"layer": np.arange(1, depth + 1), "q": q,
                         "factor": [math.sqrt(c) for c in chi],
                         "relative": [v / g[-1] for v in g]})
