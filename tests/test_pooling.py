"""max_pool2d (and its loop version max_pool2d_naive), avg_pool2d (both count_include_pad
modes) and global_avg_pool2d vs torch."""

import inspect

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given, settings
from ops_helpers import DTYPES, WindowCase, assert_close, pool_cases, to_torch

import convkit
from convkit import avg_pool2d, global_avg_pool2d, max_pool2d, max_pool2d_naive

pytestmark = pytest.mark.usefixtures("one_thread")


def _torch_max(case):
    return F.max_pool2d(to_torch(case.x), case.kernel_size, case.stride, case.padding).numpy()


def _torch_avg(case, count_include_pad):
    return F.avg_pool2d(
        to_torch(case.x), case.kernel_size, case.stride, case.padding,
        count_include_pad=count_include_pad,
    ).numpy()


@settings(max_examples=150)
@given(pool_cases(kinds=("normal", "ints", "neginf", "constant")))
def test_max_pool2d_matches_torch(case):
    """max_pool2d == torch (padding counts as -inf, stride None means kernel_size)."""
    out = max_pool2d(case.x, case.kernel_size, case.stride, case.padding)
    assert_close(out, _torch_max(case), case.dtype)


@settings(max_examples=100)
@given(pool_cases(max_extra=4, kinds=("normal", "ints", "neginf", "constant")))
def test_max_pool2d_naive_matches_max_pool2d_and_torch(case):
    """The loops == the vectorised max_pool2d exactly (a max only selects) == torch."""
    args = (case.x, case.kernel_size, case.stride, case.padding)
    naive = max_pool2d_naive(*args)
    vectorised = max_pool2d(*args)
    assert naive.dtype == vectorised.dtype
    np.testing.assert_array_equal(naive, vectorised)
    assert_close(naive, _torch_max(case), case.dtype)


def test_max_pool2d_naive_is_public_with_max_pool2d_signature():
    """convkit.max_pool2d_naive is exported and takes max_pool2d's arguments."""
    assert "max_pool2d_naive" in convkit.__all__
    assert inspect.getdoc(max_pool2d_naive)
    params = inspect.signature(max_pool2d_naive).parameters
    assert params == inspect.signature(max_pool2d).parameters


@settings(max_examples=150)
@given(pool_cases())
def test_avg_pool2d_matches_torch(case):
    """avg_pool2d == torch with the default count_include_pad=True (zeros in the divisor)."""
    out = avg_pool2d(case.x, case.kernel_size, case.stride, case.padding)
    assert_close(out, _torch_avg(case, True), case.dtype)


@settings(max_examples=150)
@given(pool_cases())
def test_avg_pool2d_exclude_pad_matches_torch(case):
    """avg_pool2d(count_include_pad=False) divides by the number of real pixels, like torch."""
    out = avg_pool2d(case.x, case.kernel_size, case.stride, case.padding, count_include_pad=False)
    assert_close(out, _torch_avg(case, False), case.dtype)


EDGE = {
    "window as large as the padded input": ((2, 3, 3, 5), (5, 7), None, (1, 1)),
    "window as large as the input": ((1, 2, 4, 3), (4, 3), None, 0),
    "stride larger than the kernel": ((1, 2, 11, 9), 2, (5, 4), 0),
    "non-square everything": ((2, 2, 7, 10), (3, 2), (2, 1), (1, 0)),
    "padding exactly half the kernel": ((1, 1, 5, 6), (2, 4), (1, 3), (1, 2)),
    "1x1 kernel": ((1, 2, 3, 4), 1, None, 0),
    "unbatched": ((3, 7, 6), 3, 2, 1),
    "batch of one": ((1, 1, 6, 6), 2, None, 0),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(EDGE))
