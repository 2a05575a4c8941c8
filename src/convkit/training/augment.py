"""Data augmentation for the trainers: random whole-pixel shifts (ch06), random crops of
zero-padded images, horizontal flips, colour jitter and cutout (ch11), each image with its
own random draw.

Colour jitter and cutout each come in two forms: the random one (``colour_jitter``,
``cutout``) draws every image's parameters and hands them to the deterministic one
(``apply_colour_jitter``, ``apply_cutout``), which a simulation or a test can call with
parameters of its own."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from convkit._checks import (
    as_float_array,
    as_generator,
    check_ndim,
    fraction,
    int_at_least,
    non_negative_float,
)
from convkit.ops.shift import shift2d
from convkit.training.arguments import check_images

__all__ = [
    "GREY_WEIGHTS",
    "apply_colour_jitter",
    "apply_cutout",
    "colour_jitter",
    "cutout",
    "horizontal_flip",
    "random_crop",
    "shift_images",
]

#: The weights of R, G and B in an image's grey level (ITU-R BT.601 luma), used by colour
#: jitter's contrast and saturation steps.
GREY_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)


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


def _image_or_batch(func: str, name: str, x: object) -> tuple[np.ndarray, bool]:
    """x: (N, C, H, W) or (C, H, W), float -> ((N, C, H, W), whether a batch axis was added).

    ValueError for another number of axes, TypeError when ``x`` does not hold floats.
    """
    arr = np.asarray(x)
    check_ndim(func, name, arr, ["(N, C, H, W)", "(C, H, W)"])
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"{func}: {name} must hold floats, got dtype {arr.dtype}")
    return (arr[None] if arr.ndim == 3 else arr), arr.ndim == 3


def _factors(func: str, name: str, value: object, n: int) -> np.ndarray:
    """One factor for every image: a number or a (n,) sequence, each finite and >= 0 ->
    (n,) float64.  TypeError for non-numbers (bools too), ValueError otherwise."""
    arr = as_float_array(func, name, value).astype(np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    elif arr.shape != (n,):
        raise ValueError(
            f"{func}: {name} must be a number or one per image ({n},), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr) & (arr >= 0)):
        raise ValueError(f"{func}: {name} must be finite and >= 0, got {value!r}")
    return arr


def _pixel_indices(func: str, name: str, value: object, n: int, length: int) -> np.ndarray:
    """One pixel index for every image: an int or a (n,) sequence of ints, each in
    ``0 .. length - 1`` -> (n,) int64.  TypeError for non-integers (bools too), else
    ValueError."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{func}: {name} must be an int or one int per image, got {value!r}")
    if arr.ndim == 0:
        arr = np.full(n, int(arr))
    elif arr.shape != (n,):
        raise ValueError(
            f"{func}: {name} must be an int or one per image ({n},), got shape {arr.shape}"
        )
    if n and (arr.min() < 0 or arr.max() >= length):
        raise ValueError(f"{func}: {name} must be between 0 and {length - 1}, got {value!r}")
    return arr.astype(np.int64)


def _grey(x: np.ndarray) -> np.ndarray:
    """Grey levels: x (N, 3, H, W) -> (N, 1, H, W), 0.299 R + 0.587 G + 0.114 B;
    x (N, 1, H, W) is its own grey image."""
    if x.shape[1] == 1:
        return x
    red, green, blue = GREY_WEIGHTS
    return (red * x[:, 0] + green * x[:, 1] + blue * x[:, 2])[:, None]


def _blend(x: np.ndarray, other: np.ndarray | float, factor: np.ndarray) -> np.ndarray:
    """factor * x + (1 - factor) * other, clipped to [0, 1]: x (N, C, H, W), other
    broadcastable to it, factor (N,) -> (N, C, H, W)."""
    f = factor[:, None, None, None]
    return np.clip(f * x + (1.0 - f) * other, 0.0, 1.0)


