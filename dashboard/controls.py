"""Widgets built from backprop_core.config, bound to the URL, plus the notices for bad URLs.

Streamlit's own binding silently drops a URL value it cannot use. We parse the raw query
string first with config.parse (the one authority on bounds): wherever the raw value is not
already canonical, the parsed value is written to session_state before the widget is created,
so the widget shows exactly what the notice says (clamped to the nearest bound, or the default).
Streamlit then drops the unusable value from the address bar; the notice says what was used.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import streamlit as st

from backprop_core import codegen
from backprop_core.budget import over_budget
from backprop_core.config import HAND_PARAMS, STREAMLIT_KEYS, Param, parse_one, unknown_notice
from backprop_core.notices import shown
from backprop_core.points import MAX_POINTS_TEXT

_APPLIED_KEY = "_applied_url"


def raw_query() -> dict[str, list[str]]:
    """The URL's parameters as given (repeated keys keep every value)."""
    return {k: st.query_params.get_all(k) for k in st.query_params}


def prepare(params: Iterable[Param], other_keys: Iterable[str] = ()) -> list[str]:
    """Validate the URL for these params before their widgets exist; returns the notices.

    A flagged value (out of range, not a number, repeated, unknown choice) is written to
    session_state so the widget shows the corrected value. Streamlit removes such values from
    the server-side URL after the run; the once-per-URL guard below makes sure a value that
    lingers can never override a later move of the widget by the learner."""
    params = tuple(params)
    raw = raw_query()
    notices = []
    fingerprint = tuple(sorted((k, tuple(v)) for k, v in raw.items()))
    first_time = st.session_state.get(_APPLIED_KEY) != fingerprint
    for p in params:
        if p.key in raw:
            given = raw[p.key]
            value, note = parse_one(p, given[0] if len(given) == 1 else given)
            if note:
                notices.append(note)
                if first_time:
                    st.session_state[p.key] = value
    known = {p.key for p in params} | set(other_keys) | STREAMLIT_KEYS | {CODE_KEY}
    unknown = [k for k in raw if k not in known]
    if unknown:
        notices.append(unknown_notice(unknown))
    st.session_state[_APPLIED_KEY] = fingerprint
    return notices


def show_notices(notices: list[str]) -> None:
    """One compact warning listing what the URL asked for and what was used instead."""
    if notices:
        st.warning("Some link parameters were adjusted: " + "; ".join(notices[:8])
                   + (" …" if len(notices) > 8 else "") + ".", icon=":material/warning:")


def widget(p: Param, container=None, label: str | None = None) -> Any:
    """Create the widget for `p` (URL-bound, key = URL key) and return its value.

    The Param's default is always passed: Streamlit drops a bound URL parameter whose value
    equals the widget's default, so the widget must know the real one. (A value set through
    session_state then wins; .streamlit/config.toml silences Streamlit's duplication warning.)"""
    c = container if container is not None else st
    kw: dict[str, Any] = dict(key=p.key, bind="query-params", help=p.help or None, label=label or p.label)
    if p.kind == "points":
        return c.text_area(value=p.default, height=80, max_chars=MAX_POINTS_TEXT, **kw)
    if p.kind == "probe":
        return c.text_input(value=p.default, max_chars=80, placeholder="e.g. 0.5:-1:1", **kw)
    if p.kind == "choice":
        return c.selectbox(options=p.choices, index=p.choices.index(p.default), **kw)
    if p.kind == "bool":
        return c.toggle(value=p.default, **kw)
    if p.kind == "int":
        lo, hi, step = int(p.lo), int(p.hi), int(p.step or 1)
        return c.slider(min_value=lo, max_value=hi, value=int(p.default), step=step, **kw)
    lo, hi, step = float(p.lo), float(p.hi), float(p.step or 0.01)
    if p.slider:
        return c.slider(min_value=lo, max_value=hi, value=float(p.default), step=step, **kw)
    return c.number_input(min_value=lo, max_value=hi, value=float(p.default), step=step, format="%.4g", **kw)


def widgets(params: Iterable[Param], container=None, hidden: Iterable[str] = ()) -> dict[str, Any]:
    """A widget per param, except the hidden ones, whose values come from the URL (or the default)."""
    hidden = set(hidden)
    raw = raw_query() if hidden else {}                # the URL is read only for values without a widget
    values = {}
    for p in params:
        if p.key in hidden:
            given = raw.get(p.key)
            values[p.key] = parse_one(p, given[0] if given and len(given) == 1 else given)[0] if given else p.default
        else:
            values[p.key] = widget(p, container)
    return values


CUSTOM_UNUSED = ("n", "noise", "dseed")        # custom data: n is the number of points; no generator


def train_widgets(params: Iterable[Param], hidden: Iterable[str] = ()) -> dict[str, Any]:
    """The training controls in order; hidden ones, and those custom data makes moot, get no widget."""
    hidden, values = set(hidden), {}
    for p in params:
        skip = p.key in hidden or (p.key in CUSTOM_UNUSED and values.get("data") == "custom")
        values |= widgets([p], hidden=[p.key] if skip else [])
    return values


CODE_KEY = "code"


