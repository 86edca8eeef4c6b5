"""SiLU (x * sigmoid(x)) was added as one record in backprop_core/activations.py: these tests check it
everywhere it is used against float64 autograd of torch's own F.silu, independent of the project."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from backprop_core import hand
from backprop_core.activations import ACTIVATIONS, ALL_ACTIVATIONS, HAND_ACTIVATIONS, SWEEP_ACTIVATIONS
from backprop_core.check import model_report
from backprop_core.codegen import script
from backprop_core.config import TrainConfig
from backprop_core.data import make_dataset
from backprop_core.manual import backward_pass
from backprop_core.models import build_mlp
from backprop_core.theory import gaussian_moments
from backprop_core.training import train

from apptools import exceptions, open_page
from test_codegen import run_scripts

SILU = ACTIVATIONS["silu"]


def test_silu_is_offered_everywhere():
    assert "silu" in ALL_ACTIVATIONS and "silu" in HAND_ACTIVATIONS and "silu" in SWEEP_ACTIVATIONS


def test_phi_and_its_derivative_match_torch_in_float64():
    z = torch.linspace(-8, 8, 401, dtype=torch.float64, requires_grad=True)
    ref = F.silu(z)
    (slope,) = torch.autograd.grad(ref.sum(), z)
    zd = z.detach()
    assert torch.allclose(SILU.phi_t(zd), ref.detach(), rtol=0, atol=1e-15)
    assert torch.allclose(SILU.dphi_t(zd, SILU.phi_t(zd)), slope, rtol=0, atol=1e-15)
    for v in (-7.5, -1.0, 0.0, 0.3, 6.0):
        t = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        (d,) = torch.autograd.grad(F.silu(t), t)
        assert SILU.phi(v) == pytest.approx(F.silu(t).item(), abs=1e-15)
        assert SILU.dphi(v) == pytest.approx(d.item(), abs=1e-15)


def _silu_net(model):
    """The same weights in a plain torch network with nn.SiLU (no project code in its forward)."""
    layers = []
    for block in model.hidden:
        layers += [torch.nn.Linear(block.linear.in_features, block.linear.out_features, dtype=torch.float64),
                   torch.nn.SiLU()]
    net = torch.nn.Sequential(*layers, torch.nn.Linear(model.out.in_features, 2, dtype=torch.float64))
    with torch.no_grad():
        for mine, theirs in zip([b.linear for b in model.hidden] + [model.out], net[::2], strict=True):
            theirs.weight.copy_(mine.weight)
            theirs.bias.copy_(mine.bias)
    return net


def test_the_manual_backward_pass_matches_autograd_of_nn_silu():
    data = make_dataset("moons", 80, 0.1, 3)
    model = build_mlp(4, 16, "silu", "kaiming", seed=5, dtype=torch.float64)
    X, y = data.X_train.double(), data.y_train
    mine = backward_pass(model, X, y).grads
    net = _silu_net(model)
    F.cross_entropy(net(X), y).backward()
    theirs = [net[2 * i].weight.grad for i in range(4)] + [net[-1].weight.grad]
    for name, g in zip([f"hidden.{i}.linear.weight" for i in range(4)] + ["out.weight"], theirs, strict=True):
        assert torch.allclose(mine[name], g, rtol=1e-12, atol=1e-15), name


def test_the_hand_derivation_matches_autograd_of_f_silu():
    x, W1, W2, y = [1.0, -2.0], [[0.4, -0.3], [0.2, 0.5]], [[0.7, -0.6]], 1.0
    r = hand.two_layer(x, W1, W2, y, "silu")
    W1t = torch.tensor(W1, dtype=torch.float64, requires_grad=True)
    W2t = torch.tensor(W2, dtype=torch.float64, requires_grad=True)
    z2 = (F.silu(torch.tensor([x], dtype=torch.float64) @ W1t) @ W2t.T).squeeze()
    loss = F.binary_cross_entropy_with_logits(z2, torch.tensor(y, dtype=torch.float64))
    g1, g2 = torch.autograd.grad(loss, [W1t, W2t])
    assert r.loss == pytest.approx(loss.item(), abs=1e-14)
    assert np.allclose(r.dW1, g1.numpy(), atol=1e-14) and np.allclose(r.dW2, g2.numpy(), atol=1e-14)


def test_the_theory_line_moments_match_a_monte_carlo_of_f_silu():
    z = torch.randn(2_000_000, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 1.3
    z.requires_grad_(True)
    h = F.silu(z)
    (d,) = torch.autograd.grad(h.sum(), z)
    h2, d2 = gaussian_moments("silu", torch.tensor([1.69]))
    assert h2.item() == pytest.approx(h.detach().pow(2).mean().item(), rel=3e-3)
    assert d2.item() == pytest.approx(d.pow(2).mean().item(), rel=3e-3)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_checks_pass_silu_and_catch_a_planted_bug(dtype):
    from backprop_core.bugs import Bug
    data = make_dataset("linear", 64, 0.0, 11)
    model = build_mlp(4, 8, "silu", seed=2, dtype=dtype)
    assert model_report(model, data.X_train.to(dtype), data.y_train, fd_samples=6).all_pass
    bad = model_report(model, data.X_train.to(dtype), data.y_train, fd_samples=6, bug=Bug("no_act_grad", 2))
    assert bad.first_bad_layer == "2"


def test_the_generated_script_reproduces_a_silu_run_bit_for_bit():
    view = {"act": "silu", "depth": "3", "width": "12", "epochs": "15", "data": "spirals"}
    [got] = run_scripts([script("flow", view)])
    run = train(TrainConfig(act="silu", depth=3, width=12, epochs=15, data="spirals"))
    assert got["grad_mean_abs_epoch0"] == run.stats[0, :, 0].tolist()
    assert got["final_train_loss"] == float(run.metrics[-1, 0]) and math.isfinite(got["final_train_loss"])


@pytest.mark.parametrize("page,query", [("flow", {"act": "silu"}), ("vanishing", {"act": "silu"}),
                                        ("hand", {"act": "silu", "reveal": "true"}),
                                        ("autograd", {"act": "silu", "deep_act": "silu"})])
def test_every_page_offers_silu(page, query):
    at = open_page(page, query, timeout=120)
    assert exceptions(at) == [] and not any("act" in w.value and "not one of" in w.value for w in at.warning)
