"""Stride and padding arithmetic (chapter 3): "same" padding, coverage counts, size traces.

- :func:`same_padding`: the padding that keeps the size at stride 1, (K - 1) / 2 for odd K.
- :func:`coverage_count`: how many windows of a convolution read each input pixel.
- :func:`size_trace`: the spatial size after each layer of a stack of equal convolutions.
"""

from __future__ import annotations

import numpy as np

from convkit._checks import int_at_least, int_tuple
from convkit.shapes import output_size

__all__ = ["coverage_count", "same_padding", "size_trace"]


def same_padding(kernel_size: int) -> int:
    """Padding P that makes a stride-1 convolution keep the input size: P = (K - 1) / 2.

    Only odd kernel sizes have such a symmetric padding; an even ``kernel_size`` raises
    ValueError (it would need one more zero on one side than on the other).
    """
    k = int_at_least("same_padding", "kernel_size", kernel_size, 1)
    if k % 2 == 0:
        raise ValueError(
            f"same_padding: kernel_size must be odd for symmetric 'same' padding, got {k}"
        )
    return (k - 1) // 2


def _axis_coverage(size: int, kernel: int, stride: int, padding: int) -> np.ndarray:
    """(size,) int64: for each input index, the number of window starts whose window holds it."""
    n_out = output_size(size, kernel, stride, padding)
    counts = np.zeros(size + 2 * padding, dtype=np.int64)
    for i in range(n_out):  # window i covers padded indices i*stride .. i*stride + kernel - 1
        counts[i * stride : i * stride + kernel] += 1
    return counts[padding : padding + size]


def coverage_count(
    height: int,
    width: int,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """How many positions of a sliding window read each pixel of an (height, width) input.

    -> (height, width) int64.

    The window (kernel_size) moves by ``stride`` over the input padded by ``padding``
    zeros on each side, exactly as in ``conv2d``; padded zeros are not part of the
    result. Rows and columns are independent, so the count is (row count) x (column
    count). ValueError when the window does not fit the padded input.
    Example: 5x5 input, 3x3 kernel, stride 1, no padding: the corners are read once,
    the centre 9 times.
    """
    func = "coverage_count"
    h = int_at_least(func, "height", height, 1)
    w = int_at_least(func, "width", width, 1)
    kh, kw = int_tuple(func, "kernel_size", kernel_size, 2, minimum=1)
    sh, sw = int_tuple(func, "stride", stride, 2, minimum=1)
    ph, pw = int_tuple(func, "padding", padding, 2, minimum=0)
    for name, size, k, p in (("height", h, kh, ph), ("width", w, kw, pw)):
        if k > size + 2 * p:
            raise ValueError(
                f"{func}: the window ({k}) does not fit the padded {name} ({size} + 2*{p})"
            )
    rows = _axis_coverage(h, kh, sh, ph)
    cols = _axis_coverage(w, kw, sw, pw)
    return np.outer(rows, cols)


def size_trace(
    size: int, kernel_size: int, n_layers: int, stride: int = 1, padding: int = 0
) -> list[int]:
    """Spatial size (one axis) before and after each of ``n_layers`` equal convolutions.

    Returns [size, size after layer 1, ...]. The list stops early, after the last size
    that a further window still fitted into, when the next layer's window would no
    longer fit: with kernel 3 and no padding, 8 -> [8, 6, 4, 2] for any n_layers >= 3.
    """
    func = "size_trace"
    current = int_at_least(func, "size", size, 1)
    k = int_at_least(func, "kernel_size", kernel_size, 1)
    layers = int_at_least(func, "n_layers", n_layers, 0)
    s = int_at_least(func, "stride", stride, 1)
    p = int_at_least(func, "padding", padding, 0)
    trace = [current]
    for _ in range(layers):
        if k > current + 2 * p:
            break
        current = output_size(current, k, s, p)
        trace.append(current)
    return trace
