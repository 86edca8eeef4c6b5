"""Where a Streamlit server's time goes under a class (issue 19): the script runs, serialising, the
websocket and its event loop, garbage collection; beside the training workers' CPU.

    python bench/server_profile.py [--page vanishing] [--learners 60] [--tools ../shared/tools]

Starts a one-process server (as `make run`), runs bench/capacity.py's class scenario (each learner
moves Seed to values nobody else asks for, 4 moves, 2 s of looking, starts over 5 s) and samples the
server process with py-spy (`pip install py-spy`): 200 times a second, only the thread that holds
the GIL, i.e. the Python work that the one interpreter does for everybody. Each sample goes to one
bucket by its stack (first match):
- gc:         Streamlit's collection after every script run (runner.postScriptGC);
- serialise:  Arrow tables, protobuf messages, hashing, JSON (charts.arrow, pyarrow, marshalling,
              serialize_forward_msg, calc_hash, json);
- websocket:  the event loop, Starlette/uvicorn and the websocket writes;
- script:     the pages' own code and Streamlit's element building in the script threads;
- other:      waiting threads, idle work, the workers' queue threads.
Prints each bucket's share and, with the server's CPU per action from /proc, its ms per action.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import ROOT, cpu_by_part, machine
from servers import start, stop, wait_healthy

PY = sys.executable
BUCKETS = {
    "gc": ("script_runner.py:1055",),
    "serialise": ("charts.py", "pyarrow", "marshall", "serialize_forward_msg", "calc_hash", "json/", "protobuf",
                  "dataframe_util", "arrow_", "SerializeToString"),
    "websocket": ("starlette", "uvicorn", "websockets", "asyncio", "browser_websocket", "app_session"),
    "script": ("ScriptRunner._run_script", "script_runner.py"),
}


def bucket(stack: str) -> str:
    for name, marks in BUCKETS.items():
        if any(m in stack for m in marks):
            return name
    return "other"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tools", default=str(ROOT.parent / "shared" / "tools"))
    ap.add_argument("--page", default="vanishing")
    ap.add_argument("--learners", type=int, default=60)
    ap.add_argument("--keep", help="copy py-spy's raw stacks to this file (to look inside the script bucket)")
    args = ap.parse_args()
    spy_bin = shutil.which("py-spy") or str(Path(PY).with_name("py-spy"))
    if not Path(spy_bin).exists():
        sys.exit("py-spy is needed: pip install py-spy")
    print(f"server_profile on {machine()}: /{args.page}, {args.learners} learners", flush=True)
    proc, url = start(extra=["--server.fileWatcherType", "none"])
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "spy.txt", Path(tmp) / "load.json"
        try:
            wait_healthy(url, 120)
            time.sleep(8)                                 # the warm views are trained
            cpu0 = cpu_by_part(proc.pid)
            spy = subprocess.Popen([spy_bin, "record", "--pid", str(proc.pid), "--rate", "200", "--gil",
                                    "--nonblocking", "--format", "raw", "--output", str(raw), "--duration", "600"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
            subprocess.run([PY, str(Path(args.tools) / "st_load.py"), "--url", url + "/", "--page", args.page,
                            "--sessions", str(args.learners), "--actions", "4", "--slider", "Seed", "--values",
                            "100,200,300,400", "--per-session-offset", "1", "--think-ms", "2000", "--ramp", "5",
                            "--timeout", "900", "--json", str(out)], cwd=ROOT, timeout=1000,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cpu = {k: v - cpu0[k] for k, v in cpu_by_part(proc.pid).items()}
            spy.send_signal(2)                            # py-spy writes its samples on SIGINT
            spy.wait(60)
        finally:
            stop(proc)
        if args.keep:
            shutil.copy(raw, args.keep)
        load = json.loads(out.read_text() or "{}")
        samples = Counter()
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            samples[bucket(stack)] += int(count)
    ok = load.get("actions_ok") or 1
    total = sum(samples.values()) or 1
    server_ms = 1000 * cpu["servers"] / ok
    print(json.dumps({"page": args.page, "learners": args.learners, "p50_ms": load.get("p50_ms"),
                      "p95_ms": load.get("p95_ms"), "actions": ok,
                      "server_cpu_ms_per_action": round(server_ms, 1),
                      "workers_cpu_ms_per_action": round(1000 * cpu["workers"] / ok, 1),
                      "server_share": {k: round(v / total, 3) for k, v in samples.most_common()},
                      "server_ms_per_action": {k: round(server_ms * v / total, 1) for k, v in samples.most_common()}}))


if __name__ == "__main__":
    main()
