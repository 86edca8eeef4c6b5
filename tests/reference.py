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
