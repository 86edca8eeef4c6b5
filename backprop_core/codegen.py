"""Code for this view: a standalone PyTorch script (torch and the standard library only) that
reproduces the numbers a page shows. `script(page, values) -> str`.

The script's last stdout line is one JSON object:
    hand, autograd   {"loss", "dW1", "dW2"}
    flow             {"final_train_loss", "final_train_acc", "final_r2", "grad_mean_abs_epoch0": [layer 1..D, out],
                      "probe": [{"layer", "unit", "z", "h", "dL/dz"}, ...] or null}
                     (final_train_acc is null for regression, final_r2 for classes)
    vanishing        {"chosen": {...flow's keys}, "fixed": {...}}

What a script reproduces (it says so in its docstring): on the same machine and software, every
number bit for bit (tests/test_codegen.py); on another machine, the digits the page shows, except for
runs the page marks "Sensitive to rounding" (dashboard/computing.py).

It does what the page does, in the same order, so the numbers are the same bit for bit: the seeded
draws (draws.py), the data generators, the initialisation, the hand-written backward pass and torch.optim's Adam or SGD
(which the dashboard's own flat optimiser matches exactly). The data generators, the activations
and the model classes are copied from this package's source files when the script is built (read
as text, never imported, so building a script needs no torch). tests/test_codegen.py runs the
scripts and compares.
"""
from __future__ import annotations

import ast
import pathlib
import pprint
from collections.abc import Mapping
from functools import cache
from typing import Any

from backprop_core.activations import ACTIVATIONS
from backprop_core.config import (
    AUTOGRAD_PARAMS,
    FIX_PARAM,
    HAND_PARAMS,
    TRAIN_PARAMS,
    TrainConfig,
    hand_inputs,
    page_train_params,
    parse,
    probe_of,
)
from backprop_core.fixes import apply_fix
from backprop_core.tasks import GAUSS_WIDTH

HERE = pathlib.Path(__file__).resolve().parent
TORCH_VERSION = "2.13.0"          # requirements.txt pins it; a test keeps the two in step


