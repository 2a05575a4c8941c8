"""Timing (chapter 7): how much faster is im2col than loops, and how close does it get to torch?

:func:`time_conv_methods` runs the same convolutions three ways, checks that the
three agree, and times them: the formula as loops (:func:`convkit.conv2d_naive`),
im2col + one matrix product (:func:`convkit.conv2d`) and torch's
``torch.nn.functional.conv2d``. :func:`convkit.viz.timing.plot_conv_timings` draws
the result as a bar chart on a log scale, labelled with each method's speed-up over
the loops. The default cases are small, so the whole measurement takes a second or two.

:func:`time_copy_and_product` splits one im2col convolution into its two steps, the
copy of the windows into columns and the matrix product, and times each; and
:func:`torch_conv_kernel` asks torch's profiler which convolution kernel torch chose
for a case. Times depend on the machine and its load: report them as measured.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from convkit._checks import int_at_least
from convkit.ops.conv2d import conv2d, conv2d_naive
from convkit.ops.im2col import im2col
from convkit.shapes import output_size

__all__ = [
    "DEFAULT_CASES",
    "METHODS",
    "ConvCase",
    "CopyProductSplit",
    "TimingRow",
    "median_seconds",
    "time_conv_methods",
    "time_copy_and_product",
    "torch_conv_kernel",
]

#: Method key -> the label the chart uses.
METHODS = {
    "loops": "loops (conv2d_naive)",
    "im2col": "im2col (convkit.conv2d)",
    "torch": "torch F.conv2d",
}


@dataclass(frozen=True)
class ConvCase:
    """One convolution to time, with a bias.

    x: (N, C_in, size, size), weight: (C_out, C_in, k, k) -> (N, C_out, out_size, out_size).

    N = batch, C_in = in_channels, C_out = out_channels, k = kernel; the bias is
    (C_out,); ``padding`` and ``stride`` are ints.
    """

    name: str
    batch: int
    in_channels: int
    size: int
    out_channels: int
    kernel: int
    padding: int = 0
    stride: int = 1

    @property
    def out_size(self) -> int:
        """Height (= width) of the output, by :func:`convkit.output_size`.

        Raises ValueError when the kernel does not fit the padded input.
        """
        return output_size(self.size, self.kernel, stride=self.stride, padding=self.padding)

    @property
    def macs(self) -> int:
        """Multiply-adds of the convolution: N * C_out * H_out * W_out * C_in * k * k."""
        return self.batch * self.out_channels * self.out_size**2 * self.in_channels * self.kernel**2

    @property
    def copies(self) -> int:
        """Values im2col copies into its columns: N * C_in * k * k * H_out * W_out
        (``macs / copies == out_channels``: each copied value meets every kernel once)."""
        return self.batch * self.out_size**2 * self.in_channels * self.kernel**2


#: Small enough for the loops to finish in well under a second in total.
DEFAULT_CASES = (
    ConvCase("8x8 image, 3x3 kernel", 1, 1, 8, 1, 3),
    ConvCase("3x16x16 -> 8 maps, 3x3", 1, 3, 16, 8, 3),
    ConvCase("16x14x14 -> 16 maps, 3x3, pad 1", 1, 16, 14, 16, 3, padding=1),
)


@dataclass(frozen=True)
class TimingRow:
    """The median seconds of one method on one case, and its speed-up over the loops.

    speedup: the loops' seconds / this method's seconds (1.0 for the loops themselves).
    """

    case: str
    method: str
    seconds: float
    macs: int
    speedup: float

    @property
    def label(self) -> str:
        """The method's chart label, e.g. "im2col (convkit.conv2d)"."""
        return METHODS[self.method]


def median_seconds(fn: Callable[[], object], repeats: int, budget: float) -> float:
    """Median wall-clock seconds of ``fn()`` over up to ``repeats`` runs, stopping early
    once ``budget`` seconds are spent (at least one run)."""
    times: list[float] = []
    spent = 0.0
    while len(times) < repeats and (not times or spent < budget):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return statistics.median(times)


