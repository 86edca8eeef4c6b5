"""Hostile, garbled and extreme URL parameters on every page: never an exception, always a
notice for what was ignored, and every widget inside its bounds (hypothesis drives AppTest)."""
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_core.config import (
    AUTOGRAD_PARAMS,
    FIX_PARAM,
    HAND_PARAMS,
    PTS_PARAM,
    RANK_PARAM,
    STEP_PARAM,
    SWEEP_PARAMS,
    page_train_params,
    parse_one,
)

from apptools import exceptions, open_page

PAGE_PARAMS = {
    "home": (),
    "hand": HAND_PARAMS + (STEP_PARAM,),
    "autograd": HAND_PARAMS + AUTOGRAD_PARAMS,
    "flow": page_train_params("flow") + (PTS_PARAM,),
    "vanishing": page_train_params("vanishing") + (FIX_PARAM, RANK_PARAM, PTS_PARAM) + SWEEP_PARAMS,
}
HOSTILE = ["", " ", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e-320", "0x1A",
           "1_000", "-0", "007", "3.7", "-3.7", "9" * 400, "abc", "true", "None", "null", "[]", "{}",
           "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "'; DROP TABLE x;--",
           "../../etc/passwd", "%00", "\x00", "\u202eevil", "\u200b1", "١٢", "𝟙𝟚", "😀", "１２",
           "[x](javascript:alert(1))", "![i](http://127.0.0.1/p.png)", "**bold**", "$x^2$", "a" * 5000]
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", 60 if os.environ.get("CI") else 25))


def values():
    return st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.integers(-10**12, 10**12).map(str),
                     st.lists(st.sampled_from(HOSTILE[:12]), min_size=2, max_size=3))


def queries(page):
    keys = [p.key for p in PAGE_PARAMS[page]] + ["epoch", "zz", "", "x" * 300, "<b>", "depth", "hide", "code"]
    return st.dictionaries(st.sampled_from(keys), values(), max_size=5)


def check(page, query):
    at = open_page(page, query, timeout=90)
    assert exceptions(at) == [], (page, query, exceptions(at))
    params = {p.key: p for p in PAGE_PARAMS[page]}
    for key, raw in query.items():
        if key in params:
            _, note = parse_one(params[key], raw if not isinstance(raw, list) or len(raw) != 1 else raw[0])
            if note:
                assert at.warning, (page, query)          # the learner is told what was ignored
    for kind in ("slider", "number_input"):
        for w in at.get(kind):
            p = params.get(w.key)
            if p is not None and p.lo is not None:
                assert math.isfinite(w.value) and p.lo <= w.value <= p.hi, (w.key, w.value)
    for w in at.get("selectbox"):
        p = params.get(w.key)
        if p is not None:
            assert w.value in p.choices


@pytest.mark.parametrize("page", ["hand", "autograd", "flow", "vanishing", "home"])
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_page_survives_hostile_urls(page, data):
    check(page, data.draw(queries(page), label="query"))


VALID_EXAMPLES = int(os.environ.get("VALID_EXAMPLES", 30 if os.environ.get("CI") else 12))


def extreme_values(p):
    """Valid values biased to a control's bounds: its minimum, maximum, default, or one in between."""
    if p.kind == "choice":
        return st.sampled_from(p.choices)
    if p.kind == "bool":
        return st.sampled_from(["true", "false"])
    if p.kind == "points":      # valid points at the edges of the plane, of one class or both
        coord = st.sampled_from([-5.0, 5.0, 0.0, 2.5])
        point = st.tuples(coord, coord, st.sampled_from([0, 1])).map(lambda t: f"{t[0]:g}:{t[1]:g}:{t[2]}")
        return st.lists(point, max_size=100).map(",".join)
    if p.kind == "int":
        return st.one_of(st.sampled_from([p.lo, p.hi, p.default]), st.integers(int(p.lo), int(p.hi))).map(
            lambda v: str(int(v)))
    return st.one_of(st.sampled_from([p.lo, p.hi, p.default]), st.floats(p.lo, p.hi)).map(lambda v: f"{v:g}")


def valid_queries(page):
    params = [p for p in PAGE_PARAMS[page] if not p.key.startswith("sweep")]
    return st.fixed_dictionaries({}, optional={p.key: extreme_values(p) for p in params})


@pytest.mark.parametrize("page", ["flow", "vanishing"])
@settings(max_examples=VALID_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_valid_but_extreme_values_never_crash(page, data):
    """Every valid combination, pushed to its bounds (largest init, deepest, widest, one epoch, a huge
    step, a hundred points on the edges of the plane...), ends in a page without exceptions: a
    verdict, or a clear refusal."""
    query = data.draw(valid_queries(page), label="query")
    at = open_page(page, query, timeout=120)
    assert exceptions(at) == [], (page, query, exceptions(at))
    shown = [e.value for e in at.error] + [w.value for w in at.warning] + [s.value for s in at.success]
    told = ("Verdict", "Your data has", "All ")          # a verdict, or why custom points cannot train
    assert any(t.startswith(told) or "would take about" in t for t in shown), (page, query, shown)
    assert not at.warning or not any("adjusted" in w.value for w in at.warning), (page, query)