def apply_colour_jitter(
    x: np.ndarray,
    brightness_factor: float | np.ndarray | None = None,
    contrast_factor: float | np.ndarray | None = None,
    saturation_factor: float | np.ndarray | None = None,
) -> np.ndarray:
    """Change the brightness, contrast and saturation of images by given factors, the
    steps torchvision's ``ColorJitter`` takes (``adjust_brightness``, ``adjust_contrast``,
    ``adjust_saturation`` of ``torchvision.transforms.functional``).

    x: (N, C, H, W) or (C, H, W), values in [0, 1] -> the same shape, a new array of x's
    dtype (computed in float64).  Each factor is a number >= 0, one number per image
    (N,), or None to skip that step.  The steps, in this fixed order, each clipped to
    [0, 1] as torchvision clips each of its own:

    1. brightness: ``b * x``;
    2. contrast: ``c * x + (1 - c) * m``, m the mean grey level of the image (after
       step 1; for one channel, the mean of that channel);
    3. saturation: ``s * x + (1 - s) * grey``, grey the image's own grey pixel by pixel
       (after step 2).

    The grey level of a pixel is ``0.299 R + 0.587 G + 0.114 B`` (:data:`GREY_WEIGHTS`;
    torchvision's ``rgb_to_grayscale`` writes 0.2989 for R).
    A factor of 1 leaves an image in [0, 1] as it is; 0 makes it black (brightness),
    uniformly its mean grey (contrast) or grey (saturation).  Contrast needs 1 or 3
    channels, saturation 3 (ValueError otherwise).  No randomness: see
    :func:`colour_jitter`.
    """
    func = "apply_colour_jitter"
    batch, unbatched = _image_or_batch(func, "x", x)
    n, channels = batch.shape[:2]
    steps = {
        "brightness_factor": brightness_factor,
        "contrast_factor": contrast_factor,
        "saturation_factor": saturation_factor,
    }
    factors = {k: None if v is None else _factors(func, k, v, n) for k, v in steps.items()}
    if factors["contrast_factor"] is not None and channels not in (1, 3):
        raise ValueError(
            f"{func}: contrast needs grey or RGB images (1 or 3 channels), got {channels}"
        )
    if factors["saturation_factor"] is not None and channels != 3:
        raise ValueError(f"{func}: saturation needs RGB images (3 channels), got {channels}")
    out = batch.astype(np.float64)  # a copy
    if (b := factors["brightness_factor"]) is not None:
        out = _blend(out, 0.0, b)
    if (c := factors["contrast_factor"]) is not None:
        out = _blend(out, _grey(out).mean(axis=(1, 2, 3), keepdims=True), c)
    if (s := factors["saturation_factor"]) is not None:
        out = _blend(out, _grey(out), s)
    out = out.astype(batch.dtype)
    return out[0] if unbatched else out


def colour_jitter(
    x: np.ndarray,
    rng: np.random.Generator,
    brightness: float = 0.0,
    contrast: float = 0.0,
    saturation: float = 0.0,
) -> np.ndarray:
    """Jitter each image's brightness, contrast and saturation by its own random factors,
    as torchvision's ``ColorJitter(brightness, contrast, saturation)`` does to one image,
    but always in the order brightness, contrast, saturation (torchvision shuffles the
    order on every call).

    x: (N, C, H, W), values in [0, 1] -> (N, C, H, W), a new array of x's dtype.  Each
    image's brightness factor is drawn uniformly from ``[max(0, 1 - brightness), 1 +
    brightness]`` (``rng.uniform`` draws the N brightness factors, then the N contrast
    factors, then the N saturation factors, each from its own range); a parameter of 0
    skips its step and draws nothing, as in torchvision.  The factors are applied by
    :func:`apply_colour_jitter` (each step clipped to [0, 1]).  Saturation needs RGB
    images (3 channels), contrast grey or RGB ones (ValueError otherwise).

    brightness, contrast, saturation: how far each factor may stray from 1 (>= 0).
    rng: the numpy random generator drawing the factors.
    """
    func = "colour_jitter"
    x = check_images(func, "x", x)
    rng = as_generator(func, "rng", rng)
    spreads = {
        "brightness": non_negative_float(func, "brightness", brightness),
        "contrast": non_negative_float(func, "contrast", contrast),
        "saturation": non_negative_float(func, "saturation", saturation),
    }
    n, channels = x.shape[:2]
    if spreads["contrast"] > 0 and channels not in (1, 3):
        raise ValueError(
            f"{func}: contrast needs grey or RGB images (1 or 3 channels), got {channels}"
        )
    if spreads["saturation"] > 0 and channels != 3:
        raise ValueError(f"{func}: saturation needs RGB images (3 channels), got {channels}")
    drawn = {
        f"{name}_factor": rng.uniform(max(0.0, 1.0 - spread), 1.0 + spread, size=n)
        for name, spread in spreads.items()
        if spread > 0
    }
    if not drawn:
        return x.copy()
    return apply_colour_jitter(x, **drawn)


