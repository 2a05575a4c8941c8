"""Shared hypothesis strategies, torch references and comparisons for the tests.

Every strategy builds only valid configurations: sizes are derived from the
drawn kernel, dilation and padding so that the (dilated) window always fits the
padded input.  Array contents come from a numpy generator seeded by a drawn
integer, so a failing example is reproducible from hypothesis' report.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

DTYPES = (np.float32, np.float64)


# --------------------------------------------------------------------------- comparisons
def tolerance(dtype) -> float:
    """Relative tolerance for results computed in `dtype` (vs a float64 reference)."""
    return 1e-10 if np.dtype(dtype) == np.float64 else 1e-4


def assert_close(actual, expected, dtype) -> None:
    """`actual` is an ndarray of `dtype` with `expected`'s shape and values (per-dtype tol)."""
    assert isinstance(actual, np.ndarray), f"expected an ndarray, got {type(actual)}"
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    assert actual.dtype == np.dtype(dtype), f"dtype {actual.dtype} != expected {np.dtype(dtype)}"
    tol = tolerance(dtype)
    finite = np.abs(expected[np.isfinite(expected)])
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale)


def to_torch(a, requires_grad: bool = False) -> torch.Tensor:
    """A float64 torch copy of `a` (the reference is always computed in float64)."""
    t = torch.from_numpy(np.array(a, dtype=np.float64))
    return t.requires_grad_(requires_grad)


def pair(v) -> tuple[int, int]:
    """(v, v) for an int, the pair itself otherwise."""
    return (v, v) if isinstance(v, int | np.integer) else tuple(v)


# --------------------------------------------------------------------------- cases
@dataclass
class ConvCase:
    """Arguments of one conv1d/conv2d call (x, weight, bias and keyword sizes)."""

    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    stride: object = 1
    padding: object = 0
    dilation: object = 1
    dtype: type = np.float64

    @property
    def kwargs(self) -> dict:
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation}


@dataclass
class WindowCase:
    """Arguments of one im2col / pooling call: x and the window geometry."""

    x: np.ndarray
    kernel_size: object
    stride: object = None
    padding: object = 0
    dilation: object = 1
    dtype: type = np.float64
    extra: dict = field(default_factory=dict)


def _size_arg(draw, a: int, b: int):
    """The pair (a, b) written as an int (when equal, sometimes) or as a tuple."""
    if a == b and draw(st.booleans()):
        return a
    return (a, b)


def _rng(draw) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def _values(rng, shape, dtype, kind: str = "normal") -> np.ndarray:
    """Random values: standard normal, small integers (many ties), small integers and
    -inf ("neginf": ties among -inf, which must still beat the -inf padding), or all equal."""
    if kind == "normal":
        a = rng.standard_normal(shape)
    elif kind in ("ints", "neginf"):
        a = rng.integers(-1, 2, size=shape).astype(np.float64)
        if kind == "neginf":
            a[a < 0] = -np.inf
    else:
        a = np.full(shape, 0.5)
    return a.astype(dtype)


@st.composite
def conv2d_cases(
    draw,
    *,
    max_n=3,
    max_c=3,
    max_k=4,
    max_s=4,
    max_p=3,
    max_d=3,
    max_extra=5,
    strings=True,
    unbatched=True,
    dtypes=DTYPES,
):
    """Valid conv2d calls: any of batched/unbatched, int/pair/'same'/'valid' sizes."""
    dtype = draw(st.sampled_from(dtypes))
    batched = not unbatched or draw(st.booleans())
    n = draw(st.integers(1, max_n))
    cin, cout = draw(st.integers(1, max_c)), draw(st.integers(1, max_c))
    kh, kw = draw(st.integers(1, max_k)), draw(st.integers(1, max_k))
    dh, dw = draw(st.integers(1, max_d)), draw(st.integers(1, max_d))
    mode = draw(st.sampled_from(["numbers", "same", "valid"])) if strings else "numbers"
    sh, sw, ph, pw = 1, 1, 0, 0
    if mode != "same":
        sh, sw = draw(st.integers(1, max_s)), draw(st.integers(1, max_s))
    if mode == "numbers":
        ph, pw = draw(st.integers(0, max_p)), draw(st.integers(0, max_p))
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h = max(1, eh - 2 * ph) + draw(st.integers(0, max_extra))
    w = max(1, ew - 2 * pw) + draw(st.integers(0, max_extra))
    rng = _rng(draw)
    xshape = (n, cin, h, w) if batched else (cin, h, w)
    x = _values(rng, xshape, dtype)
    weight = _values(rng, (cout, cin, kh, kw), dtype)
    bias = _values(rng, (cout,), dtype) if draw(st.booleans()) else None
    padding = mode if mode != "numbers" else _size_arg(draw, ph, pw)
    return ConvCase(
        x, weight, bias, _size_arg(draw, sh, sw), padding, _size_arg(draw, dh, dw), dtype
    )


