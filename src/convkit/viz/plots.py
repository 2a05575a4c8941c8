"""Matplotlib figures for the book, in one consistent style.

Every function returns the :class:`matplotlib.figure.Figure` it drew on, made
with the helpers of :mod:`convkit.viz.style`.  When a function creates its own
figure it closes it in pyplot before returning, so a notebook shows the figure
exactly once: when it is the last expression of a cell, or when it is glued with
``myst_nb.glue``.  Pass ``ax=`` to draw into an existing axes instead (the figure
is then left open).

Functions:

- :func:`show_grid` — a 2-D (or 1-D) array as coloured cells with their values;
  optional highlighted window.
- :func:`show_images` — a row (or grid) of images with titles.
- :func:`show_matrix` — a dense weight matrix with its zeros left blank and
  equal values drawn in equal colours (tied weights are visible at a glance).
- :func:`show_connectivity` — wiring of a fully-connected vs a convolutional
  layer between two rows of units.
- :func:`show_sliding_window` — input with the current window, kernel and the
  partly filled output: one step of a convolution.
- :func:`bar_chart` — labelled bars with their values, optionally on a log axis.
- :func:`line_chart` — curves over a shared x axis with a legend.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import ArrayLike

from convkit.viz.style import (
    PALETTE,
    TAP_COLORS,
    course_figure,
    course_subplots,
    finish,
    label_axes,
    set_title,
)

__all__ = [
    "PALETTE",
    "bar_chart",
    "line_chart",
    "show_connectivity",
    "show_grid",
    "show_images",
    "show_matrix",
    "show_sliding_window",
]

_CMAPS = {"input": "Blues", "kernel": "Oranges", "output": "Greens"}


def _as_array(a: ArrayLike, name: str, ndims: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if arr.ndim not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    return arr.astype(np.float64)


def _format_value(v: float, fmt: str | None) -> str:
    if fmt is not None:
        return format(v, fmt)
    if float(v).is_integer():
        return f"{int(v)}"
    return f"{v:.2f}"


def _text_color(rgba: Sequence[float]) -> str:
    r, g, b = rgba[:3]
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.55 else "black"


def show_grid(
    a: ArrayLike,
    ax: Axes | None = None,
    annotate: bool = True,
    *,
    title: str | None = None,
    role: str = "input",
    cmap: str | None = None,
    fmt: str | None = None,
    highlight: tuple[int, int, int, int] | None = None,
    hidden: ArrayLike | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    cell_size: float = 0.55,
) -> Figure:
    """Draw an array as a grid of coloured cells, optionally with its values.

    a: (H, W) or (L,) (drawn as one row), hidden: same shape as ``a`` or None -> Figure.

    ax: axes to draw into; a new figure is made when None.
    annotate: write each value in its cell.
    title: axes title.
    role: ``"input"``, ``"kernel"`` or ``"output"``: picks the course colour map.
    cmap: a matplotlib colour map name overriding ``role``.
    fmt: format spec for the values (default: integers as integers, else 2 decimals).
    highlight: ``(row, col, height, width)`` of a window to outline.
    hidden: boolean mask; True cells are drawn empty (e.g. outputs not computed yet).
    vmin, vmax: colour limits (default: the data's range).
    cell_size: inches per cell for a new figure.
    """
    arr = _as_array(a, "show_grid: a", (1, 2))
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.size == 0:
        raise ValueError("show_grid: a is empty")
    if role not in _CMAPS:
        raise ValueError(f"show_grid: role must be one of {sorted(_CMAPS)}, got {role!r}")
    mask = np.zeros(arr.shape, dtype=bool)
    if hidden is not None:
        mask = np.asarray(hidden, dtype=bool)
        if mask.ndim == 1:
            mask = mask[None, :]
        if mask.shape != arr.shape:
            raise ValueError(
                f"show_grid: hidden has shape {np.shape(hidden)}, expected {arr.shape}"
            )
    rows, cols = arr.shape
    fig, ax, owned = course_figure(ax, (max(1.0, cols * cell_size), max(0.8, rows * cell_size)))

    colormap = matplotlib.colormaps[cmap or _CMAPS[role]]
    lo = float(np.min(arr)) if vmin is None else vmin
    hi = float(np.max(arr)) if vmax is None else vmax
    if hi == lo:
        hi = lo + 1.0
    # Keep the palest colours for small values and stop before the darkest shade.
    norm = Normalize(vmin=lo - 0.15 * (hi - lo), vmax=hi + 0.25 * (hi - lo))
    colors = colormap(norm(arr))
    colors[mask] = to_rgba("white")
    ax.imshow(colors, interpolation="nearest", aspect="equal")

    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(which="minor", color="white" if hidden is None else "#cccccc", linewidth=1.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    for spine in ax.spines.values():
        spine.set_visible(False)

    if annotate:
        for i in range(rows):
            for j in range(cols):
                if mask[i, j]:
                    continue
                ax.text(
                    j,
                    i,
                    _format_value(arr[i, j], fmt),
                    ha="center",
                    va="center",
                    color=_text_color(colors[i, j]),
                    fontsize=10,
                )
    if highlight is not None:
        r0, c0, h, w = highlight
        if h < 1 or w < 1 or r0 < 0 or c0 < 0 or r0 + h > rows or c0 + w > cols:
            raise ValueError(f"show_grid: highlight {highlight} does not fit a {rows}x{cols} grid")
        ax.add_patch(
            Rectangle(
                (c0 - 0.5, r0 - 0.5),
                w,
                h,
                fill=False,
                edgecolor=PALETTE["accent"],
                linewidth=3,
                zorder=3,
            )
        )
    set_title(ax, title)
    return finish(fig, owned)


def show_images(
    images: Sequence[ArrayLike],
    titles: Sequence[str] | None = None,
    *,
    ncols: int | None = None,
    cmap: str | Sequence[str] = "gray",
    size: float = 2.6,
    symmetric: bool | Sequence[bool] = False,
) -> Figure:
    """Show several images side by side (or in a grid).

    images: a sequence of (H, W) (grey) or (H, W, 3) (RGB in [0, 1]) -> Figure, one axes each.

    titles: one title per image, or None.
    ncols: images per row (default: all in one row).
    cmap: colour map for grey images, or one per image.
    size: inches per image.
    symmetric: colour limits symmetric around 0 (for signed maps such as edge
    responses; use with a diverging ``cmap``), or one flag per image.  The limit is
    the 99th percentile of ``|values|`` so that a few extreme pixels do not wash out
    the rest.
    """
    imgs = [np.asarray(im, dtype=np.float64) for im in images]
    if not imgs:
        raise ValueError("show_images: no images given")
    for k, im in enumerate(imgs):
        if not (im.ndim == 2 or (im.ndim == 3 and im.shape[-1] in (3, 4))):
            raise ValueError(
                f"show_images: image {k} must be (H, W) or (H, W, 3), got shape {im.shape}"
            )
    if titles is not None and len(titles) != len(imgs):
        raise ValueError(f"show_images: {len(titles)} titles for {len(imgs)} images")
    cmaps = [cmap] * len(imgs) if isinstance(cmap, str) else list(cmap)
    sym = [symmetric] * len(imgs) if isinstance(symmetric, bool) else list(symmetric)
    if len(cmaps) != len(imgs) or len(sym) != len(imgs):
        raise ValueError(
            f"show_images: need one cmap and one symmetric flag per image "
            f"({len(imgs)} images, {len(cmaps)} cmaps, {len(sym)} flags)"
        )
    ncols = len(imgs) if ncols is None else ncols
    if ncols < 1:
        raise ValueError(f"show_images: ncols must be >= 1, got {ncols}")
    nrows = -(-len(imgs) // ncols)
    fig, axes = course_subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= len(imgs):
            continue
        im = imgs[k]
        if im.ndim == 2:
            lim = None
            if sym[k]:
                lim = float(np.percentile(np.abs(im), 99)) or float(np.max(np.abs(im))) or 1.0
            ax.imshow(
                im,
                cmap=cmaps[k],
                interpolation="nearest",
                vmin=None if lim is None else -lim,
                vmax=lim,
            )
        else:
            ax.imshow(np.clip(im, 0, 1), interpolation="nearest")
        if titles is not None:
            set_title(ax, titles[k])
    fig.tight_layout()
    return finish(fig)


def show_matrix(
    m: ArrayLike,
    ax: Axes | None = None,
    annotate: bool = True,
    *,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    fmt: str | None = None,
    cell_size: float = 0.45,
) -> Figure:
    """Draw a (mostly zero) weight matrix: zeros blank, equal values in equal colours.

    Each distinct non-zero value gets its own colour, so the tied weights of a
    convolution show up as coloured diagonals.

    m: (rows, cols) -> Figure.

    ax: axes to draw into; a new figure is made when None.
    annotate: write the non-zero values in their cells.
    title, xlabel, ylabel: labels.
    fmt: format spec for the values.
    cell_size: inches per cell for a new figure.
    """
    arr = _as_array(m, "show_matrix: m", (2,))
    rows, cols = arr.shape
    values = np.unique(arr[arr != 0])
    palette = TAP_COLORS * (len(values) // len(TAP_COLORS) + 1)
    index = np.zeros(arr.shape, dtype=int)
    for k, v in enumerate(values):
        index[arr == v] = k + 1
    cmap = ListedColormap(["white", *palette[: len(values)]])
    figsize = (max(2.0, cols * cell_size + 1), max(1.2, rows * cell_size + 0.8))
    fig, ax, owned = course_figure(ax, figsize)
    ax.imshow(index, cmap=cmap, vmin=-0.5, vmax=len(values) + 0.5, interpolation="nearest")
    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(which="minor", color="#d0d0d0", linewidth=0.8)
    ax.tick_params(which="minor", length=0)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.tick_params(which="major", length=0, labelsize=8)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if annotate:
        for i, j in zip(*np.nonzero(arr), strict=True):
            rgba = cmap(index[i, j])
            ax.text(
                j,
                i,
                _format_value(arr[i, j], fmt),
                ha="center",
                va="center",
                color=_text_color(rgba),
                fontsize=9,
            )
    label_axes(ax, xlabel, ylabel, title)
    return finish(fig, owned)


def _draw_wiring(
    ax: Axes, n_inputs: int, n_outputs: int, kernel_size: int | None, title: str
) -> None:
    """Two rows of units; edges coloured per weight (conv: per tap, shared)."""
    xs_in = np.arange(n_inputs, dtype=float)
    offset = (n_inputs - n_outputs) / 2 if kernel_size is None else (kernel_size - 1) / 2
    xs_out = np.arange(n_outputs, dtype=float) + offset
    if kernel_size is None:
        cmap = matplotlib.colormaps["turbo"]
        total = n_inputs * n_outputs
        for o in range(n_outputs):
            for i in range(n_inputs):
                ax.plot(
                    [xs_in[i], xs_out[o]],
                    [0, 1],
                    color=cmap((o * n_inputs + i) / total),
                    linewidth=1.0,
                    alpha=0.8,
                    zorder=1,
                )
    else:
        for o in range(n_outputs):
            for m in range(kernel_size):
                ax.plot(
                    [xs_in[o + m], xs_out[o]],
                    [0, 1],
                    color=TAP_COLORS[m % len(TAP_COLORS)],
                    linewidth=2.0,
                    zorder=1,
                )
    ax.scatter(xs_in, np.zeros(n_inputs), s=220, color=PALETTE["input"], zorder=2)
    ax.scatter(xs_out, np.ones(n_outputs), s=220, color=PALETTE["output"], zorder=2)
    ax.text(-0.9, 0, "input", ha="right", va="center")
    ax.text(-0.9, 1, "output", ha="right", va="center")
    ax.set_xlim(-2.6, n_inputs - 0.4)
    ax.set_ylim(-0.3, 1.3)
    ax.axis("off")
    set_title(ax, title)


def show_connectivity(n_inputs: int = 8, kernel_size: int = 3) -> Figure:
    """Side-by-side wiring of a fully-connected and a 1-D convolutional layer.

    Returns the figure (two axes).  Left: ``n_inputs`` inputs to
    ``n_inputs - kernel_size + 1`` outputs, every pair connected, every edge its own
    weight (its own colour).  Right: the same units with a convolution: each output
    sees ``kernel_size`` neighbours and edges with the same colour share one weight.
    Titles give the weight counts.

    n_inputs: number of input units, >= 2.
    kernel_size: convolution kernel length, 1 <= kernel_size <= n_inputs.
    """
    for name, value in (("n_inputs", n_inputs), ("kernel_size", kernel_size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"show_connectivity: {name} must be an int, got {value!r}")
    if n_inputs < 2 or not 1 <= kernel_size <= n_inputs:
        raise ValueError(
            f"show_connectivity: need n_inputs >= 2 and 1 <= kernel_size <= n_inputs, "
            f"got n_inputs={n_inputs}, kernel_size={kernel_size}"
        )
    n_out = n_inputs - kernel_size + 1
    fig, (left, right) = course_subplots(1, 2, figsize=(11, 2.6))
    _draw_wiring(
        left,
        n_inputs,
        n_out,
        None,
        f"fully connected: {n_inputs * n_out} weights",
    )
    _draw_wiring(
        right,
        n_inputs,
        n_out,
        kernel_size,
        f"convolution: {kernel_size} shared weights",
    )
    fig.tight_layout()
    return finish(fig)


def show_sliding_window(
    image: ArrayLike,
    kernel: ArrayLike,
    output: ArrayLike,
    position: tuple[int, int],
    *,
    stride: int = 1,
) -> Figure:
    """One step of a 2-D cross-correlation: window on the input, kernel, output so far.

    image: (H, W), kernel: (kh, kw), output: (H_out, W_out) -> Figure (input, kernel, output).

    output: the full output (computed by the caller); cells after ``position`` in
    row-major order are drawn empty.
    position: ``(i, j)`` of the output cell being computed.
    stride: step of the window (for placing it on the input).
    """
    img = _as_array(image, "show_sliding_window: image", (2,))
    ker = _as_array(kernel, "show_sliding_window: kernel", (2,))
    out = _as_array(output, "show_sliding_window: output", (2,))
    i, j = position
    if not (0 <= i < out.shape[0] and 0 <= j < out.shape[1]):
        raise ValueError(
            f"show_sliding_window: position {position} is outside the output {out.shape}"
        )
    kh, kw = ker.shape
    hidden = (np.arange(out.size) > i * out.shape[1] + j).reshape(out.shape)
    widths = [img.shape[1], ker.shape[1], out.shape[1]]
    height = max(img.shape[0], ker.shape[0], out.shape[0])
    fig, axes = course_subplots(
        1,
        3,
        figsize=(0.55 * sum(widths) + 1.5, 0.55 * height + 0.7),
        gridspec_kw={"width_ratios": widths},
    )
    show_grid(img, axes[0], highlight=(i * stride, j * stride, kh, kw), title="input")
    show_grid(ker, axes[1], role="kernel", title="kernel")
    show_grid(
        out,
        axes[2],
        role="output",
        hidden=hidden,
        highlight=(i, j, 1, 1),
        title=f"output, step ({i}, {j})",
    )
    fig.tight_layout()
    return finish(fig)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    ax: Axes | None = None,
    *,
    log: bool = False,
    title: str | None = None,
    ylabel: str | None = None,
    fmt: str = ",",
    colors: Sequence[str] | None = None,
) -> Figure:
    """Bars with their values written on top.

    labels: (n,) str, values: (n,) -> Figure.

    labels, values: one label and one positive value per bar.
    ax: axes to draw into; a new figure is made when None.
    log: logarithmic value axis (for counts spanning orders of magnitude).
    title, ylabel: labels.
    fmt: format spec for the value labels (default thousands separators).
    colors: one colour per bar (default: the course palette).
    """
    vals = np.asarray(values, dtype=np.float64)
    if vals.ndim != 1 or len(labels) != vals.size or vals.size == 0:
        raise ValueError(
            f"bar_chart: need as many labels as values, got {len(labels)} labels "
            f"and values of shape {vals.shape}"
        )
    if log and np.any(vals <= 0):
        raise ValueError("bar_chart: a log axis needs positive values")
    if colors is None:
        colors = [TAP_COLORS[k % len(TAP_COLORS)] for k in range(vals.size)]
    fig, ax, owned = course_figure(ax, (1.6 * vals.size + 1.5, 3.6))
    bars = ax.bar(range(vals.size), vals, color=colors, width=0.6)
    for bar, v in zip(bars, vals, strict=True):
        ax.annotate(
            format(int(v) if float(v).is_integer() else v, fmt),
            (bar.get_x() + bar.get_width() / 2, v),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
        )
    ax.set_xticks(range(vals.size), labels)
    if log:
        ax.set_yscale("log")
        ax.set_ylim(bottom=1, top=float(vals.max()) * 8)
    else:
        ax.set_ylim(top=float(vals.max()) * 1.15)
    if ylabel:
        ax.set_ylabel(ylabel)
    set_title(ax, title)
    ax.spines[["top", "right"]].set_visible(False)
    return finish(fig, owned)


def line_chart(
    x: ArrayLike,
    series: dict[str, ArrayLike],
    ax: Axes | None = None,
    *,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    markers: bool = True,
) -> Figure:
    """One or more curves over a shared x axis, with a legend.

    x: (n,), series: label -> y values (n,) -> Figure.

    ax: axes to draw into; a new figure is made when None.
    title, xlabel, ylabel: labels.
    markers: mark each data point.
    """
    xs = _as_array(x, "line_chart: x", (1,))
    if not series:
        raise ValueError("line_chart: no series given")
    ys = {}
    for label, y in series.items():
        arr = _as_array(y, f"line_chart: series {label!r}", (1,))
        if arr.shape != xs.shape:
            raise ValueError(
                f"line_chart: series {label!r} has shape {arr.shape}, x has {xs.shape}"
            )
        ys[label] = arr
    fig, ax, owned = course_figure(ax, (6.4, 3.4))
    for k, (label, arr) in enumerate(ys.items()):
        ax.plot(
            xs,
            arr,
            label=label,
            color=TAP_COLORS[k % len(TAP_COLORS)],
            linewidth=2,
            marker="o" if markers else None,
            markersize=3,
        )
    ax.axhline(0, color=PALETTE["muted"], linewidth=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False)
    label_axes(ax, xlabel, ylabel, title)
    return finish(fig, owned)
