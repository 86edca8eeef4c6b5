"""How a notice about a link, a form or a file quotes what it was given: raw text made safe to print,
and numbers in their shortest form. Imports nothing of the project (config and points both use it)."""
from __future__ import annotations

import re
from typing import Any

_SAFE = re.compile(r"[^A-Za-z0-9_.+\- ]")


def shown(raw: Any) -> str:
    """A raw value made safe to print in a notice: only [A-Za-z0-9_.+-] and spaces, at most 20
    characters, quoted."""
    text = str(raw)
    safe = _SAFE.sub("?", text)[:20]
    return f"'{safe}'" + ("…" if len(text) > 20 else "")


def num(v) -> str:
    """A control's value as a notice prints it: 0.1, 64, 1e-05."""
    return f"{v:g}" if isinstance(v, float) else str(v)
