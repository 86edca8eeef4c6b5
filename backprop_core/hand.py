"""The seed's two-layer net, differentiated by hand with plain Python floats.

    z1 = x @ W1          x: (2,), W1: (2, 2), W1[i][j] connects input i to hidden unit j
    h  = phi(z1)         (2,)
    z2 = h @ W2.T        W2: (1, 2)  -> scalar
    y_pred = sigmoid(z2)
    L  = BCE(y_pred, y)  computed from the logit z2, so it never overflows

No tensors and no autograd: every number is a float64 produced by the chain rule, and
`steps` records each factor so a page can show the derivation line by line.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from backprop_core import activations

Number = float
Vector = list[float]
Matrix = list[list[float]]


def fmt(v: float) -> str:
    """A number for learners checking arithmetic: 6 decimals below 10, at most 7 significant digits
    above (123.4568), and 4 significant digits in scientific notation when it is tiny or huge (so it
    never collapses to 0.000000)."""
    v = float(v) + 0.0  # folds -0.0 into 0.0
    if not math.isfinite(v):
        return r"\infty" if v > 0 else (r"-\infty" if v < 0 else "NaN")
    if v == 0:
        return f"{v:.6f}"
    if 1e-4 <= abs(v) < 1e6:
        for size in (abs(v), abs(v) * 10):                 # again if rounding reached the next power of ten
            text = f"{v:.{min(6, max(0, 6 - math.floor(math.log10(size))))}f}"
            if abs(float(text)) < 1e6 and len(text.replace("-", "").replace(".", "").lstrip("0")) <= 7:
                return text
    return f"{v:.4e}"


def _factor(v: float) -> str:
    """A number inside a product or sum: negatives in parentheses, so "2 × (−0.5)" never reads "2 × −0.5"."""
    return f"({fmt(v)})" if float(v) < 0 else fmt(v)


def _vec(v: Vector) -> str:
    return r"\begin{bmatrix}" + " & ".join(fmt(a) for a in v) + r"\end{bmatrix}"


def _mat(m: Matrix) -> str:
    return r"\begin{bmatrix}" + r"\\ ".join(" & ".join(fmt(a) for a in row) for row in m) + r"\end{bmatrix}"


def to_latex(value) -> str:
    """A scalar, vector or matrix value as LaTeX."""
    if isinstance(value, (int, float)):
        return fmt(value)
    if value and isinstance(value[0], list):
        return _mat(value)
    return _vec(value)


ANSWER_ATOL = 1e-3                   # answers near 0 count within this
ANSWER_SIG_FIGS = 3                  # otherwise within half a unit of this significant figure


def answer_allowance(expected: float) -> float:
    """How far an answer may be from `expected` and still count: half a unit in its third
    significant figure (-1.83 for -1.826959), and never less than ANSWER_ATOL."""
    if expected == 0 or not math.isfinite(expected):
        return ANSWER_ATOL
    return max(ANSWER_ATOL, 0.5 * 10.0 ** (math.floor(math.log10(abs(expected))) - ANSWER_SIG_FIGS + 1))


def grade_answer(text: str, expected: float) -> bool | None:
    """True/False if `text` is a number within answer_allowance(expected) of the expected value;
    None when it is empty or not a number. Never raises."""
    cleaned = str(text).strip().replace("\u2212", "-").replace(" ", "")[:40]
    if not cleaned:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None if not math.isinf(expected) else value == expected
    return abs(value - expected) <= answer_allowance(expected) * (1 + 1e-12)


@dataclass(frozen=True)
class Step:
    """One factor of the chain rule: `symbol = formula = substituted = value`."""
    key: str            # stable id, e.g. "dL_dz2"
    symbol: str         # LaTeX of the quantity, e.g. \frac{\partial L}{\partial z_2}
    formula: str        # symbolic formula (LaTeX)
    substituted: str    # the same formula with this example's numbers (LaTeX)
    value: float | Vector | Matrix
    intuition: str      # one plain sentence

    def entries(self) -> list[tuple[str, float]]:
        """Flatten the value to (label, number) pairs, e.g. ("[1][2]", 0.22)."""
        v = self.value
        if isinstance(v, (int, float)):
            return [("", float(v))]
        if v and isinstance(v[0], list):
            return [(f"[{i + 1}][{j + 1}]", float(a)) for i, row in enumerate(v) for j, a in enumerate(row)]
        return [(f"[{i + 1}]", float(a)) for i, a in enumerate(v)]


@dataclass(frozen=True)
class HandResult:
    z1: Vector
    h: Vector
    z2: float
    y_pred: float
    loss: float
    dW1: Matrix
    dW2: Matrix
    steps: list[Step] = field(default_factory=list)
    dL_dz2: float = 0.0
    dL_dh: Vector = field(default_factory=list)
    dL_dz1: Vector = field(default_factory=list)


def bce_from_logit(z: float, y: float) -> float:
    """-[y log s(z) + (1-y) log(1-s(z))] = max(z,0) - z*y + log(1 + e^-|z|); no overflow."""
    return max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))


def _check_inputs(x, W1, W2, y) -> None:
    ok = (len(x) == 2 and len(W1) == 2 and all(len(r) == 2 for r in W1)
          and len(W2) == 1 and len(W2[0]) == 2)
    if not ok:
        raise ValueError("expected x of 2 numbers, W1 2x2 and W2 1x2 (nested lists)")
    values = [*x, *W1[0], *W1[1], *W2[0], y]
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        raise ValueError("x, W1, W2 and y must be finite numbers")
    if not 0.0 <= y <= 1.0:
        raise ValueError(f"y must be in [0, 1]; got {y}")


def two_layer(x: Vector, W1: Matrix, W2: Matrix, y: float, activation: str = "relu") -> HandResult:
    """Forward and backward pass of the seed's net for one sample, by the chain rule."""
    _check_inputs(x, W1, W2, y)
    phi, dphi = activations.scalar(activation)
    x = [float(a) for a in x]
    W1 = [[float(a) for a in row] for row in W1]
    w2 = [float(a) for a in W2[0]]
    y = float(y)

    # forward
    z1 = [x[0] * W1[0][j] + x[1] * W1[1][j] for j in range(2)]
    h = [phi(z) for z in z1]
    z2 = h[0] * w2[0] + h[1] * w2[1]
    y_pred = activations.sigmoid(z2)
    loss = bce_from_logit(z2, y)

    # backward, one chain-rule factor at a time
    dypred_dz2 = math.exp(-abs(z2)) / (1.0 + math.exp(-abs(z2))) ** 2   # = y_pred (1 - y_pred), stably
    dL_dypred = _dL_dypred(y_pred, y, dypred_dz2)
    dL_dz2 = y_pred - y                                               # the identity: BCE + sigmoid
    dL_dW2 = [dL_dz2 * h[j] for j in range(2)]
    dL_dh = [dL_dz2 * w2[j] for j in range(2)]
    dh_dz1 = [dphi(z) for z in z1]
    dL_dz1 = [dL_dh[j] * dh_dz1[j] for j in range(2)]
    dL_dW1 = [[x[i] * dL_dz1[j] for j in range(2)] for i in range(2)]

    steps = [
        Step("dL_dypred", r"\frac{\partial L}{\partial \hat y}",
             r"-\frac{y}{\hat y} + \frac{1-y}{1-\hat y}",
             rf"-\frac{{{fmt(y)}}}{{{fmt(y_pred)}}} + \frac{{{fmt(1 - y)}}}{{{fmt(1 - y_pred)}}}",
             dL_dypred, "How much the loss grows when the prediction moves up a little."),
        Step("dypred_dz2", r"\frac{\partial \hat y}{\partial z_2}", r"\hat y\,(1-\hat y)",
             rf"{fmt(y_pred)} \times {fmt(1 - y_pred)}", dypred_dz2,
             "The sigmoid's slope: at most 0.25, and nearly 0 when the output is confident."),
        Step("dL_dz2", r"\frac{\partial L}{\partial z_2}",
             r"\frac{\partial L}{\partial \hat y}\cdot\frac{\partial \hat y}{\partial z_2} = \hat y - y",
             rf"{fmt(y_pred)} - {fmt(y)}", dL_dz2,
             "Sigmoid and cross-entropy cancel into prediction minus target: the error signal."),
        Step("dL_dW2", r"\frac{\partial L}{\partial W_2}", r"\frac{\partial L}{\partial z_2}\, h^\top",
             rf"{fmt(dL_dz2)} \times {_vec(h)}", [dL_dW2],
             "An output weight's gradient is the error times the activity feeding it."),
        Step("dL_dh", r"\frac{\partial L}{\partial h}", r"\frac{\partial L}{\partial z_2}\, W_2",
             rf"{fmt(dL_dz2)} \times {_vec(w2)}", dL_dh,
             "The error is sent back to each hidden unit in proportion to its outgoing weight."),
        Step("dh_dz1", r"\frac{\partial h}{\partial z_1}", r"\phi'(z_1) = " + activations.ACTIVATIONS[activation].latex,
             rf"\phi'\left({_vec(z1)}\right)", dh_dz1,
             "Each hidden unit lets the signal through in proportion to its slope; a zero slope blocks it."),
        Step("dL_dz1", r"\frac{\partial L}{\partial z_1}",
             r"\frac{\partial L}{\partial h} \odot \phi'(z_1)",
             rf"{_vec(dL_dh)} \odot {_vec(dh_dz1)}", dL_dz1,
             "Elementwise product: the signal that survives the activation."),
        Step("dL_dW1", r"\frac{\partial L}{\partial W_1}", r"x^\top\, \frac{\partial L}{\partial z_1}",
             rf"{_vec(x)}^\top {_vec(dL_dz1)}", dL_dW1,
             "Outer product: entry [i][j] is input i times the error at hidden unit j."),
    ]
    return HandResult(z1=z1, h=h, z2=z2, y_pred=y_pred, loss=loss, dW1=dL_dW1, dW2=[dL_dW2],
                      steps=steps, dL_dz2=dL_dz2, dL_dh=dL_dh, dL_dz1=dL_dz1)


