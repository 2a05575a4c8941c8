"""output_size, conv2d_params, linear_params, receptive_field, and op output shapes vs torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit import (
    avg_pool2d,
    conv2d,
    conv2d_params,
    im2col,
    linear_params,
    max_pool2d,
    output_size,
    receptive_field,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@st.composite
def _geometry(draw):
    """One axis: (size, kernel, stride, padding, dilation) with the window fitting."""
    k, s, d = draw(st.integers(1, 7)), draw(st.integers(1, 6)), draw(st.integers(1, 4))
    p = draw(st.integers(0, 4))
    size = max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 20))
    return size, k, s, p, d


@settings(max_examples=300)
@given(_geometry())
def test_output_size_matches_formula_and_torch(geom):
    """output_size == floor((n + 2p - d(k-1) - 1) / s) + 1 == torch conv1d's output length."""
    size, k, s, p, d = geom
    got = output_size(size, k, stride=s, padding=p, dilation=d)
    assert type(got) is int
    assert got == (size + 2 * p - d * (k - 1) - 1) // s + 1
    with torch.no_grad():
        out = F.conv1d(torch.zeros(1, 1, size), torch.zeros(1, 1, k), stride=s, padding=p,
                       dilation=d)
    assert got == out.shape[-1]


def test_output_size_positional_order_and_numpy_ints():
    """output_size(size, kernel_size, stride, padding, dilation); numpy integers are accepted."""
    assert output_size(10, 3, 2, 1, 2) == 4
    assert output_size(np.int64(10), np.int32(3), stride=np.int64(2)) == 4
    assert type(output_size(np.int64(10), 3)) is int


@st.composite
def _geometry_2d(draw):
    """Two independent axes (any H != W, kh != kw...) plus batch/channels."""
    (h, kh, sh, ph, dh), (w, kw, sw, pw, dw) = draw(_geometry()), draw(_geometry())
    return (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w), (kh, kw), (sh, sw), \
        (ph, pw), (dh, dw)


@settings(max_examples=100)
@given(_geometry_2d())
def test_conv2d_and_im2col_shapes_match_torch(geom):
    """conv2d and im2col output shapes equal torch's and output_size per axis."""
    xshape, k, s, p, d = geom
    x, wt = np.zeros(xshape, np.float32), np.zeros((3, xshape[1], *k), np.float32)
    expected = tuple(F.conv2d(torch.from_numpy(x), torch.from_numpy(wt), stride=s, padding=p,
                              dilation=d).shape)
    assert expected[2:] == tuple(output_size(xshape[2 + i], k[i], s[i], p[i], d[i])
                                 for i in range(2))
    assert conv2d(x, wt, stride=s, padding=p, dilation=d).shape == expected
    cols = F.unfold(torch.from_numpy(x), k, dilation=d, padding=p, stride=s)
    assert im2col(x, k, stride=s, padding=p, dilation=d).shape == tuple(cols.shape)


@settings(max_examples=100)
@given(_geometry_2d())
def test_pool_shapes_match_torch(geom):
    """max/avg pool output shapes equal torch's (padding clipped to kernel // 2)."""
    xshape, k, s, p, _ = geom
    p = (min(p[0], k[0] // 2), min(p[1], k[1] // 2))
    xshape = (*xshape[:2], max(xshape[2], k[0] - 2 * p[0]), max(xshape[3], k[1] - 2 * p[1]))
    x = np.zeros(xshape)
    expected = tuple(F.max_pool2d(torch.from_numpy(x), k, s, p).shape)
    assert max_pool2d(x, k, s, p).shape == expected
    assert avg_pool2d(x, k, s, p).shape == expected
    assert avg_pool2d(x, k, s, p, count_include_pad=False).shape == expected


# --------------------------------------------------------------------------- parameter counts
@settings(max_examples=40)
@given(
    st.integers(1, 70), st.integers(1, 70), st.integers(1, 7), st.integers(1, 7), st.booleans()
)
def test_conv2d_params_matches_torch_module(cin, cout, kh, kw, bias):
    """conv2d_params == number of parameters of torch.nn.Conv2d (int and pair kernels)."""
    module = torch.nn.Conv2d(cin, cout, (kh, kw), bias=bias)
    expected = sum(p.numel() for p in module.parameters())
    assert conv2d_params(cin, cout, (kh, kw), bias=bias) == expected
    if kh == kw:
        assert conv2d_params(cin, cout, kh, bias) == expected


@settings(max_examples=40)
@given(st.integers(1, 3000), st.integers(1, 300), st.booleans())
def test_linear_params_matches_torch_module(fin, fout, bias):
    """linear_params == number of parameters of torch.nn.Linear."""
    module = torch.nn.Linear(fin, fout, bias=bias)
    assert linear_params(fin, fout, bias=bias) == sum(p.numel() for p in module.parameters())


# --------------------------------------------------------------------------- receptive field
def _brute_force_receptive_field(layers) -> int:
    """Extent of the input region one output unit depends on, by autograd through a
    stack of all-ones 1-D convolutions (positive weights: no cancellation)."""
    layers = [(layer[0], layer[1], layer[2] if len(layer) > 2 else 1) for layer in layers]
    # An upper bound on the receptive field, so that the stack has at least one output.
    span = 1 + sum(d * (k - 1) for k, _, d in layers)
    length = span * int(np.prod([s for _, s, _ in layers])) + 4
    x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s, d in layers:
        h = F.conv1d(h, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    h[0, 0, 0].backward()
    support = np.flatnonzero(x.grad[0, 0].numpy())
    return int(support.max() - support.min() + 1)


STACKS = [
    [],
    [(3, 1)],
    [(3, 1), (3, 1)],
    [(3, 1), (3, 1), (3, 1)],
    [(3, 2), (3, 2)],
    [(2, 2), (2, 2), (2, 2)],
    [(7, 2), (3, 2), (3, 1), (3, 1)],
    [(3, 1, 1), (3, 1, 2), (3, 1, 4)],
    [(3, 2, 2), (2, 1, 3)],
    [(1, 1), (1, 3), (5, 1)],
]


@pytest.mark.parametrize("layers", STACKS, ids=str)
def test_receptive_field_matches_brute_force(layers):
    """receptive_field == the measured dependency region of one unit (autograd)."""
    assert receptive_field(layers) == _brute_force_receptive_field(layers)


_layer = st.tuples(st.integers(1, 5), st.integers(1, 3)) | st.tuples(
    st.integers(1, 5), st.integers(1, 3), st.integers(1, 3)
)


@settings(max_examples=60)
@given(st.lists(_layer, max_size=4))
def test_receptive_field_property(layers):
    """receptive_field == brute force for random stacks of (k, s) / (k, s, d) layers."""
    assert receptive_field(layers) == _brute_force_receptive_field(layers)


def test_receptive_field_two_and_three_tuples_agree():
    """(k, s) is the same layer as (k, s, 1); lists and tuples of layers both work."""
    assert receptive_field([(3, 2), (5, 1)]) == receptive_field(((3, 2, 1), (5, 1, 1))) == 11
