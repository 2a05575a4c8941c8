"""AlexNet, in the single-stream form most libraries ship (torchvision's layout).

Paper: A. Krizhevsky, I. Sutskever and G. E. Hinton, "ImageNet Classification with
Deep Convolutional Neural Networks", NeurIPS 2012.

The paper split the network over two GPUs and used local response normalisation;
the form here is the common one-GPU variant without normalisation (64, 192, 384,
256, 256 filters), an adaptive 6x6 average pool before the classifier and
dropout in the two hidden dense layers: 61,100,840 parameters for 1000 classes.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from convkit._checks import int_at_least

__all__ = ["alexnet"]


def alexnet(num_classes: int = 1000, dropout: float = 0.5) -> nn.Sequential:
    """AlexNet (Krizhevsky, Sutskever & Hinton, 2012): 61,100,840 parameters for 1000 classes.

    ``features``: conv 64@11x11 stride 4 pad 2 -> ReLU -> 3x3/2 max pool -> conv
    192@5x5 pad 2 -> ReLU -> max pool -> conv 384@3x3 -> ReLU -> conv 256@3x3 ->
    ReLU -> conv 256@3x3 -> ReLU -> max pool; ``pool``: adaptive average pool to
    6x6; ``classifier``: dropout -> dense 4096 -> ReLU -> dropout -> dense 4096 ->
    ReLU -> dense ``num_classes``. Shapes for one 3x224x224 image: (64, 55, 55)
    -> (64, 27, 27) -> (192, 27, 27) -> (192, 13, 13) -> (384, 13, 13) -> (256,
    13, 13) -> (256, 6, 6) -> 9216 -> 4096 -> 4096 -> ``num_classes``.

    Args:
        num_classes: output units.
        dropout: drop probability of the two dropout layers.

    Returns:
        ``nn.Sequential`` of ``features``, ``pool``, ``flatten``, ``classifier``;
        input ``(N, 3, H, W)`` with H, W >= 63, output ``(N, num_classes)`` logits.
    """
    classes = int_at_least("alexnet", "num_classes", num_classes, 1)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"alexnet: dropout must be in [0, 1), got {dropout!r}")
    features = nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(64, 192, kernel_size=5, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(192, 384, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
    )
    classifier = nn.Sequential(
        nn.Dropout(dropout),
        nn.Linear(256 * 6 * 6, 4096),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Linear(4096, 4096),
        nn.ReLU(inplace=True),
        nn.Linear(4096, classes),
    )
    return nn.Sequential(
        OrderedDict(
            [
                ("features", features),
                ("pool", nn.AdaptiveAvgPool2d((6, 6))),
                ("flatten", nn.Flatten()),
                ("classifier", classifier),
            ]
        )
    )
