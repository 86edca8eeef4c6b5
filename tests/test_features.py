"""Features beyond the peers: your own data, focused links, every fix ranked, backprop step by step."""
import math

import pytest

from backprop_core import hand
from backprop_core.config import TrainConfig
from backprop_core.diagnose import diagnose, gradient_ratio
from backprop_core.fixes import FIXES, apply_fix
from backprop_core.points import POINT_LIMIT, custom_problem, parse_csv, parse_points, points_text
from backprop_core.readout import number
from backprop_core.results import final_metrics
from backprop_core.training import train
from dashboard import custom_data, fixes, graph

from apptools import exceptions, open_page, texts

POINTS = "-1:-1:0,-1.5:-0.5:0,-0.5:-1.2:0,1:1:1,1.2:0.4:1,0.6:1.5:1"


# ---------------------------------------------------------------- your own data
def test_points_parse_drop_what_is_unusable_and_say_which():
    points, notes = parse_points("1:2:0,3:4:1,x:1:0,9:9:1,1:2:7,0.12345:-1:1,,")
    assert points == [(1.0, 2.0, 0), (3.0, 4.0, 1), (0.123, -1.0, 1)]
    assert any("dropped 2 points" in n and "#3 'x 1 0'" in n and "#5 '1 2 7'" in n for n in notes)
    assert any("outside |x| ≤ 5" in n and "#4 '9 9 1'" in n for n in notes)
    too_many, notes = parse_points(",".join(f"0:0:{k % 2}" for k in range(POINT_LIMIT + 7)))
    assert len(too_many) == POINT_LIMIT and any(f"kept the first {POINT_LIMIT}" in n for n in notes)
    assert parse_points("")[0] == [] and parse_points("")[1] == []
    assert points_text(parse_points("1.0:2.50:0")[0]) == "1:2.5:0"


def test_csv_with_or_without_a_header():
    assert parse_csv("x1,x2,label\n1,2,0\n3,4,1\n")[0] == [(1.0, 2.0, 0), (3.0, 4.0, 1)]
    assert parse_csv("1,2,0\r\n-3,4,1")[0] == [(1.0, 2.0, 0), (-3.0, 4.0, 1)]
    points, notes = parse_csv("x1,x2,label\n1,2,0\nbad,row\n1,2,7\n8,0,1\n")
    assert points == [(1.0, 2.0, 0)]
    assert any(n.startswith("CSV: dropped 2 points") for n in notes) and any("outside" in n for n in notes)
    assert custom_data.csv_text(points) == "x1,x2,label\n1,2,0\n"


def test_too_few_points_or_one_class_is_explained():
    assert "has 1 point" in custom_problem([(0.0, 0.0, 1)])
    assert "at least two classes" in custom_problem([(0.0, 0.0, 1), (1.0, 1.0, 1)])
    assert custom_problem([(0.0, 0.0, 1), (1.0, 1.0, 0)]) is None


def test_custom_data_trains_on_all_its_points():
    cfg = TrainConfig.from_values({"data": "custom", "pts": POINTS, "depth": 2, "epochs": 40, "n": 999})
    assert cfg.n == 6 and cfg.summary().endswith("custom data, n = 6, seed 11")
    run = train(cfg)
    expected = [v for x1, x2, _ in parse_points(POINTS)[0] for v in (x1, x2)]
    assert run.X_train.reshape(-1).tolist() == pytest.approx(expected, rel=1e-7)
    assert final_metrics(run)["train_score"] == final_metrics(run)["test_score"] == 1.0


def test_custom_data_page():
    at = open_page("flow", {"data": "custom", "pts": POINTS + ",7:0:1,a:b:c", "epochs": "30"})
    assert exceptions(at) == []
    assert "custom data, n = 6" in texts(at)
    assert any("pts: dropped 1 point outside" in w.value for w in at.warning)
    assert any("not x1, x2, class" in w.value for w in at.warning)
    assert "test figures are the training points" in texts(at)
    assert any(m.label.startswith("Test accuracy (= training points)") for m in at.metric)
    assert parse_points(at.text_area(key="pts").value)[0] == parse_points(POINTS)[0]
    at.button(key="pts_undo").click().run()
    assert parse_points(at.text_area(key="pts").value)[0] == parse_points(POINTS)[0][:-1]
    assert "custom data, n = 5" in texts(at)
    at.button(key="pts_clear").click().run()
    assert at.text_area(key="pts").value == ""
    assert "Your data has 0 points" in texts(at) and exceptions(at) == []


@pytest.mark.parametrize("pts,message", [("1:1:0", "has 1 point"), ("1:1:1,2:2:1", "at least two classes"),
                                         ("zzz", "has 0 points")])
def test_custom_data_that_cannot_train_says_why_on_both_pages(pts, message):
    for page in ("flow", "vanishing"):
        at = open_page(page, {"data": "custom", "pts": pts})
        assert exceptions(at) == []
        assert any(message in w.value for w in at.warning), (page, [w.value for w in at.warning])


# ---------------------------------------------------------------- focused links
def test_hidden_controls_keep_their_link_values_and_are_listed():
    at = open_page("flow", {"hide": "depth,act", "depth": "8", "act": "sigmoid", "width": "16"})
    assert exceptions(at) == []
    keys = {w.key for kind in ("slider", "selectbox") for w in at.get(kind)}
    assert "depth" not in keys and "act" not in keys and "width" in keys
    assert any(i.value.startswith("Set by this link: depth 8, activation sigmoid") for i in at.info)
    assert "8 hidden layers × 16 sigmoid units" in texts(at)
    at.slider(key="width").set_value(12).run()
    assert "8 hidden layers × 12 sigmoid units" in texts(at)
    assert not any(b.key and b.key.startswith("preset_") for b in at.button)     # no presets to escape


