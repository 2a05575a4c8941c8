"""Gradient checking (chapter 7): the numerical gradient of a scalar by centred differences.

A backward pass written by hand is checked against the definition of the derivative:
nudge one entry of an array up and down by ``eps``, look at how the loss changes, and
divide. :func:`numerical_gradient` does that for every entry of a float64 array in
place (each entry is put back afterwards), so the loss can be any function that reads
the array, such as ``lambda: float(np.sum(g * conv2d(x, w, b)))``. The error of a
centred difference is of order ``eps ** 2`` plus rounding over ``eps``: with the
default ``eps = 1e-6`` a correct gradient agrees to about 1e-8 or better.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from convkit._checks import positive_float

__all__ = ["numerical_gradient"]


def numerical_gradient(f: Callable[[], float], a: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """dF/da by centred differences, one entry of ``a`` at a time.

    f: () -> float, a loss that reads ``a``; a: float64 array of any shape, changed in
    place while it runs and restored entry by entry -> gradient of the same shape as
    ``a``: ``(f(a + eps e_i) - f(a - eps e_i)) / (2 eps)`` for every entry i.
    """
    func = "numerical_gradient"
    if not isinstance(a, np.ndarray) or a.dtype != np.float64:
        kind = f"a {a.dtype} array" if isinstance(a, np.ndarray) else type(a).__name__
        raise TypeError(f"{func}: a must be a float64 numpy array (nudged in place), got {kind}")
    if not a.flags.writeable:
        raise ValueError(f"{func}: a must be writeable (it is nudged in place)")
    eps = positive_float(func, "eps", eps)
    grad = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        keep = a[idx]
        try:
            a[idx] = keep + eps
            up = float(f())
            a[idx] = keep - eps
            down = float(f())
        finally:
            a[idx] = keep
        grad[idx] = (up - down) / (2 * eps)
    return grad
