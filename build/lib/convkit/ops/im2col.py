"""im2col: unfold every kernel-sized window of the input into a column.

A convolution then becomes one matrix product: weight (C_out, C*kh*kw) @ columns
(C*kh*kw, L), which is how the fast :func:`convkit.conv2d` works. The internal
helpers below are that fast path's machinery: window views of a padded input
(``window_view`` in general, ``row_view`` for stride 1, whose columns copy as whole
image rows), batch slices whose columns fit in the CPU cache, and reusable buffers.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view
from numpy.typing import DTypeLike

from convkit._checks import AXIS_NAMES, as_float_array, batched, int_tuple, window_output_size
from convkit.ops.padding import pad_hw

__all__ = ["im2col"]


def im2col(
    x: object,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> np.ndarray:
    """The layout of ``torch.nn.functional.unfold``.

    x: (N, C, H, W) -> (N, C*kh*kw, L), or unbatched (C, H, W) -> (C*kh*kw, L),
    with L = H_out * W_out, row index c*kh*kw + m*kw + k and column index i*W_out + j:
    cols[n, c*kh*kw + m*kw + k, i*W_out + j] = xpad[n, c, i*sh + m*dh, j*sw + k*dw].
    """
    func = "im2col"
    xb, unbatched = batched(func, "x", as_float_array(func, "x", x), "(N, C, H, W)")
    kernel = int_tuple(func, "kernel_size", kernel_size, 2, minimum=1)
    stride_t = int_tuple(func, "stride", stride, 2, minimum=1)
    pads = int_tuple(func, "padding", padding, 2, minimum=0)
    dilation_t = int_tuple(func, "dilation", dilation, 2, minimum=1)
    context = f"x.shape={tuple(np.shape(x))}, kernel_size={kernel}"
    out_size = tuple(
        window_output_size(func, axis, size, k, s, p, p, d, context)
        for axis, size, k, s, p, d in zip(
            AXIS_NAMES[2], xb.shape[2:], kernel, stride_t, pads, dilation_t, strict=True
        )
    )
    xpad = pad_hw(xb, pads[0], pads[0], pads[1], pads[1])
    cols = im2col_padded(xpad, kernel, stride_t, dilation_t, out_size)
    return cols[0] if unbatched else cols


def window_view(
    xpad: np.ndarray,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out_size: tuple[int, ...],
    *,
    writeable: bool = False,
) -> np.ndarray:
    """View (N, C, kh, kw, H_out, W_out) of an already padded (N, C, Hp, Wp) array:
    view[n, c, m, k, i, j] = xpad[n, c, i*sh + m*dh, j*sw + k*dw] (internal).

    For one kernel offset (m, k), ``view[:, :, m, k]`` is a plain strided slice, so
    with ``writeable`` it can be added to (col2im); the view as a whole overlaps itself.
    """
    (kh, kw), (sh, sw), (dh, dw), (out_h, out_w) = kernel, stride, dilation, out_size
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    # (N, C, positions_h, positions_w, span_h, span_w): every window at stride 1 ...
    windows = sliding_window_view(xpad, (span_h, span_w), axis=(2, 3), writeable=writeable)
    # ... keep every stride-th window and every dilation-th element inside it.
    windows = windows[:, :, : sh * (out_h - 1) + 1 : sh, : sw * (out_w - 1) + 1 : sw, ::dh, ::dw]
    return windows.transpose(0, 1, 4, 5, 2, 3)


def row_view(
    xpad: np.ndarray,
    kernel: tuple[int, ...],
    dilation: tuple[int, ...],
    out_size: tuple[int, ...],
    *,
    writeable: bool = False,
) -> np.ndarray:
    """Stride-1 windows of a C-contiguous padded (N, C, Hp, Wp) array as long rows
    (internal): view (N, C, kh, kw, (H_out - 1)*Wp + W_out) with
    view[n, c, m, k, i*Wp + j] = xpad[n, c, i + m*dh, j + k*dw] for j < W_out.

    One kernel offset reads one contiguous run of each flattened image plane (fast to
    copy); the positions with j >= W_out wrap around into the next image row and are
    thrown away after the matrix product. ``view[:, :, m, k]`` does not overlap itself.
    """
    n, c, _, width = xpad.shape
    (kh, kw), (dh, dw), (out_h, out_w) = kernel, dilation, out_size
    s_n, s_c, s_row, s_col = xpad.strides
    return as_strided(
        xpad,
        shape=(n, c, kh, kw, (out_h - 1) * width + out_w),
        strides=(s_n, s_c, dh * s_row, dw * s_col, s_col),
        writeable=writeable,
    )


def unfold_view(
    xpad: np.ndarray,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out_size: tuple[int, ...],
    *,
    writeable: bool = False,
) -> tuple[np.ndarray, int]:
    """The windows of a padded input with contiguous rows, for the fast paths (internal).

    Returns ``(view, pitch)``: output pixel (i, j) sits at position i*pitch + j of a
    sample's columns. Stride 1 uses :func:`row_view` (pitch Wp; positions with
    j >= W_out are padding); other strides use :func:`window_view` (pitch W_out).
    Either way ``view.shape[:4] == (N, C, kh, kw)`` and a sample's columns have
    (H_out - 1)*pitch + W_out positions.
    """
    if tuple(stride) == (1, 1):
        return row_view(xpad, kernel, dilation, out_size, writeable=writeable), xpad.shape[3]
    view = window_view(xpad, kernel, stride, dilation, out_size, writeable=writeable)
    return view, out_size[1]


def pad_chunk(x: np.ndarray, pads: tuple[tuple[int, int], ...], name: str) -> np.ndarray:
    """A slice of the batch (n, C, H, W) zero-padded into the scratch buffer ``name``,
    or ``x`` itself when there is no padding and its rows are contiguous (internal)."""
    (top, bottom), (left, right) = pads
    row = x.shape[3] * x.itemsize
    contiguous_rows = x.strides[3] == x.itemsize and (x.shape[2] == 1 or x.strides[2] == row)
    if top == bottom == left == right == 0 and contiguous_rows:
        return x
    n, c, h, w = x.shape
    buffer = scratch(name, (n, c, top + h + bottom, left + w + right), x.dtype)
    return pad_hw(x, top, bottom, left, right, out=buffer)


_scratch = threading.local()
_SCRATCH_KEEP = 1 << 25  # larger scratch buffers are not kept between calls


def scratch(name: str, shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
    """A reusable buffer of this thread, ``shape`` and ``dtype``, contents undefined
    (internal). Temporaries of the fast paths live here: allocating megabytes afresh on
    every call costs page faults that can take longer than the arithmetic."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    buffer = getattr(_scratch, name, None)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = np.empty(nbytes, dtype=np.uint8)
        if nbytes <= _SCRATCH_KEEP:
            setattr(_scratch, name, buffer)
    return buffer[:nbytes].view(dtype).reshape(shape)


