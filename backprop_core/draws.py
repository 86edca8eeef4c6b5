"""Seeded random draws that every CPU makes alike: the datasets' points and the initial weights.

PyTorch's own samplers are not alike across CPUs. torch.randn and the float32 sin, cos and sqrt
behind the datasets run through vectorised math libraries (Sleef, MKL) whose last bit depends on the
instruction set: AVX2, AVX-512 and ARM draw points a float32 rounding step or two apart, and a run
that amplifies rounding turns that into other digits on the page (issue 16).

Here every draw starts from torch.rand's uniform numbers, which are whole numbers of 2^-24 taken
from the generator's bits (the same on every CPU); every transform runs in float64; callers round
the result to float32 once, at the end. Two CPUs' float64 log, cos or sin differ by at most a unit
in the 53rd bit, so the rounded float32 values agree unless one lies that close to a float32
rounding boundary, about once in 10^8 draws.

`uniform` gives exactly what torch's `uniform_` gives in float32 on a CPU with fused multiply-add
(x86 since AVX2, ARM64). `normal` is torch.randn's recipe (the same uniforms, paired the same way
by Box-Muller in blocks of 16) carried out in float64: it differs from torch.randn by at most a few
float32 rounding steps, so `normal((200, 2), torch.Generator().manual_seed(11))` draws the seed
lesson's points X = torch.randn(200, 2) to about 5 digits.
"""
from __future__ import annotations

import math

import torch


def uniform(shape: tuple[int, ...], lo: float, hi: float, g: torch.Generator) -> torch.Tensor:
    """U(lo, hi) of `shape`, float64 values that round to torch's float32 uniform_(lo, hi)."""
    lo32, hi32 = (torch.tensor(v, dtype=torch.float32).item() for v in (lo, hi))
    x = torch.rand(shape, generator=g, dtype=torch.float32).double()
    return x * (hi32 - lo32) + lo32


def normal(shape: tuple[int, ...], g: torch.Generator, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    """N(mean, std^2) of `shape` in float64: Box-Muller on blocks of 16 uniforms (entries j and j + 8
    of a block are one pair), as torch.randn; when the size is not a multiple of 16, the last 16
    entries come from 16 fresh uniforms (fewer than 16 entries: the first ones of one block)."""
    size = math.prod(shape)
    u = torch.rand(max(size, 16), generator=g, dtype=torch.float32).double()
    z = torch.empty_like(u)
    whole = len(u) - len(u) % 16
    z[:whole] = _box_muller(u[:whole].view(-1, 16)).view(-1)
    if len(u) % 16:
        fresh = torch.rand(16, generator=g, dtype=torch.float32).double()
        z[len(u) - 16:] = _box_muller(fresh.view(1, 16)).view(-1)
    return (z[:size] * std + mean).view(shape)


def _box_muller(blocks: torch.Tensor) -> torch.Tensor:
    """(k, 16) uniforms in [0, 1) -> (k, 16) standard normals: u1 from the first 8, u2 from the last 8."""
    radius = (-2.0 * torch.log(1.0 - blocks[:, :8])).sqrt()
    theta = 2.0 * math.pi * blocks[:, 8:]
    return torch.cat([radius * theta.cos(), radius * theta.sin()], dim=1)
