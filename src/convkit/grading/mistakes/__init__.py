"""Known mistakes of the graded operations, so a failure message can name the one made.

When a student's result is wrong, :func:`convkit.grading.check_function` asks
:func:`named_mistake` whether the result equals what a known mistake computes, e.g.
conv2d without the bias; if so the message ends with a sentence that names it and
says what to change::

    conv2d(x of shape (1, 2, 4, 4), weight of shape (3, 2, 2, 2), bias=[0.5, -1.0, 2.0]):
    values differ at index (0, 0, 0, 0): expected 3.125, got 2.625 (max abs difference
    2.0 over 27 of 27 entries) — your result equals conv2d without the bias: add bias[o]
    to every entry of output channel o.

How a mistake is matched. Each mistake's result is computed by convkit's own
reference operations (captured when this package is imported, before any student
code runs) or by short numpy code, on a copy of the case's arguments, outside the
guard. A mistake is named only when its result differs from the right one on that
case (forgetting a bias of None, flipping a symmetric kernel or ignoring stride 1
change nothing, so they are never named), and only when the student's result equals
it within the grading tolerance. For a tuple result (conv2d_backward's three
gradients) the mistakes are looked for in the item the message reports. When several
mistakes with different advice give the same numbers on a case, all of them are
named; an output size off by one is named only when nothing more specific matches.
Nothing here can change a grade: the case has already failed when these are computed.

The modules:

- :mod:`.matching`: the registry of graded operations (:data:`.matching.REGISTRY`,
  empty if convkit's operations were replaced before grading was imported) and
  :func:`named_mistake`, which tries an operation's mistakes in order;
- :mod:`.convolution`: conv2d (groups included), conv1d, correlate2d / convolve2d,
  conv2d_backward, im2col, conv_transpose2d;
- :mod:`.pooling`: max_pool2d, avg_pool2d, max_pool2d_backward, global_avg_pool2d;
- :mod:`.sizes`: an output one window too big or too small, output_size, pad2d,
  conv2d_params, linear_params;
- :mod:`.normalization`: batch_norm (and, through :func:`running_statistics_mistake`,
  the running statistics it updates in place), batch_norm_backward, group_norm,
  kaiming_std;
- :mod:`.masks`: mask_iou (another ratio, pooled against per image, the empty union);
- :mod:`._common`: the :class:`Mistake` and :class:`Operation` records and the
  helpers the catalogues share.

``mistakes_of(convkit.conv2d)`` lists conv2d's known mistakes.
"""

from convkit.grading.mistakes._common import Mistake, Operation
from convkit.grading.mistakes.matching import mistakes_of, named_mistake
from convkit.grading.mistakes.normalization import running_statistics_mistake
from convkit.grading.mistakes.pooling import route_max_gradient

__all__ = [
    "Mistake",
    "Operation",
    "mistakes_of",
    "named_mistake",
    "route_max_gradient",
    "running_statistics_mistake",
]
