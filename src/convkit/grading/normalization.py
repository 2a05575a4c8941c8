"""Grading of ch10's batch norm: its output, the running statistics it updates in place,
and its backward pass checked against centred differences.

- :func:`check_batch_norm` runs the student's ``batch_norm`` on each case beside
  convkit's (each on its own copy of the arguments) and checks one part:
  ``"outputs"``, the returned array (x, weight and bias left unchanged), or
  ``"running"``, what became of ``running_mean`` and ``running_var``: moved in place
  towards the batch's statistics in training mode, untouched in eval mode. The two
  parts are graded apart, so a right normalisation with a wrong running update keeps
  the output's points. :func:`check_function` cannot grade batch norm, since it fails
  any function that changes an argument in place.
- :func:`check_batch_norm_gradients` compares the student's ``batch_norm_backward``
  with the gradients of ``sum(grad_out * batch_norm(x, ...))`` that centred differences
  of convkit's forward pass give: a check that does not trust any backward pass.

Failures name the likely mistake (:mod:`convkit.grading.mistakes.normalization`), e.g.
"running_var looks like the biased variance: torch updates it with the unbiased one".
The student's code runs under :func:`convkit.grading.no_shortcuts`, whose standing rules
refuse torch's normalisation and convkit's references.
"""

from __future__ import annotations

import inspect

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import (  # noqa: UP029
    Exception,
    enumerate,
    float,
    getattr,
    isinstance,
    len,
    max,
    tuple,
    zip,
)
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

import numpy as np

import convkit
from convkit.grading import _trusted as T
from convkit.grading.compare import (
    changed_input,
    check_reference,
    compare_arrays,
    compare_values,
    describe_call,
    mistake_note,
    require_callable,
    require_cases,
    student_call,
    to_plain,
)
from convkit.grading.errors import GradingFailure
from convkit.grading.guard import no_shortcuts
from convkit.grading.mistakes import running_statistics_mistake

__all__ = ["PARTS", "check_batch_norm", "check_batch_norm_gradients"]

PARTS = ("outputs", "running")
RUNNING = ("running_mean", "running_var")
# batch_norm_backward as imported (before any student code runs): the failure message of
# the gradient check names the student's mistake by comparing with it
_BACKWARD = convkit.batch_norm_backward
# its arguments (the numbers of the gradient check come from the forward pass alone)
_BACKWARD_SIGNATURE = inspect.signature(convkit.batch_norm_backward)


def _bind(fn: Callable | inspect.Signature, args: tuple, kwargs: dict) -> dict[str, Any]:
    """``fn``'s arguments by name, defaults filled in (the objects themselves, not copies)."""
    signature = fn if isinstance(fn, inspect.Signature) else inspect.signature(fn)
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _argument(params: list[str], args: tuple, kwargs: dict, key: str) -> Any:
    """The argument ``key`` as passed positionally or by keyword (None when left out)."""
    if key in kwargs:
        return kwargs[key]
    index = params.index(key)
    return args[index] if index < len(args) else None


def check_batch_norm(
    student_fn: Any,
    reference_fn: Callable,
    cases: Iterable[tuple[tuple, dict]],
    *,
    part: str = "outputs",
    rtol: float = 1e-5,
    atol: float = 1e-6,
    name: str | None = None,
) -> None:
    """Check the student's ``batch_norm`` against ``reference_fn`` (``convkit.batch_norm``).

    x: (N, C, ...), running_mean, running_var, weight, bias: (C,) or None -> like x.

    ``part="outputs"``: the returned array must match, and x, weight and bias must be
    left unchanged. ``part="running"``: after the call, running_mean and running_var
    (when given) must hold what the reference leaves in its own copies: moved in place
    with ``(1 - momentum) * old + momentum * batch`` (the batch's variance unbiased) in
    training mode, unchanged in eval mode; the returned value is not looked at.

    Silent when every case passes (returns None, so an nbgrader cell shows no number);
    raises GradingFailure for the first case that fails, naming a known mistake when
    the wrong result equals one, and ShortcutError when the student's code called
    something off limits. ValueError for an unknown ``part``.
    """
    __tracebackhide__ = True
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    T.assert_numpy_intact()
    name = name or getattr(reference_fn, "__name__", "batch_norm")
    require_callable(student_fn, name)
    check_reference(reference_fn, name)
    params = list(inspect.signature(reference_fn).parameters)
    checked = 0
    for args, kwargs in cases:
        checked += 1
        call = describe_call(name, params, args, kwargs)
        reference_args, reference_kwargs = deepcopy((args, kwargs))
        expected = reference_fn(*reference_args, **reference_kwargs)
        pristine = deepcopy((args, kwargs))
        student_args, student_kwargs = deepcopy((args, kwargs))
        with student_call(name, call), no_shortcuts():
            got = student_fn(*student_args, **student_kwargs)
            if part == "outputs":
                got = to_plain(got, expected, f"the result of {name}")
        if part == "outputs":
            _check_output(
                reference_fn,
                call,
                params,
                pristine,
                (student_args, student_kwargs),
                expected,
                got,
                rtol,
                atol,
            )
            continue
        before = tuple(_argument(params, *pristine, key) for key in RUNNING)
        after = tuple(_argument(params, student_args, student_kwargs, key) for key in RUNNING)
        wanted = tuple(_argument(params, reference_args, reference_kwargs, key) for key in RUNNING)
        for key, want, have in zip(RUNNING, wanted, after, strict=True):
            if want is None:
                continue
            problem = compare_arrays(want, T.plain_array(have, key), rtol, atol)
            if problem:
                named = _bind(reference_fn, *deepcopy(pristine))
                words = running_statistics_mistake(named, before, after, rtol, atol)
                raise GradingFailure(
                    f"{call}: {key} after the call: {problem}" + (f" — {words}" if words else "")
                )
    require_cases(checked, name)


