"""Mistakes of the convolutions: conv2d, conv1d, correlate2d / convolve2d,
conv2d_backward and im2col.

Each builder gets convkit's reference operations (captured when the package is
imported) and returns its operation's mistakes in the order they are tried; the
windowed forward operations end with the off-by-one output sizes of :mod:`.sizes`.
"""

from __future__ import annotations

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import slice
from collections.abc import Callable
from typing import Any

import numpy as np

from convkit.grading.mistakes._common import (
    Args,
    Mistake,
    _array,
    _first_windows,
    _flip,
    _ints,
    _pad2d,
    _Skip,
    _swap_hw,
    _swapped_pair,
)
from convkit.grading.mistakes.sizes import _size_mistakes


# -- convolutions: conv2d, conv1d --------------------------------------------------
def _conv_mistakes(op: Callable, name: str, axes: int) -> tuple[Mistake, ...]:
    """The mistakes of conv2d (``axes`` 2) or conv1d (``axes`` 1), computed with ``op``."""

    def call(args: Args, **change: Any) -> np.ndarray:
        a = {**args, **change}
        return op(a["x"], a["weight"], a["bias"], a["stride"], a["padding"], a["dilation"])

    def no_bias(a: Args, e: Any) -> Any:
        return None if a["bias"] is None else call(a, bias=None)

    def strided_positions(a: Args, e: Any) -> np.ndarray:
        return _first_windows(call(a, stride=1), e, axes)

    def one_side(before: int, after: int) -> Callable[[Args, Any], np.ndarray]:
        """Padding of ``before`` x padding on the top/left and ``after`` x on the bottom/right."""

        def result(a: Args, e: Any) -> np.ndarray:
            pads = _ints("padding", a["padding"], axes)
            if axes == 2:
                (ph, pw) = pads
                four = (before * pw, after * pw, before * ph, after * ph)
            else:
                four = (before * pads[0], after * pads[0], 0, 0)
            return call(a, x=_pad2d(_array(a["x"]), four), padding=0)

        return result

    start, end = ("top and left", "bottom and right") if axes == 2 else ("left", "right")
    every_side = "above, below, left and right of x" if axes == 2 else "left and right of x"
    pad_hint = f"put padding zeros on every side ({every_side})"
    mistakes = [
        Mistake(f"{name} without the bias",
                "add bias[o] to every entry of output channel o", no_bias),
        Mistake(f"a true convolution ({name} with every kernel flipped)",
                f"{name} is a cross-correlation, which slides each kernel as it is, without "
                "flipping it", lambda a, e: call(a, weight=_flip(a["weight"], axes))),
    ]
    if axes == 2:
        mistakes += [
            Mistake(f"{name} with every kernel transposed (its rows and columns exchanged)",
                    "weight[o, c, m, n] multiplies the input pixel m rows down and n columns "
                    "across in the window, so the kernel's first spatial axis runs down the rows",
                    lambda a, e: call(a, weight=_swap_hw(a["weight"]))),
            Mistake(f"{name} of the input with its height and width exchanged",
                    "x has shape (N, C, H, W), so its third axis is the height (rows) and its "
                    "fourth the width (columns)", lambda a, e: call(a, x=_swap_hw(a["x"]))),
            Mistake("the right output with its height and width axes exchanged",
                    "the output has shape (N, C_out, H_out, W_out), and out[n, o, i, j] is "
                    "output row i, column j", lambda a, e: _swap_hw(e)),
        ]
    mistakes += [
        Mistake(f"{name} with stride 1 (the stride ignored)",
                "consecutive windows start stride pixels apart, not one",
                lambda a, e: call(a, stride=1)),
        Mistake(f"the first windows of the stride-1 {name} (windows one pixel apart)",
                "output position i reads the window that starts i*stride pixels in (after "
                "padding), so multiply the output index by the stride", strided_positions),
    ]
    if axes == 2:
        mistakes.append(Mistake(
            f"{name} with the strides of height and width exchanged",
            "stride=(sh, sw) steps sh rows down and sw columns across",
            lambda a, e: call(a, stride=_swapped_pair("stride", a["stride"]))))
    mistakes += [
        Mistake(f"{name} without the padding", pad_hint, lambda a, e: call(a, padding=0)),
        Mistake(f"{name} with all the padding on the {end} (x copied into the {start} "
                "corner of the padded array)",
                f"{pad_hint}, so that x starts padding pixels in from the {start}",
                one_side(0, 2)),
        Mistake(f"{name} with all the padding on the {start}", pad_hint, one_side(2, 0)),
        Mistake(f"{name} with padding zeros on the {start} only", pad_hint, one_side(1, 0)),
        Mistake(f"{name} with padding zeros on the {end} only", pad_hint, one_side(0, 1)),
    ]
    if axes == 2:
        mistakes.append(Mistake(
            f"{name} with the paddings of height and width exchanged",
            "padding=(ph, pw) adds ph rows above and below, pw columns left and right",
            lambda a, e: call(a, padding=_swapped_pair("padding", a["padding"]))))
    mistakes.append(Mistake(f"{name} without the dilation",
                            "with dilation d, the kernel's taps are d pixels apart",
                            lambda a, e: call(a, dilation=1)))
    return (*mistakes, *_size_mistakes(axes))


