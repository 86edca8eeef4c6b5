"""What a page prints about a training run, as text: the numbers at the precision they are shown.

Because the text is what a learner reads, two runs can be compared by it: `rounding_check` sets a
run's readout beside the readout of the same run trained in float32 (its rounding twin), and any
line that differs is a number that depends on rounding rather than on the network.

Numbers for reading (`number`): at most 4 significant digits, scientific notation for the very
large and the very small, so no page prints `15368399826945351056185360384.0000`.
"""
from __future__ import annotations

import math

from backprop_core.results import RunResult, final_metrics

SIG_DIGITS = 4
PLAIN_RANGE = (1e-3, 1e5)        # inside it, plain decimals; outside, scientific notation
DASH = "—"


def number(value: float, digits: int = SIG_DIGITS) -> str:
    """`value` with `digits` significant digits: 0.008182, 0.5210, 15.37, 1.537e+28, 3.2e-07."""
    if value is None or not math.isfinite(value):
        return DASH
    v = float(value) + 0.0                    # folds -0.0 into 0.0
    if v == 0:
        return "0"
    lo, hi = PLAIN_RANGE
    if lo <= abs(v) < hi:
        decimals = max(digits - 1 - math.floor(math.log10(abs(v))), 0)
        text = f"{v:.{decimals}f}"
        if abs(float(text)) < hi:             # rounding up may reach the next power of ten
            return text
    return f"{v:.{digits - 1}e}"


def percent(value: float, decimals: int = 1) -> str:
    """A share as a percentage (0.915 -> '91.5%'), or a dash when there is none."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:.{decimals}%}"


STATUS_HELP = ("learned: at least 90% training accuracy at the end; partly learned: at least 10 points better "
               "than always guessing the majority class; died at epoch N: from epoch N a layer's "
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
    final = final_metrics(run)
    lines = {"Status": status(run, diagnosis), "Train loss": number(final["train_loss"]),
             "Train accuracy": percent(final["train_acc"]), "Test accuracy": percent(final["test_acc"]),
             "Verdict": diagnosis.titled("Verdict")}
    if run.train_mode is not None:                # BatchNorm: the same network with batch statistics
        lines |= {"Train loss with batch statistics": number(run.train_mode["train_loss"]),
                  "Train accuracy with batch statistics": percent(run.train_mode["train_acc"])}
    if run.config.wd > 0:
        lines["L2 penalty"] = number(final["l2_penalty"])
        lines["Train loss + L2 penalty"] = number(final["train_loss"] + final["l2_penalty"])
    return lines


def modes_differ(run: RunResult) -> bool:
    """A BatchNorm run whose eval-mode and train-mode training metrics differ much: accuracy by a
    point or more, or loss by a factor of 1.5 or more."""
    if run.train_mode is None:
        return False
    final = final_metrics(run)
    a, b = final["train_loss"], run.train_mode["train_loss"]
    return (abs(final["train_acc"] - run.train_mode["train_acc"]) >= 0.01
            or not (math.isfinite(a) and math.isfinite(b)) or max(a, b) >= 1.5 * min(a, b))


def rounding_check(readout: dict[str, str], twin: dict[str, str]) -> dict[str, tuple[str, str]]:
    """The lines that read differently in the float32 twin: {label: (this run, the twin)}."""
    return {k: (v, twin.get(k, DASH)) for k, v in readout.items() if twin.get(k) != v}
