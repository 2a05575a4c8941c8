"""conv2d_backward and max_pool2d_backward (and its cached pair) vs torch autograd and
central differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_helpers import (
    DTYPES,
    ConvCase,
    WindowCase,
    assert_close,
    conv2d_cases,
    pair,
    pool_cases,
    to_torch,
)

from convkit import conv2d_backward, max_pool2d, max_pool2d_backward
from convkit.lessons.gradcheck import numerical_gradient
from convkit.ops.pooling import max_pool2d_backward_cached, max_pool2d_forward_cached

pytestmark = pytest.mark.usefixtures("one_thread")


def _rel_err(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    denom = max(np.linalg.norm(a), np.linalg.norm(b), 1e-30)
    return float(np.linalg.norm(a - b) / denom)


# --------------------------------------------------------------------------- conv2d_backward
def _torch_conv_grads(case, grad_out):
    xt, wt = to_torch(case.x, True), to_torch(case.weight, True)
    bt = torch.zeros(case.weight.shape[0], dtype=torch.float64, requires_grad=True)
    out = F.conv2d(xt, wt, bt, **case.kwargs)
    out.backward(to_torch(grad_out))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def _torch_out_shape(case):
    with torch.no_grad():
        return tuple(F.conv2d(to_torch(case.x), to_torch(case.weight), **case.kwargs).shape)


@settings(max_examples=120)
@given(conv2d_cases(strings=False), st.integers(0, 2**32 - 1))
def test_conv2d_backward_matches_torch_autograd(case, seed):
    """(grad_x, grad_weight, grad_bias) == torch autograd for random geometries and dtypes."""
    rng = np.random.default_rng(seed)
    grad_out = rng.standard_normal(_torch_out_shape(case)).astype(case.dtype)
    gx, gw, gb = conv2d_backward(grad_out, case.x, case.weight, **case.kwargs)
    rx, rw, rb = _torch_conv_grads(case, grad_out)
    assert_close(gx, rx, case.dtype)
    assert_close(gw, rw, case.dtype)
    assert_close(gb, rb, case.dtype)


def _check_conv_numeric(case, seed):
    rng = np.random.default_rng(seed)
    grad_out = rng.standard_normal(_torch_out_shape(case))
    x, w = case.x.copy(), case.weight.copy()
    b = rng.standard_normal(w.shape[0])
    g = torch.from_numpy(grad_out)

    def loss():
        out = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                       **case.kwargs)
        return float((out * g).sum())

    gx, gw, gb = conv2d_backward(grad_out, case.x, case.weight, **case.kwargs)
    assert _rel_err(gx, numerical_gradient(loss, x)) < 1e-6
    assert _rel_err(gw, numerical_gradient(loss, w)) < 1e-6
    assert _rel_err(gb, numerical_gradient(loss, b)) < 1e-6


@settings(max_examples=20)
@given(
    conv2d_cases(strings=False, dtypes=(np.float64,), max_n=2, max_c=2, max_k=3, max_extra=3),
    st.integers(0, 2**32 - 1),
)
def test_conv2d_backward_numerical_gradient(case, seed):
    """All three gradients agree with float64 central differences (relative error < 1e-6)."""
    _check_conv_numeric(case, seed)


@pytest.mark.parametrize(
    ("xshape", "wshape", "kwargs"),
    [
        ((2, 2, 5, 6), (3, 2, 3, 2), {}),
        ((1, 2, 7, 6), (2, 2, 2, 3), {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2)}),
        ((2, 5, 5), (2, 2, 2, 3), {"stride": 2, "padding": 1}),
        ((1, 1, 3, 4), (2, 1, 5, 6), {"padding": 1}),
        ((1, 2, 8, 7), (1, 2, 2, 2), {"stride": (4, 3)}),
    ],
    ids=["plain", "non-square", "unbatched", "kernel-fills-padded-input", "stride>kernel"],
)
def test_conv2d_backward_numerical_gradient_edge_cases(xshape, wshape, kwargs):
    """Central-difference check on hand-picked geometries (unbatched, stride > kernel...)."""
    rng = np.random.default_rng(0)
    case = ConvCase(rng.standard_normal(xshape), rng.standard_normal(wshape), None, **kwargs)
    _check_conv_numeric(case, 1)


def test_conv2d_backward_shapes_and_bias_gradient():
    """Gradient shapes equal x, weight, (C_out,); grad_bias is grad_out summed over N, H, W."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((3, 2, 6, 5)), rng.standard_normal((4, 2, 3, 3))
    g = rng.standard_normal((3, 4, 4, 3))
    gx, gw, gb = conv2d_backward(g, x, w)
    assert gx.shape == x.shape and gw.shape == w.shape and gb.shape == (4,)
    np.testing.assert_allclose(gb, g.sum(axis=(0, 2, 3)), rtol=1e-12)


# --------------------------------------------------------------------------- max_pool2d_backward
def _torch_pool_grad(case, grad_out):
    xt = to_torch(case.x, True)
    F.max_pool2d(xt, case.kernel_size, case.stride, case.padding).backward(to_torch(grad_out))
    return xt.grad.numpy()


def _pool_out_shape(case):
    with torch.no_grad():
        return tuple(
            F.max_pool2d(to_torch(case.x), case.kernel_size, case.stride, case.padding).shape
        )


@settings(max_examples=150)
@given(pool_cases(kinds=("normal", "ints", "neginf", "constant")), st.integers(0, 2**32 - 1))
def test_max_pool2d_backward_matches_torch_autograd(case, seed):
    """grad_x == torch autograd, incl. ties (first max wins) and overlapping windows."""
    grad_out = np.random.default_rng(seed).standard_normal(_pool_out_shape(case))
    grad_out = grad_out.astype(case.dtype)
    out = max_pool2d_backward(grad_out, case.x, case.kernel_size, case.stride, case.padding)
    assert_close(out, _torch_pool_grad(case, grad_out), case.dtype)


