"""Grading of ch12's convolution variants, their cost, and masks.

- The hidden tests' cases: :func:`grouped_conv2d_case` (conv2d with groups, depthwise
  ones among them, strides, paddings and dilations), :func:`conv_transpose2d_case`
  (strides, paddings and output paddings; with ``extras`` also groups and dilations) and
  :func:`mask_iou_case` (pooled and per image, empty masks included), each a callable
  ``rng -> (args, kwargs)`` for :func:`convkit.grading.random_cases`. conv2d,
  conv_transpose2d and mask_iou are graded by :func:`convkit.grading.check_function`
  against convkit's references, which names the known mistakes
  (:mod:`convkit.grading.mistakes.convolution`, :mod:`convkit.grading.mistakes.masks`).
- :func:`check_layer_costs` grades a cost counter ``layer_costs(model, input_shape)``
  that returns one ``(output_shape, multiply_adds)`` pair per layer of a
  ``torch.nn.Sequential``, on the networks of :func:`cost_models`, against
  :func:`reference_layer_costs`: output shapes from running each layer, multiply-adds
  from :func:`convkit.grading.training_checks.forward_cost` (torch's FLOP formulas)
  applied to each layer alone. A wrong count is compared with the known mistakes (FLOPs
  instead of multiply-adds, the groups ignored, the bias counted, a batch counted, a
  transposed convolution counted like a convolution, a layer without weights counted).
- :func:`overlap_counts`: how many kernel copies a transposed convolution adds up at
  every output pixel (the checkerboard of a stride that does not divide the kernel), for
  the predict-then-measure item.

The student's code runs under :func:`convkit.grading.no_shortcuts`: the numpy functions
with its standing rules (torch's convolutions and convkit's references refused), the cost
counter with torch's layers allowed (to run the model) but torch's FLOP counter and
profilers refused. This module imports only numpy, torch and the grading package.
"""

from __future__ import annotations

import copy

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import (  # noqa: UP029
    any,
    enumerate,
    getattr,
    int,
    isinstance,
    len,
    list,
    range,
    str,
    tuple,
    type,
    zip,
)
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import flop_registry

import convkit
from convkit.grading import _trusted as T
from convkit.grading._rules import TORCH_LAYERS
from convkit.grading.compare import require_callable, student_call
from convkit.grading.errors import GradingFailure
from convkit.grading.guard import no_shortcuts
from convkit.grading.training_checks import forward_cost

__all__ = [
    "check_layer_costs",
    "conv_transpose2d_case",
    "cost_models",
    "grouped_conv2d_case",
    "mask_iou_case",
    "overlap_counts",
    "reference_layer_costs",
]

Case = tuple[tuple[Any, ...], dict[str, Any]]
Row = tuple[tuple[int, ...], int]  # (output_shape without the batch axis, multiply-adds)

# -------------------------------------------------------------------------------- cases


def _int(rng: np.random.Generator, low: int, high: int) -> int:
    """A Python int in [low, high]."""
    return int(rng.integers(low, high + 1))


