"""The production stack on one machine, in the foreground: `make serve`.

    PORT=8080 python deploy/serve.py          # Ctrl-C or SIGTERM stops everything it started
    python deploy/serve.py --compose-nginx > deploy/nginx.compose.conf     # after editing the template

Starts REPLICAS copies of the dashboard (dashboard/server.py; default one per core, each with
BACKPROP_LAB_WORKERS training workers, default max(1, cores // replicas)) on loopback ports, all
sharing one cookie secret (STREAMLIT_SERVER_COOKIE_SECRET, or a random one for this run), and
Debian's nginx in front of them on HOST:PORT (default 0.0.0.0:8080) with the sticky routing of
deploy/nginx.conf.template: a learner's requests keep reaching the replica that holds their session,
and a replica that dies hands its learners to the others (bench/scaleout.py). A replica that exits
is started again on its port. `/_stcore/health` answers through the front port.

nginx serves the frontend's own files (/static/: about 4 MB of JavaScript, fonts and styles a browser
fetches once, on its first visit) from a copy made at start, each text file beside its gzipped
form: a class opening the link at once would otherwise cost the replicas about 0.12 s of CPU per
learner and send every learner those 4 MB uncompressed (Streamlit does not compress them;
bench/lecture_start.py measures both).

Python's standard library only (nothing to install beyond nginx and the app's requirements).
"""
from __future__ import annotations

import gzip
import importlib.util
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"


COMPRESSIBLE = (".js", ".css", ".html", ".json", ".svg", ".txt", ".ttf", ".map")
STATIC_BLOCK = re.compile(r"\n( *)location /static/ \{.*?\n\1\}", re.S)    # the template's /static/ block


def render_nginx(listen: str, upstreams: list[str], tmp: str, web: str) -> str:
    """deploy/nginx.conf.template with its placeholders filled: `listen` (e.g. 0.0.0.0:8080), the
    upstream replicas (host:port each), the folder for nginx's pid, log and temp files, and the
    folder holding static/, the frontend's files (web_files)."""
    servers = "\n".join(f"        server {u} max_fails=1 fail_timeout=30s;" for u in upstreams)
    return (TEMPLATE.read_text().replace("@LISTEN@", listen).replace("@UPSTREAMS@", servers)
            .replace("@TMP@", tmp).replace("@WEB@", web))


def web_server(web: str, listen: str = "8080") -> str:
    """An nginx server that answers only /static/, with the template's own block: the proxy image's
    default configuration, which Kubernetes runs beside the replicas (deploy/k8s)."""
    block = STATIC_BLOCK.search(TEMPLATE.read_text())
    lines = [line[len(block.group(1)) - 4:] for line in block.group(0).strip("\n").splitlines()]
    return "server {\n    listen %s;\n%s\n}\n" % (listen, "\n".join(lines).replace("@WEB@", web))


def web_files(dest: Path) -> Path:
    """Streamlit's frontend files (the installed package's static/static folder, which the browser asks
    for under /static/) copied into dest/static, each compressible one with its .gz beside it for
    nginx's gzip_static; readable by all (nginx started by root reads as nobody). Returns dest."""
    spec = importlib.util.find_spec("streamlit")
    if spec is None or spec.origin is None:
        raise SystemExit("make serve needs the app's requirements installed (streamlit not found)")
    src = Path(spec.origin).parent / "static" / "static"
    for f in src.rglob("*"):
        if not f.is_file():
            continue
        out = dest / "static" / f.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        data = f.read_bytes()
        out.write_bytes(data)
        if f.suffix in COMPRESSIBLE:
            out.with_name(out.name + ".gz").write_bytes(gzip.compress(data, 6, mtime=0))
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


COMPOSE_REPLICAS = ("app1", "app2")         # the replica services of deploy/compose.yaml
COMPOSE_WEB = "/srv/backprop-lab-web"        # web_files in the proxy image (Dockerfile, target proxy)


