"""A lecture starting: a class opens the link within a few seconds (issue 19).

    python bench/lecture_start.py [--learners 120] [--ramp 10] [--page vanishing] [--static nginx,replicas]

A browser's first visit fetches the page, then the frontend's own files (about a hundred scripts,
fonts and styles under /static/, some 4 MB), then opens the websocket and runs the page.
bench/st_load's learners skip the files; this script's learners fetch them as Chromium does: the
list is what Chromium asked for on a cold load of the page (recorded here with the Debian chromium,
when present; else the files index.html names), over 6 keep-alive connections per learner, asking
for gzip. The stack is make serve's (two replicas, one training worker each, nginx with
deploy/nginx.conf.template), in two variants:
- nginx:    as deployed, nginx answers /static/ from its gzipped copy (deploy/serve.py, web_files);
- replicas: the same configuration without its /static/ block: the replicas answer (as before).
Each learner asks for its own seed (seed=1000+i). Prints, per variant: p50/p95 of the time from the
first request to the page's first run finished, bytes on the wire per learner, and CPU per learner
of the replicas, the training workers and nginx (from /proc).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import cpu_by_part, machine  # noqa: E402
from scaleout import start_nginx  # noqa: E402
from servers import free_port, start, stop, wait_healthy  # noqa: E402
from stclient import Session  # noqa: E402

CONNECTIONS = 6                 # a browser's connections per host (HTTP/1.1)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def assets_of(url: str, page: str) -> list[str]:
    """The paths a cold browser load of the page asks for under /static/."""
    chromium = shutil.which("chromium")
    if chromium:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            tab = browser.new_context().new_page()
            seen: list[str] = []
            tab.on("request", lambda r: seen.append(r.url))
            tab.goto(f"{url}/{page}")
            tab.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
            time.sleep(2)
            browser.close()
        return sorted({u[len(url):] for u in seen if u.startswith(url + "/static/")})
    print("no chromium: only the files index.html names", file=sys.stderr)
    html = urllib_get(url + "/" + page)
    return sorted(set(re.findall(r'(?:src|href)="\.?(/static/[^"]+)"', html)))


def urllib_get(url: str) -> str:
    import urllib.request
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read().decode()


async def fetch_all(host: str, port: int, paths: list[str], cookie: str) -> int:
    """GET every path over CONNECTIONS keep-alive connections, as a browser does; bytes on the wire."""
    todo = list(paths)
    wire = [0]

    async def connection():
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while todo:
                path = todo.pop()
                writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept-Encoding: gzip, deflate\r\n"
                             f"Cookie: {cookie}\r\nConnection: keep-alive\r\n\r\n".encode())
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                if length:
                    body = await reader.readexactly(int(length.group(1)))
                else:                                   # chunked
                    body = b""
                    while (size := int((await reader.readline()).strip(), 16)) > 0:
                        body += await reader.readexactly(size)
                        await reader.readline()
                    await reader.readline()
                if status != 200:
                    raise RuntimeError(f"{path}: HTTP {status}")
                wire[0] += len(head) + len(body)
        finally:
            writer.close()
    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    return wire[0]


async def learner(url: str, page: str, i: int, delay: float, paths: list[str], out: list) -> None:
    await asyncio.sleep(delay)
    t0 = time.perf_counter()
    s = Session(url, page, f"seed={1000 + i}", timeout=300)
    await s.open()                                      # the page, health (cookies), host-config
    cookie = "; ".join(f"{k}={v}" for k, v in s.cookies.items())
    host, port = url.split("//")[1].split(":")
    wire = await fetch_all(host, int(port), paths, cookie)
    outcome = await s.rerun(first=True)
    out.append((time.perf_counter() - t0, wire, outcome.complete and not outcome.exceptions))
    await s.close()


def stack(static: str, tmp: Path):
    """Two replicas (one worker each) and nginx; `static`: who answers /static/."""
    env = {"STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(16), "BACKPROP_LAB_WORKERS": "1"}
    apps = [start(env=env, extra=["--server.fileWatcherType", "none"]) for _ in range(2)]
    for _, u in apps:
        wait_healthy(u, 120)
    port = free_port()
    nginx = start_nginx(port, [int(u.rsplit(":", 1)[1]) for _, u in apps], tmp, static=static == "nginx")
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, 20)
    time.sleep(8)                                       # the warm views are trained
    return [p for p, _ in apps], nginx, url


def one_variant(static: str, page: str, learners: int, ramp: float, paths: list[str] | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        apps, nginx, url = stack(static, Path(tmp))
        try:
            paths = paths or assets_of(url, page)
            pids = [a.pid for a in apps] + [nginx.pid]
            before = cpu_by_part(*pids)
            out: list = []

            async def everyone():
                await asyncio.gather(*(learner(url, page, i, ramp * i / learners, paths, out) for i in range(learners)))
            asyncio.run(everyone())
            after = cpu_by_part(*pids)
        finally:
            nginx.terminate()
            nginx.wait(10)
            for a in apps:
                stop(a)
    times = sorted(t for t, _, _ in out)
    cpu = [(after[k] - before[k]) / learners * 1000 for k in ("servers", "workers", "nginx")]
    return {"static": static, "page": page, "learners": learners, "ramp_s": ramp, "files": len(paths),
            "ok": sum(ok for _, _, ok in out),
            "p50_s": round(statistics.median(times), 2), "p95_s": round(times[int(0.95 * (len(times) - 1))], 2),
            "kB_per_learner": round(statistics.mean(w for _, w, _ in out) / 1000),
            "cpu_ms_per_learner": {"replicas": round(cpu[0]), "workers": round(cpu[1]), "nginx": round(cpu[2])},
            "paths": paths}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--learners", type=int, default=120)
    ap.add_argument("--ramp", type=float, default=10.0)
    ap.add_argument("--page", default="vanishing")
    ap.add_argument("--static", default="nginx,replicas")
    args = ap.parse_args()
    print(f"lecture_start on {machine()}", flush=True)
    paths = None
    for static in args.static.split(","):
        row = one_variant(static, args.page, args.learners, args.ramp, paths)
        paths = row.pop("paths")
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
