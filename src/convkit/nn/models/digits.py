"""The ch06 digit classifier: a small LeNet-style ConvNet for 1x28x28 MNIST images."""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

__all__ = ["DIGIT_CNN_WIDTHS", "digit_cnn"]

#: Channel / unit widths of :func:`digit_cnn`: conv1 and conv2 output channels, hidden units.
DIGIT_CNN_WIDTHS = {"conv1": 16, "conv2": 32, "hidden": 64}


def digit_cnn() -> nn.Sequential:
    """The ch06 network: (CONV -> ReLU -> POOL) x 2, then FLATTEN -> DENSE -> ReLU -> DENSE.

    Returns an ``nn.Sequential``: x: (N, 1, 28, 28) -> (N, 10) logits.

    Built only from ``Conv2d``, ``ReLU``, ``MaxPool2d``, ``Flatten`` and
    ``Linear`` so the pure-numpy trainer can mirror it layer by layer. Shapes
    for one image: ``(1, 28, 28) -> conv1 (16, 28, 28) -> pool1 (16, 14, 14)
    -> conv2 (32, 14, 14) -> pool2 (32, 7, 7) -> flatten (1568,) -> fc1 (64,)
    -> fc2 (10,)`` logits (no softmax: the loss applies it). Named layers: conv1,
    relu1, pool1, conv2, relu2, pool2, flatten, fc1, relu3, fc2.
    """
    c1, c2, hidden = (
        DIGIT_CNN_WIDTHS["conv1"],
        DIGIT_CNN_WIDTHS["conv2"],
        DIGIT_CNN_WIDTHS["hidden"],
    )
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, c1, kernel_size=5, padding=2)),
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),
                ("conv2", nn.Conv2d(c1, c2, kernel_size=5, padding=2)),
                ("relu2", nn.ReLU()),
                ("pool2", nn.MaxPool2d(2)),
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(c2 * 7 * 7, hidden)),
                ("relu3", nn.ReLU()),
                ("fc2", nn.Linear(hidden, 10)),
            ]
        )
    )
