"""Receptive fields (chapter 5) measured by autograd: which input pixels one unit reads.

The formula :func:`convkit.receptive_field` predicts the side of a unit's receptive
field from the stack's kernels, strides and dilations; the functions here measure it
instead: a stack of single-channel all-ones convolutions, the gradient of its centre
output unit with respect to the input, and the pixels where that gradient is nonzero.

- :func:`gradient_footprint`: the footprint after each prefix of the stack.
- :func:`measured_receptive_field`: the side of the footprint after the whole stack.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from convkit.shapes import output_size

__all__ = ["gradient_footprint", "measured_receptive_field"]


def _stack(layers: Sequence[Sequence[int]]) -> torch.nn.Sequential:
    """Single-channel convs with all-ones weights (so no gradient cancels), no bias:
    (1, 1, H, W) -> (1, 1, H_out, W_out)."""
    modules = []
    for kernel, stride, *rest in layers:
        dilation = rest[0] if rest else 1
        conv = torch.nn.Conv2d(1, 1, kernel, stride=stride, dilation=dilation, bias=False)
        torch.nn.init.ones_(conv.weight)
        modules.append(conv)
    return torch.nn.Sequential(*modules)


def gradient_footprint(layers: Sequence[Sequence[int]], size: int) -> list[np.ndarray]:
    """Input footprint of the centre output unit after each prefix of the stack.

    layers: (kernel, stride[, dilation]) per layer, as for :func:`convkit.receptive_field`;
    size: side of the square single-channel input (large enough for the stack) ->
    one boolean (size, size) mask per layer: True where d(centre unit)/d(input) is
    nonzero, i.e. the input pixels that unit reads (found by torch autograd).
    """
    side = size
    for kernel, stride, *rest in layers:
        side = output_size(side, kernel, stride=stride, dilation=rest[0] if rest else 1)
    masks = []
    for depth in range(1, len(layers) + 1):
        x = torch.zeros(1, 1, size, size, dtype=torch.float64, requires_grad=True)
        y = _stack(layers[:depth]).double()(x)
        y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
        masks.append((x.grad[0, 0] != 0).numpy())
    return masks


def measured_receptive_field(layers: Sequence[Sequence[int]], size: int) -> int:
    """Receptive field side (pixels) of one unit after the whole stack, measured by autograd.

    layers: (kernel, stride[, dilation]) per layer; size: side of the square input ->
    the side in pixels. Equals ``convkit.receptive_field(layers)`` when ``size`` is
    large enough that the field is not cut by the border. An empty stack gives 1.
    """
    if not layers:
        return 1
    mask = gradient_footprint(layers, size)[-1]
    rows = np.flatnonzero(mask.any(axis=1))
    return int(rows[-1] - rows[0] + 1)
