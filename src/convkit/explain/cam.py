"""Class activation maps: CAM (Zhou et al. 2016) for a network that ends in global average
pooling and one linear layer, and Grad-CAM (Selvaraju et al. 2017) for any layer.

Both weigh the K feature maps A_k (h x w) of one layer and add them up. CAM takes the
weights straight from the classifier's row of the target class; Grad-CAM takes them from
the gradient of the target score, averaged over the positions, and keeps the positive
part. On a network features -> global average pooling -> linear the two agree:
``grad_cam == relu(cam) / (h * w)`` (Selvaraju et al. §3.1).

Maps are raw (not scaled to [0, 1]); a figure normalises them for display. With
``upsample=True`` a map of h x w is resized to the input's H x W by bilinear
interpolation with ``align_corners=False`` (torch's default: each pixel is a square and
the two grids cover the same area, so the corner values are not pinned to the corners).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from convkit._checks import as_bool
from convkit.explain._setup import (
    Target,
    as_images,
    as_targets,
    check_submodule,
    class_scores,
    frozen_eval,
    recorded_input,
    recorded_output,
    single_recording,
    target_scores,
)

__all__ = ["class_activation_map", "grad_cam"]


def _feature_maps(func: str, name: str, recorded: list) -> torch.Tensor:
    """The one (N, K, h, w) output a layer gave in the forward pass."""
    maps = single_recording(func, name, recorded, "output")
    if maps.ndim != 4:
        raise ValueError(f"{func}: {name} must output feature maps (N, K, h, w), "
                         f"got shape {tuple(maps.shape)}")
    return maps


def _resize(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(N, h, w) -> (N, H, W) by bilinear interpolation (align_corners=False)."""
    return F.interpolate(maps[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]


def grad_cam(
    model: nn.Module,
    layer: nn.Module,
    x: np.ndarray | torch.Tensor,
    target: Target,
    upsample: bool = True,
) -> np.ndarray:
    """Grad-CAM of ``layer``: ReLU(sum_k w_k A_k), w_k the mean of d score / d A_k.

    x: (N, C, H, W) -> (N, H, W) with ``upsample=True`` (bilinear, align_corners=False),
    else (N, h, w), the size of the layer's output A: (N, K, h, w). A float numpy array
    (the model's dtype), not normalised.
    ``layer``: a module inside ``model`` that runs once per forward pass and outputs
    feature maps (a convolution, its activation, a block). The score is the model's
    output (logit) for ``target`` (one class index, or one per image). Eval mode,
    restored flags and an untouched ``x`` as for :func:`convkit.explain.saliency`.
    ValueError when ``layer`` is not inside ``model``, does not run exactly once, does
    not output 4-D maps, or the score does not depend on its output.
    """
    func = "grad_cam"
    upsample = as_bool(func, "upsample", upsample)
    with frozen_eval(func, model):
        check_submodule(func, "layer", model, layer)
        # The parameters are frozen: the input asks for gradients so that the layer's
        # output A is part of the autograd graph.
        images = as_images(func, x, model).requires_grad_(True)
        targets = as_targets(func, target, images.shape[0])
        with recorded_output(layer) as outputs:
            scores = class_scores(func, model, images)
        maps = _feature_maps(func, "layer", outputs)
        chosen = target_scores(func, scores, targets)
        (gradient,) = torch.autograd.grad(chosen.sum(), maps, allow_unused=True)
        if gradient is None:
            raise ValueError(f"{func}: the model's scores do not depend on the output of "
                             f"layer ({type(layer).__name__})")
        weights = gradient.mean(dim=(2, 3))  # (N, K)
        cam = F.relu((weights[:, :, None, None] * maps).sum(dim=1)).detach()
        if upsample:
            cam = _resize(cam, tuple(images.shape[2:]))
    return cam.cpu().numpy()


def class_activation_map(
    model: nn.Module,
    features: nn.Module,
    classifier: nn.Linear,
    x: np.ndarray | torch.Tensor,
    target: Target,
    upsample: bool = True,
) -> np.ndarray:
    """CAM: sum_k w[target, k] A_k, the classifier's weights on the last feature maps.

    x: (N, C, H, W) -> (N, H, W) with ``upsample=True`` (bilinear, align_corners=False),
    else (N, h, w). A float numpy array (the model's dtype), signed, not normalised; the
    classifier's bias is left out, as Zhou et al. do.
    For a network ending in ``features -> global average pooling -> classifier``:
    ``features`` is the module whose output A (N, K, h, w) is pooled (e.g. the last
    convolution or its ReLU) and ``classifier`` the ``nn.Linear`` (K -> classes) that
    reads the pooled (N, K). Both are modules inside ``model``, named by the caller.
    ValueError when they are not, when the classifier does not take K features, or when
    its input is not the spatial mean of A (the network has no global average pooling
    in between). Eval mode, restored flags and an untouched ``x`` as for
    :func:`convkit.explain.saliency`.
    """
    func = "class_activation_map"
    upsample = as_bool(func, "upsample", upsample)
    with frozen_eval(func, model):
        check_submodule(func, "features", model, features)
        check_submodule(func, "classifier", model, classifier)
        if not isinstance(classifier, nn.Linear):
            raise TypeError(f"{func}: classifier must be a torch.nn.Linear, "
                            f"got {type(classifier).__name__}")
        images = as_images(func, x, model)
        targets = as_targets(func, target, images.shape[0])
        with recorded_output(features) as outputs, recorded_input(classifier) as inputs, \
                torch.no_grad():
            scores = class_scores(func, model, images)
        maps = _feature_maps(func, "features", outputs)
        pooled = single_recording(func, "classifier", inputs, "input")
        n, k = maps.shape[:2]
        if classifier.in_features != k:
            raise ValueError(f"{func}: classifier takes {classifier.in_features} features but "
                             f"features outputs {k} maps (shape {tuple(maps.shape)})")
        if pooled.numel() != n * k or not torch.allclose(
            pooled.reshape(n, k), maps.mean(dim=(2, 3)), rtol=1e-4, atol=1e-6
        ):
            raise ValueError(f"{func}: the classifier's input is not the global average of "
                             f"the features' output; CAM needs features -> global average "
                             f"pooling -> classifier")
        target_scores(func, scores, targets)  # checks the range
        weights = classifier.weight[targets.to(maps.device)]  # (N, K)
        cam = torch.einsum("nk,nkhw->nhw", weights, maps)
        if upsample:
            cam = _resize(cam, tuple(images.shape[2:]))
    return cam.cpu().numpy()
