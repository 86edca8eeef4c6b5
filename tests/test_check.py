"""Three-way checks: no false alarms in either precision, mistakes caught and localised, allowances
that are tight enough to mean something."""
import copy
import itertools
import math
import random

import pytest
import torch
import torch.nn.functional as F

from backprop_core import hand
from backprop_core.activations import ALL_ACTIVATIONS, HAND_ACTIVATIONS
from backprop_core.bugs import BUGS, Bug
from backprop_core.check import (
    UNIT_ROUNDOFF,
    allowance,
    model_report,
    two_layer_ledger,
    two_layer_magnitudes,
)
from backprop_core.models import NORMS, build_mlp
from backprop_core.presets import random_hand_values

DEMO = ([1, 2], [[0.1, -0.2], [0.3, 0.4]], [[0.7, -0.5]], 1)


def random_example(rng: random.Random):
    scale = rng.choice([0.5, 2, 10])
    x = [rng.uniform(-scale, scale) for _ in range(2)]
    W1 = [[rng.uniform(-scale, scale) for _ in range(2)] for _ in range(2)]
    W2 = [[rng.uniform(-scale, scale) for _ in range(2)]]
    y = rng.choice([0.0, 1.0, rng.uniform(0, 1)])
    return x, W1, W2, y, rng.choice(HAND_ACTIVATIONS)


