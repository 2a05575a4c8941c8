"""The spread of activations and gradients through a deep plain stack (ch10)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convkit.lessons.depth_spread import (
    INIT_GAINS,
    Spread,
    deep_stack,
    layer_histograms,
    log_magnitude_histograms,
    spread_through_depth,
)


@pytest.fixture(scope="module")
def spreads():
    return {
        (name, bn): spread_through_depth(30, gain, bn, width=32)
        for name, gain in INIT_GAINS.items()
        for bn in (False, True)
    }


def test_only_kaiming_keeps_the_signal_level_through_30_blocks(spreads):
    def growth(name):
        s = spreads[(name, False)]
        return s.activation_std[-1] / s.activation_std[0]

    assert 0.1 < growth("Kaiming/He") < 10
    assert growth("Xavier/Glorot") < 1e-2  # half the power per block: about 2**-14.5 in std
    assert growth("too small") < 1e-6
    assert growth("too large") > 1e3


def test_batch_norm_gives_every_block_the_std_of_a_rectified_unit_normal(spreads):
    rectified = math.sqrt(0.5 - 1 / (2 * math.pi))  # std of max(z, 0), z ~ N(0, 1)
    for name in INIT_GAINS:
        stds = spreads[(name, True)].activation_std
        np.testing.assert_allclose(stds, rectified, rtol=0.05)


def test_the_stack_is_what_it_says():
    import torch

    torch.manual_seed(0)
    model = deep_stack(3, 64, 1.0, batch_norm=True)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU"] * 3
    assert float(model[0].weight.detach().std()) == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.02)


def test_the_same_seed_gives_the_same_spread_and_histograms_sum_to_one():
    a = spread_through_depth(5, 1.0, False, seed=3, keep=100)
    b = spread_through_depth(5, 1.0, False, seed=3, keep=100)
    np.testing.assert_array_equal(a.activation_std, b.activation_std)
    hist = layer_histograms(a, np.linspace(0, 3, 13))
    assert hist.shape == (5, 12)
    np.testing.assert_allclose(hist.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="keep"):
        layer_histograms(spread_through_depth(2), np.linspace(0, 1, 3))


def test_log_magnitude_histograms_count_powers_of_ten_and_zeros_apart():
    values = np.array([[0.0, 0.0, 0.02, 0.5, 3.0, -40.0, 1e-9, 1e9]], dtype=np.float32)
    zeros, fractions = log_magnitude_histograms(Spread(None, None, values), [-2, -1, 0, 1])
    np.testing.assert_allclose(zeros, [2 / 8])
    # 0.02 and 1e-9 (clipped) in 0.01..0.1; 0.5 in 0.1..1; 3, |-40| and 1e9 (clipped) in 1..10
    np.testing.assert_allclose(fractions, [[2 / 8, 1 / 8, 3 / 8]])


def test_log_magnitude_histograms_of_a_spread_sum_to_one_with_the_zeros():
    spread = spread_through_depth(6, 0.5, False, width=8, batch=2, size=8, keep=10**6)
    edges = np.arange(-8, 2.01, 0.5)
    zeros, fractions = log_magnitude_histograms(spread, edges)
    assert zeros.shape == (6,) and fractions.shape == (6, 20)
    np.testing.assert_allclose(zeros + fractions.sum(axis=1), 1.0)
    np.testing.assert_allclose(zeros, (spread.activations == 0).mean(axis=1))
    assert 0.3 < zeros.min() and zeros.max() < 0.7  # a ReLU zeroes about half its inputs
    # gain 0.5 shrinks the std about 2x per block: the histogram's mean power of ten falls
    centres = (edges[:-1] + edges[1:]) / 2
    mean_power = (fractions @ centres) / fractions.sum(axis=1)
    assert np.all(np.diff(mean_power) < 0)


@pytest.mark.parametrize("edges", [[0.0], [1.0, 0.0], [0.0, np.inf], [[0.0, 1.0]]])
def test_log_magnitude_histograms_refuse_bad_edges(edges):
    spread = Spread(None, None, np.ones((1, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"^log_magnitude_histograms: edges"):
        log_magnitude_histograms(spread, edges)
    with pytest.raises(ValueError, match="keep"):
        log_magnitude_histograms(spread_through_depth(2), [0.0, 1.0])
