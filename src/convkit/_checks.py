"""The one argument-validation module of convkit (every layer may import it).

Every public operation (and every simulation of ``convkit.sims``) validates its
arguments through these helpers, so each rule (what counts as an int, how padding
strings work, when a window fits, ...) is written exactly once. Every message
starts with the name of the public function or class that was called
(``func``, always the first argument): ``"conv2d: stride must be positive (>= 1), got 0"``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

# --------------------------------------------------------------------------- ints


def as_int(func: str, name: str, value: object) -> int:
    """``value`` as a Python int; TypeError for bool, float, str and anything else."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: {name} must be an int, got {value!r} ({type(value).__name__})")
    return int(value)


def check_min(func: str, name: str, value: object, ints: tuple[int, ...], minimum: int) -> None:
    """ValueError unless every entry of ``ints`` is >= ``minimum``."""
    if any(v < minimum for v in ints):
        rule = {0: "non-negative (>= 0)", 1: "positive (>= 1)"}.get(minimum, f">= {minimum}")
        raise ValueError(f"{func}: {name} must be {rule}, got {value!r}")


def int_at_least(func: str, name: str, value: object, minimum: int) -> int:
    """``value`` as an int (TypeError otherwise) that is >= ``minimum`` (ValueError otherwise)."""
    result = as_int(func, name, value)
    check_min(func, name, value, (result,), minimum)
    return result


def int_in_range(func: str, name: str, value: object, minimum: int, maximum: int) -> int:
    """``value`` as an int (TypeError otherwise) with ``minimum <= value <= maximum``
    (ValueError otherwise)."""
    result = int_at_least(func, name, value, minimum)
    if result > maximum:
        raise ValueError(f"{func}: {name} must be at most {maximum}, got {value!r}")
    return result


def int_tuple(
    func: str, name: str, value: object, n: int, *, minimum: int | None = None
) -> tuple[int, ...]:
    """An int (repeated ``n`` times) or a sequence of ``n`` ints, as a tuple of ints.

    ``minimum`` (if given) is checked on every entry (ValueError).
    """
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str | bytes):
        items = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)
        if len(items) != n:
            what = {1: "an int or a 1-tuple", 2: "an int or a pair of ints"}.get(
                n, f"an int or a sequence of {n} ints"
            )
            raise ValueError(f"{func}: {name} must be {what}, got {value!r}")
        ints = tuple(as_int(func, name, v) for v in items)
    else:
        ints = (as_int(func, name, value),) * n
    if minimum is not None:
        check_min(func, name, value, ints, minimum)
    return ints


def _check_real(func: str, name: str, value: object) -> None:
    """TypeError unless ``value`` is a real number (bools are not)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: {name} must be a number, got {value!r}")


def positive_float(func: str, name: str, value: object) -> float:
    """``value`` as a finite float > 0: TypeError for non-numbers (bools too), else ValueError."""
    _check_real(func, name, value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{func}: {name} must be a positive number, got {value}")
    return float(value)


def non_negative_float(func: str, name: str, value: object) -> float:
    """``value`` as a finite float >= 0: TypeError for non-numbers (bools too), else ValueError."""
    _check_real(func, name, value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{func}: {name} must be a finite number >= 0, got {value}")
    return float(value)


def fraction(func: str, name: str, value: object, *, ends: bool = True) -> float:
    """``value`` as a float in [0, 1] (``ends=False``: strictly between 0 and 1), such as a
    probability: TypeError for non-numbers (bools too), else ValueError."""
    _check_real(func, name, value)
    inside = 0 <= value <= 1 if ends else 0 < value < 1
    if not inside:
        raise ValueError(f"{func}: {name} must be between 0 and 1, got {value!r}")
    return float(value)


def as_bool(func: str, name: str, value: object) -> bool:
    """``value`` as a bool; TypeError for anything that is not a bool."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{func}: {name} must be True or False, got {value!r}")
    return bool(value)


def as_generator(func: str, name: str, value: object) -> np.random.Generator:
    """``value`` if it is a numpy random Generator; TypeError (naming how to make one) otherwise."""
    if not isinstance(value, np.random.Generator):
        raise TypeError(
            f"{func}: {name} must be a numpy Generator (np.random.default_rng(seed)), "
            f"got {type(value).__name__}"
        )
    return value


