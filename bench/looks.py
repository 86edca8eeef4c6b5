"""What pages waiting for their rounding checks cost the server while they wait (issue 19).

    python bench/looks.py [--page vanishing] [--learners 30] [--seconds 20] [--busy 2]

A page shows a run at once and its rounding notice when the float32 twin is done; until then the
page looks for the twin now and then (a fragment with run_every: the browser reruns it on its own).
In a busy class the twins wait for quiet moments, so every open page keeps looking. bench/st_load's
learners never do (they are not browsers); this script's do: each opens the page at a seed nobody
else asks for, then for `--seconds` reruns every self-rerunning fragment at the interval the server
asked for, as the browser's timer does. `--busy` niced spinning processes keep the machine busy, so
the twins stay held back as in a lecture. Prints looks per second per learner and the server's CPU
time per look and per second (from /proc), i.e. what a class of that size pays only for waiting.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import ROOT, cpu_by_part, machine  # noqa: E402
from servers import start, stop, wait_healthy  # noqa: E402
from stclient import Session  # noqa: E402

PY = sys.executable


async def learner(url: str, page: str, seed: int, seconds: float, looks: list[int], ready: asyncio.Event,
                  opened: list[int], done: list[int]) -> None:
    s = Session(url, page, f"seed={seed}", timeout=120)
    await s.open()
    await s.rerun(first=True)
    opened[0] += 1
    await ready.wait()
    end = time.perf_counter() + seconds
    due = {f: time.perf_counter() + every for f, every in s.auto_reruns.items()}
    while due and (now := time.perf_counter()) < end:
        fragment, at = min(due.items(), key=lambda kv: kv[1])
        await asyncio.sleep(max(0.0, at - now))
        if time.perf_counter() >= end:
            break
        await s.rerun(fragment_id=fragment)
        looks[0] += 1
        if fragment in s.auto_reruns:
            due[fragment] = at + s.auto_reruns[fragment]
        else:                                   # the look found its twin and the whole page ran again
            due = {f: time.perf_counter() + every for f, every in s.auto_reruns.items()}
            done[0] += 1
    await s.close()


async def class_waiting(url: str, page: str, learners: int, seconds: float, server_pid: int) -> dict:
    looks, opened, done, ready = [0], [0], [0], asyncio.Event()
    tasks = [asyncio.create_task(learner(url, page, 5000 + i, seconds, looks, ready, opened, done))
             for i in range(learners)]
    while opened[0] < learners:
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)                             # the last pages' own work is over
    cpu0, t0 = cpu_by_part(server_pid)["servers"], time.perf_counter()
    ready.set()
    await asyncio.gather(*tasks)
    cpu, wall = cpu_by_part(server_pid)["servers"] - cpu0, time.perf_counter() - t0
    return {"looks": looks[0], "looks_per_s_per_learner": round(looks[0] / wall / learners, 2),
            "server_ms_per_look": round(1000 * cpu / max(looks[0], 1), 2),
            "server_cores_for_looks": round(cpu / wall, 3), "seconds": round(wall, 1),
            "checks_done_while_looking": done[0]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--page", default="vanishing")
    ap.add_argument("--learners", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--busy", type=int, default=2, help="niced spinning processes that hold the checks back")
    args = ap.parse_args()
    print(f"looks on {machine()}: /{args.page}, {args.learners} learners, {args.seconds:g} s", flush=True)
    spinners = [subprocess.Popen(["nice", "-n", "19", PY, "-c", "while True: pass"]) for _ in range(args.busy)]
    proc, url = start(extra=["--server.fileWatcherType", "none"])
    try:
        wait_healthy(url, 120)
        time.sleep(5)
        result = asyncio.run(class_waiting(url, args.page, args.learners, args.seconds, proc.pid))
    finally:
        stop(proc)
        for p in spinners:
            p.kill()
    print(json.dumps({"page": args.page, "learners": args.learners, **result}))


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
