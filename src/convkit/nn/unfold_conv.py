"""A 2-D convolution layer written from scratch: unfold + one matrix product.

``UnfoldConv2d`` is a drop-in for ``torch.nn.Conv2d`` (zero padding, no dilation,
no groups): the same parameter names, shapes and initialisation, so with the same
random seed both layers start from identical weights. Its forward pass is the
im2col idea in three lines,

    columns = unfold(x)                 # (N, C_in*kh*kw, L), L = H_out*W_out
    out     = W.reshape(C_out, -1) @ columns + b[:, None]   # (N, C_out, L)
    out     = out.reshape(N, C_out, H_out, W_out)

and autograd differentiates through ``unfold`` and the product, so the gradients
need no code of their own (``fold``, unfold's adjoint, appears in the backward pass).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from convkit._checks import as_bool, int_at_least, int_tuple, window_output_size

__all__ = ["UnfoldConv2d"]

_NAME = "UnfoldConv2d"


class UnfoldConv2d(nn.Module):
    """2-D convolution (cross-correlation) as ``unfold`` + matmul, matching ``nn.Conv2d``.

    Parameters: ``weight`` (C_out, C_in, kh, kw) and ``bias`` (C_out,) (or None when
    ``bias=False``), initialised exactly as ``nn.Conv2d.reset_parameters`` does
    (Kaiming-uniform with a = sqrt(5); bias uniform in +-1/sqrt(C_in*kh*kw)).

    x: (N, C_in, H, W) or unbatched (C_in, H, W) -> (N, C_out, H_out, W_out) or
    (C_out, H_out, W_out), with H_out = (H + 2*ph - kh) // sh + 1 (W likewise).
    ``kernel_size``, ``stride`` and ``padding`` are an int or a pair of ints.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        *,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = int_at_least(_NAME, "in_channels", in_channels, 1)
        self.out_channels = int_at_least(_NAME, "out_channels", out_channels, 1)
        self.kernel_size = int_tuple(_NAME, "kernel_size", kernel_size, 2, minimum=1)
        self.stride = int_tuple(_NAME, "stride", stride, 2, minimum=1)
        self.padding = int_tuple(_NAME, "padding", padding, 2, minimum=0)
        use_bias = as_bool(_NAME, "bias", bias)
        kh, kw = self.kernel_size
        self.weight = nn.Parameter(
            torch.empty(self.out_channels, self.in_channels, kh, kw, dtype=dtype)
        )
        if use_bias:
            self.bias = nn.Parameter(torch.empty(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fresh random parameters, drawn in the same order and way as ``nn.Conv2d``."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight[0].numel()  # C_in * kh * kw
            bound = 1.0 / math.sqrt(fan_in)
            nn.init.uniform_(self.bias, -bound, bound)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """(H_out, W_out) for an input of spatial size (height, width); ValueError when
        the kernel does not fit inside the padded input."""
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        out_h = window_output_size(_NAME, "height", height, kh, sh, ph, ph)
        out_w = window_output_size(_NAME, "width", width, kw, sw, pw, pw)
        return out_h, out_w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C_in, H, W) -> (N, C_out, H_out, W_out);
        unbatched (C_in, H, W) -> (C_out, H_out, W_out)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{_NAME}: the input must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() not in (3, 4):
            raise ValueError(
                f"{_NAME}: the input must have shape (N, C_in, H, W) or (C_in, H, W), "
                f"got shape {tuple(x.shape)}"
            )
        unbatched = x.dim() == 3
        xb = x.unsqueeze(0) if unbatched else x
        batch, channels, height, width = xb.shape
        if channels != self.in_channels:
            raise ValueError(
                f"{_NAME}: expected {self.in_channels} input channels, got {channels} "
                f"(input shape {tuple(x.shape)})"
            )
        if xb.dtype != self.weight.dtype:
            raise TypeError(
                f"{_NAME}: the input dtype {xb.dtype} differs from the weight dtype "
                f"{self.weight.dtype}"
            )
        out_h, out_w = self.output_size(height, width)

        columns = F.unfold(xb, self.kernel_size, padding=self.padding, stride=self.stride)
        out = self.weight.reshape(self.out_channels, -1) @ columns  # (N, C_out, L)
        if self.bias is not None:
            out = out + self.bias[:, None]
        out = out.reshape(batch, self.out_channels, out_h, out_w)
        return out[0] if unbatched else out

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}"
        )
        return text if self.bias is not None else text + ", bias=False"

    @classmethod
    def from_conv(cls, conv: nn.Conv2d) -> UnfoldConv2d:
        """An UnfoldConv2d with a copy of ``conv``'s geometry and parameters (zero
        padding mode, no dilation, one group only)."""
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(f"{_NAME}.from_conv: expected an nn.Conv2d, got {type(conv).__name__}")
        if conv.dilation != (1, 1) or conv.groups != 1 or conv.padding_mode != "zeros":
            raise ValueError(
                f"{_NAME}.from_conv: only dilation 1, groups 1 and zero padding are supported, "
                f"got dilation={conv.dilation}, groups={conv.groups}, "
                f"padding_mode={conv.padding_mode!r}"
            )
        if isinstance(conv.padding, str):
            raise ValueError(f"{_NAME}.from_conv: string padding {conv.padding!r} is not supported")
        layer = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            conv.stride,
            conv.padding,
            bias=conv.bias is not None,
            dtype=conv.weight.dtype,
        )
        with torch.no_grad():
            layer.weight.copy_(conv.weight)
            if conv.bias is not None:
                layer.bias.copy_(conv.bias)
        return layer
