"""The capacity curve (issue 19): learners against p50 / p95 and actions per second, per layout.

    python bench/capacity.py [--learners 30,60,120,240] [--pages flow,vanishing] [--runs 2]
                             [--query epochs=15] [--shared-seeds]
                             [--layouts one,serve] [--tools ../shared/tools]

The class scenario of bench_issue9.py (st_load.py: each learner moves Seed to values no other asks
for, 4 moves, 2 s of looking between them, starts spread over 5 s) against a fresh server per run:
- one:   one Streamlit process (dashboard/server.py) with one worker per core, as `make run` serves;
- serve: `make serve` (deploy/serve.py): one replica per core behind nginx, one worker each.
--query opens the page at another link (cheaper runs: how p95 follows the training per action).
With --shared-seeds every learner asks for the same seeds (all but the first asks are cached: what
the page costs without training). Prints a line per run and writes bench/out/capacity.json:
p50/p95, actions/s, failures, exceptions, the CPU time per action of the Streamlit servers (script
runs, serialising, the websocket), the training workers and nginx, and the peak RSS of everything
the layout runs (from /proc).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import ROOT, cpu_by_part, machine, tree_rss_mb  # noqa: E402
from servers import free_port, start, stop, wait_healthy  # noqa: E402

PY = sys.executable


def start_layout(layout: str):
    """(process, url) of a fresh server in that layout, healthy."""
    if layout == "one":
        proc, url = start(extra=["--server.fileWatcherType", "none"])
        wait_healthy(url, 120)
    else:
        port = free_port()
        env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
        env.pop("BACKPROP_LAB_WORKERS", None)
        proc = subprocess.Popen([PY, str(ROOT / "deploy" / "serve.py")], cwd=ROOT, env=env,
                                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, 180)
    time.sleep(8)                                       # the warm views of every replica are trained
    return proc, url


def one_run(tools: Path, layout: str, page: str, learners: int, offset: int = 1, query: str = "") -> dict:
    proc, url = start_layout(layout)
    peak, done = [0.0], threading.Event()

    def sample():
        while not done.wait(0.5):
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
    sampler = threading.Thread(target=sample, daemon=True)
    try:
        cpu0 = cpu_by_part(proc.pid)
        sampler.start()
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            load = ["--url", url + "/", "--page", page, "--sessions", str(learners), "--actions", "4",
                    "--slider", "Seed", "--values", "100,200,300,400", "--per-session-offset", str(offset),
                    "--think-ms", "2000", "--ramp", "5", "--timeout", "900", "--json", out.name]
            subprocess.run([PY, str(tools / "st_load.py"), *load, *(["--query", query] if query else [])], cwd=ROOT,
                           timeout=1000, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            r = json.loads(Path(out.name).read_text() or "{}")
        cpu = {k: v - cpu0[k] for k, v in cpu_by_part(proc.pid).items()}
    finally:
        done.set()
        if layout == "one":
            stop(proc)
        else:
            proc.terminate()
            proc.wait(60)
    ok = r.get("actions_ok") or 0
    return {"layout": layout, "page": page, "learners": learners, "shared_seeds": offset == 0, "query": query,
            "p50_ms": r.get("p50_ms"), "p95_ms": r.get("p95_ms"), "actions_per_s": r.get("throughput_actions_per_s"),
            "ok": ok, "failed": r.get("actions_failed"), "exceptions": r.get("exception_count"),
            "cpu_ms_per_action": {k: round(1000 * v / ok, 1) for k, v in cpu.items()} if ok else None,
            "rss_mb_peak": round(peak[0])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tools", default=str(ROOT.parent / "shared" / "tools"))
    ap.add_argument("--learners", default="30,60,120,240")
    ap.add_argument("--pages", default="flow")
    ap.add_argument("--layouts", default="one,serve")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--shared-seeds", action="store_true",
                    help="every learner asks for the same four seeds: after the first, every view is cached, "
                         "so the CPU per action is what a page costs without training")
    ap.add_argument("--query", default="", help="open the page at this link (e.g. epochs=15: cheaper runs)")
    args = ap.parse_args()
    print(f"capacity on {machine()}", flush=True)
    rows = []
    for run in range(args.runs):
        for page in args.pages.split(","):
            for layout in args.layouts.split(","):
                for learners in [int(n) for n in args.learners.split(",")]:
                    row = one_run(Path(args.tools), layout, page, learners, 0 if args.shared_seeds else 1,
                                  args.query) | {"run": run + 1}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    path = ROOT / "bench" / "out" / "capacity.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