def test_pools_edge_cases_match_torch(dtype, name):
    """All three pooling modes match torch on hand-picked edge geometries."""
    shape, k, s, p = EDGE[name]
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    case = WindowCase(x, k, s, p, dtype=dtype)
    assert_close(max_pool2d(x, k, s, p), _torch_max(case), dtype)
    assert_close(max_pool2d_naive(x, k, s, p), _torch_max(case), dtype)
    assert_close(avg_pool2d(x, k, s, p), _torch_avg(case, True), dtype)
    assert_close(avg_pool2d(x, k, s, p, count_include_pad=False), _torch_avg(case, False), dtype)


def test_max_pool2d_padding_is_minus_infinity():
    """On an all-negative input, padding must not win the max (it is -inf, not 0)."""
    x = -np.ones((1, 1, 2, 2)) - np.arange(4.0).reshape(1, 1, 2, 2)
    for pool in (max_pool2d, max_pool2d_naive):
        out = pool(x, 2, stride=1, padding=1)
        np.testing.assert_array_equal(out[0, 0], [[-1, -1, -2], [-1, -1, -2], [-3, -3, -4]])


def test_avg_pool2d_count_include_pad_is_keyword_only_and_matters():
    """The two divisor modes differ at the border: 1/4 vs 1/1 for a corner window."""
    x = np.ones((1, 1, 3, 3))
    incl = avg_pool2d(x, 2, stride=2, padding=1)
    excl = avg_pool2d(x, 2, stride=2, padding=1, count_include_pad=False)
    np.testing.assert_allclose(incl[0, 0], [[0.25, 0.5], [0.5, 1.0]])
    np.testing.assert_allclose(excl[0, 0], np.ones((2, 2)))
    with pytest.raises(TypeError):
        avg_pool2d(x, 2, 2, 1, False)


def test_pool_stride_defaults_to_kernel_size():
    """stride omitted or None == stride kernel_size (non-overlapping windows)."""
    x = np.random.default_rng(1).standard_normal((2, 2, 9, 8))
    for pool in (max_pool2d, avg_pool2d):
        ref = pool(x, (3, 2), stride=(3, 2))
        assert ref.shape == (2, 2, 3, 4)
        np.testing.assert_array_equal(pool(x, (3, 2)), ref)
        np.testing.assert_array_equal(pool(x, (3, 2), None), ref)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 1, 1), (3, 7, 2), (2, 1, 9, 1)])
def test_global_avg_pool2d_matches_adaptive_avg_pool_and_mean(dtype, shape):
    """global_avg_pool2d == adaptive_avg_pool2d(x, 1) squeezed == x.mean over (H, W)."""
    x = np.random.default_rng(2).standard_normal(shape).astype(dtype)
    out = global_avg_pool2d(x)
    ref = F.adaptive_avg_pool2d(to_torch(x), 1).numpy()[..., 0, 0]
    assert_close(out, ref, dtype)
    assert_close(out, x.astype(np.float64).mean(axis=(-2, -1)), dtype)
    assert out.shape == shape[:-2]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_pools_propagate_nan_like_torch(dtype):
    """A NaN inside a window makes that window's max and mean NaN (as in torch)."""
    x = np.arange(16, dtype=dtype).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    case = WindowCase(x, 2, None, 0, dtype=dtype)
    pairs = [(max_pool2d(x, 2), _torch_max(case)), (avg_pool2d(x, 2), _torch_avg(case, True)),
             (max_pool2d_naive(x, 2), _torch_max(case))]
    for out, ref in pairs:
        np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
        assert_close(np.nan_to_num(out), np.nan_to_num(ref), dtype)


@settings(max_examples=60)
@given(pool_cases(max_extra=8))
def test_global_avg_pool2d_property(case):
    """global_avg_pool2d == adaptive_avg_pool2d(x, 1) over random shapes (batched or not)."""
    ref = F.adaptive_avg_pool2d(to_torch(case.x), 1).numpy()[..., 0, 0]
    assert_close(global_avg_pool2d(case.x), ref, case.dtype)
