"""Normalisation layers: batch norm (forward and backward), group norm and layer norm.

Each one subtracts a mean and divides by a standard deviation, then applies a
learned per-channel scale (``weight``, gamma) and shift (``bias``, beta); they
differ only in which axes the statistics are taken over:

- batch norm: per channel, over the batch and every position, (N, H, W) for
  images; in eval mode the running averages stand in for the batch's statistics;
- group norm: per sample and per group of ``C / num_groups`` channels, over
  those channels and every position (one group: layer norm over (C, H, W));
- layer norm: per sample, over the trailing ``normalized_shape`` axes.

The variance that normalises is the biased one (divided by the count ``m``);
the running variance that batch norm keeps is the unbiased one (divided by
``m - 1``), as in torch.  ``batch_norm_naive`` is the definition written as
loops over channels and elements (the teaching version); ``batch_norm`` is the
same with whole-array reductions.

``batch_norm_backward`` is the gradient derived in ch10: with
``xhat = (x - mean) / std`` over one channel's ``m`` values,
``dx = weight / std * (g - mean(g) - xhat * mean(g * xhat))`` in training mode
(the batch's statistics depend on x) and ``dx = weight * g / sqrt(running_var + eps)``
in eval mode.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from convkit._checks import (
    as_bool,
    as_float_array,
    as_float_arrays,
    check_grad_out,
    int_at_least,
    non_negative_float,
    positive_float,
)

__all__ = [
    "batch_norm",
    "batch_norm_backward",
    "batch_norm_naive",
    "group_norm",
    "layer_norm",
]


def batch_norm(
    x: object,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: object = None,
    bias: object = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> np.ndarray:
    """Batch normalisation, as ``torch.nn.functional.batch_norm``.

    x: (N, C) or (N, C, L) or (N, C, H, W) (any trailing axes); running_mean,
    running_var, weight, bias: (C,) -> like x.  ``training``: normalise with the
    batch's statistics over every axis but C, and update ``running_mean`` and
    ``running_var`` in place (``new = (1 - momentum) * old + momentum * batch``,
    the batch's variance unbiased), when given; otherwise normalise with the
    running statistics, which must then be given.  ``weight`` and ``bias`` default
    to 1 and 0.
    """
    func = "batch_norm"
    x, weight, bias, axes, count = _batch_norm_setup(func, x, weight, bias, training, momentum, eps)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)
        _update_running(func, running_mean, running_var, mean, var, count, momentum, x.shape[1])
    else:
        mean, var = _running_stats(func, running_mean, running_var, x)
    out = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return _scale_shift(out, weight, bias, shape)


def batch_norm_naive(
    x: object,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: object = None,
    bias: object = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> np.ndarray:
    """:func:`batch_norm` written as loops: for each channel, its mean and variance
    summed element by element, then every element normalised, scaled and shifted.

    x: (N, C, ...) -> like x.  Slow; for teaching and for checking ``batch_norm``.
    """
    func = "batch_norm_naive"
    x, weight, bias, _, count = _batch_norm_setup(func, x, weight, bias, training, momentum, eps)
    channels = x.shape[1]
    if training:
        mean, var = np.zeros(channels, x.dtype), np.zeros(channels, x.dtype)
        for c in range(channels):
            values = x[:, c].ravel()
            total = 0.0
            for value in values:
                total += value
            mean[c] = total / count
            squares = 0.0
            for value in values:
                squares += (value - mean[c]) ** 2
            var[c] = squares / count
        _update_running(func, running_mean, running_var, mean, var, count, momentum, channels)
    else:
        mean, var = _running_stats(func, running_mean, running_var, x)
    out = np.empty_like(x)
    for c in range(channels):
        std = np.sqrt(var[c] + eps)
        gamma = 1.0 if weight is None else weight[c]
        beta = 0.0 if bias is None else bias[c]
        for index in np.ndindex(x[:, c].shape):
            n, rest = index[0], index[1:]
            out[(n, c, *rest)] = gamma * (x[(n, c, *rest)] - mean[c]) / std + beta
    return out


def batch_norm_backward(
    grad_out: object,
    x: object,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: object = None,
    training: bool = False,
    eps: float = 1e-5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``sum(grad_out * batch_norm(x, running_mean, running_var, weight,
    bias, training, eps=eps))`` with respect to x, weight and bias.

    grad_out, x: (N, C, ...) alike; running_mean, running_var, weight: (C,)
    -> (grad_x like x, grad_weight (C,), grad_bias (C,)).  ``training``: the batch's
    statistics were used (they depend on x); otherwise the running ones (constants,
    which must be given).  Running statistics are not updated here.
    """
    func = "batch_norm_backward"
    x, weight, _, axes, count = _batch_norm_setup(func, x, weight, None, training, 0.1, eps)
    (g,) = as_float_arrays(func, grad_out=grad_out)
    check_grad_out(func, g, x.shape, "batch_norm")
    g = g.astype(x.dtype, copy=False)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    else:
        mean, var = _running_stats(func, running_mean, running_var, x)
    inv_std = (1.0 / np.sqrt(var + eps)).reshape(shape)
    xhat = (x - mean.reshape(shape)) * inv_std
    grad_bias = g.sum(axis=axes)
    grad_weight = (g * xhat).sum(axis=axes)
    gamma = np.ones(x.shape[1], x.dtype) if weight is None else weight
    scale = gamma.reshape(shape) * inv_std
    if training:
        grad_x = scale * (
            g - (grad_bias / count).reshape(shape) - xhat * (grad_weight / count).reshape(shape)
        )
    else:
        grad_x = scale * g
    return grad_x.astype(x.dtype, copy=False), grad_weight, grad_bias


def group_norm(
    x: object,
    num_groups: int,
    weight: object = None,
    bias: object = None,
    eps: float = 1e-5,
) -> np.ndarray:
    """Group normalisation, as ``torch.nn.functional.group_norm``.

    x: (N, C, ...) (any trailing axes); weight, bias: (C,) -> like x.  Each sample's
    channels are split into ``num_groups`` groups of ``C / num_groups`` (which must
    divide C); each group is normalised with its own mean and (biased) variance over
    its channels and every position.  No running statistics: the same in training
    and evaluation, and independent of the batch size.
    """
    func = "group_norm"
    x, weight, bias = _affine_setup(func, x, weight, bias, min_ndim=2)
    groups = int_at_least(func, "num_groups", num_groups, 1)
    positive_float(func, "eps", eps)
    batch, channels = x.shape[:2]
    if channels % groups:
        raise ValueError(
            f"{func}: num_groups ({groups}) must divide the number of channels ({channels})"
        )
    grouped = x.reshape(batch, groups, -1)
    mean = grouped.mean(axis=2, keepdims=True)
    var = grouped.var(axis=2, keepdims=True)
    out = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    return _scale_shift(out, weight, bias, (1, -1) + (1,) * (x.ndim - 2))


def layer_norm(
    x: object,
    normalized_shape: int | tuple[int, ...],
    weight: object = None,
    bias: object = None,
    eps: float = 1e-5,
) -> np.ndarray:
    """Layer normalisation, as ``torch.nn.functional.layer_norm``.

    x: (..., *normalized_shape); weight, bias: normalized_shape -> like x.  Every
    slice over the trailing ``normalized_shape`` axes (for an image batch
    (N, C, H, W) with ``normalized_shape=(C, H, W)``: each sample) is normalised
    with its own mean and (biased) variance, then scaled and shifted elementwise.
    """
    func = "layer_norm"
    x = as_float_array(func, "x", x)
    trailing = (
        (normalized_shape,) if isinstance(normalized_shape, Integral) else normalized_shape
    )
    trailing = tuple(int_at_least(func, "normalized_shape", n, 1) for n in trailing)
    if not trailing or x.shape[x.ndim - len(trailing) :] != trailing or x.ndim < len(trailing):
        raise ValueError(
            f"{func}: x's last axes must be normalized_shape {trailing}, got shape {x.shape}"
        )
    positive_float(func, "eps", eps)
    weight, bias = _parameters(func, x.dtype, trailing, weight=weight, bias=bias)
    axes = tuple(range(x.ndim - len(trailing), x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    out = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out.astype(x.dtype, copy=False)


# ----------------------------------------------------------------------- helpers


def _batch_norm_setup(
    func: str,
    x: object,
    weight: object,
    bias: object,
    training: object,
    momentum: object,
    eps: object,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, tuple[int, ...], int]:
    """x as floats, weight/bias checked as (C,), the reduction axes and their count m."""
    x, weight, bias = _affine_setup(func, x, weight, bias, min_ndim=2)
    training = as_bool(func, "training", training)
    non_negative_float(func, "momentum", momentum)
    positive_float(func, "eps", eps)
    axes = (0, *range(2, x.ndim))
    count = int(np.prod([x.shape[a] for a in axes]))
    if training and count < 2:
        raise ValueError(
            f"{func}: training needs more than one value per channel to take statistics, "
            f"got x of shape {x.shape}"
        )
    return x, weight, bias, axes, count


def _affine_setup(
    func: str, x: object, weight: object, bias: object, min_ndim: int
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    x = as_float_array(func, "x", x)
    if x.ndim < min_ndim or x.size == 0:
        raise ValueError(f"{func}: x must be (N, C, ...) and not empty, got shape {x.shape}")
    weight, bias = _parameters(func, x.dtype, (x.shape[1],), weight=weight, bias=bias)
    return x, weight, bias


def _parameters(
    func: str, dtype: np.dtype, shape: tuple[int, ...], **named: object
) -> list[np.ndarray | None]:
    """Each of ``named`` (None allowed) as a float array of ``shape`` in ``dtype``."""
    out = []
    for name, value in named.items():
        if value is None:
            out.append(None)
            continue
        arr = as_float_array(func, name, value)
        if arr.shape != shape:
            raise ValueError(f"{func}: {name} must have shape {shape}, got {arr.shape}")
        out.append(arr.astype(dtype, copy=False))
    return out


def _running_stats(
    func: str, running_mean: object, running_var: object, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    if running_mean is None or running_var is None:
        raise ValueError(f"{func}: eval mode (training=False) needs running_mean and running_var")
    mean, var = _parameters(
        func, x.dtype, (x.shape[1],), running_mean=running_mean, running_var=running_var
    )
    return mean, var


def _update_running(
    func: str,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    mean: np.ndarray,
    var: np.ndarray,
    count: int,
    momentum: float,
    channels: int,
) -> None:
    """Move the running statistics (in place) towards the batch's: the mean, and the
    variance made unbiased (times m / (m - 1)).  Both are checked before either changes."""
    updates = [
        (name, running, batch)
        for name, running, batch in (
            ("running_mean", running_mean, mean),
            ("running_var", running_var, var * count / (count - 1)),
        )
        if running is not None
    ]
    for name, running, _ in updates:
        if not isinstance(running, np.ndarray) or running.dtype.kind != "f":
            raise TypeError(f"{func}: {name} must be a float numpy array (updated in place)")
        if running.shape != (channels,):
            raise ValueError(f"{func}: {name} must have shape ({channels},), got {running.shape}")
    for _, running, batch in updates:
        running *= 1 - momentum
        running += momentum * batch.astype(running.dtype)


def _scale_shift(
    out: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, shape: tuple[int, ...]
) -> np.ndarray:
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out
