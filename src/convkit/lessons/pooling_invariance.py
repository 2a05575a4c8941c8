"""Pooling measurements (chapter 4): shift invariance and the size of classifier heads.

- :func:`unchanged_fraction`: how often a pooled map (or each of its values) stays the
  same when the input moves by a small shift.
- :func:`shift_invariance_table`: that fraction for several poolings and directions.
- :func:`relative_change`: how much a pooled map moves, ||pool(shifted) - pool(x)|| / ||pool(x)||.
- :func:`change_profile`: how many pooled values a shift changes, and by how much each.
- :func:`summary_change`: how much a global average of the pooled maps (what a
  classifier head sees) moves under a shift; :func:`repeated` stacks a pooling and
  :func:`random_conv_pool_net` builds a small untrained conv-ReLU-max-pool network.
- :func:`head_param_counts`: parameters of a flatten + dense head against a global
  average pooling head.
- :func:`count_in_words`: "none of the 1,000 digits" rather than "0%".

The shifts are :func:`convkit.shift2d` (vacated pixels become 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F

from convkit._checks import int_at_least
from convkit.ops.pooling import avg_pool2d, max_pool2d
from convkit.ops.shift import shift2d
from convkit.shapes import linear_params

__all__ = [
    "DIRECTIONS",
    "POOLINGS",
    "change_profile",
    "count_in_words",
    "head_param_counts",
    "random_conv_pool_net",
    "relative_change",
    "repeated",
    "shift_invariance_table",
    "summary_change",
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


def change_profile(
    maps: object,
    pool: Callable[[np.ndarray], np.ndarray],
    dy: int,
    dx: int,
    *,
    atol: float = 1e-12,
) -> dict[str, float]:
    """How many active pooled values a (dy, dx) shift changes, and by how much each.

    maps: (N, H, W) -> ``{"changed": share 0..1 of the active pooled values that change,
    "mean_change": mean |pool(shifted) - pool(x)| over the values that change}``.
    Active values are non-zero before or after the shift, as in :func:`unchanged_fraction`;
    ``mean_change`` is 0.0 when nothing changes. Together the two numbers separate "how
    often" from "how much", which :func:`unchanged_fraction` and :func:`relative_change`
    each see only one side of.
    """
    x = np.asarray(maps, dtype=np.float64)
    if x.ndim != 3 or 0 in x.shape:
        raise ValueError(f"change_profile: maps must be a non-empty (N, H, W), got {x.shape}")
    before = np.asarray(pool(x))
    after = np.asarray(pool(shift2d(x, dy, dx)))
    active = (np.abs(before) > atol) | (np.abs(after) > atol)
    if not active.any():
        raise ValueError("change_profile: every pooled value is zero; nothing to measure")
    change = np.abs(after - before)[active]
    moved = change > atol
    return {
        "changed": float(moved.mean()),
        "mean_change": float(change[moved].mean()) if moved.any() else 0.0,
    }


def repeated(
    pool: Callable[[np.ndarray], np.ndarray], times: int
) -> Callable[[np.ndarray], np.ndarray]:
    """``pool`` applied ``times`` times in a row (e.g. two 2x2 max poolings).

    The result maps what ``pool`` maps, e.g. (N, H, W) -> (N, H / 2**times, W / 2**times)
    for a 2x2, stride-2 pooling.
    """
    count = int_at_least("repeated", "times", times, 1)

    def stacked(x: np.ndarray) -> np.ndarray:
        for _ in range(count):
            x = pool(x)
        return x

    return stacked


def random_conv_pool_net(
    seed: int = 0, channels: tuple[int, ...] = (4, 8)
) -> Callable[[np.ndarray], np.ndarray]:
    """A small untrained network: per block a 3x3 convolution (padding 1), ReLU and a
    2x2, stride-2 max pooling, one block per entry of ``channels``.

    Returns the network as a function, maps (N, H, W) -> features (N, channels[-1],
    H // 2**B, W // 2**B) as float64 (B = the number of blocks; the network itself runs
    in float32, which is plenty for measuring changes of a few percent). The weights are
    standard normal from a generator of its own seeded with ``seed`` (the global torch seed is
    left alone), so the same seed always builds the same network.
    """
    if not channels:
        raise ValueError("random_conv_pool_net: give at least one block (channels)")
    widths = [int_at_least("random_conv_pool_net", "channels", c, 1) for c in channels]
    generator = torch.Generator().manual_seed(int(seed))
    weights, c_in = [], 1
    for c_out in widths:
        weights.append(torch.randn(c_out, c_in, 3, 3, generator=generator))
        c_in = c_out

    def features(maps: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.asarray(maps, dtype=np.float32))[:, None]
        with torch.no_grad():
            for w in weights:
                x = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2)
        return x.numpy().astype(np.float64)

    return features


def summary_change(
    maps: object,
    features: Callable[[np.ndarray], np.ndarray],
    shifts: Iterable[tuple[int, int]],
) -> list[float]:
    """How much the global average of the features moves under each shift.

    maps: (N, H, W); shifts: (dy, dx) pairs -> one float >= 0 per shift: the mean over
    maps of ||g(shift(x)) - g(x)|| / ||g(x)||, where g averages ``features(x)`` ((N, h, w)
    or (N, C, h, w)) over its last two axes, as a global average pooling head does.
    0 means the summary did not move at all.
    """
    x = np.asarray(maps, dtype=np.float64)
    if x.ndim != 3 or 0 in x.shape:
        raise ValueError(f"summary_change: maps must be a non-empty (N, H, W), got {x.shape}")

    def summary(a: np.ndarray) -> np.ndarray:
        out = np.asarray(features(a), dtype=np.float64)
        return out.mean(axis=(-2, -1)).reshape(len(a), -1)

    before = summary(x)
    norms = np.linalg.norm(before, axis=1)
    if not norms.all():
        raise ValueError("summary_change: a summary is all zero; its change is undefined")
    changes = []
    for dy, dx in shifts:
        after = summary(shift2d(x, dy, dx))
        changes.append(float(np.mean(np.linalg.norm(after - before, axis=1) / norms)))
    return changes


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


def count_in_words(count: int, total: int, noun: str) -> str:
    """A count out of a total in words: "none of the 1,000 digits", "all 1,000 digits",
    "one of the 1,000 digits", "12 of the 1,000 digits".

    ``noun`` is the plural ("digits"); a percentage such as "0%" or "100%" hides that
    the count is exactly none or all, which these words say.
    """
    n = int_at_least("count_in_words", "total", total, 1)
    k = int_at_least("count_in_words", "count", count, 0)
    if k > n:
        raise ValueError(f"count_in_words: count {k} is larger than total {n}")
    if k == 0:
        return f"none of the {n:,} {noun}"
    if k == n:
        return f"all {n:,} {noun}"
    return f"{'one' if k == 1 else f'{k:,}'} of the {n:,} {noun}"
