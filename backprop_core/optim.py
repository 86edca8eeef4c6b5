"""The optimiser's update, written out for one flat parameter tensor.

The same arithmetic, in the same order, as torch.optim.Adam and torch.optim.SGD (their
single-tensor code paths), so every number matches them bit for bit (tests/test_optim.py), without
their per-step bookkeeping. `step(grad)` updates the parameter in place.
"""
from __future__ import annotations

import torch


class Adam:
    """m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p - lr m_hat / (sqrt(v_hat) + eps),
    with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t). Weight decay adds wd * p to g (L2)."""

    def __init__(self, param: torch.Tensor, lr: float, weight_decay: float = 0.0,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.param, self.lr, self.weight_decay, self.eps = param, lr, weight_decay, eps
        self.beta1, self.beta2 = betas
        self.exp_avg = torch.zeros_like(param)
        self.exp_avg_sq = torch.zeros_like(param)
        self.t = 0

    @torch.no_grad()
    def step(self, grad: torch.Tensor) -> None:
        self.t += 1
        if self.weight_decay != 0:
            grad = grad.add(self.param, alpha=self.weight_decay)
        self.exp_avg.lerp_(grad, 1 - self.beta1)
        self.exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        step = float(self.t)
        bias_correction1 = 1 - self.beta1 ** step
        bias_correction2 = 1 - self.beta2 ** step
        step_size = self.lr / bias_correction1
        denom = (self.exp_avg_sq.sqrt() / bias_correction2 ** 0.5).add_(self.eps)
        self.param.addcdiv_(self.exp_avg, denom, value=-step_size)


class SGD:
    """buf <- momentum buf + g (the first step: buf = g);  p <- p - lr buf. Weight decay adds wd * p."""

    def __init__(self, param: torch.Tensor, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        self.param, self.lr, self.momentum, self.weight_decay = param, lr, momentum, weight_decay
        self.buf: torch.Tensor | None = None

    @torch.no_grad()
    def step(self, grad: torch.Tensor) -> None:
        if self.weight_decay != 0:
            grad = grad.add(self.param, alpha=self.weight_decay)
        if self.momentum != 0:
            if self.buf is None:
                self.buf = grad.detach().clone()
            else:
                self.buf.mul_(self.momentum).add_(grad, alpha=1)
            grad = self.buf
        self.param.add_(grad, alpha=-self.lr)


def make(name: str, param: torch.Tensor, lr: float, weight_decay: float = 0.0):
    """The optimiser a config names: "adam", "sgd", or "momentum" (SGD with momentum 0.9)."""
    if name == "adam":
        return Adam(param, lr, weight_decay)
    return SGD(param, lr, momentum=0.9 if name == "momentum" else 0.0, weight_decay=weight_decay)
