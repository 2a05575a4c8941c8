"""Mistakes of mask_iou (ch12): another ratio than the intersection over the union, the
wrong grouping of the pixels (pooled, per image), and the empty union.

A student's ratio with another denominator (the target's area, the prediction's, the
two areas added) is undefined where that denominator is 0, and what a student returns
there (NaN, 0, 1, an error) varies; so these mistakes are matched by ``match_fn``: the
student's result must equal the mistaken ratio wherever that ratio is defined, and the
mistaken ratio must differ from the right IoU there. Everything is computed with numpy
on bool copies of the case's masks.
"""

from __future__ import annotations

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import bool, float, isinstance, range, tuple, type  # noqa: UP029
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from convkit.grading import _trusted as T
from convkit.grading.mistakes._common import Args, Mistake, _same, _Skip

# numpy functions bound now: a notebook that rebinds np.where cannot change a result here.
_where, _isnan, _nan = np.where, np.isnan, np.nan
POOLED = "the IoU of all the images' pixels pooled, not one IoU per image"
NAN_WHERE_EMPTY = "the IoU with NaN where both masks are empty (0 / 0)"


class _Areas(NamedTuple):
    """Pixel counts per image (``per_image``) or over all pixels, as float64."""

    inter: np.ndarray  # |pred & target|
    union: np.ndarray  # |pred | target|
    pred: np.ndarray  # |pred|
    target: np.ndarray  # |target|


def _masks(a: Args) -> tuple[np.ndarray, np.ndarray]:
    pred, target = T.asarray(a["pred"]), T.asarray(a["target"])
    if type(pred) is not T.NDARRAY or type(target) is not T.NDARRAY:
        raise _Skip
    if pred.shape != target.shape or pred.ndim == 0:
        raise _Skip
    return pred != 0, target != 0


def _areas(a: Args, per_image: bool) -> _Areas:
    pred, target = _masks(a)
    if per_image and pred.ndim < 2:
        raise _Skip
    axes = tuple(range(1, pred.ndim)) if per_image else None

    def count(mask: np.ndarray) -> np.ndarray:
        return T.NDARRAY.astype(T.asarray(mask.sum(axis=axes)), T.FLOAT64)

    return _Areas(count(pred & target), count(pred | target), count(pred), count(target))


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """top / bottom, NaN where bottom is 0."""
    safe = _where(bottom == 0, 1.0, bottom)
    return _where(bottom == 0, _nan, top / safe)


def _as_got(values: np.ndarray, expected: Any) -> Any:
    """``values`` in the form of the reference's result: a float or an array."""
    if isinstance(expected, float):
        if values.ndim:
            raise _Skip
        return float(values)
    return values


def _agrees_where_defined(
    mistaken: np.ndarray, expected: Any, got: Any, rtol: float, atol: float
) -> bool:
    """``got`` equals ``mistaken`` wherever ``mistaken`` is defined (not NaN), and there
    ``mistaken`` differs from ``expected``."""
    defined = T.isfinite(mistaken)
    if not defined.any():
        return False
    want = T.NDARRAY.astype(T.asarray(expected), T.FLOAT64)
    have = T.asarray(got)
    if type(have) is not T.NDARRAY or have.shape != want.shape or want.shape != mistaken.shape:
        return False
    have = T.NDARRAY.astype(have, T.FLOAT64)
    if _same(want[defined], mistaken[defined], rtol, atol):
        return False
    return _same(mistaken[defined], have[defined], rtol, atol)


def _other_ratio(label: str, hint: str, formula: Callable[[_Areas], np.ndarray]) -> Mistake:
    """The mistake of computing ``formula`` of the areas instead of the IoU: matched where
    that ratio is defined."""

    def match(a: Args, expected: Any, got: Any, rtol: float, atol: float) -> str | None:
        mistaken = formula(_areas(a, bool(a["per_image"])))
        return label if _agrees_where_defined(mistaken, expected, got, rtol, atol) else None

    return Mistake(label, hint, match_fn=match)


