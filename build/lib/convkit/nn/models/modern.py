"""Pieces of post-2020 vision networks, small enough to read in one sitting (ch09).

- :func:`patchify` cuts images into non-overlapping ``p x p`` patches and flattens
  each one; :func:`patch_embed` multiplies those rows by a weight matrix. Together
  they are exactly a convolution whose kernel and stride both equal the patch
  size, which is what :class:`PatchEmbedding` (the first layer of a Vision
  Transformer) uses.
- :class:`ConvNeXtBlock`: the residual block of ConvNeXt (Liu et al., 2022): a
  large depthwise convolution, LayerNorm over channels, a 4x wider pointwise
  MLP with GELU, a learned per-channel layer scale and the skip connection.
- :func:`depthwise_separable_params` and :class:`DepthwiseSeparableConv2d`: a
  per-channel spatial convolution followed by a 1x1 convolution, and what it
  costs in parameters compared with :func:`convkit.conv2d_params`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from convkit._checks import as_bool, as_float_arrays, int_at_least, int_tuple

__all__ = [
    "ConvNeXtBlock",
    "DepthwiseSeparableConv2d",
    "PatchEmbedding",
    "convnext_block_params",
    "depthwise_separable_params",
    "patch_embed",
    "patchify",
]


def _patch_grid(func: str, shape: tuple[int, ...], patch: tuple[int, int]) -> tuple[int, int]:
    """Patches per column and per row of an (N, C, H, W) shape; ValueError if they do not tile."""
    if len(shape) != 4:
        raise ValueError(f"{func}: x must be 4-D (N, C, H, W), got shape {tuple(shape)}")
    h, w = shape[2], shape[3]
    ph, pw = patch
    if h % ph or w % pw:
        raise ValueError(
            f"{func}: a {h} x {w} image cannot be cut into whole {ph} x {pw} patches "
            f"({h} % {ph} = {h % ph}, {w} % {pw} = {w % pw}); crop or pad it first"
        )
    return h // ph, w // pw


def patchify(x: np.ndarray | torch.Tensor, patch_size: int | tuple[int, int]):
    """Cut images into non-overlapping patches, one flattened patch per row.

    x: (N, C, H, W), H and W multiples of the patch size (ph, pw) -> (N, (H/ph)(W/pw), C*ph*pw).
    Patches are numbered row by row over the grid (left to right, then down); inside a
    row the values are ordered (channel, row, column), the layout of a conv weight
    ``(D, C, ph, pw)`` flattened, so ``patchify(x, p) @ weight.reshape(D, -1).T``
    equals the convolution with kernel = stride = p. A numpy array gives a numpy
    array (ints become float64), a torch tensor gives a tensor (gradients flow).
    """
    func = "patchify"
    ph, pw = int_tuple(func, "patch_size", patch_size, 2, minimum=1)
    if isinstance(x, torch.Tensor):
        gh, gw = _patch_grid(func, tuple(x.shape), (ph, pw))
        n, c = x.shape[:2]
        blocks = x.reshape(n, c, gh, ph, gw, pw).permute(0, 2, 4, 1, 3, 5)
        return blocks.reshape(n, gh * gw, c * ph * pw)
    (arr,) = as_float_arrays(func, x=x)
    gh, gw = _patch_grid(func, arr.shape, (ph, pw))
    n, c = arr.shape[:2]
    blocks = arr.reshape(n, c, gh, ph, gw, pw).transpose(0, 2, 4, 1, 3, 5)
    return blocks.reshape(n, gh * gw, c * ph * pw).copy()


def patch_embed(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """Patch embedding as reshape + matrix product (numpy).

    x: (N, C, H, W); weight: (D, C, ph, pw), the kernel of a convolution whose stride
    is its kernel size; bias: (D,) or None -> (N, (H/ph)(W/pw), D), row ``k`` of
    sample ``n`` being the embedding of patch ``k`` (row-major over the patch grid).
    Equal to ``conv2d(x, weight, bias, stride=(ph, pw))`` with its spatial axes
    flattened and moved before the channels.
    """
    func = "patch_embed"
    arr, w, b = as_float_arrays(func, x=x, weight=weight, bias=bias)
    if w.ndim != 4:
        raise ValueError(f"{func}: weight must be 4-D (D, C, ph, pw), got shape {w.shape}")
    if arr.ndim != 4 or arr.shape[1] != w.shape[1]:
        raise ValueError(
            f"{func}: x must be (N, C, H, W) with C = {w.shape[1]} (weight's channels), "
            f"got shape {arr.shape}"
        )
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"{func}: bias must have shape ({w.shape[0]},), got {b.shape}")
    rows = patchify(arr, (w.shape[2], w.shape[3]))  # (N, P, C*ph*pw)
    out = rows @ w.reshape(w.shape[0], -1).T  # (N, P, D)
    return out if b is None else out + b


class PatchEmbedding(nn.Module):
    """The first layer of a Vision Transformer: one vector per image patch.

    A Conv2d with kernel = stride = ``patch_size`` maps (N, C, H, W) to
    (N, D, H/p, W/p); its output is then flattened to the sequence
    (N, (H/p)(W/p), D) that a transformer reads (``embed_dim`` = D).
    """

    def __init__(self, in_channels: int, embed_dim: int, patch_size: int | tuple[int, int]) -> None:
        super().__init__()
        func = "PatchEmbedding"
        in_channels = int_at_least(func, "in_channels", in_channels, 1)
        embed_dim = int_at_least(func, "embed_dim", embed_dim, 1)
        self.patch_size = int_tuple(func, "patch_size", patch_size, 2, minimum=1)
        self.proj = nn.Conv2d(in_channels, embed_dim, self.patch_size, stride=self.patch_size)

    def num_patches(self, height: int, width: int) -> int:
        """Number of patches (sequence length) of a ``height x width`` image."""
        gh, gw = _patch_grid("PatchEmbedding", (1, 1, height, width), self.patch_size)
        return gh * gw

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, H, W) -> (N, num_patches, embed_dim)."""
        _patch_grid("PatchEmbedding", tuple(x.shape), self.patch_size)
        return self.proj(x).flatten(2).transpose(1, 2)

    def as_linear(self) -> nn.Linear:
        """A Linear layer computing the same map on ``patchify(x, patch_size)``.

        Its weight (D, C*ph*pw) is the conv kernel reshaped, its bias the conv's bias
        (copies: changing one layer does not change the other).
        """
        conv = self.proj
        linear = nn.Linear(
            conv.in_channels * self.patch_size[0] * self.patch_size[1],
            conv.out_channels,
            bias=conv.bias is not None,
            dtype=conv.weight.dtype,
        )
        with torch.no_grad():
            linear.weight.copy_(conv.weight.reshape(conv.out_channels, -1))
            if conv.bias is not None:
                linear.bias.copy_(conv.bias)
        return linear


