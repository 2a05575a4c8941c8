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

from convkit._checks import check_grad_out, conv_setup
from convkit.ops._fastpath import BUFFERS, batch_slices, pad_chunk, padding_buffer, slice_size
from convkit.ops.im2col import unfold_view

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
    x, w2 = s.x, s.weight.reshape(s.weight.shape[0], -1)  # w2: (C_out, C_in*kh*kw)
    batch, channels, height, width = x.shape
    out_channels, dtype, (out_h, out_w) = w2.shape[0], w2.dtype, s.out_size
    (top, bottom), (left, right) = s.pads
    pitch_x = width + left + right  # the padded input's row length
    pitch = pitch_x if tuple(s.stride) == (1, 1) else out_w
    length = (out_h - 1) * pitch + out_w  # positions per sample, as in the forward pass

    grad_x = np.empty_like(x)
    grad_w2 = np.zeros_like(w2)
    size = slice_size(batch, w2.shape[1] * length * w2.itemsize)
    padded = padding_buffer(x, s.pads, size)
    columns = BUFFERS.take((size, w2.shape[1], length), dtype)
    wrapped = None if pitch == out_w else BUFFERS.take((size, out_channels, out_h, pitch), dtype)
    if wrapped is not None:
        wrapped[..., out_w:] = 0  # grad_out is zero at the wrap-around positions
    per_sample = BUFFERS.take((size, *w2.shape), dtype)
    grad_padded = BUFFERS.take((size, channels, top + height + bottom, pitch_x), dtype)
    for part in batch_slices(batch, size):
        n = part.stop - part.start
        xpad = pad_chunk(x[part], s.pads, padded)
        view, _ = unfold_view(xpad, s.kernel, s.stride, s.dilation, s.out_size)
        cols = columns[:n]
        np.copyto(cols.reshape(view.shape, copy=False), view)
        if wrapped is None:  # positions are exactly the output pixels
            g_pos = g[part].reshape(n, out_channels, length)
        else:  # grad_out at the same positions as the columns
            wrapped[:n, ..., :out_w] = g[part]
            g_pos = wrapped[:n].reshape(n, out_channels, -1)[..., :length]

        grad_w2 += np.matmul(g_pos, cols.transpose(0, 2, 1), out=per_sample[:n]).sum(axis=0)
        grad_cols = np.matmul(w2.T, g_pos, out=cols)  # (n, C_in*kh*kw, positions)

        # col2im into a zeroed padded buffer, then keep the inside.
        grad_xpad = grad_padded[:n]
        grad_xpad[...] = 0
        grad_view, _ = unfold_view(
            grad_xpad, s.kernel, s.stride, s.dilation, s.out_size, writeable=True
        )
        col2im_add(grad_cols.reshape(grad_view.shape), grad_view)
        grad_x[part] = grad_xpad[:, :, top : top + height, left : left + width]
    BUFFERS.give(padded, columns, wrapped, per_sample, grad_padded)

    grad_bias = g.sum(axis=(0, 2, 3))
    grad_x = grad_x[0] if s.unbatched else grad_x
    return grad_x, grad_w2.reshape(s.weight.shape), grad_bias


def col2im_add(grad_cols: np.ndarray, grad_view: np.ndarray) -> None:
    """col2im: add the columns into a writeable window view of the same shape, in place
    (internal).

    grad_cols: (N, C, kh, kw, ...), grad_view: the same shape -> None. One kernel offset
    at a time: one offset's slice does not overlap itself, while the view as a whole does.
    """
    for m in range(grad_view.shape[2]):
        for k in range(grad_view.shape[3]):
            grad_view[:, :, m, k] += grad_cols[:, :, m, k]
