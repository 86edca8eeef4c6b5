"""Numbers as pages print them, and the same numbers with more digits for the rounding check.

Every number a page prints about a run goes through these functions. Inside `more_digits(k)` each
of them prints k more digits than usual, so the text of a readout can be rendered twice, once as
shown and once precise, with the numbers in the same places (readout.rounding_check compares them).
"""
from __future__ import annotations

import contextlib
import contextvars
import math

SIG_DIGITS = 4
PLAIN_RANGE = (1e-3, 1e5)        # inside it, plain decimals; outside, scientific notation
DASH = "—"
_EXTRA = contextvars.ContextVar("extra_digits", default=0)


@contextlib.contextmanager
def more_digits(k: int):
    """Inside: every function here prints `k` more digits."""
    token = _EXTRA.set(k)
    try:
        yield
    finally:
        _EXTRA.reset(token)


def number(value: float | None, digits: int = SIG_DIGITS) -> str:
    """`value` with `digits` significant digits: 0.008182, 0.5210, 15.37, 1.537e+28, 3.200e-07."""
    if value is None or not math.isfinite(value):
        return DASH
    digits += _EXTRA.get()
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


def percent(value: float | None, decimals: int = 1) -> str:
    """A share as a percentage (0.915 -> '91.5%'), or a dash when there is none."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:.{decimals + _EXTRA.get()}%}"


def general(value: float, digits: int = 3) -> str:
    """`digits` significant digits in Python's general format: 0.0457, 1.2e+03."""
    return f"{value:.{digits + _EXTRA.get()}g}"


def ratio_text(value: float) -> str:
    """A ratio of gradients: 0.662, 12.5, or 3.2e-05 and 1.5e+04 outside 0.01..1000."""
    if value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e3):
        return f"{value:.{1 + _EXTRA.get()}e}"
    return general(value, 3)


def r_squared(value: float | None) -> str:
    """R² with 4 decimals (0.9531, -0.0125), or in `number`'s form when far below 0 (-1.537e+04)."""
    if value is None or not math.isfinite(value):
        return DASH
    if value <= -10:
        return number(value)
    return f"{value + 0.0:.{4 + _EXTRA.get()}f}"


def score(value: float | None, regression: bool, decimals: int = 1) -> str:
    """A run's score as the pages print it: accuracy as a percentage, or R² (regression)."""
    return r_squared(value) if regression else percent(value, decimals)