class ConvNeXtBlock(nn.Module):
    """The ConvNeXt block: x + scale * MLP(LayerNorm(depthwise_conv(x))).

    x: (N, dim, H, W) -> (N, dim, H, W). Depthwise ``kernel_size`` x ``kernel_size``
    convolution (padding keeps H and W), LayerNorm over the channels (computed
    channels-last), Linear dim -> expansion*dim (a 1x1 convolution), GELU, Linear
    back to dim, multiplication by a learned per-channel scale initialised to
    ``layer_scale_init`` (``None``: no scale), and the residual connection.
    """

    def __init__(
        self,
        dim: int,
        kernel_size: int = 7,
        expansion: int = 4,
        layer_scale_init: float | None = 1e-6,
    ) -> None:
        super().__init__()
        func = "ConvNeXtBlock"
        dim = int_at_least(func, "dim", dim, 1)
        kernel_size = int_at_least(func, "kernel_size", kernel_size, 1)
        expansion = int_at_least(func, "expansion", expansion, 1)
        if kernel_size % 2 == 0:
            raise ValueError(f"{func}: kernel_size must be odd to keep H and W, got {kernel_size}")
        self.dwconv = nn.Conv2d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.expand = nn.Linear(dim, expansion * dim)
        self.act = nn.GELU()
        self.project = nn.Linear(expansion * dim, dim)
        if layer_scale_init is None:
            self.gamma = None
        else:
            self.gamma = nn.Parameter(torch.full((dim,), float(layer_scale_init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, dim, H, W) -> (N, dim, H, W)."""
        y = self.dwconv(x).permute(0, 2, 3, 1)  # channels last: (N, H, W, dim)
        y = self.project(self.act(self.expand(self.norm(y))))
        if self.gamma is not None:
            y = y * self.gamma
        return x + y.permute(0, 3, 1, 2)


def convnext_block_params(
    dim: int, kernel_size: int = 7, expansion: int = 4, layer_scale: bool = True
) -> int:
    """Parameters of :class:`ConvNeXtBlock`: depthwise conv + LayerNorm + two Linears + scale.

    dim*k*k + dim (depthwise) + 2*dim (LayerNorm) + (dim*e*dim + e*dim) + (e*dim*dim + dim)
    + (dim if layer_scale).
    """
    func = "convnext_block_params"
    d = int_at_least(func, "dim", dim, 1)
    k = int_at_least(func, "kernel_size", kernel_size, 1)
    e = int_at_least(func, "expansion", expansion, 1)
    hidden = e * d
    total = d * k * k + d + 2 * d + (d * hidden + hidden) + (hidden * d + d)
    return total + (d if as_bool(func, "layer_scale", layer_scale) else 0)


def depthwise_separable_params(
    in_channels: int, out_channels: int, kernel_size: int | tuple[int, int], bias: bool = True
) -> int:
    """Parameters of a depthwise-separable convolution (depth multiplier 1).

    Depthwise: one kh x kw kernel per input channel, in*kh*kw (+ in biases);
    pointwise: a 1x1 convolution, out*in (+ out biases). Compare
    :func:`convkit.conv2d_params`, out*in*kh*kw (+ out). Example: 64 -> 128 channels,
    3x3, with bias: 640 + 8,320 = 8,960 instead of 73,856.
    """
    func = "depthwise_separable_params"
    c_in = int_at_least(func, "in_channels", in_channels, 1)
    c_out = int_at_least(func, "out_channels", out_channels, 1)
    kh, kw = int_tuple(func, "kernel_size", kernel_size, 2, minimum=1)
    with_bias = as_bool(func, "bias", bias)
    depthwise = c_in * kh * kw + (c_in if with_bias else 0)
    pointwise = c_out * c_in + (c_out if with_bias else 0)
    return depthwise + pointwise


class DepthwiseSeparableConv2d(nn.Module):
    """A depthwise convolution (groups = in_channels) followed by a 1x1 convolution.

    x: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out), H_out and W_out as
    for a Conv2d with the same kernel_size, stride and padding. Its parameter count
    is :func:`depthwise_separable_params`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        func = "DepthwiseSeparableConv2d"
        c_in = int_at_least(func, "in_channels", in_channels, 1)
        c_out = int_at_least(func, "out_channels", out_channels, 1)
        kernel = int_tuple(func, "kernel_size", kernel_size, 2, minimum=1)
        with_bias = as_bool(func, "bias", bias)
        self.depthwise = nn.Conv2d(
            c_in, c_in, kernel, stride=stride, padding=padding, groups=c_in, bias=with_bias
        )
        self.pointwise = nn.Conv2d(c_in, c_out, 1, bias=with_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
        return self.pointwise(self.depthwise(x))