# ------------------------------------------------------------------------- arrays


def as_float_array(func: str, name: str, value: object) -> np.ndarray:
    """``value`` as a float32 or float64 array (not copied when already one).

    value: any shape (array, number or nested lists) -> the same shape, float.
    float32 stays float32 (float16 becomes float32), float64 stays float64,
    integer arrays, Python numbers and nested lists become float64. Booleans,
    complex numbers, strings and objects are refused (TypeError).
    """
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as err:  # ragged nested lists
        raise ValueError(f"{func}: {name} is not a rectangular array of numbers ({err})") from err
    kind = arr.dtype.kind
    if kind == "f":
        return arr.astype(np.float32 if arr.dtype.itemsize <= 4 else np.float64, copy=False)
    if kind in "iu":
        return arr.astype(np.float64)
    raise TypeError(f"{func}: {name} must hold real numbers (float or int), got dtype {arr.dtype}")


def as_float_arrays(func: str, **named: object) -> list[np.ndarray]:
    """Convert each keyword argument with :func:`as_float_array`, then to one common dtype.

    named: arrays of any shapes -> a list of them (same order and shapes), one float dtype.
    Mixed float32/float64 gives float64. ``None`` values are passed through.
    """
    arrays = {k: None if v is None else as_float_array(func, k, v) for k, v in named.items()}
    present = [a for a in arrays.values() if a is not None]
    dtype = np.result_type(*present) if present else np.float64
    return [None if a is None else a.astype(dtype, copy=False) for a in arrays.values()]


def finite_floats(func: str, name: str, values: object, ndim: int) -> np.ndarray:
    """``values`` as a float64 array with ``ndim`` axes, non-empty, every entry finite.

    values: a sequence (nested ``ndim`` deep) or an array, e.g. ``ndim=2``: (H, W) ->
    (H, W) float64 (a copy only when a conversion is needed). Bools count as numbers
    here (0 and 1). TypeError for a non-sequence (a string too) or entries that are
    not numbers; ValueError for another number of axes, no entries, NaN or inf.
    """
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        kind = type(values).__name__
        raise TypeError(f"{func}: {name} must be a {ndim}-D sequence of numbers, got {kind}")
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:  # strings, None, ragged nested lists
        raise TypeError(f"{func}: {name} must hold numbers only ({err})") from None
    if array.ndim != ndim:
        raise ValueError(f"{func}: {name} must be {ndim}-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{func}: {name} must not be empty, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{func}: {name} must hold finite numbers only (no NaN or inf)")
    return array


def shape_text(layouts: Sequence[str]) -> str:
    """``["(N, C, H, W)", "(C, H, W)"]`` -> ``"4-D (N, C, H, W) or 3-D (C, H, W)"``."""
    return " or ".join(f"{layout.count(',') + 1}-D {layout}" for layout in layouts)


def check_ndim(func: str, name: str, arr: np.ndarray, layouts: Sequence[str]) -> None:
    """ValueError unless ``arr.ndim`` matches one of ``layouts``.

    arr: any shape, checked against e.g. ``layouts=["(N, C, H, W)"]``: 4 axes.
    """
    allowed = [layout.count(",") + 1 for layout in layouts]
    if arr.ndim not in allowed:
        raise ValueError(
            f"{func}: {name} must be {shape_text(layouts)}, got shape {tuple(arr.shape)}"
        )


def batched(func: str, name: str, arr: np.ndarray, layout: str) -> tuple[np.ndarray, bool]:
    """Check ``arr`` is batched (``layout``) or unbatched (``layout`` without N).

    arr: (N, C, H, W) or (C, H, W) (for ``layout="(N, C, H, W)"``) -> ((N, C, H, W),
    unbatched): the array with a leading batch axis (N = 1 when one was added) and
    whether one was added.
    """
    unbatched_layout = "(" + layout[len("(N, ") :]
    check_ndim(func, name, arr, [layout, unbatched_layout])
    unbatched = arr.ndim == layout.count(",")
    return (arr[None] if unbatched else arr), unbatched


