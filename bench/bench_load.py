"""Many learners at once over Streamlit's websocket protocol (no browser).

    python bench/bench_load.py [--sessions 30] [--actions 6] [--values 2,5,3,8] [--pages flow,vanishing]
    python bench/bench_load.py --url http://127.0.0.1:8501 ...     # an already running server

Each session opens a page like a browser, then moves 'Depth' --actions times. An action fails
on an exception element, a dropped connection, a timeout, or when the verdict does not name the
depth that was sent (proof that the value reached the script). Without --url the script starts
the app itself (loopback, free port), samples its RSS every 0.1 s, measures cold start (process
start -> first full render of the first session) and stops it by pid.
Targets (issue 5/6): p95 <= 1.5 s, 0 failures, RSS peak <= 800 MB, cold start <= 5 s.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import machine, tree_rss_mb  # noqa: E402
from servers import start, stop, wait_healthy  # noqa: E402
from stclient import Session, depth_echo_ok  # noqa: E402


class RssSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, tree_rss_mb(self.pid))
            time.sleep(0.1)


async def learner(url: str, page: str, actions: int, values: list[int], offset: int, record: dict) -> None:
    s = Session(url, page)
    try:
        t = time.perf_counter()
        await s.open()
        first = await s.rerun(first=True)
        record["load_ms"].append((time.perf_counter() - t) * 1000)
        record["exceptions"] += first.exceptions
        for i in range(actions):
            depth = values[(i + offset) % len(values)]
            try:
                out = await s.move("Depth", depth, url_key="depth")
            except Exception as exc:  # noqa: BLE001  (counted, never raised)
                record["errors"].append(f"{type(exc).__name__}: {exc}"[:200])
                return
            record["latency_ms"].append(out.ms)
            record["exceptions"] += out.exceptions
            if out.exceptions or not depth_echo_ok(out, depth):
                record["failed"] += 1
            else:
                record["ok"] += 1
    except Exception as exc:  # noqa: BLE001
        record["errors"].append(f"{type(exc).__name__}: {exc}"[:200])
    finally:
        await s.close()


async def load(url: str, page: str, sessions: int, actions: int, values: list[int]) -> dict:
    record = {"latency_ms": [], "load_ms": [], "exceptions": [], "errors": [], "ok": 0, "failed": 0}
    t = time.perf_counter()
    await asyncio.gather(*(learner(url, page, actions, values, i, record) for i in range(sessions)))
    wall = time.perf_counter() - t
    lat = sorted(record["latency_ms"])
    pct = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else None  # noqa: E731
    return {"page": page, "sessions": sessions, "actions_ok": record["ok"],
            "actions_failed": record["failed"] + (sessions * actions - record["ok"] - record["failed"]),
            "exceptions": len(record["exceptions"]), "errors": sorted(set(record["errors"]))[:5],
            "p50_ms": round(statistics.median(lat), 1) if lat else None, "p95_ms": pct(0.95),
            "max_ms": round(lat[-1], 1) if lat else None,
            "load_p50_ms": round(statistics.median(record["load_ms"]), 1) if record["load_ms"] else None,
            "throughput_actions_per_s": round(record["ok"] / wall, 1), "wall_s": round(wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--pages", default="flow,vanishing")
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--actions", type=int, default=6)
    ap.add_argument("--values", default="2,5,3,8")
    ap.add_argument("--json")
    args = ap.parse_args()
    values = [int(v) for v in args.values.split(",")]
    out = {"machine": machine()}
    proc = sampler = None
    try:
        if args.url:
            url = args.url
        else:
            t0 = time.perf_counter()
            proc, url = start()
            wait_healthy(url)
            out["health_s"] = round(time.perf_counter() - t0, 2)
            first = asyncio.run(load(url, "flow", 1, 0, values))
            out["cold_start_first_render_s"] = round(time.perf_counter() - t0, 2)
            out["rss_mb_before"] = round(tree_rss_mb(proc.pid), 1)
            sampler = RssSampler(proc.pid)
            sampler.start()
            assert first["exceptions"] == 0
        for page in args.pages.split(","):
            r = asyncio.run(load(url, page, args.sessions, args.actions, values))
            out[page] = r
            print(f"{page:10s} sessions {r['sessions']}  ok {r['actions_ok']}  failed {r['actions_failed']}  "
                  f"exceptions {r['exceptions']}  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  max {r['max_ms']} ms  "
                  f"load p50 {r['load_p50_ms']} ms  {r['throughput_actions_per_s']} actions/s  errors {r['errors']}")
        if proc is not None:
            time.sleep(2)
            out["rss_mb_peak"] = round(sampler.peak, 1)
            out["rss_mb_after"] = round(tree_rss_mb(proc.pid), 1)
            print(f"server: health {out['health_s']} s, cold start to first full render "
                  f"{out['cold_start_first_render_s']} s, RSS before {out['rss_mb_before']} MB, peak "
                  f"{out['rss_mb_peak']} MB, after {out['rss_mb_after']} MB; {machine()}")
    finally:
        if sampler is not None:
            sampler.running = False
        if proc is not None:
            stop(proc)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
