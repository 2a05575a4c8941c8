"""Inverted dropout (forward, cached pair, backward) and ch11's crops, flips, colour jitter
and cutout."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit.ops.dropout import dropout, dropout_backward, dropout_forward_cached
from convkit.training.augment import (
    GREY_WEIGHTS,
    apply_colour_jitter,
    apply_cutout,
    colour_jitter,
    cutout,
    horizontal_flip,
    random_crop,
)


def test_dropout_keeps_the_expected_value_and_drops_about_p():
    x = np.ones((200, 500))
    out, mask = dropout_forward_cached(x, 0.3, True, np.random.default_rng(0))
    assert abs(1 - mask.mean() - 0.3) < 0.005
    assert set(np.unique(out)) == {0.0, 1 / 0.7}  # the kept ones are scaled by 1 / (1 - p)
    assert abs(out.mean() - 1) < 0.01
    torch_out = F.dropout(torch.ones(200, 500), 0.3, True)  # the same statistics in torch
    assert abs(float((torch_out == 0).float().mean()) - 0.3) < 0.005


@settings(max_examples=50, deadline=None)
@given(
    st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]),
    st.integers(0, 2**32 - 1),
    st.sampled_from([np.float32, np.float64]),
)
def test_dropout_backward_is_the_gradient_torch_computes_for_the_same_mask(p, seed, dtype):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, 4, 5)).astype(dtype)
    g = rng.normal(size=x.shape).astype(dtype)
    out, mask = dropout_forward_cached(x, p, True, rng)
    assert out.dtype == dtype
    kept = np.ones(x.shape, bool) if mask is None else mask
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    scale = 0.0 if p == 1 else 1 / (1 - p)
    expected = xt * torch.tensor(kept) * scale  # dropout with this mask, written out
    expected.backward(torch.tensor(g, dtype=torch.float64))
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(dropout_backward(g, mask, p), xt.grad.numpy(), rtol=1e-6)


def test_dropout_in_eval_mode_is_the_identity_and_seeds_repeat():
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(dropout(x, 0.5, training=False), x)
    a = dropout(x, 0.5, True, np.random.default_rng(4))
    b = dropout(x, 0.5, True, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: dropout(np.ones(3), 1.5, True, np.random.default_rng(0)), ValueError),
        (lambda: dropout(np.ones(3), 0.5, True), ValueError),
        (lambda: dropout(np.ones(3), 0.5, True, 3), TypeError),
        (lambda: dropout_backward(np.ones(3), np.ones(3), 0.5), TypeError),
        (lambda: dropout_backward(np.ones(3), np.ones(4, bool), 0.5), ValueError),
    ],
)
def test_dropout_bad_arguments(call, error):
    with pytest.raises(error):
        call()


def _padded(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 3),
    st.integers(4, 9),
    st.integers(0, 3),
    st.integers(0, 2**32 - 1),
)
def test_every_crop_is_a_window_of_its_own_padded_image(n, c, side, pad, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, c, side, side + 1))
    size = (side - 1, side)
    crops = random_crop(x, size, pad, np.random.default_rng(seed))
    assert crops.shape == (n, c, *size) and crops.dtype == x.dtype
    padded = _padded(x, pad)
    for image, crop in zip(padded, crops, strict=True):
        windows = np.lib.stride_tricks.sliding_window_view(image, size, axis=(1, 2))
        assert any(
            np.array_equal(windows[:, i, j], crop)
            for i in range(windows.shape[1])
            for j in range(windows.shape[2])
        )


def test_crop_takes_a_numpy_integer_size():
    x = np.ones((2, 1, 6, 6))
    assert random_crop(x, np.int64(4), 1, np.random.default_rng(0)).shape == (2, 1, 4, 4)


def test_crop_offsets_are_per_image_and_cover_every_position():
    x = np.zeros((4000, 1, 4, 4))
    x[:, :, 0, 0] = 1.0  # a marker at the image's top-left corner
    crops = random_crop(x, 4, 2, np.random.default_rng(0))
    where = [tuple(np.argwhere(crop[0] == 1)[0]) if crop.any() else None for crop in crops]
    seen = {w for w in where if w is not None}
    assert len(seen) == 9  # the marker lands in 9 places, corner offsets 0..4 each way
    assert len(set(map(str, where))) > 9  # ... and is sometimes cut off


def test_flips_are_per_image_and_about_half():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 2, 3, 5))
    out = horizontal_flip(x, np.random.default_rng(2))
    flipped = np.array([np.array_equal(o, i[..., ::-1]) for o, i in zip(out, x, strict=True)])
    same = np.array([np.array_equal(o, i) for o, i in zip(out, x, strict=True)])
    assert np.all(flipped ^ same)
    assert abs(flipped.mean() - 0.5) < 0.04
    assert not np.shares_memory(out, x)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: random_crop(np.ones((1, 1, 4, 4)), 7, 1, np.random.default_rng(0)), ValueError),
        (lambda: random_crop(np.ones((1, 1, 4, 4)), 2, 0, None), TypeError),
        (lambda: random_crop(np.ones((1, 4, 4)), 2, 0, np.random.default_rng(0)), ValueError),
        (lambda: horizontal_flip(np.ones((1, 1, 4, 4)), np.random.default_rng(0), 2.0), ValueError),
    ],
)
def test_augment_bad_arguments(call, error):
    with pytest.raises(error):
        call()


# ---------------------------------------------------------------- colour jitter


def _grey_of(image: np.ndarray) -> np.ndarray:
    """The grey level of every pixel of one RGB image: (3, H, W) -> (H, W)."""
    return 0.299 * image[0] + 0.587 * image[1] + 0.114 * image[2]


def _jittered(image: np.ndarray, b: float, c: float, s: float) -> np.ndarray:
    """One RGB image (3, H, W) through torchvision's three formulas, written out: each step
    a blend clipped to [0, 1] (brightness with black, contrast with the mean grey level,
    saturation with the grey image)."""
    out = np.clip(b * image, 0, 1)
    out = np.clip(c * out + (1 - c) * _grey_of(out).mean(), 0, 1)
    return np.clip(s * out + (1 - s) * _grey_of(out)[None], 0, 1)


def test_grey_weights_are_the_luma_weights():
    assert GREY_WEIGHTS == (0.299, 0.587, 0.114)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(0, 2**32 - 1),
    st.sampled_from([np.float32, np.float64]),
)
def test_colour_jitter_follows_the_formulas_image_by_image(n, seed, dtype):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3, 5, 6)).astype(dtype)
    b, c, s = (rng.uniform(0, 2, n) for _ in range(3))
    out = apply_colour_jitter(x, b, c, s)
    assert out.shape == x.shape and out.dtype == dtype and not np.shares_memory(out, x)
    tolerance = 1e-6 if dtype == np.float32 else 1e-12
    for i in range(n):
        expected = _jittered(x[i].astype(np.float64), b[i], c[i], s[i])
        np.testing.assert_allclose(out[i], expected, rtol=0, atol=tolerance)


def test_colour_jitter_draws_each_images_factors_from_its_range():
    x = np.random.default_rng(0).random((6, 3, 4, 4))
    out = colour_jitter(x, np.random.default_rng(7), brightness=0.2, contrast=1.5, saturation=0.4)
    again = np.random.default_rng(7)  # the same draws, in the documented order
    b = again.uniform(0.8, 1.2, 6)
    c = again.uniform(0.0, 2.5, 6)  # max(0, 1 - 1.5)
    s = again.uniform(0.6, 1.4, 6)
    np.testing.assert_array_equal(out, apply_colour_jitter(x, b, c, s))
    only_saturation = colour_jitter(x, np.random.default_rng(3), saturation=0.5)
    s = np.random.default_rng(3).uniform(0.5, 1.5, 6)  # nothing is drawn for the zeros
    np.testing.assert_array_equal(only_saturation, apply_colour_jitter(x, saturation_factor=s))


@pytest.mark.parametrize(("spread", "low", "high"), [(0.4, 0.6, 1.4), (1.5, 0.0, 2.5)])
def test_brightness_factors_are_uniform_over_their_range(spread, low, high):
    x = np.full((20_000, 3, 1, 1), 0.25)  # dark enough never to be clipped
    out = colour_jitter(x, np.random.default_rng(1), brightness=spread)
    factors = out[:, 0, 0, 0] / 0.25
    assert np.all(out == out[:, :1]) and low <= factors.min() and factors.max() <= high
    assert factors.min() - low < 0.01 and high - factors.max() < 0.01
    counts = np.histogram(factors, np.linspace(low, high, 11))[0]  # ten equal bins
    assert np.all(np.abs(counts / 2_000 - 1) < 0.1), counts


def test_jitter_identities():
    x = np.random.default_rng(2).random((3, 3, 4, 5)).astype(np.float32)
    np.testing.assert_array_equal(apply_colour_jitter(x, 1.0, 1.0, 1.0), x)
    np.testing.assert_array_equal(apply_colour_jitter(x), x)  # every step skipped
    same = colour_jitter(x, np.random.default_rng(0))
    np.testing.assert_array_equal(same, x)
    assert same.dtype == x.dtype and not np.shares_memory(same, x)
    unbatched = apply_colour_jitter(x[1], 1.3, 0.7, 0.2)
    np.testing.assert_array_equal(unbatched, apply_colour_jitter(x[1:2], 1.3, 0.7, 0.2)[0])


def test_jitter_extremes_black_mean_grey_and_grey():
    x = np.random.default_rng(3).random((2, 3, 4, 4))
    np.testing.assert_array_equal(apply_colour_jitter(x, brightness_factor=0.0), 0 * x)
    flat = apply_colour_jitter(x, contrast_factor=0.0)
    for image, result in zip(x, flat, strict=True):
        np.testing.assert_allclose(result, _grey_of(image).mean(), rtol=0, atol=1e-12)
    grey = apply_colour_jitter(x, saturation_factor=0.0)
    for image, result in zip(x, grey, strict=True):
        for channel in result:
            np.testing.assert_allclose(channel, _grey_of(image), rtol=0, atol=1e-12)
    one_channel = x[:, :1]  # contrast on a grey image blends with its mean
    np.testing.assert_allclose(
        apply_colour_jitter(one_channel, contrast_factor=0.5),
        0.5 * one_channel + 0.5 * one_channel.mean(axis=(1, 2, 3), keepdims=True),
    )


def test_jitter_clips_every_step_to_the_unit_range():
    x = np.linspace(0, 1, 3 * 16).reshape(1, 3, 4, 4)
    bright = apply_colour_jitter(x, brightness_factor=3.0)
    assert bright.max() == 1.0 and np.count_nonzero(bright == 1.0) == np.count_nonzero(x >= 1 / 3)
    # the brightness step's clipping reaches the contrast step: not the same as one blend
    both = apply_colour_jitter(x, 3.0, 2.0)
    assert 0.0 <= both.min() and both.max() <= 1.0
    np.testing.assert_allclose(both[0], _jittered(x[0], 3.0, 2.0, 1.0), rtol=0, atol=1e-12)
    unclipped = 2.0 * 3.0 * x + (1 - 2.0) * _grey_of(3.0 * x[0]).mean()
    assert not np.allclose(both, np.clip(unclipped, 0, 1))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: colour_jitter(np.ones((2, 1, 3, 3)), np.random.default_rng(0), saturation=0.2),
         ValueError, r"^colour_jitter: saturation needs RGB images \(3 channels\), got 1"),
        (lambda: apply_colour_jitter(np.ones((2, 3, 3)), saturation_factor=0.5),
         ValueError, r"^apply_colour_jitter: saturation needs RGB images \(3 channels\), got 2"),
        (lambda: apply_colour_jitter(np.ones((1, 2, 3, 3)), contrast_factor=0.5),
         ValueError, r"^apply_colour_jitter: contrast needs grey or RGB images"),
        (lambda: colour_jitter(np.ones((1, 3, 3, 3)), np.random.default_rng(0), -0.1),
         ValueError, r"^colour_jitter: brightness must be a finite number >= 0"),
        (lambda: colour_jitter(np.ones((1, 3, 3, 3)), np.random.default_rng(0), True),
         TypeError, r"^colour_jitter: brightness must be a number"),
        (lambda: colour_jitter(np.ones((1, 3, 3, 3)), None, 0.2),
         TypeError, r"^colour_jitter: rng must be a numpy Generator"),
        (lambda: colour_jitter(np.ones((3, 3, 3)), np.random.default_rng(0), 0.2),
         ValueError, r"^colour_jitter: x must be 4-D"),
        (lambda: apply_colour_jitter(np.ones((2, 3, 3, 3)), [1.0, 1.0, 1.0]),
         ValueError, r"^apply_colour_jitter: brightness_factor must be a number or one per image"),
        (lambda: apply_colour_jitter(np.ones((2, 3, 3, 3)), contrast_factor=[1.0, -1.0]),
         ValueError, r"^apply_colour_jitter: contrast_factor must be finite and >= 0"),
        (lambda: apply_colour_jitter(np.ones((2, 3, 3, 3)), saturation_factor=float("nan")),
         ValueError, r"^apply_colour_jitter: saturation_factor must be finite and >= 0"),
        (lambda: apply_colour_jitter(np.ones((2, 3, 3, 3)), True),
         TypeError, r"^apply_colour_jitter: brightness_factor must hold real numbers"),
        (lambda: apply_colour_jitter(np.ones((3, 3, 3), dtype=np.uint8), 1.0),
         TypeError, r"^apply_colour_jitter: x must hold floats"),
        (lambda: apply_colour_jitter(np.ones((3, 3)), 1.0),
         ValueError, r"^apply_colour_jitter: x must be 4-D \(N, C, H, W\) or 3-D \(C, H, W\)"),
    ],
)  # fmt: skip
def test_colour_jitter_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------------------ cutout


def _cut_by_formula(image: np.ndarray, row: int, col: int, size: int) -> np.ndarray:
    """One image (C, H, W) with the pixels of rows and columns ``centre - size // 2 ..
    centre - size // 2 + size - 1`` set to 0, pixel by pixel."""
    out = image.copy()
    top, left = row - size // 2, col - size // 2
    for r in range(image.shape[1]):
        for c in range(image.shape[2]):
            if top <= r < top + size and left <= c < left + size:
                out[:, r, c] = 0
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 7),
    st.integers(0, 5),
    st.integers(0, 6),
    st.integers(0, 8),
    st.sampled_from([np.float32, np.float64]),
)
def test_apply_cutout_zeros_the_square_clipped_at_the_borders(size, row, col, channels, dtype):
    x = np.random.default_rng(size).random((2, channels or 1, 6, 7)).astype(dtype) + 0.5
    out = apply_cutout(x, [row, 5 - row], col, size)
    assert out.shape == x.shape and out.dtype == dtype and not np.shares_memory(out, x)
    np.testing.assert_array_equal(out[0], _cut_by_formula(x[0], row, col, size))
    np.testing.assert_array_equal(out[1], _cut_by_formula(x[1], 5 - row, col, size))
    np.testing.assert_array_equal(apply_cutout(x[0], row, col, size), out[0])  # unbatched


