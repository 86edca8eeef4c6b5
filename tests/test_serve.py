"""`make serve` (deploy/serve.py): replicas behind nginx on one port, one command to start and stop.

Needs Debian's nginx: without it (a learner's laptop) the test skips with a reason; under CI
(CI=true, .ci/run installs it) a missing nginx is a failure."""
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from serve import render_nginx
from servers import descendants, free_port, running, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def test_the_nginx_configuration_names_every_replica_and_keeps_learners_on_theirs():
    conf = render_nginx("127.0.0.1:8080", ["127.0.0.1:9001", "10.0.0.2:8501"], "/tmp/x", "/srv/web")
    assert "@" not in conf.replace("$request_id", "")
    assert "listen 127.0.0.1:8080;" in conf and "pid /tmp/x/nginx.pid;" in conf
    assert "server 127.0.0.1:9001 max_fails=1" in conf and "server 10.0.0.2:8501 max_fails=1" in conf
    assert "hash $bplab_route consistent;" in conf and "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "root /srv/web;" in conf and "gzip_static on;" in conf


def test_the_frontend_files_nginx_serves_are_streamlits_own_with_their_gzipped_forms(tmp_path):
    import gzip
    import importlib.util

    from serve import web_files
    web = web_files(tmp_path)
    package = Path(importlib.util.find_spec("streamlit").origin).parent / "static" / "static"
    index = next(package.glob("js/index.*.js"))             # what index.html loads first
    served = web / "static" / "js" / index.name
    assert served.read_bytes() == index.read_bytes()
    assert gzip.decompress(served.with_name(index.name + ".gz").read_bytes()) == index.read_bytes()
    conf = render_nginx("127.0.0.1:8080", ["127.0.0.1:9001"], "/tmp/x", str(web))
    kinds = re.search(r"types \{(.*?)\}", conf, re.S).group(1)
    named = {ext for line in kinds.splitlines() for ext in line.split("#")[0].strip(" ;").split()[1:]}
    assert {f.suffix[1:] for f in (web / "static").rglob("*") if f.is_file() and f.suffix != ".gz"} <= named
    fonts = list((web / "static").rglob("*.woff2"))
    assert fonts and not list((web / "static").rglob("*.woff2.gz"))       # already compressed: left alone


def need_nginx() -> None:
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("CI=true but nginx is not installed (.ci/run installs Debian's nginx)")
        pytest.skip("nginx not found: install Debian's nginx to run make serve")


def test_the_proxy_images_own_server_answers_only_the_frontend_files():
    """web_server, the proxy image's default configuration (Kubernetes runs it beside the replicas),
    run by the real nginx: the first script gzipped with its type, and nothing outside /static/."""
    need_nginx()
    with tempfile.TemporaryDirectory() as tmp:          # not pytest's: nginx's workers may read as nobody
        Path(tmp).chmod(0o711)
        run_web_server(Path(tmp))


def run_web_server(tmp_path: Path) -> None:
    import urllib.error
    import urllib.request

    from serve import web_files, web_server
    web, port = web_files(tmp_path / "web"), free_port()
    (tmp_path / "nginx.conf").write_text(
        f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\nevents {{}}\nhttp {{\n"
        f"client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;\n"
        + web_server(str(web), f"127.0.0.1:{port}") + "}\n")
    proc = subprocess.Popen([NGINX, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)], start_new_session=True,
                            stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url + "/static/", timeout=1)
            except urllib.error.HTTPError:
                break                                      # answering (no index here)
            except OSError:
                time.sleep(0.1)
        script = "/static/js/" + next((web / "static" / "js").glob("index.*.js")).name
        assert_gzipped_script(url, script)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "/flow", timeout=5)
        assert refused.value.code == 404
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


@pytest.mark.slow
def test_make_serve_answers_through_its_port_restarts_a_replica_and_stops_everything_on_sigterm():
    need_nginx()
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
        assert_nginx_serves_the_frontend_gzipped(url)

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


def assert_nginx_serves_the_frontend_gzipped(url: str) -> None:
    """The first script a browser loads, asked for as a browser asks: gzipped (Streamlit itself sends it
    uncompressed, so the encoding shows nginx answered from its copy), and the same bytes."""
    import urllib.request
    page = urllib.request.urlopen(url + "/flow", timeout=10).read().decode()
    assert_gzipped_script(url, re.search(r'src="\.?(/static/js/index\.[^"]+\.js)"', page).group(1))


def assert_gzipped_script(url: str, script: str) -> None:
    import gzip
    import urllib.request
    req = urllib.request.Request(url + script, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Content-Encoding"] == "gzip" and "immutable" in r.headers["Cache-Control"]
        assert r.headers["Content-Type"] == "text/javascript"          # a module script of another type is refused
        body = gzip.decompress(r.read())
    plain = urllib.request.urlopen(url + script, timeout=10).read()
    assert body == plain and len(plain) > 10_000
