"""Tests for convkit.viz.plots (each helper returns a figure holding the right content)
and convkit.viz.style (the figure helpers every viz module draws with)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from convkit.lessons.equivariance import conv1d_matrix
from convkit.viz import plots, style

VIZ_DIR = Path(style.__file__).parent


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def outlines(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]


def test_show_grid_writes_every_value_and_closes_its_figure() -> None:
    before = set(plt.get_fignums())
    fig = plots.show_grid([[0, 1, 2], [3, 4, 5]], title="input")
    assert isinstance(fig, Figure)
    assert set(plt.get_fignums()) == before  # closed in pyplot, shown once in notebooks
    (ax,) = fig.axes
    assert texts(ax) == ["0", "1", "2", "3", "4", "5"]
    assert ax.get_title() == "input"


def test_show_grid_formats_floats_and_draws_1d_as_a_row() -> None:
    fig = plots.show_grid(np.array([0.5, -1.25, 2.0]))
    (ax,) = fig.axes
    assert texts(ax) == ["0.50", "-1.25", "2"]
    (image,) = [c for c in ax.get_children() if isinstance(c, AxesImage)]
    assert image.get_array().shape[:2] == (1, 3)
    assert texts(plots.show_grid([1.0, 2.0], fmt=".1f").axes[0]) == ["1.0", "2.0"]
    assert texts(plots.show_grid([1.0, 2.0], annotate=False).axes[0]) == []


def test_show_grid_highlight_and_hidden_cells() -> None:
    a = np.arange(16).reshape(4, 4)
    hidden = np.zeros((4, 4), dtype=bool)
    hidden[3] = True
    fig = plots.show_grid(a, highlight=(1, 2, 2, 2), hidden=hidden)
    (ax,) = fig.axes
    (rect,) = outlines(ax)
    assert rect.get_xy() == (1.5, 0.5)
    assert (rect.get_width(), rect.get_height()) == (2, 2)
    assert texts(ax) == [str(v) for v in range(12)]  # the hidden last row has no numbers


def test_show_grid_draws_into_given_axes() -> None:
    fig, (a, b) = plt.subplots(1, 2)
    try:
        assert plots.show_grid([[1, 2]], ax=b) is fig
        assert texts(b) == ["1", "2"] and texts(a) == []
        assert fig.number in plt.get_fignums()  # a caller's figure is left open
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"a": np.zeros((2, 2, 2))}, ValueError, "1-D or 2-D"),
        ({"a": [["x"]]}, TypeError, "numbers"),
        ({"a": [[1, 2]], "role": "weights"}, ValueError, "role"),
        ({"a": [[1, 2]], "highlight": (0, 1, 1, 2)}, ValueError, "does not fit"),
        ({"a": [[1, 2]], "hidden": [[True]]}, ValueError, "hidden has shape"),
    ],
)
def test_show_grid_rejects_bad_input(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        plots.show_grid(**kwargs)


def test_show_images_one_axes_per_image_with_titles() -> None:
    imgs = [np.zeros((4, 4)), np.ones((4, 4, 3)) * 0.5, np.eye(4)]
    fig = plots.show_images(imgs, ["a", "b", "c"], ncols=2)
    assert len(fig.axes) == 4  # 2x2 grid, last one empty
    drawn = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in drawn] == ["a", "b", "c"]
    assert drawn[1].images[0].get_array().shape == (4, 4, 3)


def test_show_images_symmetric_limits_per_image() -> None:
    signed = np.linspace(-1.0, 3.0, 200).reshape(10, 20)
    fig = plots.show_images(
        [np.ones((2, 2)), signed], cmap=["gray", "RdBu"], symmetric=[False, True]
    )
    lim = np.percentile(np.abs(signed), 99)
    assert fig.axes[1].images[0].get_clim() == pytest.approx((-lim, lim))
    assert fig.axes[1].images[0].get_cmap().name == "RdBu"
    assert fig.axes[0].images[0].get_cmap().name == "gray"
    zeros = plots.show_images([np.zeros((2, 2))], symmetric=True)
    assert zeros.axes[0].images[0].get_clim() == (-1.0, 1.0)
    with pytest.raises(ValueError, match="one cmap"):
        plots.show_images([np.ones((2, 2))], cmap=["gray", "RdBu"])


def test_show_images_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="no images"):
        plots.show_images([])
    with pytest.raises(ValueError, match="titles"):
        plots.show_images([np.zeros((2, 2))], ["a", "b"])
    with pytest.raises(ValueError, match=r"image 0"):
        plots.show_images([np.zeros(4)])


def test_show_matrix_ties_equal_values_to_one_colour() -> None:
    m = conv1d_matrix([1.0, 2.0, -1.0], 6)
    fig = plots.show_matrix(m, xlabel="input", ylabel="output")
    (ax,) = fig.axes
    (image,) = ax.images
    index = np.asarray(image.get_array())
    assert np.all(index[m == 0] == 0)  # zeros get the background colour
    for value in (1.0, 2.0, -1.0):
        assert np.unique(index[m == value]).size == 1  # a tied weight, one colour
    assert np.unique(index[m != 0]).size == 3  # three distinct weights, three colours
    assert len(ax.texts) == np.count_nonzero(m)
    assert ax.get_xlabel() == "input" and ax.get_ylabel() == "output"


def test_show_connectivity_counts_edges_and_weights() -> None:
    fig = plots.show_connectivity(8, 3)
    dense, conv = fig.axes
    assert len(dense.lines) == 8 * 6 and "48 weights" in dense.get_title()
    assert len(conv.lines) == 6 * 3 and "3 shared weights" in conv.get_title()
    tap_colours = {matplotlib.colors.to_hex(line.get_color()) for line in conv.lines}
    assert len(tap_colours) == 3
    with pytest.raises(ValueError, match="kernel_size"):
        plots.show_connectivity(4, 5)
    with pytest.raises(TypeError, match="n_inputs"):
        plots.show_connectivity(4.0, 2)


def test_show_sliding_window_marks_window_kernel_and_progress() -> None:
    image = np.arange(25.0).reshape(5, 5)
    kernel = np.ones((3, 3))
    output = np.arange(9.0).reshape(3, 3)
    fig = plots.show_sliding_window(image, kernel, output, (1, 2))
    ax_in, ax_k, ax_out = fig.axes
    (window,) = outlines(ax_in)
    assert window.get_xy() == (1.5, 0.5) and window.get_width() == 3
    assert len(ax_k.texts) == 9
    assert texts(ax_out) == ["0", "1", "2", "3", "4", "5"]  # computed so far
    with pytest.raises(ValueError, match="outside the output"):
        plots.show_sliding_window(image, kernel, output, (3, 0))


def test_bar_chart_labels_values_and_log_axis() -> None:
    fig = plots.bar_chart(["dense", "conv"], [150_528_000, 1_792], log=True, title="t")
    (ax,) = fig.axes
    assert len(ax.patches) == 2
    assert [t.get_text() for t in ax.get_xticklabels()] == ["dense", "conv"]
    assert texts(ax) == ["150,528,000", "1,792"]
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="positive"):
        plots.bar_chart(["a"], [0], log=True)
    with pytest.raises(ValueError, match="as many labels"):
        plots.bar_chart(["a", "b"], [1])


def test_line_chart_draws_each_series_with_a_legend() -> None:
    x = np.arange(1, 6)
    fig = plots.line_chart(x, {"photo": x / 5.0, "shuffled": np.zeros(5)}, xlabel="d")
    (ax,) = fig.axes
    curves = [line for line in ax.lines if line.get_label() in ("photo", "shuffled")]
    assert len(curves) == 2
    np.testing.assert_array_equal(curves[0].get_ydata(), x / 5.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["photo", "shuffled"]
    assert ax.get_xlabel() == "d"
    with pytest.raises(ValueError, match="shape"):
        plots.line_chart(x, {"bad": np.zeros(4)})
    with pytest.raises(ValueError, match="no series"):
        plots.line_chart(x, {})


def test_course_figure_owns_a_new_styled_figure_and_finish_closes_only_that() -> None:
    before = set(plt.get_fignums())
    fig, ax, owned = style.course_figure(None, (3.0, 2.0))
    assert owned and tuple(fig.get_size_inches()) == (3.0, 2.0)
    assert not ax.spines["top"].get_visible() and ax.spines["left"].get_visible()
    style.set_title(ax, "t")
    assert ax.title.get_fontweight() == "bold" and ax.title.get_fontsize() == 11
    assert style.finish(fig, owned) is fig
    assert set(plt.get_fignums()) == before  # closed: shown once in a notebook
    mine, axes = plt.subplots()
    try:
        assert style.course_figure(axes, (3.0, 2.0)) == (mine, axes, False)
        style.finish(mine, False)
        assert mine.number in plt.get_fignums()  # the caller's figure stays open
    finally:
        plt.close(mine)


def test_course_subplots_passes_grid_arguments() -> None:
    fig, axes = style.course_subplots(2, 3, figsize=(6.0, 4.0), squeeze=False)
    assert axes.shape == (2, 3) and all(not ax.spines["right"].get_visible() for ax in axes.flat)
    style.finish(fig)
    assert plots.PALETTE is style.PALETTE


@pytest.mark.parametrize("path", sorted(VIZ_DIR.glob("*.py")), ids=lambda p: p.name)
def test_figures_are_made_only_by_the_style_helpers(path: Path) -> None:
    """No bare plt.figure / plt.subplots in viz outside viz/style.py: every figure is styled."""
    if path.name == "style.py":
        return
    assert not re.findall(r"plt\.(?:figure|subplots|rc_context)\(", path.read_text())
