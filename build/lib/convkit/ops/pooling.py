"""Pooling: max, average and global average pooling, and the backward pass of max pooling.

No loop over windows: the elements that one kernel offset picks out of all windows
form one strided slice of the (padded) input, so a pooling is a few whole-array
operations. Max and sum are separable: combine the kh rows of each window first,
then the kw columns. The backward pass visits the kh*kw offsets in row-major order.
"""

from __future__ import annotations

import numpy as np

from convkit._checks import (
    PoolSetup,
    as_bool,
    as_float_array,
    as_float_arrays,
    batched,
    check_grad_out,
    pool_setup,
)
from convkit.ops.im2col import kernel_offsets
from convkit.ops.padding import pad_hw

__all__ = ["avg_pool2d", "global_avg_pool2d", "max_pool2d", "max_pool2d_backward"]


def max_pool2d(
    x: object,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """Maximum over each window; padding counts as -inf.

    x: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out).
    ``stride`` defaults to ``kernel_size``; ``padding`` is at most half the kernel.
    """
    s = pool_setup("max_pool2d", x, kernel_size, stride, padding)
    out = _separable(_pad(s, -np.inf), s, np.maximum)
    return out[0] if s.unbatched else out


def avg_pool2d(
    x: object,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    *,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Mean over each window.

    x: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out).
    ``stride`` defaults to ``kernel_size``. The zero padding counts in the divisor
    (kh*kw) unless ``count_include_pad`` is False (divide by the number of real pixels).
    """
    s = pool_setup("avg_pool2d", x, kernel_size, stride, padding)
    count_include_pad = as_bool("avg_pool2d", "count_include_pad", count_include_pad)
    out = _separable(_pad(s, 0.0), s, np.add)
    if count_include_pad or s.padding == (0, 0):
        out /= s.kernel[0] * s.kernel[1]
    else:  # divide by the number of real (not padding) pixels in each window
        ones = np.ones((1, 1, *s.x.shape[2:]), dtype=out.dtype)
        out /= _separable(_pad(s._replace(x=ones), 0.0), s, np.add)[0, 0]
    return out[0] if s.unbatched else out


def global_avg_pool2d(x: object) -> np.ndarray:
    """Mean over the whole spatial extent of each channel.

    x: (N, C, H, W) -> (N, C); unbatched (C, H, W) -> (C,).
    """
    func = "global_avg_pool2d"
    arr = as_float_array(func, "x", x)
    xb, unbatched = batched(func, "x", arr, "(N, C, H, W)")
    if 0 in xb.shape[2:]:
        raise ValueError(f"{func}: x has an empty spatial axis (H or W), got shape {arr.shape}")
    out = xb.mean(axis=(2, 3))
    return out[0] if unbatched else out


def max_pool2d_backward(
    grad_out: object,
    x: object,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """Gradient of sum(grad_out * max_pool2d(x, ...)) with respect to x.

    grad_out: (N, C, H_out, W_out), x: (N, C, H, W) (or both unbatched) -> grad_x like x.
    Each output gradient goes to its window's maximum; on ties, to the first maximum
    in row-major order within the window (as torch does; a NaN counts as a maximum);
    overlapping windows add up.
    """
    func = "max_pool2d_backward"
    g, xf = as_float_arrays(func, grad_out=grad_out, x=x)
    s = pool_setup(func, xf, kernel_size, stride, padding)
    check_grad_out(func, g, s.out_shape, "max_pool2d")
    g = g[None] if s.unbatched else g
    xpad = _pad(s, -np.inf)
    offsets = list(kernel_offsets(s.kernel, s.stride, s.out_size))

    # Which kernel offset holds each window's maximum (torch's scan: the first real
    # pixel, then any strictly larger value or a NaN).
    real = _pad(s._replace(x=np.ones((1, 1, *s.x.shape[2:]), dtype=bool)), False)[0, 0]
    best = np.full(g.shape, -np.inf, dtype=xpad.dtype)
    best_offset = np.full(g.shape, -1, dtype=np.intp)
    for offset, (rows, columns) in enumerate(offsets):
        values = xpad[:, :, rows, columns]
        take = (values > best) | np.isnan(values) | (best_offset < 0)
        take &= real[rows, columns]
        np.copyto(best, values, where=take)
        best_offset[take] = offset

    grad_xpad = np.zeros_like(xpad)
    for offset, (rows, columns) in enumerate(offsets):
        grad_xpad[:, :, rows, columns] += np.where(best_offset == offset, g, 0)
    (ph, pw), (h, w) = s.padding, s.x.shape[2:]
    grad_x = np.ascontiguousarray(grad_xpad[:, :, ph : ph + h, pw : pw + w])
    return grad_x[0] if s.unbatched else grad_x


def _pad(s: PoolSetup, value: float) -> np.ndarray:
    ph, pw = s.padding
    return pad_hw(s.x, ph, ph, pw, pw, value)


def _separable(xpad: np.ndarray, s: PoolSetup, combine: np.ufunc) -> np.ndarray:
    """Combine (np.maximum or np.add) the elements of each window of a padded
    (N, C, Hp, Wp) array -> (N, C, H_out, W_out), a new array.

    Both are separable: first combine the kh rows of every window (strided slices
    of whole rows: (N, C, H_out, Wp)), then the kw columns of those.
    """
    (kh, kw), (sh, sw), (out_h, out_w) = s.kernel, s.stride, s.out_size
    rows = [xpad[:, :, m : m + sh * (out_h - 1) + 1 : sh, :] for m in range(kh)]
    by_rows = _combine(rows, combine)
    columns = [by_rows[..., k : k + sw * (out_w - 1) + 1 : sw] for k in range(kw)]
    return _combine(columns, combine, copy=True)


def _combine(parts: list[np.ndarray], combine: np.ufunc, *, copy: bool = False) -> np.ndarray:
    """combine(parts[0], parts[1], ...) elementwise, with one new array at most."""
    if len(parts) == 1:
        return parts[0].copy() if copy else parts[0]
    out = combine(parts[0], parts[1])
    for part in parts[2:]:
        combine(out, part, out=out)
    return out
