"""LeNet-5 in two forms: the common modern dense variant and the 1998 paper's network.

Paper: Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-Based Learning
Applied to Document Recognition", Proceedings of the IEEE 86(11), 1998.

- :func:`lenet5` (``form="modern"``): what most courses call LeNet-5 today. Every
  convolution sees every input channel, pooling has no weights, the output is an
  ordinary dense layer. 61,706 parameters for a 1x28x28 input and 10 classes.
- :func:`lenet5_1998` (also ``lenet5(form="1998")``): the network as the paper
  describes it for a 1x32x32 input, with its three features the modern variant
  drops: C3's partial connection table, trainable subsampling layers (one
  coefficient and one bias per map) and an output layer of Euclidean radial basis
  function (RBF) units whose weights are fixed by hand. Its trainable parameters
  total exactly 60,000.

Per-layer counts: ``convkit.nn.models.layer_summary(lenet5_1998(), (1, 32, 32))`` lists
every layer with its parameter count (the fixed RBF codes are a buffer, not a
parameter, so they count 0).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from convkit._checks import int_at_least

__all__ = [
    "C3_CONNECTIONS",
    "DIGIT_BITMAPS",
    "EuclideanRBF",
    "PartialConv2d",
    "ScaledTanh",
    "TrainableSubsampling",
    "digit_codes",
    "lenet5",
    "lenet5_1998",
]

#: Which S2 maps (0-5) each of the 16 C3 maps reads (the paper's Table I).
#: Maps 0-5 read three neighbouring maps, 6-11 four neighbouring maps, 12-14 four
#: maps in two non-neighbouring pairs, and map 15 reads all six: 60 connections.
C3_CONNECTIONS: tuple[tuple[int, ...], ...] = (
    *(tuple((start + k) % 6 for k in range(3)) for start in range(6)),
    *(tuple((start + k) % 6 for k in range(4)) for start in range(6)),
    (0, 1, 3, 4),
    (1, 2, 4, 5),
    (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)

# Our own 7-wide, 12-tall drawings of the ten digits ('#' = +1, '.' = -1). The
# paper fixes each output unit's weights to a stylised 7x12 bitmap of its class;
# these play the same role (their exact shapes are ours, not the paper's).
_BITMAP_ROWS: dict[int, tuple[str, ...]] = {
    0: ("..###..", ".#...#.", "#.....#", "#.....#", "#.....#", "#.....#",
        "#.....#", "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."),
    1: ("...#...", "..##...", ".#.#...", "...#...", "...#...", "...#...",
        "...#...", "...#...", "...#...", "...#...", "...#...", ".#####."),
    2: ("..###..", ".#...#.", "#.....#", "......#", ".....#.", "....#..",
        "...#...", "..#....", ".#.....", "#......", "#......", "#######"),
    3: (".#####.", "#.....#", "......#", "......#", ".....#.", "..###..",
        ".....#.", "......#", "......#", "......#", "#.....#", ".#####."),
    4: ("....#..", "...##..", "..#.#..", ".#..#..", "#...#..", "#...#..",
        "#######", "....#..", "....#..", "....#..", "....#..", "....#.."),
    5: ("#######", "#......", "#......", "#......", "#####..", ".....#.",
        "......#", "......#", "......#", "......#", "#....#.", ".####.."),
    6: ("..####.", ".#.....", "#......", "#......", "#.###..", "##...#.",
        "#.....#", "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."),
    7: ("#######", "......#", ".....#.", ".....#.", "....#..", "....#..",
        "...#...", "...#...", "..#....", "..#....", "..#....", "..#...."),
    8: ("..###..", ".#...#.", "#.....#", "#.....#", ".#...#.", "..###..",
        ".#...#.", "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."),
    9: ("..###..", ".#...#.", "#.....#", "#.....#", "#.....#", ".#...##",
        "..###.#", "......#", "......#", "......#", ".....#.", ".####.."),
}  # fmt: skip

#: The ten digit bitmaps as a (10, 12, 7) tensor of +1 (ink) and -1 (background).
DIGIT_BITMAPS: torch.Tensor = torch.tensor(
    [[[1.0 if ch == "#" else -1.0 for ch in row] for row in _BITMAP_ROWS[d]] for d in range(10)]
)

# A scaled tanh: f(a) = A tanh(S a) with A = 1.7159 and S = 2/3 (the paper's Appendix A),
# chosen so that f(1) = 1 and f(-1) = -1.
_TANH_AMPLITUDE = 1.7159
_TANH_SLOPE = 2.0 / 3.0


def digit_codes() -> torch.Tensor:
    """The fixed RBF weight vectors of :func:`lenet5_1998`: one +-1 code per digit.

    -> (10, 84) float32 tensor.

    Row ``d`` is :data:`DIGIT_BITMAPS` ``[d]`` (12 rows of 7 pixels) read row by row.
    A new tensor on every call.
    """
    return DIGIT_BITMAPS.reshape(10, 84).clone()


def _paper_uniform_(tensor: torch.Tensor, fan_in: int) -> None:
    """The paper's initialisation: uniform in (-2.4 / fan_in, 2.4 / fan_in), in place."""
    bound = 2.4 / fan_in
    with torch.no_grad():
        tensor.uniform_(-bound, bound)


