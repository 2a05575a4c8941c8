"""Mistakes of the convolutions: conv2d (groups included), conv1d, correlate2d /
convolve2d, conv2d_backward, im2col and conv_transpose2d.

Each builder gets convkit's reference operations (captured when the package is
imported) and returns its operation's mistakes in the order they are tried; the
windowed forward operations end with the off-by-one output sizes of :mod:`.sizes`.
"""

from __future__ import annotations

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import int, slice, type  # noqa: UP029
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
from convkit.grading.mistakes.sizes import _extra_windows, _missing_windows, _size_mistakes


# -- convolutions: conv2d, conv1d --------------------------------------------------
def _conv_mistakes(op: Callable, name: str, axes: int, groups: bool = False
                   ) -> tuple[Mistake, ...]:
    """The mistakes of conv2d (``axes`` 2) or conv1d (``axes`` 1), computed with ``op``;
    ``groups``: ``op`` takes a ``groups`` argument (conv2d), and the ways of splitting the
    channels into groups wrongly are mistakes too."""

    def call(args: Args, **change: Any) -> np.ndarray:
        a = {**args, **change}
        if groups:
            return op(a["x"], a["weight"], a["bias"], a["stride"], a["padding"],
                      a["dilation"], a["groups"])
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
    if groups:
        mistakes += _group_mistakes(call, name)
    return (*mistakes, *_size_mistakes(axes))


def _group_sizes(a: Args) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """x, weight, groups and the channels per group (in, out) of a grouped case."""
    x, weight = _array(a["x"]), _array(a["weight"])
    g = a["groups"]
    if type(g) is not int or g < 2 or x.ndim != 4 or weight.ndim != 4:
        raise _Skip
    if x.shape[1] % g or weight.shape[0] % g:
        raise _Skip
    return x, weight, g, x.shape[1] // g, weight.shape[0] // g


