"""The classic backprop mistakes the "Break it" exercise plants in the manual backward pass
(manual.backward_pass), each with what it does, in one place. Torch-free: the functions use tensor
methods only, so the pages' server can list the bugs without loading torch."""
from __future__ import annotations

from dataclasses import dataclass

BUG_LABELS = {
    "no_act_grad": "forgot the activation derivative",
    "no_transpose": "missing transpose in dL/dW",
    "wrong_sign": "wrong sign in dL/dz",
}
BUGS = tuple(BUG_LABELS)


@dataclass(frozen=True)
class Bug:
    """A deliberate mistake: `kind` (one of BUGS) at hidden layer `layer` (1-based)."""
    kind: str
    layer: int

    def at_activation(self, du, da):
        """dL/du, the signal behind the activation: forgetting phi' leaves the incoming dL/dh."""
        return da if self.kind == "no_act_grad" else du

    def at_signal(self, dz):
        """dL/dz, the signal behind the Linear layer: the wrong sign flips it."""
        return -dz if self.kind == "wrong_sign" else dz

    def at_weight_grad(self, dW):
        """dL/dW = dz^T a: without the transpose (only a square matrix lets that slip through)."""
        return dW.T if self.kind == "no_transpose" and dW.shape[0] == dW.shape[1] else dW
