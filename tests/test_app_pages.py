"""AppTest: every page, presets, widgets, URL state, garbage parameters, numbers vs the core."""
import math

import pytest
import torch

from backprop_core import hand
from backprop_core.check import model_report, two_layer_ledger
from backprop_core.config import TrainConfig
from backprop_core.data import make_dataset
from backprop_core.diagnose import diagnose
from backprop_core.manual import Bug
from backprop_core.models import build_mlp
from backprop_core.training import final_metrics, train

from apptools import charts, exceptions, open_page, texts


@pytest.mark.parametrize("page", ["home", "hand", "autograd", "flow", "vanishing"])
def test_every_page_renders_without_exceptions(page):
    at = open_page(page)
    assert exceptions(at) == [] and not at.error
    assert at.title and at.title[0].value


def test_home_links_every_page_and_preset():
    at = open_page("home")
    links = at.get("page_link")
    pages = {link.proto.page for link in links}
    assert {"hand", "autograd", "flow", "vanishing"} <= pages
    labels = {link.proto.label for link in links}
    assert {"Seed demo", "Exercise 1", "Seed demo 4", "A dying 10-layer sigmoid net"} <= labels


def test_hand_defaults_show_the_seed_numbers():
    at = open_page("hand")
    t = texts(at)
    for number in ("0.602653", "-0.316850", "-0.271585", "0.226321", "-0.633699", "0.452642"):
        assert number in t
    assert at.number_input(key="x1").value == 1.0 and at.number_input(key="w1_21").value == 0.3
    assert len(at.get("graphviz_chart")) == 1
    assert "0.547358" in at.get("graphviz_chart")[0].proto.spec


def test_hand_url_restores_exercise_1():
    q = dict(x1="2", x2="1", w1_11="0.2", w1_12="-0.3", w1_21="0.5", w1_22="0.4", w2_1="0.6", w2_2="-0.7", y="0")
    at = open_page("hand", q)
    expected = hand.two_layer([2, 1], [[0.2, -0.3], [0.5, 0.4]], [[0.6, -0.7]], 0)
    assert hand.fmt(expected.loss) == "0.999163" and "0.999163" in texts(at)
    assert at.number_input(key="w2_2").value == -0.7


def test_hand_widget_change_recomputes():
    at = open_page("hand")
    at.selectbox(key="act").set_value("tanh").run()
    r = hand.two_layer([1, 2], [[0.1, -0.2], [0.3, 0.4]], [[0.7, -0.5]], 1, "tanh")
    assert hand.fmt(r.loss) in texts(at)


def test_check_yourself_marks_answers():
    at = open_page("hand")
    r = hand.two_layer([1, 2], [[0.1, -0.2], [0.3, 0.4]], [[0.7, -0.5]], 1)
    at.text_input(key="ans_dL_dz2").input(f"{r.dL_dz2:.4f}")
    at.text_input(key="ans_dL_dW1[1][1]").input("42")
    at.text_input(key="ans_dL_dh[1]").input("not a number <b>")
    next(b for b in at.button if b.label == "Check my answers").click().run()
    assert exceptions(at) == []
    table = at.dataframe[0].value
    marks = dict(zip(table["quantity"], table["mark"], strict=True))
    assert marks["dL_dz2"] == "right" and marks["dL_dW1[1][1]"] == "wrong" and marks["dL_dh[1]"] == "no number"
    assert "1 of 15 right" in texts(at)
    assert set(table["solution"]) == {"(hidden)"}
    at.toggle(key="reveal").set_value(True).run()
    assert hand.fmt(r.dW1[0][0]) in set(at.dataframe[0].value["solution"])


@pytest.mark.parametrize("query,notice", [
    ({"x1": "abc"}, "x1: 'abc' is not a number"), ({"y": "7"}, "y must be 0..1; got 7, using 1"),
    ({"act": "<script>alert(1)</script>"}, "act: '?script?alert?1??"),
    ({"w2_1": "nan"}, "not a finite number"), ({"x2": ["1", "3"]}, "given 2 times")])