def test_cutout_square_sizes_at_the_centre_and_the_corners():
    ones = np.ones((1, 10, 10))
    assert np.count_nonzero(apply_cutout(ones, 5, 5, 4) == 0) == 16
    zeros = np.argwhere(apply_cutout(ones, 5, 5, 3)[0] == 0)
    assert zeros.min(axis=0).tolist() == [4, 4] and zeros.max(axis=0).tolist() == [6, 6]
    assert np.count_nonzero(apply_cutout(ones, 0, 0, 4) == 0) == 4  # rows and columns 0, 1
    assert np.count_nonzero(apply_cutout(ones, 9, 0, 5) == 0) == 9  # rows 7-9, columns 0-2
    np.testing.assert_array_equal(apply_cutout(ones, 3, 3, 0), ones)
    assert np.all(apply_cutout(ones, 5, 5, 30) == 0)


def test_cutout_draws_decisions_then_rows_then_columns():
    x = np.random.default_rng(0).random((50, 3, 8, 9))
    out = cutout(x, 3, np.random.default_rng(11), p=0.6)
    again = np.random.default_rng(11)
    cut = again.random(50) < 0.6
    rows, cols = again.integers(0, 8, 50), again.integers(0, 9, 50)
    for i in range(50):
        expected = _cut_by_formula(x[i], rows[i], cols[i], 3) if cut[i] else x[i]
        np.testing.assert_array_equal(out[i], expected)
    assert out.dtype == x.dtype and not np.shares_memory(out, x)


