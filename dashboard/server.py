"""backprop-lab's production entry point: `streamlit run dashboard/server.py`.

The same app as dashboard/app.py, served as an ASGI app so that start-up work happens when the
server starts, before the first learner arrives: the worker processes import torch and the views
that shared links open first (presets and page defaults) are computed (dashboard/runtime.py).
`streamlit run dashboard/app.py` works too; it does that work on the first visit instead.
"""
import pathlib
import sys
from contextlib import asynccontextmanager

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import compute  # noqa: E402  (no torch: the workers import it)

compute.start_workers()          # the worker processes boot (torch) while the server itself starts

import streamlit as st  # noqa: E402


@asynccontextmanager
async def lifespan(app):
    import dashboard.runtime  # noqa: F401  (workers, warm views, chart templates, gc.freeze)
    yield
    compute.shutdown()


app = st.App("app.py", lifespan=lifespan)
