"""im2col against torch.nn.functional.unfold (layout, shapes, dtypes)."""

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given, settings
from ops_helpers import DTYPES, assert_close, im2col_cases, pair, to_torch

from convkit import conv2d, im2col

pytestmark = pytest.mark.usefixtures("one_thread")


def _torch_unfold(case):
    return F.unfold(
        to_torch(case.x),
        case.kernel_size,
        dilation=case.dilation,
        padding=case.padding,
        stride=case.stride,
    ).numpy()


@settings(max_examples=150)
@given(im2col_cases())
def test_im2col_matches_unfold(case):
    """im2col == F.unfold exactly (same row/column layout), batched and unbatched."""
    out = im2col(case.x, case.kernel_size, stride=case.stride, padding=case.padding,
                 dilation=case.dilation)
    assert_close(out, _torch_unfold(case), case.dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_im2col_layout_row_and_column_indices(dtype):
    """Row c*kh*kw + m*kw + k and column i*W_out + j hold x[n, c, i*sh + m, j*sw + k]."""
    n, c, h, w, kh, kw, sh, sw = 2, 3, 7, 8, 2, 3, 2, 1
    x = np.arange(n * c * h * w, dtype=dtype).reshape(n, c, h, w)
    cols = im2col(x, (kh, kw), stride=(sh, sw))
    h_out, w_out = (h - kh) // sh + 1, (w - kw) // sw + 1
    assert cols.shape == (n, c * kh * kw, h_out * w_out)
    assert cols.dtype == dtype
    for ci in range(c):
        for m in range(kh):
            for k in range(kw):
                for i in range(h_out):
                    for j in range(w_out):
                        row, col = ci * kh * kw + m * kw + k, i * w_out + j
                        assert cols[1, row, col] == x[1, ci, i * sh + m, j * sw + k]


def test_im2col_unbatched_is_batched_without_leading_axis():
    """Unbatched (C, H, W) gives (C*kh*kw, L), the same as the batch-of-one result."""
    x = np.random.default_rng(0).standard_normal((2, 5, 6))
    single = im2col(x, 3, padding=1)
    assert single.shape == (2 * 9, 30)
    np.testing.assert_array_equal(single, im2col(x[None], 3, padding=1)[0])


def test_im2col_gemm_reproduces_conv2d():
    """weight.reshape(C_out, -1) @ im2col(x) reshaped is the convolution (the course's use)."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 9, 7)), rng.standard_normal((4, 3, 3, 2))
    kwargs = {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2)}
    cols = im2col(x, (3, 2), **kwargs)
    h_out = (9 + 2 - 3) // 2 + 1
    w_out = (7 - 2 * (2 - 1) - 1) // 1 + 1
    out = (w.reshape(4, -1) @ cols).reshape(2, 4, h_out, w_out)
    np.testing.assert_allclose(out, conv2d(x, w, **kwargs), rtol=1e-12, atol=1e-12)


def test_im2col_pair_helper_consistency():
    """Int and equal-pair sizes give identical results."""
    x = np.random.default_rng(2).standard_normal((1, 2, 6, 6))
    a = im2col(x, 3, stride=2, padding=1, dilation=1)
    b = im2col(x, pair(3), stride=pair(2), padding=pair(1), dilation=pair(1))
    np.testing.assert_array_equal(a, b)
