"""A convolution layer's forward and backward passes that share one im2col (for training).

:func:`convkit.conv2d` and :func:`convkit.conv2d_backward` are independent functions,
so a training step would unfold every input twice. Here the forward pass keeps its
columns in a :class:`ConvCache` and the backward pass reuses them (then overwrites
them with the column gradients), and all three matrix products are single large
GEMMs over the whole batch (L = H_out*W_out positions per sample):

    columns  (C_in*kh*kw, L*N)       one column per (output pixel, sample)
    out      = W2 @ columns + b       (C_out, L*N)
    dW2      = dout @ columns.T       (C_out, C_in*kh*kw)
    dcolumns = W2.T @ dout            (C_in*kh*kw, L*N), then col2im -> dx

Arrays are kept batch-innermost in memory ((C, H, W, N)) and handed out as
(N, C, H, W) views (a transpose, no copy): one kernel offset's slice of every image
is then a long contiguous run (a row of W*N numbers), so im2col and col2im copy
whole runs, and ``dout`` of the next backward pass is already laid out as
(C_out, L*N). Big work arrays come from a :class:`BufferPool` instead of fresh
memory on every step. Zero padding, no dilation; any stride.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from numpy.typing import DTypeLike

from convkit.ops.im2col import kernel_offsets

__all__ = ["BUFFERS", "BufferPool", "ConvCache", "conv2d_backward_cached", "conv2d_forward_cached"]


class BufferPool:
    """Large work arrays handed out and taken back, so a training loop does not ask the
    operating system for fresh megabytes on every step (the page faults of touching new
    memory can cost more than the arithmetic done in it).

    ``take`` returns an array nobody else holds (a kept one or a new one); ``give``
    returns it when its contents are no longer needed. An array that is never given
    back is simply garbage collected, so forgetting ``give`` costs speed, not safety.
    Thread-safe; at most ``per_shape`` spare arrays are kept for each shape and dtype,
    none larger than ``max_bytes``.
    """

    def __init__(self, per_shape: int = 4, max_bytes: int = 1 << 27) -> None:
        self.per_shape = per_shape
        self.max_bytes = max_bytes
        self._free: dict[tuple[tuple[int, ...], np.dtype], list[np.ndarray]] = {}
        self._lock = threading.Lock()

    def take(self, shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
        """An array of this shape and dtype with undefined contents."""
        key = (tuple(shape), np.dtype(dtype))
        with self._lock:
            spare = self._free.get(key)
            if spare:
                return spare.pop()
        return np.empty(key[0], dtype=key[1])

    def give(self, array: np.ndarray | None) -> None:
        """Hand ``array`` (from :meth:`take`) back for reuse; None is ignored."""
        if array is None:
            return
        if array.nbytes > self.max_bytes:
            return
        key = (array.shape, array.dtype)
        with self._lock:
            spare = self._free.setdefault(key, [])
            if len(spare) < self.per_shape:
                spare.append(array)


#: The pool the convolution layers use for their columns and padded inputs.
BUFFERS = BufferPool()


@dataclass
class ConvCache:
    """What the backward pass needs: columns (C_in*kh*kw, H_out*W_out*N) (None when not
    kept, or once a backward pass has used them), the input's shape (N, C_in, H, W),
    kernel, stride, padding and output size."""

    columns: np.ndarray | None
    x_shape: tuple[int, int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    out_size: tuple[int, int]


def _out_size(
    shape: tuple[int, ...],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
) -> tuple[int, int]:
    sizes = []
    for size, k, s, p in zip(shape[2:], kernel, stride, padding, strict=True):
        if size + 2 * p < k:
            raise ValueError(
                f"conv2d_forward_cached: kernel {kernel} larger than the padded input {shape}"
            )
        sizes.append((size + 2 * p - k) // s + 1)
    return sizes[0], sizes[1]


def _columns(
    x: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    out_size: tuple[int, int],
) -> np.ndarray:
    """im2col in the batch-innermost layout (C*kh*kw, H_out*W_out*N): row c*kh*kw + m*kw + k,
    column (i*W_out + j)*N + n holds xpad[n, c, i*sh + m, j*sw + k]."""
    n, c, h, w = x.shape
    (kh, kw), (ph, pw), (oh, ow) = kernel, padding, out_size
    xc = x.transpose(1, 2, 3, 0)  # (C, H, W, N): a free view when x is batch-innermost
    xpad = None
    if ph or pw:
        xpad = BUFFERS.take((c, h + 2 * ph, w + 2 * pw, n), x.dtype)
        _zero_border(xpad, ph, pw)
        xpad[:, ph : ph + h, pw : pw + w] = xc
    cols = BUFFERS.take((c * kh * kw, oh * ow * n), x.dtype)
    cols6 = cols.reshape(c, kh, kw, oh, ow, n)
    source = xc if xpad is None else xpad
    for offset, (rows, across) in enumerate(kernel_offsets(kernel, stride, out_size)):
        cols6[:, offset // kw, offset % kw] = source[:, rows, across]
    BUFFERS.give(xpad)
    return cols


def _zero_border(xpad: np.ndarray, ph: int, pw: int) -> None:
    """Zero the ph rows / pw columns around the inside of a (C, Hp, Wp, N) buffer."""
    if ph:
        xpad[:, :ph] = 0
        xpad[:, -ph:] = 0
    if pw:
        xpad[:, :, :pw] = 0
        xpad[:, :, -pw:] = 0


def conv2d_forward_cached(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
) -> tuple[np.ndarray, ConvCache]:
    """Convolution (as :func:`convkit.conv2d`, zero padding, no dilation) plus its cache.

    x: (N, C_in, H, W) (any memory layout); weight: (C_out, C_in, kh, kw); bias: (C_out,)
    or None -> (out (N, C_out, H_out, W_out), a view of batch-innermost memory; ConvCache).
    (Inference without a backward pass uses :func:`convkit.conv2d`: no columns to keep.)
    """
    kernel = (weight.shape[2], weight.shape[3])
    stride, padding = tuple(stride), tuple(padding)
    if x.ndim != 4 or x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"conv2d_forward_cached: x must be (N, {weight.shape[1]}, H, W), got {x.shape}"
        )
    out_size = _out_size(x.shape, kernel, stride, padding)
    cols = _columns(x, kernel, stride, padding, out_size)
    out_channels = weight.shape[0]
    out = weight.reshape(out_channels, -1) @ cols  # (C_out, L*N)
    if bias is not None:
        out += bias[:, None]
    n = x.shape[0]
    out_nchw = out.reshape(out_channels, *out_size, n).transpose(3, 0, 1, 2)
    return out_nchw, ConvCache(cols, tuple(x.shape), kernel, stride, padding, out_size)


def conv2d_backward_cached(
    grad_out: np.ndarray,
    cache: ConvCache,
    weight: np.ndarray,
    *,
    need_input_grad: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of a :func:`conv2d_forward_cached` call from its cache.

    grad_out: (N, C_out, H_out, W_out) (any memory layout) -> (grad_x (N, C_in, H, W)
    or None when ``need_input_grad`` is False, grad_weight like weight, grad_bias (C_out,)).
    """
    if cache.columns is None:
        raise ValueError(
            "conv2d_backward_cached: no columns in the cache (this cache's backward pass "
            "has already run)"
        )
    columns, cache.columns = cache.columns, None  # one backward pass per forward pass
    n, c, h, w = cache.x_shape
    out_channels = weight.shape[0]
    (kh, kw), (ph, pw) = cache.kernel, cache.padding
    # (C_out, L*N): a free view when grad_out is batch-innermost already
    g2 = grad_out.transpose(1, 2, 3, 0).reshape(out_channels, -1)
    # dW2 = dout @ columns.T, computed as (columns @ dout.T).T: the same numbers, and
    # BLAS is faster with the long axis of both operands contiguous
    grad_w = (columns @ g2.T).T.reshape(weight.shape)
    grad_b = g2.sum(axis=1)
    if not need_input_grad:
        BUFFERS.give(columns)  # the columns are done with: reuse them
        return None, grad_w, grad_b

    w2t = weight.reshape(out_channels, -1).T
    grad_cols = np.matmul(w2t, g2, out=columns)  # overwrite the columns in place
    grad_cols = grad_cols.reshape(c, kh, kw, *cache.out_size, n)
    grad_xpad = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=grad_cols.dtype)
    offsets = kernel_offsets(cache.kernel, cache.stride, cache.out_size)
    for offset, (rows, across) in enumerate(offsets):  # col2im: overlaps add up
        grad_xpad[:, rows, across] += grad_cols[:, offset // kw, offset % kw]
    BUFFERS.give(columns)
    grad_x = grad_xpad[:, ph : ph + h, pw : pw + w].transpose(3, 0, 1, 2)
    return grad_x, grad_w, grad_b