def test_cutout_centres_are_uniform_over_the_image_and_decided_per_image():
    x = np.ones((25_000, 1, 5, 5), dtype=np.float32)
    out = cutout(x, 1, np.random.default_rng(5))  # one pixel: the centre itself
    assert np.all((out == 0).sum(axis=(1, 2, 3)) == 1)
    counts = (out[:, 0] == 0).sum(axis=0)  # (5, 5): how often each pixel was the centre
    assert np.all(np.abs(counts / 1_000 - 1) < 0.12), counts
    half = cutout(np.ones((4_000, 1, 6, 6)), 2, np.random.default_rng(6), p=0.5)
    was_cut = (half == 0).any(axis=(1, 2, 3))
    assert abs(was_cut.mean() - 0.5) < 0.03
    np.testing.assert_array_equal(cutout(x[:10], 3, np.random.default_rng(0), p=0.0), x[:10])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: cutout(np.ones((1, 1, 4, 4)), -1, np.random.default_rng(0)),
         ValueError, r"^cutout: size must be non-negative"),
        (lambda: cutout(np.ones((1, 1, 4, 4)), 2.0, np.random.default_rng(0)),
         TypeError, r"^cutout: size must be an int"),
        (lambda: cutout(np.ones((1, 1, 4, 4)), 2, np.random.default_rng(0), 1.5),
         ValueError, r"^cutout: p must be between 0 and 1"),
        (lambda: cutout(np.ones((1, 1, 4, 4)), 2, 0),
         TypeError, r"^cutout: rng must be a numpy Generator"),
        (lambda: cutout(np.ones((1, 4, 4)), 2, np.random.default_rng(0)),
         ValueError, r"^cutout: x must be 4-D"),
        (lambda: apply_cutout(np.ones((1, 4, 4)), 4, 0, 2),
         ValueError, r"^apply_cutout: centre_row must be between 0 and 3, got 4"),
        (lambda: apply_cutout(np.ones((2, 1, 4, 4)), 0, [0, -1], 2),
         ValueError, r"^apply_cutout: centre_col must be between 0 and 3"),
        (lambda: apply_cutout(np.ones((2, 1, 4, 4)), [0, 1, 2], 0, 2),
         ValueError, r"^apply_cutout: centre_row must be an int or one per image \(2,\)"),
        (lambda: apply_cutout(np.ones((1, 4, 4)), 1.0, 0, 2),
         TypeError, r"^apply_cutout: centre_row must be an int"),
        (lambda: apply_cutout(np.ones((1, 4, 4)), True, 0, 2),
         TypeError, r"^apply_cutout: centre_row must be an int"),
        (lambda: apply_cutout(np.ones((1, 4, 4), dtype=int), 1, 0, 2),
         TypeError, r"^apply_cutout: x must hold floats"),
    ],
)  # fmt: skip
def test_cutout_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
