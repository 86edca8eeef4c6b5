"""The one place that owns every user-facing control: its URL key, type, default, bounds or
choices and help. The dashboard builds its widgets and URL binding from these lists; the core
validates with them; the compute budget lives here too.

`parse(params, raw)` never raises: it turns whatever a URL or a widget carried into valid values
plus plain-language notices of what it ignored, clamped or rounded.
"""
from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from backprop_core.activations import ALL_ACTIVATIONS, HAND_ACTIVATIONS

# The model and data choices (models.py and data.py read them from here; this module imports no torch)
GENERATED_DATASETS = ("linear", "xor", "circles", "moons", "spirals", "blobs")
DATASETS = GENERATED_DATASETS + ("custom",)       # custom: the learner's own points, in the URL key `pts`
N_RANGE = (20, 5000)
INITS = ("default", "xavier", "kaiming", "small", "large")
NORMS = ("none", "batch", "layer")
DEPTH_RANGE = (1, 64)
WIDTH_RANGE = (2, 256)

OPTIMIZERS = ("sgd", "momentum", "adam")
FIXES = ("relu", "he", "xavier", "batchnorm", "layernorm", "residual", "lower_lr", "clip")
MAX_RAW_LENGTH = 64           # longer URL values are rejected before parsing
STREAMLIT_KEYS = frozenset({"embed", "embed_options"})


@dataclass(frozen=True)
class Param:
    """One control. kind: "int" | "float" | "choice" | "bool".

    Every int control is a slider: Streamlit 1.67's URL binding of an int number_input raises
    OverflowError on 'inf' or '1e999' (found by tests/test_hostile_urls.py)."""
    key: str
    label: str
    kind: str
    default: Any
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    help: str = ""
    step: float | None = None
    widget: str = "number"        # "slider" | "number" | "select" | "toggle" (a hint for the UI)

    def clamp(self, v):
        return min(max(v, self.lo), self.hi)

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        if self.kind == "bool":
            return "true or false"
        return f"{_num(self.lo)}..{_num(self.hi)}"


