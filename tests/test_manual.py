"""The manual backward pass against float64 autograd, gradcheck, and model building."""
import itertools

import pytest
import torch
import torch.nn.functional as F

from backprop_core.activations import ALL_ACTIVATIONS
from backprop_core.data import make_dataset
from backprop_core.manual import backward_pass, forward
from backprop_core.models import INITS, NORMS, build_mlp, weight_distribution


def data(n=23, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=g, dtype=torch.float64)
    return X, torch.randint(0, 2, (n,), generator=g)


def autograd(model, X, y):
    loss = F.cross_entropy(model(X), y)
    return dict(zip([n for n, _ in model.named_parameters()],
                    torch.autograd.grad(loss, list(model.parameters())), strict=True))


def assert_matches(model, X, y):
    mine, ref = backward_pass(model, X, y).grads, autograd(model, X, y)
    assert list(mine) == list(ref)
    scale = max(g.abs().max().item() for g in ref.values())
    for name in ref:
        assert mine[name].shape == ref[name].shape and mine[name].dtype == ref[name].dtype
        err = (mine[name] - ref[name]).abs().max().item()
        # 1e-10 relative to the tensor; biases feeding a norm have a true gradient of exactly 0,
        # so their floor is 1e-12 of the model's gradient scale
        assert err <= 1e-10 * ref[name].abs().max().item() + 1e-12 * scale, (name, err)


@pytest.mark.parametrize("act,init,norm,residual",
                         list(itertools.product(ALL_ACTIVATIONS, INITS, NORMS, [False, True])))
def test_every_configuration_matches_autograd(act, init, norm, residual):
    X, y = data()
    for depth, width in ((1, 3), (4, 6)):
        assert_matches(build_mlp(depth, width, act, init, norm, residual, seed=depth,
                                 dtype=torch.float64), X, y)


def test_deep_and_wide_models_match():
    X, y = data(64)
    assert_matches(build_mlp(12, 64, "tanh", "xavier", "layer", True, dtype=torch.float64), X, y)
    assert_matches(build_mlp(30, 16, "relu", "kaiming", "batch", False, dtype=torch.float64), X, y)


def test_runs_with_autograd_disabled_and_builds_no_graph():
    X, y = data()
    model = build_mlp(3, 5, "gelu", norm="batch", dtype=torch.float64)
    with torch.no_grad():
        result = backward_pass(model, X, y)
    assert all(not g.requires_grad for g in result.grads.values())
    assert_matches(model, X, y)


def test_signals_are_dL_dz_per_layer():
    X, y = data()
    model = build_mlp(3, 5, "tanh", dtype=torch.float64)
    result = backward_pass(model, X, y)
    assert len(result.signals) == 4  # three hidden layers, then dL/dlogits
    zs = []

    def keep(module, inputs, z):
        z.retain_grad()
        zs.append(z)

    hooks = [b.linear.register_forward_hook(keep) for b in model.hidden]
    F.cross_entropy(model(X), y).backward()
    for h in hooks:
        h.remove()
    for sig, z in zip(result.signals[:-1], zs, strict=True):
        assert torch.allclose(sig, z.grad, rtol=1e-10, atol=1e-14)


def test_gradcheck_through_the_manual_backward():
    """Wrap the manual pass as an autograd.Function and let torch.autograd.gradcheck compare
    its analytical gradient (ours) with finite differences."""
    X, y = data(9)
    model = build_mlp(2, 4, "tanh", norm="layer", residual=True, dtype=torch.float64)
    names = [n for n, _ in model.named_parameters()]

    class ManualLoss(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *params):
            with torch.no_grad():
                for p, value in zip(model.parameters(), params, strict=True):
                    p.copy_(value)
                result = backward_pass(model, X, y)
            ctx.grads = [result.grads[n] for n in names]
            return result.loss.clone()

        @staticmethod
        def backward(ctx, grad_out):
            return tuple(g * grad_out for g in ctx.grads)

    inputs = tuple(p.detach().clone().requires_grad_(True) for p in model.parameters())
    assert torch.autograd.gradcheck(ManualLoss.apply, inputs)


def test_forward_updates_batchnorm_running_stats_like_torch():
    X, y = data()
    a = build_mlp(2, 5, "relu", norm="batch", seed=4, dtype=torch.float64)
    b = build_mlp(2, 5, "relu", norm="batch", seed=4, dtype=torch.float64)
    with torch.no_grad():
        logits, _ = forward(a, X, update_running=True)
    assert torch.allclose(logits, b.train()(X))
    for ba, bb in zip(a.hidden, b.hidden, strict=True):
        assert torch.allclose(ba.norm.running_mean, bb.norm.running_mean)
        assert torch.allclose(ba.norm.running_var, bb.norm.running_var)


