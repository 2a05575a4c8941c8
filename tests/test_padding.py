"""pad2d against torch.nn.functional.pad (int, pair and 4-tuple paddings, any ndim >= 2)."""

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_helpers import DTYPES, to_torch

from convkit import pad2d

pytestmark = pytest.mark.usefixtures("one_thread")


def _torch_padding(padding):
    """torch's (left, right, top, bottom) for an int, a (ph, pw) pair or a 4-tuple."""
    if isinstance(padding, int):
        return (padding,) * 4
    if len(padding) == 2:
        ph, pw = padding
        return (pw, pw, ph, ph)
    return tuple(padding)


@st.composite
def _pad_cases(draw):
    dtype = draw(st.sampled_from(DTYPES))
    ndim = draw(st.integers(2, 5))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    form = draw(st.sampled_from(["int", "pair", "four"]))
    if form == "int":
        padding = draw(st.integers(0, 3))
    elif form == "pair":
        padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    else:
        padding = tuple(draw(st.integers(0, 3)) for _ in range(4))
    value = draw(st.sampled_from([0.0, 1.5, -2.0, -np.inf]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal(shape).astype(dtype), padding, value


@settings(max_examples=150)
@given(_pad_cases())
def test_pad2d_matches_torch_pad(case):
    """pad2d == F.pad(mode='constant') on the last two axes, dtype preserved."""
    x, padding, value = case
    ref = F.pad(to_torch(x), _torch_padding(padding), value=value).numpy()
    out = pad2d(x, padding, value=value)
    assert out.shape == ref.shape
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(out, ref.astype(x.dtype))


def test_pad2d_four_tuple_is_left_right_top_bottom():
    """(left, right, top, bottom) as in torch: a 1x1 array lands at row top, column left."""
    out = pad2d(np.ones((1, 1)), (1, 2, 3, 4))
    assert out.shape == (1 + 3 + 4, 1 + 1 + 2)
    assert out[3, 1] == 1 and out.sum() == 1


def test_pad2d_pair_is_height_then_width():
    """(ph, pw) pads top/bottom by ph and left/right by pw."""
    assert pad2d(np.ones((2, 3)), (1, 2)).shape == (4, 7)


def test_pad2d_default_value_is_zero():
    """Without `value`, the border is zeros."""
    out = pad2d(np.full((2, 2), 7.0), 1)
    assert out.sum() == 28.0 and out[0].sum() == 0 and out[:, 0].sum() == 0


@pytest.mark.parametrize("padding", [0, (0, 0), (0, 0, 0, 0)])
def test_pad2d_returns_a_new_array_even_without_padding(padding):
    """Zero padding still returns a new array that does not share memory with x."""
    x = np.arange(6.0).reshape(2, 3)
    out = pad2d(x, padding)
    np.testing.assert_array_equal(out, x)
    assert not np.shares_memory(out, x)
