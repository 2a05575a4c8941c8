"""Whole-pixel image shifts: move content along the last two axes, fill the border.

One implementation for every caller: a single shift for a whole array (chapter 0's
equivariance test, chapter 4's pooling measurements) or one shift per image (the
training augmentation :func:`convkit.training.shift_images`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from convkit._checks import as_float_array, as_int

__all__ = ["shift2d"]

Offset = int | np.ndarray


def shift2d(x: ArrayLike, dy: Offset, dx: Offset, fill: float = 0.0) -> np.ndarray:
    """Translate images by whole pixels along their last two axes.

    x: (..., H, W) -> (..., H, W), a new array of the same float dtype.

    float32 and float64 are kept, integers become float64. The result has
    ``out[..., i, j] == x[..., i - dy, j - dx]`` where that index exists and ``fill``
    elsewhere (per image ``n``: ``out[n, ..., i, j] == x[n, ..., i - dy[n], j - dx[n]]``).
    Content pushed past the edge is discarded (no wrap-around).

    dy: rows to move the content down (negative: up): an int for all of ``x``, or
    one int per image, an integer array (N,) along the first axis of an ``x`` of
    shape (N, ..., H, W) (``ndim >= 3``).
    dx: columns to move the content right (negative: left), like ``dy``.
    fill: the value written into the uncovered rows and columns.

    Raises TypeError when ``x`` does not hold real numbers or ``dy`` / ``dx`` is
    neither an int nor an integer array, and ValueError when ``x`` has fewer than
    two axes or an offset array is not (N,).
    """
    arr = as_float_array("shift2d", "x", x)
    if arr.ndim < 2:
        raise ValueError(f"shift2d: x must have shape (..., H, W), got shape {arr.shape}")
    dy = _offset("dy", dy, arr.shape)
    dx = _offset("dx", dx, arr.shape)
    out = np.full(arr.shape, fill, dtype=arr.dtype)
    if isinstance(dy, int) and isinstance(dx, int):
        _copy_shifted(arr, out, dy, dx)
        return out
    # one shift per image: each distinct (dy, dx) pair is one sliced copy of its images
    n = arr.shape[0]
    pairs = np.stack([np.broadcast_to(dy, n), np.broadcast_to(dx, n)], axis=1)
    distinct, group = np.unique(pairs, axis=0, return_inverse=True)
    group = group.reshape(-1)
    for g, (pair_dy, pair_dx) in enumerate(distinct.tolist()):
        _copy_shifted(arr, out, pair_dy, pair_dx, images=np.flatnonzero(group == g))
    return out


def _offset(name: str, value: object, shape: tuple[int, ...]) -> int | np.ndarray:
    """An int, or an int64 array (N,) of one offset per image of x (N, ..., H, W)."""
    if not isinstance(value, np.ndarray) or value.ndim == 0:
        return as_int("shift2d", name, value)
    offsets = value
    if offsets.dtype.kind not in "iu":
        raise TypeError(
            f"shift2d: {name} must be an int or an integer array (N,), got dtype {offsets.dtype}"
        )
    if len(shape) < 3 or offsets.shape != shape[:1]:
        raise ValueError(
            f"shift2d: {name} as an array needs one offset per image, shape (N,) for x "
            f"(N, ..., H, W); got {name}.shape={offsets.shape} for x.shape={shape}"
        )
    return offsets.astype(np.int64)


def _copy_shifted(
    arr: np.ndarray, out: np.ndarray, dy: int, dx: int, images: np.ndarray | None = None
) -> None:
    """out[images, ..., i, j] = arr[images, ..., i - dy, j - dx] where that index exists."""
    height, width = arr.shape[-2:]
    if abs(dy) >= height or abs(dx) >= width:
        return  # everything moved out: only the fill is left
    src_rows = slice(max(0, -dy), height - max(0, dy))
    dst_rows = slice(max(0, dy), height - max(0, -dy))
    src_cols = slice(max(0, -dx), width - max(0, dx))
    dst_cols = slice(max(0, dx), width - max(0, -dx))
    if images is None:
        out[..., dst_rows, dst_cols] = arr[..., src_rows, src_cols]
    else:
        out[images, ..., dst_rows, dst_cols] = arr[images, ..., src_rows, src_cols]
