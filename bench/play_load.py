"""A class pressing Play on one link (issue 17): what playing costs the server, and what it does to
the other learners.

    python bench/play_load.py [--players 30] [--seconds 10] [--runs 2] [--tools ../shared/tools]

Each run starts a fresh one-process server (as `make run`) and measures, from /proc:
1. players alone on /flow?net=true (the drawing open, where Play is one fragment rerun for its frames):
   --players sessions press Play at once (the player component's trigger, as the browser sends it),
   then watch for --seconds, reading what the server sends as an open tab does (a playing browser sends
   nothing per frame: tests/test_browser.py checks it). Printed: the press's latency and server CPU
   per player, the server CPU per player per second of watching, the messages sent to them meanwhile;
   for scale, a Step press (the fragment rerun a server-driven animation would need for every frame).
2. the others: the class scenario of bench/capacity.py (30 learners moving Seed on /flow, 2 s of
   looking, starts over 5 s), their p50 / p95
   - alone;
   - beside 30 players on the default link (drawing closed): there Play sends nothing at all, so a
     player is an open tab that watches (tests/test_browser.py: 0 messages from the press on);
   - beside 30 players on the drawing link pressing Play at once, 4 s into the class;
   - the same, the presses spread over 3 s (a class told "press Play" reacts within seconds).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, cpu_by_part, machine
from servers import start, stop, wait_healthy
from stclient import Session

PY = sys.executable
LINK = "net=true"               # the drawing open: Play is one rerun (closed, it sends nothing at all)
COMPONENT = "backprop_lab.player"


def server_cpu(pid: int) -> float:
    parts = cpu_by_part(pid)
    return parts["servers"] + parts["workers"]


async def open_link(url: str, count: int, link: str = LINK) -> list[Session]:
    """`count` learners on the link, its page drawn (before anyone presses Play)."""
    sessions = [Session(url, "flow", link, timeout=120) for _ in range(count)]
    await asyncio.gather(*(s.open() for s in sessions))
    await asyncio.gather(*(s.rerun(first=True) for s in sessions))
    return sessions


async def players(url: str, count: int, seconds: float, pid: int, opened=None, wait: float = 0.0,
                  spread: float = 0.0, press: bool = True) -> dict:
    """Learners on the link press Play (after `wait` seconds, at once or spread over `spread` seconds;
    `press=False`: the drawing is closed, Play sends nothing), then watch for `seconds`."""
    sessions = opened or await open_link(url, count)
    await asyncio.gather(*(s.listen(wait) for s in sessions))
    cpu0 = server_cpu(pid)

    async def play(k: int, s: Session):
        await s.listen(spread * k / count)
        return await s.trigger(COMPONENT, "play", True)
    presses = await asyncio.gather(*(play(k, s) for k, s in enumerate(sessions))) if press else []
    cpu1 = server_cpu(pid)
    heard = await asyncio.gather(*(s.listen(seconds) for s in sessions))    # watching: the frames play
    cpu2 = server_cpu(pid)                                                   # in the browsers
    await asyncio.gather(*(s.close() for s in sessions))
    return {"press_ms": [p.ms for p in presses] or [0.0], "exceptions": sum(len(p.exceptions) for p in presses),
            "press_cpu_s": cpu1 - cpu0, "watch_cpu_s": cpu2 - cpu1, "messages_while_watching": sum(heard)}


async def steps(url: str, count: int, pid: int) -> dict:
    """A still view's Step press, `count` times in one session (each a fragment rerun)."""
    s = Session(url, "flow", LINK, timeout=120)
    await s.open()
    await s.rerun(first=True)
    times, cpu0 = [], server_cpu(pid)
    for k in range(count):
        times.append((await s.press("Step back" if k % 2 == 0 else "Step")).ms)
    cpu = server_cpu(pid) - cpu0
    await s.close()
    return {"step_ms": statistics.median(times), "step_cpu_ms": 1000 * cpu / count}


def class_of_30(tools: Path, url: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([PY, str(tools / "st_load.py"), "--url", url + "/", "--page", "flow", "--sessions", "30",
                        "--actions", "4", "--slider", "Seed", "--values", "100,200,300,400",
                        "--per-session-offset", "1", "--think-ms", "2000", "--ramp", "5", "--timeout", "600",
                        "--json", out.name], cwd=ROOT, timeout=700, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        r = json.loads(Path(out.name).read_text() or "{}")
    return {"p50_ms": r.get("p50_ms"), "p95_ms": r.get("p95_ms"), "ok": r.get("actions_ok"),
            "failed": r.get("actions_failed"), "exceptions": r.get("exception_count")}


def one_run(tools: Path, count: int, seconds: float) -> dict:
    proc, url = start(extra=["--server.fileWatcherType", "none"])
    try:
        wait_healthy(url, 120)
        time.sleep(8)                                     # the warm views are trained
        alone = asyncio.run(players(url, count, seconds, proc.pid))
        step = asyncio.run(steps(url, 20, proc.pid))
        others = {"alone": class_of_30(tools, url)}
        exceptions = alone["exceptions"]
        for name, link, press, spread in (("beside_players_drawing_closed", "", False, 0.0),
                                          ("beside_players_drawing_open_at_once", LINK, True, 0.0),
                                          ("beside_players_drawing_open_over_3s", LINK, True, 3.0)):
            box: dict = {}

            def play_during_the_class(opened: threading.Event, link=link, press=press, spread=spread, box=box):
                async def go():
                    sessions = await open_link(url, count, link)
                    opened.set()                          # on the page; the class starts now
                    box.update(await players(url, count, 12.0, proc.pid, sessions, wait=4.0, spread=spread,
                                             press=press))
                asyncio.run(go())
            opened = threading.Event()
            watcher = threading.Thread(target=play_during_the_class, args=(opened,))
            watcher.start()                               # players press Play while the class moves Seed
            opened.wait(300)
            others[name] = class_of_30(tools, url)
            watcher.join()
            exceptions += box["exceptions"]
    finally:
        stop(proc)
    return {
        "players": count, "play_press_p50_ms": round(statistics.median(alone["press_ms"]), 1),
        "play_press_max_ms": round(max(alone["press_ms"]), 1), "exceptions": exceptions,
        "server_cpu_ms_per_play_press": round(1000 * alone["press_cpu_s"] / count, 1),
        "server_cpu_ms_per_player_second_watching": round(1000 * alone["watch_cpu_s"] / (count * seconds), 2),
        "messages_to_players_while_watching": alone["messages_while_watching"],
        "step_press_ms": round(step["step_ms"], 1), "step_cpu_ms": round(step["step_cpu_ms"], 1),
        "a_rerun_per_frame_would_cost_ms_per_player_second": round(5 * step["step_cpu_ms"], 1),
        "others": others,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tools", default=str(ROOT.parent / "shared" / "tools"))
    ap.add_argument("--players", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    print(f"play_load on {machine()}", flush=True)
    for run in range(args.runs):
        print(json.dumps(one_run(Path(args.tools), args.players, args.seconds) | {"run": run + 1}), flush=True)


if __name__ == "__main__":
    main()
