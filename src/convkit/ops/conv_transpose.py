"""2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d`` (chapter 12).

A convolution gathers: each output value is a weighted sum of a window of inputs.  Its
transpose scatters: each input value adds a copy of the kernel, scaled by that value,
into the output, at stride ``stride`` apart.  It is the gradient of a convolution with
respect to its input (``conv2d_backward``'s ``grad_x``), used as a layer that enlarges.

- :func:`conv_transpose2d_naive`: the scatter written as loops, one input value at a
  time (the teaching version);
- :func:`conv_transpose2d`: the same, one kernel offset at a time: every input value's
  contribution for offset (m, k) is one matrix product, added to a strided slice of the
  output.

Output size per axis: ``(H - 1) * stride - 2 * padding + dilation * (k - 1) +
output_padding + 1``.  ``padding`` removes that many rows (columns) from both sides of
the full scatter; ``output_padding`` (smaller than the stride or the dilation) adds
rows (columns) at the bottom (right) only, to choose between the input sizes a strided
convolution maps to the same output size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from convkit._checks import as_float_arrays, batched, check_ndim, int_at_least, int_tuple

__all__ = ["conv_transpose2d", "conv_transpose2d_naive", "conv_transpose_output_size"]


def conv_transpose_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0,
    dilation: int = 1,
) -> int:  # fmt: skip
    """One axis of :func:`conv_transpose2d`'s output:
    ``(size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


class _Setup(NamedTuple):
    x: np.ndarray  # (N, C_in, H, W)
    weight: np.ndarray  # (C_in, C_out / groups, kh, kw)
    bias: np.ndarray | None  # (C_out,)
    stride: tuple[int, int]
    padding: tuple[int, int]
    output_padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    out_size: tuple[int, int]
    unbatched: bool


def _setup(
    func: str, x: object, weight: object, bias: object, stride: object, padding: object,
    output_padding: object, groups: object, dilation: object,
) -> _Setup:  # fmt: skip
    """Validate :func:`conv_transpose2d`'s arguments (ValueError / TypeError naming them)."""
    x_arr, w_arr, b_arr = as_float_arrays(func, x=x, weight=weight, bias=bias)
    xb, unbatched = batched(func, "x", x_arr, "(N, C_in, H, W)")
    check_ndim(func, "weight", w_arr, ["(C_in, C_out / groups, kh, kw)"])
    if 0 in w_arr.shape or 0 in xb.shape:
        raise ValueError(f"{func}: x and weight must not have an empty axis, got shapes "
                         f"{tuple(x_arr.shape)} and {tuple(w_arr.shape)}")  # fmt: skip
    groups = int_at_least(func, "groups", groups, 1)
    in_channels = xb.shape[1]
    if in_channels != w_arr.shape[0]:
        raise ValueError(
            f"{func}: input has {in_channels} channels (x.shape={tuple(x_arr.shape)}) but "
            f"weight.shape[0] is {w_arr.shape[0]}: a transposed convolution's weight is "
            "(C_in, C_out / groups, kh, kw), the layout of the convolution it transposes"
        )
    if in_channels % groups:
        raise ValueError(f"{func}: {in_channels} input channels do not split into {groups} "
                         "groups")  # fmt: skip
    out_channels = w_arr.shape[1] * groups
    if b_arr is not None and b_arr.shape != (out_channels,):
        raise ValueError(f"{func}: bias must have shape ({out_channels},) (C_out = "
                         f"weight.shape[1] * groups), got {tuple(b_arr.shape)}")  # fmt: skip
    stride_t = int_tuple(func, "stride", stride, 2, minimum=1)
    padding_t = int_tuple(func, "padding", padding, 2, minimum=0)
    out_pad_t = int_tuple(func, "output_padding", output_padding, 2, minimum=0)
    dilation_t = int_tuple(func, "dilation", dilation, 2, minimum=1)
    for axis, op, s, d in zip("HW", out_pad_t, stride_t, dilation_t, strict=True):
        if op >= max(s, d):
            raise ValueError(f"{func}: output_padding must be smaller than the stride or the "
                             f"dilation, got {op} on axis {axis} (stride {s}, dilation {d})")
    out_size = tuple(
        conv_transpose_output_size(n, k, s, p, op, d)
        for n, k, s, p, op, d in zip(xb.shape[2:], w_arr.shape[2:], stride_t, padding_t,
                                     out_pad_t, dilation_t, strict=True)
    )  # fmt: skip
    if min(out_size) < 1:
        raise ValueError(f"{func}: the output would be {out_size[0]} x {out_size[1]}: padding "
                         f"{padding_t} removes more than the scatter covers")  # fmt: skip
    return _Setup(xb, w_arr, b_arr, stride_t, padding_t, out_pad_t, dilation_t, groups,
                  out_size, unbatched)  # fmt: skip


def conv_transpose2d_naive(
    x: object,
    weight: object,
    bias: object = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
) -> np.ndarray:
    """:func:`conv_transpose2d` as loops: every input value scatters its scaled kernel.

    out[n, o, i*sh + m*dh - ph, j*sw + k*dw - pw] += x[n, c, i, j] * w[c, o', m, k]
    for the input channels c of o's group (o' = o's index within its group).

    x: (N, C_in, H, W) or (C_in, H, W); weight: (C_in, C_out / groups, kh, kw); bias:
    (C_out,) or None -> (N, C_out, H_out, W_out) (unbatched in, unbatched out).
    """
    s = _setup("conv_transpose2d_naive", x, weight, bias, stride, padding, output_padding,
               groups, dilation)  # fmt: skip
    batch, in_channels, height, width = s.x.shape
    per_group_in, per_group_out, kh, kw = in_channels // s.groups, *s.weight.shape[1:]
    (sh, sw), (ph, pw), (dh, dw), (out_h, out_w) = s.stride, s.padding, s.dilation, s.out_size
    out = np.zeros((batch, per_group_out * s.groups, out_h, out_w), dtype=s.weight.dtype)
    for n in range(batch):
        for c in range(in_channels):
            group = c // per_group_in
            for i in range(height):
                for j in range(width):
                    for o in range(per_group_out):
                        for m in range(kh):
                            for k in range(kw):
                                row, col = i * sh + m * dh - ph, j * sw + k * dw - pw
                                if 0 <= row < out_h and 0 <= col < out_w:
                                    value = s.x[n, c, i, j] * s.weight[c, o, m, k]
                                    out[n, group * per_group_out + o, row, col] += value
    if s.bias is not None:
        out += s.bias[:, None, None]
    return out[0] if s.unbatched else out


def conv_transpose2d(
    x: object,
    weight: object,
    bias: object = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
) -> np.ndarray:
    """Transposed 2-D convolution, the contract of ``torch.nn.functional.conv_transpose2d``.

    x: (N, C_in, H, W) or (C_in, H, W); weight: (C_in, C_out / groups, kh, kw); bias:
    (C_out,) or None -> (N, C_out, H_out, W_out) (unbatched in, unbatched out), with
    H_out = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1.

    Computed on the full scatter (no padding removed yet, ``output_padding`` rows and
    columns of zeros added): for each group and kernel offset (m, k), one matrix
    product gives every input value's contribution, added to the strided slice
    ``full[..., m*dh :: sh, k*dw :: sw]``; then ``padding`` is cut from each side.
    """
    s = _setup("conv_transpose2d", x, weight, bias, stride, padding, output_padding, groups,
               dilation)  # fmt: skip
    batch, in_channels, height, width = s.x.shape
    per_group_in, per_group_out, kh, kw = in_channels // s.groups, *s.weight.shape[1:]
    (sh, sw), (ph, pw), (dh, dw) = s.stride, s.padding, s.dilation
    full_h = (height - 1) * sh + dh * (kh - 1) + 1 + s.output_padding[0]
    full_w = (width - 1) * sw + dw * (kw - 1) + 1 + s.output_padding[1]
    full = np.zeros((batch, per_group_out * s.groups, full_h, full_w), dtype=s.weight.dtype)
    for g in range(s.groups):
        xg = s.x[:, g * per_group_in : (g + 1) * per_group_in]  # (N, Cg, H, W)
        wg = s.weight[g * per_group_in : (g + 1) * per_group_in]  # (Cg, Og, kh, kw)
        out_g = full[:, g * per_group_out : (g + 1) * per_group_out]
        for m in range(kh):
            for k in range(kw):
                # (Og, Cg) @ (N, Cg, H*W) -> (N, Og, H*W): every value's share at (m, k)
                part = np.matmul(wg[:, :, m, k].T, xg.reshape(batch, per_group_in, -1))
                rows = slice(m * dh, m * dh + (height - 1) * sh + 1, sh)
                cols = slice(k * dw, k * dw + (width - 1) * sw + 1, sw)
                out_g[:, :, rows, cols] += part.reshape(batch, per_group_out, height, width)
    out = full[:, :, ph : full_h - ph, pw : full_w - pw]
    if s.bias is not None:
        out = out + s.bias[:, None, None]
    out = np.ascontiguousarray(out)
    return out[0] if s.unbatched else out
