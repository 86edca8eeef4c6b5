"""Mean-field prediction of the backward signal at initialisation (plain MLPs: no norm, no residual).

The quantity predicted is the one /vanishing plots: the per-sample backward signal reaching hidden
layer l, as a root mean square over the batch's points n and the layer's units i,

    signal_l = sqrt(mean_{n,i} (dL_n/dz_{l,n,i})^2)        dL_n: sample n's own loss (no 1/N)

Over random initialisations, for the actual inputs x_n and labels y_n:

    forward     q_1(n) = s_w(1) |x_n|^2 + s_b(1),   q_{l+1}(n) = width s_w(l+1) E[phi(z)^2] + s_b(l+1)
                with z ~ N(0, q_l(n)), and the logit difference t_n ~ N(0, 2 q_out(n))
    output      two classes: E[(dL_n/dlogit_c)^2] = E[(sigmoid(t_n) - y_n)^2] for each of the two logits;
                K classes, logits ~ N(0, q_out) each: sum_c E[(p_c - onehot_c)^2] = E[sum_c p_c^2] + 1 - 2/K
                (E[p_y] = 1/K by symmetry; E[sum p^2] by a fixed sample of Gaussian logits);
                regression, y_pred ~ N(0, q_out): E[(2 (y_pred - y_n))^2] = 4 (q_out + y_n^2)
    backward    E[(dL_n/da_D)^2] = s_w(out) sum_c E[(dL_n/dlogit_c)^2]
                E[(dL_n/dz_l)^2] = E[(dL_n/da_l)^2] E[phi'(z)^2]
                E[(dL_n/da_{l-1})^2] = width s_w(l) E[(dL_n/dz_l)^2]

so each layer down multiplies the signal by factor_l = sqrt(width s_w(l+1) E[phi'(z_l)^2]): below 1
it vanishes, above 1 it explodes. s_w and s_b are the initialisation's weight and bias variances.
The weight gradient dL/dW_l is this signal times the layer's input, averaged over the batch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

from backprop_core.activations import ACTIVATIONS
from backprop_core.models import bias_variance, weight_variance

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(64)   # even: no node sits on a kink at 0
_NODES_T = torch.tensor(_NODES, dtype=torch.float64)
_WEIGHTS_T = torch.tensor(_WEIGHTS / math.sqrt(2 * math.pi), dtype=torch.float64)


def gaussian_moments(activation: str, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(E[phi(z)^2], E[phi'(z)^2]) for z ~ N(0, q), elementwise over a float64 tensor q.

    Closed forms for piecewise-linear activations (slope 1 above 0, a below: both moments carry
    (1 + a^2) / 2 by symmetry); Gauss-Hermite quadrature otherwise."""
    q = torch.as_tensor(q, dtype=torch.float64).clamp_min(0)
    act = ACTIVATIONS[activation]
    if act.negative_slope is not None:
        a = act.negative_slope
        return q * (1 + a * a) / 2, torch.full_like(q, (1 + a * a) / 2)
    z = q.sqrt()[..., None] * _NODES_T
    h = act.phi_t(z)
    d = act.dphi_t(z, h)
    return (_WEIGHTS_T * h * h).sum(-1), (_WEIGHTS_T * d * d).sum(-1)


