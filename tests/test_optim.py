"""The hand-written optimiser step matches torch.optim bit for bit, on many tensors at once."""
import pytest
import torch

from backprop_core import optim


@pytest.mark.parametrize("name,wd", [("adam", 0.0), ("adam", 0.01), ("sgd", 0.0), ("sgd", 0.001),
                                     ("momentum", 0.0), ("momentum", 0.05)])
@pytest.mark.parametrize("foreach", [False, True])
def test_flat_step_equals_torch_optim_bit_for_bit(name, wd, foreach):
    g = torch.Generator().manual_seed(0)
    shapes = [(8, 2), (8,), (8, 8), (8,), (2, 8), (2,)]
    params = [torch.randn(s, generator=g).requires_grad_() for s in shapes]
    flat = torch.cat([p.detach().reshape(-1) for p in params])
    lr = 0.05
    reference = (torch.optim.Adam(params, lr=lr, weight_decay=wd, foreach=foreach) if name == "adam" else
                 torch.optim.SGD(params, lr=lr, weight_decay=wd, foreach=foreach,
                                 momentum=0.9 if name == "momentum" else 0.0))
    mine = optim.make(name, flat, lr, wd)
    for _ in range(25):
        grads = [torch.randn(s, generator=g) * 10 ** torch.randint(-6, 2, (1,), generator=g).item() for s in shapes]
        for p, gr in zip(params, grads, strict=True):
            p.grad = gr.clone()
        reference.step()
        mine.step(torch.cat([gr.reshape(-1) for gr in grads]))
    assert torch.equal(torch.cat([p.detach().reshape(-1) for p in params]), flat)
