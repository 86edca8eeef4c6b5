"""Chart templates: what every chart promises a learner (titles, axis titles, tooltips, readable log axes)."""
import json
import math

import pytest

from dashboard import charts


def _views(spec: dict):
    """Every single view of a (possibly layered) spec."""
    yield spec
    for part in spec.get("layer", []):
        yield from _views(part)


@pytest.mark.parametrize("kind", sorted(charts.BUILDERS))
def test_every_chart_has_a_title_axis_titles_and_tooltips(kind):
    spec = json.loads(charts.spec_text(kind))
    assert spec.get("title"), kind
    encodings = [v.get("encoding", {}) for v in _views(spec)]
    assert any("tooltip" in e for e in encodings), kind
    for channel in ("x", "y"):                     # layers share an axis: one of them titles it
        used = [e[channel] for e in encodings if channel in e and "field" in e[channel]]
        if any(enc.get("type") == "quantitative" for enc in used):
            assert any(enc.get("title") for enc in used), (kind, channel)


@pytest.mark.parametrize("kind", sorted(charts.BUILDERS))
def test_log_axes_label_powers_of_ten_at_their_ticks(kind):
    """A log axis ticks and labels whole powers of ten only (Vega's own choice read 3e-2, 1e-2, 2e-3,
    3e-4: uneven steps), on a domain widened to powers of ten, and y labels are not nudged off their
    ticks (a line at accuracy 1.0 used to sit above the '1.0' label)."""
    spec = json.loads(charts.spec_text(kind))
    assert spec["config"]["axisY"]["labelFlush"] is False
    for view in _views(spec):
        for channel, enc in view.get("encoding", {}).items():
            if channel in ("x", "y") and enc.get("scale", {}).get("type") == "log":
                values = enc["axis"]["values"]
                assert values and all(math.isclose(math.log10(v), round(math.log10(v))) for v in values), kind
                assert enc["axis"]["labelOverlap"] == "parity"
                assert enc["scale"].get("nice") is True or "domain" in enc["scale"], kind


@pytest.mark.parametrize("kind", sorted(charts.BUILDERS))
def test_charts_draw_on_canvas_without_per_item_aria_descriptions(kind):
    """Canvas output carries no per-item ARIA, so the templates switch Vega-Lite's descriptions off
    (it would otherwise build one string per mark item on every rerun)."""
    spec = json.loads(charts.spec_text(kind))
    assert spec["usermeta"]["embedOptions"]["renderer"] == ("svg" if kind in charts.SVG_KINDS else "canvas")
    assert spec["config"]["aria"] is (kind in charts.SVG_KINDS)
