"""Datasets and the control module: determinism, balance, validation that never raises."""
import math
from dataclasses import replace

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from backprop_core.budget import estimate_seconds, over_budget
from backprop_core.config import GENERATED_DATASETS, HAND_PARAMS, TRAIN_PARAMS, TrainConfig, parse, parse_one
from backprop_core.data import grid, make_dataset
from backprop_core.fixes import FIXES, apply_fix
from backprop_core.notices import shown
from backprop_core.presets import PRESETS
from backprop_core.tasks import REGRESSION_DATASETS
from dashboard.guess_ahead import next_guess


@pytest.mark.parametrize("name", GENERATED_DATASETS)
def test_datasets_are_deterministic_and_shaped(name):
    a, b = make_dataset(name, 120, 0.1, 5), make_dataset(name, 120, 0.1, 5)
    c = make_dataset(name, 120, 0.1, 6)
    assert torch.equal(a.X_train, b.X_train) and torch.equal(a.y_train, b.y_train)
    assert not torch.equal(a.X_train, c.X_train)
    assert a.X_train.shape == (120, 2) and a.X_test.shape == (30, 2)
    assert a.X_train.dtype == torch.float32
    if name in REGRESSION_DATASETS:                   # real targets in [-1, 1], spread over the range
        assert a.y_train.dtype == torch.float32 and a.y_train.abs().max() <= 1 and a.y_train.std() > 0.3
        return
    assert set(a.y_train.tolist()) <= {0, 1}
    if name in ("circles", "moons", "spirals", "blobs"):
        assert a.y_train.sum().item() == 60           # exactly balanced
    else:
        assert 0.3 < a.y_train.float().mean().item() < 0.7


def test_linear_draws_the_seed_lessons_points():
    """The seed's X = torch.randn(200, 2) after manual_seed(11), to the 5 digits draws.py promises,
    with the same labels."""
    torch.manual_seed(11)
    X = torch.randn(200, 2)
    d = make_dataset("linear", 200, 0.0, 11)
    assert torch.allclose(d.X_train, X, rtol=1e-4, atol=0)
    assert torch.equal(d.y_train, (X[:, 0] + X[:, 1] > 0).long())


def test_grid_covers_the_data():
    d = make_dataset("moons", 100, 0.1, 1)
    xs, ys, pts = grid(d.X_train, 30)
    assert pts.shape == (900, 2)
    assert xs.min() < d.X_train[:, 0].min() and xs.max() > d.X_train[:, 0].max()
    assert ys.min() < d.X_train[:, 1].min() and ys.max() > d.X_train[:, 1].max()


def test_parse_clamps_and_explains():
    values, notes = parse(TRAIN_PARAMS, {"depth": "500", "lr": "nan", "act": "swish", "width": "3.6"})
    assert values["depth"] == 64 and values["lr"] == 0.1 and values["act"] == "relu"
    assert values["width"] == 3  # truncated, like Streamlit's URL binding
    assert "depth must be 1..64; got 500, using 64" in notes
    assert any(n.startswith("lr:") and "not a finite number" in n for n in notes)
    assert any(n.startswith("act:") for n in notes)


def test_parse_repeated_and_unknown_keys():
    values, notes = parse(TRAIN_PARAMS, {"depth": ["3", "7"], "colour": "red"})
    assert values["depth"] == 7
    assert any("given 2 times" in n for n in notes) and any("unknown parameter" in n for n in notes)


def test_notices_never_echo_markup():
    _, notes = parse(TRAIN_PARAMS, {"act": "<img src=x onerror=alert(1)>", "[a](http://x)": "1"})
    assert all("<" not in n and "(" not in n.split(";")[0].replace("(s)", "") for n in notes)
    assert shown("<script>") == "'?script?'"


raw_values = st.one_of(st.text(max_size=80), st.floats(allow_nan=True, allow_infinity=True),
                       st.integers(-10**30, 10**30), st.booleans(), st.none(),
                       st.lists(st.text(max_size=5), max_size=3))


