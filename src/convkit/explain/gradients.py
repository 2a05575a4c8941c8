"""Gradients as explanations: the saliency map (Simonyan, Vedaldi & Zisserman 2014) and
SmoothGrad (Smilkov et al. 2017).

The score of a class is the model's output for it before any softmax (a logit). Its
gradient with respect to the input says how much each pixel, moved a little, would move
that score. A map shows the magnitude, the largest over the colour channels.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from convkit._checks import int_at_least, non_negative_float
from convkit.explain._setup import (
    Target,
    as_images,
    as_targets,
    class_scores,
    frozen_eval,
    target_scores,
)

__all__ = ["saliency", "smoothgrad"]


def _input_gradient(
    func: str, model: nn.Module, images: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    """d score[n, targets[n]] / d images[n] for every image n.

    images: (N, C, H, W), targets: (N,) -> (N, C, H, W). The scores of all images are
    summed before one backward pass: in eval mode image n's score depends on image n
    only, so the gradient of the sum with respect to image n is that of its own score.
    """
    images = images.clone().requires_grad_(True)
    chosen = target_scores(func, class_scores(func, model, images), targets)
    (gradient,) = torch.autograd.grad(chosen.sum(), images)
    return gradient


def _largest_magnitude_over_channels(gradient: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) -> (N, H, W): max over channels of |gradient| (Simonyan et al. §3.1)."""
    return gradient.abs().amax(dim=1).cpu().numpy()


def saliency(
    model: nn.Module, x: np.ndarray | torch.Tensor, target: Target
) -> np.ndarray:
    """The saliency map: the largest |d score_target / d pixel| over the channels.

    x: (N, C, H, W) -> (N, H, W), a float numpy array (the model's dtype).
    ``target``: one class index for every image, or a sequence of N of them; the score
    is the model's output (a logit, before softmax) for that class. The model runs in
    eval mode and gets back its modes and ``requires_grad`` flags; its parameters receive
    no gradient, and ``x`` is not changed. TypeError / ValueError name the bad argument
    (not a module, not 4-D, a target out of range, ...).
    """
    func = "saliency"
    with frozen_eval(func, model):
        images = as_images(func, x, model)
        targets = as_targets(func, target, images.shape[0])
        gradient = _input_gradient(func, model, images, targets)
    return _largest_magnitude_over_channels(gradient)


def smoothgrad(
    model: nn.Module,
    x: np.ndarray | torch.Tensor,
    target: Target,
    samples: int = 50,
    noise: float = 0.15,
    seed: int = 0,
) -> np.ndarray:
    """SmoothGrad: the saliency map of the gradient averaged over noisy copies of x.

    x: (N, C, H, W) -> (N, H, W), a float numpy array (the model's dtype).
    Each of ``samples`` rounds adds Gaussian noise to every image, with standard
    deviation ``noise`` times that image's range (max - min), as Smilkov et al. do
    (they recommend 10-20 % and about 50 samples, the defaults here). The raw gradients
    (signed) are averaged first and the absolute value, largest over channels, is taken
    last: the paper averages the gradient itself (its sensitivity map), and takes the
    magnitude only to show the averaged gradient. With ``samples=1, noise=0``
    the result is :func:`saliency`'s. The noise comes from a torch generator seeded with
    ``seed`` (>= 0): the same seed gives the same map. ``target``, eval mode and the
    restored model are as for :func:`saliency`.
    """
    func = "smoothgrad"
    samples = int_at_least(func, "samples", samples, 1)
    noise = non_negative_float(func, "noise", noise)
    seed = int_at_least(func, "seed", seed, 0)
    with frozen_eval(func, model):
        images = as_images(func, x, model)
        targets = as_targets(func, target, images.shape[0])
        spread = images.amax(dim=(1, 2, 3)) - images.amin(dim=(1, 2, 3))  # (N,)
        std = (noise * spread)[:, None, None, None]
        generator = torch.Generator().manual_seed(seed)
        total = torch.zeros_like(images)
        for _ in range(samples):
            draw = torch.randn(images.shape, generator=generator, dtype=images.dtype)
            noisy = images + std * draw.to(images.device)
            total += _input_gradient(func, model, noisy, targets)
    return _largest_magnitude_over_channels(total / samples)
