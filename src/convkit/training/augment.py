"""Data augmentation for the trainers: every image moved by its own random whole-pixel shift."""

from __future__ import annotations

import numpy as np

from convkit._checks import int_at_least
from convkit.ops.shift import shift2d
from convkit.training.arguments import check_images

__all__ = ["shift_images"]


def shift_images(x: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Shift every image by its own random whole-pixel offset, filling with zeros.

    x: (N, C, H, W) -> (N, C, H, W), a new array of x's dtype.

    Each image gets a vertical and a horizontal shift drawn uniformly from
    ``-max_shift .. max_shift`` (``rng.integers`` draws the N vertical shifts, then
    the N horizontal ones; nothing is drawn when ``max_shift`` is 0); the shifting
    itself is :func:`convkit.ops.shift.shift2d`. Pixels pushed past the border are
    lost and the uncovered strip is 0.

    x: the images, float.
    max_shift: the largest shift in pixels, ``0 <= max_shift < min(H, W)``.
    rng: the numpy random generator drawing the shifts.
    """
    x = check_images("shift_images", "x", x)
    max_shift = int_at_least("shift_images", "max_shift", max_shift, 0)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"shift_images: rng must be a numpy Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    n, _, h, w = x.shape
    if max_shift >= min(h, w):
        raise ValueError(
            f"shift_images: max_shift must be smaller than the image size {h}x{w}, got {max_shift}"
        )
    if max_shift == 0 or n == 0:
        return x.copy()
    dy = rng.integers(-max_shift, max_shift + 1, size=n)
    dx = rng.integers(-max_shift, max_shift + 1, size=n)
    return shift2d(x, dy, dx).astype(x.dtype, copy=False)  # float16 too stays float16
