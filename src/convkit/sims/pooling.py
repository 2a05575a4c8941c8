"""PoolingSim (ch04): max or average pooling of a small grid, one coloured window at a time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import traitlets

from convkit._checks import finite_floats, int_at_least
from convkit.sims._base import SimWidget
from convkit.sims._grids import as_json_numbers, check_readable

_MAX_GRID = 8
MODES = ("max", "avg")


class PoolingSim(SimWidget):
    """A pooling window stepping over a grid, with a max / average toggle.

    grid: (H, W) numbers, at most 8x8; kernel_size: the square window's side, no larger
    than the grid; stride: the jump (default ``kernel_size``, at most ``kernel_size`` so
    no pixel is skipped); mode: ``"max"`` or ``"avg"``. Each window and the output cell
    it produces share a colour; Step / Play / Reset move through the windows; the page
    computes every pooled value itself: (H, W) -> (H_out, W_out) =
    (floor((H - k) / S) + 1, floor((W - k) / S) + 1).
    """

    _sim_name = "pooling"
    grid = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    kernel_size = traitlets.Int(2).tag(sync=True)
    stride = traitlets.Int(2).tag(sync=True)
    mode = traitlets.Unicode("max").tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        grid: Sequence[Sequence[float]] | np.ndarray,
        kernel_size: int = 2,
        stride: int | None = None,
        mode: str = "max",
    ) -> None:
        func = "PoolingSim"
        values = finite_floats(func, "grid", grid, 2)
        check_readable(func, "grid", values, _MAX_GRID)
        k = int_at_least(func, "kernel_size", kernel_size, 1)
        if k > min(values.shape):
            raise ValueError(
                f"{func}: kernel_size {k} does not fit inside the grid {values.shape}"
            )
        s = k if stride is None else int_at_least(func, "stride", stride, 1)
        if s > k:
            raise ValueError(
                f"{func}: stride must be at most kernel_size ({k}) so no pixel is skipped, "
                f"got {s}"
            )
        if mode not in MODES:
            raise ValueError(f"{func}: mode must be one of {MODES}, got {mode!r}")
        super().__init__(
            grid=as_json_numbers(values), kernel_size=k, stride=s, mode=mode, position=0
        )
