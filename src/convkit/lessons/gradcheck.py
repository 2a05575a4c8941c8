"""Gradient checking (chapter 7): numerical gradients by finite differences.

A backward pass written by hand is checked against the definition of the derivative:
nudge one entry of an array, look at how the loss changes, and divide.
:func:`numerical_gradient` does that for every entry of a float64 array in place (each
entry is put back afterwards), so the loss can be any function that reads the array,
such as ``lambda: float(np.sum(g * conv2d(x, w, b)))``.

Taylor's theorem gives the error of the two schemes. The centred difference
``(f(a + eps) - f(a - eps)) / (2 eps)`` is off by about ``eps**2 * f''' / 6``, the
one-sided (forward) difference ``(f(a + eps) - f(a)) / eps`` by about
``eps * f'' / 2``; both add rounding of order (machine precision * |f|) / eps. With
the default ``eps = 1e-6`` a correct gradient of a float64 loss agrees with the
centred difference to about 1e-8 or better.

:func:`gradient_errors` runs the whole check on a backward pass of ``conv2d``: the
largest relative error between its three gradients and the numerical ones.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from convkit._checks import as_float_array, positive_float
from convkit.ops.conv2d import conv2d

__all__ = ["SCHEMES", "gradient_errors", "numerical_gradient", "relative_error"]

#: The difference schemes :func:`numerical_gradient` knows.
SCHEMES = ("centred", "forward")


def numerical_gradient(
    f: Callable[[], float], a: np.ndarray, eps: float = 1e-6, *, scheme: str = "centred"
) -> np.ndarray:
    """dF/da by finite differences, one entry of ``a`` at a time.

    f: () -> float, a loss that reads ``a``; a: float64 array of any shape, changed in
    place while it runs and restored entry by entry (bit for bit) -> gradient of the
    same shape as ``a``.

    scheme: "centred", ``(f(a + eps e_i) - f(a - eps e_i)) / (2 eps)`` for every
    entry i (the default), or "forward", ``(f(a + eps e_i) - f(a)) / eps``, the
    one-sided difference (less accurate; chapter 7 measures by how much).
    Raises TypeError unless ``a`` is a float64 ndarray, ValueError when it is not
    writeable, ``eps`` is not positive or ``scheme`` is unknown.
    """
    func = "numerical_gradient"
    if not isinstance(a, np.ndarray) or a.dtype != np.float64:
        kind = f"a {a.dtype} array" if isinstance(a, np.ndarray) else type(a).__name__
        raise TypeError(f"{func}: a must be a float64 numpy array (nudged in place), got {kind}")
    if not a.flags.writeable:
        raise ValueError(f"{func}: a must be writeable (it is nudged in place)")
    eps = positive_float(func, "eps", eps)
    if scheme not in SCHEMES:
        raise ValueError(f"{func}: scheme must be one of {SCHEMES}, got {scheme!r}")
    grad = np.zeros_like(a)
    centre = None if scheme == "centred" else float(f())
    for idx in np.ndindex(a.shape):
        keep = a[idx]
        try:
            a[idx] = keep + eps
            up = float(f())
            if centre is None:
                a[idx] = keep - eps
                down = float(f())
        finally:
            a[idx] = keep
        grad[idx] = (up - down) / (2 * eps) if centre is None else (up - centre) / eps
    return grad


def relative_error(analytic: object, numerical: object) -> float:
    """The largest |analytic - numerical| divided by the largest |numerical|.

    analytic, numerical: arrays of one shape -> float (0 when they are equal).

    Raises ValueError when the shapes differ or ``numerical`` is all zeros (nothing to
    measure the difference against).
    """
    func = "relative_error"
    got = as_float_array(func, "analytic", analytic)
    want = as_float_array(func, "numerical", numerical)
    if got.shape != want.shape:
        raise ValueError(f"{func}: shapes differ: analytic {got.shape}, numerical {want.shape}")
    scale = float(np.abs(want).max()) if want.size else 0.0
    if scale == 0.0:
        raise ValueError(f"{func}: the numerical gradient is all zeros")
    return float(np.abs(got - want).max()) / scale


def gradient_errors(
    backward: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]],
    x: object,
    weight: object,
    bias: object,
    grad_out: object,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> tuple[float, float, float]:
    """A gradient check of a conv2d backward pass: its relative error for x, weight and bias.

    x: (N, C_in, H, W), weight: (C_out, C_in, kh, kw), bias: (C_out,), grad_out:
    (N, C_out, H_out, W_out) -> (input error, weight error, bias error), floats.

    backward: a function with the arguments of :func:`convkit.conv2d_backward`,
    ``backward(grad_out, x, weight, stride=..., padding=...) -> (grad_x, grad_weight,
    grad_bias)``. The loss is ``L = sum(grad_out * conv2d(x, weight, bias, stride,
    padding))``, whose gradient for the output is ``grad_out``; each error is the
    :func:`relative_error` of one of backward's gradients against the centred
    :func:`numerical_gradient` of L (eps 1e-6). The inputs are not changed.
    """
    func = "gradient_errors"
    x, weight, bias, grad_out = (
        np.array(as_float_array(func, name, value), dtype=np.float64)
        for name, value in (("x", x), ("weight", weight), ("bias", bias), ("grad_out", grad_out))
    )
    setting = {"stride": stride, "padding": padding}

    def loss() -> float:
        return float(np.sum(grad_out * conv2d(x, weight, bias, **setting)))

    analytic = backward(grad_out.copy(), x.copy(), weight.copy(), **setting)
    if not isinstance(analytic, tuple | list) or len(analytic) != 3:
        raise ValueError(f"{func}: backward must return (grad_x, grad_weight, grad_bias)")
    numerical = [numerical_gradient(loss, a) for a in (x, weight, bias)]
    ex, ew, eb = (relative_error(g, n) for g, n in zip(analytic, numerical, strict=True))
    return ex, ew, eb
