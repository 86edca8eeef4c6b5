"""The output layer's loss and the error it sends back, side by side (as an activation's phi and phi'):

    cross_entropy   K logits z, p = softmax(z):  L = -mean_n log p[n, y_n]
                    dL/dz = (p - onehot(y)) / N              (N points; each row sums to 0)
    squared_error   one output y_pred:           L = mean_n (y_pred_n - y_n)^2
                    dL/dy_pred = 2 (y_pred - y) / N

`loss_and_error(logits, y)` picks by the labels: integer classes or real targets. The batched forms
(leading dim S: snapshots or steps) give the recorder and the test metrics their loss, score and
output error in one call. A score is accuracy for classes and R^2 = 1 - SSE/SST for regression.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, dL/dlogits): logits (N, K), y (N,) int64 in 0..K-1."""
    n = logits.shape[0]
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    target = y[:, None]
    loss = -log_p.gather(1, target).mean()
    dlogits = log_p.exp()
    dlogits.scatter_add_(1, target, dlogits.new_full((n, 1), -1.0))      # softmax - onehot
    dlogits /= n
    return loss, dlogits


def squared_error(y_pred: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, dL/dy_pred): y_pred (N, 1), y (N,) real targets."""
    err = y_pred[:, 0] - y
    loss = err.square().mean()
    return loss, (err * (2.0 / y_pred.shape[0]))[:, None]


def loss_and_error(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The loss of the task the labels name, and dL/dlogits."""
    return squared_error(logits, y) if y.is_floating_point() else cross_entropy(logits, y)


def loss_and_score(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean loss and score (accuracy, or R² for regression) of one model's logits (N, K or 1), by
    PyTorch's own cross-entropy: how the final metrics and a learner's script compute them."""
    if y.is_floating_point():
        err = logits[:, 0] - y
        return err.square().mean(), 1 - err.square().sum() / (y - y.mean()).square().sum()
    return F.cross_entropy(logits, y), (logits.argmax(1) == y).to(logits.dtype).mean()


# ---------------------------------------------------------------- S snapshots or steps at once
def batch_loss_score(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, score), each (S,): logits (S, N, K or 1), y (N,) or (S, N)."""
    if y.is_floating_point():
        err = logits[..., 0] - y
        sse = err.square().sum(-1)
        sst = (y - y.mean(-1, keepdim=True)).square().sum(-1)
        return sse / logits.shape[1], 1 - sse / sst
    log_p = logits - torch.logsumexp(logits, dim=2, keepdim=True)
    loss = -log_p.gather(2, y.expand(logits.shape[0], -1)[..., None]).squeeze(2).mean(1)
    acc = (logits.argmax(2) == y).to(logits.dtype).mean(1)
    return loss, acc


def batch_output_error(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """dL/dlogits of S steps (S, N, K or 1) from their logits and labels (S, N), as loss_and_error makes it."""
    if y.is_floating_point():
        return (logits[..., 0] - y)[..., None] * (2.0 / logits.shape[1])
    log_p = logits - torch.logsumexp(logits, dim=2, keepdim=True)
    d = log_p.exp()
    d.scatter_add_(2, y[..., None], torch.full_like(y[..., None], -1, dtype=d.dtype))
    return d / logits.shape[1]


def surface_values(logits: torch.Tensor, regression: bool) -> torch.Tensor:
    """What a decision surface shows at each grid point: P(class 1) for two classes, every class's
    probability (..., K) for more, the predicted value for regression. logits (..., K or 1)."""
    if regression:
        return logits[..., 0]
    p = torch.softmax(logits, -1)
    return p[..., 1] if logits.shape[-1] == 2 else p
