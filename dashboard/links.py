"""Query dictionaries for preset links (st.page_link(..., query_params=...))."""
from __future__ import annotations

from typing import Any

from backprop_core.config import HAND_PARAMS, TrainConfig, page_train_params


def train_query(preset: str, page: str, **changes) -> dict[str, str]:
    """The URL parameters that open `page` on the named preset (only non-default values)."""
    return TrainConfig.preset(preset, **changes).query(page_train_params(page))



def hand_query(values: dict[str, Any]) -> dict[str, str]:
    out = {}
    for p in HAND_PARAMS:
        v = values.get(p.key, p.default)
        if v != p.default:
            out[p.key] = f"{v:g}" if isinstance(v, float) else str(v)
    return out
