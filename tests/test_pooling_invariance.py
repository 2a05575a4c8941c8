"""Unit tests for convkit.lessons.pooling_invariance (chapter 4's measurements)."""

import numpy as np
import pytest
import torch

from convkit import linear_params, max_pool2d, shift2d
from convkit.lessons.pooling_invariance import (
    DIRECTIONS,
    POOLINGS,
    head_param_counts,
    relative_change,
    shift_invariance_table,
    unchanged_fraction,
)


@pytest.mark.parametrize(("dy", "dx"), [(0, 1), (0, -1), (1, 0), (-1, 0), (2, -3), (0, 0)])
def test_shift2d_matches_torch_roll_with_zeroed_border(dy, dx):
    x = np.random.default_rng(0).normal(size=(2, 5, 6))
    rolled = torch.roll(torch.tensor(x), shifts=(dy, dx), dims=(1, 2)).numpy()
    if dy > 0:
        rolled[:, :dy] = 0
    if dy < 0:
        rolled[:, dy:] = 0
    if dx > 0:
        rolled[:, :, :dx] = 0
    if dx < 0:
        rolled[:, :, dx:] = 0
    np.testing.assert_array_equal(shift2d(x, dy, dx), rolled)


def test_shift2d_past_the_border_is_all_zero_and_rejects_bad_input():
    assert not shift2d(np.ones((3, 3)), 3, 0).any()
    with pytest.raises(ValueError, match=r"\(\.\.\., H, W\)"):
        shift2d(np.ones(4), 0, 1)
    with pytest.raises(TypeError, match="dy must be an int"):
        shift2d(np.ones((3, 3)), 0.5, 0)


def test_max_pool_ignores_a_shift_inside_its_window():
    # one bright pixel at column 0 moved to column 1 stays in the same 2x2 window
    x = np.zeros((1, 4, 4))
    x[0, 1, 0] = 5.0
    assert unchanged_fraction(x, POOLINGS["max 2x2"], 0, 1) == 1.0
    assert unchanged_fraction(x, POOLINGS["max 2x2"], 0, 1, per="map") == 1.0
    # average pooling also keeps this one (same window, same sum) ...
    assert unchanged_fraction(x, POOLINGS["avg 2x2"], 0, 1) == 1.0
    # ... but no pooling sees every moved pixel: both active values changed
    assert unchanged_fraction(x, POOLINGS["none"], 0, 1) == 0.0
    # moving across the window border changes the max map
    assert unchanged_fraction(x, POOLINGS["max 2x2"], 0, -1) == 0.0


def test_unchanged_fraction_counts_values_by_hand():
    x = np.array([[[1.0, 0.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0]]])  # (1, 2, 4)
    pooled_before = max_pool2d(x, 2, 2)  # [[1, 2]]
    pooled_after = max_pool2d(shift2d(x, 0, 1), 2, 2)  # [[1, 0]]: the 2 left the map
    assert pooled_before.tolist() == [[[1.0, 2.0]]] and pooled_after.tolist() == [[[1.0, 0.0]]]
    assert unchanged_fraction(x, POOLINGS["max 2x2"], 0, 1) == 0.5
    assert unchanged_fraction(x, POOLINGS["max 2x2"], 0, 1, per="map") == 0.0


def test_active_only_and_errors():
    x = np.zeros((2, 4, 4))
    x[0, 0, 0] = 1.0
    # 8 pooled values, 1 active; a right shift keeps it: inactive zeros count only when asked
    assert unchanged_fraction(x, POOLINGS["max 2x2"], 0, 1, active_only=False) == 1.0
    with pytest.raises(ValueError, match="every pooled value is zero"):
        unchanged_fraction(np.zeros((1, 4, 4)), POOLINGS["max 2x2"], 0, 1)
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        unchanged_fraction(np.zeros((4, 4)), POOLINGS["max 2x2"], 0, 1)
    with pytest.raises(ValueError, match="per must be"):
        unchanged_fraction(x, POOLINGS["max 2x2"], 0, 1, per="pixel")


def test_table_on_random_maps_orders_the_poolings():
    maps = np.random.default_rng(1).normal(size=(200, 8, 8))
    table = shift_invariance_table(maps)
    assert set(table) == set(POOLINGS)
    assert all(set(row) == set(DIRECTIONS) for row in table.values())
    for direction in DIRECTIONS:
        # continuous random values: without pooling nothing survives a shift, the average
        # never survives, and the max survives often (when the window max stays inside)
        assert table["none"][direction] == 0.0
        assert table["avg 2x2"][direction] == 0.0
        assert 0.2 < table["max 2x2"][direction] < 0.8
    with pytest.raises(ValueError, match="unknown pooling"):
        shift_invariance_table(maps, poolings=["min"])
    with pytest.raises(ValueError, match="unknown direction"):
        shift_invariance_table(maps, directions=["diagonal"])


def test_head_param_counts():
    counts = head_param_counts(512, 7, 7, 1000)
    assert counts["flatten + dense"] == linear_params(512 * 7 * 7, 1000) == 25_089_000
    assert counts["global average pool + dense"] == linear_params(512, 1000) == 513_000
    with pytest.raises(ValueError):
        head_param_counts(0, 7, 7, 10)


def test_relative_change_by_hand_and_errors():
    x = np.array([[[3.0, 0.0], [0.0, 4.0]]])  # norm 5
    # no pooling, shift right: [[0, 3], [0, 0]] - x = [[-3, 3], [0, -4]], norm sqrt(34)
    assert relative_change(x, POOLINGS["none"], 0, 1) == pytest.approx(np.sqrt(34) / 5)
    assert relative_change(x, POOLINGS["max 2x2"], 0, 1) == pytest.approx(1 / 4)  # 4 -> 3
    with pytest.raises(ValueError, match="all zero"):
        relative_change(np.zeros((1, 2, 2)), POOLINGS["none"], 0, 1)
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        relative_change(np.zeros((2, 2)), POOLINGS["none"], 0, 1)
