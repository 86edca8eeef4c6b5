"""Where the browser's time goes when a learner moves a slider: a Chromium CPU profile per page.

    python bench/browser_profile.py [--presses 16] [--tools ../shared/tools]

For each page it opens the view in headless Chromium, presses the arrow keys on one slider
(alternating, so after the first two presses every view is a server cache hit and what is left is the
browser's work), records a V8 CPU profile over the presses, and splits the main thread's busy time per
press by who spent it. Every sample is charged to the nearest JavaScript bundle on its stack, so a
canvas `fillText` counts for Vega and a style lookup for the component that asked for it:

- React: react-dom reconciling and committing the element tree;
- styles: CSS-in-JS (emotion, styled-components) serialising the styles of every re-rendered element;
- Vega: vega-embed, the Vega dataflow, its expression interpreter, canvas drawing;
- markdown, messages (protobuf and Arrow decoding), host messages (origin checks per postMessage),
  the rest of Streamlit's own code;
- native: Chromium's own work outside JavaScript (style recalculation, layout, paint), and GC.

The pages: the trivial page of ../shared/tools (one slider, one line of text, one small chart), /flow,
/flow as a focused link that shows only the Seed control (`hide=`), /vanishing, and /flow on spirals
with two and three classes and on a regression set. Busy time is
CPU time, not latency: part of it runs while the server is still computing. Prints a table and
writes bench/out/browser_profile.json.
"""
from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
from pathlib import Path

from common import ROOT, machine
from servers import start, stop, wait_healthy  # noqa: E402  (common puts tests/ on the path)

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
FLOW_CONTROLS_BUT_SEED = "depth,width,act,init,norm,residual,opt,lr,epochs,data,n,noise,batch,wd,clip,dseed"

# (bundle file name prefix, group); the first match wins, anything else with a URL is "streamlit"
GROUPS = (
    ("react-dom", "react"), ("react.", "react"), ("scheduler", "react"),
    ("emotion", "styles"), ("styled-components", "styles"),
    ("embed", "vega"), ("vega", "vega"), ("ArrowVegaLiteChart", "vega"), ("linear", "vega"),
    ("ordinal", "vega"), ("opacities", "vega"),
    ("StreamlitMarkdown", "markdown"),
    ("protobuf", "messages"), ("recordbatch", "messages"), ("serialization", "messages"),
    ("Quiver", "messages"),
    ("UriUtil", "host messages"),
)
ORDER = ("react", "styles", "vega", "markdown", "messages", "host messages", "streamlit", "native", "gc")


def group_of(bundle: str) -> str:
    return next((g for prefix, g in GROUPS if bundle.startswith(prefix)), "streamlit")


def busy_by_group(profile: dict) -> collections.Counter:
    """Microseconds of main-thread time per group, each sample charged to its nearest bundle."""
    nodes = {nd["id"]: nd for nd in profile["nodes"]}
    parent = {c: nd["id"] for nd in profile["nodes"] for c in nd.get("children", [])}
    charge: dict[int, str | None] = {}

    def group(node_id: int) -> str | None:
        if node_id not in charge:
            frame = nodes[node_id]["callFrame"]
            name, url = frame["functionName"], frame["url"]
            if url:
                charge[node_id] = group_of(url.rsplit("/", 1)[-1])
            elif name in ("(idle)", "(root)"):
                charge[node_id] = None
            elif name == "(program)":
                charge[node_id] = "native"
            elif name == "(garbage collector)":
                charge[node_id] = "gc"
            else:                                   # a builtin (fillText, URLPattern): its caller's
                up = parent.get(node_id)
                charge[node_id] = group(up) if up is not None else "native"
        return charge[node_id]

    busy = collections.Counter()
    for sample, dt in zip(profile["samples"], profile["timeDeltas"], strict=True):
        g = group(sample)
        if g is not None:
            busy[g] += dt
    return busy


def profile_page(browser, url: str, slider: str, presses: int) -> dict:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})

    def settle():
        page.wait_for_selector(IDLE, timeout=120_000)
        page.wait_for_timeout(700)
        page.wait_for_selector(IDLE, timeout=120_000)

    page.goto(url)
    settle()
    page.wait_for_timeout(2000)
    knob = page.locator(f'input[type="range"][aria-label="{slider}"]')
    keys = ("ArrowRight", "ArrowLeft")
    for i in range(2):                                       # both views are computed and cached
        knob.focus()
        page.keyboard.press(keys[i % 2])
        settle()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 100})
    cdp.send("Profiler.start")
    for i in range(presses):
        knob.focus()
        page.keyboard.press(keys[i % 2])
        settle()
    profile = cdp.send("Profiler.stop")["profile"]
    elements = page.locator('[data-testid="stElementContainer"]').count()
    page.close()
    busy = busy_by_group(profile)
    per_press = {g: round(busy.get(g, 0) / 1000 / presses, 1) for g in ORDER}
    return {"elements": elements, "busy_ms_per_press": per_press, "total_ms": round(sum(per_press.values()), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools", default=str(ROOT.parent / "shared" / "tools"))
    ap.add_argument("--presses", type=int, default=16)
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium not found: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    ours, our_url = start(extra=["--server.fileWatcherType", "none"])
    trivial, trivial_url = start(app=Path(args.tools) / "baseline_app.py",
                                 extra=["--server.fileWatcherType", "none"])
    pages = (("trivial page", trivial_url + "/", "Depth"),
             ("/flow", our_url + "/flow", "Seed"),
             ("/flow, only Seed shown", our_url + f"/flow?hide={FLOW_CONTROLS_BUT_SEED}", "Seed"),
             ("/vanishing", our_url + "/vanishing", "Seed"),
             ("/flow, spirals", our_url + "/flow?data=spirals", "Seed"),
             ("/flow, spirals with 3 classes", our_url + "/flow?data=spirals&classes=3", "Seed"),
             ("/flow, plane (regression)", our_url + "/flow?data=plane", "Seed"))
    result = {"machine": machine(), "presses": args.presses, "pages": {}}
    try:
        wait_healthy(our_url)
        wait_healthy(trivial_url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS)
            for name, url, slider in pages:
                result["pages"][name] = profile_page(browser, url, slider, args.presses)
            browser.close()
    finally:
        stop(ours)
        stop(trivial)

    print(f"browser_profile on {machine()}: main-thread busy ms per press (mean of {args.presses} presses)")
    print(f"{'page':24s} {'elements':>8s} " + " ".join(f"{g:>8.8s}" for g in ORDER) + f" {'total':>7s}")
    for name, r in result["pages"].items():
        print(f"{name:24s} {r['elements']:8d} " + " ".join(f"{r['busy_ms_per_press'][g]:8.1f}" for g in ORDER)
              + f" {r['total_ms']:7.1f}")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "browser_profile.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