def time_conv_methods(
    cases: Sequence[ConvCase] = DEFAULT_CASES,
    repeats: int = 5,
    *,
    threads: int = 1,
    seed: int = 0,
    loop_budget: float = 0.25,
) -> list[TimingRow]:
    """Time loops vs im2col vs torch on each case (float32; the results are checked to agree).

    -> three :class:`TimingRow` per case, in the order loops, im2col, torch.

    cases: the convolutions to time (:class:`ConvCase`).
    repeats: runs per method (the median is reported); the slow loops stop
    repeating once they have used ``loop_budget`` seconds on a case.
    threads: threads for numpy's BLAS and for torch while timing (both restored).
    seed: seed of the random inputs.

    Raises ValueError for no cases, a bad case, or when the three methods disagree
    (TypeError for a case that is not a :class:`ConvCase`).
    """
    import torch
    from threadpoolctl import threadpool_limits

    from convkit.nn.torch_state import torch_threads

    func = "time_conv_methods"
    repeats = int_at_least(func, "repeats", repeats, 1)
    threads = int_at_least(func, "threads", threads, 1)
    cases = list(cases)
    if not cases:
        raise ValueError(f"{func}: no cases to time")
    for case in cases:
        if not isinstance(case, ConvCase):
            raise TypeError(f"{func}: cases must be ConvCase objects, got {type(case).__name__}")
        try:
            _ = case.out_size  # output_size refuses a kernel that does not fit
        except ValueError as err:
            raise ValueError(
                f"{func}: the kernel does not fit in case {case.name!r} ({err})"
            ) from None

    rng = np.random.default_rng(seed)
    rows: list[TimingRow] = []
    with torch_threads(threads), threadpool_limits(limits=threads), torch.no_grad():
        for case in cases:
            rows += _time_case(case, repeats, rng, loop_budget)
    return rows


def _time_case(
    case: ConvCase, repeats: int, rng: np.random.Generator, loop_budget: float
) -> list[TimingRow]:
    import torch
    import torch.nn.functional as F

    x = rng.standard_normal((case.batch, case.in_channels, case.size, case.size), np.float32)
    w = rng.standard_normal(
        (case.out_channels, case.in_channels, case.kernel, case.kernel), np.float32
    )
    b = rng.standard_normal(case.out_channels, np.float32)
    tx, tw, tb = map(torch.from_numpy, (x, w, b))
    kwargs = {"stride": case.stride, "padding": case.padding}
    methods = {
        "loops": lambda: conv2d_naive(x, w, b, **kwargs),
        "im2col": lambda: conv2d(x, w, b, **kwargs),
        "torch": lambda: F.conv2d(tx, tw, tb, **kwargs),
    }
    want = F.conv2d(tx, tw, tb, **kwargs).numpy()
    for key in ("loops", "im2col"):
        got = methods[key]()
        if not np.allclose(got, want, rtol=1e-3, atol=1e-3):
            raise ValueError(f"time_conv_methods: {key} disagrees with torch on {case.name!r}")
    methods["im2col"]()  # warm again after the loops: convkit.ops._fastpath.BufferPool, caches
    seconds = {
        "loops": median_seconds(methods["loops"], repeats, loop_budget),
        "im2col": median_seconds(methods["im2col"], repeats, float("inf")),
        "torch": median_seconds(methods["torch"], repeats, float("inf")),
    }
    return [
        TimingRow(case.name, key, s, case.macs, seconds["loops"] / s) for key, s in seconds.items()
    ]


@dataclass(frozen=True)
class CopyProductSplit:
    """The two steps of one im2col convolution, counted and timed (median seconds).

    copies: values copied into the columns; macs: multiply-adds of the product.
    """

    case: str
    copies: int
    macs: int
    copy_seconds: float
    product_seconds: float

    @property
    def copy_share(self) -> float:
        """The copy's share of the two steps' time (0..1)."""
        return self.copy_seconds / (self.copy_seconds + self.product_seconds)

    @property
    def cost_per_copy_vs_mac(self) -> float:
        """Seconds per copied value divided by seconds per multiply-add of the product."""
        return (self.copy_seconds / self.copies) / (self.product_seconds / self.macs)


