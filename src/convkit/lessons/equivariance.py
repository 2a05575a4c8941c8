"""Convolution seen as a dense layer, and shifts for testing translation equivariance.

Chapter 0 argues that a convolution is a fully-connected layer whose weight
matrix is mostly zero and whose non-zero entries are tied together.  The
functions here make that claim concrete and checkable:

- :func:`conv1d_matrix` builds the (L_out, L) matrix ``M`` of a single-channel
  1-D cross-correlation, so that ``M @ x`` equals ``conv1d(x, w)``;
- :func:`shift2d` (the one of :mod:`convkit.ops.shift`, named here too) moves an
  image by whole pixels, filling the uncovered border;
- :func:`equivariance_error` measures how far an operation is from commuting
  with a shift, away from the borders where the shift loses information;
- :func:`shift_mismatch` compares a shifted input's output with the output moved
  by another amount: a layer with stride ``s`` answers a shift of ``s*a`` pixels
  with an output shift of exactly ``a``, and a shift by a non-multiple of ``s`` with
  no output shift at all.

Pure numpy; no torch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from convkit._checks import (
    as_float_array,
    check_ndim,
    int_at_least,
    int_tuple,
    window_output_size,
)
from convkit.ops.shift import shift2d

__all__ = ["conv1d_matrix", "equivariance_error", "shift2d", "shift_mismatch"]


def conv1d_matrix(weight: ArrayLike, length: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The dense matrix ``M`` of a single-channel 1-D cross-correlation.

    weight: (k,) -> M: (L_out, L), L_out = (L + 2*padding - k) // stride + 1.

    ``L_out`` follows the window size rule of every convolution, and for any ``x``
    of shape (L,), ``M @ x == conv1d(x[None, None], weight[None, None],
    stride=stride, padding=padding)[0, 0]``.  Row ``i`` holds the kernel placed at
    input position ``i*stride - padding``; taps that land on padding zeros are
    dropped because a zero input contributes nothing.  ``M`` has the float dtype
    of ``weight`` (float32 stays float32; integers become float64).

    length: the length ``L`` of the (unpadded) input signal.
    stride: the step between neighbouring windows, >= 1.
    padding: the number of zeros added at each end of the signal, >= 0.

    Raises TypeError when ``weight`` is not numeric or a size is not an int, and
    ValueError when ``weight`` is not 1-D or is empty, ``length`` < 1, ``stride`` < 1,
    ``padding`` < 0, or the kernel is longer than the padded signal.
    """
    func = "conv1d_matrix"
    w = as_float_array(func, "weight", weight)
    check_ndim(func, "weight", w, ["(k)"])
    if w.size == 0:
        raise ValueError(f"{func}: weight is empty (k = 0)")
    length = int_at_least(func, "length", length, 1)
    stride = int_at_least(func, "stride", stride, 1)
    padding = int_at_least(func, "padding", padding, 0)
    k = w.size
    context = f"weight.shape=({k},), length={length}, padding={padding}"
    out_len = window_output_size(func, "length", length, k, stride, padding, padding, 1, context)

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
    """How far ``op`` is from commuting with a shift, away from the borders.

    x: (..., H, W) -> float; op maps (..., H, W) to (..., H_out, W_out).

    Computes ``a = op(shift2d(x, dy, dx))`` ("shift, then apply") and
    ``b = shift2d(op(x), dy, dx)`` ("apply, then shift") and returns the largest
    ``|a - b|`` over the interior ``[margin:H_out-margin, margin:W_out-margin]``
    of the last two axes, as a Python float.  For a stride-1 convolution with a
    k×k kernel the two agree exactly once ``margin >= max(|dy|, |dx|)``; near the
    border they differ because the shift pushes pixels out and zeros in.

    op: for example a convolution with a fixed kernel.
    dy, dx: the shift, in pixels (see :func:`shift2d`).
    margin: rows/columns of the output ignored at each side, >= 0.

    Raises ValueError when the two results have different shapes, or the margin
    leaves nothing to compare.
    """
    return _interior_gap("equivariance_error", op, x, (dy, dx), (dy, dx), margin)


def shift_mismatch(
    op: Callable[[np.ndarray], np.ndarray],
    x: ArrayLike,
    shift: tuple[int, int],
    out_shift: tuple[int, int],
    margin: int,
) -> float:
    """How far ``op`` of a shifted input is from ``op``'s output moved by ``out_shift``.

    x: (..., H, W) -> float; op maps (..., H, W) to (..., H_out, W_out).

    Returns the largest ``|op(shift2d(x, *shift)) - shift2d(op(x), *out_shift)|`` over
    the interior ``[margin:H_out-margin, margin:W_out-margin]`` of the last two axes,
    as a Python float.  With ``out_shift == shift`` this is :func:`equivariance_error`.
    For a layer with stride ``s`` (a strided convolution, ``s x s`` pooling) the
    mismatch is zero in the interior for ``shift = (s*a, s*b)`` and
    ``out_shift = (a, b)``; for a shift that is not a multiple of ``s`` no output
    shift makes it zero in general.

    shift: (dy, dx), the input's shift in pixels (see :func:`shift2d`).
    out_shift: (dy, dx), the shift applied to the output for the comparison.
    margin: rows/columns of the output ignored at each side, >= 0.

    Raises TypeError when a shift is not a pair of ints, and ValueError when the two
    results have different shapes or the margin leaves nothing to compare.
    """
    func = "shift_mismatch"
    shift = int_tuple(func, "shift", shift, 2)
    out_shift = int_tuple(func, "out_shift", out_shift, 2)
    return _interior_gap(func, op, x, shift, out_shift, margin)


def _interior_gap(
    func: str,
    op: Callable[[np.ndarray], np.ndarray],
    x: ArrayLike,
    shift: tuple[int, int],
    out_shift: tuple[int, int],
    margin: int,
) -> float:
    """max |op(shift2d(x, *shift)) - shift2d(op(x), *out_shift)| over the output's
    interior (``margin`` cut off on every side); messages name ``func``."""
    margin = int_at_least(func, "margin", margin, 0)
    arr = as_float_array(func, "x", x)
    shift_then_op = np.asarray(op(shift2d(arr, *shift)))
    op_then_shift = shift2d(np.asarray(op(arr)), *out_shift)
    if shift_then_op.shape != op_then_shift.shape:
        raise ValueError(
            f"{func}: op returned shape "
            f"{shift_then_op.shape} for the shifted input but {op_then_shift.shape} "
            "for the original; it must keep the shape fixed"
        )
    if shift_then_op.ndim < 2:
        raise ValueError(
            f"{func}: op must return an array (..., H, W), got shape "
            f"{shift_then_op.shape}"
        )
    height, width = shift_then_op.shape[-2:]
    if 2 * margin >= height or 2 * margin >= width:
        raise ValueError(
            f"{func}: margin={margin} leaves no interior in an output of "
            f"size {height}x{width}"
        )
    inner = (..., slice(margin, height - margin), slice(margin, width - margin))
    return float(np.max(np.abs(shift_then_op[inner] - op_then_shift[inner])))