def _dL_dypred(y_pred: float, y: float, dypred_dz2: float) -> float:
    """(y_pred - y) / (y_pred (1 - y_pred)); infinite where the sigmoid has saturated in
    float64 (that overflow is why the page, and `two_layer`, use dL/dz2 = y_pred - y)."""
    if dypred_dz2 == 0.0:
        diff = y_pred - y
        return math.copysign(math.inf, diff) if diff != 0 else 0.0
    return (y_pred - y) / dypred_dz2


@dataclass(frozen=True)
class WalkStep:
    """One step of the walk through the graph: what is computed, from what, with which numbers.

    `nodes` are the graph nodes whose value (forward) or gradient (backward) this step produces;
    `inputs` the nodes it reads (the edges between them are highlighted)."""
    key: str
    phase: str              # "forward" or "backward"
    title: str
    latex: tuple[str, ...]  # LaTeX lines: the formula, then it with this example's numbers, then the value
    nodes: tuple[str, ...]
    inputs: tuple[str, ...]


def walkthrough(r: HandResult, x: Vector, W1: Matrix, W2: Matrix, y: float, activation: str) -> list[WalkStep]:
    """The forward pass node by node, the loss, then the backward pass one chain-rule factor at a
    time (the eight `steps`). Node names follow the graph: x{i}, W1_{i}{j}, z1_{j}, h{j}, W2_{j},
    z2, yp, y, L."""
    w2 = W2[0]
    fwd = []
    for j in range(2):
        fwd.append(WalkStep(f"z1_{j}", "forward", f"Hidden unit {j + 1} sums its weighted inputs",
                            (rf"z_1[{j + 1}] = x_1 W_1[1][{j + 1}] + x_2 W_1[2][{j + 1}]",
                             rf"= {fmt(x[0])} \times {_factor(W1[0][j])} + {_factor(x[1])} \times {_factor(W1[1][j])}",
                             rf"= {fmt(r.z1[j])}"),
                            (f"z1_{j}",), ("x0", "x1", f"W1_0{j}", f"W1_1{j}")))
    for j in range(2):
        fwd.append(WalkStep(f"h{j}", "forward", f"Hidden unit {j + 1} applies {activation}",
                            (rf"h[{j + 1}] = \phi(z_1[{j + 1}])", rf"= \phi({fmt(r.z1[j])})", rf"= {fmt(r.h[j])}"),
                            (f"h{j}",), (f"z1_{j}",)))
    fwd.append(WalkStep("z2", "forward", "The output sums the weighted hidden units",
                        (r"z_2 = h[1] W_2[1] + h[2] W_2[2]",
                         rf"= {fmt(r.h[0])} \times {_factor(w2[0])} + {_factor(r.h[1])} \times {_factor(w2[1])}",
                         rf"= {fmt(r.z2)}"), ("z2",), ("h0", "h1", "W2_0", "W2_1")))
    fwd.append(WalkStep("yp", "forward", "The sigmoid turns the logit into a probability",
                        (r"\hat y = \sigma(z_2)", rf"= \sigma({fmt(r.z2)})", rf"= {fmt(r.y_pred)}"), ("yp",), ("z2",)))
    fwd.append(WalkStep("L", "forward", "The loss compares the prediction with the target",
                        (r"L = -[y \log \hat y + (1-y)\log(1-\hat y)]",
                         rf"= -[{fmt(y)} \log {fmt(r.y_pred)} + {fmt(1 - y)} \log {fmt(1 - r.y_pred)}]",
                         rf"= {fmt(r.loss)}"), ("L",), ("yp", "y")))
    w1_nodes = ("W1_00", "W1_01", "W1_10", "W1_11")
    where = {"dL_dypred": (("yp",), ("L",)), "dypred_dz2": (("z2",), ("yp",)), "dL_dz2": (("z2",), ("yp",)),
             "dL_dW2": (("W2_0", "W2_1"), ("z2",)), "dL_dh": (("h0", "h1"), ("z2",)),
             "dh_dz1": (("z1_0", "z1_1"), ("h0", "h1")), "dL_dz1": (("z1_0", "z1_1"), ("h0", "h1")),
             "dL_dW1": (w1_nodes, ("z1_0", "z1_1"))}
    bwd = [WalkStep(s.key, "backward", s.intuition,
                    (rf"{s.symbol} = {s.formula}", rf"= {s.substituted}", rf"= {to_latex(s.value)}"), *where[s.key])
           for s in r.steps]
    return fwd + bwd


def known_after(walk: list[WalkStep], step: int, revealed: bool = False) -> tuple[set[str], set[str]]:
    """(keys of the values, keys of the gradients) a learner has seen computed once `step` steps of
    the walk are done. Step 0 is before the walk: every forward value (the page prints the forward
    pass), no gradient. `revealed` (the learner asked for the solutions) shows everything."""
    forward = {s.key for s in walk if s.phase == "forward"}
    if revealed:
        return forward, {s.key for s in walk if s.phase == "backward"}
    if step <= 0:
        return forward, set()
    done = walk[:step]
    return ({s.key for s in done if s.phase == "forward"}, {s.key for s in done if s.phase == "backward"})


def step_of(walk: list[WalkStep], key: str) -> int:
    """The walk step (1-based) that computes `key`."""
    return next(i for i, s in enumerate(walk, 1) if s.key == key)
