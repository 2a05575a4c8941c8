"""Grouped conv2d and conv_transpose2d (chapter 12) against torch, the loop versions, and the
identity that makes the transposed convolution: it is conv2d's gradient with respect to x."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from ops_helpers import DTYPES, assert_close

from convkit import (
    conv2d,
    conv2d_backward,
    conv2d_naive,
    conv_transpose2d,
    conv_transpose2d_naive,
)
from convkit.ops.conv_transpose import conv_transpose_output_size

pytestmark = pytest.mark.usefixtures("one_thread")


def _rng(draw) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


@st.composite
def grouped_cases(draw, max_c: int = 3, max_k: int = 3, max_extra: int = 4):
    """A conv2d call with groups: (x, weight, bias, kwargs)."""
    dtype = draw(st.sampled_from(DTYPES))
    groups = draw(st.integers(1, 4))
    cin, cout = groups * draw(st.integers(1, max_c)), groups * draw(st.integers(1, max_c))
    kh, kw = draw(st.integers(1, max_k)), draw(st.integers(1, max_k))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = max(1, dh * (kh - 1) + 1 - 2 * ph) + draw(st.integers(0, max_extra))
    w = max(1, dw * (kw - 1) + 1 - 2 * pw) + draw(st.integers(0, max_extra))
    rng = _rng(draw)
    x = rng.standard_normal((draw(st.integers(1, 2)), cin, h, w)).astype(dtype)
    weight = rng.standard_normal((cout, cin // groups, kh, kw)).astype(dtype)
    bias = rng.standard_normal(cout).astype(dtype) if draw(st.booleans()) else None
    kwargs = {"stride": (sh, sw), "padding": (ph, pw), "dilation": (dh, dw), "groups": groups}
    return x, weight, bias, kwargs


@st.composite
def transpose_cases(draw, max_c: int = 3, max_k: int = 4, max_size: int = 5):
    """A conv_transpose2d call: (x, weight, bias, kwargs), output at least 1 x 1."""
    dtype = draw(st.sampled_from(DTYPES))
    groups = draw(st.integers(1, 3))
    cin, cout_g = groups * draw(st.integers(1, max_c)), draw(st.integers(1, max_c))
    kh, kw = draw(st.integers(1, max_k)), draw(st.integers(1, max_k))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    oph = draw(st.integers(0, max(sh, dh) - 1))
    opw = draw(st.integers(0, max(sw, dw) - 1))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    h, w = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    assume(conv_transpose_output_size(h, kh, sh, ph, oph, dh) >= 1)
    assume(conv_transpose_output_size(w, kw, sw, pw, opw, dw) >= 1)
    rng = _rng(draw)
    batched = draw(st.booleans())
    shape = (draw(st.integers(1, 2)), cin, h, w) if batched else (cin, h, w)
    x = rng.standard_normal(shape).astype(dtype)
    weight = rng.standard_normal((cin, cout_g, kh, kw)).astype(dtype)
    bias = rng.standard_normal(cout_g * groups).astype(dtype) if draw(st.booleans()) else None
    kwargs = {"stride": (sh, sw), "padding": (ph, pw), "output_padding": (oph, opw),
              "groups": groups, "dilation": (dh, dw)}
    return x, weight, bias, kwargs


def _torch(fn, x, weight, bias, kwargs) -> np.ndarray:
    t = (torch.from_numpy(x), torch.from_numpy(weight),
         None if bias is None else torch.from_numpy(bias))
    return fn(*t, **kwargs).numpy()


@settings(max_examples=120)
@given(grouped_cases())
def test_grouped_conv2d_matches_torch(case):
    x, weight, bias, kwargs = case
    assert_close(conv2d(x, weight, bias, **kwargs), _torch(F.conv2d, x, weight, bias, kwargs),
                 x.dtype)


@settings(max_examples=40)
@given(grouped_cases(max_c=2, max_extra=2))
def test_grouped_conv2d_naive_matches_torch(case):
    x, weight, bias, kwargs = case
    assert_close(conv2d_naive(x, weight, bias, **kwargs),
                 _torch(F.conv2d, x, weight, bias, kwargs), x.dtype)


def test_depthwise_convolution_keeps_channels_apart():
    """groups = C_in: each channel is filtered by its own kernel, alone."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 6))
    weight = rng.standard_normal((3, 1, 3, 3))
    out = conv2d(x, weight, padding=1, groups=3)
    for c in range(3):
        alone = conv2d(x[:, c : c + 1], weight[c : c + 1], padding=1)
        np.testing.assert_allclose(out[:, c : c + 1], alone, atol=1e-12)


