"""convkit: the course's shared package.

The names here are the reference operations: plain numpy (float32 in -> float32
out, float64 -> float64, integers and lists -> float64), following
``torch.nn.functional`` for names, argument order, shapes and semantics.

The package is layered, one layer per folder (``src/convkit/README.md`` says which
layer may import which; ``make lint`` checks it with import-linter):

- ``ops``: the numpy operations (padding, correlation, convolutions, im2col,
  backward passes, pooling, shifts, normalisation, dropout); ``shapes``: output sizes,
  parameter counts, receptive fields, initialisation scales; ``data``: offline
  MNIST and photos.
- ``nn``: torch models, ``UnfoldConv2d`` and the numpy network.
- ``training``: the torch and numpy trainers, augmentation, history.
- ``lessons``: the chapters' measurements; ``viz``: figures; ``sims``: the book's
  simulations and quick checks.
- ``grading`` (hidden-test helpers), ``course`` (nbgrader commands), ``book`` (the build).
- ``_checks`` (argument validation) and ``_env`` (thread settings) sit below all.
"""

from convkit._legacy import install_legacy_paths
from convkit.ops.conv1d import conv1d
from convkit.ops.conv2d import conv2d, conv2d_naive
from convkit.ops.conv_backward import conv2d_backward
from convkit.ops.conv_transpose import (
    conv_transpose2d,
    conv_transpose2d_naive,
    conv_transpose_output_size,
)
from convkit.ops.correlation import convolve2d, correlate2d
from convkit.ops.dropout import dropout, dropout_backward
from convkit.ops.im2col import im2col
from convkit.ops.masks import mask_iou
from convkit.ops.normalization import (
    batch_norm,
    batch_norm_backward,
    batch_norm_naive,
    group_norm,
    layer_norm,
)
from convkit.ops.padding import pad2d
from convkit.ops.pooling import (
    avg_pool2d,
    global_avg_pool2d,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_naive,
)
from convkit.ops.shift import shift2d
from convkit.shapes import (
    conv2d_params,
    kaiming_std,
    linear_params,
    output_size,
    receptive_field,
    xavier_std,
)

install_legacy_paths()

__all__ = [
    "avg_pool2d",
    "batch_norm",
    "batch_norm_backward",
    "batch_norm_naive",
    "conv1d",
    "conv2d",
    "conv2d_backward",
    "conv2d_naive",
    "conv2d_params",
    "conv_transpose2d",
    "conv_transpose2d_naive",
    "conv_transpose_output_size",
    "convolve2d",
    "correlate2d",
    "dropout",
    "dropout_backward",
    "global_avg_pool2d",
    "group_norm",
    "im2col",
    "kaiming_std",
    "layer_norm",
    "linear_params",
    "mask_iou",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_naive",
    "output_size",
    "pad2d",
    "receptive_field",
    "shift2d",
    "xavier_std",
]
