"""Instrumented training: seed reproductions, statistics vs direct computation, divergence."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from backprop_core.config import TrainConfig
from backprop_core.data import make_dataset
from backprop_core.models import build_mlp
from backprop_core.results import HIST_BINS, METRIC_COLUMNS, STAT_COLUMNS, final_metrics
from backprop_core.training import train

from reference import autograd_first_step

LOSS = METRIC_COLUMNS.index("train_loss")


def at(run, epoch, layer_name, column):
    ls = run.layer_stats
    return float(ls[(ls.epoch == epoch) & (ls.layer_name == layer_name)][column].iloc[0])


def test_seed_demo_4_sigmoid_learns_nothing():
    run = train(TrainConfig.preset("seed demo 4"))
    assert at(run, 0, "1", "grad_mean_abs") < 1e-2 * at(run, 0, "6", "grad_mean_abs")
    final = final_metrics(run)
    assert abs(final["train_loss"] - math.log(2)) < 0.01
    assert final["train_score"] <= 0.6


def test_seed_demo_4_with_relu_learns():
    run = train(TrainConfig.preset("seed demo 4", act="relu"))
    ratio = at(run, 0, "1", "grad_mean_abs") / at(run, 0, "6", "grad_mean_abs")
    assert 0.1 <= ratio <= 10
    assert final_metrics(run)["train_score"] >= 0.95


def test_seed_demo_3_learns_and_its_gradient_falls():
    run = train(TrainConfig.preset("seed demo 3"))
    assert final_metrics(run)["train_score"] >= 0.95
    first, last = at(run, 0, "1", "grad_mean_abs"), at(run, 59, "1", "grad_mean_abs")
    assert first >= 10 * last


def test_statistics_match_a_direct_computation():
    """Epoch-0 statistics of a tiny run equal those computed from scratch with autograd."""
    cfg = TrainConfig(depth=3, width=5, act="sigmoid", epochs=2, seed=4, n=40, opt="sgd", lr=0.5)
    run = train(cfg)
    model, _, loss, zs = autograd_first_step(cfg)
    weights = [b.linear.weight for b in model.hidden] + [model.out.weight]
    for k, (w, name) in enumerate(zip(weights, ["1", "2", "3", "out"], strict=True)):
        g = w.grad
        assert at(run, 0, name, "grad_mean_abs") == pytest.approx(g.abs().mean().item(), rel=1e-5)
        assert at(run, 0, name, "grad_norm") == pytest.approx(g.norm().item(), rel=1e-5)
        assert at(run, 0, name, "grad_max_abs") == pytest.approx(g.abs().max().item(), rel=1e-5)
        assert at(run, 0, name, "weight_norm") == pytest.approx(w.norm().item(), rel=1e-5)
        # plain SGD: the update is lr * g, so the ratio is lr * |g| / |W|
        assert at(run, 0, name, "update_ratio") == pytest.approx(0.5 * g.norm().item() / w.norm().item(),
                                                                 rel=1e-4)
        if k < 3:
            z = zs[k]
            assert at(run, 0, name, "signal_norm") == pytest.approx(z.grad.norm().item(), rel=1e-5)
            h = torch.sigmoid(z)
            assert at(run, 0, name, "act_mean") == pytest.approx(h.mean().item(), rel=1e-5)
            assert at(run, 0, name, "act_std") == pytest.approx(h.std().item(), rel=1e-5)
            assert at(run, 0, name, "saturated") == pytest.approx((z.abs() > 4).float().mean().item())
            assert run.grad_hist[0][k].tolist() == histogram(g).tolist()
    assert run.metrics[0, LOSS] == pytest.approx(loss.item(), rel=1e-6)


def histogram(g: torch.Tensor) -> np.ndarray:
    """Counts of |g| per bin, one entry at a time: exactly 0; below 1e-12; the half decades
    [1e-12, 1e-11.5), ..., [1e1.5, 1e2); 1e2 and above."""
    counts = np.zeros(31, dtype=int)
    for v in g.abs().reshape(-1).tolist():
        if v == 0:
            counts[0] += 1
        elif v < 1e-12:
            counts[1] += 1
        elif v >= 1e2:
            counts[30] += 1
        else:
            counts[2 + int(math.floor((math.log10(v) + 12) / 0.5))] += 1
    return counts


def test_the_histogram_keeps_exact_zeros_tiny_and_huge_gradients_apart():
    """The exploding preset at epoch 0 has entries of |g| >= 100 (they were drawn as 1.5 to 2), and a
    dying ReLU net has exact zeros (they shared the first bin with tiny values)."""
    run = train(TrainConfig.preset("exploding"))
    model, data = build_mlp(6, 32, "relu", "large", seed=5, dtype=torch.float64), make_dataset("linear", 200)
    F.cross_entropy(model(data.X_train.double()), data.y_train).backward()
    weights = [b.linear.weight for b in model.hidden] + [model.out.weight]
    expected = np.stack([histogram(w.grad) for w in weights])
    assert (run.grad_hist[0] == expected).all()
    assert expected[:, 30].sum() > 0 and run.grad_hist[0][:, 30].sum() == expected[:, 30].sum()
    dead = train(TrainConfig(depth=10))
    last = max(dead.grad_hist)
    hidden = dead.grad_hist[last][:10]
    assert (hidden[:, 0] == hidden.sum(1)).all() and hidden.sum() == 2 * 10 + 9 * 100   # every entry exactly 0


def test_late_epoch_statistics_match_an_independent_adam_loop():
    """Statistics are reduced per chunk of epochs: at epochs inside and at the end of chunks they
    still equal those of a plain torch.optim.Adam loop on the same model, computed from scratch."""
    cfg = TrainConfig(depth=6, width=32, act="sigmoid", opt="adam", lr=0.07, epochs=30, seed=12)
    run = train(cfg)
    data = make_dataset(cfg.data, cfg.n, cfg.noise, cfg.dseed)
    model = build_mlp(cfg.depth, cfg.width, cfg.act, cfg.init, seed=cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    zs: list[torch.Tensor] = []
    for b in model.hidden:
        b.linear.register_forward_hook(lambda m, i, z: zs.append(z.detach()))
    checked = 0
    for epoch in range(cfg.epochs):
        zs.clear()
        loss = F.cross_entropy(model(data.X_train), data.y_train)
        opt.zero_grad()
        loss.backward()
        if epoch in (5, 17, 29):
            for k, block in enumerate(model.hidden):
                name = str(k + 1)
                assert at(run, epoch, name, "saturated") == pytest.approx((zs[k].abs() > 4).float().mean().item())
                assert at(run, epoch, name, "act_mean") == pytest.approx(torch.sigmoid(zs[k]).mean().item(),
                                                                         rel=1e-4)
                g = block.linear.weight.grad
                assert at(run, epoch, name, "grad_mean_abs") == pytest.approx(g.abs().mean().item(), rel=1e-4)
                checked += 1
        opt.step()
    assert checked == 18
    assert run.metrics[cfg.epochs - 1, LOSS] == pytest.approx(loss.item(), rel=1e-5)
    with torch.no_grad():                                    # the last row: after the last update
        final = F.cross_entropy(model(data.X_train), data.y_train).item()
    assert run.metrics[-1, LOSS] == pytest.approx(final, rel=1e-5)


def test_dead_units_are_counted_over_the_whole_training_set():
    """A unit is dead when its ReLU input is <= 0 for every training point, not just the first
    mini-batch's (with batch 4 the old count was 37.5% where the truth is a few percent)."""
    for batch in (0, 4):
        cfg = TrainConfig(depth=2, width=8, act="relu", init="large", epochs=1, seed=2, n=50, batch=batch)
        run = train(cfg)
        model = build_mlp(2, 8, "relu", "large", seed=2)
        X = make_dataset("linear", 50, 0.0, 11).X_train
        z1 = model.hidden[0].linear(X)
        z2 = model.hidden[1].linear(torch.relu(z1))
        assert at(run, 0, "1", "dead") == pytest.approx((z1 <= 0).all(0).float().mean().item())
        assert at(run, 0, "2", "dead") == pytest.approx((z2 <= 0).all(0).float().mean().item())


