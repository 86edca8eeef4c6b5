"""Two replicas behind nginx with sticky sessions; one is killed mid-load (bench/scaleout.py).
Every cut session must come back through the proxy to the same numbers."""
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
if NGINX is None:
    if os.environ.get("CI"):
        pytest.fail("CI=true but nginx is not installed (.ci/run installs Debian's nginx)", pytrace=False)
    pytest.skip("nginx not found: install Debian's nginx to run the scale-out test", allow_module_level=True)


@pytest.mark.slow
def test_killing_a_replica_loses_no_session():
    from scaleout import scenario
    r = scenario(sessions=12, actions=6, kill_at=0.3)
    assert r["connections_cut"] >= 1, r                  # the kill really hit live sessions
    assert r["sessions_lost"] == 0, r
    assert r["sessions_recovered"] == r["connections_cut"]
    assert r["restored_views_with_different_numbers"] == 0 and r["restored_views_with_wrong_depth"] == 0
    assert r["replica_b_alive"] and not r["replica_a_alive"]
    assert r["actions_ok"] + r["connections_cut"] == 12 * 6