class ScaledTanh(nn.Module):
    """The paper's squashing function ``f(a) = 1.7159 * tanh(2/3 * a)``; no parameters.

    x: any shape (*) -> the same shape.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply ``1.7159 * tanh(2/3 * x)`` elementwise.

        x: (*) -> (*).
        """
        return _TANH_AMPLITUDE * torch.tanh(_TANH_SLOPE * x)


class TrainableSubsampling(nn.Module):
    """S2 / S4: sum each 2x2 block, times a trainable coefficient, plus a trainable bias.

    x: (N, C, H, W) -> (N, C, H // 2, W // 2), C = ``channels``.

    One coefficient and one bias per map, so ``2 * channels`` parameters. The
    blocks do not overlap (stride 2).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = int_at_least("TrainableSubsampling", "channels", channels, 1)
        self.weight = nn.Parameter(torch.empty(self.channels))
        self.bias = nn.Parameter(torch.empty(self.channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw coefficient and bias with the paper's rule (fan-in 4)."""
        _paper_uniform_(self.weight, 4)
        _paper_uniform_(self.bias, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Sum each 2x2 block, scale by the map's coefficient and add its bias.

        x: (N, channels, H, W) -> (N, channels, H // 2, W // 2).
        Raises ValueError for any other input shape.
        """
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(
                f"TrainableSubsampling: expected (N, {self.channels}, H, W), "
                f"got shape {tuple(x.shape)}"
            )
        block_sums = 4.0 * F.avg_pool2d(x, kernel_size=2, stride=2)
        return block_sums * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        """The settings shown in ``repr(module)``."""
        return f"channels={self.channels}"


class PartialConv2d(nn.Module):
    """A convolution in which output map ``j`` reads only the input maps ``connections[j]``.

    x: (N, in_channels, H, W) -> (N, len(connections), H - k + 1, W - k + 1), k = ``kernel_size``.

    Only the connected ``kernel_size x kernel_size`` kernels are parameters (stored
    as one ``(num_connections, k, k)`` tensor) plus one bias per output map; the
    forward pass scatters them into a full weight tensor whose other kernels are
    zero and runs an ordinary convolution (no padding, stride 1).

    in_channels: number of input maps.
    connections: one tuple of input-map indices per output map.
    kernel_size: side of the square kernels.
    """

    def __init__(
        self, in_channels: int, connections: Sequence[Sequence[int]], kernel_size: int
    ) -> None:
        super().__init__()
        self.in_channels = int_at_least("PartialConv2d", "in_channels", in_channels, 1)
        self.kernel_size = int_at_least("PartialConv2d", "kernel_size", kernel_size, 1)
        table = [tuple(int(i) for i in inputs) for inputs in connections]
        if not table:
            raise ValueError("PartialConv2d: connections must list at least one output map")
        for j, inputs in enumerate(table):
            if not inputs or len(set(inputs)) != len(inputs):
                raise ValueError(
                    f"PartialConv2d: output map {j} must read a non-empty set of distinct "
                    f"input maps, got {inputs}"
                )
            if any(not 0 <= i < self.in_channels for i in inputs):
                raise ValueError(
                    f"PartialConv2d: output map {j} reads {inputs}, but input maps are "
                    f"0..{self.in_channels - 1}"
                )
        self.connections = tuple(table)
        self.out_channels = len(table)
        out_index = [j for j, inputs in enumerate(table) for _ in inputs]
        in_index = [i for inputs in table for i in inputs]
        self.register_buffer("out_index", torch.tensor(out_index), persistent=False)
        self.register_buffer("in_index", torch.tensor(in_index), persistent=False)
        k = self.kernel_size
        self.weight = nn.Parameter(torch.empty(len(in_index), k, k))
        self.bias = nn.Parameter(torch.empty(self.out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The paper's rule, with each output map's own fan-in (inputs read x k x k)."""
        k2 = self.kernel_size**2
        start = 0
        for j, inputs in enumerate(self.connections):
            fan_in = len(inputs) * k2
            _paper_uniform_(self.weight[start : start + len(inputs)], fan_in)
            _paper_uniform_(self.bias[j : j + 1], fan_in)
            start += len(inputs)

    def full_weight(self) -> torch.Tensor:
        """The full convolution weight, with zero kernels where no connection exists.

        -> (out_channels, in_channels, k, k), differentiable with respect to :attr:`weight`.
        """
        k = self.kernel_size
        full = self.weight.new_zeros(self.out_channels, self.in_channels, k, k)
        return full.index_put((self.out_index, self.in_index), self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolve ``x`` with :meth:`full_weight` and add the bias.

        x: (N, in_channels, H, W) -> (N, out_channels, H - k + 1, W - k + 1).
        Raises ValueError for any other input shape.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"PartialConv2d: expected (N, {self.in_channels}, H, W), got shape {tuple(x.shape)}"
            )
        return F.conv2d(x, self.full_weight(), self.bias)

    def extra_repr(self) -> str:
        """The settings shown in ``repr(module)``."""
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"connections={self.weight.shape[0]}"
        )


class EuclideanRBF(nn.Module):
    """The paper's output layer: unit ``i`` outputs the squared distance ``||x - w_i||^2``.

    x: (N, in_features) -> (N, num_classes).

    The centres ``w_i`` are FIXED (a buffer, not a parameter: they never train and
    :func:`convkit.nn.models.count_params` does not count them). The paper reads the
    class with the smallest distance (a penalty); this module returns MINUS the
    squared distances, so the best-matching class has the largest score and the
    output can be fed to ``argmax`` and ``cross_entropy`` like ordinary logits.
    :meth:`penalties` gives the distances themselves.

    centres: ``(num_classes, in_features)`` fixed weight vectors (a 2-D tensor,
    ValueError otherwise).
    """

    def __init__(self, centres: torch.Tensor) -> None:
        super().__init__()
        if not isinstance(centres, torch.Tensor) or centres.dim() != 2:
            raise ValueError("EuclideanRBF: centres must be a 2-D tensor (classes, features)")
        self.register_buffer("centres", centres.detach().clone().float())

    def penalties(self, x: torch.Tensor) -> torch.Tensor:
        """Squared distances from each row of ``x`` to each centre.

        x: (N, in_features) -> (N, num_classes).
        Raises ValueError for any other input shape.
        """
        if x.dim() != 2 or x.shape[1] != self.centres.shape[1]:
            raise ValueError(
                f"EuclideanRBF: expected (N, {self.centres.shape[1]}), got shape {tuple(x.shape)}"
            )
        diff = x[:, None, :] - self.centres[None, :, :].to(x.dtype)
        return (diff * diff).sum(dim=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Minus the squared distances, so the best-matching class scores highest.

        x: (N, in_features) -> (N, num_classes).
        """
        return -self.penalties(x)

    def extra_repr(self) -> str:
        """The settings shown in ``repr(module)``."""
        classes, features = self.centres.shape
        return f"in_features={features}, classes={classes}, fixed centres"


def _init_like_paper(layer: nn.Conv2d | nn.Linear) -> nn.Conv2d | nn.Linear:
    """Re-draw a conv / dense layer's weights and bias with the paper's fan-in rule."""
    fan_in = layer.weight[0].numel()
    _paper_uniform_(layer.weight, fan_in)
    _paper_uniform_(layer.bias, fan_in)
    return layer


def lenet5_1998() -> nn.Sequential:
    """LeNet-5 as in LeCun et al. (1998): 60,000 trainable parameters, 1x32x32 -> 10.

    Returns an ``nn.Sequential``: x: (N, 1, 32, 32) -> (N, 10) scores.

    Layers (parameters): C1 6@5x5 conv (156) -> S2 trainable 2x2 subsampling
    (12) -> C3 16@5x5 partial conv, :data:`C3_CONNECTIONS` (1,516) -> S4 (32) ->
    C5 120@5x5 conv (48,120) -> F6 dense 84 (10,164) -> RBF output, 10 units with
    fixed +-1 centres :func:`digit_codes` (0 trainable). Every layer up to F6 is
    followed by the scaled tanh :class:`ScaledTanh`; weights start uniform in
    +-2.4/fan_in as in the paper. Shapes for one image: (1, 32, 32) -> C1 (6, 28,
    28) -> S2 (6, 14, 14) -> C3 (16, 10, 10) -> S4 (16, 5, 5) -> C5 (120, 1, 1) ->
    F6 (84,) -> output (10,).

    MNIST digits are 28x28: pad them by 2 pixels on each side first (the paper
    centred its digits in a 32x32 field).

    The scores are minus the RBF penalties (see :class:`EuclideanRBF`). Named layers:
    C1, tanh1, S2, tanh2, C3, tanh3, S4, tanh4, C5, tanh5, flatten, F6, tanh6, output.
    """
    return nn.Sequential(
        OrderedDict(
            [
                ("C1", _init_like_paper(nn.Conv2d(1, 6, kernel_size=5))),
                ("tanh1", ScaledTanh()),
                ("S2", TrainableSubsampling(6)),
                ("tanh2", ScaledTanh()),
                ("C3", PartialConv2d(6, C3_CONNECTIONS, kernel_size=5)),
                ("tanh3", ScaledTanh()),
                ("S4", TrainableSubsampling(16)),
                ("tanh4", ScaledTanh()),
                ("C5", _init_like_paper(nn.Conv2d(16, 120, kernel_size=5))),
                ("tanh5", ScaledTanh()),
                ("flatten", nn.Flatten()),
                ("F6", _init_like_paper(nn.Linear(120, 84))),
                ("tanh6", ScaledTanh()),
                ("output", EuclideanRBF(digit_codes())),
            ]
        )
    )


def _lenet5_modern(num_classes: int) -> nn.Sequential:
    """The dense modern LeNet-5 (see :func:`lenet5`)."""
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, 6, kernel_size=5, padding=2)),
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),
                ("conv2", nn.Conv2d(6, 16, kernel_size=5)),
                ("relu2", nn.ReLU()),
                ("pool2", nn.MaxPool2d(2)),
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(16 * 5 * 5, 120)),
                ("relu3", nn.ReLU()),
                ("fc2", nn.Linear(120, 84)),
                ("relu4", nn.ReLU()),
                ("fc3", nn.Linear(84, num_classes)),
            ]
        )
    )


def lenet5(form: str = "modern", num_classes: int = 10) -> nn.Sequential:
    """LeNet-5 (LeCun et al., 1998) in its common modern form or as the paper built it.

    x: (N, 1, 28, 28) -> (N, num_classes) logits ("modern"), or (N, 1, 32, 32) -> (N, 10) ("1998").

    ``form="modern"`` (default): conv 6@5x5 with padding 2 -> ReLU -> 2x2 max
    pool -> conv 16@5x5 -> ReLU -> 2x2 max pool -> flatten (400) -> dense 120 ->
    ReLU -> dense 84 -> ReLU -> dense ``num_classes``. Every conv sees every
    channel and pooling has no weights: 61,706 parameters for 10 classes. Input
    ``(N, 1, 28, 28)``, output ``(N, num_classes)`` logits. We use ReLU and max
    pooling (today's defaults; it trains in an epoch or two); the sigmoid-and-
    average-pooling version some books show has exactly the same parameters.
    Named layers: conv1, relu1, pool1, conv2, relu2, pool2, flatten, fc1, relu3,
    fc2, relu4, fc3.

    ``form="1998"``: :func:`lenet5_1998` (60,000 trainable parameters, 1x32x32
    input, 10 fixed RBF output units; ``num_classes`` must be 10).

    Raises ValueError for an unknown ``form``, or ``num_classes != 10`` with ``form="1998"``.
    """
    classes = int_at_least("lenet5", "num_classes", num_classes, 1)
    if form == "modern":
        return _lenet5_modern(classes)
    if form == "1998":
        if classes != 10:
            raise ValueError(
                f"lenet5: form='1998' has one fixed RBF unit per digit, so num_classes "
                f"must be 10, got {classes}"
            )
        return lenet5_1998()
    raise ValueError(f"lenet5: form must be 'modern' or '1998', got {form!r}")
