"""``check_function``: a student's function against its reference, case by case.

The first wrong case raises :class:`GradingFailure` with a message written for
the student, e.g.::

    conv2d(x of shape (2, 3, 5, 5), weight of shape (4, 3, 3, 3), stride=2,
    padding=1): expected shape (2, 4, 3, 3), got (2, 4, 2, 2)

    conv2d(x of shape (1, 1, 4, 4), weight of shape (2, 1, 2, 2)): values differ at
    index (0, 1, 2, 0): expected 3.25, got 3.0 (max abs difference 0.25 over 7 of
    72 entries)

When the wrong result equals what a known mistake computes (see
:mod:`convkit.grading.mistakes`), a sentence naming it follows the difference::

    conv2d(x of shape (1, 2, 4, 4), weight of shape (3, 2, 2, 2), bias=[0.5, -1.0, 2.0]):
    values differ at index (0, 0, 0, 0): expected 3.125, got 2.625 (max abs difference
    2.0 over 27 of 27 entries) — your result equals conv2d without the bias: add bias[o]
    to every entry of output channel o.

The reference runs first, outside the guard, on its own copy of the inputs; the
student's function runs under :func:`no_shortcuts` on another copy, and its result
is turned into a plain ndarray inside the guard (so an ``__array__`` hook cannot
run off-limits code after the guard is gone).  All comparisons use the trusted
numpy references of :mod:`convkit.grading._trusted`.  The known mistakes are
computed after a case has failed, outside the guard, from a pristine copy of the
case's arguments with convkit's own operations; they only add words to the
message (a mistake that cannot be computed is left out), never change the grade.
"""

from __future__ import annotations

import inspect
import os

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import (  # noqa: UP029
    Exception,
    callable,
    float,
    getattr,
    int,
    isinstance,
    len,
    str,
    type,
)
from collections.abc import Callable, Iterable
from copy import deepcopy
from types import FunctionType
from typing import Any

import numpy as np

from convkit.grading import _trusted as T
from convkit.grading.errors import GradingFailure, ShortcutError
from convkit.grading.guard import no_shortcuts
from convkit.grading.mistakes import named_mistake

_GRADING_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_CONVKIT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
SHOW_VALUES_UP_TO = 9  # arrays with at most this many entries are written out in messages


def _format_number(value: float) -> str:
    """A short, exact-enough rendering of one number (3.0, 0.25, 1.2346e-07)."""
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    text = f"{value:.6g}"
    if "e" not in text and "." not in text:
        text += ".0"
    return text


def _nested(values: Any) -> str:
    """[[0.0, 1.5], [2.0, 3.0]] on one line, numbers kept short."""
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    return _format_number(values)


def _describe_value(name: str | None, value: Any) -> str:
    """``x of shape (2, 3)``, ``x=[1.0, 2.0]``, ``stride=2``, ``op=relu``."""
    prefix = f"{name}=" if name else ""
    if type(value) is T.NDARRAY:
        if value.size <= SHOW_VALUES_UP_TO and value.ndim <= 2:
            return prefix + _nested(value.tolist())
        return f"{name or 'array'} of shape {tuple(value.shape)}"
    if callable(value) and not isinstance(value, type):
        return prefix + getattr(value, "__name__", type(value).__name__)
    return prefix + repr(value)


def describe_call(name: str, params: list[str], args: tuple, kwargs: dict) -> str:
    """The call in the student's language: ``conv2d(x of shape (...), weight ..., stride=2)``."""
    parts = []
    for i, value in enumerate(args):
        parts.append(_describe_value(params[i] if i < len(params) else None, value))
    parts.extend(_describe_value(key, value) for key, value in kwargs.items())
    return f"{name}({', '.join(parts)})"


def _param_names(fn: Callable) -> list[str]:
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return []


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for size in reversed(shape):
        out.append(flat % size)
        flat //= size
    return tuple(reversed(out))


