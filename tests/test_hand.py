"""The hand derivation: seed numbers, agreement with float64 autograd, steps, stability."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from backprop_core import activations
from backprop_core.hand import bce_from_logit, fmt, two_layer

DEMO = dict(x=[1, 2], W1=[[0.1, -0.2], [0.3, 0.4]], W2=[[0.7, -0.5]], y=1)
EXERCISE_1 = dict(x=[2, 1], W1=[[0.2, -0.3], [0.5, 0.4]], W2=[[0.6, -0.7]], y=0)


def approx(a, b, tol=5e-7):
    return all(abs(p - q) <= tol for p, q in zip(_flat(a), _flat(b), strict=True))


def _flat(v):
    return [a for row in v for a in (row if isinstance(row, list) else [row])]


def test_seed_demo_numbers():
    r = two_layer(**DEMO, activation="relu")
    assert r.loss == pytest.approx(0.602653, abs=5e-7)
    assert approx(r.dW2, [[-0.316850, -0.271585]])
    assert approx(r.dW1, [[-0.316850, 0.226321], [-0.633699, 0.452642]])
    assert approx(r.z1, [0.7, 0.6], 1e-12) and r.z2 == pytest.approx(0.19, abs=1e-12)


def test_seed_exercise_1_numbers():
    r = two_layer(**EXERCISE_1)
    assert r.loss == pytest.approx(0.999163, abs=5e-7)
    assert approx(r.dW2, [[0.568631, 0.0]])
    assert approx(r.dW1, [[0.758175, 0.0], [0.379087, 0.0]])


def torch_reference(x, W1, W2, y, activation):
    """The same net through float64 autograd (independent of hand.py's arithmetic)."""
    xt = torch.tensor([x], dtype=torch.float64)
    W1t = torch.tensor(W1, dtype=torch.float64, requires_grad=True)
    W2t = torch.tensor(W2, dtype=torch.float64, requires_grad=True)
    z2 = (activations.torch_fn(activation)(xt @ W1t) @ W2t.T).squeeze()
    loss = F.binary_cross_entropy_with_logits(z2, torch.tensor(float(y), dtype=torch.float64))
    g1, g2 = torch.autograd.grad(loss, [W1t, W2t])
    return loss.item(), g1.tolist(), g2.tolist()


num = st.floats(-3, 3, allow_nan=False, allow_infinity=False)


@given(x=st.lists(num, min_size=2, max_size=2), w1=st.lists(num, min_size=4, max_size=4),
       w2=st.lists(num, min_size=2, max_size=2), y=st.floats(0, 1),
       act=st.sampled_from(activations.HAND_ACTIVATIONS))
def test_matches_float64_autograd(x, w1, w2, y, act):
    W1, W2 = [w1[:2], w1[2:]], [w2]
    r = two_layer(x, W1, W2, y, act)
    loss, g1, g2 = torch_reference(x, W1, W2, y, act)
    assert abs(r.loss - loss) <= 1e-12 * max(1.0, abs(loss))
    for mine, ref in ((r.dW1, g1), (r.dW2, g2)):
        for a, b in zip(_flat(mine), _flat(ref), strict=True):
            assert abs(a - b) <= 1e-12 * max(1.0, abs(b))


@given(x=st.lists(num, min_size=2, max_size=2), w1=st.lists(num, min_size=4, max_size=4),
       w2=st.lists(num, min_size=2, max_size=2), y=st.sampled_from([0.0, 1.0]),
       act=st.sampled_from(activations.HAND_ACTIVATIONS))
def test_steps_multiply_out_to_the_gradients(x, w1, w2, y, act):
    r = two_layer(x, [w1[:2], w1[2:]], [w2], y, act)
    s = {step.key: step.value for step in r.steps}
    assert [step.key for step in r.steps] == ["dL_dypred", "dypred_dz2", "dL_dz2", "dL_dW2", "dL_dh",
                                              "dh_dz1", "dL_dz1", "dL_dW1"]
    if math.isfinite(s["dL_dypred"]) and s["dypred_dz2"] > 1e-8:
        assert s["dL_dypred"] * s["dypred_dz2"] == pytest.approx(s["dL_dz2"], rel=1e-9, abs=1e-12)
    assert s["dL_dz2"] == pytest.approx(r.y_pred - y, abs=1e-15)
    assert s["dL_dW2"][0] == pytest.approx([s["dL_dz2"] * h for h in r.h], abs=1e-15)
    assert s["dL_dh"] == pytest.approx([s["dL_dz2"] * w for w in w2], abs=1e-15)
    assert s["dL_dz1"] == pytest.approx([a * b for a, b in zip(s["dL_dh"], s["dh_dz1"], strict=True)], abs=1e-15)
    assert s["dL_dW1"] == r.dW1 and s["dL_dW2"] == r.dW2
    for step in r.steps:
        assert step.symbol and step.formula and step.substituted and step.intuition


@pytest.mark.parametrize("z2,y", [(1000.0, 0.0), (-1000.0, 1.0), (1000.0, 1.0), (-1000.0, 0.0)])
def test_stable_at_huge_logits(z2, y):
    # h = [1, 0] with relu and W2 = [z2, 0] puts the logit exactly at z2
    r = two_layer([1.0, 0.0], [[1.0, -1.0], [0.0, 0.0]], [[z2, 0.0]], y, "relu")
    assert r.z2 == z2
    expected = abs(z2) if (z2 > 0) != (y > 0.5) else 0.0
    assert r.loss == pytest.approx(expected, abs=1e-12)
    assert all(math.isfinite(a) for a in _flat(r.dW1) + _flat(r.dW2))
    assert bce_from_logit(z2, y) == r.loss


def test_relu_derivative_at_zero_is_zero_like_torch():
    r = two_layer([1.0, 1.0], [[1.0, 0.5], [-1.0, 0.5]], [[1.0, 1.0]], 1.0, "relu")
    assert r.z1[0] == 0.0
    _, g1, _ = torch_reference([1.0, 1.0], [[1.0, 0.5], [-1.0, 0.5]], [[1.0, 1.0]], 1.0, "relu")
    assert r.dW1[0][0] == 0.0 == g1[0][0]


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="y must be in"):
        two_layer([1, 2], DEMO["W1"], DEMO["W2"], 2.0)
    with pytest.raises(ValueError, match="finite"):
        two_layer([1, float("nan")], DEMO["W1"], DEMO["W2"], 1.0)
    with pytest.raises(KeyError, match="unknown activation"):
        two_layer(**DEMO, activation="swish")


def test_fmt_keeps_at_least_four_decimals():
    assert fmt(0.6026529) == "0.602653"
    assert fmt(-0.0) == "0.000000"
    assert fmt(3.2e-7) == "3.2000e-07"
    assert fmt(float("inf")) == r"\infty"
