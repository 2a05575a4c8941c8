"""convkit.lessons.learned: oriented templates, how well filters match them, how smooth
filters are, and which ReLU units are silent (the measurements behind chapter 6's
claims about what the trained network learned)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from convkit.lessons.filters import gabor_kernel
from convkit.lessons.learned import (
    neighbour_correlation,
    oriented_templates,
    relu_outputs,
    silent_units,
    template_match,
)


def test_oriented_templates_are_even_bars_and_odd_edges() -> None:
    bank = oriented_templates(5, orientations=4)
    assert bank.shape == (8, 5, 5)
    np.testing.assert_allclose(bank.sum(axis=(1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(bank[2], gabor_kernel(5, np.pi / 4, 6.0, 2.0, 0.0))
    bar, edge = bank[0], bank[1]  # orientation 0: vertical stripes
    np.testing.assert_allclose(bar, bar[:, ::-1])  # even: symmetric left-right
    np.testing.assert_allclose(edge, -edge[:, ::-1], atol=1e-12)  # odd: antisymmetric
    assert edge[2, 0] * edge[2, 4] < 0  # bright on one side, dark on the other


def test_template_match_is_one_for_templates_and_ignores_scale_sign_and_offset() -> None:
    bank = oriented_templates()
    filters = np.stack([3 * bank[5] + 7, -0.1 * bank[0], bank[9]])[:, None]
    np.testing.assert_allclose(template_match(filters, bank), 1.0)


def test_random_filters_match_far_worse_than_templates() -> None:
    rng = np.random.default_rng(0)
    scores = template_match(rng.uniform(-1, 1, (500, 5, 5)), oriented_templates())
    assert 0.25 < np.median(scores) < 0.5 and scores.max() < 0.9


def test_neighbour_correlation_of_smooth_and_random_filters() -> None:
    rng = np.random.default_rng(1)
    assert abs(neighbour_correlation(rng.normal(size=(200, 5, 5)))) < 0.1
    smooth = oriented_templates(7, wavelength=10.0, sigma=3.0)
    assert neighbour_correlation(smooth[:, None]) > 0.6
    ramp = np.tile(np.arange(5.0), (3, 5, 1)) * np.array([1.0, -1.0, 2.0])[:, None, None]
    assert neighbour_correlation(ramp) > 0.5


def test_errors() -> None:
    bank = oriented_templates()
    with pytest.raises(ValueError, match="odd"):
        oriented_templates(4)
    with pytest.raises(ValueError, match="differ"):
        template_match(np.ones((2, 3, 3)) * np.arange(9).reshape(3, 3), bank)
    with pytest.raises(ValueError, match="constant"):
        template_match(np.ones((1, 5, 5)), bank)
    with pytest.raises(ValueError, match="stack"):
        template_match(np.arange(25.0), bank)
    with pytest.raises(ValueError, match="kh, kw >= 2"):
        neighbour_correlation(np.ones((3, 1, 5)))
    with pytest.raises(TypeError):
        template_match("filters", bank)


def test_relu_outputs_runs_the_children_in_eval_mode_and_restores_the_mode() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Dropout(0.9), nn.Flatten(),
                        nn.Linear(3 * 4 * 4, 5), nn.ReLU()).train()
    x = np.random.default_rng(0).normal(size=(7, 1, 6, 6)).astype(np.float32)
    out = relu_outputs(net, x, batch_size=3)
    assert list(out) == ["1", "5"] and net.training
    assert out["1"].shape == (7, 3, 4, 4) and out["5"].shape == (7, 5)
    with torch.no_grad():
        expected = net.eval()(torch.from_numpy(x)).numpy()  # eval: dropout is off
    np.testing.assert_allclose(out["5"], expected, rtol=1e-6)
    assert (out["1"] >= 0).all()


def test_silent_units_finds_channels_and_units_zero_for_every_image() -> None:
    maps = np.ones((4, 3, 2, 2))
    maps[:, 1] = 0
    maps[2, 2, 1, 1] = 0  # zero somewhere is not silent
    assert silent_units(maps).tolist() == [False, True, False]
    vectors = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert silent_units(vectors).tolist() == [True, False, False]


def test_relu_outputs_and_silent_units_errors() -> None:
    with pytest.raises(TypeError, match=r"nn\.Sequential"):
        relu_outputs(nn.ReLU(), np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="N, C, H, W"):
        relu_outputs(nn.Sequential(nn.ReLU()), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="outputs must be"):
        silent_units(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="outputs must be"):
        silent_units(np.zeros((0, 3)))
