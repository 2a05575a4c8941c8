"""Backward pass of conv2d: gradients with respect to the input, the weight and the bias.

With columns = im2col(x), the forward pass is out[n] = W @ columns[n] + b, so
  grad_weight     = sum_n grad_out[n] @ columns[n]^T
  grad_columns[n] = W^T @ grad_out[n]          (then col2im back to x's shape)
  grad_bias       = sum of grad_out over batch and positions.
col2im scatters each column entry back to the input pixel it was copied from,
adding up where windows overlap: one strided slice per kernel offset.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_grad_out, conv_setup
from .conv2d import _CACHE_BYTES, pad_input
from .im2col import batch_slices, unfold_view

__all__ = ["conv2d_backward"]


def conv2d_backward(
    grad_out: object,
    x: object,
    weight: object,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of sum(grad_out * conv2d(x, weight, b, stride, padding, dilation)).

    grad_out: (N, C_out, H_out, W_out); x: (N, C_in, H, W); weight: (C_out, C_in, kh, kw)
    (or unbatched grad_out (C_out, H_out, W_out) with x (C_in, H, W))
    -> (grad_x like x, grad_weight like weight, grad_bias (C_out,)).
    """
    func = "conv2d_backward"
    s, (g,) = conv_setup(
        func, x, weight, None, stride, padding, dilation, spatial=2, extra={"grad_out": grad_out}
    )
    check_grad_out(func, g, s.out_shape, "conv2d")
    g = g[None] if s.unbatched else g
    xpad = np.ascontiguousarray(pad_input(s))
    batch, out_channels = xpad.shape[0], s.weight.shape[0]
    (out_h, out_w), dtype = s.out_size, xpad.dtype
    w2 = s.weight.reshape(out_channels, -1)  # (C_out, C_in*kh*kw)
    grad_w2 = np.zeros_like(w2)
    grad_xpad = np.zeros_like(xpad)

    # Same column layout as the forward fast path (positions i*pitch + j).
    view, pitch = unfold_view(xpad, s.kernel, s.stride, s.dilation, s.out_size)
    grad_view, _ = unfold_view(
        grad_xpad, s.kernel, s.stride, s.dilation, s.out_size, writeable=True
    )
    length = (out_h - 1) * pitch + out_w
    for part in batch_slices(range(batch), w2.shape[1] * length * w2.itemsize, _CACHE_BYTES):
        n = part.stop - part.start
        cols = np.empty((n, w2.shape[1], length), dtype=dtype)
        np.copyto(cols.reshape(view[part].shape, copy=False), view[part])
        # grad_out at the same positions, zero at the wrap-around ones.
        g_rows = np.zeros((n, out_channels, out_h, pitch), dtype=dtype)
        g_rows[..., :out_w] = g[part]
        g_pos = g_rows.reshape(n, out_channels, -1)[..., :length]

        grad_w2 += np.matmul(g_pos, cols.transpose(0, 2, 1)).sum(axis=0)
        grad_cols = np.matmul(w2.T, g_pos).reshape(grad_view[part].shape)
        col2im_add(grad_cols, grad_view[part])

    (top, _), (left, _) = s.pads
    grad_x = grad_xpad[:, :, top : top + s.x.shape[2], left : left + s.x.shape[3]]
    grad_x = np.ascontiguousarray(grad_x[0] if s.unbatched else grad_x)
    grad_bias = g.sum(axis=(0, 2, 3))
    return grad_x, grad_w2.reshape(s.weight.shape), grad_bias


def col2im_add(grad_cols: np.ndarray, grad_view: np.ndarray) -> None:
    """col2im: add columns (N, C, kh, kw, ...) into a writeable window view of the same
    shape, in place, one kernel offset at a time (one offset's slice does not overlap
    itself, while the view as a whole does) (internal)."""
    for m in range(grad_view.shape[2]):
        for k in range(grad_view.shape[3]):
            grad_view[:, :, m, k] += grad_cols[:, :, m, k]
