"""sgd_step and adam_step, step by step against torch's SGD, Adam and AdamW."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit.training.optim_steps import adam_step, sgd_step

STEPS = 6


def gradients(seed: int, shape=(3, 4)) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for _ in range(STEPS)]


def torch_run(optimizer_class, start, grads, **options) -> np.ndarray:
    param = torch.nn.Parameter(torch.tensor(start))
    optimizer = optimizer_class([param], **options)
    for g in grads:
        param.grad = torch.tensor(g)
        optimizer.step()
    return param.detach().numpy()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.9]), st.sampled_from([0.0, 0.1]))
def test_sgd_step_matches_torch_sgd(seed, momentum, decay):
    start = np.random.default_rng(seed + 1).normal(size=(3, 4))
    param, buffer = start.copy(), None
    for g in gradients(seed):
        buffer = sgd_step(param, g, 0.05, decay, momentum, buffer)
    expected = torch_run(
        torch.optim.SGD, start, gradients(seed), lr=0.05, momentum=momentum, weight_decay=decay
    )
    np.testing.assert_allclose(param, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from([0.0, 0.01, 0.5]))
def test_adam_step_matches_adam_and_adamw(seed, decoupled, decay):
    start = np.random.default_rng(seed + 1).normal(size=(3, 4))
    param = start.copy()
    m, v = np.zeros_like(param), np.zeros_like(param)
    for t, g in enumerate(gradients(seed), start=1):
        adam_step(param, g, m, v, t, 0.01, (0.9, 0.99), 1e-8, decay, decoupled)
    optimizer = torch.optim.AdamW if decoupled else torch.optim.Adam
    expected = torch_run(
        optimizer, start, gradients(seed), lr=0.01, betas=(0.9, 0.99), eps=1e-8,
        weight_decay=decay,
    )
    np.testing.assert_allclose(param, expected, rtol=1e-10, atol=1e-12)


def test_decoupled_decay_shrinks_every_weight_alike_and_l2_does_not_under_adam():
    # Weights with large gradients: the L2 term is divided by their gradient's RMS.
    start = np.array([1.0, 1.0])
    grad = np.array([100.0, 0.0])
    results = {}
    for decoupled in (False, True):
        param, m, v = start.copy(), np.zeros(2), np.zeros(2)
        for t in range(1, 4):
            adam_step(param, grad * 0 if t > 1 else grad, m, v, t, 0.01, weight_decay=0.1,
                      decoupled=decoupled)
        results[decoupled] = param
    assert results[True][1] == pytest.approx((1 - 0.01 * 0.1) ** 3)  # only the decay acted
    assert results[False][1] < results[True][1]  # Adam normalised the small L2 gradient up


def test_sgd_with_weight_decay_is_the_same_either_way_without_momentum():
    a, b = np.ones(3), np.ones(3)
    g = np.array([0.5, -1.0, 2.0])
    sgd_step(a, g, 0.1, 0.2)
    sgd_step(b, g, 0.1, 0.2, decoupled=True)
    np.testing.assert_allclose(a, b)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: sgd_step([1.0], [1.0], 0.1), TypeError),
        (lambda: sgd_step(np.ones(2), np.ones(3), 0.1), ValueError),
        (lambda: sgd_step(np.ones(2), np.ones(2), 0.0), ValueError),
        (lambda: adam_step(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2), 0), ValueError),
        (lambda: adam_step(np.ones(2), np.ones(2), np.zeros(3), np.zeros(2), 1), ValueError),
        (lambda: adam_step(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2), 1, betas=(1, 0.9)),
         ValueError),
    ],
)
def test_bad_arguments_raise(call, error):
    with pytest.raises(error):
        call()


def test_a_refused_step_changes_nothing():
    param = np.ones(3)
    with pytest.raises(ValueError):
        sgd_step(param, np.ones(3), 0.1, 0.5, 0.9, np.zeros(4), decoupled=True)
    with pytest.raises(TypeError):
        adam_step(param, np.ones(3), np.zeros(3, int), np.zeros(3), 1, weight_decay=0.5,
                  decoupled=True)
    np.testing.assert_array_equal(param, np.ones(3))
    with pytest.raises(ValueError, match="momentum is 0"):
        sgd_step(param, np.ones(3), 0.1, momentum_buffer=np.zeros(3))
