"""Inverted dropout (chapter 11): forward, as a cached forward/backward pair, and backward.

In training, every element is kept with probability ``1 - p`` and zeroed
otherwise, and the kept ones are divided by ``1 - p`` ("inverted" dropout), so
the expected value of every output equals its input and evaluation needs no
rescaling: in eval mode dropout is the identity.  The backward pass routes the
gradient through the same mask with the same scale.  Semantics of
``torch.nn.functional.dropout`` (its random numbers differ: the mask here comes
from a numpy Generator, so it is reproducible from the seed).
"""

from __future__ import annotations

import numpy as np

from convkit._checks import as_bool, as_float_array, as_generator, check_grad_out, fraction

__all__ = ["dropout", "dropout_backward", "dropout_forward_cached"]


def dropout(
    x: object, p: float = 0.5, training: bool = True, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Inverted dropout, as ``torch.nn.functional.dropout``.

    x: any shape -> like x.  ``p``: the probability of zeroing an element (0 <= p <= 1);
    ``rng``: the numpy Generator drawing the mask (needed in training with 0 < p).
    In eval mode (``training=False``) x comes back unchanged.
    """
    out, _ = dropout_forward_cached(x, p, training, rng)
    return out


def dropout_forward_cached(
    x: object, p: float = 0.5, training: bool = True, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`dropout` and the mask it used (for :func:`dropout_backward`).

    x: any shape -> (out like x, mask: bool like x, True where kept; None in eval mode
    or with p = 0, where nothing is dropped).
    """
    func = "dropout"
    x = as_float_array(func, "x", x)
    p = fraction(func, "p", p)
    if not as_bool(func, "training", training) or p == 0:
        return x, None
    if p == 1:
        return np.zeros_like(x), np.zeros(x.shape, dtype=bool)
    if rng is None:
        raise ValueError(f"{func}: training with p > 0 needs rng (np.random.default_rng(seed))")
    mask = as_generator(func, "rng", rng).random(x.shape) >= p
    return (x * mask / (1 - p)).astype(x.dtype, copy=False), mask


def dropout_backward(grad_out: object, mask: np.ndarray | None, p: float = 0.5) -> np.ndarray:
    """Gradient of ``sum(grad_out * dropout(x))`` with respect to x, for the ``mask`` the
    forward pass used (None: nothing was dropped, the gradient passes unchanged).

    grad_out: like x; mask: bool like x -> like grad_out.
    """
    func = "dropout_backward"
    g = as_float_array(func, "grad_out", grad_out)
    p = fraction(func, "p", p)
    if mask is None:
        return g
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"{func}: mask must be a bool array (dropout_forward_cached's), got "
                        f"{mask.dtype}")
    check_grad_out(func, g, mask.shape, "dropout")
    if p == 1:
        return np.zeros_like(g)
    return (g * mask / (1 - p)).astype(g.dtype, copy=False)

