"""Three-way checks: ledger for the seed net, model reports, bugs caught and localised."""
import pytest
import torch

from backprop_core.check import model_report, two_layer_ledger
from backprop_core.manual import BUGS, Bug
from backprop_core.models import build_mlp

DEMO = ([1, 2], [[0.1, -0.2], [0.3, 0.4]], [[0.7, -0.5]], 1)


def test_ledger_float64_agrees_everywhere():
    df = two_layer_ledger(*DEMO, activation="relu", dtype="float64")
    assert len(df) == 6 and df["pass"].all()
    assert df["abs_err"].max() < 1e-15
    assert df["fd_abs_err"].max() < 1e-8
    assert df.loc[0, "hand"] == pytest.approx(-0.316850, abs=1e-6)


def test_float32_errors_are_larger_than_float64():
    for act in ("relu", "sigmoid", "tanh"):
        f64 = two_layer_ledger(*DEMO, activation=act, dtype="float64")
        f32 = two_layer_ledger(*DEMO, activation=act, dtype="float32")
        assert f32["abs_err"].max() > 100 * max(f64["abs_err"].max(), 1e-18)
        assert f32["fd_abs_err"].max() > 100 * f64["fd_abs_err"].max()
        assert f32["abs_err"].max() < 1e-6  # still float32-close


def data(n=40):
    g = torch.Generator().manual_seed(3)
    X = torch.randn(n, 2, generator=g, dtype=torch.float64)
    return X, (X.sum(1) > 0).long()


@pytest.mark.parametrize("norm,residual", [("none", False), ("batch", False), ("layer", True)])
def test_correct_models_pass(norm, residual):
    model = build_mlp(4, 8, "tanh", norm=norm, residual=residual, dtype=torch.float64)
    report = model_report(model, *data())
    assert report.all_pass and report.first_bad_layer is None
    assert len(report.samples) == 24


@pytest.mark.parametrize("kind", BUGS)
@pytest.mark.parametrize("layer", [2, 4])
def test_bug_is_caught_and_localised(kind, layer):
    model = build_mlp(5, 8, "sigmoid", dtype=torch.float64)
    report = model_report(model, *data(), bug=Bug(kind, layer))
    assert not report.all_pass
    assert report.first_bad_layer == str(layer)
    bad = report.tensors.loc[~report.tensors["pass"], "layer"]
    assert "out" not in set(bad) and str(layer + 1) not in set(bad)


def test_finite_difference_sample_is_bounded_and_seeded():
    model = build_mlp(20, 64, "relu", dtype=torch.float64)
    a = model_report(model, *data(), fd_samples=10, seed=5)
    b = model_report(model, *data(), fd_samples=10, seed=5)
    assert len(a.samples) == 10 and a.samples.equals(b.samples)
