"""2-D convolution layers (cross-correlation, as in torch.nn.functional.conv2d).

``conv2d_naive`` is the formula written as loops (the teaching version);
``conv2d`` is the same contract computed as im2col + one batched matrix product.
"""

from __future__ import annotations

import numpy as np

from convkit._checks import conv_setup
from convkit.ops.im2col import batch_slices, pad_chunk, scratch, unfold_view
from convkit.ops.padding import pad_hw

__all__ = ["conv2d", "conv2d_naive"]


def conv2d(
    x: object,
    weight: object,
    bias: object = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
) -> np.ndarray:
    """Vectorised 2-D convolution (cross-correlation), the contract of torch's ``conv2d``.

    x: (N, C_in, H, W) or (C_in, H, W); weight: (C_out, C_in, kh, kw); bias: (C_out,)
    or None -> (N, C_out, H_out, W_out) (or (C_out, H_out, W_out) when unbatched).
    ``padding`` is an int, a pair, "valid" or "same" (stride 1 only).
    """
    s, _ = conv_setup("conv2d", x, weight, bias, stride, padding, dilation, spatial=2)
    out = correlate(s.x, s.weight, s.bias, s.pads, s.stride, s.dilation, s.out_size)
    return out[0] if s.unbatched else out


def conv2d_naive(
    x: object,
    weight: object,
    bias: object = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
) -> np.ndarray:
    """The same contract as :func:`conv2d`, written as explicit loops (slow; tiny inputs only).

    out[n, o, i, j] = b[o] + sum_c sum_m sum_k xpad[n, c, i*sh + m*dh, j*sw + k*dw] * w[o, c, m, k]

    x: (N, C_in, H, W) or (C_in, H, W); weight: (C_out, C_in, kh, kw); bias: (C_out,)
    or None -> (N, C_out, H_out, W_out) (or (C_out, H_out, W_out) when unbatched).
    """
    s, _ = conv_setup("conv2d_naive", x, weight, bias, stride, padding, dilation, spatial=2)
    (top, bottom), (left, right) = s.pads
    xpad, w, b = pad_hw(s.x, top, bottom, left, right), s.weight, s.bias
    batch, in_channels = s.x.shape[:2]
    out_channels, _, kh, kw = w.shape
    (sh, sw), (dh, dw), (out_h, out_w) = s.stride, s.dilation, s.out_size

    out = np.zeros((batch, out_channels, out_h, out_w), dtype=w.dtype)
    for n in range(batch):
        for o in range(out_channels):
            for i in range(out_h):
                for j in range(out_w):
                    total = 0.0 if b is None else b[o]
                    for c in range(in_channels):
                        for m in range(kh):
                            for k in range(kw):
                                pixel = xpad[n, c, i * sh + m * dh, j * sw + k * dw]
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
    """Fast path (internal): (N, C, H, W) input, ((top, bottom), (left, right)) zero
    padding -> (N, C_out, H_out, W_out).

    For each sample, weight (C_out, C*kh*kw) @ columns (C*kh*kw, positions): the
    batched product comes out directly in (N, C_out, positions) order. The bias is an
    extra weight column that meets an extra row of ones in the columns. A few samples
    at a time are padded and unfolded into small buffers that stay in the CPU cache;
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
    for part in batch_slices(range(batch), w2.shape[1] * length * out.itemsize):
        n = part.stop - part.start
        view, _ = unfold_view(pad_chunk(x[part], pads, "input"), kernel, stride, dilation, out_size)
        cols = scratch("columns", (n, w2.shape[1], length), dtype)
        cols[:, rows:] = 1  # the row of ones that meets the bias column
        np.copyto(cols[:, :rows].reshape(view.shape, copy=False), view)
        if pitch == out_w:  # positions are exactly the output pixels
            np.matmul(w2, cols, out=out[part].reshape(n, out_channels, length))
        else:  # drop the wrap-around positions
            product = scratch("product", (n, out_channels, out_h, pitch), dtype)
            np.matmul(w2, cols, out=product.reshape(n, out_channels, -1)[..., :length])
            np.copyto(out[part], product[..., :out_w])
    return out
