"""Adam and SGD with momentum as a few tensor operations, for the small training loops.

The same updates as ``torch.optim.Adam`` and ``torch.optim.SGD(momentum=...)`` (their
default, non-fused, non-decoupled forms, no weight decay), for the loops that must stay
small in memory: the first ``step()`` of any ``torch.optim`` optimizer imports
``torch._dynamo`` and some 800 modules with it, about 70 MB of resident memory (a third
of what ``import torch`` costs) and a second of start-up, which the Deep Lambertian spheres
run cannot afford (its bar is 300 MB peak). Interface: ``param_groups[0]["lr"]`` (set it
for a schedule), ``zero_grad()``, ``step()``.

References: D. P. Kingma, J. Ba, "Adam: a method for stochastic optimization", ICLR 2015;
B. T. Polyak, "Some methods of speeding up the convergence of iteration methods", 1964.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch


class _Plain:
    def __init__(self, params: Iterable[torch.Tensor], lr: float) -> None:
        self.params = [p for p in params]
        self.param_groups = [{"lr": lr}]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


class Adam(_Plain):
    """``torch.optim.Adam`` (bias-corrected moments, ``eps`` outside the square root)."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        self.betas, self.eps, self.t = betas, eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        lr = self.param_groups[0]["lr"]
        step_size = lr / (1.0 - b1 ** self.t)
        root_c2 = math.sqrt(1.0 - b2 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            g = p.grad
            m.lerp_(g, 1.0 - b1)
            v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            p.addcdiv_(m, (v.sqrt() / root_c2).add_(self.eps), value=-step_size)


class SGD(_Plain):
    """``torch.optim.SGD`` with momentum: ``buf = mu buf + g`` (``buf = g`` at first),
    ``p -= lr buf``."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, momentum: float = 0.0
                 ) -> None:
        super().__init__(params, lr)
        self.momentum = momentum
        self.buf: list[torch.Tensor | None] = [None] * len(self.params)

    @torch.no_grad()
    def step(self) -> None:
        lr = self.param_groups[0]["lr"]
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            if self.momentum:
                if self.buf[i] is None:
                    self.buf[i] = g.clone()
                else:
                    self.buf[i].mul_(self.momentum).add_(g)
                g = self.buf[i]
            p.add_(g, alpha=-lr)
