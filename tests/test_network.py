"""The network drawing and the probe (network.py, /flow): every number of one point's pass against
float64 autograd on the snapshot's weights, the mean of the per-point gradients against the recorded
whole-batch gradient, and the page's `probe`, `sub` and `epoch`."""
import numpy as np
import pytest
import torch

from backprop_core.config import TrainConfig
from backprop_core.network import model_at, network_view, probe_point
from backprop_core.training import dataset_for, in_precision, train
from tests.apptools import open_page, texts
from tests.reference import plain_loss


def autograd_probe(model, x, label, regression):
    """z, h (output: p or y_pred) and dL/dz per layer, and dL/dW, by autograd on one point."""
    X = torch.tensor([x], dtype=torch.float64)
    y = torch.tensor([float(label)], dtype=torch.float64) if regression else torch.tensor([int(label)])
    zs, hs = [], []
    a = X
    for block in model.hidden:
        z = block.linear(a)
        z.retain_grad()
        u = block.norm(z) if block.norm is not None else z
        h = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[block.activation](u)
        zs.append(z)
        hs.append(h)
        a = a + h if block.residual else h
    out = model.out(a)
    out.retain_grad()
    loss = plain_loss(out, y)
    loss.backward()
    shown = out if regression else torch.softmax(out, 1)
    return loss.item(), zs + [out], hs + [shown], {n: p.grad for n, p in model.named_parameters()}


