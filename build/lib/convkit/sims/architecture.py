"""ArchitectureSim (ch06): a ConvNet drawn layer by layer, size against depth.

The page (``architecture.js``) computes every shape, parameter count and receptive
field itself; :func:`architecture_layers` computes the same table in Python with
convkit's own arithmetic (``shape_trace``, ``conv2d_params``, ``linear_params``,
``receptive_field``), so tests can compare the two, and :func:`architecture_model`
builds the network in torch, so tests can compare both with a real forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import traitlets

from convkit._checks import int_at_least, int_in_range
from convkit.shapes import conv2d_params, linear_params, output_size, receptive_field
from convkit.shapes.trace import shape_trace
from convkit.sims._base import SimWidget

if TYPE_CHECKING:  # torch is imported only when a model is built
    from torch import nn

__all__ = ["LIMITS", "ArchLayer", "ArchitectureSim", "architecture_layers", "architecture_model"]

#: (lowest, highest) value of each setting; kept equal to LIMITS in architecture.js.
LIMITS = {
    "image_size": (4, 64),
    "in_channels": (1, 4),
    "kernel_size": (1, 7),
    "block_channels": (1, 512),
    "blocks": (1, 5),
    "hidden": (0, 1024),
    "classes": (2, 1000),
}
POOL = 2  # every block ends with 2 x 2 max pooling, stride 2


class ArchLayer(NamedTuple):
    """One drawn layer of the diagram.

    Attributes:
        name: ``"input"``, ``"conv1"``, ``"pool1"``, ..., ``"flatten"``, ``"fc1"``, ``"fc2"``.
        kind: ``"input"``, ``"conv"`` (convolution + ReLU), ``"pool"``, ``"flatten"``,
            ``"dense"`` (+ ReLU) or ``"output"`` (the class scores).
        shape: the output for one image: ``(C, H, W)`` for maps, ``(F,)`` for vectors.
        params: the layer's weights and biases.
        receptive_field: the side (pixels) of the input square one output unit depends
            on, ignoring the border (dense layers: the whole image, the input side).
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    params: int
    receptive_field: int


def _within_limits(func: str, name: str, value: object) -> int:
    """``value`` as an int within ``LIMITS[name]`` (TypeError / ValueError)."""
    return int_in_range(func, name, value, *LIMITS[name])


def _check_settings(
    func: str, image_size: int, in_channels: int, blocks: Sequence[int], kernel_size: int,
    hidden: int, classes: int,
) -> tuple[int, int, list[int], int, int, int]:
    """The settings as ints within LIMITS, the blocks as a list; messages start with ``func``."""
    size = _within_limits(func, "image_size", image_size)
    channels = _within_limits(func, "in_channels", in_channels)
    k = _within_limits(func, "kernel_size", kernel_size)
    if k % 2 == 0:
        raise ValueError(
            f"{func}: kernel_size must be odd (so padding k // 2 keeps the size), got {k}"
        )
    if isinstance(blocks, str | bytes) or not isinstance(blocks, Sequence):
        raise TypeError(f"{func}: blocks must be a list of channel counts, got {blocks!r}")
    widths = [_within_limits(func, "block_channels", c) for c in blocks]
    low, high = LIMITS["blocks"]
    if not low <= len(widths) <= high:
        raise ValueError(f"{func}: blocks: give {low} to {high} conv blocks, got {len(widths)}")
    side = size
    for index in range(len(widths)):
        if side < POOL:
            raise ValueError(
                f"{func}: blocks: a {size}x{size} image is {side}x{side} before block "
                f"{index + 1}'s {POOL}x{POOL} pooling, too small to pool; use at most "
                f"{index} blocks"
            )
        side = output_size(side, POOL, POOL)
    hidden_units = _within_limits(func, "hidden", hidden)
    return (size, channels, widths, k, hidden_units, _within_limits(func, "classes", classes))


