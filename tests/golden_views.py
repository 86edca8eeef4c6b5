"""What a fixed set of links shows, captured so a faster implementation can prove it shows the same.

`python tests/golden_views.py` writes tests/golden/views.json (page texts and metrics per URL) and
tests/golden/runs.npz (every number behind the charts, per training configuration). test_golden.py
recomputes both and compares.
"""
from __future__ import annotations

import json
import pathlib
import sys

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
    from backprop_core.config import FIX_PARAM, apply_fix, page_train_params, parse
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
    epochs = run.epoch_stats[["epoch", "train_loss", "test_loss", "train_acc", "test_acc"]].to_numpy(np.float64)
    keys = sorted(run.surfaces)
    surfaces = np.stack([run.surfaces[k] for k in keys]) if keys else np.zeros((0, 30, 30))
    hist_epochs = sorted(run.grad_hist) if isinstance(run.grad_hist, dict) else list(range(len(run.grad_hist)))
    hist = np.stack([run.grad_hist[e] for e in hist_epochs]) if hist_epochs else np.zeros((0, L, 28))
    return {"stats": stats, "epochs": epochs, "hist": hist.astype(np.float64),
            "hist_epochs": np.array(hist_epochs, dtype=np.float64),
            "surface_epochs": np.array(keys, dtype=np.float64), "surfaces": surfaces.astype(np.float64),
            "diverged_at": np.array([-1 if run.diverged_at is None else run.diverged_at], dtype=np.float64)}


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
    """The config's fields as text (`pts`, added later for custom data, only when set)."""
    return "|".join(f"{k}={v}" for k, v in sorted(vars(cfg).items()) if not (k == "pts" and v == ""))


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    views, arrays = [], {}
    for page, query in URLS:
        views.append({"page": page, "query": query, **view(page, query)})
        for cfg in configs_of(page, query):
            for name, arr in run_arrays(cfg).items():
                arrays[f"{key_of(cfg)}::{name}"] = arr
    (GOLDEN / "views.json").write_text(json.dumps(views, indent=1, ensure_ascii=False) + "\n")
    np.savez_compressed(GOLDEN / "runs.npz", **arrays)
    print(f"wrote {len(views)} views and {len(arrays)} arrays")


if __name__ == "__main__":
    main()
