"""batch_norm (both modes, the running statistics, the loop version and the backward
pass), group_norm and layer_norm against torch."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_helpers import DTYPES, assert_close, to_torch

from convkit.ops.normalization import (
    batch_norm,
    batch_norm_backward,
    batch_norm_naive,
    group_norm,
    layer_norm,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@st.composite
def norm_cases(draw, max_trailing: int = 2, groups: bool = False):
    """(x, weight, bias, running_mean, running_var, dtype[, num_groups]) with x (N, C, ...)."""
    dtype = draw(st.sampled_from(DTYPES))
    num_groups = draw(st.integers(1, 3)) if groups else 1
    channels = num_groups * draw(st.integers(1, 3))
    trailing = draw(st.lists(st.integers(1, 4), min_size=0, max_size=max_trailing))
    batch = draw(st.integers(1, 4))
    if batch * int(np.prod(trailing)) < 2:  # training needs two values per channel
        batch = 2
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1.0, 1e-3, 1e3]))
    x = (rng.normal(size=(batch, channels, *trailing)) * scale + rng.normal() * scale).astype(
        dtype
    )
    affine = draw(st.booleans())
    weight = rng.normal(size=channels).astype(dtype) if affine else None
    bias = rng.normal(size=channels).astype(dtype) if affine else None
    running_mean = rng.normal(size=channels).astype(dtype)
    running_var = rng.uniform(0.5, 2.0, size=channels).astype(dtype)
    return x, weight, bias, running_mean, running_var, dtype, num_groups


def _t(a):
    return None if a is None else to_torch(a)


@settings(max_examples=150, deadline=None)
@given(norm_cases(), st.booleans(), st.sampled_from([0.1, 0.0, 1.0, 0.37]))
def test_batch_norm_matches_torch_in_both_modes_with_the_running_update(case, training, momentum):
    x, weight, bias, mean, var, dtype, _ = case
    ours_mean, ours_var = mean.copy(), var.copy()
    theirs_mean, theirs_var = to_torch(mean), to_torch(var)
    out = batch_norm(x, ours_mean, ours_var, weight, bias, training, momentum, 1e-5)
    expected = F.batch_norm(
        to_torch(x), theirs_mean, theirs_var, _t(weight), _t(bias), training, momentum, 1e-5
    )
    assert_close(out, expected.numpy(), dtype)
    assert_close(ours_mean, theirs_mean.numpy(), dtype)  # updated in place (training only)
    assert_close(ours_var, theirs_var.numpy(), dtype)  # with the unbiased batch variance
    if not training:
        np.testing.assert_array_equal(ours_mean, mean)


@settings(max_examples=40, deadline=None)
@given(norm_cases(max_trailing=2), st.booleans())
def test_batch_norm_naive_matches_batch_norm(case, training):
    x, weight, bias, mean, var, dtype, _ = case
    loop_stats, fast_stats = (mean.copy(), var.copy()), (mean.copy(), var.copy())
    naive = batch_norm_naive(x, *loop_stats, weight, bias, training)
    fast = batch_norm(x, *fast_stats, weight, bias, training)
    assert naive.dtype == fast.dtype == dtype
    assert_close(naive, fast.astype(np.float64), dtype)
    assert_close(loop_stats[0], fast_stats[0].astype(np.float64), dtype)
    assert_close(loop_stats[1], fast_stats[1].astype(np.float64), dtype)


def test_a_refused_update_changes_neither_running_statistic():
    x = np.random.default_rng(5).normal(size=(5, 3))
    mean, var = np.zeros(3), np.ones(4)
    with pytest.raises(ValueError, match="running_var"):
        batch_norm(x, mean, var, training=True)
    np.testing.assert_array_equal(mean, np.zeros(3))


def test_layer_norm_takes_a_numpy_integer_shape():
    x = np.random.default_rng(6).normal(size=(2, 4))
    np.testing.assert_array_equal(layer_norm(x, np.int64(4)), layer_norm(x, 4))


def test_batch_norm_naive_has_batch_norms_signature():
    assert inspect.signature(batch_norm_naive).parameters == inspect.signature(
        batch_norm
    ).parameters


@settings(max_examples=100, deadline=None)
@given(norm_cases(), st.booleans())
def test_batch_norm_backward_matches_torch_autograd(case, training):
    x, weight, bias, mean, var, dtype, _ = case
    rng = np.random.default_rng(0)
    grad_out = rng.normal(size=x.shape).astype(dtype)
    xt = to_torch(x, requires_grad=True)
    wt = to_torch(weight if weight is not None else np.ones(x.shape[1]), requires_grad=True)
    bt = to_torch(bias if bias is not None else np.zeros(x.shape[1]), requires_grad=True)
    out = F.batch_norm(xt, to_torch(mean), to_torch(var), wt, bt, training, 0.1, 1e-5)
    out.backward(to_torch(grad_out))
    grad_x, grad_w, grad_b = batch_norm_backward(grad_out, x, mean, var, weight, training)
    scale = max(1.0, float(np.abs(x).max()) / max(float(x.std()), 1e-12))
    for ours, theirs in ((grad_x, xt.grad), (grad_w, wt.grad), (grad_b, bt.grad)):
        assert ours.dtype == dtype
        expected = theirs.numpy()
        tol = 1e-8 if dtype == np.float64 else 2e-3
        np.testing.assert_allclose(ours, expected, rtol=tol, atol=tol * scale * max(
            1.0, float(np.abs(expected).max())
        ))


def test_batch_norm_backward_passes_a_numerical_gradient_check():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 2, 2, 3))
    weight, bias = rng.normal(size=2), rng.normal(size=2)
    grad_out = rng.normal(size=x.shape)

    def loss(values: np.ndarray) -> float:
        return float((grad_out * batch_norm(values, None, None, weight, bias, True)).sum())

    grad_x, _, _ = batch_norm_backward(grad_out, x, None, None, weight, True)
    numerical = np.zeros_like(x)
    step = 1e-6
    for index in np.ndindex(x.shape):
        bumped = x.copy()
        bumped[index] += step
        up = loss(bumped)
        bumped[index] -= 2 * step
        numerical[index] = (up - loss(bumped)) / (2 * step)
    np.testing.assert_allclose(grad_x, numerical, rtol=1e-5, atol=1e-7)
    assert abs(grad_x.sum(axis=(0, 2, 3))).max() < 1e-10  # shifting a channel changes nothing


@settings(max_examples=150, deadline=None)
@given(norm_cases(groups=True))
def test_group_norm_matches_torch(case):
    x, weight, bias, _, _, dtype, groups = case
    out = group_norm(x, groups, weight, bias, 1e-5)
    expected = F.group_norm(to_torch(x), groups, _t(weight), _t(bias), 1e-5)
    assert_close(out, expected.numpy(), dtype)


@settings(max_examples=150, deadline=None)
@given(norm_cases(), st.integers(1, 3), st.booleans())
def test_layer_norm_matches_torch(case, last, affine):
    x, _, _, _, _, dtype, _ = case
    shape = x.shape[max(1, x.ndim - last) :]
    rng = np.random.default_rng(2)
    weight = rng.normal(size=shape).astype(dtype) if affine else None
    bias = rng.normal(size=shape).astype(dtype) if affine else None
    out = layer_norm(x, shape, weight, bias)
    expected = F.layer_norm(to_torch(x), shape, _t(weight), _t(bias))
    assert_close(out, expected.numpy(), dtype)


def test_group_norm_with_one_group_is_layer_norm_over_channels_and_positions():
    x = np.random.default_rng(3).normal(size=(2, 4, 3, 3))
    np.testing.assert_allclose(group_norm(x, 1), layer_norm(x, x.shape[1:]), atol=1e-12)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: batch_norm(np.ones((1, 3)), None, None, training=True), ValueError,
         "more than one value per channel"),
        (lambda: batch_norm(np.ones((2, 3)), None, None), ValueError, "needs running_mean"),
        (lambda: batch_norm(np.ones((2, 3)), np.zeros(2), np.ones(2)), ValueError,
         "shape (3,)"),
        (lambda: batch_norm(np.ones((2, 3)), [0.0] * 3, np.ones(3), training=True), TypeError,
         "updated in place"),
        (lambda: batch_norm(np.ones((2, 3)), None, None, training=1), TypeError, "True or False"),
        (lambda: batch_norm(np.ones((2, 3)), None, None, eps=0), ValueError, "eps"),
        (lambda: group_norm(np.ones((2, 6, 2)), 4), ValueError, "must divide"),
        (lambda: layer_norm(np.ones((2, 3)), (4,)), ValueError, "normalized_shape"),
        (lambda: batch_norm_backward(np.ones((2, 2)), np.ones((2, 3)), None, None, None, True),
         ValueError, "grad_out"),
    ],
)
def test_bad_arguments_are_named(call, error, words):
    with pytest.raises(error, match=None) as caught:
        call()
    assert words in str(caught.value)