def architecture_layers(
    image_size: int = 32, in_channels: int = 3, blocks: Sequence[int] = (32, 64),
    kernel_size: int = 3, hidden: int = 0, classes: int = 10,
) -> list[ArchLayer]:
    """The layers of a (CONV -> ReLU -> POOL) x len(blocks) -> FLATTEN -> DENSE network.

    Each block is a ``kernel_size`` convolution with padding ``kernel_size // 2``
    (the size is kept) to ``blocks[i]`` channels, ReLU, and 2x2 max pooling with
    stride 2; then the maps are flattened, an optional dense layer of ``hidden``
    units (+ ReLU; 0 = none) and a dense layer to ``classes`` scores follow.
    Input ``(in_channels, image_size, image_size)`` -> the input row and one row per
    drawn layer (ReLU is part of its conv / dense row: it has no parameters and keeps
    the shape), each with its output shape (C, H, W) or (F,).
    Example: 32x32x3, blocks (32, 64), 3x3 -> 32x32x32, 16x16x32, 16x16x64, 8x8x64,
    4096, 10.
    """
    size, channels, widths, k, hidden, classes = _check_settings(
        "architecture_layers", image_size, in_channels, blocks, kernel_size, hidden, classes
    )
    specs: list[tuple] = []
    for width in widths:
        specs += [("conv", width, k, 1, k // 2), ("pool", POOL, POOL)]
    maps = shape_trace((channels, size, size), specs)
    rows = [ArchLayer("input", "input", (channels, size, size), 0, 1)]
    windows: list[tuple[int, int]] = []
    previous = channels
    for index, (spec, shape) in enumerate(zip(specs, maps, strict=True)):
        block = index // 2 + 1
        if spec[0] == "conv":
            windows.append((k, 1))
            params = conv2d_params(previous, spec[1], k)
            previous = spec[1]
            rows.append(ArchLayer(f"conv{block}", "conv", shape, params, receptive_field(windows)))
        else:
            windows.append((POOL, POOL))
            rows.append(ArchLayer(f"pool{block}", "pool", shape, 0, receptive_field(windows)))
    c, h, w = maps[-1]
    features = c * h * w
    rows.append(ArchLayer("flatten", "flatten", (features,), 0, rows[-1].receptive_field))
    dense_sizes = ([hidden] if hidden else []) + [classes]
    for index, units in enumerate(dense_sizes, start=1):
        last = index == len(dense_sizes)
        rows.append(ArchLayer(f"fc{index}", "output" if last else "dense", (units,),
                              linear_params(features, units), size))
        features = units
    return rows


def architecture_model(
    image_size: int = 32, in_channels: int = 3, blocks: Sequence[int] = (32, 64),
    kernel_size: int = 3, hidden: int = 0, classes: int = 10,
) -> nn.Sequential:
    """The network of :func:`architecture_layers` built in torch (same arguments).

    Input ``(N, in_channels, image_size, image_size)``, output ``(N, classes)`` scores
    (logits; softmax belongs to the loss). Layer names match the diagram's rows, with
    ``reluN`` after each conv and ``relu_fcN`` after a hidden dense layer.
    """
    from torch import nn

    size, channels, widths, k, hidden, classes = _check_settings(
        "architecture_model", image_size, in_channels, blocks, kernel_size, hidden, classes
    )
    model = nn.Sequential()
    side, previous = size, channels
    for block, width in enumerate(widths, start=1):
        model.add_module(f"conv{block}", nn.Conv2d(previous, width, k, padding=k // 2))
        model.add_module(f"relu{block}", nn.ReLU())
        model.add_module(f"pool{block}", nn.MaxPool2d(POOL))
        side, previous = output_size(side, POOL, POOL), width
    model.add_module("flatten", nn.Flatten())
    features = previous * side * side
    if hidden:
        model.add_module("fc1", nn.Linear(features, hidden))
        model.add_module("relu_fc1", nn.ReLU())
        features = hidden
    model.add_module(f"fc{2 if hidden else 1}", nn.Linear(features, classes))
    return model


class ArchitectureSim(SimWidget):
    """The architecture diagram: one box per layer, side ~ spatial size, depth ~ channels.

    Hover over or click (or Tab to and press Enter on) a layer to see its operation,
    output shape, parameter count and receptive field; buttons add or remove conv
    blocks, and menus change the first block's channels, whether each block doubles
    them, and the kernel size, with every size recomputed on the page. Settings as for
    :func:`architecture_layers` (the default is the 32x32x3 -> ... -> 10 network);
    ``selected`` is the index of the highlighted row (0 = the input).
    """

    _sim_name = "architecture"
    image_size = traitlets.Int(32).tag(sync=True)
    in_channels = traitlets.Int(3).tag(sync=True)
    blocks = traitlets.List(traitlets.Int(), default_value=[32, 64]).tag(sync=True)
    kernel_size = traitlets.Int(3).tag(sync=True)
    hidden = traitlets.Int(0).tag(sync=True)
    classes = traitlets.Int(10).tag(sync=True)
    selected = traitlets.Int(1).tag(sync=True)

    def __init__(
        self, image_size: int = 32, in_channels: int = 3, blocks: Sequence[int] = (32, 64),
        kernel_size: int = 3, hidden: int = 0, classes: int = 10, selected: int = 1,
    ) -> None:
        func = "ArchitectureSim"
        settings = _check_settings(
            func, image_size, in_channels, blocks, kernel_size, hidden, classes
        )
        size, channels, widths, k, hidden, classes = settings
        n_rows = len(architecture_layers(*settings[:2], widths, k, hidden, classes))
        chosen = int_at_least(func, "selected", selected, 0)
        if chosen >= n_rows:
            raise ValueError(
                f"{func}: selected must be a row index below {n_rows}, got {selected}"
            )
        super().__init__(image_size=size, in_channels=channels, blocks=widths, kernel_size=k,
                         hidden=hidden, classes=classes, selected=chosen)

    def layers(self) -> list[ArchLayer]:
        """The rows the page shows for the current settings (see :func:`architecture_layers`)."""
        return architecture_layers(self.image_size, self.in_channels, list(self.blocks),
                                   self.kernel_size, self.hidden, self.classes)