def _check_output(
    reference_fn: Callable,
    call: str,
    params: list[str],
    pristine: tuple,
    used: tuple,
    expected: Any,
    got: Any,
    rtol: float,
    atol: float,
) -> None:
    """Fail unless the student's output matches and x, weight and bias are unchanged."""
    __tracebackhide__ = True
    problem = compare_values(expected, got, rtol, atol, "result")
    if problem:
        # the mistakes are computed with numpy from a copy: nothing is updated in place
        note = mistake_note(reference_fn, pristine, got, expected, rtol, atol)
        raise GradingFailure(f"{call}: {problem}{note}")
    label = changed_input(params, pristine, used, may_change=RUNNING)
    if label is not None:
        raise GradingFailure(
            f"{call}: your function changed its input {label} in place; only "
            "running_mean and running_var may change (in training mode)."
        )


# --------------------------------------------------------------------------- gradients


def _backward_note(pristine: tuple, got: Any, rtol: float, atol: float) -> str:
    """`` — your grad_x equals <a known mistake>: ...`` or "" (never raises)."""
    try:
        args, kwargs = deepcopy(pristine)
        right = _BACKWARD(*args, **kwargs)
    except Exception:
        return ""
    return mistake_note(_BACKWARD, pristine, got, right, rtol, atol)


def _centred(loss: Callable[[], float], array: np.ndarray, step: float) -> np.ndarray:
    """d loss / d array by centred differences; ``loss`` reads ``array`` in place."""
    grad = np.zeros(array.shape)
    for index in np.ndindex(array.shape):
        keep = array[index]
        array[index] = keep + step
        up = loss()
        array[index] = keep - step
        down = loss()
        array[index] = keep
        grad[index] = (up - down) / (2 * step)
    return grad


def _numerical_gradients(
    forward_fn: Callable, named: dict[str, Any], step: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gradients of ``sum(grad_out * forward(x, ..., weight, bias=0))`` for x, the
    weight (ones when None) and a zero bias, by centred differences."""
    x = np.array(named["x"], dtype=np.float64)
    g = np.array(named["grad_out"], dtype=np.float64)
    channels = x.shape[1]
    weight = (
        np.ones(channels)
        if named["weight"] is None
        else np.array(named["weight"], dtype=np.float64)
    )
    bias = np.zeros(channels)
    training = bool(named["training"])
    mean = None if training else np.array(named["running_mean"], dtype=np.float64)
    var = None if training else np.array(named["running_var"], dtype=np.float64)
    eps = float(named["eps"])

    def loss() -> float:
        out = forward_fn(x, mean, var, weight, bias, training, 0.1, eps)
        return float(np.sum(g * out))

    return tuple(_centred(loss, array, step) for array in (x, weight, bias))


def check_batch_norm_gradients(
    student_fn: Any,
    forward_fn: Callable,
    cases: Iterable[tuple[tuple, dict]],
    *,
    step: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    name: str = "batch_norm_backward",
) -> None:
    """Check the student's ``batch_norm_backward`` against centred differences.

    grad_out, x: (N, C, ...); running_mean, running_var, weight: (C,) or None ->
    (grad_x like x, grad_weight (C,), grad_bias (C,)).

    For each case (the arguments of ``convkit.batch_norm_backward``) the loss
    ``L = sum(grad_out * forward_fn(x, running_mean, running_var, weight, bias, training,
    eps=eps))`` is differentiated numerically, with step ``step``, for x, the weight
    (ones when None) and a zero bias; ``forward_fn`` is convkit's ``batch_norm`` (in
    training mode it gets no running statistics, so nothing is updated). The student's
    three gradients must match within ``atol + rtol * |numerical|``, ``atol`` scaled by
    the largest numerical gradient. Keep the cases small: every entry costs two forward
    passes. Raises GradingFailure for the first case that fails (naming a known mistake
    when the wrong gradient equals one), ShortcutError for a call off limits.
    """
    __tracebackhide__ = True
    T.assert_numpy_intact()
    require_callable(student_fn, name)
    check_reference(forward_fn, name)
    params = list(_BACKWARD_SIGNATURE.parameters)
    checked = 0
    for args, kwargs in cases:
        checked += 1
        call = describe_call(name, params, args, kwargs)
        named = _bind(_BACKWARD_SIGNATURE, *deepcopy((args, kwargs)))
        numerical = _numerical_gradients(forward_fn, named, step)
        scale = max(1.0, *(float(np.abs(n).max()) for n in numerical))
        pristine = deepcopy((args, kwargs))
        student_args, student_kwargs = deepcopy((args, kwargs))
        with student_call(name, call), no_shortcuts():
            got = student_fn(*student_args, **student_kwargs)
            got = to_plain(got, numerical, f"the result of {name}")
        for i, label in enumerate(("grad_x", "grad_weight", "grad_bias")):
            problem = compare_values(numerical[i], got[i], rtol, atol * scale, label)
            if problem:
                note = _backward_note(pristine, got, rtol, atol)
                raise GradingFailure(
                    f"{call}: {label} fails the gradient check against centred differences "
                    f"(step {step:g}) of sum(grad_out * batch_norm(x, ...)): {problem}{note}"
                )
        label = changed_input(params, pristine, (student_args, student_kwargs))
        if label is not None:
            raise GradingFailure(
                f"{call}: your function changed its input {label} in place; work on a "
                "copy or build new arrays."
            )
    require_cases(checked, name)
