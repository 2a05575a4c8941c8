"""Reproducible random test cases for the hidden tests (fixed seed, varied shapes).

``random_cases(kind, n, seed, **options)`` returns a list of ``(args, kwargs)``
pairs ready for :func:`convkit.grading.check_function`.  Every generator draws
from ``numpy.random.default_rng(seed)``, so a notebook's hidden tests see the same
cases on every run and on every student's submission.

Kinds: ``linear_params``, ``conv2d_params``, ``conv1d_matrix``, ``shift2d``,
``equivariance_error``, ``correlate2d``, ``convolve2d``, ``conv1d``, ``conv2d``,
``pad2d``, ``conv2d_strided`` (conv2d with stride and padding),
``apply_filter_bank``, ``learn_kernel`` (``converge=True``: enough steps to recover
the hidden kernel).
``max_pool2d`` / ``avg_pool2d`` (options ``padding``, ``overlap``, ``ties``),
``global_avg_pool2d``, ``max_pool2d_backward`` (same options; padding off by default).
``output_size`` (``dilation=False``: dilation 1), ``output_size_no_fit`` (windows that
do not fit: the reference raises, see solutions/ch05), ``shape_trace`` (``pool=False``:
convolutions only), ``receptive_field`` (``dilation=False``: (kernel, stride) pairs).
``im2col``, ``conv2d_backward`` (``pairs=False``: int stride and padding) for ch07, with
:func:`conv_module_forward` / :func:`conv_module_gradients` (a student's conv module as
functions of conv2d's / conv2d_backward's arguments) and :func:`check_no_position_loops`;
``numerical_gradient`` (a :class:`ScalarLoss` and the array it reads) with
:func:`check_gradient_checker`, and ``gradient_errors`` (a conv2d case and a backward
pass returning true or deliberately buggy gradients, ``bug=...``).
``patchify`` (``pairs=False``: square patches only), ``patch_embed`` (``bias=False``:
no bias) and ``depthwise_separable_params`` for ch09.
``batch_norm`` (``training=True/False``: one mode only; ``running=True``: training
cases always carry running statistics), ``batch_norm_backward`` (``training=...``;
``small=True``: at most about 48 entries, for centred differences), ``group_norm`` and
``kaiming_std`` for ch10.
A callable ``kind(rng) -> (args, kwargs)`` is accepted too.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from sys import settrace as _settrace  # bound now: the notebook cannot swap it
from typing import Any

import numpy as np
from numpy.random import Generator, default_rng  # bound now: the notebook cannot swap them

from convkit._checks import window_output_size
from convkit.grading import _rules
from convkit.grading.errors import GradingFailure

Case = tuple[tuple[Any, ...], dict[str, Any]]


def _values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random float64 values with a few exact small integers mixed in."""
    values = rng.normal(size=shape)
    mask = rng.random(shape) < 0.2
    values[mask] = rng.integers(-3, 4, size=int(mask.sum()))
    return values


def _int(rng: np.random.Generator, low: int, high: int) -> int:
    """A Python int in [low, high]."""
    return int(rng.integers(low, high + 1))


def _linear_params(rng: np.random.Generator) -> Case:
    return (_int(rng, 1, 5000), _int(rng, 1, 3000)), {"bias": bool(rng.random() < 0.5)}


def _conv2d_params(rng: np.random.Generator) -> Case:
    kh = _int(rng, 1, 7)
    kernel: int | tuple[int, int] = kh if rng.random() < 0.6 else (kh, _int(rng, 1, 7))
    args = (_int(rng, 1, 512), _int(rng, 1, 512), kernel)
    return args, {"bias": bool(rng.random() < 0.5)}


def _conv1d_matrix(rng: np.random.Generator, stride: bool = True, padding: bool = True) -> Case:
    k = _int(rng, 1, 5)
    pad = _int(rng, 0, 2) if padding else 0
    length = _int(rng, max(1, k - 2 * pad), 12)
    kwargs = {}
    if stride:
        kwargs["stride"] = _int(rng, 1, 3)
    if padding:
        kwargs["padding"] = pad
    return (_values(rng, (k,)), length), kwargs


def _shift2d(rng: np.random.Generator) -> Case:
    shape = (_int(rng, 1, 3),) if rng.random() < 0.4 else ()
    h, w = _int(rng, 2, 8), _int(rng, 2, 8)
    dy, dx = _int(rng, -h, h), _int(rng, -w, w)
    kwargs = {"fill": float(_int(rng, -2, 2))} if rng.random() < 0.3 else {}
    return (_values(rng, (*shape, h, w)), dy, dx), kwargs


# -- operations handed to the student's equivariance_error -------------------------
# Their code objects are registered as callable by students (the guard refuses
# the rest of convkit.grading); each holds a precomputed matrix or mask, so it
# offers nothing a student could reuse to skip an exercise.
def _matrix_op(matrix: np.ndarray, out_shape: tuple[int, ...], label: str) -> Callable:
    """op(a) = (matrix @ a.ravel()).reshape(out_shape): any linear map on an (H, W) image."""

    def op(a: np.ndarray) -> np.ndarray:
        return (matrix @ np.asarray(a, dtype=np.float64).reshape(-1)).reshape(out_shape)

    op.__name__ = op.__qualname__ = label
    _rules.STUDENT_CALLABLE_CODES.add(op.__code__)
    return op


def _correlation_matrix(kernel: np.ndarray, h: int, w: int) -> np.ndarray:
    """Dense matrix of a valid 2-D cross-correlation of an (h, w) image with ``kernel``."""
    kh, kw = kernel.shape
    oh, ow = h - kh + 1, w - kw + 1
    matrix = np.zeros((oh * ow, h * w))
    for i in range(oh):
        for j in range(ow):
            for m in range(kh):
                for n in range(kw):
                    matrix[i * ow + j, (i + m) * w + (j + n)] = kernel[m, n]
    return matrix


