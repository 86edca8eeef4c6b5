"""The seed net's computational graph as Graphviz DOT, micrograd style: every node shows its value
and, below it, ∇ = dL/d(node), both to 4 significant digits (the walk's equations carry 6
decimals). During the step-by-step walk, values and gradients not yet computed are
blank and the step's nodes and edges are highlighted. Built from numbers only: nothing typed by a
learner reaches the DOT text."""
from __future__ import annotations

from backprop_core.digits import number
from backprop_core.hand import HandResult, WalkStep, known_after

HIGHLIGHT, HIGHLIGHT_EDGE = "#fde68a", "#d97706"
# On a narrow screen the graph keeps a readable size and scrolls sideways instead of shrinking its
# labels to a few pixels (Graphviz scales the whole drawing to the column's width).
NARROW_SCREEN_CSS = """<style>
@media (max-width: 720px) {
  [data-testid="stGraphVizChart"] { overflow-x: auto; }
  [data-testid="stGraphVizChart"] svg { min-width: 680px; height: auto; }
}
</style>"""
BLANK = "?"


def _grad_keys() -> dict[str, str]:
    """Node -> the walk step (backward) that produces its gradient."""
    keys = {"L": "dL_dypred", "yp": "dL_dypred", "z2": "dL_dz2"}
    for i in range(2):
        keys[f"h{i}"] = "dL_dh"
        keys[f"z1_{i}"] = "dL_dz1"
        keys[f"W2_{i}"] = "dL_dW2"
        for k in range(2):
            keys[f"W1_{i}{k}"] = "dL_dW1"
    return keys


def dot(r: HandResult, x, W1, W2, y, walk: list[WalkStep], step: int = 0, revealed: bool = False) -> str:
    """DOT text of the graph after `step` walk steps (0: before the walk, the forward pass only, nothing
    highlighted; `revealed`: every gradient too)."""
    values_known, grads_known = known_after(walk, step, revealed)
    current = walk[step - 1] if step > 0 else None
    hot = set(current.nodes) if current else set()
    grad_of = _grad_keys()

    def node(name, title, value, grad=None, value_key=None, shape="box", color="#f7f7f7"):
        shown_value = number(value) if value_key is None or value_key in values_known else BLANK
        lines = [title, shown_value]
        if grad is not None:
            known = grad_of[name] in grads_known
            lines.append(f"∇ {number(grad) if known else BLANK}")
        fill = HIGHLIGHT if name in hot else color
        pen = ', penwidth=2.5, color="#b45309"' if name in hot else ""
        label = "\\n".join(lines)
        return f'"{name}" [label="{label}", shape={shape}, style=filled, fillcolor="{fill}"{pen}];'

    def edge(a, b):
        lit = current is not None and ((a in current.inputs and b in hot) or (b in current.inputs and a in hot))
        return f'"{a}" -> "{b}"' + (f' [color="{HIGHLIGHT_EDGE}", penwidth=3]' if lit else "") + ";"

    lines = ["digraph G {", "rankdir=LR;", "nodesep=0.18;", "ranksep=0.35;",
             'node [fontname="Helvetica", fontsize=20, margin="0.06,0.03"];']
    for i in range(2):
        lines.append(node(f"x{i}", f"x{i + 1}", x[i], color="#e8f0fe"))
        for j in range(2):
            lines.append(node(f"W1_{i}{j}", f"W1[{i + 1}][{j + 1}]", W1[i][j], r.dW1[i][j], color="#fff4e5"))
    for j in range(2):
        lines.append(node(f"z1_{j}", f"z1[{j + 1}]", r.z1[j], r.dL_dz1[j], f"z1_{j}", "ellipse"))
        lines.append(node(f"h{j}", f"h[{j + 1}]", r.h[j], r.dL_dh[j], f"h{j}", "ellipse"))
        lines.append(node(f"W2_{j}", f"W2[{j + 1}]", W2[0][j], r.dW2[0][j], color="#fff4e5"))
        lines += [edge(f"x{i}", f"z1_{j}") for i in range(2)] + [edge(f"W1_{i}{j}", f"z1_{j}") for i in range(2)]
        lines += [edge(f"z1_{j}", f"h{j}"), edge(f"h{j}", "z2"), edge(f"W2_{j}", "z2")]
    lines.append(node("z2", "z2", r.z2, r.dL_dz2, "z2", "ellipse"))
    lines.append(node("yp", "ŷ", r.y_pred, r.steps[0].value, "yp", "ellipse"))
    lines.append(node("y", "target y", y, color="#e8f0fe"))
    lines.append(node("L", "loss L", r.loss, 1.0, "L", "doubleoctagon", "#fde2e2"))
    lines += [edge("z2", "yp"), edge("yp", "L"), edge("y", "L"), "}"]
    return "\n".join(lines)
