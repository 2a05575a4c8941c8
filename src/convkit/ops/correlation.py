"""Cross-correlation and true convolution of one 2-D image with one 2-D kernel ("valid" mode).

Deep-learning "convolution" layers compute the cross-correlation; the true
convolution is the same operation with the kernel flipped in both axes.
"""

from __future__ import annotations

import numpy as np

from convkit._checks import as_float_arrays, check_ndim, window_output_size

__all__ = ["convolve2d", "correlate2d"]


def correlate2d(image: object, kernel: object) -> np.ndarray:
    """Valid cross-correlation S(i, j) = sum_m sum_n I(i + m, j + n) K(m, n).

    image: (H, W), kernel: (kh, kw) -> (H - kh + 1, W - kw + 1).
    """
    return _correlate("correlate2d", image, kernel, flip=False)


def convolve2d(image: object, kernel: object) -> np.ndarray:
    """Valid true convolution: :func:`correlate2d` with the kernel flipped in both axes.

    image: (H, W), kernel: (kh, kw) -> (H - kh + 1, W - kw + 1).
    """
    return _correlate("convolve2d", image, kernel, flip=True)


def _correlate(func: str, image: object, kernel: object, *, flip: bool) -> np.ndarray:
    """image: (H, W), kernel: (kh, kw) -> (H - kh + 1, W - kw + 1), the kernel flipped
    in both axes first when ``flip``."""
    img, ker = as_float_arrays(func, image=image, kernel=kernel)
    check_ndim(func, "image", img, ["(H, W)"])
    check_ndim(func, "kernel", ker, ["(kh, kw)"])
    if 0 in ker.shape:
        raise ValueError(f"{func}: kernel must not be empty, got shape {ker.shape}")
    if flip:
        ker = ker[::-1, ::-1]
    kh, kw = ker.shape
    context = f"image.shape={img.shape}, kernel.shape={ker.shape}"
    out_h = window_output_size(func, "height", img.shape[0], kh, 1, 0, 0, 1, context)
    out_w = window_output_size(func, "width", img.shape[1], kw, 1, 0, 0, 1, context)
    # One shifted copy of the image per kernel entry, weighted and summed.
    out = np.zeros((out_h, out_w), dtype=img.dtype)
    for m in range(kh):
        for n in range(kw):
            out += ker[m, n] * img[m : m + out_h, n : n + out_w]
    return out
