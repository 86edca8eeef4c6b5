"""Soak the pages with many more hostile URLs than CI does (tests/test_hostile_urls.py).

    python bench/soak_urls.py [--examples 300]     # per page; 4 pages + home

Prints the number of cases tried and pytest's verdict; any exception element fails it."""
import argparse
import os
import subprocess
import sys
import time

from common import ROOT


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=300)
    args = ap.parse_args()
    env = {**os.environ, "HOSTILE_EXAMPLES": str(args.examples)}
    t = time.perf_counter()
    rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(ROOT / "tests" / "test_hostile_urls.py")], cwd=ROOT, env=env)
    cases = 5 * args.examples
    print(f"soak: up to {cases} hostile URLs over 5 pages in {time.perf_counter() - t:.0f} s; "
          f"{'no exception' if rc == 0 else 'FAILURES above'}")
    sys.exit(rc)


if __name__ == "__main__":
    main()
