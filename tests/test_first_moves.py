"""What a learner sees at the first moves is true (issue 15): each test checks one page against an
independent computation (plain autograd and torch.optim in float64, or a direct formula)."""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from backprop_core import hand, readout
from backprop_core.budget import BUDGET_SECONDS, estimate_seconds
from backprop_core.config import TrainConfig
from backprop_core.diagnose import diagnose
from backprop_core.fixes import apply_fix
from backprop_core.presets import PRESETS
from backprop_core.results import STAT_COLUMNS, final_metrics
from backprop_core.training import train
from dashboard import charts as chart_templates

from apptools import chart_with, charts, exceptions, open_page, texts
from reference import autograd_training


def metrics_of(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def alerts(at) -> list[str]:
    return [e.value for kind in ("success", "warning", "error", "info") for e in at.get(kind)]


# ---------------------------------------------------------------- 1. dead, not vanishing
@pytest.mark.parametrize("depth", [10, 20])
def test_a_relu_net_that_dies_is_called_dead_with_when_and_how_much(depth):
    """/flow?depth=10: from some epoch one layer's units all output 0 for every point; from then on
    no gradient reaches the layers below. The page says the network died, at that epoch, which layer,
    and its Status is not 'ok'."""
    cfg = TrainConfig(depth=depth)
    model, data, dead = autograd_training(cfg)
    cut = (dead >= 1.0).any(1)
    assert bool(cut[-1]), "this network should die"
    alive = torch.nonzero(~cut).flatten()
    died = int(alive[-1]) + 1 if len(alive) else 0
    layer = int(torch.nonzero(dead[died] >= 1.0)[0]) + 1
    at = open_page("flow", {"depth": str(depth)})
    assert metrics_of(at)["Status"] == f"died at epoch {died}"
    verdict = next(a for a in alerts(at) if a.startswith("Verdict"))
    assert verdict.startswith(f"Verdict: dead units. The network died at epoch {died}: from then on every unit "
                              f"of layer {layer} outputs 0")
    if depth == 10:
        assert "layers 8-10: 100%" in verdict and dead[-1, 7:].min() == 1.0
    # and the layers below it really receive exactly zero gradient from then on
    F.cross_entropy(model(data.X_train.double()), data.y_train).backward()
    assert all(float(model.hidden[i].linear.weight.grad.abs().max()) == 0.0 for i in range(layer))


# ---------------------------------------------------------------- 2. exact zeros stay visible
def test_exact_zeros_are_drawn_and_the_epoch_axis_spans_the_run():
    at = open_page("flow", {"depth": "10"})
    run = train(TrainConfig(depth=10))
    g = run.column("grad_mean_abs")
    lines = chart_with(at, "grad_lines")["datasets"]
    zero_cells = {(r["epoch"], r["layer"]) for r in lines["grad_zero"]}
    assert zero_cells == cells_where(g == 0) and zero_cells
    epochs = {r["epoch"] for r in lines["grad_lines"]} | {e for e, _ in zero_cells}
    assert epochs == set(range(len(run.stats)))                 # the axis spans all 60 epochs
    heat = chart_with(at, "heat")["datasets"]
    norm = run.column("grad_norm")
    assert {(r["epoch"], r["layer"]) for r in heat["heat_zero"]} == cells_where(norm == 0)
    assert "exactly 0" in json_text(chart_with(at, "heat")["spec"])


def cells_where(mask: np.ndarray) -> set[tuple[int, int]]:
    """(epoch, layer) pairs, layers 1-based, where an (epoch, layer) mask holds."""
    return {(int(e), int(layer) + 1) for e, layer in zip(*np.nonzero(mask), strict=True)}


def json_text(spec) -> str:
    import json
    return json.dumps(spec, ensure_ascii=False)


def test_the_histogram_legend_reads_as_a_share_and_every_special_bin_is_labelled():
    spec = json_text(json_loads(chart_templates.spec_text("grad_distribution")))
    assert '"format": ".0%"' in spec
    for label in ("'0'", "'<1e-12'", "'≥1e2'"):
        assert label in spec
    at = open_page("flow", PRESET_QUERY["exploding"] | {"epoch": "0"})
    rows = chart_with(at, "hist")["datasets"]["hist"]
    assert {"1e2 and above", "exactly 0"} <= {r["bin"] for r in rows}


def json_loads(text):
    import json
    return json.loads(text)


# ---------------------------------------------------------------- 3. numbers for reading
PRESET_QUERY = {name: {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in p.items()}
                for name, p in PRESETS.items()}
NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?", re.IGNORECASE)


def significant_digits(token: str) -> int:
    mantissa = re.split("e", token.replace(",", "").lstrip("-"), flags=re.IGNORECASE)[0]
    digits = mantissa.replace(".", "").lstrip("0")
    return len(digits)


@pytest.mark.parametrize("page,query", [("flow", PRESET_QUERY["exploding"]), ("flow", {"depth": "10"}),
                                        ("flow", {}), ("vanishing", {"rank": "true"}), ("autograd", {}),
                                        ("hand", {"reveal": "true"})])
def test_no_page_prints_a_number_with_more_than_seven_significant_digits(page, query):
    at = open_page(page, query, timeout=120)
    assert exceptions(at) == []
    shown = texts(at) + "\n" + "\n".join(metrics_of(at).values())
    long = [t for t in NUMBER.findall(shown) if significant_digits(t) > 7]
    assert long == []


def test_the_exploding_preset_prints_its_loss_in_scientific_notation():
    at = open_page("flow", PRESET_QUERY["exploding"])
    run = train(TrainConfig.preset("exploding"))
    loss = metrics_of(at)["Train loss"]
    assert re.fullmatch(r"\d\.\d{3}e\+\d+", loss) and float(loss) == pytest.approx(final_metrics(run)["train_loss"],
                                                                                  rel=1e-3)


# ---------------------------------------------------------------- 4. one colour scale for a pair
def test_the_two_heatmaps_of_vanishing_share_one_colour_scale():
    at = open_page("vanishing", {"depth": "10", "opt": "sgd", "lr": "0.5", "epochs": "60", "fix": "batchnorm"})
    left, right = chart_with(at, "heat_chosen")["datasets"], chart_with(at, "heat_fixed")["datasets"]
    values = [r["grad_norm"] for r in left["heat_chosen"] + right["heat_fixed"]]
    expected = [min(values), max(values)]
    assert [r["grad_norm"] for r in left["heat_chosen_domain"]] == expected
    assert [r["grad_norm"] for r in right["heat_fixed_domain"]] == expected
    assert max(values) / min(values) > 1e4                       # the pair spans decades: one scale matters


# ---------------------------------------------------------------- 5. what "best" and "healthy" mean
def test_a_verdict_separates_gradients_flowing_from_the_network_learning():
    demo4 = TrainConfig.preset("seed demo 4")
    layer = train(apply_fix(demo4, "layernorm"))
    d = diagnose(layer)
    assert final_metrics(layer)["train_score"] < 0.9 and d.verdict == "not learned"
    assert "Gradients flow" in d.titled("Verdict") and "has not learned" in d.titled("Verdict")
    relu = train(apply_fix(demo4, "relu"))
    dead = relu.column("dead")[-1, :relu.depth]
    text = diagnose(relu).titled("Verdict")
    assert dead.max() >= 0.4 and "Many units are dead" in text


# ---------------------------------------------------------------- 6. BatchNorm's two modes
def test_batchnorm_metrics_say_their_mode_and_show_both_when_they_differ():
    cfg = TrainConfig.preset("seed demo 4", norm="batch")
    model, data, _ = autograd_training(cfg)
    X, y = data.X_train.double(), data.y_train
    with torch.no_grad():
        model.eval()
        eval_logits = model(X)
        model.train()
        train_logits = model(X)
    run = train(cfg)
    assert final_metrics(run)["train_loss"] == pytest.approx(F.cross_entropy(eval_logits, y).item(), rel=1e-6)
    assert run.train_mode["train_loss"] == pytest.approx(F.cross_entropy(train_logits, y).item(), rel=1e-6)
    assert run.train_mode["train_score"] == (train_logits.argmax(1) == y).double().mean().item()
    at = open_page("flow", PRESET_QUERY["seed demo 4"] | {"norm": "batch"})
    notice = next(a for a in alerts(at) if "BatchNorm has two modes" in a)
    assert "eval mode" in notice and readout.number(run.train_mode["train_loss"]) in notice
    assert "differ much" in notice


# ---------------------------------------------------------------- 7. weight decay
def test_with_weight_decay_the_page_shows_what_the_optimiser_minimises():
    cfg = TrainConfig(wd=0.1)
    model, data, _ = autograd_training(cfg)
    penalty = 0.5 * cfg.wd * sum(p.detach().square().sum().item() for p in model.parameters())
    run = train(cfg)
    assert final_metrics(run)["l2_penalty"] == pytest.approx(penalty, rel=1e-9)
    at = open_page("flow", {"wd": "0.1"})
    curve = chart_with(at, "curve")["datasets"]["curve"]
    last = max(r["epoch"] for r in curve)
    by_split = {r["split"]: r["value"] for r in curve if r["epoch"] == last}
    assert by_split["train + L2 penalty"] == pytest.approx(by_split["train"] + penalty, rel=1e-9)
    total = readout.number(final_metrics(run)["train_loss"] + penalty)
    assert any(f"= {total}" in c.value for c in at.caption)
    assert not any(r["split"] == "train + L2 penalty" for r in chart_with(open_page("flow"), "curve")["datasets"]
                   ["curve"])


# ---------------------------------------------------------------- 8. the budget refuses only what is slow
def test_the_deepest_slider_position_runs_when_it_fits_the_budget():
    cfg = TrainConfig(depth=64)
    assert estimate_seconds(cfg) < BUDGET_SECONDS
    at = open_page("flow", {"depth": "64"}, timeout=120)
    assert exceptions(at) == [] and not any("would take about" in a for a in alerts(at))
    assert metrics_of(at)["Status"]


# ---------------------------------------------------------------- 9. focused links
def test_a_focused_link_disables_the_fixes_that_would_move_a_hidden_control():
    query = {"fix": "batchnorm", "hide": "width,init,norm,residual,opt,lr,epochs,seed,data,n,noise,batch,wd,clip,"
             "dseed,fix", "rank": "true"}
    at = open_page("vanishing", query, timeout=120)
    buttons = {b.key: b for b in at.button if b.key}
    assert buttons["apply_he"].disabled and "This link fixes the initialisation" in buttons["apply_he"].help
    assert buttons["apply_residual"].disabled and not buttons["apply_relu"].disabled      # activation moves
    ranked = [k for k in buttons if k.startswith("rank_apply_")]
    assert ranked and all(buttons[k].disabled for k in ranked)       # relu's row waits for Exercise 4's prediction


# ---------------------------------------------------------------- 11. answers at 3 significant figures
def test_an_answer_counts_when_it_agrees_to_three_significant_figures():
    assert hand.grade_answer("-1.83", -1.826959) is True
    assert hand.grade_answer("-1.82", -1.826959) is False
    assert hand.grade_answer("0.000", 0.0004) is True                     # near 0: within 0.001
    assert hand.grade_answer("2470", 2474.4) is True and hand.grade_answer("2460", 2474.4) is False


# ---------------------------------------------------------------- 12. one naming, one notice, square plane
def test_a_bad_point_is_reported_once():
    at = open_page("flow", {"data": "custom", "pts": "1:1:0,zz,2:2:1"})
    assert sum("'zz'" in w.value for w in at.warning) == 1


def test_inputs_are_x1_and_x2_everywhere_and_no_caption_says_left_or_right():
    at = open_page("flow", {"data": "custom", "pts": "1:1:0,2:2:1"})
    raw = "\n".join(json_text(c["spec"]) for c in charts(at))
    assert "x₀" not in raw and "x₁ (input 1)" in raw and "x₂ (input 2)" in raw
    for page in ("flow", "vanishing"):
        t = texts(open_page(page))
        assert not re.search(r"\b(Left|Right), the\b|on the left\b", t)


def test_the_clickable_plane_is_square_and_no_chart_is_wider_than_a_phone():
    spec = json_loads(chart_templates.spec_text("surface_clickable"))
    assert spec["width"] == spec["height"] <= 360
    for kind in chart_templates.BUILDERS:
        assert json_loads(chart_templates.spec_text(kind)).get("width", 0) <= 360, kind


def test_train_and_test_have_distinct_colours():
    spec = json_loads(chart_templates.spec_text("loss"))
    colours = spec["encoding"]["color"]["scale"]["range"]
    assert len(set(colours)) == len(colours) == 3


# ---------------------------------------------------------------- 13. the theory line, as measured
def test_the_theory_caption_says_what_the_dashed_line_predicts():
    at = open_page("vanishing")
    assert any("average over random initialisations" in c.value for c in at.caption)


def stat(run, name):
    return run.stats[:, :, STAT_COLUMNS.index(name)]
