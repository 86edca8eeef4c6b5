"""Play / Pause / Step through a run's recorded epochs on /flow (the scrubber's epochs).

The decision surface and the gradient histogram always carry the frames of every recorded epoch
(a few kB), so Play costs the server nothing: the browser steps through them (player.js announces
each epoch in an event the charts' Vega views listen to: charts.FRAME), FRAME_MS apart. With
the network drawing open, Play is one rerun that brings the drawing's frames too. Pause is one rerun:
the still view at the epoch the frames had reached, and that epoch in the URL (`epoch`). Step moves
one recorded epoch. Nothing is sent to the server per frame.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import streamlit as st

from dashboard import chart_data, compute, controls
from dashboard.chart_data import Columns
from dashboard.charts import PLAYER_EVENT

FRAME_MS = 200                     # 5 frames per second
PLAYING = "playing"                # session state: playing with the drawing's frames (a link opens paused)
KEY = "player"

_HTML = """<div class="bp-player">
  <button class="bp-play" type="button">▶ Play</button>
  <button class="bp-pause" type="button" hidden>❚❚ Pause</button>
  <progress class="bp-bar" value="0" max="1" aria-label="Position among the recorded epochs" hidden></progress>
  <span class="bp-label" hidden></span>
</div>"""
_CSS = """
.bp-player { display: flex; align-items: center; gap: 0.75rem; }
.bp-player button { font: inherit; white-space: nowrap; padding: 0.3rem 0.9rem; border-radius: 0.5rem;
  cursor: pointer; border: 1px solid rgba(49, 51, 63, 0.3); background: white; min-height: 2.5rem; }
.bp-player button:hover { border-color: #ff4b4b; color: #ff4b4b; }
.bp-player [hidden] { display: none; }
.bp-player .bp-bar { width: 10rem; }
.bp-player .bp-label { font-variant-numeric: tabular-nums; }
body.bp-playing .st-key-epoch { opacity: 0.45; }
body.bp-playing .st-key-still_caption { display: none; }
"""
STILL_CAPTION = "still_caption"    # the container of the still view's caption, hidden while playing
# in the page's own DOM (isolate_styles=False), beside the charts whose views hear its events
_component = st.components.v2.component("backprop_lab.player", html=_HTML, css=_CSS,
                                        js=(Path(__file__).with_name("player.js")).read_text(),
                                        isolate_styles=False)


def controls_for(epochs: list[int], drawing: bool) -> tuple[int, list[int] | None]:
    """The scrubber (URL key `epoch`) and Play / Pause / Step under it; `drawing`: the network drawing
    is open (its frames come from the server when Play is pressed). Returns (the still view's epoch,
    and while playing with the drawing, the epochs whose frames it needs, else None)."""
    if not drawing:
        st.session_state.pop(PLAYING, None)          # closing the drawing stops its frames
    playing = bool(st.session_state.get(PLAYING))
    epoch = controls.epoch_scrubber(epochs, disabled=playing)
    row = st.container(horizontal=True, vertical_alignment="center")
    at = epochs.index(epoch)
    with row:
        _component(data={"epochs": epochs, "epoch": epoch, "playing": playing, "local": not drawing,
                         "ms": FRAME_MS, "event": PLAYER_EVENT}, key=KEY, width="content",
                   on_play_change=_play, on_pause_change=partial(_pause, epochs))
    if playing:
        return epoch, epochs
    row.button("Step back", key="step_back", icon=":material/skip_previous:", disabled=at == 0,
               on_click=_step, args=(epochs, at - 1))
    row.button("Step", key="step", icon=":material/skip_next:", disabled=at == len(epochs) - 1,
               on_click=_step, args=(epochs, at + 1))
    return epoch, None


def at_epochs(key: tuple, build: Callable[[int], Columns], epoch: int, epochs: list[int] | None) -> Columns:
    """`build(e)`'s dataset for the player: the frames of every one of `epochs` (built once per `key`,
    the plain values they depend on), the still view's rows flagged `still`; without `epochs`, the
    still view's rows alone (frame -1: always drawn)."""
    if not epochs:
        return chart_data.with_frame(build(epoch))
    frames = compute.frames((*key, tuple(epochs)), lambda: chart_data.frames({e: build(e) for e in epochs}))
    return frames | {"still": (frames["frame"] == epoch).astype(np.int8)}


def _play() -> None:
    """Play with the drawing open: its frames come with the next run."""
    st.session_state[PLAYING] = True


def _step(epochs: list[int], index: int) -> None:
    st.session_state["epoch"] = epochs[index]


def _pause(epochs: list[int]) -> None:
    """Pause from the browser: stop playing and keep the epoch it reached (a recorded one, else the
    scrubber stays where it was)."""
    st.session_state[PLAYING] = False
    reached = (st.session_state.get(KEY) or {}).get("pause")
    if reached in epochs and not isinstance(reached, bool):
        st.session_state["epoch"] = reached
