"""VGG: networks built from one repeated block of 3x3 convolutions.

Paper: K. Simonyan and A. Zisserman, "Very Deep Convolutional Networks for
Large-Scale Image Recognition", ICLR 2015 (arXiv 1409.1556, 2014).

Two stacked 3x3 convolutions see a 5x5 window with 2 * 9 * C^2 = 18 C^2 weights
where one 5x5 convolution needs 25 C^2, and they put a ReLU in between.
:func:`vgg16` (configuration "D") has 138,357,544 parameters for 1000 classes.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from convkit._checks import int_at_least

__all__ = ["VGG16_BLOCKS", "vgg16", "vgg_block"]

#: VGG-16's five blocks as (number of 3x3 convs, output channels).
VGG16_BLOCKS: tuple[tuple[int, int], ...] = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """``num_convs`` x (3x3 conv with padding 1 -> ReLU), then a 2x2 max pool with stride 2.

    Returns an ``nn.Sequential``: x: (N, in_channels, H, W) -> (N, out_channels, H // 2, W // 2).

    It has ``(in_channels * 9 + 1) * out_channels`` parameters for the first conv plus
    ``(out_channels * 9 + 1) * out_channels`` for each further one.
    """
    n = int_at_least("vgg_block", "num_convs", num_convs, 1)
    c_in = int_at_least("vgg_block", "in_channels", in_channels, 1)
    c_out = int_at_least("vgg_block", "out_channels", out_channels, 1)
    layers: list[nn.Module] = []
    for i in range(n):
        layers.append(nn.Conv2d(c_in if i == 0 else c_out, c_out, kernel_size=3, padding=1))
        layers.append(nn.ReLU(inplace=True))
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def vgg16(num_classes: int = 1000, dropout: float = 0.5) -> nn.Sequential:
    """VGG-16 (Simonyan & Zisserman, 2014): 138,357,544 parameters for 1000 classes.

    Returns an ``nn.Sequential``: x: (N, 3, H, W), H and W >= 32 -> (N, num_classes) logits.

    Its parts are ``features``, ``pool``, ``flatten`` and ``classifier``. ``features``: five
    :func:`vgg_block` s (:data:`VGG16_BLOCKS`: 2, 2, 3, 3, 3 convs with 64, 128, 256, 512, 512
    channels), each halving the side; ``pool``: adaptive average pool to 7x7; ``classifier``:
    dense 4096 -> ReLU -> dropout -> dense 4096 -> ReLU -> dropout -> dense ``num_classes``. For
    one 3x224x224 image the blocks give (64, 112, 112), (128, 56, 56), (256, 28, 28),
    (512, 14, 14), (512, 7, 7), then 25088 -> 4096 -> 4096 -> ``num_classes``.
    ``dropout`` is the drop probability of the two dropout layers, in [0, 1).
    """
    classes = int_at_least("vgg16", "num_classes", num_classes, 1)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"vgg16: dropout must be in [0, 1), got {dropout!r}")
    blocks: list[nn.Module] = []
    in_channels = 3
    for num_convs, out_channels in VGG16_BLOCKS:
        blocks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    classifier = nn.Sequential(
        nn.Linear(512 * 7 * 7, 4096),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Linear(4096, 4096),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Linear(4096, classes),
    )
    return nn.Sequential(
        OrderedDict(
            [
                ("features", nn.Sequential(*blocks)),
                ("pool", nn.AdaptiveAvgPool2d((7, 7))),
                ("flatten", nn.Flatten()),
                ("classifier", classifier),
            ]
        )
    )
