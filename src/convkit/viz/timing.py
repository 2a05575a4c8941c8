"""The timing chart of chapter 7: loops vs im2col vs torch, seconds per call on a log scale.

:func:`plot_conv_timings` draws the rows of
:func:`convkit.lessons.timing.time_conv_methods` as grouped bars, one group per
convolution, one bar per method (loops grey, im2col blue, torch orange), each bar
labelled with its speed-up over the loops.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from convkit.lessons.timing import METHODS, TimingRow
from convkit.viz.style import PALETTE, course_figure, finish, set_title

__all__ = ["plot_conv_timings"]

#: Method key -> its bar colour.
_COLORS = {"loops": PALETTE["muted"], "im2col": PALETTE["input"], "torch": PALETTE["kernel"]}


def plot_conv_timings(rows: Sequence[TimingRow], *, title: str | None = None) -> Figure:
    """Grouped bars: seconds per method (log scale) for each case, each bar labelled with
    its speed-up over the loops ("×120"; the loops are ×1.0).

    rows: from :func:`convkit.lessons.timing.time_conv_methods` -> the figure (closed in
    pyplot, shown once).
    """
    rows = list(rows)
    if not rows:
        raise ValueError("plot_conv_timings: no rows to plot")
    if not all(isinstance(r, TimingRow) for r in rows):
        raise TypeError("plot_conv_timings: rows must be TimingRow objects (time_conv_methods)")
    cases = list(dict.fromkeys(r.case for r in rows))
    methods = [m for m in METHODS if any(r.method == m for r in rows)]
    by_key = {(r.case, r.method): r for r in rows}
    fig, ax, owned = course_figure(None, (2.6 * len(cases) + 2.0, 4.0))
    width = 0.8 / len(methods)
    for j, method in enumerate(methods):
        placed = [
            (i + (j - (len(methods) - 1) / 2) * width, by_key[(case, method)])
            for i, case in enumerate(cases)
            if (case, method) in by_key
        ]
        bars = ax.bar(
            [x for x, _ in placed],
            [row.seconds for _, row in placed],
            width=width * 0.95,
            color=_COLORS[method],
            label=METHODS[method],
        )
        for bar, (x, row) in zip(bars, placed, strict=True):
            text = f"×{row.speedup:,.0f}" if row.speedup >= 10 else f"×{row.speedup:.1f}"
            ax.annotate(
                text,
                (x, bar.get_height()),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
    ax.set_yscale("log")
    seconds = [r.seconds for r in rows]
    ax.set_ylim(min(seconds) / 3, max(seconds) * 8)
    ax.set_xticks(range(len(cases)), cases, fontsize=9)
    ax.set_ylabel("seconds per call (log scale)")
    ax.legend(frameon=False, fontsize=9, loc="upper left")
    ax.spines[["top", "right"]].set_visible(False)
    set_title(ax, title)
    return finish(fig, owned)
