"""Padding the two spatial (last) axes of an array, as convolution and pooling need."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from convkit._checks import int_tuple

__all__ = ["pad2d"]


def pad2d(x: object, padding: int | Sequence[int], value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of ``x`` with ``value``; returns a new array of the same dtype.

    x: (..., H, W) with ndim >= 2 -> (..., top + H + bottom, left + W + right).

    ``padding`` is an int p (all four sides), a pair (ph, pw) (top = bottom = ph,
    left = right = pw) or a 4-tuple (left, right, top, bottom), the order of
    ``torch.nn.functional.pad``. Padding amounts must be non-negative.
    """
    arr = np.asarray(x)
    if arr.ndim < 2:
        raise ValueError(
            f"pad2d: x must have at least 2 dimensions (..., H, W), got shape {arr.shape}"
        )
    is_sequence = isinstance(padding, Sequence | np.ndarray) and not isinstance(padding, str)
    if is_sequence and len(padding) not in (2, 4):
        raise ValueError(
            "pad2d: padding must be an int, a pair (ph, pw) or a 4-tuple "
            f"(left, right, top, bottom), got {padding!r}"
        )
    n = 4 if is_sequence and len(padding) == 4 else 2
    pads = int_tuple("pad2d", "padding", padding, n, minimum=0)
    left, right, top, bottom = pads if n == 4 else (pads[1], pads[1], pads[0], pads[0])
    if arr.dtype.kind in "iub" and not (np.isfinite(value) and float(value).is_integer()):
        raise ValueError(f"pad2d: cannot pad an array of dtype {arr.dtype} with value {value!r}")
    return pad_hw(arr, top, bottom, left, right, value, copy=True)


def pad_hw(
    x: np.ndarray,
    top: int,
    bottom: int,
    left: int,
    right: int,
    value: float = 0.0,
    *,
    copy: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Pad the last two axes by validated amounts (internal).

    x: (..., H, W) -> (..., top + H + bottom, left + W + right), same dtype. Returns
    ``x`` itself when there is nothing to pad (unless ``copy`` or ``out``); writes into
    ``out`` (of the padded shape) when given.
    """
    if out is None and not copy and top == bottom == left == right == 0:
        return x
    *lead, h, w = x.shape
    if out is None:
        out = np.full((*lead, top + h + bottom, left + w + right), value, dtype=x.dtype)
    else:  # fill only the border, then the inside
        out[..., :top, :] = value
        out[..., top + h :, :] = value
        out[..., top : top + h, :left] = value
        out[..., top : top + h, left + w :] = value
    out[..., top : top + h, left : left + w] = x
    return out