@cache
def _source(module: str) -> tuple[str, dict[str, str]]:
    text = (HERE / f"{module}.py").read_text()
    tree = ast.parse(text)
    return text, {node.name: ast.get_source_segment(text, node) for node in tree.body
                  if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def _defs(module: str, *names: str) -> str:
    """The source of top-level functions or classes of a module of this package, as text."""
    found = _source(module)[1]
    return "\n\n\n".join(found[n] for n in names)


def _values(params, values: Mapping[str, Any]) -> dict[str, Any]:
    return parse(params, {k: v for k, v in values.items() if k in {p.key for p in params}}, ignore_unknown=True)[0]


def script(page: str, values: Mapping[str, Any]) -> str:
    """The script for `page` with that page's validated control values (missing keys take the
    defaults; /vanishing's include `fix`)."""
    if page in ("hand", "autograd"):
        v = _values(HAND_PARAMS + AUTOGRAD_PARAMS, values)
        return _hand_script(page, v)
    v = _values(page_train_params(page), values)
    cfg = TrainConfig.from_values(v | {"pts": values.get("pts", "")})
    if page == "flow":
        return _train_script(page, {"run": cfg}, probed=_probe_of(cfg, values))
    fix = _values((FIX_PARAM,), values)["fix"]
    return _train_script(page, {"chosen": cfg, "fixed": apply_fix(cfg, fix)}, fix)


def _probe_of(cfg: TrainConfig, values: Mapping[str, Any]) -> tuple[tuple[float, float, float], int] | None:
    """((x1, x2, label), epoch) of the view's probe (URL keys `probe` and `epoch`), when it has one the
    page can show: a valid point, a label of the task, no BatchNorm; the epoch defaults to the last."""
    point, _ = probe_of(values.get("probe", ""), cfg.task)
    if point is None or cfg.norm == "batch":
        return None
    epoch = values.get("epoch")
    given = isinstance(epoch, (int, float)) or (isinstance(epoch, str) and epoch.isdigit())
    epoch = int(epoch) if given else cfg.epochs
    return point, min(max(epoch, 0), cfg.epochs)


# ---------------------------------------------------------------- the seed's two-layer net
def _hand_script(page: str, v: dict[str, Any]) -> str:
    x, W1, W2, y, act = hand_inputs(v)
    dtype = v["dtype"]
    title = "Gradients by hand" if page == "hand" else "Hand vs autograd vs finite differences"
    phi, dphi = f"{act}", f"{act}_grad"
    return f'''"""backprop-lab, {title}: the seed's two-layer network on one sample.

z1 = x @ W1 (W1[i][j] joins input i to hidden unit j), h = {act}(z1), z2 = h @ W2.T,
y_pred = sigmoid(z2), L = binary cross-entropy. The chain rule in plain Python floats, then the
same gradients from PyTorch autograd (in {dtype}) and from central finite differences.
Run it with: python {"backprop_lab_" + page}.py
"""
import json
import math

import torch
import torch.nn.functional as F

x = {x!r}
W1 = {W1!r}
W2 = {W2!r}
y = {float(y)!r}
LEAKY_SLOPE = 0.01


{_defs("activations", "sigmoid", *(n for n in (phi, dphi) if n != "sigmoid"))}


def _F():
    return F


{_defs("activations", f"{act}_t")}


def bce_from_logit(z, y):
    """-[y log s(z) + (1 - y) log(1 - s(z))], computed from the logit so it never overflows."""
    return max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))


# forward
z1 = [x[0] * W1[0][j] + x[1] * W1[1][j] for j in range(2)]
h = [{phi}(z) for z in z1]
z2 = h[0] * W2[0][0] + h[1] * W2[0][1]
y_pred = sigmoid(z2)
loss = bce_from_logit(z2, y)

# backward, one chain-rule factor at a time
dL_dz2 = y_pred - y                                   # sigmoid and cross-entropy cancel into this
dL_dW2 = [[dL_dz2 * h[0], dL_dz2 * h[1]]]
dL_dh = [dL_dz2 * W2[0][j] for j in range(2)]
dh_dz1 = [{dphi}(z) for z in z1]
dL_dz1 = [dL_dh[j] * dh_dz1[j] for j in range(2)]
dL_dW1 = [[x[i] * dL_dz1[j] for j in range(2)] for i in range(2)]

# the same gradients from autograd, in {dtype}
dt = torch.{dtype}
W1_t = torch.tensor(W1, dtype=dt, requires_grad=True)
W2_t = torch.tensor(W2, dtype=dt, requires_grad=True)


def loss_of(W1_t, W2_t, dt):
    z2_t = ({act}_t(torch.tensor([x], dtype=dt) @ W1_t) @ W2_t.T).squeeze()
    return F.binary_cross_entropy_with_logits(z2_t, torch.tensor(y, dtype=dt))


g1, g2 = torch.autograd.grad(loss_of(W1_t, W2_t, dt), [W1_t, W2_t])

# and from central finite differences, always in float64: (L(w + eps) - L(w - eps)) / 2 eps
eps = 1e-6
W64 = {{"W1": torch.tensor(W1, dtype=torch.float64), "W2": torch.tensor(W2, dtype=torch.float64)}}


def finite_difference(name, i, j):
    with torch.no_grad():
        w = W64[name][i, j].item()
        W64[name][i, j] = w + eps
        plus = loss_of(W64["W1"], W64["W2"], torch.float64).item()
        W64[name][i, j] = w - eps
        minus = loss_of(W64["W1"], W64["W2"], torch.float64).item()
        W64[name][i, j] = w
    return (plus - minus) / (2 * eps)


print(f"loss = {{loss:.6f}}")
print(f"{{'weight':10s}} {{'hand':>14s}} {{'autograd':>14s}} {{'finite diff':>14s}}")
for name, hand, auto in (("W1", dL_dW1, g1), ("W2", dL_dW2, g2)):
    for i in range(len(hand)):
        for j in range(2):
            label = f"{{name}}[{{i + 1}}][{{j + 1}}]"
            fd = finite_difference(name, i, j)
            print(f"{{label:10s}} {{hand[i][j]:14.8f}} {{auto[i, j].item():14.8f}} {{fd:14.8f}}")
print(json.dumps({{"loss": loss, "dW1": dL_dW1, "dW2": dL_dW2}}))
'''


# ---------------------------------------------------------------- training runs
def _data_block(cfgs: list[TrainConfig]) -> str:
    names = sorted({c.data for c in cfgs if not c.custom})
    parts = []
    if "gauss" in names:
        parts.append(f"GAUSS_WIDTH = {GAUSS_WIDTH!r}")
    if names:
        needs_balanced = any(n in ("circles", "moons", "spirals", "blobs") for n in names)
        makers = [f"_{n}" for n in names]
        parts.append(_defs("data", *(["_balanced_labels"] if needs_balanced else []), *makers))
        parts.append("MAKERS = {" + ", ".join(f'"{n}": _{n}' for n in names) + "}")
    return "\n\n\n".join(parts)


def _train_script(page: str, cfgs: dict[str, TrainConfig], fix: str | None = None,
                  probed: tuple[tuple[float, float, float], int] | None = None) -> str:
    acts = sorted({c.act for c in cfgs.values()})
    norms = {c.norm for c in cfgs.values()}
    any_custom = any(c.custom for c in cfgs.values())
    act_defs = _defs("activations", *[f for a in acts for f in (f"{a}_t", f"{a}_grad_t")])
    configs = {name: {p.key: getattr(c, p.key) for p in TRAIN_PARAMS} | {"outputs": c.task.out_dim}
               | ({"probe": list(probed[0]), "probe_epoch": probed[1]} if probed and name == "run" else
                  {"probe": None, "probe_epoch": None})
               for name, c in cfgs.items()}
    gains = {a: ACTIVATIONS[a].gain for a in sorted(set(acts) | {"linear"})}
    if any_custom:
        from backprop_core.points import parse_points
        points = parse_points(next(c.pts for c in cfgs.values() if c.custom))[0]
    title = "Gradient flow" if page == "flow" else f"Vanishing-gradient debugger (fix: {fix})"
    runs = "\n".join(f"    results[{name!r}] = train(CONFIGS[{name!r}])" for name in cfgs)
    result = 'print(json.dumps(results["run"]))' if page == "flow" else "print(json.dumps(results))"
    norm_code = _NORM_CODE if norms != {"none"} else ""
    return f'''"""backprop-lab, {title}: train the network this view shows, with the backward pass
written out by hand (no autograd), and print what the page reports.

For every configuration below: seeded data and weights, full-batch or mini-batch steps of
torch.optim in float64, the per-layer mean |dL/dW| at the first step, and the final training loss
and accuracy. The last line is one JSON object.
Run it with: python {"backprop_lab_" + page}.py

What it reproduces. With torch {TORCH_VERSION} on the machine that serves the page: every number, bit
for bit. Elsewhere (another CPU, another torch): float64 rounding differs in the last of its 16
digits, and the digits the page shows come out the same, unless the page marks the run "Sensitive
to rounding" (such a run amplifies rounding differences until they show).
"""
import json
import math

import torch
import torch.nn.functional as F
from torch import nn

torch.set_num_threads(1)
LEAKY_SLOPE = 0.01
INITS = ("default", "xavier", "kaiming", "small", "large")
CONFIGS = {pprint.pformat(configs, sort_dicts=False, width=110)}
{f"POINTS = {points!r}  # the learner's own points: x1, x2, class" if any_custom else ""}


# ---- random draws that every CPU makes alike (uniform bits from torch.rand, float64 transforms)
{_defs("draws", "uniform", "normal", "_box_muller")}


# ---- data: the same seeded generators as the page
{_data_block(list(cfgs.values()))}


def dataset(c):
    """(X_train, y_train): n points of the named set; custom data is the learner's points."""
    if c["data"] == "custom":
        X = torch.tensor([[x1, x2] for x1, x2, _ in POINTS], dtype=torch.float32)
        return X, torch.tensor([k for _, _, k in POINTS], dtype=torch.long)
    g = torch.Generator().manual_seed(c["dseed"])
    maker = MAKERS[c["data"]]
    X, y = maker(c["n"], c["noise"], g, k=c["classes"]) if c["classes"] != 2 else maker(c["n"], c["noise"], g)
    return X.float(), (y.float() if y.is_floating_point() else y)   # regression targets: float32, as the points


# ---- activations: phi and phi' side by side
def _F():
    return F


{act_defs}


ACTIVATIONS = {{{", ".join(f'"{a}": ({a}_t, {a}_grad_t)' for a in acts)}}}


def torch_fn(name):
    return ACTIVATIONS[name][0]


# ---- the model: Linear -> [norm] -> phi [+ residual] per hidden layer, then a Linear to the outputs
#      (one logit per class, or the one predicted value of a regression)
GAINS = {gains!r}  # Xavier/He gain of each activation used


def gain(activation):
    return GAINS[activation]


{_defs("models", "weight_distribution", "Block", "MLP", "draw_weights")}


def build_mlp(c):
    """Seeded weights, drawn in float32 as the page draws them (the same on every CPU); training then
    runs in float64 (16 digits), as the page's does."""
    model = MLP(c["depth"], c["width"], c["act"], c["norm"], c["residual"], 2, c["outputs"])
    draw_weights(model, c["init"], c["seed"])
    return model.to(torch.float64)
{norm_code}

# ---- the loss and the error it sends back: softmax + cross-entropy, or mean squared error
{_defs("losses", "cross_entropy", "squared_error", "loss_and_error")}


# ---- the backward pass by hand
def forward(model, X, update_running=False):
    """Train-mode forward: per layer z = a W^T + b, u = norm(z), h = phi(u), a = a + h or h."""
    caches, a = [], X
    for block in model.hidden:
        z = F.linear(a, block.linear.weight, block.linear.bias)
        u, zhat, inv_std = (norm_forward(block, z, update_running) if block.norm is not None else (z, None, None))
        h = torch_fn(block.activation)(u)
        caches.append((a, z, u, h, zhat, inv_std))
        a = a + h if block.residual else h
    return F.linear(a, model.out.weight, model.out.bias), caches


def backward(model, X, y, update_running=False):
    """Loss, dL/dparam for every parameter, and the signals dL/dz of every layer (then dL/dlogits)."""
    logits, caches = forward(model, X, update_running)
    loss, dlogits = loss_and_error(logits, y)
    a_in, z, u, h, zhat, inv_std = caches[-1]
    a_top = a_in + h if model.hidden[-1].residual else h
    grads = {{"out.weight": dlogits.T @ a_top, "out.bias": dlogits.sum(0)}}
    da, signals = dlogits @ model.out.weight, [dlogits]
    for i in range(len(model.hidden) - 1, -1, -1):
        block, (a_in, z, u, h, zhat, inv_std) = model.hidden[i], caches[i]
        if block.activation == "relu":                 # da * 1[u > 0] in one kernel
            du = torch.ops.aten.threshold_backward(da, u, 0)
        else:
            du = da * ACTIVATIONS[block.activation][1](u, h)
        dz = norm_backward(block, du, zhat, inv_std, grads, f"hidden.{{i}}") if block.norm is not None else du
        grads[f"hidden.{{i}}.linear.weight"] = dz.T @ a_in
        grads[f"hidden.{{i}}.linear.bias"] = dz.sum(0)
        signals.append(dz)
        da_in = dz @ block.linear.weight
        da = da_in + da if block.residual else da_in
    signals.reverse()
    return loss, logits, grads, signals


@torch.no_grad()
def predict(model, X):
    """Eval-mode logits: BatchNorm uses its running statistics."""
    a = X
    for block in model.hidden:
        z = F.linear(a, block.linear.weight, block.linear.bias)
        if isinstance(block.norm, nn.BatchNorm1d):
            n = block.norm
            z = (z - n.running_mean) * torch.rsqrt(n.running_var + n.eps) * n.weight + n.bias
        elif block.norm is not None:
            z = norm_forward(block, z, False)[0]
        h = torch_fn(block.activation)(z)
        a = a + h if block.residual else h
    return F.linear(a, model.out.weight, model.out.bias)


{_defs("losses", "loss_and_score")}


def loss_score(logits, y):
    return tuple(v.item() for v in loss_and_score(logits, y))


def probe(model, c):
    """The probed point's own pass at this moment of training (the page's table): per unit, layer
    1..D then "out", its z (Linear output), h (output: p or y_pred) and dL/dz for this point's loss."""
    x1, x2, label = c["probe"]
    X = torch.tensor([[x1, x2]], dtype=torch.float64)
    regression = c["outputs"] == 1                       # one output: a regression
    y = torch.tensor([label], dtype=torch.float64) if regression else torch.tensor([int(label)])
    loss, logits, grads, signals = backward(model, X, y)
    caches = forward(model, X)[1]
    rows = [{{"layer": str(i + 1), "unit": j + 1, "z": z[0, j].item(), "h": h[0, j].item(), "dL/dz": dz[0, j].item()}}
            for i, ((a_in, z, u, h, zhat, inv_std), dz) in enumerate(zip(caches, signals[:-1]))
            for j in range(z.shape[1])]
    shown = logits[0] if y.is_floating_point() else torch.softmax(logits[0], 0)
    rows += [{{"layer": "out", "unit": j + 1, "z": logits[0, j].item(), "h": shown[j].item(),
              "dL/dz": signals[-1][0, j].item()}} for j in range(logits.shape[1])]
    print(f"probe {{c['probe']}} at epoch {{c['probe_epoch']}}: loss {{loss.item():.6g}}")
    return rows


# ---- training, as the page does it
@torch.no_grad()
def train(c):
    X, y = dataset(c)
    X = X.to(torch.float64)                            # the points are drawn in float32, trained on in float64
    y = y.to(torch.float64) if y.is_floating_point() else y
    n = X.shape[0]
    model = build_mlp(c)
    params = dict(model.named_parameters())
    if c["opt"] == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=c["lr"], weight_decay=c["wd"])
    else:
        opt = torch.optim.SGD(model.parameters(), lr=c["lr"], weight_decay=c["wd"],
                              momentum=0.9 if c["opt"] == "momentum" else 0.0)
    bs = n if c["batch"] <= 0 else min(c["batch"], n)
    full_batch = bs >= n
    eval_mode_train = not full_batch or c["norm"] == "batch"
    weight_names = [f"hidden.{{i}}.linear.weight" for i in range(c["depth"])] + ["out.weight"]
    gen = torch.Generator().manual_seed(c["seed"])
    metrics, first_grads, diverged, probed = [], None, False, None
    for epoch in range(c["epochs"]):
        if c["probe"] is not None and epoch == c["probe_epoch"]:
            probed = probe(model, c)
        order = torch.randperm(n, generator=gen) if not full_batch else None
        for step, lo in enumerate(range(0, n, bs)):
            idx = order[lo:lo + bs] if order is not None else None
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            loss, logits, grads, signals = backward(model, xb, yb, update_running=True)
            if not math.isfinite(loss.item()):
                diverged = True
                break
            if step == 0:
                # the model after `epoch` epochs (train loss and score), and this step's gradients
                metrics.append(loss_score(predict(model, X), y) if eval_mode_train else
                               (loss.item(), loss_score(logits, y)[1]))
                g = [grads[name] for name in weight_names]
                if epoch == 0:
                    first_grads = [t.abs().mean().item() for t in g]
                before = [params[name].clone() for name in weight_names]
                stats = [torch.stack([t.abs().mean(), torch.linalg.vector_norm(t), t.abs().amax()]) for t in g]
                stats += [torch.linalg.vector_norm(s) for s in signals] + [torch.linalg.vector_norm(w) for w in before]
            for name, p in params.items():
                p.grad = grads[name]
            if c["clip"] > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), c["clip"])
            opt.step()
            if step == 0:      # the update-to-weight ratio; a non-finite statistic ends the run
                stats += [torch.linalg.vector_norm(params[name] - b) / torch.linalg.vector_norm(b).clamp_min(1e-30)
                          for name, b in zip(weight_names, before)]
                if not all(bool(torch.isfinite(s).all()) for s in stats):
                    diverged = True
                    break
        if diverged:
            break
    if not diverged:
        metrics.append(loss_score(predict(model, X), y))
        if c["probe"] is not None and c["probe_epoch"] == c["epochs"]:
            probed = probe(model, c)
    finite = [m for m in metrics if math.isfinite(m[0])]
    final_loss, final_score = finite[-1] if finite else (float("nan"), float("nan"))
    status = "diverged" if diverged else "trained"
    regression = y.is_floating_point()
    score = f"R² {{final_score:.4f}}" if regression else f"accuracy {{final_score:.1%}}"
    print(f"{{c['depth']}} x {{c['width']}} {{c['act']}}: {{status}}; final training loss {{final_loss:.4f}}, "
          f"{{score}}")
    return {{"final_train_loss": final_loss, "final_train_acc": None if regression else final_score,
            "final_r2": final_score if regression else None, "grad_mean_abs_epoch0": first_grads, "probe": probed}}


if __name__ == "__main__":
    results = {{}}
{runs}
    {result}
'''


_NORM_CODE = '''

def norm_forward(block, z, update_running):
    """BatchNorm (statistics over the batch) or LayerNorm (over the units); running statistics
    are updated in place as torch does."""
    norm, dim = block.norm, 0 if isinstance(block.norm, nn.BatchNorm1d) else 1
    mu = z.mean(dim, keepdim=True)
    var = z.var(dim, unbiased=False, keepdim=True)
    inv_std = torch.rsqrt(var + norm.eps)
    zhat = (z - mu) * inv_std
    if dim == 0 and update_running and norm.track_running_stats:
        m, n = norm.momentum, z.shape[0]
        norm.running_mean.mul_(1 - m).add_(m * mu.squeeze(0))
        norm.running_var.mul_(1 - m).add_(m * var.squeeze(0) * n / max(n - 1, 1))
        norm.num_batches_tracked.add_(1)
    return zhat * norm.weight + norm.bias, zhat, inv_std


def norm_backward(block, du, zhat, inv_std, grads, prefix):
    """dz = inv_std * (g - mean(g) - zhat * mean(g * zhat)), g = du * gamma, over the normalised axis."""
    dim = 0 if isinstance(block.norm, nn.BatchNorm1d) else 1
    grads[f"{prefix}.norm.weight"] = (du * zhat).sum(0)
    grads[f"{prefix}.norm.bias"] = du.sum(0)
    g = du * block.norm.weight
    return inv_std * (g - g.mean(dim, keepdim=True) - zhat * (g * zhat).mean(dim, keepdim=True))
'''
