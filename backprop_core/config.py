"""The URL schema: every user-facing control, its URL key, type, default, bounds or choices and help,
in one place. The dashboard builds its widgets and URL binding from it; the core validates with it.

Training controls are the fields of TrainConfig: each field declared with `control(...)` is a
control whose URL key is the field's name, so a new control is one line here (its widget, its URL
binding, its validation and the generated scripts follow).

`parse(params, raw)` never raises: it turns whatever a URL or a widget carried into valid values
plus plain-language notices of what it ignored, clamped or rounded. This module imports no torch.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from typing import Any

from backprop_core.activations import ALL_ACTIVATIONS, HAND_ACTIVATIONS
from backprop_core.bugs import BUGS
from backprop_core.fixes import FIXES
from backprop_core.notices import num, shown
from backprop_core.points import POINT_LIMIT, POINT_RANGE, parse_points, parse_probe, points_text
from backprop_core.presets import PAGE_PRESET, PRESETS
from backprop_core.tasks import (
    BINARY_DATASETS,
    CLASSES_RANGE,
    MULTICLASS_DATASETS,
    REGRESSION_DATASETS,
    Task,
    task_for,
)

# The choices and ranges of the network and data controls (models.py and data.py read them here)
GENERATED_DATASETS = BINARY_DATASETS + MULTICLASS_DATASETS + REGRESSION_DATASETS
DATASETS = GENERATED_DATASETS + ("custom",)       # custom: the learner's own points, in the URL key `pts`
N_RANGE = (20, 5000)
INITS = ("default", "xavier", "kaiming", "small", "large")
NORMS = ("none", "batch", "layer")
DEPTH_RANGE = (1, 64)
WIDTH_RANGE = (2, 256)
OPTIMIZERS = ("sgd", "momentum", "adam")

MAX_RAW_LENGTH = 64           # longer URL values are rejected before parsing
STREAMLIT_KEYS = frozenset({"embed", "embed_options"})


@dataclass(frozen=True)
class Param:
    """One control. kind: "int" | "float" | "choice" | "bool" | "points" | "probe".

    Every int control is a slider: Streamlit 1.67's URL binding of an int number_input raises
    OverflowError on 'inf' or '1e999' (found by tests/test_hostile_urls.py). A float control is a
    number box unless `slider`."""
    key: str
    label: str
    kind: str
    default: Any
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    help: str = ""
    step: float | None = None
    slider: bool = False

    def clamp(self, v):
        return min(max(v, self.lo), self.hi)

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        if self.kind == "bool":
            return "true or false"
        return f"{num(self.lo)}..{num(self.hi)}"


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
    Param("act", "activation φ", "choice", "relu", choices=HAND_ACTIVATIONS, help="Hidden activation."),
)

WALK_STEPS = 15                      # 7 forward (z1 x2, h x2, z2, y_pred, L), then 8 chain-rule factors
STEP_PARAM = Param("step", "Step", "int", 0, 0, WALK_STEPS, step=1,
                   help="Walk through backprop: the forward pass node by node, the loss, then the backward "
                        "pass one chain-rule factor at a time. 0 is before the walk.")

AUTOGRAD_PARAMS: tuple[Param, ...] = (
    Param("dtype", "Precision", "choice", "float64", choices=("float64", "float32"),
          help="float64 keeps ~16 digits, float32 ~7: watch the errors grow."),
    Param("deep_depth", "Depth (deep mode)", "int", 4, 1, 16, step=1,
          help="Hidden layers of the model checked in deep mode."),
    Param("deep_width", "Width (deep mode)", "int", 8, 4, 64, step=1,
          help="Units per hidden layer (at least 4: LayerNorm over 2 units outputs ±1 whatever its "
               "input, so no gradient flows through it and only rounding is left to compare)."),
    Param("deep_act", "Activation (deep mode)", "choice", "tanh", choices=ALL_ACTIVATIONS),
    Param("deep_norm", "Normalisation (deep mode)", "choice", "none", choices=NORMS),
    Param("deep_res", "Residual (deep mode)", "bool", False),
    Param("bug", "Inject a mistake", "choice", "none", choices=("none",) + BUGS,
          help="A classic backprop bug, planted in the manual backward pass."),
    Param("bug_layer", "…at hidden layer", "int", 2, 1, 16, step=1),
)


def hand_inputs(v: Mapping[str, Any]):
    """(x, W1, W2, y, activation) in hand.two_layer's layout from validated values."""
    return ([v["x1"], v["x2"]], [[v["w1_11"], v["w1_12"]], [v["w1_21"], v["w1_22"]]],
            [[v["w2_1"], v["w2_2"]]], v["y"], v["act"])


