"""Initialisation scales from a weight's shape: fan-in, fan-out, gains, Xavier and Kaiming.

The argument of ch10: a layer ``y = W x`` with ``fan_in`` independent inputs of
variance ``v`` and weights of variance ``s**2`` gives outputs of variance
``fan_in * s**2 * v``.  Keeping the variance through depth needs
``s**2 = 1 / fan_in``; a ReLU halves the second moment, so Kaiming/He (He et al.
2015) doubles it: ``s = sqrt(2 / fan_in)``.  Xavier/Glorot (Glorot & Bengio
2010) compromises between the forward pass (``fan_in``) and the backward pass
(``fan_out``): ``s = sqrt(2 / (fan_in + fan_out))``.  Names and arguments follow
``torch.nn.init`` (``calculate_gain``, ``kaiming_normal_``, ``xavier_normal_``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from convkit._checks import int_at_least

__all__ = ["calculate_gain", "fan_in_and_fan_out", "kaiming_std", "xavier_std"]

_LINEAR_GAIN = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def fan_in_and_fan_out(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape``: inputs and outputs per weight row/column.

    shape: (out_features, in_features) for a linear layer, (C_out, C_in, kh, kw) (or
    any kernel size) for a convolution: fan_in = C_in * kh * kw, fan_out = C_out * kh * kw.
    """
    func = "fan_in_and_fan_out"
    dims = [int_at_least(func, "shape", n, 1) for n in shape]
    if len(dims) < 2:
        raise ValueError(f"{func}: a weight needs at least 2 axes, got shape {tuple(shape)}")
    receptive = math.prod(dims[2:])
    return dims[1] * receptive, dims[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps the second moment of a layer's output at its input's, as
    ``torch.nn.init.calculate_gain``: 1 for linear layers and sigmoid, 5/3 for tanh,
    sqrt(2) for ReLU, sqrt(2 / (1 + a**2)) for leaky ReLU of slope ``param`` (0.01 by
    default), 3/4 for SELU."""
    func = "calculate_gain"
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, int | float):
            raise TypeError(f"{func}: param must be a number, got {slope!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(f"{func}: unsupported nonlinearity {nonlinearity!r}")


def kaiming_std(
    shape: Sequence[int],
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
) -> float:
    """Standard deviation of Kaiming/He normal initialisation of a weight of ``shape``,
    as ``torch.nn.init.kaiming_normal_``: ``gain / sqrt(fan)``.

    shape: e.g. (C_out, C_in, kh, kw).  ``mode``: "fan_in" keeps the forward pass's
    variance, "fan_out" the backward pass's; ``a``: the leaky ReLU's negative slope
    (0: plain ReLU, gain sqrt(2)).
    """
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming_std: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def xavier_std(shape: Sequence[int], gain: float = 1.0) -> float:
    """Standard deviation of Xavier/Glorot normal initialisation of a weight of ``shape``,
    as ``torch.nn.init.xavier_normal_``: ``gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))
