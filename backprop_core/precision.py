"""What each floating-point precision can resolve, and the allowances the gradient checks use
(backprop_core/check.py explains them). No torch here: the pages quote these numbers."""
from __future__ import annotations

UNIT_ROUNDOFF = {"float64": 2.0 ** -53, "float32": 2.0 ** -24}
DIGITS = {"float64": 16, "float32": 7}
ROUNDING_FACTOR = 8.0          # allowance = 8 u m; the worst seen over 120 000 entries was 2 u m
NOISE_FACTOR = 32.0            # deep mode: times the rounding noise measured on each tensor
FD_EPS = 1e-6                  # finite-difference step, always in float64
UNDERFLOW = {"float64": 1e-300, "float32": 1e-30}   # float32 flushes values below ~1e-38 to 0


def allowance(dtype: str, magnitude, reference_dtype: str = "float64"):
    """ROUNDING_FACTOR · (u_dtype + u_reference) · magnitude: what rounding can explain when a
    `dtype` computation is compared with a `reference_dtype` one."""
    u = UNIT_ROUNDOFF[dtype] + UNIT_ROUNDOFF[reference_dtype]
    return ROUNDING_FACTOR * u * magnitude + UNDERFLOW[dtype]


def fd_allowance(loss: float, truth: float) -> float:
    """How far a float64 central difference may be from the truth: the two losses' rounding
    (16 u |L|) divided by 2 eps, plus 1e-5 of the value for the eps^2 truncation term."""
    return 16 * UNIT_ROUNDOFF["float64"] * max(abs(loss), 1.0) / (2 * FD_EPS) + 1e-5 * abs(truth)


def precision_note(dtype: str) -> str:
    """One line on what a precision can resolve."""
    u = UNIT_ROUNDOFF[dtype]
    return (f"{dtype} keeps about {DIGITS[dtype]} significant digits: every operation rounds to within "
            f"u = {u:.1e} of its size.")
