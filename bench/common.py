"""Small helpers shared by the benchmark scripts (medians, machine facts, repo on sys.path)."""
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT), str(ROOT / "tests")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from servers import descendants  # noqa: E402  (the server's process tree, workers included)


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{time.strftime('%Y-%m-%d')}")


def median_ms(samples) -> float:
    return 1000 * statistics.median(samples)


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (from /proc)."""
    total = 0
    for p in descendants(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def cpu_by_part(*pids: int) -> dict[str, float]:
    """CPU seconds so far of these processes and their descendants, by part: the Streamlit servers
    (script runs, serialising, the websocket), the training workers, nginx, and make serve's own
    supervisor."""
    parts = {"servers": 0.0, "workers": 0.0, "nginx": 0.0, "serve.py": 0.0}
    for p in {d for pid in pids for d in descendants(pid)}:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            args = Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="ignore").split("\x00")
        except OSError:
            continue
        part = ("nginx" if "nginx" in args[0] else "servers" if "streamlit" in args[:3]
                else "serve.py" if args[1:2] and args[1].endswith("serve.py") else "workers")
        parts[part] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return parts
