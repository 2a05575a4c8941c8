"""The registry of graded operations and the matching: which known mistake(s) a wrong
result equals.

:data:`REGISTRY` is built once, when the package is imported, from convkit's
reference operations as they are then; if any of them is not convkit's own (a
notebook replaced it before grading was imported), the registry is empty and no
mistake is ever named. An operation is looked up by identity, never by ``==``.
"""

from __future__ import annotations

import os

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import (  # noqa: UP029
    Exception,
    all,
    dict,
    getattr,
    len,
    range,
    tuple,
    type,
    zip,
)
from collections.abc import Callable
from typing import Any

import convkit
from convkit.grading.mistakes._common import Args, Mistake, Operation, _same, _Skip
from convkit.grading.mistakes.convolution import (
    _conv_backward_mistakes,
    _conv_mistakes,
    _conv_transpose_mistakes,
    _correlation_mistakes,
    _im2col_mistakes,
)
from convkit.grading.mistakes.masks import _mask_iou_mistakes
from convkit.grading.mistakes.normalization import (
    _batch_norm_backward_mistakes,
    _batch_norm_mistakes,
    _group_norm_mistakes,
    _kaiming_mistakes,
)
from convkit.grading.mistakes.pooling import (
    _global_pool_mistakes,
    _pool_backward_mistakes,
    _pool_mistakes,
)
from convkit.grading.mistakes.sizes import (
    _count_mistakes,
    _output_size_mistakes,
    _pad_mistakes,
)

_CONVKIT_DIR = os.path.dirname(os.path.abspath(convkit.__file__)) + os.sep
# the grading folder (this package's parent): nothing defined in grading counts as convkit's
_GRADING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


# -- the registry ------------------------------------------------------------------------
def _own(fn: Any) -> bool:
    """True if ``fn`` is convkit's own (not replaced before grading was imported)."""
    filename = getattr(getattr(fn, "__code__", None), "co_filename", "")
    return filename.startswith(_CONVKIT_DIR) and not filename.startswith(_GRADING_DIR)


def _build() -> tuple[Operation, ...]:
    k = convkit
    conv = ("x", "weight", "bias", "stride", "padding", "dilation")
    conv_defaults = {"bias": None, "stride": 1, "padding": 0, "dilation": 1}
    pool = ("x", "kernel_size", "stride", "padding")
    pool_defaults = {"stride": None, "padding": 0}
    ops = (
        Operation(k.conv2d, (*conv, "groups"), {**conv_defaults, "groups": 1},
                  _conv_mistakes(k.conv2d, "conv2d", 2, groups=True)),
        Operation(k.conv1d, conv, conv_defaults, _conv_mistakes(k.conv1d, "conv1d", 1)),
        Operation(k.correlate2d, ("image", "kernel"), {},
                  _correlation_mistakes(k.correlate2d, k.convolve2d, flips=False)),
        Operation(k.convolve2d, ("image", "kernel"), {},
                  _correlation_mistakes(k.correlate2d, k.convolve2d, flips=True)),
        Operation(k.max_pool2d, pool, pool_defaults,
                  _pool_mistakes(k.max_pool2d, k.avg_pool2d, is_max=True)),
        Operation(k.avg_pool2d, pool, {**pool_defaults, "count_include_pad": True},
                  _pool_mistakes(k.avg_pool2d, k.max_pool2d, is_max=False)),
        Operation(k.max_pool2d_backward, ("grad_out", *pool), pool_defaults,
                  _pool_backward_mistakes()),
        Operation(k.conv2d_backward, ("grad_out", "x", "weight", "stride", "padding",
                                      "dilation"),
                  {"stride": 1, "padding": 0, "dilation": 1},
                  _conv_backward_mistakes(k.conv2d_backward),
                  items=("grad_x", "grad_weight", "grad_bias")),
        Operation(k.pad2d, ("x", "padding", "value"), {"value": 0.0}, _pad_mistakes(k.pad2d)),
        Operation(k.output_size, ("size", "kernel_size", "stride", "padding", "dilation"),
                  {"stride": 1, "padding": 0, "dilation": 1}, _output_size_mistakes()),
        Operation(k.im2col, ("x", "kernel_size", "stride", "padding", "dilation"),
                  {"stride": 1, "padding": 0, "dilation": 1},
                  _im2col_mistakes(k.im2col, k.output_size)),
        Operation(k.global_avg_pool2d, ("x",), {}, _global_pool_mistakes()),
        Operation(k.conv2d_params, ("in_channels", "out_channels", "kernel_size", "bias"),
                  {"bias": True}, _count_mistakes(with_kernel=True)),
        Operation(k.linear_params, ("in_features", "out_features", "bias"), {"bias": True},
                  _count_mistakes(with_kernel=False)),
        Operation(k.batch_norm, ("x", "running_mean", "running_var", "weight", "bias",
                                 "training", "momentum", "eps"),
                  {"weight": None, "bias": None, "training": False, "momentum": 0.1,
                   "eps": 1e-5}, _batch_norm_mistakes()),
        Operation(k.batch_norm_backward, ("grad_out", "x", "running_mean", "running_var",
                                          "weight", "training", "eps"),
                  {"weight": None, "training": False, "eps": 1e-5},
                  _batch_norm_backward_mistakes(), items=("grad_x", "grad_weight", "grad_bias")),
        Operation(k.group_norm, ("x", "num_groups", "weight", "bias", "eps"),
                  {"weight": None, "bias": None, "eps": 1e-5}, _group_norm_mistakes(k.group_norm)),
        Operation(k.kaiming_std, ("shape", "a", "mode", "nonlinearity"),
                  {"a": 0.0, "mode": "fan_in", "nonlinearity": "leaky_relu"},
                  _kaiming_mistakes(k.kaiming_std)),
        Operation(k.conv_transpose2d, ("x", "weight", "bias", "stride", "padding",
                                       "output_padding", "groups", "dilation"),
                  {"bias": None, "stride": 1, "padding": 0, "output_padding": 0, "groups": 1,
                   "dilation": 1}, _conv_transpose_mistakes(k.conv_transpose2d)),
        Operation(k.mask_iou, ("pred", "target", "per_image"), {"per_image": False},
                  _mask_iou_mistakes()),
    )
    used = (k.pad2d, k.convolve2d, k.correlate2d, k.avg_pool2d, k.max_pool2d, k.output_size)
    if not all(_own(fn) for fn in (*used, *(op.fn for op in ops))):
        return ()  # something replaced convkit's operations: name no mistakes at all
    return ops


