"""ConvExplorerSim (ch07): the convolution explorer, every control of a conv layer at once.

An input grid, a kernel picker with editable weights, stride and padding sliders,
and Step / Play / Reset: the window is highlighted on the padded input, its products
and their sum are written out and the output map fills in cell by cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import traitlets

from convkit._checks import finite_floats, int_at_least, int_in_range
from convkit.lessons.filters import named_kernel
from convkit.ops.conv2d import conv2d
from convkit.ops.padding import pad2d
from convkit.shapes import output_size
from convkit.sims._base import SimWidget
from convkit.sims._grids import as_json_numbers, check_readable, named_kernels

MAX_IMAGE = 10  # per side: a 10x10 input padded by 2 is a 14x14 grid, still readable
MAX_KERNEL = 5
MAX_STRIDE = 3  # the stride slider's range is 1..MAX_STRIDE (kept equal to the JS module's)

# A bright 4x5 block on a dim background with one brighter column: edges in both
# directions and a step inside the block, so every named kernel shows something.
DEFAULT_IMAGE = np.array(
    [
        [1, 1, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 1, 1],
        [1, 1, 6, 6, 9, 6, 6, 1],
        [1, 1, 6, 6, 9, 6, 6, 1],
        [1, 1, 6, 6, 9, 6, 6, 1],
        [1, 1, 6, 6, 9, 6, 6, 1],
        [1, 1, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 1, 1],
    ],
    dtype=np.float64,
)

# Button label -> convkit.lessons.filters name, in the order the buttons appear.
DEFAULT_KERNELS = {
    "identity": "identity",
    "edge": "vertical_edge",
    "sharpen": "sharpen",
    "blur": "box_blur",
    "sobel_x": "sobel_x",
    "sobel_y": "sobel_y",
}


def default_kernels() -> dict[str, np.ndarray]:
    """The explorer's named 3x3 kernels: label -> (3, 3) float64 array."""
    return {label: named_kernel(name) for label, name in DEFAULT_KERNELS.items()}


class ConvExplorerSim(SimWidget):
    """The convolution explorer: kernel, stride and padding chosen by the reader.

    image: (H, W) numbers, at most 10x10 (default: an 8x8 block picture).  kernels:
    label -> (kh, kw) kernel, each at most 5x5 and no larger than the image (default:
    identity, edge, sharpen, blur, Sobel x and y, all 3x3); one button per label
    loads a kernel, whose cells the reader can then edit.  stride in 1..3; padding in
    0..max(kh, kw) - 1 of the selected kernel.  The page computes the strided,
    zero-padded cross-correlation, an output of floor((H + 2P - kh) / S) + 1 by
    floor((W + 2P - kw) / S) + 1 (8x8 input, 3x3 kernel, stride 1, no padding: 6x6).
    Changing the stride or the padding restarts from the first window.
    """

    _sim_name = "explorer"
    image = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    kernels = traitlets.Dict().tag(sync=True)
    names = traitlets.List(traitlets.Unicode()).tag(sync=True)  # button order
    selected = traitlets.Unicode("").tag(sync=True)  # "" once the reader edits a weight
    kernel = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    padding = traitlets.Int(0).tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        image: Sequence[Sequence[float]] | np.ndarray | None = None,
        kernels: Mapping[str, Sequence[Sequence[float]] | np.ndarray] | None = None,
        selected: str | None = None,
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        func = "ConvExplorerSim"
        img = finite_floats(func, "image", DEFAULT_IMAGE if image is None else image, 2)
        check_readable(func, "image", img, MAX_IMAGE)
        checked = named_kernels(
            func, default_kernels() if kernels is None else kernels, img.shape, MAX_KERNEL
        )
        chosen = ("edge" if "edge" in checked else next(iter(checked))) if selected is None \
            else selected
        if chosen not in checked:
            raise ValueError(f"{func}: selected must be one of {list(checked)}, got {chosen!r}")
        s = int_in_range(func, "stride", stride, 1, MAX_STRIDE)
        p = int_at_least(func, "padding", padding, 0)
        kh, kw = np.shape(checked[chosen])
        if p > max(kh, kw) - 1:
            raise ValueError(
                f"{func}: padding must be at most {max(kh, kw) - 1} (kernel size - 1), got {p}"
            )
        super().__init__(
            image=as_json_numbers(img), kernels=checked, names=list(checked), selected=chosen,
            kernel=checked[chosen], stride=s, padding=p, position=0,
        )

    def output_shape(self) -> tuple[int, int]:
        """(H_out, W_out) of the current image (H, W), kernel (kh, kw), stride and padding."""
        (h, w), (kh, kw) = np.shape(self.image), np.shape(self.kernel)
        return (output_size(h, kh, self.stride, self.padding),
                output_size(w, kw, self.stride, self.padding))

    def output(self) -> np.ndarray:
        """The map the page fills in: conv2d of the image with the current kernel,
        stride and padding: image (H, W), kernel (kh, kw) -> (H_out, W_out)."""
        x = np.array(self.image, dtype=np.float64)[None, None]
        w = np.array(self.kernel, dtype=np.float64)[None, None]
        return conv2d(x, w, stride=self.stride, padding=self.padding)[0, 0]

    def window(self, position: int | None = None) -> np.ndarray:
        """The padded input under the window at ``position`` (default: the current one),
        row-major over the (H_out, W_out) output grid -> (kh, kw)."""
        func = "ConvExplorerSim.window"
        pos = self.position if position is None else int_at_least(func, "position", position, 0)
        oh, ow = self.output_shape()
        if pos >= oh * ow:
            raise ValueError(f"{func}: position must be below {oh * ow} (the output has "
                             f"{oh}x{ow} cells), got {pos}")
        kh, kw = np.shape(self.kernel)
        i, j = divmod(pos, ow)
        p, s = self.padding, self.stride
        xpad = pad2d(np.array(self.image, dtype=np.float64), p)
        return xpad[i * s : i * s + kh, j * s : j * s + kw]

