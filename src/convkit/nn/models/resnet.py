"""ResNet: deep networks made trainable by skip connections, y = F(x) + shortcut(x).

Paper: K. He, X. Zhang, S. Ren and J. Sun, "Deep Residual Learning for Image
Recognition", CVPR 2016 (arXiv 1512.03385, 2015).

Each block learns a residual F(x) on top of a shortcut. When the block keeps the
shape, the shortcut is the identity (no parameters), so "do nothing" is as easy
as driving F to zero; when it changes the channels or halves the side, the
shortcut is a 1x1 convolution with the same stride followed by batch norm (the
paper's "projection" option B). Layout and counts follow the standard
torchvision form (convolutions without bias, each followed by batch norm; the
stride of a :class:`Bottleneck` sits on its 3x3 conv): :func:`resnet18` has
11,689,512 parameters and :func:`resnet50` 25,557,032 for 1000 classes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from convkit._checks import int_at_least

__all__ = ["BasicBlock", "Bottleneck", "resnet", "resnet18", "resnet50"]


def _conv_bn(in_channels: int, out_channels: int, kernel_size: int, stride: int) -> list[nn.Module]:
    """A bias-free conv with padding ``kernel_size // 2`` and its batch norm."""
    conv = nn.Conv2d(
        in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2, bias=False
    )
    return [conv, nn.BatchNorm2d(out_channels)]


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    """Identity when the shape is kept, else a 1x1 conv (same stride) + batch norm."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(*_conv_bn(in_channels, out_channels, 1, stride))


class BasicBlock(nn.Module):
    """ResNet's basic block: two 3x3 convs with batch norm, plus a shortcut, then ReLU.

    x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)).

    ``residual``: 3x3 conv (stride ``stride``) -> BN -> ReLU -> 3x3 conv -> BN;
    ``shortcut``: ``nn.Identity()`` if ``stride == 1`` and the channels match
    (0 parameters), else 1x1 conv with stride ``stride`` -> BN
    (``in_channels * out_channels + 2 * out_channels`` parameters). Output:
    ``relu(residual(x) + shortcut(x))``.

    Without the shortcut it has ``9 * in_channels * out_channels + 9 * out_channels**2
    + 4 * out_channels`` parameters.
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.in_channels = int_at_least("BasicBlock", "in_channels", in_channels, 1)
        self.out_channels = int_at_least("BasicBlock", "out_channels", out_channels, 1)
        self.stride = int_at_least("BasicBlock", "stride", stride, 1)
        self.residual = nn.Sequential(
            *_conv_bn(in_channels, out_channels, 3, stride),
            nn.ReLU(inplace=True),
            *_conv_bn(out_channels, out_channels, 3, 1),
        )
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``relu(residual(x) + shortcut(x))``.

        x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)).
        """
        return self.relu(self.residual(x) + self.shortcut(x))


class Bottleneck(nn.Module):
    """ResNet's bottleneck block: 1x1 down to ``mid_channels``, 3x3, 1x1 up 4x, plus a shortcut.

    x: (N, in_channels, H, W) -> (N, 4 * mid_channels, ceil(H / stride), ceil(W / stride)).

    ``residual``: 1x1 conv to ``mid_channels`` -> BN -> ReLU -> 3x3 conv (stride
    ``stride``) -> BN -> ReLU -> 1x1 conv to ``4 * mid_channels`` -> BN;
    ``shortcut``: identity if ``stride == 1`` and ``in_channels == 4 *
    mid_channels``, else 1x1 conv with stride ``stride`` -> BN. Output:
    ``relu(residual(x) + shortcut(x))``. The 1x1 convs keep the 3x3 conv narrow,
    which is what lets ResNet-50 be deep but cheap.
    """

    expansion = 4

    def __init__(self, in_channels: int, mid_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.in_channels = int_at_least("Bottleneck", "in_channels", in_channels, 1)
        mid = int_at_least("Bottleneck", "mid_channels", mid_channels, 1)
        self.stride = int_at_least("Bottleneck", "stride", stride, 1)
        self.out_channels = mid * self.expansion
        self.residual = nn.Sequential(
            *_conv_bn(in_channels, mid, 1, 1),
            nn.ReLU(inplace=True),
            *_conv_bn(mid, mid, 3, stride),
            nn.ReLU(inplace=True),
            *_conv_bn(mid, self.out_channels, 1, 1),
        )
        self.shortcut = _shortcut(in_channels, self.out_channels, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``relu(residual(x) + shortcut(x))``.

        x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)).
        """
        return self.relu(self.residual(x) + self.shortcut(x))


