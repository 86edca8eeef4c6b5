"""Same numbers on every machine, or the page says otherwise.

Pages train in float64 (16 digits). Another CPU rounds differently in the last digit; a run that
amplifies rounding can still show different digits. The proof here does not depend on the CPU: every
preset and every golden view is trained in float32 too (7 digits, a perturbation far larger than any
two CPUs' float64 rounding differ by), and what the page would print is compared. A view whose
float32 and float64 readouts differ must carry the "Sensitive to rounding" notice, and a view whose
readouts agree must not (the notice would be a false alarm)."""
from dataclasses import replace

import pytest

from backprop_core.config import TrainConfig
from backprop_core.diagnose import diagnose
from backprop_core.presets import PRESETS
from backprop_core.readout import number, rounding_check, run_readout
from backprop_core.training import train

from apptools import open_page
from golden_views import URLS, configs_of

NOTICE = "Sensitive to rounding"
VIEWS = URLS + [("flow", {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in preset.items()})
                for preset in PRESETS.values()]


def readout_in(cfg: TrainConfig, precision: str) -> dict[str, str]:
    run = train(replace(cfg, precision=precision))
    return run_readout(run, diagnose(run))


@pytest.mark.parametrize("page,query", VIEWS, ids=[f"{p}-{i}" for i, (p, _) in enumerate(VIEWS)])
def test_a_view_carries_the_notice_exactly_when_float32_reads_differently(page, query):
    differs = [rounding_check(readout_in(c, "float64"), readout_in(c, "float32")) for c in configs_of(page, query)]
    at = open_page(page, query, timeout=120)
    if any(b.key == "ex4_show_anyway" for b in at.button):        # Exercise 4 withholds the ReLU run at first
        at.button(key="ex4_show_anyway").click().run()
    notices = [w.value for w in at.warning if NOTICE in w.value]
    assert len(notices) == sum(bool(d) for d in differs), (query, differs)
    for notice, lines in zip(notices, [d for d in differs if d], strict=True):
        for label, (ours, twin) in lines.items():
            if label != "Verdict":
                assert f"{label.lower()} {twin} (here {ours})" in notice


def test_the_rounding_check_names_every_line_that_moved_and_only_those():
    a = {"Status": "ok", "Train loss": "0.2020", "Verdict": "Verdict: healthy. x"}
    b = {"Status": "ok", "Train loss": "0.6505", "Verdict": "Verdict: healthy. x"}
    assert rounding_check(a, b) == {"Train loss": ("0.2020", "0.6505")}
    assert rounding_check(a, dict(a)) == {}


@pytest.mark.parametrize("value,text", [
    (15368399826945351056185360384.0, "1.537e+28"), (0.008181854563446356, "0.008182"), (0.5210472661147, "0.5210"),
    (15.3749, "15.37"), (99999.7, "1.000e+05"), (0.00099996, "1.000e-03"), (3.2e-7, "3.200e-07"), (0.0, "0"),
    (-0.0, "0"), (-2.5, "-2.500"), (float("nan"), "—"), (float("inf"), "—")])
def test_numbers_read_with_at_most_four_significant_digits(value, text):
    assert number(value) == text
