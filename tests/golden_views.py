"""What a fixed set of links shows, captured so a faster implementation can prove it shows the same.

`python tests/golden_views.py` writes tests/golden/views.json (page texts and metrics per URL) and
tests/golden/runs.npz (every number behind the charts, per training configuration). test_golden.py
recomputes both and compares.

The runs are float64 and start from the same points and weights on every CPU (backprop_core/draws.py),
so another CPU reproduces them up to float64 rounding in the last digits, amplified by whatever the
run amplifies. Each array is stored with the tolerance its run justifies, measured when it is
written: the same run with its points and initial weights multiplied by 1 + NUDGE * U(-1, 1) (ten
thousand float64 rounding steps) moves each array by some relative amount d; the test allows
SAFETY * d (at least FLOOR). A run that amplifies nothing is held to 1e-9; the most chaotic one here
to a few 1e-3; a planted bug moves them by far more (bench/RESULTS.md lists what three planted bugs
did).
"""
from __future__ import annotations

import contextlib
import json
import math
import pathlib
import sys
from dataclasses import fields, replace

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from backprop_core.config import TrainConfig  # noqa: E402
from backprop_core.results import STAT_COLUMNS  # noqa: E402
from backprop_core.training import train  # noqa: E402

GOLDEN = HERE / "golden"

URLS = [
    ("flow", {}),
    ("flow", {"depth": "20", "width": "32", "init": "kaiming", "lr": "0.01", "epochs": "40", "seed": "3",
              "data": "moons", "n": "300", "noise": "0.1"}),
    ("flow", {"depth": "6", "width": "32", "init": "large", "opt": "sgd", "lr": "50", "epochs": "30", "seed": "5"}),
    ("flow", {"depth": "10", "width": "32", "act": "sigmoid", "opt": "sgd", "lr": "0.5", "seed": "21"}),
    ("flow", {"depth": "4", "width": "16", "act": "tanh", "norm": "batch", "batch": "32", "epochs": "25",
              "data": "circles", "noise": "0.1"}),
    ("flow", {"depth": "5", "width": "24", "act": "gelu", "norm": "layer", "residual": "true", "opt": "momentum",
              "lr": "0.05", "wd": "0.001", "clip": "1", "epochs": "30", "data": "spirals", "batch": "50"}),
    ("flow", {"depth": "3", "width": "12", "act": "elu", "init": "xavier", "epochs": "20", "data": "xor", "seed": "7",
              "dseed": "3", "n": "150"}),
    ("vanishing", {}),
    ("vanishing", {"depth": "8"}),
    ("vanishing", {"depth": "8", "fix": "batchnorm"}),
    ("vanishing", {"depth": "5", "act": "tanh", "init": "large", "fix": "xavier", "data": "moons"}),
    ("vanishing", {"depth": "6", "act": "relu", "init": "large", "opt": "sgd", "lr": "50", "fix": "clip"}),
]




def configs_of(page: str, query: dict) -> list[TrainConfig]:
    from backprop_core.config import FIX_PARAM, page_train_params, parse
    from backprop_core.fixes import apply_fix
    values, _ = parse(page_train_params(page), query, ignore_unknown=True)
    cfg = TrainConfig.from_values(values)
    if page == "flow":
        return [cfg]
    fix, _ = parse((FIX_PARAM,), query, ignore_unknown=True)
    return [cfg, apply_fix(cfg, fix["fix"])]


def run_arrays(cfg: TrainConfig) -> dict[str, np.ndarray]:
    """Every number the charts of a run draw from."""
    run = train(cfg)
    L = cfg.depth + 1
    stats = run.layer_stats[STAT_COLUMNS].to_numpy(dtype=np.float64).reshape(-1, L, len(STAT_COLUMNS))
    finite = np.isfinite(run.metrics[:, 0])                 # epoch, train/test loss, train/test accuracy
    epochs = np.column_stack([np.arange(len(run.metrics))[finite], run.metrics[finite, :4]]).astype(np.float64)
    keys = sorted(run.surfaces)
    surfaces = np.stack([run.surfaces[k] for k in keys]) if keys else np.zeros((0, 30, 30))
    hist_epochs = sorted(run.grad_hist) if isinstance(run.grad_hist, dict) else list(range(len(run.grad_hist)))
    hist = np.stack([run.grad_hist[e] for e in hist_epochs]) if hist_epochs else np.zeros((0, L, 28))
    return {"stats": stats, "epochs": epochs, "hist": hist.astype(np.float64),
            "hist_epochs": np.array(hist_epochs, dtype=np.float64),
            "surface_epochs": np.array(keys, dtype=np.float64), "surfaces": surfaces.astype(np.float64),
            "diverged_at": np.array([-1 if run.diverged_at is None else run.diverged_at], dtype=np.float64)}


