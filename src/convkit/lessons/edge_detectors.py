"""Judging hand-designed edge kernels (chapter 2) by their responses on test images.

- :func:`horizontal_edge_problems`: what stops a kernel from finding horizontal edges
  while ignoring every image that only changes from left to right.
- :func:`diagonal_edge_problems`: the same for edges along the main diagonal (top left
  to bottom right), ignoring every image that is constant along the other diagonal.

Both return a list of problems (empty: the kernel passes) and never raise for a bad
kernel: a grader shows the list to the student.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from convkit.ops.correlation import correlate2d

__all__ = ["diagonal_edge_problems", "horizontal_edge_problems"]

_SIZE = 12  # side of every test image


class _EdgeTask(NamedTuple):
    """What one kind of edge detector must do."""

    edge_name: str  # e.g. "horizontal step"
    polarities: tuple[str, str]  # the two orders of dark and bright across the edge
    side: np.ndarray  # (size, size) bool: True on the bright side of the test step
    ignored: dict[str, np.ndarray]  # label -> image the kernel must give exactly 0 on
    ignore_advice: str  # what the kernel should ignore, in words
    across: int  # kernel lines met across the edge, for the "barely responds" floor


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(size)[:, None] * np.ones((1, size), dtype=int)
    return rows, rows.T


def _horizontal_task(kh: int, kw: int, size: int = _SIZE) -> _EdgeTask:
    rows, cols = _grid(size)
    return _EdgeTask(
        edge_name="horizontal step",
        polarities=("dark above, bright below", "bright above, dark below"),
        side=rows >= size // 2,
        ignored={
            "vertical step": (cols >= size // 2).astype(float),
            "vertical stripes": (cols % 2).astype(float),
            "left-to-right ramp": cols / size,
            "flat grey": np.full((size, size), 0.5),
        },
        ignore_advice="it should ignore left-to-right changes",
        across=kh,
    )


def _diagonal_task(kh: int, kw: int, size: int = _SIZE) -> _EdgeTask:
    rows, cols = _grid(size)
    return _EdgeTask(
        edge_name="diagonal step",
        polarities=("bright below-left, dark above-right", "dark below-left, bright above-right"),
        side=rows - cols >= 0,
        ignored={
            "anti-diagonal step": (rows + cols >= size).astype(float),
            "anti-diagonal stripes": ((rows + cols) % 2).astype(float),
            "ramp across the anti-diagonals": (rows + cols) / (2 * size),
            "flat grey": np.full((size, size), 0.5),
        },
        ignore_advice=("it should ignore every image that is constant along each line "
                       "from bottom left to top right"),
        across=kh + kw - 1,
    )


def _as_kernel(kernel: object, min_shape: tuple[int, int]) -> tuple[np.ndarray | None, str]:
    """(the kernel as float64, "") or (None, the reason it cannot be judged)."""
    try:
        ker = np.asarray(kernel, dtype=np.float64)
    except (TypeError, ValueError) as err:
        return None, f"the kernel is not an array of numbers ({err})"
    if ker.ndim != 2:
        return None, f"the kernel must be 2-D (kh, kw), got shape {ker.shape}"
    lo_h, lo_w = min_shape
    if not (lo_h <= ker.shape[0] <= 7 and lo_w <= ker.shape[1] <= 7):
        return None, (f"the kernel must be between {lo_h}x{lo_w} and 7x7, "
                      f"got {ker.shape[0]}x{ker.shape[1]}")
    if not np.isfinite(ker).all():
        return None, "the kernel holds NaN or infinite values"
    if not np.abs(ker).sum() > 0:
        return None, "the kernel is all zeros: it responds to nothing"
    return ker, ""


def _problems(kernel: object, min_shape: tuple[int, int],
              make_task: Callable[[int, int], _EdgeTask]) -> list[str]:
    ker, reason = _as_kernel(kernel, min_shape)
    if ker is None:
        return [reason]
    task = make_task(*ker.shape)
    scale = float(np.abs(ker).sum())
    tol = 1e-9 * scale
    problems = []
    for label, image in task.ignored.items():
        peak = float(np.abs(correlate2d(image, ker)).max())
        if peak > tol:
            article = "an" if label[0] in "aeiou" else "a"
            problems.append(f"it responds to {article} {label} image (max |response| {peak:.3g}); "
                            f"{task.ignore_advice}")
    window = np.ones(ker.shape)
    bright = correlate2d(task.side.astype(float), window)  # bright pixels under each window
    straddling = (bright > 0) & (bright < ker.size)
    for polarity, image in zip(task.polarities, (task.side.astype(float), 2.0 * ~task.side),
                               strict=True):
        label = f"{task.edge_name} ({polarity})"
        response = np.abs(correlate2d(image, ker))
        peak = float(response.max())
        contrast = float(np.ptp(image))
        if peak < 0.1 * scale * contrast / task.across:
            problems.append(f"it barely responds to a {label} (max |response| {peak:.3g})")
        elif float(response[straddling].max()) < peak - tol:
            where = tuple(int(v) for v in np.unravel_index(np.argmax(response), response.shape))
            problems.append(f"on a {label} its strongest response is away from the step "
                            f"(output position {where})")
    return problems


def horizontal_edge_problems(kernel: object) -> list[str]:
    """What stops ``kernel`` from being a horizontal-edge detector (empty list: nothing).

    kernel: (kh, kw) with 2 <= kh <= 7 and 1 <= kw <= 7 -> list of str.

    A horizontal-edge detector must (1) give zero response on every image whose
    brightness changes only from left to right (flat, vertical steps, vertical
    stripes, ramps), and (2) respond on horizontal steps (both polarities), most
    strongly where its window straddles the step. A kernel of another shape, or one
    that is not finite numbers, is reported in the list rather than raised.
    """
    return _problems(kernel, (2, 1), _horizontal_task)


def diagonal_edge_problems(kernel: object) -> list[str]:
    """What stops ``kernel`` from being a diagonal-edge detector (empty list: nothing).

    kernel: (kh, kw) with 2 <= kh, kw <= 7 -> list of str.

    The edge runs along the main diagonal (top left to bottom right): the test step is
    bright where row >= column. A detector must (1) give zero response on every image
    that is constant along each anti-diagonal line (row + column fixed: flat images,
    anti-diagonal steps, stripes and ramps), and (2) respond on the diagonal step (both
    polarities), most strongly where its window straddles the step. A kernel of another
    shape, or one that is not finite numbers, is reported in the list rather than raised.
    """
    return _problems(kernel, (2, 2), _diagonal_task)
