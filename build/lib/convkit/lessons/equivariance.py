"""Convolution seen as a dense layer, and shifts for testing translation equivariance.

Chapter 0 argues that a convolution is a fully-connected layer whose weight
matrix is mostly zero and whose non-zero entries are tied together.  The
functions here make that claim concrete and checkable:

- :func:`conv1d_matrix` builds the (L_out, L) matrix ``M`` of a single-channel
  1-D cross-correlation, so that ``M @ x`` equals ``conv1d(x, w)``;
- :func:`shift2d` moves an image by whole pixels, filling the uncovered border;
- :func:`equivariance_error` measures how far an operation is from commuting
  with a shift, away from the borders where the shift loses information.

Pure numpy; no torch.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike

from convkit.ops.shift import shift2d

__all__ = ["conv1d_matrix", "equivariance_error", "shift2d"]


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


def conv1d_matrix(weight: ArrayLike, length: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The dense matrix of a single-channel 1-D cross-correlation.

    Args:
        weight: kernel, shape ``(k,)``.
        length: length ``L`` of the (unpadded) input signal.
        stride: step between neighbouring windows, >= 1.
        padding: number of zeros added at each end of the signal, >= 0.

    Returns:
        ``M`` of shape ``(L_out, L)`` with ``L_out = (L + 2*padding - k) // stride + 1``
        such that, for any ``x`` of shape ``(L,)``,
        ``M @ x == conv1d(x[None, None], weight[None, None], stride=stride,
        padding=padding)[0, 0]``.  Row ``i`` holds the kernel placed at input
        position ``i*stride - padding``; taps that land on padding zeros are
        dropped because a zero input contributes nothing.  Same float dtype as
        ``weight`` (float32 stays float32; integers become float64).

    Raises:
        TypeError: ``weight`` is not numeric, or a size is not an int.
        ValueError: ``weight`` is not 1-D or is empty, ``length`` < 1,
            ``stride`` < 1, ``padding`` < 0, or the kernel is longer than the
            padded signal.
    """
    w = _as_float_array(weight, "conv1d_matrix: weight")
    if w.ndim != 1:
        raise ValueError(f"conv1d_matrix: weight must be 1-D with shape (k,), got shape {w.shape}")
    if w.size == 0:
        raise ValueError("conv1d_matrix: weight is empty (k = 0)")
    length = _as_int(length, "conv1d_matrix: length", minimum=1)
    stride = _as_int(stride, "conv1d_matrix: stride", minimum=1)
    padding = _as_int(padding, "conv1d_matrix: padding", minimum=0)
    k = w.size
    padded = length + 2 * padding
    if k > padded:
        raise ValueError(
            f"conv1d_matrix: kernel of length {k} does not fit a signal of length "
            f"{length} padded to {padded} (padding={padding})"
        )
    out_len = (padded - k) // stride + 1

    matrix = np.zeros((out_len, length), dtype=w.dtype)
    for i in range(out_len):
        start = i * stride - padding  # input index under the kernel's first tap
        for m in range(k):
            col = start + m
            if 0 <= col < length:
                matrix[i, col] = w[m]
    return matrix


def equivariance_error(
    op: Callable[[np.ndarray], np.ndarray],
    x: ArrayLike,
    dy: int,
    dx: int,
    margin: int,
) -> float:
    """How far ``op`` is from commuting with a shift, measured away from the borders.

    Computes ``a = op(shift2d(x, dy, dx))`` ("shift, then apply") and
    ``b = shift2d(op(x), dy, dx)`` ("apply, then shift") and returns the largest
    ``|a - b|`` over the interior ``[margin:H_out-margin, margin:W_out-margin]``
    of the last two axes.  For a stride-1 convolution with a k×k kernel the two
    agree exactly once ``margin >= max(|dy|, |dx|)``; near the border
    they differ because the shift pushes pixels out and zeros in.

    Args:
        op: maps an array ``(..., H, W)`` to an array ``(..., H_out, W_out)``
            (for example a convolution with a fixed kernel).
        x: input array, shape ``(..., H, W)``.
        dy, dx: the shift, in pixels (see :func:`shift2d`).
        margin: rows/columns of the output ignored at each side, >= 0.

    Returns:
        The maximum absolute difference in the interior, as a Python float.

    Raises:
        ValueError: the two results have different shapes, or the margin
            leaves nothing to compare.
    """
    margin = _as_int(margin, "equivariance_error: margin", minimum=0)
    arr = _as_float_array(x, "equivariance_error: x")
    shift_then_op = np.asarray(op(shift2d(arr, dy, dx)))
    op_then_shift = shift2d(np.asarray(op(arr)), dy, dx)
    if shift_then_op.shape != op_then_shift.shape:
        raise ValueError(
            "equivariance_error: op returned shape "
            f"{shift_then_op.shape} for the shifted input but {op_then_shift.shape} "
            "for the original; it must keep the shape fixed"
        )
    if shift_then_op.ndim < 2:
        raise ValueError(
            f"equivariance_error: op must return an array (..., H, W), got shape "
            f"{shift_then_op.shape}"
        )
    height, width = shift_then_op.shape[-2:]
    if 2 * margin >= height or 2 * margin >= width:
        raise ValueError(
            f"equivariance_error: margin={margin} leaves no interior in an output of "
            f"size {height}x{width}"
        )
    inner = (..., slice(margin, height - margin), slice(margin, width - margin))
    return float(np.max(np.abs(shift_then_op[inner] - op_then_shift[inner])))
