"""Cached calls into backprop_core. Caches are keyed on plain, validated config values and
bounded (max_entries), so memory cannot grow with the number of learners or URLs."""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import astuple, fields

import streamlit as st
import torch

from backprop_core import check, sweep
from backprop_core.config import TrainConfig
from backprop_core.data import make_dataset
from backprop_core.diagnose import Diagnosis, diagnose
from backprop_core.manual import Bug
from backprop_core.models import build_mlp
from backprop_core.training import RunResult, train
from dashboard import charts


@st.cache_data(max_entries=64, show_spinner="Training the network…")
def _train(values: tuple) -> tuple[RunResult, Diagnosis]:
    cfg = TrainConfig(*values)
    run = train(cfg)
    return run, diagnose(run)


def training(cfg: TrainConfig) -> tuple[RunResult, Diagnosis]:
    """The instrumented run and its diagnosis for a validated config (cached)."""
    return _train(astuple(cfg))


class BoundedCache:
    """A thread-safe LRU dict for results whose computation reports progress to the page.

    st.cache_data replays the elements a cached function touched, which breaks a progress bar
    created outside it; this cache stores only the result, so a hit draws nothing."""

    def __init__(self, max_entries: int):
        self.max_entries, self._data, self._lock = max_entries, OrderedDict(), threading.Lock()

    def get_or_compute(self, key, compute):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = compute()
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)


SWEEPS = BoundedCache(max_entries=16)


def depth_sweep(max_depth, activations, inits, seeds, progress=None):
    """The depth sweep (cached by its plain arguments; `progress` runs only on a miss)."""
    key = (int(max_depth), tuple(activations), tuple(inits), int(seeds))
    return SWEEPS.get_or_compute(key, lambda: sweep.depth_sweep(*key, on_progress=progress))


SPECS = BoundedCache(max_entries=384)   # ~8 charts per run: the last ~48 runs' charts


def chart(container, key: tuple, build, width: str = "stretch") -> None:
    """Draw a chart whose Vega-Lite spec is a pure function of `key` (plain values: the run's
    config, the chart's name and arguments). The Altair chart is built and converted once; later
    reruns reuse the JSON spec, so moving a control back to a seen value costs no chart work."""
    text = SPECS.get_or_compute(key, lambda: json.dumps(charts.to_spec(build())))
    container.vega_lite_chart(spec=json.loads(text), width=width)


@st.cache_data(max_entries=64, show_spinner=False)
def ledger(x: tuple, W1: tuple, W2: tuple, y: float, act: str, dtype: str):
    return check.two_layer_ledger(list(x), [list(r) for r in W1], [list(r) for r in W2], y, act, dtype)


@st.cache_data(max_entries=32, show_spinner="Checking gradients…")
def model_report(depth: int, width: int, act: str, norm: str, residual: bool, dtype: str,
                 bug: str, bug_layer: int) -> check.ModelReport:
    dt = check.DTYPES[dtype]
    model = build_mlp(depth, width, act, "default", norm, residual, seed=0, dtype=dt)
    data = make_dataset("linear", 64, 0.0, 11)
    the_bug = Bug(bug, min(bug_layer, depth)) if bug != "none" else None
    return check.model_report(model, data.X_train.to(dt), data.y_train, fd_samples=24, seed=0, bug=the_bug)


def config_field_names() -> list[str]:
    return [f.name for f in fields(TrainConfig)]