def _pooled_for_each(a: Args, expected: Any, got: Any, rtol: float, atol: float) -> str | None:
    """per_image=True answered with the pooled IoU (one number, or that number repeated)."""
    if not a["per_image"]:
        return None
    areas = _areas(a, False)
    if float(areas.union) == 0:
        return None
    pooled = float(areas.inter) / float(areas.union)
    want = T.NDARRAY.astype(T.asarray(expected), T.FLOAT64)
    have = T.asarray(got)
    if type(have) is not T.NDARRAY or have.shape not in ((), want.shape):
        return None
    if _same(want * 0 + pooled, want, rtol, atol):
        return None  # every image's IoU is the pooled one: nothing to tell apart
    flat = T.NDARRAY.astype(have, T.FLOAT64).reshape(-1)
    return POOLED if _same(flat * 0 + pooled, flat, rtol, atol) else None


def _nan_where_empty(a: Args, expected: Any, got: Any, rtol: float, atol: float) -> str | None:
    """NaN exactly where the union is empty, the right IoU everywhere else."""
    union = _areas(a, bool(a["per_image"])).union
    empty = union == 0
    if not empty.any():
        return None
    have = T.asarray(got)
    if type(have) is not T.NDARRAY or have.shape != union.shape:
        return None
    have = T.NDARRAY.astype(have, T.FLOAT64)
    if not _isnan(have[empty]).all() or T.logical_not(T.isfinite(have[~empty])).any():
        return None
    want = T.NDARRAY.astype(T.asarray(expected), T.FLOAT64)
    if not _same(want[~empty], have[~empty], rtol, atol):
        return None
    return NAN_WHERE_EMPTY


def _mask_iou_mistakes() -> tuple[Mistake, ...]:
    def zero_where_empty(a: Args, e: Any) -> Any:
        areas = _areas(a, bool(a["per_image"]))
        if not (areas.union == 0).any():
            raise _Skip
        safe = _where(areas.union == 0, 1.0, areas.union)
        return _as_got(_where(areas.union == 0, 0.0, areas.inter / safe), e)

    def mean_of_images(a: Args, e: Any) -> Any:
        if a["per_image"]:
            raise _Skip
        pred, _ = _masks(a)
        if pred.ndim < 3:  # (H, W): no image axis to average over
            raise _Skip
        areas = _areas(a, True)
        safe = _where(areas.union == 0, 1.0, areas.union)
        return float(_where(areas.union == 0, 1.0, areas.inter / safe).mean())

    empty = (
        "two empty masks agree perfectly: where the union is empty the IoU is 1 (and "
        "never a division by 0)"
    )
    return (
        _other_ratio(
            "the intersection divided by the target's area (the recall)",
            "divide by the union |pred | target|, the pixels either mask marks",
            lambda s: _ratio(s.inter, s.target),
        ),
        _other_ratio(
            "the intersection divided by the prediction's area (the precision)",
            "divide by the union |pred | target|: a prediction that marks every "
            "pixel must not score 1",
            lambda s: _ratio(s.inter, s.pred),
        ),
        _other_ratio(
            "the Dice coefficient 2 |pred & target| / (|pred| + |target|)",
            "IoU is |pred & target| / |pred | target|, not Dice",
            lambda s: _ratio(2 * s.inter, s.pred + s.target),
        ),
        _other_ratio(
            "the intersection divided by |pred| + |target| (the pixels in both masks "
            "counted twice)",
            "the union counts every marked pixel once: |pred | target| = |pred| + "
            "|target| - |pred & target|",
            lambda s: _ratio(s.inter, s.pred + s.target),
        ),
        Mistake(
            POOLED,
            "with per_image=True, count the intersection and the union of each image "
            "(sum over every axis but the first) and return an array of N IoUs",
            match_fn=_pooled_for_each,
        ),
        Mistake(
            "the mean of the per-image IoUs",
            "with per_image=False every pixel of every image counts together: one "
            "intersection over one union, not an average of the images' IoUs",
            mean_of_images,
        ),
        Mistake("the IoU with 0 where both masks are empty", empty, zero_where_empty),
        Mistake(NAN_WHERE_EMPTY, "guard the division: " + empty, match_fn=_nan_where_empty),
    )
