"""What /flow and /vanishing share: reading the training controls (URL, sidebar, focused links, the
learner's own points) into a TrainConfig, with the page's title, notices and preset buttons; and,
after computing, the custom-data plane and the messages that stop a page with nothing to chart."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from backprop_core.config import PTS_PARAM, Param, TrainConfig, page_train_params
from backprop_core.points import Point, points_text
from backprop_core.presets import PRESETS
from backprop_core.tasks import classes_notice
from dashboard import controls, custom_data


@dataclass
class TrainingPage:
    params: tuple[Param, ...]       # the training controls, with this page's defaults
    values: dict[str, Any]          # every control's value, the extra ones too
    hidden: list[str]               # controls a focused link hides (`hide=`)
    cfg: TrainConfig
    points: list[Point]             # the learner's own points (dataset custom)
    problem: str | None             # why those points cannot be trained on yet


def set_up(page: str, title: str, intro: str, header: str, presets: list[tuple[str, str]],
           extra: tuple[Param, ...] = (), other_params: tuple[Param, ...] = (),
           other_keys: tuple[str, ...] = ()) -> TrainingPage:
    """Read the controls of a training page and draw its top: title, intro, notices about the URL,
    the sidebar (training controls, then `extra` ones), what a focused link set, the learner's own
    points, and the preset buttons (`(label, preset name)`, unless a link hides controls).
    `other_params` are URL keys the page reads elsewhere (its own widgets)."""
    params = page_train_params(page)
    notices = controls.prepare(params + extra + (PTS_PARAM,) + other_params,
                               other_keys=(controls.HIDE_KEY,) + other_keys)
    hidden, hide_notices = controls.hidden_keys(params + extra)
    st.title(title)
    st.markdown(intro)
    controls.show_notices(notices + hide_notices)
    with st.sidebar:
        st.header(header)
        values = controls.train_widgets(params, hidden)
        values |= controls.widgets(extra, hidden=hidden)
    controls.show_set_by_link(params + extra, values, hidden)
    points, problem = custom_data.editor() if values["data"] == "custom" else ([], None)
    cfg = TrainConfig.from_values(values | {"pts": points_text(points)}).on_page(page)
    if note := classes_notice(values["data"], values["classes"]):
        st.info(note, icon=":material/info:")
    if not hidden:
        controls.preset_buttons(params, [(label, PRESETS[name]) for label, name in presets])
    return TrainingPage(params, values, hidden, cfg, points, problem)


def stop_without_data(page: TrainingPage, run) -> None:
    """Draw the plane of the learner's own points (clickable), and stop the page while they cannot be
    trained on, saying why."""
    if page.cfg.custom:
        custom_data.clickable_surface(run, page.points)
    if page.problem:
        st.warning(page.problem, icon=":material/scatter_plot:")
        st.stop()


def stop_without_statistics(*runs) -> None:
    """Stop the page when a run diverged in its first step: no gradient was recorded to chart."""
    if any(not len(run.stats) for run in runs):
        st.info("Training diverged during its first epoch, before any gradient could be recorded: there is "
                "nothing to chart. Lower the learning rate or pick a smaller initialisation.", icon=":material/info:")
        st.stop()
