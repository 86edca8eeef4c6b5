"""The server process: torch-free (every computation runs in the workers), and its workers leave with it."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from servers import descendants, running, start, stop, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
SERVER_MODULES = ["dashboard.charts", "dashboard.compute", "dashboard.computing", "dashboard.controls",
                  "dashboard.custom_data", "dashboard.exercise", "dashboard.output_layer", "dashboard.fixes",
                  "dashboard.network_part", "dashboard.network_data", "dashboard.player",
                  "dashboard.chart_data", "dashboard.graph", "dashboard.guess_ahead", "dashboard.idle_work",
                  "dashboard.links", "dashboard.training_page", "backprop_core.digits",
                  "backprop_core.budget", "backprop_core.bugs", "backprop_core.codegen", "backprop_core.diagnose",
                  "backprop_core.fixes", "backprop_core.hand", "backprop_core.jobs", "backprop_core.points",
                  "backprop_core.presets", "backprop_core.readout", "backprop_core.tasks"]


def test_every_module_the_pages_import_is_free_of_torch():
    code = ("import importlib, json, sys\n"
            f"for m in {SERVER_MODULES!r}: importlib.import_module(m)\n"
            "print(json.dumps(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_every_page_imports_only_server_modules():
    allowed = {m.split(".")[-1] for m in SERVER_MODULES} | {"activations", "config", "precision", "results"}
    for page in (ROOT / "dashboard" / "views").glob("*.py"):
        for line in page.read_text().splitlines():
            if line.startswith("from backprop_core") or line.startswith("from dashboard"):
                names = line.split(" import ")[1].replace("(", "").split(",")
                module = line.split()[1].split(".")[-1]
                modules = [module] if module not in ("backprop_core", "dashboard") else [n.strip() for n in names]
                assert set(filter(None, modules)) <= allowed, (page.name, line)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process tree from Linux /proc")
@pytest.mark.parametrize("how", ["killed", "stopped"])
def test_workers_leave_with_the_server(how):
    """A server killed by its pid (no chance to clean up) or stopped by SIGTERM leaves no worker,
    forkserver or resource tracker behind: an orphaned worker would hold torch's memory forever."""
    proc, url = start()
    try:
        wait_healthy(url)
        deadline = time.monotonic() + 60
        while len(descendants(proc.pid)) < 3 and time.monotonic() < deadline:     # server, forkserver, workers
            time.sleep(0.2)
        tree = descendants(proc.pid)
        assert len(tree) >= 3, "the worker processes never started"
        os.kill(proc.pid, signal.SIGKILL if how == "killed" else signal.SIGTERM)   # the server's pid only
        proc.wait(20)
        deadline = time.monotonic() + 15
        while any(running(p) for p in tree) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [p for p in tree if running(p)] == []
    finally:
        stop(proc)
