"""Chapter 5's measurements: window positions counted one by one, and receptive fields
measured by autograd.

- :func:`window_starts`: every start of a sliding window along one axis, listed by
  trying each start in turn (no size formula involved), so that a count of positions
  can be checked against :func:`convkit.output_size` and PyTorch.

The formula :func:`convkit.receptive_field` predicts the side of a unit's receptive
field from the stack's kernels, strides and dilations; the functions below measure it
instead: a stack of single-channel all-ones convolutions, the gradient of its centre
output unit with respect to the input, and the pixels where that gradient is nonzero.

- :func:`gradient_footprint`: the footprint after each prefix of the stack.
- :func:`measured_receptive_field`: the side of the footprint after the whole stack.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from convkit._checks import int_at_least
from convkit.shapes import output_size

__all__ = ["gradient_footprint", "measured_receptive_field", "window_starts"]


def window_starts(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> list[int]:
    """Every start of a window sliding along one padded axis, found by trying each one.

    size, kernel_size, stride, dilation >= 1 and padding >= 0 (ints) -> the starts t =
    0, stride, 2*stride, ... (indices into the padded axis of ``size + 2*padding``
    entries) at which all ``kernel_size`` taps, ``dilation`` entries apart, land inside
    the padded axis. An empty list means the window does not fit anywhere.
    """
    n = int_at_least("window_starts", "size", size, 1)
    k = int_at_least("window_starts", "kernel_size", kernel_size, 1)
    s = int_at_least("window_starts", "stride", stride, 1)
    p = int_at_least("window_starts", "padding", padding, 0)
    d = int_at_least("window_starts", "dilation", dilation, 1)
    padded = n + 2 * p
    starts = []
    for t in range(0, padded, s):
        taps = [t + d * m for m in range(k)]
        if all(tap < padded for tap in taps):
            starts.append(t)
    return starts


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