def compare_arrays(expected: np.ndarray, got: np.ndarray, rtol: float, atol: float) -> str | None:
    """None if ``got`` matches ``expected``; otherwise what differs (shape, NaN, values).

    expected, got: any shape -> str | None.

    Both must be plain ndarrays (see :func:`_trusted.plain_array`). Entries match when
    ``|got - expected| <= atol + rtol * |expected|`` (compared as float64).
    """
    if tuple(got.shape) != tuple(expected.shape):
        return f"expected shape {tuple(expected.shape)}, got {tuple(got.shape)}"
    if expected.size == 0:
        return None
    exp = NDARRAY_astype(expected)
    val = NDARRAY_astype(got)
    finite = T.isfinite(val)
    bad_finite = T.logical_not(finite)
    if T.logical_or.reduce(bad_finite.reshape(-1)):
        where = _index(int(bad_finite.reshape(-1).nonzero()[0][0]), tuple(val.shape))
        return (
            f"got {_format_number(val[where])} at index {where} "
            f"(expected {_format_number(exp[where])})"
        )
    diff = T.absolute(val - exp)
    bad = T.greater(diff, atol + rtol * T.absolute(exp))
    flat_bad = bad.reshape(-1)
    if not T.logical_or.reduce(flat_bad):
        return None
    first = _index(int(flat_bad.nonzero()[0][0]), tuple(val.shape))
    count = int(T.add.reduce(flat_bad.astype(T.INT64)))
    worst = float(T.maximum.reduce(diff.reshape(-1)))
    where = f" at index {first}" if val.ndim else ""
    return (
        f"values differ{where}: expected {_format_number(exp[first])}, got "
        f"{_format_number(val[first])} (max abs difference {_format_number(worst)} over "
        f"{count} of {val.size} entries)"
    )


def NDARRAY_astype(arr: np.ndarray) -> np.ndarray:
    """float64 copy through ndarray's own C method.

    arr: any shape -> the same shape, float64.
    """
    return T.NDARRAY.astype(arr, T.FLOAT64)


def to_plain(value: Any, reference: Any, what: str) -> Any:
    """The student's ``value`` in the same plain form as the reference's output."""
    if isinstance(reference, tuple):
        if type(value) not in (tuple, list) or len(value) != len(reference):
            raise GradingFailure(
                f"{what} should be a tuple of {len(reference)} results, got "
                f"{T._short_type(value)}"
                + (f" of length {len(value)}" if type(value) in (tuple, list) else "")
            )
        pairs = enumerate(zip(value, reference, strict=True))
        return tuple(to_plain(v, r, f"{what}[{i}]") for i, (v, r) in pairs)
    if isinstance(reference, bool):
        if type(value) is not bool and type(value) is not np.bool_:
            raise GradingFailure(f"{what} is {T._short_type(value)}; expected True or False")
        return bool(value)
    if isinstance(reference, int | np.integer):
        return T.plain_scalar(value, what, integer=True)
    if isinstance(reference, float | np.floating):
        return T.plain_scalar(value, what, integer=False)
    return T.plain_array(value, what)


def compare_values(expected: Any, got: Any, rtol: float, atol: float, what: str) -> str | None:
    """What differs between the student's ``got`` and the reference's ``expected`` (a
    number, an array, or a tuple of them, already in :func:`to_plain` form), in words;
    None when they agree within ``rtol`` / ``atol``."""
    if isinstance(expected, tuple):
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            problem = compare_values(e, g, rtol, atol, f"{what}[{i}]")
            if problem:
                return f"in {what}[{i}] (item {i + 1} of {len(expected)}): {problem}"
        return None
    if isinstance(expected, bool):
        return None if expected == got else f"expected {expected}, got {got}"
    if isinstance(expected, int | np.integer):
        return None if int(expected) == got else f"expected {int(expected):,}, got {got:,}"
    if isinstance(expected, float | np.floating):
        exp = float(expected)
        if got != got:
            return f"expected {_format_number(exp)}, got nan"
        if abs(got - exp) <= atol + rtol * abs(exp):
            return None
        return (
            f"expected {_format_number(exp)}, got {_format_number(got)} "
            f"(difference {_format_number(abs(got - exp))})"
        )
    return compare_arrays(T.plain_array(expected, "the reference"), got, rtol, atol)