def check_grad_out(func: str, grad_out: np.ndarray, expected: tuple[int, ...], what: str) -> None:
    """ValueError unless ``grad_out.shape == expected`` (the shape of the forward output).

    grad_out: e.g. (N, C_out, H_out, W_out), the shape the forward pass returned.
    """
    if tuple(grad_out.shape) != tuple(expected):
        raise ValueError(
            f"{func}: grad_out must have shape {tuple(expected)} (the shape of the {what} "
            f"output), got {tuple(grad_out.shape)}"
        )


# ------------------------------------------------------------------ window sizes

AXIS_NAMES = {1: ("length",), 2: ("height", "width")}


def window_output_size(
    func: str,
    axis: str,
    size: int,
    kernel: int,
    stride: int,
    pad_before: int,
    pad_after: int,
    dilation: int = 1,
    context: str = "",
) -> int:
    """Number of window positions along one axis; ValueError when the window does not fit.

    out = floor((size + pad_before + pad_after - dilation * (kernel - 1) - 1) / stride) + 1
    ``context`` (e.g. the shapes involved) is appended to the error message.
    """
    padded = size + pad_before + pad_after
    effective = dilation * (kernel - 1) + 1
    if padded < effective:
        kernel_text = (
            f"{effective}" if dilation == 1 else f"{effective} = {dilation} * ({kernel} - 1) + 1"
        )
        raise ValueError(
            f"{func}: the window does not fit the padded input {axis}: padded size "
            f"{padded} (= {size} + {pad_before} + {pad_after}) is smaller than the effective "
            f"kernel size {kernel_text}" + (f" ({context})" if context else "")
        )
    return (padded - effective) // stride + 1


# ------------------------------------------------------------------ convolutions


