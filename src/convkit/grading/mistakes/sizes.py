"""Mistakes in counting: an output one window too big or too small, output_size,
pad2d's border, and the parameter counts conv2d_params and linear_params.

The off-by-one outputs (:func:`_size_mistakes`) are shared by every windowed
operation's catalogue (convolution, correlation, pooling): they are ``fallback``
mistakes, named only when nothing more specific matches.
"""

from __future__ import annotations

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import (  # noqa: UP029
    any,
    isinstance,
    len,
    str,
    tuple,
    type,
    zip,
)
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from convkit.grading import _trusted as T
from convkit.grading.mistakes._common import (
    Args,
    Mistake,
    _first_windows,
    _ints,
    _same,
    _Skip,
    _swapped_pair,
)

# -- "one row too many / too few": the right numbers in a wrongly sized output ------
# which of the last axes are one window position off -> the words for it
_EXTRA_WORDS = {(1, 0): "one extra row", (0, 1): "one extra column",
                (1, 1): "one extra row and one extra column", (1,): "one extra entry"}
_LAST_WORDS = {(1, 0): "its last row", (0, 1): "its last column",
               (1, 1): "its last row and its last column", (1,): "its last entry"}


def _extra_windows(axes: int) -> Callable[[Args, Any, Any, float, float], str | None]:
    """match_fn: ``got`` is the right output plus one more row and/or column at the end."""

    def match(args: Args, expected: Any, got: Any, rtol: float, atol: float) -> str | None:
        diffs = _size_diffs(expected, got, axes)
        if diffs is None or any(d not in (0, 1) for d in diffs):
            return None
        corner = T.NDARRAY.copy(_first_windows(got, expected, axes))
        if not _same(expected, corner, rtol, atol):
            return None
        return f"the right output plus {_EXTRA_WORDS[tuple(diffs)]}"

    return match


def _missing_windows(axes: int) -> Callable[[Args, Any, Any, float, float], str | None]:
    """match_fn: ``got`` is the right output without its last row and/or column."""

    def match(args: Args, expected: Any, got: Any, rtol: float, atol: float) -> str | None:
        diffs = _size_diffs(expected, got, axes)
        if diffs is None or any(d not in (0, -1) for d in diffs):
            return None
        corner = T.NDARRAY.copy(_first_windows(expected, got, axes))
        if not _same(corner, got, rtol, atol):
            return None
        return f"the right output without {_LAST_WORDS[tuple(-d for d in diffs)]}"

    return match


def _size_diffs(expected: Any, got: Any, axes: int) -> list[int] | None:
    """got's minus expected's last ``axes`` sizes, if the other axes agree and one differs."""
    if type(expected) is not T.NDARRAY or type(got) is not T.NDARRAY:
        return None
    if got.ndim != expected.ndim or got.ndim < axes:
        return None
    lead = expected.ndim - axes
    if tuple(got.shape[:lead]) != tuple(expected.shape[:lead]):
        return None
    diffs = [g - e for g, e in zip(got.shape[lead:], expected.shape[lead:], strict=True)]
    return diffs if any(diffs) else None


_COUNT_AGAIN = "count the window positions again; "
_TOO_MANY_HINT = _COUNT_AGAIN + "a window that would reach past the end of the (padded) input " \
    "is not part of the output"
_TOO_FEW_HINT = _COUNT_AGAIN + "the last window (the one that ends exactly at the edge of " \
    "the (padded) input) is missing"


def _size_mistakes(axes: int) -> tuple[Mistake, ...]:
    more = "the right output plus one extra row or column" if axes == 2 else \
        "the right output plus one extra entry"
    fewer = "the right output without its last row or column" if axes == 2 else \
        "the right output without its last entry"
    return (
        Mistake(more, _TOO_MANY_HINT, match_fn=_extra_windows(axes), fallback=True),
        Mistake(fewer, _TOO_FEW_HINT, match_fn=_missing_windows(axes), fallback=True),
    )


# -- pad2d ---------------------------------------------------------------------------
def _four_pads(padding: Any) -> tuple[tuple[int, int, int, int], int]:
    """(left, right, top, bottom) from pad2d's ``padding``, and how many numbers it had."""
    if isinstance(padding, Sequence | np.ndarray) and not isinstance(padding, str):
        count = len(padding)
        if count not in (2, 4):
            raise _Skip
        given = _ints("padding", padding, count)
        if count == 4:
            return (given[0], given[1], given[2], given[3]), 4
        return (given[1], given[1], given[0], given[0]), 2
    p = _ints("padding", padding, 1)[0]
    return (p, p, p, p), 1


