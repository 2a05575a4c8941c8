"""StridePaddingSim (ch03): a kernel sliding with a stride over a zero-padded image."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import traitlets

from convkit._checks import int_at_least, int_in_range
from convkit.sims._base import SimWidget
from convkit.sims._grids import as_json_numbers, image_and_kernel

_MAX_IMAGE = 7
MAX_STRIDE = 3  # the stride slider's range is 1..MAX_STRIDE (kept equal to the JS module's)


class StridePaddingSim(SimWidget):
    """A kernel moving over an image with stride and zero padding set by two sliders.

    image: (H, W) numbers (at most 7x7), kernel: (kh, kw) numbers no larger than the
    image; stride S in 1..3, padding P in 0..max(kh, kw) - 1 -> an output grid
    (H_out, W_out) = (floor((H + 2P - kh) / S) + 1, floor((W + 2P - kw) / S) + 1) that
    fills in, its size shown with the formula.  The padded border is drawn distinctly;
    Step / Play / Reset move the window; changing a slider restarts from the first window.
    """

    _sim_name = "stride_padding"
    image = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    kernel = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    padding = traitlets.Int(0).tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        image: Sequence[Sequence[float]] | np.ndarray,
        kernel: Sequence[Sequence[float]] | np.ndarray,
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        func = "StridePaddingSim"
        img, ker = image_and_kernel(func, image, kernel, _MAX_IMAGE)
        s = int_in_range(func, "stride", stride, 1, MAX_STRIDE)
        p = int_at_least(func, "padding", padding, 0)
        if p > max(ker.shape) - 1:
            raise ValueError(
                f"{func}: padding must be at most {max(ker.shape) - 1} (kernel size - 1), "
                f"got {p}"
            )
        super().__init__(
            image=as_json_numbers(img), kernel=as_json_numbers(ker), stride=s, padding=p,
            position=0,
        )
