"""Occlusion sensitivity (Zeiler & Fergus 2014): cover part of the image and see how much
the target score drops. It needs only the model's outputs, no gradient, so it works for
any model and is the baseline the gradient methods are compared with.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from torch import nn

from convkit._checks import int_tuple
from convkit.explain._setup import (
    Target,
    as_images,
    as_targets,
    class_scores,
    frozen_eval,
    target_scores,
)

__all__ = ["occlusion_map"]

COPIES_PER_PASS = 256  # occluded copies of one image sent through the model at once


def _fill_value(func: str, fill: object) -> float:
    """``fill`` as a finite float: TypeError for non-numbers (bools too), else ValueError."""
    if isinstance(fill, bool | np.bool_) or not isinstance(fill, numbers.Real):
        raise TypeError(f"{func}: fill must be a number, got {fill!r}")
    if not math.isfinite(fill):
        raise ValueError(f"{func}: fill must be a finite number, got {fill}")
    return float(fill)


def _window_corners(
    size: tuple[int, int], window: tuple[int, int], stride: tuple[int, int]
) -> list[tuple[int, int]]:
    """Top-left corners (row, column) of every window position, row by row.

    Windows start at 0, stride, 2 * stride, ... and lie wholly inside the image.
    """
    (height, width), (kh, kw), (sh, sw) = size, window, stride
    return [(top, left) for top in range(0, height - kh + 1, sh)
            for left in range(0, width - kw + 1, sw)]


def occlusion_map(
    model: nn.Module,
    x: np.ndarray | torch.Tensor,
    target: Target,
    window: int | tuple[int, int],
    stride: int | tuple[int, int],
    fill: float = 0.0,
) -> np.ndarray:
    """How much the target score drops when a window around each pixel is covered.

    x: (N, C, H, W) -> (N, H, W), a float numpy array (the model's dtype).
    A window of ``window`` (an int or (height, width)) pixels, set to ``fill`` in every
    channel, slides over the image by ``stride`` (an int or a pair), starting at the
    top-left corner and staying inside the image. For each position the drop is
    score(original) - score(occluded), the score being the model's output (logit) for
    ``target`` (one class index, or one per image). A pixel's value is the mean drop of
    the windows that covered it; a pixel no window covered (at the right or bottom edge,
    when the stride does not land the last window there) is NaN. The occluded copies go
    through the model in batches of up to ``COPIES_PER_PASS``. Eval mode, restored flags
    and an untouched ``x`` as for :func:`convkit.explain.saliency`. ValueError when the
    window is larger than the image.
    """
    func = "occlusion_map"
    window_hw = int_tuple(func, "window", window, 2, minimum=1)
    stride_hw = int_tuple(func, "stride", stride, 2, minimum=1)
    fill = _fill_value(func, fill)
    with frozen_eval(func, model), torch.no_grad():
        images = as_images(func, x, model)
        n, _, height, width = images.shape
        if window_hw[0] > height or window_hw[1] > width:
            raise ValueError(f"{func}: window {window_hw} is larger than the images "
                             f"(H, W) = {(height, width)}")
        targets = as_targets(func, target, n)
        original = target_scores(func, class_scores(func, model, images), targets)  # (N,)
        corners = _window_corners((height, width), window_hw, stride_hw)
        kh, kw = window_hw
        total_drop = torch.zeros((n, height, width), dtype=torch.float64)
        covered = torch.zeros((height, width), dtype=torch.float64)
        for top, left in corners:
            covered[top:top + kh, left:left + kw] += 1
        for i in range(n):
            for start in range(0, len(corners), COPIES_PER_PASS):
                batch = corners[start:start + COPIES_PER_PASS]
                occluded = images[i].repeat(len(batch), 1, 1, 1)
                for copy, (top, left) in zip(occluded, batch, strict=True):
                    copy[:, top:top + kh, left:left + kw] = fill
                scores = class_scores(func, model, occluded)[:, targets[i]]
                drops = (original[i] - scores).double().cpu()
                for drop, (top, left) in zip(drops, batch, strict=True):
                    total_drop[i, top:top + kh, left:left + kw] += drop
        mean_drop = torch.where(covered > 0, total_drop / covered, torch.nan)
    return mean_drop.to(images.dtype).numpy()
