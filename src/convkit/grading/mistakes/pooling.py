"""Mistakes of pooling: max_pool2d, avg_pool2d, max_pool2d_backward and
global_avg_pool2d, with :func:`route_max_gradient`, max pooling's input gradient
under each way of routing a window's gradient (the right one and the usual wrong ones).
"""

from __future__ import annotations

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import (  # noqa: UP029
    bool,
    float,
    range,
    slice,
)
from collections.abc import Callable
from typing import Any

import numpy as np

from convkit.grading import _trusted as T
from convkit.grading.mistakes._common import (
    Args,
    Mistake,
    _array,
    _first_windows,
    _ints,
    _pad2d,
    _Skip,
    _swapped_pair,
)
from convkit.grading.mistakes.sizes import _size_mistakes

# numpy functions bound now: a notebook that rebinds np.full cannot change a result here.
_full, _zeros, _indices, _argmax = np.full, np.zeros, np.indices, np.argmax
_INF = float("inf")


# -- pooling -------------------------------------------------------------------------
def _pool_mistakes(op: Callable, other: Callable, is_max: bool) -> tuple[Mistake, ...]:
    """max_pool2d's (``is_max``) or avg_pool2d's mistakes; ``other`` is the other pooling."""
    name = "max_pool2d" if is_max else "avg_pool2d"

    def call(args: Args, **change: Any) -> np.ndarray:
        a = {**args, **change}
        extra = {} if is_max else {"count_include_pad": a["count_include_pad"]}
        return op(a["x"], a["kernel_size"], a["stride"], a["padding"], **extra)

    def stride_of(a: Args) -> tuple[int, int]:
        return _ints("kernel_size" if a["stride"] is None else "stride",
                     a["kernel_size"] if a["stride"] is None else a["stride"], 2, 1)

    def pads(a: Args) -> tuple[int, int]:
        return _ints("padding", a["padding"], 2)

    def strided_positions(a: Args, e: Any) -> np.ndarray:
        return _first_windows(call(a, stride=1), e, 2)

    default_stride = "; stride=None means stride = kernel_size"
    mistakes = [
        Mistake("avg_pool2d with the same windows (the mean instead of the maximum)",
                "max pooling keeps the largest value of each window",
                lambda a, e: other(a["x"], a["kernel_size"], a["stride"], a["padding"]))
        if is_max else
        Mistake("max_pool2d with the same windows (the maximum instead of the mean)",
                "average pooling takes the mean of each window",
                lambda a, e: other(a["x"], a["kernel_size"], a["stride"], a["padding"])),
    ]
    if not is_max:
        def window_sums(a: Args, e: Any) -> np.ndarray:
            kh, kw = _ints("kernel_size", a["kernel_size"], 2, 1)
            return _array(e) * (kh * kw)

        def divisor(include: bool) -> Callable[[Args, Any], Any]:
            def result(a: Args, e: Any) -> Any:
                if bool(a["count_include_pad"]) == include:
                    return None
                return call(a, count_include_pad=include)

            return result

        mistakes += [
            Mistake("the window sums (the sum instead of the mean)",
                    "divide each window's sum by the number of pixels in the window, kh*kw",
                    window_sums),
            Mistake("avg_pool2d dividing by the number of real pixels (the padding left out "
                    "of the divisor)",
                    "the zero padding counts in the divisor, so divide every window by kh*kw "
                    "(count_include_pad=True, torch's default)", divisor(False)),
            Mistake("avg_pool2d dividing by kh*kw (the padding counted in the divisor)",
                    "with count_include_pad=False divide each window by the number of real "
                    "(not padding) pixels in it", divisor(True)),
        ]
    mistakes += [
        Mistake(f"{name} with stride 1 (windows one pixel apart)",
                "consecutive windows start stride pixels apart" + default_stride,
                lambda a, e: call(a, stride=1)),
        Mistake(f"the first windows of the stride-1 {name} (windows one pixel apart)",
                "output (i, j) reads the window that starts i*sh rows and j*sw columns in "
                "(after padding)" + default_stride, strided_positions),
        Mistake(f"{name} with the kernel's height and width exchanged",
                "kernel_size=(kh, kw) makes windows kh rows high and kw columns wide",
                lambda a, e: call(a, kernel_size=_swapped_pair("kernel_size", a["kernel_size"]))),
        Mistake(f"{name} with the strides of height and width exchanged",
                "stride=(sh, sw) steps sh rows down and sw columns across",
                lambda a, e: call(a, stride=stride_of(a)[::-1])),
        Mistake(f"{name} without the padding",
                "pad every side of x (padding pixels above, below, left and right)",
                lambda a, e: call(a, padding=0)),
    ]
    if is_max:
        def zero_padded(a: Args, e: Any) -> Any:
            ph, pw = pads(a)
            if ph == pw == 0:
                return None
            return call(a, x=_pad2d(_array(a["x"]), (pw, pw, ph, ph)), padding=0)

        mistakes.append(Mistake(
            "max_pool2d over zero padding (padding that counts as 0)",
            "in max pooling the padding counts as -inf, so it never wins a window",
            zero_padded))
    mistakes.append(Mistake(
        f"{name} with the paddings of height and width exchanged",
        "padding=(ph, pw) adds ph rows above and below, pw columns left and right",
        lambda a, e: call(a, padding=pads(a)[::-1])))
    return (*mistakes, *_size_mistakes(2))


