"""Process-wide set-up of the pages' server, applied once when the app first imports this module.

- The server process never imports torch: every computation runs in the worker processes of
  dashboard/compute.py. It starts them now, in the background, and computes the views that shared
  links open first (presets and page defaults), so the first learner does not wait for them.
- gc.freeze() after the heavy imports moves the long-lived objects of streamlit, pandas, pyarrow
  and altair out of the collector's scan set, so every later collection is cheap.
"""
import gc

import altair  # noqa: F401  (imported before the freeze on purpose)
import pandas  # noqa: F401
from streamlit import delta_generator

import dashboard.charts as charts
import dashboard.compute as compute
from backprop_core.config import TrainConfig
from backprop_core.fixes import apply_fix
from backprop_core.presets import PAGE_PRESET, PRESETS
from dashboard.computing import twin_of

OPENED_FIRST = [TrainConfig.preset(name).on_page(page) for page in PAGE_PRESET for name in PRESETS] + [
    apply_fix(TrainConfig.preset(PAGE_PRESET["vanishing"]).on_page("vanishing"), "relu")]
WARM_VIEWS = list(dict.fromkeys(OPENED_FIRST + [twin_of(c) for c in OPENED_FIRST]))     # with their rounding twins

for kind in charts.BUILDERS:          # the chart templates: built once, at start-up
    charts.spec_text(kind)
compute.warm_up(WARM_VIEWS)
# Streamlit checks once per process, on the first element a page sends, whether it runs in a REPL, by
# walking the caller's stack with inspect (about half a second). The server is no REPL: skip it, so
# the first learner does not pay for it.
delta_generator._use_warning_has_been_displayed = True
gc.collect()
gc.freeze()
