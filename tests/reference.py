"""Independent reference computations the tests compare against (plain autograd, no project code
beyond the dataset and the model builder)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from backprop_core.config import TrainConfig
from backprop_core.data import make_dataset
from backprop_core.models import build_mlp


def autograd_first_step(cfg: TrainConfig):
    """The untrained model of `cfg` on its training set, one autograd backward pass:
    (model, data, loss, zs), zs being each hidden layer's pre-activation (N, width) with .grad set."""
    data = make_dataset(cfg.data, cfg.n, cfg.noise, cfg.dseed)
    model = build_mlp(cfg.depth, cfg.width, cfg.act, seed=cfg.seed)
    zs: list[torch.Tensor] = []
    for block in model.hidden:
        block.linear.register_forward_hook(lambda m, i, z: (z.retain_grad(), zs.append(z))[1])
    loss = F.cross_entropy(model(data.X_train), data.y_train)
    loss.backward()
    return model, data, loss, zs


def plain_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over integer classes; mean squared error against real targets (in out's dtype)."""
    if y.is_floating_point():
        return ((out[:, 0] - y.to(out.dtype)) ** 2).mean()
    return F.cross_entropy(out, y)


def plain_score(out: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy over integer classes; R² = 1 - SSE/SST against real targets, in numpy float64."""
    o, t = out.detach().double().numpy(), y.double().numpy()
    if y.is_floating_point():
        return float(1 - ((o[:, 0] - t) ** 2).sum() / ((t - t.mean()) ** 2).sum())
    return float((o.argmax(1) == t).mean())


def autograd_training(cfg: TrainConfig):
    """The run of a full-batch `cfg`, by plain autograd and torch.optim in float64 (weights drawn as the
    project draws them): (model, data, dead), dead[e, l] being the share of hidden layer l's units
    whose input is <= 0 for every training point at the first step of epoch e."""
    assert cfg.batch <= 0 or cfg.batch >= cfg.n, "full batch only"
    data = make_dataset(cfg.data, cfg.n, cfg.noise, cfg.dseed, classes=cfg.classes)
    X = data.X_train.double()
    model = build_mlp(cfg.depth, cfg.width, cfg.act, cfg.init, cfg.norm, cfg.residual, cfg.seed,
                      out_dim=cfg.task.out_dim, dtype=torch.float64)
    opt = (torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.wd) if cfg.opt == "adam" else
           torch.optim.SGD(model.parameters(), lr=cfg.lr, weight_decay=cfg.wd,
                           momentum=0.9 if cfg.opt == "momentum" else 0.0))
    zs: list[torch.Tensor] = []
    for block in model.hidden:
        (block.norm or block.linear).register_forward_hook(lambda m, i, z: zs.append(z.detach()))
    dead = []
    for _ in range(cfg.epochs):
        zs.clear()
        loss = plain_loss(model(X), data.y_train)
        dead.append([(z <= 0).all(0).double().mean().item() for z in zs])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, data, torch.tensor(dead, dtype=torch.float64)
