"""Cached calls into backprop_core. Caches are keyed on plain, validated config values and
bounded (max_entries), so memory cannot grow with the number of learners or URLs."""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import astuple

import pyarrow as pa
import streamlit as st

from backprop_core import check, sweep
from backprop_core.config import TrainConfig
from backprop_core.data import make_dataset
from backprop_core.diagnose import Diagnosis, diagnose
from backprop_core.manual import Bug
from backprop_core.models import build_mlp
from backprop_core.training import RunResult, train
from dashboard import charts


def _train_with_progress(cfg: TrainConfig) -> tuple[RunResult, Diagnosis]:
    """Train with a progress bar that advances every few epochs, then remove it."""
    bar = st.progress(0.0, text="Training the network…")
    step = max(1, cfg.epochs // 20)

    def on_epoch(epoch: int, total: int) -> None:
        if epoch % step == 0 or epoch == total:
            bar.progress(epoch / total, text=f"Training the network… epoch {epoch}/{total}")

    try:
        run = train(cfg, on_epoch=on_epoch)
    finally:
        bar.empty()
    return run, diagnose(run)


def training(cfg: TrainConfig) -> tuple[RunResult, Diagnosis]:
    """The instrumented run and its diagnosis for a validated config (cached, single-flight).

    Runs are kept as objects and never mutated by the pages, so a hit costs nothing; st.cache_data
    would unpickle a copy of the whole run on every rerun (bench/RESULTS.md)."""
    return RUNS.get_or_compute(astuple(cfg), lambda: _train_with_progress(cfg))


class BoundedCache:
    """A thread-safe, single-flight LRU dict for plain-keyed results.

    - bounded: at most `max_entries` values; the least recently used is dropped;
    - single-flight: when many sessions ask for the same missing key at once, one computes and
      the others wait for it (30 learners opening one link do the work once, not 30 times);
    - stores only the result: unlike st.cache_data it replays no elements, so a progress bar
      drawn by the computation is fine."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._inflight: dict = {}

    def get_or_compute(self, key, compute):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            gate = self._inflight.get(key)
            owner = gate is None
            if owner:
                gate = self._inflight[key] = threading.Event()
        if not owner:
            gate.wait()
            with self._lock:
                if key in self._data:
                    return self._data[key]
            return self.get_or_compute(key, compute)      # the owner failed: try ourselves
        try:
            value = compute()
            with self._lock:
                self._data[key] = value
                while len(self._data) > self.max_entries:
                    self._data.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._inflight.pop(key, None)
            gate.set()

    def __len__(self) -> int:
        return len(self._data)


RUNS = BoundedCache(max_entries=48)      # a run of the largest allowed size is a few MB
SWEEPS = BoundedCache(max_entries=16)


def depth_sweep(max_depth, activations, inits, seeds, progress=None):
    """The depth sweep (cached by its plain arguments; `progress` runs only on a miss)."""
    key = (int(max_depth), tuple(activations), tuple(inits), int(seeds))
    return SWEEPS.get_or_compute(key, lambda: sweep.depth_sweep(*key, on_progress=progress))


SPECS = BoundedCache(max_entries=384)   # ~8 charts per run: the last ~48 runs' charts


def _arrow_bytes(rows: list[dict]) -> bytes:
    table = pa.Table.from_pylist(rows)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _compile(chart_obj) -> tuple[str, dict[str, bytes]]:
    """(spec JSON without data, {dataset name: Arrow IPC bytes}). Inline `data.values` become
    named datasets, so Streamlit ships the bytes as they are on every rerun."""
    spec = charts.to_spec(chart_obj)
    datasets = {name: _arrow_bytes(rows) for name, rows in spec.pop("datasets", {}).items()}

    def name_inline(node):
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and isinstance(data.get("values"), list):
                raw = _arrow_bytes(data["values"])
                # content-addressed, like Altair's own names: the browser keeps datasets by name,
                # so two charts on a page must never share a name for different data
                name = "data-" + hashlib.sha1(raw).hexdigest()[:20]
                datasets[name] = raw
                node["data"] = {"name": name}
            for value in node.values():
                name_inline(value)
        elif isinstance(node, list):
            for value in node:
                name_inline(value)

    name_inline(spec)
    return json.dumps(spec), datasets


def chart(container, key: tuple, build, width: str = "stretch") -> None:
    """Draw a chart whose Vega-Lite spec is a pure function of `key` (plain values: the run's
    config, the chart's name and arguments). The Altair chart is built, converted and its data
    serialised to Arrow once; later reruns reuse both, so a revisited view costs no chart work."""
    text, datasets = SPECS.get_or_compute(key, lambda: _compile(build()))
    spec = json.loads(text)
    spec["datasets"] = dict(datasets)
    container.vega_lite_chart(spec=spec, width=width)


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