def same_inputs(before: Any, after: Any) -> bool:
    """True if the student's copy of an argument still equals the pristine copy."""
    if type(before) is T.NDARRAY:
        if type(after) is not T.NDARRAY or after.shape != before.shape:
            return False
        return not T.logical_or.reduce(
            T.logical_not(T.logical_or(
                T.NDARRAY.__eq__(before, after), T.logical_not(T.isfinite(before))
            )).reshape(-1)
        ) if before.size else True
    return True


def _safe_text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a student exception whose __str__ fails
        return "(no message)"


def require_callable(obj: Any, name: str, kind: str = "a function") -> None:
    """Fail with a student-facing message unless ``obj`` (the student's ``name``) can be called."""
    if not callable(obj):
        raise GradingFailure(
            f"{name} is {T._short_type(obj)}, not {kind}: run the cell that "
            f"defines {name} (and do not reuse the name for something else)."
        )


class student_call:
    """``with student_call(name, call):`` around the student's code: whatever it raises
    becomes a grading message that starts with the call (``call`` as
    :func:`describe_call` writes it). A shortcut stays a :class:`ShortcutError`, an
    unwritten exercise says so, any other exception is named with its message.

    A plain class rather than ``contextlib.contextmanager``: nothing the notebook can
    rebind in another module sits between the student's error and the grade.
    """

    def __init__(self, name: str, call: str) -> None:
        self.name, self.call = name, call

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: object) -> bool:
        __tracebackhide__ = True
        call = self.call
        if exc is None or not isinstance(exc, Exception):
            return False  # no error, or KeyboardInterrupt / SystemExit: let it through
        if isinstance(exc, ShortcutError):
            raise ShortcutError(f"{call}: not accepted: {exc}") from None
        if isinstance(exc, GradingFailure):
            raise GradingFailure(f"{call}: {exc}") from None
        if isinstance(exc, NotImplementedError):
            raise GradingFailure(
                f"{self.name} is not written yet: {call} raised NotImplementedError. "
                "Replace the `raise NotImplementedError()` line with your code."
            ) from None
        raise GradingFailure(f"{call} raised {type(exc).__name__}: {_safe_text(exc)}") from exc


def check_function(
    student_fn: Any,
    reference_fn: Callable,
    cases: Iterable[tuple[tuple, dict]],
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    name: str | None = None,
    allow: Iterable[object] = (),
    deny: Iterable[object] = (),
) -> None:
    """Check ``student_fn`` against ``reference_fn`` on every case (silent when all pass).

    Returns None on purpose: nbgrader reads a number displayed by a test cell as
    partial credit, so a test cell ending in this call must not display one.

    student_fn: the student's function (anything; a non-callable fails clearly).
    reference_fn: convkit's reference with the same signature.
    cases: ``(args, kwargs)`` pairs, e.g. from :func:`random_cases`.
    rtol, atol: tolerance ``|got - expected| <= atol + rtol * |expected|``.
    name: the name used in messages (default: the reference's ``__name__``).
    allow: extra functions the student's code may call (see :func:`no_shortcuts`).
    deny: extra functions (or torch operator names) it may not call, for an exercise
    whose whole point is one of them (see :func:`no_shortcuts`).

    Raises GradingFailure on the first case whose result is missing, of the wrong
    type/shape/value, whose inputs were modified in place, or that raised; raises
    ShortcutError when the student's function called something off limits.
    """
    __tracebackhide__ = True  # IPython: show the student's cell, not the grader's frames
    T.assert_numpy_intact()
    name = name or getattr(reference_fn, "__name__", "function")
    require_callable(student_fn, name)
    check_reference(reference_fn, name)
    params = _param_names(reference_fn)
    checked = 0
    for args, kwargs in cases:
        checked += 1
        call = describe_call(name, params, args, kwargs)
        expected = reference_fn(*deepcopy(args), **deepcopy(kwargs))
        pristine = deepcopy((args, kwargs))
        student_args, student_kwargs = deepcopy((args, kwargs))
        with student_call(name, call), no_shortcuts(allow=allow, deny=deny):
            got = student_fn(*student_args, **student_kwargs)
            got = to_plain(got, expected, f"the result of {name}")
        problem = compare_values(expected, got, rtol, atol, "result")
        if problem:
            note = mistake_note(reference_fn, pristine, got, expected, rtol, atol)
            raise GradingFailure(f"{call}: {problem}{note}")
        label = changed_input(params, pristine, (student_args, student_kwargs))
        if label is not None:
            raise GradingFailure(
                f"{call}: your function changed its input {label} in place; "
                "work on a copy (e.g. x = x.copy()) or build a new array."
            )
    require_cases(checked, name)