# -- correlate2d / convolve2d --------------------------------------------------------
def _correlation_mistakes(correlate: Callable, convolve: Callable, flips: bool
                          ) -> tuple[Mistake, ...]:
    """convolve2d's (``flips``) or correlate2d's mistakes, computed with correlate2d (and
    convolve2d for correlate2d's flipped kernel)."""
    op = convolve if flips else correlate
    name = "convolve2d" if flips else "correlate2d"
    flip_hint = ("a true convolution flips the kernel in both axes (rows and columns) before "
                 "sliding it") if flips else \
        "cross-correlation slides the kernel as it is, without flipping it"
    mistakes = [
        Mistake("correlate2d (the kernel not flipped)", flip_hint,
                lambda a, e: correlate(a["image"], a["kernel"]))
        if flips else
        Mistake("convolve2d (the kernel flipped)", flip_hint,
                lambda a, e: convolve(a["image"], a["kernel"])),
        Mistake("a cross-correlation with the kernel flipped upside down only (its rows "
                "reversed)", flip_hint,
                lambda a, e: correlate(a["image"], _array(a["kernel"])[::-1, :])),
        Mistake("a cross-correlation with the kernel flipped left to right only (its columns "
                "reversed)", flip_hint,
                lambda a, e: correlate(a["image"], _array(a["kernel"])[:, ::-1])),
        Mistake("a cross-correlation with the kernel transposed (kernel.T mirrors along the "
                "diagonal, it is not a flip)", flip_hint,
                lambda a, e: correlate(a["image"], _swap_hw(a["kernel"])))
        if flips else
        Mistake("correlate2d with the kernel transposed",
                "kernel[m, n] multiplies the pixel m rows down and n columns across in the "
                "window", lambda a, e: correlate(a["image"], _swap_hw(a["kernel"]))),
        Mistake(f"{name} of the image with its height and width exchanged",
                "image has shape (H, W), so its first axis is the height (rows)",
                lambda a, e: op(_swap_hw(a["image"]), a["kernel"])),
        Mistake("the right output transposed (its rows and columns exchanged)",
                "out[i, j] is output row i, column j, from the window that starts i rows down "
                "and j columns across", lambda a, e: _swap_hw(e)),
    ]
    return (*mistakes, *_size_mistakes(2))


