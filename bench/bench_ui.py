"""Slider-to-chart latency in a real browser (headless Debian chromium), our pages vs a trivial page.

    python bench/bench_ui.py [--pages /flow,/vanishing] [--presses 16] [--server-arg=--runner.postScriptGC=false]

For each press: keydown on the 'Depth' slider -> Streamlit reruns -> the page is quiet again.
Latency = max(end of the rerun, last DOM change outside the slider) - keydown, measured with the
page's own clock; a 300 ms quiet window confirms the end and is not counted. Pages are measured in
interleaved rounds (A B B A) so machine noise hits both alike.

Two modes per page:
  hit  : alternate ArrowRight/ArrowLeft, so after the first two presses every configuration is in
         the cache (revisiting a view);
  miss : walk ArrowRight over depths never seen (a fresh random seed in the URL), training each time.
Prints medians, p95 and ratios to the trivial page; --json writes everything.
"""
import argparse
import json
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import subprocess  # noqa: E402

from common import ROOT, machine, tree_rss_mb  # noqa: E402
from servers import free_port, stop, wait_healthy  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INIT = """
window.__lat = {states: [], last: 0};
const obs = new MutationObserver((muts) => {
  const now = performance.now();
  for (const m of muts) {
    const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
    if (!el) continue;
    if (m.type === 'attributes' && m.attributeName === 'data-test-script-state') {
      window.__lat.states.push([now, el.getAttribute('data-test-script-state')]);
    } else if (!el.closest('[data-testid="stSlider"]')) {
      window.__lat.last = now;
    }
  }
});
document.addEventListener('DOMContentLoaded', () =>
  obs.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true}));
"""
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def start_server(app: Path, extra: list[str]):
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false", *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    return proc, url


class Probe:
    def __init__(self, browser, url: str):
        self.page = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
        self.page.add_init_script(INIT)
        t = time.perf_counter()
        self.page.goto(url)
        self.page.wait_for_selector(IDLE, timeout=120_000)
        self.first_render_s = time.perf_counter() - t
        self.quiet()
        self.slider = self.page.locator('input[type="range"][aria-label="Depth"]')
        self.slider.focus()

    def quiet(self, ms: int = 300, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            idle = self.page.locator(IDLE).count() == 1
            since = self.page.evaluate("performance.now() - window.__lat.last")
            if idle and since >= ms:
                return
            self.page.wait_for_timeout(50)
        raise TimeoutError("page never went quiet")

    def press(self, key: str) -> float:
        t0 = self.page.evaluate("performance.now()")
        self.page.keyboard.press(key)
        # a rerun is visible as running -> notRunning, or (when React batches the state away)
        # as a change of the output after the keydown
        self.page.wait_for_function(
            "t0 => { const s = window.__lat.states.filter(x => x[0] >= t0);"
            " const i = s.findIndex(x => x[1] === 'running');"
            " return (i >= 0 && s.slice(i).some(x => x[1] === 'notRunning')) || window.__lat.last > t0; }",
            arg=t0, timeout=60_000)
        self.quiet()
        end = self.page.evaluate(
            "t0 => Math.max(window.__lat.last, ...window.__lat.states.filter(x => x[0] >= t0"
            " && x[1] === 'notRunning').map(x => x[0]))", t0)
        self.page.wait_for_timeout(50)
        return end - t0


def summary(xs):
    xs = sorted(xs)
    return {"p50_ms": round(statistics.median(xs), 1), "p95_ms": round(xs[int(0.95 * (len(xs) - 1))], 1),
            "n": len(xs)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", default="/flow,/vanishing")
    ap.add_argument("--presses", type=int, default=16)
    ap.add_argument("--server-arg", action="append", default=[])
    ap.add_argument("--json")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    results = {"machine": machine(), "server_args": args.server_arg}
    app_proc, app_url = start_server(ROOT / "dashboard" / "app.py", args.server_arg)
    triv_proc, triv_url = start_server(ROOT / "bench" / "trivial_app.py", args.server_arg)
    results["cold_start_note"] = "time to /_stcore/health is in bench_load.py"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            trivial = Probe(browser, triv_url)
            for path in args.pages.split(","):
                seed = random.randint(1000, 99_999)
                hit = Probe(browser, f"{app_url}{path}")
                miss = Probe(browser, f"{app_url}{path}?seed={seed}")
                results[f"{path} first_render_s"] = round(hit.first_render_s, 2)
                for probe in (hit, trivial):
                    probe.press("ArrowRight"), probe.press("ArrowLeft")       # warm the cache
                t_hit, t_triv, t_miss = [], [], []
                for i in range(args.presses):
                    key = "ArrowRight" if i % 2 == 0 else "ArrowLeft"
                    order = [(hit, t_hit, key), (trivial, t_triv, key)]
                    if i % 2:
                        order.reverse()
                    for probe, out, k in order:
                        out.append(probe.press(k))
                    t_miss.append(miss.press("ArrowRight"))
                s_hit, s_triv, s_miss = summary(t_hit), summary(t_triv), summary(t_miss)
                results[path] = {"trivial": s_triv, "cache_hit": s_hit, "cache_miss": s_miss,
                                 "hit_ratio_p50": round(s_hit["p50_ms"] / s_triv["p50_ms"], 2),
                                 "miss_ratio_p50": round(s_miss["p50_ms"] / s_triv["p50_ms"], 2)}
                print(f"{path:11s} trivial p50 {s_triv['p50_ms']:6.1f} ms | cache hit p50 {s_hit['p50_ms']:6.1f} ms "
                      f"(x{results[path]['hit_ratio_p50']}) p95 {s_hit['p95_ms']:6.1f} | new config p50 "
                      f"{s_miss['p50_ms']:6.1f} ms (x{results[path]['miss_ratio_p50']}) p95 {s_miss['p95_ms']:6.1f}")
            browser.close()
        results["server_rss_mb"] = round(tree_rss_mb(app_proc.pid), 1)
        print(f"app server RSS {results['server_rss_mb']} MB; {machine()}; server args {args.server_arg}")
    finally:
        stop(app_proc)
        stop(triv_proc)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
