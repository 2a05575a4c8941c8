"""mask_iou (chapter 12): the Jaccard index of binary masks, pooled and per image."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit import mask_iou


def test_by_hand():
    pred = np.array([[1, 1, 0], [0, 1, 0]])
    target = np.array([[1, 0, 0], [0, 1, 1]])
    assert mask_iou(pred, target) == 2 / 4
    assert mask_iou(pred.astype(bool), pred.astype(bool)) == 1.0
    assert mask_iou(pred, 1 - pred) == 0.0
    assert mask_iou(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0  # both empty: they agree


def test_per_image_and_pooled_differ():
    pred = np.zeros((2, 4, 4), dtype=bool)
    target = np.zeros((2, 4, 4), dtype=bool)
    pred[0, :2], target[0, :1] = True, True  # image 0: 4 of 8 pixels agree
    target[1, 0, 0] = True  # image 1: nothing predicted
    np.testing.assert_allclose(mask_iou(pred, target, per_image=True), [0.5, 0.0])
    assert mask_iou(pred, target) == 4 / 9


@settings(max_examples=80)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(1, 6))
def test_matches_the_set_definition(seed, n, side):
    rng = np.random.default_rng(seed)
    pred, target = rng.random((2, n, side, side)) < rng.random(2)[:, None, None, None]
    per = mask_iou(pred, target, per_image=True)
    for k in range(n):
        a = {tuple(ix) for ix in np.argwhere(pred[k])}
        b = {tuple(ix) for ix in np.argwhere(target[k])}
        assert per[k] == (len(a & b) / len(a | b) if a | b else 1.0)
    assert 0.0 <= mask_iou(pred, target) <= 1.0
    assert mask_iou(pred, target) == mask_iou(target, pred)  # symmetric


def test_errors():
    with pytest.raises(ValueError, match="one shape"):
        mask_iou(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="threshold"):
        mask_iou(np.full((2, 2), 0.7), np.zeros((2, 2)))
    with pytest.raises(TypeError, match="per_image"):
        mask_iou(np.zeros((2, 2)), np.zeros((2, 2)), per_image=1)
