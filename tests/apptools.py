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
    """Vega-Lite specs of every chart, with their inline datasets decoded to rows."""
    out = []
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        rows = []
        for ds in el.proto.datasets:
            table = pa.ipc.open_stream(io.BytesIO(ds.data.data)).read_all()
            rows += table.to_pylist()
        out.append({"spec": spec, "rows": rows})
    return out


def exceptions(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.exception]
