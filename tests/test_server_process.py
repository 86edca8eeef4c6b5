"""The pages' server process never imports torch: every computation runs in the workers."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_MODULES = ["dashboard.charts", "dashboard.compute", "dashboard.controls", "dashboard.custom_data",
                  "dashboard.exercise", "dashboard.fixes", "dashboard.frames", "dashboard.graph", "dashboard.links",
                  "backprop_core.codegen", "backprop_core.diagnose", "backprop_core.hand", "backprop_core.jobs"]


def test_every_module_the_pages_import_is_free_of_torch():
    code = ("import importlib, json, sys\n"
            f"for m in {SERVER_MODULES!r}: importlib.import_module(m)\n"
            "print(json.dumps(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_every_page_imports_only_server_modules():
    allowed = {m.split(".")[-1] for m in SERVER_MODULES} | {"config", "precision", "results"}
    for page in (ROOT / "dashboard" / "views").glob("*.py"):
        for line in page.read_text().splitlines():
            if line.startswith("from backprop_core") or line.startswith("from dashboard"):
                names = line.split(" import ")[1].replace("(", "").split(",")
                module = line.split()[1].split(".")[-1]
                modules = [module] if module not in ("backprop_core", "dashboard") else [n.strip() for n in names]
                assert set(filter(None, modules)) <= allowed, (page.name, line)
