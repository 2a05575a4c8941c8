"""Autograd-measured receptive fields agree with convkit.receptive_field."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit import receptive_field
from convkit.lessons.receptive_fields import gradient_footprint, measured_receptive_field

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
