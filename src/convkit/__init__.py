"""convkit: the course's shared package (reference operations and more).

The reference operations are plain numpy (float32 in -> float32 out, float64 ->
float64, integers and lists -> float64) and follow ``torch.nn.functional`` for
names, argument order, shapes and semantics. One idea per module:

- ``convkit.padding``: :func:`pad2d`, padding the last two axes.
- ``convkit.correlation``: :func:`correlate2d` and :func:`convolve2d`, the
  cross-correlation / convolution of one image with one kernel.
- ``convkit.conv1d``: :func:`conv1d`, 1-D convolution layers.
- ``convkit.conv2d``: :func:`conv2d_naive` (the formula as loops) and
  :func:`conv2d` (the same contract, vectorised: im2col + one batched matrix product).
- ``convkit.im2col``: :func:`im2col`, unfolding windows into columns (torch's ``unfold``).
- ``convkit.conv_backward``: :func:`conv2d_backward`, the gradients of conv2d
  (matrix products plus col2im).
- ``convkit.pooling``: :func:`max_pool2d`, :func:`avg_pool2d`,
  :func:`global_avg_pool2d` and :func:`max_pool2d_backward`.
- ``convkit.shapes``: :func:`output_size`, :func:`conv2d_params`,
  :func:`linear_params` and :func:`receptive_field`, the shape arithmetic.
- ``convkit._checks`` (private): the argument validation every operation shares.
"""

from .conv1d import conv1d
from .conv2d import conv2d, conv2d_naive
from .conv_backward import conv2d_backward
from .correlation import convolve2d, correlate2d
from .im2col import im2col
from .padding import pad2d
from .pooling import avg_pool2d, global_avg_pool2d, max_pool2d, max_pool2d_backward
from .shapes import conv2d_params, linear_params, output_size, receptive_field

__all__ = [
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "conv2d_backward",
    "conv2d_naive",
    "conv2d_params",
    "convolve2d",
    "correlate2d",
    "global_avg_pool2d",
    "im2col",
    "linear_params",
    "max_pool2d",
    "max_pool2d_backward",
    "output_size",
    "pad2d",
    "receptive_field",
]
