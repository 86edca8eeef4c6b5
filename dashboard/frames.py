"""Tidy frames for the charts, built from runs. Pages call these; charts.py draws them."""
from __future__ import annotations

import pandas as pd

from backprop_core.theory import signal_at_init
from backprop_core.training import RunResult, first_batch


def hidden_layers(run: RunResult, name: str) -> pd.DataFrame:
    """layer_stats of the hidden layers only, tagged with the run's name."""
    ls = run.layer_stats
    return ls[ls.layer <= run.depth].assign(run=name)


def has_theory(run: RunResult) -> bool:
    """The mean-field prediction covers plain MLPs only."""
    return run.config.norm == "none" and not run.config.residual


def theory_at_init(run: RunResult) -> pd.DataFrame:
    """The predicted per-sample signal per hidden layer for the run's first batch."""
    c = run.config
    X, y = first_batch(c, run.data)
    return signal_at_init(X, y, c.depth, c.width, c.act, c.init)


def signal_at_init_frames(runs: dict[str, RunResult]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(measured, predicted): the RMS per-sample signal dL/dz per hidden layer at initialisation
    for each named run (run, layer, signal_rms), and the theory (run, layer, predicted) for the runs
    it covers."""
    measured, predicted = [], []
    for name, run in runs.items():
        e0 = hidden_layers(run, name)
        measured.append(e0[e0.epoch == 0][["run", "layer", "signal_rms"]])
        if has_theory(run) and len(e0):
            t = theory_at_init(run)
            predicted.append(pd.DataFrame({"run": name, "layer": t.layer, "predicted": t.predicted}))
    empty = pd.DataFrame({"run": [], "layer": [], "predicted": []})
    return pd.concat(measured), pd.concat(predicted) if predicted else empty


def mean_hidden_gradient(runs: dict[str, RunResult]) -> pd.DataFrame:
    """run, epoch, grad_mean_abs averaged over the hidden layers: the seed's Demo 4 chart."""
    both = pd.concat([hidden_layers(r, name) for name, r in runs.items()])
    return both.groupby(["run", "epoch"], as_index=False)["grad_mean_abs"].mean()


def losses(runs: dict[str, RunResult]) -> pd.DataFrame:
    """run, epoch, train_loss."""
    return pd.concat([r.epoch_stats.assign(run=name) for name, r in runs.items()])[["run", "epoch", "train_loss"]]


def unit_health(runs: dict[str, RunResult]) -> pd.DataFrame:
    """run, layer, measure, share: saturated and dead units at each run's last recorded epoch."""
    both = pd.concat([hidden_layers(r, name) for name, r in runs.items()])
    last = both[both.epoch == both.groupby("run").epoch.transform("max")]
    health = last.melt(["run", "layer"], ["saturated", "dead"], "measure", "share")
    health["measure"] = health["measure"].map({
        "saturated": "saturated: |u| in a flat zone (sigmoid/tanh)",
        "dead": "dead: ReLU output 0 for every training point"})
    return health
