"""Several classes (softmax) and regression (mean squared error), from the losses to the pages: the
manual backward pass and the checks against float64 autograd, the data, the first loss a learner is
asked to predict, the theory line, the diagnosis, the generated scripts and the pages themselves."""
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from backprop_core import codegen, digits
from backprop_core.activations import ALL_ACTIVATIONS
from backprop_core.check import model_report
from backprop_core.config import TRAIN_PARAMS, TrainConfig, parse
from backprop_core.data import make_dataset
from backprop_core.diagnose import diagnose
from backprop_core.losses import batch_loss_score, batch_output_error, loss_and_error
from backprop_core.manual import backward_pass
from backprop_core.models import NORMS, build_mlp
from backprop_core.points import parse_points
from backprop_core.results import STAT_COLUMNS, final_metrics
from backprop_core.tasks import task_for
from backprop_core.theory import signal_at_init
from backprop_core.training import train
from dashboard import chart_data, charts, raster
from tests.apptools import chart_with, open_page, texts
from tests.reference import autograd_training, plain_loss, plain_score
from tests.test_codegen import assert_same, run_scripts

SPIRALS_3 = {"data": "spirals", "classes": "3", "depth": "2", "width": "32", "lr": "0.01", "epochs": "300",
             "n": "300"}                                     # the link


def three_classes(n=23, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=g, dtype=torch.float64), torch.randint(0, 3, (n,), generator=g)


def targets(n=23, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=g, dtype=torch.float64)
    return X, torch.rand(n, generator=g, dtype=torch.float64) * 2 - 1


def autograd(model, X, y):
    loss = plain_loss(model(X), y)
    return dict(zip([n for n, _ in model.named_parameters()],
                    torch.autograd.grad(loss, list(model.parameters())), strict=True))


# ---------------------------------------------------------------- the arithmetic
@pytest.mark.parametrize("task", ["classes3", "mse"])
@pytest.mark.parametrize("act,norm,residual", list(itertools.product(ALL_ACTIVATIONS, NORMS, [False, True])))
def test_manual_backward_matches_float64_autograd(task, act, norm, residual):
    """Every gradient within 1e-12 of the tensor's largest (biases feeding a norm, whose true gradient
    is 0, against the model's largest)."""
    X, y = three_classes() if task == "classes3" else targets()
    for depth, width in ((1, 3), (3, 6)):
        model = build_mlp(depth, width, act, "default", norm, residual, seed=depth,
                          out_dim=3 if task == "classes3" else 1, dtype=torch.float64)
        mine, ref = backward_pass(model, X, y).grads, autograd(model, X, y)
        scale = max(g.abs().max().item() for g in ref.values())
        for name in ref:
            err = (mine[name] - ref[name]).abs().max().item()
            assert err <= 1e-12 * (ref[name].abs().max().item() + scale), (name, err)


def test_output_errors_are_the_textbook_ones():
    """dL/dz = (softmax - onehot) / N and 2 (y_pred - y) / N, against autograd of PyTorch's own losses,
    and each point's softmax error sums to 0 over the classes."""
    g = torch.Generator().manual_seed(3)
    z = torch.randn(7, 4, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 4, (7,), generator=g)
    loss, d = loss_and_error(z.detach(), y)
    assert loss.item() == pytest.approx(F.cross_entropy(z, y).item(), rel=1e-14)
    torch.testing.assert_close(d, torch.autograd.grad(F.cross_entropy(z, y), z)[0], rtol=1e-13, atol=1e-16)
    assert d.sum(1).abs().max() < 1e-16
    t = torch.rand(7, generator=g, dtype=torch.float64)
    out = torch.randn(7, 1, generator=g, dtype=torch.float64, requires_grad=True)
    loss, d = loss_and_error(out.detach(), t)
    assert loss.item() == pytest.approx(F.mse_loss(out[:, 0], t).item(), rel=1e-14)
    torch.testing.assert_close(d, torch.autograd.grad(F.mse_loss(out[:, 0], t), out)[0], rtol=1e-13, atol=1e-16)
    # the batched forms the recorder uses agree with the one-model forms
    torch.testing.assert_close(batch_output_error(out.detach()[None], t[None])[0], d)
    sse, sst = ((out.detach()[:, 0] - t) ** 2).sum(), ((t - t.mean()) ** 2).sum()
    _, r2 = batch_loss_score(out.detach()[None], t)
    assert r2.item() == pytest.approx((1 - sse / sst).item(), rel=1e-13)


