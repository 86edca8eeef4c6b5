"""Issue 16: every preset and golden view trained in float64 (what pages show) and in float32 (the
rounding twin), what each would print, and what float64 costs. Prints a markdown table.

    .venv/bin/python bench/rounding_table.py
"""
from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import torch  # noqa: E402

from backprop_core.readout import readout_of, rounding_check  # noqa: E402
from backprop_core.training import train  # noqa: E402

from golden_views import configs_of, key_of  # noqa: E402
from test_rounding import VIEWS  # noqa: E402

torch.set_num_threads(1)


def timed(cfg, repeats: int = 5):
    times, run = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        run = train(cfg)
        times.append(time.perf_counter() - start)
    return run, statistics.median(times)


def main() -> None:
    seen = set()
    print("| view | run | float64 readout | float32 differs in | float32 ms | float64 ms | ratio |")
    print("|---|---|---|---|---|---|---|")
    ratios = []
    for page, query in VIEWS:
        for cfg in configs_of(page, query):
            if key_of(cfg) in seen:
                continue
            seen.add(key_of(cfg))
            r64, t64 = timed(cfg)
            r32, t32 = timed(replace(cfg, precision="float32"))
            a, b = readout_of(r64), readout_of(r32)
            moved = rounding_check(a, b)
            ratios.append(t64 / t32)
            what = "; ".join(f"{k}: {m.twin} (float64 {m.ours}{', close to a digit change' if m.close else ''})"
                             if k != "Verdict" else
                             f"verdict: {m.twin.split('. ')[0]} (float64 {m.ours.split('. ')[0]}"
                             f"{', numbers close to a digit change' if m.close else ''})"
                             for k, m in moved.items()) or "nothing"
            name = "/" + page + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
            summary = f"{a.shown['Status']}, loss {a.shown['Train loss']}, acc {a.shown['Train accuracy']}"
            print(f"| `{name}` | {cfg.depth}x{cfg.width} {cfg.act} {cfg.norm} | {summary} | {what} | "
                  f"{t32 * 1e3:.0f} | {t64 * 1e3:.0f} | {t64 / t32:.2f} |")
    print(f"\nfloat64 / float32 training time: median {statistics.median(ratios):.2f}x "
          f"(range {min(ratios):.2f}-{max(ratios):.2f}x) over {len(ratios)} runs")


if __name__ == "__main__":
    main()
