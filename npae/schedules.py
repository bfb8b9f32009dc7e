r"""Learning-rate schedules: the learning rate of each epoch as a function of the epoch.

A schedule is a callable ``schedule(epoch, base_lr, epochs) -> lr`` with ``epoch`` counted from
0 and ``epochs`` the length of the run; ``fit(..., schedule=...)`` sets ``optimizer.lr`` to it at
the start of every epoch and records it in ``history_["lr"]``. Schedules hold no state, so a
resumed run (``fit(..., resume=path)``) gets exactly the learning rates of an uninterrupted one.
Any function with that signature works; the two classic ones are here. See
``docs/11-training-and-saving.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ._validation import check_float, check_int


class Schedule:
    """Base class: ``lr = schedule(epoch, base_lr, epochs)``."""

    def __call__(self, epoch: int, base_lr: float, epochs: int) -> float:
        raise NotImplementedError


class StepLR(Schedule):
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` epochs (PyTorch's StepLR).

    .. math:: lr_e = lr_0 \, \gamma^{\lfloor e / s \rfloor}

    with ``e = epoch`` (from 0), ``s = step_size`` and ``lr_0 = base_lr``.
    """

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_int(step_size, "step_size", 1)
        self.gamma = check_float(gamma, "gamma", 0.0, low_inclusive=False)

    def __call__(self, epoch: int, base_lr: float, epochs: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)

    def __repr__(self) -> str:
        return f"StepLR(step_size={self.step_size}, gamma={self.gamma})"


class CosineLR(Schedule):
    r"""Cosine annealing from ``base_lr`` to ``min_lr`` (PyTorch's CosineAnnealingLR, one cycle).

    .. math:: lr_e = lr_{min} + \tfrac12 (lr_0 - lr_{min}) \left(1 + \cos\frac{\pi e}{T}\right)

    with ``e = epoch`` (from 0) and ``T = T_max``, by default the run's ``epochs``: the first epoch
    uses ``lr_0`` and the rate falls smoothly towards ``lr_min`` (reached at ``e = T``; epochs
    past ``T`` stay at ``lr_min``).
    """

    def __init__(self, T_max: int | None = None, min_lr: float = 0.0) -> None:  # noqa: N803 (PyTorch's name)
        self.T_max = None if T_max is None else check_int(T_max, "T_max", 1)
        self.min_lr = check_float(min_lr, "min_lr", 0.0)

    def __call__(self, epoch: int, base_lr: float, epochs: int) -> float:
        T = self.T_max or max(int(epochs), 1)
        e = min(epoch, T)
        return self.min_lr + 0.5 * (base_lr - self.min_lr) * (1.0 + math.cos(math.pi * e / T))

    def __repr__(self) -> str:
        return f"CosineLR(T_max={self.T_max}, min_lr={self.min_lr})"


def get_schedule(schedule) -> Callable[[int, float, int], float] | None:
    """``None``, any callable (returned as is), or the name ``"step"`` (StepLR(10, 0.1)) or ``"cosine"``."""
    if schedule is None or callable(schedule):
        return schedule
    if schedule == "cosine":
        return CosineLR()
    if schedule == "step":
        return StepLR(10, 0.1)
    raise ValueError(f"schedule must be None, a callable (epoch, base_lr, epochs) -> lr, 'step' or 'cosine', "
                     f"got {schedule!r}")


__all__ = ["CosineLR", "Schedule", "StepLR", "get_schedule"]