@settings(max_examples=150)
@given(transpose_cases())
def test_conv_transpose2d_matches_torch(case):
    x, weight, bias, kwargs = case
    expected = _torch(F.conv_transpose2d, x, weight, bias, kwargs)
    assert_close(conv_transpose2d(x, weight, bias, **kwargs), expected, x.dtype)


@settings(max_examples=50)
@given(transpose_cases(max_c=2, max_k=3, max_size=3))
def test_conv_transpose2d_naive_matches_torch(case):
    x, weight, bias, kwargs = case
    expected = _torch(F.conv_transpose2d, x, weight, bias, kwargs)
    assert_close(conv_transpose2d_naive(x, weight, bias, **kwargs), expected, x.dtype)


@settings(max_examples=60)
@given(st.data())
def test_conv_transpose2d_is_the_input_gradient_of_conv2d(data):
    """For conv2d from (H, W) to (H_out, W_out), conv_transpose2d of a gradient at the
    output, with the output padding that gets back to (H, W), is conv2d_backward's grad_x."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    k, s, p, d = (data.draw(st.integers(lo, hi)) for lo, hi in ((1, 4), (1, 3), (0, 2), (1, 2)))
    size = max(1, d * (k - 1) + 1 - 2 * p) + data.draw(st.integers(0, 5))
    x = rng.standard_normal((2, 3, size, size))
    weight = rng.standard_normal((4, 3, k, k))
    out = conv2d(x, weight, stride=s, padding=p, dilation=d)
    grad_out = rng.standard_normal(out.shape)
    grad_x, _, _ = conv2d_backward(grad_out, x, weight, stride=s, padding=p, dilation=d)
    back = conv_transpose_output_size(out.shape[2], k, s, p, 0, d)
    transposed = conv_transpose2d(grad_out, weight, stride=s, padding=p, dilation=d,
                                  output_padding=size - back)
    np.testing.assert_allclose(transposed, grad_x, atol=1e-10)


def test_conv_transpose2d_output_size_formula():
    x = np.ones((1, 1, 4, 5))
    out = conv_transpose2d(x, np.ones((1, 2, 3, 2)), stride=(2, 3), padding=(1, 0),
                           output_padding=(1, 2), dilation=(1, 2))
    assert out.shape == (1, 2, (4 - 1) * 2 - 2 + 2 + 1 + 1, (5 - 1) * 3 + 2 + 2 + 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weight": np.ones((3, 2, 3, 3))}, r"weight.shape\[0\] is 3.*\(C_in, C_out / groups"),
        ({"output_padding": 2, "stride": 2}, "output_padding must be smaller"),
        ({"groups": 3}, "do not split into 3 groups"),
        ({"bias": np.ones(3)}, r"bias must have shape \(2,\)"),
        ({"padding": 5}, "the output would be"),
        ({"stride": 0}, "stride"),
    ],
)
def test_conv_transpose2d_errors_name_the_argument(kwargs, message):
    args = {"x": np.ones((1, 2, 3, 3)), "weight": np.ones((2, 2, 3, 3)), **kwargs}
    with pytest.raises(ValueError, match=message):
        conv_transpose2d(**args)


def test_grouped_conv2d_errors_name_the_groups():
    with pytest.raises(ValueError, match=r"expects 6 \(3 per group x 2 groups\)"):
        conv2d(np.ones((1, 4, 5, 5)), np.ones((2, 3, 3, 3)), groups=2)
    with pytest.raises(ValueError, match=r"3 output channels.*do not split into 2 groups"):
        conv2d(np.ones((1, 4, 5, 5)), np.ones((3, 2, 3, 3)), groups=2)
    with pytest.raises(ValueError, match="groups"):
        conv2d(np.ones((1, 4, 5, 5)), np.ones((2, 4, 3, 3)), groups=0)