def resnet(
    block: type[BasicBlock] | type[Bottleneck],
    blocks_per_stage: Sequence[int],
    num_classes: int = 1000,
) -> nn.Sequential:
    """A ResNet for ImageNet-sized inputs: stem, four stages of residual blocks, classifier.

    Returns an ``nn.Sequential``: x: (N, 3, H, W) -> (N, num_classes) logits.

    Stem: 7x7 conv 64 stride 2 -> BN -> ReLU -> 3x3 max pool stride 2. Stage ``s``
    (``s = 0..3``) has ``blocks_per_stage[s]`` blocks of width ``64 * 2**s``
    (times ``block.expansion`` at the output); the first block of stages 1-3
    halves the side with stride 2. Then global average pool -> dense
    ``num_classes``. Sides for 224x224: 112 (stem conv), 56, 56, 28, 14, 7, 1.
    Named parts: stem, stage1..stage4, avgpool, flatten, fc.

    block: :class:`BasicBlock` or :class:`Bottleneck` (TypeError otherwise).
    blocks_per_stage: four block counts, ints >= 1 (ValueError for another length or a
    count < 1).
    """
    classes = int_at_least("resnet", "num_classes", num_classes, 1)
    if block not in (BasicBlock, Bottleneck):
        raise TypeError(f"resnet: block must be BasicBlock or Bottleneck, got {block!r}")
    if len(blocks_per_stage) != 4:
        raise ValueError(f"resnet: blocks_per_stage needs 4 entries, got {blocks_per_stage!r}")
    counts = [int_at_least("resnet", "blocks_per_stage", n, 1) for n in blocks_per_stage]

    parts: list[tuple[str, nn.Module]] = [
        (
            "stem",
            nn.Sequential(
                *_conv_bn(3, 64, 7, 2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
            ),
        )
    ]
    in_channels = 64
    for stage, count in enumerate(counts):
        width = 64 * 2**stage
        blocks = []
        for i in range(count):
            stride = 2 if stage > 0 and i == 0 else 1
            blocks.append(block(in_channels, width, stride))
            in_channels = width * block.expansion
        parts.append((f"stage{stage + 1}", nn.Sequential(*blocks)))
    parts += [
        ("avgpool", nn.AdaptiveAvgPool2d((1, 1))),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(in_channels, classes)),
    ]
    return nn.Sequential(OrderedDict(parts))


def resnet18(num_classes: int = 1000) -> nn.Sequential:
    """ResNet-18 (He et al., 2015): :class:`BasicBlock` x (2, 2, 2, 2); 11,689,512 parameters.

    Returns an ``nn.Sequential``: x: (N, 3, H, W) -> (N, num_classes) logits.

    The count is for 1000 classes; see :func:`resnet`.
    """
    return resnet(BasicBlock, (2, 2, 2, 2), num_classes)


def resnet50(num_classes: int = 1000) -> nn.Sequential:
    """ResNet-50 (He et al., 2015): :class:`Bottleneck` x (3, 4, 6, 3); 25,557,032 parameters.

    Returns an ``nn.Sequential``: x: (N, 3, H, W) -> (N, num_classes) logits.

    The count is for 1000 classes; see :func:`resnet`.
    """
    return resnet(Bottleneck, (3, 4, 6, 3), num_classes)
