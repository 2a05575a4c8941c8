"""Unit and property tests for convkit.lessons.equivariance and shift2d."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit import conv1d
from convkit.lessons.equivariance import conv1d_matrix, equivariance_error, shift2d


def torch_conv1d(x: np.ndarray, w: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """Single-channel torch cross-correlation of 1-D float64 arrays."""
    out = F.conv1d(
        torch.from_numpy(x)[None, None], torch.from_numpy(w)[None, None],
        stride=stride, padding=padding,
    )
    return out[0, 0].numpy()


# ----------------------------------------------------------------------------- conv1d_matrix


def test_conv1d_matrix_book_example() -> None:
    m = conv1d_matrix([1, 0, -1], 5)
    assert m.shape == (3, 5)
    np.testing.assert_array_equal(m @ np.arange(1.0, 6.0), [-2.0, -2.0, -2.0])
    np.testing.assert_array_equal(
        m,
        [[1, 0, -1, 0, 0], [0, 1, 0, -1, 0], [0, 0, 1, 0, -1]],
    )


def test_conv1d_matrix_padding_drops_taps_on_zeros() -> None:
    m = conv1d_matrix([1.0, 2.0, 3.0], 4, padding=1)
    np.testing.assert_array_equal(
        m,
        [[2, 3, 0, 0], [1, 2, 3, 0], [0, 1, 2, 3], [0, 0, 1, 2]],
    )


def test_conv1d_matrix_stride_skips_rows() -> None:
    m = conv1d_matrix([1.0, -1.0], 6, stride=2)
    np.testing.assert_array_equal(
        m,
        [[1, -1, 0, 0, 0, 0], [0, 0, 1, -1, 0, 0], [0, 0, 0, 0, 1, -1]],
    )


@pytest.mark.parametrize("seed", range(40))
def test_conv1d_matrix_matches_convkit_and_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 6))
    padding = int(rng.integers(0, 4))
    length = int(rng.integers(max(1, k - 2 * padding), 20))
    stride = int(rng.integers(1, 4))
    w = rng.normal(size=k)
    x = rng.normal(size=length)
    m = conv1d_matrix(w, length, stride=stride, padding=padding)
    expected_torch = torch_conv1d(x, w, stride, padding)
    expected_convkit = conv1d(x[None, None], w[None, None], stride=stride, padding=padding)[0, 0]
    assert m.shape == (expected_torch.size, length)
    np.testing.assert_allclose(m @ x, expected_torch, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m @ x, expected_convkit, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(1, 7),
    length=st.integers(1, 30),
    stride=st.integers(1, 5),
    padding=st.integers(0, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_conv1d_matrix_property_against_torch(
    k: int, length: int, stride: int, padding: int, seed: int
) -> None:
    if k > length + 2 * padding:
        with pytest.raises(ValueError, match="does not fit"):
            conv1d_matrix(np.ones(k), length, stride=stride, padding=padding)
        return
    rng = np.random.default_rng(seed)
    w, x = rng.normal(size=k), rng.normal(size=length)
    m = conv1d_matrix(w, length, stride=stride, padding=padding)
    np.testing.assert_allclose(m @ x, torch_conv1d(x, w, stride, padding), atol=1e-12)


def test_conv1d_matrix_is_banded_and_tied() -> None:
    w = np.array([3.0, -1.0, 4.0, 1.5])
    m = conv1d_matrix(w, 12, stride=2)
    for i in range(m.shape[0]):
        row = m[i]
        nz = np.flatnonzero(row)
        assert nz[0] == 2 * i and nz.size == w.size  # a contiguous band at i*stride
        np.testing.assert_array_equal(row[nz], w)  # the same weights in every row


def test_conv1d_matrix_dtypes() -> None:
    assert conv1d_matrix(np.ones(3, dtype=np.float32), 5).dtype == np.float32
    assert conv1d_matrix(np.ones(3), 5).dtype == np.float64
    assert conv1d_matrix([1, 2, 3], 5).dtype == np.float64


def test_conv1d_matrix_does_not_modify_weight() -> None:
    w = np.array([1.0, 2.0])
    conv1d_matrix(w, 4)
    np.testing.assert_array_equal(w, [1.0, 2.0])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"weight": np.ones((2, 3)), "length": 5}, ValueError, r"1-D.*\(2, 3\)"),
        ({"weight": [], "length": 5}, ValueError, "empty"),
        ({"weight": [1.0], "length": 0}, ValueError, r"length must be positive \(>= 1"),
        ({"weight": [1.0], "length": 5, "stride": 0}, ValueError, "stride must be positive"),
        ({"weight": [1.0], "length": 5, "padding": -1}, ValueError, "padding must be non-negative"),
        ({"weight": [1.0, 2.0, 3.0], "length": 2}, ValueError, "window does not fit.*size 2 "),
        ({"weight": [1.0], "length": 5.0}, TypeError, "length must be an int"),
        ({"weight": [1.0], "length": True}, TypeError, "length must be an int"),
        ({"weight": [1.0], "length": 5, "stride": "2"}, TypeError, "stride must be an int"),
        ({"weight": ["a", "b"], "length": 5}, TypeError, "real numbers"),
        ({"weight": [True, False], "length": 5}, TypeError, "real numbers"),
    ],
)
def test_conv1d_matrix_rejects_bad_input(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        conv1d_matrix(**kwargs)


# ----------------------------------------------------------------------------- shift2d


def test_shift2d_moves_content_and_fills() -> None:
    x = np.arange(1.0, 10.0).reshape(3, 3)
    np.testing.assert_array_equal(shift2d(x, 1, 0), [[0, 0, 0], [1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(shift2d(x, 0, -1), [[2, 3, 0], [5, 6, 0], [8, 9, 0]])
    np.testing.assert_array_equal(
        shift2d(x, -1, 1, fill=-7), [[-7, 4, 5], [-7, 7, 8], [-7, -7, -7]]
    )
    np.testing.assert_array_equal(shift2d(x, 0, 0), x)


def test_shift2d_definition_on_random_batch() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 6, 7))
    for dy, dx in [(2, -3), (-4, 1), (5, 6), (0, -6)]:
        out = shift2d(x, dy, dx)
        assert out.shape == x.shape
        for i in range(6):
            for j in range(7):
                si, sj = i - dy, j - dx
                want = x[..., si, sj] if 0 <= si < 6 and 0 <= sj < 7 else 0.0
                np.testing.assert_array_equal(out[..., i, j], want)


def test_shift2d_large_shift_empties_and_keeps_dtype() -> None:
    x = np.ones((4, 4), dtype=np.float32)
    out = shift2d(x, 4, 0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.zeros((4, 4)))
    np.testing.assert_array_equal(shift2d(x, 0, -9), np.zeros((4, 4)))
    np.testing.assert_array_equal(x, 1.0)  # input untouched


def test_shift2d_is_reversible_in_the_interior() -> None:
    x = np.random.default_rng(0).normal(size=(8, 8))
    back = shift2d(shift2d(x, 2, -1), -2, 1)
    np.testing.assert_array_equal(back[:6, 1:], x[:6, 1:])


def test_shift2d_per_image_offsets_equal_one_shift_per_image() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(9, 2, 5, 6)).astype(np.float32)
    dy = np.array([0, 1, -1, 2, -4, 5, 0, 1, 1])
    dx = np.array([0, 0, 3, -2, 1, 0, -6, 1, 1])  # 5 and -6 move an image out entirely
    out = shift2d(x, dy, dx, fill=-1.0)
    assert out.dtype == np.float32 and out.shape == x.shape
    for i in range(9):
        np.testing.assert_array_equal(out[i], shift2d(x[i], int(dy[i]), int(dx[i]), fill=-1.0))
    # an int for one axis, an array for the other
    np.testing.assert_array_equal(shift2d(x, 1, dx), shift2d(x, np.ones(9, int), dx))


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((np.ones((3, 4, 4)), np.ones(2, int), 0), ValueError, r"dy.*shape \(N,\)"),
        ((np.ones((4, 4)), np.zeros(4, int), 0), ValueError, "one offset per image"),
        ((np.ones((3, 4, 4)), 0, np.zeros(3)), TypeError, "integer array"),
        ((np.ones((3, 4, 4)), [0, 1, 2], 0), TypeError, "dy must be an int"),
    ],
)
def test_shift2d_rejects_bad_offset_arrays(args: tuple, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        shift2d(*args)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((np.ones(5), 1, 1), ValueError, r"\(\.\.\., H, W\)"),
        ((np.ones((3, 3)), 1.5, 0), TypeError, "dy must be an int"),
        ((np.ones((3, 3)), 0, None), TypeError, "dx must be an int"),
        ((np.array([["a"]]), 0, 0), TypeError, "real numbers"),
    ],
)
def test_shift2d_rejects_bad_input(args: tuple, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        shift2d(*args)


# ----------------------------------------------------------------------------- equivariance


def _torch_corr(kernel: np.ndarray):
    def op(x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(np.ascontiguousarray(x))[None, None]
        return F.conv2d(t, torch.from_numpy(kernel)[None, None])[0, 0].numpy()

    return op


@pytest.mark.parametrize(("dy", "dx"), [(2, 1), (-2, 3), (0, -3), (1, 1)])
def test_convolution_is_equivariant_away_from_borders(dy: int, dx: int) -> None:
    rng = np.random.default_rng(1)
    x, k = rng.normal(size=(14, 14)), rng.normal(size=(3, 3))
    op = _torch_corr(k)
    margin = max(abs(dy), abs(dx))
    assert equivariance_error(op, x, dy, dx, margin) < 1e-12
    assert equivariance_error(op, x, dy, dx, 0) > 1e-3  # the border does differ


def test_position_dependent_op_is_not_equivariant() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(10, 10))
    ramp = np.arange(10.0)[None, :]
    assert equivariance_error(lambda a: a * ramp, x, 0, 2, 3) > 0.1


def test_equivariance_error_rejects_bad_margin_and_shape_changes() -> None:
    x = np.ones((6, 6))
    with pytest.raises(ValueError, match="no interior"):
        equivariance_error(lambda a: a, x, 1, 1, 3)
    with pytest.raises(ValueError, match=r"margin must be non-negative \(>= 0\)"):
        equivariance_error(lambda a: a, x, 1, 1, -1)
    calls = iter([np.ones((4, 4)), np.ones((5, 5))])
    with pytest.raises(ValueError, match="keep the shape fixed"):
        equivariance_error(lambda a: next(calls), x, 1, 1, 1)