@settings(max_examples=20)
@given(pool_cases(max_k=3, max_extra=3), st.integers(0, 2**32 - 1))
def test_max_pool2d_backward_numerical_gradient(case, seed):
    """grad_x agrees with float64 central differences on inputs without near-ties."""
    rng = np.random.default_rng(seed)
    x = (rng.permutation(case.x.size).reshape(case.x.shape) * 0.1).astype(np.float64)
    grad_out = rng.standard_normal(_pool_out_shape(case))
    g = torch.from_numpy(grad_out)

    def loss():
        out = F.max_pool2d(torch.from_numpy(x), case.kernel_size, case.stride, case.padding)
        return float((out * g).sum())

    got = max_pool2d_backward(grad_out, x.copy(), case.kernel_size, case.stride, case.padding)
    assert _rel_err(got, numerical_gradient(loss, x)) < 1e-6


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_max_pool2d_backward_ties_go_to_first_maximum(dtype):
    """Within a window, ties route to the first maximum in row-major order."""
    x = np.array([[[[1.0, 2.0], [2.0, 1.0]]]], dtype=dtype)
    out = max_pool2d_backward(np.ones((1, 1, 1, 1), dtype=dtype), x, 2)
    np.testing.assert_array_equal(out[0, 0], [[0, 1], [0, 0]])
    assert out.dtype == dtype


def test_max_pool2d_backward_all_equal_overlapping_windows_accumulate():
    """All-equal input, 3x3/1 windows with padding 1: gradients pile up on first maxima."""
    x = np.zeros((1, 1, 4, 4))
    out = max_pool2d_backward(np.ones((1, 1, 4, 4)), x, 3, stride=1, padding=1)
    expected = [[4, 2, 2, 0], [2, 1, 1, 0], [2, 1, 1, 0], [0, 0, 0, 0]]
    np.testing.assert_array_equal(out[0, 0], expected)


def test_max_pool2d_backward_unbatched_and_default_stride():
    """Unbatched (C, H, W) input gives a (C, H, W) gradient; stride defaults to kernel."""
    x = np.random.default_rng(5).standard_normal((2, 4, 6))
    g = np.random.default_rng(6).standard_normal((2, 2, 3))
    out = max_pool2d_backward(g, x, 2)
    xt = to_torch(x, True)
    F.max_pool2d(xt, 2).backward(to_torch(g))
    assert out.shape == x.shape
    np.testing.assert_allclose(out, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_max_pool2d_backward_all_minus_infinity_goes_to_first_real_pixel():
    """On an all -inf input, each window's gradient goes to its first real (non-padding)
    pixel, as torch does: the -inf padding never receives (and so never loses) gradient."""
    x = np.full((1, 1, 3, 4), -np.inf)
    g = np.arange(1.0, 13.0).reshape(1, 1, 3, 4)
    out = max_pool2d_backward(g, x, 3, stride=1, padding=1)
    xt = to_torch(x, True)
    F.max_pool2d(xt, 3, 1, 1).backward(to_torch(g))
    np.testing.assert_array_equal(out, xt.grad.numpy())
    assert out.sum() == g.sum()


@settings(max_examples=60)
@given(pool_cases(kinds=("normal", "ints", "neginf")), st.integers(0, 2**32 - 1))
def test_max_pool2d_backward_with_nans_matches_torch(case, seed):
    """A NaN wins its window, the last NaN in row-major order (torch's scan), also
    next to ties, -inf and padding."""
    rng = np.random.default_rng(seed)
    x = case.x.copy()
    x[rng.random(x.shape) < 0.2] = np.nan
    case = WindowCase(x, case.kernel_size, case.stride, case.padding, dtype=case.dtype)
    grad_out = rng.standard_normal(_pool_out_shape(case)).astype(case.dtype)
    out = max_pool2d_backward(grad_out, x, case.kernel_size, case.stride, case.padding)
    assert_close(out, _torch_pool_grad(case, grad_out), case.dtype)


@settings(max_examples=60)
@given(
    pool_cases(kinds=("normal", "ints", "neginf")), st.integers(0, 2**32 - 1), st.booleans()
)
def test_max_pool2d_cached_pair_equals_max_pool2d_and_its_backward(case, seed, batch_inner):
    """max_pool2d_forward_cached + max_pool2d_backward_cached == max_pool2d and
    max_pool2d_backward exactly, on any memory layout, which the gradient keeps."""
    x = np.moveaxis(np.moveaxis(case.x, 0, -1).copy(), -1, 0) if batch_inner else case.x
    args = (case.kernel_size, case.stride, case.padding)
    out, cache = max_pool2d_forward_cached(x, *args)
    np.testing.assert_array_equal(out, max_pool2d(x, *args))
    grad_out = np.random.default_rng(seed).standard_normal(out.shape).astype(case.dtype)
    grad_x = max_pool2d_backward_cached(grad_out, cache)
    np.testing.assert_array_equal(grad_x, max_pool2d_backward(grad_out, x, *args))
    assert grad_x.dtype == x.dtype
    if x.ndim == 4 and pair(case.padding) == (0, 0):
        assert grad_x.strides == np.empty_like(x).strides


def test_max_pool2d_backward_cached_checks_grad_out_shape():
    """A grad_out of another shape than the cached forward output is a ValueError."""
    _, cache = max_pool2d_forward_cached(np.zeros((1, 2, 4, 4)), 2)
    with pytest.raises(ValueError, match="max_pool2d_backward_cached: grad_out"):
        max_pool2d_backward_cached(np.zeros((1, 2, 3, 2)), cache)
