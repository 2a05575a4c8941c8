"""Shape arithmetic: output sizes, parameter counts and receptive fields."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from convkit._checks import as_bool, int_at_least, int_tuple, window_output_size

__all__ = ["conv2d_params", "linear_params", "output_size", "receptive_field"]


def output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length of a convolution or pooling along one axis.

    floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1.
    Plain ints only (TypeError otherwise); ValueError when the dilated window does not
    fit the padded input or an argument is out of range.
    """
    func = "output_size"
    size = int_at_least(func, "size", size, 1)
    kernel_size = int_at_least(func, "kernel_size", kernel_size, 1)
    stride = int_at_least(func, "stride", stride, 1)
    padding = int_at_least(func, "padding", padding, 0)
    dilation = int_at_least(func, "dilation", dilation, 1)
    return window_output_size(func, "size", size, kernel_size, stride, padding, padding, dilation)


def conv2d_params(
    in_channels: int, out_channels: int, kernel_size: int | tuple[int, int], bias: bool = True
) -> int:
    """Number of parameters of a Conv2d layer: out*(in*kh*kw) + (out if bias).

    Example: 3 -> 64 channels, 3x3 kernel, with bias: 1,792.
    """
    func = "conv2d_params"
    c_in = int_at_least(func, "in_channels", in_channels, 1)
    c_out = int_at_least(func, "out_channels", out_channels, 1)
    kh, kw = int_tuple(func, "kernel_size", kernel_size, 2, minimum=1)
    return c_out * c_in * kh * kw + (c_out if as_bool(func, "bias", bias) else 0)


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Number of parameters of a Linear layer: out*in + (out if bias).

    Example: 32*32*3 -> 512 features, no bias: 1,572,864.
    """
    func = "linear_params"
    n_in = int_at_least(func, "in_features", in_features, 1)
    n_out = int_at_least(func, "out_features", out_features, 1)
    return n_out * n_in + (n_out if as_bool(func, "bias", bias) else 0)


def receptive_field(layers: Iterable[Sequence[int]]) -> int:
    """Receptive field (input pixels along one axis) of one unit after a stack of layers.

    ``layers``: (kernel, stride) or (kernel, stride, dilation) per layer, first layer
    first. r = 1, jump = 1; per layer r += dilation*(kernel - 1)*jump; jump *= stride.
    An empty stack gives 1; two 3x3 stride-1 layers give 5.
    """
    func = "receptive_field"
    if isinstance(layers, str | bytes | np.ndarray) or not isinstance(layers, Iterable):
        raise TypeError(f"{func}: layers must be a sequence of (kernel, stride[, dilation]) tuples")
    r, jump = 1, 1
    for index, layer in enumerate(layers):
        name = f"layers[{index}]"
        if isinstance(layer, str | bytes) or not isinstance(layer, Sequence | np.ndarray):
            raise TypeError(
                f"{func}: {name} must be a (kernel, stride) or (kernel, stride, dilation) "
                f"tuple, got {layer!r}"
            )
        if len(layer) not in (2, 3):
            raise ValueError(
                f"{func}: {name} must have 2 or 3 entries (kernel, stride[, dilation]), "
                f"got {layer!r}"
            )
        ints = int_tuple(func, name, layer, len(layer), minimum=1)
        kernel, stride, dilation = (*ints, 1)[:3]
        r += dilation * (kernel - 1) * jump
        jump *= stride
    return r
