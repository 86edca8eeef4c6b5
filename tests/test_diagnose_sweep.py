"""Diagnosis verdicts, fixes, theory overlay and the batched depth sweep."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from backprop_core.config import TrainConfig, apply_fix
from backprop_core.data import make_dataset
from backprop_core.diagnose import diagnose
from backprop_core.models import build_mlp
from backprop_core.sweep import depth_sweep, layer_gradients, sample_stack
from backprop_core.theory import expected_gradient_scale, gaussian_moments
from backprop_core.training import train

DEMO4 = TrainConfig.preset("seed demo 4")


@pytest.mark.parametrize("depth", [8, 12])
def test_deep_sigmoid_vanishes(depth):
    d = diagnose(train(TrainConfig.preset("seed demo 4", depth=depth)))
    assert d.verdict == "vanishing" and d.ratio < 1e-2
    assert d.headline.startswith("Verdict: vanishing.") and "Layer 1 receives" in d.headline
    assert [f.key for f in d.fixes][:2] == ["relu", "he"]


def test_relu_he_depth_20_is_healthy():
    d = diagnose(train(TrainConfig.preset("seed demo 4", depth=20, act="relu", init="kaiming", lr=0.01)))
    assert d.verdict == "healthy", d.headline


def test_leaky_relu_he_depth_12_is_healthy():
    d = diagnose(train(TrainConfig.preset("seed demo 4", depth=12, act="leaky_relu", init="kaiming")))
    assert d.verdict == "healthy", d.headline


def test_huge_sgd_step_with_large_init_blows_up():
    d = diagnose(train(TrainConfig.preset("seed demo 4", opt="sgd", lr=50.0, init="large")))
    assert d.verdict in ("diverged", "exploding")
    assert d.fixes[0].key == "lower_lr" and d.fixes[0].config.lr == pytest.approx(5.0)


def test_deep_relu_at_high_adam_rate_loses_its_units():
    d = diagnose(train(TrainConfig.preset("seed demo 4", depth=20, act="relu", init="kaiming")))
    assert d.verdict == "dead units" and "output 0" in d.headline


def test_large_init_tanh_with_a_big_step_saturates_and_stalls():
    run = train(TrainConfig.preset("seed demo 4", depth=5, act="tanh", init="large", lr=0.5, data="xor"))
    d = diagnose(run)
    assert d.verdict == "saturated" and "saturated" in d.headline
    assert run.epoch_stats.train_acc.iloc[-1] < 0.9


def test_a_confident_well_fitted_tanh_net_is_not_called_saturated():
    run = train(TrainConfig.preset("seed demo 3", depth=4, act="tanh"))
    assert run.epoch_stats.train_acc.iloc[-1] >= 0.99
    assert diagnose(run).verdict == "healthy"


def test_fix_relu_repairs_seed_demo_4():
    d = diagnose(train(apply_fix(DEMO4, "relu")))
    assert d.verdict == "healthy"


def test_theory_moments_by_hand():
    # E[relu(z)^2] = q/2, E[relu'(z)^2] = 1/2; linear: q and 1
    assert gaussian_moments("relu", 2.0) == pytest.approx((1.0, 0.5), rel=1e-9)
    assert gaussian_moments("linear", 3.0) == pytest.approx((3.0, 1.0), rel=1e-9)
    # sigmoid'(z)^2 at q -> 0 is 1/16
    assert gaussian_moments("sigmoid", 1e-12)[1] == pytest.approx(1 / 16, rel=1e-6)


def test_theory_for_relu_he_is_flat():
    df = expected_gradient_scale(20, 32, "relu", "kaiming")
    assert np.allclose(df.relative, 1.0) and np.allclose(df.factor[:-1], 1.0)


@pytest.mark.parametrize("act,init,depth", [("sigmoid", "default", 6), ("tanh", "xavier", 8),
                                            ("sigmoid", "xavier", 8)])
def test_theory_tracks_measurement(act, init, depth):
    """Predicted first/last-layer gradient within 4x of the geometric mean over 4 seeds,
    while the quantity itself spans orders of magnitude."""
    logs = []
    for seed in range(4):
        run = train(TrainConfig(depth=depth, width=32, act=act, init=init, epochs=1, seed=seed))
        e0 = run.layer_stats[(run.layer_stats.epoch == 0) & (run.layer_stats.layer <= depth)]
        logs.append(np.log10(e0.grad_mean_abs.values[0] / e0.grad_mean_abs.values[-1]))
    predicted = math.log10(expected_gradient_scale(depth, 32, act, init).relative.iloc[0])
    assert abs(np.mean(logs) - predicted) < math.log10(4)


def test_sweep_matches_autograd_on_the_same_weights():
    stack = sample_stack("tanh", "default", seeds=2, depth=5, width=8, seed=3)
    data = make_dataset("linear", 50, 0.0, 11)
    g = layer_gradients(stack, "tanh", data.X_train, data.y_train)
    for s in range(2):
        for d in (1, 3, 5):
            model = build_mlp(d, 8, "tanh")
            with torch.no_grad():
                for layer in range(d):
                    model.hidden[layer].linear.weight.copy_(stack["W"][layer][s])
                    model.hidden[layer].linear.bias.copy_(stack["b"][layer][s])
                model.out.weight.copy_(stack["W_out"][0][s])
                model.out.bias.copy_(stack["b_out"][0][s])
            loss = F.cross_entropy(model(data.X_train), data.y_train)
            grads = torch.autograd.grad(loss, [b.linear.weight for b in model.hidden])
            for layer in range(d):
                assert g[s, d - 1, layer].item() == pytest.approx(grads[layer].abs().mean().item(), rel=1e-4)
            assert torch.isnan(g[s, d - 1, d:]).all()


def test_sweep_shows_sigmoid_vanishing_and_relu_he_holding():
    df = depth_sweep(max_depth=12, activations=("sigmoid", "relu"), inits=("default", "kaiming"), seeds=3)
    assert len(df) == 12 * 4 and set(df.columns) >= {"ratio_mean", "ratio_lo", "ratio_hi"}
    sig = df[(df.activation == "sigmoid") & (df.init == "default")].set_index("depth")
    relu_he = df[(df.activation == "relu") & (df.init == "kaiming")].set_index("depth")
    assert sig.ratio_mean[1] == pytest.approx(1.0)
    assert sig.ratio_mean[12] < 1e-6 < relu_he.ratio_mean[12]
    assert (df.ratio_lo <= df.ratio_mean + 1e-12).all() and (df.ratio_mean <= df.ratio_hi + 1e-12).all()
