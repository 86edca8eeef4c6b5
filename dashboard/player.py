"""Play / Pause / Step through a run's recorded epochs on /flow (the scrubber's epochs).

Play is one rerun: the animated charts (decision surface, gradient histogram, network drawing) get
the frames of every recorded epoch at once, and the browser steps through them (player.js writes
each epoch into a hidden input that the charts' Vega views listen to: charts.FRAME), FRAME_MS apart,
with no message to the server per frame. Pause is one more rerun, which brings back the still view
at the epoch the frames had reached and puts it in the URL (`epoch`). Step moves one recorded epoch.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import streamlit as st

from dashboard import controls
from dashboard.charts import PLAYER_INPUT

FRAME_MS = 200                     # 5 frames per second
PLAYING = "playing"                # session state: the player is playing (a shared link opens paused)
KEY = "player"

# The input the charts listen to is plain HTML drawn before them: it is in the page before any chart's
# Vega view starts (Vega looks it up once, when the view starts); the component's script may load later.
_INPUT = f'<input id="{PLAYER_INPUT}" type="hidden" value="">'
_HTML = """<div class="bp-player">
  <div class="bp-controls" hidden>
    <button class="bp-pause" type="button" aria-label="Pause">❚❚ Pause</button>
    <progress class="bp-bar" value="0" max="1" aria-label="Position among the recorded epochs"></progress>
    <span class="bp-label" aria-live="off"></span>
  </div>
</div>"""
_CSS = """
.bp-player .bp-controls:not([hidden]) { display: flex; align-items: center; gap: 0.75rem; }
.bp-player .bp-pause { font: inherit; white-space: nowrap; padding: 0.3rem 0.9rem; border-radius: 0.5rem;
  cursor: pointer; border: 1px solid rgba(49, 51, 63, 0.3); background: white; }
.bp-player .bp-pause:hover { border-color: #ff4b4b; color: #ff4b4b; }
.bp-player .bp-bar { width: 12rem; }
.bp-player .bp-label { font-variant-numeric: tabular-nums; }
"""
# in the page's own DOM (isolate_styles=False): Vega finds the input by its id with document.querySelector
_component = st.components.v2.component("backprop_lab.player", html=_HTML, css=_CSS,
                                        js=(Path(__file__).with_name("player.js")).read_text(),
                                        isolate_styles=False)


def controls_for(epochs: list[int]) -> tuple[int, list[int] | None]:
    """The scrubber (URL key `epoch`) and Play / Pause / Step under it. Returns (the epoch of the still
    view, and while playing the epochs to animate, else None)."""
    playing = bool(st.session_state.get(PLAYING))
    st.html(_INPUT)
    epoch = controls.epoch_scrubber(epochs, disabled=playing)
    row = st.container(horizontal=True, vertical_alignment="center")
    at = epochs.index(epoch)
    if not playing:
        row.button("Play", key="play", icon=":material/play_arrow:", on_click=_play,
                   help="Animate the recorded epochs: the surface, the gradient histogram and the network drawing.")
        row.button("Step back", key="step_back", icon=":material/skip_previous:", disabled=at == 0,
                   on_click=_step, args=(epochs, at - 1))
        row.button("Step", key="step", icon=":material/skip_next:", disabled=at == len(epochs) - 1,
                   on_click=_step, args=(epochs, at + 1))
    with row:                        # Pause and the frame's position (hidden while paused)
        _component(data={"epochs": epochs, "epoch": epoch, "playing": playing, "ms": FRAME_MS}, key=KEY,
                   on_pause_change=partial(_pause, epochs), width="content")
    if playing:
        st.caption("Playing the recorded epochs in your browser. Pause to stay at one: the link then keeps it.")
        return epoch, epochs
    return epoch, None


def _play() -> None:
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