def im2col_padded(
    xpad: np.ndarray,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out_size: tuple[int, ...],
) -> np.ndarray:
    """Contiguous columns (N, C*kh*kw, H_out*W_out) of an already padded input (internal)."""
    n, c = xpad.shape[:2]
    cols = np.ascontiguousarray(window_view(xpad, kernel, stride, dilation, out_size))
    return cols.reshape(n, c * kernel[0] * kernel[1], out_size[0] * out_size[1])


# Columns are built for at most this many bytes of the batch at a time (about the
# size of a CPU's L2 cache; at least one sample).
CACHE_BYTES = 1 << 21


def batch_slices(samples: range, bytes_per_sample: int) -> Iterator[slice]:
    """Consecutive slices of ``samples`` whose columns take at most ``CACHE_BYTES``
    (at least one sample each), so that the columns (kh*kw times larger than the
    input) stay small and in the CPU cache (internal)."""
    step = max(1, CACHE_BYTES // max(bytes_per_sample, 1))
    for start in range(samples.start, samples.stop, step):
        yield slice(start, min(start + step, samples.stop))


def kernel_offsets(
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    out_size: tuple[int, ...],
    dilation: tuple[int, ...] = (1, 1),
) -> Iterator[tuple[slice, slice]]:
    """For each kernel offset (m, k) in row-major order, the (rows, columns) slices of
    the padded input that the offset touches in all windows (internal):
    xpad[..., rows, columns][..., i, j] = xpad[..., i*sh + m*dh, j*sw + k*dw]."""
    (kh, kw), (sh, sw), (dh, dw), (out_h, out_w) = kernel, stride, dilation, out_size
    for m in range(kh):
        for k in range(kw):
            rows = slice(m * dh, m * dh + sh * (out_h - 1) + 1, sh)
            columns = slice(k * dw, k * dw + sw * (out_w - 1) + 1, sw)
            yield rows, columns