NUDGE, SAFETY, FLOOR = 1e-12, 100.0, 1e-9


@contextlib.contextmanager
def nudged_inputs(rel: float = NUDGE, seed: int = 1):
    """Inside: every run starts from its points and initial weights each multiplied by 1 + rel * U(-1, 1)
    (in float64): a stand-in for another CPU's float64 rounding, ten thousand times larger."""
    import torch

    from backprop_core import training
    build, dataset_for = training.build_mlp, training.dataset_for

    def nudge(t: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        t = t.double()
        return t * (1 + rel * (2 * torch.rand(t.shape, generator=g, dtype=torch.float64) - 1))

    def nudged_model(*args, **kwargs):
        model = build(*args, **kwargs)
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(nudge(p, g))
        return model

    def nudged_data(cfg):
        data = dataset_for(cfg)
        g = torch.Generator().manual_seed(seed + 1)
        return replace(data, X_train=nudge(data.X_train, g), X_test=nudge(data.X_test, g))

    training.build_mlp, training.dataset_for = nudged_model, nudged_data
    try:
        yield
    finally:
        training.build_mlp, training.dataset_for = build, dataset_for


def nudged_arrays(cfg: TrainConfig) -> dict[str, np.ndarray]:
    """run_arrays of the same run from nudged inputs."""
    with nudged_inputs():
        return run_arrays(cfg)


def scale(name: str, arr: np.ndarray) -> np.ndarray:
    """The size an entry is judged against next to its own: per statistic for `stats` (gradients of
    1e-10 sit beside shares of 1), per array otherwise."""
    with np.errstate(all="ignore"):
        if name == "stats" and arr.size:
            return np.nan_to_num(np.nanmax(np.abs(arr), axis=(0, 1), keepdims=True))
        return np.nan_to_num(np.nanmax(np.abs(arr))) if arr.size else np.zeros(())


def deviation(name: str, a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / (|a| + 1e-12 scale): NaN where both are NaN counts as equal."""
    if a.shape != b.shape:
        return math.inf
    same_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(all="ignore"):
        d = np.where(same_nan, 0.0, np.abs(a - b) / (np.abs(a) + 1e-12 * scale(name, a) + 1e-300))
    return float(np.nan_to_num(d, nan=math.inf).max()) if d.size else 0.0


def tolerance(name: str, arrays: dict[str, np.ndarray], nudged: dict[str, np.ndarray]) -> float:
    return max(FLOOR, SAFETY * deviation(name, arrays[name], nudged[name]))


def readout_in(cfg: TrainConfig, precision: str):
    """What the page prints about the run (readout.Readout), trained in `precision`."""
    from backprop_core.readout import readout_of
    return readout_of(train(replace(cfg, precision=precision)))


def view(page: str, query: dict) -> dict:
    """The texts with numbers a learner reads on the page: run summaries, verdicts, metrics."""
    from apptools import exceptions, open_page
    at = open_page(page, query, timeout=120)
    assert exceptions(at) == [], exceptions(at)
    lines = [m.value for m in at.markdown if "**Run:**" in m.value or "**Chosen run:**" in m.value]
    verdicts = [a.value for kind in ("success", "warning", "error") for a in at.get(kind)
                if a.value.startswith("Verdict")]
    metrics = {m.label: m.value for m in at.metric}
    return {"summary": lines, "verdicts": sorted(verdicts), "metrics": metrics}


def key_of(cfg: TrainConfig) -> str:
    """The config's fields as text; fields added after the goldens were written (`pts` for custom
    data, `classes`) only when they differ from their default, so a binary view keeps its key."""
    later = {"pts": "", "classes": 2}
    values = {f.name: getattr(cfg, f.name) for f in fields(cfg)}
    return "|".join(f"{k}={v}" for k, v in sorted(values.items()) if not (k in later and v == later[k]))


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    views, arrays = [], {}
    for page, query in URLS:
        views.append({"page": page, "query": query, **view(page, query)})
        for cfg in configs_of(page, query):
            got, nudged = run_arrays(cfg), nudged_arrays(cfg)
            for name, arr in got.items():
                arrays[f"{key_of(cfg)}::{name}"] = arr
                arrays[f"{key_of(cfg)}::{name}::rtol"] = np.array(tolerance(name, got, nudged))
    (GOLDEN / "views.json").write_text(json.dumps(views, indent=1, ensure_ascii=False) + "\n")
    np.savez_compressed(GOLDEN / "runs.npz", **arrays)
    print(f"wrote {len(views)} views and {len(arrays)} arrays")


if __name__ == "__main__":
    main()
