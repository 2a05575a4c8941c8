"""Learning-rate schedules, step by step against torch's schedulers."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit.training.schedules import (
    as_multiplier,
    constant_lr,
    cosine_lr,
    one_cycle_lr,
    step_lr,
    warmup_cosine_lr,
    warmup_lr,
)


def torch_lrs(make_scheduler, total: int, base_lr: float) -> list[float]:
    """The learning rate torch's scheduler sets for each of ``total`` optimizer steps."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=base_lr)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _ in range(total):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


totals = st.integers(2, 80)
lrs = st.sampled_from([0.1, 0.02, 1.0])


@settings(max_examples=40, deadline=None)
@given(totals, lrs, st.integers(1, 20), st.sampled_from([0.1, 0.5]))
def test_step_lr_matches_steplr(total, base, size, gamma):
    theirs = torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, size, gamma), total, base)
    ours = [step_lr(s, total, base, size, gamma) for s in range(total)]
    assert ours == pytest.approx(theirs, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(totals, lrs, st.sampled_from([0.0, 1e-4]))
def test_cosine_lr_matches_cosine_annealing(total, base, floor):
    theirs = torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, total, floor), total, base
    )
    ours = [cosine_lr(s, total, base, floor) for s in range(total)]
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(totals, lrs, st.integers(1, 30), st.sampled_from([0.1, 0.5]))
def test_warmup_lr_matches_linear_lr(total, base, warm, start):
    theirs = torch_lrs(
        lambda o: torch.optim.lr_scheduler.LinearLR(o, start, 1.0, total_iters=warm), total, base
    )
    ours = [warmup_lr(s, total, base, warm, start) for s in range(total)]
    assert ours == pytest.approx(theirs, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(10, 120), lrs, st.sampled_from([0.2, 0.3, 0.45]),
       st.sampled_from([25.0, 10.0]), st.sampled_from([1e4, 100.0]))
def test_one_cycle_lr_matches_one_cycle(total, top, pct, div, final):
    theirs = torch_lrs(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, top, total_steps=total, pct_start=pct, div_factor=div, final_div_factor=final,
            cycle_momentum=False,
        ),
        total,
        top,
    )
    ours = [one_cycle_lr(s, total, top, pct, div, final) for s in range(total)]
    assert ours == pytest.approx(theirs, rel=1e-9)


def test_warmup_then_cosine_is_continuous_and_ends_low():
    values = [warmup_cosine_lr(s, 100, 0.1, 10) for s in range(100)]
    assert values[0] == pytest.approx(0.01)
    assert values[10] == pytest.approx(0.1)  # the cosine starts at the top
    assert max(values) == pytest.approx(0.1)
    assert values[-1] < 0.001


def test_as_multiplier_drives_lambdalr():
    total, base = 30, 0.05
    multiplier = as_multiplier(one_cycle_lr, total, base, pct_start=0.3)
    theirs = torch_lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, multiplier), total, base)
    assert theirs == pytest.approx([one_cycle_lr(s, total, base, 0.3) for s in range(total)])
    assert multiplier(total + 5) == multiplier(total - 1)  # past the end: the last value


def test_constant_is_constant():
    assert {constant_lr(s, 5, 0.3) for s in range(5)} == {0.3}


@pytest.mark.parametrize(
    "call",
    [
        lambda: cosine_lr(5, 5, 0.1),
        lambda: cosine_lr(-1, 5, 0.1),
        lambda: step_lr(0, 5, 0.1, 0),
        lambda: one_cycle_lr(0, 10, 0.1, pct_start=1.0),
        lambda: warmup_cosine_lr(0, 10, 0.1, 10),
        lambda: constant_lr(0, 5, -0.1),
        lambda: as_multiplier(step_lr, 10, 0.1, step_size=0),
    ],
)
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()
