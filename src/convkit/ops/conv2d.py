"""2-D convolution layers (cross-correlation, as in torch.nn.functional.conv2d).

``conv2d_naive`` is the formula written as loops (the teaching version);
``conv2d`` is the same contract computed as im2col + one batched matrix product.
"""

from __future__ import annotations

import numpy as np

from convkit._checks import conv_setup
from convkit.ops._fastpath import BUFFERS, batch_slices, pad_chunk, padding_buffer, slice_size
from convkit.ops.im2col import unfold_view
from convkit.ops.padding import pad_hw

__all__ = ["conv2d", "conv2d_naive"]


def conv2d(
    x: object,
    weight: object,
    bias: object = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> np.ndarray:
    """Vectorised 2-D convolution (cross-correlation), the contract of torch's ``conv2d``.

    x: (N, C_in, H, W) or (C_in, H, W); weight: (C_out, C_in / groups, kh, kw); bias:
    (C_out,) or None -> (N, C_out, H_out, W_out) (or (C_out, H_out, W_out) when unbatched).
    ``padding`` is an int, a pair, "valid" or "same" (stride 1 only).  With ``groups``
    g, the input channels and the kernels split into g groups and each group of
    kernels sees only its group of channels (g = C_in: a depthwise convolution).
    """
    s, _ = conv_setup("conv2d", x, weight, bias, stride, padding, dilation, spatial=2,
                      groups=groups)  # fmt: skip
    if s.groups == 1:
        out = correlate(s.x, s.weight, s.bias, s.pads, s.stride, s.dilation, s.out_size)
    else:
        per_in, per_out = s.x.shape[1] // s.groups, s.weight.shape[0] // s.groups
        out = np.concatenate([
            correlate(s.x[:, g * per_in : (g + 1) * per_in],
                      s.weight[g * per_out : (g + 1) * per_out],
                      None if s.bias is None else s.bias[g * per_out : (g + 1) * per_out],
                      s.pads, s.stride, s.dilation, s.out_size)
            for g in range(s.groups)
        ], axis=1)  # fmt: skip
    return out[0] if s.unbatched else out


def conv2d_naive(
    x: object,
    weight: object,
    bias: object = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> np.ndarray:
    """The same contract as :func:`conv2d`, written as explicit loops (slow; tiny inputs only).

    out[n, o, i, j] = b[o] + sum_c sum_m sum_k xpad[n, c0 + c, i*sh + m*dh, j*sw + k*dw]
    * w[o, c, m, k], where c runs over the C_in / groups channels of o's group and c0 is
    that group's first channel.

    x: (N, C_in, H, W) or (C_in, H, W); weight: (C_out, C_in / groups, kh, kw); bias:
    (C_out,) or None -> (N, C_out, H_out, W_out) (or (C_out, H_out, W_out) when unbatched).
    """
    s, _ = conv_setup("conv2d_naive", x, weight, bias, stride, padding, dilation, spatial=2,
                      groups=groups)  # fmt: skip
    (top, bottom), (left, right) = s.pads
    xpad, w, b = pad_hw(s.x, top, bottom, left, right), s.weight, s.bias
    batch = s.x.shape[0]
    out_channels, in_channels, kh, kw = w.shape  # in_channels: per group
    per_group_out = out_channels // s.groups
    (sh, sw), (dh, dw), (out_h, out_w) = s.stride, s.dilation, s.out_size

    out = np.zeros((batch, out_channels, out_h, out_w), dtype=w.dtype)
    for n in range(batch):
        for o in range(out_channels):
            for i in range(out_h):
                for j in range(out_w):
                    total = 0.0 if b is None else b[o]
                    first = (o // per_group_out) * in_channels  # the group's first channel
                    for c in range(in_channels):
                        for m in range(kh):
                            for k in range(kw):
                                pixel = xpad[n, first + c, i * sh + m * dh, j * sw + k * dw]
                                total += pixel * w[o, c, m, k]
                    out[n, o, i, j] = total
    return out[0] if s.unbatched else out


def correlate(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    pads: tuple[tuple[int, int], ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out_size: tuple[int, ...],
) -> np.ndarray:
    """The fast path of :func:`conv2d` and :func:`~convkit.ops.conv1d.conv1d` (internal).

    x: (N, C, H, W), weight: (C_out, C, kh, kw), bias: (C_out,) or None, zero padding
    ((top, bottom), (left, right)) -> (N, C_out, H_out, W_out).

    For each sample, weight (C_out, C*kh*kw) @ columns (C*kh*kw, positions): the
    batched product comes out directly in (N, C_out, positions) order. The bias is an
    extra weight column that meets an extra row of ones in the columns. A few samples
    at a time are padded and unfolded into small buffers that stay in the CPU cache
    (taken once from the ops' pool, ``_fastpath.BUFFERS``, and reused for every slice);
    with stride 1 the columns are copied as whole image rows (``im2col.row_view``).
    """
    batch, out_channels, kernel = x.shape[0], weight.shape[0], weight.shape[2:]
    (out_h, out_w), dtype = out_size, weight.dtype
    w2 = weight.reshape(out_channels, -1)
    rows = w2.shape[1]
    if bias is not None:
        w2 = np.concatenate([w2, bias[:, None]], axis=1)
    pitch = x.shape[3] + sum(pads[1]) if tuple(stride) == (1, 1) else out_w
    length = (out_h - 1) * pitch + out_w  # positions per sample
    out = np.empty((batch, out_channels, out_h, out_w), dtype=dtype)
    size = slice_size(batch, w2.shape[1] * length * out.itemsize)
    padded = padding_buffer(x, pads, size)
    columns = BUFFERS.take((size, w2.shape[1], length), dtype)
    columns[:, rows:] = 1  # the row of ones that meets the bias column
    wrapped = None if pitch == out_w else BUFFERS.take((size, out_channels, out_h, pitch), dtype)
    for part in batch_slices(batch, size):
        n = part.stop - part.start
        xpad = pad_chunk(x[part], pads, padded)
        view, _ = unfold_view(xpad, kernel, stride, dilation, out_size)
        cols = columns[:n]
        np.copyto(cols[:, :rows].reshape(view.shape, copy=False), view)
        if wrapped is None:  # positions are exactly the output pixels
            np.matmul(w2, cols, out=out[part].reshape(n, out_channels, length))
        else:  # drop the wrap-around positions
            product = wrapped[:n]
            np.matmul(w2, cols, out=product.reshape(n, out_channels, -1)[..., :length])
            np.copyto(out[part], product[..., :out_w])
    BUFFERS.give(padded, columns, wrapped)
    return out
