"""Filters (chapter 2): named hand-made kernels, filter banks, and learning a kernel.

- :data:`KERNELS` / :func:`named_kernel`: the classic 3x3 kernels (edges, Sobel,
  box blur, sharpen, identity) as fresh float64 arrays.
- :func:`apply_filter_bank_loops` (one kernel at a time, the definition) and
  :func:`apply_filter_bank` (one batched convolution): K kernels applied to one
  grey image give a depth-K stack of feature maps.
- :func:`horizontal_edge_problems` / :func:`diagonal_edge_problems` (defined in
  :mod:`convkit.lessons.edge_detectors`): what is wrong (if anything) with a kernel
  meant to find horizontal / diagonal edges, judged by its responses on test images.
- :func:`fit_kernel` / :func:`learn_kernel`: recover a kernel from
  input/output pairs by plain gradient descent with torch autograd.
- :func:`gabor_kernel`: the oriented stripe detector trained first layers resemble.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import NamedTuple

import numpy as np

from convkit._checks import as_float_array, check_ndim, int_tuple
from convkit.lessons.edge_detectors import diagonal_edge_problems, horizontal_edge_problems
from convkit.ops.conv2d import conv2d
from convkit.ops.correlation import correlate2d

__all__ = [
    "KERNELS",
    "KernelFit",
    "apply_filter_bank",
    "apply_filter_bank_loops",
    "diagonal_edge_problems",
    "fit_kernel",
    "gabor_kernel",
    "horizontal_edge_problems",
    "kernel_names",
    "learn_kernel",
    "named_kernel",
]

_THIRD = 1.0 / 9.0
KERNELS: dict[str, tuple[tuple[float, ...], ...]] = {
    # Leaves the image unchanged: only the centre weight is 1.
    "identity": ((0, 0, 0), (0, 1, 0), (0, 0, 0)),
    # Right column minus left column (the Prewitt kernel): responds where brightness
    # changes from left to right.
    "vertical_edge": ((-1, 0, 1), (-1, 0, 1), (-1, 0, 1)),
    # Bottom row minus top row: responds where brightness changes from top to bottom.
    "horizontal_edge": ((-1, -1, -1), (0, 0, 0), (1, 1, 1)),
    # Like the edge kernels, with the centre row / column counted twice: smoothing
    # (1, 2, 1) along the edge, difference (-1, 0, 1) across it.
    "sobel_x": ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1)),
    "sobel_y": ((-1, -2, -1), (0, 0, 0), (1, 2, 1)),
    # The average of the 9 pixels in the window.
    "box_blur": ((_THIRD,) * 3,) * 3,
    # The pixel plus (4 x pixel - its 4 neighbours): the identity minus the discrete
    # Laplacian (which is the 4 neighbours - 4 x pixel).
    "sharpen": ((0, -1, 0), (-1, 5, -1), (0, -1, 0)),
}


def kernel_names() -> list[str]:
    """The names :func:`named_kernel` accepts, in a fixed teaching order."""
    return list(KERNELS)


def named_kernel(name: str) -> np.ndarray:
    """A new float64 copy of the named kernel.

    name: str -> (3, 3) float64.
    Raises ValueError when ``name`` is not one of :func:`kernel_names`.
    """
    if name not in KERNELS:
        raise ValueError(f"named_kernel: unknown kernel {name!r}; known: {kernel_names()}")
    return np.array(KERNELS[name], dtype=np.float64)


def _bank_arrays(func: str, image: object, kernels: object) -> tuple[np.ndarray, np.ndarray]:
    img = as_float_array(func, "image", image)
    ker = as_float_array(func, "kernels", kernels)
    check_ndim(func, "image", img, ["(H, W)"])
    check_ndim(func, "kernels", ker, ["(K, kh, kw)"])
    if 0 in ker.shape:
        raise ValueError(f"{func}: kernels must not have an empty axis, got shape {ker.shape}")
    if ker.shape[1] > img.shape[0] or ker.shape[2] > img.shape[1]:
        raise ValueError(
            f"{func}: the kernels ({ker.shape[1]}x{ker.shape[2]}) do not fit inside the "
            f"image ({img.shape[0]}x{img.shape[1]})"
        )
    dtype = np.result_type(img, ker)
    return img.astype(dtype, copy=False), ker.astype(dtype, copy=False)


def apply_filter_bank_loops(image: object, kernels: object) -> np.ndarray:
    """Each kernel cross-correlated with the image in turn, the maps stacked.

    image: (H, W), kernels: (K, kh, kw) -> (K, H - kh + 1, W - kw + 1).
    """
    img, ker = _bank_arrays("apply_filter_bank_loops", image, kernels)
    return np.stack([correlate2d(img, k) for k in ker])


def apply_filter_bank(image: object, kernels: object) -> np.ndarray:
    """A bank of K kernels applied to one grey image: a depth-K stack of feature maps.

    image: (H, W), kernels: (K, kh, kw) -> (K, H - kh + 1, W - kw + 1).

    Map k is the valid cross-correlation of the image with ``kernels[k]``; the
    whole bank is one convolution with one input channel and K output channels.
    """
    img, ker = _bank_arrays("apply_filter_bank", image, kernels)
    return conv2d(img[None, None], ker[:, None])[0]


# ------------------------------------------------------------- kernel learning


class KernelFit(NamedTuple):
    """The result of :func:`fit_kernel`."""

    kernel: np.ndarray  # (kh, kw) after the last step
    losses: np.ndarray  # (steps,) the loss before each step
    snapshots: np.ndarray  # (steps + 1, kh, kw) the kernel before each step, and the final one


def _kernel_data(
    func: str, inputs: object, outputs: object, kernel_size: object, steps: object, lr: object
) -> tuple[np.ndarray, np.ndarray, tuple[int, int], int, float]:
    x = as_float_array(func, "inputs", inputs).astype(np.float64)
    y = as_float_array(func, "outputs", outputs).astype(np.float64)
    check_ndim(func, "inputs", x, ["(N, H, W)"])
    check_ndim(func, "outputs", y, ["(N, H', W')"])
    kh, kw = int_tuple(func, "kernel_size", kernel_size, 2, minimum=1)
    expected = (x.shape[0], x.shape[1] - kh + 1, x.shape[2] - kw + 1)
    if min(expected) < 1 or y.shape != expected:
        raise ValueError(
            f"{func}: outputs must have shape (N, H - kh + 1, W - kw + 1) = {expected} for "
            f"inputs {x.shape} and kernel_size {(kh, kw)}, got {y.shape}"
        )
    if isinstance(steps, bool) or not isinstance(steps, Integral) or steps < 0:
        raise ValueError(f"{func}: steps must be an int >= 0, got {steps!r}")
    if isinstance(lr, bool) or not isinstance(lr, Real) or not 0 < lr < np.inf:
        raise ValueError(f"{func}: lr must be a positive number, got {lr!r}")
    return x, y, (kh, kw), int(steps), float(lr)


def fit_kernel(
    inputs: object, outputs: object, kernel_size: object, steps: int, lr: float
) -> KernelFit:
    """Gradient descent on a kernel so that correlating ``inputs`` with it gives ``outputs``.

    inputs: (N, H, W), outputs: (N, H - kh + 1, W - kw + 1) -> :class:`KernelFit`.

    The result holds the final kernel (kh, kw), the losses (steps,) and the
    snapshots (steps + 1, kh, kw). ``kernel_size`` is an int or ``(kh, kw)``.
    The kernel starts at zero.  Each step computes the loss, the mean over all
    N * H' * W' entries of (inputs correlated with the kernel - outputs) squared,
    gets its gradient from torch autograd and moves the kernel by ``-lr`` times it.
    """
    import torch

    x, y, (kh, kw), steps, lr = _kernel_data("fit_kernel", inputs, outputs, kernel_size,
                                             steps, lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    oh, ow = y.shape[1:]
    kernel = torch.zeros((kh, kw), dtype=torch.float64, requires_grad=True)
    losses = np.empty(steps)
    snapshots = np.empty((steps + 1, kh, kw))
    for step in range(steps):
        snapshots[step] = kernel.detach().numpy()
        # The correlation as a weighted sum of shifted views, one per kernel entry.
        pred = sum(kernel[m, n] * xt[:, m : m + oh, n : n + ow]
                   for m in range(kh) for n in range(kw))
        loss = ((pred - yt) ** 2).mean()
        losses[step] = loss.item()
        loss.backward()
        with torch.no_grad():
            kernel -= lr * kernel.grad
        kernel.grad.zero_()
    snapshots[steps] = kernel.detach().numpy()
    return KernelFit(snapshots[steps].copy(), losses, snapshots)


def learn_kernel(
    inputs: object, outputs: object, kernel_size: object, steps: int, lr: float
) -> np.ndarray:
    """The kernel :func:`fit_kernel` ends with (zero start, mean squared error, plain GD).

    inputs: (N, H, W), outputs: (N, H - kh + 1, W - kw + 1) -> kernel (kh, kw) float64.
    """
    return fit_kernel(inputs, outputs, kernel_size, steps, lr).kernel


def gabor_kernel(
    size: int, theta: float, wavelength: float, sigma: float, phase: float = 0.0
) -> np.ndarray:
    """A Gabor filter: a cosine grating under a Gaussian window, zero mean.

    size: int (odd), theta, wavelength, sigma: float -> (size, size) float64 summing to 0.

    The grating's stripes run at angle ``theta`` (radians) from the vertical, so
    ``theta = 0`` finds vertical stripes / edges. ``size`` is the odd side length;
    ``wavelength`` and ``sigma`` are in pixels (both > 0); ``phase`` shifts the
    cosine (radians). Raises ValueError for any other size, wavelength or sigma.
    """
    if isinstance(size, bool) or not isinstance(size, Integral) or size < 1 or size % 2 == 0:
        raise ValueError(f"gabor_kernel: size must be a positive odd int, got {size!r}")
    if not (wavelength > 0 and sigma > 0):
        raise ValueError("gabor_kernel: wavelength and sigma must be positive")
    r = (size - 1) / 2
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    across = xx * np.cos(theta) + yy * np.sin(theta)  # distance across the stripes
    envelope = np.exp(-(xx**2 + yy**2) / (2 * sigma**2))
    g = envelope * np.cos(2 * np.pi * across / wavelength + phase)
    return g - envelope * (g.sum() / envelope.sum())
