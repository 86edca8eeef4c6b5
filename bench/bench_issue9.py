"""Every figure of issue 9 (a class on one link) in one run, with the shared measurement tools.

    python bench/bench_issue9.py [--tools ../shared/tools] [--only class,learner,cpu,core,cold]

- class:   30 learners on /flow and /vanishing, each moving Seed to values no other asks for, starts
           spread over 5 s, 2 s of looking between moves (st_load.py --per-session-offset 1
           --think-ms 2000 --ramp 5), and the same without pauses. p95, failures, RSS of the tree.
- learner: one learner in chromium, every press a new configuration (ui_latency.py --sweep), /flow
           and /vanishing against the trivial page; and revisits (alternating presses) on /flow.
- cpu:     server CPU (the whole process tree, workers included) per new view: one session moves
           Seed through 40 new values on a warm server; /proc CPU time before and after.
- core:    bench_core.py (instrumented training vs the bare loop).
- cold:    process start -> first full render of /flow over the protocol, three fresh servers.
Prints one line per figure and writes bench/out/issue9.json (with --only, the other figures there
stay). Targets are in the issue.
--no-guess: the same with servers that do not compute a learner's likely next view ahead
(BACKPROP_LAB_GUESS_AHEAD=0), to show what guessing ahead is worth; writes issue9-no-guess.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import ROOT, cpu_by_part, machine  # noqa: E402
from servers import start, stop, wait_healthy  # noqa: E402
from stclient import Session  # noqa: E402

APP = str(ROOT / "dashboard" / "server.py")
PY = sys.executable


def tool(tools: Path, name: str, *args: str, timeout: int = 900) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([PY, str(tools / name), *args, "--json", out.name], cwd=ROOT, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return json.loads(Path(out.name).read_text() or "{}")


def cpu_seconds(pid: int) -> float:
    """CPU seconds of the server's whole process tree so far (workers included)."""
    return sum(cpu_by_part(pid).values())


def class_scenario(tools: Path) -> dict:
    out = {}
    for page in ("flow", "vanishing"):
        for label, extra in (("think", ["--think-ms", "2000"]), ("no_pause", [])):
            r = tool(tools, "st_load.py", "--app", APP, "--page", page, "--sessions", "30", "--actions", "4",
                     "--slider", "Seed", "--values", "100,200,300,400", "--per-session-offset", "1", "--ramp", "5",
                     "--timeout", "600", *extra)
            out[f"{page}_{label}"] = {k: r.get(k) for k in ("actions_ok", "actions_failed", "exception_count",
                                                             "p50_ms", "p95_ms", "max_ms", "rss_mb_peak",
                                                             "throughput_actions_per_s", "server_cpu_s")}
            print(f"class {page:9s} {label:8s} ok {r.get('actions_ok')} failed {r.get('actions_failed')} "
                  f"exceptions {r.get('exception_count')} p50 {r.get('p50_ms')} ms p95 {r.get('p95_ms')} ms "
                  f"RSS peak {r.get('rss_mb_peak')} MB", flush=True)
    return out


def one_learner(tools: Path) -> dict:
    out = {}
    runs = (
        ("flow_new", "/flow", ["--sweep"]),
        ("vanishing_new", "/vanishing", ["--sweep"]),
        ("flow_revisit", "/flow", []),
    )
    for label, page, extra in runs:
        r = tool(tools, "ui_latency.py", "--app", APP, "--cwd", ".", "--page", page, "--slider", "Seed", *extra,
                 "--compare", str(tools / "baseline_app.py"), "--compare-slider", "Depth", "--timeout", "500")
        out[label] = {"p50_ms": r.get("p50_ms"), "p95_ms": r.get("p95_ms"), "p50_ratio": r.get("p50_ratio"),
                      "trivial_p50_ms": (r.get("compare") or {}).get("p50_ms"),
                      "breakdown_p50_ms": r.get("breakdown_p50_ms"), "first_render_s": r.get("first_render_s")}
        print(f"learner {label:14s} p50 {r.get('p50_ms')} ms (trivial {out[label]['trivial_p50_ms']} ms) "
              f"ratio {r.get('p50_ratio')}  breakdown {r.get('breakdown_p50_ms')}", flush=True)
    return out


async def _moves(url: str, page: str, values: list[int]) -> None:
    """Open the page, then move Seed through `values`; each rerun must show that seed in its run
    summary (proof that a new run was trained and drawn)."""
    s = Session(url, page)
    await s.open()
    await s.rerun(first=True)
    for v in values:
        out = await s.move("Seed", v, url_key="seed")
        assert any(f"seed {v}" in t for t in out.texts) and not out.exceptions, (page, v)
    await s.close()


def cpu_per_view() -> dict:
    out = {}
    proc, url = start(extra=["--server.fileWatcherType", "none"])
    try:
        wait_healthy(url)
        time.sleep(10)                                          # the start-up warm-up is done
        for page, base in (("flow", 2000), ("vanishing", 3000)):       # seeds no preset uses
            values = list(range(base, base + 40))
            before = cpu_seconds(proc.pid)
            asyncio.run(_moves(url, page, values))
            per_view = 1000 * (cpu_seconds(proc.pid) - before) / (len(values) + 1)
            out[page] = round(per_view, 1)
            print(f"cpu {page:9s} {per_view:.1f} ms of server CPU (tree) per new view", flush=True)
    finally:
        stop(proc)
    return out


def cold_start() -> dict:
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        proc, url = start()
        try:
            wait_healthy(url)
            asyncio.run(_moves(url, "flow", []))
            times.append(time.perf_counter() - t0)
        finally:
            stop(proc)
    print(f"cold start to first full render of /flow: median {statistics.median(times):.2f} s "
          f"({', '.join(f'{t:.2f}' for t in times)})", flush=True)
    return {"median_s": round(statistics.median(times), 2), "runs_s": [round(t, 2) for t in times]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools", default=str(ROOT.parent / "shared" / "tools"))
    ap.add_argument("--only", default="class,learner,cpu,core,cold")
    ap.add_argument("--no-guess", action="store_true",
                    help="servers without guessing ahead (BACKPROP_LAB_GUESS_AHEAD=0), to measure its effect")
    args = ap.parse_args()
    tools, only = Path(args.tools), set(args.only.split(","))
    if args.no_guess:
        os.environ["BACKPROP_LAB_GUESS_AHEAD"] = "0"           # every server below inherits it
    print(f"bench_issue9 on {machine()}{' (no guessing ahead)' if args.no_guess else ''}", flush=True)
    result = {"machine": machine(), "guess_ahead": not args.no_guess}
    if "core" in only:
        subprocess.run([PY, str(ROOT / "bench" / "bench_core.py"), "--repeats", "11"], cwd=ROOT)
    if "cold" in only:
        result["cold"] = cold_start()
    if "cpu" in only:
        result["cpu_ms_per_view"] = cpu_per_view()
    if "learner" in only:
        result["learner"] = one_learner(tools)
    if "class" in only:
        result["class"] = class_scenario(tools)
    path = ROOT / "bench" / "out" / f"issue9{'-no-guess' if args.no_guess else ''}.json"
    path.parent.mkdir(exist_ok=True)
    earlier = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**earlier, **result}, indent=1))     # --only keeps the other figures


if __name__ == "__main__":
    main()