def _pointwise_op(kind: str, h: int, w: int, rng: np.random.Generator) -> Callable:
    ramp = np.arange(h * w, dtype=np.float64).reshape(h, w) / (h * w)

    def op(a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64)
        if kind == "relu":
            return np.maximum(a, 0.0)
        if kind == "ramp":
            return a * ramp
        # 2x2 max pooling with stride 2 (crop odd edges)
        hh, ww = (a.shape[-2] // 2) * 2, (a.shape[-1] // 2) * 2
        a = a[..., :hh, :ww]
        return a.reshape(*a.shape[:-2], hh // 2, 2, ww // 2, 2).max(axis=(-3, -1))

    op.__name__ = op.__qualname__ = {
        "relu": "relu",
        "ramp": "multiply_by_position_ramp",
        "pool": "max_pool_2x2",
    }[kind]
    _rules.STUDENT_CALLABLE_CODES.add(op.__code__)
    return op


def _equivariance_error(rng: np.random.Generator) -> Case:
    h, w = _int(rng, 6, 9), _int(rng, 6, 9)
    x = _values(rng, (h, w))
    dy, dx = _int(rng, -2, 2), _int(rng, -2, 2)
    choice = _int(rng, 0, 4)
    if choice == 0:
        k = _int(rng, 2, 3)
        out_h, out_w = h - k + 1, w - k + 1
        op = _matrix_op(_correlation_matrix(_values(rng, (k, k)), h, w),
                        (out_h, out_w), f"cross_correlation_{k}x{k}")
        margin = _int(rng, 0, min(2, (min(out_h, out_w) - 1) // 2))
    elif choice == 1:
        op = _matrix_op(rng.normal(size=(h * w, h * w)), (h, w), "dense_layer")
        margin = _int(rng, 0, 2)
    else:
        op = _pointwise_op(("relu", "ramp", "pool")[choice - 2], h, w, rng)
        margin = _int(rng, 0, 1)
    return (op, x, dy, dx, margin), {}


def _correlate2d(rng: np.random.Generator) -> Case:
    h, w = _int(rng, 1, 8), _int(rng, 1, 8)
    kh, kw = _int(rng, 1, h), _int(rng, 1, w)
    return (_values(rng, (h, w)), _values(rng, (kh, kw))), {}


def _conv1d(rng: np.random.Generator, bias: bool = True) -> Case:
    n, c, o = _int(rng, 1, 3), _int(rng, 1, 4), _int(rng, 1, 4)
    k = _int(rng, 1, 5)
    length = _int(rng, k, 12)
    kwargs = {}
    if bias and rng.random() < 0.6:
        kwargs["bias"] = _values(rng, (o,))
    return (_values(rng, (n, c, length)), _values(rng, (o, c, k))), kwargs


def _conv2d(rng: np.random.Generator, single_channel: bool = False, bias: bool = True) -> Case:
    n = _int(rng, 1, 3)
    c, o = (1, 1) if single_channel else (_int(rng, 1, 4), _int(rng, 1, 4))
    h, w = _int(rng, 1, 8), _int(rng, 1, 8)
    kh, kw = _int(rng, 1, min(h, 4)), _int(rng, 1, min(w, 4))
    kwargs = {}
    if bias and rng.random() < 0.7:
        kwargs["bias"] = _values(rng, (o,))
    return (_values(rng, (n, c, h, w)), _values(rng, (o, c, kh, kw))), kwargs


def _pad2d(rng: np.random.Generator, four_sides: bool = True) -> Case:
    """pad2d(x, padding[, value]): x of shape (..., H, W); padding an int, a pair or a
    4-tuple (left, right, top, bottom) (no 4-tuples when ``four_sides`` is False)."""
    lead = tuple(_int(rng, 1, 3) for _ in range(_int(rng, 0, 2)))
    x = _values(rng, (*lead, _int(rng, 1, 6), _int(rng, 1, 6)))
    form = _int(rng, 0, 2 if four_sides else 1)
    padding: int | tuple[int, ...]
    if form == 0:
        padding = _int(rng, 0, 3)
    elif form == 1:
        padding = (_int(rng, 0, 3), _int(rng, 0, 3))
    else:
        padding = tuple(_int(rng, 0, 3) for _ in range(4))
    kwargs = {"value": float(_int(rng, -2, 2))} if rng.random() < 0.3 else {}
    return (x, padding), kwargs


def _conv2d_strided(rng: np.random.Generator, pairs: bool = True, bias: bool = True) -> Case:
    """conv2d with stride and padding, each an int or (when ``pairs``) a pair; the
    kernel always fits the padded input."""
    n, c, o = _int(rng, 1, 3), _int(rng, 1, 3), _int(rng, 1, 3)
    kh, kw = _int(rng, 1, 4), _int(rng, 1, 4)
    if pairs and rng.random() < 0.6:
        stride: int | tuple[int, int] = (_int(rng, 1, 3), _int(rng, 1, 3))
        padding: int | tuple[int, int] = (_int(rng, 0, 2), _int(rng, 0, 2))
    else:
        stride, padding = _int(rng, 1, 3), _int(rng, 0, 2)
    ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
    h = _int(rng, max(1, kh - 2 * ph), 9)
    w = _int(rng, max(1, kw - 2 * pw), 9)
    kwargs: dict[str, Any] = {"stride": stride, "padding": padding}
    if bias and rng.random() < 0.6:
        kwargs["bias"] = _values(rng, (o,))
    return (_values(rng, (n, c, h, w)), _values(rng, (o, c, kh, kw))), kwargs


def _apply_filter_bank(rng: np.random.Generator) -> Case:
    """apply_filter_bank(image (H, W), kernels (K, kh, kw)), the kernels fitting the image."""
    h, w = _int(rng, 1, 9), _int(rng, 1, 9)
    kh, kw = _int(rng, 1, min(h, 4)), _int(rng, 1, min(w, 4))
    return (_values(rng, (h, w)), _values(rng, (_int(rng, 1, 4), kh, kw))), {}


def _learn_kernel(rng: np.random.Generator, converge: bool = False) -> Case:
    """learn_kernel(inputs, outputs, kernel_size, steps, lr): outputs made by a hidden kernel.

    ``converge``: enough steps for plain gradient descent to recover the hidden
    kernel; otherwise a few steps (the exact path of the descent is compared).
    """
    kh, kw = _int(rng, 1, 3), _int(rng, 1, 3)
    n = _int(rng, 2, 4)
    h, w = _int(rng, kh + 4, kh + 7), _int(rng, kw + 4, kw + 7)
    inputs = rng.normal(size=(n, h, w))
    hidden = _values(rng, (kh, kw))
    oh, ow = h - kh + 1, w - kw + 1
    outputs = np.zeros((n, oh, ow))
    for m in range(kh):
        for q in range(kw):
            outputs += hidden[m, q] * inputs[:, m : m + oh, q : q + ow]
    size: int | tuple[int, int] = kh if kh == kw and rng.random() < 0.5 else (kh, kw)
    if converge:
        steps, lr = 150, 0.3
    else:
        steps, lr = _int(rng, 1, 5), float(rng.choice([0.05, 0.1, 0.2, 0.3]))
    return (inputs, outputs, size, steps, lr), {}


def _pool2d(
    rng: np.random.Generator, padding: bool = True, overlap: bool = False, ties: bool = False
) -> Case:
    """max_pool2d / avg_pool2d(x, kernel_size, stride, padding): int or pair settings,
    stride omitted (= kernel) about a third of the time, padding at most half the kernel.
    ``overlap``: strides smaller than the kernel; ``ties``: small integer values."""
    n, c = _int(rng, 1, 3), _int(rng, 1, 3)
    kh, kw = _int(rng, 1, 3), _int(rng, 1, 3)
    square = rng.random() < 0.5
    kernel: int | tuple[int, int] = kh if square else (kh, kw)
    kw = kh if square else kw
    kwargs: dict[str, Any] = {}
    if overlap:
        sh, sw = _int(rng, 1, max(1, kh - 1)), _int(rng, 1, max(1, kw - 1))
        kwargs["stride"] = sh if square and sh == sw else (sh, sw)
    elif rng.random() < 0.65:
        sh, sw = _int(rng, 1, 3), _int(rng, 1, 3)
        kwargs["stride"] = sh if rng.random() < 0.5 else (sh, sw)
    if padding and rng.random() < 0.5:
        ph, pw = _int(rng, 0, kh // 2), _int(rng, 0, kw // 2)
        kwargs["padding"] = ph if ph == pw and rng.random() < 0.5 else (ph, pw)
    h, w = _int(rng, kh, 9), _int(rng, kw, 9)
    if ties:
        x = rng.integers(-2, 3, size=(n, c, h, w)).astype(np.float64)
    else:
        x = _values(rng, (n, c, h, w))
    return (x, kernel), kwargs


def _global_avg_pool2d(rng: np.random.Generator) -> Case:
    """global_avg_pool2d(x): a random (N, C, H, W) batch."""
    shape = (_int(rng, 1, 3), _int(rng, 1, 4), _int(rng, 1, 8), _int(rng, 1, 8))
    return (_values(rng, shape),), {}


def _max_pool2d_backward(
    rng: np.random.Generator, padding: bool = False, overlap: bool = False, ties: bool = False
) -> Case:
    """max_pool2d_backward(grad_out, x, kernel_size, stride, padding): a pooling case of
    :func:`_pool2d` plus a random upstream gradient of the pooled shape."""
    (x, kernel), kwargs = _pool2d(rng, padding=padding, overlap=overlap, ties=ties)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    stride = kwargs.get("stride", kernel)
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    pad = kwargs.get("padding", 0)
    ph, pw = (pad, pad) if isinstance(pad, int) else pad
    h_out = window_output_size("max_pool2d_backward", "height", x.shape[2], kh, sh, ph, ph)
    w_out = window_output_size("max_pool2d_backward", "width", x.shape[3], kw, sw, pw, pw)
    out_shape = (x.shape[0], x.shape[1], h_out, w_out)
    args = (_values(rng, out_shape), x, kernel)
    return args, {k: kwargs[k] for k in ("stride", "padding") if k in kwargs}


def _output_size(rng: np.random.Generator, dilation: bool = True) -> Case:
    """output_size(size, kernel_size, stride, padding, dilation) with a window that fits;
    ``dilation=False`` keeps dilation at its default 1."""
    k, s, p = _int(rng, 1, 11), _int(rng, 1, 5), _int(rng, 0, 5)
    d = _int(rng, 1, 4) if dilation and rng.random() < 0.6 else 1
    size = max(1, d * (k - 1) + 1 - 2 * p) + _int(rng, 0, 40)
    kwargs: dict[str, Any] = {"stride": s, "padding": p}
    if d != 1 or rng.random() < 0.2:
        kwargs["dilation"] = d
    return (size, k), kwargs


def _output_size_no_fit(rng: np.random.Generator) -> Case:
    """output_size arguments whose (dilated) window is wider than the padded input."""
    d, p = _int(rng, 1, 3), _int(rng, 0, 3)
    k = _int(rng, max(2, (2 * p + 1) // d + 2), 12)  # span d(k-1)+1 >= 2p + 2
    span = d * (k - 1) + 1
    size = _int(rng, 1, span - 2 * p - 1)
    return (size, k), {"stride": _int(rng, 1, 3), "padding": p, "dilation": d}


def _trace_layer(rng: np.random.Generator, pool: bool) -> tuple[tuple, int, int, int, int]:
    """One random layer spec and its (kernel, stride, padding, dilation)."""
    if pool and rng.random() < 0.35:
        k = _int(rng, 2, 3)
        s = k if rng.random() < 0.5 else _int(rng, 1, k)
        return (("pool", k) if s == k and rng.random() < 0.7 else ("pool", k, s)), k, s, 0, 1
    k = _int(rng, 1, 5)
    s, p, d = _int(rng, 1, 2), _int(rng, 0, k // 2 + 1), _int(rng, 1, 2)
    given = _int(rng, 0, 3)  # how many of stride, padding, dilation the spec spells out
    s, p, d = (s, p, d)[:given] + (1, 0, 1)[given:]
    return ("conv", _int(rng, 1, 64), k, *(s, p, d)[:given]), k, s, p, d


def _shape_trace(rng: np.random.Generator, pool: bool = True) -> Case:
    """shape_trace((C, H, W), layers): 1 to 6 conv / pool specs whose windows all fit."""
    start = (_int(rng, 1, 4), _int(rng, 8, 64), _int(rng, 8, 64))
    h, w = start[1:]
    layers: list[tuple] = []
    for _ in range(_int(rng, 1, 6)):
        spec, k, s, p, d = _trace_layer(rng, pool)
        span = d * (k - 1) + 1
        if span > min(h, w) + 2 * p:
            break  # the stack ends before a layer whose window would not fit
        h = window_output_size("shape_trace", "height", h, k, s, p, p, d)
        w = window_output_size("shape_trace", "width", w, k, s, p, p, d)
        layers.append(spec)
    return (start, layers or [("conv", _int(rng, 1, 8), 1)]), {}


def _receptive_field(rng: np.random.Generator, dilation: bool = True) -> Case:
    """receptive_field(layers): 0 to 6 (kernel, stride[, dilation]) tuples."""
    layers = []
    for _ in range(_int(rng, 0, 6)):
        layer = (_int(rng, 1, 7), _int(rng, 1, 3))
        if dilation and rng.random() < 0.4:
            layer += (_int(rng, 1, 3),)
        layers.append(layer)
    return (layers,), {}


# -- ch07: im2col, conv2d's gradients, a conv module, loops over positions --------------
def _im2col(rng: np.random.Generator, pairs: bool = True) -> Case:
    """im2col(x, kernel_size, stride, padding): a conv2d_strided batch (the kernel fits the
    padded input), the kernel size an int when square about half the time."""
    (x, weight), kwargs = _conv2d_strided(rng, pairs=pairs, bias=False)
    kh, kw = weight.shape[2:]
    kernel: int | tuple[int, int] = kh if kh == kw and rng.random() < 0.5 else (kh, kw)
    return (x, kernel), kwargs


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


def _conv2d_backward(rng: np.random.Generator, pairs: bool = True) -> Case:
    """conv2d_backward(grad_out, x, weight, stride, padding): a conv2d_strided case plus a
    random upstream gradient of the output's shape."""
    (x, weight), kwargs = _conv2d_strided(rng, pairs=pairs, bias=False)
    (sh, sw), (ph, pw) = _pair(kwargs["stride"]), _pair(kwargs["padding"])
    h_out = window_output_size("conv2d_backward", "height", x.shape[2], weight.shape[2], sh, ph, ph)
    w_out = window_output_size("conv2d_backward", "width", x.shape[3], weight.shape[3], sw, pw, pw)
    grad_out = _values(rng, (x.shape[0], weight.shape[0], h_out, w_out))
    return (grad_out, x, weight), kwargs


def _student_callable(fn: Callable) -> Callable:
    """Register ``fn``'s code (and the code nested in it) as callable by graded code."""
    _rules.STUDENT_CALLABLE_CODES.update(_rules._walk_code(fn.__code__))
    return fn


@_student_callable
def _conv_layer(cls: Any, weight: np.ndarray, bias: np.ndarray | None, stride: Any,
                padding: Any) -> Any:
    """The student's layer class built like nn.Conv2d(C_in, C_out, k, stride, padding,
    bias=...), in float64, holding ``weight`` (C_out, C_in, kh, kw) and ``bias`` (C_out,)."""
    import torch

    if not isinstance(cls, type) or not issubclass(cls, torch.nn.Module):
        raise GradingFailure(f"UnfoldConv2d should be a subclass of torch.nn.Module, got "
                             f"{type(cls).__name__}: run the cell that defines the class")
    c_out, c_in, kh, kw = weight.shape
    kernel = kh if kh == kw else (kh, kw)
    call = (f"UnfoldConv2d({c_in}, {c_out}, {kernel}, stride={stride}, padding={padding}, "
            f"bias={bias is not None})")
    layer = cls(c_in, c_out, kernel, stride=stride, padding=padding, bias=bias is not None)
    if not isinstance(layer, torch.nn.Module):
        raise GradingFailure(f"{call} did not make a torch.nn.Module")
    layer = layer.double()
    expected = {"weight": tuple(weight.shape), "bias": (c_out,) if bias is not None else None}
    for name, shape in expected.items():
        param = getattr(layer, name, None)
        if shape is None:
            if param is not None:
                raise GradingFailure(f"{call}: with bias=False, layer.bias should be None "
                                     "(as in nn.Conv2d)")
            continue
        if not isinstance(param, torch.nn.Parameter) or tuple(param.shape) != shape:
            got = "missing" if param is None else f"{type(param).__name__} of shape " \
                f"{tuple(getattr(param, 'shape', ()))}"
            raise GradingFailure(f"{call}: layer.{name} should be an nn.Parameter of shape "
                                 f"{shape} (as in nn.Conv2d), got {got}")
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(np.array(weight, dtype=np.float64)))
        if bias is not None:
            layer.bias.copy_(torch.from_numpy(np.array(bias, dtype=np.float64)))
    return layer


@_student_callable
def _run_layer(layer: Any, x: Any) -> Any:
    """``layer(x)``, checked to be a tensor."""
    import torch

    out = layer(x)
    if not isinstance(out, torch.Tensor):
        raise GradingFailure(f"forward() should return a torch.Tensor, got {type(out).__name__}")
    return out


def conv_module_forward(cls: Any) -> Callable:
    """The forward pass of the student's conv module class ``cls`` as a function.

    x: (N, C_in, H, W), weight: (C_out, C_in, kh, kw) -> (N, C_out, H_out, W_out) float64.

    The returned function takes conv2d's arguments (x, weight, bias (C_out,) or None,
    stride, padding), for :func:`check_function` against ``convkit.conv2d``, and
    returns a float64 ndarray.
    """

    def forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                stride: Any = 1, padding: Any = 0) -> np.ndarray:
        import torch

        layer = _conv_layer(cls, weight, bias, stride, padding)
        return _run_layer(layer, torch.from_numpy(np.array(x, dtype=np.float64))).detach().numpy()

    forward.__name__ = forward.__qualname__ = "UnfoldConv2d_forward"
    return _student_callable(forward)


def conv_module_gradients(cls: Any) -> Callable:
    """The backward pass of the student's conv module class ``cls`` as a function.

    grad_out: (N, C_out, H_out, W_out), x, weight -> (grad_x, grad_weight, grad_bias).

    The returned function takes conv2d_backward's arguments (grad_out, x (N, C_in, H, W),
    weight (C_out, C_in, kh, kw), stride, padding), for :func:`check_function` against
    ``convkit.conv2d_backward``, and returns the gradients autograd finds through the
    student's forward pass (a layer with bias).
    """

    def gradients(grad_out: np.ndarray, x: np.ndarray, weight: np.ndarray, stride: Any = 1,
                  padding: Any = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import torch

        layer = _conv_layer(cls, weight, np.zeros(weight.shape[0]), stride, padding)
        xt = torch.from_numpy(np.array(x, dtype=np.float64)).requires_grad_(True)
        out = _run_layer(layer, xt)
        if tuple(out.shape) != tuple(grad_out.shape):
            raise GradingFailure(f"the output has shape {tuple(out.shape)}, expected "
                                 f"{tuple(grad_out.shape)}")
        out.backward(torch.from_numpy(np.array(grad_out, dtype=np.float64)))
        grads = (xt.grad, layer.weight.grad, layer.bias.grad)
        if any(g is None for g in grads):
            raise GradingFailure("no gradient reached the input, the weight or the bias: "
                                 "does forward() detach something or leave a parameter out?")
        return tuple(g.detach().numpy() for g in grads)

    gradients.__name__ = gradients.__qualname__ = "UnfoldConv2d_gradients"
    return _student_callable(gradients)


# -- ch07: a gradient checker, and a gradient check of conv2d_backward ----------------
class ScalarLoss:
    """A smooth, non-linear scalar function of one float64 array, which it reads in place.

    a: any shape -> float: ``sum(c * sin(a)) + sum(d * a**2) / 2 + (sum(e * a))**2 / 4``
    with fixed random coefficient arrays c, d, e of a's shape. Called with no
    arguments (``f()``), as :func:`convkit.lessons.gradcheck.numerical_gradient`
    expects; :meth:`gradient` is its exact gradient. The hidden tests hand it to the
    student's gradient checker (its ``__call__`` is registered as callable by graded
    code; it offers nothing a student could reuse).
    """

    __name__ = "smooth_loss"

    def __init__(self, array: np.ndarray, rng: np.random.Generator) -> None:
        self.array = array
        self.c, self.d, self.e = (rng.normal(size=array.shape) for _ in range(3))

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        if args or kwargs:
            raise GradingFailure(
                "f takes no arguments: it reads the array a itself. Change an entry of a "
                "in place, call f(), and put the entry back."
            )
        a = self.array
        return float(np.sum(self.c * np.sin(a)) + np.sum(self.d * a * a) / 2
                     + np.sum(self.e * a) ** 2 / 4)

    def gradient(self) -> np.ndarray:
        """df/da at the array's current values: ``c cos(a) + d a + e sum(e a) / 2``."""
        a = self.array
        return self.c * np.cos(a) + self.d * a + self.e * np.sum(self.e * a) / 2


_rules.STUDENT_CALLABLE_CODES.update(_rules._walk_code(ScalarLoss.__call__.__code__))

# eps of the cases (None: the student's default); large ones make a one-sided
# difference fail clearly (its error grows like eps, the centred one's like eps**2).
GRADIENT_EPS = (None, None, 1e-4, 1e-3, 1e-2, 0.05)


def _numerical_gradient(rng: np.random.Generator) -> Case:
    """numerical_gradient(f, a, eps): a float64 array of 1 to 4 axes (at most 24 entries)
    and a :class:`ScalarLoss` f reading it (a shared object: deep copies keep f reading
    their own a)."""
    ndim = _int(rng, 1, 4)
    shape = tuple(_int(rng, 1, 4 if ndim < 3 else 2) for _ in range(ndim))
    a = rng.normal(size=shape)
    eps = GRADIENT_EPS[_int(rng, 0, len(GRADIENT_EPS) - 1)]
    return (ScalarLoss(a, rng), a), ({} if eps is None else {"eps": eps})


def _difference_mistake(case: Case, expected: np.ndarray, got: Any,
                        at_default_eps: np.ndarray | None) -> str | None:
    """The known mistake a gradient checker's result ``got`` matches, in words, or None.

    expected: the reference's result for ``case``; at_default_eps: its result with
    eps left at the default (None when the case uses the default). The usual wrong
    answers are recomputed on a copy of the case and compared with ``got``."""
    if type(got) is not np.ndarray or got.shape != expected.shape:
        return None
    (f, a), kwargs = deepcopy(case)
    eps = kwargs.get("eps", 1e-6)
    f0 = f()
    forward, backward = np.zeros_like(a), np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        keep = a[idx]
        a[idx] = keep + eps
        forward[idx] = (f() - f0) / eps
        a[idx] = keep - eps
        backward[idx] = (f0 - f()) / eps
        a[idx] = keep
    named = [
        (forward, "equals the one-sided (forward) difference (f(a + eps) - f(a)) / eps, "
                  "whose error shrinks only like eps; use the centred difference, whose "
                  "error shrinks like eps**2"),
        (backward, "equals the one-sided (backward) difference (f(a) - f(a - eps)) / eps, "
                   "whose error shrinks only like eps; use the centred difference, whose "
                   "error shrinks like eps**2"),
        (2 * expected, "is twice the centred difference: divide f(a + eps) - f(a - eps) by "
                       "2 * eps, the distance between the two points"),
        (-expected, "has the wrong sign: it is f(a + eps) - f(a - eps) that goes on top"),
        (np.zeros_like(expected), "is all zeros: f never saw your nudges. f reads the array "
                                  "a itself (not a copy), so change the entries of a in "
                                  "place before each call of f(), then put them back"),
    ]
    if at_default_eps is not None:
        named.append((at_default_eps, f"is the centred difference for eps=1e-6, not for the "
                                      f"eps={eps:g} it was given: use the eps argument"))
    scale = max(1.0, float(np.abs(expected).max()))
    for candidate, words in named:
        if np.abs(got - candidate).max() <= 1e-7 * scale:
            return f"your gradient {words}."
    return None


def check_gradient_checker(student_fn: Any, reference_fn: Callable, *, n: int = 20,
                           seed: int = 0, deny: Any = ()) -> None:
    """Check a student's centred-difference ``numerical_gradient(f, a, eps=1e-6)``.

    f: () -> float reading a; a: float64 array of any shape -> gradient like a.

    ``student_fn`` must give ``reference_fn``'s results (check_function, with the
    guard and ``deny``) on ``n`` random :class:`ScalarLoss` cases, some with a large
    eps, and leave a exactly as it was. A wrong result that matches a known mistake
    (a one-sided difference, twice or minus the centred one, zeros because a copy
    was nudged) is named in the failure message.
    """
    from convkit.grading.compare import check_function, same_inputs

    cases = random_cases("numerical_gradient", n=n, seed=seed)
    seen: list[Any] = []

    def numerical_gradient(f: Any, a: Any, eps: float = 1e-6) -> Any:
        before = a.copy()
        got = student_fn(f, a) if eps == 1e-6 else student_fn(f, a, eps=eps)
        seen.append(got)
        if not same_inputs(before, a):
            raise GradingFailure(
                "after your function returned, a was not exactly as before: save each "
                "entry before you nudge it and put the saved value back (adding and "
                "subtracting eps does not always give the same float back)."
            )
        return got

    _student_callable(numerical_gradient)
    for case in cases:
        seen.clear()
        try:
            check_function(numerical_gradient, reference_fn, [case], name="numerical_gradient",
                           deny=deny)
        except GradingFailure as failure:
            if not seen:
                raise
            expected = reference_fn(*deepcopy(case[0]), **case[1])
            default = reference_fn(*deepcopy(case[0])) if "eps" in case[1] else None
            words = _difference_mistake(case, expected, _plain_or_none(seen[-1]), default)
            if words is None:
                raise
            raise GradingFailure(f"{failure} — {words}") from None


def _plain_or_none(value: Any) -> np.ndarray | None:
    """``value`` as a plain float64 ndarray, or None if it is not array-like."""
    from convkit.grading import _trusted as T

    try:
        return T.plain_array(value, "the result").astype(np.float64)
    except GradingFailure:
        return None


def autograd_entry_points() -> tuple[object, ...]:
    """The ``deny=`` list for an exercise that must find gradients itself: torch's
    ``torch.autograd.grad``, ``torch.autograd.backward`` and ``Tensor.backward``
    (empty when torch is not installed)."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return ()
    import torch

    return (torch.autograd.grad, torch.autograd.backward, torch.Tensor.backward)


class _FrozenBackward:
    """A conv2d backward pass that returns fixed gradients (copies), whatever it is
    given: the true ones of one case, or the true ones with a known bug put in."""

    def __init__(self, grads: tuple[np.ndarray, ...], label: str) -> None:
        self.grads = grads
        self.__name__ = label

    def __call__(self, grad_out: Any, x: Any, weight: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1) -> tuple[np.ndarray, ...]:
        return tuple(g.copy() for g in self.grads)


_rules.STUDENT_CALLABLE_CODES.update(_rules._walk_code(_FrozenBackward.__call__.__code__))


def _broken_gradients(grads: tuple[np.ndarray, ...], grad_out: np.ndarray,
                      bug: str) -> tuple[np.ndarray, ...]:
    """conv2d_backward's true (grad_x, grad_weight, grad_bias) with one known bug put in."""
    gx, gw, gb = (g.copy() for g in grads)
    if bug == "bias_of_first_sample":  # the batch sum forgotten
        gb = grad_out[0].sum(axis=(1, 2))
    elif bug == "weight_kernel_flipped":
        gw = gw[:, :, ::-1, ::-1].copy()
    elif bug == "input_shifted":  # an index off by one
        gx = np.roll(gx, 1, axis=-1)
    elif bug == "weight_halved":
        gw = gw / 2
    return gx, gw, gb


GRADIENT_BUGS = ("none", "bias_of_first_sample", "weight_kernel_flipped", "input_shifted",
                 "weight_halved")


def _gradient_errors(rng: np.random.Generator, bug: str | None = None) -> Case:
    """gradient_errors(backward, x, weight, bias, grad_out, stride, padding): a small
    conv2d case (batch of 2 or 3, kernel 2 or 3 a side, int stride and padding) and a
    backward pass returning its true gradients or, with ``bug`` (random by default, one
    of :data:`GRADIENT_BUGS`), buggy ones."""
    import convkit

    n, c, o = _int(rng, 2, 3), _int(rng, 1, 2), _int(rng, 1, 3)
    kh, kw = _int(rng, 2, 3), _int(rng, 2, 3)
    stride, padding = _int(rng, 1, 2), _int(rng, 0, 1)
    x = _values(rng, (n, c, _int(rng, kh, 6), _int(rng, kw, 6)))
    weight, bias = _values(rng, (o, c, kh, kw)), _values(rng, (o,))
    kwargs: dict[str, Any] = {"stride": stride, "padding": padding}
    grad_out = _values(rng, convkit.conv2d(x, weight, bias, **kwargs).shape)
    grads = convkit.conv2d_backward(grad_out, x, weight, **kwargs)
    bug = GRADIENT_BUGS[_int(rng, 0, len(GRADIENT_BUGS) - 1)] if bug is None else bug
    if bug not in GRADIENT_BUGS:
        raise ValueError(f"random_cases: unknown bug {bug!r}; known: {GRADIENT_BUGS}")
    label = "conv2d_backward" if bug == "none" else f"backward_with_{bug}"
    backward = _FrozenBackward(_broken_gradients(grads, grad_out, bug), label)
    return (backward, x, weight, bias, grad_out), kwargs


def _size_pair(rng: np.random.Generator) -> tuple[Case, Case]:
    """Two conv2d cases alike in all but the image size: about 3x3 outputs, then about 60x60
    (same batch, channels, kernel, stride, padding and bias)."""
    n, c, o, k = 1, _int(rng, 1, 2), _int(rng, 1, 3), _int(rng, 2, 3)
    stride, padding = _int(rng, 1, 2), _int(rng, 0, 1)
    weight = _values(rng, (o, c, k, k))
    kwargs: dict[str, Any] = {"stride": stride, "padding": padding}
    if rng.random() < 0.5:
        kwargs["bias"] = _values(rng, (o,))
    small_side = k - 2 * padding + 2 * stride  # three windows per side
    large_side = k - 2 * padding + 59 * stride  # sixty windows per side
    return ((_values(rng, (n, c, small_side, small_side)), weight), kwargs), \
        ((_values(rng, (n, c, large_side, large_side)), weight), kwargs)


def _python_steps(fn: Callable, args: tuple, kwargs: dict) -> tuple[Any, int]:
    """``fn(*args, **kwargs)`` under the guard, and the number of Python calls and lines
    it ran outside installed libraries and convkit (the notebook's own code)."""
    from convkit.grading.compare import _CONVKIT_DIR
    from convkit.grading.guard import no_shortcuts

    skip = (_CONVKIT_DIR, *_rules._library_dirs())
    count = [0]

    def local(frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            count[0] += 1
        return local

    def on_call(frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename.startswith(skip):
            return None
        count[0] += 1
        return local

    _settrace(on_call)
    try:
        with no_shortcuts():
            result = fn(*args, **kwargs)
    finally:
        _settrace(None)
    return result, count[0]


def check_no_position_loops(student_fn: Any, reference_fn: Callable, *, n: int = 3,
                            seed: int = 0, name: str = "conv2d") -> None:
    """Fail unless ``student_fn`` matches ``reference_fn`` without a loop over positions.

    student_fn, reference_fn: conv2d's arguments -> (N, C_out, H_out, W_out).

    ``student_fn`` must give ``reference_fn``'s results on ``n`` random small/large
    image pairs while running about as many Python steps on a large image (thousands
    of output positions) as on a small one (nine): no Python loop over output
    positions, rows or columns (loops over the kernel, batch or channels are fine).
    """
    from convkit.grading.compare import compare_values, describe_call, student_call, to_plain

    rng = default_rng(seed)
    for small, large in (_size_pair(rng) for _ in range(n)):
        steps = []
        for args, kwargs in (small, large):
            call = describe_call(name, ["x", "weight"], args, kwargs)
            expected = reference_fn(*args, **kwargs)
            with student_call(name, call):
                got, count = _python_steps(student_fn, args, dict(kwargs))
                got = to_plain(got, expected, f"the result of {name}")
            problem = compare_values(expected, got, 1e-5, 1e-6, "result")
            if problem:
                raise GradingFailure(f"{call}: {problem}")
            steps.append(count)
        if steps[1] > 2 * steps[0] + 50:
            positions = [args[0].shape[2] * args[0].shape[3] for args, _ in (small, large)]
            raise GradingFailure(
                f"{name} ran {steps[0]:,} Python steps (calls and lines) on a "
                f"{small[0][0].shape[2]}x{small[0][0].shape[3]} image but {steps[1]:,} on a "
                f"{large[0][0].shape[2]}x{large[0][0].shape[3]} one ({positions[0]} vs "
                f"{positions[1]:,} pixels): it loops over output positions. Build all the "
                "columns with im2col and compute every output with one matrix product."
            )


def _patch_sizes(rng: np.random.Generator, pairs: bool) -> tuple[int, int, int | tuple[int, int]]:
    """(ph, pw, patch_size argument): an int, or (when ``pairs``) sometimes a pair."""
    ph = _int(rng, 1, 4)
    pw = _int(rng, 1, 4) if pairs and rng.random() < 0.4 else ph
    size: int | tuple[int, int] = ph if ph == pw and rng.random() < 0.7 else (ph, pw)
    return ph, pw, size


def _patchify(rng: np.random.Generator, pairs: bool = True) -> Case:
    """patchify(x, patch_size): x (N, C, H, W) with H, W whole multiples of the patch."""
    ph, pw, size = _patch_sizes(rng, pairs)
    n, c, gh, gw = _int(rng, 1, 3), _int(rng, 1, 3), _int(rng, 1, 4), _int(rng, 1, 4)
    return (_values(rng, (n, c, gh * ph, gw * pw)), size), {}


def _patch_embed(rng: np.random.Generator, bias: bool = True) -> Case:
    """patch_embed(x, weight[, bias]): weight (D, C, ph, pw) tiling x (N, C, H, W) exactly."""
    ph, pw, _ = _patch_sizes(rng, True)
    n, c, gh, gw = _int(rng, 1, 3), _int(rng, 1, 3), _int(rng, 1, 4), _int(rng, 1, 4)
    d = _int(rng, 1, 6)
    kwargs = {}
    if bias and rng.random() < 0.6:
        kwargs["bias"] = _values(rng, (d,))
    return (_values(rng, (n, c, gh * ph, gw * pw)), _values(rng, (d, c, ph, pw))), kwargs


# -- ch10: normalisation and initialisation ------------------------------------------
# Momentum and eps of the cases (None: the function's default). A large eps makes "eps
# outside the square root" visible; momentum 1 and 0 make the running update's weights
# visible; momentum 0.5 cannot tell the two weights apart, so it is never used.
NORM_EPS = (None, None, 1e-3, 0.1, 0.5)
BN_MOMENTUM = (None, None, 0.05, 0.3, 0.9, 1.0)


def _norm_input(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with a mean and a spread of their own per channel (axis 1), so statistics
    over the wrong axes are visibly wrong."""
    channels = (1, shape[1]) + (1,) * (len(shape) - 2)
    shift, scale = rng.normal(0.0, 2.0, size=channels), rng.uniform(0.3, 3.0, size=channels)
    return _values(rng, shape) * scale + shift


def _affine(rng: np.random.Generator, channels: int, kwargs: dict[str, Any],
            bias: bool = True) -> None:
    """Put a random ``weight`` (and ``bias``) of shape (C,) into kwargs, each left out or
    passed as None now and then."""
    for name in ("weight", "bias") if bias else ("weight",):
        draw = rng.random()
        if draw < 0.6:
            kwargs[name] = rng.normal(1.0 if name == "weight" else 0.0, 1.0, size=channels)
        elif draw < 0.8:
            kwargs[name] = None


def _norm_shape(rng: np.random.Generator, channels: int, small: bool) -> tuple[int, ...]:
    """(N, C), (N, C, L) or (N, C, H, W), at least two values per channel; ``small``: at
    most about 48 entries (for centred differences)."""
    rank = _int(rng, 2, 4)
    top = 2 if small else 4
    positions = tuple(_int(rng, 1, top) for _ in range(rank - 2))
    return (_int(rng, 2, 3 if small else 5), channels, *positions)


def _running(rng: np.random.Generator, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Running statistics: a mean of any sign and a positive variance, (C,) each."""
    return rng.normal(size=channels), rng.uniform(0.2, 3.0, size=channels)


def _batch_norm(rng: np.random.Generator, training: bool | None = None,
                running: bool = False) -> Case:
    """batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps):
    x of 2 to 4 axes with statistics of its own per channel, both modes (``training``:
    only one), weight and bias (C,) or None, random momentum and eps. In training mode
    the running statistics are sometimes None (torch accepts that), unless ``running``."""
    channels = _int(rng, 1, 4)
    x = _norm_input(rng, _norm_shape(rng, channels, small=False))
    mode = bool(rng.random() < 0.6) if training is None else training
    mean, var = _running(rng, channels)
    if mode and not running and rng.random() < 0.25:
        mean, var = None, None
    kwargs: dict[str, Any] = {}
    _affine(rng, channels, kwargs)
    if mode or rng.random() < 0.5:
        kwargs["training"] = mode
    momentum = BN_MOMENTUM[_int(rng, 0, len(BN_MOMENTUM) - 1)]
    if momentum is not None:
        kwargs["momentum"] = momentum
    eps = NORM_EPS[_int(rng, 0, len(NORM_EPS) - 1)]
    if eps is not None:
        kwargs["eps"] = eps
    return (x, mean, var), kwargs


def _batch_norm_backward(rng: np.random.Generator, training: bool | None = None,
                         small: bool = False) -> Case:
    """batch_norm_backward(grad_out, x, running_mean, running_var, weight, training, eps):
    a batch_norm case without bias or momentum plus an upstream gradient like x;
    ``small``: at most about 48 entries in x (for a numerical gradient check)."""
    channels = _int(rng, 1, 3 if small else 4)
    x = _norm_input(rng, _norm_shape(rng, channels, small=small))
    mode = bool(rng.random() < 0.6) if training is None else training
    mean, var = _running(rng, channels)
    if mode and rng.random() < 0.25:
        mean, var = None, None
    kwargs: dict[str, Any] = {}
    _affine(rng, channels, kwargs, bias=False)
    if mode or rng.random() < 0.5:
        kwargs["training"] = mode
    eps = NORM_EPS[_int(rng, 0, len(NORM_EPS) - 1)]
    if eps is not None:
        kwargs["eps"] = eps
    return (_values(rng, x.shape), x, mean, var), kwargs


def _group_norm(rng: np.random.Generator) -> Case:
    """group_norm(x, num_groups, weight, bias, eps): 1 to 4 groups of 1 to 3 channels,
    x of 2 to 4 axes (N, C, ...) with statistics of its own per channel."""
    groups, size = _int(rng, 1, 4), _int(rng, 1, 3)
    channels = groups * size
    rank = _int(rng, 2, 4)
    positions = tuple(_int(rng, 1, 4) for _ in range(rank - 2))
    if size * int(np.prod(positions)) < 2:  # one value per group: nothing to normalise
        size, channels = 2, groups * 2
    shape = (_int(rng, 1, 3), channels, *positions)
    kwargs: dict[str, Any] = {}
    _affine(rng, channels, kwargs)
    eps = NORM_EPS[_int(rng, 0, len(NORM_EPS) - 1)]
    if eps is not None:
        kwargs["eps"] = eps
    return (_norm_input(rng, shape), groups), kwargs


KAIMING_NONLINEARITIES = ("relu", "leaky_relu", "linear", "conv2d", "conv1d", "sigmoid",
                          "tanh", "selu")


def _kaiming_std(rng: np.random.Generator) -> Case:
    """kaiming_std(shape, a, mode, nonlinearity): a linear (out, in) or a 1-D to 3-D
    convolution (C_out, C_in, k...) weight shape, fan_in or fan_out, torch's nonlinearities
    (leaky ReLU with a random negative slope, int or float)."""
    rank = _int(rng, 2, 5)
    kernel = tuple(_int(rng, 1, 7) for _ in range(rank - 2))
    shape = (_int(rng, 1, 512), _int(rng, 1, 512), *kernel)
    kwargs: dict[str, Any] = {}
    nonlinearity = KAIMING_NONLINEARITIES[_int(rng, 0, len(KAIMING_NONLINEARITIES) - 1)]
    if nonlinearity != "leaky_relu" or rng.random() < 0.5:
        kwargs["nonlinearity"] = nonlinearity
    if rng.random() < 0.6:
        kwargs["a"] = float(rng.choice([0.01, 0.1, 0.2, 0.5, 1.0])) if rng.random() < 0.8 \
            else _int(rng, 0, 2)
    if rng.random() < 0.6:
        kwargs["mode"] = "fan_out" if rng.random() < 0.5 else "fan_in"
    return (shape,), kwargs


GENERATORS: dict[str, Callable[..., Case]] = {
    "linear_params": _linear_params,
    "conv2d_params": _conv2d_params,
    "conv1d_matrix": _conv1d_matrix,
    "shift2d": _shift2d,
    "equivariance_error": _equivariance_error,
    "correlate2d": _correlate2d,
    "convolve2d": _correlate2d,
    "conv1d": _conv1d,
    "conv2d": _conv2d,
    "pad2d": _pad2d,
    "conv2d_strided": _conv2d_strided,
    "apply_filter_bank": _apply_filter_bank,
    "learn_kernel": _learn_kernel,
    "max_pool2d": _pool2d,
    "avg_pool2d": _pool2d,
    "global_avg_pool2d": _global_avg_pool2d,
    "max_pool2d_backward": _max_pool2d_backward,
    "output_size": _output_size,
    "output_size_no_fit": _output_size_no_fit,
    "shape_trace": _shape_trace,
    "receptive_field": _receptive_field,
    "im2col": _im2col,
    "conv2d_backward": _conv2d_backward,
    "numerical_gradient": _numerical_gradient,
    "gradient_errors": _gradient_errors,
    "patchify": _patchify,
    "patch_embed": _patch_embed,
    "depthwise_separable_params": _conv2d_params,
    "batch_norm": _batch_norm,
    "batch_norm_backward": _batch_norm_backward,
    "group_norm": _group_norm,
    "kaiming_std": _kaiming_std,
}


def random_cases(
    kind: str | Callable[[np.random.Generator], Case],
    n: int = 20,
    seed: int = 0,
    **options: Any,
) -> list[Case]:
    """``n`` reproducible ``(args, kwargs)`` cases for the function ``kind``.

    -> a list of ``n`` pairs ``(args tuple, kwargs dict)``.

    kind: a name from :data:`GENERATORS` (the convkit function the cases are for)
    or a callable ``(rng, **options) -> (args, kwargs)``.
    n: number of cases.
    seed: seed of ``numpy.random.default_rng``; fixed per hidden test.
    options: passed to the generator, e.g. ``single_channel=True`` or ``bias=False``
    for ``conv2d``, ``stride=False`` for ``conv1d_matrix``.
    """
    if isinstance(kind, str):
        if kind not in GENERATORS:
            raise ValueError(f"random_cases: unknown kind {kind!r}; known: {sorted(GENERATORS)}")
        make = GENERATORS[kind]
    else:
        make = kind
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"random_cases: n must be a positive int, got {n!r}")
    rng = default_rng(seed)
    if type(rng) is not Generator:
        raise GradingFailure("numpy's random generator has been replaced; restart the kernel.")
    return [make(rng, **options) for _ in range(n)]
