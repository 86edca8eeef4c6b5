"""Two replicas behind Debian's nginx with sticky sessions; kill one mid-load.

    python bench/scaleout.py [--sessions 20] [--actions 8] [--kill-at 0.3]

Starts two app replicas on loopback (shared cookie secret), nginx in front of them
(deploy/nginx.conf.template), runs the learners through nginx, and kills replica A by its pid
while they are moving 'Depth'. A learner whose connection drops does what the browser does:
reconnects through nginx with its cookies and its URL, which now reaches replica B. Reports the
sessions that were cut, recovered and lost, the recovery time, and whether every recovered view
showed the same numbers (run summary and verdict) as the same URL shows elsewhere.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "deploy"))
from common import machine  # noqa: E402
from serve import STATIC_BLOCK, render_nginx, web_files  # noqa: E402
from servers import free_port, start, stop, wait_healthy  # noqa: E402
from stclient import Session, verdict  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def view(outcome) -> tuple:
    """What the learner sees that must survive a failover: the run summary and the verdict."""
    return tuple(t for t in outcome.texts if t.startswith("**Run:**")), verdict(outcome)


def start_nginx(listen_port: int, upstream_ports: list[int], tmp: Path, static: bool = True) -> subprocess.Popen:
    """nginx with make serve's configuration in front of the replicas; `static=False` drops its /static/
    block, so the replicas answer the frontend's files (as before make serve served them itself)."""
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    tmp.chmod(0o711)                                  # nginx's workers may read the files as nobody
    path = tmp / "nginx.conf"
    web = tmp / "web" if (tmp / "web").exists() else web_files(tmp / "web")
    conf = render_nginx(f"127.0.0.1:{listen_port}", [f"127.0.0.1:{p}" for p in upstream_ports], str(tmp), str(web))
    path.write_text(conf if static else STATIC_BLOCK.sub("", conf))
    proc = subprocess.Popen([NGINX, "-c", str(path), "-p", str(tmp)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    return proc


async def reconnect(url: str, query: str, cookies: dict, limit_s: float = 30.0, stats=None):
    """Open the page again through the proxy with the same cookies and URL, retrying briefly:
    what Streamlit's frontend does when its websocket drops. Returns (session, first outcome)."""
    t0 = time.perf_counter()
    first_try = True
    while time.perf_counter() - t0 < limit_s:
        if not first_try and stats is not None:
            stats["first_load_retries"] += 1
        first_try = False
        fresh = Session(url, "flow", query=query)
        fresh.cookies = dict(cookies)
        try:
            await fresh.open()
            outcome = await fresh.rerun(first=True)
            if not outcome.complete:             # stopped early: ask for the whole view again
                outcome = await fresh.rerun()
            return fresh, outcome
        except Exception:  # noqa: BLE001
            await asyncio.sleep(0.2)
    return None, None


async def learner(url, i, actions, values, think, stats, expected) -> None:
    s, _ = await reconnect(url, "", {}, stats=stats)
    if s is None:
        stats["lost"] += 1
        return
    for k in range(actions):
        depth = values[(i + k) % len(values)]
        try:
            out = await s.move("Depth", depth, url_key="depth")
            if out.complete and verdict(out) is not None:
                expected.setdefault(depth, view(out))
            stats["ok"] += 1
        except Exception:  # noqa: BLE001  (the replica went away: reconnect like a browser)
            stats["cut"] += 1
            t0 = time.perf_counter()
            s, recovered = await reconnect(url, s.query, s.cookies)
            if s is None:
                stats["lost"] += 1
                return
            stats["recovery_s"].append(time.perf_counter() - t0)
            stats["restored"].append((depth, view(recovered)))
        await asyncio.sleep(think)
    await s.close()


async def run_load(url, sessions, actions, values, think, kill, kill_at, stats, expected):
    async def killer():
        # mid-load: once a share kill_at of all actions is done (and every learner has done about
        # one), whatever time that takes, so the kill hits live sessions on a fast or a slow server
        t0 = time.perf_counter()
        while stats["ok"] < max(sessions, kill_at * sessions * actions):
            await asyncio.sleep(0.02)
        kill()
        stats["killed_at_s"] = round(time.perf_counter() - t0, 2)
    await asyncio.gather(killer(), *(learner(url, i, actions, values, think, stats, expected)
                                     for i in range(sessions)))


def scenario(sessions: int = 20, actions: int = 8, values=(2, 3, 4, 5), think: float = 0.3,
             kill_at: float = 0.3) -> dict:
    """Run the failover scenario once and return its figures."""
    secret = secrets.token_hex(16)
    env = {"STREAMLIT_SERVER_COOKIE_SECRET": secret}   # one secret for all replicas (XSRF tokens)
    (a, url_a), (b, url_b) = start(env=env), start(env=env)
    tmp = Path(tempfile.mkdtemp(prefix="bplab-nginx-"))
    nginx = None
    stats = {"ok": 0, "cut": 0, "lost": 0, "recovery_s": [], "restored": [], "first_load_retries": 0}
    expected: dict = {}
    try:
        wait_healthy(url_a)
        wait_healthy(url_b)
        port = free_port()
        nginx = start_nginx(port, [int(url_a.rsplit(":", 1)[1]), int(url_b.rsplit(":", 1)[1])], tmp)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, 20)
        except TimeoutError:
            err = nginx.stderr.read().decode()[-500:] if nginx.poll() is not None else ""
            raise RuntimeError(f"nginx did not come up: {err}") from None
        t0 = time.perf_counter()
        asyncio.run(run_load(url, sessions, actions, list(values), think, lambda: stop(a), kill_at,
                             stats, expected))
        wall = time.perf_counter() - t0
        mismatched = [d for d, v in stats["restored"] if d in expected and expected[d] != v]
        wrong_depth = [d for d, v in stats["restored"] if not any(f"{d} hidden layer" in t for t in v[0])]
        rec = stats["recovery_s"]
        return {
            "machine": machine(), "sessions": sessions, "actions_ok": stats["ok"],
            "connections_cut": stats["cut"], "sessions_recovered": len(rec), "sessions_lost": stats["lost"],
            "recovery_p50_s": round(statistics.median(rec), 2) if rec else None,
            "recovery_max_s": round(max(rec), 2) if rec else None,
            "restored_views_with_different_numbers": len(mismatched),
            "mismatch_examples": [(d, expected[d], v) for d, v in stats["restored"]
                                  if d in expected and expected[d] != v][:2],
            "restored_views_with_wrong_depth": len(wrong_depth), "wall_s": round(wall, 1),
            "replica_a_alive": a.poll() is None, "replica_b_alive": b.poll() is None,
            "killed_at_s": stats.get("killed_at_s"), "first_load_retries": stats["first_load_retries"],
        }
    finally:
        if nginx is not None:
            stop(nginx)
        stop(a)
        stop(b)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--actions", type=int, default=8)
    ap.add_argument("--values", default="2,3,4,5")
    ap.add_argument("--think", type=float, default=0.3)
    ap.add_argument("--kill-at", type=float, default=0.3, help="share of all actions done when A is killed")
    ap.add_argument("--json")
    args = ap.parse_args()
    result = scenario(args.sessions, args.actions, [int(v) for v in args.values.split(",")], args.think,
                      args.kill_at)
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