def compose_nginx() -> str:
    """nginx's configuration for deploy/compose.yaml: the template for its replica services."""
    return ("# Rendered from deploy/nginx.conf.template by `python deploy/serve.py --compose-nginx`; edit the\n"
            "# template, not this file (tests/test_deploy.py checks the two agree).\n"
            + render_nginx("8080", [f"{name}:8501" for name in COMPOSE_REPLICAS], "/tmp", COMPOSE_WEB))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


def wait_healthy(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not healthy(url):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no health answer from {url} in {timeout:.0f} s")
        time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group, then SIGKILL after 10 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    except ProcessLookupError:
        pass


class Stack:
    """The replicas and nginx, started and stopped together."""

    def __init__(self, host: str, port: int, replicas: int, workers: int, secret: str):
        self.host, self.port, self.replicas, self.workers = host, port, replicas, workers
        self.env = {**os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": secret, "BACKPROP_LAB_WORKERS": str(workers)}
        self.ports = [free_port() for _ in range(replicas)]
        self.apps: list[subprocess.Popen | None] = [None] * replicas
        self.nginx: subprocess.Popen | None = None
        self.tmp = tempfile.mkdtemp(prefix="backprop-lab-serve-")

    def start_app(self, i: int) -> None:
        cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "server.py"),
               "--server.address", "127.0.0.1", "--server.port", str(self.ports[i]), "--server.headless", "true"]
        self.apps[i] = subprocess.Popen(cmd, cwd=ROOT, env=self.env, start_new_session=True)

    def start(self) -> None:
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if nginx is None:
            raise SystemExit("make serve needs nginx in front of the replicas: apt-get install nginx")
        for i in range(self.replicas):
            self.start_app(i)
        for p in self.ports:
            wait_healthy(f"http://127.0.0.1:{p}", 120)
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            Path(self.tmp, sub).mkdir()
        conf = Path(self.tmp, "nginx.conf")
        Path(self.tmp).chmod(0o711)                     # nginx's workers may run as nobody: they pass through
        web = web_files(Path(self.tmp, "web"))
        conf.write_text(render_nginx(f"{self.host}:{self.port}", [f"127.0.0.1:{p}" for p in self.ports], self.tmp,
                                     str(web)))
        self.nginx = subprocess.Popen([nginx, "-c", str(conf), "-p", self.tmp], start_new_session=True)
        wait_healthy(f"http://127.0.0.1:{self.port}", 20)
        print(f"backprop-lab: {self.replicas} replicas ({self.workers} training workers each) behind nginx on "
              f"http://{self.host}:{self.port}", file=sys.stderr, flush=True)

    def watch(self, stopping) -> None:
        """Until `stopping()`: start a replica again when it exits; stop when nginx exits."""
        while not stopping():
            if self.nginx is not None and self.nginx.poll() is not None:
                raise SystemExit(f"nginx exited with {self.nginx.returncode}")
            for i, app in enumerate(self.apps):
                if app is not None and app.poll() is not None:
                    print(f"backprop-lab: replica {i + 1} exited ({app.returncode}); starting it again",
                          file=sys.stderr, flush=True)
                    self.start_app(i)
            time.sleep(0.5)

    def stop(self) -> None:
        for proc in [self.nginx, *self.apps]:
            if proc is not None:
                stop(proc)
        shutil.rmtree(self.tmp, ignore_errors=True)


def main() -> None:
    if sys.argv[1:] == ["--compose-nginx"]:
        print(compose_nginx(), end="")
        return
    if sys.argv[1:2] == ["--web-files"] and len(sys.argv) == 3:       # the proxy image's build steps
        web_files(Path(sys.argv[2]))
        return
    if sys.argv[1:2] == ["--web-server"] and len(sys.argv) == 3:
        print(web_server(sys.argv[2]), end="")
        return
    cores = os.cpu_count() or 1
    replicas = int(os.environ.get("REPLICAS", cores))
    workers = int(os.environ.get("BACKPROP_LAB_WORKERS", max(1, cores // replicas)))
    secret = os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32)
    stack = Stack(os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "8080")), replicas, workers, secret)
    signals: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, frame: signals.append(number))
    try:
        stack.start()
        stack.watch(lambda: bool(signals))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
