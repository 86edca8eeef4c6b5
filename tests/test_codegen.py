"""Code for this view: the generated scripts are standalone and reproduce the page's numbers."""
import json
import math
import pathlib
import random
import subprocess
import sys
import textwrap

import pytest

from backprop_core import codegen, digits, hand, jobs, readout
from backprop_core.activations import ALL_ACTIVATIONS, HAND_ACTIVATIONS
from backprop_core.codegen import script
from backprop_core.config import DATASETS, HAND_PARAMS, INITS, NORMS, TrainConfig, hand_inputs, page_train_params, parse
from backprop_core.fixes import FIXES, apply_fix
from backprop_core.presets import random_hand_values
from backprop_core.results import final_metrics

from apptools import open_page

RUNNER = textwrap.dedent("""
    import contextlib, io, json, sys
    out = []
    for source in json.load(sys.stdin):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(source, "view.py", "exec"), {"__name__": "__main__"})
        out.append(buffer.getvalue().strip().splitlines()[-1])
    print(json.dumps(out))
""")


def run_scripts(sources: list[str]) -> list[dict]:
    """Run each script in a fresh namespace of one Python subprocess (torch is imported once),
    started outside the repository so that nothing of the project can be imported."""
    done = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(sources), capture_output=True,
                          text=True, timeout=600, cwd="/")
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in json.loads(done.stdout)]


def random_train_view(rng: random.Random, page: str) -> dict:
    data = rng.choice(DATASETS)
    values = {"depth": rng.randint(1, 6), "width": rng.choice([2, 5, 16, 32]), "act": rng.choice(ALL_ACTIVATIONS),
              "init": rng.choice(INITS), "norm": rng.choice(NORMS), "residual": rng.random() < 0.3,
              "opt": rng.choice(["sgd", "momentum", "adam"]), "lr": rng.choice([0.01, 0.05, 0.1, 0.5, 5.0]),
              "epochs": rng.randint(1, 25), "seed": rng.randint(0, 9999), "data": data,
              "n": rng.choice([20, 50, 120]), "noise": rng.choice([0.0, 0.1, 0.3]),
              "batch": rng.choice([0, 0, 8, 32]), "wd": rng.choice([0.0, 0.001]), "clip": rng.choice([0.0, 0.5]),
              "dseed": rng.randint(0, 50)}
    if data == "custom":
        values["pts"] = ",".join(f"{rng.uniform(-3, 3):.2f}:{rng.uniform(-3, 3):.2f}:{k % 2}"
                                 for k in range(rng.randint(4, 30)))
    if page == "vanishing":
        values["fix"] = rng.choice(FIXES)
    values["classes"] = rng.choice([2, 2, 3, 5])          # used by spirals and blobs only
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items()}


def configs(page: str, view: dict) -> dict[str, TrainConfig]:
    values, _ = parse(page_train_params(page), view, ignore_unknown=True)
    cfg = TrainConfig.from_values(values | {"pts": view.get("pts", "")})
    if page == "flow":
        return {"run": cfg}
    return {"chosen": cfg, "fixed": apply_fix(cfg, view["fix"])}


def assert_same(got: dict, cfg: TrainConfig) -> None:
    run, _ = jobs.train_and_diagnose(cfg)
    final = final_metrics(run)
    score_key, other = ("final_r2", "final_train_acc") if cfg.task.regression else ("final_train_acc", "final_r2")
    assert got[other] is None, (cfg, other)
    for key, mine in (("final_train_loss", final["train_loss"]), (score_key, final["train_score"])):
        if math.isnan(mine):
            assert got[key] is None or math.isnan(got[key]), (cfg, key)
        else:                                        # same machine, same software: bit for bit
            assert got[key] == mine, (cfg, key)
    if len(run.stats):
        assert got["grad_mean_abs_epoch0"] == run.stats[0, :, 0].tolist(), cfg


@pytest.mark.parametrize("page", ["flow", "vanishing"])
def test_training_scripts_reproduce_the_runs_of_random_views(page):
    rng = random.Random(f"codegen-{page}")
    views = [random_train_view(rng, page) for _ in range(14 if page == "flow" else 8)]
    outputs = run_scripts([script(page, view) for view in views])
    for view, got in zip(views, outputs, strict=True):
        for name, cfg in configs(page, view).items():
            assert_same(got if page == "flow" else got[name], cfg)


@pytest.mark.parametrize("page", ["hand", "autograd"])
def test_hand_scripts_print_the_hand_derivation_exactly(page):
    views = [random_hand_values(seed) | {"act": act} for seed in range(6) for act in HAND_ACTIVATIONS]
    outputs = run_scripts([script(page, v | {"dtype": "float32"}) for v in views])
    for v, got in zip(views, outputs, strict=True):
        values, _ = parse(HAND_PARAMS, v, ignore_unknown=True)
        r = hand.two_layer(*hand_inputs(values))
        assert (got["loss"], got["dW1"], got["dW2"]) == (r.loss, r.dW1, r.dW2)


def test_scripts_use_torch_and_the_standard_library_only():
    allowed = {"json", "math", "torch", "torch.nn.functional", "torch.nn"}
    for page, view in (("hand", {}), ("autograd", {}), ("flow", {"norm": "batch", "data": "moons"}),
                       ("vanishing", {"fix": "layernorm", "data": "custom", "pts": "1:1:0,2:2:1"})):
        source = script(page, view)
        imports = {line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))}
        assert imports <= allowed, (page, imports)
        assert "backprop_core" not in source and "dashboard" not in source
        compile(source, f"{page}.py", "exec")


def test_the_page_offers_the_script_and_its_numbers_match_what_the_page_shows():
    view = {"depth": "3", "width": "8", "act": "tanh", "epochs": "12", "seed": "5"}
    assert not open_page("flow", view).get("code")                   # closed: nothing built or sent
    at = open_page("flow", view | {"code": "true"})                  # a link can open it
    code = next(c.value for c in at.get("code"))
    assert code == script("flow", view).rstrip("\n")
    [got] = run_scripts([code])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Train loss"] == readout.number(got["final_train_loss"])
    assert metrics["Train accuracy"] == digits.percent(got["final_train_acc"])
    assert f"torch {codegen.TORCH_VERSION} on the machine that serves the page" in code
    assert "Code for this view" in [e.label for e in at.expander]


def test_scripts_name_the_torch_version_requirements_pin():
    pins = pathlib.Path(__file__).resolve().parent.parent.joinpath("requirements.txt").read_text()
    assert f"torch=={codegen.TORCH_VERSION}\n" in pins
