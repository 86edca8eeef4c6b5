"""bench/browser_profile.py charges each CPU-profile sample to the nearest JavaScript bundle on its
stack: checked on a hand-built profile whose answer is known."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from browser_profile import busy_by_group  # noqa: E402


def _frame(name: str, url: str = "") -> dict:
    return {"functionName": name, "url": url, "lineNumber": 0, "columnNumber": 0}


def test_samples_are_charged_to_the_nearest_bundle_on_the_stack():
    js = "http://127.0.0.1/static/js/"
    nodes = [
        {"id": 1, "callFrame": _frame("(root)"), "children": [2, 3, 4, 5, 7]},
        {"id": 2, "callFrame": _frame("(idle)")},
        {"id": 3, "callFrame": _frame("(program)")},
        {"id": 4, "callFrame": _frame("(garbage collector)")},
        {"id": 5, "callFrame": _frame("run", js + "embed.CX5AQgxi.js"), "children": [6]},
        {"id": 6, "callFrame": _frame("fillText")},                     # a builtin Vega called
        {"id": 7, "callFrame": _frame("Ho", js + "react-dom.Dzbslgj4.js"), "children": [8]},
        {"id": 8, "callFrame": _frame("Re", js + "Slider.WU6er_Bo.js"), "children": [9]},
        {"id": 9, "callFrame": _frame("serialize", js + "emotion-styled.browser.esm.js")},
    ]
    samples = [2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 9, 9]
    busy = busy_by_group({"nodes": nodes, "samples": samples, "timeDeltas": [10] * len(samples)})
    assert busy == {"native": 20, "gc": 10, "vega": 30, "react": 10, "streamlit": 10, "styles": 30}
