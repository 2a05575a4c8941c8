"""Data augmentation for the trainers: random whole-pixel shifts (ch06), random crops of
zero-padded images and horizontal flips (ch11), each image with its own random draw."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from convkit._checks import as_generator, fraction, int_at_least
from convkit.ops.shift import shift2d
from convkit.training.arguments import check_images

__all__ = ["horizontal_flip", "random_crop", "shift_images"]


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
    rng = as_generator("shift_images", "rng", rng)
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


def random_crop(
    x: np.ndarray,
    size: int | tuple[int, int],
    padding: int = 0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Pad every image with zeros, then cut a random ``size`` window out of each, as
    torchvision's ``RandomCrop(size, padding)`` does to one image.

    x: (N, C, H, W) -> (N, C, size_h, size_w), a new array of x's dtype.  Each image
    gets its own top-left corner, drawn uniformly from every position where the
    window fits the padded image (``rng.integers`` draws the N rows, then the N
    columns).  ``padding``: zeros added on every side (0 <= padding).
    """
    func = "random_crop"
    x = check_images(func, "x", x)
    height, width = (size, size) if isinstance(size, Integral) else tuple(size)
    height = int_at_least(func, "size", height, 1)
    width = int_at_least(func, "size", width, 1)
    pad = int_at_least(func, "padding", padding, 0)
    rng = as_generator(func, "rng", rng)
    n, _, h, w = x.shape
    if height > h + 2 * pad or width > w + 2 * pad:
        raise ValueError(
            f"{func}: a {height}x{width} window does not fit {h}x{w} images padded by {pad}"
        )
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    tops = rng.integers(0, h + 2 * pad - height + 1, size=n)
    lefts = rng.integers(0, w + 2 * pad - width + 1, size=n)
    rows = tops[:, None] + np.arange(height)  # (N, size_h)
    cols = lefts[:, None] + np.arange(width)  # (N, size_w)
    batch = np.arange(n)[:, None, None, None]
    channels = np.arange(x.shape[1])[None, :, None, None]
    return padded[batch, channels, rows[:, None, :, None], cols[:, None, None, :]]


def horizontal_flip(x: np.ndarray, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """Mirror each image left-right with probability ``p``, each decided on its own, as
    torchvision's ``RandomHorizontalFlip(p)`` does to one image.

    x: (N, C, H, W) -> (N, C, H, W), a new array of x's dtype (``rng.random`` draws N
    numbers; an image is flipped when its number is below ``p``).
    """
    func = "horizontal_flip"
    x = check_images(func, "x", x)
    rng = as_generator(func, "rng", rng)
    p = fraction(func, "p", p)
    flip = rng.random(x.shape[0]) < p
    out = x.copy()
    out[flip] = x[flip, ..., ::-1]
    return out
