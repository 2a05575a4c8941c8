"""Autograd-measured receptive fields agree with convkit.receptive_field."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit import output_size, receptive_field
from convkit.lessons.receptive_fields import (
    gradient_footprint,
    measured_receptive_field,
    window_starts,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_two_3x3_see_5x5_and_stride_multiplies():
    """Two 3x3 layers read a 5x5 patch; a stride-2 first layer widens the second's step."""
    assert measured_receptive_field([(3, 1), (3, 1)], 15) == 5 == receptive_field([(3, 1)] * 2)
    assert measured_receptive_field([(3, 2), (3, 1)], 21) == 7 == receptive_field([(3, 2), (3, 1)])
    masks = gradient_footprint([(3, 1), (3, 1)], 9)
    assert [int(m.sum()) for m in masks] == [9, 25]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 2)), max_size=4))
def test_matches_formula(layers):
    """For random stacks the footprint spans exactly receptive_field pixels."""
    expected = receptive_field(layers)
    size = 2 * expected + 8 * int(np.prod([s for _, s, _ in layers] or [1])) + 3
    assert measured_receptive_field(layers, size) == expected


def test_window_starts_lists_the_positions():
    assert window_starts(8, 3, stride=2) == [0, 2, 4]  # index 7 is never read
    assert window_starts(7, 3, stride=2, padding=1) == [0, 2, 4, 6]
    assert window_starts(9, 3, dilation=2) == [0, 1, 2, 3, 4]  # taps t, t + 2, t + 4
    assert window_starts(4, 3, dilation=2) == []  # the window does not fit
    assert window_starts(1, 1) == [0]
    with pytest.raises(ValueError):
        window_starts(0, 1)
    with pytest.raises(ValueError):
        window_starts(4, 2, padding=-1)
    with pytest.raises(TypeError):
        window_starts(4.0, 2)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(1, 6), st.integers(1, 4), st.integers(0, 3),
       st.integers(1, 3))
def test_window_starts_count_is_the_output_size(size, kernel, stride, padding, dilation):
    """The listed starts are exactly torch's output positions: their count is its size,
    and an empty list is a window torch refuses."""
    starts = window_starts(size, kernel, stride, padding, dilation)
    x, w = torch.zeros(1, 1, size), torch.zeros(1, 1, kernel)
    if not starts:
        with pytest.raises(RuntimeError):
            torch.nn.functional.conv1d(x, w, stride=stride, padding=padding, dilation=dilation)
        with pytest.raises(ValueError):
            output_size(size, kernel, stride, padding, dilation)
        return
    out = torch.nn.functional.conv1d(x, w, stride=stride, padding=padding, dilation=dilation)
    assert len(starts) == out.shape[-1] == output_size(size, kernel, stride, padding, dilation)
    assert starts == list(range(0, stride * len(starts), stride))
