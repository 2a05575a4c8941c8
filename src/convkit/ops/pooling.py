"""Pooling: max, average and global average pooling, and the backward pass of max pooling.

``max_pool2d_naive`` is the definition written as loops (the teaching version); the
others contain no loop over windows: the elements that one kernel offset picks out
of all windows form one strided slice of the (padded) input, so a pooling is a few
whole-array operations. Max and sum are separable: combine the kw columns of each
window row, then the kh rows (or the other way round).

Max pooling's backward pass needs to know which element of each window won.
``max_pool2d_forward_cached`` finds it, first over the kw columns of each window row,
then over the kh rows (the first maximum in row-major order, as in torch), and
``max_pool2d_backward_cached`` routes the gradient back along it. ``max_pool2d_backward``
is the two in one call; the numpy network's ``MaxPool2dLayer`` calls the pair.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from convkit._checks import (
    PoolSetup,
    as_bool,
    as_float_array,
    as_float_arrays,
    batched,
    check_grad_out,
    pool_setup,
)
from convkit.ops.padding import pad_hw

__all__ = [
    "MaxPoolCache",
    "avg_pool2d",
    "global_avg_pool2d",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_backward_cached",
    "max_pool2d_forward_cached",
    "max_pool2d_naive",
]


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


def max_pool2d_naive(
    x: object,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """The same contract as :func:`max_pool2d`, written as explicit loops (slow; tiny inputs only).

    out[n, c, i, j] = max over 0 <= m < kh, 0 <= k < kw of xpad[n, c, i*sh + m, j*sw + k]

    x: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out), where
    xpad is x with ``padding`` rows and columns of -inf on each side.
    """
    s = pool_setup("max_pool2d_naive", x, kernel_size, stride, padding)
    ph, pw = s.padding
    xpad = pad_hw(s.x, ph, ph, pw, pw, -np.inf)
    batch, channels = s.x.shape[:2]
    (kh, kw), (sh, sw), (out_h, out_w) = s.kernel, s.stride, s.out_size

    out = np.empty((batch, channels, out_h, out_w), dtype=s.x.dtype)
    for n in range(batch):
        for c in range(channels):
            for i in range(out_h):
                for j in range(out_w):
                    largest = -np.inf
                    for m in range(kh):
                        for k in range(kw):
                            pixel = xpad[n, c, i * sh + m, j * sw + k]
                            if pixel > largest or np.isnan(pixel):  # a NaN wins, as in torch
                                largest = pixel
                    out[n, c, i, j] = largest
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
    in row-major order within the window (as torch does; a NaN counts as a maximum,
    the last NaN of the window wins, as in torch's scan); overlapping windows add up.
    """
    func = "max_pool2d_backward"
    g, xf = as_float_arrays(func, grad_out=grad_out, x=x)
    s = pool_setup(func, xf, kernel_size, stride, padding)
    check_grad_out(func, g, s.out_shape, "max_pool2d")
    _, cache = _max_and_winners(s)
    grad_x = np.ascontiguousarray(_route_back(g[None] if s.unbatched else g, cache))
    return grad_x[0] if s.unbatched else grad_x


class MaxPoolCache(NamedTuple):
    """Where each window's maximum sits, for :func:`max_pool2d_backward_cached`.

    x: the input, batched (N, C, H, W) (kept for its shape and memory layout);
    column_winner: (N, C, Hp, W_out), for every window row of the padded input
    (Hp = H + 2*ph) the offset k of the column holding its maximum; row_winner:
    (N, C, H_out, W_out), the offset m of the window row holding the window's maximum.
    """

    x: np.ndarray
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    column_winner: np.ndarray
    row_winner: np.ndarray
    unbatched: bool

    @property
    def out_shape(self) -> tuple[int, ...]:
        """Shape of the pooled output, unbatched if the input was."""
        return self.row_winner.shape[1:] if self.unbatched else self.row_winner.shape