def apply_cutout(
    x: np.ndarray,
    centre_row: int | np.ndarray,
    centre_col: int | np.ndarray,
    size: int,
) -> np.ndarray:
    """Set a ``size`` x ``size`` square of every image to 0, centred at a given pixel and
    clipped at the image's borders (cutout's square, DeVries & Taylor 2017).

    x: (N, C, H, W) or (C, H, W) -> the same shape, a new array of x's dtype.
    centre_row, centre_col: the square's centre, an int or one int per image (N,), with
    ``0 <= centre_row < H`` and ``0 <= centre_col < W``.  The square covers rows
    ``centre_row - size // 2`` up to ``centre_row - size // 2 + size - 1`` (so for an even
    size the centre is the pixel just below and right of the square's middle), and the
    columns alike, in every channel; the part outside the image is dropped.
    size: the square's side, >= 0 (0 changes nothing).  No randomness: see :func:`cutout`.
    """
    func = "apply_cutout"
    batch, unbatched = _image_or_batch(func, "x", x)
    n, _, h, w = batch.shape
    rows = _pixel_indices(func, "centre_row", centre_row, n, h)
    cols = _pixel_indices(func, "centre_col", centre_col, n, w)
    size = int_at_least(func, "size", size, 0)
    tops, lefts = rows - size // 2, cols - size // 2
    in_rows = (np.arange(h) >= tops[:, None]) & (np.arange(h) < tops[:, None] + size)  # (N, H)
    in_cols = (np.arange(w) >= lefts[:, None]) & (np.arange(w) < lefts[:, None] + size)  # (N, W)
    square = in_rows[:, None, :, None] & in_cols[:, None, None, :]  # (N, 1, H, W)
    out = np.where(square, np.zeros((), dtype=batch.dtype), batch)
    return out[0] if unbatched else out


def cutout(x: np.ndarray, size: int, rng: np.random.Generator, p: float = 1.0) -> np.ndarray:
    """Cut a ``size`` x ``size`` square of zeros out of each image, with probability ``p``
    each decided on its own: cutout as DeVries & Taylor (2017) define it, the square's
    centre drawn uniformly over the image and the square clipped at the borders.

    x: (N, C, H, W) -> (N, C, H, W), a new array of x's dtype.  ``rng.random`` draws N
    numbers (an image is cut when its number is below ``p``), then ``rng.integers`` the N
    centre rows (0 .. H-1), then the N centre columns (0 .. W-1); the squares are cut by
    :func:`apply_cutout`.  torchvision has no cutout; its ``RandomErasing`` differs (it
    draws the rectangle's area and aspect ratio, and keeps the rectangle inside the image).

    size: the square's side, >= 0.  rng: the numpy random generator.  p: in [0, 1].
    """
    func = "cutout"
    x = check_images(func, "x", x)
    size = int_at_least(func, "size", size, 0)
    rng = as_generator(func, "rng", rng)
    p = fraction(func, "p", p)
    n, _, h, w = x.shape
    cut = rng.random(n) < p
    rows = rng.integers(0, h, size=n)
    cols = rng.integers(0, w, size=n)
    out = x.copy()
    out[cut] = apply_cutout(x[cut], rows[cut], cols[cut], size)
    return out
