"""numpy references captured before any student code runs, and checks that they are genuine.

A student can rebind ``np.allclose`` (or any module attribute) in their notebook;
they cannot change numpy's C types, ufunc objects or ndarray's C methods.  The
comparisons in :mod:`convkit.grading.compare` therefore use only

- ndarray arithmetic on arrays whose type is exactly ``numpy.ndarray``,
- ufuncs captured here (and re-verified: type ``numpy.ufunc``, expected name),
- ndarray's own C methods called through the captured type.

:func:`assert_numpy_intact` additionally checks that the numpy functions other
test cells may use (``np.allclose``, ``np.testing.assert_allclose``, ...) are
numpy's own, so a replaced one fails loudly instead of passing everything.
"""

from __future__ import annotations

import math
import os
import types

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import any, float, int, str, type  # noqa: UP029
from typing import Any

import numpy as np
import numpy.testing as _np_testing

from convkit.grading.errors import GradingFailure

NDARRAY: type = type(np.zeros(0))
DISPATCHER: type = type(np.allclose)  # numpy's C wrapper around array-API functions
UFUNC: type = type(np.add)
asarray = np.asarray
empty_like = np.empty_like
isfinite = np.isfinite
absolute = np.absolute
greater = np.greater
logical_or = np.logical_or
logical_and = np.logical_and
logical_not = np.logical_not
maximum = np.maximum
add = np.add
INT64 = np.int64
FLOAT64 = np.float64

_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__)) + os.sep
_UFUNCS = {
    "isfinite": isfinite,
    "absolute": absolute,
    "greater": greater,
    "logical_or": logical_or,
    "logical_and": logical_and,
    "logical_not": logical_not,
    "maximum": maximum,
    "add": add,
}
# numpy functions that test cells commonly use; each must still be numpy's own.
_WATCHED = (
    (np, "allclose"),
    (np, "isclose"),
    (np, "array_equal"),
    (np, "asarray"),
    (np, "array"),
    (np, "abs"),
    (np, "isfinite"),
    (np, "all"),
    (np, "any"),
    (np, "max"),
    (np, "shape"),
    (_np_testing, "assert_allclose"),
    (_np_testing, "assert_array_equal"),
    (_np_testing, "assert_array_almost_equal"),
    (_np_testing, "assert_equal"),
)
_CAPTURED = {(mod.__name__, name): getattr(mod, name) for mod, name in _WATCHED}
INTEGER_TYPES = (int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                 np.uint32, np.uint64)
FLOAT_TYPES = (float, np.float16, np.float32, np.float64)


def _genuine(obj: Any, name: str) -> bool:
    """True if ``obj`` is numpy's own function / ufunc / builtin called ``name``."""
    kind = type(obj)
    if kind is UFUNC:
        return obj.__name__ == name or (name == "abs" and obj.__name__ == "absolute")
    if kind is types.BuiltinFunctionType:
        owner = obj.__self__
        return (
            obj.__name__ == name
            and type(owner) is types.ModuleType
            and owner.__name__.startswith("numpy.")
        )
    if kind is DISPATCHER:
        obj = obj._implementation  # read-only C slot: the function it really calls
        kind = type(obj)
    if kind is types.FunctionType:
        code = obj.__code__
        return (
            code.co_name == name
            and code.co_filename.startswith(_NUMPY_DIR)
            and str(obj.__module__).startswith("numpy")
        )
    return False


def assert_numpy_intact() -> None:
    """Raise GradingFailure if numpy functions tests rely on were replaced.

    Checks ``np.allclose``, ``np.isclose``, ``np.testing.assert_allclose`` and
    friends, plus the ufuncs the comparisons use.
    """
    for mod, name in _WATCHED:
        current = mod.__dict__.get(name)
        if current is not _CAPTURED[(mod.__name__, name)] or not _genuine(current, name):
            raise GradingFailure(
                f"{mod.__name__}.{name} is no longer numpy's own function: something in this "
                "notebook replaced it. Remove that code, restart the kernel and run all cells."
            )
    for name, ufunc in _UFUNCS.items():
        if not _genuine(ufunc, name):
            raise GradingFailure(f"numpy's {name} has been tampered with; restart the kernel.")


