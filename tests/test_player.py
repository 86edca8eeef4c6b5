"""Play / Pause / Step on /flow (dashboard/player.py): Play ships the frames of every recorded epoch in
one rerun, each frame the very rows the still view draws at that epoch; Step moves one recorded epoch
and the link follows; Pause keeps the epoch the browser reached, and only a recorded one.
(tests/test_browser.py plays them in Chromium.)"""
import pytest

from dashboard import player
from tests.apptools import chart_with, open_page, texts

QUERY = {"net": "true", "probe": "1:0.5:1", "sub": "backward", "epochs": "30"}
ANIMATED = ("surface_image", "hist", "network_nodes", "network_edges")


def _rows(at, dataset):
    return chart_with(at, dataset)["datasets"][dataset]


def _without_frame(rows):
    return [{k: v for k, v in r.items() if k != "frame"} for r in rows]


def test_a_still_view_draws_one_epoch_and_play_ships_every_recorded_epoch_as_frames():
    at = open_page("flow", QUERY)
    epochs = list(at.select_slider(key="epoch").options)
    assert not at.exception and len(epochs) >= 5
    for dataset in ANIMATED:
        assert {r["frame"] for r in _rows(at, dataset)} == {-1}, dataset      # a still view: always shown
    at.button(key="play").click().run()
    assert not at.exception and at.session_state[player.PLAYING]
    assert at.select_slider(key="epoch").disabled
    assert "Playing the recorded epochs" in texts(at)
    frames = {dataset: _rows(at, dataset) for dataset in ANIMATED}
    for dataset, rows in frames.items():
        assert sorted({r["frame"] for r in rows}) == [int(e) for e in epochs], dataset
    for epoch in (epochs[0], epochs[len(epochs) // 2], epochs[-1]):      # each frame = that epoch's still view
        still = open_page("flow", QUERY | {"epoch": str(epoch)})
        for dataset, rows in frames.items():
            assert _without_frame([r for r in rows if r["frame"] == int(epoch)]) == \
                _without_frame(_rows(still, dataset)), (dataset, epoch)


def test_step_moves_one_recorded_epoch_and_the_link_follows():
    at = open_page("flow", QUERY)
    epochs = [int(e) for e in at.select_slider(key="epoch").options]
    assert at.button(key="step").disabled and not at.button(key="step_back").disabled      # at the last epoch
    at.button(key="step_back").click().run()
    assert at.select_slider(key="epoch").value == epochs[-2]
    assert at.query_params["epoch"] == str(epochs[-2])
    assert f"The decision surface after {epochs[-2]} epochs" in texts(at)
    at.button(key="step").click().run()
    assert at.select_slider(key="epoch").value == epochs[-1]


@pytest.mark.parametrize("reached,kept", [(12, 12), (13, 30), ("12", 30), (True, 30), (None, 30)])
def test_pause_keeps_the_epoch_reached_only_when_it_was_recorded(monkeypatch, reached, kept):
    state = {player.PLAYING: True, player.KEY: {"pause": reached}, "epoch": 30}
    monkeypatch.setattr(player.st, "session_state", state)
    player._pause([0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30])
    assert state[player.PLAYING] is False and state["epoch"] == kept
