"""The learner's own data on /flow and /vanishing (dataset `custom`).

The points live in the URL key `pts` (x1:x2:class triples joined by commas), through a text box
bound to it, so a link carries them. Clicking the decision surface adds a point of the class chosen
beside it; undo and clear edit the list; a CSV (x1,x2,label) replaces it; the current points
download as a CSV. Anything unusable is dropped with a notice that says which.
"""
from __future__ import annotations

import io

import numpy as np
import streamlit as st

from backprop_core.config import PTS_PARAM
from backprop_core.points import (
    POINT_CLASSES,
    POINT_LIMIT,
    POINT_RANGE,
    Point,
    custom_problem,
    parse_csv,
    parse_points,
    points_text,
)
from backprop_core.tasks import task_for
from dashboard import chart_data, charts, controls

CLICK_KEY = "surface_click"
NOTICE_KEY = "_custom_notices"
UPLOAD_BYTES = 200_000                   # a CSV of 100 points is about 2 kB


def _points() -> list[Point]:
    return parse_points(st.session_state.get(PTS_PARAM.key, ""))[0]


def _set(points: list[Point]) -> None:
    st.session_state[PTS_PARAM.key] = points_text(points[:POINT_LIMIT])


def _add_clicked() -> None:
    """on_select of the clickable surface: add the clicked cell's centre with the chosen class."""
    selection = (st.session_state.get(CLICK_KEY) or {}).get("selection", {}).get("add_point", [])
    points = _points()
    for cell in selection[:1]:
        if len(points) >= POINT_LIMIT:
            st.session_state[NOTICE_KEY] = [f"pts: at most {POINT_LIMIT} points; remove some first"]
            return
        x1, x2 = (round(min(max(float(cell[k]), -POINT_RANGE), POINT_RANGE), 2) for k in ("cx", "cy"))
        points.append((x1, x2, int(st.session_state.get("new_class", 1))))
    _set(points)


def _undo() -> None:
    _set(_points()[:-1])


def _clear() -> None:
    _set([])


def _upload() -> None:
    file = st.session_state.get("pts_csv")
    if file is None:
        return
    raw = file.getvalue()[:UPLOAD_BYTES]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        st.session_state[NOTICE_KEY] = ["CSV: not UTF-8 text; nothing was loaded"]
        return
    points, notices = parse_csv(text)
    st.session_state[NOTICE_KEY] = notices + ([] if points else ["CSV: no usable points; nothing was loaded"])
    if points:
        _set(points)


def csv_text(points: list[Point]) -> str:
    out = io.StringIO()
    out.write("x1,x2,label\n")
    for x1, x2, c in points:
        out.write(f"{x1:g},{x2:g},{c}\n")
    return out.getvalue()


def editor() -> tuple[list[Point], str | None]:
    """The points' text box and tools; returns the valid points and, when they cannot be trained
    on, why."""
    st.subheader("Your data")
    text = controls.widget(PTS_PARAM)
    points, notices = parse_points(text)
    from_link = controls.raw_query().get(PTS_PARAM.key, [None])[-1] == text   # the page's notice named them
    controls.show_notices(([] if from_link else notices) + st.session_state.pop(NOTICE_KEY, []))
    c1, c2, c3, c4 = st.columns([1.4, 1, 1, 1.6])
    c1.radio("Class of a clicked point", list(range(POINT_CLASSES)), index=1, key="new_class", horizontal=True,
             help="Click a cell of the decision surface to add a point of this class at its centre. Use classes "
                  "0 and 1 for a binary task; each further class adds an output to the network.")
    c2.button("Undo last point", key="pts_undo", on_click=_undo, icon=":material/undo:", disabled=not points)
    c3.button("Clear", key="pts_clear", on_click=_clear, icon=":material/delete:", disabled=not points)
    c4.download_button("Download points (CSV)", data=csv_text(points), file_name="backprop-lab-points.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore", disabled=not points)
    st.file_uploader("Upload points (CSV with columns x1,x2,label)", type=["csv"], key="pts_csv",
                     on_change=_upload, help=f"At most {POINT_LIMIT} points with |x| ≤ {POINT_RANGE:g}; "
                                             f"class 0 to {POINT_CLASSES - 1}. It replaces the current points.")
    st.caption(f"{len(points)} point{'s' if len(points) != 1 else ''}. Custom data trains on all its points, so the "
               "test figures are the training points.")
    return points, custom_problem(points)


def clickable_surface(run, points: list[Point]) -> None:
    """The decision surface (the trained model's, or a blank plane) with the points; a click adds one.
    Points of more than two classes get the K-class plane (each cell in its most likely class's colour)."""
    k = task_for("custom", labels=[c for _, _, c in points]).classes
    if run is not None and run.surfaces:
        last = max(run.surfaces)
        grid = chart_data.surface_grid(run.grid_x, run.grid_y, run.surfaces[last])
    else:
        axis = np.linspace(-POINT_RANGE, POINT_RANGE, 30)
        grid = chart_data.surface_grid(axis, axis, None if k == 2 else np.full((30, 30, k), 1.0 / k))
    xy = np.array([(x1, x2) for x1, x2, _ in points], dtype=np.float64).reshape(-1, 2)
    pts = chart_data.surface_points(xy, np.array([c for _, _, c in points], dtype=np.int64))
    kind = "surface_clickable" if "fill" not in grid else "surface_clickable_classes"
    charts.draw(st, kind, width="content", surface_grid=grid, surface_points=pts, key=CLICK_KEY,
                on_select=_add_clicked, selection_mode="add_point")
