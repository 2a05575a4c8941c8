"""Slide1DSim and Slide2DSim (ch01): a kernel sliding step by step, arithmetic shown."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import traitlets

from convkit._checks import finite_floats
from convkit.sims._base import SimWidget
from convkit.sims._grids import as_json_numbers, check_readable, image_and_kernel

_MAX_1D = 16
_MAX_2D = 9


class Slide1DSim(SimWidget):
    """A 1-D kernel sliding along a signal (cross-correlation, no padding, stride 1).

    signal: (L,) numbers (L at most 16), kernel: (K,) numbers with K <= L -> an output
    row (L - K + 1,) that fills in.  Step / Play / Reset move the window; the products
    and their sum at the current position are written out.
    """

    _sim_name = "slide1d"
    signal = traitlets.List(traitlets.Float()).tag(sync=True)
    kernel = traitlets.List(traitlets.Float()).tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)

    def __init__(self, signal: Sequence[float], kernel: Sequence[float]) -> None:
        func = "Slide1DSim"
        x = finite_floats(func, "signal", signal, 1)
        w = finite_floats(func, "kernel", kernel, 1)
        if w.size > x.size:
            raise ValueError(
                f"{func}: kernel (length {w.size}) is longer than the signal ({x.size})"
            )
        check_readable(func, "signal", x, _MAX_1D)
        super().__init__(signal=as_json_numbers(x), kernel=as_json_numbers(w), position=0)


class Slide2DSim(SimWidget):
    """A 2-D kernel sliding over an image (cross-correlation, no padding, stride 1).

    image: (H, W) numbers (at most 9x9), kernel: (kh, kw) numbers no larger than the
    image -> an output grid (H - kh + 1, W - kw + 1) that fills in.  The window is
    highlighted on the image and the products are written out with their sum.
    """

    _sim_name = "slide2d"
    image = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    kernel = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        image: Sequence[Sequence[float]] | np.ndarray,
        kernel: Sequence[Sequence[float]] | np.ndarray,
    ) -> None:
        img, ker = image_and_kernel("Slide2DSim", image, kernel, _MAX_2D)
        super().__init__(image=as_json_numbers(img), kernel=as_json_numbers(ker), position=0)
