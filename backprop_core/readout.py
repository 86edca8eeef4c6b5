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


def run_readout(run: RunResult, diagnosis) -> dict[str, str]:
    """Every line the pages print about a run, by label: status, final metrics, verdict."""
    final = final_metrics(run)
    return {"Status": run.status, "Train loss": number(final["train_loss"]),
            "Train accuracy": percent(final["train_acc"]), "Test accuracy": percent(final["test_acc"]),
            "Verdict": diagnosis.titled("Verdict")}


def rounding_check(readout: dict[str, str], twin: dict[str, str]) -> dict[str, tuple[str, str]]:
    """The lines that read differently in the float32 twin: {label: (this run, the twin)}."""
    return {k: (v, twin.get(k, DASH)) for k, v in readout.items() if twin.get(k) != v}