# -- conv2d_backward -----------------------------------------------------------------
def _conv_backward_mistakes(op: Callable) -> tuple[Mistake, ...]:
    def call(a: Args, **change: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        b = {**a, **change}
        return op(b["grad_out"], b["x"], b["weight"], b["stride"], b["padding"], b["dilation"])

    def batch(a: Args) -> tuple[np.ndarray, np.ndarray, int]:
        g, x = _array(a["grad_out"]), _array(a["x"])
        if g.ndim != 4 or x.ndim != 4 or x.shape[0] < 2:
            raise _Skip
        return g, x, x.shape[0]

    def one_sample(index: int) -> Callable[[Args, Any], tuple]:
        def result(a: Args, e: Any) -> tuple:
            g, x, n = batch(a)
            part = slice(0, 1) if index == 0 else slice(n - 1, n)
            _, gw, gb = call(a, grad_out=g[part], x=x[part])
            return (None, gw, gb)

        return result

    def averaged(a: Args, e: Any) -> tuple:
        _, _, n = batch(a)
        return (None, _array(e[1]) / n, _array(e[2]) / n)

    def bias_grad(reduce: Callable[[np.ndarray], np.ndarray]) -> Callable[[Args, Any], tuple]:
        def result(a: Args, e: Any) -> tuple:
            g = _array(a["grad_out"])
            if g.ndim != 4:
                raise _Skip
            return (None, None, reduce(g))

        return result

    def padded_input(a: Args, e: Any) -> tuple:
        ph, pw = _ints("padding", a["padding"], 2)
        if ph == pw == 0:
            return (None, None, None)
        xpad = _pad2d(_array(a["x"]), (pw, pw, ph, ph))
        return (call(a, x=xpad, padding=0)[0], None, None)

    batch_hint = ("the loss adds up the samples' contributions, so sum the gradients of all "
                  "samples of the batch")
    bias_hint = ("the bias is added at every output position of every sample, so sum grad_out "
                 "over the batch and over all positions")
    return (
        Mistake("the gradient of the first sample of the batch only", batch_hint,
                one_sample(0)),
        Mistake("the gradient of the last sample of the batch only",
                batch_hint + " (+= in a loop over the batch, not =)", one_sample(-1)),
        Mistake("the gradient averaged over the batch instead of summed",
                "conv2d_backward gives the gradient of sum(grad_out * out), so add the "
                "samples' gradients without dividing by N", averaged),
        Mistake("grad_out summed over the batch only (not over the positions)", bias_hint,
                bias_grad(lambda g: g.sum(axis=0))),
        Mistake("grad_out summed over the positions only (not over the batch)", bias_hint,
                bias_grad(lambda g: g.sum(axis=(2, 3)))),
        Mistake("grad_out averaged over the positions instead of summed", bias_hint,
                bias_grad(lambda g: g.mean(axis=(2, 3)).sum(axis=0))),
        Mistake("the right weight gradient flipped in both spatial axes",
                "grad_weight[o, c, m, n] pairs grad_out with the input shifted by (m, n), as "
                "the forward cross-correlation does, with no flip",
                lambda a, e: (None, _flip(e[1], 2), None)),
        Mistake("the input gradient of a full cross-correlation with each kernel as it is "
                "(not rotated by 180°)",
                "grad_x is the full cross-correlation of grad_out with every kernel rotated "
                "by 180° (or scatter each output's gradient back through the kernel as is)",
                lambda a, e: (call(a, weight=_flip(a["weight"], 2))[0], None, None)),
        Mistake("the gradient of the padded input (its padding border not cut off)",
                "return the gradient of x itself, without the rows and columns of padding",
                padded_input),
    )


# -- im2col ---------------------------------------------------------------------------
def _im2col_mistakes(op: Callable, out_size: Callable) -> tuple[Mistake, ...]:
    def call(a: Args, **change: Any) -> np.ndarray:
        b = {**a, **change}
        return op(b["x"], b["kernel_size"], b["stride"], b["padding"], b["dilation"])

    def layout(a: Args, e: Any) -> tuple[np.ndarray, int, int, int, int, int]:
        x, cols = _array(a["x"]), _array(e)
        if x.ndim != 4:
            raise _Skip
        kh, kw = _ints("kernel_size", a["kernel_size"], 2, 1)
        sh, sw = _ints("stride", a["stride"], 2, 1)
        ph, pw = _ints("padding", a["padding"], 2)
        dh, dw = _ints("dilation", a["dilation"], 2, 1)
        ho = out_size(x.shape[2], kh, sh, ph, dh)
        wo = out_size(x.shape[3], kw, sw, pw, dw)
        return cols, x.shape[1], kh, kw, ho, wo

    def rows_channel_last(a: Args, e: Any) -> np.ndarray:
        cols, c, kh, kw, _, _ = layout(a, e)
        n, rows, length = cols.shape
        return cols.reshape(n, c, kh, kw, length).transpose(0, 2, 3, 1, 4).reshape(n, rows, -1)

    def offsets_by_column(a: Args, e: Any) -> np.ndarray:
        cols, c, kh, kw, _, _ = layout(a, e)
        n, rows, length = cols.shape
        return cols.reshape(n, c, kh, kw, length).transpose(0, 1, 3, 2, 4).reshape(n, rows, -1)

    def positions_by_column(a: Args, e: Any) -> np.ndarray:
        cols, _, _, _, ho, wo = layout(a, e)
        n, rows, _ = cols.shape
        return cols.reshape(n, rows, ho, wo).transpose(0, 1, 3, 2).reshape(n, rows, -1)

    row_hint = ("row c*kh*kw + m*kw + n holds channel c at kernel offset (m, n), the layout "
                "of torch's F.unfold")
    return (
        Mistake("im2col with the rows ordered (kernel row, kernel column, channel)", row_hint,
                rows_channel_last),
        Mistake("im2col with the kernel offsets ordered column by column", row_hint,
                offsets_by_column),
        Mistake("im2col with the window positions ordered column by column",
                "column i*W_out + j holds the window of output position (i, j), so the "
                "positions go row by row",
                positions_by_column),
        Mistake("the right columns transposed (shape (N, L, C*kh*kw))",
                "each window is one column, so the result has shape (N, C*kh*kw, L)",
                lambda a, e: _array(e).transpose(0, 2, 1) if _array(e).ndim == 3 else None),
        Mistake("im2col with stride 1 (the stride ignored)",
                "consecutive windows start stride pixels apart", lambda a, e: call(a, stride=1)),
        Mistake("im2col without the padding",
                "pad every side of x with padding zeros before taking the windows",
                lambda a, e: call(a, padding=0)),
    )
