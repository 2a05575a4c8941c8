"""What a trained network learned, in numbers (chapter 6).

Pictures of learned filters and feature maps invite reading more into them than is
there. These measurements say what is:

- :func:`oriented_templates`: a bank of oriented bars (even Gabor filters) and edges
  (odd ones), the patterns hand-made edge and stroke detectors have;
- :func:`template_match`: for every filter, how closely its shape matches the best
  template of a bank (the cosine similarity after removing the means, sign ignored:
  1 is the template itself, random filters score well below);
- :func:`neighbour_correlation`: how smooth the filters are (the correlation of
  horizontally and vertically adjacent weights; about 0 for independent random weights);
- :func:`relu_outputs`: the output of every ReLU of a sequential network for a batch of
  images, and :func:`silent_units`: which units (channels, for maps) are zero for every
  image — dead ReLU units, which no image sends a gradient through.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from convkit._checks import as_float_array, int_at_least, positive_float
from convkit.lessons.filters import gabor_kernel

__all__ = [
    "neighbour_correlation",
    "oriented_templates",
    "relu_outputs",
    "silent_units",
    "template_match",
]


def oriented_templates(
    size: int = 5, orientations: int = 8, wavelength: float = 6.0, sigma: float = 2.0
) -> np.ndarray:
    """Bars and edges at evenly spaced orientations: -> (2 * orientations, size, size).

    Template ``2k`` is the even Gabor filter (a bright bar between two dark flanks) at
    angle ``k * pi / orientations`` and template ``2k + 1`` the odd one (an edge: bright
    on one side, dark on the other), both from
    :func:`convkit.lessons.filters.gabor_kernel` with this ``wavelength`` and ``sigma``
    (pixels); every template has mean 0. ``size`` is odd.
    """
    func = "oriented_templates"
    size = int_at_least(func, "size", size, 1)
    orientations = int_at_least(func, "orientations", orientations, 1)
    wavelength = positive_float(func, "wavelength", wavelength)
    sigma = positive_float(func, "sigma", sigma)
    if size % 2 == 0:
        raise ValueError(f"{func}: size must be odd, got {size}")
    return np.stack([
        gabor_kernel(size, k * np.pi / orientations, wavelength, sigma, phase)
        for k in range(orientations)
        for phase in (0.0, np.pi / 2)
    ])


def _unit_rows(func: str, name: str, a: object) -> np.ndarray:
    """(K, ...) -> (K, n): every row flattened, its mean removed, scaled to length 1."""
    arr = as_float_array(func, name, a)
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise ValueError(f"{func}: {name} must be a non-empty stack (K, ...), got {arr.shape}")
    rows = arr.reshape(len(arr), -1).astype(np.float64)
    rows = rows - rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"{func}: {name} holds a constant entry, which has no shape to compare")
    return rows / norms


def template_match(filters: object, templates: object) -> np.ndarray:
    """The best |cosine similarity| of every filter with any template, means removed.

    filters: (K, kh, kw) or (K, 1, kh, kw); templates: (T, kh, kw) -> (K,) in [0, 1].

    1 means the filter is a template up to scale, sign and an added constant; 0 that it
    is orthogonal to all of them. ValueError when the shapes differ or an entry is
    constant.
    """
    func = "template_match"
    f = _unit_rows(func, "filters", filters)
    t = _unit_rows(func, "templates", templates)
    if f.shape[1] != t.shape[1]:
        raise ValueError(
            f"{func}: filters of {f.shape[1]} weights and templates of {t.shape[1]} differ"
        )
    return np.abs(f @ t.T).max(axis=1)


def neighbour_correlation(filters: object) -> float:
    """The correlation of horizontally and vertically adjacent weights, over all filters.

    filters: (K, kh, kw) or (K, 1, kh, kw) -> float in [-1, 1].

    Every pair of neighbouring weights of every filter is one sample (a, b); the result
    is Pearson's correlation of the samples. Smooth filters give values near 1, weights
    drawn independently at random values near 0. ValueError for filters smaller than
    2 x 2.
    """
    func = "neighbour_correlation"
    w = as_float_array(func, "filters", filters).astype(np.float64)
    if w.ndim == 4 and w.shape[1] == 1:
        w = w[:, 0]
    if w.ndim != 3 or min(w.shape[1:]) < 2:
        raise ValueError(f"{func}: filters must be (K, kh, kw) with kh, kw >= 2, got {w.shape}")
    first = np.concatenate([w[:, :, :-1].ravel(), w[:, :-1, :].ravel()])
    second = np.concatenate([w[:, :, 1:].ravel(), w[:, 1:, :].ravel()])
    return float(np.corrcoef(first, second)[0, 1])


def relu_outputs(model: nn.Module, x: object, batch_size: int = 1000) -> dict[str, np.ndarray]:
    """The output of every ``nn.ReLU`` child of ``model``, for the images ``x``.

    x: (N, C, H, W) float -> {child name: (N, ...) float32}, in the order of the children.

    model: an ``nn.Sequential`` (e.g. :func:`convkit.nn.models.digit_cnn`), run child by
    child in eval mode without gradients (its mode restored afterwards), ``batch_size``
    images at a time. TypeError for a model that is not an ``nn.Sequential``.
    """
    func = "relu_outputs"
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"{func}: model must be an nn.Sequential, got {type(model).__name__}")
    images = as_float_array(func, "x", x)
    if images.ndim != 4:
        raise ValueError(f"{func}: x must be (N, C, H, W), got shape {images.shape}")
    batch_size = int_at_least(func, "batch_size", batch_size, 1)
    parts: dict[str, list[np.ndarray]] = {}
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for first in range(0, len(images), batch_size):
                h = torch.from_numpy(np.ascontiguousarray(images[first:first + batch_size],
                                                          dtype=np.float32))
                for name, layer in model.named_children():
                    h = layer(h)
                    if isinstance(layer, nn.ReLU):
                        parts.setdefault(name, []).append(h.numpy().copy())
    finally:
        model.train(was_training)
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}


def silent_units(outputs: object) -> np.ndarray:
    """Which units output 0 for every image: outputs (N, C, H, W) or (N, F) -> (C,) or (F,) bool.

    For maps, a unit is a channel, silent when it is 0 at every position of every image.
    A ReLU unit that is silent for every training image receives no gradient from any of
    them (its slope is 0 there): a "dead" unit. ValueError for other shapes or N = 0.
    """
    func = "silent_units"
    a = as_float_array(func, "outputs", outputs)
    if a.ndim not in (2, 4) or len(a) == 0:
        raise ValueError(f"{func}: outputs must be (N, C, H, W) or (N, F), got {a.shape}")
    axes = (0, 2, 3) if a.ndim == 4 else (0,)
    return np.all(a == 0, axis=axes)