def max_pool2d_forward_cached(
    x: object,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> tuple[np.ndarray, MaxPoolCache]:
    """:func:`max_pool2d` plus where each window's maximum sits, for the backward pass.

    x: (N, C, H, W) or (C, H, W), any memory layout -> (out (N, C, H_out, W_out) or
    (C, H_out, W_out), laid out in memory like x when there is no padding; MaxPoolCache).
    The winner of a window is its first maximum in row-major order (a NaN wins, as in
    torch); the window's maximum itself is the same number :func:`max_pool2d` gives.
    """
    s = pool_setup("max_pool2d_forward_cached", x, kernel_size, stride, padding)
    out, cache = _max_and_winners(s)
    return (out[0] if s.unbatched else out), cache


def max_pool2d_backward_cached(grad_out: object, cache: MaxPoolCache) -> np.ndarray:
    """Gradient of a :func:`max_pool2d_forward_cached` call with respect to its input.

    grad_out: (N, C, H_out, W_out) or, unbatched, (C, H_out, W_out) -> grad_x
    (N, C, H, W) or (C, H, W) of grad_out's dtype, laid out in memory like the input.
    Each window's gradient goes to its winner; overlapping windows add up.
    """
    func = "max_pool2d_backward_cached"
    g = as_float_array(func, "grad_out", grad_out)
    check_grad_out(func, g, cache.out_shape, "max_pool2d_forward_cached")
    grad_x = _route_back(g[None] if cache.unbatched else g, cache)
    return grad_x[0] if cache.unbatched else grad_x


def _pad(s: PoolSetup, value: float) -> np.ndarray:
    """x: (N, C, H, W) -> (N, C, H + 2*ph, W + 2*pw) padded with ``value`` (x itself
    when there is no padding)."""
    ph, pw = s.padding
    return pad_hw(s.x, ph, ph, pw, pw, value)


def _separable(xpad: np.ndarray, s: PoolSetup, combine: np.ufunc) -> np.ndarray:
    """Combine (np.maximum or np.add) the elements of each window of a padded array.

    xpad: (N, C, Hp, Wp) -> (N, C, H_out, W_out), a new array.

    Both are separable: first combine the kh rows of every window (strided slices
    of whole rows: (N, C, H_out, Wp)), then the kw columns of those.
    """
    (kh, kw), (sh, sw), (out_h, out_w) = s.kernel, s.stride, s.out_size
    rows = [xpad[:, :, m : m + sh * (out_h - 1) + 1 : sh, :] for m in range(kh)]
    by_rows = _combine(rows, combine)
    columns = [by_rows[..., k : k + sw * (out_w - 1) + 1 : sw] for k in range(kw)]
    return _combine(columns, combine, copy=True)


def _combine(parts: list[np.ndarray], combine: np.ufunc, *, copy: bool = False) -> np.ndarray:
    """combine(parts[0], parts[1], ...) elementwise, with one new array at most.

    parts: arrays of one shape -> an array of that shape.
    """
    if len(parts) == 1:
        return parts[0].copy() if copy else parts[0]
    out = combine(parts[0], parts[1])
    for part in parts[2:]:
        combine(out, part, out=out)
    return out


def _max_and_winners(s: PoolSetup) -> tuple[np.ndarray, MaxPoolCache]:
    """Each window's maximum (N, C, H_out, W_out) and the cache of where it sits.

    First over the kw columns of every window row (every row of the padded input),
    then over the kh rows of those row maxima: the first row holding the window's
    maximum, and in it the first column, is the first maximum in row-major order.
    Torch's rule that a NaN wins costs a second comparison per offset, so it is
    applied only when a window holds a NaN (the maximum is then NaN).
    """
    (kh, kw), (sh, sw), (ph, pw), (out_h, out_w) = s.kernel, s.stride, s.padding, s.out_size
    xpad = _pad(s, -np.inf)

    def scan(nan_wins: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        columns = [xpad[..., k : k + sw * (out_w - 1) + 1 : sw] for k in range(kw)]
        row_max, column_winner = _first_maximum(columns, 3, sw, pw, nan_wins=nan_wins)
        rows = [row_max[:, :, m : m + sh * (out_h - 1) + 1 : sh] for m in range(kh)]
        out, row_winner = _first_maximum(rows, 2, sh, ph, nan_wins=nan_wins)
        return out, column_winner, row_winner

    out, column_winner, row_winner = scan(nan_wins=False)
    if np.isnan(out).any():
        out, column_winner, row_winner = scan(nan_wins=True)
    cache = MaxPoolCache(s.x, s.kernel, s.stride, s.padding, column_winner, row_winner, s.unbatched)
    return out, cache


def _first_maximum(
    parts: list[np.ndarray], axis: int, stride: int, pad_before: int, *, nan_wins: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise maximum of the kernel offsets 0, 1, ... along ``axis``, and which
    offset holds it.

    parts: arrays of one shape -> (maximum, offset) of that shape (offset uint8 for up
    to 256 parts).

    A later offset wins only when strictly larger (so ties go to the first), when it is
    a NaN and ``nan_wins``, or when every earlier offset of the window was padding
    (positions p along ``axis`` with p*stride + offset - 1 < pad_before): the padding
    (-inf) never wins over a real pixel, even one that is -inf.
    """
    index_type = np.min_scalar_type(len(parts) - 1)
    if len(parts) == 1:
        return parts[0].copy(order="K"), np.zeros_like(parts[0], dtype=index_type)

    def takes_over(offset: int, best: np.ndarray) -> np.ndarray:
        wins = np.greater(parts[offset], best)
        if nan_wins:
            wins |= np.isnan(parts[offset])
        only_padding = -(-(pad_before - offset + 1) // stride)  # positions not yet past it
        if only_padding > 0:
            wins[(slice(None),) * axis + (slice(0, only_padding),)] = True
        return wins

    wins = takes_over(1, parts[0])
    winner = wins.view(np.uint8) if index_type == np.uint8 else wins.astype(index_type)
    best = np.maximum(parts[0], parts[1])
    for offset in range(2, len(parts)):
        np.copyto(winner, offset, where=takes_over(offset, best))
        np.maximum(best, parts[offset], out=best)
    return best, winner


def _route_back(grad_out: np.ndarray, cache: MaxPoolCache) -> np.ndarray:
    """Each window's gradient to its winning row, then each row's to its winning column.

    grad_out: (N, C, H_out, W_out) -> grad_x (N, C, H, W), laid out in memory like x.
    """
    (kh, kw), (sh, sw), (ph, pw) = cache.kernel, cache.stride, cache.padding
    n, c, h, w = cache.x.shape
    out_h, out_w = grad_out.shape[2:]
    padded_h, padded_w = h + 2 * ph, w + 2 * pw
    # When the windows tile the axis (stride == kernel, nothing left over), every
    # element gets exactly one value: no zeroing, no adding up.
    rows_tiled = sh == kh and padded_h == kh * out_h
    grad_rows = _new_like(cache.column_winner, grad_out.dtype, zero=not rows_tiled)
    for m in range(kh):
        target = grad_rows[:, :, m : m + sh * (out_h - 1) + 1 : sh]
        _route(grad_out, cache.row_winner, m, target, accumulate=not rows_tiled)
    columns_tiled = sw == kw and padded_w == kw * out_w
    grad_xpad = _new_like(
        cache.x, grad_out.dtype, zero=not columns_tiled, shape=(n, c, padded_h, padded_w)
    )
    for k in range(kw):
        target = grad_xpad[..., k : k + sw * (out_w - 1) + 1 : sw]
        _route(grad_rows, cache.column_winner, k, target, accumulate=not columns_tiled)
    return grad_xpad[:, :, ph : ph + h, pw : pw + w]


def _route(
    grad: np.ndarray, winner: np.ndarray, offset: int, target: np.ndarray, *, accumulate: bool
) -> None:
    """target (+)= grad where winner == offset, else 0 (all four of one shape)."""
    if accumulate:
        target += grad * (winner == offset)
    else:
        np.multiply(grad, winner == offset, out=target)


def _new_like(
    template: np.ndarray,
    dtype: DTypeLike,
    *,
    zero: bool,
    shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    """A new array (zeros, or uninitialised when every element will be written) of
    ``shape`` (default: the template's) whose axes lie in memory in the template's order."""
    return (np.zeros_like if zero else np.empty_like)(template, dtype=dtype, shape=shape)