@pytest.mark.parametrize("act", ["leaky_relu", "elu", "gelu", "sigmoid", "tanh"])
def test_only_relu_units_can_be_dead(act):
    """Leaky ReLU, ELU and GELU keep a slope below 0, so their units always pass gradient."""
    run = train(TrainConfig(depth=3, width=8, act=act, init="large", epochs=2, seed=2, n=50))
    assert (run.layer_stats.dead.fillna(0) == 0).all()


def test_tidy_shapes_and_determinism():
    cfg = TrainConfig(depth=4, width=8, epochs=7, batch=32, n=100, norm="batch", act="tanh")
    a, b = train(cfg), train(cfg)
    assert len(a.layer_stats) == 7 * 5 and list(a.layer_stats.columns[3:]) == STAT_COLUMNS
    assert len(a.metrics) == 8
    assert a.layer_stats.equals(b.layer_stats) and np.array_equal(a.metrics, b.metrics)
    assert set(a.grad_hist) == set(range(7)) and a.grad_hist[0].shape == (5, HIST_BINS)
    assert a.grad_hist[0].sum() == sum(w * f for w, f in [(8 * 2, 1), (8 * 8, 3), (2 * 8, 1)])
    assert 0 in a.surfaces and 7 in a.surfaces and a.surfaces[7].shape == (30, 30)


