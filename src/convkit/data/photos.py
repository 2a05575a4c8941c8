"""A real photograph that works offline, and a statistic of how pixels relate.

- :func:`sample_photo` loads the portrait of Grace Hopper that ships with
  matplotlib (no download), as grey or RGB floats in [0, 1].
- :func:`neighbour_correlation` measures how strongly two pixels ``d`` columns
  (or rows) apart move together: the statistical fact behind local connectivity.
"""

from __future__ import annotations

import importlib.util
from numbers import Integral
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image

__all__ = ["neighbour_correlation", "sample_photo"]

_LUMA = np.array([0.299, 0.587, 0.114])


def _sample_photo_path() -> Path:
    """The portrait's file inside the installed matplotlib (found, not imported)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("sample_photo needs matplotlib, which ships the photograph")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return folder / "mpl-data" / "sample_data" / "grace_hopper.jpg"


def sample_photo(grey: bool = True, step: int = 1) -> np.ndarray:
    """The Grace Hopper portrait bundled with matplotlib, as floats in [0, 1].

    -> (H, W) float64, or (H, W, 3) if not ``grey``; H = ceil(600 / step), W = ceil(512 / step).

    grey: return luminance ``(H, W)`` (ITU-R 601 weights) instead of ``(H, W, 3)``.
    step: keep every ``step``-th row and column (a cheap downscale), an int >= 1
    (ValueError otherwise).
    The file is read from the installed matplotlib (ModuleNotFoundError without it).
    """
    if isinstance(step, bool) or not isinstance(step, Integral) or step < 1:
        raise ValueError(f"sample_photo: step must be an int >= 1, got {step!r}")
    with Image.open(_sample_photo_path()) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    rgb = rgb[::step, ::step]
    return rgb @ _LUMA if grey else rgb


def neighbour_correlation(image: ArrayLike, max_distance: int, axis: int = 1) -> np.ndarray:
    """Pearson correlation between pixels ``d`` apart, for ``d = 1 .. max_distance``.

    image: (H, W) grey -> (max_distance,) float64; entry ``d - 1`` is the correlation at ``d``.

    For each distance ``d`` the pairs are ``(I[i, j], I[i, j + d])`` over the
    whole image (``axis=1``, horizontal neighbours) or ``(I[i, j], I[i + d, j])``
    (``axis=0``, vertical).

    max_distance: largest distance, 1 <= max_distance < size along ``axis``.
    axis: 1 for horizontal pairs, 0 for vertical pairs.

    Raises ValueError when ``image`` is not 2-D or is constant, ``axis`` is not 0
    or 1, or ``max_distance`` is out of range; TypeError when ``max_distance`` is
    not an int.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"neighbour_correlation: image must be 2-D (H, W), got shape {img.shape}")
    if axis not in (0, 1):
        raise ValueError(f"neighbour_correlation: axis must be 0 or 1, got {axis!r}")
    if isinstance(max_distance, bool) or not isinstance(max_distance, Integral):
        raise TypeError(f"neighbour_correlation: max_distance must be an int, got {max_distance!r}")
    size = img.shape[axis]
    if not 1 <= max_distance < size:
        raise ValueError(
            f"neighbour_correlation: max_distance must be in [1, {size - 1}] for an "
            f"image of shape {img.shape} along axis {axis}, got {max_distance}"
        )
    if np.ptp(img) == 0:
        raise ValueError("neighbour_correlation: the image is constant (no correlation)")
    if axis == 0:
        img = img.T
    result = np.empty(max_distance)
    for d in range(1, max_distance + 1):
        a = img[:, :-d].ravel()
        b = img[:, d:].ravel()
        result[d - 1] = np.corrcoef(a, b)[0, 1]
    return result
