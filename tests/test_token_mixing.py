"""convkit.lessons.token_mixing: locality and permutation equivariance, measured."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from convkit.lessons.token_mixing import changed_positions, permutation_gap
from convkit.viz.token_mixing import plot_reach


def test_changed_positions_drops_the_feature_axis() -> None:
    before = np.zeros((2, 3, 4, 5))
    after = before.copy()
    after[0, 1, 2, 3] = 1e-3  # one feature of one position
    after[1, :, 0, 0] = 5.0
    moved = changed_positions(before, after, feature_axis=1)
    assert moved.shape == (2, 4, 5) and moved.sum() == 2
    assert moved[0, 2, 3] and moved[1, 0, 0]
    assert changed_positions(before, after, feature_axis=1, atol=1e-2).sum() == 1
    tokens = changed_positions(torch.zeros(1, 6, 8), torch.ones(1, 6, 8), feature_axis=-1)
    assert tokens.shape == (1, 6) and tokens.all()


def test_changed_positions_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="shape"):
        changed_positions(np.zeros((2, 3)), np.zeros((3, 2)), feature_axis=0)
    with pytest.raises(ValueError, match="feature_axis"):
        changed_positions(np.zeros((2, 3)), np.zeros((2, 3)), feature_axis=2)
    with pytest.raises(TypeError):
        changed_positions(np.zeros((2, 3)), np.zeros((2, 3)), feature_axis=1.0)
    with pytest.raises(ValueError, match="atol"):
        changed_positions(np.zeros((2, 3)), np.zeros((2, 3)), feature_axis=1, atol=-1)


def test_a_3x3_convolution_reaches_one_pixel_beyond_the_change() -> None:
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 4, 3, padding=1).double()
    x = torch.rand(1, 1, 12, 12, dtype=torch.float64)
    changed = x.clone()
    changed[..., 4:7, 5:8] += 1.0
    with torch.no_grad():
        moved = changed_positions(conv(x), conv(changed), feature_axis=1)[0]
    expected = np.zeros((12, 12), dtype=bool)
    expected[3:8, 4:9] = True
    assert np.array_equal(moved, expected)


def test_attention_without_positions_is_permutation_equivariant() -> None:
    torch.manual_seed(1)
    layer = torch.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16,
                                             dropout=0.0, batch_first=True).double().eval()
    tokens = torch.randn(3, 5, 8, dtype=torch.float64)
    order = [4, 2, 0, 1, 3]
    assert permutation_gap(layer, tokens, order) < 1e-12
    position = torch.randn(5, 8, dtype=torch.float64)
    assert permutation_gap(layer, tokens, order, position=position) > 1e-3
    assert permutation_gap(layer, tokens, list(range(5)), position=position) < 1e-12
    # a layer that mixes tokens by position (a fixed matrix over the sequence) is not
    mix = torch.randn(5, 5, dtype=torch.float64)
    assert permutation_gap(lambda z: mix @ z, tokens, order) > 1e-3


def test_permutation_gap_refuses_bad_input() -> None:
    layer = torch.nn.Identity()
    tokens = torch.zeros(1, 4, 2)
    with pytest.raises(ValueError, match="permutation"):
        permutation_gap(layer, tokens, [0, 1, 1, 3])
    with pytest.raises(ValueError, match="3-D"):
        permutation_gap(layer, torch.zeros(4, 2), [0, 1, 2, 3])
    with pytest.raises(ValueError, match="position"):
        permutation_gap(layer, tokens, [0, 1, 2, 3], position=torch.zeros(3, 2))


def test_plot_reach_draws_one_panel_per_mask() -> None:
    masks = [np.eye(6, dtype=bool), np.ones((4, 4), dtype=bool)]
    fig = plot_reach(masks, ["a", "b"])
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    # an all-moved mask is drawn dark, not washed out by autoscaling
    assert fig.axes[1].images[0].get_clim() == (-0.15, 1.0)
    plt.close(fig)
    with pytest.raises(ValueError, match="titles"):
        plot_reach(masks, ["a"])
    with pytest.raises(ValueError, match="2-D"):
        plot_reach([np.zeros(3)], ["a"])
