"""SkipConnectionSim's Python side: the gain model, checked against real random
matrices and autograd, and the widget's argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from convkit.sims import SkipConnectionSim
from convkit.sims.skip import (
    MAX_DEPTH,
    block_factor,
    idealised_gradient_scale,
    idealised_signal_scale,
)


def test_block_factor_plain_and_residual() -> None:
    assert block_factor(0.5, shortcut=False) == 0.5
    assert block_factor(0.5, shortcut=True) == pytest.approx(math.sqrt(1.25))
    assert block_factor(0, shortcut=True) == 1.0  # zero branch: the identity
    assert block_factor(0, shortcut=False) == 0.0  # zero branch: nothing gets through


@pytest.mark.parametrize("shortcut", [False, True])
def test_profiles_are_powers_of_the_block_factor(shortcut: bool) -> None:
    depth, gain = 7, 0.6
    factor = block_factor(gain, shortcut)
    grads = idealised_gradient_scale(depth, gain, shortcut)
    signal = idealised_signal_scale(depth, gain, shortcut)
    assert grads.shape == signal.shape == (depth,)
    assert grads[-1] == 1.0  # the top block gets the gradient as it arrives
    np.testing.assert_allclose(grads, [factor ** (depth - layer) for layer in range(1, depth + 1)])
    np.testing.assert_allclose(signal, [factor**layer for layer in range(1, depth + 1)])


def test_plain_gradient_vanishes_residual_does_not() -> None:
    plain = idealised_gradient_scale(30, 0.5, shortcut=False)
    residual = idealised_gradient_scale(30, 0.5, shortcut=True)
    assert plain[0] < 1e-8 < 1 <= residual[0]
    assert np.all(np.diff(plain) > 0) and np.all(np.diff(residual) < 0)


def test_identity_at_zero_gain() -> None:
    np.testing.assert_array_equal(idealised_signal_scale(5, 0.0, shortcut=True), np.ones(5))
    np.testing.assert_array_equal(idealised_signal_scale(5, 0.0, shortcut=False), np.zeros(5))


@pytest.mark.parametrize("shortcut", [False, True])
def test_model_matches_random_linear_blocks(shortcut: bool) -> None:
    """The model's claim: a random branch W (entries N(0, g^2 / n)) scales a vector's
    norm by about g, and I + W by about sqrt(1 + g^2), forwards and backwards."""
    n, depth, gain = 400, 6, 0.7
    gen = torch.Generator().manual_seed(8)
    weights = [torch.randn(n, n, generator=gen, dtype=torch.float64) * gain / math.sqrt(n)
               for _ in range(depth)]
    x = torch.randn(n, generator=gen, dtype=torch.float64)
    x = (x / x.norm()).requires_grad_(True)
    outputs, h = [], x
    for w in weights:
        h = (w @ h + h) if shortcut else (w @ h)
        h.retain_grad()
        outputs.append(h)
    top_grad = torch.randn(n, generator=gen, dtype=torch.float64)
    h.backward(top_grad / top_grad.norm())
    measured_signal = np.array([float(o.detach().norm()) for o in outputs])
    measured_grad = np.array([float(o.grad.norm()) for o in outputs])
    signal = idealised_signal_scale(depth, gain, shortcut)
    grad = idealised_gradient_scale(depth, gain, shortcut)
    np.testing.assert_allclose(measured_signal, signal, rtol=0.15)
    np.testing.assert_allclose(measured_grad, grad, rtol=0.15)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"depth": 0}, ValueError),
        ({"depth": MAX_DEPTH + 1}, ValueError),
        ({"depth": 2.5}, TypeError),
        ({"depth": True}, TypeError),
        ({"gain": -0.1}, ValueError),
        ({"gain": float("nan")}, ValueError),
        ({"gain": 2.5}, ValueError),
        ({"gain": "0.5"}, TypeError),
        ({"shortcut": "yes"}, TypeError),
        ({"view": "both"}, ValueError),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"^SkipConnectionSim: "):
        SkipConnectionSim(**kwargs)


def test_model_functions_refuse_bad_input() -> None:
    with pytest.raises(ValueError):
        idealised_gradient_scale(0, 0.5, True)
    with pytest.raises(ValueError):
        idealised_signal_scale(3, -1.0, False)
    with pytest.raises(TypeError):
        block_factor(None, True)  # type: ignore[arg-type]


def test_widget_state_and_module() -> None:
    sim = SkipConnectionSim(depth=12, gain=0.25, shortcut=False, view="signal")
    assert (sim.depth, sim.gain, sim.shortcut, sim.view) == (12, 0.25, False, "signal")
    assert "\"data-sim\": \"skip\"" in sim._esm
    assert "function blockFactor" in sim._esm and "function h(" in sim._esm  # _common.js too
