"""conv2d, conv2d_naive, conv1d, correlate2d and convolve2d against torch and the formulas."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_helpers import (
    DTYPES,
    ConvCase,
    assert_close,
    conv1d_cases,
    conv2d_cases,
    to_torch,
    torch_conv,
)

from convkit import conv1d, conv2d, conv2d_naive, convolve2d, correlate2d

pytestmark = pytest.mark.usefixtures("one_thread")

# Tiny geometries for the Python-loop reference implementation.
NAIVE = {"max_n": 2, "max_c": 2, "max_k": 3, "max_s": 3, "max_p": 2, "max_d": 2, "max_extra": 3}


def _case(xshape, wshape, *, bias=True, dtype=np.float64, seed=0, **kwargs) -> ConvCase:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xshape).astype(dtype)
    w = rng.standard_normal(wshape).astype(dtype)
    b = rng.standard_normal(wshape[0]).astype(dtype) if bias else None
    return ConvCase(x, w, b, dtype=dtype, **kwargs)


# Deterministic 2-D edge cases (each also run for float32).
EDGE_2D = {
    "kernel as large as the padded input": ((2, 3, 5, 7), (4, 3, 7, 9), {"padding": 1}),
    "kernel as large as the unpadded input": ((1, 2, 4, 6), (3, 2, 4, 6), {}),
    "dilated kernel as large as the input": ((1, 1, 5, 7), (2, 1, 3, 4), {"dilation": 2}),
    "stride larger than the kernel": ((1, 2, 9, 11), (3, 2, 2, 3), {"stride": (4, 5)}),
    "stride larger than the input": ((1, 1, 3, 4), (1, 1, 2, 2), {"stride": 7}),
    "non-square everything": (
        (2, 3, 7, 10),
        (2, 3, 2, 3),
        {"stride": (2, 1), "padding": (1, 2), "dilation": (2, 1)},
    ),
    "batch of one": ((1, 3, 6, 6), (4, 3, 3, 3), {"padding": 1}),
    "unbatched": ((3, 6, 5), (4, 3, 3, 2), {"stride": (1, 2)}),
    "1x1 kernel": ((2, 4, 3, 5), (6, 4, 1, 1), {}),
    "1x1 input, padding 1": ((1, 2, 1, 1), (3, 2, 3, 3), {"padding": 1}),
    "single row input": ((2, 2, 1, 8), (1, 2, 1, 3), {"stride": (1, 2)}),
    "same, odd kernel": ((2, 2, 6, 5), (3, 2, 3, 5), {"padding": "same"}),
    "same, even kernel (extra zero bottom/right)": (
        (1, 2, 6, 7), (2, 2, 4, 2), {"padding": "same"}
    ),
    "same, even kernel, dilation": (
        (1, 1, 7, 6), (1, 1, 2, 4), {"padding": "same", "dilation": (3, 1)}
    ),
    "valid": ((2, 2, 6, 5), (3, 2, 3, 2), {"padding": "valid", "stride": 2}),
}


@pytest.mark.parametrize("fn", [conv2d, conv2d_naive], ids=["conv2d", "conv2d_naive"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(EDGE_2D))
def test_conv2d_edge_cases_match_torch(fn, dtype, name):
    """conv2d and conv2d_naive match torch on hand-picked edge geometries."""
    xshape, wshape, kwargs = EDGE_2D[name]
    case = _case(xshape, wshape, dtype=dtype, **kwargs)
    assert_close(fn(case.x, case.weight, case.bias, **case.kwargs), torch_conv(case), dtype)


@settings(max_examples=150)
@given(conv2d_cases())
def test_conv2d_matches_torch(case):
    """conv2d == torch conv2d (shape, dtype, values) over random valid geometries."""
    out = conv2d(case.x, case.weight, case.bias, **case.kwargs)
    assert_close(out, torch_conv(case), case.dtype)


@settings(max_examples=60)
@given(conv2d_cases(**NAIVE))
def test_conv2d_naive_matches_torch(case):
    """conv2d_naive == torch conv2d over tiny random geometries."""
    out = conv2d_naive(case.x, case.weight, case.bias, **case.kwargs)
    assert_close(out, torch_conv(case), case.dtype)


@settings(max_examples=60)
@given(conv2d_cases(**NAIVE))
def test_conv2d_naive_agrees_with_conv2d(case):
    """The loop version and the vectorised version agree on the same call."""
    naive = conv2d_naive(case.x, case.weight, case.bias, **case.kwargs)
    fast = conv2d(case.x, case.weight, case.bias, **case.kwargs)
    assert_close(naive, fast.astype(np.float64), case.dtype)


def test_conv2d_positional_arguments_follow_torch_order():
    """conv2d(x, weight, bias, stride, padding, dilation) takes torch's positional order."""
    case = _case((1, 2, 9, 8), (3, 2, 3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    out = conv2d(case.x, case.weight, case.bias, (2, 1), (1, 2), (1, 2))
    assert_close(out, torch_conv(case), np.float64)


def test_conv2d_defaults_are_torch_defaults():
    """Omitted bias/stride/padding/dilation mean None/1/0/1."""
    case = _case((2, 2, 6, 7), (3, 2, 3, 2), bias=False)
    assert_close(conv2d(case.x, case.weight), torch_conv(case), np.float64)
    assert_close(conv2d_naive(case.x, case.weight), torch_conv(case), np.float64)


def test_conv2d_accepts_numpy_integer_sizes():
    """Sizes given as numpy integers behave like Python ints."""
    case = _case((1, 2, 9, 8), (3, 2, 3, 2), stride=2, padding=1, dilation=2)
    out = conv2d(case.x, case.weight, case.bias, stride=np.int64(2), padding=np.int32(1),
                 dilation=(np.int64(2), 2))
    assert_close(out, torch_conv(case), np.float64)


# --------------------------------------------------------------------------- conv1d
@settings(max_examples=150)
@given(conv1d_cases())
def test_conv1d_matches_torch(case):
    """conv1d == torch conv1d (incl. 'same'/'valid', dilation, unbatched) on random cases."""
    out = conv1d(case.x, case.weight, case.bias, **case.kwargs)
    assert_close(out, torch_conv(case, ndim=1), case.dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize(
    ("length", "k", "kwargs"),
    [
        (7, 4, {"padding": "same"}),
        (7, 2, {"padding": "same", "dilation": 3}),
        (6, 5, {"padding": "same", "dilation": 2}),
        (1, 3, {"padding": "same"}),
        (5, 5, {}),
        (5, 3, {"padding": 1, "stride": 9}),
        (9, 3, {"padding": "valid", "stride": 4}),
        (4, 3, {"dilation": 2, "padding": 1}),
    ],
)
def test_conv1d_edge_cases_match_torch(dtype, length, k, kwargs):
    """conv1d matches torch for even 'same' kernels, kernel == input, stride > input."""
    case = _case((2, 2, length), (3, 2, k), dtype=dtype, **kwargs)
    assert_close(conv1d(case.x, case.weight, case.bias, **kwargs), torch_conv(case, 1), dtype)


def test_conv1d_same_puts_extra_zero_on_the_right():
    """'same' with an even kernel pads (left, right) = (1, 2) for k=4, like torch."""
    x = np.arange(7.0).reshape(1, 1, 7)
    out = conv1d(x, np.ones((1, 1, 4)), padding="same")
    np.testing.assert_allclose(out[0, 0], [3, 6, 10, 14, 18, 15, 11])


def test_conv1d_agrees_with_conv2d_on_a_single_row():
    """conv1d(x, w) equals conv2d on the same data seen as a height-1 image."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 11)), rng.standard_normal((4, 3, 3))
    b = rng.standard_normal(4)
    out1 = conv1d(x, w, b, stride=2, padding=1, dilation=2)
    out2 = conv2d(x[:, :, None, :], w[:, :, None, :], b, stride=(1, 2), padding=(0, 1),
                  dilation=(1, 2))
    np.testing.assert_allclose(out1, out2[:, :, 0, :], rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- correlate/convolve
def _direct_correlate(image, kernel):
    """S(i, j) = sum_m sum_n I(i+m, j+n) K(m, n), written out with loops."""
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for m in range(kh):
                for n in range(kw):
                    out[i, j] += image[i + m, j + n] * kernel[m, n]
    return out


@st.composite
def _image_kernel(draw):
    dtype = draw(st.sampled_from(DTYPES))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    h, w = kh + draw(st.integers(0, 6)), kw + draw(st.integers(0, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal((h, w)).astype(dtype), rng.standard_normal((kh, kw)).astype(dtype)


@settings(max_examples=80)
@given(_image_kernel())
def test_correlate2d_matches_direct_formula_and_torch(image_kernel):
    """correlate2d == the loop formula == torch conv2d (cross-correlation), valid mode."""
    image, kernel = image_kernel
    out = correlate2d(image, kernel)
    assert_close(out, _direct_correlate(image.astype(np.float64), kernel.astype(np.float64)),
                 image.dtype)
    ref = F.conv2d(to_torch(image)[None, None], to_torch(kernel)[None, None])[0, 0].numpy()
    assert_close(out, ref, image.dtype)


@settings(max_examples=80)
@given(_image_kernel())
def test_convolve2d_is_correlation_with_flipped_kernel(image_kernel):
    """convolve2d(I, K) == correlate2d(I, K flipped in both axes), checked with torch."""
    image, kernel = image_kernel
    flipped = torch.flip(to_torch(kernel), dims=(0, 1))
    ref = F.conv2d(to_torch(image)[None, None], flipped[None, None])[0, 0].numpy()
    assert_close(convolve2d(image, kernel), ref, image.dtype)


def test_convolve2d_is_not_correlate2d_for_asymmetric_kernels():
    """The two operations differ when the kernel is not symmetric (catches a missing flip)."""
    image = np.arange(16.0).reshape(4, 4) ** 2
    kernel = np.array([[1.0, 2.0], [0.0, -1.0]])
    assert not np.allclose(convolve2d(image, kernel), correlate2d(image, kernel))
