"""Play / Pause / Step on /flow (dashboard/player.py): the surface and the histogram always carry the
frames of every recorded epoch, each frame the very rows the still view draws at that epoch; with the
drawing open, Play brings the drawing's frames in one rerun; Step moves one recorded epoch and the link
follows; Pause keeps the epoch the browser reached, and only a recorded one.
(tests/test_browser.py plays them in Chromium.)"""
import pytest

from dashboard import player
from tests.apptools import chart_with, open_page, texts

QUERY = {"net": "true", "probe": "1:0.5:1", "sub": "backward", "epochs": "30"}
ALWAYS = ("surface_image", "hist")
DRAWING = ("network_nodes", "network_edges")


def _rows(at, dataset):
    return chart_with(at, dataset)["datasets"][dataset]


def _plain(rows):
    return [{k: v for k, v in r.items() if k not in ("frame", "still")} for r in rows]


def _still_rows(at, dataset):
    """What the page draws before the player's script runs: the rows flagged still, or frame -1."""
    return [r for r in _rows(at, dataset) if r["frame"] < 0 or r["still"] == 1]


def test_the_surface_and_histogram_carry_every_epoch_each_frame_that_epochs_still_view():
    at = open_page("flow", QUERY)
    epochs = [int(e) for e in at.select_slider(key="epoch").options]
    assert not at.exception and len(epochs) >= 5
    for dataset in ALWAYS:
        rows = _rows(at, dataset)
        assert sorted({r["frame"] for r in rows}) == epochs, dataset
        assert {r["frame"] for r in rows if r["still"] == 1} == {epochs[-1]}, dataset     # the scrubbed epoch
    for dataset in DRAWING:                          # the drawing: the still epoch only, until Play
        assert {r["frame"] for r in _rows(at, dataset)} == {-1}, dataset
    for epoch in (epochs[0], epochs[len(epochs) // 2]):
        still = open_page("flow", QUERY | {"epoch": str(epoch)})
        assert f"after {epoch} epochs" in texts(still)
        for dataset in ALWAYS:
            assert _plain([r for r in _rows(at, dataset) if r["frame"] == epoch]) == \
                _plain(_still_rows(still, dataset)), (dataset, epoch)


def test_play_with_the_drawing_open_brings_its_frames_in_one_run():
    at = open_page("flow", QUERY)
    epochs = [int(e) for e in at.select_slider(key="epoch").options]
    at.session_state[player.PLAYING] = True          # what the Play button's trigger sets (player._play)
    at.run()
    assert not at.exception and at.select_slider(key="epoch").disabled
    assert "The network, epoch by epoch" in texts(at)
    frames = {dataset: _rows(at, dataset) for dataset in DRAWING}
    for dataset, rows in frames.items():
        assert sorted({r["frame"] for r in rows}) == epochs, dataset
    for epoch in (epochs[0], epochs[len(epochs) // 2], epochs[-1]):      # each frame = that epoch's drawing
        still = open_page("flow", QUERY | {"epoch": str(epoch)})
        for dataset, rows in frames.items():
            assert _plain([r for r in rows if r["frame"] == epoch]) == _plain(_still_rows(still, dataset)), \
                (dataset, epoch)


def test_without_the_drawing_playing_never_reaches_the_server():
    at = open_page("flow", {"epochs": "30"})
    at.session_state[player.PLAYING] = True
    at.run()
    assert not at.exception and not at.select_slider(key="epoch").disabled
    assert not any("network_nodes" in c for c in [c.proto.spec for c in at.get("vega_lite_chart")])


def test_step_moves_one_recorded_epoch_and_the_link_follows():
    at = open_page("flow", QUERY)
    epochs = [int(e) for e in at.select_slider(key="epoch").options]
    assert at.button(key="step").disabled and not at.button(key="step_back").disabled      # at the last epoch
    at.button(key="step_back").click().run()
    assert at.select_slider(key="epoch").value == epochs[-2]
    assert at.query_params["epoch"] == str(epochs[-2])
    assert f"The decision surface after {epochs[-2]} epochs" in texts(at)
    assert {r["frame"] for r in _rows(at, "hist") if r["still"] == 1} == {epochs[-2]}
    at.button(key="step").click().run()
    assert at.select_slider(key="epoch").value == epochs[-1]


@pytest.mark.parametrize("reached,kept", [(12, 12), (13, 30), ("12", 30), (True, 30), (None, 30)])
def test_pause_keeps_the_epoch_reached_only_when_it_was_recorded(monkeypatch, reached, kept):
    state = {player.PLAYING: True, player.KEY: {"pause": reached}, "epoch": 30}
    monkeypatch.setattr(player.st, "session_state", state)
    player._pause([0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30])
    assert state[player.PLAYING] is False and state["epoch"] == kept


def test_play_asks_for_the_drawings_frames(monkeypatch):
    state = {}
    monkeypatch.setattr(player.st, "session_state", state)
    player._play()
    assert state[player.PLAYING] is True