REGISTRY: tuple[Operation, ...] = _build()


def mistakes_of(reference_fn: Any) -> tuple[Mistake, ...]:
    """The known mistakes of ``reference_fn`` (a convkit operation), in the order tried.

    reference_fn: e.g. ``convkit.conv2d`` -> a tuple of :class:`Mistake` (empty for an
    operation without a catalogue, or when the registry is empty because convkit's
    operations were replaced before grading was imported). The operation is found by
    identity, so a look-alike function defined in a notebook has no mistakes.
    """
    operation = _operation(reference_fn)
    return () if operation is None else operation.mistakes


def _operation(reference_fn: Any) -> Operation | None:
    for operation in REGISTRY:  # identity, not ==: nothing the notebook defines is consulted
        if operation.fn is reference_fn:
            return operation
    return None


def _named(operation: Operation, args: tuple, kwargs: dict) -> Args | None:
    if len(args) > len(operation.params):
        return None
    named = dict(zip(operation.params, args, strict=False))
    for key, value in kwargs.items():
        if key in named:
            return None
        named[key] = value
    for key, value in operation.defaults.items():
        named.setdefault(key, value)
    return named if all(p in named for p in operation.params) else None


def named_mistake(reference_fn: Callable, args: tuple, kwargs: dict, got: Any,
                  rtol: float = 1e-5, atol: float = 1e-6, expected: Any = None) -> str | None:
    """The sentence naming the known mistake(s) ``got`` equals, or None.

    got, expected: the reference's result type and shape, e.g. (N, C_out, H_out, W_out)
    for conv2d, a tuple of three arrays for conv2d_backward, an int for output_size
    -> str | None.

    args, kwargs: the case (not modified); got: the student's result in plain form
    (as :func:`convkit.grading.compare.check_function` holds it); expected: the
    reference's result (computed when not given). For a tuple result the mistake is
    looked for in the first item that differs. A mistake whose result equals the right
    one on this case is never named. Returns e.g. "your result equals conv2d without
    the bias: add bias[o] to every entry of output channel o."
    """
    operation = _operation(reference_fn)
    if operation is None:
        return None
    named = _named(operation, args, kwargs)
    if named is None:
        return None
    if expected is None:
        expected = operation.fn(*args, **kwargs)
    what, index, want, have = "result", None, expected, got
    if operation.items:
        if type(expected) is not tuple or type(got) is not tuple or len(got) != len(expected):
            return None
        for i in range(len(expected)):
            if not _same(expected[i], got[i], rtol, atol):
                what, index, want, have = operation.items[i], i, expected[i], got[i]
                break
        else:
            return None
    found: list[tuple[str, str]] = []
    for mistake in operation.mistakes:
        if mistake.fallback and found:
            break  # the fallbacks come last: a specific mistake says more
        try:
            label = _matching_label(mistake, named, expected, want, have, index, rtol, atol)
        except Exception:  # a mistake that cannot be computed here is simply not named
            label = None
        # the same label twice, or a second mistake with the same advice, adds nothing
        if label is not None and all(label != seen and mistake.hint != hint
                                     for seen, hint in found):
            found.append((label, mistake.hint))
    if not found:
        return None
    sentences = [f"your {what} equals {found[0][0]}: {found[0][1]}."]
    sentences += [f"It also equals {label}: {hint}." for label, hint in found[1:]]
    return " ".join(sentences)


def _matching_label(mistake: Mistake, named: Args, expected: Any, want: Any, have: Any,
                    index: int | None, rtol: float, atol: float) -> str | None:
    """The label of ``mistake`` if the student's ``have`` equals its result (and that
    differs from the right ``want``), else None."""
    if mistake.match_fn is not None:
        return mistake.match_fn(named, want, have, rtol, atol)
    try:
        result = mistake.result_fn(named, expected)
    except _Skip:
        return None
    if index is not None:
        result = None if type(result) is not tuple else result[index]
    if result is None or _same(want, result, rtol, atol):
        return None  # does not apply, or coincides with the right answer here
    return mistake.label if _same(result, have, rtol, atol) else None
