"""Helpers for driving the dashboard with streamlit.testing.v1.AppTest."""
from __future__ import annotations

import io
import json
import pathlib

import pyarrow as pa
from streamlit.testing.v1 import AppTest

APP = str(pathlib.Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGES = {"home": "views/home.py", "hand": "views/hand.py", "autograd": "views/autograd.py",
         "flow": "views/flow.py", "vanishing": "views/vanishing.py"}


def open_page(page: str, query: dict | None = None, timeout: float = 60) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(PAGES[page]).run()
    return at


def texts(at: AppTest) -> str:
    """Every markdown/latex/alert/caption string on the page, joined."""
    parts = []
    for kind in ("markdown", "latex", "success", "warning", "error", "info", "caption", "title", "subheader"):
        parts += [str(e.value) for e in at.get(kind)]
    return "\n".join(parts)


def charts(at: AppTest) -> list[dict]:
    """Vega-Lite specs of every chart, with their data rows (inline values or Arrow datasets), all
    together in "rows" and by dataset name in "datasets"."""
    out = []
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        rows = list(_inline_rows(spec))
        datasets = {ds.name: pa.ipc.open_stream(io.BytesIO(ds.data.data)).read_all().to_pylist()
                    for ds in el.proto.datasets}
        for named in datasets.values():
            rows += named
        if el.proto.data.data:
            rows += pa.ipc.open_stream(io.BytesIO(el.proto.data.data)).read_all().to_pylist()
        out.append({"spec": spec, "rows": rows, "datasets": datasets, "raw": el.proto.spec})
    return out


def chart_with(at: AppTest, dataset: str) -> dict:
    """The one chart that draws the named dataset."""
    return next(c for c in charts(at) if dataset in c["datasets"])


def _inline_rows(node):
    if isinstance(node, dict):
        if isinstance(node.get("values"), list) and node["values"] and isinstance(node["values"][0], dict):
            yield from node["values"]
        for rows in (node.get("datasets") or {}).values():   # Altair consolidates inline data here
            yield from rows
        for k, v in node.items():
            if k not in ("values", "datasets"):
                yield from _inline_rows(v)
    elif isinstance(node, list):
        for v in node:
            yield from _inline_rows(v)


def exceptions(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.exception]