def _pad_mistakes(op: Callable) -> tuple[Mistake, ...]:
    def padded(order: Callable[[tuple[int, int, int, int]], tuple[int, ...]],
               form: int | None = None) -> Callable[[Args, Any], Any]:
        """pad2d with (left, right, top, bottom) rearranged by ``order``; only for
        paddings given with ``form`` numbers, when ``form`` is set."""

        def result(a: Args, e: Any) -> Any:
            four, count = _four_pads(a["padding"])
            if form is not None and count != form:
                return None
            return op(a["x"], order(four), a["value"])

        return result

    order_hint = ("a 4-tuple is (left, right, top, bottom), the order of torch's F.pad (the "
                  "last axis, the width, first)")
    side_hint = ("pad all four sides (top and bottom each get the rows padding asks for, left "
                 "and right the columns)")
    return (
        Mistake("pad2d with the pair read as (pw, ph)",
                "padding=(ph, pw) adds ph rows on the top and bottom and pw columns on the "
                "left and right", lambda a, e: (
                    None if _four_pads(a["padding"])[1] != 2
                    else op(a["x"], _swapped_pair("padding", a["padding"]), a["value"]))),
        Mistake("pad2d with the 4-tuple read as (top, bottom, left, right)", order_hint,
                padded(lambda p: (p[2], p[3], p[0], p[1]), 4)),
        Mistake("pad2d with the 4-tuple read as (left, top, right, bottom)", order_hint,
                padded(lambda p: (p[0], p[2], p[1], p[3]), 4)),
        Mistake("pad2d with the left and right paddings exchanged", order_hint,
                padded(lambda p: (p[1], p[0], p[2], p[3]))),
        Mistake("pad2d with the top and bottom paddings exchanged", order_hint,
                padded(lambda p: (p[0], p[1], p[3], p[2]))),
        Mistake("pad2d filling with 0 instead of value",
                "fill the new border with value (0 is only the default)",
                lambda a, e: None if a["value"] == 0 else op(a["x"], a["padding"])),
        Mistake("pad2d padding the top and left only", side_hint,
                padded(lambda p: (p[0], 0, p[2], 0))),
        Mistake("pad2d padding the bottom and right only", side_hint,
                padded(lambda p: (0, p[1], 0, p[3]))),
        Mistake("pad2d padding the rows only (above and below, not left and right)",
                side_hint, padded(lambda p: (0, 0, p[2], p[3]))),
        Mistake("pad2d padding the columns only (left and right, not above and below)",
                side_hint, padded(lambda p: (p[0], p[1], 0, 0))),
    )


# -- output_size -------------------------------------------------------------------------
def _output_size_mistakes() -> tuple[Mistake, ...]:
    def size(formula: Callable[[int, int, int, int, int], int]) -> Callable:
        def result(a: Args, e: Any) -> int:
            n, k, s, p, d = (_ints(name, a[name], 1)[0] for name in
                             ("size", "kernel_size", "stride", "padding", "dilation"))
            return formula(n, k, s, p, d)

        return result

    def floor(room: int, s: int) -> int:
        """Window positions with ``room`` pixels to spare at stride s (the formula as a
        student would write it, also when it goes negative)."""
        return room // s + 1

    return (
        Mistake("the output size rounded up instead of down",
                "a window position counts only if the whole window fits inside the padded "
                "input, so round down",
                size(lambda n, k, s, p, d: -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1)),
        Mistake("the output size with the padding added on one side only",
                "padding adds zeros on both sides of the input",
                size(lambda n, k, s, p, d: floor(n + p - d * (k - 1) - 1, s))),
        Mistake("the output size without the padding",
                "the window slides over the padded input (padding zeros on both sides)",
                size(lambda n, k, s, p, d: floor(n - d * (k - 1) - 1, s))),
        Mistake("the output size of the undilated kernel (the dilation ignored)",
                "with dilation d the kernel's taps are d pixels apart, so the window covers "
                "more pixels than kernel_size",
                size(lambda n, k, s, p, d: floor(n + 2 * p - k, s))),
        Mistake("the output size with the dilated window counted dilation*kernel_size wide",
                "count the pixels a dilated window covers again (the gaps lie only between "
                "the taps)", size(lambda n, k, s, p, d: floor(n + 2 * p - d * k, s))),
        Mistake("the output size for stride 1 (the stride ignored)",
                "consecutive windows start stride pixels apart",
                size(lambda n, k, s, p, d: floor(n + 2 * p - d * (k - 1) - 1, 1))),
        Mistake("one more than the right size",
                _COUNT_AGAIN + "the last window must fit inside the padded input",
                lambda a, e: e + 1, fallback=True),
        Mistake("one less than the right size",
                _COUNT_AGAIN + "the first window, at offset 0, counts too",
                lambda a, e: e - 1, fallback=True),
    )


# -- parameter counts ----------------------------------------------------------------
def _count_mistakes(with_kernel: bool) -> tuple[Mistake, ...]:
    def no_bias(a: Args, e: Any) -> int | None:
        if not a["bias"]:
            return None
        return e - _ints("out", a["out_channels" if with_kernel else "out_features"], 1)[0]

    mistakes = [Mistake("the count without the bias",
                        "each output " + ("channel" if with_kernel else "feature")
                        + " has its own bias, one more parameter per output", no_bias)]
    if with_kernel:
        def no_inputs(a: Args, e: Any) -> int:
            c_out = _ints("out_channels", a["out_channels"], 1)[0]
            kh, kw = _ints("kernel_size", a["kernel_size"], 2, 1)
            return c_out * kh * kw + (c_out if a["bias"] else 0)

        mistakes.append(Mistake(
            "the count with one kernel slice per output channel (the input channels left out)",
            "each output channel's kernel has one kh x kw slice per input channel", no_inputs))
    return tuple(mistakes)