def changed_input(
    params: list[str], pristine: tuple, used: tuple, may_change: tuple[str, ...] = ()
) -> str | None:
    """The name of the first argument the student's call changed in place (arguments in
    ``may_change`` excepted), or None; ``pristine`` and ``used`` as in :func:`named_args`."""
    for label, before, after in named_args(params, pristine, used):
        if label not in may_change and not same_inputs(before, after):
            return label
    return None


def require_cases(checked: int, name: str) -> None:
    """Fail when a check ran no case at all (a bug in the hidden test, never a pass)."""
    if checked == 0:
        raise GradingFailure(f"no test cases were given for {name} (a bug in the test)")


def mistake_note(reference_fn: Callable, pristine: tuple, got: Any, expected: Any,
                  rtol: float, atol: float) -> str:
    """`` — your result equals <a known mistake>: <what to change>.``, or "" when no
    known mistake matches. Never raises: the message and the grade stay as they were
    if naming the mistake fails."""
    try:
        args, kwargs = deepcopy(pristine)
        sentence = named_mistake(reference_fn, args, kwargs, got, rtol, atol, expected)
    except Exception:
        return ""
    return f" — {sentence}" if type(sentence) is str and sentence else ""


def check_reference(reference_fn: Any, name: str) -> None:
    """Fail if the reference (a function, or a class judged by its ``__init__``) is not
    convkit's own code (e.g. the notebook rebound ``convkit.conv2d`` to the student's
    function, which would then agree with itself)."""
    target = reference_fn.__init__ if isinstance(reference_fn, type) else reference_fn
    code = target.__code__ if type(target) is FunctionType else None
    filename = code.co_filename if code is not None else ""
    if not filename.startswith(_CONVKIT_DIR) or filename.startswith(_GRADING_DIR):
        raise GradingFailure(
            f"the reference for {name} is {T._short_type(reference_fn)} from "
            f"{filename or 'outside convkit'}, not convkit's own function: something in this "
            "notebook replaced it. Remove that code, restart the kernel and run all cells."
        )


def named_args(params: list[str], pristine: tuple, used: tuple) -> Iterable[tuple[str, Any, Any]]:
    """(name, pristine value, value after the student's call) for every argument of a
    call: ``pristine`` and ``used`` are ``(args, kwargs)`` pairs, ``params`` the names of
    the positional ones."""
    (args0, kwargs0), (args1, kwargs1) = pristine, used
    for i, (a, b) in enumerate(zip(args0, args1, strict=True)):
        yield (params[i] if i < len(params) else f"#{i + 1}"), a, b
    for key in kwargs0:
        yield key, kwargs0[key], kwargs1.get(key)