# ---------------------------------------------------------------- training pages
def control(label: str, default: Any, lo: float | None = None, hi: float | None = None, *,
            choices: tuple = (), help: str = "", step: float | None = None, slider: bool = False):
    """A TrainConfig field that is a control: its URL key is the field's name (TRAIN_PARAMS)."""
    return field(default=default, metadata={"control": dict(label=label, default=default, lo=lo, hi=hi,
                                                            choices=choices, help=help, step=step, slider=slider)})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run; hashable, so it can key a cache. The fields made
    with `control` are the training pages' controls, in the sidebar's order."""
    depth: int = control("Depth", 1, *DEPTH_RANGE, help="Number of hidden layers.", step=1)
    width: int = control("Width", 10, *WIDTH_RANGE, help="Units per hidden layer.", step=1)
    act: str = control("Activation", "relu", choices=ALL_ACTIVATIONS, help="Hidden activation φ.")
    init: str = control("Initialisation", "default", choices=INITS,
                        help="default = PyTorch's; xavier = Glorot uniform; kaiming = He normal; "
                             "small = N(0, 0.01²); large = N(0, 1).")
    norm: str = control("Normalisation", "none", choices=NORMS,
                        help="BatchNorm or LayerNorm after each hidden Linear.")
    residual: bool = control("Residual connections", False,
                             help="Each hidden layer after the first adds its input: a + φ(...).")
    opt: str = control("Optimiser", "adam", choices=OPTIMIZERS, help="sgd; momentum = SGD with momentum 0.9; adam.")
    lr: float = control("Learning rate", 0.1, 1e-4, 100.0, step=0.01,
                        help="Step size. Too large and training diverges.")
    epochs: int = control("Epochs", 60, 1, 500, step=1, help="Passes over the training set.")
    seed: int = control("Seed", 11, 0, 9999, step=1, help="Seeds the weights and batch order.")
    data: str = control("Dataset", "linear", choices=DATASETS,
                        help="linear is the seed's: label = x₁ + x₂ > 0. custom: your own points (click the "
                             "decision surface, or upload a CSV). plane and gauss: regression (predict a number).")
    classes: int = control("Classes", 2, *CLASSES_RANGE, step=1,
                           help="How many classes spirals and blobs have (softmax over K outputs); the other "
                                "datasets have a fixed task.")
    n: int = control("Training points", 200, *N_RANGE, step=10,
                     help="Training points (a quarter as many test points, at least 20).")
    noise: float = control("Noise", 0.0, 0.0, 1.0, step=0.05, slider=True, help="Gaussian jitter added to the points.")
    batch: int = control("Batch size", 0, 0, 5000, step=1, help="0 = full batch (one step per epoch).")
    wd: float = control("Weight decay", 0.0, 0.0, 1.0, step=0.0001, help="L2 penalty.")
    clip: float = control("Gradient clipping", 0.0, 0.0, 100.0, step=0.1, help="Max global gradient norm; 0 = off.")
    dseed: int = control("Data seed", 11, 0, 9999, step=1, help="Seeds the dataset.")
    pts: str = ""                 # data == "custom": the points, canonical `x1:x2:c,...` (points.py)
    snapshots: int = 11           # decision surfaces stored for the epoch scrubber
    precision: str = "float64"    # the arithmetic of training; "float32" is the rounding check's twin

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> TrainConfig:
        """A config from validated control values. Custom data trains on all its points: n is their
        number, and points are only kept when the dataset is custom."""
        names = {f.name for f in fields(cls)}
        cfg = cls(**{k: v for k, v in values.items() if k in names})
        if cfg.data not in MULTICLASS_DATASETS and cfg.classes != 2:
            cfg = replace(cfg, classes=2)                     # a fixed task: one cache key per run
        if cfg.data != "custom":
            return replace(cfg, pts="") if cfg.pts else cfg
        return replace(cfg, n=len(parse_points(cfg.pts)[0]), noise=0.0, dseed=0)

    @classmethod
    def preset(cls, name: str, **changes) -> TrainConfig:
        values, _ = parse(TRAIN_PARAMS, PRESETS[name] | changes)
        return cls.from_values(values)

    def on_page(self, page: str) -> TrainConfig:
        """The run as `page` trains it: with the parameter snapshots that page draws (PAGE_SNAPSHOTS)."""
        return replace(self, snapshots=PAGE_SNAPSHOTS[page])

    def validated(self) -> tuple[TrainConfig, list[str]]:
        values, notices = parse(TRAIN_PARAMS, asdict(self), ignore_unknown=True)
        return replace(self, **values), notices

    def query(self, params: tuple[Param, ...] | None = None) -> dict[str, str]:
        """URL parameters that differ from `params`' defaults (for shareable links)."""
        out = {}
        for p in params or TRAIN_PARAMS:
            v = getattr(self, p.key)
            if v != p.default:
                out[p.key] = str(v).lower() if isinstance(v, bool) else num(v)
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
                  f"{self.data} data{', ' + self.task.words() if self.task.words() else ''}, n = {self.n}, "
                  f"seed {self.seed}")

    @cached_property
    def task(self) -> Task:
        """What the network learns: the classes of the data, or a number (tasks.py)."""
        labels = [c for _, _, c in parse_points(self.pts)[0]] if self.custom else ()
        return task_for(self.data, self.classes, labels)

    @property
    def custom(self) -> bool:
        return self.data == "custom"

    @property
    def batch_size(self) -> int:
        return max(1, self.n if self.batch <= 0 else min(self.batch, self.n))


