"""Grading "predict, then measure" items: the student writes a number (or a shape)
before computing it, then computes it with their own code.

:func:`check_prediction` reads ``prediction`` and ``measured`` from the notebook's
namespace and grades both: the measurement must equal the value convkit's reference
gives (the hidden test computes it), and the prediction must agree with it within the
item's tolerance.  Each failure says which of the two failed; a prediction that equals
a known wrong value (``known``) is told what that value means ("it counts the bias").
Whether the measurement came from the student's own function is the hidden test's
business: it grades that function with :func:`check_function` first.

An item may name its variables otherwise (``names=("predicted_shape", "measured")``)
and may store a whole result as its measurement: ``measure`` then reads the graded
value out of it (``measure=np.shape``), so one result can grade several predictions.
"""

from __future__ import annotations

import math

# Bound at import (before any student code runs), like the rest of the grading package.
from builtins import abs, enumerate, float, isinstance, max, str, tuple, type  # noqa: UP029
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from convkit.grading import _trusted as T
from convkit.grading.errors import GradingFailure

Value = float | tuple[int, ...]


def _read(value: Any, name: str, shape: bool) -> Value:
    """A plain float, or a tuple of ints when the item asks for a shape."""
    if shape:
        vector = type(value) is T.NDARRAY and value.ndim == 1  # np.array(out.shape[-2:])
        if type(value) is not tuple and type(value) is not list and not vector:
            raise GradingFailure(
                f"`{name}` must be a shape, a tuple of ints such as (1, 8, 5, 5); "
                f"got {T._short_type(value)}"
            )
        return tuple(T.plain_scalar(v, f"entry {i} of `{name}`", integer=True)
                     for i, v in enumerate(value))
    number = T.plain_scalar(value, f"`{name}`", integer=False)
    if not math.isfinite(number):
        raise GradingFailure(f"`{name}` must be a finite number, got {number!r}")
    return number


def _agrees(value: Value, target: Value, rel: float, absolute: float) -> bool:
    if isinstance(target, tuple):
        return value == target
    return abs(value - target) <= max(absolute, rel * abs(target))


def _show(value: Value) -> str:
    if isinstance(value, tuple):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:  # a count, shown in full
        return str(int(value))
    return f"{value:.6g}"


def check_prediction(
    namespace: Mapping[str, Any],
    expected: float | Sequence[int],
    *,
    rel: float = 0.0,
    absolute: float = 0.0,
    what: str = "the value",
    known: Sequence[tuple[Any, str]] = (),
    hint: str = "",
    names: tuple[str, str] = ("prediction", "measured"),
    measure: Callable[[Any], Any] | None = None,
) -> None:
    """Grade a predict-then-measure item (silent when both parts pass).

    namespace: the notebook's globals(); ``prediction`` and ``measured`` (or ``names``)
    are read from it.
    expected: the true value, from convkit's reference: a number, or a shape (a sequence
    of ints, graded exactly).
    rel, absolute: how far the prediction may be from ``expected``
    (``|prediction - expected| <= max(absolute, rel * |expected|)``); 0 and 0: exactly.
    The measurement must agree to 1e-9 relative (it is computed, not estimated).
    what: what the number is, for the messages ("the ratio of the two weight counts").
    known: ``(wrong value, what it means)`` pairs: a prediction or measurement equal to
    one (within the same tolerance) is told its likely mistake.
    hint: what to reconsider when the prediction is off and matches no known mistake.
    names: the names of the prediction and of the measurement in ``namespace``.
    measure: reads the graded value out of the measurement, when the measurement is a
    whole result (``np.shape``, ``lambda out: out[1, 3, 0, 0]``); if it fails, the
    measurement is wrong.

    Raises GradingFailure naming the part that failed: not written, not a number,
    the measurement, or the prediction.
    """
    __tracebackhide__ = True
    shape = not isinstance(expected, (int, float)) and not T._is_one_of(
        type(expected), T.FLOAT_TYPES + T.INTEGER_TYPES)
    target: Value = (tuple(int(v) for v in expected) if shape else float(expected))
    p_name, m_name = names
    missing = [name for name in names if name not in namespace]
    if missing:
        raise GradingFailure(
            f"the predict-then-measure item is not done: set {' and '.join(missing)} "
            "in its answer cells (the prediction first, before you compute) and run them."
        )
    prediction = _read(namespace[p_name], p_name, shape)
    raw = namespace[m_name]
    if measure is not None:
        try:
            raw = measure(raw)
        except Exception as exc:  # whatever the student stored, it is not the result
            raise GradingFailure(
                f"the measurement is wrong: {what} cannot be read from {m_name} "
                f"({T._short_type(namespace[m_name])}: {type(exc).__name__}). "
                "Compute it with your own functions, as the task says."
            ) from None
    measured = _read(raw, m_name, shape)
    shown = (f"{m_name} = {_show(measured)}" if measure is None
             else f"{_show(measured)}, read from {m_name},")

    def meaning(value: Value, rel_tol: float, abs_tol: float) -> str:
        for wrong, why in known:
            wrong_value = tuple(wrong) if shape else float(wrong)
            if _agrees(value, wrong_value, rel_tol, abs_tol):
                return why
        return ""

    if not _agrees(measured, target, 1e-9, 1e-12):
        why = meaning(measured, 1e-9, 1e-12)
        raise GradingFailure(
            f"the measurement is wrong: {shown} is not {what}"
            + (f" ({why})" if why else "")
            + ". Compute it with your own functions, as the task says."
        )
    if not _agrees(prediction, target, rel, absolute):
        why = meaning(prediction, rel, absolute) or hint
        tolerance = ("exactly" if rel == 0 and absolute == 0
                     else f"within {rel:.0%}" if rel else f"within {absolute:g}")
        yours = "your prediction" if p_name == "prediction" else f"your {p_name}"
        raise GradingFailure(
            f"your measurement is right ({_show(target).strip('()')}), but {yours} "
            f"{_show(prediction)} does not agree with it {tolerance}"
            + (f": {why}" if why else "") + "."
        )
