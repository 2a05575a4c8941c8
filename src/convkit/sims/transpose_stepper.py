"""TransposeStepperSim (ch12): a transposed convolution, one input value at a time.

A convolution gathers: each output value is a weighted sum of a window of inputs.  Its
transpose scatters: input value ``x[i, j]`` adds a copy of the kernel, scaled by that value,
into a *full* grid with its top-left corner at ``(i * stride, j * stride)``; where copies
overlap their values add.  The full grid is ``(H - 1) * stride + kh + output_padding`` by
``(W - 1) * stride + kw + output_padding`` (the last ``output_padding`` rows and columns are
reached by no copy); then ``padding`` rows and columns are cut from each of its four sides,
which leaves :func:`convkit.conv_transpose2d`'s output, ``(H - 1) * stride - 2 * padding +
kh + output_padding`` rows (columns alike).

The page (``transpose_stepper.js``) computes everything in JavaScript from the widget state:
step 0 is the empty grid, step ``t`` (1 .. H * W) has the copies of the first ``t`` input
values (row-major) added; the cells ``padding`` cuts off are drawn hatched.  Its sliders
(stride, padding, output padding) and its Back / Next / All / Reset buttons write their
values back to the traits, so in JupyterLab ``sim.step`` and the rest are what the page
shows, and :meth:`TransposeStepperSim.partial_output` is the grid it draws.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import traitlets

from convkit._checks import finite_floats, int_at_least, int_in_range
from convkit.ops.conv_transpose import conv_transpose_output_size
from convkit.sims._base import SimWidget
from convkit.sims._grids import as_json_numbers, check_readable

MAX_IMAGE = 4  # per side: a 4x4 input, stride 3, a 5x5 kernel -> a 16x16 full grid
MAX_KERNEL = 5
MAX_STRIDE = 3  # the stride slider's range is 1..MAX_STRIDE (kept equal to the JS module's)

#: The default input: four distinct values, so each copy of the kernel can be told apart.
DEFAULT_IMAGE = np.array([[1, 2], [3, 4]], dtype=np.float64)
#: The default kernel: small non-negative integers with no symmetry, so each copy shows the
#: kernel the right way round (a transposed convolution does not flip it) and the sums where
#: copies overlap can be checked by eye.
DEFAULT_KERNEL = np.array([[1, 2, 0], [0, 1, 1], [1, 0, 2]], dtype=np.float64)


def full_size(size: int, kernel: int, stride: int, output_padding: int = 0) -> int:
    """One axis of the full scatter, before ``padding`` is cut:
    ``(size - 1) * stride + kernel + output_padding``."""
    return (size - 1) * stride + kernel + output_padding


def max_padding(
    image_shape: tuple[int, int], kernel_shape: tuple[int, int], stride: int,
    output_padding: int = 0,
) -> int:  # fmt: skip
    """The padding slider's largest value for an input (H, W) and a kernel (kh, kw):
    at most ``min(kh, kw) - 1``, and small enough that the output keeps at least one row
    and one column (``2 * padding <= full size - 1`` on both axes)."""
    (h, w), (kh, kw) = image_shape, kernel_shape
    fh, fw = full_size(h, kh, stride, output_padding), full_size(w, kw, stride, output_padding)
    return max(0, min(kh - 1, kw - 1, (fh - 1) // 2, (fw - 1) // 2))


def _setting(
    func: str, image_shape: tuple[int, int], kernel_shape: tuple[int, int], stride: object,
    padding: object, output_padding: object,
) -> tuple[int, int, int]:  # fmt: skip
    """(stride, padding, output_padding) checked: stride in 1..MAX_STRIDE, output_padding
    below the stride, padding at most :func:`max_padding` (TypeError / ValueError)."""
    s = int_in_range(func, "stride", stride, 1, MAX_STRIDE)
    op = int_at_least(func, "output_padding", output_padding, 0)
    if op >= s:
        raise ValueError(
            f"{func}: output_padding must be smaller than the stride ({s}), got {output_padding!r}"
        )
    p = int_at_least(func, "padding", padding, 0)
    limit = max_padding(image_shape, kernel_shape, s, op)
    if p > limit:
        raise ValueError(
            f"{func}: padding must be at most {limit} for a {image_shape[0]}x{image_shape[1]} "
            f"input, a {kernel_shape[0]}x{kernel_shape[1]} kernel, stride {s} and "
            f"output_padding {op} (kernel size - 1, and the output must keep at least one row "
            f"and column), got {padding!r}"
        )
    return s, p, op


class TransposeStepperSim(SimWidget):
    """A 2-D transposed convolution on one channel, stepped one input value at a time.

    image: (H, W) numbers, at most 4x4 (default [[1, 2], [3, 4]]); kernel: (kh, kw)
    numbers, at most 5x5 (default [[1, 2, 0], [0, 1, 1], [1, 0, 2]]).  stride in 1..3
    (default 2); output_padding in 0..stride - 1; padding in 0..:func:`max_padding` (at
    most min(kh, kw) - 1, and the output keeps at least one row and column); step in
    0..H * W: how many input values (row-major) have scattered their copy of the kernel.
    The output is :func:`convkit.conv_transpose2d`'s (dilation 1, one channel, no bias):
    (H - 1) * stride - 2 * padding + kh + output_padding rows (columns alike).
    """

    _sim_name = "transpose_stepper"
    image = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    kernel = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    stride = traitlets.Int(2).tag(sync=True)
    padding = traitlets.Int(0).tag(sync=True)
    output_padding = traitlets.Int(0).tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        image: Sequence[Sequence[float]] | np.ndarray | None = None,
        kernel: Sequence[Sequence[float]] | np.ndarray | None = None,
        stride: int = 2,
        padding: int = 0,
        output_padding: int = 0,
        step: int = 0,
    ) -> None:
        func = "TransposeStepperSim"
        img = finite_floats(func, "image", DEFAULT_IMAGE if image is None else image, 2)
        check_readable(func, "image", img, MAX_IMAGE)
        ker = finite_floats(func, "kernel", DEFAULT_KERNEL if kernel is None else kernel, 2)
        check_readable(func, "kernel", ker, MAX_KERNEL)
        s, p, op = _setting(func, img.shape, ker.shape, stride, padding, output_padding)
        t = int_in_range(func, "step", step, 0, img.size)
        super().__init__(
            image=as_json_numbers(img), kernel=as_json_numbers(ker), stride=s, padding=p,
            output_padding=op, step=t,
        )  # fmt: skip

    def _arrays(self, func: str) -> tuple[np.ndarray, np.ndarray, int, int, int]:
        """The image (H, W), the kernel (kh, kw) and the current (stride, padding,
        output_padding), checked (traits set after construction may disagree)."""
        img = np.array(self.image, dtype=np.float64)
        ker = np.array(self.kernel, dtype=np.float64)
        setting = _setting(func, img.shape, ker.shape, self.stride, self.padding,
                           self.output_padding)  # fmt: skip
        return img, ker, *setting

    def step_count(self) -> int:
        """The number of steps after step 0: one per input value, H * W."""
        return int(np.size(self.image))

    def source(self, step: int | None = None) -> tuple[int, int]:
        """(i, j): the input value that scatters at ``step`` (1 .. H * W; default: the
        current one), row-major."""
        func = "TransposeStepperSim.source"
        t = self.step if step is None else step
        t = int_in_range(func, "step", t, 1, self.step_count())
        return divmod(t - 1, np.shape(self.image)[1])

    def full_shape(self) -> tuple[int, int]:
        """(FH, FW) of the full scatter: ((H - 1) * stride + kh + output_padding, ...)."""
        (h, w), (kh, kw) = np.shape(self.image), np.shape(self.kernel)
        s, op = self.stride, self.output_padding
        return full_size(h, kh, s, op), full_size(w, kw, s, op)

    def output_shape(self) -> tuple[int, int]:
        """(H_out, W_out): the full scatter with ``padding`` cut from each side."""
        (h, w), (kh, kw) = np.shape(self.image), np.shape(self.kernel)
        s, p, op = self.stride, self.padding, self.output_padding
        return (conv_transpose_output_size(h, kh, s, p, op),
                conv_transpose_output_size(w, kw, s, p, op))  # fmt: skip

    def partial_output(self, step: int | None = None) -> np.ndarray:
        """The full grid the page shows after ``step`` contributions (default: the current
        step), nothing cut: image (H, W), kernel (kh, kw) -> (FH, FW) float64.

        Input values 1 .. ``step`` (row-major) each add ``x[i, j] * kernel`` to the block
        whose top-left corner is (i * stride, j * stride), in that order (as the page does).
        """
        func = "TransposeStepperSim.partial_output"
        img, ker, s, _, op = self._arrays(func)
        t = int_in_range(func, "step", self.step if step is None else step, 0, img.size)
        (h, w), (kh, kw) = img.shape, ker.shape
        full = np.zeros((full_size(h, kh, s, op), full_size(w, kw, s, op)))
        for index in range(t):
            i, j = divmod(index, w)
            full[i * s : i * s + kh, j * s : j * s + kw] += img[i, j] * ker
        return full

    def output(self) -> np.ndarray:
        """The transposed convolution's output: the full scatter of every input value with
        ``padding`` rows and columns cut from each side -> (H_out, W_out) float64."""
        _, _, _, p, _ = self._arrays("TransposeStepperSim.output")
        full = self.partial_output(self.step_count())
        fh, fw = full.shape
        return full[p : fh - p, p : fw - p].copy()