def code_for_view(page: str, values: dict[str, Any]) -> None:
    """An expander with a standalone PyTorch script that reproduces this view's numbers. It is lazy
    (built and sent only while open) and its state is in the URL (`code=true` opens it)."""
    expander = st.expander("Code for this view", icon=":material/code:", key=CODE_KEY, bind="query-params")
    if not expander.open:
        return
    with expander:
        script = codegen.script(page, values)
        st.caption("A standalone script (PyTorch and the standard library only) that rebuilds this view's data "
                   "and network, runs the same computation and prints the numbers the page shows; its last "
                   "line is one JSON object.")
        st.download_button("Download the script", data=script, file_name=f"backprop_lab_{page}.py",
                           mime="text/x-python", icon=":material/download:", on_click="ignore",
                           key=f"code_{page}")
        st.code(script, language="python", line_numbers=True)


HIDE_KEY = "hide"


def hidden_keys(params: Iterable[Param]) -> tuple[list[str], list[str]]:
    """(keys to hide, notices) from the URL's `hide`: a comma-separated list of this page's control
    keys. A teacher's link can fix some controls and leave only the others to move."""
    raw = st.query_params.get_all(HIDE_KEY)
    if not raw:
        return [], []
    known = {p.key for p in params}
    asked = [k.strip() for k in str(raw[-1])[:400].split(",") if k.strip()]
    keys = [k for k in dict.fromkeys(asked) if k in known]
    unknown = [k for k in asked if k not in known]
    notices = [f"hide: {', '.join(shown(k) for k in unknown[:3])} {'are' if len(unknown) > 1 else 'is'} not a control "
               f"of this page"] if unknown else []
    return keys, notices


def show_set_by_link(params: Iterable[Param], values: dict[str, Any], hidden: list[str]) -> None:
    """One line listing the values a link fixed (the hidden controls)."""
    if hidden:
        labels = {p.key: p for p in params}
        parts = [f"{labels[k].label.lower()} {_value_text(values[k])}" for k in hidden]
        st.info("Set by this link: " + ", ".join(parts) + ".", icon=":material/lock:")


def _value_text(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    return f"{v:g}" if isinstance(v, float) else str(v)


def hand_panel() -> dict[str, Any]:
    """x, W1, W2, y and the activation laid out as a vector and matrices (hand + autograd pages)."""
    params = {p.key: p for p in HAND_PARAMS}
    with st.container(border=True):
        c_x, c_w1, c_w2, c_y = st.columns([1, 2, 2, 1.3])
        c_x.markdown("**Input $x$**")
        v = {k: widget(params[k], c_x) for k in ("x1", "x2")}
        c_w1.markdown("**$W_1$** (row $i$ = input, column $j$ = hidden unit)")
        r1, r2 = c_w1.columns(2), c_w1.columns(2)
        for key, col in (("w1_11", r1[0]), ("w1_12", r1[1]), ("w1_21", r2[0]), ("w1_22", r2[1])):
            v[key] = widget(params[key], col)
        c_w2.markdown("**$W_2$** (hidden unit → output)")
        r3 = c_w2.columns(2)
        v["w2_1"], v["w2_2"] = widget(params["w2_1"], r3[0]), widget(params["w2_2"], r3[1])
        c_y.markdown("**Target and activation**")
        v["y"], v["act"] = widget(params["y"], c_y), widget(params["act"], c_y)
    return v


def show_verdict(diagnosis, prefix: str = "Verdict") -> None:
    """The diagnosis as an alert whose text starts with `<prefix>: <verdict>`."""
    text = diagnosis.titled(prefix)
    kind = {"healthy": st.success, "vanishing": st.warning, "saturated": st.warning,
            "dead units": st.warning, "not learned": st.warning}.get(diagnosis.verdict, st.error)
    icon = {"healthy": ":material/check_circle:", "diverged": ":material/error:",
            "exploding": ":material/error:"}.get(diagnosis.verdict, ":material/warning:")
    kind(text, icon=icon)


def budget_guard(*cfgs) -> None:
    """Stop the page with a clear message when the configurations exceed the compute budget."""
    message = over_budget(*cfgs)
    if message:
        st.error(message, icon=":material/timer:")
        st.stop()


def epoch_scrubber(epochs: list[int], disabled: bool = False) -> int:
    """The 'Epoch' select-slider over the recorded snapshot epochs (URL key `epoch`); `disabled` while
    the player plays them.

    Its default is the last epoch; a URL epoch that was not recorded falls back to it."""
    raw = st.query_params.get_all("epoch")
    if raw and raw[-1] not in [str(e) for e in epochs]:
        show_notices([f"epoch: {shown(raw[-1])} is not a recorded epoch; showing epoch {epochs[-1]}"])
    if st.session_state.get("epoch") not in epochs:
        st.session_state.pop("epoch", None)
    return st.select_slider("Epoch", options=epochs, value=epochs[-1], key="epoch", bind="query-params",
                            disabled=disabled, help="Scrub through training: the decision surface and gradient "
                                                    "distribution at that epoch.")


def preset_buttons(params: Iterable[Param], presets: list[tuple[str, dict[str, Any]]],
                   icon: str = ":material/play_arrow:") -> None:
    """One button per preset that moves every control of the page to the preset's value (or the
    page default). Setting session_state keeps the URL in sync, so the result is shareable.
    (A page_link to the page itself updates the widgets but leaves the browser URL stale.)"""
    params = tuple(params)

    def apply(values: dict[str, Any]) -> None:
        for p in params:
            st.session_state[p.key] = values.get(p.key, p.default)

    row = st.container(horizontal=True)
    for label, values in presets:
        row.button(label, key=f"preset_{label}", icon=icon, on_click=apply, args=(values,), width="stretch")
