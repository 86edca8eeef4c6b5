"""The learner's own training points (dataset `custom`): the URL value `pts`, CSV files, their limits,
and why a set of points cannot be trained on yet. Every parser returns the usable points and a
plain-language notice for each kind of point it dropped; none ever raises. Torch-free (the pages'
server parses points; data.py turns them into tensors)."""
from __future__ import annotations

import math
from typing import Any

from backprop_core.notices import shown

POINT_LIMIT = 100                 # at most this many points
POINT_RANGE = 5.0                 # |x1|, |x2| <= this
POINT_CLASSES = 5                 # labels 0 .. POINT_CLASSES - 1
MAX_POINTS_TEXT = 4000            # longer `pts` values are cut before parsing
Point = tuple[float, float, int]


def parse_points(raw: Any) -> tuple[list[Point], list[str]]:
    """The valid points in a `pts` value and a notice for each kind of point dropped. Never raises."""
    text = str(raw if not isinstance(raw, (list, tuple)) else (raw[-1] if raw else ""))
    notices = []
    if len(text) > MAX_POINTS_TEXT:
        notices.append(f"pts: longer than {MAX_POINTS_TEXT} characters; the rest was ignored")
        text = text[:MAX_POINTS_TEXT]
    points, more = _points_from([item.split(":") for item in text.split(",") if item.strip()], "pts")
    return points, notices + more


def parse_csv(text: str) -> tuple[list[Point], list[str]]:
    """Points from CSV text `x1,x2,label` (a header line is optional), and notices for the rows
    dropped: not three numbers with a label 0 to 4, outside the range, or beyond the limit."""
    rows = [r for r in str(text).replace("\r", "\n").split("\n") if r.strip()]
    if rows and not _is_number(rows[0].split(",")[0]):
        rows = rows[1:]                                  # a header such as x1,x2,label
    return _points_from([r.split(",") for r in rows[:10_000]], "CSV")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _points_from(items: list[list[str]], source: str) -> tuple[list[Point], list[str]]:
    points, bad, far, notices = [], [], [], []
    for i, fields_ in enumerate(items):
        item = " ".join(f.strip() for f in fields_)
        try:
            if len(fields_) != 3:
                raise ValueError
            x1, x2, c = (float(f) for f in fields_)
            if c not in range(POINT_CLASSES) or not (math.isfinite(x1) and math.isfinite(x2)):
                raise ValueError
        except (ValueError, OverflowError):
            bad.append(f"#{i + 1} {shown(item)}")
            continue
        if abs(x1) > POINT_RANGE or abs(x2) > POINT_RANGE:
            far.append(f"#{i + 1} {shown(item)}")
            continue
        points.append((round(x1, 3) + 0.0, round(x2, 3) + 0.0, int(c)))
    if bad:
        notices.append(f"{source}: dropped {_count(bad)} that {'are' if len(bad) > 1 else 'is'} not x1, x2, class "
                       f"with class 0 to {POINT_CLASSES - 1} ({_first(bad)})")
    if far:
        notices.append(f"{source}: dropped {_count(far)} outside |x| ≤ {POINT_RANGE:g} ({_first(far)})")
    if len(points) > POINT_LIMIT:
        notices.append(f"{source}: {len(points)} points; kept the first {POINT_LIMIT}")
        points = points[:POINT_LIMIT]
    return points, notices


def _count(items: list) -> str:
    return f"{len(items)} point{'s' if len(items) > 1 else ''}"


def _first(items: list[str]) -> str:
    return ", ".join(items[:3]) + (" …" if len(items) > 3 else "")


def points_text(points: list[Point]) -> str:
    """The canonical `pts` value: x1:x2:c triples joined by commas."""
    return ",".join(f"{x1:g}:{x2:g}:{c}" for x1, x2, c in points)


def custom_problem(points: list[Point]) -> str | None:
    """Why these points cannot be trained on yet, or None."""
    if len(points) < 2:
        return (f"Your data has {len(points)} point{'s' if len(points) != 1 else ''}: add at least two, one of "
                "each class, by clicking the plane below or uploading a CSV.")
    if len({c for _, _, c in points}) < 2:
        return (f"All {len(points)} points are class {points[0][2]}: a classifier needs at least two classes. Add "
                f"a point of class {1 if points[0][2] == 0 else 0}.")
    return None


def parse_probe(raw: Any) -> tuple[str, str | None]:
    """The `probe` value, one point and its label `x1:x2:label` (|x| <= POINT_RANGE; the label a class,
    or a regression target), canonical, or "" (off) with a notice when it is not usable. Never raises."""
    text = str(raw if not isinstance(raw, (list, tuple)) else (raw[-1] if raw else "")).strip()
    if not text:
        return "", None
    parts = text[:80].split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        x1, x2, label = (float(f) for f in parts)
        if not all(math.isfinite(v) for v in (x1, x2, label)):
            raise ValueError
    except (ValueError, OverflowError):
        return "", f"probe: {shown(text)} is not x1:x2:label; no point is probed"
    if abs(x1) > POINT_RANGE or abs(x2) > POINT_RANGE:
        return "", f"probe: {shown(text)} is outside |x| ≤ {POINT_RANGE:g}; no point is probed"
    return f"{round(x1, 3) + 0.0:g}:{round(x2, 3) + 0.0:g}:{round(label, 3) + 0.0:g}", None