_KINDS = {"int": "int", "float": "float", "bool": "bool", "str": "choice"}
TRAIN_PARAMS: tuple[Param, ...] = tuple(Param(f.name, kind=_KINDS[str(f.type)], **f.metadata["control"])
                                        for f in fields(TrainConfig) if "control" in f.metadata)

SWEEP_PARAMS: tuple[Param, ...] = (
    Param("sweep_depth", "Sweep up to depth", "int", 20, 2, 30, step=1, help="Depths 1..this, at initialisation."),
    Param("sweep_init", "Sweep initialisation", "choice", "default", choices=INITS),
    Param("sweep_seeds", "Seeds per point", "int", 3, 1, 5, step=1),
)

FIX_PARAM = Param("fix", "Fix to compare", "choice", "relu", choices=FIXES,
                  help="The one change applied to the run on the right.")
RANK_PARAM = Param("rank", "Try every fix and rank them", "bool", False,
                   help="Train the chosen run once with each fix (in parallel) and rank the results.")
NET_PARAM = Param("net", "Show the network", "bool", False,
                  help="Draw the network unit by unit at the scrubbed epoch, and probe one point's pass through it "
                       "(a link with a probe shows it too).")
PROBE_PARAM = Param("probe", "Probe a point (x₁:x₂:label)", "probe", "",
                    help="One point and its label, e.g. 0.5:-1:1. The drawing then shows its own forward and "
                         f"backward pass at the scrubbed epoch. |x| ≤ {POINT_RANGE:g}; empty = off.")


def probe_of(raw: Any, task: Task) -> tuple[tuple[float, float, float] | None, str | None]:
    """A `probe` value as (x1, x2, label) for this task, or None with why it is not usable (not a point,
    outside the plane, or a label that is not one of the task's classes); (None, None) when empty."""
    text, note = parse_one(PROBE_PARAM, raw)
    if note or not text:
        return None, note
    x1, x2, label = (float(v) for v in text.split(":"))
    if not task.regression and (label != int(label) or not 0 <= label < task.classes):
        return None, (f"probe: the label {label:g} is not a class of this task (0 to {task.classes - 1}); "
                      "no point is probed")
    return (x1, x2, label), None


SUB_STEPS = ("forward", "loss", "backward", "update")
SUB_PARAM = Param("sub", "Step of the pass", "choice", "forward", choices=SUB_STEPS,
                  help="forward: every unit's z and h; loss: the output and the point's loss; backward: dL/dz "
                       "and every weight's dL/dw for this point; update: the step the optimiser takes.")
PTS_PARAM = Param("pts", "Points (x₁:x₂:class, …)", "points", "",
                  help="Your own training points: x₁:x₂:class triples joined by commas, class 0 to 4, "
                       f"|x| ≤ {POINT_RANGE:g}, at most {POINT_LIMIT}.")


def with_defaults(params: tuple[Param, ...], preset: Mapping[str, Any]) -> tuple[Param, ...]:
    """The same params with defaults taken from a preset (e.g. /vanishing = "seed demo 4")."""
    return tuple(replace(p, default=preset.get(p.key, p.default)) for p in params)


# The parameter snapshots (and decision surfaces) a page's runs keep for an epoch scrubber: /flow draws
# the surface at 11 epochs; /vanishing draws none, so its runs keep the fewest the recorder allows (the
# first and last epoch), and save the batched forward pass over the plane at the other 9 (about a
# quarter of a run's time there). A rounding twin keeps the fewest too: only its readout is compared.
PAGE_SNAPSHOTS = {"flow": 11, "vanishing": 2}
FEWEST_SNAPSHOTS = 2


def page_train_params(page: str) -> tuple[Param, ...]:
    """TRAIN_PARAMS with this page's defaults (/flow: seed demo 3, /vanishing: seed demo 4)."""
    return with_defaults(TRAIN_PARAMS, PRESETS[PAGE_PRESET[page]])


# ---------------------------------------------------------------- parsing and validation
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
            return p.default, f"{p.key}: empty; using the default {num(p.default)}"
        value, note = parse_one(p, raw[-1])
        extra = f"{p.key}: given {len(raw)} times; using the last"
        return value, (extra + (f" ({note})" if note else ""))
    if p.kind == "points":
        points, notices = parse_points(raw)
        return points_text(points), ("; ".join(notices) or None)
    if p.kind == "probe":
        return parse_probe(raw)
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
        return p.default, f"{p.key}: {shown(raw)} is not a number; using the default {num(p.default)}"
    if not math.isfinite(v):
        return p.default, f"{p.key}: {shown(raw)} is not a finite number; using the default {num(p.default)}"
    note = None
    if p.kind == "int" and v != int(v):  # truncate toward zero, as Streamlit's own URL binding does
        note = f"{p.key}: {num(v)} is not a whole number; using {int(v)}"
    if p.kind == "int":
        v = int(v)
    clamped = p.clamp(v)
    if clamped != v:
        note = f"{p.key} must be {p.describe()}; got {num(v)}, using {num(clamped)}"
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

