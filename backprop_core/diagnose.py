"""A verdict for a training run, the evidence in numbers, and ranked fixes as config changes.

Thresholds (checked in this order; the first that holds is the verdict):
    diverged    the loss or a gradient became NaN/inf
    exploding   at initialisation the first hidden layer's mean|g| is > EXPLODE_RATIO (100x)
                the last hidden layer's, or any layer's gradient norm exceeds EXPLODE_NORM (1e3),
                or the final training loss is > LOSS_BLOWUP (3x) the initial one
    vanishing   depth >= 2 and at initialisation the first hidden layer's mean|g| is
                < VANISH_RATIO (1/100) of the last hidden layer's
    saturated   sigmoid/tanh, >= SATURATED_SHARE (50%) of hidden pre-activations sit in the
                flat zone (see activations.SATURATION_Z) at the last recorded epoch, and the net has
                not learned (final training accuracy < LEARNED_ACC, 90%). A confident, well-fitted
                net also pushes tanh units into the flat zone; that alone is no pathology.
    dead units  ReLU and, at the last recorded epoch, on average >= DEAD_SHARE (50%) of the
                hidden units output 0 for every training point, or >= DEAD_LAYER_SHARE (90%) of one
                layer's do, counted over the whole training set (see training.py). Deep ReLU nets
                on 2-D inputs start with ~25% such units and train fine; the verdict is for when
                most of the network has gone silent.
    healthy     none of the above
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from backprop_core.activations import SATURATION_Z
from backprop_core.config import FIX_LABELS, TrainConfig, apply_fix
from backprop_core.results import METRIC_COLUMNS, STAT_COLUMNS, RunResult

VANISH_RATIO, EXPLODE_RATIO, EXPLODE_NORM, LOSS_BLOWUP = 1e-2, 1e2, 1e3, 3.0
SATURATED_SHARE, DEAD_SHARE, DEAD_LAYER_SHARE, LEARNED_ACC = 0.5, 0.5, 0.9, 0.9


@dataclass(frozen=True)
class Fix:
    key: str               # one of config.FIXES (also the /vanishing `fix` URL value)
    label: str
    why: str
    config: TrainConfig    # the run's config with this fix applied


@dataclass
class Diagnosis:
    verdict: str
    evidence: list[str]
    fixes: list[Fix] = field(default_factory=list)
    ratio: float = math.nan          # first/last hidden-layer mean|g| at initialisation

    @property
    def headline(self) -> str:
        return self.titled("Verdict")

    def titled(self, prefix: str) -> str:
        """'<prefix>: <verdict>. <evidence>' (the /vanishing page says 'Verdict with relu: ...')."""
        return f"{prefix}: {self.verdict}. " + " ".join(self.evidence)


def _sci(v: float) -> str:
    return f"{v:.1e}" if (v != 0 and (abs(v) < 1e-2 or abs(v) >= 1e3)) else f"{v:.3g}"


def gradient_ratio(run: RunResult, epoch: int = 0) -> float:
    """mean|dL/dW| of hidden layer 1 over that of the last hidden layer at `epoch`."""
    if run.depth < 2 or len(run.stats) <= epoch:
        return math.nan
    g = run.column("grad_mean_abs")[epoch, :run.depth]
    return float(g[0] / g[-1]) if g[-1] > 0 else math.nan


FIX_ORDER = {
    "vanishing": ["relu", "he", "batchnorm", "residual", "layernorm", "xavier"],
    "saturated": ["relu", "batchnorm", "xavier", "lower_lr"],
    "exploding": ["lower_lr", "clip", "xavier", "batchnorm"],
    "diverged": ["lower_lr", "clip", "xavier", "batchnorm"],
    "dead units": ["lower_lr", "he", "batchnorm"],
    "healthy": [],
}

WHY = {
    "relu": "ReLU's slope is 1 for active units, so the signal is not shrunk at every layer.",
    "he": "He init sets weight variance to 2/fan_in, which keeps ReLU signals at a constant scale.",
    "xavier": "Xavier init balances forward and backward variance for the activation's gain.",
    "batchnorm": "BatchNorm re-centres each layer's inputs, keeping units out of flat zones.",
    "layernorm": "LayerNorm rescales each sample's activations, keeping units out of flat zones.",
    "residual": "Skip connections give the gradient a path that bypasses every activation.",
    "lower_lr": "Smaller steps keep weights, and therefore gradients, from blowing up.",
    "clip": "Clipping caps the gradient norm so a single step cannot throw the weights away.",
}


def _fixes(cfg: TrainConfig, verdict: str) -> list[Fix]:
    out = []
    for key in FIX_ORDER[verdict]:
        fixed = apply_fix(cfg, key)
        if fixed != cfg:
            out.append(Fix(key, FIX_LABELS[key], WHY[key], fixed))
    return out


def _max(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else math.nan


def diagnose(run: RunResult) -> Diagnosis:
    cfg, D = run.config, run.depth
    ratio = gradient_ratio(run)
    has_stats = len(run.stats) > 0
    last = run.stats[-1, :D] if has_stats else None              # hidden layers at the last recorded epoch
    rows = run.finite_metrics()
    loss, acc = rows[:, METRIC_COLUMNS.index("train_loss")], rows[:, METRIC_COLUMNS.index("train_acc")]
    evidence: list[str] = []

    def verdict_of(v: str) -> Diagnosis:
        return Diagnosis(v, evidence, _fixes(cfg, v), ratio)

    def col(name: str) -> np.ndarray:
        return last[:, STAT_COLUMNS.index(name)]

    if run.diverged_at is not None:
        evidence.append(f"Training diverged at epoch {run.diverged_at}: the loss or the gradients "
                        f"became infinite or NaN, so everything after that epoch is missing.")
        if has_stats:
            evidence.append(f"The largest gradient norm before that was {_sci(_max(run.column('grad_norm')))}.")
        return verdict_of("diverged")

    max_norm = _max(run.column("grad_norm")) if has_stats else 0.0
    blowup = len(loss) >= 2 and loss[-1] > LOSS_BLOWUP * loss[0]
    if (ratio > EXPLODE_RATIO) or max_norm > EXPLODE_NORM or blowup:
        if ratio > EXPLODE_RATIO:
            evidence.append(f"Layer 1 receives {_sci(ratio)}x the gradient of layer {D} at "
                            f"initialisation: it grows on the way down.")
        if max_norm > EXPLODE_NORM:
            evidence.append(f"A gradient norm reached {_sci(max_norm)} (threshold {_sci(EXPLODE_NORM)}).")
        if blowup:
            evidence.append(f"The training loss rose from {loss[0]:.3g} to {loss[-1]:.3g}.")
        return verdict_of("exploding")

    if ratio < VANISH_RATIO:
        evidence.append(f"Layer 1 receives {_sci(ratio)} of the gradient of layer {D} at "
                        f"initialisation (threshold {_sci(VANISH_RATIO)}): the early layers barely learn.")
        sat = float(col("saturated").mean()) if cfg.act in SATURATION_Z and has_stats else 0.0
        if sat > 0:
            evidence.append(f"{sat:.0%} of {cfg.act} pre-activations are saturated "
                            f"(|u| > {SATURATION_Z[cfg.act]:g}).")
        return verdict_of("vanishing")

    learned = len(acc) > 0 and float(acc[-1]) >= LEARNED_ACC
    if cfg.act in SATURATION_Z and has_stats:
        sat = float(col("saturated").mean())
        if sat >= SATURATED_SHARE and not learned:
            evidence.append(f"{sat:.0%} of {cfg.act} pre-activations are saturated "
                            f"(|u| > {SATURATION_Z[cfg.act]:g}, slope near 0) at the last epoch.")
            return verdict_of("saturated")

    if cfg.act == "relu" and has_stats:
        dead = col("dead")
        worst = int(np.argmax(dead))
        if dead.mean() >= DEAD_SHARE or dead[worst] >= DEAD_LAYER_SHARE:
            evidence.append(f"{dead.mean():.0%} of the hidden units output 0 for every "
                            f"training point (layer {worst + 1}: {dead[worst]:.0%}); dead units "
                            f"pass no gradient, so they never recover.")
            return verdict_of("dead units")

    if not math.isnan(ratio):
        evidence.append(f"Layer 1 receives {_sci(ratio)}x the gradient of layer {D} at "
                        f"initialisation (healthy band {_sci(VANISH_RATIO)}..{_sci(EXPLODE_RATIO)}).")
    else:
        evidence.append("With one hidden layer there is no depth for gradients to vanish over.")
    if len(loss):
        evidence.append(f"Final training loss {loss[-1]:.3g}, accuracy {acc[-1]:.0%}.")
    return verdict_of("healthy")