def test_same_seed_gives_bit_identical_weights_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    a = build_mlp(5, 16, "relu", "kaiming", seed=7)
    b = build_mlp(5, 16, "relu", "kaiming", seed=7)
    c = build_mlp(5, 16, "relu", "kaiming", seed=8)
    assert torch.equal(state, torch.random.get_rng_state())
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        assert na == nb and torch.equal(pa, pb)
    assert not torch.equal(a.hidden[0].linear.weight, c.hidden[0].linear.weight)


def test_structure_and_names():
    m = build_mlp(3, 8, "relu", norm="batch", residual=True, in_dim=2, out_dim=2)
    names = [n for n, _ in m.named_parameters()]
    assert names[:3] == ["hidden.0.linear.weight", "hidden.0.norm.weight", "hidden.0.norm.bias"]
    assert names[-2:] == ["out.weight", "out.bias"]
    assert [n for n, _ in build_mlp(2, 8, "relu", norm="layer").named_parameters()][:2] == [
        "hidden.0.linear.weight", "hidden.0.linear.bias"]           # LayerNorm keeps the bias
    assert [b.residual for b in m.hidden] == [False, True, True]
    assert m(torch.randn(4, 2)).shape == (4, 2)


@pytest.mark.parametrize("init", ["xavier", "kaiming", "small", "large"])
def test_init_distributions(init):
    m = build_mlp(2, 256, "relu", init, seed=1)
    w = m.hidden[1].linear.weight
    kind, scale = weight_distribution(init, "relu", 256, 256)
    expected_std = scale / 3 ** 0.5 if kind == "uniform" else scale
    assert w.std().item() == pytest.approx(expected_std, rel=0.03)
    assert torch.count_nonzero(m.hidden[1].linear.bias) == 0
    if kind == "uniform":
        assert w.abs().max().item() <= scale


@pytest.mark.parametrize("kwargs,message", [
    (dict(depth=0), "depth must be 1..64"), (dict(depth=65), "depth must be 1..64"),
    (dict(width=1), "width must be 2..256"), (dict(activation="swish"), "activation must be one of"),
    (dict(init="zeros"), "init must be one of"), (dict(norm="group"), "norm must be one of")])
def test_invalid_arguments(kwargs, message):
    args = dict(depth=2, width=4, activation="relu") | kwargs
    with pytest.raises(ValueError, match=message):
        build_mlp(**args)


@pytest.mark.parametrize("norm,residual", [("none", False), ("batch", True), ("layer", False)])
def test_predict_equals_module_in_eval_mode(norm, residual):
    X, y = data()
    model = build_mlp(3, 6, "elu", norm=norm, residual=residual, dtype=torch.float64)
    with torch.no_grad():
        for _ in range(3):
            forward(model, X, update_running=True)   # move BatchNorm's running statistics
    from backprop_core.manual import predict
    assert torch.allclose(predict(model, X), model.eval()(X), rtol=1e-12, atol=1e-12)


def test_same_seed_same_weights_when_threads_build_at_once():
    """A server builds models for many sessions concurrently; each must still get its seed's weights."""
    import threading
    expected = {seed: build_mlp(4, 16, "relu", seed=seed).hidden[2].linear.weight.clone() for seed in range(8)}
    bad = []

    def worker(seed):
        for _ in range(25):
            w = build_mlp(4, 16, "relu", seed=seed).hidden[2].linear.weight
            if not torch.equal(w, expected[seed]):
                bad.append(seed)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bad == []


def test_no_bias_before_batchnorm_because_its_gradient_is_exactly_zero():
    """BatchNorm subtracts each unit's batch mean, so a bias in front of it has gradient 0 (float64
    autograd on a copy that has the bias); in float32 that 0 comes out as rounding noise that Adam
    would turn into steps of size lr. The model leaves the bias out; LayerNorm's bias is real."""
    data = make_dataset("linear", 200, 0.0, 11)
    for norm, zero in (("batch", True), ("layer", False)):
        torch.manual_seed(0)
        lin, norm_layer = torch.nn.Linear(2, 16).double(), (torch.nn.BatchNorm1d(16) if norm == "batch"
                                                            else torch.nn.LayerNorm(16)).double()
        out = torch.nn.Linear(16, 2).double()
        F.cross_entropy(out(torch.tanh(norm_layer(lin(data.X_train.double())))), data.y_train).backward()
        assert (lin.bias.grad.abs().max().item() < 1e-15) == zero
    assert build_mlp(3, 8, "tanh", norm="batch").hidden[0].linear.bias is None