def _values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random float64 values with a few exact small integers mixed in."""
    values = rng.normal(size=shape)
    mask = rng.random(shape) < 0.2
    values[mask] = rng.integers(-3, 4, size=int(mask.sum()))
    return values


def _int_or_pair(rng: np.random.Generator, low: int, high: int) -> int | tuple[int, int]:
    """An int in [low, high], or (40 %) a pair of them."""
    if rng.random() < 0.4:
        return (_int(rng, low, high), _int(rng, low, high))
    return _int(rng, low, high)


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def grouped_conv2d_case(rng: np.random.Generator) -> Case:
    """conv2d(x, weight, bias, stride, padding, dilation, groups): x (N, C_in, H, W),
    weight (C_out, C_in / groups, kh, kw).

    groups 1 to 4 with 1 to 3 input and output channels per group, or (30 %) a depthwise
    convolution (groups = C_in, one or two kernels per channel); kernels 1 to 3 a side,
    stride 1 or 2, padding 0 to 2, dilation 1 or 2 (ints or pairs); the dilated kernel
    always fits the padded input; a bias 60 % of the time.
    """
    n = _int(rng, 1, 2)
    if rng.random() < 0.3:  # depthwise: every channel its own group
        groups = _int(rng, 2, 5)
        per_in, per_out = 1, _int(rng, 1, 2)
    else:
        groups, per_in, per_out = _int(rng, 1, 4), _int(rng, 1, 3), _int(rng, 1, 3)
    c_in, c_out = groups * per_in, groups * per_out
    kh, kw = _int(rng, 1, 3), _int(rng, 1, 3)
    stride, padding, dilation = _int_or_pair(rng, 1, 2), _int_or_pair(rng, 0, 2), 1
    if rng.random() < 0.4:
        dilation = _int_or_pair(rng, 1, 2)
    (ph, pw), (dh, dw) = _pair(padding), _pair(dilation)
    h = _int(rng, max(1, dh * (kh - 1) + 1 - 2 * ph), 9)
    w = _int(rng, max(1, dw * (kw - 1) + 1 - 2 * pw), 9)
    kwargs: dict[str, Any] = {"stride": stride, "padding": padding, "dilation": dilation,
                              "groups": groups}  # fmt: skip
    if rng.random() < 0.6:
        kwargs["bias"] = _values(rng, (c_out,))
    return (_values(rng, (n, c_in, h, w)), _values(rng, (c_out, per_in, kh, kw))), kwargs


def conv_transpose2d_case(rng: np.random.Generator, extras: bool = False) -> Case:
    """conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups,
    dilation): x (N, C_in, H, W), weight (C_in, C_out / groups, kh, kw).

    Kernels 1 to 4 a side, stride 1 to 3, output_padding below the stride (or the
    dilation), padding 0 to 2 where the output keeps at least one row and column (ints or
    pairs); a bias 60 % of the time. ``extras``: groups 1 to 3 and dilation 1 or 2 too
    (otherwise both stay 1).
    """
    n = _int(rng, 1, 2)
    groups = _int(rng, 1, 3) if extras else 1
    per_in, per_out = _int(rng, 1, 3), _int(rng, 1, 3)
    kh, kw = _int(rng, 1, 4), _int(rng, 1, 4)
    h, w = _int(rng, 1, 6), _int(rng, 1, 6)
    stride = _int_or_pair(rng, 1, 3)
    dilation = _int_or_pair(rng, 1, 2) if extras else 1
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    out_pad = (_int(rng, 0, max(sh, dh) - 1), _int(rng, 0, max(sw, dw) - 1))
    pads = []
    for size, k, s, d, extra in ((h, kh, sh, dh, out_pad[0]), (w, kw, sw, dw, out_pad[1])):
        full = (size - 1) * s + d * (k - 1) + 1 + extra
        pads.append(_int(rng, 0, min(2, (full - 1) // 2)))
    padding: int | tuple[int, int] = (pads[0], pads[1])
    output_padding: int | tuple[int, int] = out_pad
    if pads[0] == pads[1] and rng.random() < 0.6:
        padding = pads[0]
    if out_pad[0] == out_pad[1] and rng.random() < 0.6:
        output_padding = out_pad[0]
    kwargs: dict[str, Any] = {"stride": stride, "padding": padding,
                              "output_padding": output_padding}  # fmt: skip
    if extras:
        kwargs["groups"] = groups
        kwargs["dilation"] = dilation
    if rng.random() < 0.6:
        kwargs["bias"] = _values(rng, (groups * per_out,))
    x = _values(rng, (n, groups * per_in, h, w))
    return (x, _values(rng, (groups * per_in, per_out, kh, kw))), kwargs


def mask_iou_case(rng: np.random.Generator) -> Case:
    """mask_iou(pred, target, per_image): masks (N, H, W) of 1 to 5 images (20 %: one
    (H, W) mask, pooled), bools or (30 %) 0/1 integers; every image's masks drawn at its
    own density, some images empty in one mask or in both; per_image given 60 % of the
    time (True or False)."""
    h, w = _int(rng, 2, 7), _int(rng, 2, 7)
    single = rng.random() < 0.2
    n = 1 if single else _int(rng, 1, 5)
    pred = np.zeros((n, h, w), dtype=bool)
    target = np.zeros((n, h, w), dtype=bool)
    for i in range(n):
        kind = rng.random()
        if kind < 0.15 and not single:
            continue  # both empty: the union is empty
        target[i] = rng.random((h, w)) < rng.uniform(0.2, 0.7)
        if kind < 0.25 and not single:
            continue  # nothing predicted
        # a prediction that overlaps the target in part: kept, dropped and extra pixels
        keep = rng.random((h, w)) < rng.uniform(0.3, 1.0)
        extra = rng.random((h, w)) < rng.uniform(0.0, 0.4)
        pred[i] = (target[i] & keep) | extra
    if single:
        pred, target = pred[0], target[0]
    if rng.random() < 0.3:
        dtype = np.uint8 if rng.random() < 0.5 else np.int64
        pred, target = pred.astype(dtype), target.astype(dtype)
    kwargs: dict[str, Any] = {}
    if rng.random() < 0.6:
        kwargs["per_image"] = bool(not single and rng.random() < 0.7)
    return (pred, target), kwargs


# -------------------------------------------------------------------------------- costs


class _Reshaped(nn.Module):
    """``layer`` fed with its input reshaped to ``shape`` (forward_cost feeds (N, C, H, W)
    zeros; a reshape costs no multiply-add)."""

    def __init__(self, layer: nn.Module, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.layer, self.shape = layer, shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x.reshape(self.shape))


def _layers(model: nn.Module) -> list[nn.Module]:
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"expected a torch.nn.Sequential, got {type(model).__name__}")
    return list(model)


def reference_layer_costs(model: nn.Sequential, input_shape: Sequence[int]) -> list[Row]:
    """One ``(output_shape, multiply_adds)`` per layer of ``model`` for ONE input of
    ``input_shape`` (no batch axis, e.g. ``(3, 32, 32)``).

    Each layer runs on the previous layer's output (eval mode, no gradients; the model's
    mode is restored): its output shape without the batch axis, and the multiply-adds
    :func:`forward_cost` counts for that layer alone on an input of that shape (half the
    FLOPs torch's FLOP formulas give convolutions, transposed convolutions and matrix
    products; 0 for pooling, normalisation and activations; biases not counted).
    """
    layers = _layers(model)
    x = torch.zeros((1, *(int(s) for s in input_shape)))
    rows: list[Row] = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for layer in layers:
                shape = tuple(x.shape)
                if len(shape) == 4:
                    macs = forward_cost(layer, shape).multiply_adds
                else:  # (1, features) and the like: fed as (1, numel, 1, 1), reshaped back
                    macs = forward_cost(_Reshaped(layer, shape), (1, x.numel(), 1, 1))
                    macs = macs.multiply_adds
                x = layer(x)
                rows.append((tuple(int(s) for s in x.shape[1:]), int(macs)))
    finally:
        model.train(was_training)
    return rows


def cost_models() -> list[tuple[nn.Sequential, tuple[int, int, int]]]:
    """The hidden test's networks with their input shapes (one input, no batch axis):
    a plain stack (convolutions with and without bias, batch norm, max and average
    pooling, a dense layer); grouped, depthwise and pointwise convolutions with a dilation;
    rectangular kernels, strides and paddings; transposed convolutions (one grouped, one
    with output padding); dense layers only. Groups are never 2, so that a count that
    ignores them cannot pass for one that counts FLOPs."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(12)
        return [
            (nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False), nn.ReLU(),
                nn.AvgPool2d(2), nn.Flatten(), nn.Linear(16 * 4 * 4, 10)), (3, 32, 32)),
            (nn.Sequential(
                nn.Conv2d(8, 12, 3, padding=2, dilation=2, groups=4), nn.ReLU(),
                nn.Conv2d(12, 12, 3, stride=2, groups=12), nn.BatchNorm2d(12),
                nn.Conv2d(12, 24, 1), nn.ReLU(), nn.MaxPool2d(2, stride=1), nn.Flatten(),
                nn.Linear(24 * 6 * 5, 5, bias=False)), (8, 15, 13)),
            (nn.Sequential(
                nn.Conv2d(3, 6, (3, 5), stride=(2, 1), padding=(1, 2)), nn.ReLU(),
                nn.Conv2d(6, 6, (1, 3), dilation=(1, 2), groups=3, bias=False),
                nn.AvgPool2d((2, 3)), nn.Flatten(), nn.Linear(6 * 3 * 4, 4)), (3, 12, 17)),
            (nn.Sequential(
                nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.ReLU(),
                nn.ConvTranspose2d(6, 6, 3, stride=2, padding=1, output_padding=1, groups=3),
                nn.BatchNorm2d(6), nn.ReLU(),
                nn.ConvTranspose2d(6, 2, 4, stride=2, padding=1, bias=False)), (4, 12, 10)),
            (nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 20), nn.ReLU(),
                           nn.Linear(20, 7)), (3, 4, 4)),
        ]  # fmt: skip


