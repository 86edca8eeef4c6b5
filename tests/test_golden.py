"""Faster or restructured code must show the same numbers, on any CPU: a fixed set of links
(tests/golden_views.py) against what they showed when tests/golden/ was written. The runs are
float64; each array is compared at the tolerance its own run's measured sensitivity justifies
(golden_views.tolerance), so rounding differences between CPUs pass and real changes do not."""
import json

import numpy as np
import pytest

from backprop_core.readout import rounding_check

from golden_views import GOLDEN, URLS, configs_of, key_of, readout_in, run_arrays, scale, view

VIEWS = json.loads((GOLDEN / "views.json").read_text())
RUNS = np.load(GOLDEN / "runs.npz")


def sensitive(page: str, query: dict) -> bool:
    """The page marks a run of this view "Sensitive to rounding" (its float32 twin reads differently)."""
    return any(rounding_check(readout_in(cfg, "float64"), readout_in(cfg, "float32"))
               for cfg in configs_of(page, query))


@pytest.mark.parametrize("index", range(len(URLS)))
def test_the_page_shows_the_same_texts_and_metrics(index):
    """Every line reads exactly as stored, unless the page itself marks the view as sensitive to
    rounding: then another CPU may show other digits (the page says so), and its numbers are held by
    the arrays below, at the tolerance the run's measured sensitivity allows."""
    page, query = URLS[index]
    expected = VIEWS[index]
    assert (expected["page"], expected["query"]) == (page, query)
    got = view(page, query)
    assert got["summary"] == expected["summary"]
    if sensitive(page, query):
        assert len(got["verdicts"]) == len(expected["verdicts"])
        assert got["metrics"].keys() == expected["metrics"].keys()
    else:
        assert got == {k: expected[k] for k in ("summary", "verdicts", "metrics")}


CONFIGS = list({key_of(c): c for page, query in URLS for c in configs_of(page, query)}.values())


@pytest.mark.parametrize("cfg", CONFIGS, ids=[f"{c.depth}x{c.width}-{c.act}-{c.norm}-{c.opt}" for c in CONFIGS])
def test_every_number_behind_the_charts_is_unchanged(cfg):
    got = run_arrays(cfg)
    for name, value in got.items():
        expected = RUNS[f"{key_of(cfg)}::{name}"]
        rtol = float(RUNS[f"{key_of(cfg)}::{name}::rtol"])
        assert value.shape == expected.shape, name
        both_nan = np.isnan(value) & np.isnan(expected)
        allowed = rtol * (np.abs(expected) + 1e-12 * scale(name, expected))
        off = ~both_nan & ~(np.abs(value - expected) <= allowed)
        assert not off.any(), (f"{name}: {int(off.sum())} entries off by more than rtol {rtol:.1e}; first at "
                               f"{np.argwhere(off)[0].tolist()}: {value[off][0]!r} vs {expected[off][0]!r}")
