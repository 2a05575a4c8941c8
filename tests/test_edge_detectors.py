"""Tests for convkit.lessons.edge_detectors: judging hand-designed diagonal-edge kernels.

(The horizontal-edge checks are tested in test_filters.py, where they started.)
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit import correlate2d
from convkit.lessons import filters
from convkit.lessons.edge_detectors import diagonal_edge_problems, horizontal_edge_problems

ROBERTS = np.array([[0.0, 1.0], [-1.0, 0.0]])


@pytest.mark.parametrize(
    "kernel",
    [
        ROBERTS,
        -ROBERTS,
        filters.named_kernel("sobel_x") - filters.named_kernel("sobel_y"),
        [[0.0, 1.0, 2.0], [-1.0, 0.0, 1.0], [-2.0, -1.0, 0.0]],
        np.pad(ROBERTS, ((1, 2), (0, 3))),  # a 5x5 kernel with the pair somewhere inside
    ],
)
def test_diagonal_detectors_pass(kernel: object) -> None:
    assert diagonal_edge_problems(kernel) == []


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 7), st.integers(2, 7), st.integers(0, 2**31 - 1))
def test_zero_anti_diagonal_sums_is_the_ignore_rule(kh: int, kw: int, seed: int) -> None:
    """A kernel ignores every image constant along the anti-diagonals exactly when each of
    its anti-diagonals sums to zero; random kernels made so pass the ignore checks."""
    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=(kh, kw))
    for s in range(kh + kw - 1):  # make anti-diagonal s (m + n = s) sum to zero
        cells = [(m, s - m) for m in range(kh) if 0 <= s - m < kw]
        total = sum(kernel[c] for c in cells)
        for c in cells:
            kernel[c] -= total / len(cells)
    problems = diagonal_edge_problems(kernel)
    assert not any("responds to" in p for p in problems), problems
    rows = np.arange(12)[:, None] + np.arange(12)[None, :]
    anything = np.sin(rows * 1.7) + (rows % 3)  # some image of row + column only
    np.testing.assert_allclose(correlate2d(anything, kernel), 0.0, atol=1e-9)


@pytest.mark.parametrize(
    ("kernel", "reason"),
    [
        (filters.named_kernel("horizontal_edge"), "responds to an anti-diagonal step"),
        (filters.named_kernel("sobel_x"), "responds to an anti-diagonal"),
        (filters.named_kernel("identity"), "responds to a flat grey"),
        (np.ones((3, 3)), "away from the step"),
        ([[0.0, 1.0, 0.0], [-1.0, 0.0, -1.0], [0.0, 1.0, 0.0]], "barely responds"),
        (np.zeros((2, 2)), "all zeros"),
        ([[1.0], [-1.0]], "between 2x2 and 7x7"),
        (np.ones((8, 2)), "between 2x2 and 7x7"),
        (np.ones(3), "2-D"),
        ([[np.inf, 1.0], [0.0, 1.0]], "NaN or infinite"),
        ("abc", "not an array"),
    ],
)
def test_diagonal_rejects(kernel: object, reason: str) -> None:
    problems = diagonal_edge_problems(kernel)
    assert problems and any(reason in p for p in problems), problems


def test_the_two_checks_disagree_where_they_should() -> None:
    """A horizontal-edge kernel is not a diagonal one, and the other way round."""
    assert horizontal_edge_problems(filters.named_kernel("sobel_y")) == []
    assert diagonal_edge_problems(filters.named_kernel("sobel_y")) != []
    assert horizontal_edge_problems(ROBERTS) != []


def test_filters_module_still_exports_both() -> None:
    assert filters.horizontal_edge_problems is horizontal_edge_problems
    assert filters.diagonal_edge_problems is diagonal_edge_problems
