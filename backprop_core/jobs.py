"""Every heavy computation the pages ask for, by name, with plain arguments and torch-free results.

The dashboard runs these in worker processes (dashboard/compute.py), so two learners' runs use
both cores and the pages' server process never imports torch. This module imports no torch
itself: each job imports what it needs when it runs. Jobs that take time accept `progress`,
a callback (done, total).
"""
from __future__ import annotations

from collections.abc import Callable

from backprop_core.config import TrainConfig

Progress = Callable[[int, int], None] | None


def warm() -> str:
    """Import the training stack in a worker (its first job would otherwise pay for it)."""
    import torch

    from backprop_core import training  # noqa: F401
    torch.set_num_threads(1)
    return "ready"


def train_and_diagnose(cfg: TrainConfig, progress: Progress = None):
    """(RunResult, Diagnosis) of one training run, with the mean-field prediction of its first
    step's backward signal when the network is a plain MLP."""
    from backprop_core.diagnose import diagnose
    from backprop_core.theory import signal_at_init
    from backprop_core.training import dataset_for, first_batch, train
    data = dataset_for(cfg)
    result = train(cfg, on_epoch=progress, data=data)
    if cfg.norm == "none" and not cfg.residual and len(result.stats):
        X, y = first_batch(cfg, data)
        result.theory = signal_at_init(X, y, cfg.depth, cfg.width, cfg.act, cfg.init, cfg.task.out_dim).predicted
    return result, diagnose(result)


def ledger(x, W1, W2, y, act: str, dtype: str):
    from backprop_core.check import two_layer_ledger
    return two_layer_ledger(list(x), [list(r) for r in W1], [list(r) for r in W2], y, act, dtype)


def model_report(depth: int, width: int, act: str, norm: str, residual: bool, dtype: str, bug: str, bug_layer: int):
    """The deep-mode check on a seeded model and 64 points of the seed's data."""
    from backprop_core.bugs import Bug
    from backprop_core.check import DTYPES
    from backprop_core.check import model_report as report
    from backprop_core.data import make_dataset
    from backprop_core.models import build_mlp
    dt = DTYPES[dtype]
    model = build_mlp(depth, width, act, "default", norm, residual, seed=0, dtype=dt)
    data = make_dataset("linear", 64, 0.0, 11)
    the_bug = Bug(bug, min(bug_layer, depth)) if bug != "none" else None
    return report(model, data.X_train.to(dt), data.y_train, fd_samples=24, seed=0, bug=the_bug)


def depth_sweep(max_depth: int, activations: tuple, inits: tuple, seeds: int, data: str = "linear", classes: int = 2,
                progress: Progress = None):
    from backprop_core.sweep import depth_sweep as sweep
    return sweep(max_depth, activations, inits, seeds, on_progress=progress, data=data, classes=classes)


def network_view(cfg: TrainConfig, epoch: int, snapshots, grid_x, grid_y, probe):
    """The drawing's numbers at one epoch (network.py): unit maps, batch gradient, the probed point."""
    from backprop_core.network import network_view as view
    return view(cfg, snapshots, epoch, grid_x, grid_y, probe)


JOBS = {"warm": warm, "network_view": network_view, "train_and_diagnose": train_and_diagnose, "ledger": ledger,
        "model_report": model_report, "depth_sweep": depth_sweep}
WITH_PROGRESS = {"train_and_diagnose", "depth_sweep"}