@pytest.mark.parametrize("kw,x,label", [
    (dict(depth=2, width=4), (0.5, -1.0), 0),
    (dict(depth=3, width=5, act="tanh", residual=True, norm="layer"), (-1.2, 0.3), 1),
    (dict(depth=2, width=6, act="sigmoid", data="spirals", classes=3), (0.2, 0.4), 2),
    (dict(depth=2, width=4, data="plane"), (0.3, -0.6), 0.42),
])
def test_every_number_of_the_probe_matches_float64_autograd(kw, x, label):
    cfg = TrainConfig.preset("seed demo 3", epochs=12, **kw)
    run = train(cfg)
    for epoch in (0, 6, 12):
        model = model_at(cfg, run.snapshots.params[epoch])
        probe = probe_point(model, x, label, cfg.task.regression)
        loss, zs, hs, grads = autograd_probe(model_at(cfg, run.snapshots.params[epoch]), x, label, cfg.task.regression)
        assert probe.loss == pytest.approx(loss, rel=1e-12)
        names = [str(i + 1) for i in range(cfg.depth)] + ["out"]
        for layer, z, h in zip(names, zs, hs, strict=True):
            rows = [r for r in probe.rows if r["layer"] == layer]
            np.testing.assert_allclose([r["z"] for r in rows], z[0].detach().numpy(), rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose([r["h"] for r in rows], h[0].detach().numpy(), rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose([r["dL/dz"] for r in rows], z.grad[0].numpy(), rtol=1e-10, atol=1e-15)
        for name, g in probe.dW.items():
            np.testing.assert_allclose(g, grads[name].numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("kw", [dict(depth=2, width=4), dict(depth=3, width=6, act="tanh", norm="layer", residual=True),
                                dict(depth=2, width=5, data="gauss")])
def test_the_mean_of_the_points_gradients_is_the_recorded_batch_gradient(kw):
    """Full batch, float64: (1/N) sum over the training points of each point's dL/dW equals the
    gradient the run recorded at that epoch, to 1e-10 relative."""
    cfg = TrainConfig.preset("seed demo 3", epochs=10, **kw)
    run = train(cfg)
    data = in_precision(dataset_for(cfg), torch.float64)
    for epoch in (0, 5):
        model = model_at(cfg, run.snapshots.params[epoch])
        total = {}
        for x, y in zip(data.X_train, data.y_train, strict=True):
            p = probe_point(model, (x[0].item(), x[1].item()), y.item(), cfg.task.regression)
            for n, g in p.dW.items():
                total[n] = total.get(n, 0) + g
        for n, g in total.items():
            recorded = run.snapshots.get(epoch, n, "grads")
            assert np.abs(g / len(data.X_train) - recorded).max() <= 1e-10 * np.abs(recorded).max(), n


def test_the_update_is_the_optimisers_step_from_the_batch_gradient():
    """Plain SGD: the recorded step of every weight is -lr times the whole batch's gradient."""
    cfg = TrainConfig.preset("seed demo 3", depth=2, width=4, opt="sgd", lr=0.05, epochs=12)
    run = train(cfg)
    snaps = run.snapshots
    n = sum(np.prod(snaps.layout[k][2]) for k in snaps.layout if k.endswith(".weight") and "norm" not in k)
    for epoch in snaps.steps:
        np.testing.assert_allclose(snaps.steps[epoch], -0.05 * snaps.grads[epoch][:n], rtol=1e-12, atol=1e-16)


def test_unit_maps_are_each_units_output():
    cfg = TrainConfig.preset("seed demo 3", depth=2, width=3, epochs=5)
    run = train(cfg)
    view = network_view(cfg, run.snapshots, 5, run.grid_x, run.grid_y)
    model = model_at(cfg, run.snapshots.params[5])
    x = torch.tensor([[run.grid_x[7], run.grid_y[21]]], dtype=torch.float64)
    h1 = torch.relu(model.hidden[0].linear(x))
    h2 = torch.relu(model.hidden[1].linear(h1))
    np.testing.assert_allclose(view.maps[0, :, 21, 7], h1[0].detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(view.maps[1, :, 21, 7], h2[0].detach().numpy(), rtol=1e-5)


def _table(at):
    return at.dataframe[0].value


def test_the_page_steps_through_the_probe_and_asks_before_it_shows_the_gradients():
    view = {"depth": "2", "width": "4", "probe": "0.5:-1:1", "epoch": "30"}     # a point the net gets wrong
    at = open_page("flow", view | {"sub": "forward"}, timeout=120)
    assert not at.exception and "The network after 30 epochs" in texts(at)
    table = _table(at)
    assert list(table.columns) == ["layer", "unit", "z", "h", "dL/dz"] and table["dL/dz"].isna().all()
    at = open_page("flow", view | {"sub": "backward"}, timeout=120)
    table = _table(at)
    cfg = TrainConfig.preset("seed demo 3", depth=2, width=4)
    run = train(cfg)
    loss, zs, hs, _ = autograd_probe(model_at(cfg, run.snapshots.params[30]), (0.5, -1.0), 1, False)
    expected = np.concatenate([z.grad[0].numpy() for z in zs])
    np.testing.assert_allclose(table["dL/dz"].to_numpy(dtype=float), expected, rtol=1e-9, atol=1e-13)
    assert "Backward." in texts(at)


@pytest.mark.parametrize("probe,message", [("abc", "is not x1:x2:label"), ("9:9:1", "outside |x|"),
                                           ("0:0:7", "is not a class of this task")])
def test_a_bad_probe_gets_a_notice_not_a_traceback(probe, message):
    at = open_page("flow", {"depth": "2", "width": "4", "probe": probe}, timeout=120)
    assert not at.exception and message in texts(at)


def test_large_networks_and_batchnorm_say_why():
    assert "one node per layer" in texts(open_page("flow", {"depth": "8", "net": "true"}, timeout=120))
    at = open_page("flow", {"depth": "2", "width": "4", "norm": "batch", "probe": "0:0:1"}, timeout=120)
    assert "With BatchNorm one point's gradient is not defined" in texts(at)


def test_the_generated_script_prints_the_probe_table():
    """Code for this view with a probe: the script's last JSON line carries the probe's rows, equal to
    the page's (the same weights at the scrubbed epoch, the same pass)."""
    from backprop_core import codegen
    from tests.test_codegen import run_scripts
    views = [{"depth": "2", "width": "4", "probe": "0.5:-1:1", "epoch": "24"},
             {"depth": "3", "width": "5", "act": "tanh", "norm": "layer", "residual": "true", "probe": "-1:0.5:0"},
             {"data": "gauss", "depth": "2", "width": "6", "probe": "0.3:0.2:0.8", "epoch": "0"},
             {"depth": "2", "width": "4", "norm": "batch", "probe": "0:0:1"}]
    outputs = run_scripts([codegen.script("flow", v) for v in views])
    for view, got in zip(views, outputs, strict=True):
        if view.get("norm") == "batch":
            assert got["probe"] is None
            continue
        cfg = TrainConfig.preset("seed demo 3", **{k: v for k, v in view.items() if k not in ("probe", "epoch")})
        run = train(cfg)
        epoch = int(view.get("epoch", cfg.epochs))
        x1, x2, label = (float(v) for v in view["probe"].split(":"))
        expected = probe_point(model_at(cfg, run.snapshots.params[epoch]), (x1, x2), label, cfg.task.regression)
        assert [r["layer"] for r in got["probe"]] == [r["layer"] for r in expected.rows]
        for mine, theirs in zip(got["probe"], expected.rows, strict=True):
            for key in ("z", "h", "dL/dz"):
                assert mine[key] == pytest.approx(theirs[key], rel=1e-12, abs=1e-15), (view, mine, theirs)


def test_the_drawing_is_drawn_when_asked_for():
    assert "The network after" not in texts(open_page("flow", {"depth": "2", "width": "4"}))
    at = open_page("flow", {"depth": "2", "width": "4", "net": "true"})
    assert "The network after 60 epochs" in texts(at) and "Probe a point" in texts(at)
