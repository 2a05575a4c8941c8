"""What the catalogue modules share: the records of a mistake and of a graded operation,
the comparison a mistake's result must pass, and small helpers for the case's arguments.

Everything here is bound when the package is imported (before any student code runs):
the builtins, :mod:`convkit.grading._trusted`'s numpy types and ufuncs, and
``convkit.pad2d``. A helper raises :class:`_Skip` when a mistake does not apply to the
case (an argument of the wrong kind, a window that does not fit).
"""

from __future__ import annotations

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import (  # noqa: UP029
    Ellipsis,
    Exception,
    abs,
    any,
    bool,
    dict,
    float,
    int,
    isinstance,
    slice,
    str,
    tuple,
    type,
    zip,
)
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import convkit
from convkit._checks import int_tuple
from convkit.grading import _trusted as T

# the reference, as imported (checked by matching._build with the others)
_pad2d = convkit.pad2d

Args = dict[str, Any]  # the reference's arguments by name, defaults filled in


class Mistake(NamedTuple):
    """One known mistake of an operation.

    ``label`` completes "your result equals ..." (e.g. "conv2d without the bias");
    ``hint`` says what to change. ``result_fn(args, expected)`` computes what the
    mistaken version returns for the named arguments ``args`` (``expected`` is the
    right result), or None where the mistake does not apply; for a tuple result it
    returns a tuple with None for the items the mistake leaves alone. A mistake
    described by how the result relates to the right one (one row too many) has a
    ``match_fn(args, expected, got, rtol, atol)`` instead, returning the label to
    use for this result or None. A ``fallback`` mistake (a size off by one) is named
    only when no other mistake matches.
    """

    label: str
    hint: str
    result_fn: Callable[[Args, Any], Any] | None = None
    match_fn: Callable[[Args, Any, Any, float, float], str | None] | None = None
    fallback: bool = False


class Operation(NamedTuple):
    """A graded reference operation: its parameters, its result's item names, its mistakes."""

    fn: Callable
    params: tuple[str, ...]
    defaults: dict[str, Any]
    mistakes: tuple[Mistake, ...]
    items: tuple[str, ...] = ()  # names of a tuple result's items, e.g. ("grad_x", ...)


class _Skip(Exception):
    """The mistake cannot be computed for this case (it does not apply)."""


# -- comparisons (trusted numpy only, as in compare.py) ---------------------------
def _same(want: Any, got: Any, rtol: float, atol: float) -> bool:
    """True if ``got`` equals ``want`` as check_function compares them
    (``|got - want| <= atol + rtol * |want|``, same shape, all finite)."""
    if type(want) is T.NDARRAY:
        if type(got) is not T.NDARRAY or tuple(got.shape) != tuple(want.shape):
            return False
        if want.size == 0:
            return True
        w = T.NDARRAY.astype(want, T.FLOAT64)
        g = T.NDARRAY.astype(got, T.FLOAT64)
        finite = T.logical_and(T.isfinite(w), T.isfinite(g)).reshape(-1)
        if not T.logical_and.reduce(finite):
            return False
        bad = T.greater(T.absolute(g - w), atol + rtol * T.absolute(w)).reshape(-1)
        return not T.logical_or.reduce(bad)
    if isinstance(want, bool):
        return type(got) is bool and got == want
    if isinstance(want, int | np.integer):
        return type(got) is int and got == int(want)
    if isinstance(want, float | np.floating):
        return isinstance(got, float) and abs(got - float(want)) <= atol + rtol * abs(float(want))
    return False


def _array(value: Any) -> np.ndarray:
    if type(value) is not T.NDARRAY:
        raise _Skip
    return value


def _flip(weight: Any, axes: int) -> np.ndarray:
    """``weight`` reversed along its last ``axes`` axes (a kernel rotated by 180° in 2-D)."""
    return _array(weight)[(Ellipsis, *(slice(None, None, -1),) * axes)]


def _swap_hw(value: Any) -> np.ndarray:
    return _array(value).swapaxes(-1, -2)


def _first_windows(result: np.ndarray, expected: Any, axes: int) -> np.ndarray:
    """The leading corner of ``result`` with ``expected``'s last ``axes`` sizes."""
    sizes = _array(expected).shape[-axes:]
    if any(r < e for r, e in zip(result.shape[-axes:], sizes, strict=True)):
        raise _Skip
    return result[(Ellipsis, *(slice(0, e) for e in sizes))]


def _ints(name: str, value: Any, n: int, minimum: int = 0) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints as a tuple (anything else: not applicable)."""
    try:
        return int_tuple("mistakes", name, value, n, minimum=minimum)
    except (TypeError, ValueError):
        raise _Skip from None


def _swapped_pair(name: str, value: Any) -> tuple[int, int]:
    a, b = _ints(name, value, 2)
    return (b, a)