def _num(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


# ---------------------------------------------------------------- hand and autograd pages
def _weight(key, label, default, help_):
    return Param(key, label, "float", default, -10.0, 10.0, help=help_, step=0.1)


HAND_PARAMS: tuple[Param, ...] = (
    _weight("x1", "x₁", 1.0, "First input."),
    _weight("x2", "x₂", 2.0, "Second input."),
    _weight("w1_11", "W₁[1][1]", 0.1, "Weight from input 1 to hidden unit 1 (z1 = x @ W1)."),
    _weight("w1_12", "W₁[1][2]", -0.2, "Weight from input 1 to hidden unit 2."),
    _weight("w1_21", "W₁[2][1]", 0.3, "Weight from input 2 to hidden unit 1."),
    _weight("w1_22", "W₁[2][2]", 0.4, "Weight from input 2 to hidden unit 2."),
    _weight("w2_1", "W₂[1]", 0.7, "Weight from hidden unit 1 to the output."),
    _weight("w2_2", "W₂[2]", -0.5, "Weight from hidden unit 2 to the output."),
    Param("y", "target y", "float", 1.0, 0.0, 1.0, help="Target in [0, 1].", step=0.1),
    Param("act", "activation φ", "choice", "relu", choices=HAND_ACTIVATIONS,
          help="Hidden activation.", widget="select"),
)

WALK_STEPS = 15                      # 7 forward (z1 x2, h x2, z2, y_pred, L), then 8 chain-rule factors
STEP_PARAM = Param("step", "Step", "int", 0, 0, WALK_STEPS, step=1, widget="slider",
                   help="Walk through backprop: the forward pass node by node, the loss, then the backward "
                        "pass one chain-rule factor at a time. 0 shows everything.")

HAND_PRESETS: dict[str, dict[str, Any]] = {
    "seed demo": {},
    "exercise 1": dict(x1=2.0, x2=1.0, w1_11=0.2, w1_12=-0.3, w1_21=0.5, w1_22=0.4,
                       w2_1=0.6, w2_2=-0.7, y=0.0),
}


BUGS = ("no_act_grad", "no_transpose", "wrong_sign")          # mistakes to plant in the manual backward pass
BUG_LABELS = {
    "no_act_grad": "forgot the activation derivative",
    "no_transpose": "missing transpose in dL/dW",
    "wrong_sign": "wrong sign in dL/dz",
}

AUTOGRAD_PARAMS: tuple[Param, ...] = (
    Param("dtype", "Precision", "choice", "float64", choices=("float64", "float32"), widget="select",
          help="float64 keeps ~16 digits, float32 ~7: watch the errors grow."),
    Param("deep_depth", "Depth (deep mode)", "int", 4, 1, 16, step=1, widget="slider",
          help="Hidden layers of the model checked in deep mode."),
    Param("deep_width", "Width (deep mode)", "int", 8, 4, 64, step=1, widget="slider",
          help="Units per hidden layer (at least 4: LayerNorm over 2 units outputs ±1 whatever its "
               "input, so no gradient flows through it and only rounding is left to compare)."),
    Param("deep_act", "Activation (deep mode)", "choice", "tanh", choices=ALL_ACTIVATIONS, widget="select"),
    Param("deep_norm", "Normalisation (deep mode)", "choice", "none", choices=NORMS, widget="select"),
    Param("deep_res", "Residual (deep mode)", "bool", False, widget="toggle"),
    Param("bug", "Inject a mistake", "choice", "none", choices=("none",) + BUGS, widget="select",
          help="A classic backprop bug, planted in the manual backward pass."),
    Param("bug_layer", "…at hidden layer", "int", 2, 1, 16, step=1, widget="slider"),
)


def hand_inputs(v: Mapping[str, Any]):
    """(x, W1, W2, y, activation) in hand.two_layer's layout from validated values."""
    return ([v["x1"], v["x2"]], [[v["w1_11"], v["w1_12"]], [v["w1_21"], v["w1_22"]]],
            [[v["w2_1"], v["w2_2"]]], v["y"], v["act"])


def random_hand_values(seed: int) -> dict[str, float]:
    """A reproducible random example (weights in [-1, 1], x in [-2, 2], y in {0, 1})."""
    rng = random.Random(seed)
    v = {p.key: round(rng.uniform(-1, 1), 2) for p in HAND_PARAMS if p.key.startswith("w")}
    v |= {"x1": round(rng.uniform(-2, 2), 1), "x2": round(rng.uniform(-2, 2), 1),
          "y": float(rng.randint(0, 1))}
    return v


# ---------------------------------------------------------------- training pages
TRAIN_PARAMS: tuple[Param, ...] = (
    Param("depth", "Depth", "int", 1, *DEPTH_RANGE, help="Number of hidden layers.", step=1,
          widget="slider"),
    Param("width", "Width", "int", 10, *WIDTH_RANGE, help="Units per hidden layer.", step=1,
          widget="slider"),
    Param("act", "Activation", "choice", "relu", choices=ALL_ACTIVATIONS, widget="select",
          help="Hidden activation φ."),
    Param("init", "Initialisation", "choice", "default", choices=INITS, widget="select",
          help="default = PyTorch's; xavier = Glorot uniform; kaiming = He normal; "
               "small = N(0, 0.01²); large = N(0, 1)."),
    Param("norm", "Normalisation", "choice", "none", choices=NORMS, widget="select",
          help="BatchNorm or LayerNorm after each hidden Linear."),
    Param("residual", "Residual connections", "bool", False, widget="toggle",
          help="Each hidden layer after the first adds its input: a + φ(...)."),
    Param("opt", "Optimiser", "choice", "adam", choices=OPTIMIZERS, widget="select",
          help="sgd; momentum = SGD with momentum 0.9; adam."),
    Param("lr", "Learning rate", "float", 0.1, 1e-4, 100.0, step=0.01,
          help="Step size. Too large and training diverges."),
    Param("epochs", "Epochs", "int", 60, 1, 500, step=1, widget="slider",
          help="Passes over the training set."),
    Param("seed", "Seed", "int", 11, 0, 9999, step=1, widget="slider", help="Seeds the weights and batch order."),
    Param("data", "Dataset", "choice", "linear", choices=DATASETS, widget="select",
          help="linear is the seed's: label = x₁ + x₂ > 0. custom: your own points (click the decision "
               "surface, or upload a CSV)."),
    Param("n", "Training points", "int", 200, *N_RANGE, step=10, widget="slider",
          help="Training points (a quarter as many test points, at least 20)."),
    Param("noise", "Noise", "float", 0.0, 0.0, 1.0, step=0.05, widget="slider",
          help="Gaussian jitter added to the points."),
    Param("batch", "Batch size", "int", 0, 0, 5000, step=1, widget="slider",
          help="0 = full batch (one step per epoch)."),
    Param("wd", "Weight decay", "float", 0.0, 0.0, 1.0, step=0.0001, help="L2 penalty."),
    Param("clip", "Gradient clipping", "float", 0.0, 0.0, 100.0, step=0.1,
          help="Max global gradient norm; 0 = off."),
    Param("dseed", "Data seed", "int", 11, 0, 9999, step=1, widget="slider", help="Seeds the dataset."),
)

SWEEP_PARAMS: tuple[Param, ...] = (
    Param("sweep_depth", "Sweep up to depth", "int", 20, 2, 30, step=1, widget="slider",
          help="Depths 1..this, at initialisation."),
    Param("sweep_init", "Sweep initialisation", "choice", "default", choices=INITS, widget="select"),
    Param("sweep_seeds", "Seeds per point", "int", 3, 1, 5, step=1, widget="slider"),
)
SWEEP_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")

FIX_PARAM = Param("fix", "Fix to compare", "choice", "relu", choices=FIXES, widget="select",
                  help="The one change applied to the run on the right.")
RANK_PARAM = Param("rank", "Try every fix and rank them", "bool", False, widget="toggle",
                   help="Train the chosen run once with each fix (in parallel) and rank the results.")

PRESETS: dict[str, dict[str, Any]] = {
    "seed demo 3": dict(depth=1, width=10, act="relu", opt="adam", lr=0.1, epochs=60, seed=11,
                        data="linear", n=200, dseed=11),
    "seed demo 4": dict(depth=6, width=32, act="sigmoid", opt="adam", lr=0.07, epochs=30, seed=21,
                        data="linear", n=200, dseed=11),
    "dying 10-layer sigmoid": dict(depth=10, width=32, act="sigmoid", opt="sgd", lr=0.5, epochs=60,
                                   seed=21, data="linear", n=200, dseed=11),
    "healthy deep relu": dict(depth=20, width=32, act="relu", init="kaiming", opt="adam", lr=0.01,
                              epochs=30, seed=3, data="moons", n=300, noise=0.1, dseed=11),
    "exploding": dict(depth=6, width=32, act="relu", init="large", opt="sgd", lr=50.0, epochs=30,
                      seed=5, data="linear", n=200, dseed=11),
}


def with_defaults(params: tuple[Param, ...], preset: Mapping[str, Any]) -> tuple[Param, ...]:
    """The same params with defaults taken from a preset (e.g. /vanishing = "seed demo 4")."""
    return tuple(replace(p, default=preset.get(p.key, p.default)) for p in params)


PAGE_PRESET = {"flow": "seed demo 3", "vanishing": "seed demo 4"}


def page_train_params(page: str) -> tuple[Param, ...]:
    """TRAIN_PARAMS with this page's defaults (/flow: seed demo 3, /vanishing: seed demo 4)."""
    return with_defaults(TRAIN_PARAMS, PRESETS[PAGE_PRESET[page]])


# ---------------------------------------------------------------- parsing and validation
_SAFE = re.compile(r"[^A-Za-z0-9_.+\- ]")


def shown(raw: Any) -> str:
    """A raw value made safe to print in a notice: only [A-Za-z0-9_.+-] and spaces, at most 20 chars."""
    text = str(raw)
    safe = _SAFE.sub("?", text)[:20]
    return f"'{safe}'" + ("…" if len(text) > 20 else "")


def _to_number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError("not a number")
    if isinstance(raw, (int, float)):
        return float(raw)
    text = str(raw).strip()
    if len(text) > MAX_RAW_LENGTH:
        raise ValueError("too long")
    return float(text)


def parse_one(p: Param, raw: Any) -> tuple[Any, str | None]:
    """(valid value, notice or None) for one raw value; never raises."""
    if isinstance(raw, (list, tuple)):
        if not raw:
            return p.default, f"{p.key}: empty; using the default {_num(p.default)}"
        value, note = parse_one(p, raw[-1])
        extra = f"{p.key}: given {len(raw)} times; using the last"
        return value, (extra + (f" ({note})" if note else ""))
    if p.kind == "points":
        points, notes = parse_points(raw)
        return points_text(points), ("; ".join(notes) or None)
    if p.kind == "choice":
        text = str(raw).strip().lower()
        if text in p.choices:
            return text, None
        return p.default, f"{p.key}: {shown(raw)} is not {p.describe()}; using {p.default}"
    if p.kind == "bool":
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True, None
        if text in ("false", "0", "no", "off"):
            return False, None
        return p.default, f"{p.key}: {shown(raw)} is not true/false; using {p.default}"
    try:
        v = _to_number(raw)
    except (ValueError, TypeError, OverflowError):
        return p.default, f"{p.key}: {shown(raw)} is not a number; using the default {_num(p.default)}"
    if not math.isfinite(v):
        return p.default, f"{p.key}: {shown(raw)} is not a finite number; using the default {_num(p.default)}"
    note = None
    if p.kind == "int" and v != int(v):  # truncate toward zero, as Streamlit's own URL binding does
        note = f"{p.key}: {_num(v)} is not a whole number; using {int(v)}"
    if p.kind == "int":
        v = int(v)
    clamped = p.clamp(v)
    if clamped != v:
        note = f"{p.key} must be {p.describe()}; got {_num(v)}, using {_num(clamped)}"
    return (int(clamped) if p.kind == "int" else float(clamped)), note


def parse(params: tuple[Param, ...], raw: Mapping[str, Any],
          ignore_unknown: bool = False) -> tuple[dict[str, Any], list[str]]:
    """Validated values for every param (defaults where absent) and the notices."""
    values, notices = {}, []
    for p in params:
        if p.key in raw:
            values[p.key], note = parse_one(p, raw[p.key])
            if note:
                notices.append(note)
        else:
            values[p.key] = p.default
    if not ignore_unknown:
        known = {p.key for p in params} | STREAMLIT_KEYS
        unknown = [k for k in raw if k not in known]
        if unknown:
            notices.append(unknown_notice(unknown))
    return values, notices


def unknown_notice(keys: list[str]) -> str:
    names = ", ".join(shown(k) for k in keys[:3]) + (" …" if len(keys) > 3 else "")
    return f"ignored unknown parameter{'s' if len(keys) > 1 else ''} {names}"


# ---------------------------------------------------------------- the training configuration
@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run; hashable, so it can key a cache."""
    depth: int = 1
    width: int = 10
    act: str = "relu"
    init: str = "default"
    norm: str = "none"
    residual: bool = False
    opt: str = "adam"
    lr: float = 0.1
    epochs: int = 60
    seed: int = 11
    data: str = "linear"
    n: int = 200
    noise: float = 0.0
    batch: int = 0
    wd: float = 0.0
    clip: float = 0.0
    dseed: int = 11
    pts: str = ""                 # data == "custom": the points, canonical `x1:x2:c,...` (see parse_points)
    snapshots: int = 11           # decision surfaces stored for the epoch scrubber
    precision: str = "float64"    # the arithmetic of training; "float32" is the rounding check's twin

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> TrainConfig:
        """A config from validated control values. Custom data trains on all its points: n is their
        number, and points are only kept when the dataset is custom."""
        names = {f.name for f in fields(cls)}
        cfg = cls(**{k: v for k, v in values.items() if k in names})
        if cfg.data != "custom":
            return replace(cfg, pts="") if cfg.pts else cfg
        return replace(cfg, n=len(parse_points(cfg.pts)[0]), noise=0.0, dseed=0)

    @classmethod
    def preset(cls, name: str, **changes) -> TrainConfig:
        values, _ = parse(TRAIN_PARAMS, PRESETS[name] | changes)
        return cls.from_values(values)

    def validated(self) -> tuple[TrainConfig, list[str]]:
        values, notices = parse(TRAIN_PARAMS, asdict(self), ignore_unknown=True)
        return replace(self, **values), notices

    def query(self, params: tuple[Param, ...] = TRAIN_PARAMS) -> dict[str, str]:
        """URL parameters that differ from `params`' defaults (for shareable links)."""
        out = {}
        for p in params:
            v = getattr(self, p.key)
            if v != p.default:
                out[p.key] = str(v).lower() if isinstance(v, bool) else _num(v)
        return out

    def summary(self) -> str:
        """One line describing the run, e.g. '6 hidden layers × 32 sigmoid units, default init, ...'."""
        layers = f"{self.depth} hidden layer{'s' if self.depth != 1 else ''}"
        extras = [x for x in (f"{self.norm}norm" if self.norm != "none" else "",
                              "residual" if self.residual else "") if x]
        batch = "full batch" if self.batch <= 0 else f"batch {self.batch}"
        return (f"{layers} × {self.width} {self.act} units, {self.init} init"
                + (", " + ", ".join(extras) if extras else "")
                + f"; {self.opt} lr {self.lr:g}, {self.epochs} epochs, {batch}; "
                  f"{self.data} data, n = {self.n}, seed {self.seed}")

    @property
    def custom(self) -> bool:
        return self.data == "custom"

    @property
    def batch_size(self) -> int:
        return max(1, self.n if self.batch <= 0 else min(self.batch, self.n))


# ---------------------------------------------------------------- the learner's own points
POINT_LIMIT = 100                 # at most this many points
POINT_RANGE = 5.0                 # |x1|, |x2| <= this
MAX_POINTS_TEXT = 4000            # longer `pts` values are cut before parsing
PTS_PARAM = Param("pts", "Points (x₁:x₂:class, …)", "points", "", widget="text",
                  help="Your own training points: x₁:x₂:class triples joined by commas, class 0 or 1, "
                       f"|x| ≤ {POINT_RANGE:g}, at most {POINT_LIMIT}.")
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
    dropped: not three numbers with label 0 or 1, outside the range, or beyond the limit."""
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
            if c not in (0.0, 1.0) or not (math.isfinite(x1) and math.isfinite(x2)):
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
                       f"with class 0 or 1 ({_first(bad)})")
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
        return (f"All {len(points)} points are class {points[0][2]}: a classifier needs both classes. Add a "
                f"point of class {1 - points[0][2]}.")
    return None


def apply_fix(cfg: TrainConfig, fix: str) -> TrainConfig:
    """The config with one named fix applied (the /vanishing comparison and the fix buttons)."""
    changes = {"relu": dict(act="relu"), "he": dict(init="kaiming"), "xavier": dict(init="xavier"),
               "batchnorm": dict(norm="batch"), "layernorm": dict(norm="layer"),
               "residual": dict(residual=True), "lower_lr": dict(lr=max(cfg.lr / 10, 1e-4)),
               "clip": dict(clip=1.0)}[fix]
    return replace(cfg, **changes)


FIX_LABELS = {"relu": "switch to ReLU", "he": "He (kaiming) init", "xavier": "Xavier init",
              "batchnorm": "add BatchNorm", "layernorm": "add LayerNorm",
              "residual": "add residual connections", "lower_lr": "learning rate ÷ 10",
              "clip": "clip gradient norm at 1"}


def next_guess(prev: TrainConfig, cur: TrainConfig) -> TrainConfig | None:
    """The run a learner who just moved one number from `prev` to `cur` most likely asks for next:
    the same control moved once more by the same amount (a slider's arrow key, the next seed).

    None when no control or more than one changed, when the change was not a number, or when the
    guess leaves the control's range."""
    if prev.pts != cur.pts:
        return None
    changed = [p for p in TRAIN_PARAMS if getattr(prev, p.key) != getattr(cur, p.key)]
    if len(changed) != 1 or changed[0].kind not in ("int", "float"):
        return None
    p = changed[0]
    a, b = getattr(prev, p.key), getattr(cur, p.key)
    guess = b + (b - a) if p.kind == "int" else round(b + (b - a), 10)
    return replace(cur, **{p.key: guess}) if p.lo <= guess <= p.hi else None
