"""`make serve` (deploy/serve.py): replicas behind nginx on one port, one command to start and stop.

Needs Debian's nginx: without it (a learner's laptop) the test skips with a reason; under CI
(CI=true, .ci/run installs it) a missing nginx is a failure."""
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from serve import render_nginx
from servers import descendants, free_port, running, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def test_the_nginx_configuration_names_every_replica_and_keeps_learners_on_theirs():
    conf = render_nginx("127.0.0.1:8080", ["127.0.0.1:9001", "10.0.0.2:8501"], "/tmp/x")
    assert "@" not in conf.replace("$request_id", "")
    assert "listen 127.0.0.1:8080;" in conf and "pid /tmp/x/nginx.pid;" in conf
    assert "server 127.0.0.1:9001 max_fails=1" in conf and "server 10.0.0.2:8501 max_fails=1" in conf
    assert "hash $bplab_route consistent;" in conf and "proxy_set_header Upgrade $http_upgrade;" in conf


@pytest.mark.slow
def test_make_serve_answers_through_its_port_restarts_a_replica_and_stops_everything_on_sigterm():
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("CI=true but nginx is not installed (.ci/run installs Debian's nginx)")
        pytest.skip("nginx not found: install Debian's nginx to run make serve")
    from stclient import Session
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "REPLICAS": "2", "BACKPROP_LAB_WORKERS": "1"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "deploy" / "serve.py")], cwd=ROOT, env=env,
                            start_new_session=True, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, 180)
        tree = descendants(proc.pid)

        async def one_learner():
            s = Session(url, "flow")
            await s.open()
            await s.rerun(first=True)
            out = await s.move("Seed", 17, url_key="seed")
            await s.close()
            return out
        out = asyncio.run(one_learner())
        assert out.complete and not out.exceptions and any("seed 17" in t for t in out.texts)

        apps = [p for p in tree if "streamlit" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="ignore")
                and p != proc.pid and os.getpgid(p) == p]
        assert len(apps) == 2, apps
        os.killpg(apps[0], signal.SIGKILL)                  # a replica dies ...
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(
                p not in tree and "streamlit" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="ignore")
                for p in descendants(proc.pid) if running(p)):
            time.sleep(0.5)
        wait_healthy(url, 60)                               # ... and is started again; the port still answers
        tree = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(60)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(running(p) for p in tree):
            time.sleep(0.2)
        assert not [p for p in tree if running(p)]
        assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