def test_hide_on_vanishing_can_fix_the_fix_and_reports_unknown_keys():
    at = open_page("vanishing", {"hide": "fix,lr,nope", "fix": "batchnorm"})
    assert exceptions(at) == []
    assert "fix" not in {w.key for w in at.selectbox}
    assert "Verdict with batchnorm:" in texts(at)
    assert any("hide: 'nope' is not a control" in w.value for w in at.warning)
    assert any("fix to compare batchnorm" in i.value and "learning rate 0.07" in i.value for i in at.info)


# ---------------------------------------------------------------- every fix, ranked
def test_ranking_puts_healthy_learners_first_then_accuracy():
    rows = [{"fix": "a", "verdict": "not learned", "train_score": 0.47, "train_loss": 0.6},
            {"fix": "b", "verdict": "vanishing", "train_score": 0.98, "train_loss": 0.2},
            {"fix": "c", "verdict": "healthy", "train_score": 0.95, "train_loss": 0.1},
            {"fix": "d", "verdict": "diverged", "train_score": math.nan, "train_loss": math.nan}]
    assert [r["fix"] for r in fixes.rank(rows)] == ["c", "b", "a", "d"]


def test_every_fix_ranked_on_the_page_matches_each_fixed_run():
    at = open_page("vanishing", {"rank": "true"})
    assert exceptions(at) == []
    assert "relu" not in {b.key.removeprefix("rank_apply_") for b in at.button if b.key and b.key.startswith("rank_")}
    at.button(key="ex4_show_anyway").click().run()                # Exercise 4 withholds the ReLU row at first
    assert fixes.RANK_RULE in texts(at)
    cfg = TrainConfig.preset("seed demo 4")
    shown = [b.key.removeprefix("rank_apply_") for b in at.button if b.key and b.key.startswith("rank_apply_")]
    assert sorted(shown) == sorted(f for f in FIXES if apply_fix(cfg, f) != cfg)
    rows = []
    for f in shown:
        run = train(apply_fix(cfg, f))
        rows.append({"fix": f, "verdict": diagnose(run).verdict, "train_score": final_metrics(run)["train_score"],
                     "train_loss": final_metrics(run)["train_loss"], "ratio": gradient_ratio(run)})
    assert shown == [r["fix"] for r in fixes.rank(rows)]                        # best first
    table = at.dataframe[0].value
    assert list(table["layer 1 / last |g| at init"])[0] == number(rows[0]["ratio"], 3)
    assert list(table["rank"]) == list(range(1, len(shown) + 1))
    chart = next(c for c in at.get("vega_lite_chart") if "Every fix in rank order" in c.proto.spec)
    assert chart is not None
    at.button(key=f"rank_apply_{shown[0]}").click().run()
    applied = apply_fix(cfg, shown[0])
    assert at.selectbox(key="act").value == applied.act and at.selectbox(key="norm").value == applied.norm


def test_ranking_a_run_too_big_is_refused_with_a_message():
    at = open_page("vanishing", {"rank": "true", "depth": "40", "width": "128", "epochs": "60", "n": "1000"})
    assert exceptions(at) == []
    assert any("would take about" in m.value for m in list(at.warning) + list(at.error))


# ---------------------------------------------------------------- backprop step by step
def test_the_walk_computes_forward_node_by_node_then_every_chain_rule_factor():
    x, W1, W2 = [1.0, 2.0], [[0.1, -0.2], [0.3, 0.4]], [[0.7, -0.5]]
    r = hand.two_layer(x, W1, W2, 1.0)
    walk = hand.walkthrough(r, x, W1, W2, 1.0, "relu")
    assert [s.phase for s in walk] == ["forward"] * 7 + ["backward"] * 8
    assert [s.key for s in walk[7:]] == [s.key for s in r.steps]
    assert walk[0].latex[-1] == "= 0.700000" and walk[6].latex[-1] == "= 0.602653"
    assert walk[4].latex[1] == r"= 0.700000 \times 0.700000 + 0.600000 \times (-0.500000)"   # negatives bracketed
    values, grads = hand.known_after(walk, 3)
    assert values == {"z1_0", "z1_1", "h0"} and grads == set()
    dot = graph.dot(r, x, W1, W2, 1.0, walk, 3)
    assert '"h0" [label="h[1]\\n0.7000' in dot and '"h1" [label="h[2]\\n?' in dot
    assert '"z1_0" -> "h0" [color=' in dot and '"z1_1" -> "h1";' in dot       # only the step's edge lit
    before = graph.dot(r, x, W1, W2, 1.0, walk, 0)               # before the walk: forward values, no gradient
    assert "0.6027" in before and "-0.3168" not in before and before.count("∇ ?") == 13
    final = graph.dot(r, x, W1, W2, 1.0, walk, 0, revealed=True)
    assert "?" not in final and "∇ -0.3168" in final


def test_step_control_lives_in_the_url_and_walks():
    at = open_page("hand", {"step": "7"})
    assert exceptions(at) == []
    assert "Step 7 of 15, forward pass" in texts(at)
    at.button(key="step_next").click().run()
    assert at.slider(key="step").value == 8 and "Step 8 of 15, backward pass" in texts(at)
    assert any("0.602653" in line for line in (e.value for e in at.latex))
    at.button(key="step_prev").click().run()
    at.button(key="step_prev").click().run()
    assert at.slider(key="step").value == 6
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "∇ ?" in dot and "#fde68a" in dot
