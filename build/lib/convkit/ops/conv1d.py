"""1-D convolution (cross-correlation), as in torch.nn.functional.conv1d.

A 1-D convolution is a 2-D one on inputs of height 1, so it reuses conv2d's fast path.
"""

from __future__ import annotations

import numpy as np

from convkit._checks import conv_setup
from convkit.ops.conv2d import correlate

__all__ = ["conv1d"]


def conv1d(
    x: object,
    weight: object,
    bias: object = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
) -> np.ndarray:
    """1-D convolution (cross-correlation).

    x: (N, C_in, L) or (C_in, L); weight: (C_out, C_in, k); bias: (C_out,) or None
    -> (N, C_out, L_out) (or (C_out, L_out) when unbatched), with
    out[n, o, i] = b[o] + sum_c sum_m xpad[n, c, i*stride + m*dilation] * w[o, c, m].
    ``padding`` is an int, "valid" or "same" (stride 1 only; an odd total padding
    puts the extra zero on the right, as torch does).
    """
    s, _ = conv_setup("conv1d", x, weight, bias, stride, padding, dilation, spatial=1)
    out = correlate(
        s.x[:, :, None, :],  # (N, C_in, 1, L)
        s.weight[:, :, None, :],  # (C_out, C_in, 1, k)
        s.bias,
        ((0, 0), *s.pads),
        (1, *s.stride),
        (1, *s.dilation),
        (1, *s.out_size),
    )[:, :, 0, :]
    return out[0] if s.unbatched else out
