"""PatchGridSim (ch09): how a Vision Transformer cuts an image into patches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import traitlets

from convkit._checks import finite_floats, int_in_range
from convkit.sims._base import SimWidget
from convkit.sims._grids import as_json_numbers, check_readable

_MAX_SIDE = 64


class PatchGridSim(SimWidget):
    """A grey image with a patch grid on top and a patch-size slider.

    image: (H, W) grey values in [0, 1], at most 64 per side; patch_size: the starting
    side p (1 .. min(H, W) // 2 on the slider). The page computes, for every p, the
    patch grid floor(H/p) x floor(W/p) (the output size of a convolution with
    kernel = stride = p), the number of patches, the length p*p of each flattened
    patch, the pixels a strided convolution would drop at the right and bottom edges,
    and the flattened values of the selected patch (Previous / Next or a click on the
    image selects it).
    """

    _sim_name = "patches"
    image = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    patch_size = traitlets.Int(7).tag(sync=True)
    selected = traitlets.Int(0).tag(sync=True)

    def __init__(self, image: Sequence[Sequence[float]] | np.ndarray, patch_size: int = 7) -> None:
        func = "PatchGridSim"
        values = finite_floats(func, "image", image, 2)
        check_readable(func, "image", values, _MAX_SIDE)
        if values.min() < 0 or values.max() > 1:
            raise ValueError(f"{func}: image grey values must lie in [0, 1]")
        largest = min(values.shape) // 2
        if largest < 1:
            raise ValueError(f"{func}: image must be at least 2x2 pixels, got shape {values.shape}")
        p = int_in_range(func, "patch_size", patch_size, 1, largest)
        super().__init__(image=as_json_numbers(np.round(values, 4)), patch_size=p, selected=0)
