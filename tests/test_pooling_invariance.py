"""Unit tests for convkit.lessons.pooling_invariance (chapter 4's measurements)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convkit import avg_pool2d, linear_params, max_pool2d, shift2d
from convkit.lessons.pooling_invariance import (
    DIRECTIONS,
    POOLINGS,
    change_profile,
    count_in_words,
    head_param_counts,
    random_conv_pool_net,
    relative_change,
    repeated,
    shift_invariance_table,
    summary_change,
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


def test_change_profile_counts_and_sizes_by_hand():
    # row [0, 4, 1, 0] shifted right is [0, 0, 4, 1]: max [4, 1] -> [0, 4] (both change,
    # by 4 and 3), average [1, 0.25] -> [0, 1.25] (both change, by 1)
    x = np.array([[[0.0, 4.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]])
    assert max_pool2d(shift2d(x, 0, 1), 2, 2).tolist() == [[[0.0, 4.0]]]
    assert change_profile(x, POOLINGS["max 2x2"], 0, 1) == {"changed": 1.0, "mean_change": 3.5}
    assert change_profile(x, POOLINGS["avg 2x2"], 0, 1) == {"changed": 1.0, "mean_change": 1.0}
    # row [4, 0, 1, 2] shifted right is [0, 4, 0, 1]: max [4, 2] -> [4, 1] (one changes, by
    # 1), average [1, 0.75] -> [1, 0.25] (one changes, by 0.5)
    y = np.array([[[4.0, 0.0, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0]]])
    assert change_profile(y, POOLINGS["max 2x2"], 0, 1) == {"changed": 0.5, "mean_change": 1.0}
    assert change_profile(y, POOLINGS["avg 2x2"], 0, 1) == {"changed": 0.5, "mean_change": 0.5}
    assert change_profile(x, POOLINGS["max 2x2"], 0, 0) == {"changed": 0.0, "mean_change": 0.0}
    with pytest.raises(ValueError, match="every pooled value is zero"):
        change_profile(np.zeros((1, 2, 2)), POOLINGS["max 2x2"], 0, 1)
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        change_profile(np.zeros((2, 2)), POOLINGS["max 2x2"], 0, 1)


def test_repeated_pooling_is_one_wider_window():
    x = np.random.default_rng(2).normal(size=(3, 8, 8))
    twice = repeated(POOLINGS["max 2x2"], 2)
    np.testing.assert_array_equal(twice(x), max_pool2d(x, 4, 4))
    np.testing.assert_allclose(repeated(POOLINGS["avg 2x2"], 2)(x), avg_pool2d(x, 4, 4))
    np.testing.assert_array_equal(repeated(POOLINGS["none"], 3)(x), x)
    with pytest.raises(ValueError):
        repeated(POOLINGS["max 2x2"], 0)


def test_summary_change_is_periodic_in_the_total_stride():
    """A global average after stride-2 max pooling(s) ignores shifts by multiples of the
    total stride but not the shifts in between; averages of averages ignore every shift."""
    framed = np.pad(np.random.default_rng(3).random((20, 8, 8)), ((0, 0), (8, 8), (8, 8)))
    shifts = [(0, s) for s in range(9)]
    once = summary_change(framed, POOLINGS["max 2x2"], shifts)
    twice = summary_change(framed, repeated(POOLINGS["max 2x2"], 2), shifts)
    average = summary_change(framed, repeated(POOLINGS["avg 2x2"], 2), shifts)
    assert max(once[::2]) < 1e-12 and min(once[1::2]) > 0.01
    assert max(twice[4], twice[8]) < 1e-12 and min(twice[1:4] + twice[5:8]) > 0.01
    assert max(average) < 1e-12
    assert summary_change(framed, POOLINGS["none"], [(1, -2)]) == [pytest.approx(0, abs=1e-12)]
    with pytest.raises(ValueError, match="all zero"):
        summary_change(np.zeros((1, 4, 4)), POOLINGS["none"], shifts)
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        summary_change(np.zeros((4, 4)), POOLINGS["none"], shifts)


def test_random_conv_pool_net_matches_torch_and_is_reproducible():
    net = random_conv_pool_net(seed=5, channels=(2, 3))
    x = np.random.default_rng(4).random((4, 12, 12))
    out = net(x)
    assert out.shape == (4, 3, 3, 3) and out.dtype == np.float64 and (out >= 0).all()
    np.testing.assert_array_equal(out, random_conv_pool_net(seed=5, channels=(2, 3))(x))
    assert not np.array_equal(out, random_conv_pool_net(seed=6, channels=(2, 3))(x))
    # the same layers written out with torch
    g = torch.Generator().manual_seed(5)
    w1, w2 = torch.randn(2, 1, 3, 3, generator=g), torch.randn(3, 2, 3, 3, generator=g)
    t = torch.tensor(x, dtype=torch.float32)[:, None]
    for w in (w1, w2):
        t = F.max_pool2d(torch.relu(F.conv2d(t, w, padding=1)), 2)
    np.testing.assert_allclose(out, t.numpy(), rtol=1e-6)
    with pytest.raises(ValueError):
        random_conv_pool_net(channels=())
    with pytest.raises(ValueError):
        random_conv_pool_net(channels=(0,))


@pytest.mark.parametrize(
    ("count", "total", "words"),
    [(0, 1000, "none of the 1,000 digits"), (1000, 1000, "all 1,000 digits"),
     (1, 1000, "one of the 1,000 digits"), (12, 1000, "12 of the 1,000 digits")],
)
def test_count_in_words(count, total, words):
    assert count_in_words(count, total, "digits") == words


def test_count_in_words_rejects_impossible_counts():
    with pytest.raises(ValueError, match="larger than total"):
        count_in_words(3, 2, "maps")
    with pytest.raises(ValueError):
        count_in_words(-1, 2, "maps")
