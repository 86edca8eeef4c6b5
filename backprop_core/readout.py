"""What a page prints about a training run, as text, and the check that those digits do not depend
on rounding.

Because the text is what a learner reads, two runs can be compared by it: `rounding_check` sets a
run's readout beside the readout of the same run trained in float32 (its rounding twin). A line
whose text differs depends on rounding rather than on the network. So does a line whose numbers
read the same but sit closer to the point where their last digit shown would change than SAFETY
times the twin's difference: rounding of another kind (another CPU's) could tip them over.
Numbers are formatted by digits.py, which can print each readout a second time with more digits.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

from backprop_core.diagnose import diagnose
from backprop_core.digits import DASH, more_digits, number, score
from backprop_core.results import RunResult, final_metrics

EXTRA_DIGITS = 4          # the precise readout's extra digits per number
SAFETY = 10.0             # how many times the twin's difference a number must stay clear of a rounding boundary
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?", re.IGNORECASE)


STATUS_HELP = ("learned: at least 90% training accuracy at the end (R² 0.9 for regression); partly learned: at "
               "least 10 points better than always guessing the majority class (R² 0.1 better than predicting the "
               "mean); died at epoch N: from epoch N a layer's "
               "units all output 0 for every point, so the network can no longer learn; diverged at epoch N: the "
               "loss or a gradient became infinite or NaN.")


def status(run: RunResult, diagnosis) -> str:
    """What became of the run, in a few words: diverged, died, learned or not."""
    if run.diverged_at is not None:
        return f"diverged at epoch {run.diverged_at}"
    if diagnosis.died_at is not None:
        return f"died at epoch {diagnosis.died_at}"
    return diagnosis.learning


def run_readout(run: RunResult, diagnosis) -> dict[str, str]:
    """Every line the pages print about a run, by label: status, final metrics, verdict."""
    final, task = final_metrics(run), run.config.task
    train_label, test_label = metric_labels(task)
    lines = {"Status": status(run, diagnosis), "Train loss": number(final["train_loss"]),
             train_label: score(final["train_score"], task.regression),
             test_label: score(final["test_score"], task.regression),
             "Verdict": diagnosis.titled("Verdict")}
    if run.train_mode is not None:                # BatchNorm: the same network with batch statistics
        lines |= {"Train loss with batch statistics": number(run.train_mode["train_loss"]),
                  f"{train_label} with batch statistics": score(run.train_mode["train_score"], task.regression)}
    if run.config.wd > 0:
        lines["L2 penalty"] = number(final["l2_penalty"])
        lines["Train loss + L2 penalty"] = number(final["train_loss"] + final["l2_penalty"])
    return lines


def metric_labels(task) -> tuple[str, str]:
    """The readout's labels of the training and test score: 'Train accuracy', 'Test R²', ..."""
    return f"Train {task.score_name}", f"Test {task.score_name}"


def modes_differ(run: RunResult) -> bool:
    """A BatchNorm run whose eval-mode and train-mode training metrics differ much: accuracy by a
    point or more, or loss by a factor of 1.5 or more."""
    if run.train_mode is None:
        return False
    final = final_metrics(run)
    a, b = final["train_loss"], run.train_mode["train_loss"]
    return (abs(final["train_score"] - run.train_mode["train_score"]) >= 0.01
            or not (math.isfinite(a) and math.isfinite(b)) or max(a, b) >= 1.5 * min(a, b))


@dataclass(frozen=True)
class Readout:
    """A run's readout as the page shows it, and the same lines with EXTRA_DIGITS more digits in each number."""
    shown: dict[str, str]
    precise: dict[str, str]


def readout_of(run: RunResult, diagnosis=None) -> Readout:
    """The run's Readout (`diagnosis` is the run's own, when already made)."""
    shown = run_readout(run, diagnosis if diagnosis is not None else diagnose(run))
    with more_digits(EXTRA_DIGITS):
        precise = run_readout(run, diagnose(run))
    return Readout(shown, precise)


@dataclass(frozen=True)
class Moved:
    """A line that depends on rounding: what this run and its twin print, or (close) their precise
    texts when the shown ones agree but sit too close to a rounding boundary."""
    ours: str
    twin: str
    close: bool = False


def rounding_check(ours: Readout, twin: Readout) -> dict[str, Moved]:
    """The lines of `ours` that depend on rounding, judged against its float32 `twin`."""
    moved = {}
    for label, text in ours.shown.items():
        other = twin.shown.get(label, DASH)
        if other != text:
            moved[label] = Moved(text, other)
        elif _too_close(text, ours.precise.get(label, ""), twin.precise.get(label, "")):
            moved[label] = Moved(ours.precise[label], twin.precise[label], close=True)
    return moved


def _too_close(shown: str, precise: str, twin_precise: str) -> bool:
    """Whether some number of `shown` lies nearer to where its last digit would change than SAFETY
    times the difference between its precise value here and in the twin."""
    tokens, ours, theirs = (NUMBER.findall(t) for t in (shown, precise, twin_precise))
    if not len(tokens) == len(ours) == len(theirs):
        return precise != twin_precise
    for token, a, b in zip(tokens, ours, theirs, strict=True):
        v, t = float(a), float(b)
        if v == t:
            continue
        margin = half_step(token) - abs(v - float(token))
        if not math.isfinite(margin) or SAFETY * abs(v - t) >= margin:
            return True
    return False


def half_step(token: str) -> float:
    """Half a unit in the last digit a number was printed with: '0.003719' -> 5e-07, '3.585e-05' -> 5e-09."""
    return 0.5 * float(Decimal(1).scaleb(Decimal(token).as_tuple().exponent))
