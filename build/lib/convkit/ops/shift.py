"""Whole-pixel image shifts: move content along the last two axes, fill the border."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["shift2d"]


def _as_int(value: object, name: str, *, minimum: int) -> int:
    """``value`` as a Python int >= ``minimum``; TypeError / ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _as_float_array(x: ArrayLike, name: str) -> np.ndarray:
    """A float view/copy of ``x``: float32 and float64 are kept, anything else -> float64."""
    arr = np.asarray(x)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.dtype in (np.float32, np.float64):
        return arr
    return arr.astype(np.float64)


def shift2d(x: ArrayLike, dy: int, dx: int, fill: float = 0.0) -> np.ndarray:
    """Translate an image by whole pixels along its last two axes.

    Args:
        x: array of shape ``(..., H, W)`` (``ndim >= 2``).
        dy: rows to move the content down (negative: up).
        dx: columns to move the content right (negative: left).
        fill: value written into the uncovered rows and columns.

    Returns:
        A new array of the same shape and float dtype with
        ``out[..., i, j] == x[..., i - dy, j - dx]`` where that index exists and
        ``fill`` elsewhere.  Content pushed past the edge is discarded (no
        wrap-around).

    Raises:
        TypeError: ``dy`` or ``dx`` is not an int, or ``x`` is not numeric.
        ValueError: ``x`` has fewer than two dimensions.
    """
    arr = _as_float_array(x, "shift2d: x")
    if arr.ndim < 2:
        raise ValueError(f"shift2d: x must have shape (..., H, W), got shape {arr.shape}")
    dy = _as_int(dy, "shift2d: dy", minimum=-(2**62))
    dx = _as_int(dx, "shift2d: dx", minimum=-(2**62))
    height, width = arr.shape[-2:]
    out = np.full(arr.shape, fill, dtype=arr.dtype)
    if abs(dy) >= height or abs(dx) >= width:
        return out
    src_rows = slice(max(0, -dy), height - max(0, dy))
    dst_rows = slice(max(0, dy), height - max(0, -dy))
    src_cols = slice(max(0, -dx), width - max(0, dx))
    dst_cols = slice(max(0, dx), width - max(0, -dx))
    out[..., dst_rows, dst_cols] = arr[..., src_rows, src_cols]
    return out