@given(st.dictionaries(st.sampled_from([p.key for p in TRAIN_PARAMS] + ["junk"]), raw_values))
def test_parse_never_raises_and_stays_in_bounds(raw):
    values, notes = parse(TRAIN_PARAMS, raw)
    for p in TRAIN_PARAMS:
        v = values[p.key]
        if p.kind in ("int", "float"):
            assert isinstance(v, (int, float)) and math.isfinite(v) and p.lo <= v <= p.hi
        elif p.kind == "choice":
            assert v in p.choices
        else:
            assert isinstance(v, bool)
    cfg = TrainConfig.from_values(values)
    assert cfg.validated()[1] == []


@given(raw_values)
def test_hand_params_never_raise(raw):
    for p in HAND_PARAMS:
        value, _ = parse_one(p, raw)
        assert value in p.choices if p.kind == "choice" else p.lo <= value <= p.hi


def test_presets_are_valid_and_as_specified():
    for name, preset in PRESETS.items():
        assert parse(TRAIN_PARAMS, preset)[1] == [], name
    demo3, demo4 = TrainConfig.preset("seed demo 3"), TrainConfig.preset("seed demo 4")
    assert (demo3.depth, demo3.width, demo3.act, demo3.opt, demo3.lr, demo3.epochs, demo3.seed,
            demo3.data, demo3.n) == (1, 10, "relu", "adam", 0.1, 60, 11, "linear", 200)
    assert (demo4.depth, demo4.width, demo4.act, demo4.lr, demo4.epochs, demo4.seed, demo4.dseed) == (
        6, 32, "sigmoid", 0.07, 30, 21, 11)


def test_query_round_trip():
    cfg = TrainConfig.preset("seed demo 4", residual=True)
    values, notes = parse(TRAIN_PARAMS, cfg.query())
    assert notes == [] and TrainConfig.from_values(values) == cfg


def test_fixes_change_exactly_one_thing():
    cfg = TrainConfig.preset("seed demo 4")
    for fix in FIXES:
        fixed = apply_fix(cfg, fix)
        diff = [k for k in cfg.__dataclass_fields__ if getattr(cfg, k) != getattr(fixed, k)]
        assert len(diff) == 1, (fix, diff)


def test_budget_rejects_the_largest_reachable_runs():
    biggest = TrainConfig(depth=64, width=256, epochs=500, n=5000, batch=1)
    assert over_budget(biggest) and "limit" in over_budget(biggest)
    assert over_budget(TrainConfig.preset("seed demo 4")) is None
    assert estimate_seconds(TrainConfig(n=5000, batch=1)) > estimate_seconds(TrainConfig(n=5000))


def test_next_guess_moves_the_changed_number_once_more():
    base = TrainConfig()
    assert next_guess(base, replace(base, seed=12)) == replace(base, seed=13)
    assert next_guess(replace(base, depth=5), replace(base, depth=3)) == replace(base, depth=1)
    assert next_guess(base, replace(base, lr=0.11)) == replace(base, lr=0.12)          # no 0.12000000000000001
    assert next_guess(base, replace(base, noise=0.05)).noise == 0.1


def test_next_guess_makes_no_guess_it_cannot_stand_behind():
    base = TrainConfig()
    assert next_guess(base, base) is None                                          # nothing moved
    assert next_guess(base, replace(base, seed=12, depth=2)) is None               # two controls moved
    assert next_guess(base, replace(base, act="tanh")) is None                     # not a number
    assert next_guess(base, replace(base, residual=True)) is None
    assert next_guess(replace(base, depth=2), replace(base, depth=1)) is None      # depth 0 is out of range
    assert next_guess(replace(base, seed=9998), replace(base, seed=9999)) is None
    custom = TrainConfig.from_values({"data": "custom", "pts": "0:0:0,1:1:1"})
    other = TrainConfig.from_values({"data": "custom", "pts": "0:0:0,1:1:1,2:2:1"})
    assert next_guess(custom, other) is None                                       # the points changed
    assert next_guess(custom, replace(custom, seed=12)) == replace(custom, seed=13)
