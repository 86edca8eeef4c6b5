"""A minimal Streamlit protocol client: one simulated learner per `Session`, no browser.

A session does what the browser does when a learner opens a link: GET the page, GET
/_stcore/health (sets the XSRF cookie; a proxy may set its routing cookie), then opens the
websocket /_stcore/stream and sends BackMsg.rerun_script with a ClientState (query string, page,
widget states). It reads ForwardMsg protobufs until the run's script_finished, collecting the
sliders, the alert texts and any exception. Loopback targets only.
"""
from __future__ import annotations

import asyncio
import http.client
import ipaddress
import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlparse

from streamlit.components.v2.bidi_component.main import _make_trigger_id  # the browser's trigger widget id
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect

FINISHED_OK = 0  # ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
FINISHED_EARLY_FOR_RERUN = 2


def assert_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"refusing a non-loopback target: {host}")


@dataclass
class RunOutcome:
    ms: float
    alerts: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)             # markdown bodies
    status: int = FINISHED_OK                                  # how the script run ended

    @property
    def complete(self) -> bool:
        """The run went to its end (not stopped early for another rerun)."""
        return self.status == FINISHED_OK


def _http_get(url: str, cookies: dict[str, str], timeout: float) -> tuple[int, dict[str, str]]:
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        conn.request("GET", u.path + (f"?{u.query}" if u.query else ""), headers=headers)
        resp = conn.getresponse()
        resp.read()
        new = {}
        for key, value in resp.getheaders():
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                new[name.strip()] = rest.split(";")[0]
        return resp.status, new
    finally:
        conn.close()