def test_hand_garbage_gives_a_notice(query, notice):
    at = open_page("hand", query)
    assert exceptions(at) == []
    assert any(notice in w.value for w in at.warning), [w.value for w in at.warning]


def test_autograd_ledger_matches_core():
    at = open_page("autograd", {"dtype": "float32"})
    shown = at.dataframe[0].value
    ref = two_layer_ledger([1, 2], [[0.1, -0.2], [0.3, 0.4]], [[0.7, -0.5]], 1, "relu", "float32")
    assert list(shown["parameter"]) == list(ref["parameter"])
    assert list(shown["autograd"]) == list(ref["autograd"])   # the very same floats
    assert "What float32 can resolve" in texts(at) and "6 of 6 entries pass" in texts(at)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_autograd_break_it_points_to_the_layer(dtype):
    at = open_page("autograd", {"bug": "no_act_grad", "bug_layer": "3", "dtype": dtype})
    assert exceptions(at) == []
    assert any("first layer whose gradient disagrees with autograd is **layer 3**" in e.value for e in at.error)
    at.selectbox(key="bug").set_value("none").run()
    model = build_mlp(4, 8, "tanh", seed=0, dtype=getattr(torch, dtype))
    data = make_dataset("linear", 64, 0.0, 11)
    report = model_report(model, data.X_train.to(getattr(torch, dtype)), data.y_train)
    assert report.all_pass                                       # an independent run of the checker
    assert any("agrees with autograd within what " + dtype in s.value for s in at.success)


def test_autograd_reports_a_disagreement_when_no_bug_is_planted_only_if_there_is_one(monkeypatch):
    """The success line must be conditional: with a manual pass that really is wrong (sign flipped
    everywhere through a patched backward), the page must not claim agreement."""
    import backprop_core.check as check
    real = check.backward_pass

    def broken(model, X, y, bug=None, update_running=False):
        return real(model, X, y, bug=Bug("wrong_sign", 1), update_running=update_running)

    monkeypatch.setattr(check, "backward_pass", broken)
    at = open_page("autograd", {"deep_depth": "3", "deep_width": "5"})
    assert not any("agrees with autograd" in s.value for s in at.success)
    assert any("No mistake planted, yet" in e.value for e in at.error)


def test_flow_defaults_are_seed_demo_3_and_match_the_core():
    at = open_page("flow")
    assert at.slider(key="depth").value == 1 and at.slider(key="depth").label == "Depth"
    cfg = TrainConfig.preset("seed demo 3")
    run = train(cfg)
    verdict = diagnose(run)
    assert at.success[0].value.startswith("Verdict: healthy")
    assert at.success[0].value == f"Verdict: {verdict.verdict}. " + " ".join(verdict.evidence)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Train accuracy"] == f"{final_metrics(run)['train_acc']:.1%}"
    specs = charts(at)
    assert len(specs) >= 6
    for c in specs:
        assert c["spec"].get("title") or c["spec"].get("hconcat") or c["spec"].get("layer")
        assert 0 < len(c["rows"]) <= 5000


def test_flow_url_restores_state_and_moving_depth_updates():
    at = open_page("flow", {"depth": "8", "act": "sigmoid", "width": "16", "epochs": "20"})
    assert at.slider(key="depth").value == 8 and at.selectbox(key="act").value == "sigmoid"
    assert at.warning[0].value.startswith("Verdict: vanishing")
    at.slider(key="depth").set_value(2).run()
    assert exceptions(at) == []
    layers = {r["layer_name"] for r in charts(at)[0]["rows"]}
    assert layers == {"1", "2", "out"}


@pytest.mark.parametrize("query,notice,depth", [
    ({"depth": "500"}, "depth must be 1..64; got 500, using 64", 64),
    ({"depth": "-3"}, "depth must be 1..64; got -3, using 1", 1),
    ({"depth": "abc"}, "depth: 'abc' is not a number", 1),
    ({"depth": "inf"}, "not a finite number", 1),
    ({"depth": ["2", "5"]}, "given 2 times", 5),
    ({"depth": "1e308"}, "using 64", 64)])
