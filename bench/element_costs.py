"""What one more element costs the browser per rerun, by kind: Chromium CPU profiles of a bare page.

    python bench/element_costs.py [--count 10] [--presses 16]

bench/element_page.py is served with ELEMENT_COUNT copies of one kind (none, slider, selectbox, ...);
each press of its Depth slider reruns it. Prints main-thread busy ms per press for each kind, and
the extra over the bare page per element (bench/browser_profile.py does the profiling and the
grouping).
"""
from __future__ import annotations

import argparse
import shutil
import sys

from browser_profile import ARGS, ORDER, profile_page

from common import ROOT, machine
from servers import start, stop, wait_healthy  # noqa: E402  (common puts tests/ on the path)

KINDS = ("none", "slider", "selectbox", "number_input", "checkbox", "button", "metric", "markdown", "line_chart")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--presses", type=int, default=16)
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium not found: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    print(f"element_costs on {machine()}: busy ms per press with {args.count} elements of a kind "
          f"(mean of {args.presses} presses)")
    print(f"{'kind':13s} {'total':>7s} {'per element':>12s}  " + " ".join(f"{g:>8.8s}" for g in ORDER))
    bare = None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        for kind in KINDS:
            proc, url = start(app=ROOT / "bench" / "element_page.py", extra=["--server.fileWatcherType", "none"],
                              env={"ELEMENT_KIND": kind, "ELEMENT_COUNT": str(args.count)})
            try:
                wait_healthy(url)
                r = profile_page(browser, url + "/", "Depth", args.presses)
            finally:
                stop(proc)
            bare = r["total_ms"] if kind == "none" else bare
            extra = "" if kind == "none" else f"{(r['total_ms'] - bare) / args.count:12.2f}"
            print(f"{kind:13s} {r['total_ms']:7.1f} {extra:>12s}  "
                  + " ".join(f"{r['busy_ms_per_press'][g]:8.1f}" for g in ORDER), flush=True)
        browser.close()


if __name__ == "__main__":
    main()
