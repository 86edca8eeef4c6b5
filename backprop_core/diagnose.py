"""A verdict for a training run and the evidence in numbers, with the fixes that usually help
(fixes.py).

A verdict answers two questions a learner keeps apart: do gradients reach every layer, and does the
network learn? Checked in this order; the first that holds is the verdict:
    diverged     the loss or a gradient became NaN/inf
    exploding    at initialisation the first hidden layer's mean|g| is > EXPLODE_RATIO (100x) the
                 last hidden layer's, or any layer's gradient norm exceeds EXPLODE_NORM (1e3), or
                 the final training loss is > LOSS_BLOWUP (3x) the initial one
    dead units   the network died: from some epoch to the end, one hidden layer's ReLU units all
                 output 0 for every training point (no residual path around it). That layer cuts
                 the input off: every point gets the same prediction, and no gradient reaches the
                 layers below it (their weight gradients are exactly 0). `died_at` is that epoch.
    vanishing    depth >= 2 and at initialisation the first hidden layer's mean|g| is
                 < VANISH_RATIO (1/100) of the last hidden layer's
    saturated    sigmoid/tanh, >= SATURATED_SHARE (50%) of hidden pre-activations sit in the flat
                 zone (see activations.SATURATION_Z) at the last recorded epoch, and the net has not
                 learned. A confident, well-fitted net also pushes tanh units into the flat zone;
                 that alone is no pathology.
    dead units   ReLU and, at the last recorded epoch, on average >= DEAD_SHARE (50%) of the hidden
                 units output 0 for every training point, or >= DEAD_LAYER_SHARE (90%) of one
                 layer's do (counted over the whole training set, see training.py). Deep ReLU nets
                 on 2-D inputs start with ~25% such units and train fine; the verdict is for when
                 most of the network has gone silent.
    not learned  gradients flow (none of the above), but the final training score is less than
                 GUESS_MARGIN (10 points) above guessing: for classes, accuracy over always guessing the
                 majority class; for regression, R² over always predicting the mean target (R² = 0)
    healthy      gradients flow and the network learns: it learned (training accuracy or R² >=
                 LEARNED_ACC, 0.9), or it learned partly (between the two; the evidence says so)
Whenever a layer has at least DEAD_MENTION (40%) dead units, the evidence says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from backprop_core.activations import ACTIVATIONS, SATURATION_Z
from backprop_core.digits import general, percent, ratio_text, score
from backprop_core.fixes import Fix, fixes_for
from backprop_core.results import METRIC_COLUMNS, STAT_COLUMNS, RunResult

VANISH_RATIO, EXPLODE_RATIO, EXPLODE_NORM, LOSS_BLOWUP = 1e-2, 1e2, 1e3, 3.0
SATURATED_SHARE, DEAD_SHARE, DEAD_LAYER_SHARE, LEARNED_ACC = 0.5, 0.5, 0.9, 0.9
DEAD_MENTION = 0.4
GUESS_MARGIN = 0.1
MAX_GROUPS = 4                   # runs of layers listed in an evidence line


@dataclass
class Diagnosis:
    verdict: str
    evidence: list[str]
    fixes: list[Fix] = field(default_factory=list)
    ratio: float = math.nan          # first/last hidden-layer mean|g| at initialisation
    died_at: int | None = None       # the epoch from which a dead layer cut the input off
    learning: str = "not learned"    # "learned" (>= LEARNED_ACC), "partly learned" or "not learned"

    @property
    def learned(self) -> bool:
        return self.learning == "learned"

    def titled(self, prefix: str) -> str:
        """'<prefix>: <verdict>. <evidence>' (the /vanishing page says 'Verdict with relu: ...')."""
        return f"{prefix}: {self.verdict}. " + " ".join(self.evidence)


def gradient_ratio(run: RunResult, epoch: int = 0) -> float:
    """mean|dL/dW| of hidden layer 1 over that of the last hidden layer at `epoch`."""
    if run.depth < 2 or len(run.stats) <= epoch:
        return math.nan
    g = run.column("grad_mean_abs")[epoch, :run.depth]
    return float(g[0] / g[-1]) if g[-1] > 0 else math.nan


def died_at(run: RunResult) -> int | None:
    """The first recorded epoch from which, to the end, some hidden layer's units all output 0 for
    every training point (ReLU, no residual path): None if that never holds at the end."""
    if not ACTIVATIONS[run.config.act].can_die or run.config.residual or not len(run.stats):
        return None
    cut = (run.column("dead")[:, :run.depth] >= 1.0).any(1)
    if not cut[-1]:
        return None
    alive = np.nonzero(~cut)[0]
    return int(alive[-1] + 1) if len(alive) else 0


def layer_ranges(shares: np.ndarray) -> str:
    """Per-layer shares as runs of neighbouring layers, largest first (at most MAX_GROUPS runs):
    'layers 8-10: 100%; layers 5-7: 60-90%; layers 1-4: 0-40%'."""
    groups: list[tuple[str, list[int]]] = []
    for i, v in enumerate(shares):
        kind = "all" if v >= 1.0 else ("most" if v >= DEAD_SHARE else "few")
        if groups and groups[-1][0] == kind:
            groups[-1][1].append(i)
        else:
            groups.append((kind, [i]))
    parts = []
    for _, idx in sorted(groups, key=lambda g: -float(shares[g[1]].max()))[:MAX_GROUPS]:
        layers = f"layer {idx[0] + 1}" if len(idx) == 1 else f"layers {idx[0] + 1}-{idx[-1] + 1}"
        lo, hi = round(100 * float(shares[idx].min())), round(100 * float(shares[idx].max()))
        parts.append(f"{layers}: {lo}%" if lo == hi else f"{layers}: {lo}-{hi}%")
    return "; ".join(parts) + ("; …" if len(groups) > MAX_GROUPS else "")


def _max(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else math.nan


def majority_share(run: RunResult) -> float:
    """Training score of guessing: the accuracy of always guessing the most common class, or for
    regression the R² of always predicting the mean target, 0."""
    y = np.asarray(run.y_train)
    if run.config.task.regression:
        return 0.0
    return float(np.bincount(y).max() / len(y)) if len(y) else math.nan


def guess_text(run: RunResult) -> str:
    if run.config.task.regression:
        return "always predicting the mean target gives R² = 0"
    return f"always guessing the majority class gives {percent(majority_share(run))}"


def score_text(run: RunResult, value: float) -> str:
    """'accuracy 97.5%' or 'R² 0.9531'."""
    return f"{run.config.task.score_name} {score(value, run.config.task.regression)}"


def diagnose(run: RunResult) -> Diagnosis:
    cfg, D = run.config, run.depth
    ratio = gradient_ratio(run)
    has_stats = len(run.stats) > 0
    last = run.stats[-1, :D] if has_stats else None              # hidden layers at the last recorded epoch
    rows = run.finite_metrics()
    loss, acc = rows[:, METRIC_COLUMNS.index("train_loss")], rows[:, METRIC_COLUMNS.index("train_score")]
    final_acc = float(acc[-1]) if run.diverged_at is None and len(acc) else math.nan
    learning = ("learned" if final_acc >= LEARNED_ACC else
                "partly learned" if final_acc >= majority_share(run) + GUESS_MARGIN else "not learned")
    learned = learning == "learned"
    evidence: list[str] = []
    died = died_at(run)

    def verdict_of(v: str) -> Diagnosis:
        return Diagnosis(v, evidence, fixes_for(cfg, v), ratio, died, learning)

    def col(name: str) -> np.ndarray:
        return last[:, STAT_COLUMNS.index(name)]

    if run.diverged_at is not None:
        evidence.append(f"Training diverged at epoch {run.diverged_at}: the loss or the gradients "
                        f"became infinite or NaN, so everything after that epoch is missing.")
        if has_stats:
            evidence.append(f"The largest gradient norm before that was {ratio_text(_max(run.column('grad_norm')))}.")
        return verdict_of("diverged")

    max_norm = _max(run.column("grad_norm")) if has_stats else 0.0
    blowup = len(loss) >= 2 and loss[-1] > LOSS_BLOWUP * loss[0]
    if (ratio > EXPLODE_RATIO) or max_norm > EXPLODE_NORM or blowup:
        if ratio > EXPLODE_RATIO:
            evidence.append(f"Layer 1 receives {ratio_text(ratio)}x the gradient of layer {D} at "
                            f"initialisation: it grows on the way down.")
        if max_norm > EXPLODE_NORM:
            evidence.append(f"A gradient norm reached {ratio_text(max_norm)} (threshold {ratio_text(EXPLODE_NORM)}).")
        if blowup:
            evidence.append(f"The training loss rose from {general(loss[0])} to {general(loss[-1])}.")
        return verdict_of("exploding")

    dead = col("dead") if ACTIVATIONS[cfg.act].can_die and has_stats else None
    if died is not None:
        first = int(np.argmax(run.column("dead")[died, :D] >= 1.0))
        evidence.append(f"The network died at epoch {died}: from then on every unit of layer {first + 1} outputs 0 "
                        f"for every training point. That layer cuts the input off, so every point gets the same "
                        f"prediction, and the weight gradients of layers 1-{first + 1} are exactly 0: they can "
                        f"never learn again.")
        evidence.append(f"Dead units at the last epoch: {layer_ranges(dead)}.")
        if len(acc):
            evidence.append(f"Final training {score_text(run, acc[-1])} ({guess_text(run)}).")
        return verdict_of("dead units")

    if ratio < VANISH_RATIO:
        evidence.append(f"Layer 1 receives {ratio_text(ratio)} of the gradient of layer {D} at "
                        f"initialisation (threshold {ratio_text(VANISH_RATIO)}): the early layers barely learn.")
        sat = float(col("saturated").mean()) if cfg.act in SATURATION_Z and has_stats else 0.0
        if sat > 0:
            evidence.append(f"{percent(sat, 0)} of {cfg.act} pre-activations are saturated "
                            f"(|u| > {SATURATION_Z[cfg.act]:g}).")
        _mention_dead(evidence, dead)
        return verdict_of("vanishing")

    if cfg.act in SATURATION_Z and has_stats:
        sat = float(col("saturated").mean())
        if sat >= SATURATED_SHARE and not learned:
            evidence.append(f"{percent(sat, 0)} of {cfg.act} pre-activations are saturated "
                            f"(|u| > {SATURATION_Z[cfg.act]:g}, slope near 0) at the last epoch.")
            return verdict_of("saturated")

    if dead is not None:
        worst = int(np.argmax(dead))
        if dead.mean() >= DEAD_SHARE or dead[worst] >= DEAD_LAYER_SHARE:
            evidence.append(f"{percent(dead.mean(), 0)} of the hidden units output 0 for every "
                            f"training point ({layer_ranges(dead)}); dead units pass no gradient, so they "
                            f"never recover.")
            return verdict_of("dead units")

    if not math.isnan(ratio):
        evidence.append(f"Gradients flow: layer 1 receives {ratio_text(ratio)}x the gradient of layer {D} at "
                        f"initialisation (healthy band {ratio_text(VANISH_RATIO)}..{ratio_text(EXPLODE_RATIO)}).")
    else:
        evidence.append("Gradients flow: with one hidden layer there is no depth for them to vanish over.")
    _mention_dead(evidence, dead)
    guess = guess_text(run)
    learned_at = f"R² {LEARNED_ACC:g}" if cfg.task.regression else f"{LEARNED_ACC:.0%}"
    if learning == "learned":
        evidence.append(f"The network learned: final training loss {general(loss[-1])}, {score_text(run, acc[-1])}.")
    elif learning == "partly learned":
        evidence.append(f"The network learns, partly: final training {score_text(run, acc[-1])}, below the "
                        f"{learned_at} this page calls learned ({guess}); final loss {general(loss[-1])}.")
    else:
        evidence.append(f"But the network has not learned the data: final training {score_text(run, acc[-1])}, "
                        f"no better than guessing ({guess}); final loss {general(loss[-1])}.")
    return verdict_of("not learned" if learning == "not learned" else "healthy")


def _mention_dead(evidence: list[str], dead: np.ndarray | None) -> None:
    """Say so when many units are dead, even where they are not the verdict."""
    if dead is not None and dead.max() >= DEAD_MENTION:
        evidence.append(f"Many units are dead (output 0 for every training point), by hidden layer: "
                        f"{layer_ranges(dead)}.")