def test_flow_garbage_depth_is_explained_and_clamped(query, notice, depth):
    at = open_page("flow", query)
    assert exceptions(at) == []
    assert any(notice in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.slider(key="depth").value == depth


def test_flow_over_budget_is_refused_with_a_message():
    at = open_page("flow", {"depth": "64", "width": "256", "epochs": "500", "n": "5000", "batch": "1"})
    assert exceptions(at) == []
    assert any("would take about" in e.value for e in at.error)
    assert not at.get("vega_lite_chart")


def test_flow_diverging_run_shows_verdict_and_no_nan_in_charts():
    at = open_page("flow", {"depth": "6", "width": "32", "init": "large", "opt": "sgd", "lr": "50", "epochs": "30"})
    assert exceptions(at) == []
    assert any(e.value.startswith("Verdict: diverged") or e.value.startswith("Verdict: exploding") for e in at.error)
    for c in charts(at):
        assert "NaN" not in c["raw"] and "Infinity" not in c["raw"]
        for row in c["rows"]:
            for v in row.values():
                assert not (isinstance(v, float) and (math.isnan(v) or math.isinf(v)))


def test_vanishing_defaults_compare_seed_demo_4_with_relu():
    at = open_page("vanishing")
    assert at.slider(key="depth").value == 6 and at.selectbox(key="act").value == "sigmoid"
    assert any(w.value.startswith("Verdict: vanishing") for w in at.warning)
    assert any(s.value.startswith("Verdict with relu: healthy") for s in at.success)
    assert len(charts(at)) >= 7


def test_vanishing_fix_button_applies_the_fix():
    at = open_page("vanishing")
    at.button(key="apply_relu").click().run()
    assert at.selectbox(key="act").value == "relu"
    assert exceptions(at) == []


def test_vanishing_other_fix_and_exercise_4():
    at = open_page("vanishing", {"depth": "8"})
    assert "Exercise 4 complete" not in texts(at)                  # ReLU alone leaves dead units here
    assert "Verdict with relu: dead units" in texts(at)
    at.selectbox(key="fix").set_value("batchnorm").run()
    assert "Verdict with batchnorm: healthy" in texts(at)
    assert "Exercise 4 complete" in texts(at)


def test_preset_buttons_move_every_control():
    at = open_page("flow", {"depth": "3", "act": "tanh"})
    at.button(key="preset_Healthy deep ReLU").click().run()
    assert at.slider(key="depth").value == 20 and at.selectbox(key="act").value == "relu"
    assert at.selectbox(key="init").value == "kaiming" and at.selectbox(key="data").value == "moons"
    at = open_page("hand")
    at.button(key="preset_Exercise 1").click().run()
    assert "0.999163" in texts(at) and at.number_input(key="w2_2").value == -0.7


def test_tiny_gradients_reach_the_charts_exactly():
    """Vanishing gradients are 1e-8 and smaller: the chart data must keep them, not round them
    to 0 (which a log scale cannot draw)."""
    at = open_page("vanishing", {"depth": "8"})
    run = train(TrainConfig.preset("seed demo 4", depth=8))
    first = run.layer_stats[(run.layer_stats.epoch == 0) & (run.layer_stats.layer == 1)].grad_mean_abs.iloc[0]
    assert first < 1e-6
    rows = [r for c in charts(at) for r in c["rows"] if r.get("run") == "chosen" and r.get("layer") == 1
            and "grad_mean_abs" in r and "epoch" not in r]
    assert rows and math.isclose(rows[0]["grad_mean_abs"], float(first), rel_tol=1e-6)
    for c in charts(at):
        for r in c["rows"]:
            for key in ("grad_mean_abs", "grad_norm", "ratio_mean", "predicted"):
                if key in r and r[key] is not None:
                    assert r[key] > 0, (key, r)


def test_a_corrected_url_never_overrides_a_later_move():
    at = open_page("flow", {"depth": "500", "act": "tanh"})
    assert at.slider(key="depth").value == 64
    at.slider(key="depth").set_value(5).run()
    assert at.slider(key="depth").value == 5 and exceptions(at) == []
    at.slider(key="depth").set_value(7).run()
    assert at.slider(key="depth").value == 7
