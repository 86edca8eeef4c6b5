"""Process-wide settings, applied once when the app first imports this module.

- torch uses one intra-op thread: these tensors are tiny, and two threads fighting the browser
  and other sessions for 2 cores turn 20 ms of training into seconds (bench/RESULTS.md).
- gc.freeze() after the heavy imports moves torch's, pandas' and altair's long-lived objects out
  of the collector's scan set, so every later collection is cheap.
"""
import gc

import altair  # noqa: F401  (imported before the freeze on purpose)
import pandas  # noqa: F401
import torch

import backprop_core.training  # noqa: F401
import dashboard.charts  # noqa: F401
import dashboard.compute  # noqa: F401

torch.set_num_threads(1)
# The first optimiser a process creates imports parts of torch._dynamo lazily (~100 ms): do it now.
torch.optim.Adam([torch.zeros(1, requires_grad=True)], foreach=True)
gc.collect()
gc.freeze()