class Session:
    """One learner on `page` (URL path, e.g. 'flow') with the link's query string."""

    def __init__(self, base_url: str, page: str, query: str = "", timeout: float = 60.0):
        assert_loopback(base_url)
        self.base, self.page, self.query, self.timeout = base_url.rstrip("/"), page, query, timeout
        self.cookies: dict[str, str] = {}
        self.ws = None
        self.page_hash = ""
        self.sliders: dict[str, str] = {}          # label -> widget id
        self.buttons: dict[str, tuple[str, str]] = {}      # label -> (widget id, fragment id or "")
        self.components: dict[str, tuple[str, str]] = {}   # v2 component name -> (element id, fragment id)
        self.widget_states: dict[str, WidgetState] = {}
        self.auto_reruns: dict[str, float] = {}            # fragment id -> seconds (st.fragment(run_every=...))

    async def open(self) -> None:
        for path in (f"/{self.page}" + (f"?{self.query}" if self.query else ""), "/_stcore/health",
                     "/_stcore/host-config"):
            status, new = await asyncio.to_thread(_http_get, self.base + path, self.cookies, self.timeout)
            if status != 200:
                raise ConnectionError(f"GET {path.split('?')[0]} answered HTTP {status}")
            self.cookies.update(new)
        token = self.cookies.get("_streamlit_xsrf", "PLACEHOLDER_AUTH_TOKEN")
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        ws_url = self.base.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = await connect(ws_url, subprotocols=["streamlit", token], max_size=None, proxy=None,
                                additional_headers=[("Origin", self.base), ("Cookie", cookie)],
                                open_timeout=self.timeout, close_timeout=3)

    async def rerun(self, first: bool = False, trigger: WidgetState | None = None,
                    fragment_id: str = "") -> RunOutcome:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        if fragment_id:
            cs.fragment_id = fragment_id
        if first or not self.page_hash:
            cs.page_name = self.page
        else:
            cs.page_script_hash = self.page_hash
        for state in [*self.widget_states.values(), *([trigger] if trigger else [])]:
            cs.widget_states.widgets.add().CopyFrom(state)
        ci = cs.context_info
        ci.timezone, ci.locale, ci.url = "UTC", "en-US", f"{self.base}/{self.page}?{self.query}"
        if not fragment_id:                  # a whole run states again which fragments rerun on their own
            self.auto_reruns = {}
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        out = RunOutcome(0.0)
        run_id = None
        deadline = t0 + self.timeout
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), max(0.1, deadline - time.perf_counter()))
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                run_id = fm.metadata.run.script_run_id or run_id
                if fm.new_session.page_script_hash:
                    self.page_hash = fm.new_session.page_script_hash
            elif kind == "navigation" and fm.navigation.page_script_hash:
                self.page_hash = fm.navigation.page_script_hash
            elif kind == "auto_rerun":
                self.auto_reruns[fm.auto_rerun.fragment_id] = fm.auto_rerun.interval
            elif kind == "page_info_changed":
                self.query = fm.page_info_changed.query_string      # bound widgets write the URL
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                et = el.WhichOneof("type")
                if et == "slider":
                    self.sliders[el.slider.label] = el.slider.id
                elif et == "button":
                    self.buttons[el.button.label] = (el.button.id, fm.delta.fragment_id)
                elif et == "bidi_component":
                    self.components[el.bidi_component.component_name] = (el.bidi_component.id,
                                                                         fm.delta.fragment_id)
                elif et == "markdown":
                    out.texts.append(el.markdown.body)
                elif et == "alert":
                    out.alerts.append(el.alert.body)
                elif et == "exception" and not el.exception.is_warning:
                    out.exceptions.append(f"{el.exception.type}: {el.exception.message}")
            elif kind == "script_finished" and fm.script_finished == FINISHED_EARLY_FOR_RERUN:
                run_id, self.auto_reruns = None, {}          # st.rerun(): the whole page runs next; wait for it
            elif kind == "script_finished":
                rid = fm.metadata.run.script_run_id
                if run_id is None or not rid or rid == run_id:
                    out.ms = (time.perf_counter() - t0) * 1000
                    out.status = fm.script_finished
                    return out

    async def move(self, label: str, value: float, url_key: str | None = None) -> RunOutcome:
        """Set a slider (by label) and rerun, as a learner's drag does. With `url_key`, the query
        string is updated too, as the browser's URL binding does for a bound widget."""
        state = WidgetState()
        state.id = self.sliders[label]
        state.double_array_value.data.append(float(value))
        self.widget_states[state.id] = state
        if url_key:
            pairs = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k != url_key]
            self.query = urlencode(pairs + [(url_key, f"{value:g}")])
        return await self.rerun()

    async def press(self, label: str) -> RunOutcome:
        """Click a button (by label): one trigger, and a rerun of its fragment when it sits in one, as
        the browser sends it."""
        widget_id, fragment_id = self.buttons[label]
        state = WidgetState()
        state.id = widget_id
        state.trigger_value = True
        return await self.rerun(trigger=state, fragment_id=fragment_id)

    async def trigger(self, component: str, event: str, value) -> RunOutcome:
        """A v2 component's trigger (`setTriggerValue(event, value)` in its script), sent as the
        browser sends it: one JSON payload on the component's trigger widget, its fragment rerun."""
        element_id, fragment_id = self.components[component]
        state = WidgetState()
        state.id = _make_trigger_id(element_id, "events")
        state.json_trigger_value = json.dumps([{"event": event, "value": value}])
        return await self.rerun(trigger=state, fragment_id=fragment_id)

    async def listen(self, seconds: float) -> int:
        """Read whatever the server sends for `seconds`, as an open browser tab does (a client that
        stops reading would hold the server's writes back); returns the number of messages."""
        count, deadline = 0, time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            try:
                await asyncio.wait_for(self.ws.recv(), left)
                count += 1
            except TimeoutError:
                break
        return count

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


def verdict(outcome: RunOutcome) -> str | None:
    return next((a for a in outcome.alerts if a.startswith("Verdict: ")), None)


def depth_echo_ok(outcome: RunOutcome, depth: int) -> bool:
    """The rerun proves the value reached the script: the run summary names that depth, and the
    page got as far as its verdict."""
    layers = f"{depth} hidden layer{'s' if depth != 1 else ''} ×"
    return any(layers in t for t in outcome.texts) and verdict(outcome) is not None
