"""The course's figure style: its colours, its rc settings and the helpers that make figures.

Every figure of :mod:`convkit.viz` is made here: :func:`course_figure` gives one axes
(a new figure, or the caller's axes), :func:`course_subplots` a grid of axes, both
under the rc settings of :data:`STYLE`. A figure function returns through
:func:`finish`, which closes in pyplot a figure the function made itself, so a
notebook shows it exactly once: as the cell's value or through ``myst_nb.glue``.

- :data:`PALETTE`: blue for inputs, orange for kernels and windows, green for outputs,
  plus an accent, a muted grey and a light grey.
- :data:`TAP_COLORS`: ten distinct colours, one per kernel tap, curve or bar.
- :data:`STYLE`: the rc settings (font sizes, bold titles, no top/right spines).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "PALETTE",
    "STYLE",
    "TAP_COLORS",
    "course_figure",
    "course_subplots",
    "finish",
    "label_axes",
    "set_title",
]

#: The course's colours: blue for inputs, orange for kernels/windows, green for outputs.
PALETTE = {
    "input": "#3b75af",
    "kernel": "#ef8636",
    "output": "#519e3e",
    "accent": "#c53a32",
    "muted": "#8d8d8d",
    "light": "#f2f2f2",
}
#: Distinct colours for tied weights (one colour per kernel tap / distinct value), curves, bars.
TAP_COLORS = [
    "#ef8636",
    "#3b75af",
    "#519e3e",
    "#c53a32",
    "#8d69b8",
    "#84584e",
    "#d57dbf",
    "#bcbc35",
    "#42bbcc",
    "#7f7f7f",
]
#: The matplotlib rc settings every course figure is created with.
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
}


def course_subplots(
    nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **kwargs: Any
) -> tuple[Figure, Any]:
    """A new figure with an ``(nrows, ncols)`` grid of axes, made under :data:`STYLE`.

    ``kwargs`` go to ``plt.subplots`` (``squeeze``, ``gridspec_kw``, ...) -> ``(figure,
    axes)`` exactly as ``plt.subplots`` returns them. Close it with :func:`finish`.
    """
    with plt.rc_context(STYLE):
        return plt.subplots(nrows, ncols, figsize=figsize, **kwargs)


def course_figure(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes, bool]:
    """The axes to draw on: ``ax`` itself, or one axes on a new figure of ``figsize`` inches.

    -> ``(figure, axes, owned)``; ``owned`` is True for a new figure (pass it to
    :func:`finish`, which then closes the figure), False for the caller's axes.
    """
    if ax is not None:
        return ax.figure, ax, False
    fig, new_ax = course_subplots(figsize=figsize)
    return fig, new_ax, True


def finish(fig: Figure, owned: bool = True) -> Figure:
    """Close ``fig`` in pyplot when the figure function made it (``owned``) -> ``fig``.

    A closed figure is still drawn when a notebook cell returns it, but pyplot no
    longer shows it a second time at the end of the cell.
    """
    if owned:
        plt.close(fig)
    return fig


def set_title(ax: Axes, text: str | None) -> None:
    """Give ``ax`` the course's title (11 pt, bold); nothing for an empty or None ``text``."""
    if text:
        ax.set_title(text, fontsize=11, fontweight="bold")


def label_axes(ax: Axes, xlabel: str | None, ylabel: str | None, title: str | None) -> None:
    """Set ``ax``'s axis labels (when given) and the course's title."""
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    set_title(ax, title)