def _short(value: Any) -> Any:
    """(3, 3) -> 3; (1, 2) stays a pair."""
    if isinstance(value, tuple) and len(value) and all(v == value[0] for v in value):
        return value[0]
    return value


def _describe(layer: nn.Module) -> str:
    """A layer as one would build it, non-default arguments only:
    ``Conv2d(8, 12, 3, padding=2, dilation=2, groups=4)``."""
    kind = type(layer).__name__
    parts: list[str] = []
    if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
        parts = [str(layer.in_channels), str(layer.out_channels), str(_short(layer.kernel_size))]
        for key, default in (("stride", 1), ("padding", 0), ("output_padding", 0),
                             ("dilation", 1), ("groups", 1)):  # fmt: skip
            value = _short(getattr(layer, key, default))
            if value != default:
                parts.append(f"{key}={value}")
    elif isinstance(layer, nn.Linear):
        parts = [str(layer.in_features), str(layer.out_features)]
    elif isinstance(layer, nn.BatchNorm2d):
        parts = [str(layer.num_features)]
    elif isinstance(layer, nn.MaxPool2d | nn.AvgPool2d):
        kernel, stride = _short(layer.kernel_size), _short(layer.stride)
        parts = [str(kernel)] + ([f"stride={stride}"] if stride != kernel else [])
        if _short(layer.padding) != 0:
            parts.append(f"padding={_short(layer.padding)}")
    if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d | nn.Linear) and layer.bias is None:
        parts.append("bias=False")
    return f"{kind}({', '.join(parts)})"


