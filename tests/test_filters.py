"""Tests for convkit.lessons.filters: named kernels, filter banks, edge checks, kernel learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit import correlate2d
from convkit.lessons.filters import (
    apply_filter_bank,
    apply_filter_bank_loops,
    fit_kernel,
    gabor_kernel,
    horizontal_edge_problems,
    kernel_names,
    learn_kernel,
    named_kernel,
)


def test_named_kernels_values_and_copies() -> None:
    assert kernel_names()[:3] == ["identity", "vertical_edge", "horizontal_edge"]
    np.testing.assert_array_equal(named_kernel("vertical_edge"), [[-1, 0, 1]] * 3)
    np.testing.assert_array_equal(named_kernel("sharpen"), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_allclose(named_kernel("box_blur"), np.ones((3, 3)) / 9)
    np.testing.assert_array_equal(named_kernel("sobel_y"), named_kernel("sobel_x").T)
    k = named_kernel("identity")
    k[1, 1] = 7.0
    assert named_kernel("identity")[1, 1] == 1.0, "named_kernel must return a copy"
    with pytest.raises(ValueError, match="unknown kernel"):
        named_kernel("emboss")


def test_kernel_arithmetic_on_simple_images() -> None:
    """Blur keeps flat regions, sharpen keeps flat regions, edge kernels ignore them."""
    flat = np.full((5, 5), 0.4)
    for name in ("box_blur", "sharpen", "identity"):
        np.testing.assert_allclose(correlate2d(flat, named_kernel(name)), 0.4)
    for name in ("vertical_edge", "horizontal_edge", "sobel_x", "sobel_y"):
        np.testing.assert_allclose(correlate2d(flat, named_kernel(name)), 0.0, atol=1e-15)
    step = np.repeat([[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]], 6, axis=0)  # dark left, bright right
    assert correlate2d(step, named_kernel("vertical_edge")).max() == 3.0
    assert correlate2d(step, named_kernel("sobel_x")).max() == 4.0
    np.testing.assert_array_equal(correlate2d(step, named_kernel("horizontal_edge")), 0.0)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 4), st.integers(1, 4), st.integers(0, 4), st.integers(0, 4),
    st.integers(1, 5), st.integers(0, 2**31 - 1),
)
def test_filter_bank_matches_loops_and_torch(kh, kw, extra_h, extra_w, k, seed) -> None:
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(kh + extra_h, kw + extra_w))
    kernels = rng.normal(size=(k, kh, kw))
    got = apply_filter_bank(image, kernels)
    assert got.shape == (k, extra_h + 1, extra_w + 1)
    np.testing.assert_allclose(got, apply_filter_bank_loops(image, kernels), atol=1e-12)
    want = F.conv2d(torch.tensor(image)[None, None], torch.tensor(kernels)[:, None])[0].numpy()
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_filter_bank_errors_and_dtypes() -> None:
    image = np.zeros((4, 4), dtype=np.float32)
    assert apply_filter_bank(image, np.ones((2, 3, 3), dtype=np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r"kernels must be 3-D"):
        apply_filter_bank(image, np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"image must be 2-D"):
        apply_filter_bank(np.zeros((1, 4, 4)), np.ones((1, 3, 3)))
    with pytest.raises(ValueError, match="do not fit"):
        apply_filter_bank(image, np.ones((1, 5, 2)))


@pytest.mark.parametrize("name", ["horizontal_edge", "sobel_y"])
def test_horizontal_edge_kernels_pass(name: str) -> None:
    assert horizontal_edge_problems(named_kernel(name)) == []
    assert horizontal_edge_problems(-named_kernel(name)) == []  # either polarity
    assert horizontal_edge_problems([[1.0], [-1.0]]) == []


@pytest.mark.parametrize(
    ("kernel", "reason"),
    [
        (named_kernel("vertical_edge"), "barely responds"),
        (named_kernel("sobel_x"), "barely responds"),
        (named_kernel("box_blur"), "responds to a vertical step"),
        (named_kernel("sharpen"), "responds to a vertical step"),
        (named_kernel("identity"), "responds to a vertical step"),
        (np.zeros((3, 3)), "all zeros"),
        ([[1.0, -1.0], [-1.0, 1.0]], "barely responds"),
        (np.ones(3), "2-D"),
        (np.ones((9, 9)), "between"),
        ([[np.nan, 1.0], [0.0, 1.0]], "NaN"),
        ("abc", "not an array"),
    ],
)
def test_horizontal_edge_rejects(kernel: object, reason: str) -> None:
    problems = horizontal_edge_problems(kernel)
    assert problems and any(reason in p for p in problems), problems


def _dataset(kernel: np.ndarray, n: int = 6, size: int = 9, seed: int = 0):
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(n, size, size))
    return inputs, np.stack([correlate2d(x, kernel) for x in inputs])


def test_learn_kernel_recovers_hidden_kernel_and_loss_falls() -> None:
    hidden = np.random.default_rng(3).normal(size=(3, 2))
    inputs, outputs = _dataset(hidden)
    fit = fit_kernel(inputs, outputs, (3, 2), steps=150, lr=0.2)
    assert fit.losses.shape == (150,) and fit.snapshots.shape == (151, 3, 2)
    np.testing.assert_array_equal(fit.snapshots[0], 0.0)
    np.testing.assert_array_equal(fit.snapshots[-1], fit.kernel)
    assert fit.losses[0] > 100 * fit.losses[-1]
    assert np.all(np.diff(fit.losses) <= 0)
    np.testing.assert_allclose(fit.kernel, hidden, atol=1e-6)
    np.testing.assert_array_equal(learn_kernel(inputs, outputs, (3, 2), 150, 0.2), fit.kernel)


def test_learn_kernel_first_step_is_the_analytic_gradient() -> None:
    """From zero, one step moves the kernel by lr * 2 * mean(outputs * shifted inputs)."""
    hidden = named_kernel("sobel_x")
    inputs, outputs = _dataset(hidden, n=3, size=6)
    oh, ow = outputs.shape[1:]
    want = np.array([[2 * np.mean(outputs * inputs[:, m : m + oh, n : n + ow])
                      for n in range(3)] for m in range(3)])
    np.testing.assert_allclose(learn_kernel(inputs, outputs, 3, 1, 0.5), 0.5 * want, rtol=1e-12)
    np.testing.assert_array_equal(learn_kernel(inputs, outputs, 3, 0, 0.5), 0.0)


def test_learn_kernel_errors() -> None:
    inputs, outputs = _dataset(np.ones((3, 3)), n=2, size=5)
    with pytest.raises(ValueError, match="outputs must have shape"):
        learn_kernel(inputs, outputs, 2, 10, 0.1)
    with pytest.raises(ValueError, match="steps"):
        learn_kernel(inputs, outputs, 3, -1, 0.1)
    with pytest.raises(ValueError, match="lr"):
        learn_kernel(inputs, outputs, 3, 5, 0.0)
    with pytest.raises(ValueError, match="inputs must be 3-D"):
        learn_kernel(inputs[0], outputs[0], 3, 5, 0.1)


def test_gabor_kernel_is_an_oriented_zero_mean_detector() -> None:
    g = gabor_kernel(9, 0.0, wavelength=4.0, sigma=2.5)
    assert g.shape == (9, 9) and abs(g.sum()) < 1e-12
    np.testing.assert_allclose(g, g[::-1], atol=1e-15)  # theta = 0: stripes are vertical
    cols = np.arange(30)
    vertical_stripes = np.tile(np.cos(2 * np.pi * cols / 4.0), (30, 1))
    strong = np.abs(correlate2d(vertical_stripes, g)).max()
    weak = np.abs(correlate2d(vertical_stripes.T, g)).max()
    assert strong > 20 * weak
    with pytest.raises(ValueError, match="odd"):
        gabor_kernel(4, 0.0, 4.0, 2.0)