# -- max_pool2d_backward: where each window's gradient goes --------------------------
def route_max_gradient(grad_out: np.ndarray, x: np.ndarray, kernel: tuple[int, int],
                       stride: tuple[int, int], padding: tuple[int, int], rule: str
                       ) -> np.ndarray:
    """Max pooling's input gradient with each window's gradient routed by ``rule``.

    grad_out: (N, C, H_out, W_out), x: (N, C, H, W) -> (N, C, H, W).

    ``rule``: ``"first"`` (to the first maximum in row-major order: the right
    gradient), ``"last"`` (the last maximum), ``"split"`` (equal shares for tied
    maxima), ``"all"`` (the whole gradient to every tied maximum), ``"spread"`` (an
    equal share to every pixel of the window: average pooling's gradient),
    ``"overwrite"`` (first maximum, but a later window's gradient replaces an earlier
    one's instead of adding to it). Window (i, j) starts at row i*sh, column j*sw
    of x padded with -inf; windows are visited row by row. An x holding NaN or inf,
    or a window that runs off the padded input, raises the package's ``_Skip`` (the
    routing is then not computed).
    """
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, h, w = x.shape
    if not T.logical_and.reduce(T.isfinite(x).reshape(-1)):
        raise _Skip  # NaN / inf: which one wins is the reference's business
    xpad = _full((n, c, h + 2 * ph, w + 2 * pw), -_INF)
    xpad[:, :, ph:ph + h, pw:pw + w] = x
    grad = _zeros(xpad.shape)
    nn, cc = _indices((n, c))
    for i in range(grad_out.shape[2]):
        for j in range(grad_out.shape[3]):
            rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
            window = xpad[:, :, rows, cols]
            if window.shape[2:] != (kh, kw):
                raise _Skip  # the window runs off the input
            g = grad_out[:, :, i, j]
            if rule == "spread":
                grad[:, :, rows, cols] += g[:, :, None, None] / (kh * kw)
                continue
            flat = window.reshape(n, c, kh * kw)
            ties = flat == flat.max(axis=2, keepdims=True)
            if rule in ("split", "all"):
                share = ties / ties.sum(axis=2, keepdims=True) if rule == "split" else ties
                grad[:, :, rows, cols] += (share * g[:, :, None]).reshape(n, c, kh, kw)
                continue
            if rule == "last":
                winner = kh * kw - 1 - _argmax(ties[:, :, ::-1], axis=2)
            else:
                winner = _argmax(ties, axis=2)
            r, q = i * sh + winner // kw, j * sw + winner % kw
            if rule == "overwrite":
                grad[nn, cc, r, q] = g
            else:
                grad[nn, cc, r, q] += g
    return grad[:, :, ph:ph + h, pw:pw + w]


def _pool_backward_mistakes() -> tuple[Mistake, ...]:
    def routed(rule: str, stride_one: bool = False) -> Callable[[Args, Any], np.ndarray]:
        def result(a: Args, e: Any) -> np.ndarray:
            g, x = _array(a["grad_out"]), _array(a["x"])
            if x.ndim != 4 or g.ndim != 4:
                raise _Skip
            kernel = _ints("kernel_size", a["kernel_size"], 2, 1)
            stride = kernel if a["stride"] is None else _ints("stride", a["stride"], 2, 1)
            return route_max_gradient(g, x, kernel, (1, 1) if stride_one else stride,
                                      _ints("padding", a["padding"], 2), rule)

        return result

    ties = ("on ties the whole gradient goes to the first maximum of the window in "
            "row-major order (as torch does)")
    return (
        Mistake("the gradient sent to the last maximum of each window where values tie",
                ties, routed("last")),
        Mistake("the gradient split evenly among tied maxima", ties, routed("split")),
        Mistake("the whole gradient given to every tied maximum", ties, routed("all")),
        Mistake("the gradient spread evenly over each window (average pooling's gradient)",
                "only the window's maximum receives the window's gradient; the other pixels "
                "get nothing from that window", routed("spread")),
        Mistake("the gradient with overlapping windows overwriting each other (= instead "
                "of +=)",
                "a pixel that is the maximum of several overlapping windows receives the sum "
                "of their gradients (add with +=, do not assign)", routed("overwrite")),
        Mistake("the gradient routed through windows one pixel apart (the stride ignored)",
                "window (i, j) starts i*sh rows and j*sw columns in (after padding); "
                "stride=None means stride = kernel_size", routed("first", stride_one=True)),
    )


# -- global_avg_pool2d -----------------------------------------------------------------
def _global_pool_mistakes() -> tuple[Mistake, ...]:
    def sums(a: Args, e: Any) -> np.ndarray:
        x = _array(a["x"])
        return x.sum(axis=(-2, -1))

    return (
        Mistake("the sum over each channel's positions (not the mean)",
                "divide each channel's sum by H*W", sums),
        Mistake("the right means with the spatial axes kept (shape (N, C, 1, 1))",
                "return one number per sample and channel, shape (N, C)",
                lambda a, e: _array(e)[..., None, None]),
    )