@pytest.mark.parametrize("task", ["classes3", "mse"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_gradient_checks_raise_no_false_alarms(task, dtype):
    data = make_dataset("spirals", 64, classes=3) if task == "classes3" else make_dataset("gauss", 64)
    for act, norm, residual in itertools.product(ALL_ACTIVATIONS, NORMS, [False, True]):
        model = build_mlp(3, 8, act, "default", norm, residual, seed=1, out_dim=3 if task == "classes3" else 1,
                          dtype=dtype)
        report = model_report(model, data.X_train.to(dtype), data.y_train)
        assert report.all_pass, (act, norm, residual, report.tensors)


def test_gradient_checks_still_catch_a_planted_bug_in_a_regression_net():
    from backprop_core.bugs import Bug
    data = make_dataset("plane", 64)
    model = build_mlp(3, 8, "tanh", out_dim=1, dtype=torch.float64)
    report = model_report(model, data.X_train.double(), data.y_train, bug=Bug("no_act_grad", 2))
    assert not report.all_pass and report.first_bad_layer == "2"


# ---------------------------------------------------------------- the data
@pytest.mark.parametrize("name,k", [("spirals", 3), ("spirals", 5), ("blobs", 4)])
def test_k_class_sets_are_balanced_and_seeded(name, k):
    a, b = make_dataset(name, 120, 0.1, 5, classes=k), make_dataset(name, 120, 0.1, 5, classes=k)
    assert torch.equal(a.X_train, b.X_train) and torch.equal(a.y_train, b.y_train)
    assert torch.bincount(a.y_train).tolist() == [120 // k + (c < 120 % k) for c in range(k)]


def test_two_classes_are_todays_sets_bit_for_bit():
    """classes = 2 is the default: spirals and blobs draw exactly the points every shared link showed."""
    for name in ("spirals", "blobs"):
        assert torch.equal(make_dataset(name, 200, 0.1, 3).X_train, make_dataset(name, 200, 0.1, 3, classes=2).X_train)
    with pytest.raises(ValueError, match="fixed task"):
        make_dataset("moons", 100, classes=3)


def test_regression_targets_are_the_named_functions():
    plane, gauss = make_dataset("plane", 500), make_dataset("gauss", 500)
    X = plane.X_train.double()
    torch.testing.assert_close(plane.y_train.double(), 0.6 * X[:, 0] - 0.4 * X[:, 1], rtol=0, atol=1e-7)
    X = gauss.X_train.double()
    bump = 2 * torch.exp(-(X ** 2).sum(1) / (2 * 1.28 ** 2)) - 1
    torch.testing.assert_close(gauss.y_train.double(), bump, rtol=0, atol=1e-6)
    assert abs(gauss.y_train.mean().item()) < 0.1                    # centred, so its first loss ~ its variance


def test_config_names_the_task_and_keeps_binary_links():
    values, notes = parse(TRAIN_PARAMS, {"data": "spirals", "classes": "3"})
    cfg = TrainConfig.from_values(values)
    assert cfg.task.out_dim == 3 and "spirals data, 3 classes" in cfg.summary() and not notes
    assert TrainConfig.from_values(parse(TRAIN_PARAMS, {"data": "moons", "classes": "4"})[0]).classes == 2
    assert "plane data, regression" in TrainConfig(data="plane").summary()
    assert "data, n = " in TrainConfig(data="moons").summary()                # binary: no task words
    assert parse(TRAIN_PARAMS, {"classes": "9"})[1] == ["classes must be 2..5; got 9, using 5"]
    assert "classes" not in TrainConfig(data="spirals").query()


def test_own_points_take_five_classes():
    points, notes = parse_points("0:0:0,1:1:4,2:2:5,1:0:2")
    assert [c for *_, c in points] == [0, 4, 2] and "class 0 to 4" in notes[0]
    assert task_for("custom", labels=[0, 4, 2]).classes == 5


# ---------------------------------------------------------------- what a learner checks
@pytest.mark.parametrize("name,k", [("spirals", 3), ("blobs", 5)])
def test_a_small_init_starts_at_ln_k(name, k):
    """The first loss with init = small, computed apart from the recorder (the model and PyTorch's
    cross-entropy), is within 0.02 of ln K, and the run records that same loss."""
    cfg = TrainConfig(data=name, classes=k, init="small", depth=2, width=32, epochs=1, n=300)
    model = build_mlp(2, 32, "relu", "small", seed=cfg.seed, out_dim=k, dtype=torch.float64)
    data = make_dataset(name, 300, classes=k, seed=cfg.dseed)
    first = F.cross_entropy(model(data.X_train.double()), data.y_train).item()
    assert abs(first - math.log(k)) < 0.02
    assert train(cfg).metrics[0, 0] == pytest.approx(first, rel=1e-12)


def test_a_small_init_regression_starts_at_the_targets_variance():
    cfg = TrainConfig(data="gauss", init="small", epochs=1)
    y = make_dataset("gauss", cfg.n, seed=cfg.dseed).y_train.double()
    first = train(cfg).metrics[0, 0]
    assert abs(first - y.var(unbiased=False).item()) < 0.05 * y.var().item()


def test_the_page_asks_before_it_answers_the_first_loss():
    view = SPIRALS_3 | {"init": "small", "epochs": "5"}
    at = open_page("flow", view, timeout=120)
    assert "Predict first" in texts(at) and "ln 3" not in texts(at)        # asked, not yet answered
    at.toggle(key="reveal_first_loss").set_value(True).run()
    shown = texts(at)
    assert "\\ln 3$ = 1.099" in shown
    model = build_mlp(2, 32, "relu", "small", seed=11, out_dim=3, dtype=torch.float64)
    data = make_dataset("spirals", 300, classes=3)
    first = F.cross_entropy(model(data.X_train.double()), data.y_train).item()
    assert f"loss before the first step: **{digits.number(first)}**" in shown


# ---------------------------------------------------------------- theory and diagnosis
@pytest.mark.parametrize("name,k", [("spirals", 3), ("blobs", 5), ("gauss", 0), ("plane", 0)])
def test_theory_line_covers_classes_and_regression(name, k):
    """Over seeds 0-9 the predicted signal is within 1.5x of the measured one at every layer
    (worst measured: 1.35x, the regression sets' first layer)."""
    logs = []
    for seed in range(10):
        cfg = TrainConfig(depth=6, width=32, act="tanh", epochs=1, seed=seed, data=name, classes=max(k, 2))
        logs.append(np.log(train(cfg).stats[0, :6, STAT_COLUMNS.index("signal_rms")]))
    data = make_dataset(name, 200, classes=max(k, 2))
    y = data.y_train.double() if k == 0 else data.y_train
    predicted = signal_at_init(data.X_train, y, 6, 32, "tanh", "default", out_dim=k or 1).predicted
    assert np.all(np.abs(np.log(predicted) - np.mean(logs, 0)) < math.log(1.5))


def test_a_regression_run_learns_by_r2():
    run = train(TrainConfig(data="gauss"))
    d = diagnose(run)
    assert d.verdict == "healthy" and d.learning == "learned"
    assert f"R² {digits.r_squared(final_metrics(run)['train_score'])}" in " ".join(d.evidence)
    stalled = train(TrainConfig(data="gauss", opt="sgd", lr=0.0001, epochs=5))
    d = diagnose(stalled)
    assert d.verdict == "not learned" and "R² = 0" in " ".join(d.evidence) and "accuracy" not in " ".join(d.evidence)


# ---------------------------------------------------------------- the pages
def test_three_arm_spiral_link_learns_to_95_percent():
    at = open_page("flow", SPIRALS_3, timeout=180)
    metrics = {m.label: m.value for m in at.metric}
    cfg = TrainConfig.from_values(parse(TRAIN_PARAMS, SPIRALS_3)[0])
    model, data, _ = autograd_training(cfg)               # plain autograd and torch.optim, float64
    expected = plain_score(model(data.X_train.double()), data.y_train)
    assert expected >= 0.95 and metrics["Train accuracy"] == digits.percent(expected)
    assert "spirals data, 3 classes" in texts(at) and not at.exception


def test_plane_regression_reaches_r2_095_at_the_page_defaults():
    at = open_page("flow", {"data": "plane"}, timeout=120)
    metrics = {m.label: m.value for m in at.metric}
    cfg = TrainConfig.preset("seed demo 3", data="plane")             # /flow's defaults
    model, data, _ = autograd_training(cfg)
    expected = plain_score(model(data.X_train.double()), data.y_train)
    assert expected >= 0.95 and metrics["Train R²"] == digits.r_squared(expected)
    assert "Train accuracy" not in metrics and "plane data, regression" in texts(at)


def test_a_binary_dataset_says_classes_does_not_apply_only_when_set():
    assert "has two classes" in texts(open_page("flow", {"data": "moons", "classes": "3"}))
    assert "has two classes" not in texts(open_page("flow", {"data": "moons"}))
    assert "regression task" in texts(open_page("vanishing", {"data": "gauss", "classes": "4", "epochs": "3"}))


def test_vanishing_page_handles_both_tasks():
    for view in ({"data": "blobs", "classes": "4", "epochs": "5"}, {"data": "plane", "epochs": "5"}):
        at = open_page("vanishing", view, timeout=120)
        assert not at.exception, view
        loss = chart_with(at, "loss_both")
        axis = "Loss (squared units of y)" if view["data"] == "plane" else "Loss (nats)"
        assert loss["spec"]["encoding"]["y"]["title"] == axis


def test_surfaces_colour_the_task():
    """K classes: a sure cell is its class's colour, an undecided one white; regression: -1, 0 and 1
    are the legend's three colours."""
    P = np.array([[[1.0, 0, 0], [0, 0, 1.0], [1 / 3, 1 / 3, 1 / 3]]])
    rgb = raster.class_colors(P)[0]
    hexes = ["#%02x%02x%02x" % tuple(c) for c in rgb]
    tint = raster.tint
    assert hexes == [tint(raster.CLASS_COLORS[0]), tint(raster.CLASS_COLORS[2]), tint(raster.MIDDLE)]
    v = raster.value_colors(np.array([[-1.0, 0.0, 1.0, 7.0]]))[0]
    assert ["#%02x%02x%02x" % tuple(c) for c in v] == raster.VALUE_LEGEND_RANGE + [raster.VALUE_LEGEND_RANGE[2]]
    pts = chart_data.surface_points(np.zeros((3, 2), np.float32), np.array([0.5, -0.25, 1.0]))
    assert pts["target"].tolist() == [0.5, -0.25, 1.0] and "label" not in pts


def test_chart_templates_follow_the_task():
    assert charts.for_task("surface", task_for("spirals", 3)) == "surface_k3"
    assert charts.for_task("surface", task_for("moons")) == "surface"
    assert charts.for_task("acc", task_for("plane")) == "r2" and charts.for_task("acc", task_for("moons")) == "acc"
    for kind in ("surface_k3", "surface_k4", "surface_k5", "surface_value", "r2", "loss_mse", "loss_both_mse",
                 "fixes_r2", "surface_clickable_classes"):
        assert charts.spec_text(kind)                      # every template builds


# ---------------------------------------------------------------- code for this view
def test_generated_scripts_reproduce_k_class_and_regression_runs_bit_for_bit():
    views = [{"data": "spirals", "classes": "3", "depth": "2", "width": "16", "epochs": "20"},
             {"data": "blobs", "classes": "5", "norm": "batch", "batch": "32", "epochs": "6"},
             {"data": "plane", "act": "tanh", "epochs": "15"},
             {"data": "gauss", "depth": "3", "norm": "layer", "residual": "true", "opt": "sgd", "epochs": "10"},
             {"data": "custom", "pts": "0:0:0,1:1:1,2:0:2,-1:1:0,0.5:-1:2"}]
    outputs = run_scripts([codegen.script("flow", v) for v in views])
    for view, got in zip(views, outputs, strict=True):
        values, _ = parse(TRAIN_PARAMS, view, ignore_unknown=True)
        cfg = TrainConfig.from_values(values | {"pts": view.get("pts", "")})
        assert_same(got, cfg)
        assert (got["final_r2"] is not None) == cfg.task.regression


@pytest.mark.parametrize("name,k", [("spirals", 3), ("gauss", 0)])
def test_depth_sweep_runs_on_the_task_and_matches_autograd(name, k):
    """The batched sweep's |dL/dW| for a K-class or a regression head, against autograd of PyTorch's
    own loss on the same weights; and the page's sweep asks for the run's own data."""
    from backprop_core.sweep import layer_gradients, sample_stack
    out_dim = k or 1
    stack = sample_stack("tanh", "default", seeds=2, depth=4, width=8, seed=3, out_dim=out_dim)
    data = make_dataset(name, 50, classes=max(k, 2))
    g = layer_gradients(stack, "tanh", data.X_train, data.y_train)
    for s in range(2):
        model = build_mlp(4, 8, "tanh", out_dim=out_dim)
        with torch.no_grad():
            for layer in range(4):
                model.hidden[layer].linear.weight.copy_(stack["W"][layer][s])
                model.hidden[layer].linear.bias.copy_(stack["b"][layer][s])
            model.out.weight.copy_(stack["W_out"][0][s])
            model.out.bias.copy_(stack["b_out"][0][s])
        grads = torch.autograd.grad(plain_loss(model(data.X_train), data.y_train),
                                    [b.linear.weight for b in model.hidden])
        for layer in range(4):
            assert g[s, 3, layer].item() == pytest.approx(grads[layer].abs().mean().item(), rel=1e-4)
    at = open_page("vanishing", {"data": name, "classes": str(max(k, 2)), "epochs": "3"}, timeout=120)
    assert f"on {name} data" in texts(at) and not at.exception
