"""Pooling measurements (chapter 4): shift invariance and the size of classifier heads.

- :func:`unchanged_fraction`: how often a pooled map (or each of its values) stays the
  same when the input moves by a small shift.
- :func:`shift_invariance_table`: that fraction for several poolings and directions.
- :func:`relative_change`: how much a pooled map moves, ||pool(shifted) - pool(x)|| / ||pool(x)||.
- :func:`head_param_counts`: parameters of a flatten + dense head against a global
  average pooling head.

The shifts are :func:`convkit.shift2d` (vacated pixels become 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from convkit._checks import int_at_least
from convkit.ops.pooling import avg_pool2d, max_pool2d
from convkit.ops.shift import shift2d
from convkit.shapes import linear_params

__all__ = [
    "DIRECTIONS",
    "POOLINGS",
    "head_param_counts",
    "relative_change",
    "shift_invariance_table",
    "unchanged_fraction",
]

# Name -> (rows down, columns right) of a one-pixel move.
DIRECTIONS: dict[str, tuple[int, int]] = {
    "right": (0, 1),
    "left": (0, -1),
    "down": (1, 0),
    "up": (-1, 0),
}


def _no_pool(x: np.ndarray) -> np.ndarray:
    """x (N, H, W) -> x itself: the baseline without pooling."""
    return x


# Name -> function (N, H, W) -> (N, H', W'); 2x2 windows with stride 2.
POOLINGS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": _no_pool,
    "max 2x2": lambda x: max_pool2d(x, 2, 2),
    "avg 2x2": lambda x: avg_pool2d(x, 2, 2),
}


def unchanged_fraction(
    maps: object,
    pool: Callable[[np.ndarray], np.ndarray],
    dy: int,
    dx: int,
    *,
    per: str = "value",
    active_only: bool = True,
    atol: float = 1e-12,
) -> float:
    """Fraction of pooled outputs that a (dy, dx) shift of the input leaves unchanged.

    maps: (N, H, W) -> a fraction 0..1. ``pool`` maps (N, H, W) -> (N, H', W') (e.g. a
    :data:`POOLINGS` value); the shift is :func:`convkit.shift2d` (dy rows down, dx right).
    ``per="value"``: the fraction of pooled values that stay equal (within ``atol``);
    with ``active_only`` only values non-zero before or after the shift count, so an
    empty background cannot inflate the score. ``per="map"``: the fraction of maps
    whose whole pooled map stays equal.
    """
    x = np.asarray(maps, dtype=np.float64)
    if x.ndim != 3 or 0 in x.shape:
        raise ValueError(f"unchanged_fraction: maps must be a non-empty (N, H, W), got {x.shape}")
    if per not in ("value", "map"):
        raise ValueError(f"unchanged_fraction: per must be 'value' or 'map', got {per!r}")
    before = np.asarray(pool(x))
    after = np.asarray(pool(shift2d(x, dy, dx)))
    same = np.abs(before - after) <= atol
    if per == "map":
        return float(same.reshape(len(x), -1).all(axis=1).mean())
    if active_only:
        active = (np.abs(before) > atol) | (np.abs(after) > atol)
        if not active.any():
            raise ValueError("unchanged_fraction: every pooled value is zero; nothing to measure")
        return float(same[active].mean())
    return float(same.mean())


def relative_change(
    maps: object, pool: Callable[[np.ndarray], np.ndarray], dy: int, dx: int
) -> float:
    """Mean over maps of ||pool(shift(x)) - pool(x)|| / ||pool(x)|| (Frobenius norms).

    maps: (N, H, W) with no all-zero map -> float >= 0; 0 means every pooled map is
    unchanged. ``pool`` and the shift as in :func:`unchanged_fraction`.
    """
    x = np.asarray(maps, dtype=np.float64)
    if x.ndim != 3 or 0 in x.shape:
        raise ValueError(f"relative_change: maps must be a non-empty (N, H, W), got {x.shape}")
    before = np.asarray(pool(x)).reshape(len(x), -1)
    after = np.asarray(pool(shift2d(x, dy, dx))).reshape(len(x), -1)
    norms = np.linalg.norm(before, axis=1)
    if not norms.all():
        raise ValueError("relative_change: a pooled map is all zero; its change is undefined")
    return float(np.mean(np.linalg.norm(after - before, axis=1) / norms))


def shift_invariance_table(
    maps: object,
    poolings: Iterable[str] = tuple(POOLINGS),
    directions: Iterable[str] = tuple(DIRECTIONS),
    **options: object,
) -> dict[str, dict[str, float]]:
    """{pooling name: {direction: unchanged fraction}} for one-pixel shifts of ``maps``.

    maps: (N, H, W) -> {name: {direction: fraction 0..1}}; names come from
    :data:`POOLINGS` and :data:`DIRECTIONS`; ``options`` go to :func:`unchanged_fraction`
    (``per``, ``active_only``, ``atol``).
    """
    table: dict[str, dict[str, float]] = {}
    for name in poolings:
        if name not in POOLINGS:
            raise ValueError(
                f"shift_invariance_table: unknown pooling {name!r}; known: {list(POOLINGS)}"
            )
        row = {}
        for direction in directions:
            if direction not in DIRECTIONS:
                raise ValueError(
                    f"shift_invariance_table: unknown direction {direction!r}; "
                    f"known: {list(DIRECTIONS)}"
                )
            dy, dx = DIRECTIONS[direction]
            row[direction] = unchanged_fraction(maps, POOLINGS[name], dy, dx, **options)  # type: ignore[arg-type]
        table[name] = row
    return table


def head_param_counts(channels: int, height: int, width: int, classes: int) -> dict[str, int]:
    """Parameters of two classifier heads on a (channels, height, width) feature map.

    ``"flatten + dense"``: Linear(channels*height*width -> classes) with bias;
    ``"global average pool + dense"``: Linear(channels -> classes) with bias (GAP has none).
    """
    c = int_at_least("head_param_counts", "channels", channels, 1)
    h = int_at_least("head_param_counts", "height", height, 1)
    w = int_at_least("head_param_counts", "width", width, 1)
    k = int_at_least("head_param_counts", "classes", classes, 1)
    return {
        "flatten + dense": linear_params(c * h * w, k),
        "global average pool + dense": linear_params(c, k),
    }
