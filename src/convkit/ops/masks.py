"""Intersection over union of segmentation masks (chapter 12).

A segmentation network labels every pixel; its masks are compared with the true ones by
the *intersection over union* (IoU, the Jaccard index): the pixels both masks mark,
divided by the pixels either marks.  1 is a perfect mask, 0 one that misses entirely.
"""

from __future__ import annotations

import numpy as np

from convkit._checks import as_bool

__all__ = ["mask_iou"]


def _as_mask(func: str, name: str, value: object) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == bool:
        return arr
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{func}: {name} must be a mask of bools or 0/1 numbers, got dtype "
                        f"{arr.dtype}")  # fmt: skip
    if not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{func}: {name} must hold only 0 and 1 (or bools); threshold "
                         "probabilities first, e.g. probs > 0.5")  # fmt: skip
    return arr.astype(bool)


def mask_iou(pred: object, target: object, per_image: bool = False) -> float | np.ndarray:
    """Intersection over union of binary masks.

    pred, target: masks of one shape, (H, W) or (N, H, W) (any shape whose first axis is
    the image when ``per_image``), bools or 0/1 numbers -> a float in [0, 1]: all pixels
    pooled, |pred & target| / |pred | target|; with ``per_image``, (N,) floats, one per
    image (first axis).  Where the union is empty (both masks empty) the IoU is 1: the
    masks agree.
    """
    func = "mask_iou"
    p = _as_mask(func, "pred", pred)
    t = _as_mask(func, "target", target)
    if p.shape != t.shape:
        raise ValueError(f"{func}: pred {p.shape} and target {t.shape} must have one shape")
    if as_bool(func, "per_image", per_image):
        if p.ndim < 2:
            raise ValueError(f"{func}: per_image needs masks (N, ...), got shape {p.shape}")
        axes = tuple(range(1, p.ndim))
        inter = (p & t).sum(axis=axes)
        union = (p | t).sum(axis=axes)
        return np.where(union == 0, 1.0, inter / np.maximum(union, 1))
    union = int((p | t).sum())
    return 1.0 if union == 0 else int((p & t).sum()) / union
