"""Shared timing and table helpers for the benchmarks (median of repeats)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


def median_seconds(fn: Callable[[], object], *, repeats: int = 7, warmup: int = 2) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@dataclass
class Row:
    """One benchmark line: our time, torch's time and the target on their ratio."""

    name: str
    ours: float
    torch: float
    target: float  # the largest acceptable ratio ours / torch

    @property
    def ratio(self) -> float:
        return self.ours / self.torch

    @property
    def ok(self) -> bool:
        return self.ratio <= self.target


def print_table(title: str, rows: list[Row]) -> bool:
    """Print rows as a table; return True when every row meets its target."""
    print(f"\n{title}")
    header = f"{'case':<48} {'convkit ms':>11} {'torch ms':>9} {'ratio':>6} {'target':>7}  ok"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.name:<48} {r.ours * 1e3:>11.2f} {r.torch * 1e3:>9.2f} {r.ratio:>6.2f}"
            f" {'<= ' + format(r.target, 'g'):>7}  {'yes' if r.ok else 'NO'}"
        )
    return all(r.ok for r in rows)