def _dealt(count: int, g: int) -> np.ndarray:
    """The channel order that deals ``count`` channels to ``g`` groups in turn: group 0
    gets channels 0, g, 2g, ..., group 1 gets 1, g + 1, ... (consecutive in the result)."""
    return np.arange(count).reshape(count // g, g).T.reshape(-1)


def _group_mistakes(call: Callable[..., np.ndarray], name: str) -> list[Mistake]:
    """conv2d's mistakes with ``groups`` > 1: channels dealt to the groups in turn instead
    of in consecutive blocks, and a group's slice of x or of weight not offset."""

    def inputs_dealt(a: Args, e: Any) -> np.ndarray:
        x, _, g, _, _ = _group_sizes(a)
        return call(a, x=x[:, _dealt(x.shape[1], g)])

    def outputs_dealt(a: Args, e: Any) -> np.ndarray:
        _, weight, g, _, _ = _group_sizes(a)
        order = _dealt(weight.shape[0], g)  # output channel order[k] is computed k-th
        bias = a["bias"]
        out = call(a, weight=weight[order], bias=None if bias is None else _array(bias)[order])
        result = np.empty_like(out)
        result[:, order] = out
        return result

    def first_inputs(a: Args, e: Any) -> np.ndarray:
        x, _, g, per_in, _ = _group_sizes(a)
        return call(a, x=np.concatenate([x[:, :per_in]] * g, axis=1))

    def first_kernels(a: Args, e: Any) -> np.ndarray:
        _, weight, g, _, per_out = _group_sizes(a)
        return call(a, weight=np.concatenate([weight[:per_out]] * g, axis=0))

    blocks = ("group g reads the consecutive input channels g * C_in / groups up to "
              "(g + 1) * C_in / groups - 1")
    return [
        Mistake(f"{name} with the input channels dealt to the groups in turn (channel c in "
                "group c % groups)", blocks + ", not every groups-th channel", inputs_dealt),
        Mistake(f"{name} with the output channels dealt to the groups in turn (output channel "
                "o from group o % groups)",
                "the kernels of a group are consecutive: output channels g * C_out / groups up "
                "to (g + 1) * C_out / groups - 1 come from group g", outputs_dealt),
        Mistake(f"{name} with every group reading the first group's input channels",
                blocks + ": offset the slice of x by the group", first_inputs),
        Mistake(f"{name} with every group using the first group's kernels",
                "group g uses the kernels weight[g * C_out / groups : (g + 1) * C_out / "
                "groups]: offset the slice of weight by the group", first_kernels),
    ]


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


# -- conv_transpose2d ------------------------------------------------------------------
def _conv_transpose_mistakes(op: Callable) -> tuple[Mistake, ...]:
    """conv_transpose2d's mistakes, computed with ``op`` (convkit.conv_transpose2d): the
    kernel flipped or its first two axes exchanged, output_padding and padding misplaced,
    the dilation or the groups ignored; then the off-by-one output sizes."""

    def call(a: Args, **change: Any) -> np.ndarray:
        b = {**a, **change}
        return op(b["x"], b["weight"], b["bias"], b["stride"], b["padding"],
                  b["output_padding"], b["groups"], b["dilation"])

    def swapped(weight: np.ndarray, groups: Any) -> np.ndarray:
        """weight[c, o] read as weight[o, c] within each group (square groups only)."""
        if type(groups) is not int or weight.ndim != 4 or weight.shape[0] % groups:
            raise _Skip
        per_in, per_out, kh, kw = weight.shape[0] // groups, *weight.shape[1:]
        if per_in != per_out:
            raise _Skip
        shaped = weight.reshape(groups, per_in, per_out, kh, kw)
        return shaped.swapaxes(1, 2).reshape(weight.shape)

    def zeros_around(a: Args, value: np.ndarray, top: int, bottom: int, left: int,
                     right: int) -> np.ndarray:
        """``value`` (computed without the bias) with zero rows and columns around it,
        then the bias added everywhere (as a student adds it, last)."""
        if value.ndim != 4:
            raise _Skip
        padded = _pad2d(value, (left, right, top, bottom))
        bias = a["bias"]
        return padded if bias is None else padded + _array(bias)[:, None, None]

    def output_padding_zeros(where: str) -> Callable[[Args, Any], np.ndarray]:
        def result(a: Args, e: Any) -> np.ndarray:
            oh, ow = _ints("output_padding", a["output_padding"], 2)
            if oh == ow == 0:
                raise _Skip
            cut = call(a, output_padding=0, bias=None)
            if where == "after":
                return zeros_around(a, cut, 0, oh, 0, ow)
            return zeros_around(a, cut, oh, oh, ow, ow)

        return result

    def padding_added(a: Args, e: Any) -> np.ndarray:
        ph, pw = _ints("padding", a["padding"], 2)
        if ph == pw == 0:
            raise _Skip
        return zeros_around(a, call(a, padding=0, bias=None), ph, ph, pw, pw)

    def groups_ignored(a: Args, e: Any) -> np.ndarray:
        if type(a["groups"]) is not int or a["groups"] < 2:
            raise _Skip
        bias = a["bias"]
        if bias is not None:
            bias = _array(bias)[: _array(a["weight"]).shape[1]]
        return call(a, groups=1, bias=bias)

    size = ("H_out = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding "
            "+ 1, and W_out alike")
    scatter = ("out[n, o, i * stride + m * dilation - padding, ...] += x[n, c, i, ...] * "
               "weight[c, o, m, ...]")
    cut = ("padding removes padding rows (columns) from both sides of the full scatter; "
           "output_padding then keeps that many more at the bottom (right): H_out = (H - 1) * "
           "stride - 2 * padding + dilation * (kh - 1) + output_padding + 1")
    return (
        Mistake("conv_transpose2d without the bias",
                "add bias[o] to every entry of output channel o",
                lambda a, e: None if a["bias"] is None else call(a, bias=None)),
        Mistake("conv_transpose2d with every kernel flipped (rotated by 180°)",
                "a transposed convolution scatters each kernel as it is, " + scatter + "; "
                "built from conv2d on the zero-inserted input, it needs the kernel rotated "
                "by 180°", lambda a, e: call(a, weight=_flip(a["weight"], 2))),
        Mistake("conv_transpose2d with weight[c, o] read as weight[o, c] (its first two axes "
                "exchanged)",
                "weight has shape (C_in, C_out / groups, kh, kw): input channel c scatters "
                "weight[c, o] into output channel o",
                lambda a, e: call(a, weight=swapped(_array(a["weight"]), a["groups"]))),
        Mistake("conv_transpose2d with every kernel flipped and weight's first two axes "
                "exchanged",
                "as conv2d on the zero-inserted input, a transposed convolution uses "
                "weight.transpose(1, 0, 2, 3) with each kernel rotated by 180° (per group)",
                lambda a, e: call(a, weight=_flip(swapped(_array(a["weight"]), a["groups"]),
                                                  2))),
        Mistake("conv_transpose2d without the output_padding", cut,
                lambda a, e: call(a, output_padding=0)),
        Mistake("conv_transpose2d with the output_padding rows and columns filled with zeros",
                "output_padding keeps more of the scatter at the bottom and right (the output "
                "is full[padding : padding + H_out]): with padding > 0 those rows hold values",
                output_padding_zeros("after")),
        Mistake("conv_transpose2d with output_padding zeros on every side",
                "output_padding adds rows and columns at the bottom and right only",
                output_padding_zeros("around")),
        Mistake("conv_transpose2d with padding zeros added around the output",
                "in a transposed convolution padding removes rows and columns (it undoes the "
                "padding of the convolution it transposes): " + cut, padding_added),
        Mistake("conv_transpose2d without the padding (nothing cut from the sides)", cut,
                lambda a, e: call(a, padding=0)),
        Mistake("conv_transpose2d without the dilation",
                "with dilation d a kernel's taps land d pixels apart: " + scatter,
                lambda a, e: call(a, dilation=1)),
        Mistake("conv_transpose2d with the groups ignored (every input channel scattering into "
                "the first C_out / groups output channels)",
                "with groups g, the input channels of group g scatter only into the output "
                "channels of group g, and C_out = weight.shape[1] * groups", groups_ignored),
        Mistake("the right output plus one extra row or column",
                "count the output size again: " + size, match_fn=_extra_windows(2),
                fallback=True),
        Mistake("the right output without its last row or column",
                "count the output size again: " + size, match_fn=_missing_windows(2),
                fallback=True),
    )
