"""The seeded draws (backprop_core/draws.py): the same points and weights on every CPU.

PyTorch's own samplers take other code paths on other instruction sets. On one machine the paths can
be switched: ATEN_CPU_CAPABILITY picks PyTorch's kernels (default, avx2, avx512) and
MKL_ENABLE_INSTRUCTIONS the math library's (SSE4_2, AVX2, AVX512). Each combination runs in its own
process; every dataset and every initialisation must come out bit for bit the same in all of them,
while torch.randn and the float32 math the datasets used before do not (which shows the paths differ).
"""
import json
import math
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from backprop_core import draws
from backprop_core.models import MLP, build_mlp

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import hashlib, json, math, sys, torch
sys.path.insert(0, sys.argv[1])
from backprop_core.config import GENERATED_DATASETS, INITS
from backprop_core.data import make_dataset
from backprop_core.models import build_mlp

def digest(*tensors):
    return hashlib.sha256(b"".join(t.contiguous().numpy().tobytes() for t in tensors)).hexdigest()[:16]

ours = {}
for name in GENERATED_DATASETS:
    for noise in (0.0, 0.2):
        d = make_dataset(name, 300, noise, 7)
        ours[f"{name}-{noise}"] = digest(d.X_train, d.y_train, d.X_test, d.y_test)
for init in INITS:
    ours[init] = digest(*build_mlp(4, 24, "tanh", init, "layer", True, seed=5).state_dict().values())
g = lambda: torch.Generator().manual_seed(7)
u = torch.rand(5000, generator=g())
theirs = {"torch.randn": digest(torch.randn(5000, generator=g())),
          "float32 sqrt, cos": digest(u.sqrt() * 3 * math.pi, (u * 2 * math.pi).cos())}
print(json.dumps({"ours": ours, "theirs": theirs}))
"""

PATHS = [("default", "SSE4_2"), ("avx2", "AVX2"), ("avx512", "AVX512"), ("avx2", "SSE4_2")]


def probe(aten: str, mkl: str) -> dict:
    env = {"ATEN_CPU_CAPABILITY": aten, "MKL_ENABLE_INSTRUCTIONS": mkl, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", PROBE, str(ROOT)], env=env, capture_output=True, text=True,
                         timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_every_instruction_set_draws_the_same_points_and_weights():
    results = {path: probe(*path) for path in PATHS}
    first = results[PATHS[0]]["ours"]
    for path, result in results.items():
        assert result["ours"] == first, path
    if platform.machine() in ("x86_64", "AMD64"):    # elsewhere the switches do nothing
        for name in ("torch.randn", "float32 sqrt, cos"):
            assert len({r["theirs"][name] for r in results.values()}) > 1, f"{name} took one path everywhere"


def test_uniform_draws_what_torch_uniform_draws():
    for lo, hi in ((-0.7071067811865476, 0.7071067811865476), (-0.1, 0.1), (0.0, 2 * math.pi)):
        w = torch.empty(1000).uniform_(lo, hi, generator=torch.Generator().manual_seed(3))
        assert torch.equal(draws.uniform((1000,), lo, hi, torch.Generator().manual_seed(3)).float(), w)


def test_the_default_initialisation_is_pytorchs_own():
    """nn.Linear's constructor draws these very weights from the global generator after manual_seed."""
    torch.manual_seed(21)
    theirs = MLP(6, 32, "sigmoid", "none", False, 2, 2)
    ours = build_mlp(6, 32, "sigmoid", "default", seed=21)
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("size", [16, 37, 400, 4099])
def test_normal_is_torch_randns_recipe_in_float64(size):
    """Same uniforms, same pairs: within a few float32 steps of torch.randn (from 16 entries up, where
    torch.randn uses that recipe), and the generator ends where torch.randn leaves it."""
    g1, g2 = torch.Generator().manual_seed(11), torch.Generator().manual_seed(11)
    theirs, ours = torch.randn(size, generator=g1), draws.normal((size,), g2).float()
    assert torch.allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    assert torch.equal(torch.rand(8, generator=g1), torch.rand(8, generator=g2))


def test_normal_has_the_moments_of_a_standard_normal():
    z = draws.normal((200_000,), torch.Generator().manual_seed(0), mean=1.5, std=2.0)
    assert abs(z.mean().item() - 1.5) < 0.02 and abs(z.std().item() - 2.0) < 0.02
    assert abs(((z - 1.5) / 2.0).pow(4).mean().item() - 3.0) < 0.1      # kurtosis of a normal

