"""The effective receptive field (Luo, Li, Urtasun & Zemel 2016): how strongly each input
pixel moves one output unit, measured by backpropagation.

The theoretical receptive field (``convkit.receptive_field``) counts every pixel a unit
can read; the effective one weighs them. Through a stack of layers the weights pile up in
the middle, roughly like a Gaussian, so most of the influence sits in a region smaller
than the theoretical one. :func:`erf_size` and :func:`erf_std` put numbers on that.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from convkit._checks import finite_floats, fraction
from convkit.explain._setup import as_images, frozen_eval

__all__ = ["effective_receptive_field", "erf_size", "erf_std"]


def effective_receptive_field(model: nn.Module, x: np.ndarray | torch.Tensor) -> np.ndarray:
    """Mean |d(centre output unit) / d input| over the images x, summed over channels.

    model: maps (N, C, H, W) -> (N, K, h, w); x: (N, C, H, W) -> (H, W), a float numpy
    array (the model's dtype), not normalised.
    The centre unit is at (h // 2, w // 2) (the lower-right one of the middle four when
    h or w is even), and its K channels are summed: a gradient of 1 is sent back from
    each of them. Each image's input gradient is taken in absolute value and summed over
    the C input channels, and the maps are averaged over the N images. As Luo et al. do
    for a given network, the caller passes inputs of random pixels (e.g.
    ``torch.randn(16, C, H, W)``): the same x gives the same map. The weights are the
    model's own (average over several models to study random weights). Eval mode,
    restored flags and an untouched x as for :func:`convkit.explain.saliency`.
    TypeError / ValueError for an x that is not 4-D floats; ValueError when the
    model's output is not 4-D.
    """
    func = "effective_receptive_field"
    with frozen_eval(func, model):
        inputs = as_images(func, x, model).requires_grad_(True)
        outputs = model(inputs)
        if not isinstance(outputs, torch.Tensor) or outputs.ndim != 4:
            got = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else type(outputs)
            raise ValueError(f"{func}: model must output feature maps (N, K, h, w), got {got}")
        h, w = outputs.shape[2:]
        # Each image's centre depends on that image only (eval mode): one backward pass
        # of the sum gives every image's own gradient.
        centre = outputs[:, :, h // 2, w // 2].sum()
        (gradient,) = torch.autograd.grad(centre, inputs)
    return gradient.abs().sum(dim=1).mean(dim=0).cpu().numpy()


def _distribution(func: str, erf: object) -> np.ndarray:
    """``erf`` (H, W), non-negative, not all zero, scaled to sum to 1 (float64)."""
    values = finite_floats(func, "erf", erf, 2)
    if (values < 0).any():
        raise ValueError(f"{func}: erf must not be negative (a map of gradient magnitudes)")
    total = values.sum()
    if total == 0:
        raise ValueError(f"{func}: erf is zero everywhere")
    return values / total


def erf_std(erf: np.ndarray) -> tuple[float, float]:
    """Spread of an effective receptive field: its standard deviations down and across.

    erf: (H, W), non-negative -> (std of the row index, std of the column index) in
    pixels, the map read as a probability distribution over the pixels (scaled to sum
    to 1). For a stack of n 3x3 all-ones convolutions each is sqrt(2 n / 3): it grows
    like the square root of the depth, while the theoretical field 2n + 1 grows like
    the depth.
    """
    p = _distribution("erf_std", erf)
    rows, cols = np.indices(p.shape)
    stds = []
    for index in (rows, cols):
        mean = (p * index).sum()
        stds.append(float(np.sqrt((p * (index - mean) ** 2).sum())))
    return stds[0], stds[1]


def erf_size(erf: np.ndarray, mass: float = 0.95) -> int:
    """Side of the smallest odd square that holds ``mass`` of an effective receptive field.

    erf: (H, W), non-negative -> the side 2r + 1 (pixels), comparable with
    ``convkit.receptive_field``: the smallest r such that the square of side 2r + 1
    centred on the map's centroid (its mean position, rounded to the nearest pixel, ties
    to even) holds at least ``mass`` (0 < mass <= 1) of the map's total, up to rounding
    (1e-9), parts outside the map counting as 0. With mass=1 and a map centred on its
    support, this is the side of that support.
    """
    func = "erf_size"
    mass = fraction(func, "mass", mass)
    if mass == 0:
        raise ValueError(f"{func}: mass must be above 0, got {mass}")
    p = _distribution(func, erf)
    rows, cols = np.indices(p.shape)
    centre_row, centre_col = int(np.rint((p * rows).sum())), int(np.rint((p * cols).sum()))
    for half in range(max(p.shape)):
        square = p[
            max(centre_row - half, 0) : centre_row + half + 1,
            max(centre_col - half, 0) : centre_col + half + 1,
        ]
        if square.sum() >= mass - 1e-9:
            return 2 * half + 1
    raise AssertionError("unreachable: the last square covers the whole map")
