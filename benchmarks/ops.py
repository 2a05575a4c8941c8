"""Speed of convkit's numpy operations against torch, measured in the same run.

Run with ``make bench`` (or ``python benchmarks/ops.py``).  float32, 2 threads for
both libraries, median of repeats; the ratio is convkit time / torch time.
Exits with status 1 when a target is missed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import Row, median_seconds, print_table

import convkit

THREADS = 2
CONV_CASES = {
    # name: (N, C_in, H, W, C_out, k, padding)
    "(a) 64x3x32x32 -> 16, 3x3, pad 1": (64, 3, 32, 32, 16, 3, 1),
    "(b) 64x64x16x16 -> 128, 3x3, pad 1": (64, 64, 16, 16, 128, 3, 1),
    "(c) 128x1x28x28 -> 6, 5x5, pad 2": (128, 1, 28, 28, 6, 5, 2),
}


def conv_inputs(case: tuple[int, ...], rng: np.random.Generator):
    n, c, h, w, o, k, _ = case
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    weight = rng.standard_normal((o, c, k, k), dtype=np.float32)
    bias = rng.standard_normal(o, dtype=np.float32)
    return x, weight, bias


def bench_conv2d_case(name: str, case: tuple[int, ...], rng: np.random.Generator) -> Row:
    """Time one forward convolution case in both libraries (and check they agree)."""
    x, weight, bias = conv_inputs(case, rng)
    pad = case[-1]
    tx, tw, tb = map(torch.from_numpy, (x, weight, bias))
    ours = median_seconds(lambda: convkit.conv2d(x, weight, bias, padding=pad))
    with torch.no_grad():
        theirs = median_seconds(lambda: F.conv2d(tx, tw, tb, padding=pad))
        want = F.conv2d(tx, tw, tb, padding=pad).numpy()
    got = convkit.conv2d(x, weight, bias, padding=pad)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)
    return Row(f"conv2d {name}", ours, theirs, 2.5)


def bench_max_pool(rng: np.random.Generator) -> Row:
    x = rng.standard_normal((64, 64, 32, 32), dtype=np.float32)
    tx = torch.from_numpy(x)
    ours = median_seconds(lambda: convkit.max_pool2d(x, 2))
    theirs = median_seconds(lambda: F.max_pool2d(tx, 2))
    np.testing.assert_array_equal(convkit.max_pool2d(x, 2), F.max_pool2d(tx, 2).numpy())
    return Row("max_pool2d 2x2/2 on 64x64x32x32", ours, theirs, 1.0)


def bench_conv_backward(rng: np.random.Generator) -> Row:
    case = CONV_CASES["(b) 64x64x16x16 -> 128, 3x3, pad 1"]
    x, weight, bias = conv_inputs(case, rng)
    grad_out = rng.standard_normal((case[0], case[4], case[2], case[3]), dtype=np.float32)
    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(weight).requires_grad_()
    tb = torch.from_numpy(bias).requires_grad_()
    tgrad = torch.from_numpy(grad_out)
    out = F.conv2d(tx, tw, tb, padding=1)

    def torch_backward() -> None:
        # The same graph each time: torch's backward pass alone, given grad_out.
        torch.autograd.grad(out, (tx, tw, tb), tgrad, retain_graph=True)

    ours = median_seconds(lambda: convkit.conv2d_backward(grad_out, x, weight, padding=1))
    theirs = median_seconds(torch_backward)
    return Row("conv2d_backward (b)", ours, theirs, 3.0)


def bench_naive(rng: np.random.Generator) -> None:
    """conv2d_naive and max_pool2d_naive on tiny cases, reported per multiply-add / per
    window element (no target: they teach)."""
    n, c, h, w, o, k = 1, 2, 8, 8, 2, 3
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    weight = rng.standard_normal((o, c, k, k), dtype=np.float32)
    ho, wo = h - k + 1, w - k + 1
    macs = n * o * ho * wo * c * k * k
    naive = median_seconds(lambda: convkit.conv2d_naive(x, weight), repeats=3, warmup=1)
    fast = median_seconds(lambda: convkit.conv2d(x, weight))
    print(f"\nconv2d_naive on {n}x{c}x{h}x{w} -> {o}, {k}x{k} ({macs:,} multiply-adds):")
    print(f"  naive loops: {naive * 1e9 / macs:10.1f} ns per multiply-add")
    print(f"  vectorised : {fast * 1e9 / macs:10.1f} ns per multiply-add (same tiny input)")

    xp = rng.standard_normal((1, 2, 8, 8), dtype=np.float32)
    reads = 2 * 4 * 4 * 2 * 2  # 2 channels, 4x4 windows of 2x2 elements
    naive = median_seconds(lambda: convkit.max_pool2d_naive(xp, 2), repeats=3, warmup=1)
    fast = median_seconds(lambda: convkit.max_pool2d(xp, 2))
    np.testing.assert_array_equal(convkit.max_pool2d_naive(xp, 2), convkit.max_pool2d(xp, 2))
    print(f"\nmax_pool2d_naive on 1x2x8x8, 2x2 windows ({reads} window elements):")
    print(f"  naive loops: {naive * 1e9 / reads:10.1f} ns per window element")
    print(f"  vectorised : {fast * 1e9 / reads:10.1f} ns per window element (same tiny input)")


def main() -> int:
    torch.set_num_threads(THREADS)
    rng = np.random.default_rng(0)
    with threadpool_limits(limits=THREADS):
        rows = [bench_conv2d_case(name, case, rng) for name, case in CONV_CASES.items()]
        rows += [bench_max_pool(rng), bench_conv_backward(rng)]
        ok = print_table(f"convkit vs torch {torch.__version__}, float32, {THREADS} threads", rows)
        bench_naive(rng)
    print("\nall targets met" if ok else "\nSOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
