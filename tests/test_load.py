"""A small version of bench/bench_load.py for CI: concurrent learners over the websocket
protocol, every action echo-checked; 0 failures, 0 exceptions."""
import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from bench_load import load  # noqa: E402
from servers import streamlit_server  # noqa: E402


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


@pytest.mark.parametrize("page", ["flow", "vanishing"])
def test_concurrent_learners_moving_depth(server, page):
    result = asyncio.run(load(server, page, sessions=8, actions=3, values=[2, 4, 3]))
    assert result["errors"] == [] and result["exceptions"] == 0
    assert result["actions_ok"] == 24 and result["actions_failed"] == 0