def conv_padding(
    func: str,
    padding: object,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> tuple[tuple[int, int], ...]:
    """Resolve a convolution's ``padding`` to ``(before, after)`` per spatial axis.

    ``padding`` is an int, a tuple with one int per spatial axis, or the strings
    ``"valid"`` (no padding) and ``"same"`` (output size = input size; stride 1 only;
    an odd total padding puts the extra zero after, as torch does).
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{func}: padding='same' needs stride 1 (as in torch), got stride {stride}"
                )
            totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(
            f"{func}: padding must be 'valid', 'same', an int or a tuple of ints, got {padding!r}"
        )
    pads = int_tuple(func, "padding", padding, n, minimum=0)
    return tuple((p, p) for p in pads)


class ConvSetup(NamedTuple):
    """Validated convolution arguments (spatial rank 1 or 2)."""

    x: np.ndarray  # batched: (N, C_in, *spatial)
    weight: np.ndarray  # (C_out, C_in / groups, *kernel)
    bias: np.ndarray | None  # (C_out,)
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]  # (before, after) per spatial axis
    out_size: tuple[int, ...]  # output spatial size
    unbatched: bool
    groups: int = 1

    @property
    def kernel(self) -> tuple[int, ...]:
        return tuple(self.weight.shape[2:])

    @property
    def out_shape(self) -> tuple[int, ...]:
        """Shape of the forward output, unbatched if the input was."""
        full = (self.x.shape[0], self.weight.shape[0], *self.out_size)
        return full[1:] if self.unbatched else full


def conv_setup(
    func: str,
    x: object,
    weight: object,
    bias: object,
    stride: object,
    padding: object,
    dilation: object,
    *,
    spatial: int,
    extra: dict[str, object] | None = None,
    groups: object = 1,
) -> tuple[ConvSetup, list[np.ndarray]]:
    """Validate the arguments of a convolution with ``spatial`` (1 or 2) spatial axes.

    x: (N, C_in, H, W) or (C_in, H, W) (1-D: (N, C_in, L) or (C_in, L)),
    weight: (C_out, C_in / groups, kh, kw) (1-D: (C_out, C_in / groups, k)), bias:
    (C_out,) or None -> a :class:`ConvSetup` with x batched (N, C_in, H, W) and the output
    size (H_out, W_out).  ``groups`` (>= 1) divides both C_in and C_out.
    ``extra`` names further arrays (e.g. ``grad_out``) converted to the same float
    dtype; they are returned, converted, as the second item.
    """
    extra = extra or {}
    x_arr, w_arr, b_arr, *others = as_float_arrays(func, x=x, weight=weight, bias=bias, **extra)
    axes = ("L",) if spatial == 1 else ("H", "W")
    kernel_axes = ("k",) if spatial == 1 else ("kh", "kw")
    x_layout = "(N, C_in, " + ", ".join(axes) + ")"
    xb, unbatched = batched(func, "x", x_arr, x_layout)
    check_ndim(func, "weight", w_arr, ["(C_out, C_in, " + ", ".join(kernel_axes) + ")"])
    if 0 in w_arr.shape:
        raise ValueError(f"{func}: weight must not have an empty axis, got shape {w_arr.shape}")
    groups_n = int_at_least(func, "groups", groups, 1)
    if xb.shape[1] != w_arr.shape[1] * groups_n:
        per_group = f" ({w_arr.shape[1]} per group x {groups_n} groups)" if groups_n > 1 else ""
        raise ValueError(
            f"{func}: input has {x_arr.shape[0 if unbatched else 1]} channels "
            f"(x.shape={tuple(x_arr.shape)}) but weight expects {w_arr.shape[1] * groups_n}"
            f"{per_group} (weight.shape={tuple(w_arr.shape)})"
        )
    if w_arr.shape[0] % groups_n:
        raise ValueError(
            f"{func}: the {w_arr.shape[0]} output channels of weight.shape="
            f"{tuple(w_arr.shape)} do not split into {groups_n} groups"
        )
    if b_arr is not None and b_arr.shape != (w_arr.shape[0],):
        raise ValueError(
            f"{func}: bias must have shape ({w_arr.shape[0]},) (one value per output channel "
            f"of weight.shape={tuple(w_arr.shape)}), got {tuple(b_arr.shape)}"
        )
    stride_t = int_tuple(func, "stride", stride, spatial, minimum=1)
    dilation_t = int_tuple(func, "dilation", dilation, spatial, minimum=1)
    kernel = tuple(w_arr.shape[2:])
    pads = conv_padding(func, padding, kernel, stride_t, dilation_t)
    context = f"x.shape={tuple(x_arr.shape)}, weight.shape={tuple(w_arr.shape)}"
    out_size = tuple(
        window_output_size(func, axis, size, k, s, before, after, d, context)
        for axis, size, k, s, (before, after), d in zip(
            AXIS_NAMES[spatial], xb.shape[2:], kernel, stride_t, pads, dilation_t, strict=True
        )
    )
    setup = ConvSetup(xb, w_arr, b_arr, stride_t, dilation_t, pads, out_size, unbatched, groups_n)
    return setup, others


# ----------------------------------------------------------------------- pooling


class PoolSetup(NamedTuple):
    """Validated 2-D pooling arguments."""

    x: np.ndarray  # batched: (N, C, H, W)
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    out_size: tuple[int, int]
    unbatched: bool

    @property
    def out_shape(self) -> tuple[int, ...]:
        """Shape of the pooled output, unbatched if the input was."""
        full = (*self.x.shape[:2], *self.out_size)
        return full[1:] if self.unbatched else full


def pool_setup(
    func: str, x: object, kernel_size: object, stride: object, padding: object
) -> PoolSetup:
    """Validate the arguments of a 2-D pooling (stride ``None`` means ``kernel_size``).

    x: (N, C, H, W) or (C, H, W) -> a :class:`PoolSetup` with x batched (N, C, H, W) and
    the output size (H_out, W_out).
    """
    x_arr = as_float_array(func, "x", x)
    xb, unbatched = batched(func, "x", x_arr, "(N, C, H, W)")
    kernel = int_tuple(func, "kernel_size", kernel_size, 2, minimum=1)
    stride_t = kernel if stride is None else int_tuple(func, "stride", stride, 2, minimum=1)
    pads = int_tuple(func, "padding", padding, 2, minimum=0)
    if any(p > k // 2 for p, k in zip(pads, kernel, strict=True)):
        raise ValueError(
            f"{func}: padding must be at most half the kernel size (as in torch), got "
            f"padding={pads} for kernel_size={kernel}"
        )
    context = f"x.shape={tuple(x_arr.shape)}, kernel_size={kernel}"
    out_size = tuple(
        window_output_size(func, axis, size, k, s, p, p, 1, context)
        for axis, size, k, s, p in zip(
            AXIS_NAMES[2], xb.shape[2:], kernel, stride_t, pads, strict=True
        )
    )
    return PoolSetup(xb, kernel, stride_t, pads, out_size, unbatched)
