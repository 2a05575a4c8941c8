"""Inverted dropout (forward, cached pair, backward) and ch11's crops and flips."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit.ops.dropout import dropout, dropout_backward, dropout_forward_cached
from convkit.training.augment import horizontal_flip, random_crop


def test_dropout_keeps_the_expected_value_and_drops_about_p():
    x = np.ones((200, 500))
    out, mask = dropout_forward_cached(x, 0.3, True, np.random.default_rng(0))
    assert abs(1 - mask.mean() - 0.3) < 0.005
    assert set(np.unique(out)) == {0.0, 1 / 0.7}  # the kept ones are scaled by 1 / (1 - p)
    assert abs(out.mean() - 1) < 0.01
    torch_out = F.dropout(torch.ones(200, 500), 0.3, True)  # the same statistics in torch
    assert abs(float((torch_out == 0).float().mean()) - 0.3) < 0.005


@settings(max_examples=50, deadline=None)
@given(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]), st.integers(0, 2**32 - 1),
       st.sampled_from([np.float32, np.float64]))
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
@given(st.integers(1, 6), st.integers(1, 3), st.integers(4, 9), st.integers(0, 3),
       st.integers(0, 2**32 - 1))
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
