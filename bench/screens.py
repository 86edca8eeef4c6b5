"""Screenshots of pages as a learner sees them, in Debian's chromium, at desktop and phone widths.

    .venv/bin/python bench/screens.py "/flow?depth=10" "/hand?step=9" --widths 1400,420

Starts its own server (loopback, a free port), waits for each page's run to finish, and writes
full-page PNGs to bench/out/screens/ (the name says the page, its query and the width).
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

from servers import streamlit_server  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
OUT = ROOT / "bench" / "out" / "screens"


def settle(pg) -> None:
    pg.wait_for_selector(IDLE, timeout=120_000)
    pg.wait_for_timeout(600)
    pg.wait_for_selector(IDLE, timeout=120_000)
    pg.wait_for_timeout(800)          # charts draw after the run ends


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--widths", default="1400,420")
    parser.add_argument("--height", type=int, default=3000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    OUT.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with streamlit_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        for path in args.paths:
            for width in map(int, args.widths.split(",")):
                page = browser.new_context(viewport={"width": width, "height": args.height}).new_page()
                page.goto(url + path)
                settle(page)
                name = re.sub(r"[^A-Za-z0-9_=.-]+", "_", path.strip("/") or "home")[:120]
                target = OUT / f"{name}@{width}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target)
                page.context.close()
        browser.close()


if __name__ == "__main__":
    main()
