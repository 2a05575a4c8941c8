"""KernelPlayground (ch02): pick a preset kernel or type one, and see its feature map."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import traitlets

from convkit._checks import finite_floats
from convkit.ops.correlation import correlate2d
from convkit.sims._base import SimWidget
from convkit.sims._grids import as_json_numbers, named_kernels

_MAX_SIDE = 160  # image pixels per side: keeps the embedded state small
_MAX_KERNEL = 7


class KernelPlayground(SimWidget):
    """A grey image, a choice of kernels, an editable kernel grid and the feature map.

    image: (H, W) numbers (at most 160 per side).  kernels: name -> (kh, kw) kernel,
    each at most 7x7 and smaller than the image; one button per name loads it into
    the grid, whose cells can then be edited.  The page computes the valid
    cross-correlation (H - kh + 1, W - kw + 1) in JavaScript and draws it (grey for
    a map without negative values, blue-white-red otherwise).
    """

    _sim_name = "kernel_playground"
    image = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    kernels = traitlets.Dict().tag(sync=True)
    names = traitlets.List(traitlets.Unicode()).tag(sync=True)  # button order (dict keys may sort)
    selected = traitlets.Unicode("").tag(sync=True)
    kernel = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)

    def __init__(
        self,
        image: Sequence[Sequence[float]] | np.ndarray,
        kernels: Mapping[str, Sequence[Sequence[float]] | np.ndarray],
        selected: str | None = None,
    ) -> None:
        func = "KernelPlayground"
        img = finite_floats(func, "image", image, 2)
        if max(img.shape) > _MAX_SIDE:
            raise ValueError(
                f"{func}: image must be at most {_MAX_SIDE} pixels per side (the page embeds "
                f"every pixel), got shape {img.shape}"
            )
        checked = named_kernels(func, kernels, img.shape, _MAX_KERNEL)
        first = next(iter(checked))
        chosen = first if selected is None else selected
        if chosen not in checked:
            raise ValueError(f"{func}: selected must be one of {list(checked)}, got {chosen!r}")
        super().__init__(
            image=as_json_numbers(img),
            kernels=checked,
            names=list(checked),
            selected=chosen,
            kernel=checked[chosen],
        )

    def feature_map(self) -> np.ndarray:
        """The map the widget shows now: ``correlate2d(image, kernel)``.

        image (H, W), kernel (kh, kw) -> (H - kh + 1, W - kw + 1).
        """
        return correlate2d(np.array(self.image), np.array(self.kernel))
