"""Tests for convkit.lessons.equivariance.shift_mismatch: strided layers are equivariant
only to shifts by multiples of their stride (chapter 0)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convkit import max_pool2d
from convkit.lessons.equivariance import equivariance_error, shift_mismatch


def _torch_conv(kernel: np.ndarray, stride: int):
    """A single-channel torch cross-correlation with ``stride``: (H, W) -> (H', W')."""

    def op(x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(np.ascontiguousarray(x))[None, None]
        return F.conv2d(t, torch.from_numpy(kernel)[None, None], stride=stride)[0, 0].numpy()

    return op


@pytest.fixture
def image() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(24, 26))


@pytest.mark.parametrize(("dy", "dx"), [(1, 2), (-2, 0), (3, -1)])
def test_equal_shifts_reproduce_equivariance_error(image: np.ndarray, dy: int, dx: int) -> None:
    op = _torch_conv(np.random.default_rng(4).normal(size=(3, 3)), stride=1)
    for margin in (0, 3):
        assert shift_mismatch(op, image, (dy, dx), (dy, dx), margin) == equivariance_error(
            op, image, dy, dx, margin
        )


@pytest.mark.parametrize("stride", [2, 3])
@pytest.mark.parametrize(("a", "b"), [(1, 0), (1, 1), (-1, 2)])
def test_strided_conv_follows_shifts_by_multiples_of_the_stride(
    image: np.ndarray, stride: int, a: int, b: int
) -> None:
    op = _torch_conv(np.random.default_rng(5).normal(size=(3, 3)), stride)
    margin = max(abs(a), abs(b)) + 1
    assert shift_mismatch(op, image, (stride * a, stride * b), (a, b), margin) < 1e-12
    # the same output shift does not explain a shift of one pixel less
    assert shift_mismatch(op, image, (stride * a - 1, stride * b), (a, b), margin) > 1e-3


def test_strided_conv_matches_no_output_shift_for_a_one_pixel_shift(image: np.ndarray) -> None:
    op = _torch_conv(np.random.default_rng(6).normal(size=(3, 3)), stride=2)
    gaps = [shift_mismatch(op, image, (0, 1), (0, s), 2) for s in (-1, 0, 1)]
    assert min(gaps) > 1e-3


def test_max_pooling_is_equivariant_to_stride_multiples_only(image: np.ndarray) -> None:
    def pool(x: np.ndarray) -> np.ndarray:
        return max_pool2d(x[None, None], 2)[0, 0]

    assert shift_mismatch(pool, image, (2, 4), (1, 2), 2) == 0.0
    assert shift_mismatch(pool, image, (0, 1), (0, 0), 2) > 0.1


def test_shift_mismatch_rejects_bad_shifts_and_margins(image: np.ndarray) -> None:
    with pytest.raises(ValueError, match="shift must be an int or a pair of ints"):
        shift_mismatch(lambda a: a, image, (1, 2, 3), (1, 2), 1)
    with pytest.raises(TypeError, match="out_shift must be an int"):
        shift_mismatch(lambda a: a, image, (1, 2), (1.5, 2), 1)
    with pytest.raises(ValueError, match="shift_mismatch: margin=13 leaves no interior"):
        shift_mismatch(lambda a: a, image, (1, 2), (1, 2), 13)
    with pytest.raises(ValueError, match="shift_mismatch: margin must be non-negative"):
        shift_mismatch(lambda a: a, image, (1, 2), (1, 2), -1)
