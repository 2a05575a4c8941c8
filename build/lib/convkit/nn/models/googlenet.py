"""GoogLeNet (Inception v1): parallel 1x1, 3x3, "5x5" and pooling branches, concatenated.

Paper: C. Szegedy et al., "Going Deeper with Convolutions", CVPR 2015 (arXiv 1409.4842, 2014).

The layout follows torchvision's port, the usual source of the number 6,624,904
(1000 classes, no auxiliary classifiers): every convolution is a
:class:`ConvBNReLU` (conv without bias, batch norm with eps 0.001, ReLU; the
paper had biases and no batch norm), and the branch the paper draws as a 5x5
convolution uses a 3x3 kernel (a quirk of that port, pytorch/vision issue 906).
``googlenet(wide_kernel=5)`` builds the paper's 5x5 branches instead:
7,005,832 parameters.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from convkit._checks import int_at_least

__all__ = ["GOOGLENET_INCEPTIONS", "ConvBNReLU", "Inception", "googlenet"]

#: The nine inception blocks: name -> (in, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj).
GOOGLENET_INCEPTIONS: dict[str, tuple[int, int, int, int, int, int, int]] = {
    "inception3a": (192, 64, 96, 128, 16, 32, 32),
    "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64),
    "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64),
    "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128),
    "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}


class ConvBNReLU(nn.Sequential):
    """Conv (no bias, "same" padding for odd kernels at stride 1) -> BatchNorm(eps=1e-3) -> ReLU.

    Parameters: ``in_channels * out_channels * k * k`` weights plus
    ``2 * out_channels`` (the batch norm's scale and shift).
    Shape: ``(N, in_channels, H, W) -> (N, out_channels, H', W')`` with the usual
    conv output size for ``kernel_size``, ``stride`` and padding ``kernel_size // 2``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1):
        super().__init__(
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=kernel_size // 2,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels, eps=0.001),
            nn.ReLU(inplace=True),
        )


class Inception(nn.Module):
    """An inception block: four branches run side by side, outputs concatenated on channels.

    Branches: (1) 1x1 conv to ``c1``; (2) 1x1 conv to ``c3_reduce`` then 3x3 to
    ``c3``; (3) 1x1 conv to ``c5_reduce`` then ``wide_kernel`` x ``wide_kernel``
    to ``c5`` (5 in the paper; 3 in torchvision's port); (4) 3x3 max pool with
    stride 1 then 1x1 conv to ``pool_proj``. The 1x1 "reduce" convs shrink the
    channels before the expensive kernels. Every conv is a :class:`ConvBNReLU`.

    Shape: ``(N, in_channels, H, W) -> (N, c1 + c3 + c5 + pool_proj, H, W)``.
    """

    def __init__(
        self,
        in_channels: int,
        c1: int,
        c3_reduce: int,
        c3: int,
        c5_reduce: int,
        c5: int,
        pool_proj: int,
        wide_kernel: int = 5,
    ) -> None:
        super().__init__()
        for name, value in [
            ("in_channels", in_channels), ("c1", c1), ("c3_reduce", c3_reduce), ("c3", c3),
            ("c5_reduce", c5_reduce), ("c5", c5), ("pool_proj", pool_proj),
        ]:  # fmt: skip
            int_at_least("Inception", name, value, 1)
        if wide_kernel not in (3, 5):
            raise ValueError(f"Inception: wide_kernel must be 3 or 5, got {wide_kernel!r}")
        self.in_channels = in_channels
        self.out_channels = c1 + c3 + c5 + pool_proj
        self.branch1 = ConvBNReLU(in_channels, c1, 1)
        self.branch2 = nn.Sequential(
            ConvBNReLU(in_channels, c3_reduce, 1), ConvBNReLU(c3_reduce, c3, 3)
        )
        self.branch3 = nn.Sequential(
            ConvBNReLU(in_channels, c5_reduce, 1), ConvBNReLU(c5_reduce, c5, wide_kernel)
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            ConvBNReLU(in_channels, pool_proj, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(branches, dim=1)


def googlenet(num_classes: int = 1000, wide_kernel: int = 3, dropout: float = 0.2) -> nn.Sequential:
    """GoogLeNet (Szegedy et al., 2014) without auxiliary heads: 6,624,904 parameters.

    Stem: 7x7/2 conv 64 -> 3x3/2 max pool -> 1x1 conv 64 -> 3x3 conv 192 -> 3x3/2
    max pool; then inception 3a, 3b -> max pool -> 4a ... 4e -> max pool -> 5a,
    5b (:data:`GOOGLENET_INCEPTIONS`); then global average pool -> dropout ->
    dense ``num_classes``. Max pools use ``ceil_mode=True``. Sides for a 224x224
    image: 112, 56 (stem pool), 28 (block 3), 14 (block 4), 7 (block 5), 1;
    channels 64, 192, 256, 480, 512, 512, 512, 528, 832, 832, 1024.

    Args:
        num_classes: output units (the count above is for 1000).
        wide_kernel: kernel of the "5x5" branch: 3 (torchvision's port, the
            6,624,904 count) or 5 (the paper, 7,005,832).
        dropout: drop probability before the classifier.

    Returns:
        ``nn.Sequential``; input ``(N, 3, H, W)``, output ``(N, num_classes)`` logits.
    """
    classes = int_at_least("googlenet", "num_classes", num_classes, 1)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"googlenet: dropout must be in [0, 1), got {dropout!r}")
    if wide_kernel not in (3, 5):
        raise ValueError(f"googlenet: wide_kernel must be 3 or 5, got {wide_kernel!r}")

    def pool() -> nn.MaxPool2d:
        return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)

    layers: list[tuple[str, nn.Module]] = [
        ("conv1", ConvBNReLU(3, 64, 7, stride=2)),
        ("pool1", pool()),
        ("conv2", ConvBNReLU(64, 64, 1)),
        ("conv3", ConvBNReLU(64, 192, 3)),
        ("pool2", pool()),
    ]
    for name, widths in GOOGLENET_INCEPTIONS.items():
        layers.append((name, Inception(*widths, wide_kernel=wide_kernel)))
        if name in ("inception3b", "inception4e"):
            layers.append((f"pool{3 if name == 'inception3b' else 4}", pool()))
    layers += [
        ("avgpool", nn.AdaptiveAvgPool2d((1, 1))),
        ("flatten", nn.Flatten()),
        ("dropout", nn.Dropout(dropout)),
        ("fc", nn.Linear(1024, classes)),
    ]
    return nn.Sequential(OrderedDict(layers))