def test_histograms_are_kept_at_the_epochs_the_scrubber_shows():
    run = train(TrainConfig(depth=2, width=8, epochs=60))
    assert sorted(run.surfaces) == list(range(0, 61, 6))
    assert set(run.grad_hist) == set(range(0, 60, 6)) | {59}
    assert run.hist_epoch(60) == 59 and run.hist_epoch(13) == 12


@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam"])
def test_optimizers_reduce_the_loss(opt):
    run = train(TrainConfig(depth=2, width=16, opt=opt, lr=0.05 if opt != "sgd" else 0.5, epochs=40))
    assert run.metrics[-1, LOSS] < 0.6 * run.metrics[0, LOSS]


def test_clipping_caps_the_update():
    cfg = TrainConfig(depth=3, width=8, opt="sgd", lr=1.0, clip=0.01, epochs=3, init="large")
    run = train(cfg)
    ls = run.layer_stats
    updates = (ls.update_ratio * ls.weight_norm).groupby(ls.epoch).apply(lambda s: np.sqrt((s ** 2).sum()))
    assert (updates <= 0.0101).all()  # weight-matrix part of the clipped step of lr * 0.01


def test_divergence_stops_cleanly_and_keeps_history():
    run = train(TrainConfig(depth=6, width=32, act="relu", init="large", opt="sgd", lr=50.0, epochs=30))
    assert run.diverged_at is not None
    assert len(run.layer_stats) == run.diverged_at * 7
    assert np.isfinite(run.finite_metrics()).all() and len(run.finite_metrics()) == len(run.metrics)
    numeric = run.layer_stats[["grad_mean_abs", "grad_norm", "weight_norm"]].to_numpy()
    assert np.isfinite(numeric).all()


def test_progress_callback_sees_every_epoch():
    seen = []
    train(TrainConfig(epochs=5, depth=2), on_epoch=lambda e, total: seen.append((e, total)))
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_a_run_that_keeps_the_fewest_snapshots_shows_the_same_numbers():
    """/vanishing and the rounding twins keep only the first and last epoch's snapshot (no surface is
    drawn from the others): every statistic, metric and the verdict stay the same, bit for bit."""
    from dataclasses import replace

    from backprop_core.config import FEWEST_SNAPSHOTS
    from backprop_core.diagnose import diagnose
    cfg = TrainConfig.preset("seed demo 4", epochs=12)
    full, few = train(cfg), train(replace(cfg, snapshots=FEWEST_SNAPSHOTS))
    assert np.array_equal(full.stats, few.stats, equal_nan=True)
    assert np.array_equal(full.metrics, few.metrics, equal_nan=True)
    same = replace(diagnose(few), fixes=[replace(f, config=replace(f.config, snapshots=cfg.snapshots))
                                         for f in diagnose(few).fixes])
    assert diagnose(full) == same                       # the fixes' runs keep the page's snapshots
    assert len(full.surfaces) == 11 and sorted(few.surfaces) == [0, 12]


def test_the_vanishing_page_trains_its_runs_with_the_fewest_snapshots():
    from backprop_core.config import PAGE_SNAPSHOTS
    from backprop_core.fixes import apply_fix
    from dashboard import compute
    from tests.apptools import open_page
    at = open_page("vanishing", {"epochs": "7", "seed": "4321", "fix": "he"})    # both runs shown
    assert not at.exception
    shown = TrainConfig.preset("seed demo 4", epochs=7, seed=4321).on_page("vanishing")
    assert PAGE_SNAPSHOTS["vanishing"] < PAGE_SNAPSHOTS["flow"]
    for cfg in (shown, apply_fix(shown, "he")):
        run = compute.cached_run(cfg)
        assert run is not None and len(run[0].surfaces) == PAGE_SNAPSHOTS["vanishing"]
