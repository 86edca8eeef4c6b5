"""The fixes for sick gradients, in one place: what each changes in a run, its name for a learner,
why it helps, and which ones usually help with each verdict (a rule of thumb, not a measurement:
/vanishing's "every fix, ranked" measures them on the learner's network). No import of config at run
time (config's URL schema lists FIXES), so it works on any frozen dataclass with these fields."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, TypeVar

Config = TypeVar("Config")              # a config.TrainConfig (not imported: config imports this module)

FIX_LABELS = {"relu": "switch to ReLU", "he": "He (kaiming) init", "xavier": "Xavier init",
              "batchnorm": "add BatchNorm", "layernorm": "add LayerNorm",
              "residual": "add residual connections", "lower_lr": "learning rate ÷ 10",
              "clip": "clip gradient norm at 1"}
FIXES = tuple(FIX_LABELS)

WHY = {
    "relu": "ReLU's slope is 1 for active units, so the signal is not shrunk at every layer.",
    "he": "He init sets weight variance to 2/fan_in, which keeps ReLU signals at a constant scale.",
    "xavier": "Xavier init balances forward and backward variance for the activation's gain.",
    "batchnorm": "BatchNorm re-centres each layer's inputs, keeping units out of flat zones.",
    "layernorm": "LayerNorm rescales each sample's activations, keeping units out of flat zones.",
    "residual": "Skip connections give the gradient a path that bypasses every activation.",
    "lower_lr": "Smaller steps keep weights, and therefore gradients, from blowing up.",
    "clip": "Clipping caps the gradient norm so a single step cannot throw the weights away.",
}

# the fixes that usually help with each verdict, the usual first choice first
FIX_ORDER = {
    "vanishing": ["relu", "he", "batchnorm", "residual", "layernorm", "xavier"],
    "saturated": ["relu", "batchnorm", "xavier", "lower_lr"],
    "exploding": ["lower_lr", "clip", "xavier", "batchnorm"],
    "diverged": ["lower_lr", "clip", "xavier", "batchnorm"],
    "dead units": ["lower_lr", "he", "batchnorm", "residual"],
    "not learned": ["lower_lr", "batchnorm", "residual"],
    "healthy": [],
}


def apply_fix(cfg: Config, fix: str) -> Config:
    """The config with one named fix applied (the /vanishing comparison and the fix buttons)."""
    changes = {"relu": dict(act="relu"), "he": dict(init="kaiming"), "xavier": dict(init="xavier"),
               "batchnorm": dict(norm="batch"), "layernorm": dict(norm="layer"),
               "residual": dict(residual=True), "lower_lr": dict(lr=max(cfg.lr / 10, 1e-4)),
               "clip": dict(clip=1.0)}[fix]
    return replace(cfg, **changes)


@dataclass(frozen=True)
class Fix:
    key: str               # one of FIXES (also the /vanishing `fix` URL value)
    label: str
    why: str
    config: Any            # the run's config.TrainConfig with this fix applied


def fixes_for(cfg: Config, verdict: str) -> list[Fix]:
    """The fixes that usually help with `verdict`, as configs, leaving out those the run already has."""
    out = []
    for key in FIX_ORDER[verdict]:
        fixed = apply_fix(cfg, key)
        if fixed != cfg:
            out.append(Fix(key, FIX_LABELS[key], WHY[key], fixed))
    return out