def test_ledger_float64_agrees_everywhere():
    df = two_layer_ledger(*DEMO, activation="relu", dtype="float64")
    assert len(df) == 6 and df["pass"].all()
    assert df["abs_err"].max() < 1e-15
    assert df["fd_abs_err"].max() < 1e-8
    assert df.loc[0, "hand"] == pytest.approx(-0.316850, abs=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ledger_has_no_false_alarms_on_600_random_examples(dtype):
    """The old float32 ledger (gradcheck's float64 tolerances, float32 finite differences) failed
    123 of 600 such examples."""
    rng = random.Random(7)
    for _ in range(600):
        x, W1, W2, y, act = random_example(rng)
        df = two_layer_ledger(x, W1, W2, y, act, dtype)
        assert df["pass"].all(), (x, W1, W2, y, act, df.to_dict("records"))


def test_float32_errors_are_real_and_larger_than_float64():
    for act in ("relu", "sigmoid", "tanh"):
        f64 = two_layer_ledger(*DEMO, activation=act, dtype="float64")
        f32 = two_layer_ledger(*DEMO, activation=act, dtype="float32")
        assert f32["abs_err"].max() > 100 * max(f64["abs_err"].max(), 1e-18)
        assert f32["abs_err"].max() < 1e-6
        assert (f32["allowed"] > 1e6 * f64["allowed"]).all()


def test_the_allowance_is_tight_enough_to_catch_a_forgotten_derivative():
    """Forgetting phi'(z1) (dL/dW1 = x * dL/dh) must land outside the float32 allowance wherever
    phi' is not 1, and the allowance must stay near float32's own precision."""
    rng = random.Random(3)
    caught = total = 0
    relative = []
    for _ in range(400):
        x, W1, W2, y, act = random_example(rng)
        if act in ("linear",):
            continue
        r = hand.two_layer(x, W1, W2, y, act)
        m = two_layer_magnitudes(r, x, W1, W2, y, act)
        for i, j in itertools.product(range(2), range(2)):
            true, wrong = r.dW1[i][j], x[i] * r.dL_dh[j]
            if abs(wrong - true) < 1e-3 * abs(true) + 1e-12:
                continue                                     # phi' happens to be ~1 here
            total += 1
            caught += abs(wrong - true) > allowance("float32", m[("W1", i, j)])
            if abs(true) > 1e-6:
                relative.append(allowance("float32", m[("W1", i, j)]) / abs(true))
    assert caught / total > 0.99
    relative.sort()
    assert relative[len(relative) // 2] < 200 * UNIT_ROUNDOFF["float32"]      # ~1e-5: 5 of 7 digits


def test_a_relu_unit_at_zero_is_marked_as_a_kink_and_passes():
    # 3 * 0.1 - 0.3 is 5.6e-17 in float64 but exactly 0 in float32: the two take different sides
    x, W1, W2 = [3.0, 1.0], [[0.1, 0.2], [-0.3, 0.4]], [[0.7, -0.5]]
    df = two_layer_ledger(x, W1, W2, 1.0, "relu", "float32")
    kink = df[df["parameter"].str.startswith("W1") & df["parameter"].str.endswith("[1]")]
    assert set(kink["note"]) == {"kink"} and kink["pass"].all()
    assert (df.loc[~df.index.isin(kink.index), "note"] == "").all()


def test_grid_examples_from_the_random_button_pass():
    for seed in range(200):
        v = random_hand_values(seed)
        for act in HAND_ACTIVATIONS:
            df = two_layer_ledger([v["x1"], v["x2"]], [[v["w1_11"], v["w1_12"]], [v["w1_21"], v["w1_22"]]],
                                  [[v["w2_1"], v["w2_2"]]], v["y"], act, "float32")
            assert df["pass"].all(), (seed, act)


def data(n=64):
    g = torch.Generator().manual_seed(3)
    X = torch.randn(n, 2, generator=g, dtype=torch.float64)
    return X, (X.sum(1) > 0).long()


DEEP = list(itertools.product([1, 4, 16], [4, 8, 64], ALL_ACTIVATIONS, NORMS, [False, True]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_correct_manual_pass_passes_in_both_precisions(dtype):
    """Every deep-mode shape the page can reach in a grid (depth x width x act x norm x residual):
    no false alarm. The old float32 check failed every configuration."""
    X, y = data()
    dt = getattr(torch, dtype)
    for depth, width, act, norm, res in DEEP[::3] if dtype == "float64" else DEEP:
        model = build_mlp(depth, width, act, norm=norm, residual=res, seed=depth + width, dtype=dt)
        report = model_report(model, X.to(dt), y, fd_samples=6)
        if report.ill_conditioned:     # the page says so instead of judging: only deep BatchNorm nets, and
            assert (norm, depth) == ("batch", 16), (depth, width, act, norm, res)      # only when it is true:
            assert _float32_autograd_digits(model, X, y) < 2.5, (depth, width, act, norm, res)
            continue
        assert report.all_pass and report.first_bad_layer is None, (depth, width, act, norm, res)


def _float32_autograd_digits(model, X, y) -> float:
    """Correct digits of float32 autograd's gradient, against float64 autograd, on its worst layer
    (plain torch, independent of check.py)."""
    grads = {}
    for dt in (torch.float32, torch.float64):
        twin = copy.deepcopy(model).to(dt).train()
        F.cross_entropy(twin(X.to(dt)), y).backward()
        grads[dt] = {n: p.grad.double() for n, p in twin.named_parameters()}
    truth = grads[torch.float64]
    layer = {n: n.split(".")[1] if n.startswith("hidden.") else "out" for n in truth}
    scale = {}
    for n, g in truth.items():
        scale[layer[n]] = max(scale.get(layer[n], 0.0), g.abs().max().item())
    return min(math.log10(scale[layer[n]] / max((grads[torch.float32][n] - g).abs().max().item(), 1e-300))
               for n, g in truth.items())


# layer 1's weight is width x 2: a missing transpose cannot happen there
PLANTED = [(k, layer) for k in BUGS for layer in (1, 2, 4) if not (k == "no_transpose" and layer == 1)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind,layer", PLANTED)
def test_bug_is_caught_and_localised(dtype, kind, layer):
    dt = getattr(torch, dtype)
    X, y = data()
    for act, norm in [("sigmoid", "none"), ("tanh", "batch"), ("relu", "layer"), ("gelu", "none")]:
        model = build_mlp(5, 8, act, norm=norm, dtype=dt)
        report = model_report(model, X.to(dt), y, bug=Bug(kind, layer))
        assert not report.all_pass
        assert report.first_bad_layer == str(layer), (act, norm, report.tensors)
        bad = set(report.tensors.loc[~report.tensors["pass"], "layer"])
        assert "out" not in bad and str(layer + 1) not in bad


def test_a_bug_that_changes_nothing_is_not_reported():
    X, y = data()
    model = build_mlp(4, 8, "linear", dtype=torch.float32)
    report = model_report(model, X.float(), y, bug=Bug("no_act_grad", 2))   # linear: phi' is 1
    assert report.all_pass and report.first_bad_layer is None


def test_finite_difference_sample_is_bounded_and_seeded():
    model = build_mlp(20, 64, "relu", dtype=torch.float64)
    a = model_report(model, *data(), fd_samples=10, seed=5)
    b = model_report(model, *data(), fd_samples=10, seed=5)
    assert len(a.samples) == 10 and a.samples.equals(b.samples)
