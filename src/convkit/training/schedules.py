"""Learning-rate schedules as plain functions of the step (ch10).

Each returns the learning rate at optimizer step ``step`` (0 for the first
step) of a run of ``total_steps``; each matches the torch scheduler named in its
docstring when that scheduler is stepped once per optimizer step.  Written as
formulas, so the chapter can plot them and the trainer can use any of them
through :func:`as_multiplier` (``torch.optim.lr_scheduler.LambdaLR``).

- constant: ``base_lr`` throughout;
- step decay: times ``gamma`` every ``step_size`` steps (``StepLR``);
- cosine: from ``base_lr`` down to ``min_lr`` along half a cosine (``CosineAnnealingLR``);
- linear warm-up: from ``base_lr * start_factor`` up to ``base_lr`` over
  ``warmup_steps``, then constant (``LinearLR``), or then cosine (:func:`warmup_cosine_lr`);
- one-cycle (Smith 2018): up from ``max_lr / div_factor`` to ``max_lr`` over the first
  ``pct_start`` of the run, then down to ``max_lr / (div_factor * final_div_factor)``,
  both along half cosines (``OneCycleLR`` with its defaults).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from convkit._checks import fraction, int_at_least, non_negative_float, positive_float

__all__ = [
    "as_multiplier",
    "constant_lr",
    "cosine_lr",
    "one_cycle_lr",
    "step_lr",
    "warmup_cosine_lr",
    "warmup_lr",
]


def constant_lr(step: int, total_steps: int, base_lr: float) -> float:
    """``base_lr`` at every step."""
    _step(step, total_steps, "constant_lr")
    return positive_float("constant_lr", "base_lr", base_lr)


def step_lr(
    step: int, total_steps: int, base_lr: float, step_size: int, gamma: float = 0.1
) -> float:
    """``base_lr * gamma ** (step // step_size)``, as ``StepLR(step_size, gamma)``."""
    func = "step_lr"
    _step(step, total_steps, func)
    size = int_at_least(func, "step_size", step_size, 1)
    factor = positive_float(func, "gamma", gamma)
    return positive_float(func, "base_lr", base_lr) * factor ** (step // size)


def cosine_lr(step: int, total_steps: int, base_lr: float, min_lr: float = 0.0) -> float:
    """``min_lr + (base_lr - min_lr) * (1 + cos(pi * step / total_steps)) / 2``, as
    ``CosineAnnealingLR(T_max=total_steps, eta_min=min_lr)``."""
    func = "cosine_lr"
    _step(step, total_steps, func)
    top = positive_float(func, "base_lr", base_lr)
    bottom = non_negative_float(func, "min_lr", min_lr)
    return bottom + (top - bottom) * (1 + math.cos(math.pi * step / total_steps)) / 2


def warmup_lr(
    step: int, total_steps: int, base_lr: float, warmup_steps: int, start_factor: float = 0.1
) -> float:
    """Linear warm-up from ``base_lr * start_factor`` to ``base_lr`` over ``warmup_steps``,
    then ``base_lr``, as ``LinearLR(start_factor, total_iters=warmup_steps)``."""
    func = "warmup_lr"
    _step(step, total_steps, func)
    warm = int_at_least(func, "warmup_steps", warmup_steps, 1)
    start = positive_float(func, "start_factor", start_factor)
    fraction = min(step, warm) / warm
    return positive_float(func, "base_lr", base_lr) * (start + (1 - start) * fraction)


def warmup_cosine_lr(
    step: int,
    total_steps: int,
    base_lr: float,
    warmup_steps: int,
    start_factor: float = 0.1,
    min_lr: float = 0.0,
) -> float:
    """:func:`warmup_lr` for ``warmup_steps``, then :func:`cosine_lr` over the rest of the run."""
    func = "warmup_cosine_lr"
    _step(step, total_steps, func)
    warm = int_at_least(func, "warmup_steps", warmup_steps, 1)
    if warm >= total_steps:
        raise ValueError(f"{func}: warmup_steps ({warm}) must be less than total_steps")
    if step < warm:
        return warmup_lr(step, total_steps, base_lr, warm, start_factor)
    return cosine_lr(step - warm, total_steps - warm, base_lr, min_lr)


def one_cycle_lr(
    step: int,
    total_steps: int,
    max_lr: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> float:
    """The one-cycle policy, as ``OneCycleLR(max_lr, total_steps, pct_start, div_factor=...,
    final_div_factor=...)`` with cosine annealing: up from ``max_lr / div_factor`` to
    ``max_lr`` until step ``pct_start * total_steps - 1``, then down to
    ``max_lr / (div_factor * final_div_factor)`` at the last step.  (When that peak step
    is 0, torch divides by zero; here the run starts at ``max_lr``.)"""
    func = "one_cycle_lr"
    _step(step, total_steps, func)
    top = positive_float(func, "max_lr", max_lr)
    pct_start = fraction(func, "pct_start", pct_start, ends=False)
    start = top / positive_float(func, "div_factor", div_factor)
    end = start / positive_float(func, "final_div_factor", final_div_factor)
    peak = float(pct_start * total_steps) - 1
    if step <= peak:
        return _cosine_between(start, top, step / peak if peak > 0 else 1.0)
    return _cosine_between(top, end, (step - peak) / (total_steps - 1 - peak))


def as_multiplier(
    schedule: Callable[..., float], total_steps: int, base_lr: float, **options: float
) -> Callable[[int], float]:
    """``step -> schedule(step, total_steps, base_lr, **options) / base_lr``: the factor
    ``torch.optim.lr_scheduler.LambdaLR`` multiplies the optimizer's ``lr`` by (past the
    last step the schedule's last value holds)."""
    total = int_at_least("as_multiplier", "total_steps", total_steps, 1)
    base = positive_float("as_multiplier", "base_lr", base_lr)
    schedule(0, total, base, **options)  # bad options fail now, not at the first step

    def multiplier(step: int) -> float:
        return schedule(min(step, total - 1), total, base, **options) / base

    return multiplier


def _step(step: int, total_steps: int, func: str) -> None:
    total = int_at_least(func, "total_steps", total_steps, 1)
    int_at_least(func, "step", step, 0)
    if step >= total:
        raise ValueError(f"{func}: step must be less than total_steps ({total}), got {step}")


def _cosine_between(start: float, end: float, fraction: float) -> float:
    """From ``start`` (fraction 0) to ``end`` (fraction 1) along half a cosine."""
    return end + (start - end) * (1 + math.cos(math.pi * fraction)) / 2
