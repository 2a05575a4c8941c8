"""Convolution variants measured (chapter 12): what grouping and separating cost and save,
and why a strided transposed convolution paints a checkerboard.

- :func:`variant_layers` and :func:`compare_variants`: a standard convolution, grouped
  ones and a depthwise-separable one with the same input and output widths; their
  parameters and multiply-adds (:func:`convkit.nn.models.layer_costs`) and their measured
  forward time in torch on one thread.
- :func:`scatter_counts` and :func:`resize_counts`: how many kernel taps reach every
  output pixel of a transposed convolution (uneven when the kernel size is not a
  multiple of the stride: the checkerboard of Odena et al. 2016), against
  nearest-neighbour resizing followed by a convolution (even away from the border).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from convkit._checks import int_at_least
from convkit.lessons.timing import median_seconds
from convkit.nn.models import DepthwiseSeparableConv2d, layer_costs
from convkit.nn.torch_state import torch_threads
from convkit.ops.conv2d import conv2d
from convkit.ops.conv_transpose import conv_transpose2d

__all__ = [
    "VariantRow",
    "compare_variants",
    "resize_counts",
    "scatter_counts",
    "variant_layers",
]


def variant_layers(
    channels: int = 64, kernel_size: int = 3, groups: Sequence[int] = (2, 8)
) -> dict[str, nn.Module]:
    """name -> a layer from ``channels`` to ``channels`` maps, ``kernel_size`` square,
    padding keeping the size, no bias: "standard", "groups=g" for each g of ``groups``
    (each dividing ``channels``), and "depthwise-separable" (a depthwise convolution,
    groups = channels, then a 1 x 1 one).  x: (N, channels, H, W) -> the same shape."""
    func = "variant_layers"
    c = int_at_least(func, "channels", channels, 1)
    k = int_at_least(func, "kernel_size", kernel_size, 1)
    layers: dict[str, nn.Module] = {"standard": nn.Conv2d(c, c, k, padding=k // 2, bias=False)}
    for g in groups:
        g = int_at_least(func, "groups", g, 1)
        if c % g:
            raise ValueError(f"{func}: {c} channels do not split into {g} groups")
        layers[f"groups={g}"] = nn.Conv2d(c, c, k, padding=k // 2, groups=g, bias=False)
    layers["depthwise-separable"] = DepthwiseSeparableConv2d(c, c, k, padding=k // 2,
                                                             bias=False)  # fmt: skip
    return layers


class VariantRow(NamedTuple):
    """One layer of :func:`compare_variants`: its parameters, multiply-adds per image and
    median forward seconds for the batch."""

    name: str
    params: int
    multiply_adds: int
    seconds: float


def compare_variants(
    channels: int = 64,
    size: int = 32,
    kernel_size: int = 3,
    groups: Sequence[int] = (2, 8),
    batch: int = 16,
    repeats: int = 7,
) -> list[VariantRow]:
    """:func:`variant_layers`' layers on a batch of ``batch`` random (channels, size, size)
    inputs: parameters and multiply-adds by formula, forward time (median of ``repeats``
    runs after one warm-up, no gradients, one torch thread) as measured on this machine."""
    func = "compare_variants"
    size = int_at_least(func, "size", size, 1)
    batch = int_at_least(func, "batch", batch, 1)
    repeats = int_at_least(func, "repeats", repeats, 1)
    torch.manual_seed(0)
    x = torch.randn(batch, channels, size, size)
    rows = []
    with torch_threads(1), torch.no_grad():
        for name, layer in variant_layers(channels, kernel_size, groups).items():
            costs = layer_costs(layer, (channels, size, size))
            layer(x)  # warm-up
            seconds = median_seconds(lambda layer=layer: layer(x), repeats, float("inf"))
            rows.append(VariantRow(name, sum(c.params for c in costs),
                                   sum(c.multiply_adds for c in costs), seconds))  # fmt: skip
    return rows


def scatter_counts(kernel_size: int, stride: int, size: int = 6) -> np.ndarray:
    """How many kernel taps of a transposed convolution reach every output pixel.

    A (size, size) input of ones through :func:`convkit.conv_transpose2d` with an all-ones
    ``kernel_size`` square kernel and ``stride`` -> the (H_out, W_out) counts.  Where
    ``kernel_size`` is not a multiple of ``stride`` the counts alternate even away from
    the border: with learned kernels the same unevenness shows as a checkerboard.
    """
    func = "scatter_counts"
    k = int_at_least(func, "kernel_size", kernel_size, 1)
    s = int_at_least(func, "stride", stride, 1)
    n = int_at_least(func, "size", size, 1)
    return conv_transpose2d(np.ones((1, 1, n, n)), np.ones((1, 1, k, k)), stride=s)[0, 0]


def resize_counts(kernel_size: int, factor: int, size: int = 6) -> np.ndarray:
    """The same count for nearest-neighbour resizing by ``factor`` followed by a
    ``kernel_size`` convolution with zero padding keeping the size: every output pixel
    away from the border sums the same number of taps -> (size * factor, size * factor)."""
    func = "resize_counts"
    k = int_at_least(func, "kernel_size", kernel_size, 1)
    f = int_at_least(func, "factor", factor, 1)
    n = int_at_least(func, "size", size, 1)
    upsampled = np.ones((1, 1, n * f, n * f))
    return conv2d(upsampled, np.ones((1, 1, k, k)), padding="same")[0, 0]
