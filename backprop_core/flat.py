"""A model's parameters as one flat tensor, so the optimiser updates a single tensor and a snapshot
of the whole model is one copy (two with BatchNorm's running statistics)."""
from __future__ import annotations

import torch

from backprop_core.models import MLP


class FlatParams:
    """Every parameter of `model` as a view into one flat tensor `param`: weight matrices first
    (hidden layers, then the output), then biases and norm parameters. BatchNorm running statistics
    get the same treatment in a second flat tensor `running` (None without BatchNorm)."""

    def __init__(self, model: MLP):
        named = dict(model.named_parameters())
        D = len(model.hidden)
        self.weight_names = [f"hidden.{i}.linear.weight" for i in range(D)] + ["out.weight"]
        self.names = self.weight_names + [n for n in named if n not in self.weight_names]
        self.model_order = list(named)
        self.param = torch.cat([named[n].detach().reshape(-1) for n in self.names])
        self.slices, offset = {}, 0
        for n in self.names:
            size = named[n].numel()
            self.slices[n] = slice(offset, offset + size)
            named[n].data = self.param.data[offset:offset + size].view_as(named[n])
            offset += size
        self.n_weights = sum(named[n].numel() for n in self.weight_names)
        self.weight_slices = [self.slices[n] for n in self.weight_names]
        self.weight_groups = self._groups_of_equal_shape(named)
        self.shapes = {n: tuple(named[n].shape) for n in self.names}
        self.running, self.running_slices = self._flatten_running(model)

    def _groups_of_equal_shape(self, named) -> list[tuple[int, int, slice]]:
        """Runs of consecutive weight matrices of one shape: (first layer, count, flat slice)."""
        groups: list[tuple[int, int, slice]] = []
        for layer, n in enumerate(self.weight_names):
            last = groups[-1] if groups else None
            if last and named[self.weight_names[last[0]]].shape == named[n].shape:
                groups[-1] = (last[0], last[1] + 1, slice(last[2].start, self.slices[n].stop))
            else:
                groups.append((layer, 1, self.slices[n]))
        return groups

    @staticmethod
    def _flatten_running(model: MLP) -> tuple[torch.Tensor | None, dict[str, slice]]:
        buffers = [(f"hidden.{i}.norm", b.norm) for i, b in enumerate(model.hidden)
                   if isinstance(b.norm, torch.nn.BatchNorm1d)]
        if not buffers:
            return None, {}
        running = torch.cat([t for _, bn in buffers for t in (bn.running_mean, bn.running_var)])
        slices, offset = {}, 0
        for prefix, bn in buffers:
            w = bn.running_mean.numel()
            bn.running_mean, bn.running_var = running[offset:offset + w], running[offset + w:offset + 2 * w]
            slices[f"{prefix}.running_mean"] = slice(offset, offset + w)
            slices[f"{prefix}.running_var"] = slice(offset + w, offset + 2 * w)
            offset += 2 * w
        return running, slices

    def gather(self, grads: dict[str, torch.Tensor], out: torch.Tensor) -> torch.Tensor:
        """The gradients in flat order, written into `out`."""
        return torch.cat([grads[n].reshape(-1) for n in self.names], out=out)

    def snapshots(self, P: torch.Tensor, R: torch.Tensor | None):
        """A getter name -> (K, *shape) view of each parameter and running buffer in K flat snapshots
        (rows of P and R), for manual.predict."""
        def get(name: str) -> torch.Tensor:
            if name in self.running_slices:
                return R[:, self.running_slices[name]]
            return P[:, self.slices[name]].view(P.shape[0], *self.shapes[name])
        return get