@st.composite
def conv1d_cases(
    draw, *, max_n=3, max_c=3, max_k=5, max_s=4, max_p=3, max_d=3, max_extra=6, dtypes=DTYPES
):
    """Valid conv1d calls: batched (N, C, L) or unbatched (C, L), ints or 'same'/'valid'."""
    dtype = draw(st.sampled_from(dtypes))
    batched = draw(st.booleans())
    n = draw(st.integers(1, max_n))
    cin, cout = draw(st.integers(1, max_c)), draw(st.integers(1, max_c))
    k, d = draw(st.integers(1, max_k)), draw(st.integers(1, max_d))
    mode = draw(st.sampled_from(["numbers", "same", "valid"]))
    s = 1 if mode == "same" else draw(st.integers(1, max_s))
    p = draw(st.integers(0, max_p)) if mode == "numbers" else 0
    length = max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, max_extra))
    rng = _rng(draw)
    x = _values(rng, (n, cin, length) if batched else (cin, length), dtype)
    weight = _values(rng, (cout, cin, k), dtype)
    bias = _values(rng, (cout,), dtype) if draw(st.booleans()) else None
    return ConvCase(x, weight, bias, s, mode if mode != "numbers" else p, d, dtype)


@st.composite
def im2col_cases(draw, *, max_n=2, max_c=3, max_k=4, max_s=4, max_p=3, max_d=3, max_extra=5):
    """Valid unfold calls (any dilation/stride/padding, batched or unbatched)."""
    dtype = draw(st.sampled_from(DTYPES))
    batched = draw(st.booleans())
    n, c = draw(st.integers(1, max_n)), draw(st.integers(1, max_c))
    kh, kw = draw(st.integers(1, max_k)), draw(st.integers(1, max_k))
    dh, dw = draw(st.integers(1, max_d)), draw(st.integers(1, max_d))
    sh, sw = draw(st.integers(1, max_s)), draw(st.integers(1, max_s))
    ph, pw = draw(st.integers(0, max_p)), draw(st.integers(0, max_p))
    h = max(1, dh * (kh - 1) + 1 - 2 * ph) + draw(st.integers(0, max_extra))
    w = max(1, dw * (kw - 1) + 1 - 2 * pw) + draw(st.integers(0, max_extra))
    x = _values(_rng(draw), (n, c, h, w) if batched else (c, h, w), dtype)
    return WindowCase(
        x,
        _size_arg(draw, kh, kw),
        _size_arg(draw, sh, sw),
        _size_arg(draw, ph, pw),
        _size_arg(draw, dh, dw),
        dtype,
    )


@st.composite
def pool_cases(draw, *, max_n=2, max_c=3, max_k=4, max_s=5, max_extra=5, kinds=("normal",)):
    """Valid pooling calls: padding <= kernel // 2, stride None or any (also > kernel).

    `kinds` chooses the values: "normal" (no ties), "ints" (many ties), "constant".
    """
    dtype = draw(st.sampled_from(DTYPES))
    batched = draw(st.booleans())
    n, c = draw(st.integers(1, max_n)), draw(st.integers(1, max_c))
    kh, kw = draw(st.integers(1, max_k)), draw(st.integers(1, max_k))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    if draw(st.booleans()):
        stride = None
    else:
        stride = _size_arg(draw, draw(st.integers(1, max_s)), draw(st.integers(1, max_s)))
    h = max(1, kh - 2 * ph) + draw(st.integers(0, max_extra))
    w = max(1, kw - 2 * pw) + draw(st.integers(0, max_extra))
    kind = draw(st.sampled_from(kinds))
    x = _values(_rng(draw), (n, c, h, w) if batched else (c, h, w), dtype, kind)
    return WindowCase(x, _size_arg(draw, kh, kw), stride, _size_arg(draw, ph, pw), 1, dtype)


# --------------------------------------------------------------------------- torch references
def _quiet(fn, *args, **kwargs):
    """Call torch without its performance warnings ('same' with even kernels)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args, **kwargs)


def torch_conv(case: ConvCase, ndim: int = 2) -> np.ndarray:
    """Reference conv1d/conv2d output of `case`, computed by torch in float64."""
    fn = F.conv2d if ndim == 2 else F.conv1d
    bias = None if case.bias is None else to_torch(case.bias)
    out = _quiet(fn, to_torch(case.x), to_torch(case.weight), bias, **case.kwargs)
    return out.numpy()


def torch_pool_stride(case: WindowCase):
    """torch's stride argument for a pool case (None means 'the kernel size')."""
    return case.kernel_size if case.stride is None else case.stride