def _case_arrays(case: ConvCase, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Random float32 x (N, C_in, size, size), weight (C_out, C_in, k, k), bias (C_out,)."""
    x = rng.standard_normal((case.batch, case.in_channels, case.size, case.size), np.float32)
    w = rng.standard_normal(
        (case.out_channels, case.in_channels, case.kernel, case.kernel), np.float32
    )
    b = rng.standard_normal(case.out_channels, np.float32)
    return x, w, b


def _check_case(func: str, case: object) -> ConvCase:
    if not isinstance(case, ConvCase):
        raise TypeError(f"{func}: case must be a ConvCase, got {type(case).__name__}")
    try:
        _ = case.out_size
    except ValueError as err:
        raise ValueError(f"{func}: the kernel does not fit in case {case.name!r} ({err})") from None
    return case


def time_copy_and_product(
    case: ConvCase, repeats: int = 5, *, threads: int = 1, seed: int = 0
) -> CopyProductSplit:
    """Time the two steps of an im2col convolution (float32, no bias) separately.

    x: (N, C_in, size, size) -> columns (N, C_in*k*k, H_out*W_out) -> weight matrix
    (C_out, C_in*k*k) @ columns = (N, C_out, H_out*W_out).

    The copy is :func:`convkit.im2col` (a fresh column matrix each run); the product
    is one batched ``np.matmul``. Their result is checked against
    :func:`convkit.conv2d`. repeats: runs per step (the median is kept); threads:
    numpy's BLAS threads while timing (restored). Raises TypeError for a case that is
    not a :class:`ConvCase`, ValueError for a kernel that does not fit or a bad count.
    """
    from threadpoolctl import threadpool_limits

    func = "time_copy_and_product"
    case = _check_case(func, case)
    repeats = int_at_least(func, "repeats", repeats, 1)
    threads = int_at_least(func, "threads", threads, 1)
    x, w, _ = _case_arrays(case, np.random.default_rng(seed))
    kwargs = {"stride": case.stride, "padding": case.padding}
    w2 = w.reshape(case.out_channels, -1)
    with threadpool_limits(limits=threads):
        cols = im2col(x, case.kernel, **kwargs)
        out = np.matmul(w2, cols)
        want = conv2d(x, w, **kwargs).reshape(out.shape)
        if not np.allclose(out, want, rtol=1e-3, atol=1e-3):
            raise ValueError(f"{func}: columns @ weights disagree with conv2d on {case.name!r}")
        copy_s = median_seconds(lambda: im2col(x, case.kernel, **kwargs), repeats, float("inf"))
        product_s = median_seconds(lambda: np.matmul(w2, cols), repeats, float("inf"))
    return CopyProductSplit(case.name, case.copies, case.macs, copy_s, product_s)


def torch_conv_kernel(case: ConvCase) -> str:
    """The name of the operator that did the work when torch ran ``case`` (float32, one
    run, no gradients), as torch's profiler records it: the innermost ``aten`` operator
    with "conv" in its name, e.g. "aten::_slow_conv2d_forward" (unfold + matrix
    product) or "aten::mkldnn_convolution" (oneDNN).

    Raises TypeError for a case that is not a :class:`ConvCase`, ValueError for a
    kernel that does not fit, LookupError if the profiler saw no such operator.
    """
    import torch
    import torch.nn.functional as F
    from torch.profiler import ProfilerActivity, profile

    case = _check_case("torch_conv_kernel", case)
    x, w, b = map(torch.from_numpy, _case_arrays(case, np.random.default_rng(0)))
    with _quiet_stderr(), torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        F.conv2d(x, w, b, stride=case.stride, padding=case.padding)
    names = [e.name for e in prof.events() if "conv" in e.name and e.name.startswith("aten::")]
    if not names:
        raise LookupError(f"torch_conv_kernel: the profiler saw no convolution for {case.name!r}")
    return names[-1]


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for a while: the profiler's C++ side logs its
    start and stop there, which a notebook would show as a cell output."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