def plain_array(value: Any, what: str) -> np.ndarray:
    """A fresh plain float64/int ndarray with the numbers in ``value``.

    Accepts exactly-typed ndarrays, ndarray subclasses (their raw buffer is read
    through ndarray's own C methods, so overridden ``__eq__``/``__array__`` etc.
    play no part), and lists/tuples of numbers.  Anything else (a torch tensor, a
    custom object) raises GradingFailure naming the type.
    """
    kind = type(value)
    if kind is NDARRAY:
        arr = NDARRAY.copy(value)
    elif issubclass(kind, NDARRAY):  # type.__subclasscheck__: the real MRO
        arr = NDARRAY.copy(NDARRAY.view(value, NDARRAY))
    elif kind is list or kind is tuple:
        try:
            arr = asarray(value)
        except Exception as exc:  # ragged lists and the like
            raise GradingFailure(
                f"{what} is a {kind.__name__} that cannot be read as an array of numbers "
                f"({type(exc).__name__}: {exc})"
            ) from None
        if type(arr) is not NDARRAY:
            raise GradingFailure(f"{what} could not be converted to a plain numpy array")
        arr = NDARRAY.copy(arr)
    else:
        module = getattr(kind, "__module__", "") or ""
        hint = ""
        if module.startswith("torch"):
            hint = " (a torch tensor: the exercise asks for a numpy array, e.g. np.zeros(...))"
        raise GradingFailure(
            f"{what} is a {module + '.' if module not in ('', 'builtins') else ''}"
            f"{kind.__name__}{hint}; expected a numpy array"
        )
    if arr.dtype.kind not in "fiu":
        raise GradingFailure(
            f"{what} has dtype {arr.dtype}; expected an array of real numbers (float)"
        )
    return arr


def plain_scalar(value: Any, what: str, integer: bool) -> int | float:
    """``value`` as a Python int (``integer``) or float; plain number types only."""
    kind = type(value)
    if kind is NDARRAY and value.ndim == 0:
        value = value[()]
        kind = type(value)
    if integer:
        if _is_one_of(kind, INTEGER_TYPES):
            return int(value)
        as_float = float(value) if _is_one_of(kind, FLOAT_TYPES) else None
        if as_float is not None and math.isfinite(as_float) and as_float.is_integer():
            raise GradingFailure(
                f"{what} is the float {float(value)!r}; a count should be an int "
                f"(e.g. int(...) or integer arithmetic)"
            )
        raise GradingFailure(f"{what} is {_short_type(value)}; expected an int")
    if _is_one_of(kind, FLOAT_TYPES) or _is_one_of(kind, INTEGER_TYPES):
        return float(value)
    raise GradingFailure(f"{what} is {_short_type(value)}; expected a float")


def _short_type(value: Any) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    prefix = "" if module in ("", "builtins") else module + "."
    return f"a {prefix}{kind.__name__}"


def _is_one_of(kind: type, choices: tuple[type, ...]) -> bool:
    """Identity test (``in`` would consult a metaclass's ``__eq__``)."""
    return any(kind is choice for choice in choices)


def capture_attributes(watched: tuple[tuple[object, str], ...]) -> dict[tuple[int, str], object]:
    """The objects ``owner.name`` holds now, for every ``(owner, name)`` of ``watched``
    (a module, class or object and an attribute name), keyed by ``(id(owner), name)``:
    captured when a grading module is imported, before any student code runs."""
    return {(id(owner), name): owner.__dict__.get(name, getattr(owner, name))
            for owner, name in watched}  # fmt: skip


def replaced_attribute(
    watched: tuple[tuple[object, str], ...], captured: dict[tuple[int, str], object]
) -> str | None:
    """``"owner.name"`` of the first watched attribute that no longer holds the object
    :func:`capture_attributes` captured (a notebook replaced it), or None."""
    for owner, name in watched:
        now = owner.__dict__.get(name, getattr(owner, name, None))
        if now is not captured[(id(owner), name)]:
            return f"{getattr(owner, '__name__', str(owner))}.{name}"
    return None