def output_error_moment(q_out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """E[(sigmoid(t) - y)^2] for t ~ N(0, 2 q_out): E[sigmoid(t)] = 1/2 by symmetry."""
    t = (2 * q_out).clamp_min(0).sqrt()[..., None] * _NODES_T
    s2 = (_WEIGHTS_T * torch.sigmoid(t) ** 2).sum(-1)
    yf = y.to(torch.float64)
    return s2 - yf + yf * yf


SOFTMAX_SAMPLES = 1024     # Gaussian logit vectors averaged over for K > 2 classes
SOFTMAX_GRID = 17          # ... at this many output variances, interpolated in log q for every point


@cache
def _logit_sample(classes: int) -> torch.Tensor:
    return torch.randn(SOFTMAX_SAMPLES, classes, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def softmax_error_moment(q_out: torch.Tensor, classes: int) -> torch.Tensor:
    """sum_c E[(p_c - onehot(y)_c)^2] for logits ~ N(0, q_out I_K), per point: E[sum_c p_c^2] + 1 - 2/K.

    E[sum_c p_c^2] depends on q alone and smoothly: it is averaged over a fixed sample of Gaussian
    logit vectors at SOFTMAX_GRID variances spanning the points' range, and read off in log q (a
    sample per point would cost 100 ms for 200 points; this costs 1-2 ms, within 1% of it)."""
    z = _logit_sample(classes)
    log_q = q_out.clamp_min(1e-12).log()
    grid = torch.linspace(float(log_q.min()), float(log_q.max()) + 1e-9, SOFTMAX_GRID, dtype=torch.float64)
    p = torch.softmax((grid / 2).exp()[:, None, None] * z, -1)
    sum_p2 = p.square().sum(-1).mean(-1)
    return torch.from_numpy(np.interp(log_q.numpy(), grid.numpy(), sum_p2.numpy())) + 1 - 2 / classes


def squared_error_moment(q_out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """E[(2 (y_pred - y))^2] = 4 (q_out + y^2) for y_pred ~ N(0, q_out)."""
    return 4 * (q_out + y.to(torch.float64) ** 2)


@dataclass(frozen=True)
class SignalPrediction:
    """Per hidden layer l = 1..depth (arrays of length depth)."""
    layer: np.ndarray
    q: np.ndarray            # mean pre-activation variance
    factor: np.ndarray       # how much the signal is multiplied on its way from the layer above
    predicted: np.ndarray    # RMS per-sample signal dL_n/dz


def signal_at_init(X: torch.Tensor, y: torch.Tensor, depth: int, width: int, activation: str, init: str,
                   out_dim: int = 2) -> SignalPrediction:
    """Predicted RMS per-sample backward signal dL/dz at each hidden layer, at initialisation.

    X: (N, in_dim) the batch; y: (N,) classes 0..out_dim-1, or real targets (regression, out_dim 1)."""
    X = X.to(torch.float64)
    in_dim = X.shape[1]
    fans = [in_dim] + [width] * depth
    s_w = [weight_variance(init, activation, fans[layer], width) for layer in range(depth)]
    s_b = [bias_variance(init, fans[layer]) for layer in range(depth)]
    s_out, b_out = weight_variance(init, "linear", width, out_dim), bias_variance(init, width)

    q = s_w[0] * (X * X).sum(1) + s_b[0]                 # per point
    q_mean, slope2 = [], []
    for layer in range(depth):
        h2, d2 = gaussian_moments(activation, q)
        q_mean.append(float(q.mean()))
        slope2.append(d2)
        q = (width * s_w[layer + 1] * h2 + s_b[layer + 1]) if layer + 1 < depth else width * s_out * h2 + b_out
    if y.is_floating_point():                              # E[(dL_n/da_D)^2] per point
        da2 = s_out * squared_error_moment(q, y)
    elif out_dim == 2:
        da2 = s_out * out_dim * output_error_moment(q, y)
    else:
        da2 = s_out * softmax_error_moment(q, out_dim)

    predicted, factor = [0.0] * depth, [0.0] * depth
    for layer in range(depth - 1, -1, -1):
        dz2 = da2 * slope2[layer]
        predicted[layer] = math.sqrt(float(dz2.mean()))
        fan_out, s_next = (width, s_w[layer + 1]) if layer + 1 < depth else (out_dim, s_out)
        factor[layer] = math.sqrt(fan_out * s_next * float(slope2[layer].mean()))
        da2 = width * s_w[layer] * dz2
    return SignalPrediction(np.arange(1, depth + 1), np.array(q_mean), np.array(factor), np.array(predicted))
