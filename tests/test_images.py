"""Tests for convkit.data.photos: the offline sample photo and neighbour correlations."""

from __future__ import annotations

import numpy as np
import pytest

from convkit.data.photos import neighbour_correlation, sample_photo


def test_sample_photo_shapes_and_range() -> None:
    grey = sample_photo()
    assert grey.shape == (600, 512) and grey.dtype == np.float64
    assert 0.0 <= grey.min() and grey.max() <= 1.0 and grey.std() > 0.05
    rgb = sample_photo(grey=False, step=4)
    assert rgb.shape == (150, 128, 3)
    np.testing.assert_allclose(sample_photo(step=4), rgb @ [0.299, 0.587, 0.114])
    with pytest.raises(ValueError, match="step"):
        sample_photo(step=0)


def test_neighbour_correlation_matches_numpy_definition() -> None:
    rng = np.random.default_rng(0)
    img = rng.normal(size=(7, 9))
    got = neighbour_correlation(img, 3)
    for d in (1, 2, 3):
        want = np.corrcoef(img[:, :-d].ravel(), img[:, d:].ravel())[0, 1]
        assert got[d - 1] == pytest.approx(want)
    vertical = neighbour_correlation(img, 2, axis=0)
    want = np.corrcoef(img[:-1].ravel(), img[1:].ravel())[0, 1]
    assert vertical[0] == pytest.approx(want)


def test_neighbour_correlation_smooth_vs_noise() -> None:
    x = np.linspace(0, 4 * np.pi, 200)
    smooth = np.sin(x)[None, :] + np.cos(x)[:, None]
    assert np.all(neighbour_correlation(smooth, 5) > 0.9)
    noise = np.random.default_rng(1).normal(size=(200, 200))
    assert np.all(np.abs(neighbour_correlation(noise, 5)) < 0.02)
    photo = sample_photo(step=2)
    corr = neighbour_correlation(photo, 40)
    assert corr[0] > 0.9 and corr[0] > corr[-1]  # neighbours agree more than distant pixels


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((np.zeros(5), 1), ValueError, "2-D"),
        ((np.zeros((4, 4)), 1), ValueError, "constant"),
        ((np.eye(4), 4), ValueError, r"\[1, 3\]"),
        ((np.eye(4), 0), ValueError, r"\[1, 3\]"),
        ((np.eye(4), 1.0), TypeError, "int"),
        ((np.eye(4), 1, 2), ValueError, "axis"),
    ],
)
def test_neighbour_correlation_rejects_bad_input(args, error, message) -> None:
    with pytest.raises(error, match=message):
        neighbour_correlation(*args)
