"""convkit.shapes.stride_padding: same padding, coverage counts (vs torch autograd), traces."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit import conv2d, output_size
from convkit.shapes.stride_padding import coverage_count, same_padding, size_trace

pytestmark = pytest.mark.usefixtures("one_thread")


def test_same_padding_keeps_the_size_at_stride_one():
    for k in (1, 3, 5, 7, 11):
        p = same_padding(k)
        assert p == (k - 1) // 2
        for n in (k, 8, 13):
            assert output_size(n, k, 1, p) == n


@pytest.mark.parametrize("bad", [2, 4, 0])
def test_same_padding_rejects_even_or_empty_kernels(bad):
    with pytest.raises(ValueError, match="same_padding"):
        same_padding(bad)


def test_same_padding_rejects_non_ints():
    with pytest.raises(TypeError):
        same_padding(3.0)


def test_coverage_small_example_by_hand():
    got = coverage_count(5, 5, 3)
    row = np.array([1, 2, 3, 2, 1])
    np.testing.assert_array_equal(got, np.outer(row, row))
    assert got.dtype == np.int64 and got[0, 0] == 1 and got[2, 2] == 9


def test_same_padding_evens_out_the_border_at_stride_one():
    """With P = (K - 1) / 2 every pixel but the outermost ring(s) is read K*K times, and
    the corner still fewer: padding helps the border, it does not fully equalise it."""
    got = coverage_count(7, 7, 3, padding=1)
    assert got[1:-1, 1:-1].min() == got.max() == 9
    assert got[0, 0] == 4 and got[0, 3] == 6
    assert coverage_count(7, 7, 3)[0, 0] == 1


@st.composite
def _geometry(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = max(1, kh - 2 * ph) + draw(st.integers(0, 7))
    w = max(1, kw - 2 * pw) + draw(st.integers(0, 7))
    return h, w, (kh, kw), (sh, sw), (ph, pw)


@settings(max_examples=150, deadline=None)
@given(_geometry())
def test_coverage_equals_torch_gradient_of_a_ones_convolution(geom):
    """d/dx sum(conv2d(x, ones)) counts, for every pixel, the windows that read it."""
    h, w, k, s, p = geom
    x = torch.ones(1, 1, h, w, dtype=torch.float64, requires_grad=True)
    F.conv2d(x, torch.ones(1, 1, *k, dtype=torch.float64), stride=s, padding=p).sum().backward()
    expected = x.grad[0, 0].numpy()
    np.testing.assert_array_equal(coverage_count(h, w, k, stride=s, padding=p), expected)


@settings(max_examples=60, deadline=None)
@given(_geometry())
def test_coverage_equals_sum_of_one_hot_convolutions(geom):
    """Pixel (i, j) is read as many times as a one-hot image at (i, j) reaches the output."""
    h, w, k, s, p = geom
    got = coverage_count(h, w, k, stride=s, padding=p)
    ones = np.ones((1, 1, *k))
    for i in range(h):
        for j in range(w):
            one_hot = np.zeros((1, 1, h, w))
            one_hot[0, 0, i, j] = 1.0
            assert got[i, j] == conv2d(one_hot, ones, stride=s, padding=p).sum()


def test_coverage_errors():
    with pytest.raises(ValueError, match="does not fit"):
        coverage_count(2, 5, 3)
    with pytest.raises(ValueError, match="stride"):
        coverage_count(5, 5, 3, stride=0)
    with pytest.raises(ValueError, match="padding"):
        coverage_count(5, 5, 3, padding=-1)
    with pytest.raises(TypeError):
        coverage_count(5.0, 5, 3)


def test_size_trace_shrinks_without_padding_and_holds_with_same_padding():
    assert size_trace(8, 3, 10) == [8, 6, 4, 2]
    assert size_trace(32, 3, 5, padding=1) == [32] * 6
    assert size_trace(32, 3, 3, stride=2, padding=1) == [32, 16, 8, 4]
    assert size_trace(5, 3, 0) == [5]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(1, 7), st.integers(0, 8), st.integers(1, 3),
       st.integers(0, 3))
def test_size_trace_matches_torch_stack(size, k, layers, s, p):
    trace = size_trace(size, k, layers, stride=s, padding=p)
    x = torch.zeros(1, 1, size)
    for expected in trace[1:]:
        x = F.conv1d(x, torch.zeros(1, 1, k), stride=s, padding=p)
        assert x.shape[-1] == expected
    if len(trace) < layers + 1:  # stopped early: torch refuses the next layer too
        with pytest.raises(RuntimeError):
            F.conv1d(x, torch.zeros(1, 1, k), stride=s, padding=p)


def test_size_trace_errors():
    with pytest.raises(ValueError):
        size_trace(0, 3, 2)
    with pytest.raises(ValueError):
        size_trace(5, 3, -1)