def _numel(shape: Sequence[int]) -> int:
    total = 1
    for s in shape:
        total *= int(s)
    return total


def _shape_note(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    if len(got) == len(want) + 1 and got[1:] == want:
        return (" — that has the batch axis in front: give the shape of one output, "
                "without the batch axis")  # fmt: skip
    return ""


def _cost_note(layer: nn.Module, in_shape: tuple[int, ...], out_shape: tuple[int, ...],
               expected: int, got: int) -> str:  # fmt: skip
    """`` — <the likely mistake>`` for a wrong multiply-add count, or ""."""
    kind = type(layer).__name__
    if expected == 0:
        if got == 0:
            return ""
        return (f" — a {kind} has no weights: the course counts the multiply-adds of weighted "
                "layers only (convolutions, transposed convolutions, linear layers), so it "
                "costs 0")  # fmt: skip
    notes = []
    if got == 2 * expected:
        notes.append("FLOPs (a multiply and an add each): a multiply-add counts once")
    groups = int(getattr(layer, "groups", 1))
    if groups > 1 and got == expected * groups:
        if isinstance(layer, nn.Conv2d):
            reach = (f"each output value of a grouped convolution reads only the C_in / groups "
                     f"= {layer.in_channels // groups} input channels of its group")  # fmt: skip
        else:
            reach = (f"each input value of a grouped transposed convolution scatters into only "
                     f"the C_out / groups = {layer.out_channels // groups} output channels of "
                     "its group")  # fmt: skip
        notes.append(f"the count with the groups ignored: {reach}")
    bias = getattr(layer, "bias", None) is not None
    outputs = _numel(out_shape)
    if bias and got in (expected + outputs, 2 * expected + outputs):
        flops = "FLOPs with " if got != expected + outputs else "a count with "
        notes.append(f"{flops}the bias in it: the course counts the multiply-adds of the "
                     "weights only, once each, not the additions of the bias")  # fmt: skip
    if isinstance(layer, nn.ConvTranspose2d):
        kh, kw = layer.kernel_size
        like_conv = outputs * (layer.in_channels // groups) * kh * kw
        if like_conv != expected and got == like_conv:
            notes.append(
                "a count like a convolution's over the output: in a transposed convolution "
                "each of the C_in * H_in * W_in input values scatters a kernel into the "
                "C_out / groups channels of its group, C_in * H_in * W_in * (C_out / groups) "
                "* kh * kw"
            )
    if not notes and got > expected and got % expected == 0:
        notes.append(
            f"{got // expected} times the right count: the costs are for ONE input; if you "
            "ran a batch through the model, divide by its size (or run one input)"
        )
    return " — your count equals " + "; or ".join(notes) if notes else ""


def _plain_rows(value: Any, count: int) -> list[Row]:
    """The student's result as a list of (tuple of ints, int): a failure naming what is
    not of that form."""
    if type(value) is not list and type(value) is not tuple:
        raise GradingFailure(
            f"the result is {T._short_type(value)}; return a list with one "
            "(output_shape, multiply_adds) pair per layer"
        )
    if len(value) != count:
        raise GradingFailure(
            f"the result has {len(value)} rows for a model of {count} layers: one "
            "(output_shape, multiply_adds) pair per layer of the Sequential, in order"
        )
    rows: list[Row] = []
    for i, row in enumerate(value):
        if (type(row) is not list and type(row) is not tuple) or len(row) != 2:
            raise GradingFailure(f"row {i} of the result is not an (output_shape, "
                                 "multiply_adds) pair")  # fmt: skip
        shape, macs = row
        if not isinstance(shape, list | tuple):  # torch.Size is a tuple
            raise GradingFailure(
                f"row {i}: the output shape is {T._short_type(shape)}; give a tuple of ints "
                "such as (8, 16, 16)"
            )
        sizes = tuple(T.plain_scalar(s, f"row {i}: the output shape", integer=True)
                      for s in shape)  # fmt: skip
        rows.append((sizes, T.plain_scalar(macs, f"row {i}: the multiply-adds", integer=True)))
    return rows


# torch functions the reference counts rely on, as they were when grading was imported: a
# notebook that replaces one (or a FLOP formula) fails the check instead of passing it.
_WATCHED = (
    (nn.Module, "__call__"), (nn.Module, "_call_impl"), (nn.Module, "eval"),
    (nn.Module, "train"), (nn.Sequential, "__iter__"), (nn.Sequential, "forward"),
    (nn.Conv2d, "forward"), (nn.Conv2d, "_conv_forward"), (nn.ConvTranspose2d, "forward"),
    (nn.Linear, "forward"), (nn.BatchNorm2d, "forward"), (nn.ReLU, "forward"),
    (nn.MaxPool2d, "forward"), (nn.AvgPool2d, "forward"), (nn.Flatten, "forward"),
    (F, "conv2d"), (F, "conv_transpose2d"), (F, "linear"), (torch, "conv2d"),
    (torch, "conv_transpose2d"), (torch, "zeros"),
)  # fmt: skip
_CAPTURED = {(id(owner), name): owner.__dict__.get(name, getattr(owner, name))
             for owner, name in _WATCHED}  # fmt: skip
_FORMULAS = dict(flop_registry)


def _assert_torch_intact() -> None:
    for owner, name in _WATCHED:
        now = owner.__dict__.get(name, getattr(owner, name, None))
        if now is not _CAPTURED[(id(owner), name)]:
            raise GradingFailure(
                f"{getattr(owner, '__name__', str(owner))}.{name} was replaced in this "
                "notebook, so no cost can be graded. Remove the code that changes torch, "
                "restart the kernel and run all cells."
            )
    if len(flop_registry) != len(_FORMULAS) or any(
        flop_registry.get(op) is not formula for op, formula in _FORMULAS.items()
    ):
        raise GradingFailure(
            "torch's FLOP formulas (torch.utils.flop_counter.flop_registry) were changed in "
            "this notebook, so no cost can be graded. Remove that code, restart the kernel "
            "and run all cells."
        )


def check_layer_costs(
    student_fn: Any,
    models: Sequence[tuple[nn.Sequential, Sequence[int]]] | None = None,
    *,
    name: str = "layer_costs",
) -> None:
    """Grade ``layer_costs(model, input_shape)``: for a ``torch.nn.Sequential`` and ONE
    input's shape (no batch axis) -> a list with one ``(output_shape, multiply_adds)``
    pair per layer, in order (shapes without the batch axis, counts as ints).

    models: ``(model, input_shape)`` pairs, by default :func:`cost_models`. The student's
    function gets a copy of each model and runs under the guard with torch's layers
    allowed (running the model is fine; torch's FLOP counter and profilers, and convkit's
    own ``layer_costs``, are refused). Every row is compared with
    :func:`reference_layer_costs`: first the output shapes, then the multiply-adds; a
    wrong count names its likely mistake. Raises GradingFailure or ShortcutError.
    """
    __tracebackhide__ = True
    T.assert_numpy_intact()
    _assert_torch_intact()
    require_callable(student_fn, name)
    for model, input_shape in cost_models() if models is None else models:
        shape = tuple(int(s) for s in input_shape)
        layers = _layers(model)
        expected = reference_layer_costs(model, shape)
        listed = ", ".join(_describe(layer) for layer in layers)
        call = f"{name}(Sequential({listed}), input_shape={shape})"
        given = copy.deepcopy(model)
        with student_call(name, call), no_shortcuts(allow=(TORCH_LAYERS,)):
            got = _plain_rows(student_fn(given, shape), len(layers))
        in_shapes = [shape, *(row[0] for row in expected[:-1])]
        for i, (layer, (want_shape, want), (have_shape, have)) in enumerate(
            zip(layers, expected, got, strict=True)
        ):
            where = f"{call}: layer {i}, {_describe(layer)}, on an input of shape {in_shapes[i]}"
            if have_shape != want_shape:
                raise GradingFailure(
                    f"{where}: output shape expected {want_shape}, got {have_shape}"
                    + _shape_note(have_shape, want_shape)
                )
            if have != want:
                raise GradingFailure(
                    f"{where}: multiply-adds expected {want:,}, got {have:,}"
                    + _cost_note(layer, in_shapes[i], want_shape, want, have)
                )


# -------------------------------------------------------------------------------- predict


def overlap_counts(
    size: int, kernel: int, stride: int, padding: int = 0, output_padding: int = 0
) -> np.ndarray:
    """How many kernel copies a transposed convolution adds up at each output pixel.

    -> (H_out, H_out) ints: ``conv_transpose2d`` of a ``size`` x ``size`` input of ones
    with one ``kernel`` x ``kernel`` kernel of ones (convkit's reference). With a stride
    that does not divide the kernel the counts alternate (kernel 3, stride 2: 1, 2 and 4,
    a checkerboard); with one that does they are even away from the border.
    """
    ones = np.ones((1, 1, size, size))
    out = convkit.conv_transpose2d(ones, np.ones((1, 1, kernel, kernel)), stride=stride,
                                   padding=padding, output_padding=output_padding)  # fmt: skip
    return np.rint(out[0, 0]).astype(np.int64)
