"""Shape trace: the (C, H, W) shape after each layer of a conv / pooling stack."""

from __future__ import annotations

from collections.abc import Sequence

from convkit._checks import int_at_least, int_tuple
from convkit.shapes import output_size

__all__ = ["LAYER_KINDS", "shape_trace"]

#: Layer kinds and their spec tuples (trailing entries optional, defaults shown):
#: ("conv", out_channels, kernel_size, stride=1, padding=0, dilation=1)
#: ("pool", kernel_size, stride=kernel_size, padding=0)   -- max or average pooling
LAYER_KINDS = ("conv", "pool")


def _conv_step(index: int, shape: tuple[int, int, int], spec: Sequence) -> tuple[int, int, int]:
    """Shape after one ("conv", out_channels, kernel, stride, padding, dilation) layer."""
    func, name = "shape_trace", f"layers[{index}]"
    if not 3 <= len(spec) <= 6:
        raise ValueError(
            f"{func}: {name} must be ('conv', out_channels, kernel_size[, stride[, padding"
            f"[, dilation]]]), got {tuple(spec)!r}"
        )
    out_channels = int_at_least(func, f"{name} out_channels", spec[1], 1)
    defaults = (None, 1, 0, 1)  # kernel has no default
    kernel, stride, padding, dilation = (*spec[2:], *defaults[len(spec) - 2 :])
    _, h, w = shape
    size = [
        output_size(n, kernel, stride=stride, padding=padding, dilation=dilation) for n in (h, w)
    ]
    return out_channels, size[0], size[1]


def _pool_step(index: int, shape: tuple[int, int, int], spec: Sequence) -> tuple[int, int, int]:
    """Shape after one ("pool", kernel, stride, padding) layer; channels are kept."""
    func, name = "shape_trace", f"layers[{index}]"
    if not 2 <= len(spec) <= 4:
        raise ValueError(
            f"{func}: {name} must be ('pool', kernel_size[, stride[, padding]]), "
            f"got {tuple(spec)!r}"
        )
    kernel = spec[1]
    stride = spec[2] if len(spec) > 2 else kernel
    padding = spec[3] if len(spec) > 3 else 0
    c, h, w = shape
    size = [output_size(n, kernel, stride=stride, padding=padding) for n in (h, w)]
    return c, size[0], size[1]


def shape_trace(
    input_shape: Sequence[int], layers: Sequence[Sequence]
) -> list[tuple[int, int, int]]:
    """The (C, H, W) shape after each layer of a stack (batch dimension left out).

    ``input_shape``: (C, H, W). ``layers``: spec tuples, first layer first:
    ``("conv", out_channels, kernel_size, stride=1, padding=0, dilation=1)`` or
    ``("pool", kernel_size, stride=kernel_size, padding=0)``. Returns one (C, H, W)
    tuple per layer (the input shape is not repeated), so ``len(result) == len(layers)``.
    Raises ValueError (from ``output_size``) when a window does not fit, naming the
    sizes involved; TypeError / ValueError for a malformed spec.
    Example: (3, 32, 32), [("conv", 16, 5, 1, 2), ("pool", 2)] -> [(16, 32, 32), (16, 16, 16)].
    """
    func = "shape_trace"
    shape = int_tuple(func, "input_shape", input_shape, 3, minimum=1)
    if isinstance(layers, str | bytes) or not isinstance(layers, Sequence):
        raise TypeError(f"{func}: layers must be a list of layer spec tuples, got {layers!r}")
    trace: list[tuple[int, int, int]] = []
    for index, spec in enumerate(layers):
        if isinstance(spec, str | bytes) or not isinstance(spec, Sequence) or not spec:
            raise TypeError(f"{func}: layers[{index}] must be a spec tuple, got {spec!r}")
        kind = spec[0]
        if kind == "conv":
            shape = _conv_step(index, shape, spec)
        elif kind == "pool":
            shape = _pool_step(index, shape, spec)
        else:
            raise ValueError(
                f"{func}: layers[{index}] kind must be one of {LAYER_KINDS}, got {kind!r}"
            )
        trace.append(shape)
    return trace
